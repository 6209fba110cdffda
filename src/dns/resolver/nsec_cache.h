/*
 * nsec_cache — validated NSEC records kept per zone in canonical order, for the aggressive
 * use of the DNSSEC-validated cache (RFC 8198): a name that falls in a cached NSEC span (and
 * whose wildcard does too) is answered NXDOMAIN without asking; a name whose cached NSEC
 * lacks the type, NODATA. NSEC3 chains (without opt-out) the same way, by hash, and the span
 * that shows a name under a cached wildcard absent (the wildcard answer). Only records whose
 * signatures the validator checked are put here,
 * each with its RRSIGs, and the zone's SOA (also validated) for the negative answer.
 *
 * Shared by the resolvers of every worker: one mutex. Bounded: NSEC_CACHE_ZONES zones (the
 * oldest zone goes first), NSEC_CACHE_PER_ZONE records per zone (the record nearest to
 * expiry goes first). Lookups copy into the caller's arena. No I/O.
 */
#ifndef PIGEON_DNS_RESOLVER_NSEC_CACHE_H
#define PIGEON_DNS_RESOLVER_NSEC_CACHE_H

#include "dns/resolver/cache.h"

#define NSEC_CACHE_ZONES 256
#define NSEC_CACHE_PER_ZONE 1024
#define NSEC_CACHE_FOUND_MAX 2 /* the span of a name and that of its wildcard */
#define NSEC_CACHE_FOUND3_MAX 3  /* closest encloser, next closer name, wildcard */
#define NSEC_CACHE_MAX_DEPTH3 16 /* labels below the zone tried (one NSEC3 hash each) */

struct dns_nsec_cache;

struct dns_nsec_cache *dns_nsec_cache_new(void);
void dns_nsec_cache_free(struct dns_nsec_cache *nc);
/* Keeps set (an NSEC RRset, or the zone's SOA) of zone, validated, for set->ttl seconds. */
void dns_nsec_cache_put(struct dns_nsec_cache *nc, const uint8_t *zone,
                        const struct dns_cache_rrset *set, uint64_t now_ms);
/*
 * The live NSEC records of zone that could prove something about name: the one at or before
 * name in canonical order, and the one at or before the wildcard of its closest encloser
 * (copies in a, into out[NSEC_CACHE_FOUND_MAX], TTLs as remaining); that wildcard's name
 * into wild (DNS_NAME_MAXLEN; empty when name has an NSEC of its own). *soa gets the zone's
 * SOA (count 0 when not known). Returns how many records were found.
 */
unsigned dns_nsec_cache_find(struct dns_nsec_cache *nc, const uint8_t *zone, const uint8_t *name,
                             uint64_t now_ms, struct dns_arena *a, struct dns_cache_rrset *out,
                             struct dns_cache_rrset *soa, uint8_t *wild);

/*
 * NSEC3 (RFC 8198 with RFC 5155 §8): the live NSEC3 records of zone that could prove name
 * absent: the one whose hash is name's (NODATA), or the closest encloser's, the one covering
 * the next closer name and the one covering the wildcard at the closest encloser (NXDOMAIN)
 * or matching it (wildcard NODATA, §8.7). Hashed with the
 * parameters of the zone's cached chain, at most NSEC_CACHE_MAX_DEPTH3 labels below the zone
 * (one SHA-1 run per label, as many iterations as the chain has, at most 150). Only records
 * without opt-out are kept. Copies in a, into out[NSEC_CACHE_FOUND3_MAX]; *soa the zone's SOA.
 * Returns how many records (0 when the cache cannot make the proof, or has no SOA).
 */
unsigned dns_nsec_cache_find3(struct dns_nsec_cache *nc, const uint8_t *zone, const uint8_t *name,
                              uint64_t now_ms, struct dns_arena *a, struct dns_cache_rrset *out,
                              struct dns_cache_rrset *soa);

/*
 * NSEC3, for a wildcard answer (RFC 8198 §5.3 with RFC 5155 §8.8): the live record of zone's
 * cached chain whose span holds name's hash, when that hash is not itself an owner (the
 * record may then cover name: the caller proves it with dnssec_prove_wildcard). One hash with
 * the chain's parameters. Copied in a into *out; false when nothing fits.
 */
bool dns_nsec_cache_span3(struct dns_nsec_cache *nc, const uint8_t *zone, const uint8_t *name,
                          uint64_t now_ms, struct dns_arena *a, struct dns_cache_rrset *out);

#endif
