/*
 * dhcp/engine — the DHCPv4 server's decisions (RFC 2131 §4.3): which subnet a message is
 * for, which address a client gets, and the reply (OFFER, ACK, NAK or silence) with its
 * options and its destination.
 *
 * Pure: no sockets, no clock (the time comes in as `now`, Unix seconds), no globals, no
 * threads (the caller serialises calls). The leases live in the engine's memory, one slot per
 * address of every pool and reservation; what must survive a restart goes out through
 * struct dhcp_engine_ops.save: an ACK is built only after it, and the caller must not send
 * that ACK before what was saved is durable (the service commits in groups and sends ACKs
 * after the COMMIT). The store is read back at start with dhcp_engine_restore.
 *
 * The engine owns its slots; struct dhcp_config (dhcp/config.h) is the caller's and must
 * outlive the engine.
 */
#ifndef PIGEON_DHCP_ENGINE_H
#define PIGEON_DHCP_ENGINE_H

#include "dhcp/config.h"
#include "dhcp/packet.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum dhcp_lease_state {
    DHCP_LEASE_FREE = 0,    /* never handed out */
    DHCP_LEASE_OFFERED,     /* offered until `expires`; not saved */
    DHCP_LEASE_BOUND,       /* acknowledged until `expires` */
    DHCP_LEASE_RELEASED,    /* given back; remembered for the client */
    DHCP_LEASE_EXPIRED,     /* lapsed; remembered for the client */
    DHCP_LEASE_DECLINED,    /* in use by someone unknown: quarantined until `expires` */
};

/* One address and who holds (or last held) it. key: the client identifier (RFC 2131 §4.2):
 * 'C' + option 61's value, or 'H' + htype + chaddr. */
struct dhcp_lease {
    uint32_t addr;          /* host order */
    enum dhcp_lease_state state;
    int64_t expires;        /* Unix seconds */
    uint8_t key[DHCP_KEY_MAX];
    uint8_t key_len;
    uint8_t htype, hlen;
    uint8_t chaddr[16];
    char hostname[64];      /* a DNS label, "" when the client sent none */
};

/* What the engine needs from outside. save: durable before any reply built after it is sent
 * (0, or < 0: the exchange is abandoned, no reply). bound/unbound: a lease with a host name was acknowledged /
 * ended (release, expiry, decline), for names in DNS; optional. */
struct dhcp_engine_ops {
    int (*save)(void *ctx, const struct dhcp_lease *l);
    void (*bound)(void *ctx, const struct dhcp_lease *l, const struct dhcp_subnet *s);
    void (*unbound)(void *ctx, const struct dhcp_lease *l, const struct dhcp_subnet *s);
};

/* Where a datagram came in. */
struct dhcp_rx {
    const char *iface;      /* the receiving interface's name */
    uint32_t local_addr;    /* our address on it (network order): the default server id */
    bool to_broadcast;      /* sent to 255.255.255.255 (REBINDING rather than RENEWING) */
};

enum dhcp_dest {
    DHCP_DEST_BROADCAST,    /* 255.255.255.255:68 on the receiving interface */
    DHCP_DEST_UNICAST,      /* dest_addr:68, a client that has its address configured */
    DHCP_DEST_HWADDR,       /* dest_addr:68 at chaddr: a client without its address yet */
    DHCP_DEST_RELAY,        /* dest_addr:67, the relay agent (giaddr) */
};

/* struct dhcp_reply.type of a BOOTP reply (RFC 951: no DHCP message type), beside the enum
 * dhcp_msg_type values; it promises a lease as an ACK does. */
#define DHCP_BOOTP_REPLY 256
/* A BOOTP lease's expiry: never. */
#define DHCP_NEVER INT64_MAX

