/*
 * cache — the resolver's RRset cache: positive RRsets and negative answers (RFC 2308), keyed
 * by (owner name, type), with TTLs counted down against a clock the caller passes in
 * (milliseconds; tests pass a fake one), RFC 2181 §5.4.1 trust ranks, min/max TTL clamps,
 * a byte budget with LRU eviction, and optional serve-stale (RFC 8767).
 *
 * NXDOMAIN is cached once per name (type key 0) and answers every type; NODATA is cached per
 * (name, type). Both carry the zone's SOA for the authority section of the reply.
 *
 * The cache is shared by the resolver instances of every worker thread: each call takes one
 * mutex. Lookups copy the RRset into the caller's arena, so an entry may be replaced or
 * evicted by another thread at any time. The cache does not decide what may be trusted
 * (scrub.c checks bailiwick); it only refuses to let lower-ranked data replace higher-ranked
 * data that has not expired. Performs no I/O.
 */
#ifndef PIGEON_DNS_RESOLVER_CACHE_H
#define PIGEON_DNS_RESOLVER_CACHE_H

#include "dns/arena.h"
#include "dns/zone.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 2181 §5.4.1 trust, lowest first. Only data ranked DNS_RANK_ANSWER or above is ever
 * given to a client; lower ranks only guide the iterator (where to ask). */
enum dns_rank {
    DNS_RANK_NONE = 0,
    DNS_RANK_ADDITIONAL = 1,     /* additional section (glue), any answer */
    DNS_RANK_REFERRAL = 2,       /* authority section of a non-authoritative answer */
    DNS_RANK_ANSWER = 3,         /* answer section of a non-authoritative answer */
    DNS_RANK_AUTH_AUTHORITY = 4, /* authority section of an authoritative answer */
    DNS_RANK_AUTH_ANSWER = 5,    /* answer section of an authoritative answer */
};

enum dns_cache_kind {
    DNS_CACHE_MISS = 0,
    DNS_CACHE_POSITIVE,
    DNS_CACHE_NODATA,
    DNS_CACHE_NXDOMAIN,
};

#define DNS_CACHE_TYPE_NXDOMAIN 0 /* the type key of a name's NXDOMAIN entry */
#define DNS_CACHE_STALE_TTL 30    /* RFC 8767 §4: TTL of a stale answer */

/* An RRset copied out of the cache (everything in the caller's arena). */
struct dns_cache_rrset {
    const uint8_t *owner;
    uint16_t type;
    uint16_t count;
    uint32_t ttl; /* remaining seconds */
    uint8_t rank;
    const struct dns_rdata *rdata;
    uint8_t sec;                 /* DNSSEC status (enum dnssec_status; 0: not validated) */
    uint16_t nsig;               /* the RRSIGs covering the set, as received */
    const struct dns_rdata *sigs;
};

struct dns_cache_result {
    enum dns_cache_kind kind;
    bool stale;                   /* expired, returned because DNS_CACHE_STALE_OK was asked */
    uint8_t sec;                  /* DNSSEC status of the entry (0: not validated) */
    struct dns_cache_rrset rrset; /* POSITIVE: the RRset */
    struct dns_cache_rrset soa;   /* NODATA/NXDOMAIN: the SOA (count 0 when none) */
};

struct dns_cache_config {
    size_t max_bytes;      /* memory budget for entries (approximate) */
    uint32_t min_ttl;      /* TTLs below are raised to this */
    uint32_t max_ttl;      /* TTLs above are lowered to this */
    uint32_t max_neg_ttl;  /* cap on negative TTLs (RFC 2308 §5) */
    uint32_t stale_window; /* seconds an expired entry stays for serve-stale; 0 = off */
};

struct dns_cache_stats {
    uint64_t hits, misses, inserts, evictions;
    size_t entries, bytes;
};

enum dns_cache_flags {
    DNS_CACHE_STALE_OK = 1 << 0, /* return expired entries still in the stale window */
    DNS_CACHE_PEEK = 1 << 1,     /* do not touch the LRU order or the hit counters */
};

struct dns_cache;

/* A new empty cache (caller owns; free with dns_cache_free). Never NULL. */
struct dns_cache *dns_cache_new(const struct dns_cache_config *cfg);
void dns_cache_free(struct dns_cache *c);

/*
 * Stores the RRset owner/type with rd[0..n) (copied) and the TTL as received (clamped here).
 * A cached RRset of higher rank that has not expired is kept. Returns 1 when stored, 0 when
 * the existing entry was kept.
 */
int dns_cache_put(struct dns_cache *c, const uint8_t *owner, uint16_t type, uint32_t ttl,
                  uint8_t rank, const struct dns_rdata *rd, uint16_t n, uint64_t now_ms);
/* dns_cache_put with the RRSIG rdatas sigs[0..nsig) that came with the set (copied; given
 * back with it to DO clients and to the validator). The entry is stored not validated. */
int dns_cache_put_sigs(struct dns_cache *c, const uint8_t *owner, uint16_t type, uint32_t ttl,
                       uint8_t rank, const struct dns_rdata *rd, uint16_t n,
                       const struct dns_rdata *sigs, uint16_t nsig, uint64_t now_ms);
/* Records the validator's verdict sec on the live entry (name, type) (type
 * DNS_CACHE_TYPE_NXDOMAIN: the NXDOMAIN entry); its remaining life is cut to max_ttl seconds
 * when longer (a bogus entry is kept briefly, RFC 4035 §4.7). */
void dns_cache_set_status(struct dns_cache *c, const uint8_t *name, uint16_t type, uint8_t sec,
                          uint32_t max_ttl, uint64_t now_ms);

/*
 * Stores a negative answer: NODATA for (name, type), or NXDOMAIN for name when type is
 * DNS_CACHE_TYPE_NXDOMAIN. soa_* is the SOA of the authority section (copied); the TTL is
 * min(SOA TTL, SOA minimum) (RFC 2308 §5), clamped. Returns 1 stored, 0 kept.
 */
int dns_cache_put_negative(struct dns_cache *c, const uint8_t *name, uint16_t type, uint8_t rank,
                           const uint8_t *soa_owner, uint32_t soa_ttl, const uint8_t *soa_rdata,
                           uint16_t soa_len, uint64_t now_ms);

/*
 * Looks (name, type) up, then the name's NXDOMAIN entry. Entries ranked below min_rank are
 * misses. flags are enum dns_cache_flags. Fills *out (copies in arena). Returns out->kind.
 */
enum dns_cache_kind dns_cache_get(struct dns_cache *c, const uint8_t *name, uint16_t type,
                                  uint8_t min_rank, unsigned flags, uint64_t now_ms,
                                  struct dns_arena *arena, struct dns_cache_result *out);

/* Removes every entry of name (all types). */
void dns_cache_remove_name(struct dns_cache *c, const uint8_t *name);
/* Every entry at or below name goes back to "not validated" (its data is kept): the next
 * validating question fetches and validates it again, e.g. after a negative trust anchor
 * was added or removed there. Walks the whole cache: for rare administrative changes. */
void dns_cache_forget_status_below(struct dns_cache *c, const uint8_t *name);
void dns_cache_stats(struct dns_cache *c, struct dns_cache_stats *out);

#endif
