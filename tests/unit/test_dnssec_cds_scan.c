/*
 * Unit tests for src/dns/dnssec/cds_scan.c: a validating resolver's replies about a child's
 * CDS, CDNSKEY and DNSKEY judged for the parent (only validated answers; the RFC 8078
 * delete forms; CDS and CDNSKEY consistent; the new DS set keeps the chain of trust), and the
 * UPDATE that gives the parent's cut that DS set, applied with the server's own UPDATE code.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/str.h"
#include "dns/arena.h"
#include "dns/dnssec/cds_scan.h"
#include "dns/dnssec/signer.h"
#include "dns/name.h"
#include "dns/print.h"
#include "dns/rr.h"
#include "dns/wire.h"
#include "dns/xfr/update.h"
#include "dns/zone.h"
#include "dns/zonefile.h"

#include <string.h>

static uint8_t CHILD[DNS_NAME_MAXLEN];
static struct dnssec_key k1, k2;

static const uint8_t *N(const char *text, uint8_t *buf)
{
    size_t len;
    assert_int_equal(dns_name_from_text(text, strlen(text), NULL, buf, &len, NULL), 0);
    return buf;
}

static int setup(void **state)
{
    (void)state;
    N("kid.example.", CHILD);
    struct dnssec_key *ks[] = {&k1, &k2};
    for (int i = 0; i < 2; i++) {
        EVP_PKEY *pk = dnssec_key_generate(DNSSEC_ALG_ECDSAP256);
        assert_non_null(pk);
        assert_int_equal(dnssec_key_init(ks[i], pk, DNSSEC_ALG_ECDSAP256, 257), 0);
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(k1.pkey);
    EVP_PKEY_free(k2.pkey);
    return 0;
}

struct rec {
    uint16_t type;
    const uint8_t *rd;
    size_t len;
};

/* A resolver's reply about CHILD's qtype: the records in the answer section. */
static size_t reply(uint16_t qtype, bool ad, unsigned rcode, const struct rec *r, size_t n,
                    uint8_t *out)
{
    struct dns_header h = {.id = 7, .qr = true, .rd = true, .ra = true, .ad = ad};
    struct dns_builder b;
    dns_builder_init(&b, out, 4096, 4096, &h);
    dns_builder_question(&b, CHILD, qtype, DNS_CLASS_IN);
    for (size_t i = 0; i < n; i++)
        dns_builder_rr(&b, DNS_SEC_ANSWER, CHILD, r[i].type, DNS_CLASS_IN, 300, r[i].rd,
                       r[i].len);
    dns_builder_set_rcode(&b, rcode);
    size_t len = dns_builder_finish(&b);
    assert_true(len > 0);
    return len;
}

/* An RRSIG over the DNSKEY set naming key k (the bytes of the signature do not matter
 * here: the resolver checked them; only its tag and algorithm are read). */
static size_t rrsig_by(const struct dnssec_key *k, uint8_t *out)
{
    uint8_t fixed[DNSSEC_RRSIG_FIXED] = {0, DNS_TYPE_DNSKEY, k->alg, 2, 0, 0, 1, 44,
                                         0x70, 0, 0, 0, 0x60, 0, 0, 0,
                                         (uint8_t)(k->tag >> 8), (uint8_t)k->tag};
    memcpy(out, fixed, sizeof fixed);
    size_t nl = dns_name_copy(out + sizeof fixed, CHILD);
    memset(out + sizeof fixed + nl, 0x55, 64);
    return sizeof fixed + nl + 64;
}

static size_t ds_of(const struct dnssec_key *k, uint8_t *out)
{
    size_t len;
    assert_int_equal(
        dnssec_ds_make(CHILD, k->dnskey, k->dnskey_len, DNSSEC_DIGEST_SHA256, out, &len), 0);
    return len;
}

/* The three replies: cds[] and cdnskey[] as given, the DNSKEY set {k1, k2} signed by
 * `signer` (NULL: no RRSIG); all with AD unless ad is false. */
struct answers {
    uint8_t buf[DNSSEC_CDS_NQ][4096];
    const uint8_t *pkt[DNSSEC_CDS_NQ];
    size_t len[DNSSEC_CDS_NQ];
};

