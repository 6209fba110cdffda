/*
 * dnssec — the record formats of DNSSEC (RFC 4034, RFC 5155) as parsed views, canonical form
 * and ordering (RFC 4034 §6), key tags (RFC 4034 App. B) and DS digests (RFC 4509).
 *
 * Everything here is pure: no I/O, no clock, no globals. Parsed structs borrow the rdata
 * they were made from. The cryptography (OpenSSL EVP) lives in crypto.h, the zone signer in
 * signer.h, the validator in validate.h and denial.h; key files in keystore.h.
 */
#ifndef PIGEON_DNS_DNSSEC_H
#define PIGEON_DNS_DNSSEC_H

#include "core/str.h"
#include "dns/zone.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 8624 §3.1 algorithm numbers. */
enum dnssec_alg {
    DNSSEC_ALG_RSASHA1 = 5,
    DNSSEC_ALG_RSASHA1_NSEC3 = 7,
    DNSSEC_ALG_RSASHA256 = 8,
    DNSSEC_ALG_RSASHA512 = 10,
    DNSSEC_ALG_ECDSAP256 = 13,
    DNSSEC_ALG_ECDSAP384 = 14,
    DNSSEC_ALG_ED25519 = 15,
    DNSSEC_ALG_ED448 = 16,
};

/* RFC 8624 §3.3 DS digest types. */
enum dnssec_digest {
    DNSSEC_DIGEST_SHA1 = 1,
    DNSSEC_DIGEST_SHA256 = 2,
    DNSSEC_DIGEST_SHA384 = 4,
};

#define DNSSEC_FLAG_ZONE 0x0100 /* RFC 4034 §2.1.1 */
#define DNSSEC_FLAG_SEP 0x0001
#define DNSSEC_FLAG_REVOKE 0x0080 /* RFC 5011 §3 */
#define DNSSEC_DIGEST_MAX 48
#define DNSSEC_RRSIG_FIXED 18 /* RRSIG rdata before the signer's name */

struct dnssec_dnskey {
    uint16_t flags;
    uint8_t protocol, alg;
    const uint8_t *key;
    size_t keylen;
    uint16_t tag;
};

struct dnssec_rrsig {
    uint16_t covered;
    uint8_t alg, labels;
    uint32_t orig_ttl, expiration, inception;
    uint16_t tag;
    const uint8_t *signer; /* uncompressed name inside the rdata */
    const uint8_t *sig;
    size_t siglen;
    const uint8_t *rdata; /* the whole rdata; rdata[0..sig - rdata) is what gets signed */
};

struct dnssec_ds {
    uint16_t tag;
    uint8_t alg, digest_type;
    const uint8_t *digest;
    size_t digestlen;
};

/* ---- parsing (0 or ERR_PARSE; the views borrow rdata) ---- */

int dnssec_dnskey_parse(const uint8_t *rd, size_t len, struct dnssec_dnskey *out);
int dnssec_rrsig_parse(const uint8_t *rd, size_t len, struct dnssec_rrsig *out);
int dnssec_ds_parse(const uint8_t *rd, size_t len, struct dnssec_ds *out);

/* ---- canonical form (RFC 4034 §6) ---- */

/* RFC 4034 App. B key tag of a DNSKEY rdata. */
uint16_t dnssec_key_tag(const uint8_t *rd, size_t len);
/*
 * Appends the data an RRSIG covers (RFC 4034 §3.1.8.1) to out: the RRSIG rdata without its
 * signature (signer lower-cased), then each RR of the set in canonical form and order, with
 * owner as the RRSIG's labels field says (a wildcard expansion gets "*." back) and the
 * original TTL. rrsig_fixed is the RRSIG rdata up to and including the signer's name.
 * Duplicate rdata count once. 0, or ERR_PARSE when labels exceeds the owner's.
 */
int dnssec_sigdata(const uint8_t *owner, uint16_t rclass, uint16_t type,
                   const uint8_t *rrsig_fixed, size_t fixed_len, const struct dns_rdata *rds,
                   size_t n, struct str *out);
/* Canonical rdata (RFC 4034 §6.2 as amended by RFC 6840 §5.1): names lower-cased in the
 * types whose names are decompressed on input. out needs len bytes. */
void dnssec_rdata_canon(uint16_t type, const uint8_t *rd, size_t len, uint8_t *out);
/*
 * The DS digest of a DNSKEY (owner | rdata, RFC 4034 §5.1.4) with the given digest type.
 * 0 with *len_out, or ERR_PARSE for an unsupported digest type.
 */
int dnssec_ds_digest(const uint8_t *owner, const uint8_t *dnskey_rd, size_t len, uint8_t dtype,
                     uint8_t out[DNSSEC_DIGEST_MAX], size_t *len_out);
/* Builds a DS rdata (4 + digest bytes) for a DNSKEY into out (>= 4 + DNSSEC_DIGEST_MAX).
 * 0 with *len_out, or ERR_PARSE. */
int dnssec_ds_make(const uint8_t *owner, const uint8_t *dnskey_rd, size_t len, uint8_t dtype,
                   uint8_t *out, size_t *len_out);
/* true when the type bitmap (RFC 4034 §4.1.2) bm[0..len) has type. */
bool dnssec_bitmap_has(const uint8_t *bm, size_t len, uint16_t type);

#endif
