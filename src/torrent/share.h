/*
 * torrent/share — how a seed's upload is divided among the peers it unchoked.
 *
 * Left alone, the flows from a seed split its link however TCP lets them: one flow that got
 * ahead early may carry 16 of 20 Mbit/s and another 2 (docs/benchmarks.md, "BitTorrent
 * distribution", N = 2). The favoured downloader soon holds everything the other has, and
 * the two stop trading: the lecture's bound assumes every downloader uploads all the time,
 * which needs each to receive pieces the others lack at about the same pace. So while we
 * seed, each unchoked interested peer gets its share of the upload: a cap in bytes per
 * second, recomputed once a second (max-min fair):
 *
 *   - C is the configured upload rate if there is one, else an estimate of the link: the
 *     largest total of a window (what left our buffers, not what went into them); it decays
 *     by 1/8 a second only in windows where no peer was held back by its cap (took 7/8 of
 *     it or more, and had requests waiting), else the total understates the link; it grows
 *     by 1/8 whenever every peer was held back (we were the limit).
 *   - A peer that was not held back and took less than an equal share of what is left is
 *     limited elsewhere (its path, its requests, or another flow that takes the link): it
 *     is counted at what it took plus room to grow, half as much again and at least a
 *     quarter of an equal share. If another flow was what held it, it grows into that room
 *     window by window until it reaches its share; if its path is what holds it, the others
 *     lose only the room. Its cap is an equal share.
 *   - The others divide the rest equally; when no peer is limited elsewhere, each gets 1/16
 *     more, so that a link that carries more than C shows it.
 *   - Work-conserving: when some peers are limited elsewhere and some held back, the part of
 *     C the window left unused (the room nobody grew into) is lent to the others, on top of
 *     their caps: half the unused part more each window, a quarter less each window the link
 *     is within 1/32 of C (then a peer that grows into its room gets it back). They also
 *     get 1/16 of C more between them: an estimate that is too low shows when what they
 *     take raises the total above it (every peer held is no longer needed for C to grow).
 *
 * The room is the price of not knowing why a flow is slow: the seed cannot tell a flow held
 * down by TCP's competition from one held by its own path, except by leaving it room.
 *
 * With fewer than two peers, or before anything was measured, there are no caps (0).
 * Pure: the caller measures (bytes sent in the window, whether the cap held it back) and
 * applies the caps; no clock, no I/O.
 */
#ifndef PIGEON_TORRENT_SHARE_H
#define PIGEON_TORRENT_SHARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOR_SHARE_MIN 32768u /* bytes/s: no cap is smaller (two blocks a second) */
#define TOR_SHARE_MAX 256u   /* peers shared among; more are left without a cap */

struct tor_share_peer {
    uint64_t sent;  /* in: bytes sent to it during the window */
    bool held;      /* in: its cap held back requests it had queued during the window */
    uint64_t cap;   /* in: its cap during the window; out: until the next run (0: none) */
};

struct tor_share {
    uint64_t capacity; /* bytes/s, the link's estimate (0: not measured yet) */
    uint64_t join_cap; /* bytes/s, the cap of a peer unchoked before the next run, 0: none */
    uint64_t spare;    /* bytes/s of C left unused, lent to the peers that took their share */
};

void tor_share_init(struct tor_share *sh);
/* One window of dt_ms (> 0) over the n peers that were unchoked and interested; limit: the
 * configured upload rate in bytes/s (0: none). Sets every peer's cap. */
void tor_share_run(struct tor_share *sh, struct tor_share_peer *p, size_t n, uint64_t dt_ms,
                   uint64_t limit);
/* No peer to share among (not seeding): no caps from now on, the estimate forgotten. */
void tor_share_reset(struct tor_share *sh);

#endif
