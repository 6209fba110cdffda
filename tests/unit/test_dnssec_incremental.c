/*
 * Unit tests for incremental signing (src/dns/dnssec/signer.c with a previous version) and
 * the difference between two signed versions (src/dns/xfr/rrvec.c), which is what an IXFR of
 * a signed zone sends:
 *
 * - one record added: the difference holds that record with its RRSIG, the NSEC/NSEC3
 *   records that changed with theirs, and the SOA with its RRSIG; every other signature is
 *   kept; applying it to the old version gives the new one, which verifies;
 * - re-signing later (half the validity gone) makes the old signatures again and keeps the
 *   young ones; a changed TTL or a new signing key makes new signatures;
 * - without a previous version everything is signed afresh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/str.h"
#include "dns/dnssec/signer.h"
#include "dns/dnssec/zone_verify.h"
#include "dns/name.h"
#include "dns/rr.h"
#include "dns/xfr/rrvec.h"
#include "dns/zone.h"
#include "dns/zonefile.h"

#include <stdio.h>
#include <string.h>

#define NOW 1800000000u /* 2027-01-15 */
#define VALIDITY (14 * 86400)

static const char base_text[] = "$ORIGIN example.\n$TTL 3600\n"
                                "@ SOA ns1 admin 1 7200 3600 1209600 300\n"
                                "@ NS ns1\n@ MX 10 mail\n"
                                "ns1 A 192.0.2.1\n"
                                "www A 192.0.2.2\nwww AAAA 2001:db8::2\n"
                                "*.wild TXT \"wildcard\"\n"
                                "a.b.c A 192.0.2.4\n"
                                "sub NS ns.sub\nns.sub A 192.0.2.5\n";

#define MAIL "mail A 192.0.2.3\n" /* left out of base_text: one test changes its TTL */

static const uint8_t *N(const char *text, uint8_t *buf)
{
    size_t len;
    assert_int_equal(dns_name_from_text(text, strlen(text), NULL, buf, &len, NULL), 0);
    return buf;
}

static struct dns_zone *zone_of(const char *extra)
{
    uint8_t o[DNS_NAME_MAXLEN];
    struct str text = STR_INIT;
    str_appends(&text, base_text);
    str_appends(&text, extra);
    struct dns_zone *z = NULL;
    struct str err = STR_INIT;
    if (dns_zone_from_text(text.ptr, text.len, "t.zone", N("example.", o), DNS_ZF_NO_INCLUDE,
                           &z, &err))
        fail_msg("%s", str_cstr(&err));
    str_clear(&err);
    str_clear(&text);
    return z;
}

static struct dns_zone *sign_at(const struct dns_zone *z, const struct dnssec_key *k, size_t n,
                                bool nsec3, const struct dns_zone *prev, uint32_t now,
                                uint32_t serial, struct dnssec_sign_stats *st)
{
    struct dnssec_sign_params p = {.now = now,
                                   .inception_ago = 3600,
                                   .validity = VALIDITY,
                                   .nsec3 = nsec3,
                                   .set_serial = true,
                                   .serial = serial,
                                   .prev = prev,
                                   .refresh = VALIDITY / 2,
                                   .stats = st};
    struct dns_zone *out = NULL;
    struct str err = STR_INIT;
    if (dnssec_sign_zone(z, k, n, &p, &out, &err) != 0)
        fail_msg("%s", str_cstr(&err));
    str_clear(&err);
    return out;
}

static void expect_verified(const struct dns_zone *z, uint32_t now)
{
    struct dnssec_zone_report r = {0};
    if (dnssec_zone_verify(z, now, &r) != 0)
        fail_msg("zone did not verify:\n%s", str_cstr(&r.errors));
    str_clear(&r.errors);
}

static void make_csk(struct dnssec_key *k)
{
    EVP_PKEY *pk = dnssec_key_generate(DNSSEC_ALG_ECDSAP256);
    assert_non_null(pk);
    assert_int_equal(dnssec_key_init(k, pk, DNSSEC_ALG_ECDSAP256, 257), 0);
    k->zsk = true;
}

static struct dns_zdiff *diff_of(const struct dns_zone *a, const struct dns_zone *b)
{
    struct dns_zdiff *d = dns_zdiff_of_zones(a, b);
    assert_non_null(d);
    return d;
}

