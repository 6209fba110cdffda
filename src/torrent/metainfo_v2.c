/* torrent/metainfo_v2 — BEP 52's side of the info dictionary: the file tree (checked against
 * a hybrid's v1 files, or read as a v2-only torrent's files), the piece layers, and the
 * checks of a piece (SHA-1, or the merkle root of its 16 KiB blocks). See metainfo.h. */
#include "core/err.h"
#include "core/str.h"
#include "core/xmalloc.h"
#include "torrent/merkle.h"
#include "torrent/metainfo_int.h"

#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

struct tree_walk {
    bool build;      /* v2-only: the tree's files are the torrent's; hybrid: compared */
    size_t next;     /* hybrid: the v1 file the next tree file must match */
    struct str path; /* of the directory being walked */
};

/* v2-only: a file of the tree appended, after the padding that starts it on a piece. */
static int tree_add(struct reader *r, struct tree_walk *w, int64_t len, struct slice root)
{
    struct tor_meta *m = r->m;
    int rc = 0;
    if (len > 0 && m->total % m->piece_len)
        rc = meta_add_file(r, -1, slice_cstr(".pad"),
                           (int64_t)(m->piece_len - m->total % m->piece_len), true);
    if (rc == 0)
        rc = meta_add_file(r, -1, slice_make(w->path.ptr, w->path.len), len, false);
    if (rc < 0)
        return rc;
    memset(m->files[m->nfiles - 1].root, 0, 32);
    if (len > 0)
        memcpy(m->files[m->nfiles - 1].root, root.p, 32);
    return 0;
}

/* A file of the tree: {"length": n, "pieces root": 32 bytes (absent when empty)}. */
static int tree_file(struct reader *r, struct tree_walk *w, long leaf)
{
    const struct benc_doc *d = r->doc;
    struct tor_meta *m = r->m;
    int64_t len;
    struct slice root = slice_make(NULL, 0);
    if (!benc_dict_int(d, leaf, "length", &len) || len < 0)
        return meta_bad(r, "file tree: a file without a length");
    if (len > 0 && (!benc_dict_str(d, leaf, "pieces root", &root) || root.len != 32))
        return meta_bad(r, "file tree: a file without its pieces root");
    if (w->build)
        return tree_add(r, w, len, root);
    while (w->next < m->nfiles && m->files[w->next].pad)
        w->next++;
    if (w->next == m->nfiles)
        return meta_bad(r, "file tree and files differ");
    struct tor_file *f = &m->files[w->next++];
    if (f->length != (uint64_t)len || strcmp(f->path, w->path.ptr ? w->path.ptr : "") != 0)
        return meta_bad(r, "file tree and files differ");
    if (len > 0)
        memcpy(f->root, root.p, 32);
    return 0;
}

/* A directory of the tree (keys are path components; a file is a directory whose only key
 * is the empty string). Depth is bounded by the bencode parser's. */
static int tree_dir(struct reader *r, struct tree_walk *w, long dir, bool top)
{
    const struct benc_doc *d = r->doc;
    if (d->t[dir].type != BENC_DICT || d->t[dir].count == 0)
        return meta_bad(r, "bad file tree");
    for (long k = benc_first(d, dir); k >= 0 && (size_t)k < d->t[dir].next;) {
        long v = (long)d->t[k].next;
        struct slice key = d->t[k].s;
        int rc;
        if (key.len == 0) {
            if (top || d->t[dir].count != 2 || d->t[v].type != BENC_DICT)
                return meta_bad(r, "bad file tree");
            rc = tree_file(r, w, v);
        } else if (!meta_component_ok(key)) {
            return meta_bad(r, "unsafe file path");
        } else {
            size_t keep = w->path.len;
            if (keep)
                str_appendc(&w->path, '/');
            str_append(&w->path, key.p, key.len);
            rc = tree_dir(r, w, v, false);
            w->path.len = keep;
            if (w->path.ptr)
                w->path.ptr[keep] = '\0';
        }
        if (rc < 0)
            return rc;
        k = (long)d->t[v].next;
    }
    return 0;
}

