/* torrent/tracker and its HTTP and UDP forms: announce, peers by address and port, events,
 * counts, numwant, expiry, allow-list, flood limit, failure reasons, BEP 15 connection ids;
 * thousands of peers in one torrent's table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "torrent/bencode.h"
#include "torrent/tracker.h"
#include "torrent/tracker_proto.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static struct tracker_limits lim(void)
{
    return (struct tracker_limits){.interval = 1800,
                                   .min_interval = 900,
                                   .expire = 3660,
                                   .numwant_default = 50,
                                   .max_torrents = 10,
                                   .max_peers = 100,
                                   .flood_rate = 0,
                                   .flood_burst = 10};
}

static struct tracker_announce ann(const char *ip, uint16_t port, uint64_t left,
                                   enum tracker_event ev)
{
    struct tracker_announce a = {0};
    memset(a.info_hash, 0x11, 20);
    memset(a.peer_id, (int)port, 20);
    assert_true(tracker_addr_parse(ip, &a.addr));
    a.port = port;
    a.left = left;
    a.event = ev;
    a.numwant = -1;
    return a;
}

static void test_swarm(void **state)
{
    (void)state;
    struct tracker_limits l = lim();
    struct tracker *t = tracker_new(&l, 1);
    static struct tracker_reply r;
    struct tracker_announce a = ann("10.0.0.1", 6881, 0, TRACKER_STARTED);
    tracker_announce(t, &a, 1000, &r);
    assert_null(r.failure);
    assert_int_equal(r.complete, 1);
    assert_int_equal(r.npeers, 0);
    /* a second peer on the same address but another port is another peer */
    a = ann("10.0.0.1", 6882, 500, TRACKER_STARTED);
    tracker_announce(t, &a, 1001, &r);
    assert_int_equal(r.complete, 1);
    assert_int_equal(r.incomplete, 1);
    assert_int_equal(r.npeers, 1);
    assert_int_equal(r.peers[0].port, 6881);
    a = ann("2001:db8::1", 7000, 500, TRACKER_STARTED);
    tracker_announce(t, &a, 1002, &r);
    assert_int_equal(r.npeers, 2);
    /* the seed gets no seeds */
    a = ann("10.0.0.1", 6881, 0, TRACKER_NONE);
    tracker_announce(t, &a, 1003, &r);
    assert_int_equal(r.npeers, 2);
    for (size_t i = 0; i < r.npeers; i++)
        assert_int_not_equal(r.peers[i].port, 6881);
    /* completed counts once; numwant 1 */
    a = ann("10.0.0.1", 6882, 0, TRACKER_COMPLETED);
    a.numwant = 1;
    tracker_announce(t, &a, 1004, &r);
    assert_int_equal(r.complete, 2);
    assert_int_equal(r.downloaded, 1);
    assert_int_equal(r.npeers, 1);
    tracker_announce(t, &a, 1005, &r);
    assert_int_equal(r.downloaded, 1);
    /* a seed (or a magnet client that cannot know its left yet) gets the leecher first,
     * then the seeds to fill its numwant */
    a = ann("10.0.0.5", 7100, 0, TRACKER_STARTED);
    tracker_announce(t, &a, 1006, &r);
    assert_int_equal(r.npeers, 3);
    assert_int_equal(r.peers[0].port, 7000);
    a.numwant = 1;
    tracker_announce(t, &a, 1007, &r);
    assert_int_equal(r.npeers, 1);
    assert_int_equal(r.peers[0].port, 7000);
    a = ann("10.0.0.5", 7100, 0, TRACKER_STOPPED);
    tracker_announce(t, &a, 1005, &r);
    /* stopped leaves */
    a = ann("2001:db8::1", 7000, 500, TRACKER_STOPPED);
    tracker_announce(t, &a, 1006, &r);
    assert_int_equal(r.incomplete, 0);
    size_t nt, np;
    tracker_stats(t, &nt, &np);
    assert_int_equal(np, 2);
    /* silent for longer than expire: gone */
    a = ann("10.0.0.1", 6881, 0, TRACKER_NONE);
    tracker_announce(t, &a, 3000, &r);
    assert_int_equal(tracker_expire(t, 1005 + 3661), 1);
    tracker_stats(t, &nt, &np);
    assert_int_equal(np, 1);
    assert_int_equal(tracker_expire(t, 3000 + 3661), 1);
    tracker_free(t);
}

