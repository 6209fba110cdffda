/*
 * cache — see cache.h. One hash table (chained, doubling) and one LRU list; every entry is a
 * single allocation holding its owner name and rdata. Expired entries stay while they may
 * still serve stale, and are dropped when found beyond that or evicted by the LRU.
 */
#include "dns/resolver/cache.h"

#include "core/metrics.h"
#include "core/xmalloc.h"
#include "dns/name.h"
#include "dns/rr.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    struct entry *hnext;
    struct entry *lprev, *lnext; /* LRU: head is the most recently used */
    uint32_t hash;
    uint16_t type;
    uint8_t kind; /* enum dns_cache_kind */
    uint8_t rank;
    uint64_t expire_ms;
    size_t size;
    uint8_t *owner;
    uint16_t count;
    struct dns_rdata *rd;
    uint8_t sec; /* DNSSEC status, 0 until validated */
    uint16_t nsig;
    struct dns_rdata *sigs; /* after rd in the same allocation */
    uint8_t *soa_owner; /* negative entries: the SOA, or NULL */
    uint16_t soa_len;
    uint8_t *soa_rdata;
    uint32_t soa_ttl;
};

struct dns_cache {
    pthread_mutex_t lock;
    struct dns_cache_config cfg;
    struct entry **buckets;
    size_t nbuckets; /* power of two */
    struct entry *lru_head, *lru_tail;
    struct dns_cache_stats st;
};

#define ENTRY_OVERHEAD 64 /* allocator bookkeeping, counted against the budget */

struct dns_cache *dns_cache_new(const struct dns_cache_config *cfg)
{
    struct dns_cache *c = xcalloc(1, sizeof *c);
    pthread_mutex_init(&c->lock, NULL);
    c->cfg = *cfg;
    if (c->cfg.max_ttl == 0)
        c->cfg.max_ttl = 86400;
    if (c->cfg.max_neg_ttl == 0)
        c->cfg.max_neg_ttl = 3600;
    c->nbuckets = 1024;
    c->buckets = xcalloc(c->nbuckets, sizeof *c->buckets);
    return c;
}

