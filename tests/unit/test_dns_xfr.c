/*
 * Unit tests for src/dns/xfr: TSIG sign/verify (single messages, error cases, streams), ACLs,
 * response rate limiting, zone differences and the journal encoding, AXFR/IXFR out -> in round
 * trips, and RFC 2136 UPDATE (prerequisites, adds, deletes, apex rules, serial bump).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/err.h"
#include "core/str.h"
#include "dns/name.h"
#include "dns/rr.h"
#include "dns/wire.h"
#include "dns/xfr/acl.h"
#include "dns/xfr/journal.h"
#include "dns/server/rrl.h"
#include "dns/xfr/rrvec.h"
#include "dns/xfr/tsig.h"
#include "dns/xfr/update.h"
#include "dns/xfr/xfr.h"
#include "dns/zone.h"
#include "dns/zonefile.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ---- */

static const char zone_text[] =
    "$ORIGIN example.com.\n$TTL 300\n"
    "@ IN SOA ns1 host 100 3600 600 86400 60\n"
    "@ NS ns1\n@ NS ns2\n@ MX 10 mail\n"
    "ns1 A 192.0.2.1\nns2 A 192.0.2.2\nmail A 192.0.2.3\nwww A 192.0.2.4\nwww A 192.0.2.5\n"
    "alias CNAME www\ntxt TXT \"hello\"\n";

static void name_of(const char *text, uint8_t *out)
{
    size_t n;
    const char *why;
    assert_int_equal(dns_name_from_text(text, strlen(text), NULL, out, &n, &why), 0);
}

static struct dns_zone *zone_from(const char *text)
{
    uint8_t origin[DNS_NAME_MAXLEN];
    name_of("example.com.", origin);
    struct dns_zone *z = NULL;
    struct str err = STR_INIT;
    int rc = dns_zone_from_text(text, strlen(text), "test", origin, DNS_ZF_NO_INCLUDE, &z, &err);
    if (rc != 0)
        fprintf(stderr, "zone: %s\n", str_cstr(&err));
    str_clear(&err);
    assert_int_equal(rc, 0);
    return z;
}

/* True when a and b hold exactly the same records with the same TTLs. */
static bool zones_equal(const struct dns_zone *a, const struct dns_zone *b)
{
    struct dns_rrvec va, vb;
    dns_rrvec_init(&va);
    dns_rrvec_init(&vb);
    dns_rrvec_from_zone(&va, a);
    dns_rrvec_from_zone(&vb, b);
    bool eq = va.n == vb.n;
    for (size_t i = 0; eq && i < va.n; i++)
        eq = dns_xrr_cmp(&va.v[i], &vb.v[i]) == 0 && va.v[i].ttl == vb.v[i].ttl;
    dns_rrvec_clear(&va);
    dns_rrvec_clear(&vb);
    return eq;
}

static bool has_record(const struct dns_zone *z, const char *owner, uint16_t type)
{
    uint8_t n[DNS_NAME_MAXLEN];
    name_of(owner, n);
    const struct dns_node *node = dns_zone_find(z, n, NULL);
    return node && dns_node_rrset(node, type);
}

static struct dns_tsig_key test_key(const char *name)
{
    struct dns_tsig_key k;
    const char *why;
    assert_int_equal(
        dns_tsig_key_init(&k, name, "hmac-sha256", (const uint8_t *)"0123456789abcdef", 16, &why),
        0);
    return k;
}

/* ---- TSIG ---- */

static void test_tsig_request(void **state)
{
    struct dns_tsig_key k = test_key("k1"), other = test_key("k2");
    uint8_t qn[DNS_NAME_MAXLEN], msg[1024];
    name_of("example.com.", qn);
    size_t len = dns_xfr_build(msg, sizeof msg, 7, DNS_OPCODE_QUERY, qn, DNS_TYPE_AXFR, NULL, 0, 0);
    struct dns_tsig_sign_args a = {.key = &k, .time = 1000000};
    uint8_t mac[DNS_TSIG_MAC_MAX];
    size_t maclen;
    assert_int_equal(dns_tsig_sign(msg, &len, sizeof msg, &a, mac, &maclen), 0);
    assert_int_equal(maclen, 32);

    struct dns_arena ar;
    dns_arena_init(&ar, NULL, 0);
    struct dns_msg m;
    assert_int_equal(dns_msg_parse(msg, len, &m, &ar), 0);
    assert_non_null(m.tsig);
    struct dns_tsig_result res;
    assert_int_equal(dns_tsig_verify(msg, len, &m, &k, 1, 1000100, NULL, 0, &res), 0);
    assert_ptr_equal(res.key, &k);
    assert_memory_equal(res.mac, mac, 32);
    /* unknown key */
    assert_int_not_equal(dns_tsig_verify(msg, len, &m, &other, 1, 1000100, NULL, 0, &res), 0);
    assert_int_equal(res.error, DNS_TSIG_BADKEY);
    /* outside the fudge: BADTIME (after a good MAC) */
    assert_int_not_equal(dns_tsig_verify(msg, len, &m, &k, 1, 1000000 + 301, NULL, 0, &res), 0);
    assert_int_equal(res.error, DNS_TSIG_BADTIME);
    /* one flipped bit in the question: BADSIG */
    msg[14] ^= 1;
    dns_arena_reset(&ar);
    assert_int_equal(dns_msg_parse(msg, len, &m, &ar), 0);
    assert_int_not_equal(dns_tsig_verify(msg, len, &m, &k, 1, 1000000, NULL, 0, &res), 0);
    assert_int_equal(res.error, DNS_TSIG_BADSIG);
    msg[14] ^= 1;
    /* the ID changed on the way (RFC 8945 §4.3: the original ID is used) */
    msg[0] ^= 0x55;
    dns_arena_reset(&ar);
    assert_int_equal(dns_msg_parse(msg, len, &m, &ar), 0);
    assert_int_equal(dns_tsig_verify(msg, len, &m, &k, 1, 1000000, NULL, 0, &res), 0);
    dns_arena_clear(&ar);
}

