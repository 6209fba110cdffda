/* mutf7 — see mutf7.h. */
#include "imap/mutf7.h"

#include "core/err.h"
#include "msg/utf8.h"

#include <stdbool.h>
#include <stdint.h>

static const char mutf7_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int mutf7_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == ',')
        return 63;
    return -1;
}

/* Decodes the base64 run in[i..) up to "-"; *i ends after the "-". */
static int mutf7_run(const char *in, size_t n, size_t *i, struct str *out)
{
    uint32_t acc = 0, high = 0;
    unsigned bits = 0;
    size_t start = *i;
    while (*i < n && in[*i] != '-') {
        int v = mutf7_value(in[*i]);
        if (v < 0)
            return ERR_PARSE;
        acc = (acc << 6 | (uint32_t)v) & 0xFFFFFF;
        bits += 6;
        (*i)++;
        if (bits < 16)
            continue;
        bits -= 16;
        uint32_t u = (acc >> bits) & 0xFFFF;
        if (high) {
            if (u < 0xDC00 || u > 0xDFFF)
                return ERR_PARSE;
            utf8_append(out, 0x10000 + ((high - 0xD800) << 10) + (u - 0xDC00));
            high = 0;
        } else if (u >= 0xD800 && u <= 0xDBFF) {
            high = u;
        } else if ((u >= 0xDC00 && u <= 0xDFFF) || (u >= 0x20 && u <= 0x7E)) {
            return ERR_PARSE; /* lone low surrogate, or printable ASCII encoded */
        } else {
            utf8_append(out, u);
        }
    }
    if (*i >= n || *i == start || high || bits >= 6 || (acc & ((1u << bits) - 1)) != 0)
        return ERR_PARSE;
    (*i)++;
    return 0;
}

int imap_mutf7_to_utf8(const char *in, size_t n, struct str *out)
{
    size_t i = 0;
    bool prev_run = false;
    while (i < n) {
        unsigned char c = (unsigned char)in[i];
        if (c < 0x20 || c > 0x7E)
            return ERR_PARSE;
        if (c != '&') {
            str_appendc(out, (char)c);
            i++;
            prev_run = false;
            continue;
        }
        i++;
        if (i < n && in[i] == '-') {
            str_appendc(out, '&');
            i++;
            prev_run = false;
            continue;
        }
        if (prev_run || mutf7_run(in, n, &i, out) < 0)
            return ERR_PARSE;
        prev_run = true;
    }
    return 0;
}

struct mutf7_enc {
    bool in_run;
    uint32_t acc;
    unsigned bits;
};

static void mutf7_unit(struct mutf7_enc *e, struct str *out, uint16_t u)
{
    if (!e->in_run) {
        str_appendc(out, '&');
        e->in_run = true;
        e->acc = 0;
        e->bits = 0;
    }
    e->acc = (e->acc << 16 | u) & 0x3FFFFF; /* < 6 bits pending + 16 new */
    e->bits += 16;
    while (e->bits >= 6) {
        e->bits -= 6;
        str_appendc(out, mutf7_alphabet[(e->acc >> e->bits) & 0x3F]);
    }
}

static void mutf7_close(struct mutf7_enc *e, struct str *out)
{
    if (!e->in_run)
        return;
    if (e->bits > 0)
        str_appendc(out, mutf7_alphabet[(e->acc << (6 - e->bits)) & 0x3F]);
    str_appendc(out, '-');
    e->in_run = false;
}

int imap_utf8_to_mutf7(const char *in, size_t n, struct str *out)
{
    if (!utf8_valid(in, n))
        return ERR_PARSE;
    struct mutf7_enc e = {false, 0, 0};
    size_t i = 0;
    while (i < n) {
        int32_t cp = utf8_next(in, n, &i);
        if (cp >= 0x20 && cp <= 0x7E) {
            mutf7_close(&e, out);
            if (cp == '&')
                str_append(out, "&-", 2);
            else
                str_appendc(out, (char)cp);
        } else if (cp >= 0x10000) {
            mutf7_unit(&e, out, (uint16_t)(0xD800 + ((cp - 0x10000) >> 10)));
            mutf7_unit(&e, out, (uint16_t)(0xDC00 + ((cp - 0x10000) & 0x3FF)));
        } else {
            mutf7_unit(&e, out, (uint16_t)cp);
        }
    }
    mutf7_close(&e, out);
    return 0;
}
