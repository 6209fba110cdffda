/*
 * addr — RFC 5321 §4.1.2 Path and Mailbox parsing, with the RFC 6531 §3.3 UTF-8 extensions.
 *
 * A small recursive-descent parser over a bounded byte range. It never reads past `len`,
 * never allocates, and writes only into the caller's struct mail_addr.
 */
#include "msg/addr.h"

#include "core/err.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

struct addr_parser {
    const unsigned char *p;
    size_t len;
    size_t pos;
    unsigned flags;
    const char *err; /* static reason for the caller's err_out */
};

static int ap_fail(struct addr_parser *ap, int code, const char *why)
{
    ap->err = why;
    return code;
}

/* Current octet, or -1 at the end of input. */
static int ap_peek(const struct addr_parser *ap)
{
    return ap->pos < ap->len ? ap->p[ap->pos] : -1;
}

static bool is_alpha(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* RFC 5322 §3.2.3 atext, ASCII part. */
static bool is_atext(int c)
{
    return c >= 0 && c < 0x80 && c != 0 &&
           (is_alpha(c) || is_digit(c) || strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* RFC 5321 §4.1.2 qtextSMTP: %d32-33 / %d35-91 / %d93-126. */
static bool is_qtext(int c)
{
    return c >= 32 && c <= 126 && c != '"' && c != '\\';
}

/*
 * Length of the well-formed UTF-8 sequence at s[0..n) (RFC 3629 §4: no overlong forms, no
 * surrogates, nothing above U+10FFFF), or 0 when it is malformed.
 */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    size_t need;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 0;
    }
    if (n < need || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < need; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return need;
}

/*
 * At an octet >= 0x80: sets *n_out to the length of its UTF-8 sequence. Without
 * MAIL_ADDR_ALLOW_UTF8 this is ERR_RANGE so the caller can answer 553 5.6.7 (RFC 6531 §3.6.1).
 */
static int ap_utf8(struct addr_parser *ap, struct mail_addr *out, size_t *n_out)
{
    if (!(ap->flags & MAIL_ADDR_ALLOW_UTF8))
        return ap_fail(ap, ERR_RANGE, "non-ASCII address without SMTPUTF8");
    size_t n = utf8_seq_len(ap->p + ap->pos, ap->len - ap->pos);
    if (n == 0)
        return ap_fail(ap, ERR_PARSE, "malformed UTF-8 in address");
    out->utf8 = true;
    *n_out = n;
    return 0;
}

static int local_put(struct addr_parser *ap, struct mail_addr *out, size_t *n, const void *src,
                     size_t k)
{
    if (*n + k > MAIL_LOCAL_MAX)
        return ap_fail(ap, ERR_PARSE, "local part longer than 64 octets");
    memcpy(out->local + *n, src, k);
    *n += k;
    out->local[*n] = '\0';
    return 0;
}

/* RFC 5321 §4.1.2 Dot-string = Atom *("." Atom); RFC 6531 adds UTF8-non-ascii to atext. */
static int local_parse_dot_string(struct addr_parser *ap, struct mail_addr *out)
{
    size_t n = 0, atom = 0;
    for (;;) {
        int c = ap_peek(ap);
        size_t k = 1;
        if (c == '.') {
            if (atom == 0)
                return ap_fail(ap, ERR_PARSE, "empty atom in local part");
            atom = 0;
        } else if (c >= 0x80) {
            int rc = ap_utf8(ap, out, &k);
            if (rc < 0)
                return rc;
            atom++;
        } else if (is_atext(c)) {
            atom++;
        } else {
            break;
        }
        int rc = local_put(ap, out, &n, ap->p + ap->pos, k);
        if (rc < 0)
            return rc;
        ap->pos += k;
    }
    if (atom == 0)
        return ap_fail(ap, ERR_PARSE, n ? "local part ends with a dot" : "empty local part");
    return 0;
}

/* True when s[0..n) is a valid Dot-string, i.e. can be written without quotes. */
static bool local_is_dot_string(const char *s, size_t n)
{
    if (n == 0 || s[0] == '.' || s[n - 1] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.' && s[i + 1] == '.')
            return false;
        if (c != '.' && c < 0x80 && !is_atext(c))
            return false;
    }
    return true;
}

/* RFC 5321 §4.1.2 Quoted-string = DQUOTE *QcontentSMTP DQUOTE, decoded into out->local. */
static int local_parse_quoted(struct addr_parser *ap, struct mail_addr *out)
{
    size_t n = 0;
    ap->pos++; /* opening DQUOTE */
    for (;;) {
        int c = ap_peek(ap);
        size_t k = 1;
        const unsigned char *src = ap->p + ap->pos;
        if (c < 0)
            return ap_fail(ap, ERR_PARSE, "unterminated quoted string");
        if (c == '"')
            break;
        if (c == '\\') {
            /* quoted-pairSMTP = %d92 %d32-126 */
            ap->pos++;
            c = ap_peek(ap);
            if (c < 32 || c > 126)
                return ap_fail(ap, ERR_PARSE, "bad quoted pair in local part");
            src = ap->p + ap->pos;
        } else if (c >= 0x80) {
            int rc = ap_utf8(ap, out, &k);
            if (rc < 0)
                return rc;
        } else if (!is_qtext(c)) {
            return ap_fail(ap, ERR_PARSE, "bad character in quoted local part");
        }
        int rc = local_put(ap, out, &n, src, k);
        if (rc < 0)
            return rc;
        ap->pos += k;
    }
    ap->pos++; /* closing DQUOTE */
    /* "bob" needs no quotes on output; "a b" does. */
    out->quoted = !local_is_dot_string(out->local, n);
    return 0;
}

static int local_parse(struct addr_parser *ap, struct mail_addr *out)
{
    out->local[0] = '\0';
    if (ap_peek(ap) == '"')
        return local_parse_quoted(ap, out);
    return local_parse_dot_string(ap, out);
}

/*
 * One sub-domain: Let-dig [Ldh-str] (RFC 5321 §4.1.2), or a U-label when UTF-8 is allowed
 * (RFC 6531 §3.3). *ascii_out tells whether it was all ASCII.
 */
static int domain_parse_label(struct addr_parser *ap, struct mail_addr *out, bool *ascii_out)
{
    size_t start = ap->pos;
    bool ascii = true, last_hyphen = false;
    for (;;) {
        int c = ap_peek(ap);
        size_t k = 1;
        if (c >= 0x80) {
            int rc = ap_utf8(ap, out, &k);
            if (rc < 0)
                return rc;
            ascii = false;
        } else if (c == '-') {
            if (ap->pos == start)
                return ap_fail(ap, ERR_PARSE, "domain label starts with a hyphen");
        } else if (!is_alpha(c) && !is_digit(c)) {
            break;
        }
        last_hyphen = c == '-';
        ap->pos += k;
    }
    if (ap->pos == start)
        return ap_fail(ap, ERR_PARSE, "empty domain label");
    if (last_hyphen)
        return ap_fail(ap, ERR_PARSE, "domain label ends with a hyphen");
    *ascii_out = ascii;
    return 0;
}

/* RFC 5321 §4.1.2 Domain = sub-domain *("." sub-domain); a trailing dot is rejected. */
static int domain_parse_name(struct addr_parser *ap, struct mail_addr *out)
{
    size_t start = ap->pos;
    for (;;) {
        size_t label = ap->pos;
        bool ascii;
        int rc = domain_parse_label(ap, out, &ascii);
        if (rc < 0)
            return rc;
        /* RFC 1035 §2.3.4: 63 octets. A U-label's limit applies to its A-label form, which
         * we cannot compute here, so only ASCII labels are measured. */
        if (ascii && ap->pos - label > 63)
            return ap_fail(ap, ERR_PARSE, "domain label longer than 63 octets");
        if (ap_peek(ap) != '.')
            break;
        ap->pos++;
    }
    size_t n = ap->pos - start;
    if (n > MAIL_DOMAIN_MAX)
        return ap_fail(ap, ERR_PARSE, "domain longer than 255 octets");
    memcpy(out->domain, ap->p + start, n);
    out->domain[n] = '\0';
    return 0;
}

/* RFC 5321 §4.1.3 IPv4-address-literal = Snum 3("." Snum), Snum = 1*3DIGIT (0-255). */
static bool literal_is_ipv4(const unsigned char *s, size_t n)
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (i >= n || s[i] != '.')
                return false;
            i++;
        }
        unsigned v = 0, digits = 0;
        while (i < n && is_digit(s[i]) && digits < 3) {
            v = v * 10 + (unsigned)(s[i] - '0');
            digits++;
            i++;
        }
        if (digits == 0 || v > 255)
            return false;
    }
    return i == n;
}

