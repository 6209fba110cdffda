/*
 * torrent/tracker_client — the peer's side of a tracker: the announce query string and the
 * parsers of the answers (HTTP: a bencoded dictionary with compact or dictionary peers and
 * peers6; UDP, BEP 15: the announce reply). Pure: the service's announce.c does the I/O.
 */
#ifndef PIGEON_TORRENT_TRACKER_CLIENT_H
#define PIGEON_TORRENT_TRACKER_CLIENT_H

#include "core/str.h"

#include <stddef.h>
#include <stdint.h>

#define TOR_ANNOUNCE_MAX_PEERS 200

enum tor_event { TOR_EV_NONE = 0, TOR_EV_COMPLETED = 1, TOR_EV_STARTED = 2, TOR_EV_STOPPED = 3 };

struct tor_announce_req {
    uint8_t info_hash[20], peer_id[20];
    uint16_t port;
    uint64_t uploaded, downloaded, left;
    enum tor_event event;
};

struct tor_peer_addr {
    uint8_t ip[16];
    int family; /* AF_INET or AF_INET6 */
    uint16_t port;
};

struct tor_announce_res {
    char failure[160];  /* empty: success */
    uint32_t interval, min_interval;
    struct tor_peer_addr peers[TOR_ANNOUNCE_MAX_PEERS];
    size_t npeers;
};

/* The query string (after '?') of an HTTP announce. */
void tor_announce_query(const struct tor_announce_req *q, struct str *out);
/* Parses an HTTP tracker's bencoded body into *r (failure set on any error). */
void tor_announce_parse_http(const char *body, size_t n, struct tor_announce_res *r);
/* Parses a BEP 15 announce reply (after checking action and transaction id); family of
 * the request's socket. */
void tor_announce_parse_udp(const uint8_t *p, size_t n, uint32_t tid, int family,
                            struct tor_announce_res *r);

#endif
