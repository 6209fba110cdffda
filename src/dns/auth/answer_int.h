/*
 * answer_int — what answer.c shares with answer_dnssec.c: the state of one reply being
 * built, and the DNSSEC additions (RRSIGs beside each set, NSEC/NSEC3 proofs for negative
 * answers, referrals and wildcard answers; RFC 4035 §3.1, RFC 5155 §7.2). Internal to
 * src/dns/auth/. Pure: no I/O.
 */
#ifndef PIGEON_DNS_AUTH_ANSWER_INT_H
#define PIGEON_DNS_AUTH_ANSWER_INT_H

#include "dns/auth/answer.h"
#include "dns/zone.h"

#define MAX_ADDL 32 /* targets remembered for additional-section processing */

struct ans {
    const struct dns_zoneset *zs;
    const struct dns_msg *q;
    const struct dns_answer_opts *opts;
    struct dns_builder bld;
    struct dns_builder_mark after_q; /* just after the question */
    const uint8_t *addl[MAX_ADDL];   /* MX/NS/SRV targets (borrowed from zone rdata) */
    unsigned naddl;
    const uint8_t *glue_cut; /* during a referral: the cut's name (in-domain glue test) */
    bool truncated;
    bool dnssec; /* DO set and the answering zone is signed */
    unsigned rcode;
    struct dns_answer_info info;
};

/* Which absence a proof shows. */
enum ans_proof_kind {
    ANS_PROOF_NXDOMAIN,    /* name and any wildcard for it are absent */
    ANS_PROOF_NODATA,      /* node exists without the type (or is an empty non-terminal) */
    ANS_PROOF_WILD_NODATA, /* name absent, the wildcard node has no such type */
    ANS_PROOF_WILD_ANSWER, /* name absent, so the wildcard answered */
};

struct ans_proof {
    enum ans_proof_kind kind;
    const uint8_t *name;         /* the name asked about */
    const struct dns_node *node; /* the node that exists (NODATA) or the wildcard node */
    const struct dns_node *ce;   /* the closest encloser */
};

int ans_rrset(struct ans *a, enum dns_section sec, const uint8_t *owner,
              const struct dns_rrset *rs, uint32_t ttl);
bool ans_put(struct ans *a, enum dns_section sec, const uint8_t *owner,
             const struct dns_rrset *rs, uint32_t ttl, const struct dns_node *n);
void ans_truncate(struct ans *a);

/* answer_dnssec.c: the RRSIGs at n covering type, owned by owner. false after truncation. */
bool ans_sigs(struct ans *a, enum dns_section sec, const uint8_t *owner,
              const struct dns_node *n, uint16_t type, uint32_t ttl);
/* The NSEC or NSEC3 records (with their RRSIGs) proving p in authority. */
void ans_deny(struct ans *a, const struct dns_zone *z, const struct ans_proof *p);

#endif
