/*
 * torrent/dht_table — a DHT node's routing table (BEP 5, after Kademlia): the nodes it knows,
 * in 160 buckets by the length of the prefix their id shares with ours (bucket i holds ids
 * whose first differing bit from ours is bit i), at most DHT_K in each. Near ids are few and
 * far ones many, so this keeps, like BEP 5's splitting table, about K nodes per distance
 * class. A node that answered us is good; one that failed DHT_MAX_FAILS queries in a row is
 * bad and the first to be replaced; a full bucket refuses newcomers otherwise (old nodes
 * that stay up are worth more, as Kademlia argues). Nodes that only queried us are kept
 * but marked unconfirmed, and they are what dht.c pings first.
 *
 * Pure: times are passed in (milliseconds); no allocation (the struct is one block).
 */
#ifndef PIGEON_TORRENT_DHT_TABLE_H
#define PIGEON_TORRENT_DHT_TABLE_H

#include "torrent/krpc.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DHT_K 8
#define DHT_BUCKETS 160
#define DHT_MAX_FAILS 2

struct dht_node {
    uint8_t id[20];
    struct dht_addr addr;
    bool used, confirmed; /* confirmed: it answered one of our queries */
    unsigned fails;       /* unanswered queries in a row */
    uint64_t last_seen;   /* ms: its last message to us */
    uint64_t last_asked;  /* ms: our last query to it */
};

struct dht_table {
    uint8_t self[20];
    struct dht_node b[DHT_BUCKETS][DHT_K];
    size_t count;
};

void dht_table_init(struct dht_table *t, const uint8_t self[20]);
/* The bucket of id: the number of leading bits it shares with self; -1 for self itself. */
int dht_bucket_of(const uint8_t self[20], const uint8_t id[20]);
/* A node was heard from (replied: it answered our query). Inserts it if there is room (or a
 * bad node to replace), refreshes it if known. Returns the entry or NULL if not kept. */
struct dht_node *dht_table_seen(struct dht_table *t, const uint8_t id[20], const struct dht_addr *a,
                                bool replied, uint64_t now);
struct dht_node *dht_table_find(struct dht_table *t, const uint8_t id[20]);
/* A query to that node went unanswered. */
void dht_table_failed(struct dht_table *t, const uint8_t id[20]);
/* Up to max nodes (not bad) closest to target by XOR distance, nearest first. */
size_t dht_table_closest(const struct dht_table *t, const uint8_t target[20], struct krpc_node *out,
                         size_t max);
/* Whether a is nearer to target than b (XOR metric). */
bool dht_nearer(const uint8_t target[20], const uint8_t a[20], const uint8_t b[20]);

#endif