/* A response stream: signed, unsigned, signed (RFC 8945 §5.3.1). */
static void test_tsig_stream(void **state)
{
    struct dns_tsig_key k = test_key("k1");
    uint8_t qn[DNS_NAME_MAXLEN], req[512], msgs[3][512];
    size_t lens[3];
    name_of("example.com.", qn);
    size_t rlen =
        dns_xfr_build(req, sizeof req, 9, DNS_OPCODE_QUERY, qn, DNS_TYPE_AXFR, NULL, 0, 0);
    uint8_t mac[DNS_TSIG_MAC_MAX], prior[DNS_TSIG_MAC_MAX];
    size_t maclen, priorlen;
    struct dns_tsig_sign_args a = {.key = &k, .time = 5000};
    assert_int_equal(dns_tsig_sign(req, &rlen, sizeof req, &a, mac, &maclen), 0);
    memcpy(prior, mac, maclen);
    priorlen = maclen;
    for (int i = 0; i < 3; i++) {
        lens[i] = dns_xfr_build(msgs[i], sizeof msgs[i], 9, DNS_OPCODE_QUERY, qn, DNS_TYPE_AXFR,
                                NULL, 0, 0);
        msgs[i][2] |= 0x80;
    }
    struct dns_tsig_sign_args s1 = {
        .key = &k, .time = 5001, .prior_mac = prior, .prior_len = priorlen};
    assert_int_equal(dns_tsig_sign(msgs[0], &lens[0], 512, &s1, prior, &priorlen), 0);
    /* Message 2 unsigned: message 3's MAC covers prior MAC + message 2 + message 3 + timers.
     * Signing the concatenation gives exactly that MAC; the record then moves to message 3. */
    uint8_t cat[1024];
    size_t l2 = lens[1], clen = lens[1] + lens[2];
    memcpy(cat, msgs[1], l2);
    memcpy(cat + l2, msgs[2], lens[2]);
    struct dns_tsig_sign_args s3 = {
        .key = &k, .time = 5003, .prior_mac = prior, .prior_len = priorlen, .timers_only = true};
    assert_int_equal(dns_tsig_sign(cat, &clen, sizeof cat, &s3, prior, &priorlen), 0);
    cat[11]--; /* the ARCOUNT bump landed in message 2's header */
    cat[l2 + 11]++;
    lens[2] = clen - l2;
    memcpy(msgs[2], cat + l2, lens[2]);

    struct dns_arena ar;
    dns_arena_init(&ar, NULL, 0);
    struct dns_tsig_stream st;
    dns_tsig_stream_init(&st, &k, mac, maclen);
    for (int i = 0; i < 3; i++) {
        struct dns_msg m;
        dns_arena_reset(&ar);
        assert_int_equal(dns_msg_parse(msgs[i], lens[i], &m, &ar), 0);
        assert_int_equal(dns_tsig_stream_feed(&st, msgs[i], lens[i], &m, 5003), 0);
        assert_true(dns_tsig_stream_complete(&st) == (i != 1));
    }
    dns_tsig_stream_clear(&st);
    /* A stream whose first answer is unsigned fails. */
    uint8_t plain[512];
    size_t plen =
        dns_xfr_build(plain, sizeof plain, 9, DNS_OPCODE_QUERY, qn, DNS_TYPE_AXFR, NULL, 0, 0);
    struct dns_msg m;
    dns_arena_reset(&ar);
    assert_int_equal(dns_msg_parse(plain, plen, &m, &ar), 0);
    dns_tsig_stream_init(&st, &k, mac, maclen);
    assert_int_not_equal(dns_tsig_stream_feed(&st, plain, plen, &m, 5003), 0);
    dns_tsig_stream_clear(&st);
    dns_arena_clear(&ar);
}

static void test_tsig_key_init(void **state)
{
    struct dns_tsig_key k;
    const char *why;
    assert_int_not_equal(dns_tsig_key_init(&k, "k", "hmac-md5", (const uint8_t *)"x", 1, &why), 0);
    assert_int_not_equal(dns_tsig_key_init(&k, "k", NULL, (const uint8_t *)"x", 0, &why), 0);
    assert_int_equal(
        dns_tsig_key_init(&k, "Key.Example", "HMAC-SHA512.", (const uint8_t *)"x", 1, &why), 0);
    assert_int_equal(k.mac_len, 64);
    uint8_t n[DNS_NAME_MAXLEN];
    name_of("key.example.", n);
    assert_memory_equal(k.name, n, dns_name_len(n));
}

/* ---- ACL ---- */

static struct sockaddr_storage sa4(const char *a)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *s = (struct sockaddr_in *)&ss;
    s->sin_family = AF_INET;
    inet_pton(AF_INET, a, &s->sin_addr);
    return ss;
}

