/* seqset — see seqset.h. */
#include "imap/seqset.h"

#include "core/err.h"
#include "core/xmalloc.h"

#include <stdlib.h>
#include <string.h>

void imap_seqset_init(struct imap_seqset *s)
{
    memset(s, 0, sizeof *s);
}

void imap_seqset_clear(struct imap_seqset *s)
{
    free(s->r);
    imap_seqset_init(s);
}

void imap_seqset_add(struct imap_seqset *s, uint32_t lo, uint32_t hi)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 8;
        s->r = xrealloc(s->r, s->cap * sizeof *s->r);
    }
    s->r[s->n].lo = lo;
    s->r[s->n].hi = hi;
    s->n++;
    s->resolved = false;
}

/* seq-number: nz-number or "*"; advances *i. */
static int seq_number(const char *t, size_t len, size_t *i, uint32_t *out)
{
    if (*i < len && t[*i] == '*') {
        (*i)++;
        *out = IMAP_SEQ_STAR;
        return 0;
    }
    if (*i >= len || t[*i] < '1' || t[*i] > '9')
        return ERR_PARSE;
    uint64_t v = 0;
    while (*i < len && t[*i] >= '0' && t[*i] <= '9') {
        v = v * 10 + (uint64_t)(t[*i] - '0');
        if (v > UINT32_MAX)
            return ERR_PARSE;
        (*i)++;
    }
    *out = (uint32_t)v;
    return 0;
}

int imap_seqset_parse(const char *text, size_t len, unsigned flags, struct imap_seqset *s,
                      const char **err_out)
{
    s->n = 0;
    s->saved = false;
    s->resolved = false;
    if (len == 1 && text[0] == '$' && (flags & IMAP_SEQSET_ALLOW_SAVED)) {
        s->saved = true;
        return 0;
    }
    size_t i = 0;
    for (;;) {
        uint32_t lo, hi;
        if (seq_number(text, len, &i, &lo) < 0) {
            *err_out = "Invalid sequence set";
            return ERR_PARSE;
        }
        hi = lo;
        if (i < len && text[i] == ':') {
            i++;
            if (seq_number(text, len, &i, &hi) < 0) {
                *err_out = "Invalid sequence range";
                return ERR_PARSE;
            }
        }
        imap_seqset_add(s, lo, hi);
        if (i == len)
            return 0;
        if (text[i] != ',') {
            *err_out = "Invalid character in sequence set";
            return ERR_PARSE;
        }
        i++;
    }
}

static int range_cmp(const void *a, const void *b)
{
    const struct imap_seqrange *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

void imap_seqset_resolve(struct imap_seqset *s, uint32_t max)
{
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++) {
        uint32_t lo = s->r[i].lo == IMAP_SEQ_STAR ? max : s->r[i].lo;
        uint32_t hi = s->r[i].hi == IMAP_SEQ_STAR ? max : s->r[i].hi;
        if (lo > hi) {
            uint32_t t = lo;
            lo = hi;
            hi = t;
        }
        if (hi == 0)
            continue; /* "*" of an empty mailbox */
        if (lo == 0)
            lo = 1;
        s->r[k].lo = lo;
        s->r[k].hi = hi;
        k++;
    }
    s->n = k;
    if (k > 1)
        qsort(s->r, k, sizeof *s->r, range_cmp);
    size_t m = 0;
    for (size_t i = 0; i < k; i++) {
        if (m > 0 && (uint64_t)s->r[i].lo <= (uint64_t)s->r[m - 1].hi + 1) {
            if (s->r[i].hi > s->r[m - 1].hi)
                s->r[m - 1].hi = s->r[i].hi;
            continue;
        }
        s->r[m++] = s->r[i];
    }
    s->n = m;
    s->resolved = true;
}

bool imap_seqset_contains(const struct imap_seqset *s, uint32_t n)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (n < s->r[mid].lo)
            hi = mid;
        else if (n > s->r[mid].hi)
            lo = mid + 1;
        else
            return true;
    }
    return false;
}

uint64_t imap_seqset_count(const struct imap_seqset *s)
{
    uint64_t c = 0;
    for (size_t i = 0; i < s->n; i++)
        c += (uint64_t)s->r[i].hi - s->r[i].lo + 1;
    return c;
}

uint32_t imap_seqset_max(const struct imap_seqset *s)
{
    return s->n ? s->r[s->n - 1].hi : 0;
}

void imap_seqset_iter_init(struct imap_seqset_iter *it, const struct imap_seqset *s)
{
    it->s = s;
    it->i = 0;
    it->next = s->n ? s->r[0].lo : 0;
}

bool imap_seqset_iter_next(struct imap_seqset_iter *it, uint32_t *n_out)
{
    while (it->i < it->s->n) {
        const struct imap_seqrange *r = &it->s->r[it->i];
        if (it->next <= r->hi) {
            *n_out = (uint32_t)it->next++;
            return true;
        }
        if (++it->i < it->s->n)
            it->next = it->s->r[it->i].lo;
    }
    return false;
}

void imap_seqset_format(const struct imap_seqset *s, struct str *out)
{
    for (size_t i = 0; i < s->n; i++) {
        if (i)
            str_appendc(out, ',');
        if (s->r[i].lo == s->r[i].hi)
            str_appendf(out, "%u", (unsigned)s->r[i].lo);
        else
            str_appendf(out, "%u:%u", (unsigned)s->r[i].lo, (unsigned)s->r[i].hi);
    }
}
