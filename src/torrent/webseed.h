/*
 * torrent/webseed — a web seed (BEP 19, the url-list of a .torrent): an HTTP server holding
 * the torrent's files, shown to the swarm as one more peer. To the swarm it is a peer that
 * has every piece and unchokes at once; the requests the swarm writes to it become HTTP byte
 * ranges of the files (queued blocks that follow each other in the torrent's byte stream
 * are joined into one job, split where a file ends), and the bytes that come back become
 * the piece messages the swarm reads. Its data is checked like any peer's: a web seed that
 * serves bad pieces is banned by the swarm. A failed fetch chokes (the swarm takes its
 * requests back) until the caller unchokes it again.
 *
 * File URLs follow BEP 19: a URL ending in '/' gets the torrent's name appended; for a
 * multi-file torrent the name is the directory and each file's path follows it, every
 * component percent-encoded (RFC 3986 unreserved characters kept). Pure: no I/O; memory
 * owned by the struct.
 */
#ifndef PIGEON_TORRENT_WEBSEED_H
#define PIGEON_TORRENT_WEBSEED_H

#include "core/str.h"
#include "torrent/metainfo.h"
#include "torrent/picker.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOR_WS_MAX_JOB (1u << 20) /* bytes fetched by one job */
#define TOR_WS_MAX_RANGES 16      /* files one job may span */
#define TOR_WS_MAX_BLOCKS 64      /* blocks one job answers */

struct tor_ws_range {
    size_t file;
    uint64_t offset, length; /* within the file */
    bool pad;                /* BEP 47 padding: zeros, not fetched */
};

struct tor_ws_job {
    uint64_t start, len; /* in the torrent's byte stream */
    struct tor_ws_range r[TOR_WS_MAX_RANGES];
    size_t nr;
    struct tor_block b[TOR_WS_MAX_BLOCKS]; /* in stream order */
    size_t nb;
};

struct tor_webseed;

struct tor_webseed *tor_webseed_new(const struct tor_meta *m, const char *url);
void tor_webseed_free(struct tor_webseed *ws);

/* The URL of file i (BEP 19), appended to out. */
void tor_webseed_file_url(const struct tor_webseed *ws, size_t file, struct str *out);
/* What the web seed "says" first: handshake, a bitfield of every piece, unchoke. */
void tor_webseed_hello(const struct tor_webseed *ws, struct str *out);
/* Bytes the swarm wrote to it: requests queued, cancels honoured, the rest ignored.
 * 0, or -1 when they are not the wire protocol. */
int tor_webseed_from_swarm(struct tor_webseed *ws, const uint8_t *p, size_t n);
/* The next fetch (false: nothing queued, or choked). Its blocks leave the queue. A job with
 * no ranges (one block over more than TOR_WS_MAX_RANGES files) cannot be fetched. */
bool tor_webseed_next(struct tor_webseed *ws, struct tor_ws_job *job);
/* The job's data came (job->len bytes, in stream order): piece messages for the swarm. */
void tor_webseed_answer(const struct tor_ws_job *job, const uint8_t *data, struct str *out);
/* The job failed: a choke for the swarm (it takes back every request), and the queue is
 * emptied; tor_webseed_unchoke later lets the swarm ask again. */
void tor_webseed_choke(struct tor_webseed *ws, struct str *out);
void tor_webseed_unchoke(struct tor_webseed *ws, struct str *out);
bool tor_webseed_choked(const struct tor_webseed *ws);

#endif
