/*
 * torrent/tracker — the tracker's engine (BEP 3, BEP 23, BEP 48, BEP 15's data): the peers of
 * each torrent keyed by source address and port, announce (started/completed/stopped, left,
 * numwant), scrape, expiry of peers that stopped announcing, an optional allow-list of
 * info-hashes (a private tracker), and limits: torrents, peers per torrent, announces per
 * source address (a token bucket per address).
 *
 * The HTTP codec (tracker_http.c) and the UDP codec (tracker_udp.c) turn requests into these
 * calls. The engine reads no clock (now is passed in, in seconds), does no I/O and takes no
 * lock: the service serialises calls. Memory is owned by the tracker (tracker_free).
 */
#ifndef PIGEON_TORRENT_TRACKER_H
#define PIGEON_TORRENT_TRACKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TRACKER_MAX_NUMWANT 200
#define TRACKER_MAX_SCRAPE 74 /* BEP 15's UDP limit; HTTP scrape uses the same */

struct tracker_limits {
    uint32_t interval; /* seconds between announces we ask for */
    uint32_t min_interval;
    uint32_t expire; /* a peer silent this long is dropped */
    uint32_t numwant_default;
    uint32_t max_torrents;
    uint32_t max_peers;  /* per torrent */
    uint32_t flood_rate; /* announces per second per source address; 0: no limit */
    uint32_t flood_burst;
    bool allow_list; /* only info-hashes added with tracker_allow */
};

enum tracker_event { TRACKER_NONE, TRACKER_COMPLETED, TRACKER_STARTED, TRACKER_STOPPED };

struct tracker_addr {
    uint8_t ip[16]; /* IPv4 in the first 4 bytes */
    bool v6;
};

struct tracker_announce {
    uint8_t info_hash[20];
    uint8_t peer_id[20];
    struct tracker_addr addr;
    uint16_t port;
    uint64_t uploaded, downloaded, left;
    enum tracker_event event;
    int32_t numwant; /* < 0: the default */
};

struct tracker_peer_out {
    struct tracker_addr addr;
    uint16_t port;
    uint8_t peer_id[20];
};

struct tracker_reply {
    const char *failure; /* static text, or NULL */
    uint32_t interval, min_interval;
    uint32_t complete, incomplete, downloaded;
    struct tracker_peer_out peers[TRACKER_MAX_NUMWANT];
    size_t npeers;
};

struct tracker_counts {
    uint32_t complete, incomplete, downloaded;
};

struct tracker;

struct tracker *tracker_new(const struct tracker_limits *lim, uint64_t seed);
void tracker_free(struct tracker *t);
void tracker_set_limits(struct tracker *t, const struct tracker_limits *lim);
/* Adds an info-hash to the allow-list (used when lim.allow_list is set). */
void tracker_allow(struct tracker *t, const uint8_t info_hash[20]);

/* Runs one announce at time now; the reply (or its failure) is in *r. */
void tracker_announce(struct tracker *t, const struct tracker_announce *a, int64_t now,
                      struct tracker_reply *r);
/* Counts for each hash (zeros for an unknown torrent). 0, or a failure text (static) when
 * the source is flooding. */
const char *tracker_scrape(struct tracker *t, const struct tracker_addr *from,
                           const uint8_t (*hashes)[20], size_t n, int64_t now,
                           struct tracker_counts *out);
/* Drops peers silent for lim.expire and torrents left empty. Returns the peers dropped. */
size_t tracker_expire(struct tracker *t, int64_t now);
/* Totals, for logs and /metrics. */
void tracker_stats(const struct tracker *t, size_t *torrents, size_t *peers);

/* Text address (inet_ntop form, IPv4-mapped IPv6 taken as IPv4) into *a; false if bad. */
bool tracker_addr_parse(const char *text, struct tracker_addr *a);
/* The same from the address's bytes: ip[0..4) (IPv4) or ip[0..16) (v6; IPv4-mapped taken
 * as IPv4). */
void tracker_addr_set(struct tracker_addr *a, const uint8_t *ip, bool v6);

#endif
