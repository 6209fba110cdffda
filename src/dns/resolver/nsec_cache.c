/* nsec_cache — see nsec_cache.h. Per zone a sorted array of records; zones in a small table. */
#include "dns/resolver/nsec_cache.h"

#include "core/xmalloc.h"
#include "dns/dnssec/denial.h"
#include "dns/name.h"
#include "dns/rr.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct nrec {
    uint64_t expire_ms;
    uint8_t *owner;
    uint16_t type, count, nsig;
    struct dns_rdata *rd; /* count rdatas then nsig signatures; bytes follow */
};

/* Records sorted by owner in canonical order: NSEC by name, NSEC3 by hash (their owners are
 * "<base32hex hash>.<zone>", and base32hex keeps the hashes' order). */
struct nlist {
    struct nrec **v; /* NSEC_CACHE_PER_ZONE slots */
    unsigned n;
};

struct nzone {
    uint8_t name[DNS_NAME_MAXLEN];
    uint64_t used; /* when last stored into (eviction order) */
    struct nrec *soa;
    struct nlist nsec, nsec3;
};

struct dns_nsec_cache {
    pthread_mutex_t lock;
    struct nzone zones[NSEC_CACHE_ZONES];
    unsigned nzones;
    uint64_t tick;
};

struct dns_nsec_cache *dns_nsec_cache_new(void)
{
    struct dns_nsec_cache *nc = xcalloc(1, sizeof *nc);
    pthread_mutex_init(&nc->lock, NULL);
    return nc;
}

