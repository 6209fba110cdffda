/* torrent/swarm: two swarms joined in memory (a seed and a leecher) exchange a torrent
 * through the real wire protocol: the download completes and matches; a seed that corrupts
 * a piece is struck, then banned, and its bad data never reaches the leecher's storage; a
 * message larger than a block closes the connection; requests out of range close it. A seed
 * with two leechers behind a link that favours one flow 8 : 1 gives each its share, and tells
 * each share window (ops.share_log); one whose unchoked peers ask nothing opens more slots. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "torrent/bencode.h"
#include "torrent/metainfo.h"
#include "torrent/share.h"
#include "torrent/swarm.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIZE (300 * 1024 + 123)

static size_t g_size = SIZE; /* the torrent made by content() and make_meta() */
#define PLEN (32 * 1024)

struct side {
    struct tor_swarm *s;
    struct tor_peer *p;
    struct str out;       /* bytes sent to the other side */
    struct str in;        /* bytes received and not parsed yet (deliver_some) */
    uint8_t *data;        /* the "disk" */
    bool closed;
    char why[128];
    int corrupt_piece;    /* the seed flips a byte of this piece, -1 none */
    uint32_t pending[64]; /* pieces handed to verify */
    const uint8_t *pending_data[64];
    unsigned npending;
    struct tor_meta *m;
    size_t kbuf; /* of out, the bytes a "kernel" took (kernel_link): not ours any more */
};

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
    struct side *sd = conn;
    return sd->out.len > sd->kbuf ? sd->out.len - sd->kbuf : 0;
}

/* What the other side has not received: all of out, the kernel's part too. */
static size_t f_unacked(void *conn)
{
    return ((struct side *)conn)->out.len;
}

static int f_read(void *ctx, uint32_t piece, uint32_t begin, uint32_t len, uint8_t *out)
{
    struct side *sd = ctx;
    memcpy(out, sd->data + (size_t)piece * PLEN + begin, len);
    if ((int)piece == sd->corrupt_piece && begin == 0)
        out[0] ^= 0xff;
    return 0;
}

static void f_verify(void *ctx, uint32_t piece, const uint8_t *data, size_t len)
{
    struct side *sd = ctx;
    sd->pending_data[sd->npending] = data;
    sd->pending[sd->npending++] = piece;
}

static void f_log(void *ctx, uint64_t peer, const char *what)
{
    (void)ctx, (void)peer, (void)what;
}

/* What the seed's share windows told (ops.share_log). */
static struct {
    unsigned windows;
    const void *conns[2];
    uint64_t sent, most_capacity;
    bool bad; /* a window of two peers without both caps, or a peer told twice */
} g_shlog;

static void f_share_log(void *ctx, const struct tor_share_log *l)
{
    (void)ctx;
    g_shlog.windows++;
    if (l->capacity > g_shlog.most_capacity)
        g_shlog.most_capacity = l->capacity;
    if (l->n > 2 || (l->n == 2 && l->p[0].conn == l->p[1].conn))
        g_shlog.bad = true;
    for (size_t i = 0; i < l->n; i++) {
        g_shlog.sent += l->p[i].sent;
        if (l->n == 2 && l->p[i].next < TOR_SHARE_MIN)
            g_shlog.bad = true;
        for (int k = 0; k < 2; k++)
            if (g_shlog.conns[k] == l->p[i].conn || !g_shlog.conns[k]) {
                g_shlog.conns[k] = l->p[i].conn;
                break;
            }
    }
}

static const struct tor_swarm_ops ops = {f_send, f_close, f_pending, f_read, f_verify, f_log, NULL,
                                         NULL,   NULL, NULL};
static const struct tor_swarm_ops kops = {f_send,   f_close, f_pending, f_read,
                                          f_verify, f_log,   NULL,      f_unacked, f_share_log, NULL};

static uint8_t *content(void)
{
    uint8_t *d = malloc(g_size);
    for (size_t i = 0; i < g_size; i++)
        d[i] = (uint8_t)(i * 31 + i / 977);
    return d;
}

