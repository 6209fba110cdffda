/*
 * torrent/tracker_proto — the tracker's two wire forms over the engine (tracker.h):
 *
 * HTTP (BEP 3, BEP 23 compact peers and BEP 7 peers6, BEP 48 scrape): the query string of
 * /announce or /scrape in, a bencoded body out — a `failure reason` for every bad request
 * (missing or malformed info_hash, peer_id, port, numbers, event), never an HTTP error.
 *
 * UDP (BEP 15): connect, announce (IPv4 and IPv6 forms), scrape, error; connection ids are
 * a keyed hash of the source address and the minute, accepted for two minutes, so the
 * tracker keeps no state per connection.
 *
 * Pure: now and the secret are passed in; performs no I/O. The caller serialises calls on a
 * tracker.
 */
#ifndef PIGEON_TORRENT_TRACKER_PROTO_H
#define PIGEON_TORRENT_TRACKER_PROTO_H

#include "core/str.h"
#include "torrent/tracker.h"

#include <stddef.h>
#include <stdint.h>

/* Parses an announce query into *a (addr is left to the caller). NULL, or the failure
 * reason (static text). Exposed for tests and the fuzz target. */
const char *tracker_http_parse_announce(struct slice query, struct tracker_announce *a,
                                        bool *compact_out);

/* Answers GET /announce?query from addr: the bencoded body is appended to out. */
void tracker_http_announce(struct tracker *t, struct slice query, const struct tracker_addr *addr,
                           int64_t now, struct str *out);
/* Answers GET /scrape?query (one or more info_hash). */
void tracker_http_scrape(struct tracker *t, struct slice query, const struct tracker_addr *addr,
                         int64_t now, struct str *out);
/* A bencoded {failure reason: why}. */
void tracker_http_failure(struct str *out, const char *why);

#define TRACKER_UDP_MAX 1500

/*
 * One UDP datagram from addr: the reply is written to out (cap TRACKER_UDP_MAX) and its
 * length returned; 0 when nothing must be sent (too short to carry a transaction id).
 */
size_t tracker_udp_process(struct tracker *t, const uint8_t secret[32], const uint8_t *pkt,
                           size_t n, const struct tracker_addr *addr, int64_t now, uint8_t *out);

#endif
