/*
 * dkim — DomainKeys Identified Mail (RFC 6376) with rsa-sha256 and ed25519-sha256 (RFC 8463).
 * Signing and the verification of one signature against its key record are pure functions
 * over a message in memory (crypto through OpenSSL EVP); the DNS look-ups are done by
 * mailauth/verify.h. No I/O, no clock (the time is passed in), no globals.
 *
 * rsa-sha1 is refused (RFC 8301), as are RSA keys under 1024 bits. Pigeon never signs with l=;
 * a received signature whose l= leaves part of the body unsigned is reported as "policy"
 * (RFC 8601 §2.7.1), never as pass, so text appended after the signed part cannot borrow
 * the signature's domain for DMARC.
 */
#ifndef PIGEON_MAILAUTH_DKIM_H
#define PIGEON_MAILAUTH_DKIM_H

#include "core/str.h"
#include "mailauth/canon.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum dkim_alg { DKIM_RSA_SHA256, DKIM_ED25519_SHA256 };

/* RFC 8601 §2.7.1 result names, in this order. */
enum dkim_result { DKIM_NONE, DKIM_PASS, DKIM_FAIL, DKIM_POLICY, DKIM_NEUTRAL, DKIM_TEMPERROR,
                   DKIM_PERMERROR };
const char *dkim_result_name(enum dkim_result r);

#define DKIM_MAX_H 64          /* names in h= */
#define DKIM_MAX_SIGS 8        /* signatures checked per message; more are ignored */
#define DKIM_MAX_SIG_BYTES 1024 /* 8192-bit RSA */

/* A parsed DKIM-Signature (§3.5). */
struct dkim_sig {
    enum dkim_alg alg;
    enum dkim_canon hcanon, bcanon;
    char domain[254];   /* d=, lower case */
    char selector[254]; /* s= */
    char auid[320];     /* i=, "@d" when absent */
    char h[DKIM_MAX_H][80]; /* h= names, lower case */
    size_t nh;
    unsigned char bh[64];
    size_t bh_len;
    unsigned char b[DKIM_MAX_SIG_BYTES];
    size_t b_len;
    char b_text[16];    /* the first characters of b= (RFC 6008 header.b) */
    bool has_l;
    uint64_t l;
    bool has_t, has_x;
    int64_t t, x;
};

/* Parses a DKIM-Signature value. 0, or ERR_PARSE with *err_out saying why (a permerror). */
int dkim_sig_parse(const char *value, size_t len, struct dkim_sig *out, const char **err_out);

/* A parsed key record (§3.6.1). */
struct dkim_key {
    enum dkim_alg alg;
    unsigned char pub[2048]; /* DER SubjectPublicKeyInfo/RSAPublicKey, or 32 raw ed25519 bytes */
    size_t pub_len;          /* 0: the key was revoked (p= empty) */
    bool testing;            /* t=y */
    bool strict;             /* t=s: i= must be d= exactly */
};

/* Parses a TXT key record. 0, or ERR_PARSE with *err_out. */
int dkim_key_parse(const char *txt, size_t len, struct dkim_key *out, const char **err_out);

/* ---- signing ---- */

struct dkim_signer; /* a domain's private key, selector and algorithm */

/*
 * Loads a PEM private key (RSA of 1024..8192 bits, or Ed25519) from pem[0..len). 0, or
 * ERR_PARSE/ERR_RANGE with *err_out. The signer copies domain and selector.
 */
int dkim_signer_new(const char *pem, size_t len, const char *domain, const char *selector,
                    struct dkim_signer **out, const char **err_out);
void dkim_signer_free(struct dkim_signer *s);
enum dkim_alg dkim_signer_alg(const struct dkim_signer *s);
/* Appends the DNS record to publish at SELECTOR._domainkey.DOMAIN ("v=DKIM1; k=...; p=..."). */
void dkim_signer_record(const struct dkim_signer *s, struct str *out);

/* Makes a new private key in PEM form into out: 2048-bit RSA or Ed25519. 0 or ERR_IO. */
int dkim_key_generate(enum dkim_alg alg, struct str *pem_out);

/*
 * Signs msg[0..len) (relaxed/relaxed, no l=) at time now: appends a complete, folded
 * "DKIM-Signature: ...\r\n" field to out, to be put on top of the message. The signed fields
 * are those of §5.4.1's list that are present, and From, To and Subject once more than they
 * appear (over-signing: none can be added later). 0, or ERR_PARSE for a message that cannot
 * be split, or ERR_IO when the crypto fails.
 */
int dkim_sign(const struct dkim_signer *s, const char *msg, size_t len, int64_t now,
              struct str *out);
/* The same for a message the caller has split already (no second pass over its header). */
int dkim_sign_msg(const struct dkim_signer *s, const struct mailauth_msg *m, int64_t now,
                  struct str *out);

/* ---- verification of one signature ---- */

/*
 * The body-hash half of a check (§6.1.3), needing no DNS: DKIM_PASS when bh= matches,
 * DKIM_FAIL on a mismatch or an l= beyond the body, DKIM_POLICY when l= leaves body unsigned.
 */
enum dkim_result dkim_check_body(const struct dkim_sig *sig, const struct mailauth_msg *m,
                                 const char **why);

/*
 * The header half: sig is the parsed form of m->f[sig_field]; key is its key record. Returns
 * DKIM_PASS, DKIM_FAIL (signature mismatch), DKIM_NEUTRAL (revoked key) or DKIM_PERMERROR
 * (unusable key, algorithm mismatch, i= outside d=), with *why for the A-R comment.
 */
enum dkim_result dkim_check_header(const struct dkim_sig *sig, const struct mailauth_msg *m,
                                   size_t sig_field, const struct dkim_key *key,
                                   const char **why);

#endif