static void make_meta(struct tor_meta *m, const uint8_t *data)
{
    struct str t = STR_INIT;
    size_t np = (g_size + PLEN - 1) / PLEN;
    benc_open_dict(&t);
    benc_put_cstr(&t, "info");
    benc_open_dict(&t);
    benc_put_cstr(&t, "length");
    benc_put_int(&t, (int64_t)g_size);
    benc_put_cstr(&t, "name");
    benc_put_cstr(&t, "x.bin");
    benc_put_cstr(&t, "piece length");
    benc_put_int(&t, PLEN);
    benc_put_cstr(&t, "pieces");
    str_appendf(&t, "%zu:", np * 20);
    for (size_t i = 0; i < np; i++) {
        uint8_t h[20];
        size_t len = i + 1 < np ? PLEN : g_size - i * PLEN;
        SHA1(data + i * PLEN, len, h);
        str_append(&t, h, 20);
    }
    benc_close(&t);
    benc_close(&t);
    const char *why;
    assert_int_equal(tor_meta_parse(t.ptr, t.len, m, &why), 0);
    str_clear(&t);
}

/* The leecher's verify: hash, store, answer (outside the feed that asked). */
static void run_verifies(struct side *sd, uint64_t now)
{
    while (sd->npending) {
        uint32_t piece = sd->pending[--sd->npending];
        const uint8_t *d = sd->pending_data[sd->npending];
        size_t len = tor_meta_piece_size(sd->m, piece);
        uint8_t h[20];
        SHA1(d, len, h);
        bool ok = memcmp(h, sd->m->pieces + 20 * piece, 20) == 0;
        if (ok)
            memcpy(sd->data + (size_t)piece * PLEN, d, len);
        tor_swarm_piece_done(sd->s, piece, ok, now);
    }
}

static void deliver(struct side *from, struct side *to, uint64_t now)
{
    if (from->out.len == 0 || to->closed || from->closed)
        return;
    struct str in = from->out;
    str_init(&from->out);
    size_t used = tor_swarm_peer_feed(to->s, to->p, (uint8_t *)in.ptr, in.len, now);
    /* what was not taken waits in front of the next bytes, as the glue's buffer does */
    struct str rest = STR_INIT;
    str_append(&rest, in.ptr + used, in.len - used);
    str_append(&rest, from->out.ptr ? from->out.ptr : "", from->out.len);
    str_clear(&from->out);
    from->out = rest;
    str_clear(&in);
}

struct pair {
    struct tor_meta m;
    struct side seed, leech;
    uint8_t *orig;
};

static void setup_pair(struct pair *pr, int corrupt)
{
    memset(pr, 0, sizeof *pr);
    pr->orig = content();
    make_meta(&pr->m, pr->orig);
    struct tor_swarm_limits lim = {.max_peers = 10, .max_active_bytes = 4 * PLEN, .slots = 4};
    uint8_t all[8];
    memset(all, 0xff, sizeof all);
    uint8_t id1[20] = "-PG0001-seedseedseed", id2[20] = "-PG0001-leechleechle";
    pr->seed = (struct side){.data = pr->orig, .corrupt_piece = corrupt, .m = &pr->m};
    pr->leech = (struct side){.data = calloc(1, SIZE), .corrupt_piece = -1, .m = &pr->m};
    pr->seed.s = tor_swarm_new(&pr->m, all, id1, &ops, &pr->seed, &lim, 1);
    pr->leech.s = tor_swarm_new(&pr->m, NULL, id2, &ops, &pr->leech, &lim, 2);
    assert_true(tor_swarm_complete(pr->seed.s));
    /* the leecher dials: its handshake goes out at once */
    pr->leech.p = tor_swarm_peer_new(pr->leech.s, &pr->leech, "10.0.0.1", true, 0);
    pr->seed.p = tor_swarm_peer_new(pr->seed.s, &pr->seed, "10.0.0.2", false, 0);
}

