/*
 * crypto — DNSSEC signatures through OpenSSL EVP: public keys from DNSKEY rdata, signature
 * checks, key generation and signing, in the wire formats of RFC 3110 (RSA), RFC 5702
 * (RSASHA256/512), RFC 6605 (ECDSA: r|s, X|Y) and RFC 8080 (Ed25519, Ed448).
 *
 * No I/O, no clock, no globals. EVP_PKEY objects are owned by the caller (EVP_PKEY_free).
 */
#ifndef PIGEON_DNS_DNSSEC_CRYPTO_H
#define PIGEON_DNS_DNSSEC_CRYPTO_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNSSEC_SIG_MAX 512    /* RSA up to 4096 bits */
#define DNSSEC_PUBKEY_MAX 520 /* RSA-4096 modulus + exponent */

/* true when signatures of alg can be checked (RFC 8624 §3.1 "MUST"/"RECOMMENDED" ones). */
bool dnssec_alg_supported(uint8_t alg);
/* The mnemonic of an algorithm ("ECDSAP256SHA256"), or NULL; and its number (0 unknown). */
const char *dnssec_alg_name(uint8_t alg);
uint8_t dnssec_alg_from_name(const char *name);

/* A public key from a DNSKEY's key field, or NULL when it is malformed or alg unsupported. */
EVP_PKEY *dnssec_pkey_from_dnskey(uint8_t alg, const uint8_t *key, size_t len);
/* Checks sig over data[0..n): 0 when valid, ERR_AUTH when not. Never blocks. */
int dnssec_sig_verify(EVP_PKEY *pk, uint8_t alg, const uint8_t *data, size_t n,
                      const uint8_t *sig, size_t siglen);

/* A new private key for alg (RSA: 2048 bits), or NULL. */
EVP_PKEY *dnssec_key_generate(uint8_t alg);
/* The DNSKEY key field of pk into out[0..DNSSEC_PUBKEY_MAX). 0 with *len_out, or ERR_PARSE. */
int dnssec_pubkey_wire(EVP_PKEY *pk, uint8_t alg, uint8_t *out, size_t *len_out);
/* Signs data[0..n) into sig[0..DNSSEC_SIG_MAX) in the DNSSEC wire format. 0 or ERR_PARSE. */
int dnssec_sig_make(EVP_PKEY *pk, uint8_t alg, const uint8_t *data, size_t n, uint8_t *sig,
                    size_t *siglen_out);

#endif
