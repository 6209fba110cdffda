/*
 * zone_lookup — the NSEC / NSEC3 records of a signed zone that prove a name's absence, for
 * the answer engine (RFC 4035 §3.1.3, RFC 5155 §7.2). Lookups are a binary search over the
 * zone's canonically ordered nodes; NSEC3 names are hashed with the zone's NSEC3PARAM.
 * Pure: no I/O, no allocation; pointers live as long as the zone.
 */
#ifndef PIGEON_DNS_DNSSEC_ZONE_LOOKUP_H
#define PIGEON_DNS_DNSSEC_ZONE_LOOKUP_H

#include "dns/zone.h"

#include <stdbool.h>
#include <stdint.h>

/* true when the zone is signed (a DNSKEY set at the apex). */
bool dnssec_zone_signed(const struct dns_zone *z);
/* true when the zone's denial chain is NSEC3 (an NSEC3PARAM at the apex). */
bool dnssec_zone_nsec3(const struct dns_zone *z);
/* The node holding the NSEC whose owner equals name or is the closest before it in canonical
 * order (that NSEC covers name when name does not exist), or NULL without NSEC records. */
const struct dns_node *dnssec_nsec_for(const struct dns_zone *z, const uint8_t *name);
/* The node holding the NSEC3 that matches name (*match true) or covers its hash, or NULL
 * (no NSEC3 chain, or its NSEC3PARAM is unusable). */
const struct dns_node *dnssec_nsec3_for(const struct dns_zone *z, const uint8_t *name,
                                        bool *match);

#endif