static void run(struct pair *pr, unsigned rounds)
{
    for (uint64_t r = 0, now = 0; r < rounds && !tor_swarm_complete(pr->leech.s); r++) {
        now += 100;
        deliver(&pr->leech, &pr->seed, now);
        deliver(&pr->seed, &pr->leech, now);
        run_verifies(&pr->leech, now);
        tor_swarm_tick(pr->seed.s, now);
        tor_swarm_tick(pr->leech.s, now);
        if (pr->seed.closed || pr->leech.closed)
            break;
    }
}

static void teardown_pair(struct pair *pr)
{
    tor_swarm_peer_gone(pr->seed.s, pr->seed.p);
    tor_swarm_peer_gone(pr->leech.s, pr->leech.p);
    tor_swarm_free(pr->seed.s);
    tor_swarm_free(pr->leech.s);
    str_clear(&pr->seed.out);
    str_clear(&pr->leech.out);
    free(pr->leech.data);
    free(pr->orig);
    tor_meta_clear(&pr->m);
}

static void test_download(void **state)
{
    (void)state;
    struct pair pr;
    setup_pair(&pr, -1);
    run(&pr, 2000);
    assert_false(pr.seed.closed);
    assert_true(tor_swarm_complete(pr.leech.s));
    assert_memory_equal(pr.leech.data, pr.orig, SIZE);
    assert_int_equal(tor_swarm_left(pr.leech.s), 0);
    uint64_t down, up, dr, ur;
    tor_swarm_totals(pr.seed.s, &down, &up, &dr, &ur);
    assert_int_equal(up, SIZE);
    struct tor_peer_info info[2];
    assert_int_equal(tor_swarm_peers(pr.seed.s, info, 2), 1);
    assert_false(info[0].am_choking); /* the one interested peer was unchoked */
    teardown_pair(&pr);
}

static void test_corrupt_seed_banned(void **state)
{
    (void)state;
    struct pair pr;
    setup_pair(&pr, 3);
    run(&pr, 2000);
    /* piece 3 failed twice: the seed is banned, the piece never stored */
    assert_true(pr.leech.closed);
    assert_string_equal(pr.leech.why, "banned: sent bad data");
    assert_true(tor_swarm_banned(pr.leech.s, "10.0.0.1"));
    assert_false(tor_swarm_complete(pr.leech.s));
    assert_false(tor_bit(tor_swarm_bitfield(pr.leech.s), 3));
    uint8_t zero[PLEN] = {0};
    assert_memory_equal(pr.leech.data + 3 * PLEN, zero, PLEN);
    teardown_pair(&pr);
}

static void test_bad_messages_close(void **state)
{
    (void)state;
    struct pair pr;
    setup_pair(&pr, -1);
    deliver(&pr.leech, &pr.seed, 1); /* handshake */
    /* a request past the end of the last piece */
    const uint8_t req[] = {0, 0, 0, 13, 6, 0, 0, 0, 9, 0, 0, 0x7f, 0, 0, 0, 0x40, 0};
    tor_swarm_peer_feed(pr.seed.s, pr.seed.p, req, sizeof req, 2);
    assert_true(pr.seed.closed);
    assert_string_equal(pr.seed.why, "request out of range");
    teardown_pair(&pr);
    setup_pair(&pr, -1);
    deliver(&pr.leech, &pr.seed, 1);
    const uint8_t big[] = {0, 1, 0, 0, 7};
    tor_swarm_peer_feed(pr.seed.s, pr.seed.p, big, sizeof big, 2);
    assert_true(pr.seed.closed);
    assert_string_equal(pr.seed.why, "message longer than a block");
    teardown_pair(&pr);
}

/* ---- a seed's upload shared (share.h) ---- */

#define BIG (4u << 20)
#define LINK_ROUND 40000u /* the seed's link: bytes per 100 ms */

/* Up to max bytes of from's output cross the link; the receiver keeps what it could not parse
 * yet. Returns how many crossed. */
static size_t deliver_some(struct side *from, struct side *to, size_t max, uint64_t now)
{
    size_t n = from->out.len < max ? from->out.len : max;
    if (n == 0 || to->closed || from->closed)
        return 0;
    str_append(&to->in, from->out.ptr, n);
    memmove(from->out.ptr, from->out.ptr + n, from->out.len - n);
    from->out.len -= n;
    size_t used = tor_swarm_peer_feed(to->s, to->p, (uint8_t *)to->in.ptr, to->in.len, now);
    memmove(to->in.ptr, to->in.ptr + used, to->in.len - used);
    to->in.len -= used;
    return n;
}