static void list_clear(struct nlist *l)
{
    for (unsigned i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static void zone_clear(struct nzone *z)
{
    list_clear(&z->nsec);
    list_clear(&z->nsec3);
    free(z->soa);
    memset(z, 0, sizeof *z);
}

void dns_nsec_cache_free(struct dns_nsec_cache *nc)
{
    if (!nc)
        return;
    for (unsigned i = 0; i < nc->nzones; i++)
        zone_clear(&nc->zones[i]);
    pthread_mutex_destroy(&nc->lock);
    free(nc);
}

static struct nrec *rec_make(const struct dns_cache_rrset *s, uint64_t expire_ms)
{
    size_t ol = dns_name_len(s->owner), bytes = 0;
    for (uint16_t i = 0; i < s->count; i++)
        bytes += s->rdata[i].len;
    for (uint16_t i = 0; i < s->nsig; i++)
        bytes += s->sigs[i].len;
    size_t slots = (size_t)s->count + s->nsig;
    struct nrec *r = xcalloc(1, sizeof *r + slots * sizeof(struct dns_rdata) + ol + bytes);
    r->rd = (struct dns_rdata *)(r + 1);
    uint8_t *p = (uint8_t *)(r->rd + slots);
    r->owner = p;
    memcpy(p, s->owner, ol);
    dns_name_lower(p);
    p += ol;
    for (size_t i = 0; i < slots; i++) {
        const struct dns_rdata *from = i < s->count ? &s->rdata[i] : &s->sigs[i - s->count];
        memcpy(p, from->data, from->len);
        r->rd[i] = (struct dns_rdata){from->len, p};
        p += from->len;
    }
    r->type = s->type;
    r->count = s->count;
    r->nsig = s->nsig;
    r->expire_ms = expire_ms;
    return r;
}

/* The zone's slot, made (evicting the least recently stored zone) when make is set. */
static struct nzone *zone_get(struct dns_nsec_cache *nc, const uint8_t *zone, bool make)
{
    for (unsigned i = 0; i < nc->nzones; i++)
        if (dns_name_eq(nc->zones[i].name, zone))
            return &nc->zones[i];
    if (!make)
        return NULL;
    struct nzone *z = &nc->zones[nc->nzones];
    if (nc->nzones < NSEC_CACHE_ZONES) {
        nc->nzones++;
    } else {
        z = &nc->zones[0];
        for (unsigned i = 1; i < nc->nzones; i++)
            if (nc->zones[i].used < z->used)
                z = &nc->zones[i];
        zone_clear(z);
    }
    dns_name_copy(z->name, zone);
    dns_name_lower(z->name);
    return z;
}

/* The index of the last record whose owner is <= name, or -1. */
static int pred(const struct nlist *z, const uint8_t *name)
{
    int lo = 0, hi = (int)z->n - 1, best = -1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (dns_name_cmp(z->v[mid]->owner, name) <= 0) {
            best = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return best;
}

static void list_insert(struct nlist *z, struct nrec *r)
{
    if (!z->v)
        z->v = xcalloc(NSEC_CACHE_PER_ZONE, sizeof *z->v);
    int i = pred(z, r->owner);
    if (i >= 0 && dns_name_eq(z->v[i]->owner, r->owner)) {
        free(z->v[i]);
        z->v[i] = r;
        return;
    }
    if (z->n == NSEC_CACHE_PER_ZONE) { /* full: the record nearest to expiry goes */
        unsigned old = 0;
        for (unsigned k = 1; k < z->n; k++)
            if (z->v[k]->expire_ms < z->v[old]->expire_ms)
                old = k;
        free(z->v[old]);
        memmove(&z->v[old], &z->v[old + 1], (z->n - old - 1) * sizeof *z->v);
        z->n--;
        i = pred(z, r->owner);
    }
    unsigned at = (unsigned)(i + 1);
    memmove(&z->v[at + 1], &z->v[at], (z->n - at) * sizeof *z->v);
    z->v[at] = r;
    z->n++;
}

/* RFC 8198 §5.5 (and §4.1 of RFC 5155): an opt-out span says nothing about the insecure
 * delegations it covers, so only NSEC3 records without opt-out are kept; chains that a
 * validator treats as insecure (too many iterations) neither. */
static bool nsec3_usable(const struct dns_cache_rrset *set, const uint8_t *zone,
                         struct dnssec_nsec3_view *o)
{
    struct dnssec_nsec_rr rr = {set->owner, DNS_TYPE_NSEC3, set->rdata[0].data,
                                set->rdata[0].len};
    return set->count == 1 && dnssec_nsec3_view(&rr, zone, o) && !(o->flags & 1) &&
           o->iterations <= DNSSEC_MAX_NSEC3_ITER;
}

static bool same_params(const struct nrec *r, const struct dnssec_nsec3_view *o)
{
    const uint8_t *p = r->rd[0].data;
    return r->rd[0].len >= 5 && p[0] == o->alg && (p[2] << 8 | p[3]) == o->iterations &&
           p[4] == o->saltlen && r->rd[0].len >= 5 + o->saltlen &&
           memcmp(p + 5, o->salt, o->saltlen) == 0;
}

void dns_nsec_cache_put(struct dns_nsec_cache *nc, const uint8_t *zone,
                        const struct dns_cache_rrset *set, uint64_t now_ms)
{
    struct dnssec_nsec3_view v3;
    if (set->type != DNS_TYPE_NSEC && set->type != DNS_TYPE_SOA &&
        (set->type != DNS_TYPE_NSEC3 || !nsec3_usable(set, zone, &v3)))
        return;
    struct nrec *r = rec_make(set, now_ms + (uint64_t)set->ttl * 1000);
    pthread_mutex_lock(&nc->lock);
    struct nzone *z = zone_get(nc, zone, true);
    z->used = ++nc->tick;
    if (set->type == DNS_TYPE_SOA) {
        free(z->soa);
        z->soa = r;
    } else if (set->type == DNS_TYPE_NSEC) {
        list_insert(&z->nsec, r);
    } else {
        if (z->nsec3.n && !same_params(z->nsec3.v[0], &v3))
            list_clear(&z->nsec3); /* a new salt or iteration count: the old chain is gone */
        list_insert(&z->nsec3, r);
    }
    pthread_mutex_unlock(&nc->lock);
}

static struct dns_cache_rrset rec_out(const struct nrec *r, uint64_t now_ms, struct dns_arena *a)
{
    struct dns_cache_rrset s = {0};
    s.owner = dns_arena_dup(a, r->owner, dns_name_len(r->owner));
    s.type = r->type;
    s.count = r->count;
    s.nsig = r->nsig;
    s.ttl = (uint32_t)((r->expire_ms - now_ms) / 1000);
    s.rank = DNS_RANK_AUTH_AUTHORITY;
    s.sec = 1; /* DNSSEC_SECURE: only validated records are kept */
    struct dns_rdata *rd = dns_arena_alloc(a, ((size_t)r->count + r->nsig + 1) * sizeof *rd);
    for (unsigned i = 0; i < (unsigned)r->count + r->nsig; i++)
        rd[i] = (struct dns_rdata){r->rd[i].len, dns_arena_dup(a, r->rd[i].data, r->rd[i].len)};
    s.rdata = rd;
    s.sigs = rd + r->count;
    return s;
}

/* "*.<closest encloser of name>" as the record r suggests, into out. false when too long. */
static bool wildcard_of(const uint8_t *name, const struct nrec *r, const uint8_t *zone,
                        uint8_t *out)
{
    size_t nl;
    unsigned ce = dnssec_common_labels(name, r->owner);
    if (r->count && dns_name_check(r->rd[0].data, r->rd[0].len, &nl) == 0 &&
        dnssec_common_labels(name, r->rd[0].data) > ce)
        ce = dnssec_common_labels(name, r->rd[0].data);
    if (ce < dns_name_labels(zone))
        ce = dns_name_labels(zone);
    return ce < dns_name_labels(name) && dnssec_wildcard_at(name, ce, out);
}

unsigned dns_nsec_cache_find(struct dns_nsec_cache *nc, const uint8_t *zone, const uint8_t *name,
                             uint64_t now_ms, struct dns_arena *a, struct dns_cache_rrset *out,
                             struct dns_cache_rrset *soa, uint8_t *wild)
{
    unsigned n = 0;
    memset(soa, 0, sizeof *soa);
    wild[0] = 0;
    pthread_mutex_lock(&nc->lock);
    struct nzone *zn = zone_get(nc, zone, false);
    struct nlist *z = zn ? &zn->nsec : NULL;
    if (z && z->n) {
        int i = pred(z, name);
        const struct nrec *r = z->v[i >= 0 ? i : (int)z->n - 1]; /* before the apex: the last */
        if (now_ms < r->expire_ms)
            out[n++] = rec_out(r, now_ms, a);
        if (n && !dns_name_eq(r->owner, name) && wildcard_of(name, r, zone, wild)) {
            int w = pred(z, wild);
            const struct nrec *wr = z->v[w >= 0 ? w : (int)z->n - 1];
            if (wr != r && now_ms < wr->expire_ms)
                out[n++] = rec_out(wr, now_ms, a);
        } else {
            wild[0] = 0;
        }
        if (n && zn->soa && now_ms < zn->soa->expire_ms)
            *soa = rec_out(zn->soa, now_ms, a);
    }
    pthread_mutex_unlock(&nc->lock);
    return n;
}

/* ---- NSEC3 ---- */

struct find3 {
    const struct nzone *z;
    struct dnssec_nsec3_view params;
    uint64_t now_ms;
    const struct nrec *got[NSEC_CACHE_FOUND3_MAX];
    unsigned n;
};

/* The cached NSEC3 record at or before name's hash (the last one before the first: it wraps
 * round); *match when its owner is that hash. NULL when expired or not computable. */
static const struct nrec *lookup3(const struct find3 *f, const uint8_t *name, bool *match)
{
    uint8_t h[DNSSEC_NSEC3_HASH_MAX], owner[DNS_NAME_MAXLEN];
    const struct dnssec_nsec3_view *p = &f->params;
    if (dnssec_nsec3_hash(name, p->alg, p->iterations, p->salt, p->saltlen, h) != 0 ||
        dnssec_nsec3_owner(h, f->z->name, owner) != 0)
        return NULL;
    const struct nlist *l = &f->z->nsec3;
    int i = pred(l, owner);
    const struct nrec *r = l->v[i >= 0 ? i : (int)l->n - 1];
    *match = dns_name_eq(r->owner, owner);
    return f->now_ms < r->expire_ms ? r : NULL;
}

static bool take3(struct find3 *f, const struct nrec *r)
{
    if (!r)
        return false;
    for (unsigned i = 0; i < f->n; i++)
        if (f->got[i] == r)
            return true;
    f->got[f->n++] = r;
    return true;
}

/* RFC 5155 §8.3: the closest encloser's record, the one covering the next closer name, and
 * the wildcard's: covering it (NXDOMAIN, §8.4) or its own (wildcard NODATA when its bitmap
 * lacks the type, §8.7). false when the cache lacks one of them; denial.c then judges. */
static bool closest_encloser3(struct find3 *f, const uint8_t *name)
{
    unsigned nl = dns_name_labels(name), zl = dns_name_labels(f->z->name);
    for (const uint8_t *ce = dns_name_parent(name); ce && dns_name_labels(ce) >= zl;
         ce = dns_name_parent(ce)) {
        bool match = false, m2 = false;
        const struct nrec *r = lookup3(f, ce, &match);
        if (!r || !match)
            continue;
        uint8_t wild[DNS_NAME_MAXLEN];
        const uint8_t *next_closer = dns_name_skip(name, nl - dns_name_labels(ce) - 1);
        return dnssec_wildcard_at(name, dns_name_labels(ce), wild) && take3(f, r) &&
               take3(f, lookup3(f, next_closer, &m2)) && !m2 && take3(f, lookup3(f, wild, &m2));
    }
    return false;
}

/* The chain's parameters, from its first record. false when the zone has no NSEC3 chain. */
static bool chain3_params(const struct nzone *z, struct dnssec_nsec3_view *params)
{
    if (!z || !z->nsec3.n)
        return false;
    const struct nrec *r0 = z->nsec3.v[0];
    struct dnssec_nsec_rr rr = {r0->owner, DNS_TYPE_NSEC3, r0->rd[0].data, r0->rd[0].len};
    return dnssec_nsec3_view(&rr, z->name, params);
}

bool dns_nsec_cache_span3(struct dns_nsec_cache *nc, const uint8_t *zone, const uint8_t *name,
                          uint64_t now_ms, struct dns_arena *a, struct dns_cache_rrset *out)
{
    bool found = false;
    pthread_mutex_lock(&nc->lock);
    struct find3 f = {zone_get(nc, zone, false), {0}, now_ms, {0}, 0};
    if (chain3_params(f.z, &f.params)) {
        bool match = true;
        const struct nrec *r = lookup3(&f, name, &match);
        if (r && !match) {
            *out = rec_out(r, now_ms, a);
            found = true;
        }
    }
    pthread_mutex_unlock(&nc->lock);
    return found;
}

unsigned dns_nsec_cache_find3(struct dns_nsec_cache *nc, const uint8_t *zone, const uint8_t *name,
                              uint64_t now_ms, struct dns_arena *a, struct dns_cache_rrset *out,
                              struct dns_cache_rrset *soa)
{
    unsigned n = 0;
    memset(soa, 0, sizeof *soa);
    pthread_mutex_lock(&nc->lock);
    struct find3 f = {zone_get(nc, zone, false), {0}, now_ms, {0}, 0};
    if (f.z && f.z->nsec3.n && f.z->soa && now_ms < f.z->soa->expire_ms &&
        dns_name_labels(name) - dns_name_labels(zone) <= NSEC_CACHE_MAX_DEPTH3) {
        bool match = false;
        const struct nrec *r = chain3_params(f.z, &f.params) ? lookup3(&f, name, &match) : NULL;
        if (r && match ? take3(&f, r) : closest_encloser3(&f, name)) {
            for (; n < f.n; n++)
                out[n] = rec_out(f.got[n], now_ms, a);
            *soa = rec_out(f.z->soa, now_ms, a);
        }
    }
    pthread_mutex_unlock(&nc->lock);
    return n;
}