int meta_check_tree(struct reader *r, long info)
{
    long tree = benc_dict_get(r->doc, info, "file tree");
    if (tree < 0)
        return meta_bad(r, "meta version 2 without a file tree");
    struct tree_walk w = {.path = STR_INIT};
    int rc = tree_dir(r, &w, tree, true);
    str_clear(&w.path);
    if (rc < 0)
        return rc;
    while (w.next < r->m->nfiles && r->m->files[w.next].pad)
        w.next++;
    if (w.next != r->m->nfiles)
        return meta_bad(r, "file tree and files differ");
    r->m->v2 = true;
    return 0;
}

/* The piece layer of a file (its pieces' roots, 32 bytes each) from the .torrent's "piece
 * layers", found by the file's pieces root. */
static bool find_layer(const struct reader *r, struct slice root, struct slice *out)
{
    const struct benc_doc *d = r->doc;
    long layers = r->top >= 0 ? benc_dict_get(d, r->top, "piece layers") : -1;
    if (layers < 0 || d->t[layers].type != BENC_DICT)
        return false;
    for (long k = benc_first(d, layers); k >= 0 && (size_t)k < d->t[layers].next;) {
        long v = (long)d->t[k].next;
        if (d->t[k].s.len == 32 && memcmp(d->t[k].s.p, root.p, 32) == 0 &&
            d->t[v].type == BENC_STR) {
            *out = d->t[v].s;
            return true;
        }
        k = (long)d->t[v].next;
    }
    return false;
}

/* A file's piece layer not in the .torrent: listed for tor_meta_layers_wanted, or an
 * error (a hybrid goes on without its layers: its pieces have their SHA-1s). */
static int layer_missing(struct reader *r, const struct tor_file *f, uint32_t n, bool need)
{
    if (r->collect) {
        r->wants = xrealloc(r->wants, (r->nwants + 1) * sizeof *r->wants);
        memcpy(r->wants[r->nwants].root, f->root, 32);
        r->wants[r->nwants++].npieces = n;
        return 0;
    }
    if (!need)
        return 1;
    return meta_bad(r, r->top < 0 ? "v2-only metadata without its piece layers"
                                  : "a file without its piece layer");
}

/* Each piece's root into dst (32 * npieces): a file of one piece is its pieces root; a
 * longer file's come from its piece layer, which must fold up to the pieces root. 1: a
 * layer is missing and !need. */
static int read_layers(struct reader *r, uint8_t *dst, bool need)
{
    struct tor_meta *m = r->m;
    uint8_t zero[32], top[32];
    tor_merkle_zero(m->piece_len / TOR_MERKLE_BLOCK, zero);
    for (size_t i = 0; i < m->nfiles; i++) {
        const struct tor_file *f = &m->files[i];
        if (f->pad || f->length == 0)
            continue;
        size_t first = (size_t)(f->offset / m->piece_len);
        size_t n = (size_t)((f->length + m->piece_len - 1) / m->piece_len);
        if (n == 1) {
            memcpy(dst + 32 * first, f->root, 32);
            continue;
        }
        struct slice layer;
        if (!find_layer(r, slice_make((const char *)f->root, 32), &layer)) {
            int rc = layer_missing(r, f, (uint32_t)n, need);
            if (rc != 0)
                return rc;
            continue;
        }
        if (layer.len != 32 * n)
            return meta_bad(r, "piece layer of the wrong length");
        tor_merkle_over((const uint8_t *)layer.p, n, tor_merkle_pow2(n), zero, top);
        if (memcmp(top, f->root, 32) != 0)
            return meta_bad(r, "piece layer does not match its pieces root");
        memcpy(dst + 32 * first, layer.p, layer.len);
    }
    return 0;
}

int meta_hybrid_layers(struct reader *r)
{
    struct tor_meta *m = r->m;
    m->layers = xcalloc(m->npieces, 32);
    int rc = read_layers(r, m->layers, false);
    if (rc != 0) {
        free(m->layers);
        m->layers = NULL;
    }
    return rc < 0 ? rc : 0;
}

