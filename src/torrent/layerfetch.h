/*
 * torrent/layerfetch — the piece layers of a v2-only torrent fetched from peers (BEP 52).
 * A magnet link's info dictionary names each file by its pieces root only; the hashes of
 * its pieces (the piece layer, which a .torrent carries beside the dictionary) are asked of
 * peers with hash requests, 512 at a time (what libtorrent asks and answers), each with the
 * uncle hashes that tie the chunk to the file's root: a chunk is taken only when it folds up
 * to the root, so no peer can make us accept a wrong hash. A chunk unanswered for
 * TOR_LFETCH_TIMEOUT_MS, rejected, or whose peer left is asked again, of another peer if
 * there is one.
 *
 * Used by the metadata fetch (metafetch.h), which owns the connections: it asks for the next
 * request to send to a peer, and hands over the hashes and hash rejects that come back. Pure:
 * no I/O, no clock (now is passed in, in milliseconds); peers are named by the caller's ids.
 */
#ifndef PIGEON_TORRENT_LAYERFETCH_H
#define PIGEON_TORRENT_LAYERFETCH_H

#include "core/str.h"
#include "torrent/metainfo.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOR_LFETCH_PER_PEER 2 /* chunks asked of one peer at a time */
#define TOR_LFETCH_TIMEOUT_MS 30000

struct tor_lfetch;

/* wants: the layers missing (tor_meta_layers_wanted), copied. */
struct tor_lfetch *tor_lfetch_new(const struct tor_layer_want *wants, size_t n, uint64_t piece_len);
void tor_lfetch_free(struct tor_lfetch *lf);

/* The next hash request for peer (its 48 bytes: root, base layer, index, count, proof
 * layers) into head: true, and it counts as asked of peer; false: nothing to ask it. */
bool tor_lfetch_next(struct tor_lfetch *lf, uint64_t peer, uint64_t now, uint8_t head[48]);
/* A hashes message from peer (its data: the 48-byte head, then the hashes). 0: taken (or
 * not asked of it: ignored); -1: it does not prove out (the peer lies or is broken). */
int tor_lfetch_hashes(struct tor_lfetch *lf, uint64_t peer, const uint8_t *data, size_t n);
/* A hash reject from peer: the chunk is asked elsewhere. */
void tor_lfetch_reject(struct tor_lfetch *lf, uint64_t peer, const uint8_t head[48]);
/* The peer left: what it was asked is asked elsewhere. */
void tor_lfetch_peer_gone(struct tor_lfetch *lf, uint64_t peer);
/* Chunks asked longer ago than TOR_LFETCH_TIMEOUT_MS go back. */
void tor_lfetch_tick(struct tor_lfetch *lf, uint64_t now);

bool tor_lfetch_done(const struct tor_lfetch *lf);
/* Once done: the "piece layers" dictionary of a .torrent (roots in order), appended. */
void tor_lfetch_encode(const struct tor_lfetch *lf, struct str *out);
/* Progress: chunks received of the total. */
void tor_lfetch_progress(const struct tor_lfetch *lf, uint32_t *got, uint32_t *total);

#endif
