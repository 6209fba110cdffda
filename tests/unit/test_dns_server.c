/*
 * Unit tests for src/dns/server, the authoritative server's engine: request packets in (with
 * the client's address and the time passed in), response bytes and jobs out. Plain queries
 * and dead zones, FORMERR and dropped responses, AXFR/IXFR (access, UDP rules, the streamed
 * and signed messages), NOTIFY (primary only, refresh job), UPDATE (checks, then the control
 * thread's apply and answer), TSIG errors, and response rate limiting (slip, loopback exempt).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/str.h"
#include "dns/name.h"
#include "dns/rr.h"
#include "dns/server/rrl.h"
#include "dns/server/server.h"
#include "dns/wire.h"
#include "dns/xfr/tsig.h"
#include "dns/xfr/xfr.h"
#include "dns/zone.h"
#include "dns/zonefile.h"
#include "dns/zoneset.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1700000000u

static const char zone_text[] = "$ORIGIN example.com.\n$TTL 300\n"
                                "@ IN SOA ns1 host 100 3600 600 86400 60\n"
                                "@ NS ns1\n@ MX 10 mail\n"
                                "ns1 A 192.0.2.1\nmail A 192.0.2.3\nwww A 192.0.2.4\n";

/* ---- the fixture: example.com (primary, loaded) and sec.test (secondary, not loaded) ---- */

struct fx {
    struct dns_tsig_key keys[2]; /* xfr-key, upd-key */
    struct dns_zconf zc[2];
    struct dns_server srv;
    struct dns_view *view;
    struct dns_zone *zone;
    struct dns_arena arena;
    uint8_t out[DNS_MSG_MAX];
};

static void name_of(const char *text, uint8_t *out)
{
    size_t n;
    const char *why;
    assert_int_equal(dns_name_from_text(text, strlen(text), NULL, out, &n, &why), 0);
}

static bool has_record(const struct dns_zone *z, const char *owner, uint16_t type)
{
    uint8_t n[DNS_NAME_MAXLEN];
    name_of(owner, n);
    const struct dns_node *node = dns_zone_find(z, n, NULL);
    return node && dns_node_rrset(node, type);
}

static struct sockaddr_storage sa4(const char *a)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *s = (struct sockaddr_in *)&ss;
    s->sin_family = AF_INET;
    s->sin_port = htons(5353);
    assert_int_equal(inet_pton(AF_INET, a, &s->sin_addr), 1);
    return ss;
}

static struct sockaddr_storage sa6(const char *a)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;
    s->sin6_family = AF_INET6;
    assert_int_equal(inet_pton(AF_INET6, a, &s->sin6_addr), 1);
    return ss;
}

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    const char *why;
    const uint8_t secret[] = "0123456789abcdef";
    assert_int_equal(dns_tsig_key_init(&f->keys[0], "xfr-key", "hmac-sha256", secret, 16, &why),
                     0);
    assert_int_equal(dns_tsig_key_init(&f->keys[1], "upd-key", "hmac-sha256", secret, 16, &why),
                     0);
    char bad[64];
    f->zc[0].name = "example.com";
    name_of("example.com.", f->zc[0].origin);
    assert_int_equal(dns_acl_parse("192.0.2.0/24 key:xfr-key", &f->zc[0].xfr_acl, bad, 64), 0);
    assert_int_equal(dns_acl_parse("192.0.2.7 key:upd-key", &f->zc[0].upd_acl, bad, 64), 0);
    f->zc[1].name = "sec.test";
    name_of("sec.test.", f->zc[1].origin);
    f->zc[1].secondary = true;
    f->zc[1].primary.sa = sa4("198.51.100.1");
    f->zc[1].primary.len = sizeof(struct sockaddr_in);
    f->srv = (struct dns_server){f->zc, 2, f->keys, 2, 1232};

    struct str err = STR_INIT;
    assert_int_equal(dns_zone_from_text(zone_text, strlen(zone_text), "test", f->zc[0].origin,
                                        DNS_ZF_NO_INCLUDE, &f->zone, &err),
                     0);
    str_clear(&err);
    struct dns_view *v = calloc(1, sizeof *v);
    atomic_init(&v->refs, 1);
    v->zs = dns_zoneset_new();
    dns_zoneset_add(v->zs, f->zone);
    v->n = 2;
    v->z = calloc(2, sizeof *v->z);
    v->z[0].zone = dns_zone_ref(f->zone);
    v->any_dead = true; /* sec.test is configured but not loaded */
    f->view = v;
    dns_arena_init(&f->arena, NULL, 0);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    dns_view_unref(f->view);
    dns_zone_unref(f->zone);
    for (int i = 0; i < 2; i++) {
        dns_acl_clear(&f->zc[i].xfr_acl);
        dns_acl_clear(&f->zc[i].upd_acl);
    }
    dns_arena_clear(&f->arena);
    free(f);
    return 0;
}

