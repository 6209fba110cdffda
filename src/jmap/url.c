/*
 * jmap/url — the URL pieces JMAP's HTTP side reads (RFC 3986): percent-decoding of a path
 * segment or a query value, and one query parameter by name. Strict: a "%" not followed by two
 * hexadecimal digits, a decoded NUL or a value longer than the caller's buffer is an error (the
 * request gets a 400), never a guess. Reads nothing past the slice it is given (request paths
 * and queries are not NUL-terminated). Pure; no allocation.
 */
#include "jmap/url.h"

#include "core/str.h"

#include <string.h>

int jmap_url_decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (n - i < 3) /* s[i + 1] and s[i + 2] must be inside the slice */
                return -1;
            int hi = hex_digit_value(s[i + 1]), lo = hex_digit_value(s[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                return -1;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (k + 1 >= cap)
            return -1;
        out[k++] = c;
    }
    out[k] = '\0';
    return (int)k;
}

int jmap_url_param(const char *q, size_t len, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    const char *p = q, *end = q + len;
    while (p && p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        if ((size_t)(stop - p) > nl && memcmp(p, name, nl) == 0 && p[nl] == '=')
            return jmap_url_decode(p + nl + 1, (size_t)(stop - p - nl - 1), out, cap) < 0 ? -1
                                                                                           : 1;
        p = amp ? amp + 1 : NULL;
    }
    return 0;
}
