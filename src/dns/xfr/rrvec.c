/* rrvec — editable sorted record vectors and zone differences. See rrvec.h. */
#include "dns/xfr/rrvec.h"

#include "core/err.h"
#include "core/xmalloc.h"
#include "dns/name.h"
#include "dns/rr.h"
#include "dns/zone.h"

#include <stdlib.h>
#include <string.h>

/* ---- records ---- */

int dns_xrr_rdata_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    size_t m = al < bl ? al : bl;
    int c = m ? memcmp(a, b, m) : 0;
    if (c)
        return c;
    return al == bl ? 0 : (al < bl ? -1 : 1);
}

static int key_cmp(const struct dns_xrr *a, const uint8_t *owner, uint16_t type)
{
    int c = a->owner == owner ? 0 : dns_name_cmp(a->owner, owner);
    if (c)
        return c;
    return a->type == type ? 0 : (a->type < type ? -1 : 1);
}

int dns_xrr_cmp(const struct dns_xrr *a, const struct dns_xrr *b)
{
    int c = key_cmp(a, b->owner, b->type);
    return c ? c : dns_xrr_rdata_cmp(a->rdata, a->rdlen, b->rdata, b->rdlen);
}

/* ---- vectors ---- */

void dns_rrvec_init(struct dns_rrvec *v)
{
    memset(v, 0, sizeof *v);
}

void dns_rrvec_clear(struct dns_rrvec *v)
{
    free(v->v);
    memset(v, 0, sizeof *v);
}

static void rrvec_grow(struct dns_rrvec *v, size_t extra)
{
    if (v->n + extra <= v->cap)
        return;
    while (v->n + extra > v->cap)
        v->cap = v->cap ? v->cap * 2 : 64;
    v->v = xrealloc(v->v, v->cap * sizeof *v->v);
}

void dns_rrvec_push(struct dns_rrvec *v, const struct dns_xrr *r)
{
    rrvec_grow(v, 1);
    v->v[v->n++] = *r;
}

static int xrr_qcmp(const void *a, const void *b)
{
    return dns_xrr_cmp(a, b);
}

void dns_rrvec_sort(struct dns_rrvec *v)
{
    /* qsort is not stable: a duplicate keeps one of the TTLs. Callers that care push
     * records whose duplicates share a TTL (zone data) or insert one by one. */
    if (v->n > 1)
        qsort(v->v, v->n, sizeof *v->v, xrr_qcmp);
    size_t k = 0;
    for (size_t i = 0; i < v->n; i++)
        if (k == 0 || dns_xrr_cmp(&v->v[k - 1], &v->v[i]) != 0)
            v->v[k++] = v->v[i];
    v->n = k;
}

void dns_rrvec_from_zone(struct dns_rrvec *v, const struct dns_zone *z)
{
    size_t nn;
    const struct dns_node *nodes = dns_zone_nodes(z, &nn);
    v->n = 0;
    rrvec_grow(v, dns_zone_records(z));
    for (size_t i = 0; i < nn; i++)
        for (unsigned s = 0; s < nodes[i].nrrsets; s++) {
            const struct dns_rrset *rs = &nodes[i].rrsets[s];
            for (unsigned k = 0; k < rs->count; k++) {
                struct dns_xrr r = {nodes[i].name, rs->rdata[k].data, rs->ttl, rs->type,
                                    rs->rdata[k].len};
                dns_rrvec_push(v, &r);
            }
        }
}

