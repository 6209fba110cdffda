/*
 * keycache — what the validator has learnt about zone cuts, by name (as Unbound's key cache):
 * a name is the apex of a secure zone with these validated DNSKEYs, or a secure name that is
 * not a zone cut (it belongs to the zone above, whose keys are kept with it), or the start of
 * an insecure delegation, or bogus (kept briefly, RFC 4035 §4.7). Entries expire after their
 * TTL (the DNSKEY/DS TTLs, capped by the signatures' expiry).
 *
 * Shared by the resolvers of every worker: each call takes one mutex. A bounded number of
 * entries; the oldest goes first. Lookups copy into the caller's arena. No I/O.
 */
#ifndef PIGEON_DNS_RESOLVER_KEYCACHE_H
#define PIGEON_DNS_RESOLVER_KEYCACHE_H

#include "dns/arena.h"
#include "dns/zone.h"

#include <stdbool.h>
#include <stdint.h>

enum dns_key_kind {
    DNS_KEY_SECURE = 1, /* name is inside zone `zone` (its apex or below), whose keys these are */
    DNS_KEY_INSECURE,   /* an insecure delegation at or above name */
    DNS_KEY_BOGUS,      /* the chain of trust to name is broken (ede says why) */
};

struct dns_key_entry {
    enum dns_key_kind kind;
    const uint8_t *zone; /* SECURE: the zone the keys belong to */
    const struct dns_rdata *keys;
    uint16_t nkeys;
    uint16_t ede; /* BOGUS: RFC 8914 code */
};

struct dns_keycache;

struct dns_keycache *dns_keycache_new(unsigned max_entries);
void dns_keycache_free(struct dns_keycache *kc);
/* Stores what is known at name (lower-cased here) for ttl seconds; replaces an older entry. */
void dns_keycache_put(struct dns_keycache *kc, const uint8_t *name, const struct dns_key_entry *e,
                      uint32_t ttl, uint64_t now_ms);
/* The live entry for exactly name, copied into a; false when none. */
bool dns_keycache_get(struct dns_keycache *kc, const uint8_t *name, uint64_t now_ms,
                      struct dns_arena *a, struct dns_key_entry *out);
/* Forgets what is known at exactly name. */
void dns_keycache_remove(struct dns_keycache *kc, const uint8_t *name);
/* Forgets everything (trust anchors changed). */
void dns_keycache_flush(struct dns_keycache *kc);

#endif
