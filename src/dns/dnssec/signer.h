/*
 * signer — turns a zone into a signed zone, as Knot's automatic signing does: the DNSKEY set
 * of the given keys, CDS (SHA-256) and CDNSKEY for the keys that sign it (RFC 7344, RFC 8078),
 * an RRSIG on every authoritative RRset (not on a delegation's NS, not on glue), and the
 * NSEC chain (RFC 4034 §4) or the NSEC3 chain (RFC 5155, with RFC 9276's parameters: SHA-1,
 * no extra iterations, no salt, no opt-out) with NSEC3PARAM at the apex. NSEC/NSEC3 TTLs are
 * the smaller of the SOA's TTL and minimum (RFC 9077).
 *
 * DNSSEC records already in the input (RRSIG, NSEC, NSEC3, NSEC3PARAM, DNSKEY, CDS, CDNSKEY)
 * are dropped and made afresh, so signing a signed zone again refreshes it.
 * Pure: the caller passes the time and owns the keys. No I/O, no globals.
 */
#ifndef PIGEON_DNS_DNSSEC_SIGNER_H
#define PIGEON_DNS_DNSSEC_SIGNER_H

#include "dns/dnssec/crypto.h"
#include "dns/dnssec/dnssec.h"

#define DNSSEC_DNSKEY_MAX (4 + DNSSEC_PUBKEY_MAX)

struct dnssec_key {
    EVP_PKEY *pkey; /* private key; owned by whoever filled the struct */
    uint8_t alg;
    uint16_t flags; /* 257 for a KSK or CSK, 256 for a ZSK */
    uint16_t tag;
    uint8_t dnskey[DNSSEC_DNSKEY_MAX];
    size_t dnskey_len;
    bool publish;   /* in the DNSKEY set */
    bool ksk, zsk;  /* signs the DNSKEY/CDS/CDNSKEY sets; signs the other sets (a CSK: both) */
    bool active;    /* makes signatures now (a pre-published key is not active) */
    bool cds;       /* a KSK/CSK whose CDS/CDNSKEY is published (not a retiring one) */
};

/* Fills k's DNSKEY rdata and tag from pk (borrowed, stored in k->pkey). Roles from flags:
 * SEP set = KSK, else ZSK; the caller sets both for a CSK. 0 or ERR_PARSE. */
int dnssec_key_init(struct dnssec_key *k, EVP_PKEY *pk, uint8_t alg, uint16_t flags);

struct dnssec_sign_params {
    uint32_t now;           /* seconds since 1970 */
    uint32_t inception_ago; /* inception = now - this (clock skew; default one hour) */
    uint32_t validity;      /* expiration = now + this */
    bool nsec3;
    bool set_serial;        /* replace the SOA serial with serial */
    uint32_t serial;
    uint32_t dnskey_ttl;    /* 0: the SOA's TTL */
    /* Incremental signing: the previous signed version of the zone (NULL: sign everything).
     * An RRSIG of prev is kept for an RRset whose records and TTL did not change, made by a
     * key that still signs with the same DNSKEY, when it stays valid for more than refresh
     * seconds after now; the others are made afresh. So a change re-signs only what it
     * touched (and the SOA), and the difference between the versions stays small (IXFR). */
    const struct dns_zone *prev;
    uint32_t refresh;
    struct dnssec_sign_stats *stats; /* filled when not NULL */
};

struct dnssec_sign_stats {
    size_t made, kept;     /* signatures made afresh, kept from prev */
    uint32_t first_expiry; /* the earliest expiration of any signature in the zone */
};

/*
 * Signs z with keys[0..nkeys) into a new zone *out (one reference), reusing p->prev's
 * signatures where they still hold (see struct dnssec_sign_params). Returns 0, or ERR_PARSE
 * with a reason in err_out (no active key for a role, a signing failure). z is unchanged.
 */
int dnssec_sign_zone(const struct dns_zone *z, const struct dnssec_key *keys, size_t nkeys,
                     const struct dnssec_sign_params *p, struct dns_zone **out,
                     struct str *err_out);

/* true for the record types the signer makes itself (and drops from its input). */
bool dnssec_type_is_generated(uint16_t type);

/* Builds an RFC 4034 §4.1.2 bitmap of the sorted, unique types[0..n) into out (>= 8704
 * bytes for any input); returns its length. */
size_t dnssec_bitmap_build(const uint16_t *types, size_t n, uint8_t *out);

/* The NSEC (nsec true) or NSEC3 type bitmap for node into out (>= 8704 bytes): its types,
 * only NS and DS at a zone cut (RFC 4035 §2.3), RRSIG when signed, NSEC for NSEC. Returns
 * the length. RRSIG/NSEC/NSEC3 sets already at the node are ignored. */
size_t dnssec_node_bitmap(const struct dns_node *n, bool nsec, uint8_t *out);

#endif
