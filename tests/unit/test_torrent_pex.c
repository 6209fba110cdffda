/* torrent/swarm_ext PEX (BEP 11): a peer speaking ut_pex hears which peers joined (with the
 * port they listen on: the one we dialled, or the one their extension handshake told) and
 * later which left, at most once a minute; the addresses a peer tells reach ops.found,
 * a second message within the minute is ignored, a malformed one closes the connection; on
 * a private torrent (BEP 27), and on any with [torrent] pex = no, PEX is neither offered nor
 * obeyed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "torrent/bencode.h"
#include "torrent/ext.h"
#include "torrent/metainfo.h"
#include "torrent/swarm.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct side {
    struct str out;
    bool closed;
    char why[128];
};

static struct tor_pex_addr found[64];
static size_t nfound;

static void f_send(void *conn, const void *p, size_t n)
{
    str_append(&((struct side *)conn)->out, p, n);
}

static void f_close(void *conn, const char *why)
{
    struct side *sd = conn;
    sd->closed = true;
    snprintf(sd->why, sizeof sd->why, "%s", why);
}

static size_t f_pending(void *conn)
{
    (void)conn;
    return 0;
}

static int f_read(void *ctx, uint32_t piece, uint32_t begin, uint32_t len, uint8_t *out)
{
    (void)ctx, (void)piece, (void)begin;
    memset(out, 0, len);
    return 0;
}

static void f_verify(void *ctx, uint32_t piece, const uint8_t *data, size_t len)
{
    (void)ctx, (void)piece, (void)data, (void)len;
}

static void f_log(void *ctx, uint64_t peer, const char *what)
{
    (void)ctx, (void)peer, (void)what;
}

static void f_found(void *ctx, const struct tor_pex_addr *a, size_t n)
{
    (void)ctx;
    memcpy(found + nfound, a, n * sizeof *a);
    nfound += n;
}

static const struct tor_swarm_ops ops = {f_send,   f_close, f_pending, f_read,
                                         f_verify, f_log,   f_found, NULL, NULL, NULL};

static void make_meta(struct tor_meta *m, bool priv)
{
    struct str t = STR_INIT;
    benc_open_dict(&t);
    benc_put_cstr(&t, "info");
    benc_open_dict(&t);
    benc_put_cstr(&t, "length");
    benc_put_int(&t, 40000);
    benc_put_cstr(&t, "name");
    benc_put_cstr(&t, "p.bin");
    benc_put_cstr(&t, "piece length");
    benc_put_int(&t, 32768);
    benc_put_cstr(&t, "pieces");
    str_appendf(&t, "40:");
    for (int i = 0; i < 40; i++)
        str_appendc(&t, (char)i);
    if (priv) {
        benc_put_cstr(&t, "private");
        benc_put_int(&t, 1);
    }
    benc_close(&t);
    benc_close(&t);
    const char *why;
    assert_int_equal(tor_meta_parse(t.ptr, t.len, m, &why), 0);
    str_clear(&t);
}

/* A remote peer's handshake (extension protocol) and extension handshake (ut_pex, port). */
static void hello(struct tor_swarm *s, struct tor_peer *p, const struct tor_meta *m, char tag,
                  uint16_t port)
{
    struct str in = STR_INIT;
    struct tor_handshake hs = {.reserved = {0, 0, 0, 0, 0, TOR_RESERVED_EXT, 0, 0}};
    memcpy(hs.info_hash, m->info_hash, 20);
    memset(hs.peer_id, tag, 20);
    tor_wire_put_handshake(&in, &hs);
    str_appendf(&in, "%s", "");
    struct str d = STR_INIT;
    str_appendf(&d, "d1:md6:ut_pexi5ee1:pi%uee", port);
    tor_wire_put_extended(&in, 0, d.ptr, d.len, NULL, 0);
    tor_swarm_peer_feed(s, p, (uint8_t *)in.ptr, in.len, 1);
    str_clear(&in);
    str_clear(&d);
}

/* The last ut_pex message (ext id 5) written to sd, parsed; -1 when there is none. */
static int last_pex(struct side *sd, struct tor_pex_addr *a, size_t max, bool *dropped)
{
    int got = -1;
    size_t pos = 0;
    if (sd->out.len >= 68 && memcmp(sd->out.ptr,
                                    "\x13"
                                    "BitTorrent",
                                    11) == 0)
        pos = 68;
    while (pos < sd->out.len) {
        struct tor_msg m;
        long used =
            tor_wire_msg_parse((uint8_t *)sd->out.ptr + pos, sd->out.len - pos, 1 << 20, &m);
        assert_true(used > 0);
        pos += (size_t)used;
        if (m.id == TOR_MSG_EXTENDED && m.ext_id == 5) {
            got = tor_pex_parse((const uint8_t *)m.data.p, m.data.len, a, max);
            *dropped = memmem(m.data.p, m.data.len, "7:dropped6:", 11) != NULL;
        }
    }
    str_reset(&sd->out);
    return got;
}