/* RFC 5321 §4.1.3 IPv6-address-literal = "IPv6:" IPv6-addr (all four forms). */
static bool literal_is_ipv6(const unsigned char *s, size_t n)
{
    char buf[64];
    struct in6_addr a;
    /* The tag is case-insensitive like every other SMTP keyword. */
    if (n < 5 || n - 5 >= sizeof buf || strncasecmp((const char *)s, "IPv6:", 5) != 0)
        return false;
    memcpy(buf, s + 5, n - 5);
    buf[n - 5] = '\0';
    return inet_pton(AF_INET6, buf, &a) == 1;
}

/* address-literal = "[" (IPv4 / IPv6) "]", kept with its brackets in out->domain. */
static int domain_parse_literal(struct addr_parser *ap, struct mail_addr *out)
{
    size_t start = ap->pos;
    ap->pos++;
    while (ap_peek(ap) >= 0 && ap_peek(ap) != ']') {
        int c = ap_peek(ap);
        /* dcontent = %d33-90 / %d94-126 */
        if (c < 33 || c > 126 || c == '[' || c == '\\')
            return ap_fail(ap, ERR_PARSE, "bad character in address literal");
        ap->pos++;
    }
    if (ap_peek(ap) != ']')
        return ap_fail(ap, ERR_PARSE, "unterminated address literal");
    ap->pos++;
    const unsigned char *in = ap->p + start + 1;
    size_t in_len = ap->pos - start - 2;
    /* General-address-literal tags: none but IPv6 are registered, so refuse the rest. */
    if (!literal_is_ipv4(in, in_len) && !literal_is_ipv6(in, in_len))
        return ap_fail(ap, ERR_PARSE, "bad address literal");
    size_t n = ap->pos - start;
    if (n > MAIL_DOMAIN_MAX)
        return ap_fail(ap, ERR_PARSE, "address literal too long");
    memcpy(out->domain, ap->p + start, n);
    out->domain[n] = '\0';
    return 0;
}

