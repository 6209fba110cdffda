/* torrent/tracker — see tracker.h. */
#include "torrent/tracker.h"

#include "core/xmalloc.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FLOOD_SLOTS 4096

struct tpeer {
    struct tracker_addr addr;
    uint16_t port;
    bool seed;
    uint8_t peer_id[20];
    int64_t last;
};

/* A torrent's peers sit in an array (a random starting point for the peer lists); an open
 * addressing table over (address, port) finds a peer without walking it, so an announce to a
 * torrent of 10,000 peers costs what one to a torrent of 10 does. */
struct ttorrent {
    uint8_t hash[20];
    struct tpeer *peers;
    uint32_t n, cap, seeds;
    uint32_t *slots;     /* index + 1 into peers, 0: empty; linear probing */
    uint32_t nslots;     /* a power of two, at least twice cap; 0: none yet */
    int64_t expired_at;  /* the second its silent peers were last dropped */
    int64_t oldest;      /* no peer's last announce is older (announces only raise them) */
    uint32_t downloaded; /* event=completed announces */
    bool allowed;
    struct ttorrent *next;
};

struct flood_slot {
    struct tracker_addr addr;
    int64_t last;
    uint32_t tokens;
};

struct tracker {
    struct tracker_limits lim;
    struct ttorrent **buckets;
    size_t nbuckets, ntorrents, npeers;
    struct flood_slot *flood;
    uint64_t rng;
    uint64_t key; /* the peer table's hash key: addresses chosen by others spread anyway */
};

static uint64_t next_rand(struct tracker *t)
{
    t->rng ^= t->rng >> 12;
    t->rng ^= t->rng << 25;
    t->rng ^= t->rng >> 27;
    return t->rng * 2685821657736338717ull;
}

struct tracker *tracker_new(const struct tracker_limits *lim, uint64_t seed)
{
    struct tracker *t = xcalloc(1, sizeof *t);
    t->lim = *lim;
    t->nbuckets = 1024;
    while (t->nbuckets < lim->max_torrents / 2 && t->nbuckets < (1u << 20))
        t->nbuckets *= 2;
    t->buckets = xcalloc(t->nbuckets, sizeof *t->buckets);
    t->flood = xcalloc(FLOOD_SLOTS, sizeof *t->flood);
    t->rng = seed ? seed : 0x853c49e6748fea9bull;
    t->key = next_rand(t) | 1;
    return t;
}

static void torrent_free(struct ttorrent *tt)
{
    free(tt->peers);
    free(tt->slots);
    free(tt);
}

void tracker_free(struct tracker *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nbuckets; i++)
        for (struct ttorrent *tt = t->buckets[i], *nx; tt; tt = nx) {
            nx = tt->next;
            torrent_free(tt);
        }
    free(t->buckets);
    free(t->flood);
    free(t);
}

void tracker_set_limits(struct tracker *t, const struct tracker_limits *lim)
{
    t->lim = *lim;
}

static size_t bucket_of(const struct tracker *t, const uint8_t hash[20])
{
    uint64_t h;
    memcpy(&h, hash, sizeof h); /* info-hashes are SHA-1 output: already uniform */
    return (size_t)(h & (t->nbuckets - 1));
}

static struct ttorrent *find(struct tracker *t, const uint8_t hash[20], bool create)
{
    size_t b = bucket_of(t, hash);
    for (struct ttorrent *tt = t->buckets[b]; tt; tt = tt->next)
        if (memcmp(tt->hash, hash, 20) == 0)
            return tt;
    if (!create || t->ntorrents >= t->lim.max_torrents)
        return NULL;
    struct ttorrent *tt = xcalloc(1, sizeof *tt);
    memcpy(tt->hash, hash, 20);
    tt->expired_at = INT64_MIN;
    tt->oldest = INT64_MAX; /* no peers yet; the first sets it */
    tt->next = t->buckets[b];
    t->buckets[b] = tt;
    t->ntorrents++;
    return tt;
}

void tracker_allow(struct tracker *t, const uint8_t info_hash[20])
{
    size_t max = t->lim.max_torrents;
    t->lim.max_torrents = UINT32_MAX; /* the allow-list is the administrator's */
    struct ttorrent *tt = find(t, info_hash, true);
    t->lim.max_torrents = (uint32_t)max;
    tt->allowed = true;
}

