/*
 * Unit tests for the DNSSEC part of the authoritative answer engine (dns/auth/answer_dnssec.c)
 * without a socket: a zone signed by dnssec_sign_zone (NSEC and NSEC3) answers queries with
 * and without DO; the signatures in each reply verify with the validator and the NSEC/NSEC3
 * records in negative and wildcard replies prove what they must (dns/dnssec/denial.h), so the
 * engine's output is checked by the same code a resolver uses. An RSA DNSKEY set over a
 * 512-byte buffer sets TC.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/str.h"
#include "dns/arena.h"
#include "dns/auth/answer.h"
#include "dns/dnssec/denial.h"
#include "dns/dnssec/signer.h"
#include "dns/dnssec/validate.h"
#include "dns/name.h"
#include "dns/rr.h"
#include "dns/wire.h"
#include "dns/zone.h"
#include "dns/zonefile.h"
#include "dns/zoneset.h"

#include <stdlib.h>
#include <string.h>

#define NOW 1800000000u

static const char zone_text[] = "$TTL 3600\n"
                                "@ IN SOA ns1 hostmaster 7 7200 900 1209600 300\n"
                                "  IN NS ns1\n"
                                "ns1 IN A 192.0.2.1\n"
                                "www IN A 192.0.2.3\n"
                                "a.b.c IN TXT \"deep\"\n"
                                "*.wild IN TXT \"wildcard\"\n"
                                "sub IN NS ns.sub\n"
                                "ns.sub IN A 192.0.2.9\n";

struct fixture {
    struct dns_zoneset *zs;
    struct dns_zone *z;
    struct dnssec_key key;
};

static const uint8_t *N(const char *text, uint8_t *buf)
{
    size_t len;
    assert_int_equal(dns_name_from_text(text, strlen(text), NULL, buf, &len, NULL), 0);
    return buf;
}

static struct fixture *fixture(bool nsec3, uint8_t alg)
{
    struct fixture *f = calloc(1, sizeof *f);
    uint8_t o[DNS_NAME_MAXLEN];
    struct dns_zone *z = NULL;
    struct str err = STR_INIT;
    assert_int_equal(dns_zone_from_text(zone_text, strlen(zone_text), "t", N("example.", o),
                                        DNS_ZF_NO_INCLUDE, &z, &err),
                     0);
    EVP_PKEY *pk = dnssec_key_generate(alg);
    assert_int_equal(dnssec_key_init(&f->key, pk, alg, 257), 0);
    f->key.zsk = true;
    struct dnssec_sign_params p = {.now = NOW, .inception_ago = 3600, .validity = 86400,
                                   .nsec3 = nsec3};
    assert_int_equal(dnssec_sign_zone(z, &f->key, 1, &p, &f->z, &err), 0);
    dns_zone_unref(z);
    str_clear(&err);
    f->zs = dns_zoneset_new();
    dns_zoneset_add(f->zs, f->z);
    return f;
}

static void fixture_free(struct fixture *f)
{
    dns_zoneset_unref(f->zs);
    dns_zone_unref(f->z);
    EVP_PKEY_free(f->key.pkey);
    free(f);
}

/* Asks (name, type) with EDNS (DO as given, our buffer bufsize) and parses the reply. */
static size_t ask(struct fixture *f, const char *name, uint16_t type, bool do_bit,
                  uint16_t bufsize, struct dns_msg *m, struct dns_arena *a, uint8_t *out)
{
    uint8_t q[512], qn[DNS_NAME_MAXLEN];
    struct dns_header h = {.id = 7, .qdcount = 1};
    struct dns_builder b;
    dns_builder_init(&b, q, sizeof q, sizeof q, &h);
    assert_int_equal(dns_builder_question(&b, N(name, qn), type, DNS_CLASS_IN), 0);
    assert_int_equal(dns_builder_opt(&b, bufsize, 0, 0, do_bit), 0);
    size_t ql = dns_builder_finish(&b);
    struct dns_answer_opts opts = {false, 4096};
    size_t n = dns_answer_packet(f->zs, q, ql, &opts, a, out, 65535, NULL);
    assert_true(n > 0);
    assert_int_equal(dns_msg_parse(out, n, m, a), 0);
    return n;
}

