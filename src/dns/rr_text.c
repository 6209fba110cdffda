/* rr_text — rdata <-> presentation text (RFC 1035 §5.1, RFC 3597 §5). See rr.h. */
#include "dns/rr.h"

#include "core/err.h"
#include "core/xmalloc.h"
#include "dns/name.h"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char b32hex[] = "0123456789abcdefghijklmnopqrstuv";

static uint32_t rd_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- RFC 4034 §3.2 times: seconds since 1970 <-> YYYYMMDDHHmmSS (UTC, proleptic Gregorian) */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

void dns_time_to_text(uint32_t t, char out[15])
{
    int64_t y;
    unsigned mo, d, s = t % 86400;
    civil_from_days(t / 86400, &y, &mo, &d);
    unsigned v[6] = {(unsigned)y, mo, d, s / 3600, s / 60 % 60, s % 60};
    char *o = out;
    for (int k = 0; k < 6; k++) {
        if (k == 0) {
            *o++ = (char)('0' + v[0] / 1000 % 10);
            *o++ = (char)('0' + v[0] / 100 % 10);
        }
        *o++ = (char)('0' + v[k] / 10 % 10);
        *o++ = (char)('0' + v[k] % 10);
    }
    *o = '\0';
}

int dns_time_from_text(const char *p, size_t len, uint32_t *out)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] < '0' || p[i] > '9')
            return ERR_PARSE;
    if (len >= 1 && len <= 10) { /* RFC 4034 §3.2: plain seconds */
        uint64_t v = 0;
        for (size_t i = 0; i < len; i++)
            v = v * 10 + (uint64_t)(p[i] - '0');
        if (v > 0xffffffffu)
            return ERR_RANGE;
        *out = (uint32_t)v;
        return 0;
    }
    if (len != 14)
        return ERR_PARSE;
    unsigned f[6], w[6] = {4, 2, 2, 2, 2, 2};
    for (size_t i = 0, k = 0; k < 6; k++) {
        f[k] = 0;
        for (unsigned j = 0; j < w[k]; j++)
            f[k] = f[k] * 10 + (unsigned)(p[i++] - '0');
    }
    if (f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 || f[3] > 23 || f[4] > 59 || f[5] > 59)
        return ERR_PARSE;
    int64_t secs = days_from_civil(f[0], f[1], f[2]) * 86400 + f[3] * 3600 + f[4] * 60 + f[5];
    /* Serial arithmetic (RFC 4034 §3.1.5): the value is kept modulo 2^32. */
    *out = (uint32_t)(uint64_t)secs;
    return 0;
}

/* ---- output ---- */

static void text_generic(const uint8_t *rd, size_t len, struct str *out)
{
    static const char hex[] = "0123456789ABCDEF";
    str_appendf(out, "\\# %zu", len);
    if (len)
        str_appendc(out, ' ');
    for (size_t i = 0; i < len; i++) {
        str_appendc(out, hex[rd[i] >> 4]);
        str_appendc(out, hex[rd[i] & 15]);
    }
}

static void text_quoted(const uint8_t *p, size_t n, struct str *out)
{
    str_appendc(out, '"');
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c < 0x20 || c >= 0x7f)
            str_appendf(out, "\\%03u", (unsigned)c);
        else if (c == '"' || c == '\\')
            str_appendf(out, "\\%c", (char)c);
        else
            str_appendc(out, (char)c);
    }
    str_appendc(out, '"');
}


static void text_base64(const uint8_t *p, size_t n, struct str *out)
{
    char buf[4 * 48 + 1];
    for (size_t i = 0; i < n; i += 144) {
        size_t chunk = n - i < 144 ? n - i : 144;
        int w = EVP_EncodeBlock((unsigned char *)buf, p + i, (int)chunk);
        str_append(out, buf, (size_t)w);
    }
}

static void text_base32hex(const uint8_t *p, size_t n, struct str *out)
{
    unsigned acc = 0, bits = 0;
    for (size_t i = 0; i < n; i++) {
        acc = (acc << 8 | p[i]) & 0xffff;
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            str_appendc(out, b32hex[(acc >> bits) & 31]);
        }
    }
    if (bits)
        str_appendc(out, b32hex[(acc << (5 - bits)) & 31]); /* RFC 5155 §3.3: no padding */
}

