/*
 * torrent/swarm — one torrent's peers, as the peer side of BitTorrent: the handshake and the
 * wire messages of each connection (wire.h), which blocks to ask whom for (picker.h), whom to
 * unchoke (choker.h), pieces assembled in memory and handed out for hashing and writing,
 * requests from peers answered from disk, bad-data senders banned, rate limits, seeding.
 *
 * Pure: no sockets, no clock (now is passed in milliseconds), no threads. Everything that
 * touches the outside goes through struct tor_swarm_ops: bytes to a peer, closing it,
 * reading a block from disk, and a completed piece to verify and store (answered later with
 * tor_swarm_piece_done). The swarm owns its peers' state; the caller owns the connections.
 * Peers speaking the extension protocol (BEP 10) are served the info dictionary (BEP 9)
 * and, unless the torrent is private (BEP 27), exchange peer lists (PEX, BEP 11).
 */
#ifndef PIGEON_TORRENT_SWARM_H
#define PIGEON_TORRENT_SWARM_H

#include "torrent/choker.h"
#include "torrent/ext.h"
#include "torrent/metafetch.h"
#include "torrent/metainfo.h"
#include "torrent/picker.h"
#include "torrent/wire.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOR_PIPELINE 16       /* requests outstanding to one peer */
#define TOR_MAX_PEER_REQS 256 /* requests a peer may have queued with us */
#define TOR_BAN_STRIKES 2     /* failed pieces a peer contributed to before it is banned */
#define TOR_REQUEST_TIMEOUT_MS 60000

struct tor_swarm;
struct tor_peer;

/* One share window (share.h) as the seed saw it: the estimate C, the lent part, and each
 * unchoked interested peer's window. */
struct tor_share_log_peer {
    uint64_t id;
    void *conn;
    uint64_t sent;  /* bytes that reached it during the window */
    uint64_t cap;   /* its cap during the window, bytes/s (0: none) */
    uint64_t next;  /* its cap for the next window */
    size_t unacked; /* bytes written to it not acknowledged yet */
    size_t queued;  /* its requests queued with us */
    bool held;      /* its cap held back requests it had queued */
    bool idle;      /* nothing of it waits at our end: no request queued, nothing unsent */
};
struct tor_share_log {
    uint64_t dt_ms, capacity, spare, join_cap;
    unsigned slots; /* regular unchoke slots now (choker.h) */
    size_t n;
    const struct tor_share_log_peer *p;
};

struct tor_swarm_ops {
    void (*send)(void *conn, const void *p, size_t n);
    void (*close)(void *conn, const char *why);
    /* Bytes written to conn that have not gone out yet (back-pressure for uploads). */
    size_t (*pending)(void *conn);
    /* Reads a block of the torrent into out (len bytes); 0 or -1 (not on disk). */
    int (*read)(void *ctx, uint32_t piece, uint32_t begin, uint32_t len, uint8_t *out);
    /* A complete piece in memory: hash it, store it if it matches, then call
     * tor_swarm_piece_done. data stays valid until then. */
    void (*verify)(void *ctx, uint32_t piece, const uint8_t *data, size_t len);
    /* Something worth a log line (peer id for context). */
    void (*log)(void *ctx, uint64_t peer, const char *what);
    /* Addresses a peer told of (PEX, BEP 11): candidates to dial. May be NULL. */
    void (*found)(void *ctx, const struct tor_pex_addr *a, size_t n);
    /* Bytes written to conn that the peer has not acknowledged yet (what the seed's share
     * measures, share.h). May be NULL: pending is used. */
    size_t (*unacked)(void *conn);
    /* Each share window while seeding (share.h), what it measured and decided, for a debug
     * log. May be NULL. */
    void (*share_log)(void *ctx, const struct tor_share_log *l);
    /* Bytes written to conn that have not been sent yet, ours and the kernel's (not those in
     * flight). May be NULL: pending is used. */
    size_t (*unsent)(void *conn);
};

struct tor_swarm_limits {
    unsigned max_peers;   /* connections of this torrent */
    uint64_t upload_rate; /* bytes/s, 0: none */
    uint64_t download_rate;
    size_t max_active_bytes; /* piece buffers in memory */
    unsigned slots;          /* regular unchoke slots while downloading (4) */
    unsigned seed_slots;     /* regular unchoke slots while seeding (choker.h), 0: 8 */
    uint16_t listen_port;    /* ours, told in the extension handshake (0: not told) */
    bool no_pex;             /* PEX (BEP 11) neither offered nor obeyed, as for a private one */
};

