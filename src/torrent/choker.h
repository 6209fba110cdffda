/*
 * torrent/choker — tit-for-tat as the lecture notes describe it: every 10 seconds the four
 * interested peers that send to us fastest are unchoked (when seeding: the four we send to
 * fastest, so the copies spread quickly), every 30 seconds one more interested peer, chosen at
 * random among the choked ones, is optimistically unchoked and stays so until the next
 * rotation. Peers that are not interested stay choked: they want nothing. So at most
 * slots + 1 peers are unchoked at any time.
 *
 * The caller passes the time and the rates it measured; the choker reads no clock and does
 * no I/O. It remembers only the optimistic peer's id and when it was chosen.
 */
#ifndef PIGEON_TORRENT_CHOKER_H
#define PIGEON_TORRENT_CHOKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOR_CHOKE_INTERVAL_MS 10000
#define TOR_OPTIMISTIC_INTERVAL_MS 30000

struct tor_choke_peer {
    uint64_t id;         /* stable while the connection lives */
    bool interested;     /* the peer is interested in us */
    uint64_t down_rate;  /* bytes/s we receive from it */
    uint64_t up_rate;    /* bytes/s we send to it */
    bool unchoke;        /* out: unchoke it */
    bool optimistic;     /* out: through the optimistic slot */
};

struct tor_choker {
    unsigned slots;            /* regular unchoke slots: 4 */
    uint64_t optimistic_id;    /* 0: none */
    uint64_t optimistic_since; /* ms */
    uint64_t rng;
};

void tor_choker_init(struct tor_choker *c, unsigned slots, uint64_t seed);
/* Decides every peer's unchoke (run every TOR_CHOKE_INTERVAL_MS); now in milliseconds.
 * Returns how many are unchoked. */
size_t tor_choker_run(struct tor_choker *c, struct tor_choke_peer *peers, size_t n, uint64_t now,
                      bool seeding);

#endif