/* One round of the seed's link, which gives flow 0 eight times flow 1's part when both have
 * bytes waiting (as TCP may, once one flow got ahead), and any part left over to the other. */
static void seed_link(struct side conn[2], struct side lee[2], uint64_t now)
{
    /* a kernel's send buffer that grows while it is full (autotuning), to 4 MiB: what it
     * holds has left our buffer long before it reaches the peer */
    for (int i = 0; i < 2; i++)
        if (conn[i].kbuf && conn[i].out.len >= conn[i].kbuf && conn[i].kbuf < (4u << 20))
            conn[i].kbuf += 64u << 10;
    size_t first = deliver_some(&conn[0], &lee[0], LINK_ROUND * 8 / 9, now);
    size_t second = deliver_some(&conn[1], &lee[1], LINK_ROUND - first, now);
    deliver_some(&conn[0], &lee[0], LINK_ROUND - first - second, now);
}

/* kernel: each connection of the seed has a kernel's send buffer (seed_link), and the
 * seed measures its peers by what they acknowledged (ops.unacked). Measured by what left
 * our buffer instead, the kernel's growing buffers pass for link and the second leecher
 * has less than half of the file when the first is done. */
static void shares_upload(bool kernel)
{
    g_size = BIG;
    uint8_t *orig = content();
    struct tor_meta m;
    make_meta(&m, orig);
    struct tor_swarm_limits lim = {.max_peers = 10, .max_active_bytes = 4 * PLEN, .slots = 4};
    uint8_t all[BIG / PLEN / 8];
    memset(all, 0xff, sizeof all);
    uint8_t ids[3][20] = {"-PG0001-seedseedseed", "-PG0001-leechleech00", "-PG0001-leechleech01"};
    struct side conn[2], lee[2];
    struct tor_swarm *seed = NULL;
    for (int i = 0; i < 2; i++) {
        conn[i] = (struct side){.data = orig, .corrupt_piece = -1, .m = &m};
        lee[i] = (struct side){.data = calloc(1, BIG), .corrupt_piece = -1, .m = &m};
        if (!seed)
            seed = tor_swarm_new(&m, all, ids[0], kernel ? &kops : &ops, &conn[0], &lim, 1);
        conn[i].kbuf = kernel ? 64u << 10 : 0;
        lee[i].s = tor_swarm_new(&m, NULL, ids[1 + i], &ops, &lee[i], &lim, 2 + (uint64_t)i);
        lee[i].p = tor_swarm_peer_new(lee[i].s, &lee[i], "10.0.0.1", true, 0);
        conn[i].s = seed;
        conn[i].p = tor_swarm_peer_new(seed, &conn[i], i ? "10.0.0.3" : "10.0.0.2", false, 0);
    }
    /* when the first leecher is done, the other has more than half of the file too (without
     * shares it would have about an eighth) */
    uint32_t other_had = 0;
    bool done[2] = {false, false};
    for (uint64_t now = 100; now < 200000 && !(done[0] && done[1]); now += 100) {
        for (int i = 0; i < 2; i++)
            deliver(&lee[i], &conn[i], now);
        seed_link(conn, lee, now);
        for (int i = 0; i < 2; i++) {
            run_verifies(&lee[i], now);
            tor_swarm_tick(lee[i].s, now);
        }
        tor_swarm_tick(seed, now);
        for (int i = 0; i < 2; i++)
            if (!done[i] && tor_swarm_complete(lee[i].s)) {
                done[i] = true;
                if (!done[1 - i])
                    other_had = tor_swarm_have_count(lee[1 - i].s);
            }
        assert_false(conn[0].closed || conn[1].closed || lee[0].closed || lee[1].closed);
    }
    assert_true(done[0] && done[1]);
    assert_memory_equal(lee[1].data, orig, BIG);
    assert_true(other_had >= m.npieces * 11 / 20);
    if (kernel) { /* every window seen by ops.share_log: both peers, what reached them */
        assert_false(g_shlog.bad);
        assert_true(g_shlog.windows >= 10);
        assert_true(g_shlog.conns[0] && g_shlog.conns[1]);
        assert_true(g_shlog.sent >= BIG && g_shlog.sent <= 2 * (uint64_t)BIG);
        assert_true(g_shlog.most_capacity >= LINK_ROUND * 10 / 2);
    }
    for (int i = 0; i < 2; i++) {
        tor_swarm_peer_gone(seed, conn[i].p);
        tor_swarm_peer_gone(lee[i].s, lee[i].p);
        tor_swarm_free(lee[i].s);
        str_clear(&conn[i].out);
        str_clear(&lee[i].out);
        str_clear(&lee[i].in);
        free(lee[i].data);
    }
    tor_swarm_free(seed);
    free(orig);
    tor_meta_clear(&m);
    g_size = SIZE;
}

