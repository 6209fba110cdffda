/*
 * Unit tests for dns/auth/answer: each case of RFC 1034 §4.3.2 over several zones, wildcards,
 * referrals with glue, negative answers and their SOA TTL, error rcodes, EDNS, truncation.
 * Queries are built with the wire builder and the replies parsed back.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/err.h"
#include "core/str.h"
#include "dns/auth/answer.h"
#include "dns/name.h"
#include "dns/rr.h"
#include "dns/wire.h"
#include "dns/zone.h"
#include "dns/zonefile.h"
#include "dns/zoneset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char example_zone[] =
    "$TTL 3600\n"
    "@        IN SOA ns1 hostmaster 2024 7200 900 1209600 300\n"
    "         IN NS ns1\n"
    "         IN NS ns2.example.net.\n"
    "         IN MX 10 mail\n"
    "ns1      IN A 192.0.2.1\n"
    "mail     IN A 192.0.2.25\n"
    "mail     IN AAAA 2001:db8::25\n"
    "www      IN A 192.0.2.80\n"
    "_imap._tcp IN SRV 0 1 143 mail\n"
    "a        IN CNAME b\n"
    "b        IN CNAME c\n"
    "c        IN A 192.0.2.3\n"
    "ext      IN CNAME www.example.net.\n"
    "loop1    IN CNAME loop2\n"
    "loop2    IN CNAME loop1\n"
    "dangling IN CNAME nothere\n"
    "tochild  IN CNAME www.child\n"
    "*.wild   IN TXT \"wild\"\n"
    "a.b.wild IN TXT \"blocks b.wild\"\n"
    "*.wc     IN CNAME www\n"
    "sub      IN NS ns.sub\n"
    "sub      IN NS ns1\n"
    "ns.sub   IN A 192.0.2.53\n"
    "ns.sub   IN AAAA 2001:db8::53\n"
    "child    IN NS ns1\n"
    "child    IN DS 1 8 1 0123456789012345678901234567890123456789\n"
    "manymx   IN MX 1 m1\n  IN MX 2 m2\n  IN MX 3 m3\n  IN MX 4 m4\n  IN MX 5 m5\n"
    "  IN MX 6 m6\n  IN MX 7 m7\n  IN MX 8 m8\n"
    "big      IN NS ns1.big\n  IN NS ns2.big\n  IN NS ns3.big\n  IN NS ns4.big\n"
    "  IN NS ns5.big\n  IN NS ns6.big\n  IN NS ns7.big\n  IN NS ns8.big\n";

static const char child_zone[] = "$TTL 60\n"
                                 "@ IN SOA ns1.example.com. h 1 2 3 4 3600\n"
                                 "  IN NS ns1.example.com.\n"
                                 "www IN A 192.0.2.99\n";

static struct dns_zoneset *zs;

static struct dns_zone *zone_from(const char *origin, const char *text)
{
    uint8_t o[DNS_NAME_MAXLEN];
    size_t ol;
    assert_int_equal(dns_name_from_text(origin, strlen(origin), NULL, o, &ol, NULL), 0);
    struct dns_zone *z = NULL;
    struct str err = STR_INIT;
    if (dns_zone_from_text(text, strlen(text), origin, o, 0, &z, &err) != 0)
        fail_msg("%s", str_cstr(&err));
    str_clear(&err);
    return z;
}

static int setup(void **state)
{
    struct str text = STR_INIT;
    str_appends(&text, example_zone);
    for (int i = 1; i <= 8; i++) {
        str_appendf(&text, "m%d IN A 192.0.2.%d\nm%d IN AAAA 2001:db8::%d\n", i, 100 + i, i, i);
        str_appendf(&text, "ns%d.big IN A 198.51.100.%d\nns%d.big IN AAAA 2001:db8:b::%d\n", i, i,
                    i, i);
    }
    for (int i = 0; i < 60; i++)
        str_appendf(&text, "large IN TXT \"%040d\"\n", i);
    zs = dns_zoneset_new();
    struct dns_zone *z = zone_from("example.com.", str_cstr(&text));
    dns_zoneset_add(zs, z);
    dns_zone_unref(z);
    z = zone_from("child.example.com.", child_zone);
    dns_zoneset_add(zs, z);
    dns_zone_unref(z);
    str_clear(&text);
    return 0;
}

static int teardown(void **state)
{
    dns_zoneset_unref(zs);
    return 0;
}

/* ---- query helpers ---- */