static struct sockaddr_storage sa6(const char *a)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;
    s->sin6_family = AF_INET6;
    inet_pton(AF_INET6, a, &s->sin6_addr);
    return ss;
}

static void test_acl(void **state)
{
    struct dns_acl acl;
    char bad[64];
    assert_int_equal(
        dns_acl_parse("127.0.0.0/8, ::1/128 192.0.2.7 key:xfer-key", &acl, bad, sizeof bad), 0);
    assert_int_equal(acl.addrs.n + acl.nkeys, 4);
    struct sockaddr_storage a = sa4("127.1.2.3"), b = sa4("192.0.2.8"), c = sa6("::1"),
                            d = sa6("::ffff:127.0.0.9"), e = sa6("::2"), f = sa4("192.0.2.7");
    assert_true(dns_acl_match(&acl, (struct sockaddr *)&a, NULL));
    assert_false(dns_acl_match(&acl, (struct sockaddr *)&b, NULL));
    assert_true(dns_acl_match(&acl, (struct sockaddr *)&c, NULL));
    assert_true(dns_acl_match(&acl, (struct sockaddr *)&d, NULL));
    assert_false(dns_acl_match(&acl, (struct sockaddr *)&e, NULL));
    assert_true(dns_acl_match(&acl, (struct sockaddr *)&f, NULL));
    uint8_t kn[DNS_NAME_MAXLEN];
    name_of("XFER-key.", kn);
    assert_true(dns_acl_match(&acl, (struct sockaddr *)&b, kn));
    assert_true(dns_acl_has_keys(&acl));
    dns_acl_clear(&acl);
    assert_int_not_equal(dns_acl_parse("10.0.0.0/33", &acl, bad, sizeof bad), 0);
    assert_string_equal(bad, "10.0.0.0/33");
    assert_int_not_equal(dns_acl_parse("localhost", &acl, bad, sizeof bad), 0);
    assert_int_equal(dns_acl_parse(NULL, &acl, bad, sizeof bad), 0);
    assert_false(dns_acl_match(&acl, (struct sockaddr *)&a, NULL));
    dns_acl_clear(&acl);
    assert_int_equal(dns_acl_parse("0.0.0.0/0", &acl, bad, sizeof bad), 0);
    assert_true(dns_acl_match(&acl, (struct sockaddr *)&b, NULL));
    dns_acl_clear(&acl);
}

/* ---- RRL ---- */

static void test_rrl(void **state)
{
    struct dns_rrl *r = dns_rrl_new(5, 2, 64);
    struct sockaddr_storage a = sa4("198.51.100.7"), b = sa4("198.51.100.200"),
                            c = sa4("203.0.113.1"), d = sa6("2001:db8:0:1::1"),
                            e = sa6("2001:db8:0:ff::9");
    uint64_t t = 1000000;
    for (int i = 0; i < 5; i++)
        assert_int_equal(dns_rrl_check(r, (struct sockaddr *)&a, t), DNS_RRL_SEND);
    /* the same /24 shares the bucket; slip 2: drop, slip, drop, slip */
    assert_int_equal(dns_rrl_check(r, (struct sockaddr *)&b, t), DNS_RRL_DROP);
    assert_int_equal(dns_rrl_check(r, (struct sockaddr *)&a, t), DNS_RRL_SLIP);
    assert_int_equal(dns_rrl_check(r, (struct sockaddr *)&a, t), DNS_RRL_DROP);
    assert_int_equal(dns_rrl_check(r, (struct sockaddr *)&a, t), DNS_RRL_SLIP);
    /* another prefix is independent */
    assert_int_equal(dns_rrl_check(r, (struct sockaddr *)&c, t), DNS_RRL_SEND);
    /* 200 ms later one more token (5/s) */
    assert_int_equal(dns_rrl_check(r, (struct sockaddr *)&a, t + 200), DNS_RRL_SEND);
    assert_int_not_equal(dns_rrl_check(r, (struct sockaddr *)&a, t + 200), DNS_RRL_SEND);
    /* a full second refills the burst */
    for (int i = 0; i < 5; i++)
        assert_int_equal(dns_rrl_check(r, (struct sockaddr *)&a, t + 2000), DNS_RRL_SEND);
    /* IPv6: one /56 */
    for (int i = 0; i < 5; i++)
        assert_int_equal(dns_rrl_check(r, (struct sockaddr *)&d, t), DNS_RRL_SEND);
    assert_int_not_equal(dns_rrl_check(r, (struct sockaddr *)&e, t), DNS_RRL_SEND);
    dns_rrl_free(r);
    /* slip 0: always drop */
    r = dns_rrl_new(1, 0, 0);
    assert_int_equal(dns_rrl_check(r, (struct sockaddr *)&a, t), DNS_RRL_SEND);
    for (int i = 0; i < 10; i++)
        assert_int_equal(dns_rrl_check(r, (struct sockaddr *)&a, t), DNS_RRL_DROP);
    dns_rrl_free(r);
}

/* ---- differences and the journal ---- */

static struct dns_zdiff *diff_of(const struct dns_zone *a, const struct dns_zone *b)
{
    struct dns_rrvec va, vb;
    dns_rrvec_init(&va);
    dns_rrvec_init(&vb);
    dns_rrvec_from_zone(&va, a);
    dns_rrvec_from_zone(&vb, b);
    struct dns_zdiff *d = dns_zdiff_make(&va, &vb, dns_zone_origin(a));
    dns_rrvec_clear(&va);
    dns_rrvec_clear(&vb);
    assert_non_null(d);
    return d;
}

