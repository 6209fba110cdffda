/*
 * Unit tests for the resolver's cache (TTL countdown on a fake clock, clamps, negative
 * entries, ranks, LRU eviction, serve-stale), its reply judge (scrub: bailiwick, the
 * textbook poisoning attempt, referrals, CNAME chains) and the root hints reader.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/err.h"
#include "dns/name.h"
#include "dns/resolver/cache.h"
#include "dns/resolver/hints.h"
#include "dns/resolver/scrub.h"
#include "dns/rr.h"
#include "dns/wire.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t *N(const char *text)
{
    static uint8_t bufs[16][DNS_NAME_MAXLEN];
    static int k;
    uint8_t *out = bufs[k++ % 16];
    size_t len;
    const char *why;
    if (dns_name_from_text(text, strlen(text), NULL, out, &len, &why) != 0)
        fail_msg("bad name %s", text);
    return out;
}

static const uint8_t A1[4] = {192, 0, 2, 1}, A2[4] = {192, 0, 2, 2}, EVIL[4] = {6, 6, 6, 6};

static struct dns_cache *mk(size_t bytes)
{
    struct dns_cache_config c = {bytes, 0, 86400, 3600, 0};
    return dns_cache_new(&c);
}

static enum dns_cache_kind get(struct dns_cache *c, const char *name, uint16_t type,
                               uint8_t min_rank, unsigned flags, uint64_t now,
                               struct dns_cache_result *r)
{
    static unsigned char mem[4096];
    struct dns_arena a;
    dns_arena_init(&a, mem, sizeof mem);
    enum dns_cache_kind k = dns_cache_get(c, N(name), type, min_rank, flags, now, &a, r);
    dns_arena_clear(&a); /* the first block is static: results stay readable */
    return k;
}

static void put_a(struct dns_cache *c, const char *name, const uint8_t *addr, uint32_t ttl,
                  uint8_t rank, uint64_t now)
{
    struct dns_rdata rd = {4, addr};
    dns_cache_put(c, N(name), DNS_TYPE_A, ttl, rank, &rd, 1, now);
}

static void test_ttl_countdown(void **state)
{
    struct dns_cache *c = mk(1 << 20);
    struct dns_cache_result r;
    put_a(c, "www.example.com", A1, 300, DNS_RANK_AUTH_ANSWER, 1000000);
    assert_int_equal(get(c, "WWW.Example.COM", DNS_TYPE_A, DNS_RANK_ANSWER, 0, 1000000, &r),
                     DNS_CACHE_POSITIVE);
    assert_int_equal(r.rrset.ttl, 300);
    assert_memory_equal(r.rrset.rdata[0].data, A1, 4);
    assert_int_equal(
        get(c, "www.example.com", DNS_TYPE_A, DNS_RANK_ANSWER, 0, 1000000 + 100500, &r),
        DNS_CACHE_POSITIVE);
    assert_int_equal(r.rrset.ttl, 199);
    assert_int_equal(get(c, "www.example.com", DNS_TYPE_A, 0, 0, 1000000 + 300000, &r),
                     DNS_CACHE_MISS);
    assert_int_equal(get(c, "www.example.com", DNS_TYPE_AAAA, 0, 0, 1000000, &r), DNS_CACHE_MISS);
    dns_cache_free(c);
}

static void test_clamps(void **state)
{
    struct dns_cache_config cfg = {1 << 20, 60, 3600, 600, 0};
    struct dns_cache *c = dns_cache_new(&cfg);
    struct dns_cache_result r;
    put_a(c, "short.example", A1, 5, DNS_RANK_AUTH_ANSWER, 0);
    put_a(c, "long.example", A1, 999999, DNS_RANK_AUTH_ANSWER, 0);
    get(c, "short.example", DNS_TYPE_A, 0, 0, 0, &r);
    assert_int_equal(r.rrset.ttl, 60);
    get(c, "long.example", DNS_TYPE_A, 0, 0, 0, &r);
    assert_int_equal(r.rrset.ttl, 3600);
    dns_cache_free(c);
}