struct q {
    const char *name;
    uint16_t type, qclass;
    uint8_t opcode;
    bool edns, do_bit, tcp, rd;
    uint16_t udp;
    uint8_t version;
    uint16_t udp_max;
};

struct reply {
    uint8_t buf[65536];
    size_t len;
    struct dns_msg m;
    struct dns_arena arena;
    struct dns_answer_info info;
    size_t heap_chunks; /* of the query arena */
};

static unsigned char qarena_mem[4096];

static size_t query_build(const struct q *q, uint8_t *out, size_t cap)
{
    uint8_t qname[DNS_NAME_MAXLEN];
    size_t ql;
    assert_int_equal(dns_name_from_text(q->name, strlen(q->name), NULL, qname, &ql, NULL), 0);
    struct dns_header h = {.id = 0xbeef, .opcode = q->opcode, .rd = q->rd};
    struct dns_builder b;
    dns_builder_init(&b, out, cap, cap, &h);
    dns_builder_question(&b, qname, q->type ? q->type : DNS_TYPE_A,
                         q->qclass ? q->qclass : DNS_CLASS_IN);
    if (q->edns)
        dns_builder_opt(&b, q->udp ? q->udp : 1232, 0, q->version, q->do_bit);
    return dns_builder_finish(&b);
}

static void ask_raw(const uint8_t *pkt, size_t len, const struct q *q, struct reply *r)
{
    struct dns_arena qa;
    dns_arena_init(&qa, qarena_mem, sizeof qarena_mem);
    struct dns_answer_opts opts = {.tcp = q && q->tcp, .udp_max = q ? q->udp_max : 0};
    r->len = dns_answer_packet(zs, pkt, len, &opts, &qa, r->buf, sizeof r->buf, &r->info);
    r->heap_chunks = dns_arena_heap_chunks(&qa);
    dns_arena_clear(&qa);
    dns_arena_init(&r->arena, NULL, 0);
    if (r->len)
        assert_int_equal(dns_msg_parse(r->buf, r->len, &r->m, &r->arena), 0);
}

static struct reply *ask(const struct q *q)
{
    struct reply *r = calloc(1, sizeof *r);
    uint8_t pkt[512];
    size_t len = query_build(q, pkt, sizeof pkt);
    ask_raw(pkt, len, q, r);
    assert_true(r->len > 0);
    assert_true(r->m.hdr.qr);
    assert_int_equal(r->m.hdr.id, 0xbeef);
    assert_int_equal(r->m.hdr.rd, q->rd);
    assert_false(r->m.hdr.ra);
    if (!q->tcp)
        assert_true(r->len <= (q->edns ? (q->udp_max ? q->udp_max : 1232u) : 512u));
    return r;
}

static void done(struct reply *r)
{
    dns_arena_clear(&r->arena);
    free(r);
}

static const struct dns_rr *rr_at(const struct reply *r, int sec, unsigned i)
{
    assert_true(i < r->m.count[sec - 1]);
    return &r->m.rr[sec - 1][i];
}

static bool name_is(const uint8_t *name, const char *text)
{
    uint8_t b[DNS_NAME_MAXLEN];
    size_t l;
    assert_int_equal(dns_name_from_text(text, strlen(text), NULL, b, &l, NULL), 0);
    return dns_name_eq(name, b);
}

