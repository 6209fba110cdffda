/*
 * torrent/dht — a node of the BitTorrent DHT (BEP 5), the tracker-less way of finding a
 * torrent's peers: every node has a 160-bit id, keeps a routing table of other nodes
 * (dht_table.h), answers ping, find_node, get_peers and announce_peer (krpc.h), and stores
 * the peers announced to it for the info-hashes near its id. get_peers hands out a token
 * (a keyed hash of the asker's IPv4 address under a secret that changes every 5 minutes,
 * the previous one still accepted, so a token lives 5 to 10 minutes as BEP 5 asks);
 * announce_peer is accepted only with a valid token, so nobody can announce an address that
 * is not its own.
 *
 * Our own side: a lookup walks towards an id (find_node, to fill the table; get_peers, to
 * find a torrent's peers), DHT_ALPHA queries in flight, keeping the DHT_LOOKUP_WIDTH nearest
 * candidates, until the DHT_K nearest have answered or failed; a get_peers lookup with a
 * port then announces it (announce_peer with each node's token) to the DHT_K nearest that
 * answered. Peers learned (and those stored at this node itself, when a lookup starts and
 * when one is announced to it) go to ops.found.
 *
 * Pure: no sockets (datagrams in through dht_input, out through ops.send), no clock (now in
 * milliseconds), no randomness of its own (the caller gives the node id and a secret).
 * IPv4 only, as BEP 5 (BEP 32's IPv6 DHT is not spoken). Memory owned by the struct.
 */
#ifndef PIGEON_TORRENT_DHT_H
#define PIGEON_TORRENT_DHT_H

#include "torrent/krpc.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DHT_ALPHA 3
#define DHT_LOOKUP_WIDTH 32
#define DHT_MAX_LOOKUPS 32
#define DHT_MAX_TX 512                      /* queries of ours in flight */
#define DHT_QUERY_TIMEOUT_MS 4000           /* then the node counts as failed */
#define DHT_TOKEN_ROTATE_MS (5 * 60 * 1000) /* BEP 5: tokens up to 10 minutes old accepted */
#define DHT_PEER_TTL_MS (30 * 60 * 1000)    /* an announced peer is forgotten after this */
#define DHT_MAX_HASHES 4096                 /* info-hashes stored */
#define DHT_MAX_PEERS 256                   /* peers stored per info-hash */
#define DHT_MAX_VALUES 50                   /* peers given in one get_peers reply */
#define DHT_QUERIES_PER_S 500               /* queries answered per second; more are dropped */
#define DHT_REFRESH_MS (15 * 60 * 1000)     /* a quiet node is pinged, the table refreshed */

struct dht;

struct dht_ops {
    void (*send)(void *ctx, const struct dht_addr *to, const void *p, size_t n);
    /* Peers found for info_hash by a lookup (or stored here). */
    void (*found)(void *ctx, const uint8_t info_hash[20], const struct dht_addr *peers, size_t n);
    void (*log)(void *ctx, const char *what);
};

/* id: our node id; secret: 20 random bytes the tokens are keyed with. */
struct dht *dht_new(const uint8_t id[20], const uint8_t secret[20], const struct dht_ops *ops,
                    void *ctx, uint64_t now);
void dht_free(struct dht *d);

/* A datagram from `from`. Malformed ones get a KRPC error 203 when they carry a transaction
 * id (queries), else are dropped; nothing else is affected. */
void dht_input(struct dht *d, const struct dht_addr *from, const uint8_t *p, size_t n,
               uint64_t now);
/* Asks a node we know only by address (a bootstrap node) for the nodes near us; its answer
 * starts a lookup of our own id, which fills the routing table. */
void dht_bootstrap(struct dht *d, const struct dht_addr *a, uint64_t now);
/* Looks for info_hash's peers (ops.found); port != 0: then announces that we are one,
 * listening on port. Returns 0, or ERR_LIMIT when DHT_MAX_LOOKUPS are running. */
int dht_get_peers(struct dht *d, const uint8_t info_hash[20], uint16_t port, uint64_t now);
/* Timers (call every second or so): time-outs, token secret rotation, expiry of stored
 * peers, pings of quiet nodes, the table's refresh. */
void dht_tick(struct dht *d, uint64_t now);

/* Nodes in the routing table; info-hashes and peers stored; lookups running. */
void dht_stats(const struct dht *d, size_t *nodes, size_t *hashes, size_t *peers, size_t *lookups);
/* The token we would give addr now (tests, and the fuzz target). */
void dht_token(const struct dht *d, const struct dht_addr *addr, uint8_t out[8]);

#endif