/* Runs one request through the engine; returns the answer's length. */
static size_t run(struct fx *f, const uint8_t *pkt, size_t len, const char *from, bool tcp,
                  uint64_t now, struct dns_server_job_out *job)
{
    struct sockaddr_storage peer = strchr(from, ':') ? sa6(from) : sa4(from);
    struct dns_server_req req = {pkt, len, (struct sockaddr *)&peer, tcp, now};
    dns_arena_reset(&f->arena);
    size_t n = dns_server_process(&f->srv, f->view, &req, &f->arena, f->out,
                                  tcp ? DNS_MSG_MAX : 4096, job);
    dns_arena_reset(&f->arena);
    return n;
}

/* Parses the answer in f->out (its pointers live in f->arena until the next run). */
static struct dns_msg answer(struct fx *f, size_t len)
{
    struct dns_msg m;
    assert_true(len >= DNS_HEADER_LEN);
    assert_int_equal(dns_msg_parse(f->out, len, &m, &f->arena), 0);
    assert_true(m.hdr.qr);
    return m;
}

static size_t query(uint8_t *buf, const char *name, uint16_t type, uint16_t id)
{
    uint8_t qn[DNS_NAME_MAXLEN];
    name_of(name, qn);
    return dns_xfr_build(buf, 512, id, DNS_OPCODE_QUERY, qn, type, NULL, 0, 0);
}

static size_t sign(uint8_t *buf, size_t len, const struct dns_tsig_key *k, uint64_t when,
                   uint8_t *mac, size_t *maclen)
{
    struct dns_tsig_sign_args a = {.key = k, .time = when};
    assert_int_equal(dns_tsig_sign(buf, &len, 1024, &a, mac, maclen), 0);
    return len;
}

/* ---- plain queries ---- */

static void test_query(void **state)
{
    struct fx *f = *state;
    uint8_t q[1024];
    struct dns_server_job_out job;
    size_t n = run(f, q, query(q, "www.example.com.", DNS_TYPE_A, 11), "203.0.113.5", false, NOW,
                   &job);
    assert_int_equal(job.kind, DNS_JOB_NONE);
    struct dns_msg m = answer(f, n);
    assert_int_equal(m.hdr.id, 11);
    assert_true(m.hdr.aa);
    assert_int_equal(m.rcode, DNS_RCODE_NOERROR);
    assert_int_equal(m.count[0], 1);
    assert_int_equal(m.rr[0][0].type, DNS_TYPE_A);
    const uint8_t want[4] = {192, 0, 2, 4};
    assert_memory_equal(m.rr[0][0].rdata, want, 4);

    /* a configured zone that is not served: SERVFAIL, not REFUSED */
    n = run(f, q, query(q, "www.sec.test.", DNS_TYPE_A, 12), "203.0.113.5", false, NOW, &job);
    m = answer(f, n);
    assert_int_equal(m.rcode, DNS_RCODE_SERVFAIL);
    /* outside every zone: REFUSED */
    n = run(f, q, query(q, "www.other.org.", DNS_TYPE_A, 13), "203.0.113.5", false, NOW, &job);
    m = answer(f, n);
    assert_int_equal(m.rcode, DNS_RCODE_REFUSED);
}

