/*
 * torrent/service/storage — a torrent's files on disk: created (sparse) under the download
 * directory on open, blocks read and pieces written across file boundaries, a piece hashed
 * against the metainfo. Blocking (pread/pwrite): reads of single blocks run on the worker
 * (as POP3's blob reads), whole-piece hashing and writes on the service's pool.
 */
#ifndef PIGEON_TORRENT_SERVICE_STORAGE_H
#define PIGEON_TORRENT_SERVICE_STORAGE_H

#include "torrent/metainfo.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tor_storage {
    const struct tor_meta *m;
    int *fds;
    size_t nfds;
};

/* Opens (creating) every file of m under dir. 0, or -1 with *why (static or errno text). */
int tor_storage_open(struct tor_storage *st, const struct tor_meta *m, const char *dir,
                     const char **why);
void tor_storage_close(struct tor_storage *st);
/* len bytes at (piece, begin) into out; 0 or -1. */
int tor_storage_read(const struct tor_storage *st, uint32_t piece, uint32_t begin, uint32_t len,
                     uint8_t *out);
/* A whole piece; 0 or -1. */
int tor_storage_write(const struct tor_storage *st, uint32_t piece, const uint8_t *data,
                      size_t len);
/* Whether data (a whole piece) hashes to the metainfo's SHA-1 for piece. */
bool tor_storage_hash_ok(const struct tor_meta *m, uint32_t piece, const uint8_t *data,
                         size_t len);
/* Reads piece from disk and checks it (resume); buf holds at least piece_len bytes. */
bool tor_storage_check(const struct tor_storage *st, uint32_t piece, uint8_t *buf);

#endif
