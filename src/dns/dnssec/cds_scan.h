/*
 * cds_scan — what a parent zone makes of a child's CDS and CDNSKEY records (RFC 7344, RFC
 * 8078) when the child is served elsewhere and its records come from a validating resolver.
 *
 * The parent asks the resolver three questions about the child's apex -- CDS, CDNSKEY and
 * DNSKEY, each with DO set -- and judges the three replies here:
 *
 *   - only a reply with AD set and NOERROR counts (the resolver validated it: the child is
 *     securely delegated already; insecure children are not bootstrapped, RFC 8078 §3 is
 *     left to the administrator);
 *   - no CDS and no CDNSKEY: nothing to do;
 *   - CDS "0 0 0 00" and/or CDNSKEY "0 3 0 AA==" (and nothing else): remove the DS set
 *     (RFC 8078 §4);
 *   - else the DS set is the CDS set (CDNSKEY alone: their SHA-256 digests); with both, every
 *     CDNSKEY's digest must be in the CDS set (RFC 7344 §4.1: consistent), and the new set must
 *     hold a DS of a key that signs the child's DNSKEY set (§4.1: it must not break the
 *     chain of trust).
 *
 * dnssec_cds_update then writes the RFC 2136 UPDATE that gives the parent's cut that DS set,
 * so the change takes the path of every other change (journal, new serial, signatures,
 * NOTIFY, IXFR). Pure: no I/O, no clock.
 */
#ifndef PIGEON_DNS_DNSSEC_CDS_SCAN_H
#define PIGEON_DNS_DNSSEC_CDS_SCAN_H

#include "dns/dnssec/dnssec.h"

#include <stddef.h>
#include <stdint.h>

struct dns_zone;

#define DNSSEC_CDS_MAX 8 /* DS records a child may ask for */

enum dnssec_cds_verdict {
    DNSSEC_CDS_NONE,   /* the child publishes nothing: leave the DS set */
    DNSSEC_CDS_SET,    /* the DS set becomes ds[0..n) */
    DNSSEC_CDS_DELETE, /* the DS set goes (the child turns insecure) */
    DNSSEC_CDS_REJECT, /* not acceptable: why */
};

struct dnssec_cds_result {
    enum dnssec_cds_verdict verdict;
    const char *why; /* static text for NONE and REJECT */
    size_t n;
    uint16_t len[DNSSEC_CDS_MAX];
    uint8_t ds[DNSSEC_CDS_MAX][4 + DNSSEC_DIGEST_MAX];
};

enum { DNSSEC_CDS_Q_CDS, DNSSEC_CDS_Q_CDNSKEY, DNSSEC_CDS_Q_DNSKEY, DNSSEC_CDS_NQ };

/* The query types asked, in the order of the replies handed to dnssec_cds_judge. */
extern const uint16_t dnssec_cds_qtypes[DNSSEC_CDS_NQ];

/* Judges the resolver's replies (pkt[i], len[i]; NULL/0: no reply) to child's CDS, CDNSKEY
 * and DNSKEY questions into *out. */
void dnssec_cds_judge(const uint8_t *child, const uint8_t *const pkt[DNSSEC_CDS_NQ],
                      const size_t len[DNSSEC_CDS_NQ], struct dnssec_cds_result *out);

/* The query for child's qtype sent to the resolver (RD, AD, EDNS with DO) into out (>= 512
 * bytes) with id; returns its length. */
size_t dnssec_cds_query(const uint8_t *child, uint16_t qtype, uint16_t id, uint8_t *out,
                        size_t cap);

/*
 * The UPDATE of zone z (its origin in the zone section) that makes the DS set at the cut
 * child what r says (SET or DELETE), into out; the TTL of the set is the present DS set's,
 * else the cut's NS TTL. Returns its length, or 0 when z already has that set, child is not
 * a cut of z, or r asks for nothing.
 */
size_t dnssec_cds_update(const struct dns_zone *z, const uint8_t *child,
                         const struct dnssec_cds_result *r, uint8_t *out, size_t cap);

#endif