static void test_malformed_and_responses(void **state)
{
    struct fx *f = *state;
    uint8_t q[1024];
    struct dns_server_job_out job;
    size_t len = query(q, "www.example.com.", DNS_TYPE_A, 21);
    /* a trailing byte: FORMERR with the header alone */
    q[len] = 0;
    size_t n = run(f, q, len + 1, "203.0.113.5", false, NOW, &job);
    assert_true(n >= DNS_HEADER_LEN);
    struct dns_header h;
    assert_int_equal(dns_header_read(f->out, n, &h), 0);
    assert_true(h.qr);
    assert_int_equal(h.id, 21);
    assert_int_equal(h.rcode, DNS_RCODE_FORMERR);
    assert_int_equal(h.qdcount, 0);
    /* a response (QR=1) is never answered: no reflection loops */
    q[2] |= 0x80;
    assert_int_equal(run(f, q, len, "203.0.113.5", false, NOW, &job), 0);
    /* shorter than a header */
    assert_int_equal(run(f, q, 11, "203.0.113.5", false, NOW, &job), 0);
}

/* ---- AXFR / IXFR ---- */

static void test_axfr_access(void **state)
{
    struct fx *f = *state;
    uint8_t q[1024];
    struct dns_server_job_out job;
    size_t len = query(q, "example.com.", DNS_TYPE_AXFR, 31);
    /* not in allow_transfer */
    size_t n = run(f, q, len, "203.0.113.5", true, NOW, &job);
    assert_int_equal(job.kind, DNS_JOB_NONE);
    assert_int_equal(answer(f, n).rcode, DNS_RCODE_REFUSED);
    /* allowed, but over UDP: FORMERR (RFC 5936 §4.2) */
    n = run(f, q, len, "192.0.2.9", false, NOW, &job);
    assert_int_equal(answer(f, n).rcode, DNS_RCODE_FORMERR);
    /* a zone we do not serve: NOTAUTH */
    size_t l2 = query(q, "sec.test.", DNS_TYPE_AXFR, 32);
    n = run(f, q, l2, "192.0.2.9", true, NOW, &job);
    assert_int_equal(answer(f, n).rcode, DNS_RCODE_NOTAUTH);
}

/* Streams job's transfer; returns the records seen, checks SOA first and last. */
static size_t stream(struct fx *f, struct dns_server_xfr *x, const struct dns_tsig_key *k,
                     const uint8_t *req_mac, size_t req_mac_len)
{
    struct dns_tsig_stream ts;
    if (k)
        dns_tsig_stream_init(&ts, k, req_mac, req_mac_len);
    size_t len, records = 0;
    uint16_t first = 0, last = 0;
    unsigned nmsg = 0;
    while ((len = dns_server_xfr_next(x, NOW, f->out, DNS_MSG_MAX)) > 0) {
        dns_arena_reset(&f->arena);
        struct dns_msg m = answer(f, len);
        if (k) {
            assert_non_null(m.tsig); /* every message signed */
            assert_int_equal(dns_tsig_stream_feed(&ts, f->out, len, &m, NOW), 0);
        } else {
            assert_null(m.tsig);
        }
        for (unsigned i = 0; i < m.count[0]; i++) {
            if (records == 0)
                first = m.rr[0][i].type;
            last = m.rr[0][i].type;
            records++;
        }
        nmsg++;
    }
    assert_false(dns_server_xfr_failed(x));
    assert_true(dns_xfrout_done(&x->out));
    assert_int_equal(first, DNS_TYPE_SOA);
    assert_int_equal(last, DNS_TYPE_SOA);
    if (k) {
        assert_true(dns_tsig_stream_complete(&ts));
        dns_tsig_stream_clear(&ts);
    }
    return records;
}

