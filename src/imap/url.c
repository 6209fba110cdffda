/*
 * url — see url.h. Hand-written: the grammar is a handful of fixed ";KEY=" markers (RFC 5092
 * §11), smaller than any URI library's setup, and the mailbox needs IMAP's own decoding.
 */
#include "imap/url.h"

#include "core/err.h"
#include "imap/fetch_att.h"
#include "imap/mailbox_name.h"
#include "msg/arena.h"
#include "msg/mime.h"
#include "msg/date.h"

#include <string.h>
#include <strings.h>

void imap_url_init(struct imap_url *u)
{
    memset(u, 0, sizeof *u);
    str_init(&u->mailbox);
    str_init(&u->section);
    str_init(&u->owner);
    str_init(&u->access_user);
    str_init(&u->mech);
    str_init(&u->token);
}

void imap_url_clear(struct imap_url *u)
{
    str_clear(&u->mailbox);
    str_clear(&u->section);
    str_clear(&u->owner);
    str_clear(&u->access_user);
    str_clear(&u->mech);
    str_clear(&u->token);
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

/* The end of a ";KEY=value" component: the next "/;" or ";" (EXPIRE, URLAUTH), or the end. */
static const char *component_end(const char *p, const char *end)
{
    for (const char *q = p; q < end; q++)
        if (q[0] == ';' || (q[0] == '/' && q + 1 < end && q[1] == ';'))
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

/* "imap://" userinfo "@" host [":" port] "/": the owner; *p left at the path's "/". */
static int parse_server(const char **p, const char *end, struct imap_url *u, const char **err)
{
    const char *slash = memchr(*p, '/', (size_t)(end - *p));
    const char *at = NULL;
    for (const char *q = *p; slash && q < slash; q++)
        if (*q == '@')
            at = q;
    *err = "The URL names no user (imap://user@host/...)";
    if (!slash || !at || at == *p || at + 1 == slash)
        return ERR_PARSE;
    const char *semi = memchr(*p, ';', (size_t)(at - *p)); /* ";AUTH=..." is not needed */
    const char *uend = semi ? semi : at;
    struct str host = STR_INIT;
    bool ok = uend > *p && pct_decode(*p, (size_t)(uend - *p), &u->owner) &&
              pct_decode(at + 1, (size_t)(slash - at - 1), &host) && !strchr(host.ptr, '@');
    const char *colon = ok ? strchr(str_cstr(&host), ':') : NULL;
    if (ok && !strchr(str_cstr(&u->owner), '@')) {
        str_appendc(&u->owner, '@');
        str_append(&u->owner, host.ptr, colon ? (size_t)(colon - host.ptr) : host.len);
    }
    str_clear(&host);
    if (!ok)
        return ERR_PARSE;
    str_cstr(&u->owner);
    u->absolute = true;
    *p = slash;
    return 0;
}

static bool all_digits(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return false;
    return true;
}

/* RFC 3339 date-time ("2026-12-07T10:00:00Z", "...+01:00", fractions ignored) to Unix time. */
static bool parse_expire(const char *p, size_t n, int64_t *out)
{
    int v[6] = {0};
    static const int width[6] = {4, 2, 2, 2, 2, 2};
    static const char sep[6] = {'-', '-', 'T', ':', ':', 0};
    size_t i = 0;
    for (int k = 0; k < 6; k++) {
        for (int d = 0; d < width[k]; d++, i++) {
            if (i >= n || p[i] < '0' || p[i] > '9')
                return false;
            v[k] = v[k] * 10 + (p[i] - '0');
        }
        if (sep[k] && (i >= n || (p[i] != sep[k] && !(k == 2 && p[i] == 't'))))
            return false;
        i += sep[k] != 0;
    }
    if (i < n && p[i] == '.')
        for (i++; i < n && p[i] >= '0' && p[i] <= '9'; i++)
            ;
    int tz = 0;
    if (i + 1 == n && (p[i] == 'Z' || p[i] == 'z')) {
        i++;
    } else if (i + 6 == n && (p[i] == '+' || p[i] == '-') && p[i + 3] == ':' &&
               all_digits(p + i + 1, 2) && all_digits(p + i + 4, 2)) {
        int h = (p[i + 1] - '0') * 10 + (p[i + 2] - '0'),
            m = (p[i + 4] - '0') * 10 + (p[i + 5] - '0');
        if (h > 23 || m > 59)
            return false;
        tz = (p[i] == '-' ? -1 : 1) * (h * 60 + m);
        i += 6;
    }
    if (i != n || v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 ||
        v[5] > 60)
        return false;
    struct msg_date d = {v[0], v[1], v[2], v[3], v[4], v[5], tz};
    *out = msg_date_to_unix(&d);
    return true;
}

/* ";URLAUTH=" access [":" mechanism ":" token] up to the end (RFC 4467 §3). */
static int parse_urlauth(const char *s, const char **p, const char *end, struct imap_url *u,
                         const char **err)
{
    const char *colon = memchr(*p, ':', (size_t)(end - *p));
    const char *aend = colon ? colon : end;
    size_t n = (size_t)(aend - *p);
    *err = "Invalid URLAUTH access identifier";
    if (n > 5 && strncasecmp(*p, "user+", 5) == 0)
        u->access = IMAP_URL_ACCESS_USER;
    else if (n > 7 && strncasecmp(*p, "submit+", 7) == 0)
        u->access = IMAP_URL_ACCESS_SUBMIT;
    else if (n == 8 && strncasecmp(*p, "authuser", 8) == 0)
        u->access = IMAP_URL_ACCESS_AUTHUSER;
    else if (n == 9 && strncasecmp(*p, "anonymous", 9) == 0)
        u->access = IMAP_URL_ACCESS_ANONYMOUS;
    else
        return ERR_PARSE;
    if (u->access == IMAP_URL_ACCESS_USER || u->access == IMAP_URL_ACCESS_SUBMIT) {
        const char *name = memchr(*p, '+', n) + 1;
        if (!pct_decode(name, (size_t)(aend - name), &u->access_user))
            return ERR_PARSE;
    }
    u->rump_len = (size_t)(aend - s);
    *p = aend;
    if (!colon)
        return 0;
    const char *c2 = memchr(colon + 1, ':', (size_t)(end - colon - 1));
    *err = "Invalid URLAUTH mechanism or token";
    if (!c2 || c2 == colon + 1 || end - c2 - 1 < 32 || end - c2 - 1 > 256)
        return ERR_PARSE;
    for (const char *q = colon + 1; q < c2; q++)
        if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
              *q == '-' || *q == '.'))
            return ERR_PARSE;
    for (const char *q = c2 + 1; q < end; q++)
        if (hex_digit_value(*q) < 0)
            return ERR_PARSE;
    str_append(&u->mech, colon + 1, (size_t)(c2 - colon - 1));
    str_append(&u->token, c2 + 1, (size_t)(end - c2 - 1));
    str_cstr(&u->mech);
    str_cstr(&u->token);
    *p = end;
    return 0;
}