/* Records of the list at owner (NULL: any) of type; for RRSIG, covering `covered` (0: any). */
static size_t count(const struct dns_xrr *v, size_t n, const char *owner, uint16_t type,
                    uint16_t covered)
{
    uint8_t o[DNS_NAME_MAXLEN];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i].type != type || (owner && !dns_name_eq(v[i].owner, N(owner, o))))
            continue;
        if (covered && (v[i].rdlen < 2 || (v[i].rdata[0] << 8 | v[i].rdata[1]) != covered))
            continue;
        k++;
    }
    return k;
}

/* Applying d to a's records must give exactly b. */
static void expect_applies(const struct dns_zone *a, const struct dns_zone *b,
                           const struct dns_zdiff *d)
{
    struct dns_rrvec v;
    dns_rrvec_init(&v);
    dns_rrvec_from_zone(&v, a);
    assert_int_equal(dns_zdiff_apply(d, &v, dns_zone_origin(a)), 0);
    struct dns_zone *z = NULL;
    struct str err = STR_INIT;
    if (dns_rrvec_to_zone(&v, dns_zone_origin(a), &z, &err) != 0)
        fail_msg("%s", str_cstr(&err));
    struct dns_zdiff *rest = diff_of(z, b);
    assert_int_equal(rest->ndel + rest->nadd, 0);
    dns_zdiff_unref(rest);
    dns_zone_unref(z);
    str_clear(&err);
    dns_rrvec_clear(&v);
}

/* An UPDATE that adds one name: the signed difference is small and complete. */
static void one_name_added(bool nsec3)
{
    struct dnssec_key k;
    make_csk(&k);
    struct dns_zone *z0 = zone_of(MAIL), *z1 = zone_of(MAIL "new A 192.0.2.99\n");
    struct dnssec_sign_stats st0, st1;
    struct dns_zone *s0 = sign_at(z0, &k, 1, nsec3, NULL, NOW, 8, &st0);
    struct dns_zone *s1 = sign_at(z1, &k, 1, nsec3, s0, NOW + 60, 9, &st1);
    expect_verified(s1, NOW + 60);
    assert_int_equal(st0.kept, 0);
    assert_true(st1.kept > 10);
    /* made afresh: SOA, new's A, new's NSEC/NSEC3, the NSEC/NSEC3 before it */
    assert_int_equal(st1.made, 4);
    assert_int_equal(st1.first_expiry, NOW + VALIDITY);

    struct dns_zdiff *d = diff_of(s0, s1);
    assert_int_equal(d->from, 8);
    assert_int_equal(d->to, 9);
    assert_int_equal(count(d->add, d->nadd, "new.example.", DNS_TYPE_A, 0), 1);
    assert_int_equal(count(d->add, d->nadd, "new.example.", DNS_TYPE_RRSIG, DNS_TYPE_A), 1);
    assert_int_equal(count(d->add, d->nadd, "example.", DNS_TYPE_RRSIG, DNS_TYPE_SOA), 1);
    assert_int_equal(count(d->del, d->ndel, "example.", DNS_TYPE_RRSIG, DNS_TYPE_SOA), 1);
    uint16_t chain = nsec3 ? DNS_TYPE_NSEC3 : DNS_TYPE_NSEC;
    /* the new name's record and its predecessor's changed "next" */
    assert_int_equal(count(d->add, d->nadd, NULL, chain, 0), 2);
    assert_int_equal(count(d->del, d->ndel, NULL, chain, 0), 1);
    assert_int_equal(count(d->add, d->nadd, NULL, DNS_TYPE_RRSIG, chain), 2);
    assert_int_equal(count(d->del, d->ndel, NULL, DNS_TYPE_RRSIG, chain), 1);
    /* nothing else: www's signatures, the DNSKEY set's, are the same */
    assert_int_equal(count(d->add, d->nadd, "www.example.", DNS_TYPE_RRSIG, 0), 0);
    assert_int_equal(count(d->add, d->nadd, NULL, DNS_TYPE_RRSIG, DNS_TYPE_DNSKEY), 0);
    assert_int_equal(d->nadd, 1 + 1 + 1 + 2 + 2);
    assert_int_equal(d->ndel, 1 + 1 + 1);
    expect_applies(s0, s1, d);
    dns_zdiff_unref(d);
    dns_zone_unref(s0);
    dns_zone_unref(s1);
    dns_zone_unref(z0);
    dns_zone_unref(z1);
    EVP_PKEY_free(k.pkey);
}