static void test_axfr_stream(void **state)
{
    struct fx *f = *state;
    uint8_t q[1024];
    struct dns_server_job_out job;
    size_t n = run(f, q, query(q, "example.com.", DNS_TYPE_AXFR, 33), "192.0.2.9", true, NOW, &job);
    assert_int_equal(n, 0);
    assert_int_equal(job.kind, DNS_JOB_XFR);
    assert_int_equal(job.zi, 0);
    /* SOA, NS, MX, 3 A, SOA */
    assert_int_equal(stream(f, job.xfr, NULL, NULL, 0), 7);
    dns_server_xfr_free(job.xfr);
}

/* From an address outside the ACL, the key opens it; every message of the stream is signed. */
static void test_axfr_tsig(void **state)
{
    struct fx *f = *state;
    uint8_t q[1024], mac[DNS_TSIG_MAC_MAX];
    size_t maclen;
    struct dns_server_job_out job;
    size_t len = sign(q, query(q, "example.com.", DNS_TYPE_AXFR, 34), &f->keys[0], NOW, mac,
                      &maclen);
    size_t n = run(f, q, len, "203.0.113.5", true, NOW + 10, &job);
    assert_int_equal(n, 0);
    assert_int_equal(job.kind, DNS_JOB_XFR);
    assert_int_equal(stream(f, job.xfr, &f->keys[0], mac, maclen), 7);
    dns_server_xfr_free(job.xfr);

    /* the right key, but the wrong one for this ACL: REFUSED, signed */
    len = sign(q, query(q, "example.com.", DNS_TYPE_AXFR, 35), &f->keys[1], NOW, mac, &maclen);
    n = run(f, q, len, "203.0.113.5", true, NOW, &job);
    assert_int_equal(job.kind, DNS_JOB_NONE);
    struct dns_msg m = answer(f, n);
    assert_int_equal(m.rcode, DNS_RCODE_REFUSED);
    assert_non_null(m.tsig);
}

static void test_tsig_errors(void **state)
{
    struct fx *f = *state;
    uint8_t q[1024], mac[DNS_TSIG_MAC_MAX];
    size_t maclen;
    struct dns_server_job_out job;
    /* an unknown key: NOTAUTH, TSIG error BADKEY, no MAC */
    struct dns_tsig_key stranger;
    const char *why;
    assert_int_equal(dns_tsig_key_init(&stranger, "stranger", "hmac-sha256",
                                       (const uint8_t *)"0123456789abcdef", 16, &why),
                     0);
    size_t len = sign(q, query(q, "example.com.", DNS_TYPE_SOA, 41), &stranger, NOW, mac, &maclen);
    size_t n = run(f, q, len, "192.0.2.9", false, NOW, &job);
    struct dns_msg m = answer(f, n);
    assert_int_equal(m.rcode, DNS_RCODE_NOTAUTH);
    assert_non_null(m.tsig);
    struct dns_tsig_rr tr;
    assert_int_equal(dns_tsig_rr_parse(m.tsig, &tr), 0);
    assert_int_equal(tr.error, DNS_TSIG_BADKEY);
    assert_int_equal(tr.mac_len, 0);
    /* signed an hour ago: BADTIME, with our time in Other Data */
    len = sign(q, query(q, "example.com.", DNS_TYPE_SOA, 42), &f->keys[0], NOW - 3600, mac,
               &maclen);
    n = run(f, q, len, "192.0.2.9", false, NOW, &job);
    m = answer(f, n);
    assert_int_equal(m.rcode, DNS_RCODE_NOTAUTH);
    assert_int_equal(dns_tsig_rr_parse(m.tsig, &tr), 0);
    assert_int_equal(tr.error, DNS_TSIG_BADTIME);
    assert_int_equal(tr.other_len, 6);
    uint64_t theirs = 0;
    for (int i = 0; i < 6; i++)
        theirs = theirs << 8 | tr.other[i];
    assert_int_equal(theirs, NOW);
    /* a good signature on a plain query: the answer is signed */
    len = sign(q, query(q, "www.example.com.", DNS_TYPE_A, 43), &f->keys[0], NOW, mac, &maclen);
    n = run(f, q, len, "192.0.2.9", false, NOW, &job);
    m = answer(f, n);
    assert_int_equal(m.rcode, DNS_RCODE_NOERROR);
    assert_non_null(m.tsig);
    struct dns_tsig_result res;
    assert_int_equal(dns_tsig_verify(f->out, n, &m, &f->keys[0], 1, NOW, mac, maclen, &res), 0);
}

