/*
 * Unit tests for src/dns/dnssec: the DNSSEC record types' text and wire forms, key tags and
 * DS digests against RFC 4034 §5.4, NSEC3 hashes against RFC 5155 Appendix A, signing and
 * verifying zones with each algorithm (NSEC and NSEC3), the validator's bogus cases
 * (corrupted, expired, not yet valid, missing), DS checks (unknown digest -> insecure), the
 * KeyTrap budget, and NSEC/NSEC3 denial proofs taken from zones Pigeon signed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/err.h"
#include "core/str.h"
#include "dns/dnssec/denial.h"
#include "dns/dnssec/keystore.h"
#include "dns/dnssec/signer.h"
#include "dns/dnssec/validate.h"
#include "dns/dnssec/zone_verify.h"
#include "dns/name.h"
#include "dns/rr.h"
#include "dns/zone.h"
#include "dns/zonefile.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NOW 1800000000u /* 2027-01-15 */

static const uint8_t *N(const char *text, uint8_t *buf)
{
    size_t len;
    assert_int_equal(dns_name_from_text(text, strlen(text), NULL, buf, &len, NULL), 0);
    return buf;
}

/* Splits text on spaces into tokens (no quotes needed for these types). */
static int rdata_from(uint16_t type, const char *text, uint8_t *out, size_t *len)
{
    struct dns_token tok[64];
    size_t n = 0;
    const char *p = text;
    while (*p && n < 64) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        const char *s = p;
        while (*p && *p != ' ')
            p++;
        tok[n++] = (struct dns_token){s, (size_t)(p - s), false};
    }
    const char *why;
    uint8_t origin[DNS_NAME_MAXLEN];
    return dns_rdata_from_text(type, tok, n, N("example.", origin), out, 65535, len, &why);
}

static void roundtrip(uint16_t type, const char *in, const char *want)
{
    uint8_t *rd = malloc(65535);
    size_t len;
    assert_int_equal(rdata_from(type, in, rd, &len), 0);
    assert_int_equal(dns_rdata_check(type, rd, len), 0);
    struct str s = STR_INIT;
    dns_rdata_to_text(type, rd, len, &s);
    assert_string_equal(str_cstr(&s), want);
    str_clear(&s);
    free(rd);
}

static void test_text_forms(void **state)
{
    (void)state;
    roundtrip(DNS_TYPE_DNSKEY, "257 3 13 AQID BA==", "257 3 13 AQIDBA==");
    roundtrip(DNS_TYPE_CDNSKEY, "0 3 0 AA==", "0 3 0 AA==");
    roundtrip(DNS_TYPE_RRSIG, "A 13 2 3600 20370101000000 1700000000 12345 example. AQID",
              "A 13 2 3600 20370101000000 20231114221320 12345 example. AQID");
    roundtrip(DNS_TYPE_NSEC, "host.example. A MX RRSIG NSEC TYPE1234",
              "host.example. A MX RRSIG NSEC TYPE1234");
    roundtrip(DNS_TYPE_NSEC, "b.example.", "b.example.");
    roundtrip(DNS_TYPE_NSEC3, "1 1 12 aabbccdd 2vptu5timamqttgl4luu9kg21e0aor3s A RRSIG",
              "1 1 12 AABBCCDD 2vptu5timamqttgl4luu9kg21e0aor3s A RRSIG");
    roundtrip(DNS_TYPE_NSEC3, "1 0 0 - 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3S",
              "1 0 0 - 2vptu5timamqttgl4luu9kg21e0aor3s");
    roundtrip(DNS_TYPE_NSEC3PARAM, "1 0 0 -", "1 0 0 -");
    roundtrip(DNS_TYPE_CDS, "0 0 0 00", "0 0 0 00");
    /* RFC 4034 §3.2 times: serial arithmetic wraps at 2^32 (year 2106) */
    uint32_t t;
    assert_int_equal(dns_time_from_text("20370101000000", 14, &t), 0);
    assert_int_equal(t, 2114380800u);
    char buf[15];
    dns_time_to_text(0, buf);
    assert_string_equal(buf, "19700101000000");

    uint8_t rd[512];
    size_t len;
    assert_int_not_equal(rdata_from(DNS_TYPE_RRSIG, "A 13 2 3600 2037010100000 1 1 example. AQID", rd, &len), 0);
    assert_int_not_equal(rdata_from(DNS_TYPE_DNSKEY, "257 3 13 AQI", rd, &len), 0);
    assert_int_not_equal(rdata_from(DNS_TYPE_DNSKEY, "257 3 13 A=QI", rd, &len), 0);
    assert_int_not_equal(rdata_from(DNS_TYPE_NSEC3, "1 0 0 - 2vptu5 A", rd, &len), 0);
    assert_int_not_equal(rdata_from(DNS_TYPE_NSEC, "a.example. BOGUSTYPE", rd, &len), 0);
    /* wire checks: windows out of order, empty window, NSEC3 hash length 0 */
    static const uint8_t bad_bm[] = {0, 1, 2, 3, 0x40, 0, 1, 0x40};
    assert_int_not_equal(dns_rdata_check(DNS_TYPE_NSEC, bad_bm, sizeof bad_bm), 0);
    static const uint8_t empty_win[] = {0, 0, 0};
    assert_int_not_equal(dns_rdata_check(DNS_TYPE_NSEC, empty_win, sizeof empty_win), 0);
    static const uint8_t nsec3_nohash[] = {1, 0, 0, 0, 0, 0};
    assert_int_not_equal(dns_rdata_check(DNS_TYPE_NSEC3, nsec3_nohash, sizeof nsec3_nohash), 0);
}