static void test_update_diff_nsec(void **state)
{
    (void)state;
    one_name_added(false);
}

static void test_update_diff_nsec3(void **state)
{
    (void)state;
    one_name_added(true);
}

/* The periodic pass: once half the validity has passed, old signatures are made again (the
 * difference replaces them); signatures made later stay until their own time comes. */
static void test_periodic_resign(void **state)
{
    (void)state;
    struct dnssec_key k;
    make_csk(&k);
    struct dns_zone *z0 = zone_of(MAIL), *z1 = zone_of(MAIL "new A 192.0.2.99\n");
    struct dnssec_sign_stats st0, st1, st2, st3;
    struct dns_zone *s0 = sign_at(z0, &k, 1, false, NULL, NOW, 8, &st0);
    struct dns_zone *s1 = sign_at(z1, &k, 1, false, s0, NOW + 86400, 9, &st1);
    /* one second before half of s0's validity: everything is kept but the SOA's */
    uint32_t half = NOW + VALIDITY / 2;
    struct dns_zone *s2 = sign_at(z1, &k, 1, false, s1, half - 1, 10, &st2);
    assert_int_equal(st2.made, 1);
    /* at half: s0's signatures are made again, the four of the update (a day younger) kept */
    struct dns_zone *s3 = sign_at(z1, &k, 1, false, s2, half, 11, &st3);
    assert_int_equal(st3.kept, 3); /* new's A, its NSEC, the NSEC before it; the SOA's is new */
    assert_int_equal(st3.made, st0.made - 1);
    assert_int_equal(st3.first_expiry, NOW + 86400 + VALIDITY);
    expect_verified(s3, half);
    expect_verified(s3, NOW + 86400 + VALIDITY - 1);
    struct dns_zdiff *d = diff_of(s2, s3);
    assert_int_equal(count(d->del, d->ndel, NULL, DNS_TYPE_RRSIG, 0), st3.made);
    assert_int_equal(count(d->add, d->nadd, NULL, DNS_TYPE_RRSIG, 0), st3.made);
    assert_int_equal(count(d->add, d->nadd, "new.example.", DNS_TYPE_RRSIG, 0), 0);
    assert_int_equal(d->nadd, st3.made); /* only signatures (the SOA is the diff's own) */
    expect_applies(s2, s3, d);
    dns_zdiff_unref(d);
    struct dns_zone *all[] = {s0, s1, s2, s3, z0, z1};
    for (size_t i = 0; i < 6; i++)
        dns_zone_unref(all[i]);
    EVP_PKEY_free(k.pkey);
}

/* A changed TTL is a changed RRset; a new key signs everything afresh. */
static void test_ttl_and_key_changes(void **state)
{
    (void)state;
    struct dnssec_key k, k2;
    make_csk(&k);
    make_csk(&k2);
    struct dns_zone *z0 = zone_of(MAIL), *z1 = zone_of(MAIL);
    struct dnssec_sign_stats st;
    struct dns_zone *s0 = sign_at(z0, &k, 1, false, NULL, NOW, 8, &st);
    size_t all = st.made;
    /* the same zone again: only the SOA's signature is new */
    struct dns_zone *s1 = sign_at(z1, &k, 1, false, s0, NOW + 10, 9, &st);
    assert_int_equal(st.made, 1);
    assert_int_equal(st.kept, all - 1);
    dns_zone_unref(z1);
    z1 = zone_of("mail 60 A 192.0.2.3\n"); /* mail's A with another TTL */
    struct dns_zone *s2 = sign_at(z1, &k, 1, false, s1, NOW + 20, 10, &st);
    assert_int_equal(st.made, 2);
    expect_verified(s2, NOW + 20);
    /* another key: nothing of the old one is kept */
    struct dns_zone *s3 = sign_at(z1, &k2, 1, false, s2, NOW + 30, 11, &st);
    assert_int_equal(st.kept, 0);
    assert_int_equal(st.made, all);
    expect_verified(s3, NOW + 30);
    struct dns_zone *zs[] = {s0, s1, s2, s3, z0, z1};
    for (size_t i = 0; i < 6; i++)
        dns_zone_unref(zs[i]);
    EVP_PKEY_free(k.pkey);
    EVP_PKEY_free(k2.pkey);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_update_diff_nsec),
        cmocka_unit_test(test_update_diff_nsec3),
        cmocka_unit_test(test_periodic_resign),
        cmocka_unit_test(test_ttl_and_key_changes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
