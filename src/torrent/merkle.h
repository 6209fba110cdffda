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

#include <stdbool.h>
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

/* The levels of a tree over n hashes padded with pad to width (a power of two >= n): the
 * width hashes of the base, then the width / 2 above them, and so on up to the root, last:
 * 2 * width - 1 hashes, malloc'd. */
uint8_t *tor_merkle_tree(const uint8_t *hashes, size_t n, size_t width, const uint8_t pad[32]);

/* BEP 52's hashes message, the answer to a hash request for count hashes of a layer from
 * index, with proof_layers layers of proof: the count hashes, then the uncles that tie them
 * to the root, the sibling of their ancestor at each level from log2(count) up to
 * proof_layers above the layer (libtorrent's reading; the root itself is never sent).
 * tree is tor_merkle_tree over that layer. Writes count + tor_merkle_nuncles() hashes to
 * out; false (nothing written) when the request does not fit the tree: count not a power of
 * two or over TOR_MERKLE_MAX_COUNT, index not a multiple of count or past the width, or the
 * proof reaching past the root. */
#define TOR_MERKLE_MAX_COUNT 512u
bool tor_merkle_proof(const uint8_t *tree, size_t width, uint32_t index, uint32_t count,
                      uint32_t proof_layers, uint8_t *out);
size_t tor_merkle_nuncles(uint32_t count, uint32_t proof_layers);
/* The other side: whether count hashes at index of a layer of width hashes, followed by
 * their nuncles uncles, fold up to root (the uncles must reach it exactly). */
bool tor_merkle_check(const uint8_t *hashes, uint32_t count, uint32_t index, size_t nuncles,
                      size_t width, const uint8_t root[32]);
/* log2 of a power of two. */
unsigned tor_merkle_log2(size_t pow2);

#endif
