/*
 * crypto — OpenSSL EVP for DKIM: rsa-sha256 signs the header data with SHA-256 and PKCS#1
 * v1.5; ed25519-sha256 signs the SHA-256 hash of the same data with PureEdDSA (RFC 8463 §3).
 */
#include "mailauth/crypto.h"

#include "core/err.h"
#include "core/xmalloc.h"
#include "msg/base64.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <string.h>

void mailauth_sha256(const void *data, size_t len, unsigned char out[32])
{
    unsigned int n = 32;
    EVP_Digest(data, len, out, &n, EVP_sha256(), NULL);
}

void mailauth_b64_append(const unsigned char *data, size_t len, struct str *out)
{
    size_t need = base64_encoded_size(len);
    str_reserve(out, need);
    out->len += base64_encode(data, len, out->ptr + out->len);
}

EVP_PKEY *mailauth_pubkey(const struct dkim_key *k, enum dkim_alg alg, const char **why)
{
    if (k->alg != alg) {
        *why = "key type does not match the signature algorithm";
        return NULL;
    }
    EVP_PKEY *pk = NULL;
    if (alg == DKIM_ED25519_SHA256) {
        if (k->pub_len == 32)
            pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, k->pub, 32);
    } else {
        const unsigned char *p = k->pub;
        pk = d2i_PUBKEY(NULL, &p, (long)k->pub_len);
        if (!pk) { /* some publish the bare RSAPublicKey (PKCS#1) */
            p = k->pub;
            pk = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)k->pub_len);
        }
        if (pk && EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA) {
            EVP_PKEY_free(pk);
            pk = NULL;
        } else if (pk && (EVP_PKEY_get_bits(pk) < 1024 || EVP_PKEY_get_bits(pk) > 8192)) {
            EVP_PKEY_free(pk);
            *why = "RSA key size outside 1024..8192 bits";
            return NULL;
        }
    }
    if (!pk)
        *why = "unusable public key";
    return pk;
}

/* What the key signs: rsa-sha256 hashes data itself (md SHA-256); ed25519-sha256 signs the
 * SHA-256 of data, kept in h, with no digest of its own (PureEdDSA). */
static const EVP_MD *signed_input(enum dkim_alg alg, const char **data, size_t *len,
                                  unsigned char h[32])
{
    if (alg != DKIM_ED25519_SHA256)
        return EVP_sha256();
    mailauth_sha256(*data, *len, h);
    *data = (const char *)h, *len = 32;
    return NULL;
}

int mailauth_verify(EVP_PKEY *pk, enum dkim_alg alg, const char *data, size_t len,
                    const unsigned char *sig, size_t sig_len)
{
    unsigned char h[32];
    const EVP_MD *md = signed_input(alg, &data, &len, h);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestVerifyInit(ctx, NULL, md, NULL, pk) == 1 &&
             EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)data, len) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}

int mailauth_sign(EVP_PKEY *pk, enum dkim_alg alg, const char *data, size_t len,
                  struct str *out)
{
    unsigned char h[32];
    const EVP_MD *md = signed_input(alg, &data, &len, h);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t n = 0;
    unsigned char *sig = NULL;
    int rc = ERR_IO;
    if (ctx && EVP_DigestSignInit(ctx, NULL, md, NULL, pk) == 1 &&
        EVP_DigestSign(ctx, NULL, &n, (const unsigned char *)data, len) == 1) {
        sig = xmalloc(n);
        if (EVP_DigestSign(ctx, sig, &n, (const unsigned char *)data, len) == 1) {
            mailauth_b64_append(sig, n, out);
            rc = 0;
        }
    }
    free(sig);
    EVP_MD_CTX_free(ctx);
    return rc;
}