static void answers(struct answers *a, const struct rec *cds, size_t ncds,
                    const struct rec *cdnskey, size_t ncdnskey, const struct dnssec_key *signer,
                    bool ad)
{
    uint8_t sig[200];
    struct rec keys[3] = {{DNS_TYPE_DNSKEY, k1.dnskey, k1.dnskey_len},
                          {DNS_TYPE_DNSKEY, k2.dnskey, k2.dnskey_len}};
    size_t nkeys = 2;
    if (signer)
        keys[nkeys++] = (struct rec){DNS_TYPE_RRSIG, sig, rrsig_by(signer, sig)};
    a->len[0] = reply(DNS_TYPE_CDS, ad, DNS_RCODE_NOERROR, cds, ncds, a->buf[0]);
    a->len[1] = reply(DNS_TYPE_CDNSKEY, ad, DNS_RCODE_NOERROR, cdnskey, ncdnskey, a->buf[1]);
    a->len[2] = reply(DNS_TYPE_DNSKEY, ad, DNS_RCODE_NOERROR, keys, nkeys, a->buf[2]);
    for (int i = 0; i < DNSSEC_CDS_NQ; i++)
        a->pkt[i] = a->buf[i];
}

static void judge(const struct answers *a, struct dnssec_cds_result *r)
{
    dnssec_cds_judge(CHILD, a->pkt, a->len, r);
}

static void expect_reject(const struct answers *a, const char *why)
{
    struct dnssec_cds_result r;
    judge(a, &r);
    assert_int_equal(r.verdict, DNSSEC_CDS_REJECT);
    if (!strstr(r.why, why))
        fail_msg("wanted '%s', got '%s'", why, r.why);
}

static void test_only_validated_answers(void **state)
{
    (void)state;
    struct answers a;
    uint8_t ds[64];
    struct rec cds = {DNS_TYPE_CDS, ds, ds_of(&k2, ds)};
    answers(&a, &cds, 1, NULL, 0, &k2, false);
    expect_reject(&a, "no AD");
    /* a bogus answer: SERVFAIL */
    answers(&a, &cds, 1, NULL, 0, &k2, true);
    a.len[0] = reply(DNS_TYPE_CDS, false, DNS_RCODE_SERVFAIL, NULL, 0, a.buf[0]);
    expect_reject(&a, "NOERROR");
    /* no reply at all, a truncated one, one about another question */
    answers(&a, &cds, 1, NULL, 0, &k2, true);
    a.pkt[2] = NULL;
    a.len[2] = 0;
    expect_reject(&a, "did not answer");
    answers(&a, &cds, 1, NULL, 0, &k2, true);
    a.buf[1][2] |= 0x02; /* TC */
    expect_reject(&a, "truncated");
    answers(&a, &cds, 1, NULL, 0, &k2, true);
    a.pkt[0] = a.buf[1];
    a.len[0] = a.len[1];
    expect_reject(&a, "malformed");
    /* garbage */
    static const uint8_t junk[] = {1, 2, 3};
    a.pkt[0] = junk;
    a.len[0] = sizeof junk;
    expect_reject(&a, "malformed");
}

static void test_nothing_published(void **state)
{
    (void)state;
    struct answers a;
    answers(&a, NULL, 0, NULL, 0, &k1, true);
    struct dnssec_cds_result r;
    judge(&a, &r);
    assert_int_equal(r.verdict, DNSSEC_CDS_NONE);
    /* an insecure child without CDS: nothing to say either (no warning for each one) */
    answers(&a, NULL, 0, NULL, 0, &k1, false);
    judge(&a, &r);
    assert_int_equal(r.verdict, DNSSEC_CDS_NONE);
    /* but not when the question failed */
    a.len[1] = reply(DNS_TYPE_CDNSKEY, false, DNS_RCODE_SERVFAIL, NULL, 0, a.buf[1]);
    expect_reject(&a, "NOERROR");
}