/* An SOA rdata with the given minimum. */
static size_t soa(uint8_t *out, uint32_t minimum)
{
    size_t n = 0;
    memcpy(out, "\2ns\0\4host\0", 10);
    n = 10;
    for (int i = 0; i < 5; i++) {
        uint32_t v = i == 4 ? minimum : 100;
        out[n++] = (uint8_t)(v >> 24);
        out[n++] = (uint8_t)(v >> 16);
        out[n++] = (uint8_t)(v >> 8);
        out[n++] = (uint8_t)v;
    }
    return n;
}

static void test_negative(void **state)
{
    struct dns_cache *c = mk(1 << 20);
    struct dns_cache_result r;
    uint8_t s[64];
    size_t sl = soa(s, 120);
    /* RFC 2308 §5: the TTL is min(SOA TTL, SOA minimum) */
    dns_cache_put_negative(c, N("nx.example"), DNS_CACHE_TYPE_NXDOMAIN, DNS_RANK_AUTH_AUTHORITY,
                           N("example"), 900, s, (uint16_t)sl, 0);
    dns_cache_put_negative(c, N("www.example"), DNS_TYPE_AAAA, DNS_RANK_AUTH_AUTHORITY,
                           N("example"), 60, s, (uint16_t)sl, 0);
    assert_int_equal(get(c, "nx.example", DNS_TYPE_MX, DNS_RANK_ANSWER, 0, 0, &r),
                     DNS_CACHE_NXDOMAIN);
    assert_int_equal(r.soa.ttl, 120);
    assert_true(dns_name_eq(r.soa.owner, N("example")));
    assert_int_equal(get(c, "www.example", DNS_TYPE_AAAA, DNS_RANK_ANSWER, 0, 30000, &r),
                     DNS_CACHE_NODATA);
    assert_int_equal(r.soa.ttl, 30);
    assert_int_equal(get(c, "www.example", DNS_TYPE_A, DNS_RANK_ANSWER, 0, 0, &r), DNS_CACHE_MISS);
    assert_int_equal(get(c, "nx.example", DNS_TYPE_A, DNS_RANK_ANSWER, 0, 121000, &r),
                     DNS_CACHE_MISS);
    /* data for a name replaces its NXDOMAIN */
    dns_cache_put_negative(c, N("new.example"), DNS_CACHE_TYPE_NXDOMAIN, DNS_RANK_AUTH_AUTHORITY,
                           N("example"), 900, s, (uint16_t)sl, 0);
    put_a(c, "new.example", A1, 60, DNS_RANK_AUTH_ANSWER, 1000);
    assert_int_equal(get(c, "new.example", DNS_TYPE_TXT, 0, 0, 1000, &r), DNS_CACHE_MISS);
    dns_cache_free(c);
}

static void test_ranking(void **state)
{
    struct dns_cache *c = mk(1 << 20);
    struct dns_cache_result r;
    /* RFC 2181 §5.4.1: glue does not replace an authoritative answer ... */
    put_a(c, "ns.example", A1, 300, DNS_RANK_AUTH_ANSWER, 0);
    put_a(c, "ns.example", EVIL, 300, DNS_RANK_ADDITIONAL, 0);
    get(c, "ns.example", DNS_TYPE_A, 0, 0, 0, &r);
    assert_memory_equal(r.rrset.rdata[0].data, A1, 4);
    /* ... but an authoritative answer replaces glue */
    put_a(c, "ns2.example", EVIL, 300, DNS_RANK_ADDITIONAL, 0);
    assert_int_equal(get(c, "ns2.example", DNS_TYPE_A, DNS_RANK_ANSWER, 0, 0, &r), DNS_CACHE_MISS);
    assert_int_equal(get(c, "ns2.example", DNS_TYPE_A, 0, 0, 0, &r), DNS_CACHE_POSITIVE);
    put_a(c, "ns2.example", A2, 300, DNS_RANK_AUTH_ANSWER, 0);
    get(c, "ns2.example", DNS_TYPE_A, DNS_RANK_ANSWER, 0, 0, &r);
    assert_memory_equal(r.rrset.rdata[0].data, A2, 4);
    /* once expired, lower-ranked data may take its place */
    put_a(c, "ns.example", A2, 300, DNS_RANK_ADDITIONAL, 300000);
    get(c, "ns.example", DNS_TYPE_A, 0, 0, 300000, &r);
    assert_memory_equal(r.rrset.rdata[0].data, A2, 4);
    dns_cache_free(c);
}

