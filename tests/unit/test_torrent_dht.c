/* torrent/dht (BEP 5): KRPC messages parsed and refused when cut at every offset; the routing
 * table's buckets, replacement of failing nodes and XOR ordering; tokens accepted for 5 to
 * 10 minutes and only from the address they were given to; queries answered with the BEP 5
 * errors; and a DHT of 40 nodes in memory in which one node's announce is found by another
 * that knew only the bootstrap node. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/err.h"
#include "torrent/dht.h"
#include "torrent/dht_table.h"
#include "torrent/krpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a network in memory ---- */

#define NNODES 40

struct dgram {
    struct dht_addr from, to;
    uint8_t p[KRPC_MAX_DATAGRAM];
    size_t n;
};

static struct dgram *queue;
static size_t nqueue, capqueue;
static struct dht *nodes[NNODES];
static struct dht_addr addrs[NNODES];
static struct dht_addr found[256];
static size_t nfound;

static void q_send(void *ctx, const struct dht_addr *to, const void *p, size_t n)
{
    const struct dht_addr *from = ctx;
    assert_true(n <= KRPC_MAX_DATAGRAM);
    if (nqueue == capqueue) {
        capqueue = capqueue ? capqueue * 2 : 256;
        queue = realloc(queue, capqueue * sizeof *queue);
    }
    struct dgram *g = &queue[nqueue++];
    g->from = *from;
    g->to = *to;
    memcpy(g->p, p, n);
    g->n = n;
}

static void q_found(void *ctx, const uint8_t ih[20], const struct dht_addr *peers, size_t n)
{
    (void)ctx, (void)ih;
    for (size_t i = 0; i < n && nfound < 256; i++)
        found[nfound++] = peers[i];
}

static const struct dht_ops qops = {.send = q_send, .found = q_found};

static struct dht_addr addr_of(int i)
{
    struct dht_addr a = {{10, 0, (uint8_t)(i >> 8), (uint8_t)i}, 6881};
    return a;
}

static int node_at(const struct dht_addr *a)
{
    for (int i = 0; i < NNODES; i++)
        if (nodes[i] && memcmp(&addrs[i], a, sizeof *a) == 0)
            return i;
    return -1;
}

/* Delivers datagrams (and those they cause) until none is left. */
static void deliver(uint64_t now)
{
    for (size_t i = 0; i < nqueue; i++) {
        struct dgram g = queue[i];
        int k = node_at(&g.to);
        if (k >= 0)
            dht_input(nodes[k], &g.from, g.p, g.n, now);
    }
    nqueue = 0;
}

static void make_id(uint8_t id[20], int i)
{
    for (int k = 0; k < 20; k++)
        id[k] = (uint8_t)((i * 97 + k * 31 + (i * k) * 7) ^ (i << 3));
}

static void net_up(int n, uint64_t now)
{
    for (int i = 0; i < n; i++) {
        uint8_t id[20], secret[20];
        make_id(id, i + 1);
        memset(secret, i + 1, 20);
        addrs[i] = addr_of(i + 1);
        nodes[i] = dht_new(id, secret, &qops, &addrs[i], now);
    }
}

static void net_down(void)
{
    for (int i = 0; i < NNODES; i++) {
        dht_free(nodes[i]);
        nodes[i] = NULL;
    }
    free(queue);
    queue = NULL;
    nqueue = capqueue = 0;
    nfound = 0;
}

/* ---- KRPC ---- */

static const uint8_t ID_A[20] = "abcdefghij0123456789";
static const uint8_t IH[20] = "mnopqrstuvwxyz123456";

static void check_cuts(const struct str *s)
{
    struct krpc_msg m;
    const char *why;
    for (size_t cut = 0; cut < s->len; cut++)
        assert_true(krpc_parse((const uint8_t *)s->ptr, cut, &m, &why) < 0);
    assert_int_equal(krpc_parse((const uint8_t *)s->ptr, s->len, &m, &why), 0);
}

