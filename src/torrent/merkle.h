/*
 * torrent/merkle — BEP 52's SHA-256 merkle trees: a file is cut into 16 KiB blocks, each
 * block's SHA-256 is a leaf, the leaves are padded with zero hashes (32 zero bytes) to a
 * power of two, and each inner node is the SHA-256 of its two children. The root of a whole
 * file is its "pieces root"; the roots of its piece-sized subtrees are its "piece layer".
 *
 * Pure: no I/O; scratch memory is malloc'd and freed inside each call.
 */
#ifndef PIGEON_TORRENT_MERKLE_H
#define PIGEON_TORRENT_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define TOR_MERKLE_BLOCK 16384u

/* The smallest power of two >= n (1 for 0). */
size_t tor_merkle_pow2(size_t n);
/* The root over len bytes of data in 16 KiB leaves (the last one may be short), padded with
 * zero hashes to `leaves` (a power of two, at least the blocks of data). */
void tor_merkle_root(const uint8_t *data, size_t len, size_t leaves, uint8_t out[32]);
/* The root of a tree of `leaves` (a power of two) zero hashes: what stands for a missing
 * piece in a piece layer. */
void tor_merkle_zero(size_t leaves, uint8_t out[32]);
/* The root over n 32-byte hashes padded with pad to `width` (a power of two >= n). */
void tor_merkle_over(const uint8_t *hashes, size_t n, size_t width, const uint8_t pad[32],
                     uint8_t out[32]);

#endif