static void counts(const struct reply *r, unsigned an, unsigned ns, unsigned ar)
{
    if (r->m.count[0] != an || r->m.count[1] != ns || r->m.count[2] != ar)
        fail_msg("sections %u/%u/%u, expected %u/%u/%u", r->m.count[0], r->m.count[1],
                 r->m.count[2], an, ns, ar);
}

/* ---- positive answers ---- */

static void test_exact_match_0x20(void **state)
{
    struct reply *r = ask(&(struct q){.name = "WwW.ExAmPlE.cOm.", .rd = true});
    assert_int_equal(r->m.rcode, DNS_RCODE_NOERROR);
    assert_true(r->m.hdr.aa);
    counts(r, 1, 0, 0); /* minimal: no NS in authority */
    assert_memory_equal(r->m.qd[0].qname, "\3WwW\7ExAmPlE\3cOm\0", 17);
    assert_memory_equal(rr_at(r, 1, 0)->owner, "\3WwW\7ExAmPlE\3cOm\0", 17);
    assert_memory_equal(rr_at(r, 1, 0)->rdata, "\300\0\2\120", 4);
    assert_int_equal(rr_at(r, 1, 0)->ttl, 3600);
    assert_int_equal(r->info.kind, DNS_ANSWER_POSITIVE);
    assert_false(r->m.edns.present);
    assert_int_equal(r->heap_chunks, 0); /* the query fit the caller's block */
    done(r);
}

static void test_additional_for_targets(void **state)
{
    struct reply *r = ask(&(struct q){.name = "example.com.", .type = DNS_TYPE_MX});
    counts(r, 1, 0, 2);
    assert_true(name_is(rr_at(r, 3, 0)->owner, "mail.example.com."));
    assert_int_equal(rr_at(r, 3, 0)->type, DNS_TYPE_A);
    assert_int_equal(rr_at(r, 3, 1)->type, DNS_TYPE_AAAA);
    done(r);
    r = ask(&(struct q){.name = "_imap._tcp.example.com.", .type = DNS_TYPE_SRV});
    counts(r, 1, 0, 2);
    done(r);
    /* NS: ns1 is ours, ns2.example.net. is not */
    r = ask(&(struct q){.name = "example.com.", .type = DNS_TYPE_NS});
    counts(r, 2, 0, 1);
    assert_true(r->m.hdr.aa);
    assert_true(name_is(rr_at(r, 3, 0)->owner, "ns1.example.com."));
    done(r);
    /* more targets than fit in 512 bytes: dropped quietly, TC stays clear */
    r = ask(&(struct q){.name = "manymx.example.com.", .type = DNS_TYPE_MX});
    assert_int_equal(r->m.count[0], 8);
    assert_true(r->m.count[2] > 0 && r->m.count[2] < 16);
    assert_false(r->m.hdr.tc);
    done(r);
    r = ask(&(struct q){.name = "manymx.example.com.", .type = DNS_TYPE_MX, .tcp = true});
    counts(r, 8, 0, 16);
    done(r);
}

