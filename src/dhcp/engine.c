/* dhcp/engine — see engine.h. The allocation and per-message rules; the replies' contents
 * are built in reply.c. */
#include "dhcp/engine.h"

#include "core/xmalloc.h"
#include "dhcp/engine_int.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

static uint32_t key_hash(const uint8_t *k, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ k[i]) * 16777619u;
    return h;
}

static void add_seg(struct dhcp_engine *e, uint32_t first, uint32_t last, unsigned subnet)
{
    e->segs = xrealloc(e->segs, (e->nsegs + 1) * sizeof *e->segs);
    e->segs[e->nsegs++] = (struct dhcp_seg){first, last, e->nslots, subnet};
    e->nslots += last - first + 1;
}

int dhcp_slot_of(const struct dhcp_engine *e, uint32_t addr)
{
    for (unsigned i = 0; i < e->nsegs; i++)
        if (addr >= e->segs[i].first && addr <= e->segs[i].last)
            return (int)(e->segs[i].base + (addr - e->segs[i].first));
    return -1;
}

static bool build_segs(struct dhcp_engine *e, const char **why)
{
    for (unsigned s = 0; s < e->cfg->nsubnets; s++) {
        const struct dhcp_subnet *sn = &e->cfg->subnets[s];
        for (unsigned r = 0; r < sn->nranges; r++) {
            uint64_t size = (uint64_t)sn->ranges[r].last - sn->ranges[r].first + 1;
            if (e->nslots + size > DHCP_MAX_SLOTS) {
                *why = "the pools hold more than 1048576 addresses";
                return false;
            }
            /* overlapping ranges: an address already covered keeps its first slot */
            uint32_t a = sn->ranges[r].first, last = sn->ranges[r].last;
            for (;;) {
                if (dhcp_slot_of(e, a) < 0) {
                    uint32_t b = a;
                    while (b < last && dhcp_slot_of(e, b + 1) < 0)
                        b++;
                    add_seg(e, a, b, s);
                    a = b;
                }
                if (a == last)
                    break;
                a++;
            }
        }
        for (unsigned r = 0; r < sn->nres; r++)
            if (dhcp_slot_of(e, sn->res[r].addr) < 0)
                add_seg(e, sn->res[r].addr, sn->res[r].addr, s);
    }
    return true;
}

struct dhcp_engine *dhcp_engine_new(const struct dhcp_config *cfg, const struct dhcp_engine_ops *ops,
                                    void *ctx, const char **why)
{
    struct dhcp_engine *e = xcalloc(1, sizeof *e);
    e->cfg = cfg;
    e->ops = *ops;
    e->ctx = ctx;
    if (!build_segs(e, why)) {
        dhcp_engine_free(e);
        return NULL;
    }
    e->slots = xcalloc(e->nslots ? e->nslots : 1, sizeof *e->slots);
    e->hnext = xmalloc((e->nslots ? e->nslots : 1) * sizeof *e->hnext);
    for (unsigned i = 0; i < e->nsegs; i++)
        for (uint32_t a = e->segs[i].first;; a++) {
            struct dhcp_slot *sl = &e->slots[e->segs[i].base + (a - e->segs[i].first)];
            sl->lease.addr = a;
            sl->subnet = e->segs[i].subnet;
            if (a == e->segs[i].last)
                break;
        }
    e->nbuckets = 64;
    while (e->nbuckets < e->nslots * 2)
        e->nbuckets *= 2;
    e->buckets = xmalloc(e->nbuckets * sizeof *e->buckets);
    for (unsigned i = 0; i < e->nbuckets; i++)
        e->buckets[i] = -1;
    for (unsigned i = 0; i < e->nslots; i++)
        e->hnext[i] = -1;
    e->cursor = xcalloc(cfg->nsubnets ? cfg->nsubnets : 1, sizeof *e->cursor);
    return e;
}

void dhcp_engine_free(struct dhcp_engine *e)
{
    if (!e)
        return;
    free(e->segs);
    free(e->slots);
    free(e->hnext);
    free(e->buckets);
    free(e->cursor);
    free(e);
}