static void test_limits(void **state)
{
    (void)state;
    struct tracker_limits l = lim();
    l.max_peers = 2;
    l.flood_rate = 1;
    l.flood_burst = 3;
    struct tracker *t = tracker_new(&l, 1);
    static struct tracker_reply r;
    for (uint16_t p = 1; p <= 3; p++) {
        struct tracker_announce a = ann("10.0.0.9", p, 5, TRACKER_STARTED);
        tracker_announce(t, &a, 100, &r);
        assert_null(r.failure);
        assert_int_equal(r.npeers, p - 1);
    }
    /* the third found the torrent full: it got both peers but is not stored nor counted */
    assert_int_equal(r.incomplete, 2);
    size_t nt, np;
    tracker_stats(t, &nt, &np);
    assert_int_equal(np, 2);
    struct tracker_announce a = ann("10.0.0.9", 1, 5, TRACKER_NONE);
    tracker_announce(t, &a, 100, &r);
    assert_non_null(r.failure); /* the fourth within a second: flood */
    assert_true(strstr(r.failure, "slow down") != NULL);
    /* another address is not affected; a second later one token is back */
    a = ann("10.0.0.8", 1, 5, TRACKER_NONE);
    a.event = TRACKER_STOPPED;
    tracker_announce(t, &a, 100, &r);
    assert_null(r.failure);
    a = ann("10.0.0.9", 1, 5, TRACKER_NONE);
    tracker_announce(t, &a, 101, &r);
    assert_null(r.failure);
    tracker_free(t);
    /* allow-list: only the listed hash */
    l = lim();
    l.allow_list = true;
    t = tracker_new(&l, 1);
    a = ann("10.0.0.9", 1, 5, TRACKER_STARTED);
    tracker_announce(t, &a, 100, &r);
    assert_string_equal(r.failure, "unregistered torrent");
    tracker_allow(t, a.info_hash);
    tracker_announce(t, &a, 100, &r);
    assert_null(r.failure);
    tracker_free(t);
}

static void expect_failure(struct tracker *t, const char *query, const char *why)
{
    struct tracker_addr from;
    tracker_addr_parse("127.0.0.1", &from);
    struct str out = STR_INIT;
    tracker_http_announce(t, slice_cstr(query), &from, 10, &out);
    char want[256];
    snprintf(want, sizeof want, "d14:failure reason%zu:%se", strlen(why), why);
    if (strcmp(out.ptr, want) != 0)
        fail_msg("%s: got %s, want %s", query, out.ptr, want);
    str_clear(&out);
}

#define IH "info_hash=%11%11%11%11%11%11%11%11%11%11%11%11%11%11%11%11%11%11%11%11"
#define PID "&peer_id=-PG0001-abcdefghijkl"

