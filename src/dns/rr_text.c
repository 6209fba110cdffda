/* rr_text — rdata <-> presentation text (RFC 1035 §5.1, RFC 3597 §5). See rr.h. */
#include "dns/rr.h"

#include "core/err.h"
#include "dns/name.h"

#include <arpa/inet.h>
#include <string.h>

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

static uint32_t rd_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
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
        if (f != d->layout)
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

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Hex digits of tokens tok[0..ntok) (whitespace between tokens is allowed). */
static int hex_tokens(const struct dns_token *tok, size_t ntok, struct rd_out *o,
                      const char **err_out)
{
    int hi = -1;
    for (size_t t = 0; t < ntok; t++) {
        for (size_t i = 0; i < tok[t].len; i++) {
            int v = hexval(tok[t].p[i]);
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
            *err_out = "type needs the \\# form";
            rc = ERR_PARSE;
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
    if (rc == 0 && type == DNS_TYPE_DS && !o.overflow && o.len >= 4) {
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
