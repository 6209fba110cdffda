/*
 * validate — the validator's checks as pure functions (RFC 4033-4035, RFC 6840): an RRset
 * against its RRSIGs and a trusted DNSKEY set, and a DNSKEY set against the DS set from the
 * parent or a trust anchor. Denial of existence is in denial.h.
 *
 * Every check draws on a per-question work budget, the defence against KeyTrap
 * (CVE-2023-50387): a bounded number of keys tried for one key tag and of signature
 * verifications per question; a spent budget makes the answer bogus, never a long stall.
 * No I/O, no clock (the caller passes the time), no globals.
 */
#ifndef PIGEON_DNS_DNSSEC_VALIDATE_H
#define PIGEON_DNS_DNSSEC_VALIDATE_H

#include "dns/dnssec/dnssec.h"

enum dnssec_status {
    DNSSEC_INDETERMINATE = 0,
    DNSSEC_SECURE,
    DNSSEC_INSECURE,
    DNSSEC_BOGUS,
};

/* RFC 8914 §4 Extended DNS Error codes the validator reports. */
enum dnssec_ede {
    DNSSEC_EDE_NONE = 0xffff,
    DNSSEC_EDE_UNSUPPORTED_ALG = 1,
    DNSSEC_EDE_UNSUPPORTED_DIGEST = 2,
    DNSSEC_EDE_BOGUS = 6,
    DNSSEC_EDE_SIG_EXPIRED = 7,
    DNSSEC_EDE_SIG_NOT_YET = 8,
    DNSSEC_EDE_DNSKEY_MISSING = 9,
    DNSSEC_EDE_RRSIGS_MISSING = 10,
    DNSSEC_EDE_NSEC_MISSING = 12,
    DNSSEC_EDE_NSEC3_ITERATIONS = 27,
};

/* Limits (CVE-2023-50387 / CVE-2023-50868): per RRSIG, per RRset and per question. */
#define DNSSEC_MAX_TAG_COLLISIONS 4 /* keys tried for one RRSIG or DS key tag */
#define DNSSEC_MAX_SET_VALIDATIONS 8 /* signature verifications for one RRset */
#define DNSSEC_MAX_SET_SIGS 16       /* RRSIGs of one RRset looked at (canonical form built) */
#define DNSSEC_MAX_VALIDATIONS 32   /* signature verifications per question */
#define DNSSEC_MAX_NSEC3_HASHES 64  /* NSEC3 hash computations (each of iterations+1 SHA-1) */
#define DNSSEC_MAX_NSEC3_ITER 150   /* RFC 9276 §3.2: above this, treat as insecure */

struct dnssec_budget {
    unsigned validations; /* left */
    unsigned nsec3_hashes;
    unsigned used;        /* signature verifications made (for the counters) */
    bool limited;         /* a limit cut the work short: a bogus verdict is the limits' doing */
};

void dnssec_budget_init(struct dnssec_budget *b);

/* One RRset to check: owner as in the answer (wire form), its records. Borrowed. */
struct dnssec_rrset_view {
    const uint8_t *owner;
    uint16_t type, rclass;
    const struct dns_rdata *rds;
    size_t n;
};

/*
 * Checks set against its RRSIG rdatas sigs[0..nsigs) made by zone signer with one of the
 * trusted DNSKEY rdatas keys[0..nkeys) at time now (seconds, RFC 1982 arithmetic).
 * SECURE when one signature verifies (*labels_out, may be NULL, gets its labels field: fewer
 * than the owner's means a wildcard expansion the caller must prove); BOGUS otherwise, with
 * the reason in *ede_out.
 */
enum dnssec_status dnssec_verify_rrset(const struct dnssec_rrset_view *set,
                                       const struct dns_rdata *sigs, size_t nsigs,
                                       const uint8_t *zone, const struct dns_rdata *keys,
                                       size_t nkeys, uint32_t now, struct dnssec_budget *b,
                                       unsigned *labels_out, uint16_t *ede_out);
/*
 * Checks a zone's DNSKEY set (owner zone) against the DS rdatas ds[0..nds) that vouch for it
 * (from the validated parent, or a trust anchor). SECURE when a DS matches a key that signs
 * the set; INSECURE when no DS has a supported algorithm and digest (RFC 4035 §5.2, RFC 6840
 * §5.2); BOGUS otherwise.
 */
enum dnssec_status dnssec_verify_dnskeys(const uint8_t *zone, const struct dns_rdata *keys,
                                         size_t nkeys, const struct dns_rdata *sigs,
                                         size_t nsigs, const struct dns_rdata *ds, size_t nds,
                                         uint32_t now, struct dnssec_budget *b,
                                         uint16_t *ede_out);
/* RFC 5011 §2.1: whether the DNSKEY rdata key (REVOKE bit set) made one of sigs over set
 * itself: a revocation counts only when the revoked key signed it. */
bool dnssec_revoke_self_signed(const struct dnssec_rrset_view *set, const struct dns_rdata *sigs,
                               size_t nsigs, const uint8_t *zone, const struct dns_rdata *key,
                               uint32_t now, struct dnssec_budget *b);
/* true when some DS rdata has an algorithm and digest type this validator supports. */
bool dnssec_ds_any_supported(const struct dns_rdata *ds, size_t nds);
/* A readable word for a status ("secure", "insecure", "bogus", "indeterminate"). */
const char *dnssec_status_name(enum dnssec_status s);

#endif