static void test_cname(void **state)
{
    struct reply *r = ask(&(struct q){.name = "a.example.com."});
    counts(r, 3, 0, 0);
    assert_int_equal(rr_at(r, 1, 0)->type, DNS_TYPE_CNAME);
    assert_int_equal(rr_at(r, 1, 1)->type, DNS_TYPE_CNAME);
    assert_int_equal(rr_at(r, 1, 2)->type, DNS_TYPE_A);
    assert_true(name_is(rr_at(r, 1, 2)->owner, "c.example.com."));
    assert_true(r->m.hdr.aa);
    done(r);
    r = ask(&(struct q){.name = "a.example.com.", .type = DNS_TYPE_CNAME});
    counts(r, 1, 0, 0); /* asking for the CNAME itself does not follow it */
    done(r);
    r = ask(&(struct q){.name = "ext.example.com."});
    counts(r, 1, 0, 0); /* the target is not ours: the chain ends */
    assert_int_equal(r->m.rcode, DNS_RCODE_NOERROR);
    done(r);
    r = ask(&(struct q){.name = "loop1.example.com."});
    counts(r, 2, 0, 0);
    assert_int_equal(r->m.rcode, DNS_RCODE_NOERROR);
    done(r);
    /* RFC 6604: the rcode is the last link's */
    r = ask(&(struct q){.name = "dangling.example.com."});
    assert_int_equal(r->m.rcode, DNS_RCODE_NXDOMAIN);
    counts(r, 1, 1, 0);
    assert_int_equal(rr_at(r, 2, 0)->type, DNS_TYPE_SOA);
    done(r);
    /* into another zone of ours */
    r = ask(&(struct q){.name = "tochild.example.com."});
    counts(r, 2, 0, 0);
    assert_true(name_is(rr_at(r, 1, 1)->owner, "www.child.example.com."));
    assert_int_equal(rr_at(r, 1, 1)->ttl, 60);
    done(r);
}

static void test_wildcards(void **state)
{
    struct reply *r = ask(&(struct q){.name = "Foo.wild.example.com.", .type = DNS_TYPE_TXT});
    counts(r, 1, 0, 0);
    assert_memory_equal(rr_at(r, 1, 0)->owner, "\3Foo\4wild\7example\3com\0", 22);
    assert_true(r->m.hdr.aa);
    done(r);
    /* a wildcard matches several labels */
    r = ask(&(struct q){.name = "x.y.wild.example.com.", .type = DNS_TYPE_TXT});
    counts(r, 1, 0, 0);
    done(r);
    /* NODATA from a wildcard */
    r = ask(&(struct q){.name = "foo.wild.example.com.", .type = DNS_TYPE_AAAA});
    counts(r, 0, 1, 0);
    assert_int_equal(r->m.rcode, DNS_RCODE_NOERROR);
    assert_int_equal(r->info.kind, DNS_ANSWER_NODATA);
    done(r);
    /* RFC 4592 §2.2.2: b.wild exists (empty non-terminal), so no synthesis below it... */
    r = ask(&(struct q){.name = "q.b.wild.example.com.", .type = DNS_TYPE_TXT});
    assert_int_equal(r->m.rcode, DNS_RCODE_NXDOMAIN);
    done(r);
    /* ...and b.wild itself is NODATA, not the wildcard */
    r = ask(&(struct q){.name = "b.wild.example.com.", .type = DNS_TYPE_TXT});
    assert_int_equal(r->m.rcode, DNS_RCODE_NOERROR);
    counts(r, 0, 1, 0);
    done(r);
    /* a wildcard CNAME is followed */
    r = ask(&(struct q){.name = "any.wc.example.com."});
    counts(r, 2, 0, 0);
    assert_true(name_is(rr_at(r, 1, 0)->owner, "any.wc.example.com."));
    assert_int_equal(rr_at(r, 1, 1)->type, DNS_TYPE_A);
    done(r);
}

/* ---- referrals ---- */