/* RFC 4034 §5.4: the DS example (key tag 60485, SHA-1). */
static void test_rfc4034_ds(void **state)
{
    (void)state;
    uint8_t rd[512], name[DNS_NAME_MAXLEN], ds[64];
    size_t len, dl;
    assert_int_equal(rdata_from(DNS_TYPE_DNSKEY,
                                "256 3 5 AQOeiiR0GOMYkDshWoSKz9Xz fwJr1AYtsmx3TGkJaNXVbfi/ "
                                "2pHm822aJ5iI9BMzNXxeYCmZ DRD99WYwYqUSdjMmmAphXdvx "
                                "egXd/M5+X7OrzKBaMbCVdFLU Uh6DhweJBjEVv5f2wwjM9Xzc "
                                "nOf+EPbtG9DMBmADjFDc2w/r ljwvFw==",
                                rd, &len),
                     0);
    assert_int_equal(dnssec_key_tag(rd, len), 60485);
    assert_int_equal(dnssec_ds_make(N("dskey.example.com.", name), rd, len, DNSSEC_DIGEST_SHA1,
                                    ds, &dl),
                     0);
    static const uint8_t want[] = {0xec, 0x45, 5,    1,    0x2B, 0xB1, 0x83, 0xAF,
                                   0x5F, 0x22, 0x58, 0x81, 0x79, 0xA5, 0x3B, 0x0A,
                                   0x98, 0x63, 0x1F, 0xAD, 0x1A, 0x29, 0x21, 0x18};
    assert_int_equal(dl, sizeof want);
    assert_memory_equal(ds, want, dl);
    /* the same DS matches through the validator's DS check; an unknown digest -> insecure */
    struct dns_rdata key = {(uint16_t)len, rd}, d = {(uint16_t)dl, ds};
    assert_true(dnssec_ds_any_supported(&d, 1));
    ds[3] = 99;
    assert_false(dnssec_ds_any_supported(&d, 1));
    struct dnssec_budget b;
    dnssec_budget_init(&b);
    uint16_t ede = 0;
    assert_int_equal(dnssec_verify_dnskeys(name, &key, 1, NULL, 0, &d, 1, NOW, &b, &ede),
                     DNSSEC_INSECURE);
    assert_int_equal(ede, DNSSEC_EDE_UNSUPPORTED_DIGEST);
}

/* RFC 5155 Appendix A: H(name) with salt aabbccdd and 12 iterations. */
static void test_rfc5155_hashes(void **state)
{
    (void)state;
    static const struct {
        const char *name, *hash;
    } v[] = {
        {"example.", "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom"},
        {"a.example.", "35mthgpgcu1qg68fab165klnsnk3dpvl"},
        {"ai.example.", "gjeqe526plbf1g8mklp59enfd789njgi"},
        {"ns1.example.", "2t7b4g4vsa5smi47k61mv5bv1a22bojr"},
        {"w.example.", "k8udemvp1j2f7eg6jebps17vp3n8i58h"},
        {"*.w.example.", "r53bq7cc2uvmubfu5ocmm6pers9tk9en"},
        {"x.w.example.", "b4um86eghhds6nea196smvmlo4ors995"},
        {"xx.example.", "t644ebqk9bibcna874givr6joj62mlhv"},
    };
    static const uint8_t salt[] = {0xaa, 0xbb, 0xcc, 0xdd};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint8_t name[DNS_NAME_MAXLEN], h[20], rd[64];
        size_t len;
        assert_int_equal(dnssec_nsec3_hash(N(v[i].name, name), 1, 12, salt, 4, h), 0);
        char text[128];
        snprintf(text, sizeof text, "1 0 0 - %s", v[i].hash);
        assert_int_equal(rdata_from(DNS_TYPE_NSEC3, text, rd, &len), 0);
        assert_memory_equal(rd + 6, h, 20);
    }
}