static void test_ixfr(void **state)
{
    struct fx *f = *state;
    uint8_t q[1024];
    struct dns_server_job_out job;
    const struct dns_rrset *soa = dns_zone_soa(f->zone);
    size_t len = dns_xfr_build(q, 512, 51, DNS_OPCODE_QUERY, f->zc[0].origin, DNS_TYPE_IXFR,
                               soa->rdata[0].data, soa->rdata[0].len, soa->ttl);
    /* UDP: the SOA alone (RFC 1995 §2) */
    size_t n = run(f, q, len, "192.0.2.9", false, NOW, &job);
    assert_int_equal(job.kind, DNS_JOB_NONE);
    struct dns_msg m = answer(f, n);
    assert_true(m.hdr.aa);
    assert_int_equal(m.count[0], 1);
    assert_int_equal(m.rr[0][0].type, DNS_TYPE_SOA);
    /* TCP, client up to date: a stream of the SOA alone */
    n = run(f, q, len, "192.0.2.9", true, NOW, &job);
    assert_int_equal(job.kind, DNS_JOB_XFR);
    assert_int_equal(job.xfr->out.mode, DNS_XFROUT_UPTODATE);
    size_t ml = dns_server_xfr_next(job.xfr, NOW, f->out, DNS_MSG_MAX);
    m = answer(f, ml);
    assert_int_equal(m.count[0], 1);
    assert_int_equal(dns_server_xfr_next(job.xfr, NOW, f->out, DNS_MSG_MAX), 0);
    dns_server_xfr_free(job.xfr);
    /* no client SOA in the authority section: FORMERR */
    len = query(q, "example.com.", DNS_TYPE_IXFR, 52);
    n = run(f, q, len, "192.0.2.9", true, NOW, &job);
    assert_int_equal(job.kind, DNS_JOB_NONE);
    assert_int_equal(answer(f, n).rcode, DNS_RCODE_FORMERR);
}

/* ---- NOTIFY ---- */

static void test_notify(void **state)
{
    struct fx *f = *state;
    uint8_t q[1024];
    struct dns_server_job_out job;
    uint8_t zn[DNS_NAME_MAXLEN];
    name_of("sec.test.", zn);
    size_t len = dns_xfr_build(q, 512, 61, DNS_OPCODE_NOTIFY, zn, DNS_TYPE_SOA, NULL, 0, 0);
    /* from the primary: NOERROR, AA, and the zone refreshes */
    size_t n = run(f, q, len, "198.51.100.1", false, NOW, &job);
    struct dns_msg m = answer(f, n);
    assert_int_equal(m.rcode, DNS_RCODE_NOERROR);
    assert_int_equal(m.hdr.opcode, DNS_OPCODE_NOTIFY);
    assert_true(m.hdr.aa);
    assert_int_equal(job.kind, DNS_JOB_REFRESH);
    assert_int_equal(job.zi, 1);
    /* from anyone else: REFUSED, nothing refreshes (RFC 1996 §3.10) */
    n = run(f, q, len, "198.51.100.2", false, NOW, &job);
    assert_int_equal(answer(f, n).rcode, DNS_RCODE_REFUSED);
    assert_int_equal(job.kind, DNS_JOB_NONE);
    /* for a zone we are primary of: NOTAUTH */
    len = dns_xfr_build(q, 512, 62, DNS_OPCODE_NOTIFY, f->zc[0].origin, DNS_TYPE_SOA, NULL, 0, 0);
    n = run(f, q, len, "198.51.100.1", false, NOW, &job);
    assert_int_equal(answer(f, n).rcode, DNS_RCODE_NOTAUTH);
    assert_int_equal(job.kind, DNS_JOB_NONE);
}