static struct dns_zone *apply(const struct dns_zone *z, struct dns_zdiff *const *d, size_t n)
{
    struct dns_rrvec v;
    dns_rrvec_init(&v);
    dns_rrvec_from_zone(&v, z);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(dns_zdiff_apply(d[i], &v, dns_zone_origin(z)), 0);
    struct dns_zone *out = NULL;
    struct str err = STR_INIT;
    assert_int_equal(dns_rrvec_to_zone(&v, dns_zone_origin(z), &out, &err), 0);
    str_clear(&err);
    dns_rrvec_clear(&v);
    return out;
}

static char *edited(const char *from, const char *to)
{
    const char *p = strstr(zone_text, from);
    assert_non_null(p);
    struct str s = STR_INIT;
    str_append(&s, zone_text, (size_t)(p - zone_text));
    str_appends(&s, to);
    str_appends(&s, p + strlen(from));
    return str_steal(&s);
}

static void test_diff_journal(void **state)
{
    /* version 2: serial 101, one A changed, one AAAA added; version 3: a TXT more */
    char *v2 = edited("100 3600", "101 3600");
    char *t3 = edited("100 3600", "102 3600");
    struct str s2 = STR_INIT, s3 = STR_INIT;
    str_appends(&s3, t3);
    str_appends(&s3, "extra TXT \"x\"\n");
    free(t3);
    const char *p = strstr(v2, "www A 192.0.2.5\n");
    str_append(&s2, v2, (size_t)(p - v2));
    str_appends(&s2, "www A 192.0.2.6\nnew AAAA 2001:db8::1\n");
    str_appends(&s2, p + strlen("www A 192.0.2.5\n"));
    struct dns_zone *z1 = zone_from(zone_text), *z2 = zone_from(str_cstr(&s2));
    struct dns_zone *z3 = zone_from(str_cstr(&s3));
    struct dns_zdiff *d[2] = {diff_of(z1, z2), diff_of(z1, z3)};
    assert_int_equal(d[0]->from, 100);
    assert_int_equal(d[0]->to, 101);
    assert_int_equal(d[0]->ndel, 1);
    assert_int_equal(d[0]->nadd, 2);
    struct dns_zone *z2b = apply(z1, d, 1);
    assert_true(zones_equal(z2b, z2));
    /* journal: encode two entries, decode them, and a torn tail is ignored */
    struct str j = STR_INIT;
    dns_journal_header(&j);
    dns_journal_encode(d[0], &j);
    size_t one = j.len;
    dns_journal_encode(d[1], &j);
    struct dns_zdiff **out;
    size_t n, valid;
    assert_int_equal(dns_journal_decode((const uint8_t *)j.ptr, j.len, &out, &n, &valid), 0);
    assert_int_equal(n, 2);
    assert_int_equal(valid, j.len);
    struct dns_zone *z2c = apply(z1, out, 1);
    assert_true(zones_equal(z2c, z2));
    dns_journal_free(out, n);
    assert_int_equal(dns_journal_decode((const uint8_t *)j.ptr, j.len - 3, &out, &n, &valid), 0);
    assert_int_equal(n, 1);
    assert_int_equal(valid, one);
    dns_journal_free(out, n);
    j.ptr[one + 20] ^= 0x40; /* a flipped byte: checksum */
    assert_int_equal(dns_journal_decode((const uint8_t *)j.ptr, j.len, &out, &n, &valid), 0);
    assert_int_equal(n, 1);
    dns_journal_free(out, n);
    assert_int_not_equal(dns_journal_decode((const uint8_t *)"garbage!!!", 10, &out, &n, &valid),
                         0);
    /* history: chain checks */
    struct dns_xfr_hist *h = dns_xfr_hist_append(NULL, d[0], 10);
    assert_int_equal(dns_xfr_hist_find(h, 100), 0);
    assert_int_equal(dns_xfr_hist_find(h, 101), -1);
    struct dns_xfr_hist *h2 = dns_xfr_hist_append(h, d[1], 10); /* 100->102 breaks the chain */
    assert_int_equal(h2->n, 1);
    dns_xfr_hist_unref(h);
    dns_xfr_hist_unref(h2);
    /* zone dump reads back as the same zone */
    struct str dump = STR_INIT;
    dns_zone_dump(z2, &dump);
    struct dns_zone *z2d = zone_from(str_cstr(&dump));
    assert_true(zones_equal(z2d, z2));
    str_clear(&dump);
    dns_zone_unref(z2d);
    str_clear(&j);
    for (int i = 0; i < 2; i++)
        dns_zdiff_unref(d[i]);
    dns_zone_unref(z1);
    dns_zone_unref(z2);
    dns_zone_unref(z3);
    dns_zone_unref(z2b);
    dns_zone_unref(z2c);
    str_clear(&s2);
    str_clear(&s3);
    free(v2);
}

/* ---- transfers: out -> in ---- */

