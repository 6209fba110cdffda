/*
 * base64 — RFC 4648 §4 base64. Decoding refuses anything outside the alphabet (no whitespace,
 * no line breaks, no "=" except as final padding), since SASL (RFC 4954 §4) sends one token.
 */
#include "msg/base64.h"

#include "core/err.h"

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t base64_encoded_size(size_t n)
{
    return (n + 2) / 3 * 4 + 1;
}

size_t base64_encode(const void *in, size_t n, char *out)
{
    const unsigned char *s = in;
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        unsigned long v = (unsigned long)s[i] << 16 | (unsigned long)s[i + 1] << 8 | s[i + 2];
        out[o++] = b64_alphabet[(v >> 18) & 63];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = b64_alphabet[(v >> 6) & 63];
        out[o++] = b64_alphabet[v & 63];
    }
    if (i < n) {
        unsigned long v = (unsigned long)s[i] << 16;
        if (i + 1 < n)
            v |= (unsigned long)s[i + 1] << 8;
        out[o++] = b64_alphabet[(v >> 18) & 63];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = i + 1 < n ? b64_alphabet[(v >> 6) & 63] : (char)'=';
        out[o++] = '=';
    }
    out[o] = '\0';
    return o;
}

/* Value of one alphabet character, or -1. */
static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/*
 * Splits in[0..n) into data and padding. Padding, when present, must complete the last
 * quantum exactly (RFC 4648 §3.2); omitting it altogether is tolerated.
 */
static int b64_strip_padding(const char *in, size_t n, size_t *data_out)
{
    size_t pad = 0;
    while (pad < n && pad < 3 && in[n - 1 - pad] == '=')
        pad++;
    size_t data = n - pad;
    if (data % 4 == 1)
        return ERR_PARSE; /* 6 bits cannot make a byte */
    if (pad > 0 && (n % 4 != 0 || pad != 4 - data % 4))
        return ERR_PARSE;
    *data_out = data;
    return 0;
}

int base64_decode(const char *in, size_t n, unsigned char *out, size_t *out_len)
{
    size_t data;
    if (b64_strip_padding(in, n, &data) < 0)
        return ERR_PARSE;
    size_t o = 0;
    unsigned long acc = 0;
    unsigned bits = 0;
    for (size_t i = 0; i < data; i++) {
        int v = b64_value((unsigned char)in[i]);
        if (v < 0)
            return ERR_PARSE;
        acc = (acc << 6 | (unsigned long)v) & 0xFFFFFF;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    /* Leftover bits are zero in canonical encodings; RFC 4648 §3.5 lets decoders ignore them. */
    *out_len = o;
    return 0;
}
