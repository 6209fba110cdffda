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

int http_path_clean(struct slice path, struct str *out, bool *dir_out)
{
    str_reset(out);
    str_appends(out, "");
    struct str dec = STR_INIT;
    int rc = 0;
    for (size_t i = 0; i < path.len && rc == 0; i++) {
        char c = path.p[i];
        if (c == '%') {
            int hi = i + 2 < path.len ? hex_digit_value(path.p[i + 1]) : -1;
            int lo = hi >= 0 ? hex_digit_value(path.p[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                rc = -400;
                break;
            }
            c = (char)(hi << 4 | lo);
            i += 2;
            if (c == '\0')
                rc = -400;
        }
        str_appendc(&dec, c);
    }
    *dir_out = dec.len == 0 || dec.ptr[dec.len - 1] == '/';
    size_t start = 0;
    for (size_t i = 0; rc == 0 && i <= dec.len; i++) {
        if (i == dec.len || dec.ptr[i] == '/') {
            rc = add_segment(out, dec.ptr + start, i - start);
            start = i + 1;
        }
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