void dns_cache_free(struct dns_cache *c)
{
    if (!c)
        return;
    for (struct entry *e = c->lru_head, *n; e; e = n) {
        n = e->lnext;
        free(e);
    }
    free(c->buckets);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static uint32_t key_hash(const uint8_t *name, uint16_t type)
{
    return dns_name_hash(name) ^ ((uint32_t)type * 2654435761u);
}

static struct entry **find_slot(struct dns_cache *c, const uint8_t *name, uint16_t type, uint32_t h)
{
    struct entry **pp = &c->buckets[h & (c->nbuckets - 1)];
    for (; *pp; pp = &(*pp)->hnext)
        if ((*pp)->hash == h && (*pp)->type == type && dns_name_eq((*pp)->owner, name))
            return pp;
    return pp;
}

static void lru_unlink(struct dns_cache *c, struct entry *e)
{
    if (e->lprev)
        e->lprev->lnext = e->lnext;
    else
        c->lru_head = e->lnext;
    if (e->lnext)
        e->lnext->lprev = e->lprev;
    else
        c->lru_tail = e->lprev;
    e->lprev = e->lnext = NULL;
}

static void lru_push(struct dns_cache *c, struct entry *e)
{
    e->lprev = NULL;
    e->lnext = c->lru_head;
    if (c->lru_head)
        c->lru_head->lprev = e;
    c->lru_head = e;
    if (!c->lru_tail)
        c->lru_tail = e;
}

/* Unlinks e (found at *pp in its bucket) and frees it. */
static void entry_drop(struct dns_cache *c, struct entry **pp, struct entry *e)
{
    *pp = e->hnext;
    lru_unlink(c, e);
    c->st.entries--;
    c->st.bytes -= e->size;
    free(e);
}

static void drop_entry(struct dns_cache *c, struct entry *e)
{
    struct entry **pp = &c->buckets[e->hash & (c->nbuckets - 1)];
    while (*pp != e)
        pp = &(*pp)->hnext;
    entry_drop(c, pp, e);
}

static void grow(struct dns_cache *c)
{
    size_t n = c->nbuckets * 2;
    struct entry **b = xcalloc(n, sizeof *b);
    for (size_t i = 0; i < c->nbuckets; i++) {
        for (struct entry *e = c->buckets[i], *next; e; e = next) {
            next = e->hnext;
            e->hnext = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
        }
    }
    free(c->buckets);
    c->buckets = b;
    c->nbuckets = n;
}

static void evict(struct dns_cache *c)
{
    while (c->st.bytes > c->cfg.max_bytes && c->lru_tail) {
        drop_entry(c, c->lru_tail);
        c->st.evictions++;
    }
}

static uint32_t clamp_ttl(const struct dns_cache *c, uint32_t ttl, uint32_t max)
{
    if (ttl > max)
        ttl = max;
    if (ttl < c->cfg.min_ttl)
        ttl = c->cfg.min_ttl;
    return ttl;
}

static bool expired(const struct entry *e, uint64_t now_ms)
{
    return now_ms >= e->expire_ms;
}

/* Whether an existing entry blocks a new one of rank `rank`. */
static bool keeps_existing(const struct entry *old, uint8_t rank, uint64_t now_ms)
{
    return old && !expired(old, now_ms) && old->rank > rank;
}

/* Replaces or inserts e; takes ownership. */
static void insert(struct dns_cache *c, struct entry *e)
{
    struct entry **pp = find_slot(c, e->owner, e->type, e->hash);
    if (*pp)
        entry_drop(c, pp, *pp);
    e->hnext = c->buckets[e->hash & (c->nbuckets - 1)];
    c->buckets[e->hash & (c->nbuckets - 1)] = e;
    lru_push(c, e);
    c->st.entries++;
    c->st.bytes += e->size;
    c->st.inserts++;
    if (c->st.entries > c->nbuckets)
        grow(c);
    evict(c);
}

static struct entry *entry_alloc(const uint8_t *owner, uint16_t type, size_t extra, uint16_t count,
                                 unsigned char **tail_out)
{
    size_t olen = dns_name_len(owner);
    size_t size = sizeof(struct entry) + count * sizeof(struct dns_rdata) + olen + extra;
    struct entry *e = xcalloc(1, size);
    e->size = size + ENTRY_OVERHEAD;
    e->type = type;
    e->count = count;
    e->rd = (struct dns_rdata *)(e + 1);
    e->owner = (uint8_t *)(e->rd + count);
    memcpy(e->owner, owner, olen);
    dns_name_lower(e->owner);
    e->hash = key_hash(e->owner, type);
    *tail_out = e->owner + olen;
    return e;
}

int dns_cache_put(struct dns_cache *c, const uint8_t *owner, uint16_t type, uint32_t ttl,
                  uint8_t rank, const struct dns_rdata *rd, uint16_t n, uint64_t now_ms)
{
    return dns_cache_put_sigs(c, owner, type, ttl, rank, rd, n, NULL, 0, now_ms);
}

/* Copies rd[0..n) into to[] with the bytes at *p; advances *p. */
static void copy_rdatas(struct dns_rdata *to, const struct dns_rdata *rd, uint16_t n,
                        unsigned char **p)
{
    for (uint16_t i = 0; i < n; i++) {
        memcpy(*p, rd[i].data, rd[i].len);
        to[i] = (struct dns_rdata){rd[i].len, *p};
        *p += rd[i].len;
    }
}

int dns_cache_put_sigs(struct dns_cache *c, const uint8_t *owner, uint16_t type, uint32_t ttl,
                       uint8_t rank, const struct dns_rdata *rd, uint16_t n,
                       const struct dns_rdata *sigs, uint16_t nsig, uint64_t now_ms)
{
    size_t extra = 0;
    for (uint16_t i = 0; i < n; i++)
        extra += rd[i].len;
    for (uint16_t i = 0; i < nsig; i++)
        extra += sigs[i].len;
    unsigned char *p; /* the rdata slots: the set's, then its signatures' */
    struct entry *e = entry_alloc(owner, type, extra, (uint16_t)(n + nsig), &p);
    e->count = n;
    e->sigs = e->rd + n;
    e->nsig = nsig;
    copy_rdatas(e->rd, rd, n, &p);
    copy_rdatas(e->sigs, sigs, nsig, &p);
    e->kind = DNS_CACHE_POSITIVE;
    e->rank = rank;
    pthread_mutex_lock(&c->lock);
    e->expire_ms = now_ms + (uint64_t)clamp_ttl(c, ttl, c->cfg.max_ttl) * 1000;
    struct entry **pp = find_slot(c, e->owner, type, e->hash);
    int stored = 0;
    if (!keeps_existing(*pp, rank, now_ms)) {
        insert(c, e);
        stored = 1;
        /* Data for the name proves it exists now: forget an NXDOMAIN of lower trust. */
        uint32_t hx = key_hash(e->owner, DNS_CACHE_TYPE_NXDOMAIN);
        struct entry **nx = find_slot(c, e->owner, DNS_CACHE_TYPE_NXDOMAIN, hx);
        if (*nx && rank >= DNS_RANK_ANSWER && (*nx)->rank <= rank)
            entry_drop(c, nx, *nx);
    }
    pthread_mutex_unlock(&c->lock);
    if (!stored)
        free(e);
    return stored;
}

int dns_cache_put_negative(struct dns_cache *c, const uint8_t *name, uint16_t type, uint8_t rank,
                           const uint8_t *soa_owner, uint32_t soa_ttl, const uint8_t *soa_rdata,
                           uint16_t soa_len, uint64_t now_ms)
{
    size_t solen = soa_owner ? dns_name_len(soa_owner) : 0;
    unsigned char *p;
    struct entry *e = entry_alloc(name, type, solen + soa_len, 0, &p);
    uint32_t ttl = 0;
    if (soa_owner) {
        e->soa_owner = p;
        memcpy(p, soa_owner, solen);
        e->soa_rdata = p + solen;
        memcpy(e->soa_rdata, soa_rdata, soa_len);
        e->soa_len = soa_len;
        uint32_t min = soa_len >= 20 ? dns_soa_minimum(soa_rdata, soa_len) : 0;
        ttl = soa_ttl < min ? soa_ttl : min; /* RFC 2308 §5 */
    }
    e->kind = type == DNS_CACHE_TYPE_NXDOMAIN ? DNS_CACHE_NXDOMAIN : DNS_CACHE_NODATA;
    e->rank = rank;
    pthread_mutex_lock(&c->lock);
    ttl = clamp_ttl(c, ttl, c->cfg.max_neg_ttl);
    e->soa_ttl = ttl;
    e->expire_ms = now_ms + (uint64_t)ttl * 1000;
    struct entry **pp = find_slot(c, e->owner, type, e->hash);
    int stored = 0;
    if (!keeps_existing(*pp, rank, now_ms)) {
        insert(c, e);
        stored = 1;
    }
    pthread_mutex_unlock(&c->lock);
    if (!stored)
        free(e);
    return stored;
}

static uint32_t remaining(const struct entry *e, uint64_t now_ms)
{
    if (now_ms >= e->expire_ms)
        return DNS_CACHE_STALE_TTL;
    return (uint32_t)((e->expire_ms - now_ms) / 1000);
}

static const struct dns_rdata *rdatas_dup(struct dns_arena *a, const struct dns_rdata *rd,
                                          uint16_t n)
{
    struct dns_rdata *out = n ? dns_arena_alloc(a, n * sizeof *out) : NULL;
    for (uint16_t i = 0; i < n; i++)
        out[i] = (struct dns_rdata){rd[i].len, dns_arena_dup(a, rd[i].data, rd[i].len)};
    return out;
}

/* Copies e into out (owner, rdata, SOA) in the arena. */
static void copy_out(const struct entry *e, uint64_t now_ms, struct dns_arena *a,
                     struct dns_cache_result *out)
{
    uint32_t ttl = remaining(e, now_ms);
    out->kind = e->kind;
    out->stale = now_ms >= e->expire_ms;
    struct dns_cache_rrset *r = &out->rrset;
    r->owner = dns_arena_dup(a, e->owner, dns_name_len(e->owner));
    r->type = e->type;
    r->count = e->count;
    r->ttl = ttl;
    r->rank = e->rank;
    r->rdata = rdatas_dup(a, e->rd, e->count);
    r->sigs = rdatas_dup(a, e->sigs, e->nsig);
    r->nsig = e->nsig;
    r->sec = out->sec = e->sec;
    if (e->soa_owner) {
        struct dns_rdata *s = dns_arena_alloc(a, sizeof *s);
        *s = (struct dns_rdata){e->soa_len, dns_arena_dup(a, e->soa_rdata, e->soa_len)};
        out->soa =
            (struct dns_cache_rrset){dns_arena_dup(a, e->soa_owner, dns_name_len(e->soa_owner)),
                                     DNS_TYPE_SOA,
                                     1,
                                     ttl,
                                     e->rank,
                                     s,
                                     e->sec,
                                     0,
                                     NULL};
    }
}

/* The live entry for (name, type) or NULL; drops it when it is past the stale window. */
static struct entry *live(struct dns_cache *c, const uint8_t *name, uint16_t type, unsigned flags,
                          uint64_t now_ms)
{
    uint32_t h = key_hash(name, type);
    struct entry **pp = find_slot(c, name, type, h);
    struct entry *e = *pp;
    if (!e || !expired(e, now_ms))
        return e;
    if (now_ms >= e->expire_ms + (uint64_t)c->cfg.stale_window * 1000) {
        entry_drop(c, pp, e);
        return NULL;
    }
    return (flags & DNS_CACHE_STALE_OK) ? e : NULL;
}

static struct metric hits = METRIC("pigeon_resolver_cache_hits_total",
                                   "Recursive resolver cache look-ups answered from the cache");
static struct metric misses = METRIC("pigeon_resolver_cache_misses_total",
                                     "Recursive resolver cache look-ups that missed");

enum dns_cache_kind dns_cache_get(struct dns_cache *c, const uint8_t *name, uint16_t type,
                                  uint8_t min_rank, unsigned flags, uint64_t now_ms,
                                  struct dns_arena *arena, struct dns_cache_result *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&c->lock);
    struct entry *e = live(c, name, type, flags, now_ms);
    if (!e || e->rank < min_rank)
        e = live(c, name, DNS_CACHE_TYPE_NXDOMAIN, flags, now_ms);
    if (e && e->rank < min_rank)
        e = NULL;
    if (e) {
        copy_out(e, now_ms, arena, out);
        if (!(flags & DNS_CACHE_PEEK)) {
            lru_unlink(c, e);
            lru_push(c, e);
            c->st.hits++;
            metric_inc(&hits);
        }
    } else if (!(flags & DNS_CACHE_PEEK)) {
        c->st.misses++;
        metric_inc(&misses);
    }
    pthread_mutex_unlock(&c->lock);
    return out->kind;
}