static int domain_parse(struct addr_parser *ap, struct mail_addr *out)
{
    if (ap_peek(ap) == '[')
        return domain_parse_literal(ap, out);
    return domain_parse_name(ap, out);
}

/*
 * "Postmaster" with no domain (RFC 5321 §4.1.1.3), case-insensitive, when allowed and when
 * followed by `end` (">" inside brackets, end of token otherwise).
 */
static bool ap_try_postmaster(struct addr_parser *ap, struct mail_addr *out, bool bracketed)
{
    static const char pm[] = "postmaster";
    size_t n = sizeof pm - 1;
    if (!(ap->flags & MAIL_ADDR_ALLOW_POSTMASTER) || ap->len - ap->pos < n ||
        strncasecmp((const char *)ap->p + ap->pos, pm, n) != 0)
        return false;
    int next = ap->pos + n < ap->len ? ap->p[ap->pos + n] : -1;
    if (bracketed ? next != '>' : (next != -1 && next != ' ' && next != '\t'))
        return false;
    memcpy(out->local, ap->p + ap->pos, n);
    out->local[n] = '\0';
    out->domain[0] = '\0';
    ap->pos += n;
    return true;
}

/* RFC 5321 §4.1.2 Mailbox = Local-part "@" ( Domain / address-literal ). */
static int mailbox_parse(struct addr_parser *ap, struct mail_addr *out, bool bracketed)
{
    if (ap_try_postmaster(ap, out, bracketed))
        return 0;
    int rc = local_parse(ap, out);
    if (rc < 0)
        return rc;
    if (ap_peek(ap) != '@')
        return ap_fail(ap, ERR_PARSE, "missing @domain");
    ap->pos++;
    return domain_parse(ap, out);
}

/*
 * A-d-l = At-domain *( "," At-domain ) ":" — parsed for syntax, then forgotten (§4.1.2).
 * The route's domains go to a scratch struct so they leave no trace (not even `utf8`) in out.
 */
static int route_skip(struct addr_parser *ap)
{
    struct mail_addr scratch;
    for (;;) {
        if (ap_peek(ap) != '@')
            return ap_fail(ap, ERR_PARSE, "bad source route");
        ap->pos++;
        int rc = domain_parse(ap, &scratch);
        if (rc < 0)
            return rc;
        int c = ap_peek(ap);
        ap->pos++;
        if (c == ':')
            return 0;
        if (c != ',')
            return ap_fail(ap, ERR_PARSE, "bad source route");
    }
}