static unsigned count_type(const struct dns_msg *m, int sec, uint16_t type)
{
    unsigned k = 0;
    for (unsigned i = 0; i < m->count[sec]; i++)
        k += m->rr[sec][i].type == type;
    return k;
}

/* Verifies every RRset of section sec (but the NS of a referral) with the zone's key; returns
 * the smallest RRSIG labels field seen for an answer set. */
static unsigned verify_section(struct fixture *f, const struct dns_msg *m, int sec)
{
    struct dns_rdata key = {(uint16_t)f->key.dnskey_len, f->key.dnskey};
    unsigned min_labels = 255;
    for (unsigned i = 0; i < m->count[sec]; i++) {
        const struct dns_rr *r = &m->rr[sec][i];
        if (r->type == DNS_TYPE_RRSIG || (i > 0 && r->type == m->rr[sec][i - 1].type &&
                                          dns_name_eq(r->owner, m->rr[sec][i - 1].owner)))
            continue;
        if (r->type == DNS_TYPE_NS && sec == 1)
            continue;
        struct dns_rdata set[16], sigs[16];
        size_t n = 0, ns = 0;
        for (unsigned j = 0; j < m->count[sec]; j++) {
            const struct dns_rr *o = &m->rr[sec][j];
            if (!dns_name_eq(o->owner, r->owner))
                continue;
            if (o->type == r->type && n < 16)
                set[n++] = (struct dns_rdata){o->rdlen, o->rdata};
            if (o->type == DNS_TYPE_RRSIG && (o->rdata[0] << 8 | o->rdata[1]) == r->type &&
                ns < 16)
                sigs[ns++] = (struct dns_rdata){o->rdlen, o->rdata};
        }
        struct dnssec_rrset_view v = {r->owner, r->type, DNS_CLASS_IN, set, n};
        struct dnssec_budget b;
        dnssec_budget_init(&b);
        uint16_t ede;
        unsigned labels;
        if (dnssec_verify_rrset(&v, sigs, ns, dns_zone_origin(f->z), &key, 1, NOW, &b, &labels,
                                &ede) != DNSSEC_SECURE)
            fail_msg("section %d: an RRset of type %u does not verify (EDE %u)", sec, r->type,
                     ede);
        if (labels < min_labels)
            min_labels = labels;
    }
    return min_labels;
}

static size_t denial_of(const struct dns_msg *m, struct dnssec_nsec_rr *v)
{
    size_t n = 0;
    for (unsigned i = 0; i < m->count[1] && n < 16; i++)
        if (m->rr[1][i].type == DNS_TYPE_NSEC || m->rr[1][i].type == DNS_TYPE_NSEC3)
            v[n++] = (struct dnssec_nsec_rr){m->rr[1][i].owner, m->rr[1][i].type,
                                             m->rr[1][i].rdata, m->rr[1][i].rdlen};
    return n;
}

