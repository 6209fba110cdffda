/*
 * torrent/magnet — a magnet link (BEP 9): the info-hash (xt=urn:btih: in 40 hex digits or
 * 32 base32 characters), display name (dn), trackers (tr) and web seeds (ws), each value
 * percent-decoded. Performs no I/O; the strings are owned by the struct (tor_magnet_clear).
 */
#ifndef PIGEON_TORRENT_MAGNET_H
#define PIGEON_TORRENT_MAGNET_H

#include <stddef.h>
#include <stdint.h>

struct tor_magnet {
    uint8_t info_hash[20];
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
