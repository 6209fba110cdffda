/* validate — RRset and DNSKEY checks with a per-question budget. See validate.h. */
#include "dns/dnssec/validate.h"

#include "core/err.h"
#include "dns/dnssec/crypto.h"
#include "dns/name.h"
#include "dns/rr.h"

#include <string.h>

void dnssec_budget_init(struct dnssec_budget *b)
{
    b->validations = DNSSEC_MAX_VALIDATIONS;
    b->nsec3_hashes = DNSSEC_MAX_NSEC3_HASHES;
    b->used = 0;
    b->limited = false;
}

const char *dnssec_status_name(enum dnssec_status s)
{
    switch (s) {
    case DNSSEC_SECURE:
        return "secure";
    case DNSSEC_INSECURE:
        return "insecure";
    case DNSSEC_BOGUS:
        return "bogus";
    default:
        return "indeterminate";
    }
}

/* RFC 4035 §5.3.1: the RRSIG fits the set, apart from the signature itself and the time. */
static bool rrsig_fits(const struct dnssec_rrsig *rs, const struct dnssec_rrset_view *set,
                       const uint8_t *zone)
{
    unsigned owner_labels = dns_name_labels(set->owner) - (dns_name_is_wild(set->owner) ? 1 : 0);
    return rs->covered == set->type && dns_name_eq(rs->signer, zone) &&
           dns_name_is_sub(set->owner, zone) && rs->labels <= owner_labels;
}

static bool key_fits(const struct dnssec_dnskey *key, const struct dnssec_rrsig *rs,
                     bool revoked_ok)
{
    return key->tag == rs->tag && key->alg == rs->alg && key->protocol == 3 &&
           (key->flags & DNSSEC_FLAG_ZONE) && (revoked_ok || !(key->flags & DNSSEC_FLAG_REVOKE));
}

/* Verifies one RRSIG with the trusted keys of its tag: at most DNSSEC_MAX_TAG_COLLISIONS of
 * them, each verification drawn from the RRset's allowance *set_left and the question's
 * budget. 0 when one verifies; ERR_LIMIT when a limit stopped it (b->limited), else ERR_AUTH. */
static int rrsig_try_keys(const struct dnssec_rrsig *rs, const struct str *data,
                          const struct dns_rdata *keys, size_t nkeys, unsigned *set_left,
                          bool revoked_ok, struct dnssec_budget *b)
{
    unsigned tried = 0;
    for (size_t k = 0; k < nkeys; k++) {
        struct dnssec_dnskey key;
        if (dnssec_dnskey_parse(keys[k].data, keys[k].len, &key) != 0 ||
            !key_fits(&key, rs, revoked_ok))
            continue;
        if (tried == DNSSEC_MAX_TAG_COLLISIONS || b->validations == 0 || *set_left == 0) {
            b->limited = true; /* a key of this tag is left untried */
            return ERR_LIMIT;
        }
        tried++;
        b->validations--;
        (*set_left)--;
        b->used++;
        EVP_PKEY *pk = dnssec_pkey_from_dnskey(key.alg, key.key, key.keylen);
        int rc = pk ? dnssec_sig_verify(pk, rs->alg, (const uint8_t *)data->ptr, data->len,
                                        rs->sig, rs->siglen)
                    : ERR_AUTH;
        EVP_PKEY_free(pk);
        if (rc == 0)
            return 0;
    }
    return ERR_AUTH;
}

static enum dnssec_status verify_rrset(const struct dnssec_rrset_view *set,
                                       const struct dns_rdata *sigs, size_t nsigs,
                                       const uint8_t *zone, const struct dns_rdata *keys,
                                       size_t nkeys, uint32_t now, bool revoked_ok,
                                       struct dnssec_budget *b, unsigned *labels_out,
                                       uint16_t *ede_out)
{
    uint16_t ede = DNSSEC_EDE_RRSIGS_MISSING;
    struct str data = STR_INIT;
    unsigned set_left = DNSSEC_MAX_SET_VALIDATIONS, looked = 0;
    for (size_t i = 0; i < nsigs; i++) {
        struct dnssec_rrsig rs;
        if (dnssec_rrsig_parse(sigs[i].data, sigs[i].len, &rs) != 0 ||
            !rrsig_fits(&rs, set, zone))
            continue;
        if (looked++ == DNSSEC_MAX_SET_SIGS) {
            b->limited = true;
            ede = DNSSEC_EDE_BOGUS;
            break;
        }
        if (!dnssec_alg_supported(rs.alg)) {
            ede = DNSSEC_EDE_UNSUPPORTED_ALG;
            continue;
        }
        /* RFC 4035 §5.3.1: inception <= now <= expiration in serial arithmetic */
        if (dns_serial_cmp(now, rs.expiration) > 0) {
            ede = DNSSEC_EDE_SIG_EXPIRED;
            continue;
        }
        if (dns_serial_cmp(now, rs.inception) < 0) {
            ede = DNSSEC_EDE_SIG_NOT_YET;
            continue;
        }
        str_reset(&data);
        if (dnssec_sigdata(set->owner, set->rclass, set->type, rs.rdata,
                           (size_t)(rs.sig - rs.rdata), set->rds, set->n, &data) != 0)
            continue;
        int rc = rrsig_try_keys(&rs, &data, keys, nkeys, &set_left, revoked_ok, b);
        if (rc == 0) {
            str_clear(&data);
            if (labels_out)
                *labels_out = rs.labels;
            return DNSSEC_SECURE;
        }
        ede = DNSSEC_EDE_BOGUS;
        if (rc == ERR_LIMIT)
            break;
    }
    str_clear(&data);
    *ede_out = ede;
    return DNSSEC_BOGUS;
}