/* ---- UPDATE ---- */

struct upd {
    uint8_t b[4096];
    struct dns_builder bld;
};

static void upd_begin(struct upd *u, const char *zone, uint16_t id)
{
    struct dns_header h = {.id = id, .opcode = DNS_OPCODE_UPDATE};
    dns_builder_init(&u->bld, u->b, sizeof u->b, sizeof u->b, &h);
    u->bld.compress = false;
    uint8_t zn[DNS_NAME_MAXLEN];
    name_of(zone, zn);
    assert_int_equal(dns_builder_question(&u->bld, zn, DNS_TYPE_SOA, DNS_CLASS_IN), 0);
}

/* sec: DNS_SEC_ANSWER prerequisites, DNS_SEC_AUTHORITY updates. */
static void upd_rr(struct upd *u, enum dns_section sec, const char *owner, uint16_t type,
                   uint16_t cls, uint32_t ttl, const uint8_t *rd, size_t rdlen)
{
    uint8_t on[DNS_NAME_MAXLEN];
    name_of(owner, on);
    assert_int_equal(dns_builder_rr(&u->bld, sec, on, type, cls, ttl, rd, rdlen), 0);
}

static void test_update_checks(void **state)
{
    struct fx *f = *state;
    struct dns_server_job_out job;
    struct upd u;
    const uint8_t a[4] = {192, 0, 2, 50};
    upd_begin(&u, "example.com.", 71);
    upd_rr(&u, DNS_SEC_AUTHORITY, "new.example.com.", DNS_TYPE_A, DNS_CLASS_IN, 60, a, 4);
    size_t len = dns_builder_finish(&u.bld);
    /* not in allow_update */
    size_t n = run(f, u.b, len, "192.0.2.9", false, NOW, &job);
    assert_int_equal(answer(f, n).rcode, DNS_RCODE_REFUSED);
    assert_int_equal(job.kind, DNS_JOB_NONE);
    /* from the allowed address: a job for the control thread, nothing answered yet */
    n = run(f, u.b, len, "192.0.2.7", false, NOW, &job);
    assert_int_equal(n, 0);
    assert_int_equal(job.kind, DNS_JOB_UPDATE);
    assert_int_equal(job.zi, 0);
    assert_null(job.tsig.key);
    /* an IPv4-mapped IPv6 source matches the IPv4 entry */
    n = run(f, u.b, len, "::ffff:192.0.2.7", false, NOW, &job);
    assert_int_equal(job.kind, DNS_JOB_UPDATE);
    /* a zone we do not have: NOTAUTH; our secondary: NOTIMP (no forwarding) */
    upd_begin(&u, "other.org.", 72);
    len = dns_builder_finish(&u.bld);
    assert_int_equal(answer(f, run(f, u.b, len, "192.0.2.7", false, NOW, &job)).rcode,
                     DNS_RCODE_NOTAUTH);
    upd_begin(&u, "sec.test.", 73);
    len = dns_builder_finish(&u.bld);
    assert_int_equal(answer(f, run(f, u.b, len, "192.0.2.7", false, NOW, &job)).rcode,
                     DNS_RCODE_NOTIMP);
    /* zone section not of type SOA: FORMERR (RFC 2136 §3.1.1) */
    uint8_t q[512];
    len = dns_xfr_build(q, sizeof q, 74, DNS_OPCODE_UPDATE, f->zc[0].origin, DNS_TYPE_A, NULL, 0,
                        0);
    assert_int_equal(answer(f, run(f, q, len, "192.0.2.7", false, NOW, &job)).rcode,
                     DNS_RCODE_FORMERR);
}