static void test_pex_both_ways(void **state)
{
    (void)state;
    struct tor_meta m;
    make_meta(&m, false);
    struct tor_swarm_limits lim = {
        .max_peers = 10, .max_active_bytes = 1 << 20, .slots = 4, .listen_port = 6881};
    uint8_t id[20] = "-PG0001-pexpexpexpex";
    struct tor_swarm *s = tor_swarm_new(&m, NULL, id, &ops, NULL, &lim, 1);
    struct side a = {0}, b = {0}, c = {0};
    /* a: dialled by us at 10.0.0.1:7001; b: came in, tells port 7002; c: listens */
    struct tor_peer *pa = tor_swarm_peer_new(s, &a, "10.0.0.1", true, 0);
    tor_swarm_peer_set_port(pa, 7001);
    struct tor_peer *pb = tor_swarm_peer_new(s, &b, "10.0.0.2", false, 0);
    struct tor_peer *pc = tor_swarm_peer_new(s, &c, "2001:db8::3", false, 0);
    hello(s, pa, &m, 'a', 0);
    hello(s, pb, &m, 'b', 7002);
    hello(s, pc, &m, 'c', 0);
    /* our extension handshake offered ut_pex and told our port */
    assert_non_null(memmem(c.out.ptr, c.out.len, "6:ut_pexi2e", 11));
    assert_non_null(memmem(c.out.ptr, c.out.len, "1:pi6881e", 9));
    tor_swarm_tick(s, 1000);
    struct tor_pex_addr got[8];
    bool dropped;
    assert_int_equal(last_pex(&c, got, 8, &dropped), 2);
    uint16_t ports[2] = {got[0].port, got[1].port};
    assert_true((ports[0] == 7001 && ports[1] == 7002) || (ports[0] == 7002 && ports[1] == 7001));
    assert_int_equal(got[0].family, AF_INET);
    /* c itself has no known port: nobody hears of it */
    assert_int_equal(last_pex(&a, got, 8, &dropped), 1);
    assert_int_equal(got[0].port, 7002);
    /* b leaves: within the minute nothing, after it the drop */
    tor_swarm_peer_gone(s, pb);
    tor_swarm_tick(s, 30000);
    assert_int_equal(last_pex(&c, got, 8, &dropped), -1);
    tor_swarm_tick(s, 62000);
    assert_int_equal(last_pex(&c, got, 8, &dropped), 0);
    assert_true(dropped);
    /* c tells of two peers: found; again at once: ignored; malformed: closed */
    struct tor_pex_addr two[2] = {{.family = AF_INET, .port = 9001},
                                  {.family = AF_INET6, .port = 9002}};
    inet_pton(AF_INET, "192.0.2.9", two[0].ip);
    inet_pton(AF_INET6, "2001:db8::9", two[1].ip);
    struct str in = STR_INIT;
    tor_pex_put(&in, TOR_EXT_UT_PEX, two, 2, NULL, 0);
    tor_swarm_peer_feed(s, pc, (uint8_t *)in.ptr, in.len, 63000);
    assert_int_equal(nfound, 2);
    assert_int_equal(found[1].port, 9002);
    assert_int_equal(found[1].family, AF_INET6);
    tor_swarm_peer_feed(s, pc, (uint8_t *)in.ptr, in.len, 64000);
    assert_int_equal(nfound, 2);
    str_reset(&in);
    const char bad[] = "d5:added5:12345e";
    tor_wire_put_extended(&in, TOR_EXT_UT_PEX, bad, strlen(bad), NULL, 0);
    tor_swarm_peer_feed(s, pc, (uint8_t *)in.ptr, in.len, 200000);
    assert_true(c.closed);
    assert_string_equal(c.why, "malformed PEX message");
    str_clear(&in);
    tor_swarm_peer_gone(s, pa);
    tor_swarm_peer_gone(s, pc);
    tor_swarm_free(s);
    str_clear(&a.out);
    str_clear(&b.out);
    str_clear(&c.out);
    tor_meta_clear(&m);
}

/* PEX neither offered (no ut_pex in our extension handshake), nor sent, nor obeyed. */
static void check_no_pex(bool priv, bool no_pex)
{
    struct tor_meta m;
    make_meta(&m, priv);
    struct tor_swarm_limits lim = {
        .max_peers = 10, .max_active_bytes = 1 << 20, .slots = 4, .no_pex = no_pex};
    uint8_t id[20] = "-PG0001-pexpexpexpex";
    struct tor_swarm *s = tor_swarm_new(&m, NULL, id, &ops, NULL, &lim, 1);
    struct side a = {0}, c = {0};
    struct tor_peer *pa = tor_swarm_peer_new(s, &a, "10.0.0.1", true, 0);
    tor_swarm_peer_set_port(pa, 7001);
    struct tor_peer *pc = tor_swarm_peer_new(s, &c, "10.0.0.3", false, 0);
    hello(s, pa, &m, 'a', 0);
    hello(s, pc, &m, 'c', 7003);
    assert_null(memmem(c.out.ptr, c.out.len, "ut_pex", 6));
    tor_swarm_tick(s, 1000);
    struct tor_pex_addr got[8];
    bool dropped;
    assert_int_equal(last_pex(&c, got, 8, &dropped), -1);
    struct tor_pex_addr one = {.family = AF_INET, .port = 9001};
    struct str in = STR_INIT;
    tor_pex_put(&in, TOR_EXT_UT_PEX, &one, 1, NULL, 0);
    size_t before = nfound;
    tor_swarm_peer_feed(s, pc, (uint8_t *)in.ptr, in.len, 2000);
    assert_int_equal(nfound, before);
    assert_false(c.closed);
    str_clear(&in);
    tor_swarm_peer_gone(s, pa);
    tor_swarm_peer_gone(s, pc);
    tor_swarm_free(s);
    str_clear(&a.out);
    str_clear(&c.out);
    tor_meta_clear(&m);
}

static void test_private_torrent_no_pex(void **state)
{
    (void)state;
    check_no_pex(true, false);
}

static void test_pex_off(void **state)
{
    (void)state;
    check_no_pex(false, true); /* [torrent] pex = no: a public torrent as a private one */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pex_both_ways),
        cmocka_unit_test(test_private_torrent_no_pex),
        cmocka_unit_test(test_pex_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