static void test_referral_with_glue(void **state)
{
    struct reply *r = ask(&(struct q){.name = "host.deep.sub.example.com.", .rd = true});
    assert_false(r->m.hdr.aa);
    assert_int_equal(r->m.rcode, DNS_RCODE_NOERROR);
    counts(r, 0, 2, 3);
    assert_int_equal(rr_at(r, 2, 0)->type, DNS_TYPE_NS);
    assert_true(name_is(rr_at(r, 2, 0)->owner, "sub.example.com."));
    assert_true(name_is(rr_at(r, 3, 0)->owner, "ns.sub.example.com."));
    assert_int_equal(rr_at(r, 3, 0)->type, DNS_TYPE_A);
    assert_int_equal(rr_at(r, 3, 1)->type, DNS_TYPE_AAAA);
    assert_true(name_is(rr_at(r, 3, 2)->owner, "ns1.example.com."));
    assert_int_equal(r->info.kind, DNS_ANSWER_REFERRAL);
    done(r);
    /* the cut itself, even for NS */
    r = ask(&(struct q){.name = "sub.example.com.", .type = DNS_TYPE_NS});
    assert_false(r->m.hdr.aa);
    counts(r, 0, 2, 3);
    done(r);
    /* glue is not authoritative data */
    r = ask(&(struct q){.name = "ns.sub.example.com."});
    assert_false(r->m.hdr.aa);
    counts(r, 0, 2, 3);
    done(r);
    /* DS at the cut is the parent's (RFC 4035 §3.1.4.1): NODATA, authoritative */
    r = ask(&(struct q){.name = "sub.example.com.", .type = DNS_TYPE_DS});
    assert_true(r->m.hdr.aa);
    counts(r, 0, 1, 0);
    done(r);
    /* in-domain glue that does not fit truncates (RFC 9471) */
    r = ask(&(struct q){.name = "www.big.example.com."});
    assert_int_equal(r->m.count[1], 8);
    assert_true(r->m.hdr.tc);
    assert_true(r->m.count[2] < 16);
    done(r);
    r = ask(&(struct q){.name = "www.big.example.com.", .tcp = true});
    counts(r, 0, 8, 16);
    assert_false(r->m.hdr.tc);
    done(r);
}

static void test_closest_enclosing_zone(void **state)
{
    /* example.com delegates child, but we serve child too: the child answers */
    struct reply *r = ask(&(struct q){.name = "www.child.example.com."});
    assert_true(r->m.hdr.aa);
    counts(r, 1, 0, 0);
    assert_int_equal(rr_at(r, 1, 0)->ttl, 60);
    done(r);
    /* DS at the child's apex comes from the parent zone */
    r = ask(&(struct q){.name = "child.example.com.", .type = DNS_TYPE_DS});
    assert_true(r->m.hdr.aa);
    counts(r, 1, 0, 0);
    assert_int_equal(rr_at(r, 1, 0)->type, DNS_TYPE_DS);
    done(r);
    r = ask(&(struct q){.name = "child.example.com.", .type = DNS_TYPE_SOA});
    counts(r, 1, 0, 0);
    assert_true(name_is(rr_at(r, 1, 0)->rdata, "ns1.example.com."));
    done(r);
}

/* ---- negative answers ---- */

static void test_nxdomain_nodata_soa_ttl(void **state)
{
    struct reply *r = ask(&(struct q){.name = "nope.example.com."});
    assert_int_equal(r->m.rcode, DNS_RCODE_NXDOMAIN);
    assert_true(r->m.hdr.aa);
    counts(r, 0, 1, 0);
    const struct dns_rr *soa = rr_at(r, 2, 0);
    assert_int_equal(soa->type, DNS_TYPE_SOA);
    assert_true(name_is(soa->owner, "example.com."));
    assert_int_equal(soa->ttl, 300); /* min(3600, minimum 300) */
    assert_int_equal(r->info.kind, DNS_ANSWER_NXDOMAIN);
    done(r);
    r = ask(&(struct q){.name = "www.example.com.", .type = DNS_TYPE_AAAA});
    assert_int_equal(r->m.rcode, DNS_RCODE_NOERROR);
    counts(r, 0, 1, 0);
    assert_int_equal(rr_at(r, 2, 0)->ttl, 300);
    done(r);
    /* the child's SOA TTL (60) is below its minimum (3600) */
    r = ask(&(struct q){.name = "nope.child.example.com."});
    assert_int_equal(r->m.rcode, DNS_RCODE_NXDOMAIN);
    assert_int_equal(rr_at(r, 2, 0)->ttl, 60);
    done(r);
}

/* ---- errors ---- */