static void answers(bool nsec3, uint8_t alg)
{
    struct fixture *f = fixture(nsec3, alg);
    struct dns_arena a;
    dns_arena_init(&a, NULL, 0);
    uint8_t *out = malloc(65535), zone[DNS_NAME_MAXLEN], q[DNS_NAME_MAXLEN];
    N("example.", zone);
    struct dns_msg m;
    struct dnssec_nsec_rr v[16];
    struct dnssec_budget b;
    dnssec_budget_init(&b);

    /* positive: the A set and its RRSIG; without DO no RRSIG */
    ask(f, "www.example.", DNS_TYPE_A, true, 4096, &m, &a, out);
    assert_int_equal(count_type(&m, 0, DNS_TYPE_RRSIG), 1);
    verify_section(f, &m, 0);
    ask(f, "www.example.", DNS_TYPE_A, false, 4096, &m, &a, out);
    assert_int_equal(count_type(&m, 0, DNS_TYPE_RRSIG), 0);

    /* NXDOMAIN with its proof */
    ask(f, "nope.example.", DNS_TYPE_A, true, 4096, &m, &a, out);
    assert_int_equal(m.hdr.rcode, DNS_RCODE_NXDOMAIN);
    verify_section(f, &m, 1);
    size_t n = denial_of(&m, v);
    assert_int_equal(dnssec_prove_nxdomain(v, n, zone, N("nope.example.", q), &b),
                     DNSSEC_PROOF_OK);
    ask(f, "nope.example.", DNS_TYPE_A, false, 4096, &m, &a, out);
    assert_int_equal(denial_of(&m, v), 0);

    /* NODATA at a name, at an empty non-terminal, from a wildcard */
    static const struct {
        const char *name;
        uint16_t type;
    } nodata[] = {{"www.example.", DNS_TYPE_MX},
                  {"b.c.example.", DNS_TYPE_A},
                  {"x.wild.example.", DNS_TYPE_A},
                  {"sub.example.", DNS_TYPE_DS}};
    for (size_t i = 0; i < sizeof nodata / sizeof nodata[0]; i++) {
        ask(f, nodata[i].name, nodata[i].type, true, 4096, &m, &a, out);
        assert_int_equal(m.hdr.rcode, DNS_RCODE_NOERROR);
        assert_int_equal(m.count[0], 0);
        verify_section(f, &m, 1);
        n = denial_of(&m, v);
        if (dnssec_prove_nodata(v, n, zone, N(nodata[i].name, q), nodata[i].type, &b) !=
            DNSSEC_PROOF_OK)
            fail_msg("NODATA for %s not proven", nodata[i].name);
    }

    /* a wildcard answer: RRSIG labels 2, and the proof that x.wild.example. does not exist */
    ask(f, "x.wild.example.", DNS_TYPE_TXT, true, 4096, &m, &a, out);
    assert_int_equal(verify_section(f, &m, 0), 2);
    verify_section(f, &m, 1);
    n = denial_of(&m, v);
    assert_int_equal(dnssec_prove_wildcard(v, n, zone, N("x.wild.example.", q), 2, &b),
                     DNSSEC_PROOF_OK);

    /* a referral to an unsigned child: NS unsigned, the absence of DS proven */
    ask(f, "www.sub.example.", DNS_TYPE_A, true, 4096, &m, &a, out);
    assert_int_equal(count_type(&m, 1, DNS_TYPE_NS), 1);
    verify_section(f, &m, 1);
    n = denial_of(&m, v);
    assert_int_equal(dnssec_prove_nodata(v, n, zone, N("sub.example.", q), DNS_TYPE_DS, &b),
                     DNSSEC_PROOF_OK);

    dns_arena_clear(&a);
    free(out);
    fixture_free(f);
}

static void test_nsec_answers(void **state)
{
    (void)state;
    answers(false, DNSSEC_ALG_ECDSAP256);
}

static void test_nsec3_answers(void **state)
{
    (void)state;
    answers(true, DNSSEC_ALG_ED25519);
}

/* RSA keys: the DNSKEY set with its signature does not fit 512 bytes: TC, nothing partial. */
static void test_large_dnskey_tc(void **state)
{
    (void)state;
    struct fixture *f = fixture(false, DNSSEC_ALG_RSASHA256);
    struct dns_arena a;
    dns_arena_init(&a, NULL, 0);
    uint8_t *out = malloc(65535);
    struct dns_msg m;
    ask(f, "example.", DNS_TYPE_DNSKEY, true, 512, &m, &a, out);
    assert_true(m.hdr.tc);
    assert_int_equal(m.count[0], 0);
    ask(f, "example.", DNS_TYPE_DNSKEY, true, 4096, &m, &a, out);
    assert_false(m.hdr.tc);
    verify_section(f, &m, 0);
    dns_arena_clear(&a);
    free(out);
    fixture_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nsec_answers),
        cmocka_unit_test(test_nsec3_answers),
        cmocka_unit_test(test_large_dnskey_tc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