static int path_parse_bracketed(struct addr_parser *ap, struct mail_addr *out)
{
    size_t start = ap->pos;
    ap->pos++; /* "<" */
    if (ap_peek(ap) == '>') {
        if (!(ap->flags & MAIL_ADDR_ALLOW_NULL))
            return ap_fail(ap, ERR_PARSE, "null path not allowed here");
        ap->pos++;
        out->is_null = true;
        return 0;
    }
    int rc;
    if (ap_peek(ap) == '@' && (rc = route_skip(ap)) < 0)
        return rc;
    if ((rc = mailbox_parse(ap, out, true)) < 0)
        return rc;
    if (ap_peek(ap) != '>')
        return ap_fail(ap, ERR_PARSE, "missing > after address");
    ap->pos++;
    if (ap->pos - start > MAIL_PATH_MAX)
        return ap_fail(ap, ERR_PARSE, "path longer than 256 octets");
    return 0;
}

static void addr_reset(struct mail_addr *out)
{
    memset(out, 0, sizeof *out);
}

int mail_addr_parse_path(const char *p, size_t len, unsigned flags, struct mail_addr *out,
                         size_t *consumed_out, const char **err_out)
{
    struct addr_parser ap = {(const unsigned char *)p, len, 0, flags, NULL};
    int rc;
    addr_reset(out);
    if (len > 0 && p[0] == '<') {
        rc = path_parse_bracketed(&ap, out);
    } else if (!(flags & MAIL_ADDR_ALLOW_NO_BRACKETS)) {
        rc = ap_fail(&ap, ERR_PARSE, "address must be enclosed in <>");
    } else {
        rc = mailbox_parse(&ap, out, false);
        /* The limit counts the brackets a well-behaved client would have sent. */
        if (rc == 0 && ap.pos + 2 > MAIL_PATH_MAX)
            rc = ap_fail(&ap, ERR_PARSE, "path longer than 256 octets");
    }
    if (rc < 0) {
        if (err_out)
            *err_out = ap.err;
        return rc;
    }
    if (consumed_out)
        *consumed_out = ap.pos;
    return 0;
}

int mail_addr_parse(const char *p, size_t len, unsigned flags, struct mail_addr *out,
                    const char **err_out)
{
    struct addr_parser ap = {(const unsigned char *)p, len, 0, flags, NULL};
    int rc = 0;
    addr_reset(out);
    if (len == 0 && (flags & MAIL_ADDR_ALLOW_NULL)) {
        out->is_null = true;
        return 0;
    }
    rc = mailbox_parse(&ap, out, false);
    if (rc == 0 && ap.pos != len)
        rc = ap_fail(&ap, ERR_PARSE, "unexpected characters after address");
    if (rc == 0 && len + 2 > MAIL_PATH_MAX)
        rc = ap_fail(&ap, ERR_PARSE, "path longer than 256 octets");
    if (rc < 0 && err_out)
        *err_out = ap.err;
    return rc;
}

/* Appends c to buf when there is room (keeping one byte for the NUL); always counts it. */
static void fmt_put(char *buf, size_t cap, size_t *n, char c)
{
    if (*n + 1 < cap)
        buf[*n] = c;
    (*n)++;
}

size_t mail_addr_format(const struct mail_addr *a, char *buf, size_t cap)
{
    size_t n = 0;
    if (!a->is_null) {
        size_t llen = strnlen(a->local, sizeof a->local);
        bool quote = a->quoted || !local_is_dot_string(a->local, llen);
        if (quote)
            fmt_put(buf, cap, &n, '"');
        for (size_t i = 0; i < llen; i++) {
            /* RFC 5321 §4.1.2: only DQUOTE and backslash need a quoted-pair. */
            if (quote && (a->local[i] == '"' || a->local[i] == '\\'))
                fmt_put(buf, cap, &n, '\\');
            fmt_put(buf, cap, &n, a->local[i]);
        }
        if (quote)
            fmt_put(buf, cap, &n, '"');
        size_t dlen = strnlen(a->domain, sizeof a->domain);
        if (dlen > 0)
            fmt_put(buf, cap, &n, '@');
        for (size_t i = 0; i < dlen; i++)
            fmt_put(buf, cap, &n, a->domain[i]);
    }
    if (cap > 0)
        buf[n < cap ? n : cap - 1] = '\0';
    return n;
}