static void url_reset(struct imap_url *u)
{
    str_reset(&u->mailbox);
    str_reset(&u->section);
    str_reset(&u->owner);
    str_reset(&u->access_user);
    str_reset(&u->mech);
    str_reset(&u->token);
    u->uidvalidity = u->uid = 0;
    u->partial = u->absolute = false;
    u->start = 0;
    u->count = UINT32_MAX;
    u->expire = 0;
    u->access = IMAP_URL_ACCESS_NONE;
    u->rump_len = 0;
}

/* ;EXPIRE= and ;URLAUTH=, only in the imap:// form. */
static int parse_auth_part(const char *s, const char **p, const char *end, struct imap_url *u,
                           const char **err)
{
    if (*p == end)
        return 0;
    if (!u->absolute) {
        if (**p == ';')
            *err = "URLAUTH needs the imap://user@host/ form";
        return ERR_PARSE;
    }
    if (eat(p, end, ";EXPIRE=")) {
        const char *e = memchr(*p, ';', (size_t)(end - *p));
        if (!e || !parse_expire(*p, (size_t)(e - *p), &u->expire) || u->expire <= 0) {
            *err = "Invalid EXPIRE date-time";
            return ERR_PARSE;
        }
        *p = e;
    }
    if (!eat(p, end, ";URLAUTH="))
        return ERR_PARSE;
    return parse_urlauth(s, p, end, u, err);
}

int imap_url_parse(const char *s, size_t n, struct imap_url *u, const char **err_out)
{
    const char *p = s, *end = s + n;
    url_reset(u);
    *err_out = "Invalid URL";
    if (n == 0 || n > IMAP_URL_MAX || memchr(s, '\0', n))
        return ERR_PARSE;
    if (n > 7 && strncasecmp(s, "imap://", 7) == 0) {
        p += 7;
        if (parse_server(&p, end, u, err_out) != 0)
            return ERR_PARSE;
        *err_out = "Invalid URL";
    }
    if (*p != '/' || (end - p > 1 && p[1] == '/'))
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
    return parse_auth_part(s, &p, end, u, err_out);
}

bool imap_url_content(const struct imap_url *u, const char *msg, size_t len, struct str *out)
{
    struct msg_arena arena;
    msg_arena_init(&arena, 512);
    struct mime_section sec = {.kind = MIME_SECTION_BODY};
    const char *err;
    bool ok = !u->section.len ||
              imap_section_parse(u->section.ptr, u->section.len, &arena, &sec, NULL, &err) == 0;
    struct mime_range r = {.off = 0, .len = len};
    if (ok && (sec.nparts || sec.kind != MIME_SECTION_BODY)) {
        struct mime_tree *t = mime_parse(msg, len, NULL);
        ok = mime_section_resolve(t, &sec, &r) == 0;
        mime_tree_free(t);
    }
    if (ok) {
        if (u->partial)
            mime_range_partial(&r, u->start, u->count);
        struct slice b = mime_range_bytes(&r, msg);
        str_append(out, b.p, b.len);
    }
    mime_range_clear(&r);
    msg_arena_clear(&arena);
    return ok;
}