static bool addr_eq(const struct tracker_addr *a, const struct tracker_addr *b)
{
    return a->v6 == b->v6 && memcmp(a->ip, b->ip, a->v6 ? 16 : 4) == 0;
}

/* Token bucket per source address: false when over the rate. */
static bool flood_ok(struct tracker *t, const struct tracker_addr *a, int64_t now)
{
    if (t->lim.flood_rate == 0)
        return true;
    uint32_t h = 2166136261u;
    for (int i = 0; i < (a->v6 ? 8 : 4); i++) /* an IPv6 source counts by its /64 */
        h = (h ^ a->ip[i]) * 16777619u;
    struct flood_slot *s = &t->flood[h % FLOOD_SLOTS];
    if (!addr_eq(&s->addr, a) || s->last == 0) {
        s->addr = *a;
        s->tokens = t->lim.flood_burst;
        s->last = now;
    }
    if (now > s->last) {
        uint64_t add = (uint64_t)(now - s->last) * t->lim.flood_rate;
        s->tokens =
            (uint32_t)(s->tokens + add > t->lim.flood_burst ? t->lim.flood_burst : s->tokens + add);
        s->last = now;
    }
    if (s->tokens == 0)
        return false;
    s->tokens--;
    return true;
}

/* ---- the peer table ---- */

static uint32_t peer_hash(const struct tracker *t, const struct tracker_addr *a, uint16_t port)
{
    uint64_t w[2];
    memcpy(w, a->ip, 16);
    uint64_t h = t->key ^ ((uint64_t)port << 1 | a->v6);
    for (int i = 0; i < 2; i++) {
        h = (h ^ w[i]) * 0x9e3779b97f4a7c15ull;
        h ^= h >> 29;
    }
    h *= 0xbf58476d1ce4e5b9ull;
    return (uint32_t)(h >> 32);
}

/* The slot that holds peer i + 1 (peer i is in the table). */
static uint32_t slot_of(const struct tracker *t, const struct ttorrent *tt, uint32_t i)
{
    uint32_t mask = tt->nslots - 1;
    uint32_t s = peer_hash(t, &tt->peers[i].addr, tt->peers[i].port) & mask;
    while (tt->slots[s] != i + 1)
        s = (s + 1) & mask;
    return s;
}

static void slot_put(const struct tracker *t, struct ttorrent *tt, uint32_t i)
{
    uint32_t mask = tt->nslots - 1;
    uint32_t s = peer_hash(t, &tt->peers[i].addr, tt->peers[i].port) & mask;
    while (tt->slots[s])
        s = (s + 1) & mask;
    tt->slots[s] = i + 1;
}

/* Room for cap peers at most half full. */
static void table_fit(const struct tracker *t, struct ttorrent *tt)
{
    if (tt->nslots >= 2 * tt->cap)
        return;
    uint32_t size = tt->nslots ? tt->nslots : 16;
    while (size < 2 * tt->cap)
        size *= 2;
    free(tt->slots);
    tt->slots = xcalloc(size, sizeof *tt->slots);
    tt->nslots = size;
    for (uint32_t i = 0; i < tt->n; i++)
        slot_put(t, tt, i);
}

/* Empties slot s, moving later entries of its run back so that no probe stops early. */
static void slot_clear(const struct tracker *t, struct ttorrent *tt, uint32_t s)
{
    uint32_t mask = tt->nslots - 1;
    tt->slots[s] = 0;
    for (uint32_t j = (s + 1) & mask; tt->slots[j]; j = (j + 1) & mask) {
        uint32_t v = tt->slots[j] - 1;
        uint32_t home = peer_hash(t, &tt->peers[v].addr, tt->peers[v].port) & mask;
        /* the entry at j may move to s unless its home lies cyclically in (s, j] */
        bool stays = s <= j ? (home > s && home <= j) : (home > s || home <= j);
        if (!stays) {
            tt->slots[s] = tt->slots[j];
            tt->slots[j] = 0;
            s = j;
        }
    }
}

