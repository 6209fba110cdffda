/* http/coding — see coding.h: choosing a response's content coding. */
#include "http/coding.h"

#include <string.h>

const char *http_coding_name(enum http_coding c)
{
    return c == HTTP_CODING_GZIP ? "gzip" : c == HTTP_CODING_BR ? "br" : "identity";
}

/* Parses a qvalue (RFC 9110 §12.4.2: "0" ["." 0*3DIGIT] / "1" ["." 0*3("0")]) as 0..1000. */
static int parse_q(struct slice v, unsigned *out)
{
    if (v.len == 0 || v.len > 5 || (v.p[0] != '0' && v.p[0] != '1'))
        return -1;
    unsigned q = (unsigned)(v.p[0] - '0') * 1000;
    if (v.len > 1 && v.p[1] != '.')
        return -1;
    unsigned scale = 100;
    for (size_t i = 2; i < v.len; i++, scale /= 10) {
        if (v.p[i] < '0' || v.p[i] > '9')
            return -1;
        q += (unsigned)(v.p[i] - '0') * scale;
    }
    if (q > 1000)
        return -1;
    *out = q;
    return 0;
}

/* One list element "coding *( OWS ; OWS param )": its coding and q (1000 when absent). */
static int parse_element(struct slice e, struct slice *coding, unsigned *q)
{
    const char *semi = memchr(e.p, ';', e.len);
    *coding = slice_trim(slice_make(e.p, semi ? (size_t)(semi - e.p) : e.len));
    *q = 1000;
    while (semi) {
        const char *p = semi + 1, *end = e.p + e.len;
        semi = memchr(p, ';', (size_t)(end - p));
        struct slice param = slice_trim(slice_make(p, (size_t)((semi ? semi : end) - p)));
        if (param.len >= 2 && (param.p[0] == 'q' || param.p[0] == 'Q') && param.p[1] == '=' &&
            parse_q(slice_make(param.p + 2, param.len - 2), q) < 0)
            return -1;
    }
    return coding->len ? 0 : -1;
}

static bool coding_is(struct slice coding, const char *name)
{
    if (slice_eq_ci(coding, name))
        return true;
    return !strcmp(name, "gzip") && slice_eq_ci(coding, "x-gzip"); /* RFC 9110 §8.4.1.3 */
}

unsigned http_coding_q(struct slice field, const char *name)
{
    int own = -1, star = -1;
    const char *p = field.p, *end = field.p + field.len;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        struct slice e = slice_make(p, (size_t)((comma ? comma : end) - p));
        p = comma ? comma + 1 : end;
        struct slice coding;
        unsigned q;
        if (parse_element(e, &coding, &q) < 0)
            continue;
        if (coding_is(coding, name))
            own = own < 0 || (int)q > own ? (int)q : own;
        else if (slice_eq(coding, "*"))
            star = (int)q;
    }
    if (own >= 0)
        return (unsigned)own;
    if (star >= 0)
        return (unsigned)star;
    return strcmp(name, "identity") == 0 ? 1000 : 0;
}

enum http_coding http_coding_choose(const struct slice *ae, bool allow_br,
                                    bool *identity_refused_out)
{
    *identity_refused_out = false;
    if (!ae)
        return HTTP_CODING_IDENTITY;
    unsigned qi = http_coding_q(*ae, "identity");
    unsigned qg = http_coding_q(*ae, "gzip");
    unsigned qb = allow_br ? http_coding_q(*ae, "br") : 0;
    *identity_refused_out = qi == 0;
    unsigned best = qb >= qg ? qb : qg;
    if (best == 0 || qi > best)
        return HTTP_CODING_IDENTITY;
    return qb >= qg ? HTTP_CODING_BR : HTTP_CODING_GZIP;
}

bool http_coding_compressible(const char *t)
{
    static const char *const types[] = {
        "application/javascript", "application/json", "application/xml",
        "application/xhtml+xml",  "application/rss+xml", "application/atom+xml",
        "application/wasm",       "application/x-javascript", "application/manifest+json",
        "application/ld+json",    "application/x-sh", "application/postscript",
        "image/svg+xml",          "image/x-icon", "image/vnd.microsoft.icon", "image/bmp",
        "font/ttf",               "font/otf", "application/vnd.ms-fontobject",
    };
    if (!strncmp(t, "text/", 5))
        return true;
    size_t n = strcspn(t, ";");
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strlen(types[i]) == n && !strncmp(t, types[i], n))
            return true;
    /* Structured suffixes (RFC 6839): anything +json or +xml is text underneath. */
    return (n > 5 && !strncmp(t + n - 5, "+json", 5)) || (n > 4 && !strncmp(t + n - 4, "+xml", 4));
}

void http_coding_etag(char etag[64], enum http_coding c)
{
    size_t n = strlen(etag);
    const char *name = http_coding_name(c);
    size_t add = strlen(name) + 1;
    if (c == HTTP_CODING_IDENTITY || n < 2 || etag[n - 1] != '"' || n + add >= 64)
        return;
    etag[n - 1] = '-';
    memcpy(etag + n, name, add - 1);
    etag[n + add - 1] = '"';
    etag[n + add] = '\0';
}
