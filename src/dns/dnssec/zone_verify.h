/*
 * zone_verify — checks a whole signed zone as ldns-verify-zone or kzonecheck do: the DNSKEY
 * set signed by one of its keys, every authoritative RRset signed by a key of the set and
 * valid at the given time, and a complete NSEC or NSEC3 chain whose bitmaps match the data.
 * Uses the validator's own functions, so the same code judges Pigeon's, Knot's and ldns's
 * signatures. Pure: no I/O, the caller passes the time.
 */
#ifndef PIGEON_DNS_DNSSEC_ZONE_VERIFY_H
#define PIGEON_DNS_DNSSEC_ZONE_VERIFY_H

#include "dns/dnssec/validate.h"

struct dnssec_zone_report {
    size_t rrsets;     /* RRsets whose signatures were checked */
    size_t failures;   /* problems found; each has one line in errors */
    size_t chain;      /* NSEC or NSEC3 records in the chain */
    bool nsec3;
    struct str errors; /* "name TYPE: reason\n" lines (the first 100) */
};

/* Verifies z at time now into r (r->errors owned by the caller: str_clear). 0 when the zone
 * is fully and validly signed, else ERR_AUTH. */
int dnssec_zone_verify(const struct dns_zone *z, uint32_t now, struct dnssec_zone_report *r);

#endif
