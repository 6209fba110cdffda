/*
 * torrent/picker — which blocks to ask a peer for (BEP 3, and the lecture notes): pieces
 * already started first (so they complete and can be shared), then, while fewer than
 * `random_first` pieces are complete, a random piece the peer has (a rare piece would come
 * slowly from its few holders, and a newcomer needs something to trade quickly), afterwards
 * the rarest piece among the peer's (fewest holders among connected peers, ties broken at
 * random). When every missing block is already requested, end game: blocks requested from
 * others are asked from this peer too, and the caller cancels the duplicates when one
 * arrives.
 *
 * Blocks are TOR_BLOCK bytes (the last block of the last piece may be short). Randomness
 * comes from a seed the caller gives; the picker reads no clock and does no I/O. Memory is
 * owned by the picker (tor_picker_clear).
 */
#ifndef PIGEON_TORRENT_PICKER_H
#define PIGEON_TORRENT_PICKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tor_piece_state { TOR_PIECE_MISSING, TOR_PIECE_ACTIVE, TOR_PIECE_HAVE };

struct tor_active {
    uint32_t piece;
    uint32_t nblocks, received;
    uint8_t *blk; /* per block: 0 missing, 1..254 requested from that many peers, 255 got */
};

struct tor_picker {
    uint32_t npieces, nhave;
    uint64_t piece_len, total;
    uint32_t *avail;
    uint8_t *state;
    struct tor_active *active;
    size_t nactive, cap;
    uint64_t rng;
    unsigned random_first;
    size_t max_active;   /* pieces in progress at once (their buffers); 0: no cap */
    bool endgame; /* set by the last pick that had to duplicate requests */
};

struct tor_block {
    uint32_t piece, begin, length;
};

/* Callback: whether this peer already has a request out for that block (end game). */
typedef bool (*tor_picker_asked_fn)(void *arg, uint32_t piece, uint32_t begin);

void tor_picker_init(struct tor_picker *p, uint32_t npieces, uint64_t piece_len, uint64_t total,
                     uint64_t seed);
void tor_picker_clear(struct tor_picker *p);

/* Availability from one peer: a have, its bitfield (MSB first, BEP 3) joining, leaving. */
void tor_picker_peer_have(struct tor_picker *p, uint32_t piece);
void tor_picker_peer_bits(struct tor_picker *p, const uint8_t *bits, int delta);

/* Up to max blocks to request from a peer with bits; returns how many were written. */
size_t tor_picker_pick(struct tor_picker *p, const uint8_t *bits, tor_picker_asked_fn asked,
                       void *arg, struct tor_block *out, size_t max);
/* A block arrived: 1 the piece is now complete (verify it), 0 more to come, -1 not wanted
 * (not asked for, already received, wrong length). */
int tor_picker_received(struct tor_picker *p, uint32_t piece, uint32_t begin, uint32_t len);
/* A request that will not be answered (choked, rejected, the peer left). */
void tor_picker_cancelled(struct tor_picker *p, uint32_t piece, uint32_t begin);
/* The piece's hash matched / did not: kept, or started again from nothing. */
void tor_picker_passed(struct tor_picker *p, uint32_t piece);
void tor_picker_failed(struct tor_picker *p, uint32_t piece);

static inline bool tor_bit(const uint8_t *bits, uint32_t i)
{
    return bits[i >> 3] & (0x80 >> (i & 7));
}
static inline void tor_bit_set(uint8_t *bits, uint32_t i)
{
    bits[i >> 3] |= (uint8_t)(0x80 >> (i & 7));
}
/* The length of block `begin` of piece i. */
uint32_t tor_picker_block_len(const struct tor_picker *p, uint32_t piece, uint32_t begin);

#endif
