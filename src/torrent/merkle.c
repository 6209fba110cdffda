/* torrent/merkle — see merkle.h. */
#include "torrent/merkle.h"

#include "core/xmalloc.h"

#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

size_t tor_merkle_pow2(size_t n)
{
    size_t p = 1;
    while (p < n)
        p <<= 1;
    return p;
}

/* Folds width hashes (a power of two) in place, pairwise, down to the root in h[0]. */
static void fold(uint8_t *h, size_t width)
{
    for (; width > 1; width /= 2)
        for (size_t i = 0; i < width / 2; i++)
            SHA256(h + 64 * i, 64, h + 32 * i);
}

void tor_merkle_over(const uint8_t *hashes, size_t n, size_t width, const uint8_t pad[32],
                     uint8_t out[32])
{
    uint8_t *h = xmalloc(32 * width);
    memcpy(h, hashes, 32 * n);
    for (size_t i = n; i < width; i++)
        memcpy(h + 32 * i, pad, 32);
    fold(h, width);
    memcpy(out, h, 32);
    free(h);
}

void tor_merkle_root(const uint8_t *data, size_t len, size_t leaves, uint8_t out[32])
{
    size_t blocks = (len + TOR_MERKLE_BLOCK - 1) / TOR_MERKLE_BLOCK;
    uint8_t *h = xcalloc(leaves, 32); /* the padding: zero hashes */
    for (size_t i = 0; i < blocks && i < leaves; i++) {
        size_t off = i * TOR_MERKLE_BLOCK;
        size_t n = len - off < TOR_MERKLE_BLOCK ? len - off : TOR_MERKLE_BLOCK;
        SHA256(data + off, n, h + 32 * i);
    }
    fold(h, leaves);
    memcpy(out, h, 32);
    free(h);
}

void tor_merkle_zero(size_t leaves, uint8_t out[32])
{
    uint8_t h[64] = {0};
    for (; leaves > 1; leaves /= 2)
        SHA256(h, 64, h), memcpy(h + 32, h, 32);
    memcpy(out, h, 32);
}

unsigned tor_merkle_log2(size_t pow2)
{
    unsigned k = 0;
    while (((size_t)1 << k) < pow2)
        k++;
    return k;
}

uint8_t *tor_merkle_tree(const uint8_t *hashes, size_t n, size_t width, const uint8_t pad[32])
{
    uint8_t *t = xmalloc(32 * (2 * width - 1));
    memcpy(t, hashes, 32 * n);
    for (size_t i = n; i < width; i++)
        memcpy(t + 32 * i, pad, 32);
    const uint8_t *below = t;
    uint8_t *level = t + 32 * width;
    for (size_t w = width / 2; w >= 1; w /= 2) {
        for (size_t i = 0; i < w; i++)
            SHA256(below + 64 * i, 64, level + 32 * i);
        below = level;
        level += 32 * w;
    }
    return t;
}

size_t tor_merkle_nuncles(uint32_t count, uint32_t proof_layers)
{
    unsigned lc = tor_merkle_log2(count);
    return proof_layers + 1 > lc ? proof_layers + 1 - lc : 0;
}

bool tor_merkle_proof(const uint8_t *tree, size_t width, uint32_t index, uint32_t count,
                      uint32_t proof_layers, uint8_t *out)
{
    unsigned h = tor_merkle_log2(width);
    if (count == 0 || count > TOR_MERKLE_MAX_COUNT || (count & (count - 1)) != 0 ||
        index % count != 0 || index >= width || count > width - index || proof_layers >= h)
        return false;
    memcpy(out, tree + 32 * (size_t)index, 32 * (size_t)count);
    out += 32 * (size_t)count;
    size_t off = 0; /* of level k in tree */
    for (unsigned k = 0; k <= proof_layers; k++) {
        if (k >= tor_merkle_log2(count)) {
            size_t sib = ((size_t)index >> k) ^ 1;
            memcpy(out, tree + 32 * (off + sib), 32);
            out += 32;
        }
        off += width >> k;
    }
    return true;
}

bool tor_merkle_check(const uint8_t *hashes, uint32_t count, uint32_t index, size_t nuncles,
                      size_t width, const uint8_t root[32])
{
    unsigned lc = tor_merkle_log2(count);
    if (count == 0 || (count & (count - 1)) != 0 || index % count != 0 || index >= width ||
        count > width - index || lc + nuncles != tor_merkle_log2(width))
        return false;
    uint8_t pair[64], node[32];
    static const uint8_t unused[32];
    tor_merkle_over(hashes, count, count, unused, node);
    const uint8_t *uncle = hashes + 32 * (size_t)count;
    for (size_t pos = index / count, i = 0; i < nuncles; i++, pos /= 2, uncle += 32) {
        memcpy(pair + (pos & 1 ? 32 : 0), node, 32);
        memcpy(pair + (pos & 1 ? 0 : 32), uncle, 32);
        SHA256(pair, 64, node);
    }
    return memcmp(node, root, 32) == 0;
}
