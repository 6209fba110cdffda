/*
 * torrent/metafetch — the first phase of a torrent added from a magnet link (BEP 9): only
 * its info-hash is known, so the info dictionary is fetched from peers, 16 KiB at a time,
 * over the extension protocol (BEP 10), and accepted only when its SHA-1 is the info-hash
 * (or, for a link with a BEP 52 btmh hash, when its SHA-256 is that hash). A v2-only
 * dictionary names its files' pieces roots but not their piece layers: those are then asked
 * of the same peers with BEP 52 hash requests (layerfetch.h), and the fetch is done when
 * every layer has proved out against its root.
 *
 * One struct tor_mfetch per magnet link, one struct tor_mpeer per connection, like the
 * swarm (swarm.h): the caller owns the connections and feeds their bytes in; everything the
 * engine says goes out through struct tor_mfetch_ops. Peers that agree on the size are asked
 * for the missing pieces (a few each); a reject or a silent peer puts a piece back; a
 * dictionary that fails its hash closes every peer that sent part of it and starts over.
 * Messages of the ordinary wire protocol are only recorded (the bitfield as sent, the pieces
 * of have messages, choke and interest): with no info dictionary there is nothing to check
 * them against yet. Once the dictionary is there each open connection's state is handed to
 * the swarm (tor_mfetch_peer_state, then tor_swarm_peer_adopt), which checks it, so the
 * connections go on without a second handshake. Pure: no sockets, no clock (now is passed
 * in, in milliseconds), no threads; memory owned by the struct.
 */
#ifndef PIGEON_TORRENT_METAFETCH_H
#define PIGEON_TORRENT_METAFETCH_H

#include "core/str.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOR_MFETCH_PIPELINE 4       /* metadata pieces asked of one peer at a time */
#define TOR_MFETCH_TIMEOUT_MS 30000 /* a piece not answered by then is asked elsewhere */

struct tor_mfetch;
struct tor_mpeer;

struct tor_mfetch_ops {
    void (*send)(void *conn, const void *p, size_t n);
    void (*close)(void *conn, const char *why);
    void (*log)(void *ctx, const char *what);
};

struct tor_mfetch *tor_mfetch_new(const uint8_t info_hash[20], const uint8_t our_id[20],
                                  const struct tor_mfetch_ops *ops, void *ctx);
/* Closes nothing: the caller closes its connections first (tor_mfetch_peer_gone each). */
void tor_mfetch_free(struct tor_mfetch *f);
/* BEP 52: the link's v2 info-hash (btmh); the dictionary must hash to it with SHA-256. */
void tor_mfetch_set_v2(struct tor_mfetch *f, const uint8_t v2[32]);

/* A connection joins (outgoing: our handshake goes out at once; incoming: after theirs). */
struct tor_mpeer *tor_mfetch_peer_new(struct tor_mfetch *f, void *conn, const char *addr,
                                      bool outgoing, uint64_t now);
/* Bytes from the peer: how many were consumed (the rest waits for more). A protocol error
 * closes the connection through ops.close. */
size_t tor_mfetch_peer_feed(struct tor_mfetch *f, struct tor_mpeer *p, const uint8_t *data,
                            size_t n, uint64_t now);
void tor_mfetch_peer_gone(struct tor_mfetch *f, struct tor_mpeer *p);
/* Timers (call every 100 ms or so): unanswered requests go back, keep-alives. */
void tor_mfetch_tick(struct tor_mfetch *f, uint64_t now);

/* The info dictionary once it is complete and its SHA-1 is the info-hash, else NULL.
 * Owned by f. */
const char *tor_mfetch_result(const struct tor_mfetch *f, size_t *len_out);
/* Once there is a result: the piece layers fetched for a v2-only dictionary, as the
 * bencoded "piece layers" dictionary of a .torrent, appended to out (nothing otherwise). */
void tor_mfetch_layers(const struct tor_mfetch *f, struct str *out);
size_t tor_mfetch_npeers(const struct tor_mfetch *f);

/* What a connection of the fetch has said, for the swarm to take it over. */
struct tor_mpeer_state {
    char addr[64];
    bool outgoing;
    uint8_t peer_id[20];
    uint8_t ut_metadata, ut_pex; /* its ids for them (BEP 10), 0: none */
    uint16_t port;               /* its listen port from its extension handshake, 0: none */
    bool peer_choking, peer_interested;
    bool got_bits;       /* a bitfield came: bits[0..nbits) as sent */
    const uint8_t *bits; /* owned by the fetch; valid until tor_mfetch_peer_gone */
    size_t nbits;
    const uint8_t *haves; /* pieces of have messages since, as a bitfield (MSB first) */
    size_t nhaves;        /* its bytes */
};
/* The state of a connection still open and past both handshakes: true; else false (it is
 * closing, or never finished its handshake: not worth handing over). */
bool tor_mfetch_peer_state(const struct tor_mpeer *p, struct tor_mpeer_state *out);
/* The connection behind a peer (what tor_mfetch_peer_new was given). */
void *tor_mfetch_peer_conn(const struct tor_mpeer *p);
/* Progress: pieces received of the total (0 of 0 while no peer told the size). */
void tor_mfetch_progress(const struct tor_mfetch *f, uint32_t *got, uint32_t *total);

#endif
