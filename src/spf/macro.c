/* RFC 7208 §7: macro expansion — pure. */
#include "spf/spf.h"

#include "core/err.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void ip_text(const struct sockaddr *sa, bool dotted_v6, struct str *out)
{
    char buf[INET6_ADDRSTRLEN];
    if (sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, sizeof buf);
        str_appends(out, buf);
        return;
    }
    const uint8_t *b = (const uint8_t *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
    if (!dotted_v6) {
        inet_ntop(AF_INET6, b, buf, sizeof buf);
        str_appends(out, buf);
        return;
    }
    for (int i = 0; i < 16; i++) /* §7.3: IPv6 as dot-separated nibbles */
        str_appendf(out, "%s%x.%x", i ? "." : "", b[i] >> 4, b[i] & 15);
}

/* The raw value of macro letter c, or -1 if unknown. */
static int macro_value(char c, const struct spf_macro_ctx *x, bool exp, struct str *v)
{
    switch (c | 0x20) {
    case 's': str_appends(v, x->sender); return 0;
    case 'l': str_appends(v, x->local); return 0;
    case 'o': str_appends(v, x->sender_dom); return 0;
    case 'd': str_appends(v, x->domain); return 0;
    case 'i': ip_text(x->ip, true, v); return 0;
    case 'p': str_appends(v, x->ptr ? x->ptr : "unknown"); return 0;
    case 'v': str_appends(v, x->ip->sa_family == AF_INET ? "in-addr" : "ip6"); return 0;
    case 'h': str_appends(v, x->helo); return 0;
    case 'c':
        if (!exp)
            return -1;
        ip_text(x->ip, false, v);
        return 0;
    case 'r':
        if (!exp)
            return -1;
        str_appends(v, x->receiver ? x->receiver : "unknown");
        return 0;
    case 't':
        if (!exp)
            return -1;
        str_appendf(v, "%lld", (long long)time(NULL));
        return 0;
    }
    return -1;
}

/* Splits v on delimiters, optionally reverses, keeps the rightmost `keep` parts, joins with '.'. */
static void transform(const char *v, size_t n, const char *delims, bool rev, unsigned keep,
                      struct str *out)
{
    const char *part[128];
    size_t plen[128], np = 0, start = 0;
    for (size_t i = 0; i <= n && np < 128; i++) {
        if (i == n || strchr(delims, v[i])) {
            part[np] = v + start;
            plen[np++] = i - start;
            start = i + 1;
        }
    }
    if (rev) { /* reverse first, then keep the rightmost parts (§7.3) */
        for (size_t a = 0, b = np ? np - 1 : 0; a < b; a++, b--) {
            const char *tp = part[a];
            size_t tl = plen[a];
            part[a] = part[b];
            plen[a] = plen[b];
            part[b] = tp;
            plen[b] = tl;
        }
    }
    size_t first = keep && keep < np ? np - keep : 0;
    for (size_t k = first; k < np; k++) {
        if (k > first)
            str_appendc(out, '.');
        str_append(out, part[k], plen[k]);
    }
}

static int expand_one(const char *p, size_t n, const struct spf_macro_ctx *x, bool exp,
                      struct str *out)
{
    /* macro-letter *DIGIT [ "r" ] *delimiter */
    if (n == 0)
        return ERR_PARSE;
    struct str v = STR_INIT;
    if (macro_value(p[0], x, exp, &v) < 0) {
        str_clear(&v);
        return ERR_PARSE;
    }
    bool upper = p[0] >= 'A' && p[0] <= 'Z';
    size_t i = 1;
    unsigned keep = 0;
    while (i < n && p[i] >= '0' && p[i] <= '9' && keep < 1000)
        keep = keep * 10 + (unsigned)(p[i++] - '0');
    bool rev = i < n && (p[i] == 'r' || p[i] == 'R');
    i += rev;
    char delims[8] = ".";
    size_t nd = 0;
    for (; i < n; i++) {
        if (!strchr(".-+,/_=", p[i]) || nd >= sizeof delims - 1) {
            str_clear(&v);
            return ERR_PARSE;
        }
        delims[nd++] = p[i];
        delims[nd] = '\0';
    }
    struct str t = STR_INIT;
    transform(str_cstr(&v), v.len, delims, rev, keep, &t);
    if (upper) { /* §7.3: uppercase macros are URL-escaped */
        for (size_t k = 0; k < t.len; k++) {
            unsigned char c = (unsigned char)t.ptr[k];
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                strchr("-._~", c))
                str_appendc(out, (char)c);
            else
                str_appendf(out, "%%%02X", c);
        }
    } else {
        str_append(out, t.ptr ? t.ptr : "", t.len);
    }
    str_clear(&t);
    str_clear(&v);
    return 0;
}

int spf_macro_expand(const char *in, size_t len, const struct spf_macro_ctx *x, bool exp,
                     struct str *out)
{
    for (size_t i = 0; i < len; i++) {
        if (in[i] != '%') {
            str_appendc(out, in[i]);
            continue;
        }
        if (++i >= len)
            return ERR_PARSE;
        if (in[i] == '%')
            str_appendc(out, '%');
        else if (in[i] == '_')
            str_appendc(out, ' ');
        else if (in[i] == '-')
            str_append(out, "%20", 3);
        else if (in[i] == '{') {
            const char *close = memchr(in + i, '}', len - i);
            if (!close || expand_one(in + i + 1, (size_t)(close - in - i - 1), x, exp, out) < 0)
                return ERR_PARSE;
            i = (size_t)(close - in);
        } else {
            return ERR_PARSE;
        }
    }
    return 0;
}
