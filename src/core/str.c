#include "core/str.h"

#include "core/err.h"
#include "core/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void str_init(struct str *s)
{
    s->ptr = NULL;
    s->len = 0;
    s->cap = 0;
}

void str_clear(struct str *s)
{
    free(s->ptr);
    str_init(s);
}

void str_reset(struct str *s)
{
    s->len = 0;
    if (s->ptr)
        s->ptr[0] = '\0';
}

void str_reserve(struct str *s, size_t extra)
{
    size_t need = s->len + extra + 1;
    if (need <= s->cap)
        return;
    size_t cap = s->cap ? s->cap : 64;
    while (cap < need)
        cap = cap < (1u << 20) ? cap * 2 : cap + cap / 2;
    s->ptr = xrealloc(s->ptr, cap);
    s->cap = cap;
}

void str_append(struct str *s, const void *data, size_t len)
{
    str_reserve(s, len);
    if (len)
        memcpy(s->ptr + s->len, data, len);
    s->len += len;
    s->ptr[s->len] = '\0';
}

void str_appends(struct str *s, const char *cstr)
{
    str_append(s, cstr, strlen(cstr));
}

void str_appendc(struct str *s, char c)
{
    str_append(s, &c, 1);
}

void str_vappendf(struct str *s, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    char tmp[256];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return;
    if ((size_t)n < sizeof tmp) {
        str_append(s, tmp, (size_t)n);
        return;
    }
    str_reserve(s, (size_t)n);
    vsnprintf(s->ptr + s->len, (size_t)n + 1, fmt, ap);
    s->len += (size_t)n;
}

void str_appendf(struct str *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    str_vappendf(s, fmt, ap);
    va_end(ap);
}

void str_consume(struct str *s, size_t n)
{
    if (n >= s->len) {
        str_reset(s);
        return;
    }
    memmove(s->ptr, s->ptr + n, s->len - n);
    s->len -= n;
    s->ptr[s->len] = '\0';
}

const char *str_cstr(const struct str *s)
{
    return s->ptr ? s->ptr : "";
}

char *str_steal(struct str *s)
{
    char *p = s->ptr ? s->ptr : xstrdup("");
    str_init(s);
    return p;
}

struct slice slice_cstr(const char *s)
{
    return slice_make(s, strlen(s));
}

static inline char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

bool slice_eq(struct slice a, const char *cstr)
{
    size_t n = strlen(cstr);
    return a.len == n && memcmp(a.p, cstr, n) == 0;
}

bool slice_eq_ci(struct slice a, const char *cstr)
{
    size_t n = strlen(cstr);
    if (a.len != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower(a.p[i]) != lower(cstr[i]))
            return false;
    return true;
}

bool slice_starts_ci(struct slice a, const char *prefix)
{
    size_t n = strlen(prefix);
    if (a.len < n)
        return false;
    return slice_eq_ci(slice_make(a.p, n), prefix);
}

struct slice slice_trim(struct slice a)
{
    while (a.len && (a.p[0] == ' ' || a.p[0] == '\t')) {
        a.p++;
        a.len--;
    }
    while (a.len && (a.p[a.len - 1] == ' ' || a.p[a.len - 1] == '\t'))
        a.len--;
    return a;
}

int slice_to_u64(struct slice a, unsigned long long max, unsigned long long *out)
{
    if (a.len == 0 || a.len > 20)
        return ERR_PARSE;
    unsigned long long v = 0;
    for (size_t i = 0; i < a.len; i++) {
        if (a.p[i] < '0' || a.p[i] > '9')
            return ERR_PARSE;
        unsigned d = (unsigned)(a.p[i] - '0');
        if (v > (max - d) / 10)
            return ERR_RANGE;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

char *slice_dup(struct slice a)
{
    return xstrndup(a.p, a.len);
}

void ascii_lower(char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        s[i] = lower(s[i]);
}

bool ascii_eq_ci(const char *a, const char *b)
{
    return slice_eq_ci(slice_cstr(a), b);
}

size_t line_vformat(char *buf, size_t cap, const char *fmt, va_list ap)
{
    int n = vsnprintf(buf, cap - 2, fmt, ap);
    if (n < 0)
        n = 0;
    if ((size_t)n > cap - 3)
        n = (int)(cap - 3);
    buf[n++] = '\r';
    buf[n++] = '\n';
    return (size_t)n;
}

int hex_digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}
