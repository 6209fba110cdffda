/* torrent/dht — what dht.c (the node: queries answered, tokens, stored peers, timers) and
 * dht_lookup.c (our queries: transactions, lookups, their answers) share. */
#ifndef PIGEON_TORRENT_DHT_INT_H
#define PIGEON_TORRENT_DHT_INT_H

#include "torrent/dht.h"
#include "torrent/dht_table.h"

enum tx_kind { TX_PING, TX_BOOT, TX_FIND, TX_GET_PEERS, TX_ANNOUNCE };
enum cand_state { C_NEW, C_ASKED, C_REPLIED, C_FAILED };

struct dht_tx {
    bool used;
    uint16_t seq;
    enum tx_kind kind;
    struct dht_addr to;
    bool has_id;
    uint8_t id[20];
    uint64_t sent_at;
    int lookup; /* index in d->lk, -1: none */
    uint32_t lookup_gen;
};

struct dht_cand {
    uint8_t id[20];
    struct dht_addr addr;
    enum cand_state state;
    uint8_t token[KRPC_MAX_TOKEN];
    size_t toklen;
};

struct dht_lookup {
    bool used;
    uint32_t gen;
    bool get_peers; /* else find_node */
    uint8_t target[20];
    uint16_t port; /* announce when done; 0: no */
    struct dht_cand c[DHT_LOOKUP_WIDTH];
    size_t nc;
    unsigned inflight;
};

struct dht_stored {
    uint8_t info_hash[20];
    struct {
        struct dht_addr a;
        uint64_t at;
    } p[DHT_MAX_PEERS];
    size_t n;
};

struct dht {
    uint8_t id[20];
    uint8_t secret[20], prev_secret[20];
    uint64_t rotated_at;
    const struct dht_ops *ops;
    void *ctx;
    struct dht_table table;
    struct dht_tx tx[DHT_MAX_TX];
    uint16_t next_seq;
    unsigned tx_next;
    struct dht_lookup lk[DHT_MAX_LOOKUPS];
    uint32_t lookup_gen;
    struct dht_stored **store;
    size_t nstore;
    uint64_t bucket_at;
    int64_t qtokens; /* queries we may still answer this second */
    uint64_t refreshed_at;
};

/* dht.c */
void dht_logf(struct dht *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void dht_send(struct dht *d, const struct dht_addr *to, const struct str *out);
void dht_on_query(struct dht *d, const struct dht_addr *from, const struct krpc_msg *m,
                  uint64_t now);
const struct dht_stored *dht_stored_find(const struct dht *d, const uint8_t ih[20]);
/* dht_lookup.c */
void dht_on_answer(struct dht *d, const struct dht_addr *from, const struct krpc_msg *m,
                   uint64_t now);
void dht_lookups_tick(struct dht *d, uint64_t now);
int dht_lookup_start(struct dht *d, bool get_peers, const uint8_t target[20], uint16_t port,
                     uint64_t now);
/* A query to addr (id known when has_id) on behalf of lookup li (-1: none); false when
 * every transaction slot is busy. */
bool dht_query(struct dht *d, enum tx_kind kind, const struct dht_addr *to, const uint8_t *id,
               int li, const uint8_t target[20], uint16_t port, const uint8_t *token, size_t toklen,
               uint64_t now);

#endif