/* ---- the client index ---- */

static void unlink_key(struct dhcp_engine *e, int slot)
{
    struct dhcp_lease *l = &e->slots[slot].lease;
    if (l->key_len == 0)
        return;
    int *pp = &e->buckets[key_hash(l->key, l->key_len) & (e->nbuckets - 1)];
    while (*pp >= 0 && *pp != slot)
        pp = &e->hnext[*pp];
    if (*pp == slot)
        *pp = e->hnext[slot];
    e->hnext[slot] = -1;
}

void dhcp_slot_set_client(struct dhcp_engine *e, int slot, const struct dhcp_client *c)
{
    struct dhcp_lease *l = &e->slots[slot].lease;
    if (l->key_len == c->key_len && memcmp(l->key, c->key, c->key_len) == 0) {
        l->htype = c->htype;
        l->hlen = c->hlen;
        memcpy(l->chaddr, c->chaddr, 16);
        return;
    }
    unlink_key(e, slot);
    memcpy(l->key, c->key, c->key_len);
    l->key_len = c->key_len;
    l->htype = c->htype;
    l->hlen = c->hlen;
    memcpy(l->chaddr, c->chaddr, 16);
    l->hostname[0] = '\0';
    unsigned b = key_hash(c->key, c->key_len) & (e->nbuckets - 1);
    e->hnext[slot] = e->buckets[b];
    e->buckets[b] = slot;
}

int dhcp_slot_of_client(const struct dhcp_engine *e, const struct dhcp_client *c, unsigned subnet)
{
    int i = e->buckets[key_hash(c->key, c->key_len) & (e->nbuckets - 1)];
    for (; i >= 0; i = e->hnext[i]) {
        const struct dhcp_lease *l = &e->slots[i].lease;
        if (e->slots[i].subnet == subnet && l->key_len == c->key_len &&
            memcmp(l->key, c->key, c->key_len) == 0 && l->state != DHCP_LEASE_DECLINED)
            return i;
    }
    return -1;
}

bool dhcp_engine_restore(struct dhcp_engine *e, const struct dhcp_lease *l)
{
    int slot = dhcp_slot_of(e, l->addr);
    if (slot < 0 || l->key_len == 0 || l->key_len > DHCP_KEY_MAX)
        return false;
    struct dhcp_client c = {.key_len = l->key_len, .htype = l->htype, .hlen = l->hlen};
    memcpy(c.key, l->key, l->key_len);
    memcpy(c.chaddr, l->chaddr, 16);
    dhcp_slot_set_client(e, slot, &c);
    struct dhcp_lease *d = &e->slots[slot].lease;
    d->state = l->state == DHCP_LEASE_OFFERED ? DHCP_LEASE_EXPIRED : l->state;
    d->expires = l->expires;
    memcpy(d->hostname, l->hostname, sizeof d->hostname);
    d->hostname[sizeof d->hostname - 1] = '\0';
    return true;
}

/* ---- who may have an address ---- */

/* The client an address is reserved for in subnet s, or NULL. */
const struct dhcp_reservation *dhcp_reserved(const struct dhcp_subnet *s, uint32_t addr)
{
    for (unsigned i = 0; i < s->nres; i++)
        if (s->res[i].addr == addr)
            return &s->res[i];
    return NULL;
}

static bool key_is(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    return alen == blen && memcmp(a, b, alen) == 0;
}

/* Matches by client identifier or by MAC, whichever the reservation names. */
static bool reservation_matches(const struct dhcp_reservation *r, const struct dhcp_client *c)
{
    return key_is(r->key, r->key_len, c->key, c->key_len) ||
           key_is(r->key, r->key_len, c->hwkey, c->hwkey_len);
}

const struct dhcp_reservation *dhcp_reservation_of(const struct dhcp_subnet *s,
                                                   const struct dhcp_client *c)
{
    for (unsigned i = 0; i < s->nres; i++)
        if (reservation_matches(&s->res[i], c))
            return &s->res[i];
    return NULL;
}