static void test_lru(void **state)
{
    struct dns_cache *c = mk(20 * 1024);
    struct dns_cache_result r;
    char name[64];
    for (int i = 0; i < 200; i++) {
        snprintf(name, sizeof name, "h%d.example", i);
        put_a(c, name, A1, 300, DNS_RANK_AUTH_ANSWER, 0);
        /* keep h0 hot: it must survive */
        assert_int_equal(get(c, "h0.example", DNS_TYPE_A, 0, 0, 0, &r), DNS_CACHE_POSITIVE);
    }
    struct dns_cache_stats st;
    dns_cache_stats(c, &st);
    assert_true(st.bytes <= 20 * 1024);
    assert_true(st.evictions > 0);
    assert_int_equal(get(c, "h1.example", DNS_TYPE_A, 0, 0, 0, &r), DNS_CACHE_MISS);
    assert_int_equal(get(c, "h199.example", DNS_TYPE_A, 0, 0, 0, &r), DNS_CACHE_POSITIVE);
    dns_cache_free(c);
}

static void test_stale(void **state)
{
    struct dns_cache_config cfg = {1 << 20, 0, 86400, 3600, 3600};
    struct dns_cache *c = dns_cache_new(&cfg);
    struct dns_cache_result r;
    put_a(c, "www.example", A1, 10, DNS_RANK_AUTH_ANSWER, 0);
    assert_int_equal(get(c, "www.example", DNS_TYPE_A, 0, 0, 20000, &r), DNS_CACHE_MISS);
    assert_int_equal(get(c, "www.example", DNS_TYPE_A, 0, DNS_CACHE_STALE_OK, 20000, &r),
                     DNS_CACHE_POSITIVE);
    assert_true(r.stale);
    assert_int_equal(r.rrset.ttl, DNS_CACHE_STALE_TTL);
    assert_int_equal(get(c, "www.example", DNS_TYPE_A, 0, DNS_CACHE_STALE_OK, 3611000, &r),
                     DNS_CACHE_MISS);
    dns_cache_free(c);
}

/* ---- scrub ---- */

struct rrspec {
    int sec; /* 1 answer, 2 authority, 3 additional */
    const char *owner;
    uint16_t type;
    const uint8_t *rdata;
    size_t len;
};

/* Builds and parses a reply to (qname, qtype). */
static void reply(struct dns_msg *m, struct dns_arena *a, uint8_t *pkt, bool aa, unsigned rcode,
                  const char *qname, uint16_t qtype, const struct rrspec *rr, int n)
{
    struct dns_header h = {.id = 1, .qr = true, .aa = aa, .rcode = (uint8_t)rcode, .qdcount = 1};
    struct dns_builder b;
    dns_builder_init(&b, pkt, 4096, 4096, &h);
    dns_builder_question(&b, N(qname), qtype, DNS_CLASS_IN);
    for (int i = 0; i < n; i++)
        assert_int_equal(dns_builder_rr(&b, (enum dns_section)rr[i].sec, N(rr[i].owner), rr[i].type,
                                        DNS_CLASS_IN, 300, rr[i].rdata, rr[i].len),
                         0);
    size_t len = dns_builder_finish(&b);
    assert_int_equal(dns_msg_parse(pkt, len, m, a), 0);
}

static bool kept(const struct dns_scrub *sc, const char *owner, uint16_t type)
{
    for (unsigned i = 0; i < sc->n; i++)
        if (sc->sets[i].type == type && dns_name_eq(sc->sets[i].owner, N(owner)))
            return true;
    return false;
}

/* The textbook case: a server for drevil.com answers with an NS for google.com and a bogus
 * address for it in the additional section. Nothing about google.com may be kept. */
