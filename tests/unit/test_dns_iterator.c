/*
 * The resolver's iterator against a scripted upstream (tests/fakes/fake_upstream.c) and a
 * fake clock: referrals from the root down, the cache afterwards, CNAME chains across zones,
 * a lame server, timeouts, the textbook's cache-poisoning attempt, and the server's own
 * zones (never AA; a CNAME leaving them followed). No network: every reply comes from the
 * script through the event loop.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/str.h"
#include "dns/arena.h"
#include "dns/name.h"
#include "dns/resolver/resolver.h"
#include "dns/rr.h"
#include "dns/wire.h"
#include "dns/zone.h"
#include "dns/zoneset.h"
#include "fakes/fake_upstream.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#define ROOT "198.51.100.1"
#define TLD "198.51.100.2"
#define NS1 "198.51.100.3"
#define NS2 "198.51.100.4"
#define OTHER "198.51.100.5"
#define EVIL "198.51.100.66"

static const char HINTS[] = ". 3600000 NS a.root.test.\na.root.test. 3600000 A " ROOT "\n";

/* The root and the TLD refer everything down; corp.example. has two servers. */
#define ROOT_REFERRAL                                                                          \
    {ROOT, "*", 0, FAKE_REPLY, 0, false, NULL, "example. 172800 NS a.tld.test.",             \
     "a.tld.test. 172800 A " TLD, 0}
#define TLD_REFERRAL_CORP                                                                      \
    {TLD, "*", 0, FAKE_REPLY, 0, false, NULL,                                                  \
     "corp.example. 86400 NS ns1.corp.example.\ncorp.example. 86400 NS ns2.corp.example.",    \
     "ns1.corp.example. 86400 A " NS1 "\nns2.corp.example. 86400 A " NS2, 0}
#define CORP_SOA "corp.example. 300 SOA ns1.corp.example. h.corp.example. 1 3600 600 86400 300"

struct world {
    struct event_base *base;
    struct fake_clock clock;
    struct fake_upstream *up;
    struct dns_resolver_shared *sh;
    struct dns_resolver *r;
    struct dns_zoneset *zones;
};

struct result {
    bool done;
    size_t len;
    uint8_t buf[DNS_MSG_MAX];
};

static struct world *world_new(const struct fake_dns_entry *script, size_t n, bool qmin)
{
    struct world *w = calloc(1, sizeof *w);
    w->base = event_base_new();
    w->clock.ms = 5000000;
    w->up = fake_upstream_new(w->base, &w->clock, script, n);
    struct dns_resolver_config cfg;
    dns_resolver_config_defaults(&cfg);
    cfg.qname_minimisation = qmin;
    struct dns_cache_config cc = {1 << 20, 0, 86400, 3600, 0};
    struct dns_hints h = {0};
    struct str err = STR_INIT;
    assert_int_equal(dns_hints_parse(HINTS, strlen(HINTS), "hints", &h, &err), 0);
    str_clear(&err);
    w->sh = dns_resolver_shared_new(&cfg, &cc, &h);
    dns_resolver_shared_set_io(w->sh, fake_upstream_ops(w->up));
    w->r = dns_resolver_new(w->base, w->sh);
    return w;
}

static void world_free(struct world *w)
{
    dns_resolver_free(w->r);
    dns_resolver_shared_free(w->sh);
    fake_upstream_free(w->up);
    if (w->zones)
        dns_zoneset_unref(w->zones);
    event_base_free(w->base);
    free(w);
}

static void on_reply(void *arg, const uint8_t *resp, size_t len)
{
    struct result *res = arg;
    res->done = true;
    res->len = len;
    memcpy(res->buf, resp, len);
}

