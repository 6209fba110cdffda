/*
 * torrent/krpc — the messages of the BitTorrent DHT (BEP 5): KRPC, one bencoded dictionary
 * per UDP datagram, a query ("y":"q" with "q" the method and "a" its arguments), a response
 * ("y":"r", "r") or an error ("y":"e", "e": [code, message]), each with the transaction id
 * "t" the querier chose. The four methods are ping, find_node, get_peers and announce_peer;
 * nodes travel as compact node info (20-byte id, 4-byte IPv4 address, 2-byte port), peers as
 * compact peer info (6 bytes). IPv4 only (BEP 5; the IPv6 forms of BEP 32 are not read).
 *
 * The parser fills a struct krpc_msg (fixed arrays: nothing to free) and refuses what BEP 5
 * does not allow: an id that is not 20 bytes, a compact list of the wrong length, a port
 * out of range. A query's arguments are checked against its method by the caller (dht.c),
 * which answers with error 203. Writers append whole datagrams (keys in sorted order, as
 * bencoding requires) to a struct str. Performs no I/O.
 */
#ifndef PIGEON_TORRENT_KRPC_H
#define PIGEON_TORRENT_KRPC_H

#include "core/str.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KRPC_MAX_TID 16    /* a longer transaction id is refused */
#define KRPC_MAX_TOKEN 64  /* likewise a token */
#define KRPC_MAX_NODES 16  /* compact nodes read from one reply (BEP 5 sends 8) */
#define KRPC_MAX_VALUES 64 /* peers read from one reply (more are ignored) */
#define KRPC_MAX_DATAGRAM 1500

enum krpc_type { KRPC_QUERY, KRPC_RESPONSE, KRPC_ERROR };
enum krpc_method { KRPC_PING, KRPC_FIND_NODE, KRPC_GET_PEERS, KRPC_ANNOUNCE_PEER, KRPC_UNKNOWN };

/* BEP 5 error codes */
enum { KRPC_E_GENERIC = 201, KRPC_E_SERVER = 202, KRPC_E_PROTOCOL = 203, KRPC_E_METHOD = 204 };

struct dht_addr {
    uint8_t ip[4]; /* network order */
    uint16_t port; /* host order */
};

struct krpc_node {
    uint8_t id[20];
    struct dht_addr addr;
};

struct krpc_msg {
    enum krpc_type type;
    bool typed; /* "y" was read: type is known (even if the rest failed) */
    uint8_t tid[KRPC_MAX_TID];
    size_t tidlen;
    enum krpc_method method; /* queries */
    bool read_only;          /* BEP 43 "ro": 1 — not to be put in routing tables */
    bool has_id, has_target, has_info_hash, has_port, implied_port;
    uint8_t id[20];        /* a: or r: id */
    uint8_t target[20];    /* find_node */
    uint8_t info_hash[20]; /* get_peers, announce_peer */
    uint16_t port;         /* announce_peer */
    uint8_t token[KRPC_MAX_TOKEN];
    size_t toklen; /* 0: none */
    struct krpc_node nodes[KRPC_MAX_NODES];
    size_t nnodes;
    struct dht_addr values[KRPC_MAX_VALUES];
    size_t nvalues;
    int64_t ecode; /* errors */
    char emsg[96];
};

/* Parses one datagram: 0, or ERR_PARSE / ERR_LIMIT with *why_out (static text). When the
 * transaction id could be read it is in m->tid even on failure (an error reply needs it). */
int krpc_parse(const uint8_t *p, size_t n, struct krpc_msg *m, const char **why_out);

/* Queries. tid: the transaction id (tidlen bytes); id: ours. */
void krpc_put_ping(struct str *out, const uint8_t *tid, size_t tidlen, const uint8_t id[20]);
void krpc_put_find_node(struct str *out, const uint8_t *tid, size_t tidlen, const uint8_t id[20],
                        const uint8_t target[20]);
void krpc_put_get_peers(struct str *out, const uint8_t *tid, size_t tidlen, const uint8_t id[20],
                        const uint8_t info_hash[20]);
void krpc_put_announce(struct str *out, const uint8_t *tid, size_t tidlen, const uint8_t id[20],
                       const uint8_t info_hash[20], uint16_t port, const uint8_t *token,
                       size_t toklen);

/* A response: our id, then what the method returns (each part left out when empty/NULL). */
struct krpc_reply {
    const struct krpc_node *nodes;
    size_t nnodes;
    const uint8_t *token;
    size_t toklen;
    const struct dht_addr *values;
    size_t nvalues;
};
void krpc_put_reply(struct str *out, const uint8_t *tid, size_t tidlen, const uint8_t id[20],
                    const struct krpc_reply *r);
void krpc_put_error(struct str *out, const uint8_t *tid, size_t tidlen, int code, const char *msg);

#endif
