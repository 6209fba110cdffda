/* crypto — DNSSEC signatures through OpenSSL EVP. See crypto.h. */
#include "dns/dnssec/crypto.h"

#include "core/err.h"
#include "dns/dnssec/dnssec.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/param_build.h>
#include <string.h>
#include <strings.h>

static const struct {
    uint8_t alg;
    const char *name;
} alg_names[] = {
    {DNSSEC_ALG_RSASHA1, "RSASHA1"},         {DNSSEC_ALG_RSASHA1_NSEC3, "RSASHA1-NSEC3-SHA1"},
    {DNSSEC_ALG_RSASHA256, "RSASHA256"},     {DNSSEC_ALG_RSASHA512, "RSASHA512"},
    {DNSSEC_ALG_ECDSAP256, "ECDSAP256SHA256"}, {DNSSEC_ALG_ECDSAP384, "ECDSAP384SHA384"},
    {DNSSEC_ALG_ED25519, "ED25519"},         {DNSSEC_ALG_ED448, "ED448"},
};

const char *dnssec_alg_name(uint8_t alg)
{
    for (size_t i = 0; i < sizeof alg_names / sizeof alg_names[0]; i++)
        if (alg_names[i].alg == alg)
            return alg_names[i].name;
    return NULL;
}

uint8_t dnssec_alg_from_name(const char *name)
{
    for (size_t i = 0; i < sizeof alg_names / sizeof alg_names[0]; i++)
        if (strcasecmp(alg_names[i].name, name) == 0)
            return alg_names[i].alg;
    return 0;
}

bool dnssec_alg_supported(uint8_t alg)
{
    return dnssec_alg_name(alg) != NULL;
}

static bool alg_is_rsa(uint8_t alg)
{
    return alg == DNSSEC_ALG_RSASHA1 || alg == DNSSEC_ALG_RSASHA1_NSEC3 ||
           alg == DNSSEC_ALG_RSASHA256 || alg == DNSSEC_ALG_RSASHA512;
}

static const EVP_MD *alg_md(uint8_t alg)
{
    switch (alg) {
    case DNSSEC_ALG_RSASHA1:
    case DNSSEC_ALG_RSASHA1_NSEC3:
        return EVP_sha1();
    case DNSSEC_ALG_RSASHA256:
    case DNSSEC_ALG_ECDSAP256:
        return EVP_sha256();
    case DNSSEC_ALG_RSASHA512:
        return EVP_sha512();
    case DNSSEC_ALG_ECDSAP384:
        return EVP_sha384();
    default:
        return NULL; /* EdDSA hashes internally */
    }
}

/* The size of one ECDSA coordinate (RFC 6605 §4), 0 for other algorithms. */
static size_t ec_size(uint8_t alg)
{
    return alg == DNSSEC_ALG_ECDSAP256 ? 32 : alg == DNSSEC_ALG_ECDSAP384 ? 48 : 0;
}

static EVP_PKEY *pkey_fromdata(const char *type, OSSL_PARAM_BLD *bld)
{
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    EVP_PKEY *pk = NULL;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        pk = NULL;
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return pk;
}

/* RFC 3110 §2: exponent length (1 octet, or 0 then 2 octets), exponent, modulus. */
static EVP_PKEY *rsa_from_wire(const uint8_t *key, size_t len)
{
    size_t el, off;
    if (len < 3)
        return NULL;
    if (key[0]) {
        el = key[0];
        off = 1;
    } else {
        el = (size_t)key[1] << 8 | key[2];
        off = 3;
    }
    if (el == 0 || el > len - off || len - off - el < 64 || len - off - el > 512)
        return NULL; /* modulus between 512 and 4096 bits */
    BIGNUM *e = BN_bin2bn(key + off, (int)el, NULL);
    BIGNUM *n = BN_bin2bn(key + off + el, (int)(len - off - el), NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    EVP_PKEY *pk = NULL;
    if (e && n && bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
        pk = pkey_fromdata("RSA", bld);
    OSSL_PARAM_BLD_free(bld);
    BN_free(e);
    BN_free(n);
    return pk;
}

static EVP_PKEY *ec_from_wire(uint8_t alg, const uint8_t *key, size_t len)
{
    size_t cs = ec_size(alg);
    if (len != 2 * cs)
        return NULL;
    uint8_t point[1 + 2 * 48];
    point[0] = 0x04; /* uncompressed X|Y */
    memcpy(point + 1, key, len);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    EVP_PKEY *pk = NULL;
    const char *group = cs == 32 ? "P-256" : "P-384";
    if (bld && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) &&
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 1 + len))
        pk = pkey_fromdata("EC", bld);
    OSSL_PARAM_BLD_free(bld);
    return pk;
}

EVP_PKEY *dnssec_pkey_from_dnskey(uint8_t alg, const uint8_t *key, size_t len)
{
    if (alg_is_rsa(alg))
        return rsa_from_wire(key, len);
    if (ec_size(alg))
        return ec_from_wire(alg, key, len);
    if (alg == DNSSEC_ALG_ED25519 && len == 32)
        return EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, key, len);
    if (alg == DNSSEC_ALG_ED448 && len == 57)
        return EVP_PKEY_new_raw_public_key(EVP_PKEY_ED448, NULL, key, len);
    return NULL;
}