static void text_bitmap(const uint8_t *p, size_t n, struct str *out)
{
    char buf[16];
    bool first = true;
    for (size_t pos = 0; pos + 2 <= n; pos += 2u + p[pos + 1]) {
        for (unsigned i = 0; i < p[pos + 1] * 8u; i++) {
            if (!(p[pos + 2 + i / 8] & (0x80 >> (i % 8))))
                continue;
            if (!first)
                str_appendc(out, ' ');
            first = false;
            str_appends(out, dns_type_name((uint16_t)(p[pos] << 8 | i), buf));
        }
    }
}

/* The DNSSEC fields (RFC 4034, RFC 5155) of text_field. */
static void text_field_sec(char f, const uint8_t *rd, size_t len, size_t *pos, struct str *out)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t p = *pos;
    char buf[16];
    switch (f) {
    case 'y':
        str_appends(out, dns_type_name((uint16_t)(rd[p] << 8 | rd[p + 1]), buf));
        p += 2;
        break;
    case 'Z':
        dns_time_to_text(rd_u32(rd + p), buf);
        str_appends(out, buf);
        p += 4;
        break;
    case 'b':
        text_base64(rd + p, len - p, out);
        p = len;
        break;
    case 'h':
        if (rd[p] == 0)
            str_appendc(out, '-');
        for (unsigned i = 1; i <= rd[p]; i++) {
            str_appendc(out, hex[rd[p + i] >> 4]);
            str_appendc(out, hex[rd[p + i] & 15]);
        }
        p += 1u + rd[p];
        break;
    case 'H':
        text_base32hex(rd + p + 1, rd[p], out);
        p += 1u + rd[p];
        break;
    case 'm':
        text_bitmap(rd + p, len - p, out);
        p = len;
        break;
    default:
        break;
    }
    *pos = p;
}

/* Writes one field at rd[*pos]; the layout was checked before. */
static void text_field(char f, const uint8_t *rd, size_t len, size_t *pos, struct str *out)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t p = *pos;
    char buf[DNS_NAME_TEXT_MAX];
    switch (f) {
    case 'N':
        dns_name_to_text(rd + p, buf, sizeof buf);
        str_appends(out, buf);
        p += dns_name_len(rd + p);
        break;
    case '1':
        str_appendf(out, "%u", (unsigned)rd[p]);
        p += 1;
        break;
    case '2':
        str_appendf(out, "%u", (unsigned)(rd[p] << 8 | rd[p + 1]));
        p += 2;
        break;
    case '4':
    case 'T':
        str_appendf(out, "%u", (unsigned)rd_u32(rd + p));
        p += 4;
        break;
    case 'a':
        inet_ntop(AF_INET, rd + p, buf, sizeof buf);
        str_appends(out, buf);
        p += 4;
        break;
    case '6':
        inet_ntop(AF_INET6, rd + p, buf, sizeof buf);
        str_appends(out, buf);
        p += 16;
        break;
    case 's':
        text_quoted(rd + p + 1, rd[p], out);
        p += 1u + rd[p];
        break;
    case 'S':
        for (bool first = true; p < len; first = false) {
            if (!first)
                str_appendc(out, ' ');
            text_quoted(rd + p + 1, rd[p], out);
            p += 1u + rd[p];
        }
        break;
    case 't':
        str_append(out, rd + p + 1, rd[p]);
        p += 1u + rd[p];
        break;
    case 'v':
        text_quoted(rd + p, len - p, out);
        p = len;
        break;
    case 'x':
        if (p == len)
            str_appendc(out, '-');
        for (; p < len; p++) {
            str_appendc(out, hex[rd[p] >> 4]);
            str_appendc(out, hex[rd[p] & 15]);
        }
        break;
    default:
        text_field_sec(f, rd, len, &p, out);
        break;
    }
    *pos = p;
}