/* A seed whose unchoked peers ask nothing (readers slower than its link) opens more slots,
 * one per choke run (choker.h): 12 interested peers that never request are all unchoked
 * within 40 s, where 8 + 1 optimistic were at first. */
static void test_seed_opens_slots(void **state)
{
    (void)state;
    uint8_t *orig = content();
    struct tor_meta m;
    make_meta(&m, orig);
    struct tor_swarm_limits lim = {.max_peers = 20, .max_active_bytes = 4 * PLEN, .slots = 4};
    uint8_t all[8];
    memset(all, 0xff, sizeof all);
    uint8_t id[20] = "-PG0001-seedseedseed";
    enum { NP = 12 };
    struct side conn[NP];
    struct tor_swarm *seed = NULL;
    for (int i = 0; i < NP; i++) {
        conn[i] = (struct side){.data = orig, .corrupt_piece = -1, .m = &m};
        if (!seed)
            seed = tor_swarm_new(&m, all, id, &ops, &conn[0], &lim, 1);
        char addr[32];
        snprintf(addr, sizeof addr, "10.0.1.%d", i + 1);
        conn[i].p = tor_swarm_peer_new(seed, &conn[i], addr, false, 0);
        struct tor_handshake hs = {0};
        memcpy(hs.info_hash, m.info_hash, 20);
        memcpy(hs.peer_id, "-LT0001-peerpeerpeer", 20);
        hs.peer_id[19] = (uint8_t)('a' + i);
        struct str in = STR_INIT;
        tor_wire_put_handshake(&in, &hs);
        tor_wire_put_simple(&in, TOR_MSG_INTERESTED);
        assert_int_equal(tor_swarm_peer_feed(seed, conn[i].p, (uint8_t *)in.ptr, in.len, 50),
                         in.len);
        str_clear(&in);
    }
    struct tor_peer_info info[NP];
    size_t first = 0, last = 0;
    for (uint64_t now = 100; now <= 41000; now += 100) {
        tor_swarm_tick(seed, now);
        for (int i = 0; i < NP; i++) {
            assert_false(conn[i].closed);
            conn[i].out.len = 0; /* taken at once: nothing of theirs waits at our end */
        }
        size_t unchoked = 0, n = tor_swarm_peers(seed, info, NP);
        for (size_t i = 0; i < n; i++)
            unchoked += !info[i].am_choking;
        if (now == 5000)
            first = unchoked;
        last = unchoked;
    }
    assert_int_equal(first, 9);
    assert_int_equal(last, NP);
    for (int i = 0; i < NP; i++) {
        tor_swarm_peer_gone(seed, conn[i].p);
        str_clear(&conn[i].out);
    }
    tor_swarm_free(seed);
    free(orig);
    tor_meta_clear(&m);
}

static void test_seed_shares_upload(void **state)
{
    (void)state;
    shares_upload(false);
    shares_upload(true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_download),
        cmocka_unit_test(test_corrupt_seed_banned),
        cmocka_unit_test(test_bad_messages_close),
        cmocka_unit_test(test_seed_shares_upload),
        cmocka_unit_test(test_seed_opens_slots),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