static void test_ds_set_from_cds_and_cdnskey(void **state)
{
    (void)state;
    struct answers a;
    uint8_t d1[64], d2[64];
    struct rec cds[2] = {{DNS_TYPE_CDS, d1, ds_of(&k1, d1)}, {DNS_TYPE_CDS, d2, ds_of(&k2, d2)}};
    struct rec cdnskey[2] = {{DNS_TYPE_CDNSKEY, k1.dnskey, k1.dnskey_len},
                             {DNS_TYPE_CDNSKEY, k2.dnskey, k2.dnskey_len}};
    struct dnssec_cds_result r;
    /* CDS alone */
    answers(&a, cds, 2, NULL, 0, &k1, true);
    judge(&a, &r);
    assert_int_equal(r.verdict, DNSSEC_CDS_SET);
    assert_int_equal(r.n, 2);
    /* CDNSKEY alone: its SHA-256 digests */
    answers(&a, NULL, 0, &cdnskey[1], 1, &k2, true);
    judge(&a, &r);
    assert_int_equal(r.verdict, DNSSEC_CDS_SET);
    assert_int_equal(r.n, 1);
    assert_memory_equal(r.ds[0], d2, r.len[0]);
    /* both, consistent */
    answers(&a, cds, 2, cdnskey, 2, &k1, true);
    judge(&a, &r);
    assert_int_equal(r.verdict, DNSSEC_CDS_SET);
    assert_int_equal(r.n, 2);
    /* both, a CDNSKEY without its CDS */
    answers(&a, cds, 1, cdnskey, 2, &k1, true);
    expect_reject(&a, "disagree");
    /* RFC 7344 §4.1: a set whose key does not sign the DNSKEY set would break the chain */
    answers(&a, &cds[1], 1, NULL, 0, &k1, true);
    expect_reject(&a, "matches a key that signs");
    answers(&a, &cds[1], 1, NULL, 0, NULL, true);
    expect_reject(&a, "matches a key that signs");
    /* a malformed CDS */
    struct rec bad = {DNS_TYPE_CDS, d1, 3};
    answers(&a, &bad, 1, NULL, 0, &k1, true);
    expect_reject(&a, "malformed");
}

static void test_delete(void **state)
{
    (void)state;
    static const uint8_t cds_del[5] = {0, 0, 0, 0, 0}, key_del[5] = {0, 0, 3, 0, 0};
    struct rec cds = {DNS_TYPE_CDS, cds_del, 5}, key = {DNS_TYPE_CDNSKEY, key_del, 5};
    struct answers a;
    struct dnssec_cds_result r;
    answers(&a, &cds, 1, NULL, 0, &k1, true);
    judge(&a, &r);
    assert_int_equal(r.verdict, DNSSEC_CDS_DELETE);
    answers(&a, NULL, 0, &key, 1, &k1, true);
    judge(&a, &r);
    assert_int_equal(r.verdict, DNSSEC_CDS_DELETE);
    answers(&a, &cds, 1, &key, 1, &k1, true);
    judge(&a, &r);
    assert_int_equal(r.verdict, DNSSEC_CDS_DELETE);
    /* a delete beside a real key is not a delete */
    struct rec mixed[2] = {{DNS_TYPE_CDNSKEY, key_del, 5},
                           {DNS_TYPE_CDNSKEY, k1.dnskey, k1.dnskey_len}};
    answers(&a, NULL, 0, mixed, 2, &k1, true);
    expect_reject(&a, "beside");
}

/* The parent zone with the cut kid.example. and the DS of k1. */
static struct dns_zone *parent(bool with_ds)
{
    struct str t = STR_INIT;
    str_appends(&t, "$ORIGIN example.\n$TTL 3600\n@ SOA ns admin 5 7200 3600 1209600 300\n"
                    "@ NS ns\nns A 192.0.2.1\nkid 600 NS ns.kid\nns.kid A 192.0.2.2\n");
    if (with_ds) {
        uint8_t ds[64];
        size_t len = ds_of(&k1, ds);
        dns_print_rr(CHILD, DNS_TYPE_DS, DNS_CLASS_IN, 1800, ds, len, &t);
        str_appends(&t, "\n");
    }
    uint8_t o[DNS_NAME_MAXLEN];
    struct dns_zone *z = NULL;
    struct str err = STR_INIT;
    if (dns_zone_from_text(t.ptr, t.len, "p.zone", N("example.", o), DNS_ZF_NO_INCLUDE, &z,
                           &err))
        fail_msg("%s", str_cstr(&err));
    str_clear(&err);
    str_clear(&t);
    return z;
}

/* z after the UPDATE upd (as the server applies one); NULL when nothing changed. */
static struct dns_zone *apply(const struct dns_zone *z, const uint8_t *upd, size_t len)
{
    struct dns_arena a;
    dns_arena_init(&a, NULL, 0);
    struct dns_msg m;
    assert_int_equal(dns_msg_parse(upd, len, &m, &a), 0);
    assert_int_equal(m.hdr.opcode, DNS_OPCODE_UPDATE);
    struct dns_update_result res;
    dns_update_apply(z, &m, &res);
    assert_int_equal(res.rcode, DNS_RCODE_NOERROR);
    dns_zdiff_unref(res.diff);
    dns_arena_clear(&a);
    return res.zone;
}