static const char zone_text[] = "$TTL 3600\n"
                                "@ IN SOA ns1 hostmaster 7 7200 900 1209600 300\n"
                                "  IN NS ns1\n"
                                "  IN MX 10 mail\n"
                                "ns1 IN A 192.0.2.1\n"
                                "mail IN A 192.0.2.2\n"
                                "www IN A 192.0.2.3\n"
                                "    IN AAAA 2001:db8::3\n"
                                "a.b.c IN TXT \"deep\"\n"
                                "*.wild IN TXT \"wildcard\"\n"
                                "sub IN NS ns.sub\n"
                                "ns.sub IN A 192.0.2.9\n"
                                "sec IN NS ns.sec\n"
                                "sec IN DS 1 13 2 "
                                "0000000000000000000000000000000000000000000000000000000000000000\n"
                                "ns.sec IN A 192.0.2.10\n";

static struct dns_zone *load_zone(void)
{
    uint8_t o[DNS_NAME_MAXLEN];
    struct dns_zone *z = NULL;
    struct str err = STR_INIT;
    int rc = dns_zone_from_text(zone_text, strlen(zone_text), "t.zone", N("example.", o),
                                DNS_ZF_NO_INCLUDE, &z, &err);
    if (rc)
        fail_msg("%s", str_cstr(&err));
    str_clear(&err);
    return z;
}

static struct dns_zone *sign(const struct dns_zone *z, const struct dnssec_key *k, size_t n,
                             bool nsec3)
{
    struct dnssec_sign_params p = {.now = NOW, .inception_ago = 3600, .validity = 14 * 86400,
                                   .nsec3 = nsec3, .set_serial = true, .serial = 8};
    struct dns_zone *out = NULL;
    struct str err = STR_INIT;
    if (dnssec_sign_zone(z, k, n, &p, &out, &err) != 0)
        fail_msg("%s", str_cstr(&err));
    str_clear(&err);
    return out;
}

static void expect_verify(const struct dns_zone *z, uint32_t now, bool ok, const char *want)
{
    struct dnssec_zone_report r = {0};
    int rc = dnssec_zone_verify(z, now, &r);
    if (ok && rc != 0)
        fail_msg("zone did not verify:\n%s", str_cstr(&r.errors));
    if (!ok) {
        assert_int_not_equal(rc, 0);
        if (want && !strstr(str_cstr(&r.errors), want))
            fail_msg("wanted '%s' in:\n%s", want, str_cstr(&r.errors));
    }
    str_clear(&r.errors);
}

static void make_key(struct dnssec_key *k, uint8_t alg, uint16_t flags)
{
    EVP_PKEY *pk = dnssec_key_generate(alg);
    assert_non_null(pk);
    assert_int_equal(dnssec_key_init(k, pk, alg, flags), 0);
}

