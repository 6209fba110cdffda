/*
 * autotrust — RFC 5011 automated updates of trust anchors: the key-signing keys of each
 * anchored zone, followed through the DNSKEY sets the validator has found secure.
 *
 *   a new SEP key            AddPend, trusted only once it has been seen again after the
 *                            add hold-down (30 days, or the DNSKEY TTL when longer; §2.4.1)
 *   AddPend gone             forgotten (§4: Start)
 *   Valid gone               Missing (still trusted); seen again, Valid
 *   REVOKE bit, self-signed  Revoked: never trusted again (§2.1); forgotten after the
 *                            remove hold-down (30 days)
 *
 * Keys are kept with the REVOKE bit cleared, so a key and its revoked form are one entry.
 * The state is text (one key a line) that the resolver's glue keeps in the data directory.
 * The set is observed whenever the validator fetches the anchored zone's DNSKEY set (at
 * least once per key-cache lifetime, at most one day, while the resolver is used), not by
 * timed queries of its own.
 *
 * Shared by the resolvers of every worker: each call takes one mutex. Times are Unix seconds
 * passed in (tests use a fake clock). No I/O.
 */
#ifndef PIGEON_DNS_RESOLVER_AUTOTRUST_H
#define PIGEON_DNS_RESOLVER_AUTOTRUST_H

#include "core/str.h"
#include "dns/arena.h"
#include "dns/zone.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_AUTOTRUST_HOLD_DOWN (30 * 86400) /* RFC 5011 §2.4.1 add, §4 remove hold-down */
#define DNS_AUTOTRUST_MAX_KEYS 64            /* keys followed, all zones together */

enum dns_autotrust_state {
    DNS_AT_ADDPEND = 1,
    DNS_AT_VALID,
    DNS_AT_MISSING,
    DNS_AT_REVOKED,
};

struct dns_autotrust;

struct dns_autotrust *dns_autotrust_new(void);
void dns_autotrust_free(struct dns_autotrust *at);

/* Reads state text (as dns_autotrust_save writes it). 0, or ERR_PARSE with "line N: why"
 * in err (nothing kept then). */
int dns_autotrust_load(struct dns_autotrust *at, const char *text, size_t len, struct str *err);
/* Appends the state as text to out. */
void dns_autotrust_save(struct dns_autotrust *at, struct str *out);

/* One DNSKEY of an observed set: rdata, and whether it is revoked and signed that set
 * itself (RFC 5011 §2.1, checked by the caller). */
struct dns_autotrust_key {
    const uint8_t *rdata;
    uint16_t len;
    bool self_signed_revoke;
};

/*
 * The validated DNSKEY set of anchored zone at time now (ttl: the set's TTL). Keys the
 * static anchor vouches for (anchored[i] true) start Valid instead of AddPend. Returns true
 * when the state changed (the caller saves it).
 */
bool dns_autotrust_observe(struct dns_autotrust *at, const uint8_t *zone,
                           const struct dns_autotrust_key *keys, const bool *anchored, size_t n,
                           uint32_t ttl, int64_t now);
/* The DNSKEY rdatas trusted for zone (Valid and Missing), copied into a; returns how many
 * (out has room for DNS_AUTOTRUST_MAX_KEYS). */
size_t dns_autotrust_trusted(struct dns_autotrust *at, const uint8_t *zone, struct dns_arena *a,
                             struct dns_rdata *out);
/* Whether the key (REVOKE bit ignored) is Revoked for zone: the static anchor's DS must not
 * vouch for it any more. */
bool dns_autotrust_revoked(struct dns_autotrust *at, const uint8_t *zone, const uint8_t *rdata,
                           uint16_t len);
/* The state of the key (REVOKE bit ignored), 0 when not followed. */
enum dns_autotrust_state dns_autotrust_state_of(struct dns_autotrust *at, const uint8_t *zone,
                                                const uint8_t *rdata, uint16_t len);

#endif
