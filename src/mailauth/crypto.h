/*
 * crypto — the OpenSSL EVP calls behind DKIM (and any later ARC): key loading, SHA-256, RSA
 * PKCS#1 v1.5 with SHA-256, and Ed25519 over a SHA-256 hash (RFC 8463 §3). Internal to
 * src/mailauth/. No I/O.
 */
#ifndef PIGEON_MAILAUTH_CRYPTO_H
#define PIGEON_MAILAUTH_CRYPTO_H

#include "core/str.h"
#include "mailauth/dkim.h"

#include <openssl/evp.h>

void mailauth_sha256(const void *data, size_t len, unsigned char out[32]);

/* The public key of a parsed record, or NULL with *why (RSA under 1024 bits, bad encoding,
 * type not matching alg). The caller frees it with EVP_PKEY_free. */
EVP_PKEY *mailauth_pubkey(const struct dkim_key *k, enum dkim_alg alg, const char **why);

/* 1 when sig verifies over data with pk, 0 otherwise. */
int mailauth_verify(EVP_PKEY *pk, enum dkim_alg alg, const char *data, size_t len,
                    const unsigned char *sig, size_t sig_len);

/* Signs data with the private key pk; appends the base64 signature to out. 0 or ERR_IO. */
int mailauth_sign(EVP_PKEY *pk, enum dkim_alg alg, const char *data, size_t len,
                  struct str *out);

/* Appends base64 of data to out. */
void mailauth_b64_append(const unsigned char *data, size_t len, struct str *out);

#endif