/* Streams q's answer from z/h in messages of at most max bytes into an xfrin. */
static int transfer(const uint8_t *q, size_t qlen, struct dns_zone *z, struct dns_xfr_hist *h,
                    size_t max, const struct dns_zone *cur, struct dns_zone **out, unsigned *nmsg)
{
    struct dns_arena ar;
    dns_arena_init(&ar, NULL, 0);
    struct dns_msg m;
    assert_int_equal(dns_msg_parse(q, qlen, &m, &ar), 0);
    struct dns_xfrout x;
    assert_int_equal(dns_xfrout_init(&x, &m, z, h), 0);
    struct dns_xfrin in;
    dns_xfrin_init(&in, dns_zone_origin(z), m.qd[0].qtype, cur ? dns_zone_serial(cur) : 0);
    uint8_t buf[DNS_MSG_MAX];
    size_t len;
    int rc = 0;
    *nmsg = 0;
    while ((len = dns_xfrout_next(&x, buf, max, 0)) > 0) {
        (*nmsg)++;
        assert_true(len <= max);
        dns_arena_reset(&ar);
        assert_int_equal(dns_msg_parse(buf, len, &m, &ar), 0);
        rc = dns_xfrin_feed(&in, &m);
        assert_true(rc >= 0);
    }
    assert_true(dns_xfrout_done(&x));
    assert_int_equal(rc, 1);
    struct str err = STR_INIT;
    rc = dns_xfrin_finish(&in, cur, out, NULL, 10, &err);
    str_clear(&err);
    dns_xfrin_clear(&in);
    dns_xfrout_clear(&x);
    dns_arena_clear(&ar);
    return rc;
}

static size_t ixfr_query(uint8_t *q, const struct dns_zone *have)
{
    const struct dns_rrset *soa = dns_zone_soa(have);
    return dns_xfr_build(q, 512, 1, DNS_OPCODE_QUERY, dns_zone_origin(have), DNS_TYPE_IXFR,
                         soa->rdata[0].data, soa->rdata[0].len, soa->ttl);
}

static void test_xfr_roundtrip(void **state)
{
    /* a zone with many names so the AXFR spans several small messages */
    struct str big = STR_INIT;
    str_appends(&big, zone_text);
    for (int i = 0; i < 300; i++)
        str_appendf(&big, "host%d A 10.0.%d.%d\n", i, i / 250, i % 250);
    struct dns_zone *z1 = zone_from(str_cstr(&big));
    uint8_t q[512];
    size_t qlen = dns_xfr_build(q, sizeof q, 1, DNS_OPCODE_QUERY, dns_zone_origin(z1),
                                DNS_TYPE_AXFR, NULL, 0, 0);
    struct dns_zone *got = NULL;
    unsigned nmsg;
    assert_int_equal(transfer(q, qlen, z1, NULL, 1024, NULL, &got, &nmsg), DNS_XFRIN_FULL);
    assert_true(nmsg > 5);
    assert_true(zones_equal(got, z1));
    dns_zone_unref(got);

    /* version 2 and 3 with a history; IXFR from 100 gives both differences */
    struct str b2 = STR_INIT, b3 = STR_INIT;
    const char *p = strstr(str_cstr(&big), "100 3600");
    str_append(&b2, big.ptr, (size_t)(p - big.ptr));
    str_appends(&b2, "101 3600");
    str_appends(&b2, p + 8);
    str_appends(&b2, "added A 10.9.9.9\n");
    str_append(&b3, big.ptr, (size_t)(p - big.ptr));
    str_appends(&b3, "102 3600");
    str_appends(&b3, p + 8);
    str_appends(&b3, "added A 10.9.9.9\nmore TXT \"v3\"\n");
    char *w = strstr(b3.ptr, "host7 A");
    memcpy(w, "hostX", 5); /* a rename: delete + add */
    struct dns_zone *z2 = zone_from(str_cstr(&b2)), *z3 = zone_from(str_cstr(&b3));
    struct dns_zdiff *d1 = diff_of(z1, z2), *d2 = diff_of(z2, z3);
    struct dns_xfr_hist *h1 = dns_xfr_hist_append(NULL, d1, 10);
    struct dns_xfr_hist *h = dns_xfr_hist_append(h1, d2, 10);
    qlen = ixfr_query(q, z1);
    assert_int_equal(transfer(q, qlen, z3, h, 512, z1, &got, &nmsg), DNS_XFRIN_INCREMENTAL);
    assert_true(zones_equal(got, z3));
    dns_zone_unref(got);
    /* from 101: one difference */
    qlen = ixfr_query(q, z2);
    assert_int_equal(transfer(q, qlen, z3, h, 65535, z2, &got, &nmsg), DNS_XFRIN_INCREMENTAL);
    assert_int_equal(nmsg, 1);
    assert_true(zones_equal(got, z3));
    dns_zone_unref(got);
    /* up to date */
    qlen = ixfr_query(q, z3);
    assert_int_equal(transfer(q, qlen, z3, h, 65535, z3, &got, &nmsg), DNS_XFRIN_UPTODATE);
    assert_null(got);
    /* a serial the history does not know: the AXFR form inside the IXFR */
    qlen = ixfr_query(q, z1);
    assert_int_equal(transfer(q, qlen, z3, NULL, 2048, z1, &got, &nmsg), DNS_XFRIN_FULL);
    assert_true(zones_equal(got, z3));
    dns_zone_unref(got);
    /* IXFR without the client's SOA is malformed */
    qlen = dns_xfr_build(q, sizeof q, 1, DNS_OPCODE_QUERY, dns_zone_origin(z1), DNS_TYPE_IXFR, NULL,
                         0, 0);
    struct dns_arena ar;
    dns_arena_init(&ar, NULL, 0);
    struct dns_msg m;
    assert_int_equal(dns_msg_parse(q, qlen, &m, &ar), 0);
    struct dns_xfrout x;
    assert_int_not_equal(dns_xfrout_init(&x, &m, z1, h), 0);
    dns_arena_clear(&ar);
    dns_xfr_hist_unref(h1);
    dns_xfr_hist_unref(h);
    dns_zdiff_unref(d1);
    dns_zdiff_unref(d2);
    dns_zone_unref(z1);
    dns_zone_unref(z2);
    dns_zone_unref(z3);
    str_clear(&big);
    str_clear(&b2);
    str_clear(&b3);
}