/* Every algorithm, NSEC and NSEC3, CSK and KSK+ZSK: the zone verifies; the serial is set. */
static void test_sign_and_verify(void **state)
{
    (void)state;
    static const uint8_t algs[] = {DNSSEC_ALG_ECDSAP256, DNSSEC_ALG_ED25519,
                                   DNSSEC_ALG_RSASHA256, DNSSEC_ALG_ECDSAP384};
    struct dns_zone *z = load_zone();
    for (size_t a = 0; a < sizeof algs; a++) {
        struct dnssec_key k[2];
        make_key(&k[0], algs[a], 257);
        k[0].zsk = true; /* a CSK */
        for (int nsec3 = 0; nsec3 < 2; nsec3++) {
            struct dns_zone *s = sign(z, k, 1, nsec3);
            expect_verify(s, NOW, true, NULL);
            assert_int_equal(dns_zone_serial(s), 8);
            /* expired and not yet valid: bogus with the RFC 8914 reason */
            expect_verify(s, NOW + 15 * 86400, false, "(EDE 7)");
            expect_verify(s, NOW - 2 * 3600, false, "(EDE 8)");
            dns_zone_unref(s);
        }
        EVP_PKEY_free(k[0].pkey);
    }
    /* KSK + ZSK, and a pre-published ZSK that signs nothing */
    struct dnssec_key k[3];
    make_key(&k[0], DNSSEC_ALG_ECDSAP256, 257);
    make_key(&k[1], DNSSEC_ALG_ECDSAP256, 256);
    make_key(&k[2], DNSSEC_ALG_ECDSAP256, 256);
    k[2].active = false;
    struct dns_zone *s = sign(z, k, 3, false);
    expect_verify(s, NOW, true, NULL);
    uint8_t name[DNS_NAME_MAXLEN];
    const struct dns_node *apex = dns_zone_find(s, N("example.", name), NULL);
    assert_int_equal(dns_node_rrset(apex, DNS_TYPE_DNSKEY)->count, 3);
    assert_int_equal(dns_node_rrset(apex, DNS_TYPE_CDS)->count, 1);
    assert_int_equal(dns_node_rrset(apex, DNS_TYPE_CDNSKEY)->count, 1);
    /* SOA RRSIG by the ZSK only, DNSKEY RRSIG by the KSK only */
    const struct dns_rrset *sigs = dns_node_rrset(apex, DNS_TYPE_RRSIG);
    for (unsigned i = 0; i < sigs->count; i++) {
        struct dnssec_rrsig rs;
        assert_int_equal(dnssec_rrsig_parse(sigs->rdata[i].data, sigs->rdata[i].len, &rs), 0);
        assert_int_equal(rs.tag, rs.covered == DNS_TYPE_DNSKEY || rs.covered == DNS_TYPE_CDS ||
                                         rs.covered == DNS_TYPE_CDNSKEY
                                     ? k[0].tag
                                     : k[1].tag);
    }
    /* glue and the delegation's NS are not signed; the DS is */
    const struct dns_node *glue = dns_zone_find(s, N("ns.sub.example.", name), NULL);
    assert_null(dns_node_rrset(glue, DNS_TYPE_RRSIG));
    const struct dns_node *sec = dns_zone_find(s, N("sec.example.", name), NULL);
    const struct dns_rrset *secsig = dns_node_rrset(sec, DNS_TYPE_RRSIG);
    assert_int_equal(secsig->count, 2); /* DS and NSEC */
    dns_zone_unref(s);
    for (int i = 0; i < 3; i++)
        EVP_PKEY_free(k[i].pkey);
    dns_zone_unref(z);
}

/* A signed zone text with one changed byte in a signature is caught. */
static void test_corrupted_signature(void **state)
{
    (void)state;
    struct dns_zone *z = load_zone();
    struct dnssec_key k;
    make_key(&k, DNSSEC_ALG_ECDSAP256, 257);
    k.zsk = true;
    struct dns_zone *s = sign(z, &k, 1, false);
    uint8_t name[DNS_NAME_MAXLEN];
    const struct dns_node *www = dns_zone_find(s, N("www.example.", name), NULL);
    const struct dns_rrset *sigs = dns_node_rrset(www, DNS_TYPE_RRSIG);
    /* check the A set against its RRSIG, then against a corrupted copy */
    struct dnssec_rrset_view v = {www->name, DNS_TYPE_A, DNS_CLASS_IN,
                                  dns_node_rrset(www, DNS_TYPE_A)->rdata, 1};
    struct dns_rdata key = {(uint16_t)k.dnskey_len, k.dnskey};
    struct dnssec_budget b;
    dnssec_budget_init(&b);
    uint16_t ede = 0;
    unsigned labels = 0;
    assert_int_equal(dnssec_verify_rrset(&v, sigs->rdata, sigs->count, dns_zone_origin(s), &key,
                                         1, NOW, &b, &labels, &ede),
                     DNSSEC_SECURE);
    assert_int_equal(labels, 2);
    uint8_t bad[1024];
    struct dns_rdata badsigs[8];
    for (unsigned i = 0; i < sigs->count; i++) {
        memcpy(bad + i * 128, sigs->rdata[i].data, sigs->rdata[i].len);
        bad[i * 128 + sigs->rdata[i].len - 5] ^= 0x40;
        badsigs[i] = (struct dns_rdata){sigs->rdata[i].len, bad + i * 128};
    }
    assert_int_equal(dnssec_verify_rrset(&v, badsigs, sigs->count, dns_zone_origin(s), &key, 1,
                                         NOW, &b, NULL, &ede),
                     DNSSEC_BOGUS);
    assert_int_equal(ede, DNSSEC_EDE_BOGUS);
    /* no RRSIG at all */
    assert_int_equal(dnssec_verify_rrset(&v, NULL, 0, dns_zone_origin(s), &key, 1, NOW, &b, NULL,
                                         &ede),
                     DNSSEC_BOGUS);
    assert_int_equal(ede, DNSSEC_EDE_RRSIGS_MISSING);
    /* the DNSKEY set through its DS */
    uint8_t ds[64];
    size_t dl;
    assert_int_equal(dnssec_ds_make(dns_zone_origin(s), k.dnskey, k.dnskey_len, 2, ds, &dl), 0);
    const struct dns_node *apex = dns_zone_node(s, 0);
    const struct dns_rrset *keys = dns_node_rrset(apex, DNS_TYPE_DNSKEY);
    const struct dns_rrset *asig = dns_node_rrset(apex, DNS_TYPE_RRSIG);
    struct dns_rdata d = {(uint16_t)dl, ds};
    dnssec_budget_init(&b);
    assert_int_equal(dnssec_verify_dnskeys(dns_zone_origin(s), keys->rdata, keys->count,
                                           asig->rdata, asig->count, &d, 1, NOW, &b, &ede),
                     DNSSEC_SECURE);
    ds[10] ^= 1; /* a DS that matches no key */
    assert_int_equal(dnssec_verify_dnskeys(dns_zone_origin(s), keys->rdata, keys->count,
                                           asig->rdata, asig->count, &d, 1, NOW, &b, &ede),
                     DNSSEC_BOGUS);
    assert_int_equal(ede, DNSSEC_EDE_DNSKEY_MISSING);
    dns_zone_unref(s);
    dns_zone_unref(z);
    EVP_PKEY_free(k.pkey);
}