bool dhcp_slot_usable(const struct dhcp_engine *e, int slot, const struct dhcp_client *c,
                      int64_t now)
{
    const struct dhcp_slot *sl = &e->slots[slot];
    const struct dhcp_subnet *s = &e->cfg->subnets[sl->subnet];
    const struct dhcp_reservation *r = dhcp_reserved(s, sl->lease.addr);
    if (r && !reservation_matches(r, c))
        return false;
    bool mine = key_is(sl->lease.key, sl->lease.key_len, c->key, c->key_len);
    switch (sl->lease.state) {
    case DHCP_LEASE_FREE:
    case DHCP_LEASE_RELEASED:
    case DHCP_LEASE_EXPIRED:
        return true;
    case DHCP_LEASE_OFFERED:
    case DHCP_LEASE_BOUND:
        return mine || sl->lease.expires <= now;
    case DHCP_LEASE_DECLINED:
        return sl->lease.expires <= now;
    }
    return false;
}

/* The subnet's first never-used address at or after its cursor. A slot leaves FREE when it is
 * first offered and comes back to it only from DECLINED (dhcp_engine_expire, which moves the
 * cursor back to it), so every slot before the cursor is in use: each look-up resumes where
 * the last one stopped instead of walking past every address handed out so far. Slots
 * reserved for other clients are passed over (a client with a reservation never gets here). */
static int next_never_used(struct dhcp_engine *e, unsigned subnet, const struct dhcp_client *c,
                           int64_t now)
{
    unsigned *cur = &e->cursor[subnet];
    for (unsigned si = 0; si < e->nsegs; si++) {
        const struct dhcp_seg *sg = &e->segs[si];
        unsigned end = sg->base + (sg->last - sg->first + 1);
        if (sg->subnet != subnet || end <= *cur)
            continue;
        for (unsigned slot = *cur > sg->base ? *cur : sg->base; slot < end; slot++) {
            *cur = slot;
            if (e->slots[slot].lease.state == DHCP_LEASE_FREE &&
                dhcp_slot_usable(e, (int)slot, c, now))
                return (int)slot;
        }
        *cur = end;
    }
    return -1;
}

/* A never-used address first, else the one free longest, so an address stays with its last
 * client as long as possible. */
static int pick_free(struct dhcp_engine *e, unsigned subnet, const struct dhcp_client *c,
                     int64_t now)
{
    int slot = next_never_used(e, subnet, c, now);
    if (slot >= 0)
        return slot;
    int oldest = -1;
    int64_t oldest_t = 0;
    for (unsigned si = 0; si < e->nsegs; si++) {
        if (e->segs[si].subnet != subnet)
            continue;
        unsigned n = e->segs[si].last - e->segs[si].first + 1;
        for (unsigned k = 0; k < n; k++) {
            slot = (int)(e->segs[si].base + k);
            const struct dhcp_lease *l = &e->slots[slot].lease;
            if (l->state == DHCP_LEASE_FREE || !dhcp_slot_usable(e, slot, c, now))
                continue; /* FREE ones are reserved for others: next_never_used saw them */
            if (oldest < 0 || l->expires < oldest_t) {
                oldest = slot;
                oldest_t = l->expires;
            }
        }
    }
    return oldest;
}

int dhcp_choose(struct dhcp_engine *e, unsigned subnet, const struct dhcp_client *c,
                uint32_t requested, int64_t now)
{
    const struct dhcp_subnet *s = &e->cfg->subnets[subnet];
    const struct dhcp_reservation *r = dhcp_reservation_of(s, c);
    if (r) {
        int slot = dhcp_slot_of(e, r->addr);
        return slot >= 0 && dhcp_slot_usable(e, slot, c, now) ? slot : -1;
    }
    int slot = dhcp_slot_of_client(e, c, subnet);
    if (slot >= 0 && dhcp_slot_usable(e, slot, c, now))
        return slot;
    if (requested) {
        slot = dhcp_slot_of(e, requested);
        if (slot >= 0 && e->slots[slot].subnet == subnet && !dhcp_is_reserved_slot(e, slot) &&
            dhcp_slot_usable(e, slot, c, now))
            return slot;
    }
    return pick_free(e, subnet, c, now);
}