static void test_http(void **state)
{
    (void)state;
    struct tracker_limits l = lim();
    struct tracker *t = tracker_new(&l, 1);
    expect_failure(t, PID "&port=1&left=0", "missing info_hash");
    expect_failure(t, "info_hash=abc" PID "&port=1&left=0", "invalid info_hash");
    expect_failure(t, IH "&port=1&left=0", "missing peer_id");
    expect_failure(t, IH PID "&left=0", "missing port");
    expect_failure(t, IH PID "&port=0&left=0", "invalid port");
    expect_failure(t, IH PID "&port=70000&left=0", "invalid port");
    expect_failure(t, IH PID "&port=1", "missing left");
    expect_failure(t, IH PID "&port=1&left=-1", "invalid uploaded, downloaded or left");
    expect_failure(t, IH PID "&port=1&left=0&event=bogus", "invalid event");
    expect_failure(t, IH PID "&port=1&left=0&numwant=x", "invalid numwant");
    expect_failure(t, IH "%zz" PID "&port=1&left=0", "malformed query");
    struct tracker_addr a1, a2;
    tracker_addr_parse("::ffff:127.0.0.2", &a1);
    assert_false(a1.v6);
    tracker_addr_parse("::1", &a2);
    struct str out = STR_INIT;
    tracker_http_announce(t, slice_cstr(IH PID "&port=6881&left=0&event=started"), &a1, 10, &out);
    str_reset(&out);
    tracker_http_announce(t, slice_cstr(IH PID "&port=7000&left=10&compact=1"), &a2, 11, &out);
    /* a compact IPv4 list with 127.0.0.2:6881; no IPv6 peer but ourselves */
    const char *want = "d8:completei1e10:downloadedi0e10:incompletei1e8:intervali1800e"
                       "12:min intervali900e5:peers6:\x7f\x00\x00\x02\x1a\xe1"
                       "e";
    assert_int_equal(out.len,
                     strlen("d8:completei1e10:downloadedi0e10:incompletei1e8:intervali1800e"
                            "12:min intervali900e5:peers6:") +
                         6 + 1);
    assert_memory_equal(out.ptr, want, out.len);
    str_reset(&out);
    tracker_http_announce(t, slice_cstr(IH PID "&port=7000&left=10&compact=0"), &a2, 12, &out);
    assert_non_null(strstr(out.ptr, "2:ip9:127.0.0.2"));
    str_reset(&out);
    tracker_http_announce(t, slice_cstr(IH PID "&port=7001&left=0"), &a1, 13, &out);
    /* the IPv6 leecher for the seed, and the other seed after it (binary: memmem) */
    assert_non_null(memmem(out.ptr, out.len, "6:peers618:", 11));
    assert_non_null(memmem(out.ptr, out.len, "5:peers6:\x7f\x00\x00\x02\x1a\xe1", 15));
    str_reset(&out);
    tracker_http_scrape(
        t, slice_cstr(IH "&info_hash=%22%22%22%22%22%22%22%22%22%22%22%22%22%22%22%22%22%22%22%22"),
        &a1, 14, &out);
    assert_non_null(strstr(out.ptr, "d8:completei2e10:downloadedi0e10:incompletei1ee"));
    assert_non_null(strstr(out.ptr, "d8:completei0e10:downloadedi0e10:incompletei0ee"));
    str_reset(&out);
    tracker_http_scrape(t, slice_cstr(""), &a1, 14, &out);
    assert_non_null(strstr(out.ptr, "failure reason"));
    str_clear(&out);
    tracker_free(t);
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
    uint32_t be = htonl(v);
    memcpy(p, &be, 4);
    return p + 4;
}

static uint32_t get32(const uint8_t *p)
{
    uint32_t be;
    memcpy(&be, p, 4);
    return ntohl(be);
}

static void test_udp(void **state)
{
    (void)state;
    struct tracker_limits l = lim();
    struct tracker *t = tracker_new(&l, 1);
    uint8_t secret[32] = {1, 2, 3}, pkt[200], out[TRACKER_UDP_MAX];
    struct tracker_addr from, other;
    tracker_addr_parse("192.0.2.1", &from);
    tracker_addr_parse("192.0.2.2", &other);
    put32(put32(put32(put32(pkt, 0x417), 0x27101980), 0), 0xabcd);
    assert_int_equal(tracker_udp_process(t, secret, pkt, 16, &from, 600, out), 16);
    assert_int_equal(get32(out), 0);
    assert_int_equal(get32(out + 4), 0xabcd);
    uint8_t cid[8];
    memcpy(cid, out + 8, 8);
    /* announce with that id */
    memset(pkt, 0, sizeof pkt);
    memcpy(pkt, cid, 8);
    put32(put32(pkt + 8, 1), 77);
    memset(pkt + 16, 0x11, 20);
    memset(pkt + 36, 0x22, 20);
    put32(pkt + 80, 2);          /* started */
    put32(pkt + 92, 0xffffffff); /* numwant -1 */
    pkt[96] = 0x1a, pkt[97] = 0xe1;
    assert_int_equal(tracker_udp_process(t, secret, pkt, 98, &from, 600, out), 20);
    assert_int_equal(get32(out), 1);
    assert_int_equal(get32(out + 8), 1800);
    assert_int_equal(get32(out + 12), 0); /* leechers */
    assert_int_equal(get32(out + 16), 1); /* seeders: left 0, ourselves */
    /* still valid two minutes later, not three; not from another address */
    assert_int_equal(get32(out + 4), 77);
    assert_int_equal(tracker_udp_process(t, secret, pkt, 98, &from, 600 + 120, out), 20);
    assert_int_equal(get32(out), 1);
    tracker_udp_process(t, secret, pkt, 98, &from, 600 + 180, out);
    assert_int_equal(get32(out), 3);
    tracker_udp_process(t, secret, pkt, 98, &other, 600, out);
    assert_int_equal(get32(out), 3);
    /* scrape, short and bad packets */
    put32(pkt + 8, 2);
    assert_int_equal(tracker_udp_process(t, secret, pkt, 36, &from, 600, out), 20);
    assert_int_equal(get32(out + 8), 1);
    tracker_udp_process(t, secret, pkt, 30, &from, 600, out);
    assert_int_equal(get32(out), 3);
    assert_int_equal(tracker_udp_process(t, secret, pkt, 15, &from, 600, out), 0);
    put32(pkt + 8, 1);
    tracker_udp_process(t, secret, pkt, 60, &from, 600, out);
    assert_int_equal(get32(out), 3);
    put32(pkt + 8, 9);
    tracker_udp_process(t, secret, pkt, 98, &from, 600, out);
    assert_int_equal(get32(out), 3);
    tracker_free(t);
}