/* CVE-2023-50387: many signatures with the key's tag cost at most the budget. */
static void test_keytrap_budget(void **state)
{
    (void)state;
    struct dnssec_key k;
    make_key(&k, DNSSEC_ALG_ECDSAP256, 257);
    uint8_t name[DNS_NAME_MAXLEN];
    N("x.example.", name);
    static const uint8_t a[4] = {192, 0, 2, 1};
    struct dns_rdata rd = {4, a};
    struct dnssec_rrset_view v = {name, DNS_TYPE_A, DNS_CLASS_IN, &rd, 1};
    /* 200 RRSIGs naming the key, none valid */
    enum { NSIG = 200 };
    static uint8_t sigbuf[NSIG][18 + 9 + 64];
    struct dns_rdata sigs[NSIG];
    for (int i = 0; i < NSIG; i++) {
        uint8_t *p = sigbuf[i];
        memset(p, 0, sizeof sigbuf[i]);
        p[1] = DNS_TYPE_A, p[2] = DNSSEC_ALG_ECDSAP256, p[3] = 2;
        uint32_t exp = NOW + 1000, inc = NOW - 1000;
        p[8] = (uint8_t)(exp >> 24), p[9] = (uint8_t)(exp >> 16), p[10] = (uint8_t)(exp >> 8);
        p[11] = (uint8_t)exp;
        p[12] = (uint8_t)(inc >> 24), p[13] = (uint8_t)(inc >> 16), p[14] = (uint8_t)(inc >> 8);
        p[15] = (uint8_t)inc;
        p[16] = (uint8_t)(k.tag >> 8), p[17] = (uint8_t)k.tag;
        memcpy(p + 18, "\7example\0", 9);
        p[27 + i % 64] = (uint8_t)i;
        sigs[i] = (struct dns_rdata){sizeof sigbuf[i], p};
    }
    struct dns_rdata key = {(uint16_t)k.dnskey_len, k.dnskey};
    struct dnssec_budget b;
    dnssec_budget_init(&b);
    uint16_t ede;
    uint8_t zone[DNS_NAME_MAXLEN];
    assert_int_equal(dnssec_verify_rrset(&v, sigs, NSIG, N("example.", zone), &key, 1, NOW, &b,
                                         NULL, &ede),
                     DNSSEC_BOGUS);
    /* stopped at the RRset's 8 verifications, the question's budget left for the rest */
    assert_int_equal(b.used, 8);
    assert_int_equal(b.validations, 32 - 8);
    assert_true(b.limited);
    /* a second set: 8 more; the question's 32 end the fourth */
    for (int i = 0; i < 3; i++)
        assert_int_equal(dnssec_verify_rrset(&v, sigs, NSIG, zone, &key, 1, NOW, &b, NULL, &ede),
                         DNSSEC_BOGUS);
    assert_int_equal(b.validations, 0);
    assert_int_equal(b.used, 32);
    /* six keys with the signature's tag: 4 tried, then the set is given up */
    struct dns_rdata six[6];
    uint8_t keybuf[6][DNSSEC_DNSKEY_MAX];
    for (int i = 0; i < 6; i++) {
        memcpy(keybuf[i], k.dnskey, k.dnskey_len);
        /* two high-order octets of the key swapped: the same tag (RFC 4034 App. B) */
        uint8_t t = keybuf[i][4 + 2 * i];
        keybuf[i][4 + 2 * i] = keybuf[i][4 + 2 * (i + 6)];
        keybuf[i][4 + 2 * (i + 6)] = t;
        six[i] = (struct dns_rdata){(uint16_t)k.dnskey_len, keybuf[i]};
    }
    dnssec_budget_init(&b);
    assert_int_equal(dnssec_verify_rrset(&v, sigs, 1, zone, six, 6, NOW, &b, NULL, &ede),
                     DNSSEC_BOGUS);
    assert_int_equal(b.used, 4);
    assert_true(b.limited);
    EVP_PKEY_free(k.pkey);
}

