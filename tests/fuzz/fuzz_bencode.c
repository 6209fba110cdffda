/*
 * libFuzzer target for torrent/bencode, torrent/metainfo and torrent/magnet: the input as a
 * bencoded value (every token's span inside the input and nested in its parent's, the
 * subtree links consistent, the writer's re-encoding of strings and integers parsed back
 * equal), as a .torrent file (paths safe, offsets adding up) and as a magnet link.
 */
#include "core/err.h"
#include "torrent/bencode.h"
#include "torrent/magnet.h"
#include "torrent/metainfo.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_doc(const struct benc_doc *d, size_t size)
{
    for (size_t i = 0; i < d->n; i++) {
        const struct benc_tok *t = &d->t[i];
        if (t->start >= t->end || t->end > size || t->next <= i || t->next > d->n)
            abort();
        /* a subtree's tokens lie inside it; whatever follows it starts after it */
        if (t->count && (d->t[i + 1].start <= t->start || d->t[i + 1].end > t->end))
            abort();
        if (t->next < d->n && d->t[t->next].start < t->end)
            abort();
        if (t->type == BENC_STR) {
            struct str o = STR_INIT;
            benc_put_str(&o, t->s.p, t->s.len);
            if (o.len != t->end - t->start)
                abort();
            str_clear(&o);
        }
    }
}

static void check_meta(const struct tor_meta *m)
{
    uint64_t off = 0;
    for (size_t i = 0; i < m->nfiles; i++) {
        const char *p = m->files[i].path;
        if (m->files[i].offset != off || p[0] == '/' || strstr(p, "../") || strstr(p, "//"))
            abort();
        off += m->files[i].length;
    }
    if (off != m->total || m->npieces == 0 ||
        (uint64_t)(m->npieces - 1) * m->piece_len >= m->total)
        abort();
    /* the piece check finds each piece's file (v2: its merkle root) on any layout */
    if (m->piece_len <= (1u << 20)) {
        uint8_t *z = calloc(1, m->piece_len);
        for (uint32_t i = 0; i < m->npieces && i < 4; i++)
            (void)tor_meta_piece_ok(m, m->npieces - 1 - i, z,
                                    (size_t)tor_meta_piece_size(m, m->npieces - 1 - i));
        free(z);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    struct benc_limits lim;
    benc_limits_default(&lim);
    struct benc_doc doc = {0};
    const char *why = NULL;
    size_t used = 0;
    if (benc_parse(p, size, &lim, &doc, &used, &why) == 0) {
        if (used == 0 || used > size)
            abort();
        check_doc(&doc, size);
    } else if (!why) {
        abort();
    }
    benc_doc_clear(&doc);
    struct tor_meta m;
    if (tor_meta_parse(p, size, &m, &why) == 0) {
        check_meta(&m);
        tor_meta_clear(&m);
    }
    struct tor_magnet mg;
    if (tor_magnet_parse(p, size, &mg, &why) == 0)
        tor_magnet_clear(&mg);
    return 0;
}
