/* torrent/metainfo — what metainfo.c (BEP 3, v1) and metainfo_v2.c (BEP 52) share. */
#ifndef PIGEON_TORRENT_METAINFO_INT_H
#define PIGEON_TORRENT_METAINFO_INT_H

#include "torrent/bencode.h"
#include "torrent/metainfo.h"

struct reader {
    const struct benc_doc *doc;
    long top; /* the .torrent's dictionary (piece layers), -1: a bare info dictionary */
    struct tor_meta *m;
    const char *why;
    bool collect;                 /* tor_meta_layers_wanted: missing layers are listed */
    struct tor_layer_want *wants; /* ... here */
    size_t nwants;
};

/* Records why (static text) and returns ERR_PARSE. */
int meta_bad(struct reader *r, const char *why);
/* One path component, checked (no "..", ".", empty, '/', '\\' or NUL; 255 bytes at most). */
bool meta_component_ok(struct slice s);
/* Appends a file: its path a bencoded list of components (path >= 0) or single. */
int meta_add_file(struct reader *r, long path, struct slice single, int64_t len, bool pad);

/* metainfo_v2.c: a hybrid's file tree checked against the v1 files already read. */
int meta_check_tree(struct reader *r, long info);
/* metainfo_v2.c: a v2-only torrent's files (padding made where BEP 52 aligns them) and
 * piece hashes (merkle roots from the piece layers). */
int meta_read_v2(struct reader *r, long info);
/* metainfo_v2.c: a hybrid's piece layers, kept in m->layers when the .torrent has them. */
int meta_hybrid_layers(struct reader *r);

#endif