/* Collects the NSEC or NSEC3 records of a signed zone. */
static size_t chain_of(const struct dns_zone *z, uint16_t type, struct dnssec_nsec_rr *v)
{
    size_t nn, k = 0;
    const struct dns_node *nodes = dns_zone_nodes(z, &nn);
    for (size_t i = 0; i < nn; i++) {
        const struct dns_rrset *s = dns_node_rrset(&nodes[i], type);
        if (s)
            v[k++] = (struct dnssec_nsec_rr){nodes[i].name, type, s->rdata[0].data,
                                             s->rdata[0].len};
    }
    return k;
}

static void proofs(bool nsec3)
{
    struct dns_zone *z = load_zone();
    struct dnssec_key k;
    make_key(&k, DNSSEC_ALG_ED25519, 257);
    k.zsk = true;
    struct dns_zone *s = sign(z, &k, 1, nsec3);
    struct dnssec_nsec_rr v[64];
    size_t n = chain_of(s, nsec3 ? DNS_TYPE_NSEC3 : DNS_TYPE_NSEC, v);
    assert_true(n > 5);
    uint8_t zone[DNS_NAME_MAXLEN], q[DNS_NAME_MAXLEN];
    N("example.", zone);
    struct dnssec_budget b;
    dnssec_budget_init(&b);
    /* the whole chain proves: NXDOMAIN for a missing name, NODATA for a missing type */
    assert_int_equal(dnssec_prove_nxdomain(v, n, zone, N("nope.example.", q), &b),
                     DNSSEC_PROOF_OK);
    assert_int_equal(dnssec_prove_nodata(v, n, zone, N("www.example.", q), DNS_TYPE_MX, &b),
                     DNSSEC_PROOF_OK);
    /* an empty non-terminal has no data of any type */
    assert_int_equal(dnssec_prove_nodata(v, n, zone, N("b.c.example.", q), DNS_TYPE_A, &b),
                     DNSSEC_PROOF_OK);
    /* existing data is never "proven" missing; a name under a wildcard is not NXDOMAIN */
    assert_int_equal(dnssec_prove_nodata(v, n, zone, N("www.example.", q), DNS_TYPE_A, &b),
                     DNSSEC_PROOF_NONE);
    assert_int_equal(dnssec_prove_nxdomain(v, n, zone, N("www.example.", q), &b),
                     DNSSEC_PROOF_NONE);
    assert_int_equal(dnssec_prove_nxdomain(v, n, zone, N("x.wild.example.", q), &b),
                     DNSSEC_PROOF_NONE);
    /* wildcard expansion x.wild.example from *.wild.example (RRSIG labels 2) */
    assert_int_equal(dnssec_prove_wildcard(v, n, zone, N("x.wild.example.", q), 2, &b),
                     DNSSEC_PROOF_OK);
    /* wildcard NODATA: the wildcard has TXT only */
    assert_int_equal(dnssec_prove_nodata(v, n, zone, N("x.wild.example.", q), DNS_TYPE_A, &b),
                     DNSSEC_PROOF_OK);
    /* the parent's record at a delegation proves no DS only, and nothing below the cut */
    assert_int_equal(dnssec_prove_nodata(v, n, zone, N("sub.example.", q), DNS_TYPE_DS, &b),
                     DNSSEC_PROOF_OK);
    assert_int_equal(dnssec_prove_nodata(v, n, zone, N("sub.example.", q), DNS_TYPE_A, &b),
                     DNSSEC_PROOF_NONE);
    assert_int_equal(dnssec_prove_nxdomain(v, n, zone, N("deep.sub.example.", q), &b),
                     DNSSEC_PROOF_NONE);
    /* one record alone does not make a proof */
    struct dnssec_budget b1;
    dnssec_budget_init(&b1);
    assert_int_equal(dnssec_prove_nxdomain(v, 1, zone, N("zzz.nope.example.", q), &b1) ==
                         DNSSEC_PROOF_OK,
                     false);
    dns_zone_unref(s);
    dns_zone_unref(z);
    EVP_PKEY_free(k.pkey);
}

static void test_nsec_proofs(void **state)
{
    (void)state;
    proofs(false);
}