enum dnssec_status dnssec_verify_rrset(const struct dnssec_rrset_view *set,
                                       const struct dns_rdata *sigs, size_t nsigs,
                                       const uint8_t *zone, const struct dns_rdata *keys,
                                       size_t nkeys, uint32_t now, struct dnssec_budget *b,
                                       unsigned *labels_out, uint16_t *ede_out)
{
    return verify_rrset(set, sigs, nsigs, zone, keys, nkeys, now, false, b, labels_out, ede_out);
}

bool dnssec_revoke_self_signed(const struct dnssec_rrset_view *set, const struct dns_rdata *sigs,
                               size_t nsigs, const uint8_t *zone, const struct dns_rdata *key,
                               uint32_t now, struct dnssec_budget *b)
{
    uint16_t ede;
    return verify_rrset(set, sigs, nsigs, zone, key, 1, now, true, b, NULL, &ede) ==
           DNSSEC_SECURE;
}

static bool digest_supported(uint8_t t)
{
    return t == DNSSEC_DIGEST_SHA1 || t == DNSSEC_DIGEST_SHA256 || t == DNSSEC_DIGEST_SHA384;
}

bool dnssec_ds_any_supported(const struct dns_rdata *ds, size_t nds)
{
    for (size_t i = 0; i < nds; i++) {
        struct dnssec_ds d;
        if (dnssec_ds_parse(ds[i].data, ds[i].len, &d) == 0 && dnssec_alg_supported(d.alg) &&
            digest_supported(d.digest_type))
            return true;
    }
    return false;
}

/* The index of a DNSKEY that ds vouches for, or -1 (at most DNSSEC_MAX_TAG_COLLISIONS). */
static long ds_match_key(const uint8_t *zone, const struct dnssec_ds *d,
                         const struct dns_rdata *keys, size_t nkeys)
{
    unsigned tried = 0;
    for (size_t k = 0; k < nkeys && tried < DNSSEC_MAX_TAG_COLLISIONS; k++) {
        struct dnssec_dnskey key;
        uint8_t dig[DNSSEC_DIGEST_MAX];
        size_t dl;
        if (dnssec_dnskey_parse(keys[k].data, keys[k].len, &key) != 0 || key.tag != d->tag ||
            key.alg != d->alg || !(key.flags & DNSSEC_FLAG_ZONE) || key.protocol != 3)
            continue;
        tried++;
        if (dnssec_ds_digest(zone, keys[k].data, keys[k].len, d->digest_type, dig, &dl) == 0 &&
            dl == d->digestlen && memcmp(dig, d->digest, dl) == 0)
            return (long)k;
    }
    return -1;
}

enum dnssec_status dnssec_verify_dnskeys(const uint8_t *zone, const struct dns_rdata *keys,
                                         size_t nkeys, const struct dns_rdata *sigs,
                                         size_t nsigs, const struct dns_rdata *ds, size_t nds,
                                         uint32_t now, struct dnssec_budget *b,
                                         uint16_t *ede_out)
{
    if (!dnssec_ds_any_supported(ds, nds)) {
        *ede_out = nds ? DNSSEC_EDE_UNSUPPORTED_DIGEST : DNSSEC_EDE_NONE;
        return DNSSEC_INSECURE;
    }
    struct dnssec_rrset_view set = {zone, DNS_TYPE_DNSKEY, DNS_CLASS_IN, keys, nkeys};
    uint16_t ede = DNSSEC_EDE_DNSKEY_MISSING;
    for (size_t i = 0; i < nds; i++) {
        struct dnssec_ds d;
        if (dnssec_ds_parse(ds[i].data, ds[i].len, &d) != 0 || !dnssec_alg_supported(d.alg) ||
            !digest_supported(d.digest_type))
            continue;
        long k = ds_match_key(zone, &d, keys, nkeys);
        if (k < 0)
            continue;
        /* The key the DS vouches for must sign the DNSKEY set itself (RFC 4035 §5.2). */
        if (dnssec_verify_rrset(&set, sigs, nsigs, zone, &keys[k], 1, now, b, NULL, &ede) ==
            DNSSEC_SECURE)
            return DNSSEC_SECURE;
        if (b->validations == 0)
            break;
    }
    *ede_out = ede;
    return DNSSEC_BOGUS;
}