/* ---- UPDATE ---- */

struct upd {
    uint8_t b[4096];
    struct dns_builder bld;
    int sec; /* current section */
};

static void upd_begin(struct upd *u)
{
    struct dns_header h = {.id = 77, .opcode = DNS_OPCODE_UPDATE};
    dns_builder_init(&u->bld, u->b, sizeof u->b, sizeof u->b, &h);
    u->bld.compress = false;
    uint8_t zn[DNS_NAME_MAXLEN];
    name_of("example.com.", zn);
    assert_int_equal(dns_builder_question(&u->bld, zn, DNS_TYPE_SOA, DNS_CLASS_IN), 0);
}

/* One record: sec 1 prerequisite, 2 update. rdata given in presentation form (or ""). */
static void upd_rr(struct upd *u, int sec, const char *owner, uint16_t type, uint16_t cls,
                   uint32_t ttl, const char *rdtext)
{
    uint8_t on[DNS_NAME_MAXLEN], rd[1024];
    name_of(owner, on);
    size_t rdlen = 0;
    if (*rdtext) {
        struct dns_token tok[8];
        size_t nt = 0;
        char *copy = strdup(rdtext);
        for (char *t = strtok(copy, " "); t && nt < 8; t = strtok(NULL, " "))
            tok[nt++] = (struct dns_token){t, strlen(t), false};
        const char *why;
        uint8_t origin[DNS_NAME_MAXLEN];
        name_of("example.com.", origin);
        assert_int_equal(dns_rdata_from_text(type, tok, nt, origin, rd, sizeof rd, &rdlen, &why),
                         0);
        free(copy);
    }
    assert_int_equal(dns_builder_rr(&u->bld, sec == 1 ? DNS_SEC_ANSWER : DNS_SEC_AUTHORITY, on,
                                    type, cls, ttl, rd, rdlen),
                     0);
}

/* Parses and applies u to z; returns the rcode and the new zone in *out (or NULL). */
static unsigned upd_run(struct upd *u, const struct dns_zone *z, struct dns_zone **out)
{
    size_t len = dns_builder_finish(&u->bld);
    struct dns_arena ar;
    dns_arena_init(&ar, NULL, 0);
    struct dns_msg m;
    assert_int_equal(dns_msg_parse(u->b, len, &m, &ar), 0);
    struct dns_update_result res;
    dns_update_apply(z, &m, &res);
    dns_arena_clear(&ar);
    *out = res.zone;
    if (res.zone) {
        assert_non_null(res.diff);
        assert_int_equal(res.diff->from, dns_zone_serial(z));
        assert_int_equal(res.diff->to, dns_zone_serial(res.zone));
    }
    dns_zdiff_unref(res.diff);
    return res.rcode;
}