static void test_poisoning(void **state)
{
    uint8_t pkt[4096], ns_google[64], ns_drevil[64];
    size_t gl, dl;
    const char *why;
    dns_name_from_text("ns.drevil.com.", 14, NULL, ns_google, &gl, &why);
    dns_name_from_text("ns.drevil.com.", 14, NULL, ns_drevil, &dl, &why);
    struct rrspec rr[] = {
        {1, "www.drevil.com", DNS_TYPE_A, A1, 4},
        {2, "google.com", DNS_TYPE_NS, ns_google, gl},
        {2, "drevil.com", DNS_TYPE_NS, ns_drevil, dl},
        {3, "ns.drevil.com", DNS_TYPE_A, A2, 4},
        {3, "google.com", DNS_TYPE_A, EVIL, 4},
        {3, "www.google.com", DNS_TYPE_A, EVIL, 4},
    };
    unsigned char mem[8192];
    struct dns_arena a;
    dns_arena_init(&a, mem, sizeof mem);
    struct dns_msg m;
    reply(&m, &a, pkt, true, 0, "www.drevil.com", DNS_TYPE_A, rr, 6);
    struct dns_scrub sc;
    dns_scrub(&m, N("www.drevil.com"), DNS_TYPE_A, N("drevil.com"), &a, &sc);
    assert_int_equal(sc.kind, DNS_SCRUB_ANSWER);
    assert_true(kept(&sc, "www.drevil.com", DNS_TYPE_A));
    assert_false(kept(&sc, "google.com", DNS_TYPE_NS));
    assert_false(kept(&sc, "google.com", DNS_TYPE_A));
    assert_false(kept(&sc, "www.google.com", DNS_TYPE_A));
    assert_true(sc.dropped >= 3);
    dns_arena_clear(&a);
}

static void test_referral_glue(void **state)
{
    uint8_t pkt[4096], ns1[64], ns2[64];
    size_t l1, l2;
    const char *why;
    dns_name_from_text("dns.hamburger.edu.", 18, NULL, ns1, &l1, &why);
    dns_name_from_text("ns.crepes.fr.", 13, NULL, ns2, &l2, &why);
    struct rrspec rr[] = {
        {2, "hamburger.edu", DNS_TYPE_NS, ns1, l1},
        {2, "hamburger.edu", DNS_TYPE_NS, ns2, l2},
        {3, "dns.hamburger.edu", DNS_TYPE_A, A1, 4},
        {3, "ns.crepes.fr", DNS_TYPE_A, EVIL, 4}, /* outside edu.: must be looked up */
    };
    unsigned char mem[8192];
    struct dns_arena a;
    dns_arena_init(&a, mem, sizeof mem);
    struct dns_msg m;
    reply(&m, &a, pkt, false, 0, "hamburger.edu", DNS_TYPE_A, rr, 4);
    struct dns_scrub sc;
    dns_scrub(&m, N("hamburger.edu"), DNS_TYPE_A, N("edu"), &a, &sc);
    assert_int_equal(sc.kind, DNS_SCRUB_REFERRAL);
    assert_int_equal(sc.sets[sc.ns].count, 2);
    assert_int_equal(sc.sets[sc.ns].rank, DNS_RANK_REFERRAL);
    assert_true(kept(&sc, "dns.hamburger.edu", DNS_TYPE_A));
    assert_false(kept(&sc, "ns.crepes.fr", DNS_TYPE_A));
    /* the same referral from a server of another zone (fr.) is not a referral */
    dns_scrub(&m, N("hamburger.edu"), DNS_TYPE_A, N("fr"), &a, &sc);
    assert_int_equal(sc.kind, DNS_SCRUB_LAME);
    /* nor is an upward referral (the zone's own NS, without AA) */
    dns_scrub(&m, N("hamburger.edu"), DNS_TYPE_A, N("hamburger.edu"), &a, &sc);
    assert_int_equal(sc.kind, DNS_SCRUB_LAME);
    dns_arena_clear(&a);
}

