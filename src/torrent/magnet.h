/*
 * torrent/magnet — a magnet link (BEP 9): the info-hash (xt=urn:btih: in 40 hex digits or
 * 32 base32 characters) and/or the v2 info-hash (BEP 52: xt=urn:btmh:1220 and 64 hex digits,
 * a SHA-256 multihash), display name (dn), trackers (tr) and web seeds (ws), each value
 * percent-decoded. Performs no I/O; the strings are owned by the struct (tor_magnet_clear).
 */
#ifndef PIGEON_TORRENT_MAGNET_H
#define PIGEON_TORRENT_MAGNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tor_magnet {
    uint8_t info_hash[20]; /* v2_only: info_hash_v2 truncated */
    bool v2;               /* a btmh hash was given */
    bool v2_only;          /* ... and no btih */
    uint8_t info_hash_v2[32];
    char *name; /* NULL when absent */
    char **trackers;
    size_t ntrackers;
    char **webseeds;
    size_t nwebseeds;
};

/* 0, or ERR_PARSE/ERR_LIMIT with *why_out (static text). */
int tor_magnet_parse(const char *uri, size_t n, struct tor_magnet *m, const char **why_out);
void tor_magnet_clear(struct tor_magnet *m);

/* Percent-decodes s[0..n) into out (cap >= n); returns the length or -1 on a bad escape.
 * '+' is kept as is. */
long tor_percent_decode(const char *s, size_t n, char *out);

#endif
