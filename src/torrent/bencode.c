/*
 * torrent/bencode — see bencode.h.
 *
 * Hand-written: Debian ships no maintained C library for bencoding (libtorrent-rasterbar is
 * C++ and brings a whole BitTorrent client), and the format is four productions. The parser
 * recurses once per nesting level, bounded by benc_limits.max_depth.
 */
#include "torrent/bencode.h"

#include "core/err.h"
#include "core/xmalloc.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct parser {
    const char *p;
    size_t n, pos;
    const struct benc_limits *lim;
    struct benc_doc *doc;
    const char *why;
};

void benc_limits_default(struct benc_limits *lim)
{
    lim->max_depth = 32;
    lim->max_tokens = 1u << 20;
    lim->max_str = 64u << 20;
}

static int fail(struct parser *ps, int code, const char *why)
{
    if (!ps->why)
        ps->why = why;
    return code;
}

static long push(struct parser *ps, enum benc_type type)
{
    struct benc_doc *d = ps->doc;
    if (d->n >= ps->lim->max_tokens)
        return -1;
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 16;
        d->t = xrealloc(d->t, d->cap * sizeof *d->t);
    }
    struct benc_tok *t = &d->t[d->n];
    memset(t, 0, sizeof *t);
    t->type = type;
    t->start = ps->pos;
    return (long)d->n++;
}

/* Digits up to `stop`, no leading zero unless the number is 0; *out <= max. */
static int read_decimal(struct parser *ps, char stop, uint64_t max, uint64_t *out)
{
    size_t begin = ps->pos;
    uint64_t v = 0;
    while (ps->pos < ps->n && ps->p[ps->pos] >= '0' && ps->p[ps->pos] <= '9') {
        unsigned dg = (unsigned)(ps->p[ps->pos] - '0');
        if (v > (max - dg) / 10)
            return fail(ps, ERR_LIMIT, "number too large");
        v = v * 10 + dg;
        ps->pos++;
    }
    if (ps->pos == begin)
        return fail(ps, ERR_PARSE, "digit expected");
    if (ps->p[begin] == '0' && ps->pos - begin > 1)
        return fail(ps, ERR_PARSE, "leading zero");
    if (ps->pos >= ps->n)
        return fail(ps, ERR_PARSE, "truncated");
    if (ps->p[ps->pos] != stop)
        return fail(ps, ERR_PARSE, stop == ':' ? "':' expected" : "'e' expected");
    ps->pos++;
    *out = v;
    return 0;
}

static int parse_value(struct parser *ps, unsigned depth);

