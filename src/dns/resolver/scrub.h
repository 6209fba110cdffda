/*
 * scrub — judges one upstream response before anything from it is cached or used: what kind
 * of answer it is, and which RRsets may be believed, with which RFC 2181 §5.4.1 rank.
 *
 * The server was asked (qname, qtype) as a server for `zone` (the zone cut the iterator is
 * at). Only data inside that zone is kept (the bailiwick rule): a record whose owner is not
 * at or below `zone` is dropped, whatever the section. Within the zone:
 *   answer     the CNAME chain from qname and the qtype RRset at its end; the chain stops
 *              at a target outside the zone (that target is asked of its own servers);
 *   authority  an SOA or NS RRset only when its owner is an ancestor of the name asked
 *              about (a referral's NS must also be strictly below `zone`);
 *   additional only A/AAAA of the kept NS names (glue), ranked lowest.
 * DNSSEC (RFC 4035 §3.1): each kept RRset takes the RRSIGs beside it (same section, owner and
 * covered type); NSEC/NSEC3 sets of the authority section inside the zone are kept as proofs
 * for the validator, with their RRSIGs. Nothing here is verified: that is the validator's.
 * So the textbook attack (a server for drevil.com sending an NS for google.com with an
 * address in the additional section) leaves nothing about google.com behind.
 *
 * Pure: no I/O, no clock, no globals. Results point into the parsed message and the arena.
 */
#ifndef PIGEON_DNS_RESOLVER_SCRUB_H
#define PIGEON_DNS_RESOLVER_SCRUB_H

#include "dns/arena.h"
#include "dns/wire.h"
#include "dns/zone.h"

#include <stdbool.h>
#include <stdint.h>

#define DNS_SCRUB_MAX_RRSETS 64
#define DNS_SCRUB_MAX_CHAIN 16

enum dns_scrub_kind {
    DNS_SCRUB_ANSWER = 1, /* the qtype RRset at the end of the chain is there */
    DNS_SCRUB_CNAME,      /* a chain leading out of this zone (or to nothing): follow target */
    DNS_SCRUB_NXDOMAIN,   /* the end of the chain does not exist */
    DNS_SCRUB_NODATA,     /* it exists, without the qtype */
    DNS_SCRUB_REFERRAL,   /* delegation to a child zone below `zone` */
    DNS_SCRUB_LAME,       /* not an answer from a server of this zone */
    DNS_SCRUB_ERROR,      /* an rcode other than NOERROR/NXDOMAIN */
};

enum dns_scrub_role {
    DNS_ROLE_CHAIN = 1, /* answer chain, in order */
    DNS_ROLE_NS,        /* the zone's or the referral's NS */
    DNS_ROLE_SOA,
    DNS_ROLE_GLUE,
    DNS_ROLE_PROOF, /* NSEC/NSEC3 of the authority section (denial, wildcard) */
};

struct dns_scrub_rrset {
    const uint8_t *owner;
    uint16_t type;
    uint16_t count;
    uint32_t ttl; /* the smallest TTL of its records */
    uint8_t rank; /* enum dns_rank */
    uint8_t role; /* enum dns_scrub_role */
    struct dns_rdata *rdata;
    uint16_t nsig; /* RRSIGs of the same section, owner and covered type */
    struct dns_rdata *sigs;
};

struct dns_scrub {
    enum dns_scrub_kind kind;
    unsigned rcode;
    struct dns_scrub_rrset sets[DNS_SCRUB_MAX_RRSETS]; /* kept RRsets */
    unsigned n;
    int chain[DNS_SCRUB_MAX_CHAIN]; /* indices into sets, CNAMEs first, in order */
    unsigned nchain;
    const uint8_t *end_name; /* end of the chain (qname when no CNAME) */
    int ns;                  /* index of the kept NS RRset, or -1 */
    int soa;                 /* index of the SOA RRset, or -1 */
    unsigned dropped;        /* records refused (out of bailiwick or irrelevant) */
};

/* Judges msg, the answer to (qname, qtype) from a server of zone. Fills *out (arrays of rdata
 * in arena). Never fails. */
void dns_scrub(const struct dns_msg *msg, const uint8_t *qname, uint16_t qtype, const uint8_t *zone,
               struct dns_arena *arena, struct dns_scrub *out);

#endif