bool dhcp_is_reserved_slot(const struct dhcp_engine *e, int slot)
{
    const struct dhcp_slot *sl = &e->slots[slot];
    return dhcp_reserved(&e->cfg->subnets[sl->subnet], sl->lease.addr) != NULL;
}

/* ---- the clock's work ---- */

void dhcp_lease_end(struct dhcp_engine *e, int slot, enum dhcp_lease_state to, int64_t until)
{
    struct dhcp_lease *l = &e->slots[slot].lease;
    bool was_bound = l->state == DHCP_LEASE_BOUND;
    l->state = to;
    l->expires = until;
    if (e->ops.save)
        e->ops.save(e->ctx, l);
    e->slots[slot].saved_in = e->batch;
    if (was_bound && l->hostname[0] && e->ops.unbound)
        e->ops.unbound(e->ctx, l, &e->cfg->subnets[e->slots[slot].subnet]);
}

unsigned dhcp_engine_expire(struct dhcp_engine *e, int64_t now)
{
    unsigned n = 0;
    for (unsigned i = 0; i < e->nslots; i++) {
        struct dhcp_lease *l = &e->slots[i].lease;
        if (l->expires > now)
            continue;
        if (l->state == DHCP_LEASE_BOUND) {
            dhcp_lease_end(e, (int)i, DHCP_LEASE_EXPIRED, now);
            n++;
        } else if (l->state == DHCP_LEASE_OFFERED) {
            l->state = DHCP_LEASE_EXPIRED; /* never saved: nothing to write */
        } else if (l->state == DHCP_LEASE_DECLINED) {
            l->state = DHCP_LEASE_FREE;
            unsigned *cur = &e->cursor[e->slots[i].subnet];
            if (i < *cur)
                *cur = i; /* never used again: next_never_used must see it */
            if (e->ops.save)
                e->ops.save(e->ctx, l);
            e->slots[i].saved_in = e->batch;
        }
    }
    return n;
}

void dhcp_engine_set_batch(struct dhcp_engine *e, uint64_t batch)
{
    e->batch = batch;
}

void dhcp_engine_cache_off(struct dhcp_engine *e)
{
    e->cache_off = true;
}

int dhcp_engine_conflict(struct dhcp_engine *e, uint32_t addr, int64_t now)
{
    int slot = dhcp_slot_of(e, addr);
    if (slot < 0 || e->slots[slot].lease.state == DHCP_LEASE_BOUND)
        return -1;
    dhcp_lease_end(e, slot, DHCP_LEASE_DECLINED, now + e->cfg->probation);
    return 0;
}

int dhcp_engine_release_addr(struct dhcp_engine *e, uint32_t addr, int64_t now)
{
    int slot = dhcp_slot_of(e, addr);
    if (slot < 0 || e->slots[slot].lease.state != DHCP_LEASE_BOUND)
        return -1;
    dhcp_lease_end(e, slot, DHCP_LEASE_RELEASED, now);
    return 0;
}

void dhcp_engine_stats(const struct dhcp_engine *e, const struct dhcp_subnet *s,
                       struct dhcp_pool_stats *out)
{
    memset(out, 0, sizeof *out);
    for (unsigned i = 0; i < e->nslots; i++) {
        if (&e->cfg->subnets[e->slots[i].subnet] != s)
            continue;
        out->total++;
        enum dhcp_lease_state st = e->slots[i].lease.state;
        out->bound += st == DHCP_LEASE_BOUND;
        out->offered += st == DHCP_LEASE_OFFERED;
        out->declined += st == DHCP_LEASE_DECLINED;
    }
}

unsigned dhcp_engine_slots(const struct dhcp_engine *e)
{
    return e->nslots;
}

const struct dhcp_lease *dhcp_engine_slot(const struct dhcp_engine *e, unsigned i)
{
    return i < e->nslots ? &e->slots[i].lease : NULL;
}