/* The control thread's half: apply, then the answer bytes (signed with the request's key). */
static void test_update_apply(void **state)
{
    struct fx *f = *state;
    struct dns_server_job_out job;
    struct upd u;
    const uint8_t a[4] = {192, 0, 2, 50};
    upd_begin(&u, "example.com.", 81);
    /* prerequisite: www has an A RRset (class ANY, empty rdata: parsed by the wire parser) */
    upd_rr(&u, DNS_SEC_ANSWER, "www.example.com.", DNS_TYPE_A, DNS_CLASS_ANY, 0, NULL, 0);
    upd_rr(&u, DNS_SEC_AUTHORITY, "new.example.com.", DNS_TYPE_A, DNS_CLASS_IN, 60, a, 4);
    /* delete the MX RRset (class ANY, empty rdata) */
    upd_rr(&u, DNS_SEC_AUTHORITY, "example.com.", DNS_TYPE_MX, DNS_CLASS_ANY, 0, NULL, 0);
    size_t len = dns_builder_finish(&u.bld);
    uint8_t mac[DNS_TSIG_MAC_MAX];
    size_t maclen;
    len = sign(u.b, len, &f->keys[1], NOW, mac, &maclen);
    /* the key opens the ACL from any address */
    assert_int_equal(run(f, u.b, len, "203.0.113.5", true, NOW, &job), 0);
    assert_int_equal(job.kind, DNS_JOB_UPDATE);
    assert_ptr_equal(job.tsig.key, &f->keys[1]);

    struct dns_server_update_result res;
    dns_arena_reset(&f->arena);
    assert_int_equal(dns_server_update_apply(f->zone, u.b, len, &f->arena, &res), 0);
    assert_int_equal(res.rcode, DNS_RCODE_NOERROR);
    assert_non_null(res.zone);
    assert_non_null(res.diff);
    assert_int_equal(dns_zone_serial(res.zone), 101); /* §3.6: serial bumped */
    assert_true(has_record(res.zone, "new.example.com.", DNS_TYPE_A));
    assert_false(has_record(res.zone, "example.com.", DNS_TYPE_MX));
    assert_true(has_record(f->zone, "example.com.", DNS_TYPE_MX)); /* the old one untouched */
    dns_zone_unref(res.zone);
    dns_zdiff_unref(res.diff);

    dns_arena_reset(&f->arena);
    size_t n = dns_server_update_answer(u.b, len, res.rcode, true, 1232, &job.tsig, NOW,
                                        &f->arena, f->out, DNS_MSG_MAX);
    dns_arena_reset(&f->arena);
    struct dns_msg m = answer(f, n);
    assert_int_equal(m.hdr.id, 81);
    assert_int_equal(m.hdr.opcode, DNS_OPCODE_UPDATE);
    assert_int_equal(m.rcode, DNS_RCODE_NOERROR);
    struct dns_tsig_result tr;
    assert_int_equal(dns_tsig_verify(f->out, n, &m, &f->keys[1], 1, NOW, mac, maclen, &tr), 0);

    /* a prerequisite that fails: NXRRSET, nothing changed */
    upd_begin(&u, "example.com.", 82);
    upd_rr(&u, DNS_SEC_ANSWER, "nothere.example.com.", DNS_TYPE_A, DNS_CLASS_ANY, 0, NULL, 0);
    upd_rr(&u, DNS_SEC_AUTHORITY, "new.example.com.", DNS_TYPE_A, DNS_CLASS_IN, 60, a, 4);
    len = dns_builder_finish(&u.bld);
    dns_arena_reset(&f->arena);
    assert_int_equal(dns_server_update_apply(f->zone, u.b, len, &f->arena, &res), 0);
    assert_int_equal(res.rcode, DNS_RCODE_NXRRSET);
    assert_null(res.zone);
    /* the zone went away meanwhile (secondary expired, shutdown): SERVFAIL */
    assert_int_equal(dns_server_update_apply(NULL, u.b, len, &f->arena, &res), 0);
    assert_int_equal(res.rcode, DNS_RCODE_SERVFAIL);
}