static void test_cname_chain(void **state)
{
    uint8_t pkt[4096], t1[64], t2[64];
    size_t l1, l2;
    const char *why;
    dns_name_from_text("web.hamburger.edu.", 18, NULL, t1, &l1, &why);
    dns_name_from_text("www.crepes.fr.", 14, NULL, t2, &l2, &why);
    struct rrspec rr[] = {
        {1, "www.hamburger.edu", DNS_TYPE_CNAME, t1, l1},
        {1, "web.hamburger.edu", DNS_TYPE_CNAME, t2, l2},
        {1, "www.crepes.fr", DNS_TYPE_A, EVIL, 4}, /* another zone's data: not from here */
    };
    unsigned char mem[8192];
    struct dns_arena a;
    dns_arena_init(&a, mem, sizeof mem);
    struct dns_msg m;
    reply(&m, &a, pkt, true, 0, "www.hamburger.edu", DNS_TYPE_A, rr, 3);
    struct dns_scrub sc;
    dns_scrub(&m, N("www.hamburger.edu"), DNS_TYPE_A, N("hamburger.edu"), &a, &sc);
    assert_int_equal(sc.kind, DNS_SCRUB_CNAME);
    assert_int_equal(sc.nchain, 2);
    assert_true(dns_name_eq(sc.end_name, N("www.crepes.fr")));
    assert_false(kept(&sc, "www.crepes.fr", DNS_TYPE_A));
    dns_arena_clear(&a);
}

static void test_negative_kinds(void **state)
{
    uint8_t pkt[4096], s[64];
    size_t sl = soa(s, 60);
    struct rrspec rr[] = {{2, "hamburger.edu", DNS_TYPE_SOA, s, sl}};
    unsigned char mem[8192];
    struct dns_arena a;
    dns_arena_init(&a, mem, sizeof mem);
    struct dns_msg m;
    struct dns_scrub sc;
    reply(&m, &a, pkt, true, DNS_RCODE_NXDOMAIN, "nx.hamburger.edu", DNS_TYPE_A, rr, 1);
    dns_scrub(&m, N("nx.hamburger.edu"), DNS_TYPE_A, N("hamburger.edu"), &a, &sc);
    assert_int_equal(sc.kind, DNS_SCRUB_NXDOMAIN);
    assert_true(sc.soa >= 0);
    reply(&m, &a, pkt, true, 0, "www.hamburger.edu", DNS_TYPE_AAAA, rr, 1);
    dns_scrub(&m, N("www.hamburger.edu"), DNS_TYPE_AAAA, N("hamburger.edu"), &a, &sc);
    assert_int_equal(sc.kind, DNS_SCRUB_NODATA);
    reply(&m, &a, pkt, false, DNS_RCODE_REFUSED, "www.hamburger.edu", DNS_TYPE_A, NULL, 0);
    dns_scrub(&m, N("www.hamburger.edu"), DNS_TYPE_A, N("hamburger.edu"), &a, &sc);
    assert_int_equal(sc.kind, DNS_SCRUB_ERROR);
    dns_arena_clear(&a);
}

static void test_hints(void **state)
{
    const char *text = "; a private root\n"
                       ".  3600000 NS ns1.root.test.\n"
                       ".  3600000 NS ns2.root.test.\n"
                       ".  3600000 NS noaddr.root.test.\n"
                       "ns1.root.test. 3600000 A 127.0.53.1\n"
                       "ns2.root.test. 3600000 AAAA ::1\n"
                       "other.test. 3600000 A 10.0.0.1\n";
    struct dns_hints h = {0};
    struct str err = STR_INIT;
    assert_int_equal(dns_hints_parse(text, strlen(text), "t", &h, &err), 0);
    assert_int_equal(h.n, 2);
    assert_int_equal(h.servers[0].addr[0].ss_family, AF_INET);
    assert_int_equal(ntohs(((struct sockaddr_in *)&h.servers[0].addr[0])->sin_port), 53);
    dns_hints_clear(&h);
    assert_true(dns_hints_parse("x. 1 A 1.2.3.4\n", 15, "t", &h, &err) < 0);
    dns_hints_clear(&h);
    str_clear(&err);
    dns_hints_builtin(&h);
    assert_int_equal(h.n, 13);
    dns_hints_clear(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ttl_countdown), cmocka_unit_test(test_clamps),
        cmocka_unit_test(test_negative),      cmocka_unit_test(test_ranking),
        cmocka_unit_test(test_lru),           cmocka_unit_test(test_stale),
        cmocka_unit_test(test_poisoning),     cmocka_unit_test(test_referral_glue),
        cmocka_unit_test(test_cname_chain),   cmocka_unit_test(test_negative_kinds),
        cmocka_unit_test(test_hints),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
