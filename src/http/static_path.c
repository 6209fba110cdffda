/* http/static — the request path made safe, and entity tags. */
#include "http/static.h"

#include <stdio.h>
#include <string.h>

/* Appends one decoded segment, or refuses it. */
static int add_segment(struct str *out, const char *seg, size_t n)
{
    if (n == 0 || (n == 1 && seg[0] == '.'))
        return 0;
    if (n == 2 && seg[0] == '.' && seg[1] == '.')
        return -400; /* never resolved: a path may not climb, whatever it would reach */
    if (seg[0] == '.' && !(n == 11 && memcmp(seg, ".well-known", 11) == 0))
        return -404; /* hidden files (.htpasswd, .git) are not published */
    if (out->len)
        str_appendc(out, '/');
    str_append(out, seg, n);
    return 0;
}

/* Percent-decodes path into dec, a span at a time. -400: a bad escape, or %00. */
static int decode(struct slice path, struct str *dec)
{
    str_reserve(dec, path.len);
    size_t i = 0;
    while (i < path.len) {
        const char *pct = memchr(path.p + i, '%', path.len - i);
        size_t run = pct ? (size_t)(pct - path.p) - i : path.len - i;
        str_append(dec, path.p + i, run);
        i += run;
        if (!pct)
            break;
        int hi = i + 2 < path.len ? hex_digit_value(path.p[i + 1]) : -1;
        int lo = hi >= 0 ? hex_digit_value(path.p[i + 2]) : -1;
        if (hi < 0 || lo < 0 || (hi | lo) == 0)
            return -400;
        str_appendc(dec, (char)(hi << 4 | lo));
        i += 3;
    }
    return 0;
}

int http_path_clean(struct slice path, struct str *out, bool *dir_out)
{
    str_reset(out);
    str_reserve(out, path.len);
    str_appends(out, "");
    /* Without a '%' the path is its own decoding: no copy. */
    struct str dec = STR_INIT;
    struct slice d = path;
    int rc = 0;
    if (memchr(path.p, '%', path.len)) {
        rc = decode(path, &dec);
        d = slice_make(dec.ptr, dec.len);
    }
    *dir_out = d.len == 0 || d.p[d.len - 1] == '/';
    for (size_t start = 0; rc == 0 && start <= d.len;) {
        const char *slash = d.len > start ? memchr(d.p + start, '/', d.len - start) : NULL;
        size_t end = slash ? (size_t)(slash - d.p) : d.len;
        rc = add_segment(out, d.p + start, end - start);
        start = end + 1;
    }
    str_clear(&dec);
    return rc;
}

void http_etag(const struct http_file_meta *m, char out[64])
{
    snprintf(out, 64, "\"%llx-%llx-%llx.%lx\"", (unsigned long long)m->ino,
             (unsigned long long)m->size, (unsigned long long)m->mtime,
             (unsigned long)m->mtime_ns);
}