static void test_krpc_messages(void **state)
{
    (void)state;
    struct str s = STR_INIT;
    struct krpc_msg m;
    const char *why;
    uint8_t tok[5] = "tok12";
    krpc_put_announce(&s, (const uint8_t *)"aa", 2, ID_A, IH, 6881, tok, 5);
    assert_string_equal(s.ptr, "d1:ad2:id20:abcdefghij01234567899:info_hash20:"
                               "mnopqrstuvwxyz1234564:porti6881e5:token5:tok12e"
                               "1:q13:announce_peer1:t2:aa1:y1:qe");
    check_cuts(&s);
    assert_int_equal(krpc_parse((const uint8_t *)s.ptr, s.len, &m, &why), 0);
    assert_int_equal(m.type, KRPC_QUERY);
    assert_int_equal(m.method, KRPC_ANNOUNCE_PEER);
    assert_true(m.has_id && m.has_info_hash && m.has_port);
    assert_int_equal(m.port, 6881);
    assert_int_equal(m.toklen, 5);
    assert_memory_equal(m.tid, "aa", 2);

    str_clear(&s);
    struct krpc_node nd[2] = {{.addr = {{1, 2, 3, 4}, 5}}, {.addr = {{6, 7, 8, 9}, 10}}};
    memcpy(nd[0].id, ID_A, 20);
    memcpy(nd[1].id, IH, 20);
    struct dht_addr vals[1] = {{{192, 0, 2, 1}, 51413}};
    struct krpc_reply r = {
        .nodes = nd, .nnodes = 2, .token = tok, .toklen = 5, .values = vals, .nvalues = 1};
    krpc_put_reply(&s, (const uint8_t *)"xyzw", 4, IH, &r);
    check_cuts(&s);
    assert_int_equal(krpc_parse((const uint8_t *)s.ptr, s.len, &m, &why), 0);
    assert_int_equal(m.type, KRPC_RESPONSE);
    assert_int_equal(m.nnodes, 2);
    assert_memory_equal(m.nodes[1].id, IH, 20);
    assert_int_equal(m.nodes[1].addr.port, 10);
    assert_int_equal(m.nvalues, 1);
    assert_int_equal(m.values[0].port, 51413);
    assert_memory_equal(m.values[0].ip, "\xc0\x00\x02\x01", 4);

    str_clear(&s);
    krpc_put_error(&s, (const uint8_t *)"e1", 2, KRPC_E_METHOD, "Method Unknown");
    check_cuts(&s);
    assert_int_equal(krpc_parse((const uint8_t *)s.ptr, s.len, &m, &why), 0);
    assert_int_equal(m.type, KRPC_ERROR);
    assert_int_equal(m.ecode, 204);
    assert_string_equal(m.emsg, "Method Unknown");
    str_clear(&s);

    /* refused: an id of 19 bytes in a reply, compact nodes of a bad length, a value that is
     * not 6 bytes, a port out of range, a long transaction id, no type */
    static const char *const bad[] = {
        "d1:rd2:id19:abcdefghij012345678e1:t2:aa1:y1:re",
        "d1:rd2:id20:abcdefghij01234567895:nodes3:abce1:t2:aa1:y1:re",
        "d1:rd2:id20:abcdefghij01234567896:valuesl5:abcdeee1:t2:aa1:y1:re",
        "d1:ad2:id20:abcdefghij01234567894:porti70000ee1:q4:ping1:t2:aa1:y1:qe",
        "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t17:aaaaaaaaaaaaaaaaa1:y1:qe",
        "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aae",
        "li1ee",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_true(krpc_parse((const uint8_t *)bad[i], strlen(bad[i]), &m, &why) < 0);
}

/* ---- routing table ---- */

static void test_table(void **state)
{
    (void)state;
    static struct dht_table t;
    uint8_t self[20] = {0};
    dht_table_init(&t, self);
    uint8_t id[20] = {0};
    assert_int_equal(dht_bucket_of(self, id), -1);
    id[0] = 0x80;
    assert_int_equal(dht_bucket_of(self, id), 0);
    id[0] = 0x01;
    assert_int_equal(dht_bucket_of(self, id), 7);
    memset(id, 0, 20);
    id[19] = 1;
    assert_int_equal(dht_bucket_of(self, id), 159);

    /* bucket 0 (ids starting with bit 1) takes DHT_K nodes, then refuses */
    struct dht_addr a = {{10, 0, 0, 1}, 1000};
    for (int i = 0; i < DHT_K + 1; i++) {
        memset(id, 0, 20);
        id[0] = (uint8_t)(0x80 | i);
        a.port = (uint16_t)(1000 + i);
        struct dht_node *n = dht_table_seen(&t, id, &a, true, 1);
        if (i < DHT_K)
            assert_non_null(n);
        else
            assert_null(n);
    }
    assert_int_equal(t.count, DHT_K);
    /* a node that failed twice makes room */
    memset(id, 0, 20);
    id[0] = 0x83;
    dht_table_failed(&t, id);
    uint8_t newcomer[20] = {0x8f};
    assert_null(dht_table_seen(&t, newcomer, &a, false, 2));
    dht_table_failed(&t, id);
    assert_non_null(dht_table_seen(&t, newcomer, &a, false, 2));
    assert_null(dht_table_find(&t, id));
    assert_int_equal(t.count, DHT_K);
    /* an answer clears the failures */
    memset(id, 0, 20);
    id[0] = 0x84;
    dht_table_failed(&t, id);
    dht_table_seen(&t, id, &a, true, 3);
    assert_int_equal(dht_table_find(&t, id)->fails, 0);

    /* nearer buckets and XOR order */
    memset(id, 0, 20);
    id[0] = 0x20;
    dht_table_seen(&t, id, &a, true, 4);
    id[0] = 0x10;
    dht_table_seen(&t, id, &a, true, 4);
    uint8_t target[20] = {0x11};
    struct krpc_node out[3];
    assert_int_equal(dht_table_closest(&t, target, out, 3), 3);
    assert_int_equal(out[0].id[0], 0x10);
    assert_int_equal(out[1].id[0], 0x20);
    assert_int_equal(out[2].id[0] & 0x80, 0x80);
    for (size_t i = 0; i + 1 < 3; i++)
        assert_false(dht_nearer(target, out[i + 1].id, out[i].id));
}

/* ---- one node's answers ---- */

static struct str last_out;
static void one_send(void *ctx, const struct dht_addr *to, const void *p, size_t n)
{
    (void)ctx, (void)to;
    str_clear(&last_out);
    str_append(&last_out, p, n);
}

static const struct dht_ops one_ops = {.send = one_send, .found = q_found};

static void ask(struct dht *d, const struct dht_addr *from, const struct str *q, uint64_t now,
                struct krpc_msg *m)
{
    str_clear(&last_out);
    dht_input(d, from, (const uint8_t *)q->ptr, q->len, now);
    const char *why;
    assert_true(last_out.len > 0);
    assert_int_equal(krpc_parse((const uint8_t *)last_out.ptr, last_out.len, m, &why), 0);
}

static void announce_with(struct dht *d, const struct dht_addr *from, const uint8_t *tok,
                          size_t toklen, uint64_t now, struct krpc_msg *m)
{
    struct str q = STR_INIT;
    krpc_put_announce(&q, (const uint8_t *)"an", 2, ID_A, IH, 7000, tok, toklen);
    ask(d, from, &q, now, m);
    str_clear(&q);
}

static void test_tokens_and_errors(void **state)
{
    (void)state;
    uint8_t id[20], secret[20];
    memset(id, 0x55, 20);
    memset(secret, 0x77, 20);
    uint64_t now = 1000;
    struct dht *d = dht_new(id, secret, &one_ops, NULL, now);
    struct dht_addr x = {{192, 0, 2, 7}, 4000}, y = {{192, 0, 2, 8}, 4000};
    struct krpc_msg m;
    struct str q = STR_INIT;

    krpc_put_get_peers(&q, (const uint8_t *)"gp", 2, ID_A, IH);
    ask(d, &x, &q, now, &m);
    assert_int_equal(m.type, KRPC_RESPONSE);
    assert_int_equal(m.toklen, 8);
    assert_int_equal(m.nvalues, 0);
    uint8_t tok[8];
    memcpy(tok, m.token, 8);

    /* another address cannot use it; a forged one fails too */
    announce_with(d, &y, tok, 8, now, &m);
    assert_int_equal(m.type, KRPC_ERROR);
    assert_int_equal(m.ecode, KRPC_E_PROTOCOL);
    uint8_t forged[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    announce_with(d, &x, forged, 8, now, &m);
    assert_int_equal(m.type, KRPC_ERROR);

    /* after one rotation still good (5 to 10 minutes); after two, refused */
    now += DHT_TOKEN_ROTATE_MS;
    dht_tick(d, now);
    announce_with(d, &x, tok, 8, now, &m);
    assert_int_equal(m.type, KRPC_RESPONSE);
    ask(d, &y, &q, now, &m);
    assert_int_equal(m.nvalues, 1);
    assert_memory_equal(m.values[0].ip, x.ip, 4);
    assert_int_equal(m.values[0].port, 7000);
    now += DHT_TOKEN_ROTATE_MS;
    dht_tick(d, now);
    announce_with(d, &x, tok, 8, now, &m);
    assert_int_equal(m.type, KRPC_ERROR);

    /* implied_port: the datagram's source port is stored */
    uint8_t fresh[8];
    dht_token(d, &y, fresh);
    str_clear(&q);
    str_appendf(&q,
                "d1:ad2:id20:%.20s12:implied_porti1e9:info_hash20:%.20s4:porti1e"
                "5:token8:",
                (const char *)ID_A, (const char *)IH);
    str_append(&q, fresh, 8);
    str_appendf(&q, "e1:q13:announce_peer1:t2:ip1:y1:qe");
    ask(d, &y, &q, now, &m);
    assert_int_equal(m.type, KRPC_RESPONSE);
    size_t nn, nh, np, nl;
    dht_stats(d, &nn, &nh, &np, &nl);
    assert_int_equal(nh, 1);
    assert_int_equal(np, 2); /* x:7000 and y:4000 */

    /* stored peers expire */
    now += DHT_PEER_TTL_MS + 1;
    dht_tick(d, now);
    dht_stats(d, &nn, &nh, &np, &nl);
    assert_int_equal(nh, 0);

    /* errors: unknown method 204, missing argument 203, malformed query 203 */
    str_clear(&q);
    str_appendf(&q, "d1:ad2:id20:%.20se1:q4:vote1:t2:uu1:y1:qe", (const char *)ID_A);
    ask(d, &x, &q, now, &m);
    assert_int_equal(m.ecode, KRPC_E_METHOD);
    assert_memory_equal(m.tid, "uu", 2);
    str_clear(&q);
    str_appendf(&q, "d1:ad2:id20:%.20se1:q9:get_peers1:t2:mm1:y1:qe", (const char *)ID_A);
    ask(d, &x, &q, now, &m);
    assert_int_equal(m.ecode, KRPC_E_PROTOCOL);
    str_clear(&q);
    str_appendf(&q, "d1:ad2:id3:abce1:q4:ping1:t2:bb1:y1:qe");
    ask(d, &x, &q, now, &m);
    assert_int_equal(m.type, KRPC_ERROR);
    assert_int_equal(m.ecode, KRPC_E_PROTOCOL);
    /* a broken answer is not answered */
    str_clear(&last_out);
    const char *junk = "d1:rd2:id3:abce1:t2:bb1:y1:re";
    dht_input(d, &x, (const uint8_t *)junk, strlen(junk), now);
    assert_int_equal(last_out.len, 0);
    /* nor an answer to a query we never sent */
    str_clear(&q);
    krpc_put_reply(&q, (const uint8_t *)"\0\0\0\1", 4, ID_A, NULL);
    dht_input(d, &x, (const uint8_t *)q.ptr, q.len, now);
    assert_int_equal(last_out.len, 0);

    str_clear(&q);
    str_clear(&last_out);
    dht_free(d);
}

/* ---- a DHT in memory ---- */

static void test_network(void **state)
{
    (void)state;
    uint64_t now = 5000;
    net_up(NNODES, now);
    /* everybody joins through node 0 */
    for (int i = 1; i < NNODES; i++) {
        dht_bootstrap(nodes[i], &addrs[0], now);
        for (int r = 0; r < 30 && nqueue; r++)
            deliver(now);
    }
    for (int r = 0; r < 3; r++) { /* a second round: later joiners become known to earlier */
        now += 1000;
        for (int i = 1; i < NNODES; i++)
            dht_bootstrap(nodes[i], &addrs[0], now);
        for (int k = 0; k < 50 && nqueue; k++)
            deliver(now);
    }
    size_t nn, nh, np, nl;
    for (int i = 0; i < NNODES; i++) {
        dht_stats(nodes[i], &nn, &nh, &np, &nl);
        assert_true(nn >= 8);
    }
    /* node 7 announces port 7777 for IH; node 33 looks it up */
    assert_int_equal(dht_get_peers(nodes[7], IH, 7777, now), 0);
    for (int k = 0; k < 100 && nqueue; k++)
        deliver(now);
    dht_stats(nodes[7], &nn, &nh, &np, &nl);
    assert_int_equal(nl, 0); /* the lookup ended */
    size_t stored = 0;
    for (int i = 0; i < NNODES; i++) {
        dht_stats(nodes[i], &nn, &nh, &np, &nl);
        stored += np;
    }
    assert_true(stored >= 1 && stored <= DHT_K);
    nfound = 0;
    assert_int_equal(dht_get_peers(nodes[33], IH, 0, now), 0);
    for (int k = 0; k < 100 && nqueue; k++)
        deliver(now);
    bool seen = false;
    for (size_t i = 0; i < nfound; i++)
        seen |= memcmp(found[i].ip, addrs[7].ip, 4) == 0 && found[i].port == 7777;
    assert_true(seen);

    /* nodes that vanish time out; the lookup still ends */
    for (int i = 20; i < NNODES; i++)
        if (i != 33) {
            dht_free(nodes[i]);
            nodes[i] = NULL;
        }
    assert_int_equal(dht_get_peers(nodes[33], IH, 0, now), 0);
    for (int t = 0; t < 20; t++) {
        for (int k = 0; k < 100 && nqueue; k++)
            deliver(now);
        now += 1000;
        dht_tick(nodes[33], now);
    }
    dht_stats(nodes[33], &nn, &nh, &np, &nl);
    assert_int_equal(nl, 0);
    net_down();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_krpc_messages),
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_tokens_and_errors),
        cmocka_unit_test(test_network),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