void dns_rdata_to_text(uint16_t type, const uint8_t *rdata, size_t len, struct str *out)
{
    const struct dns_type_desc *d = dns_type_desc(type);
    if (!d || (d->flags & DNS_TF_NOTEXT) || dns_rdata_check(type, rdata, len) != 0) {
        text_generic(rdata, len, out);
        return;
    }
    /* A CAA tag with odd bytes: the generic form is the only faithful one. */
    size_t pos = 0, start = out->len;
    for (const char *f = d->layout; *f; f++) {
        if (f != d->layout && !(*f == 'm' && pos == len))
            str_appendc(out, ' ');
        if (*f == 't') {
            for (unsigned i = 1; i <= rdata[pos]; i++) {
                uint8_t c = rdata[pos + i];
                if (!((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'))) {
                    out->len = start;
                    if (out->ptr)
                        out->ptr[start] = '\0';
                    text_generic(rdata, len, out);
                    return;
                }
            }
        }
        text_field(*f, rdata, len, &pos, out);
    }
}

/* ---- input ---- */

struct rd_out {
    uint8_t *p;
    size_t cap, len;
    bool overflow;
};

static void rd_put(struct rd_out *o, const void *data, size_t n)
{
    if (o->len + n > o->cap || o->len + n > 65535) {
        o->overflow = true;
        return;
    }
    memcpy(o->p + o->len, data, n);
    o->len += n;
}

/* Hex digits of tokens tok[0..ntok) (whitespace between tokens is allowed). */
static int hex_tokens(const struct dns_token *tok, size_t ntok, struct rd_out *o,
                      const char **err_out)
{
    int hi = -1;
    for (size_t t = 0; t < ntok; t++) {
        for (size_t i = 0; i < tok[t].len; i++) {
            int v = hex_digit_value(tok[t].p[i]);
            if (v < 0 || tok[t].quoted) {
                *err_out = "bad hex digit";
                return ERR_PARSE;
            }
            if (hi < 0) {
                hi = v;
            } else {
                uint8_t b = (uint8_t)(hi << 4 | v);
                rd_put(o, &b, 1);
                hi = -1;
            }
        }
    }
    if (hi >= 0) {
        *err_out = "odd number of hex digits";
        return ERR_PARSE;
    }
    return 0;
}

static int number_text(const struct dns_token *t, uint64_t max, uint64_t *out)
{
    if (t->len == 0 || t->len > 10 || t->quoted)
        return ERR_PARSE;
    uint64_t v = 0;
    for (size_t i = 0; i < t->len; i++) {
        if (t->p[i] < '0' || t->p[i] > '9')
            return ERR_PARSE;
        v = v * 10 + (uint64_t)(t->p[i] - '0');
    }
    if (v > max)
        return ERR_RANGE;
    *out = v;
    return 0;
}

/* RFC 3597 §5: "\# len hex..." */
static int rdata_generic(const struct dns_token *tok, size_t ntok, struct rd_out *o,
                         const char **err_out)
{
    uint64_t len;
    if (ntok < 2 || number_text(&tok[1], 65535, &len) != 0) {
        *err_out = "bad \\# length";
        return ERR_PARSE;
    }
    int rc = hex_tokens(tok + 2, ntok - 2, o, err_out);
    if (rc)
        return rc;
    if (!o->overflow && o->len != len) {
        *err_out = "\\# length does not match the data";
        return ERR_PARSE;
    }
    return 0;
}

/* Decodes the escapes of a <character-string> token into o; *n_out gets the byte count. */
static int string_unescape(const struct dns_token *t, struct rd_out *o, size_t *n_out,
                           const char **err_out)
{
    size_t n = 0;
    for (size_t i = 0; i < t->len; n++) {
        uint8_t c = (uint8_t)t->p[i++];
        if (c == '\\') {
            if (i >= t->len) {
                *err_out = "backslash at end of string";
                return ERR_PARSE;
            }
            if (t->p[i] >= '0' && t->p[i] <= '9') {
                unsigned v = 0;
                for (int k = 0; k < 3; k++, i++) {
                    if (i >= t->len || t->p[i] < '0' || t->p[i] > '9') {
                        *err_out = "bad \\DDD escape";
                        return ERR_PARSE;
                    }
                    v = v * 10 + (unsigned)(t->p[i] - '0');
                }
                if (v > 255) {
                    *err_out = "\\DDD escape above 255";
                    return ERR_PARSE;
                }
                c = (uint8_t)v;
            } else {
                c = (uint8_t)t->p[i++];
            }
        }
        rd_put(o, &c, 1);
    }
    *n_out = n;
    return 0;
}

static int field_string(const struct dns_token *t, bool with_len, size_t max, struct rd_out *o,
                        const char **err_out)
{
    size_t start = o->len, n;
    uint8_t zero = 0;
    if (with_len)
        rd_put(o, &zero, 1);
    int rc = string_unescape(t, o, &n, err_out);
    if (rc)
        return rc;
    if (n > max) {
        *err_out = "character-string longer than 255 bytes";
        return ERR_RANGE;
    }
    if (with_len && !o->overflow)
        o->p[start] = (uint8_t)n;
    return 0;
}

static int field_name(const struct dns_token *t, const uint8_t *origin, struct rd_out *o,
                      const char **err_out)
{
    uint8_t name[DNS_NAME_MAXLEN];
    size_t n;
    if (t->len == 1 && t->p[0] == '@' && !t->quoted && origin) {
        n = dns_name_copy(name, origin);
    } else {
        int rc = dns_name_from_text(t->p, t->len, origin, name, &n, err_out);
        if (rc)
            return rc;
    }
    rd_put(o, name, n);
    return 0;
}

static int field_int(char f, const struct dns_token *t, struct rd_out *o, const char **err_out)
{
    uint64_t v;
    uint64_t max = f == '1' ? 0xff : f == '2' ? 0xffff : 0xffffffffu;
    int rc;
    if (f == 'T') {
        uint32_t v32;
        rc = t->quoted ? ERR_PARSE : dns_ttl_from_text(t->p, t->len, &v32);
        v = v32;
    } else {
        rc = number_text(t, max, &v);
    }
    if (rc) {
        *err_out = rc == ERR_RANGE ? "number out of range" : "bad number";
        return rc;
    }
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    size_t n = f == '1' ? 1 : f == '2' ? 2 : 4;
    rd_put(o, b + 4 - n, n);
    return 0;
}

static int field_addr(char f, const struct dns_token *t, struct rd_out *o, const char **err_out)
{
    char buf[64];
    uint8_t a[16];
    if (t->len >= sizeof buf || t->quoted) {
        *err_out = f == 'a' ? "bad IPv4 address" : "bad IPv6 address";
        return ERR_PARSE;
    }
    memcpy(buf, t->p, t->len);
    buf[t->len] = '\0';
    if (inet_pton(f == 'a' ? AF_INET : AF_INET6, buf, a) != 1) {
        *err_out = f == 'a' ? "bad IPv4 address" : "bad IPv6 address";
        return ERR_PARSE;
    }
    rd_put(o, a, f == 'a' ? 4 : 16);
    return 0;
}

static int field_tag(const struct dns_token *t, struct rd_out *o, const char **err_out)
{
    if (t->len == 0 || t->len > 255 || t->quoted) {
        *err_out = "bad CAA tag";
        return ERR_PARSE;
    }
    for (size_t i = 0; i < t->len; i++) {
        char c = t->p[i];
        if (!((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'))) {
            *err_out = "bad CAA tag";
            return ERR_PARSE;
        }
    }
    uint8_t l = (uint8_t)t->len;
    rd_put(o, &l, 1);
    rd_put(o, t->p, t->len);
    return 0;
}

/* Base64 of tokens tok[0..ntok) joined (RFC 4034 §2.2: whitespace may split the key). */
static int base64_tokens(const struct dns_token *tok, size_t ntok, struct rd_out *o,
                         const char **err_out)
{
    size_t total = 0;
    for (size_t t = 0; t < ntok; t++)
        total += tok[t].len;
    if (total % 4 != 0 || total > 4 * 65536 / 3 + 4) {
        *err_out = "bad base64 length";
        return ERR_PARSE;
    }
    char *joined = xmalloc(total + 1);
    uint8_t *bin = xmalloc(total / 4 * 3 + 3);
    size_t n = 0;
    for (size_t t = 0; t < ntok; t++) {
        memcpy(joined + n, tok[t].p, tok[t].len);
        n += tok[t].len;
    }
    joined[n] = '\0';
    int rc = 0, w = total ? EVP_DecodeBlock(bin, (unsigned char *)joined, (int)total) : 0;
    size_t pad = 0;
    while (pad < 2 && pad < total && joined[total - 1 - pad] == '=')
        pad++;
    for (size_t i = 0; i + pad < total && w >= 0; i++)
        if (joined[i] == '=')
            w = -1; /* '=' only as padding at the end */
    if (w < 0) {
        *err_out = "bad base64";
        rc = ERR_PARSE;
    } else {
        rd_put(o, bin, (size_t)w - pad);
    }
    free(joined);
    free(bin);
    return rc;
}

static int field_hex_counted(const struct dns_token *t, struct rd_out *o, const char **err_out)
{
    uint8_t zero = 0;
    size_t start = o->len;
    rd_put(o, &zero, 1);
    if (t->len == 1 && t->p[0] == '-' && !t->quoted)
        return 0;
    if (t->len > 510) {
        *err_out = "salt longer than 255 bytes";
        return ERR_RANGE;
    }
    int rc = hex_tokens(t, 1, o, err_out);
    if (rc == 0 && !o->overflow)
        o->p[start] = (uint8_t)(o->len - start - 1);
    return rc;
}

static int field_base32hex(const struct dns_token *t, struct rd_out *o, const char **err_out)
{
    uint8_t buf[256];
    size_t n = 0;
    unsigned acc = 0, bits = 0;
    if (t->len == 0 || t->len > 408 || t->quoted) {
        *err_out = "bad base32hex hash";
        return ERR_PARSE;
    }
    for (size_t i = 0; i < t->len; i++) {
        const char *c = memchr(b32hex, t->p[i] | 0x20, 32);
        if (!c || t->p[i] == '\0') {
            *err_out = "bad base32hex digit";
            return ERR_PARSE;
        }
        acc = (acc << 5 | (unsigned)(c - b32hex)) & 0xffff;
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            buf[n++] = (uint8_t)(acc >> bits);
        }
    }
    if (n > 255 || bits >= 5 || (acc & ((1u << bits) - 1))) {
        *err_out = "bad base32hex hash";
        return ERR_PARSE;
    }
    uint8_t l = (uint8_t)n;
    rd_put(o, &l, 1);
    rd_put(o, buf, n);
    return 0;
}

static int bitmap_tokens(const struct dns_token *tok, size_t ntok, struct rd_out *o,
                         const char **err_out)
{
    uint8_t *bits = xcalloc(65536 / 8, 1);
    int rc = 0;
    for (size_t t = 0; t < ntok && rc == 0; t++) {
        uint16_t type;
        if (tok[t].quoted || dns_type_from_text(tok[t].p, tok[t].len, &type) != 0) {
            *err_out = "bad type in the type bitmap";
            rc = ERR_PARSE;
        } else {
            bits[type / 8] |= (uint8_t)(0x80 >> (type % 8));
        }
    }
    for (unsigned win = 0; win < 256 && rc == 0; win++) {
        unsigned used = 0;
        for (unsigned i = 0; i < 32; i++)
            if (bits[win * 32 + i])
                used = i + 1;
        if (!used)
            continue;
        uint8_t h[2] = {(uint8_t)win, (uint8_t)used};
        rd_put(o, h, 2);
        rd_put(o, bits + win * 32, used);
    }
    free(bits);
    return rc;
}

static int field_sec(char f, const struct dns_token *t, struct rd_out *o, const char **err_out)
{
    uint8_t b[4];
    uint16_t type;
    uint32_t v;
    switch (f) {
    case 'y':
        if (t->quoted || dns_type_from_text(t->p, t->len, &type) != 0) {
            *err_out = "bad type covered";
            return ERR_PARSE;
        }
        b[0] = (uint8_t)(type >> 8);
        b[1] = (uint8_t)type;
        rd_put(o, b, 2);
        return 0;
    case 'Z':
        if (t->quoted || dns_time_from_text(t->p, t->len, &v) != 0) {
            *err_out = "bad signature time";
            return ERR_PARSE;
        }
        b[0] = (uint8_t)(v >> 24), b[1] = (uint8_t)(v >> 16), b[2] = (uint8_t)(v >> 8);
        b[3] = (uint8_t)v;
        rd_put(o, b, 4);
        return 0;
    case 'h':
        return field_hex_counted(t, o, err_out);
    case 'H':
        return field_base32hex(t, o, err_out);
    default:
        *err_out = "type needs the \\# form";
        return ERR_PARSE;
    }
}

/* Parses the fields of a layout from the tokens; *used_out counts the tokens consumed. */
static int rdata_fields(const char *layout, const struct dns_token *tok, size_t ntok,
                        const uint8_t *origin, struct rd_out *o, const char **err_out)
{
    size_t ti = 0;
    int rc = 0;
    for (const char *f = layout; *f && rc == 0; f++) {
        if (*f == 'x') {
            if (ti == ntok) {
                *err_out = "missing hex data";
                return ERR_PARSE;
            }
            if (ntok - ti == 1 && tok[ti].len == 1 && tok[ti].p[0] == '-')
                return 0; /* an empty field */
            rc = hex_tokens(tok + ti, ntok - ti, o, err_out);
            ti = ntok;
            continue;
        }
        if (*f == 'b' || *f == 'm') { /* both run to the end and may be empty */
            rc = *f == 'b' ? base64_tokens(tok + ti, ntok - ti, o, err_out)
                           : bitmap_tokens(tok + ti, ntok - ti, o, err_out);
            ti = ntok;
            continue;
        }
        if (ti == ntok) {
            *err_out = "missing rdata field";
            return ERR_PARSE;
        }
        const struct dns_token *t = &tok[ti++];
        switch (*f) {
        case 'N':
            rc = field_name(t, origin, o, err_out);
            break;
        case '1':
        case '2':
        case '4':
        case 'T':
            rc = field_int(*f, t, o, err_out);
            break;
        case 'a':
        case '6':
            rc = field_addr(*f, t, o, err_out);
            break;
        case 's':
            rc = field_string(t, true, 255, o, err_out);
            break;
        case 'S':
            rc = field_string(t, true, 255, o, err_out);
            while (rc == 0 && ti < ntok)
                rc = field_string(&tok[ti++], true, 255, o, err_out);
            break;
        case 't':
            rc = field_tag(t, o, err_out);
            break;
        case 'v':
            rc = field_string(t, false, 65535, o, err_out);
            break;
        default:
            rc = field_sec(*f, t, o, err_out);
            break;
        }
    }
    if (rc == 0 && ti < ntok) {
        *err_out = "extra input text";
        rc = ERR_PARSE;
    }
    return rc;
}

int dns_rdata_from_text(uint16_t type, const struct dns_token *tok, size_t ntok,
                        const uint8_t *origin, uint8_t *out, size_t cap, size_t *len_out,
                        const char **err_out)
{
    const char *dummy;
    if (!err_out)
        err_out = &dummy;
    struct rd_out o = {out, cap, 0, false};
    const struct dns_type_desc *d = dns_type_desc(type);
    int rc;
    if (ntok > 0 && !tok[0].quoted && tok[0].len == 2 && memcmp(tok[0].p, "\\#", 2) == 0) {
        rc = rdata_generic(tok, ntok, &o, err_out);
        if (rc == 0 && !o.overflow && d && dns_rdata_check(type, out, o.len) != 0) {
            *err_out = "\\# data does not match the type";
            rc = ERR_PARSE;
        }
    } else if (!d) {
        *err_out = "unknown type needs the \\# form";
        rc = ERR_PARSE;
    } else if (d->flags & DNS_TF_NOTEXT) {
        *err_out = "this type is only accepted in the \\# form";
        rc = ERR_PARSE;
    } else {
        rc = rdata_fields(d->layout, tok, ntok, origin, &o, err_out);
    }
    /* RFC 4509 §2.2 / RFC 6605: digest lengths of the known DS digest types, as BIND checks */
    if (rc == 0 && (type == DNS_TYPE_DS || type == DNS_TYPE_CDS) && !o.overflow && o.len >= 4) {
        static const size_t digest_len[5] = {0, 20, 32, 0, 48};
        uint8_t dt = out[3];
        if (dt < 5 && digest_len[dt] && o.len - 4 != digest_len[dt]) {
            *err_out = "DS digest length does not match its type";
            rc = ERR_PARSE;
        }
    }
    if (rc == 0 && o.overflow) {
        *err_out = "rdata longer than 65535 bytes";
        rc = ERR_RANGE;
    }
    if (rc == 0)
        *len_out = o.len;
    return rc;
}