size_t dns_rrvec_lower(const struct dns_rrvec *v, const uint8_t *owner, uint16_t type)
{
    size_t lo = 0, hi = v->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (key_cmp(&v->v[mid], owner, type) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

size_t dns_rrvec_run(const struct dns_rrvec *v, size_t i, const uint8_t *owner, uint16_t type)
{
    size_t k = i;
    while (k < v->n && dns_name_eq(v->v[k].owner, owner) && (type == 0 || v->v[k].type == type))
        k++;
    return k - i;
}

/* Position of the record identical to r, or where it would go (*found says which). */
static size_t rrvec_locate(const struct dns_rrvec *v, const struct dns_xrr *r, bool *found)
{
    size_t lo = dns_rrvec_lower(v, r->owner, r->type), hi = v->n;
    /* Binary search inside the (owner, type) run by rdata. */
    size_t end = lo + dns_rrvec_run(v, lo, r->owner, r->type);
    hi = end;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (dns_xrr_rdata_cmp(v->v[mid].rdata, v->v[mid].rdlen, r->rdata, r->rdlen) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < end && dns_xrr_rdata_cmp(v->v[lo].rdata, v->v[lo].rdlen, r->rdata, r->rdlen) == 0;
    return lo;
}

bool dns_rrvec_insert(struct dns_rrvec *v, const struct dns_xrr *r)
{
    bool found;
    size_t i = rrvec_locate(v, r, &found);
    if (found) {
        v->v[i].ttl = r->ttl;
        return false;
    }
    rrvec_grow(v, 1);
    memmove(&v->v[i + 1], &v->v[i], (v->n - i) * sizeof *v->v);
    v->v[i] = *r;
    v->n++;
    return true;
}

void dns_rrvec_remove_at(struct dns_rrvec *v, size_t i, size_t n)
{
    memmove(&v->v[i], &v->v[i + n], (v->n - i - n) * sizeof *v->v);
    v->n -= n;
}

bool dns_rrvec_remove(struct dns_rrvec *v, const struct dns_xrr *r)
{
    bool found;
    size_t i = rrvec_locate(v, r, &found);
    if (found)
        dns_rrvec_remove_at(v, i, 1);
    return found;
}

void dns_rrvec_set_ttl(struct dns_rrvec *v, const uint8_t *owner, uint16_t type, uint32_t ttl)
{
    size_t i = dns_rrvec_lower(v, owner, type);
    size_t n = dns_rrvec_run(v, i, owner, type);
    for (size_t k = i; k < i + n; k++)
        v->v[k].ttl = ttl;
}

const struct dns_xrr *dns_rrvec_soa(const struct dns_rrvec *v, const uint8_t *origin)
{
    size_t i = dns_rrvec_lower(v, origin, DNS_TYPE_SOA);
    return dns_rrvec_run(v, i, origin, DNS_TYPE_SOA) ? &v->v[i] : NULL;
}

int dns_rrvec_to_zone(const struct dns_rrvec *v, const uint8_t *origin, struct dns_zone **zone_out,
                      struct str *err)
{
    struct dns_zone_builder *zb = dns_zone_builder_new(origin);
    for (size_t i = 0; i < v->n; i++) {
        const struct dns_xrr *r = &v->v[i];
        const char *why = NULL;
        if (dns_zone_builder_add(zb, r->owner, r->type, r->ttl, r->rdata, r->rdlen, NULL, 0,
                                 &why) != 0) {
            char text[DNS_NAME_TEXT_MAX];
            dns_name_to_text(r->owner, text, sizeof text);
            str_appendf(err, "%s: %s", text, why ? why : "bad record");
            dns_zone_builder_free(zb);
            return ERR_PARSE;
        }
    }
    return dns_zone_builder_finish(zb, zone_out, err);
}

/* ---- differences ---- */

struct dns_zdiff *dns_zdiff_new(void)
{
    struct dns_zdiff *d = xcalloc(1, sizeof *d);
    atomic_init(&d->refs, 1);
    dns_arena_init(&d->arena, NULL, 0);
    return d;
}

/* Growable arrays inside a zdiff under construction: capacity is the next power of two. */
static void zdiff_push(struct dns_zdiff *d, struct dns_xrr **arr, size_t *n,
                       const struct dns_xrr *r)
{
    if (*n == 0)
        *arr = xmalloc(16 * sizeof **arr);
    else if (*n >= 16 && (*n & (*n - 1)) == 0)
        *arr = xrealloc(*arr, *n * 2 * sizeof **arr);
    struct dns_xrr c = *r;
    c.owner = dns_arena_dup(&d->arena, r->owner, dns_name_len(r->owner));
    c.rdata = dns_arena_dup(&d->arena, r->rdata, r->rdlen);
    (*arr)[(*n)++] = c;
}

void dns_zdiff_put(struct dns_zdiff *d, int which, const struct dns_xrr *r)
{
    switch (which) {
    case 0:
    case 2: {
        struct dns_xrr *soa = which == 0 ? &d->old_soa : &d->new_soa;
        *soa = *r;
        soa->owner = dns_arena_dup(&d->arena, r->owner, dns_name_len(r->owner));
        soa->rdata = dns_arena_dup(&d->arena, r->rdata, r->rdlen);
        uint32_t serial = dns_soa_serial(r->rdata, r->rdlen);
        if (which == 0)
            d->from = serial;
        else
            d->to = serial;
        break;
    }
    case 1:
        zdiff_push(d, &d->del, &d->ndel, r);
        break;
    default:
        zdiff_push(d, &d->add, &d->nadd, r);
        break;
    }
}

struct dns_zdiff *dns_zdiff_make(const struct dns_rrvec *old, const struct dns_rrvec *new_,
                                 const uint8_t *origin)
{
    const struct dns_xrr *os = dns_rrvec_soa(old, origin), *ns = dns_rrvec_soa(new_, origin);
    if (!os || !ns)
        return NULL;
    struct dns_zdiff *d = dns_zdiff_new();
    dns_zdiff_put(d, 0, os);
    dns_zdiff_put(d, 2, ns);
    size_t i = 0, j = 0;
    while (i < old->n || j < new_->n) {
        int c = i == old->n ? 1 : j == new_->n ? -1 : dns_xrr_cmp(&old->v[i], &new_->v[j]);
        if (c == 0 && old->v[i].ttl == new_->v[j].ttl) {
            i++, j++;
            continue;
        }
        if (c <= 0) {
            if (old->v[i].type != DNS_TYPE_SOA || !dns_name_eq(old->v[i].owner, origin))
                dns_zdiff_put(d, 1, &old->v[i]);
            i++;
        }
        if (c >= 0) {
            if (new_->v[j].type != DNS_TYPE_SOA || !dns_name_eq(new_->v[j].owner, origin))
                dns_zdiff_put(d, 3, &new_->v[j]);
            j++;
        }
    }
    return d;
}

struct dns_zdiff *dns_zdiff_ref(struct dns_zdiff *d)
{
    atomic_fetch_add(&d->refs, 1);
    return d;
}

void dns_zdiff_unref(struct dns_zdiff *d)
{
    if (!d || atomic_fetch_sub(&d->refs, 1) != 1)
        return;
    free(d->del);
    free(d->add);
    dns_arena_clear(&d->arena);
    free(d);
}

int dns_zdiff_apply(const struct dns_zdiff *d, struct dns_rrvec *v, const uint8_t *origin)
{
    const struct dns_xrr *soa = dns_rrvec_soa(v, origin);
    if (!soa || dns_soa_serial(soa->rdata, soa->rdlen) != d->from)
        return ERR_PARSE;
    dns_rrvec_remove_at(v, (size_t)(soa - v->v), 1);
    for (size_t i = 0; i < d->ndel; i++)
        if (!dns_rrvec_remove(v, &d->del[i]))
            return ERR_PARSE;
    for (size_t i = 0; i < d->nadd; i++)
        dns_rrvec_insert(v, &d->add[i]);
    dns_rrvec_insert(v, &d->new_soa);
    return 0;
}

/* ---- history ---- */

struct dns_xfr_hist *dns_xfr_hist_append(const struct dns_xfr_hist *old, struct dns_zdiff *d,
                                         size_t max_diffs)
{
    struct dns_xfr_hist *h = xcalloc(1, sizeof *h);
    atomic_init(&h->refs, 1);
    size_t nold = old ? old->n : 0;
    if (d && nold && old->d[nold - 1]->to != d->from)
        nold = 0; /* the chain is broken: older differences cannot be served any more */
    size_t total = nold + (d ? 1 : 0);
    size_t skip = total > max_diffs ? total - max_diffs : 0;
    h->d = xcalloc(total ? total : 1, sizeof *h->d);
    for (size_t i = skip; i < nold; i++)
        h->d[h->n++] = dns_zdiff_ref(old->d[i]);
    if (d && skip <= nold)
        h->d[h->n++] = dns_zdiff_ref(d);
    return h;
}

struct dns_xfr_hist *dns_xfr_hist_ref(struct dns_xfr_hist *h)
{
    atomic_fetch_add(&h->refs, 1);
    return h;
}

void dns_xfr_hist_unref(struct dns_xfr_hist *h)
{
    if (!h || atomic_fetch_sub(&h->refs, 1) != 1)
        return;
    for (size_t i = 0; i < h->n; i++)
        dns_zdiff_unref(h->d[i]);
    free(h->d);
    free(h);
}

long dns_xfr_hist_find(const struct dns_xfr_hist *h, uint32_t serial)
{
    if (!h)
        return -1;
    for (size_t i = 0; i < h->n; i++)
        if (h->d[i]->from == serial)
            return (long)i;
    return -1;
}

struct dns_zdiff *dns_zdiff_of_zones(const struct dns_zone *old, const struct dns_zone *new_)
{
    struct dns_rrvec a, b;
    dns_rrvec_init(&a);
    dns_rrvec_init(&b);
    dns_rrvec_from_zone(&a, old);
    dns_rrvec_from_zone(&b, new_);
    struct dns_zdiff *d = dns_zdiff_make(&a, &b, dns_zone_origin(old));
    dns_rrvec_clear(&a);
    dns_rrvec_clear(&b);
    return d;
}