/* Empty rdata is UPDATE's alone: the same record in a QUERY is malformed. */
static void test_empty_rdata_only_in_update(void **state)
{
    struct fx *f = *state;
    struct upd u;
    upd_begin(&u, "example.com.", 91);
    upd_rr(&u, DNS_SEC_AUTHORITY, "www.example.com.", DNS_TYPE_MX, DNS_CLASS_ANY, 0, NULL, 0);
    size_t len = dns_builder_finish(&u.bld);
    struct dns_msg m;
    dns_arena_reset(&f->arena);
    assert_int_equal(dns_msg_parse(u.b, len, &m, &f->arena), 0);
    assert_int_equal(m.count[1], 1);
    assert_int_equal(m.rr[1][0].rdlen, 0);
    u.b[2] &= (uint8_t)~0x78; /* opcode QUERY */
    dns_arena_reset(&f->arena);
    assert_int_not_equal(dns_msg_parse(u.b, len, &m, &f->arena), 0);
    struct dns_server_job_out job;
    assert_int_equal(answer(f, run(f, u.b, len, "192.0.2.7", false, NOW, &job)).rcode,
                     DNS_RCODE_FORMERR);
}

/* ---- response rate limiting ---- */

static void test_rrl(void **state)
{
    struct fx *f = *state;
    uint8_t q[1024];
    struct dns_server_job_out job;
    size_t qlen = query(q, "www.example.com.", DNS_TYPE_A, 99);
    struct dns_rrl *r = dns_rrl_new(5, 2, 64);
    struct sockaddr_storage far = sa4("203.0.113.5"), lo = sa4("127.0.0.1"),
                            lo6 = sa6("::1"), mapped = sa6("::ffff:127.0.0.9");
    unsigned sent = 0, slipped = 0, dropped = 0;
    for (int i = 0; i < 20; i++) {
        size_t n = run(f, q, qlen, "203.0.113.5", false, NOW, &job);
        size_t full = n;
        n = dns_rrl_apply(r, (struct sockaddr *)&far, f->out, n, 1000);
        if (n == full) {
            sent++;
        } else if (n) {
            slipped++;
            struct dns_msg m = answer(f, n);
            assert_true(m.hdr.tc);
            assert_int_equal(m.hdr.qdcount, 1);
            assert_int_equal(m.count[0] + m.count[1] + m.count[2], 0);
        } else {
            dropped++;
        }
    }
    assert_int_equal(sent, 5); /* one second's burst */
    assert_int_equal(slipped, 7); /* every 2nd of the 15 over the limit */
    assert_int_equal(dropped, 8);
    /* loopback is never limited (v4, v6, v4-mapped) */
    for (int i = 0; i < 50; i++) {
        size_t n = run(f, q, qlen, "127.0.0.1", false, NOW, &job);
        assert_int_equal(dns_rrl_apply(r, (struct sockaddr *)&lo, f->out, n, 1000), n);
        assert_int_equal(dns_rrl_apply(r, (struct sockaddr *)&lo6, f->out, n, 1000), n);
        assert_int_equal(dns_rrl_apply(r, (struct sockaddr *)&mapped, f->out, n, 1000), n);
    }
    /* off (no table): everything goes */
    size_t n = run(f, q, qlen, "203.0.113.5", false, NOW, &job);
    assert_int_equal(dns_rrl_apply(NULL, (struct sockaddr *)&far, f->out, n, 1000), n);
    dns_rrl_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_query, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_malformed_and_responses, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_axfr_access, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_axfr_stream, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_axfr_tsig, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_tsig_errors, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_ixfr, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_notify, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_update_checks, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_update_apply, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_empty_rdata_only_in_update, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_rrl, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
