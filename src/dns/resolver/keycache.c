/* keycache — see keycache.h. A chained hash table; a ring of slots gives the eviction order. */
#include "dns/resolver/keycache.h"

#include "core/xmalloc.h"
#include "dns/name.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define NBUCKETS 1024

struct kentry {
    struct kentry *next;
    unsigned slot; /* index in the ring */
    uint64_t expire_ms;
    enum dns_key_kind kind;
    uint16_t ede, nkeys;
    uint8_t *name, *zone;
    struct dns_rdata *keys; /* name, zone and key bytes follow in the same allocation */
};

struct dns_keycache {
    pthread_mutex_t lock;
    struct kentry *buckets[NBUCKETS];
    struct kentry **ring;
    unsigned max, next;
};

struct dns_keycache *dns_keycache_new(unsigned max_entries)
{
    struct dns_keycache *kc = xcalloc(1, sizeof *kc);
    pthread_mutex_init(&kc->lock, NULL);
    kc->max = max_entries ? max_entries : 1;
    kc->ring = xcalloc(kc->max, sizeof *kc->ring);
    return kc;
}

static struct kentry **find(struct dns_keycache *kc, const uint8_t *name)
{
    struct kentry **pp = &kc->buckets[dns_name_hash(name) % NBUCKETS];
    while (*pp && !dns_name_eq((*pp)->name, name))
        pp = &(*pp)->next;
    return pp;
}

static void unlink_entry(struct dns_keycache *kc, struct kentry *e)
{
    struct kentry **pp = find(kc, e->name);
    if (*pp == e)
        *pp = e->next;
    kc->ring[e->slot] = NULL;
    free(e);
}

static struct kentry *entry_make(const uint8_t *name, const struct dns_key_entry *in)
{
    size_t nl = dns_name_len(name), zl = in->zone ? dns_name_len(in->zone) : 0, kb = 0;
    for (uint16_t i = 0; i < in->nkeys; i++)
        kb += in->keys[i].len;
    struct kentry *e = xcalloc(1, sizeof *e + in->nkeys * sizeof(struct dns_rdata) + nl + zl + kb);
    e->keys = (struct dns_rdata *)(e + 1);
    uint8_t *p = (uint8_t *)(e->keys + in->nkeys);
    e->name = p;
    memcpy(p, name, nl);
    dns_name_lower(p);
    p += nl;
    if (in->zone) {
        e->zone = p;
        memcpy(p, in->zone, zl);
        dns_name_lower(p);
        p += zl;
    }
    for (uint16_t i = 0; i < in->nkeys; i++) {
        memcpy(p, in->keys[i].data, in->keys[i].len);
        e->keys[i] = (struct dns_rdata){in->keys[i].len, p};
        p += in->keys[i].len;
    }
    e->kind = in->kind;
    e->ede = in->ede;
    e->nkeys = in->nkeys;
    return e;
}

void dns_keycache_put(struct dns_keycache *kc, const uint8_t *name, const struct dns_key_entry *in,
                      uint32_t ttl, uint64_t now_ms)
{
    struct kentry *e = entry_make(name, in);
    e->expire_ms = now_ms + (uint64_t)ttl * 1000;
    pthread_mutex_lock(&kc->lock);
    struct kentry **pp = find(kc, e->name);
    if (*pp)
        unlink_entry(kc, *pp);
    if (kc->ring[kc->next])
        unlink_entry(kc, kc->ring[kc->next]);
    e->slot = kc->next;
    kc->ring[kc->next] = e;
    kc->next = (kc->next + 1) % kc->max;
    pp = find(kc, e->name);
    *pp = e;
    pthread_mutex_unlock(&kc->lock);
}

bool dns_keycache_get(struct dns_keycache *kc, const uint8_t *name, uint64_t now_ms,
                      struct dns_arena *a, struct dns_key_entry *out)
{
    bool found = false;
    pthread_mutex_lock(&kc->lock);
    struct kentry *e = *find(kc, name);
    if (e && now_ms >= e->expire_ms) {
        unlink_entry(kc, e);
        e = NULL;
    }
    if (e) {
        out->kind = e->kind;
        out->ede = e->ede;
        out->zone = e->zone ? dns_arena_dup(a, e->zone, dns_name_len(e->zone)) : NULL;
        out->nkeys = e->nkeys;
        struct dns_rdata *k = dns_arena_alloc(a, (e->nkeys + 1u) * sizeof *k);
        for (uint16_t i = 0; i < e->nkeys; i++)
            k[i] = (struct dns_rdata){e->keys[i].len,
                                      dns_arena_dup(a, e->keys[i].data, e->keys[i].len)};
        out->keys = k;
        found = true;
    }
    pthread_mutex_unlock(&kc->lock);
    return found;
}

void dns_keycache_remove(struct dns_keycache *kc, const uint8_t *name)
{
    pthread_mutex_lock(&kc->lock);
    struct kentry *e = *find(kc, name);
    if (e)
        unlink_entry(kc, e);
    pthread_mutex_unlock(&kc->lock);
}

void dns_keycache_flush(struct dns_keycache *kc)
{
    pthread_mutex_lock(&kc->lock);
    for (unsigned i = 0; i < kc->max; i++)
        if (kc->ring[i])
            unlink_entry(kc, kc->ring[i]);
    pthread_mutex_unlock(&kc->lock);
}

void dns_keycache_free(struct dns_keycache *kc)
{
    if (!kc)
        return;
    dns_keycache_flush(kc);
    pthread_mutex_destroy(&kc->lock);
    free(kc->ring);
    free(kc);
}