static void remove_peer(struct tracker *t, struct ttorrent *tt, uint32_t i)
{
    if (tt->peers[i].seed)
        tt->seeds--;
    slot_clear(t, tt, slot_of(t, tt, i));
    uint32_t last = --tt->n;
    if (i != last) { /* the last peer takes its place in the array and in its slot */
        uint32_t s = slot_of(t, tt, last);
        tt->peers[i] = tt->peers[last];
        tt->slots[s] = i + 1;
    }
    t->npeers--;
}

static long find_peer(const struct tracker *t, const struct ttorrent *tt,
                      const struct tracker_addr *a, uint16_t port)
{
    if (tt->n == 0)
        return -1;
    uint32_t mask = tt->nslots - 1;
    for (uint32_t s = peer_hash(t, a, port) & mask; tt->slots[s]; s = (s + 1) & mask) {
        uint32_t i = tt->slots[s] - 1;
        if (tt->peers[i].port == port && addr_eq(&tt->peers[i].addr, a))
            return i;
    }
    return -1;
}

/*
 * Up to want peers other than self, from a random starting point. A seed gets the leechers
 * first and other seeds only to fill the room left: a client that joined from a magnet link
 * announces left=0 while it cannot know the size yet (aria2 does, BEP 9), and must find a
 * seed that can give it the info dictionary.
 */
static void select_peers(struct tracker *t, struct ttorrent *tt, long self, bool seed,
                         uint32_t want, struct tracker_reply *r)
{
    if (tt->n == 0)
        return;
    uint32_t start = (uint32_t)(next_rand(t) % tt->n);
    for (int pass = seed ? 0 : 1; pass < 2; pass++) {
        for (uint32_t k = 0; k < tt->n && r->npeers < want; k++) {
            uint32_t i = (start + k) % tt->n;
            const struct tpeer *p = &tt->peers[i];
            /* pass 0: leechers only (for a seed); pass 1: the rest */
            if ((long)i == self || (pass == 0 && p->seed) || (pass == 1 && seed && !p->seed))
                continue;
            struct tracker_peer_out *o = &r->peers[r->npeers++];
            o->addr = p->addr;
            o->port = p->port;
            memcpy(o->peer_id, p->peer_id, 20);
        }
    }
}

/* The announcing peer, at *idx (found by the caller, -1: new), added or updated. A new peer
 * of a full torrent is not stored (*idx stays -1): it still gets its peer list, as it would
 * from a tracker without the cap, but is not handed to others. */
static void upsert(struct tracker *t, struct ttorrent *tt, const struct tracker_announce *a,
                   int64_t now, long *idx)
{
    long i = *idx;
    bool existed = i >= 0;
    if (i < 0) {
        if (tt->n >= t->lim.max_peers)
            return;
        if (tt->n == tt->cap) {
            tt->cap = tt->cap ? tt->cap * 2 : 8;
            tt->peers = xrealloc(tt->peers, tt->cap * sizeof *tt->peers);
            table_fit(t, tt);
        }
        i = tt->n++;
        if (now < tt->oldest)
            tt->oldest = now;
        memset(&tt->peers[i], 0, sizeof tt->peers[i]);
        tt->peers[i].addr = a->addr;
        tt->peers[i].port = a->port;
        slot_put(t, tt, (uint32_t)i);
        t->npeers++;
    }
    struct tpeer *p = &tt->peers[i];
    bool seed = a->left == 0;
    /* A completed download: the completed event, or a known leecher now reporting nothing
     * left (aria2 with --seed-time=0 goes straight to stopped). */
    if (seed && !p->seed && (existed || a->event == TRACKER_COMPLETED))
        tt->downloaded++;
    tt->seeds += (uint32_t)seed - (uint32_t)p->seed;
    p->seed = seed;
    memcpy(p->peer_id, a->peer_id, 20);
    p->last = now;
    *idx = i;
}

/* Drops the torrent's silent peers, once a second at most (announces and scrapes call it for
 * exact counts; a peer silent for expire seconds and one more changes nothing). */