static int parse_int(struct parser *ps, long idx)
{
    ps->pos++; /* 'i' */
    bool neg = ps->pos < ps->n && ps->p[ps->pos] == '-';
    if (neg)
        ps->pos++;
    uint64_t v;
    int rc = read_decimal(ps, 'e', neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, &v);
    if (rc < 0)
        return rc;
    if (neg && v == 0)
        return fail(ps, ERR_PARSE, "negative zero");
    ps->doc->t[idx].i = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

static int parse_str(struct parser *ps, long idx)
{
    uint64_t len;
    int rc = read_decimal(ps, ':', UINT64_MAX, &len);
    if (rc < 0)
        return rc;
    if (len > ps->lim->max_str)
        return fail(ps, ERR_LIMIT, "string too long");
    if (len > ps->n - ps->pos)
        return fail(ps, ERR_PARSE, "truncated string");
    ps->doc->t[idx].s = slice_make(ps->p + ps->pos, (size_t)len);
    ps->pos += (size_t)len;
    return 0;
}

static int parse_container(struct parser *ps, long idx, bool dict, unsigned depth)
{
    if (depth >= ps->lim->max_depth)
        return fail(ps, ERR_LIMIT, "nested too deeply");
    ps->pos++; /* 'l' or 'd' */
    size_t count = 0;
    for (;;) {
        if (ps->pos >= ps->n)
            return fail(ps, ERR_PARSE, "truncated container");
        if (ps->p[ps->pos] == 'e')
            break;
        if (dict && count % 2 == 0 && (ps->p[ps->pos] < '0' || ps->p[ps->pos] > '9'))
            return fail(ps, ERR_PARSE, "dictionary key is not a string");
        int rc = parse_value(ps, depth + 1);
        if (rc < 0)
            return rc;
        count++;
    }
    ps->pos++;
    if (dict && count % 2)
        return fail(ps, ERR_PARSE, "dictionary key without a value");
    ps->doc->t[idx].count = count;
    return 0;
}

static int parse_value(struct parser *ps, unsigned depth)
{
    if (ps->pos >= ps->n)
        return fail(ps, ERR_PARSE, "truncated");
    char c = ps->p[ps->pos];
    enum benc_type type = c == 'i' ? BENC_INT : c == 'l' ? BENC_LIST : c == 'd' ? BENC_DICT
                                                                                 : BENC_STR;
    if (type == BENC_STR && (c < '0' || c > '9'))
        return fail(ps, ERR_PARSE, "not a bencoded value");
    long idx = push(ps, type);
    if (idx < 0)
        return fail(ps, ERR_LIMIT, "too many values");
    int rc = type == BENC_INT   ? parse_int(ps, idx)
             : type == BENC_STR ? parse_str(ps, idx)
                                : parse_container(ps, idx, type == BENC_DICT, depth);
    if (rc < 0)
        return rc;
    ps->doc->t[idx].end = ps->pos;
    ps->doc->t[idx].next = ps->doc->n;
    return 0;
}

int benc_parse(const char *p, size_t n, const struct benc_limits *lim, struct benc_doc *doc,
               size_t *used_out, const char **why_out)
{
    struct parser ps = {.p = p, .n = n, .lim = lim, .doc = doc};
    doc->n = 0;
    int rc = parse_value(&ps, 0);
    if (rc == 0 && !used_out && ps.pos != n)
        rc = fail(&ps, ERR_PARSE, "bytes after the value");
    if (rc < 0) {
        doc->n = 0;
        if (why_out)
            *why_out = ps.why;
        return rc;
    }
    if (used_out)
        *used_out = ps.pos;
    return 0;
}

void benc_doc_clear(struct benc_doc *doc)
{
    free(doc->t);
    memset(doc, 0, sizeof *doc);
}

long benc_first(const struct benc_doc *doc, long parent)
{
    if (parent < 0 || (size_t)parent >= doc->n || doc->t[parent].count == 0)
        return -1;
    return parent + 1;
}

long benc_dict_get(const struct benc_doc *doc, long dict, const char *key)
{
    if (dict < 0 || (size_t)dict >= doc->n || doc->t[dict].type != BENC_DICT)
        return -1;
    size_t klen = strlen(key);
    size_t end = doc->t[dict].next;
    for (size_t k = (size_t)dict + 1; k < end;) {
        size_t v = doc->t[k].next;
        const struct slice *s = &doc->t[k].s;
        if (s->len == klen && memcmp(s->p, key, klen) == 0)
            return (long)v;
        k = doc->t[v].next;
    }
    return -1;
}

bool benc_dict_int(const struct benc_doc *doc, long dict, const char *key, int64_t *out)
{
    long v = benc_dict_get(doc, dict, key);
    if (v < 0 || doc->t[v].type != BENC_INT)
        return false;
    *out = doc->t[v].i;
    return true;
}

bool benc_dict_str(const struct benc_doc *doc, long dict, const char *key, struct slice *out)
{
    long v = benc_dict_get(doc, dict, key);
    if (v < 0 || doc->t[v].type != BENC_STR)
        return false;
    *out = doc->t[v].s;
    return true;
}

void benc_put_int(struct str *out, int64_t v)
{
    str_appendf(out, "i%" PRId64 "e", v);
}

void benc_put_str(struct str *out, const void *p, size_t n)
{
    str_appendf(out, "%zu:", n);
    str_append(out, p, n);
}

void benc_put_cstr(struct str *out, const char *s)
{
    benc_put_str(out, s, strlen(s));
}
