/*
 * denial — proofs of non-existence (RFC 4035 §5.4 for NSEC, RFC 5155 §8 for NSEC3, RFC 6840
 * §4 and RFC 4592 for wildcards): NXDOMAIN, NODATA, and that a wildcard expansion was
 * legitimate; plus the NSEC3 hash (RFC 5155 §5).
 *
 * The records handed in must already have verified signatures (validate.h): these functions
 * only reason about names and bitmaps. NSEC3 hashing draws on the question's budget; NSEC3
 * chains with more than DNSSEC_MAX_NSEC3_ITER iterations give INSECURE (RFC 9276 §3.2).
 * Pure: no I/O, no clock, no globals.
 */
#ifndef PIGEON_DNS_DNSSEC_DENIAL_H
#define PIGEON_DNS_DNSSEC_DENIAL_H

#include "dns/dnssec/validate.h"
#include "dns/name.h"

#define DNSSEC_NSEC3_HASH_MAX 20 /* SHA-1 */

/* One NSEC or NSEC3 record (owner and rdata in wire form; borrowed). */
struct dnssec_nsec_rr {
    const uint8_t *owner;
    uint16_t type; /* DNS_TYPE_NSEC or DNS_TYPE_NSEC3 */
    const uint8_t *rdata;
    size_t len;
};

enum dnssec_proof {
    DNSSEC_PROOF_NONE = 0,  /* the records do not prove it: bogus */
    DNSSEC_PROOF_OK,        /* proven */
    DNSSEC_PROOF_INSECURE,  /* an opt-out span or too many NSEC3 iterations: insecure */
    DNSSEC_PROOF_BUDGET,    /* the question's hash budget ran out: bogus */
};

/* An NSEC3 record's fields (RFC 5155 §3.2), pointing into its rdata. */
struct dnssec_nsec3_view {
    uint8_t alg, flags; /* flags bit 0: opt-out */
    uint16_t iterations;
    const uint8_t *salt, *next, *bm;
    size_t saltlen, nextlen, bmlen;
    uint8_t owner_hash[DNSSEC_NSEC3_HASH_MAX];
    size_t owner_hashlen;
};

/* Reads r, an NSEC3 record of zone (owner "<base32hex hash>.<zone>", SHA-1) into *o; false
 * when it is not one. */
bool dnssec_nsec3_view(const struct dnssec_nsec_rr *r, const uint8_t *zone,
                       struct dnssec_nsec3_view *o);

/* RFC 5155 §5 hash of name into out (20 bytes); ERR_PARSE for an unknown hash algorithm. */
int dnssec_nsec3_hash(const uint8_t *name, uint8_t alg, unsigned iterations,
                      const uint8_t *salt, size_t saltlen, uint8_t out[DNSSEC_NSEC3_HASH_MAX]);

/* The NSEC3 owner "<base32hex(h)>.<zone>" into out (DNS_NAME_MAXLEN). 0 or ERR_RANGE. */
int dnssec_nsec3_owner(const uint8_t h[DNSSEC_NSEC3_HASH_MAX], const uint8_t *zone,
                       uint8_t *out);

/* qname does not exist, nor does a wildcard that could have matched it (zone: the apex). */
enum dnssec_proof dnssec_prove_nxdomain(const struct dnssec_nsec_rr *v, size_t n,
                                        const uint8_t *zone, const uint8_t *qname,
                                        struct dnssec_budget *b);
/* qname exists without qtype (or only a wildcard matches it, without qtype). For qtype DS an
 * opt-out span gives INSECURE. */
enum dnssec_proof dnssec_prove_nodata(const struct dnssec_nsec_rr *v, size_t n,
                                      const uint8_t *zone, const uint8_t *qname, uint16_t qtype,
                                      struct dnssec_budget *b);
/* An answer for qname signed with labels (the RRSIG's) < qname's labels came from a
 * wildcard: qname itself (its next closer name) must be shown not to exist. */
enum dnssec_proof dnssec_prove_wildcard(const struct dnssec_nsec_rr *v, size_t n,
                                        const uint8_t *zone, const uint8_t *qname,
                                        unsigned labels, struct dnssec_budget *b);

/* After dnssec_prove_nodata(qname, DS) gave DNSSEC_PROOF_OK: true when the record matching
 * qname shows a zone cut (NS without SOA): an insecure delegation. false for a name that is
 * not a cut (no NS, or an empty non-terminal). */
bool dnssec_denial_is_cut(const struct dnssec_nsec_rr *v, size_t n, const uint8_t *zone,
                          const uint8_t *qname, struct dnssec_budget *b);

/* The number of labels a shares with b, from the right. */
unsigned dnssec_common_labels(const uint8_t *a, const uint8_t *b);
/* "*." + the name formed by the rightmost `labels` labels of name, into out; false when it
 * would be too long. */
bool dnssec_wildcard_at(const uint8_t *name, unsigned labels, uint8_t out[DNS_NAME_MAXLEN]);

/* NSEC helpers, shared with the signer's tests and the resolver's aggressive cache
 * (RFC 8198): true when owner < name < next in canonical order (the last NSEC of a zone,
 * whose next is the apex, covers every name after its owner). */
bool dnssec_nsec_covers(const uint8_t *owner, const uint8_t *next, const uint8_t *name);

#endif
