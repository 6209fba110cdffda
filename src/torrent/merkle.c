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