struct tor_peer_info {
    uint64_t id;
    char addr[64];
    uint8_t peer_id[20];
    bool am_choking, am_interested, peer_choking, peer_interested, optimistic, seed;
    uint64_t down_rate, up_rate, downloaded, uploaded;
};

/* have: the pieces already verified on disk (bitfield, may be NULL). seed: randomness. */
struct tor_swarm *tor_swarm_new(const struct tor_meta *m, const uint8_t *have,
                                const uint8_t our_id[20], const struct tor_swarm_ops *ops,
                                void *ctx, const struct tor_swarm_limits *lim, uint64_t seed);
/* Closes nothing: the caller closes its connections first (tor_swarm_peer_gone each). */
void tor_swarm_free(struct tor_swarm *s);
void tor_swarm_set_limits(struct tor_swarm *s, const struct tor_swarm_limits *lim);

/* A connection joins (outgoing: we send our handshake at once; incoming: after theirs). */
struct tor_peer *tor_swarm_peer_new(struct tor_swarm *s, void *conn, const char *addr,
                                    bool outgoing, uint64_t now);
/* A connection of the metadata fetch (metafetch.h) taken over once the info dictionary is
 * known: no second handshake; what it said so far (bitfield, haves, choke, interest,
 * extension ids) is checked against the torrent as if it came now (a bitfield of the wrong
 * length or a have past the end closes it through ops.close; the peer is returned all the
 * same, for tor_swarm_peer_gone); it is told our pieces with have messages (a bitfield may
 * only be the first message) and our extension handshake again, now with the dictionary's
 * size. We never offered the fast extension (BEP 6) while fetching, so it is off. */
struct tor_peer *tor_swarm_peer_adopt(struct tor_swarm *s, void *conn,
                                      const struct tor_mpeer_state *st, uint64_t now);
/* Bytes from the peer: how many were consumed (the rest waits for more). A protocol error
 * closes the connection through ops.close. */
size_t tor_swarm_peer_feed(struct tor_swarm *s, struct tor_peer *p, const uint8_t *data, size_t n,
                           uint64_t now);
/* The connection's output drained: serve more of its requests. */
void tor_swarm_peer_writable(struct tor_swarm *s, struct tor_peer *p);
/* The connection is gone: its requests go back to the picker. */
void tor_swarm_peer_gone(struct tor_swarm *s, struct tor_peer *p);
/* The port the peer accepts connections on (the one we dialled), for PEX. */
void tor_swarm_peer_set_port(struct tor_peer *p, uint16_t port);
/* Whether an incoming handshake for info_hash belongs to this swarm (the caller routes). */
const uint8_t *tor_swarm_info_hash(const struct tor_swarm *s);
/* Whether addr is banned (bad data). */
bool tor_swarm_banned(const struct tor_swarm *s, const char *addr);

/* Timers: call at least every 100 ms; runs the choker every 10 s, keep-alives, request
 * time-outs, the rate buckets. */
void tor_swarm_tick(struct tor_swarm *s, uint64_t now);
/* The verdict on a piece handed to ops.verify. */
void tor_swarm_piece_done(struct tor_swarm *s, uint32_t piece, bool ok, uint64_t now);

/* Progress. */
uint32_t tor_swarm_have_count(const struct tor_swarm *s);
bool tor_swarm_complete(const struct tor_swarm *s);
const uint8_t *tor_swarm_bitfield(const struct tor_swarm *s);
uint64_t tor_swarm_left(const struct tor_swarm *s);
void tor_swarm_totals(const struct tor_swarm *s, uint64_t *down, uint64_t *up, uint64_t *down_rate,
                      uint64_t *up_rate);
size_t tor_swarm_peers(const struct tor_swarm *s, struct tor_peer_info *out, size_t max);
size_t tor_swarm_npeers(const struct tor_swarm *s);
/* Whether this peer id is already connected (a second connection is closed). */
bool tor_swarm_has_peer_id(const struct tor_swarm *s, const uint8_t id[20],
                           const struct tor_peer *except);

#endif