/* BEP 52: a single file is a tree of one entry, the torrent's name, that is a file. */
static bool single_file(const struct benc_doc *d, long tree, const char *name)
{
    long k = benc_first(d, tree);
    if (d->t[tree].type != BENC_DICT || d->t[tree].count != 2 || k < 0 ||
        !slice_eq(d->t[k].s, name))
        return false;
    long v = (long)d->t[k].next, inner = benc_first(d, v);
    return d->t[v].type == BENC_DICT && d->t[v].count == 2 && inner >= 0 &&
           d->t[inner].s.len == 0;
}

int meta_read_v2(struct reader *r, long info)
{
    struct tor_meta *m = r->m;
    long tree = benc_dict_get(r->doc, info, "file tree");
    if (tree < 0)
        return meta_bad(r, "meta version 2 without a file tree");
    m->multi = !single_file(r->doc, tree, m->name);
    struct tree_walk w = {.build = true, .path = STR_INIT};
    int rc = tree_dir(r, &w, tree, true);
    str_clear(&w.path);
    uint64_t np = (m->total + m->piece_len - 1) / m->piece_len;
    if (rc == 0 && (m->total == 0 || np > UINT32_MAX))
        rc = meta_bad(r, "piece count does not match the length");
    if (rc == 0 && np > TOR_MAX_PIECES)
        rc = meta_bad(r, "too many pieces");
    if (rc == 0) {
        m->npieces = (uint32_t)np;
        m->pieces = xcalloc(np, 32);
        rc = read_layers(r, m->pieces, true);
    }
    if (rc < 0)
        return rc;
    m->v2 = m->v2_only = true;
    return 0;
}

bool tor_meta_piece_ok(const struct tor_meta *m, uint32_t piece, const uint8_t *data, size_t len)
{
    if (!m->v2_only) {
        uint8_t h[20];
        SHA1(data, len, h);
        return memcmp(h, m->pieces + 20 * (size_t)piece, 20) == 0;
    }
    /* the file the piece starts in: the first whose end is past the piece's start (a piece
     * never starts in padding, which only fills the rest of a file's last piece) */
    uint64_t start = (uint64_t)piece * m->piece_len;
    size_t lo = 0, hi = m->nfiles;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->files[mid].offset + m->files[mid].length > start)
            hi = mid;
        else
            lo = mid + 1;
    }
    if (lo == m->nfiles || m->files[lo].pad)
        return false;
    const struct tor_file *f = &m->files[lo];
    uint64_t left = f->offset + f->length - start;
    size_t bytes = left < len ? (size_t)left : len;
    /* a piece of a longer file is a subtree of a piece's leaves; a file of one piece or less
     * is a tree of its own blocks */
    size_t leaves = f->length > m->piece_len
                        ? (size_t)(m->piece_len / TOR_MERKLE_BLOCK)
                        : tor_merkle_pow2((size_t)((f->length + TOR_MERKLE_BLOCK - 1) /
                                                   TOR_MERKLE_BLOCK));
    uint8_t root[32];
    tor_merkle_root(data, bytes, leaves, root);
    return memcmp(root, m->pieces + 32 * (size_t)piece, 32) == 0;
}

const uint8_t *tor_meta_layer(const struct tor_meta *m, size_t file, uint32_t *n)
{
    const struct tor_file *f = &m->files[file];
    const uint8_t *base = m->v2_only ? m->pieces : m->layers;
    if (!base || f->pad || f->length <= m->piece_len)
        return NULL;
    *n = (uint32_t)((f->length + m->piece_len - 1) / m->piece_len);
    return base + 32 * (size_t)(f->offset / m->piece_len);
}

long tor_meta_file_by_root(const struct tor_meta *m, const uint8_t root[32])
{
    static const uint8_t none[32];
    if (memcmp(root, none, 32) == 0)
        return -1;
    for (size_t i = 0; i < m->nfiles; i++)
        if (memcmp(m->files[i].root, root, 32) == 0)
            return (long)i;
    return -1;
}