struct dhcp_reply {
    uint8_t buf[DHCP_MAX_LEN];
    size_t len;
    int type;               /* enum dhcp_msg_type */
    enum dhcp_dest dest;
    uint32_t dest_addr;     /* network order */
    uint8_t hlen;
    uint8_t chaddr[16];
    const char *state;      /* a REQUEST's client state (RFC 2131 §4.3.2) for logs:
                             * "selecting", "init-reboot", "renewing", "rebinding"; else "" */
    bool cached;            /* an ACK of a lease as it stands (cache_threshold): nothing was
                             * saved for it; it promises what batch `saved_in` saved */
    uint64_t saved_in;      /* the batch (dhcp_engine_set_batch) that last saved its lease */
};

/* Why a message got no reply (for logs and counters). */
enum dhcp_outcome {
    DHCP_OUT_REPLY = 1,
    DHCP_OUT_SILENT = 0,        /* a legitimate silence (RFC 2131: not for us) */
    DHCP_OUT_MALFORMED = -1,    /* not a well-formed DHCP request */
    DHCP_OUT_NO_SUBNET = -2,    /* no subnet serves this interface / relay */
    DHCP_OUT_NO_ADDRESS = -3,   /* the pool is exhausted */
    DHCP_OUT_STORE = -4,        /* save failed: nothing acknowledged */
};

struct dhcp_engine;

/* A new engine over cfg (borrowed), every slot free. Returns NULL, with *why, when the
 * pools are too large (over DHCP_MAX_SLOTS addresses in all). */
struct dhcp_engine *dhcp_engine_new(const struct dhcp_config *cfg, const struct dhcp_engine_ops *ops,
                                    void *ctx, const char **why);
void dhcp_engine_free(struct dhcp_engine *e);

/* Puts a stored lease back into its slot (at start). False when its address is in no pool or
 * reservation any more (the caller may forget it). */
bool dhcp_engine_restore(struct dhcp_engine *e, const struct dhcp_lease *l);

/*
 * One datagram in: an enum dhcp_outcome. On DHCP_OUT_REPLY, *out holds the reply and where to
 * send it. On DHCP_OUT_MALFORMED, *why says what was wrong. May call ops.save (blocking, as
 * the store is) and ops.bound/unbound.
 */
int dhcp_engine_handle(struct dhcp_engine *e, const struct dhcp_rx *rx, const uint8_t *pkt,
                       size_t len, int64_t now, struct dhcp_reply *out, const char **why);

/* The number of the batch what ops.save writes from now on goes into (the caller's group
 * commit): a cached ACK (struct dhcp_reply.cached) names the batch that saved its lease, and
 * must not leave before that batch is durable. Leases restored at start are batch 0. */
void dhcp_engine_set_batch(struct dhcp_engine *e, uint64_t batch);

/* No lease is acknowledged from the cache any more (struct dhcp_config.cache_threshold): the
 * caller's store lost a batch, so what memory holds may not be on disk. */
void dhcp_engine_cache_off(struct dhcp_engine *e);

/* Ends leases whose time has come (BOUND → EXPIRED, saved, unbound called; a quarantine or
 * an offer that lapsed → free). Returns how many bound leases expired. */
unsigned dhcp_engine_expire(struct dhcp_engine *e, int64_t now);

/* Another host answers at addr (host order; the ICMP check before an OFFER): the address is
 * quarantined as a DECLINE would (probation) and the offer made with it forgotten, so the
 * client's next DISCOVER gets another. 0, or -1 when addr is in no pool or is bound. */
int dhcp_engine_conflict(struct dhcp_engine *e, uint32_t addr, int64_t now);

/* Administrative release of addr (host order), as if its client had sent RELEASE: 0, or -1
 * when it is not bound. */
int dhcp_engine_release_addr(struct dhcp_engine *e, uint32_t addr, int64_t now);

/* Counts over every slot (for the pool-exhaustion alarm and `pigeon dhcp leases`). */
struct dhcp_pool_stats {
    unsigned total, bound, offered, declined;
};
void dhcp_engine_stats(const struct dhcp_engine *e, const struct dhcp_subnet *s,
                       struct dhcp_pool_stats *out);

/* The lease of slot i (i < dhcp_engine_slots), for listings. */
unsigned dhcp_engine_slots(const struct dhcp_engine *e);
const struct dhcp_lease *dhcp_engine_slot(const struct dhcp_engine *e, unsigned i);

#endif