static void test_refused_notimp(void **state)
{
    struct reply *r = ask(&(struct q){.name = "www.example.org."});
    assert_int_equal(r->m.rcode, DNS_RCODE_REFUSED);
    assert_false(r->m.hdr.aa);
    counts(r, 0, 0, 0);
    assert_int_equal(r->m.hdr.qdcount, 1);
    done(r);
    r = ask(&(struct q){.name = "version.bind.", .type = DNS_TYPE_TXT, .qclass = DNS_CLASS_CH});
    assert_int_equal(r->m.rcode, DNS_RCODE_REFUSED);
    done(r);
    r = ask(&(struct q){.name = "www.example.com.", .opcode = DNS_OPCODE_STATUS});
    assert_int_equal(r->m.rcode, DNS_RCODE_NOTIMP);
    assert_int_equal(r->m.hdr.opcode, DNS_OPCODE_STATUS);
    done(r);
    r = ask(&(struct q){.name = "example.com.", .type = DNS_TYPE_AXFR});
    assert_int_equal(r->m.rcode, DNS_RCODE_REFUSED);
    done(r);
    r = ask(&(struct q){.name = "example.com.", .type = DNS_TYPE_OPT});
    assert_int_equal(r->m.rcode, DNS_RCODE_FORMERR);
    done(r);
}

static void test_formerr_and_drop(void **state)
{
    struct reply *r = calloc(1, sizeof *r);
    uint8_t pkt[64] = {0xbe, 0xef, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0};
    ask_raw(pkt, 12, NULL, r); /* QDCOUNT 0 */
    assert_int_equal(r->m.rcode, DNS_RCODE_FORMERR);
    assert_int_equal(r->m.hdr.qdcount, 0);
    assert_true(r->m.hdr.rd);
    dns_arena_clear(&r->arena);
    /* two questions */
    uint8_t two[] = {0xbe, 0xef, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0, 1};
    ask_raw(two, sizeof two, NULL, r);
    assert_int_equal(r->m.rcode, DNS_RCODE_FORMERR);
    dns_arena_clear(&r->arena);
    /* malformed: a compression loop in the question */
    uint8_t loop[] = {0xbe, 0xef, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1};
    ask_raw(loop, sizeof loop, NULL, r);
    assert_int_equal(r->m.rcode, DNS_RCODE_FORMERR);
    assert_int_equal(r->m.hdr.qdcount, 0);
    assert_int_equal(r->m.hdr.id, 0xbeef);
    dns_arena_clear(&r->arena);
    /* shorter than a header, or a response: silence */
    ask_raw(pkt, 11, NULL, r);
    assert_int_equal(r->len, 0);
    pkt[2] = 0x80;
    ask_raw(pkt, 12, NULL, r);
    assert_int_equal(r->len, 0);
    free(r);
}

/* ---- EDNS ---- */

static void test_edns(void **state)
{
    struct reply *r =
        ask(&(struct q){.name = "www.example.com.", .edns = true, .do_bit = true, .udp = 4096});
    assert_true(r->m.edns.present);
    assert_true(r->m.edns.do_bit); /* RFC 3225 §3 */
    assert_int_equal(r->m.edns.udp_size, 1232);
    assert_int_equal(r->m.edns.version, 0);
    counts(r, 1, 0, 0);
    done(r);
    r = ask(&(struct q){.name = "www.example.com.", .edns = true, .version = 1});
    assert_int_equal(r->m.rcode, DNS_RCODE_BADVERS);
    assert_int_equal(r->m.hdr.rcode, 0);
    assert_int_equal(r->m.edns.ext_rcode, 1);
    assert_int_equal(r->m.edns.version, 0);
    counts(r, 0, 0, 0);
    done(r);
}