void dns_cache_set_status(struct dns_cache *c, const uint8_t *name, uint16_t type, uint8_t sec,
                          uint32_t max_ttl, uint64_t now_ms)
{
    pthread_mutex_lock(&c->lock);
    struct entry *e = live(c, name, type, 0, now_ms);
    if (e) {
        e->sec = sec;
        uint64_t until = now_ms + (uint64_t)max_ttl * 1000;
        if (e->expire_ms > until)
            e->expire_ms = until;
    }
    pthread_mutex_unlock(&c->lock);
}

void dns_cache_remove_name(struct dns_cache *c, const uint8_t *name)
{
    pthread_mutex_lock(&c->lock);
    for (struct entry *e = c->lru_head, *n; e; e = n) {
        n = e->lnext;
        if (dns_name_eq(e->owner, name))
            drop_entry(c, e);
    }
    pthread_mutex_unlock(&c->lock);
}

void dns_cache_forget_status_below(struct dns_cache *c, const uint8_t *name)
{
    pthread_mutex_lock(&c->lock);
    for (struct entry *e = c->lru_head; e; e = e->lnext)
        if (dns_name_is_sub(e->owner, name))
            e->sec = 0;
    pthread_mutex_unlock(&c->lock);
}

void dns_cache_stats(struct dns_cache *c, struct dns_cache_stats *out)
{
    pthread_mutex_lock(&c->lock);
    *out = c->st;
    pthread_mutex_unlock(&c->lock);
}
