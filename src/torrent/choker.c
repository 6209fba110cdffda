/* torrent/choker — see choker.h. */
#include "torrent/choker.h"

#include <stdlib.h>

void tor_choker_init(struct tor_choker *c, unsigned slots, unsigned seed_slots, uint64_t seed)
{
    c->slots = slots;
    c->seed_slots = seed_slots;
    c->seed_extra = 0;
    c->optimistic_id = 0;
    c->optimistic_since = 0;
    c->rng = seed ? seed : 0x2545f4914f6cdd1dull;
}

static uint64_t next_rand(struct tor_choker *c)
{
    c->rng ^= c->rng >> 12;
    c->rng ^= c->rng << 25;
    c->rng ^= c->rng >> 27;
    return c->rng * 2685821657736338717ull;
}

/* Downloading: marks the `slots` interested peers that send to us fastest (selection; n is
 * small). */
static size_t pick_best(struct tor_choke_peer *peers, size_t n, unsigned slots)
{
    size_t chosen = 0;
    while (chosen < slots) {
        long best = -1;
        for (size_t i = 0; i < n; i++) {
            if (!peers[i].interested || peers[i].unchoke)
                continue;
            if (best < 0 || peers[i].down_rate > peers[best].down_rate)
                best = (long)i;
        }
        if (best < 0)
            break;
        peers[best].unchoke = true;
        chosen++;
    }
    return chosen;
}

/* Seeding: the peers whose turn is still running keep their slots; the free ones go to the
 * interested peers whose last turn began longest ago (never: first). */
static size_t pick_rotating(struct tor_choke_peer *peers, size_t n, unsigned slots, uint64_t now)
{
    size_t chosen = 0;
    for (size_t i = 0; i < n && chosen < slots; i++)
        if (peers[i].interested && peers[i].regular && now - peers[i].turn_at < TOR_SEED_TURN_MS) {
            peers[i].unchoke = true;
            chosen++;
        }
    while (chosen < slots) {
        long next = -1;
        for (size_t i = 0; i < n; i++) {
            if (!peers[i].interested || peers[i].unchoke)
                continue;
            if (next < 0 || peers[i].turn_at < peers[next].turn_at)
                next = (long)i;
        }
        if (next < 0)
            break;
        peers[next].unchoke = true;
        peers[next].turn_at = now;
        chosen++;
    }
    return chosen;
}

/* The current optimistic peer if it still qualifies, else a random choked interested one. */
static long pick_optimistic(struct tor_choker *c, struct tor_choke_peer *peers, size_t n,
                            uint64_t now)
{
    bool rotate = c->optimistic_id == 0 || now - c->optimistic_since >= TOR_OPTIMISTIC_INTERVAL_MS;
    size_t candidates = 0;
    long keep = -1, pick = -1;
    for (size_t i = 0; i < n; i++) {
        if (!peers[i].interested || peers[i].unchoke)
            continue;
        if (peers[i].id == c->optimistic_id)
            keep = (long)i;
        if (next_rand(c) % ++candidates == 0)
            pick = (long)i;
    }
    if (!rotate && keep >= 0)
        return keep;
    if (pick >= 0) {
        c->optimistic_id = peers[pick].id;
        c->optimistic_since = now;
    } else {
        c->optimistic_id = 0;
    }
    return pick;
}

size_t tor_choker_run(struct tor_choker *c, struct tor_choke_peer *peers, size_t n, uint64_t now,
                      bool seeding)
{
    for (size_t i = 0; i < n; i++)
        peers[i].unchoke = peers[i].optimistic = false;
    /* seed_slots may have shrunk since the extra ones opened (a reload) */
    unsigned extra = c->seed_extra < c->seed_slots ? c->seed_extra : c->seed_slots;
    size_t count = seeding ? pick_rotating(peers, n, c->seed_slots + extra, now)
                           : pick_best(peers, n, c->slots);
    long opt = pick_optimistic(c, peers, n, now);
    if (opt >= 0) {
        peers[opt].unchoke = peers[opt].optimistic = true;
        count++;
    }
    return count;
}

void tor_choker_seed_idle(struct tor_choker *c, unsigned idle, unsigned seen, bool waiting)
{
    if (seen == 0)
        return;
    if (idle * 3 >= seen && waiting && c->seed_extra < c->seed_slots)
        c->seed_extra++;
    else if (idle * 10 < seen && c->seed_extra > 0)
        c->seed_extra--;
}
