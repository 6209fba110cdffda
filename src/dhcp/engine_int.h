/*
 * dhcp/engine_int — what engine.c (slots, allocation), handle.c (one message) and reply.c
 * (building replies) share. Not for use outside src/dhcp/.
 */
#ifndef PIGEON_DHCP_ENGINE_INT_H
#define PIGEON_DHCP_ENGINE_INT_H

#include "dhcp/engine.h"

struct dhcp_seg {
    uint32_t first, last; /* host order */
    unsigned base;        /* slot of `first` */
    unsigned subnet;
};

struct dhcp_slot {
    struct dhcp_lease lease;
    unsigned subnet;
    uint64_t saved_in; /* the batch its lease was last saved in (0: restored) */
};

struct dhcp_engine {
    const struct dhcp_config *cfg;
    struct dhcp_engine_ops ops;
    void *ctx;
    struct dhcp_seg *segs;
    unsigned nsegs;
    struct dhcp_slot *slots;
    unsigned nslots;
    int *hnext;      /* per slot: next slot in its key's bucket */
    int *buckets;    /* key hash → first slot */
    unsigned nbuckets;
    unsigned *cursor; /* per subnet: the slot its never-used addresses start at or after */
    uint64_t batch;  /* dhcp_engine_set_batch */
    bool cache_off;  /* dhcp_engine_cache_off */
    uint32_t lease_age; /* a cached ACK: seconds of its lease the client has had; the times
                         * sent (51, 58, 59) are that much shorter */
    struct dhcp_packet req; /* the message being handled (large: kept off the stack) */
    struct dhcp_writer w;
};

/* The client a message is from (RFC 2131 §4.2: option 61, else htype + chaddr). */
struct dhcp_client {
    uint8_t key[DHCP_KEY_MAX];
    uint8_t key_len;
    uint8_t hwkey[DHCP_KEY_MAX]; /* 'H' + htype + chaddr, for reservations by MAC */
    uint8_t hwkey_len;
    uint8_t htype, hlen;
    uint8_t chaddr[16];
    char hostname[64];           /* the reservation's name, else from option 81 or 12, made a
                                  * DNS label; "" */
    bool name_given;             /* hostname is the reservation's: sent as option 12 */
    bool fqdn;                   /* the client sent option 81 */
    uint8_t fqdn_flags;
};

int dhcp_slot_of(const struct dhcp_engine *e, uint32_t addr);
int dhcp_slot_of_client(const struct dhcp_engine *e, const struct dhcp_client *c, unsigned subnet);
void dhcp_slot_set_client(struct dhcp_engine *e, int slot, const struct dhcp_client *c);
bool dhcp_slot_usable(const struct dhcp_engine *e, int slot, const struct dhcp_client *c,
                      int64_t now);
bool dhcp_is_reserved_slot(const struct dhcp_engine *e, int slot);
const struct dhcp_reservation *dhcp_reserved(const struct dhcp_subnet *s, uint32_t addr);
const struct dhcp_reservation *dhcp_reservation_of(const struct dhcp_subnet *s,
                                                   const struct dhcp_client *c);
/* The slot for c in subnet: its reservation, its own lease, the requested address (host
 * order, 0: none), or a free one; -1 when the pool is exhausted. */
int dhcp_choose(struct dhcp_engine *e, unsigned subnet, const struct dhcp_client *c,
                uint32_t requested, int64_t now);
/* Ends slot's lease (RELEASED or EXPIRED from `until`, DECLINED until `until`): saved, and
 * unbound if it was bound. */
void dhcp_lease_end(struct dhcp_engine *e, int slot, enum dhcp_lease_state to, int64_t until);

/* reply.c: the reply of `type` to e->req for client c in subnet s, yiaddr (network order, 0:
 * none), into out (its buf, len, dest). server_id network order. False when it does not fit. */
bool dhcp_reply_build(struct dhcp_engine *e, const struct dhcp_subnet *s, const struct dhcp_client *c,
                      int type, uint32_t yiaddr, uint32_t server_id, struct dhcp_reply *out);

#endif
