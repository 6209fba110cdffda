/*
 * libFuzzer target for BEP 52's hash messages (torrent/layerfetch.h, torrent/merkle.h): the
 * input is a hashes message (head and hashes) handed to a layer fetch that asked for the two
 * chunks of a 600-piece file's layer, then a hash reject; and, read as a hash request
 * (index, count, proof layers), it is answered from a tree the way swarm_hash.c does. A
 * chunk is taken only when its hashes fold up to the root: the fetch must never accept
 * hashes other than the file's own.
 */
#include "torrent/layerfetch.h"
#include "torrent/merkle.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NP 600

static uint8_t layer[32 * NP], pad[32], root[32], *tree;

static uint32_t be32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    if (!tree) {
        for (size_t i = 0; i < sizeof layer; i++)
            layer[i] = (uint8_t)(i * 29 + i / 7);
        tor_merkle_over(layer, NP, 1024, pad, root);
        tree = tor_merkle_tree(layer, NP, 1024, pad);
    }
    struct tor_layer_want w = {.npieces = NP};
    memcpy(w.root, root, 32);
    struct tor_lfetch *lf = tor_lfetch_new(&w, 1, 16384);
    uint8_t head[2][48];
    if (!tor_lfetch_next(lf, 7, 0, head[0]) || !tor_lfetch_next(lf, 7, 0, head[1]))
        abort();
    /* the input as the answer to the chunk its first byte picks, or as it is */
    uint8_t *msg = malloc(n + 48);
    size_t len = n;
    if (n && (d[0] & 1)) {
        memcpy(msg, head[(d[0] >> 1) & 1], 48);
        memcpy(msg + 48, d, n);
        len = n + 48;
    } else if (n) {
        memcpy(msg, d, n);
    }
    if (tor_lfetch_hashes(lf, 7, msg, len) == 0 && len >= 80) {
        uint32_t index = be32(msg + 36);
        if ((index == 0 || index == 512) && memcmp(msg, head[index / 512], 48) == 0 &&
            memcmp(msg + 48, layer + 32 * index, 32) != 0)
            abort(); /* a chunk accepted that is not the file's */
    }
    if (len >= 48)
        tor_lfetch_reject(lf, 7, msg);
    tor_lfetch_free(lf);
    free(msg);
    /* as a hash request against the tree (checked first, as swarm_hash.c does) */
    if (n >= 12) {
        uint32_t index = be32(d), count = be32(d + 4), proof = be32(d + 8);
        if (count <= TOR_MERKLE_MAX_COUNT && proof < 10) {
            uint8_t *out = malloc(32 * (count + tor_merkle_nuncles(count, proof)) + 1);
            if (tor_merkle_proof(tree, 1024, index, count, proof, out) &&
                !tor_merkle_check(out, count, index, tor_merkle_nuncles(count, proof), 1024,
                                  tree + 32 * 2046) &&
                proof == 9)
                abort(); /* a full proof that does not lead to the root */
            free(out);
        }
    }
    return 0;
}
