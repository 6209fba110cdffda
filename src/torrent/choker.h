/*
 * torrent/choker — who may download from us.
 *
 * While we download, tit-for-tat as the lecture notes describe it: every 10 seconds the four
 * interested peers that send to us fastest are unchoked, and every 30 seconds one more
 * interested peer, chosen at random among the choked ones, is optimistically unchoked and
 * stays so until the next rotation. So at most slots + 1 peers are unchoked at any time.
 *
 * While we seed nobody sends to us, and "the fastest downloaders" would keep the same peers
 * unchoked until they finish (their rate is high because they are the ones unchoked), so the
 * copies would not spread. Seeding, the regular slots rotate by upload recency, as libtorrent's
 * and Transmission's seed choking do: a peer keeps its slot for a turn of 30 seconds (while it
 * stays interested), then the slot goes to the interested peer whose last turn began longest
 * ago (never first). There are seed_slots of them (8 by default): a seed has no reciprocation
 * to weigh, and a single TCP flow often cannot carry a quarter of a seed's link (the
 * receiver's acknowledgements wait behind its own full upload), so more flows at once keep the
 * seed's link busy (see docs/benchmarks.md, "BitTorrent distribution"). The optimistic slot
 * works as while downloading. Peers that are not interested stay choked: they want nothing.
 *
 * A seed's flows are often held by their receivers, not by its link: a downloader that reads
 * slowly or asks too few blocks at a time leaves the seed with nothing to send it, whatever
 * the link could carry. So while seeding, the caller tells the choker, once per choke run,
 * how often an unchoked peer had nothing waiting at our end (no request queued, nothing
 * unsent): when that was so at least a third of the time and some interested peer waits
 * choked, one more slot opens (up to seed_slots more, as libtorrent's and Transmission's
 * seeds unchoke up to about 14); when it was so less than a tenth of the time (our link or
 * our caps are the limit), one closes again.
 *
 * The caller passes the time, the rates it measured, and for each peer whether it holds a
 * regular slot and when its latest turn began; the choker reads no clock and does no I/O.
 * It remembers only the optimistic peer's id and when it was chosen.
 */
#ifndef PIGEON_TORRENT_CHOKER_H
#define PIGEON_TORRENT_CHOKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOR_CHOKE_INTERVAL_MS 10000
#define TOR_OPTIMISTIC_INTERVAL_MS 30000
#define TOR_SEED_TURN_MS 30000 /* a seeding slot's turn */
#define TOR_SEED_SLOTS 8       /* regular slots while seeding, by default */

struct tor_choke_peer {
    uint64_t id;        /* stable while the connection lives */
    bool interested;    /* the peer is interested in us */
    uint64_t down_rate; /* bytes/s we receive from it */
    uint64_t up_rate;   /* bytes/s we send to it */
    bool regular;       /* in: it holds a regular slot now */
    uint64_t turn_at;   /* in/out: when its latest regular slot began (ms), 0: never */
    bool unchoke;       /* out: unchoke it */
    bool optimistic;    /* out: through the optimistic slot */
};

struct tor_choker {
    unsigned slots;            /* regular unchoke slots while downloading: 4 */
    unsigned seed_slots;       /* regular unchoke slots while seeding */
    unsigned seed_extra;       /* slots opened while seeding, up to seed_slots */
    uint64_t optimistic_id;    /* 0: none */
    uint64_t optimistic_since; /* ms */
    uint64_t rng;
};

void tor_choker_init(struct tor_choker *c, unsigned slots, unsigned seed_slots, uint64_t seed);
/* Decides every peer's unchoke (run every TOR_CHOKE_INTERVAL_MS, or when a slot may have come
 * free; running it again at once changes nothing); now in milliseconds, never 0. Returns how
 * many are unchoked. A peer given a regular slot now has turn_at set to now. */
size_t tor_choker_run(struct tor_choker *c, struct tor_choke_peer *peers, size_t n, uint64_t now,
                      bool seeding);
/* Seeding, before a choke run: of seen samples of unchoked peers since the last run, idle had
 * nothing waiting at our end; waiting: some interested peer is choked. Opens or closes a
 * slot. */
void tor_choker_seed_idle(struct tor_choker *c, unsigned idle, unsigned seen, bool waiting);

#endif