/* RFC 6605 §4: r|s of cs bytes each -> DER for OpenSSL. Returns the DER length or 0. */
static size_t ecdsa_to_der(const uint8_t *sig, size_t cs, uint8_t *der, size_t cap)
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, (int)cs, NULL), *s = BN_bin2bn(sig + cs, (int)cs, NULL);
    size_t n = 0;
    if (es && r && s && ECDSA_SIG_set0(es, r, s)) {
        r = s = NULL; /* owned by es now */
        int l = i2d_ECDSA_SIG(es, NULL);
        if (l > 0 && (size_t)l <= cap) {
            uint8_t *p = der;
            n = (size_t)i2d_ECDSA_SIG(es, &p);
        }
    }
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    return n;
}

int dnssec_sig_verify(EVP_PKEY *pk, uint8_t alg, const uint8_t *data, size_t n,
                      const uint8_t *sig, size_t siglen)
{
    uint8_t der[2 * 48 + 16];
    size_t cs = ec_size(alg);
    if (cs) {
        if (siglen != 2 * cs || !(siglen = ecdsa_to_der(sig, cs, der, sizeof der)))
            return ERR_AUTH;
        sig = der;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestVerifyInit(ctx, NULL, alg_md(alg), NULL, pk) == 1 &&
             EVP_DigestVerify(ctx, sig, siglen, data, n) == 1;
    EVP_MD_CTX_free(ctx);
    return ok ? 0 : ERR_AUTH;
}

EVP_PKEY *dnssec_key_generate(uint8_t alg)
{
    switch (alg) {
    case DNSSEC_ALG_RSASHA256:
    case DNSSEC_ALG_RSASHA512:
        return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    case DNSSEC_ALG_ECDSAP256:
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    case DNSSEC_ALG_ECDSAP384:
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    case DNSSEC_ALG_ED25519:
        return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    case DNSSEC_ALG_ED448:
        return EVP_PKEY_Q_keygen(NULL, NULL, "ED448");
    default:
        return NULL; /* RFC 8624 §3.1: no new RSASHA1 keys */
    }
}

static int rsa_wire(EVP_PKEY *pk, uint8_t *out, size_t *len_out)
{
    BIGNUM *n = NULL, *e = NULL;
    int rc = ERR_PARSE;
    if (EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &n) &&
        EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e)) {
        size_t el = (size_t)BN_num_bytes(e), nl = (size_t)BN_num_bytes(n);
        size_t off = el < 256 ? 1 : 3;
        if (off + el + nl <= DNSSEC_PUBKEY_MAX) {
            if (off == 1) {
                out[0] = (uint8_t)el;
            } else {
                out[0] = 0;
                out[1] = (uint8_t)(el >> 8);
                out[2] = (uint8_t)el;
            }
            BN_bn2bin(e, out + off);
            BN_bn2bin(n, out + off + el);
            *len_out = off + el + nl;
            rc = 0;
        }
    }
    BN_free(n);
    BN_free(e);
    return rc;
}

int dnssec_pubkey_wire(EVP_PKEY *pk, uint8_t alg, uint8_t *out, size_t *len_out)
{
    if (alg_is_rsa(alg))
        return rsa_wire(pk, out, len_out);
    size_t cs = ec_size(alg);
    if (cs) {
        uint8_t point[1 + 2 * 48];
        size_t pl = 0;
        if (!EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point,
                                             &pl) ||
            pl != 1 + 2 * cs || point[0] != 0x04)
            return ERR_PARSE;
        memcpy(out, point + 1, 2 * cs);
        *len_out = 2 * cs;
        return 0;
    }
    size_t l = DNSSEC_PUBKEY_MAX;
    if (EVP_PKEY_get_raw_public_key(pk, out, &l) != 1)
        return ERR_PARSE;
    *len_out = l;
    return 0;
}

/* DER ECDSA signature -> r|s of cs bytes each (RFC 6605 §4). */
static int ecdsa_from_der(const uint8_t *der, size_t len, size_t cs, uint8_t *out)
{
    const uint8_t *p = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)len);
    int rc = ERR_PARSE;
    if (es) {
        const BIGNUM *r, *s;
        ECDSA_SIG_get0(es, &r, &s);
        if (BN_bn2binpad(r, out, (int)cs) == (int)cs && BN_bn2binpad(s, out + cs, (int)cs) == (int)cs)
            rc = 0;
        ECDSA_SIG_free(es);
    }
    return rc;
}

int dnssec_sig_make(EVP_PKEY *pk, uint8_t alg, const uint8_t *data, size_t n, uint8_t *sig,
                    size_t *siglen_out)
{
    uint8_t der[DNSSEC_SIG_MAX];
    size_t cs = ec_size(alg), len = sizeof der;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestSignInit(ctx, NULL, alg_md(alg), NULL, pk) == 1 &&
             EVP_DigestSign(ctx, cs ? der : sig, &len, data, n) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return ERR_PARSE;
    if (cs) {
        if (ecdsa_from_der(der, len, cs, sig) != 0)
            return ERR_PARSE;
        len = 2 * cs;
    }
    *siglen_out = len;
    return 0;
}