/* The peer table (tracker.c): thousands of peers found again by address and port through
 * removals from the middle (the last peer moves into the hole, probe runs shift back). */
static void test_many_peers(void **state)
{
    (void)state;
    struct tracker_limits l = lim();
    l.max_peers = 100000;
    struct tracker *t = tracker_new(&l, 7);
    static struct tracker_reply r;
    enum { N = 5000 };
    char ip[64];
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < N; i++) {
            if (i % 7 == 3)
                snprintf(ip, sizeof ip, "2001:db8::%x", i);
            else
                snprintf(ip, sizeof ip, "10.%d.%d.1", i / 250, i % 250);
            struct tracker_announce a =
                ann(ip, (uint16_t)(6881 + i % 3), 500, round ? TRACKER_NONE : TRACKER_STARTED);
            tracker_announce(t, &a, 1000 + round, &r);
            assert_null(r.failure);
            /* a re-announce finds the peer: the count does not grow */
            int known = round ? N : i + 1;
            assert_int_equal(r.incomplete, known);
            assert_int_equal(r.npeers, known - 1 < 50 ? known - 1 : 50);
        }
    for (int i = 1; i < N; i += 2) { /* every odd peer leaves */
        if (i % 7 == 3)
            snprintf(ip, sizeof ip, "2001:db8::%x", i);
        else
            snprintf(ip, sizeof ip, "10.%d.%d.1", i / 250, i % 250);
        struct tracker_announce a = ann(ip, (uint16_t)(6881 + i % 3), 500, TRACKER_STOPPED);
        tracker_announce(t, &a, 1002, &r);
        assert_int_equal(r.incomplete, N - (i + 1) / 2);
    }
    for (int i = 0; i < N; i++) { /* the even ones are still known, the odd ones are new */
        if (i % 7 == 3)
            snprintf(ip, sizeof ip, "2001:db8::%x", i);
        else
            snprintf(ip, sizeof ip, "10.%d.%d.1", i / 250, i % 250);
        struct tracker_announce a = ann(ip, (uint16_t)(6881 + i % 3), 500, TRACKER_NONE);
        tracker_announce(t, &a, 1003, &r);
        assert_int_equal(r.incomplete, N / 2 + (i + 1) / 2);
    }
    /* all silent past expire: the next announce, in a new second, sees only itself */
    struct tracker_announce a = ann("192.0.2.9", 7000, 500, TRACKER_STARTED);
    tracker_announce(t, &a, 1003 + l.expire + 1, &r);
    assert_int_equal(r.incomplete, 1);
    assert_int_equal(r.npeers, 0);
    tracker_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_swarm),      cmocka_unit_test(test_limits),
        cmocka_unit_test(test_http),       cmocka_unit_test(test_udp),
        cmocka_unit_test(test_many_peers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
