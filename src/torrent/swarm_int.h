/* torrent/swarm — what swarm.c (the torrent) and swarm_peer.c (one connection) share. */
#ifndef PIGEON_TORRENT_SWARM_INT_H
#define PIGEON_TORRENT_SWARM_INT_H

#include "torrent/share.h"
#include "torrent/swarm.h"

#define MAX_SENDERS 8
#define MAX_BANNED 64
#define MAX_DROPPED 64              /* recently gone peers, for PEX's dropped lists */
#define OUT_HIGH_WATER (256u << 10) /* stop serving a peer while this much waits to go out */

struct tor_peer {
    struct tor_peer *next;
    uint64_t id;
    void *conn;
    char addr[64];
    bool outgoing, handshaked, closed, got_first, got_bits;
    uint8_t peer_id[20];
    bool fast;
    bool v2;              /* BEP 52: a hybrid's connection named by its v2 info-hash (it
                             dialled with it, or either side upgraded a v1 handshake) */
    bool ext;             /* BEP 10: it speaks the extension protocol */
    bool hash_refused;    /* BEP 52: a hash request of its was refused (logged once) */
    uint8_t ut_metadata;  /* its id for BEP 9 messages, 0: none */
    uint8_t ut_pex;       /* its id for BEP 11 messages, 0: none */
    uint16_t listen_port; /* where it accepts connections (dialled, or told), 0: unknown */
    uint64_t joined;      /* the swarm's PEX generation when it joined */
    uint64_t pex_sent;    /* the generation our last PEX message to it covered */
    uint64_t last_pex, last_pex_in;
    bool am_choking, am_interested, peer_choking, peer_interested, optimistic;
    uint64_t turn_at; /* when its latest seeding slot began (choker.h), 0: never */
    uint64_t cap;     /* bytes/s it may be sent while we seed (share.h), 0: no cap */
    int64_t tokens;   /* what the cap lets us send now */
    bool held;        /* the cap held back its requests during this window */
    bool idle;        /* seeding: nothing of it waited at our end at the last window's end */
    size_t out_mark;  /* bytes waiting in its connection when this window began */
    uint8_t *bits;
    uint32_t nbits;
    struct tor_block req[TOR_PIPELINE]; /* ours, outstanding */
    uint64_t req_at[TOR_PIPELINE];
    size_t nreq;
    struct tor_block *theirs; /* their requests, FIFO */
    size_t ntheirs;
    uint64_t down_win, up_win, down_rate, up_rate, downloaded, uploaded;
    uint64_t last_send, last_recv;
    unsigned strikes;
};

struct piece_buf {
    uint32_t piece;
    bool verifying;
    uint8_t *data;
    uint64_t senders[MAX_SENDERS];
    unsigned nsenders;
};

struct tor_swarm {
    const struct tor_meta *m;
    struct tor_picker picker;
    uint8_t *have;
    uint32_t nhave;
    uint64_t have_bytes;
    uint8_t our_id[20];
    const struct tor_swarm_ops *ops;
    void *ctx;
    struct tor_swarm_limits lim;
    struct tor_choker choker;
    struct tor_share share;
    struct tor_peer *peers;
    size_t npeers;
    uint64_t next_id;
    struct piece_buf *bufs;
    size_t nbufs, capbufs;
    char banned[MAX_BANNED][64];
    unsigned nbanned;
    uint64_t last_choke, last_rate, last_bucket;
    uint64_t last_slots;        /* seeding: when the choker last opened or closed a slot */
    unsigned idle_seen, idle;   /* seeding: unchoked peers sampled since, those idle (choker.h) */
    bool rechoke;
    int64_t up_tokens, down_tokens;
    uint64_t total_down, total_up, down_rate, up_rate, down_win, up_win;
    uint64_t pex_gen; /* counts peers joining and leaving */
    struct {
        struct tor_pex_addr a;
        uint64_t gen;
    } dropped[MAX_DROPPED];
    unsigned ndropped_next;
    uint8_t **trees;    /* BEP 52: per file, the tree over its piece layer, built on the
                           file's first hash request (swarm_hash.c); NULL until then */
};

/* swarm.c, for swarm_peer.c and swarm_adopt.c */
struct tor_peer *swarm_peer_alloc(struct tor_swarm *s, void *conn, const char *addr, bool outgoing,
                                  uint64_t now);
void swarm_send(struct tor_swarm *s, struct tor_peer *p, const struct str *out);
void swarm_close(struct tor_swarm *s, struct tor_peer *p, const char *why);
void swarm_log(struct tor_swarm *s, struct tor_peer *p, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
struct piece_buf *swarm_buf(struct tor_swarm *s, uint32_t piece, bool create);
void swarm_update_interest(struct tor_swarm *s, struct tor_peer *p);
void swarm_request_more(struct tor_swarm *s, struct tor_peer *p, uint64_t now);
void swarm_serve(struct tor_swarm *s, struct tor_peer *p);
void swarm_drop_requests(struct tor_swarm *s, struct tor_peer *p);
void swarm_send_bitfield(struct tor_swarm *s, struct tor_peer *p);
void swarm_send_handshake(struct tor_swarm *s, struct tor_peer *p);

/* swarm_ext.c */
bool swarm_pex_on(const struct tor_swarm *s);
void swarm_ext_hello(struct tor_swarm *s, struct tor_peer *p);
int swarm_ext_message(struct tor_swarm *s, struct tor_peer *p, const struct tor_msg *m,
                      uint64_t now);
void swarm_pex_tick(struct tor_swarm *s, struct tor_peer *p, uint64_t now);
void swarm_pex_gone(struct tor_swarm *s, struct tor_peer *p);

/* swarm_hash.c: a BEP 52 hash request answered (hashes) or refused (hash reject) */
void swarm_hash_request(struct tor_swarm *s, struct tor_peer *p, const struct tor_msg *m);

/* swarm_peer.c */
int swarm_peer_message(struct tor_swarm *s, struct tor_peer *p, const struct tor_msg *m,
                       uint64_t now);

#endif