static size_t make_query(const char *name, uint16_t qtype, bool rd, uint8_t *out, size_t cap)
{
    uint8_t wire[DNS_NAME_MAXLEN];
    size_t wl;
    const char *why;
    assert_int_equal(dns_name_from_text(name, strlen(name), NULL, wire, &wl, &why), 0);
    struct dns_header h = {0};
    h.id = 0x1234;
    h.rd = rd;
    h.qdcount = 1;
    struct dns_builder b;
    dns_builder_init(&b, out, cap, cap, &h);
    dns_builder_question(&b, wire, qtype, DNS_CLASS_IN);
    return dns_builder_finish(&b);
}

/* Resolves (name, qtype) with RD=1 through the loop; the reply parsed into m (in a). */
static void resolve(struct world *w, const char *name, uint16_t qtype, struct dns_msg *m,
                    struct dns_arena *a)
{
    static struct result res;
    memset(&res, 0, sizeof res);
    uint8_t pkt[512];
    size_t n = make_query(name, qtype, true, pkt, sizeof pkt);
    dns_resolver_query_packet(w->r, pkt, n, on_reply, &res);
    for (int i = 0; i < 100000 && !res.done; i++)
        event_base_loop(w->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
    assert_true(res.done);
    assert_int_equal(dns_msg_parse(res.buf, res.len, m, a), 0);
    assert_true(m->hdr.qr && m->hdr.ra);
    assert_false(m->hdr.aa); /* a recursive answer never carries AA */
}

/* The A records of the answer section, as "a.b.c.d a.b.c.d ..." */
static const char *addrs(const struct dns_msg *m)
{
    static char out[256];
    out[0] = 0;
    for (uint16_t i = 0; i < m->count[0]; i++) {
        const struct dns_rr *rr = &m->rr[0][i];
        if (rr->type != DNS_TYPE_A || rr->rdlen != 4)
            continue;
        char t[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, rr->rdata, t, sizeof t);
        if (out[0])
            strcat(out, " ");
        strcat(out, t);
    }
    return out;
}

/* The types of the answer section, as "CNAME A". */
static const char *types(const struct dns_msg *m)
{
    static char out[256];
    out[0] = 0;
    for (uint16_t i = 0; i < m->count[0]; i++) {
        char t[16];
        if (out[0])
            strcat(out, " ");
        strcat(out, dns_type_name(m->rr[0][i].type, t));
    }
    return out;
}

#define ARENA(a)                                                                               \
    unsigned char a##_mem[8192];                                                               \
    struct dns_arena a;                                                                        \
    dns_arena_init(&a, a##_mem, sizeof a##_mem)

/* ---- referrals and the cache ---- */

static const struct fake_dns_entry walk[] = {
    ROOT_REFERRAL,
    TLD_REFERRAL_CORP,
    {NS1, "www.corp.example.", DNS_TYPE_A, FAKE_REPLY, 0, true, "www.corp.example. 300 A 192.0.2.80",
     NULL, NULL, 0},
    {NS2, "www.corp.example.", DNS_TYPE_A, FAKE_REPLY, 0, true, "www.corp.example. 300 A 192.0.2.80",
     NULL, NULL, 0},
    {NS1, "*", 0, FAKE_REPLY, DNS_RCODE_NXDOMAIN, true, NULL, CORP_SOA, NULL, 0},
    {NS2, "*", 0, FAKE_REPLY, DNS_RCODE_NXDOMAIN, true, NULL, CORP_SOA, NULL, 0},
};

static void test_referrals_root_tld_auth_then_cache(void **state)
{
    struct world *w = world_new(walk, sizeof walk / sizeof walk[0], false);
    ARENA(a);
    struct dns_msg m;
    resolve(w, "www.corp.example.", DNS_TYPE_A, &m, &a);
    assert_int_equal(m.rcode, DNS_RCODE_NOERROR);
    assert_string_equal(addrs(&m), "192.0.2.80");
    assert_int_equal(fake_upstream_count(w->up, ROOT, NULL, 0), 1);
    assert_int_equal(fake_upstream_count(w->up, TLD, NULL, 0), 1);
    assert_int_equal(fake_upstream_count(w->up, NS1, NULL, 0) + fake_upstream_count(w->up, NS2, NULL, 0), 1);
    assert_int_equal(fake_upstream_unscripted(w->up), 0);
    /* the same question again: from the cache, nothing sent */
    size_t before;
    fake_upstream_log(w->up, &before);
    dns_arena_reset(&a);
    resolve(w, "www.corp.example.", DNS_TYPE_A, &m, &a);
    assert_string_equal(addrs(&m), "192.0.2.80");
    size_t after;
    fake_upstream_log(w->up, &after);
    assert_int_equal(after, before);
    /* a sibling name goes straight to corp.example's servers: the cut is cached */
    dns_arena_reset(&a);
    resolve(w, "nothere.corp.example.", DNS_TYPE_A, &m, &a);
    assert_int_equal(m.rcode, DNS_RCODE_NXDOMAIN);
    assert_int_equal(m.count[1], 1); /* the SOA */
    assert_int_equal(fake_upstream_count(w->up, ROOT, NULL, 0), 1);
    assert_int_equal(fake_upstream_count(w->up, TLD, NULL, 0), 1);
    /* the TTL counts down on the fake clock, and the entry expires */
    fake_clock_advance(&w->clock, 100 * 1000);
    dns_arena_reset(&a);
    resolve(w, "www.corp.example.", DNS_TYPE_A, &m, &a);
    assert_true(m.rr[0][0].ttl == 200 || m.rr[0][0].ttl == 199); /* 10 ms went by */
    fake_clock_advance(&w->clock, 201 * 1000);
    dns_arena_reset(&a);
    resolve(w, "www.corp.example.", DNS_TYPE_A, &m, &a);
    assert_int_equal(fake_upstream_count(w->up, NS1, "www.corp.example.", DNS_TYPE_A) +
                         fake_upstream_count(w->up, NS2, "www.corp.example.", DNS_TYPE_A),
                     2); /* expired: asked again, of the cached cut's servers only */
    assert_int_equal(fake_upstream_count(w->up, ROOT, NULL, 0), 1);
    dns_arena_clear(&a);
    world_free(w);
}

static void test_qname_minimisation(void **state)
{
    struct world *w = world_new(walk, sizeof walk / sizeof walk[0], true);
    ARENA(a);
    struct dns_msg m;
    resolve(w, "www.corp.example.", DNS_TYPE_A, &m, &a);
    assert_string_equal(addrs(&m), "192.0.2.80");
    /* RFC 9156: the root saw "example.", the TLD "corp.example.", never the full name */
    assert_int_equal(fake_upstream_count(w->up, ROOT, "example.", DNS_TYPE_A), 1);
    assert_int_equal(fake_upstream_count(w->up, ROOT, "www.corp.example.", 0), 0);
    assert_int_equal(fake_upstream_count(w->up, TLD, "corp.example.", DNS_TYPE_A), 1);
    assert_int_equal(fake_upstream_count(w->up, TLD, "www.corp.example.", 0), 0);
    dns_arena_clear(&a);
    world_free(w);
}

/* ---- CNAME chains ---- */

static const struct fake_dns_entry cname[] = {
    {ROOT, "*", 0, FAKE_REPLY, 0, false, NULL,
     "example. 172800 NS a.tld.test.\nother. 172800 NS ns.other.",
     "a.tld.test. 172800 A " TLD "\nns.other. 172800 A " OTHER, 0},
    TLD_REFERRAL_CORP,
    {NS1, "www.corp.example.", DNS_TYPE_A, FAKE_REPLY, 0, true,
     "www.corp.example. 300 CNAME alias.corp.example.\n"
     "alias.corp.example. 300 CNAME web.other.",
     NULL, NULL, 0},
    {NS2, "www.corp.example.", DNS_TYPE_A, FAKE_REPLY, 0, true,
     "www.corp.example. 300 CNAME alias.corp.example.\n"
     "alias.corp.example. 300 CNAME web.other.",
     NULL, NULL, 0},
    {OTHER, "web.other.", DNS_TYPE_A, FAKE_REPLY, 0, true, "web.other. 300 A 192.0.2.90", NULL,
     NULL, 0},
};

static void test_cname_chain_across_zones(void **state)
{
    struct world *w = world_new(cname, sizeof cname / sizeof cname[0], false);
    ARENA(a);
    struct dns_msg m;
    resolve(w, "www.corp.example.", DNS_TYPE_A, &m, &a);
    assert_int_equal(m.rcode, DNS_RCODE_NOERROR);
    assert_string_equal(types(&m), "CNAME CNAME A");
    assert_string_equal(addrs(&m), "192.0.2.90");
    /* the target was asked of its own zone's server, which corp.example cannot speak for */
    assert_int_equal(fake_upstream_count(w->up, OTHER, "web.other.", DNS_TYPE_A), 1);
    /* the whole chain is cached */
    size_t before, after;
    fake_upstream_log(w->up, &before);
    dns_arena_reset(&a);
    resolve(w, "www.corp.example.", DNS_TYPE_A, &m, &a);
    assert_string_equal(types(&m), "CNAME CNAME A");
    fake_upstream_log(w->up, &after);
    assert_int_equal(after, before);
    dns_arena_clear(&a);
    world_free(w);
}

/* ---- lame servers and timeouts ---- */

static const struct fake_dns_entry lame[] = {
    ROOT_REFERRAL,
    TLD_REFERRAL_CORP,
    /* ns1 does not serve corp.example: it refers upward (RFC 1034 lame delegation) */
    {NS1, "*", 0, FAKE_REPLY, 0, false, NULL, "example. 86400 NS a.tld.test.", NULL, 0},
    {NS2, "*", 0, FAKE_REPLY, DNS_RCODE_NXDOMAIN, true, NULL, CORP_SOA, NULL, 0},
};

static void test_lame_server_skipped(void **state)
{
    struct world *w = world_new(lame, sizeof lame / sizeof lame[0], false);
    ARENA(a);
    struct dns_msg m;
    for (int i = 0; i < 12; i++) {
        char name[64];
        snprintf(name, sizeof name, "n%d.corp.example.", i);
        dns_arena_reset(&a);
        resolve(w, name, DNS_TYPE_A, &m, &a);
        assert_int_equal(m.rcode, DNS_RCODE_NXDOMAIN);
    }
    /* once found lame for corp.example, ns1 is not asked again (servers are otherwise
     * picked at random: a dozen questions would reach it about six times) */
    assert_true(fake_upstream_count(w->up, NS1, NULL, 0) <= 1);
    assert_int_equal(fake_upstream_count(w->up, NS2, NULL, 0), 12);
    dns_arena_clear(&a);
    world_free(w);
}

/* corp.example. with one server, which lets the first query time out */
static const struct fake_dns_entry slow[] = {
    ROOT_REFERRAL,
    {TLD, "*", 0, FAKE_REPLY, 0, false, NULL, "corp.example. 86400 NS ns1.corp.example.",
     "ns1.corp.example. 86400 A " NS1, 0},
    {NS1, "*", 0, FAKE_TIMEOUT, 0, false, NULL, NULL, NULL, 1},
    {NS1, "*", 0, FAKE_REPLY, 0, true, "www.corp.example. 300 A 192.0.2.80", NULL, NULL, 0},
};

static void test_timeout_retried(void **state)
{
    struct world *w = world_new(slow, sizeof slow / sizeof slow[0], false);
    ARENA(a);
    struct dns_msg m;
    uint64_t t0 = w->clock.ms;
    resolve(w, "www.corp.example.", DNS_TYPE_A, &m, &a);
    assert_string_equal(addrs(&m), "192.0.2.80");
    assert_int_equal(fake_upstream_count(w->up, NS1, NULL, 0), 2);
    assert_true(w->clock.ms - t0 >= 376); /* the timeout (an unknown server's RTO) ran out */
    struct dns_resolver_stats st;
    dns_resolver_stats(w->r, &st);
    assert_int_equal(st.upstream_timeouts, 1);
    assert_int_equal(st.upstream_queries, 4); /* root, TLD, ns1 twice */
    dns_arena_clear(&a);
    world_free(w);
}

static const struct fake_dns_entry dead[] = {
    ROOT_REFERRAL,
    TLD_REFERRAL_CORP,
    {NS1, "*", 0, FAKE_TIMEOUT, 0, false, NULL, NULL, NULL, 0},
    {NS2, "*", 0, FAKE_GARBAGE, 0, false, NULL, NULL, NULL, 0},
};

static void test_all_servers_fail_servfail(void **state)
{
    struct world *w = world_new(dead, sizeof dead / sizeof dead[0], false);
    ARENA(a);
    struct dns_msg m;
    resolve(w, "www.corp.example.", DNS_TYPE_A, &m, &a);
    assert_int_equal(m.rcode, DNS_RCODE_SERVFAIL);
    assert_int_equal(m.count[0], 0);
    /* each address gets at most its 2 tries, then the question gives up */
    assert_true(fake_upstream_count(w->up, NS1, NULL, 0) <= 2);
    assert_true(fake_upstream_count(w->up, NS2, NULL, 0) <= 2);
    assert_true(fake_upstream_count(w->up, NS1, NULL, 0) >= 1);
    assert_int_equal(fake_upstream_pending(w->up), 0);
    dns_arena_clear(&a);
    world_free(w);
}

/* ---- bailiwick: the textbook's poisoning attempt ---- */

static const struct fake_dns_entry poison[] = {
    {ROOT, "*", 0, FAKE_REPLY, 0, false, NULL,
     "example. 172800 NS a.tld.test.\nevil. 172800 NS ns.evil.", "a.tld.test. 172800 A " TLD
                                                                  "\nns.evil. 172800 A " EVIL, 0},
    TLD_REFERRAL_CORP,
    /* evil.'s server answers its own name, and slips in an NS for corp.example and addresses
     * for www.corp.example and its name server */
    {EVIL, "*", 0, FAKE_REPLY, 0, true, "www.evil. 300 A 192.0.2.66",
     "corp.example. 86400 NS ns.evil.\nevil. 86400 NS ns.evil.",
     "www.corp.example. 86400 A 6.6.6.6\nns1.corp.example. 86400 A 6.6.6.6\n"
     "ns.evil. 86400 A " EVIL, 0},
    {NS1, "www.corp.example.", DNS_TYPE_A, FAKE_REPLY, 0, true, "www.corp.example. 300 A 192.0.2.80",
     NULL, NULL, 0},
    {NS2, "www.corp.example.", DNS_TYPE_A, FAKE_REPLY, 0, true, "www.corp.example. 300 A 192.0.2.80",
     NULL, NULL, 0},
};

static void test_poisoning_attempt_refused(void **state)
{
    struct world *w = world_new(poison, sizeof poison / sizeof poison[0], false);
    ARENA(a);
    struct dns_msg m;
    resolve(w, "www.evil.", DNS_TYPE_A, &m, &a);
    assert_string_equal(addrs(&m), "192.0.2.66");
    assert_int_equal(fake_upstream_count(w->up, EVIL, NULL, 0), 1);
    /* nothing about corp.example was believed: RD=0 finds no cached address */
    uint8_t pkt[512], out[4096];
    size_t n = make_query("www.corp.example.", DNS_TYPE_A, false, pkt, sizeof pkt);
    dns_arena_reset(&a);
    struct dns_msg q;
    assert_int_equal(dns_msg_parse(pkt, n, &q, &a), 0);
    struct dns_resolver_qopts o = {false, true};
    size_t len = dns_resolver_answer_now(w->r, &q, &o, out, sizeof out);
    assert_true(len > 0);
    assert_int_equal(dns_msg_parse(out, len, &m, &a), 0);
    assert_string_equal(addrs(&m), "");
    /* and the real walk reaches the real server (not the forger) for the true address */
    dns_arena_reset(&a);
    resolve(w, "www.corp.example.", DNS_TYPE_A, &m, &a);
    assert_string_equal(addrs(&m), "192.0.2.80");
    assert_int_equal(fake_upstream_count(w->up, EVIL, NULL, 0), 1);
    assert_int_equal(fake_upstream_count(w->up, TLD, "www.corp.example.", 0), 1);
    assert_int_equal(fake_upstream_count(w->up, "6.6.6.6", NULL, 0), 0);
    dns_arena_clear(&a);
    world_free(w);
}

/* ---- the server's own zones ---- */

static const char LOCAL_ZONE[] = "$ORIGIN local.test.\n$TTL 300\n"
                                 "@ SOA ns h 1 3600 600 86400 300\n@ NS ns\nns A 192.0.2.1\n"
                                 "mail A 192.0.2.25\nout CNAME www.corp.example.\n";

static void set_local_zone(struct world *w)
{
    uint8_t origin[DNS_NAME_MAXLEN];
    size_t ol;
    const char *why;
    assert_int_equal(dns_name_from_text("local.test.", 11, NULL, origin, &ol, &why), 0);
    struct dns_zone *z = NULL;
    struct str err = STR_INIT;
    assert_int_equal(
        dns_zone_from_text(LOCAL_ZONE, strlen(LOCAL_ZONE), "local", origin, 0, &z, &err), 0);
    str_clear(&err);
    w->zones = dns_zoneset_new();
    dns_zoneset_add(w->zones, z);
    dns_zone_unref(z);
    dns_resolver_set_zones(w->r, w->zones);
}

static void test_own_zone_answer_and_cname_out(void **state)
{
    struct world *w = world_new(walk, sizeof walk / sizeof walk[0], false);
    set_local_zone(w);
    ARENA(a);
    struct dns_msg m;
    resolve(w, "mail.local.test.", DNS_TYPE_A, &m, &a); /* asserts RA and no AA */
    assert_string_equal(addrs(&m), "192.0.2.25");
    size_t sent;
    fake_upstream_log(w->up, &sent);
    assert_int_equal(sent, 0);
    dns_arena_reset(&a);
    resolve(w, "nothere.local.test.", DNS_TYPE_A, &m, &a);
    assert_int_equal(m.rcode, DNS_RCODE_NXDOMAIN);
    /* RFC 1034 §4.3.2 step 3a: the CNAME leaves our zone, the look-up restarts at its target */
    dns_arena_reset(&a);
    resolve(w, "out.local.test.", DNS_TYPE_A, &m, &a);
    assert_int_equal(m.rcode, DNS_RCODE_NOERROR);
    assert_string_equal(types(&m), "CNAME A");
    assert_string_equal(addrs(&m), "192.0.2.80");
    assert_int_equal(fake_upstream_count(w->up, NS1, "www.corp.example.", DNS_TYPE_A) +
                         fake_upstream_count(w->up, NS2, "www.corp.example.", DNS_TYPE_A),
                     1);
    dns_arena_clear(&a);
    world_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_referrals_root_tld_auth_then_cache),
        cmocka_unit_test(test_qname_minimisation),
        cmocka_unit_test(test_cname_chain_across_zones),
        cmocka_unit_test(test_lame_server_skipped),
        cmocka_unit_test(test_timeout_retried),
        cmocka_unit_test(test_all_servers_fail_servfail),
        cmocka_unit_test(test_poisoning_attempt_refused),
        cmocka_unit_test(test_own_zone_answer_and_cname_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