static void test_truncation(void **state)
{
    /* 60 TXT records (~3.2 KB): too big for 512 and for 1232 */
    struct reply *r = ask(&(struct q){.name = "large.example.com.", .type = DNS_TYPE_TXT});
    assert_true(r->m.hdr.tc);
    assert_true(r->m.hdr.aa);
    counts(r, 0, 0, 0);
    assert_int_equal(r->m.hdr.qdcount, 1);
    assert_true(r->info.tc);
    done(r);
    r = ask(
        &(struct q){.name = "large.example.com.", .type = DNS_TYPE_TXT, .edns = true, .udp = 4096});
    assert_true(r->m.hdr.tc);
    counts(r, 0, 0, 0);
    assert_true(r->m.edns.present); /* the OPT survives truncation */
    done(r);
    /* our limit raised: the client's 4096 is honoured */
    r = ask(&(struct q){.name = "large.example.com.",
                        .type = DNS_TYPE_TXT,
                        .edns = true,
                        .udp = 4096,
                        .udp_max = 4096});
    assert_false(r->m.hdr.tc);
    counts(r, 60, 0, 0);
    done(r);
    /* a client size below 512 counts as 512 */
    r = ask(&(struct q){.name = "www.example.com.", .edns = true, .udp = 100});
    counts(r, 1, 0, 0);
    done(r);
    r = ask(&(struct q){.name = "large.example.com.", .type = DNS_TYPE_TXT, .tcp = true});
    assert_false(r->m.hdr.tc);
    counts(r, 60, 0, 0);
    done(r);
}

static void test_any(void **state)
{
    struct reply *r = ask(&(struct q){.name = "example.com.", .type = DNS_TYPE_ANY});
    assert_true(r->m.count[0] >= 1);
    for (unsigned i = 1; i < r->m.count[0]; i++)
        assert_int_equal(rr_at(r, 1, i)->type, rr_at(r, 1, 0)->type); /* one RRset */
    done(r);
    r = ask(&(struct q){.name = "example.com.", .type = DNS_TYPE_ANY, .tcp = true});
    assert_int_equal(r->m.count[0], 4); /* SOA, 2 NS, MX */
    done(r);
}

static void test_error_api(void **state)
{
    uint8_t pkt[512], out[512];
    size_t len = query_build(&(struct q){.name = "example.com.",
                                         .type = DNS_TYPE_SOA,
                                         .opcode = DNS_OPCODE_NOTIFY,
                                         .edns = true},
                             pkt, sizeof pkt);
    struct dns_arena a;
    dns_arena_init(&a, NULL, 0);
    struct dns_msg q;
    assert_int_equal(dns_msg_parse(pkt, len, &q, &a), 0);
    size_t n = dns_answer_error(&q, DNS_RCODE_NOTAUTH, NULL, out, sizeof out);
    struct dns_msg m;
    assert_int_equal(dns_msg_parse(out, n, &m, &a), 0);
    assert_int_equal(m.rcode, DNS_RCODE_NOTAUTH);
    assert_int_equal(m.hdr.opcode, DNS_OPCODE_NOTIFY);
    assert_int_equal(m.hdr.qdcount, 1);
    assert_true(m.edns.present);
    n = dns_answer_error(&q, DNS_RCODE_BADKEY, NULL, out, sizeof out);
    assert_int_equal(dns_msg_parse(out, n, &m, &a), 0);
    assert_int_equal(m.rcode, DNS_RCODE_BADKEY);
    assert_int_equal(dns_answer_limit(&q, NULL), 1232);
    dns_arena_clear(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_match_0x20),
        cmocka_unit_test(test_additional_for_targets),
        cmocka_unit_test(test_cname),
        cmocka_unit_test(test_wildcards),
        cmocka_unit_test(test_referral_with_glue),
        cmocka_unit_test(test_closest_enclosing_zone),
        cmocka_unit_test(test_nxdomain_nodata_soa_ttl),
        cmocka_unit_test(test_refused_notimp),
        cmocka_unit_test(test_formerr_and_drop),
        cmocka_unit_test(test_edns),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_any),
        cmocka_unit_test(test_error_api),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
