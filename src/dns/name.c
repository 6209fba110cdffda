/* name — see name.h. */
#include "dns/name.h"

#include "core/err.h"

#include <string.h>

static inline uint8_t lc(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

int dns_name_check(const uint8_t *p, size_t avail, size_t *len_out)
{
    size_t pos = 0;
    for (;;) {
        if (pos >= avail)
            return ERR_PARSE;
        uint8_t l = p[pos];
        if (l > DNS_LABEL_MAXLEN)
            return ERR_PARSE; /* a compression pointer or an extended label type */
        pos += 1u + l;
        if (pos > DNS_NAME_MAXLEN)
            return ERR_PARSE;
        if (l == 0)
            break;
    }
    if (len_out)
        *len_out = pos;
    return 0;
}

size_t dns_name_len(const uint8_t *name)
{
    const uint8_t *p = name;
    while (*p)
        p += 1u + *p;
    return (size_t)(p - name) + 1;
}

unsigned dns_name_labels(const uint8_t *name)
{
    unsigned n = 0;
    for (const uint8_t *p = name; *p; p += 1u + *p)
        n++;
    return n;
}

bool dns_name_is_wild(const uint8_t *name)
{
    return name[0] == 1 && name[1] == '*';
}

const uint8_t *dns_name_skip(const uint8_t *name, unsigned n)
{
    while (n-- && *name)
        name += 1u + *name;
    return name;
}

const uint8_t *dns_name_parent(const uint8_t *name)
{
    return *name ? name + 1 + *name : NULL;
}

bool dns_name_eq(const uint8_t *a, const uint8_t *b)
{
    for (;;) {
        if (*a != *b)
            return false;
        uint8_t l = *a;
        if (l == 0)
            return true;
        for (unsigned i = 1; i <= l; i++)
            if (lc(a[i]) != lc(b[i]))
                return false;
        a += 1u + l;
        b += 1u + l;
    }
}

/* Offsets of each label of name; returns the count (root excluded). */
static unsigned name_label_offsets(const uint8_t *name, uint8_t offs[DNS_NAME_MAXLABELS + 1])
{
    unsigned n = 0;
    size_t pos = 0;
    while (name[pos] && n <= DNS_NAME_MAXLABELS) {
        offs[n++] = (uint8_t)pos;
        pos += 1u + name[pos];
    }
    return n;
}

static int label_cmp(const uint8_t *a, const uint8_t *b)
{
    uint8_t la = a[0], lb = b[0];
    uint8_t m = la < lb ? la : lb;
    for (unsigned i = 1; i <= m; i++) {
        uint8_t ca = lc(a[i]), cb = lc(b[i]);
        if (ca != cb)
            return ca < cb ? -1 : 1;
    }
    return la == lb ? 0 : (la < lb ? -1 : 1);
}

int dns_name_cmp(const uint8_t *a, const uint8_t *b)
{
    uint8_t oa[DNS_NAME_MAXLABELS + 1], ob[DNS_NAME_MAXLABELS + 1];
    unsigned na = name_label_offsets(a, oa), nb = name_label_offsets(b, ob);
    while (na > 0 && nb > 0) {
        int c = label_cmp(a + oa[--na], b + ob[--nb]);
        if (c)
            return c;
    }
    return na == nb ? 0 : (na < nb ? -1 : 1);
}

bool dns_name_is_sub(const uint8_t *name, const uint8_t *parent)
{
    unsigned ln = dns_name_labels(name), lp = dns_name_labels(parent);
    if (ln < lp)
        return false;
    return dns_name_eq(dns_name_skip(name, ln - lp), parent);
}

uint32_t dns_name_hash(const uint8_t *name)
{
    uint32_t h = 2166136261u;
    size_t len = dns_name_len(name);
    for (size_t i = 0; i < len; i++) {
        h ^= lc(name[i]);
        h *= 16777619u;
    }
    return h;
}

size_t dns_name_copy(uint8_t *dst, const uint8_t *src)
{
    size_t n = dns_name_len(src);
    memmove(dst, src, n);
    return n;
}

void dns_name_lower(uint8_t *name)
{
    for (uint8_t *p = name; *p; p += 1u + *p)
        for (unsigned i = 1; i <= *p; i++)
            p[i] = lc(p[i]);
}

int dns_name_concat(const uint8_t *prefix, size_t prefix_len, const uint8_t *suffix, uint8_t *out,
                    size_t *len_out)
{
    size_t sl = dns_name_len(suffix);
    if (prefix_len + sl > DNS_NAME_MAXLEN)
        return ERR_RANGE;
    memmove(out + prefix_len, suffix, sl);
    if (prefix_len)
        memmove(out, prefix, prefix_len);
    *len_out = prefix_len + sl;
    return 0;
}

/* Decodes one escaped byte at text[*i] (just after the backslash). */
static int text_unescape(const char *text, size_t len, size_t *i, uint8_t *byte_out,
                         const char **err_out)
{
    size_t k = *i;
    if (k >= len) {
        *err_out = "backslash at end of name";
        return ERR_PARSE;
    }
    if (text[k] >= '0' && text[k] <= '9') {
        if (k + 3 > len || text[k + 1] < '0' || text[k + 1] > '9' || text[k + 2] < '0' ||
            text[k + 2] > '9') {
            *err_out = "bad \\DDD escape";
            return ERR_PARSE;
        }
        unsigned v = (unsigned)(text[k] - '0') * 100 + (unsigned)(text[k + 1] - '0') * 10 +
                     (unsigned)(text[k + 2] - '0');
        if (v > 255) {
            *err_out = "\\DDD escape above 255";
            return ERR_PARSE;
        }
        *byte_out = (uint8_t)v;
        *i = k + 3;
        return 0;
    }
    *byte_out = (uint8_t)text[k];
    *i = k + 1;
    return 0;
}

int dns_name_from_text(const char *text, size_t len, const uint8_t *origin, uint8_t *out,
                       size_t *len_out, const char **err_out)
{
    const char *dummy;
    if (!err_out)
        err_out = &dummy;
    if (len == 0) {
        *err_out = "empty name";
        return ERR_PARSE;
    }
    if (len == 1 && text[0] == '.') {
        out[0] = 0;
        *len_out = 1;
        return 0;
    }
    size_t pos = 0;    /* write position in out */
    size_t lstart = 0; /* position of the current label's length byte */
    out[0] = 0;
    pos = 1;
    bool absolute = false;
    for (size_t i = 0; i < len;) {
        uint8_t c = (uint8_t)text[i];
        if (c == '.') {
            size_t l = pos - lstart - 1;
            if (l == 0) {
                *err_out = "empty label";
                return ERR_PARSE;
            }
            out[lstart] = (uint8_t)l;
            i++;
            if (i == len) {
                absolute = true;
                break;
            }
            lstart = pos;
            if (pos >= DNS_NAME_MAXLEN) {
                *err_out = "name longer than 255 bytes";
                return ERR_RANGE;
            }
            out[pos++] = 0;
            continue;
        }
        if (c == '\\') {
            i++;
            int rc = text_unescape(text, len, &i, &c, err_out);
            if (rc)
                return rc;
        } else {
            i++;
        }
        if (pos - lstart - 1 >= DNS_LABEL_MAXLEN) {
            *err_out = "label longer than 63 bytes";
            return ERR_RANGE;
        }
        if (pos >= DNS_NAME_MAXLEN - 1) {
            *err_out = "name longer than 255 bytes";
            return ERR_RANGE;
        }
        out[pos++] = c;
    }
    if (!absolute) {
        size_t l = pos - lstart - 1;
        out[lstart] = (uint8_t)l; /* non-empty: a final '.' would have made it absolute */
    }
    if (absolute || !origin) {
        if (pos >= DNS_NAME_MAXLEN) {
            *err_out = "name longer than 255 bytes";
            return ERR_RANGE;
        }
        out[pos++] = 0;
        *len_out = pos;
        return 0;
    }
    if (dns_name_concat(out, pos, origin, out, len_out) != 0) {
        *err_out = "name longer than 255 bytes";
        return ERR_RANGE;
    }
    return 0;
}

static bool text_special(uint8_t c)
{
    return c == '.' || c == '\\' || c == '"' || c == ';' || c == '(' || c == ')' || c == '@' ||
           c == '$';
}

size_t dns_name_to_text(const uint8_t *name, char *out, size_t cap)
{
    size_t n = 0;
#define PUT(ch)                                                                                    \
    do {                                                                                           \
        if (n + 1 < cap)                                                                           \
            out[n] = (char)(ch);                                                                   \
        n++;                                                                                       \
    } while (0)
    if (!*name)
        PUT('.');
    for (const uint8_t *p = name; *p; p += 1u + *p) {
        for (unsigned i = 1; i <= *p; i++) {
            uint8_t c = p[i];
            if (c <= 0x20 || c >= 0x7f) {
                PUT('\\');
                PUT('0' + c / 100);
                PUT('0' + c / 10 % 10);
                PUT('0' + c % 10);
            } else {
                if (text_special(c))
                    PUT('\\');
                PUT(c);
            }
        }
        PUT('.');
    }
#undef PUT
    if (cap)
        out[n < cap ? n : cap - 1] = '\0';
    return n;
}