static void test_update_prereqs(void **state)
{
    struct dns_zone *z = zone_from(zone_text), *nz;
    struct upd u;
    struct {
        const char *owner;
        uint16_t type, cls;
        const char *rd;
        unsigned rcode;
    } cases[] = {
        {"www.example.com.", DNS_TYPE_ANY, DNS_CLASS_ANY, "", DNS_RCODE_NOERROR}, /* in use */
        {"nope.example.com.", DNS_TYPE_ANY, DNS_CLASS_ANY, "", DNS_RCODE_NXDOMAIN},
        {"www.example.com.", DNS_TYPE_A, DNS_CLASS_ANY, "", DNS_RCODE_NOERROR}, /* exists */
        {"www.example.com.", DNS_TYPE_MX, DNS_CLASS_ANY, "", DNS_RCODE_NXRRSET},
        {"nope.example.com.", DNS_TYPE_ANY, DNS_CLASS_NONE, "", DNS_RCODE_NOERROR}, /* not in use */
        {"www.example.com.", DNS_TYPE_ANY, DNS_CLASS_NONE, "", DNS_RCODE_YXDOMAIN},
        {"www.example.com.", DNS_TYPE_MX, DNS_CLASS_NONE, "", DNS_RCODE_NOERROR}, /* absent */
        {"www.example.com.", DNS_TYPE_A, DNS_CLASS_NONE, "", DNS_RCODE_YXRRSET},
        {"www.example.com.", DNS_TYPE_A, DNS_CLASS_IN, "192.0.2.4",
         DNS_RCODE_NXRRSET}, /* partial */
        {"other.org.", DNS_TYPE_A, DNS_CLASS_ANY, "", DNS_RCODE_NOTZONE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        upd_begin(&u);
        upd_rr(&u, 1, cases[i].owner, cases[i].type, cases[i].cls, 0, cases[i].rd);
        assert_int_equal(upd_run(&u, z, &nz), cases[i].rcode);
        assert_null(nz); /* prerequisites alone change nothing */
    }
    /* value-dependent, whole RRset: matches */
    upd_begin(&u);
    upd_rr(&u, 1, "www.example.com.", DNS_TYPE_A, DNS_CLASS_IN, 0, "192.0.2.5");
    upd_rr(&u, 1, "www.example.com.", DNS_TYPE_A, DNS_CLASS_IN, 0, "192.0.2.4");
    assert_int_equal(upd_run(&u, z, &nz), DNS_RCODE_NOERROR);
    /* a prerequisite with a TTL is malformed */
    upd_begin(&u);
    upd_rr(&u, 1, "www.example.com.", DNS_TYPE_A, DNS_CLASS_ANY, 5, "");
    assert_int_equal(upd_run(&u, z, &nz), DNS_RCODE_FORMERR);
    dns_zone_unref(z);
}

static void test_update_changes(void **state)
{
    struct dns_zone *z = zone_from(zone_text), *nz, *n2;
    struct upd u;
    /* add, delete a single RR, delete an RRset, delete a name: one atomic update */
    upd_begin(&u);
    upd_rr(&u, 1, "nope.example.com.", DNS_TYPE_ANY, DNS_CLASS_NONE, 0, "");
    upd_rr(&u, 2, "new.example.com.", DNS_TYPE_A, DNS_CLASS_IN, 60, "192.0.2.99");
    upd_rr(&u, 2, "www.example.com.", DNS_TYPE_A, DNS_CLASS_NONE, 0, "192.0.2.4");
    upd_rr(&u, 2, "txt.example.com.", DNS_TYPE_TXT, DNS_CLASS_ANY, 0, "");
    upd_rr(&u, 2, "mail.example.com.", DNS_TYPE_ANY, DNS_CLASS_ANY, 0, "");
    assert_int_equal(upd_run(&u, z, &nz), DNS_RCODE_NOERROR);
    assert_non_null(nz);
    assert_int_equal(dns_zone_serial(nz), 101); /* §3.6: bumped */
    assert_true(has_record(nz, "new.example.com.", DNS_TYPE_A));
    assert_false(has_record(nz, "txt.example.com.", DNS_TYPE_TXT));
    assert_false(has_record(nz, "mail.example.com.", DNS_TYPE_A));
    uint8_t www[DNS_NAME_MAXLEN];
    name_of("www.example.com.", www);
    assert_int_equal(dns_node_rrset(dns_zone_find(nz, www, NULL), DNS_TYPE_A)->count, 1);
    /* a failing prerequisite leaves everything alone */
    upd_begin(&u);
    upd_rr(&u, 1, "new.example.com.", DNS_TYPE_ANY, DNS_CLASS_NONE, 0, "");
    upd_rr(&u, 2, "x.example.com.", DNS_TYPE_A, DNS_CLASS_IN, 60, "192.0.2.1");
    assert_int_equal(upd_run(&u, nz, &n2), DNS_RCODE_YXDOMAIN);
    assert_null(n2);
    /* apex: SOA and NS never deleted by an RRset/name delete; the last NS stays */
    upd_begin(&u);
    upd_rr(&u, 2, "example.com.", DNS_TYPE_ANY, DNS_CLASS_ANY, 0, "");
    upd_rr(&u, 2, "example.com.", DNS_TYPE_NS, DNS_CLASS_ANY, 0, "");
    upd_rr(&u, 2, "example.com.", DNS_TYPE_NS, DNS_CLASS_NONE, 0, "ns1.example.com.");
    upd_rr(&u, 2, "example.com.", DNS_TYPE_NS, DNS_CLASS_NONE, 0, "ns2.example.com.");
    assert_int_equal(upd_run(&u, nz, &n2), DNS_RCODE_NOERROR);
    assert_non_null(n2);
    assert_true(has_record(n2, "example.com.", DNS_TYPE_SOA));
    assert_false(has_record(n2, "example.com.", DNS_TYPE_MX));
    uint8_t apex[DNS_NAME_MAXLEN];
    name_of("example.com.", apex);
    assert_int_equal(dns_node_rrset(dns_zone_find(n2, apex, NULL), DNS_TYPE_NS)->count, 1);
    dns_zone_unref(n2);
    /* CNAME exclusivity: no A beside a CNAME, no CNAME beside an A */
    upd_begin(&u);
    upd_rr(&u, 2, "alias.example.com.", DNS_TYPE_A, DNS_CLASS_IN, 60, "192.0.2.1");
    upd_rr(&u, 2, "www.example.com.", DNS_TYPE_CNAME, DNS_CLASS_IN, 60, "mail.example.com.");
    assert_int_equal(upd_run(&u, nz, &n2), DNS_RCODE_NOERROR);
    assert_null(n2);
    /* an SOA with a higher serial replaces it (no extra bump); a lower one is ignored */
    upd_begin(&u);
    upd_rr(&u, 2, "example.com.", DNS_TYPE_SOA, DNS_CLASS_IN, 300,
           "ns1.example.com. host.example.com. 500 3600 600 86400 60");
    assert_int_equal(upd_run(&u, nz, &n2), DNS_RCODE_NOERROR);
    assert_int_equal(dns_zone_serial(n2), 500);
    dns_zone_unref(n2);
    upd_begin(&u);
    upd_rr(&u, 2, "example.com.", DNS_TYPE_SOA, DNS_CLASS_IN, 300,
           "ns1.example.com. host.example.com. 5 3600 600 86400 60");
    assert_int_equal(upd_run(&u, nz, &n2), DNS_RCODE_NOERROR);
    assert_null(n2);
    /* re-adding what exists changes nothing: no new serial */
    upd_begin(&u);
    upd_rr(&u, 2, "new.example.com.", DNS_TYPE_A, DNS_CLASS_IN, 60, "192.0.2.99");
    assert_int_equal(upd_run(&u, nz, &n2), DNS_RCODE_NOERROR);
    assert_null(n2);
    /* prescan: class ANY with rdata, a meta type, a name outside the zone */
    upd_begin(&u);
    upd_rr(&u, 2, "www.example.com.", DNS_TYPE_A, DNS_CLASS_ANY, 0, "192.0.2.1");
    assert_int_equal(upd_run(&u, nz, &n2), DNS_RCODE_FORMERR);
    upd_begin(&u);
    upd_rr(&u, 2, "www.example.com.", DNS_TYPE_AXFR, DNS_CLASS_IN, 0, "");
    assert_int_equal(upd_run(&u, nz, &n2), DNS_RCODE_FORMERR);
    upd_begin(&u);
    upd_rr(&u, 2, "www.example.org.", DNS_TYPE_A, DNS_CLASS_IN, 60, "192.0.2.1");
    assert_int_equal(upd_run(&u, nz, &n2), DNS_RCODE_NOTZONE);
    dns_zone_unref(nz);
    dns_zone_unref(z);
}

/* TYPE0 is the rrvec's "every type": an UPDATE naming it is malformed. Before the fix,
 * "delete the TYPE0 RRset" at the apex took the SOA and NS with it (fuzz_dns_server's
 * finding; refused late as a zone without SOA), elsewhere it deleted the whole name, and a
 * TYPE0 prerequisite tested the name. */
static void test_update_type0(void **state)
{
    struct dns_zone *z = zone_from(zone_text), *nz;
    struct upd u;
    static const char *const owners[] = {"example.com.", "www.example.com."};
    for (size_t i = 0; i < 2; i++) {
        upd_begin(&u);
        upd_rr(&u, 2, owners[i], 0, DNS_CLASS_ANY, 0, "");
        assert_int_equal(upd_run(&u, z, &nz), DNS_RCODE_FORMERR);
        assert_null(nz);
        upd_begin(&u);
        upd_rr(&u, 2, owners[i], 0, DNS_CLASS_NONE, 0, "");
        assert_int_equal(upd_run(&u, z, &nz), DNS_RCODE_FORMERR);
        upd_begin(&u);
        upd_rr(&u, 2, owners[i], 0, DNS_CLASS_IN, 60, "");
        assert_int_equal(upd_run(&u, z, &nz), DNS_RCODE_FORMERR);
        upd_begin(&u);
        upd_rr(&u, 1, owners[i], 0, DNS_CLASS_ANY, 0, "");
        assert_int_equal(upd_run(&u, z, &nz), DNS_RCODE_FORMERR);
        upd_begin(&u);
        upd_rr(&u, 1, "nope.example.com.", 0, DNS_CLASS_NONE, 0, "");
        assert_int_equal(upd_run(&u, z, &nz), DNS_RCODE_FORMERR);
    }
    /* the seed's shape: a prerequisite that holds, an add, then TYPE0 deleted at the apex */
    upd_begin(&u);
    upd_rr(&u, 1, "www.example.com.", DNS_TYPE_ANY, DNS_CLASS_ANY, 0, "");
    upd_rr(&u, 2, "new.example.com.", DNS_TYPE_A, DNS_CLASS_IN, 60, "192.0.2.99");
    upd_rr(&u, 2, "example.com.", 0, DNS_CLASS_ANY, 0, "");
    assert_int_equal(upd_run(&u, z, &nz), DNS_RCODE_FORMERR);
    assert_null(nz);
    dns_zone_unref(z);
}

/* The UPDATE reader never reads outside the packet: every prefix of a valid one fails. */
static void test_update_parse_truncated(void **state)
{
    struct upd u;
    upd_begin(&u);
    upd_rr(&u, 1, "www.example.com.", DNS_TYPE_A, DNS_CLASS_ANY, 0, "");
    upd_rr(&u, 2, "mx.example.com.", DNS_TYPE_MX, DNS_CLASS_IN, 60, "10 mail.example.com.");
    size_t len = dns_builder_finish(&u.bld);
    struct dns_arena ar;
    dns_arena_init(&ar, NULL, 0);
    struct dns_msg m;
    assert_int_equal(dns_msg_parse(u.b, len, &m, &ar), 0);
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, u.b, cut);
        dns_arena_reset(&ar);
        assert_int_not_equal(dns_msg_parse(copy, cut, &m, &ar), 0);
        free(copy);
    }
    dns_arena_clear(&ar);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tsig_request),
        cmocka_unit_test(test_tsig_stream),
        cmocka_unit_test(test_tsig_key_init),
        cmocka_unit_test(test_acl),
        cmocka_unit_test(test_rrl),
        cmocka_unit_test(test_diff_journal),
        cmocka_unit_test(test_xfr_roundtrip),
        cmocka_unit_test(test_update_prereqs),
        cmocka_unit_test(test_update_changes),
        cmocka_unit_test(test_update_type0),
        cmocka_unit_test(test_update_parse_truncated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
