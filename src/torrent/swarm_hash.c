/* torrent/swarm_hash — BEP 52's hash requests answered: a v2 peer that fetched a v2 torrent
 * through a magnet link has its files' pieces roots but not their piece layers, and asks for
 * them in pieces of up to 512 hashes, each with the uncle hashes that tie it to the root.
 * The piece layers come from the torrent (tor_meta_layer); the tree above a file's layer is
 * built on its first request and kept for the next ones (peers ask for a file's layer chunk
 * after chunk), one file at a time. Anything else (another layer of the tree, a file we keep
 * no layer of, a request that does not fit the tree) gets a hash reject. See swarm.h. */
#include "torrent/swarm_int.h"

#include "core/xmalloc.h"
#include "torrent/merkle.h"

#include <stdlib.h>
#include <string.h>

static uint32_t be32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* The tree over the piece layer of the file whose pieces root is root, or NULL. Each file's
 * is built once, on its first request, and kept: peers ask for several files' layers in
 * turn, and a tree rebuilt per request was a whole file's hashing per 53-byte message. */
static const uint8_t *layer_tree(struct tor_swarm *s, const uint8_t root[32], size_t *width)
{
    long f = tor_meta_file_by_root(s->m, root);
    uint32_t n;
    const uint8_t *layer = f < 0 ? NULL : tor_meta_layer(s->m, (size_t)f, &n);
    if (!layer)
        return NULL;
    *width = tor_merkle_pow2(n);
    if (!s->trees)
        s->trees = xcalloc(s->m->nfiles, sizeof *s->trees);
    if (!s->trees[f]) {
        uint8_t pad[32];
        tor_merkle_zero(s->m->piece_len / TOR_MERKLE_BLOCK, pad);
        s->trees[f] = tor_merkle_tree(layer, n, *width, pad);
    }
    return s->trees[f];
}

void swarm_hash_request(struct tor_swarm *s, struct tor_peer *p, const struct tor_msg *m)
{
    const uint8_t *head = (const uint8_t *)m->data.p;
    uint32_t base = be32(head + 32), index = be32(head + 36), count = be32(head + 40),
             proof = be32(head + 44);
    unsigned piece_layer = tor_merkle_log2(s->m->piece_len / TOR_MERKLE_BLOCK);
    size_t width = 0;
    /* a connection backed up with data gets rejects, as for metadata (swarm_ext.c): an
     * answer is ~330 times its request */
    bool backed_up = s->ops->pending(p->conn) >= OUT_HIGH_WATER;
    const uint8_t *tree =
        !backed_up && base == piece_layer ? layer_tree(s, head, &width) : NULL;
    struct str out = STR_INIT;
    /* checked before the answer's size is worked out from them */
    if (tree && count <= TOR_MERKLE_MAX_COUNT && proof < tor_merkle_log2(width)) {
        size_t n = count + tor_merkle_nuncles(count, proof);
        uint8_t *hashes = xmalloc(32 * n);
        if (tor_merkle_proof(tree, width, index, count, proof, hashes))
            tor_wire_put_hashes(&out, head, hashes, n);
        free(hashes);
    }
    if (out.len == 0) {
        if (!p->hash_refused && !backed_up) /* once per peer: no log line per message */
            swarm_log(s, p,
                      "%s: hash request refused (layer %u, %u hashes from %u, %u proof layers)",
                      p->addr, base, count, index, proof);
        p->hash_refused = p->hash_refused || !backed_up;
        tor_wire_put_hash_reject(&out, head);
    }
    swarm_send(s, p, &out);
    str_clear(&out);
}
