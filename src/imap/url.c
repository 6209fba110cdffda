/*
 * url — see url.h. Hand-written: the grammar is a handful of fixed ";KEY=" markers (RFC 5092
 * §11), smaller than any URI library's setup, and the mailbox needs IMAP's own decoding.
 */
#include "imap/url.h"

#include "core/err.h"
#include "imap/mailbox_name.h"

#include <string.h>
#include <strings.h>

void imap_url_init(struct imap_url *u)
{
    memset(u, 0, sizeof *u);
    str_init(&u->mailbox);
    str_init(&u->section);
}

void imap_url_clear(struct imap_url *u)
{
    str_clear(&u->mailbox);
    str_clear(&u->section);
}

/* RFC 5092 bchar: unreserved, sub-delims-sh, "&", "=", "~", ":", "@", "/" ("%" is decoded). */
static bool is_bchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c && strchr("-._~!$'()*+,&=:@/", c) != NULL;
}

/* Percent-decodes p[0..n) (bchars only) into out; false on a bad byte or escape. */
static bool pct_decode(const char *p, size_t n, struct str *out)
{
    str_reset(out);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '%') {
            if (n - i < 3)
                return false;
            int hi = hex_digit_value(p[i + 1]), lo = hex_digit_value(p[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                return false;
            str_appendc(out, (char)(hi * 16 + lo));
            i += 2;
        } else if (is_bchar(c)) {
            str_appendc(out, (char)c);
        } else {
            return false;
        }
    }
    str_cstr(out);
    return true;
}

/* A decimal of 1..UINT32_MAX (0 too when zero_ok) at *p; advances *p. */
static bool read_number(const char **p, const char *end, bool zero_ok, uint32_t *out)
{
    uint64_t v = 0;
    const char *q = *p;
    while (q < end && *q >= '0' && *q <= '9' && q - *p < 10)
        v = v * 10 + (uint64_t)(*q++ - '0');
    if (q == *p || (q < end && *q >= '0' && *q <= '9') || v > UINT32_MAX || (!v && !zero_ok) ||
        (**p == '0' && q - *p > 1))
        return false;
    *out = (uint32_t)v;
    *p = q;
    return true;
}

/* Consumes the marker (case-insensitive) at *p when present. */
static bool eat(const char **p, const char *end, const char *marker)
{
    size_t n = strlen(marker);
    if ((size_t)(end - *p) < n || strncasecmp(*p, marker, n) != 0)
        return false;
    *p += n;
    return true;
}

/* The end of a ";KEY=value" component: the next "/;" or the end. */
static const char *component_end(const char *p, const char *end)
{
    for (const char *q = p; q + 1 < end; q++)
        if (q[0] == '/' && q[1] == ';')
            return q;
    return end;
}

static int parse_mailbox(const char **p, const char *end, struct imap_url *u, const char **err)
{
    const char *semi = memchr(*p, ';', (size_t)(end - *p));
    if (!semi) {
        *err = "URL names no message (;UID= missing)";
        return ERR_PARSE;
    }
    const char *mend = semi > *p && semi[-1] == '/' ? semi - 1 : semi;
    struct str raw = STR_INIT;
    bool ok = mend > *p && pct_decode(*p, (size_t)(mend - *p), &raw);
    int rc = ok ? imap_mailbox_name_from_wire(raw.ptr, raw.len, true, &u->mailbox, err) : ERR_PARSE;
    str_clear(&raw);
    if (!ok)
        *err = "Invalid mailbox in URL";
    if (rc != 0)
        return ERR_PARSE;
    str_cstr(&u->mailbox);
    *p = mend;
    return 0;
}

int imap_url_parse(const char *s, size_t n, struct imap_url *u, const char **err_out)
{
    const char *p = s, *end = s + n;
    str_reset(&u->mailbox);
    str_reset(&u->section);
    u->uidvalidity = u->uid = 0;
    u->partial = false;
    u->start = 0;
    u->count = UINT32_MAX;
    *err_out = "Invalid URL";
    if (n == 0 || n > IMAP_URL_MAX || memchr(s, '\0', n))
        return ERR_PARSE;
    if (n > 5 && strncasecmp(s, "imap:", 5) == 0) {
        *err_out = "Only URLs of this server's own messages (\"/mailbox/;UID=n\") are accepted";
        return ERR_PARSE;
    }
    if (*p != '/' || (n > 1 && p[1] == '/'))
        return ERR_PARSE;
    p++;
    if (parse_mailbox(&p, end, u, err_out) != 0)
        return ERR_PARSE;
    *err_out = "Invalid URL";
    if (eat(&p, end, ";UIDVALIDITY=") && !read_number(&p, end, false, &u->uidvalidity))
        return ERR_PARSE;
    if (!eat(&p, end, "/;UID=") || !read_number(&p, end, false, &u->uid))
        return ERR_PARSE;
    if (eat(&p, end, "/;SECTION=")) {
        const char *e = component_end(p, end);
        if (e == p || !pct_decode(p, (size_t)(e - p), &u->section))
            return ERR_PARSE;
        p = e;
    }
    if (eat(&p, end, "/;PARTIAL=")) {
        u->partial = true;
        if (!read_number(&p, end, true, &u->start))
            return ERR_PARSE;
        if (p < end && *p == '.' && (p++, !read_number(&p, end, false, &u->count)))
            return ERR_PARSE;
    }
    if (p != end) {
        *err_out =
            p < end && eat(&p, end, "/;URLAUTH=") ? "URLAUTH is not supported" : "Invalid URL";
        return ERR_PARSE;
    }
    return 0;
}
