/* torrent/layerfetch — see layerfetch.h. */
#include "torrent/layerfetch.h"

#include "core/xmalloc.h"
#include "torrent/bencode.h"
#include "torrent/merkle.h"

#include <stdlib.h>
#include <string.h>

struct chunk {
    uint32_t file;  /* index in wants */
    uint32_t index; /* its first hash in the layer */
    uint32_t count; /* a power of two; past the file's end: padding */
    uint64_t peer;  /* asked of, 0: not asked */
    uint64_t asked_at;
    bool got;
};

struct tor_lfetch {
    struct tor_layer_want *wants;
    uint8_t **layers; /* per want: 32 * npieces */
    size_t nwants;
    unsigned base; /* the piece layer's number (0: 16 KiB blocks) */
    struct chunk *chunks;
    size_t nchunks, ngot;
};

struct tor_lfetch *tor_lfetch_new(const struct tor_layer_want *wants, size_t n, uint64_t piece_len)
{
    struct tor_lfetch *lf = xcalloc(1, sizeof *lf);
    lf->wants = xmalloc(n * sizeof *wants);
    memcpy(lf->wants, wants, n * sizeof *wants);
    lf->nwants = n;
    lf->layers = xcalloc(n, sizeof *lf->layers);
    lf->base = tor_merkle_log2((size_t)(piece_len / TOR_MERKLE_BLOCK));
    for (size_t i = 0; i < n; i++) {
        uint32_t np = wants[i].npieces;
        lf->layers[i] = xcalloc(np, 32);
        for (uint32_t at = 0; at < np; at += TOR_MERKLE_MAX_COUNT) {
            lf->chunks = xrealloc(lf->chunks, (lf->nchunks + 1) * sizeof *lf->chunks);
            uint32_t left = np - at;
            lf->chunks[lf->nchunks++] = (struct chunk){
                .file = (uint32_t)i,
                .index = at,
                /* never 1: libtorrent 2.0 answers a chunk of 1 without the sibling at
                 * its own level (merkle_tree::get_hashes), one uncle short of BEP 52's
                 * proof; a chunk of 2 (its second hash the padding) it answers in full */
                .count = left >= TOR_MERKLE_MAX_COUNT ? TOR_MERKLE_MAX_COUNT
                         : left == 1                  ? 2u
                                                      : (uint32_t)tor_merkle_pow2(left),
            };
        }
    }
    return lf;
}

void tor_lfetch_free(struct tor_lfetch *lf)
{
    if (!lf)
        return;
    for (size_t i = 0; i < lf->nwants; i++)
        free(lf->layers[i]);
    free(lf->layers);
    free(lf->wants);
    free(lf->chunks);
    free(lf);
}

static void put32(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)(v >> 24), b[1] = (uint8_t)(v >> 16), b[2] = (uint8_t)(v >> 8);
    b[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* The layer above the pieces has width hashes; the proof reaches just below the root. */
static size_t width_of(const struct tor_lfetch *lf, const struct chunk *c)
{
    return tor_merkle_pow2(lf->wants[c->file].npieces);
}

static void head_of(const struct tor_lfetch *lf, const struct chunk *c, uint8_t head[48])
{
    memcpy(head, lf->wants[c->file].root, 32);
    put32(head + 32, lf->base);
    put32(head + 36, c->index);
    put32(head + 40, c->count);
    put32(head + 44, tor_merkle_log2(width_of(lf, c)) - 1);
}

bool tor_lfetch_next(struct tor_lfetch *lf, uint64_t peer, uint64_t now, uint8_t head[48])
{
    size_t mine = 0;
    struct chunk *pick = NULL;
    for (size_t i = 0; i < lf->nchunks; i++) {
        struct chunk *c = &lf->chunks[i];
        mine += !c->got && c->peer == peer;
        if (!pick && !c->got && c->peer == 0)
            pick = c;
    }
    if (!pick || mine >= TOR_LFETCH_PER_PEER)
        return false;
    pick->peer = peer;
    pick->asked_at = now;
    head_of(lf, pick, head);
    return true;
}

/* The chunk of peer that head asks for, or NULL. */
static struct chunk *find(struct tor_lfetch *lf, uint64_t peer, const uint8_t head[48])
{
    for (size_t i = 0; i < lf->nchunks; i++) {
        struct chunk *c = &lf->chunks[i];
        uint8_t h[48];
        head_of(lf, c, h);
        if (c->peer == peer && !c->got && memcmp(h, head, 48) == 0)
            return c;
    }
    return NULL;
}

int tor_lfetch_hashes(struct tor_lfetch *lf, uint64_t peer, const uint8_t *data, size_t n)
{
    struct chunk *c = n >= 48 ? find(lf, peer, data) : NULL;
    if (!c)
        return 0;
    size_t width = width_of(lf, c);
    size_t nuncles = tor_merkle_nuncles(c->count, get32(data + 44));
    if (n != 48 + 32 * (c->count + nuncles) ||
        !tor_merkle_check(data + 48, c->count, c->index, nuncles, width, lf->wants[c->file].root))
        return -1;
    uint32_t np = lf->wants[c->file].npieces;
    uint32_t real = np - c->index < c->count ? np - c->index : c->count;
    memcpy(lf->layers[c->file] + 32 * (size_t)c->index, data + 48, 32 * (size_t)real);
    c->got = true;
    lf->ngot++;
    return 0;
}

void tor_lfetch_reject(struct tor_lfetch *lf, uint64_t peer, const uint8_t head[48])
{
    struct chunk *c = find(lf, peer, head);
    if (c)
        c->peer = 0;
}

void tor_lfetch_peer_gone(struct tor_lfetch *lf, uint64_t peer)
{
    for (size_t i = 0; i < lf->nchunks; i++)
        if (lf->chunks[i].peer == peer && !lf->chunks[i].got)
            lf->chunks[i].peer = 0;
}

void tor_lfetch_tick(struct tor_lfetch *lf, uint64_t now)
{
    for (size_t i = 0; i < lf->nchunks; i++) {
        struct chunk *c = &lf->chunks[i];
        if (!c->got && c->peer && now - c->asked_at > TOR_LFETCH_TIMEOUT_MS)
            c->peer = 0;
    }
}

bool tor_lfetch_done(const struct tor_lfetch *lf)
{
    return lf->ngot == lf->nchunks;
}

static int by_root(const void *a, const void *b)
{
    return memcmp(((const struct tor_layer_want *)a)->root,
                  ((const struct tor_layer_want *)b)->root, 32);
}

void tor_lfetch_encode(const struct tor_lfetch *lf, struct str *out)
{
    /* bencoded keys in byte order: the wants sorted, each with its layer */
    struct {
        struct tor_layer_want w;
        size_t i;
    } *order = xmalloc(lf->nwants * sizeof *order);
    for (size_t i = 0; i < lf->nwants; i++)
        order[i].w = lf->wants[i], order[i].i = i;
    qsort(order, lf->nwants, sizeof *order, by_root);
    benc_open_dict(out);
    for (size_t k = 0; k < lf->nwants; k++) {
        if (k && memcmp(order[k].w.root, order[k - 1].w.root, 32) == 0)
            continue; /* two files of the same content: one entry */
        benc_put_str(out, order[k].w.root, 32);
        benc_put_str(out, lf->layers[order[k].i], 32 * (size_t)order[k].w.npieces);
    }
    benc_close(out);
    free(order);
}

void tor_lfetch_progress(const struct tor_lfetch *lf, uint32_t *got, uint32_t *total)
{
    *got = (uint32_t)lf->ngot;
    *total = (uint32_t)lf->nchunks;
}