static void test_nsec3_proofs(void **state)
{
    (void)state;
    proofs(true);
}

/* CVE-2023-50868: the NSEC3 hash budget ends a proof; high iteration counts are insecure. */
static void test_nsec3_limits(void **state)
{
    (void)state;
    uint8_t zone[DNS_NAME_MAXLEN], owner[DNS_NAME_MAXLEN], q[DNS_NAME_MAXLEN], rd[64];
    size_t len;
    assert_int_equal(rdata_from(DNS_TYPE_NSEC3, "1 0 500 - 2vptu5timamqttgl4luu9kg21e0aor3s A",
                                rd, &len),
                     0);
    struct dnssec_nsec_rr v = {N("0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.example.", owner),
                               DNS_TYPE_NSEC3, rd, len};
    struct dnssec_budget b;
    dnssec_budget_init(&b);
    assert_int_equal(dnssec_prove_nxdomain(&v, 1, N("example.", zone), N("a.example.", q), &b),
                     DNSSEC_PROOF_INSECURE);
    assert_int_equal(b.nsec3_hashes, DNSSEC_MAX_NSEC3_HASHES); /* nothing hashed */
    assert_int_equal(rdata_from(DNS_TYPE_NSEC3, "1 0 0 - 2vptu5timamqttgl4luu9kg21e0aor3s A",
                                rd, &len),
                     0);
    v.len = len;
    b.nsec3_hashes = 3;
    N("a.b.c.d.e.f.g.h.example.", q);
    assert_int_equal(dnssec_prove_nxdomain(&v, 1, zone, q, &b), DNSSEC_PROOF_BUDGET);
    assert_int_equal(b.nsec3_hashes, 0);
}

/* A fresh key directory for "example." holding one CSK, loaded into ks. */
static void new_keystore(char *dir, uint8_t *zone, struct dnssec_keyset *ks, struct str *err)
{
    assert_non_null(mkdtemp(dir));
    N("example.", zone);
    assert_int_equal(dnssec_keystore_ensure(dir, zone, DNSSEC_ALG_ED25519, ks, err), 0);
}

/* The key life cycle on disk: pre-published -> active (the old one retires) -> removed. */
static void test_keystore_roll(void **state)
{
    (void)state;
    char dir[] = "/tmp/pigeon-dnssec-XXXXXX";
    uint8_t zone[DNS_NAME_MAXLEN];
    struct dnssec_keyset ks = {0};
    struct str err = STR_INIT;
    new_keystore(dir, zone, &ks, &err);
    assert_int_equal(ks.n, 1);
    uint16_t old = ks.keys[0].tag;
    assert_int_equal(dnssec_keystore_create(dir, zone, DNSSEC_ALG_ED25519, DNSSEC_ROLE_CSK,
                                            DNSSEC_KEY_PUBLISHED, &ks, &err),
                     0);
    uint16_t new = ks.keys[1].tag;
    assert_true(ks.keys[1].publish && !ks.keys[1].active && ks.keys[1].cds);
    int64_t t0 = ks.since[1], next;
    /* before the TTL has passed nothing moves; the next step is due at t0 + ttl */
    assert_int_equal(dnssec_keystore_roll(&ks, t0 + 10, 60, &next, &err), 0);
    assert_int_equal(next, t0 + 60);
    assert_true(dnssec_keystore_roll(&ks, t0 + 60, 60, &next, &err) >= 2);
    dnssec_keyset_clear(&ks);
    assert_int_equal(dnssec_keystore_load(dir, zone, &ks, &err), 0);
    assert_int_equal(ks.n, 2);
    for (size_t i = 0; i < ks.n; i++) {
        if (ks.keys[i].tag == new)
            assert_int_equal(ks.state[i], DNSSEC_KEY_ACTIVE);
        else
            assert_true(ks.keys[i].tag == old && ks.state[i] == DNSSEC_KEY_RETIRED &&
                        !ks.keys[i].cds && ks.keys[i].publish);
    }
    /* a retired key goes once another TTL has passed; the files are mode 0600 */
    int64_t later = ks.since[0] > ks.since[1] ? ks.since[0] : ks.since[1];
    assert_int_equal(dnssec_keystore_roll(&ks, later + 61, 60, &next, &err), 1);
    assert_int_equal(ks.n, 1);
    assert_int_equal(ks.keys[0].tag, new);
    struct stat st;
    assert_int_equal(stat(ks.path[0], &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(dnssec_keystore_remove(&ks, 0, &err), 0);
    dnssec_keyset_clear(&ks);
    str_clear(&err);
    assert_int_equal(rmdir(dir), 0);
}

struct renamer {
    char a[256], b[256];
    atomic_bool done;
};

static void *rename_back_and_forth(void *arg)
{
    struct renamer *r = arg;
    for (int i = 0; i < 2000; i++) {
        if (rename(i % 2 ? r->b : r->a, i % 2 ? r->a : r->b) != 0)
            abort(); /* no cmocka assertion off the test's thread */
        usleep(100);
    }
    atomic_store(&r->done, true);
    return NULL;
}

/* The daemon renames and removes key files while `pigeon dnssec status` reads the directory
 * (CI saw "...csk.retired.pem: No such file or directory"): a key file that vanishes between
 * readdir and open makes the reader look again, never fail. */
static void test_keystore_read_while_rolling(void **state)
{
    (void)state;
    char dir[] = "/tmp/pigeon-dnssec-XXXXXX";
    uint8_t zone[DNS_NAME_MAXLEN];
    struct dnssec_keyset ks = {0};
    struct str err = STR_INIT;
    new_keystore(dir, zone, &ks, &err);
    struct renamer r = {.done = false};
    snprintf(r.a, sizeof r.a, "%s", ks.path[0]);
    snprintf(r.b, sizeof r.b, "%.*s.retired.pem", (int)(strlen(r.a) - 4), r.a);
    dnssec_keyset_clear(&ks);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, rename_back_and_forth, &r), 0);
    int loads = 0;
    while (!atomic_load(&r.done)) {
        int rc = dnssec_keystore_load(dir, zone, &ks, &err);
        if (rc != 0)
            fail_msg("load %d: %s", loads, str_cstr(&err));
        dnssec_keyset_clear(&ks);
        loads++;
    }
    pthread_join(t, NULL);
    assert_int_equal(unlink(r.a), 0);
    assert_int_equal(rmdir(dir), 0);
    str_clear(&err);
}