static void expire_torrent(struct tracker *t, struct ttorrent *tt, int64_t now, size_t *dropped)
{
    if (tt->expired_at == now || tt->n == 0 || now - tt->oldest <= (int64_t)t->lim.expire)
        return; /* nobody can be silent long enough: the walk is skipped */
    tt->expired_at = now;
    int64_t oldest = now;
    for (uint32_t i = 0; i < tt->n;) {
        if (now - tt->peers[i].last > (int64_t)t->lim.expire) {
            remove_peer(t, tt, i);
            (*dropped)++;
        } else {
            if (tt->peers[i].last < oldest)
                oldest = tt->peers[i].last;
            i++;
        }
    }
    tt->oldest = oldest;
}

void tracker_announce(struct tracker *t, const struct tracker_announce *a, int64_t now,
                      struct tracker_reply *r)
{
    memset(r, 0, offsetof(struct tracker_reply, peers));
    r->npeers = 0;
    r->interval = t->lim.interval;
    r->min_interval = t->lim.min_interval;
    if (!flood_ok(t, &a->addr, now)) {
        r->failure = "too many announces from this address: slow down";
        return;
    }
    struct ttorrent *tt = find(t, a->info_hash, !t->lim.allow_list);
    if (!tt || (t->lim.allow_list && !tt->allowed)) {
        r->failure = tt || t->lim.allow_list ? "unregistered torrent" : "tracker full";
        return;
    }
    size_t dropped = 0;
    expire_torrent(t, tt, now, &dropped);
    long self = find_peer(t, tt, &a->addr, a->port);
    if (a->event == TRACKER_STOPPED) {
        if (self >= 0) {
            if (!tt->peers[self].seed && a->left == 0)
                tt->downloaded++;
            remove_peer(t, tt, (uint32_t)self);
        }
    } else {
        upsert(t, tt, a, now, &self);
        uint32_t want = a->numwant < 0 ? t->lim.numwant_default : (uint32_t)a->numwant;
        if (want > TRACKER_MAX_NUMWANT)
            want = TRACKER_MAX_NUMWANT;
        select_peers(t, tt, self, a->left == 0, want, r);
    }
    r->complete = tt->seeds;
    r->incomplete = tt->n - tt->seeds;
    r->downloaded = tt->downloaded;
}

const char *tracker_scrape(struct tracker *t, const struct tracker_addr *from,
                           const uint8_t (*hashes)[20], size_t n, int64_t now,
                           struct tracker_counts *out)
{
    if (!flood_ok(t, from, now))
        return "too many requests from this address: slow down";
    for (size_t i = 0; i < n; i++) {
        struct ttorrent *tt = find(t, hashes[i], false);
        memset(&out[i], 0, sizeof out[i]);
        if (!tt || (t->lim.allow_list && !tt->allowed))
            continue;
        size_t dropped = 0;
        expire_torrent(t, tt, now, &dropped);
        out[i].complete = tt->seeds;
        out[i].incomplete = tt->n - tt->seeds;
        out[i].downloaded = tt->downloaded;
    }
    return NULL;
}

size_t tracker_expire(struct tracker *t, int64_t now)
{
    size_t dropped = 0;
    for (size_t b = 0; b < t->nbuckets; b++) {
        struct ttorrent **pp = &t->buckets[b];
        while (*pp) {
            struct ttorrent *tt = *pp;
            expire_torrent(t, tt, now, &dropped);
            if (tt->n == 0 && !tt->allowed && tt->downloaded == 0) {
                *pp = tt->next;
                torrent_free(tt);
                t->ntorrents--;
            } else {
                pp = &tt->next;
            }
        }
    }
    return dropped;
}

void tracker_stats(const struct tracker *t, size_t *torrents, size_t *peers)
{
    *torrents = t->ntorrents;
    *peers = t->npeers;
}

void tracker_addr_set(struct tracker_addr *a, const uint8_t *ip, bool v6)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    memset(a, 0, sizeof *a);
    if (v6 && memcmp(ip, mapped, 12) == 0) {
        ip += 12;
        v6 = false;
    }
    memcpy(a->ip, ip, v6 ? 16 : 4);
    a->v6 = v6;
}

bool tracker_addr_parse(const char *text, struct tracker_addr *a)
{
    uint8_t ip[16];
    if (inet_pton(AF_INET, text, ip) == 1)
        tracker_addr_set(a, ip, false);
    else if (inet_pton(AF_INET6, text, ip) == 1)
        tracker_addr_set(a, ip, true);
    else
        return false;
    return true;
}