static const struct dns_rrset *ds_at(const struct dns_zone *z)
{
    return dns_node_rrset(dns_zone_find(z, CHILD, NULL), DNS_TYPE_DS);
}

static void test_update_of_the_cut(void **state)
{
    (void)state;
    uint8_t d1[64], d2[64], upd[4096];
    struct rec cds[2] = {{DNS_TYPE_CDS, d1, ds_of(&k1, d1)}, {DNS_TYPE_CDS, d2, ds_of(&k2, d2)}};
    struct answers a;
    struct dnssec_cds_result r;
    struct dns_zone *z0 = parent(true);
    /* the rollover: k1 and k2 */
    answers(&a, cds, 2, NULL, 0, &k1, true);
    judge(&a, &r);
    size_t len = dnssec_cds_update(z0, CHILD, &r, upd, sizeof upd);
    assert_true(len > 0);
    struct dns_zone *z1 = apply(z0, upd, len);
    assert_non_null(z1);
    assert_int_equal(ds_at(z1)->count, 2);
    assert_int_equal(ds_at(z1)->ttl, 1800); /* the DS set's own TTL is kept */
    assert_int_equal(dns_zone_serial(z1), 6);
    /* asked again: nothing to change */
    assert_int_equal(dnssec_cds_update(z1, CHILD, &r, upd, sizeof upd), 0);
    /* k1 retired: the DS of k2 alone */
    answers(&a, &cds[1], 1, NULL, 0, &k2, true);
    judge(&a, &r);
    len = dnssec_cds_update(z1, CHILD, &r, upd, sizeof upd);
    struct dns_zone *z2 = apply(z1, upd, len);
    assert_int_equal(ds_at(z2)->count, 1);
    assert_memory_equal(ds_at(z2)->rdata[0].data, d2, ds_at(z2)->rdata[0].len);
    /* RFC 8078 §4 delete: the DS set goes, the delegation stays */
    static const uint8_t cds_del[5] = {0};
    struct rec del = {DNS_TYPE_CDS, cds_del, 5};
    answers(&a, &del, 1, NULL, 0, &k2, true);
    judge(&a, &r);
    len = dnssec_cds_update(z2, CHILD, &r, upd, sizeof upd);
    struct dns_zone *z3 = apply(z2, upd, len);
    assert_null(ds_at(z3));
    assert_non_null(dns_node_rrset(dns_zone_find(z3, CHILD, NULL), DNS_TYPE_NS));
    assert_int_equal(dnssec_cds_update(z3, CHILD, &r, upd, sizeof upd), 0);
    /* a first DS for an insecure delegation takes the NS TTL */
    struct dns_zone *bare = parent(false);
    answers(&a, &cds[1], 1, NULL, 0, &k2, true);
    judge(&a, &r);
    len = dnssec_cds_update(bare, CHILD, &r, upd, sizeof upd);
    struct dns_zone *b1 = apply(bare, upd, len);
    assert_int_equal(ds_at(b1)->ttl, 600);
    /* not a cut of the zone: nothing */
    uint8_t other[DNS_NAME_MAXLEN];
    assert_int_equal(dnssec_cds_update(z0, N("ns.example.", other), &r, upd, sizeof upd), 0);
    struct dns_zone *zs[] = {z0, z1, z2, z3, bare, b1};
    for (size_t i = 0; i < 6; i++)
        dns_zone_unref(zs[i]);
}

static void test_query(void **state)
{
    (void)state;
    uint8_t q[512];
    size_t len = dnssec_cds_query(CHILD, DNS_TYPE_CDNSKEY, 0x1234, q, sizeof q);
    struct dns_arena a;
    dns_arena_init(&a, NULL, 0);
    struct dns_msg m;
    assert_int_equal(dns_msg_parse(q, len, &m, &a), 0);
    assert_true(m.hdr.rd && m.hdr.ad && !m.hdr.qr);
    assert_int_equal(m.hdr.id, 0x1234);
    assert_int_equal(m.qd[0].qtype, DNS_TYPE_CDNSKEY);
    assert_true(dns_name_eq(m.qd[0].qname, CHILD));
    assert_true(m.edns.present && m.edns.do_bit);
    dns_arena_clear(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_only_validated_answers),
        cmocka_unit_test(test_nothing_published),
        cmocka_unit_test(test_ds_set_from_cds_and_cdnskey),
        cmocka_unit_test(test_delete),
        cmocka_unit_test(test_update_of_the_cut),
        cmocka_unit_test(test_query),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