/* The stamp of a zone's key files moves with its own keys only: another zone's key, and the
 * signer's serial and signed-version files in the same directory, leave it alone (the
 * directory's mtime, compared before, made two signed zones re-sign each other every
 * second); a key of the zone added or changing state moves it. */
static void test_keystore_stamp_own_keys_only(void **state)
{
    (void)state;
    char dir[] = "/tmp/pigeon-dnssec-XXXXXX";
    uint8_t zone[DNS_NAME_MAXLEN], other[DNS_NAME_MAXLEN];
    struct dnssec_keyset ks = {0}, ko = {0};
    struct str err = STR_INIT;
    new_keystore(dir, zone, &ks, &err);
    uint64_t s0 = dnssec_keystore_stamp(dir, zone);
    assert_true(s0 != 0);
    N("other.example.", other);
    assert_int_equal(dnssec_keystore_ensure(dir, other, DNSSEC_ALG_ED25519, &ko, &err), 0);
    char path[300];
    snprintf(path, sizeof path, "%s/example.serial", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("7\n", f);
    fclose(f);
    assert_true(dnssec_keystore_stamp(dir, zone) == s0);
    assert_true(dnssec_keystore_stamp(dir, other) != s0);
    assert_int_equal(dnssec_keystore_create(dir, zone, DNSSEC_ALG_ED25519, DNSSEC_ROLE_CSK,
                                            DNSSEC_KEY_PUBLISHED, &ks, &err),
                     0);
    uint64_t s1 = dnssec_keystore_stamp(dir, zone);
    assert_true(s1 != s0);
    assert_int_equal(dnssec_keystore_set_state(&ks, 1, DNSSEC_KEY_ACTIVE, &err), 0);
    assert_true(dnssec_keystore_stamp(dir, zone) != s1);
    while (ks.n)
        assert_int_equal(dnssec_keystore_remove(&ks, 0, &err), 0);
    while (ko.n)
        assert_int_equal(dnssec_keystore_remove(&ko, 0, &err), 0);
    assert_int_equal(dnssec_keystore_stamp(dir, zone), 0);
    dnssec_keyset_clear(&ks);
    dnssec_keyset_clear(&ko);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);
    str_clear(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_forms),        cmocka_unit_test(test_rfc4034_ds),
        cmocka_unit_test(test_rfc5155_hashes),    cmocka_unit_test(test_sign_and_verify),
        cmocka_unit_test(test_corrupted_signature), cmocka_unit_test(test_keytrap_budget),
        cmocka_unit_test(test_nsec_proofs),       cmocka_unit_test(test_nsec3_proofs),
        cmocka_unit_test(test_nsec3_limits),      cmocka_unit_test(test_keystore_roll),
        cmocka_unit_test(test_keystore_read_while_rolling),
        cmocka_unit_test(test_keystore_stamp_own_keys_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
