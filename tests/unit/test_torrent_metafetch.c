/* torrent/metafetch + swarm_ext + ext: a magnet link's fetcher and a seeding swarm joined in
 * memory exchange the info dictionary over BEP 10/BEP 9: it arrives whole and its SHA-1 is
 * the info-hash; a seed serving a corrupted dictionary is closed and nothing is accepted; a
 * peer without the extension protocol is closed; requests for pieces past the end are
 * rejected; malformed extension messages close the connection; a .torrent built around the
 * fetched dictionary reads back with the same hash, trackers and web seeds; the fetch's
 * connection is handed to a new swarm (no second handshake: interested, then requests once
 * unchoked), and what a peer said before is checked against the torrent then (a have past
 * the end, a bitfield of the wrong length close it). A v2-only torrent from a btmh link gets
 * its piece layer from the seed's BEP 52 hash answers, proved against the pieces root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/err.h"
#include "torrent/bencode.h"
#include "torrent/ext.h"
#include "torrent/layerfetch.h"
#include "torrent/merkle.h"
#include "torrent/metafetch.h"
#include "torrent/metainfo.h"
#include "torrent/swarm.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NPIECES 3000 /* 60,000 bytes of hashes: a 4-piece info dictionary */
#define PLEN 16384

struct side {
    struct str out;
    bool closed;
    char why[128];
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

static size_t pending_now; /* what every connection has waiting to go out */

static size_t f_pending(void *conn)
{
    (void)conn;
    return pending_now;
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

static void m_log(void *ctx, const char *what)
{
    (void)ctx, (void)what;
}

static const struct tor_swarm_ops sops = {f_send,   f_close, f_pending, f_read,
                                          f_verify, f_log,   NULL,    NULL, NULL, NULL};
static const struct tor_mfetch_ops mops = {f_send, f_close, m_log};

static void make_meta(struct tor_meta *m)
{
    struct str t = STR_INIT;
    benc_open_dict(&t);
    benc_put_cstr(&t, "announce");
    benc_put_cstr(&t, "http://tracker.example/announce");
    benc_put_cstr(&t, "info");
    benc_open_dict(&t);
    benc_put_cstr(&t, "length");
    benc_put_int(&t, (int64_t)NPIECES * PLEN);
    benc_put_cstr(&t, "name");
    benc_put_cstr(&t, "big.bin");
    benc_put_cstr(&t, "piece length");
    benc_put_int(&t, PLEN);
    benc_put_cstr(&t, "pieces");
    str_appendf(&t, "%d:", NPIECES * 20);
    for (int i = 0; i < NPIECES * 20; i++)
        str_appendc(&t, (char)(i * 7 + i / 13));
    benc_close(&t);
    benc_close(&t);
    const char *why;
    assert_int_equal(tor_meta_parse(t.ptr, t.len, m, &why), 0);
    assert_true(m->info_len > 3 * TOR_META_PIECE);
    str_clear(&t);
}

struct pair {
    struct tor_meta m;
    struct side seed, leech;
    struct tor_swarm *s;
    struct tor_peer *sp;
    struct tor_mfetch *f;
    struct tor_mpeer *mp;
};

static void setup(struct pair *pr, bool corrupt)
{
    memset(pr, 0, sizeof *pr);
    make_meta(&pr->m);
    if (corrupt)
        pr->m.info[pr->m.info_len - 100] ^= 0x20; /* served bytes differ from the hash */
    struct tor_swarm_limits lim = {.max_peers = 10, .max_active_bytes = 4 * PLEN, .slots = 4};
    uint8_t *all = malloc((NPIECES + 7) / 8);
    memset(all, 0xff, (NPIECES + 7) / 8);
    uint8_t id1[20] = "-PG0001-seedseedseed", id2[20] = "-PG0001-magnetmagnet";
    pr->s = tor_swarm_new(&pr->m, all, id1, &sops, &pr->seed, &lim, 1);
    free(all);
    pr->f = tor_mfetch_new(pr->m.info_hash, id2, &mops, NULL);
    pr->mp = tor_mfetch_peer_new(pr->f, &pr->leech, "10.0.0.1", true, 0);
    pr->sp = tor_swarm_peer_new(pr->s, &pr->seed, "10.0.0.2", false, 0);
}

/* Moves what one side wrote to the other; the unconsumed rest stays for the next round. */
static void pump(struct str *from, struct str *keep, bool to_fetch, struct pair *pr, uint64_t now)
{
    str_append(keep, from->ptr ? from->ptr : "", from->len);
    str_clear(from);
    size_t used = to_fetch
                      ? tor_mfetch_peer_feed(pr->f, pr->mp, (uint8_t *)keep->ptr, keep->len, now)
                      : tor_swarm_peer_feed(pr->s, pr->sp, (uint8_t *)keep->ptr, keep->len, now);
    str_consume(keep, used);
}

static void run(struct pair *pr)
{
    struct str to_seed = STR_INIT, to_leech = STR_INIT;
    for (uint64_t now = 100; now < 20000; now += 100) {
        if (pr->leech.closed || pr->seed.closed)
            break;
        pump(&pr->leech.out, &to_seed, false, pr, now);
        if (pr->seed.closed)
            break;
        pump(&pr->seed.out, &to_leech, true, pr, now);
        tor_mfetch_tick(pr->f, now);
        size_t len;
        if (tor_mfetch_result(pr->f, &len))
            break;
    }
    str_clear(&to_seed);
    str_clear(&to_leech);
}

static void teardown(struct pair *pr)
{
    tor_swarm_peer_gone(pr->s, pr->sp);
    if (pr->mp)
        tor_mfetch_peer_gone(pr->f, pr->mp);
    tor_swarm_free(pr->s);
    tor_mfetch_free(pr->f);
    str_clear(&pr->seed.out);
    str_clear(&pr->leech.out);
    tor_meta_clear(&pr->m);
}

static void test_fetch(void **state)
{
    (void)state;
    struct pair pr;
    setup(&pr, false);
    run(&pr);
    size_t len = 0;
    const char *info = tor_mfetch_result(pr.f, &len);
    assert_non_null(info);
    assert_int_equal(len, pr.m.info_len);
    assert_memory_equal(info, pr.m.info, len);
    struct tor_meta m2;
    const char *why = NULL;
    assert_int_equal(tor_meta_from_info(info, len, pr.m.info_hash, &m2, &why), 0);
    assert_int_equal(m2.npieces, NPIECES);
    tor_meta_clear(&m2);
    uint32_t got, total;
    tor_mfetch_progress(pr.f, &got, &total);
    assert_int_equal(got, total);
    assert_int_equal(total, tor_utm_npieces((int64_t)pr.m.info_len));
    assert_false(pr.seed.closed);
    teardown(&pr);
}

/* The messages in out (no handshake expected): their ids, in order. */
static size_t msg_ids(const struct str *out, uint8_t *ids, size_t max)
{
    size_t n = 0, pos = 0;
    while (pos < out->len && n < max) {
        struct tor_msg m;
        long used =
            tor_wire_msg_parse((const uint8_t *)out->ptr + pos, out->len - pos, 1u << 20, &m);
        assert_true(used > 0);
        pos += (size_t)used;
        ids[n++] = (uint8_t)m.id;
    }
    return n;
}

static bool has_id(const uint8_t *ids, size_t n, uint8_t id)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

static void test_handover(void **state)
{
    (void)state;
    struct pair pr;
    setup(&pr, false);
    run(&pr);
    size_t len = 0;
    const char *info = tor_mfetch_result(pr.f, &len);
    assert_non_null(info);
    struct tor_meta m2;
    const char *why = NULL;
    assert_int_equal(tor_meta_from_info(info, len, pr.m.info_hash, &m2, &why), 0);
    struct tor_mpeer_state st;
    assert_true(tor_mfetch_peer_state(pr.mp, &st));
    assert_true(st.got_bits && st.peer_choking && st.ut_metadata);
    assert_int_equal(st.nbits, (NPIECES + 7) / 8);
    assert_ptr_equal(tor_mfetch_peer_conn(pr.mp), &pr.leech);

    struct tor_swarm_limits lim = {.max_peers = 10, .max_active_bytes = 4 * PLEN, .slots = 4};
    uint8_t id2[20] = "-PG0001-magnetmagnet";
    struct tor_swarm *ls = tor_swarm_new(&m2, NULL, id2, &sops, &pr.leech, &lim, 2);
    str_clear(&pr.leech.out);
    struct tor_peer *lp = tor_swarm_peer_adopt(ls, &pr.leech, &st, 500);
    tor_mfetch_peer_gone(pr.f, pr.mp);
    pr.mp = NULL;
    assert_false(pr.leech.closed);
    assert_int_equal(tor_swarm_npeers(ls), 1);
    /* no handshake, no bitfield: our extension handshake again, then interested */
    uint8_t ids[64];
    size_t n = msg_ids(&pr.leech.out, ids, 64);
    assert_true(n >= 2);
    assert_int_equal(ids[0], TOR_MSG_EXTENDED);
    assert_true(has_id(ids, n, TOR_MSG_INTERESTED));
    assert_false(has_id(ids, n, TOR_MSG_BITFIELD));
    assert_false(has_id(ids, n, TOR_MSG_REQUEST)); /* still choked */
    /* the seed hears it on the same connection and unchokes; requests follow */
    size_t used =
        tor_swarm_peer_feed(pr.s, pr.sp, (uint8_t *)pr.leech.out.ptr, pr.leech.out.len, 600);
    assert_int_equal(used, pr.leech.out.len);
    str_clear(&pr.leech.out);
    str_clear(&pr.seed.out);
    tor_swarm_tick(pr.s, 700);
    used = tor_swarm_peer_feed(ls, lp, (uint8_t *)pr.seed.out.ptr, pr.seed.out.len, 800);
    assert_int_equal(used, pr.seed.out.len);
    n = msg_ids(&pr.leech.out, ids, 64);
    assert_true(has_id(ids, n, TOR_MSG_REQUEST));
    assert_false(pr.leech.closed || pr.seed.closed);
    tor_swarm_peer_gone(ls, lp);
    tor_swarm_free(ls);

    /* said before the dictionary was known, refused now */
    ls = tor_swarm_new(&m2, NULL, id2, &sops, &pr.leech, &lim, 3);
    struct tor_mpeer_state bad = st;
    uint8_t haves[(NPIECES + 16) / 8] = {0};
    haves[(NPIECES + 3) / 8] = (uint8_t)(0x80 >> ((NPIECES + 3) % 8));
    bad.got_bits = false;
    bad.haves = haves, bad.nhaves = sizeof haves;
    struct side other = {0};
    memset(bad.peer_id, 'x', 20);
    lp = tor_swarm_peer_adopt(ls, &other, &bad, 900);
    assert_true(other.closed);
    assert_string_equal(other.why, "have: no such piece");
    tor_swarm_peer_gone(ls, lp);
    bad = st;
    bad.nbits -= 1;
    memset(bad.peer_id, 'y', 20);
    struct side third = {0};
    lp = tor_swarm_peer_adopt(ls, &third, &bad, 900);
    assert_true(third.closed);
    assert_string_equal(third.why, "bitfield of the wrong length");
    tor_swarm_peer_gone(ls, lp);
    assert_int_equal(tor_swarm_npeers(ls), 0);
    tor_swarm_free(ls);
    str_clear(&other.out);
    str_clear(&third.out);
    tor_meta_clear(&m2);
    teardown(&pr);
}

static void test_corrupt_metadata(void **state)
{
    (void)state;
    struct pair pr;
    setup(&pr, true);
    run(&pr);
    size_t len;
    assert_null(tor_mfetch_result(pr.f, &len));
    assert_true(pr.leech.closed);
    assert_string_equal(pr.leech.why, "sent metadata that does not match the info-hash");
    uint32_t got, total;
    tor_mfetch_progress(pr.f, &got, &total);
    assert_int_equal(total, 0); /* started over: the size is forgotten too */
    teardown(&pr);
}

static void test_no_extension_protocol(void **state)
{
    (void)state;
    struct tor_meta m;
    make_meta(&m);
    struct side sd = {0};
    uint8_t id[20] = "-PG0001-magnetmagnet";
    struct tor_mfetch *f = tor_mfetch_new(m.info_hash, id, &mops, NULL);
    struct tor_mpeer *p = tor_mfetch_peer_new(f, &sd, "10.0.0.3", false, 0);
    struct tor_handshake hs;
    memset(&hs, 0, sizeof hs);
    memcpy(hs.info_hash, m.info_hash, 20);
    memcpy(hs.peer_id, "-XX0001-oldoldoldold", 20);
    struct str in = STR_INIT;
    tor_wire_put_handshake(&in, &hs);
    tor_mfetch_peer_feed(f, p, (uint8_t *)in.ptr, in.len, 1);
    assert_true(sd.closed);
    assert_string_equal(sd.why, "no extension protocol (BEP 10): it cannot give the metadata");
    tor_mfetch_peer_gone(f, p);
    tor_mfetch_free(f);
    str_clear(&in);
    str_clear(&sd.out);
    tor_meta_clear(&m);
}

/* Handshake + extension handshake into the seed; returns with its replies in seed.out. */
static void hello_seed(struct pair *pr)
{
    struct str in = STR_INIT;
    struct tor_handshake hs = {.reserved = {0, 0, 0, 0, 0, TOR_RESERVED_EXT, 0, 0}};
    memcpy(hs.info_hash, pr->m.info_hash, 20);
    memcpy(hs.peer_id, "-PY0001-scriptedpeer", 20);
    tor_wire_put_handshake(&in, &hs);
    tor_ext_put_hs(&in, 0, 0, false);
    tor_swarm_peer_feed(pr->s, pr->sp, (uint8_t *)in.ptr, in.len, 1);
    str_clear(&in);
    str_clear(&pr->seed.out);
}

static void test_seed_serving(void **state)
{
    (void)state;
    struct pair pr;
    setup(&pr, false);
    hello_seed(&pr);
    /* a request past the end: a reject (msg_type 2) */
    struct str in = STR_INIT;
    tor_utm_put(&in, TOR_EXT_UT_METADATA, TOR_UTM_REQUEST, 40, 0, NULL, 0);
    tor_swarm_peer_feed(pr.s, pr.sp, (uint8_t *)in.ptr, in.len, 2);
    str_clear(&in);
    assert_false(pr.seed.closed);
    struct tor_msg msg;
    assert_true(tor_wire_msg_parse((uint8_t *)pr.seed.out.ptr, pr.seed.out.len, 1 << 20, &msg) > 0);
    assert_int_equal(msg.id, TOR_MSG_EXTENDED);
    assert_int_equal(msg.ext_id, TOR_EXT_UT_METADATA); /* the id our handshake gave */
    struct tor_utm u;
    assert_int_equal(tor_utm_parse((uint8_t *)msg.data.p, msg.data.len, &u), 0);
    assert_int_equal(u.type, TOR_UTM_REJECT);
    assert_int_equal(u.piece, 40);
    str_clear(&pr.seed.out);
    /* a request for the last piece: its data, short, with total_size */
    uint32_t last = tor_utm_npieces((int64_t)pr.m.info_len) - 1;
    tor_utm_put(&in, TOR_EXT_UT_METADATA, TOR_UTM_REQUEST, last, 0, NULL, 0);
    tor_swarm_peer_feed(pr.s, pr.sp, (uint8_t *)in.ptr, in.len, 3);
    str_clear(&in);
    assert_true(tor_wire_msg_parse((uint8_t *)pr.seed.out.ptr, pr.seed.out.len, 1 << 20, &msg) > 0);
    assert_int_equal(tor_utm_parse((uint8_t *)msg.data.p, msg.data.len, &u), 0);
    assert_int_equal(u.type, TOR_UTM_DATA);
    assert_int_equal(u.total_size, (int64_t)pr.m.info_len);
    assert_int_equal(u.data.len, pr.m.info_len - (size_t)last * TOR_META_PIECE);
    assert_memory_equal(u.data.p, pr.m.info + (size_t)last * TOR_META_PIECE, u.data.len);
    /* a malformed metadata message closes the connection */
    const char junk[] = "d8:msg_typei0e5:piecei-1ee";
    tor_wire_put_extended(&in, TOR_EXT_UT_METADATA, junk, strlen(junk), NULL, 0);
    tor_swarm_peer_feed(pr.s, pr.sp, (uint8_t *)in.ptr, in.len, 4);
    str_clear(&in);
    assert_true(pr.seed.closed);
    assert_string_equal(pr.seed.why, "malformed metadata message");
    teardown(&pr);
}

static void test_ext_parsers(void **state)
{
    (void)state;
    struct tor_ext_hs h;
    const char *ok = "d1:md11:ut_metadatai3e6:ut_pexi0ee13:metadata_sizei31235e1:pi6881ee";
    assert_int_equal(tor_ext_hs_parse((const uint8_t *)ok, strlen(ok), &h), 0);
    assert_int_equal(h.ut_metadata, 3);
    assert_int_equal(h.ut_pex, 0); /* 0: switched off (BEP 10) */
    assert_int_equal(h.metadata_size, 31235);
    assert_int_equal(h.port, 6881);
    const char *big = "d13:metadata_sizei99999999999ee";
    assert_int_equal(tor_ext_hs_parse((const uint8_t *)big, strlen(big), &h), ERR_PARSE);
    assert_int_equal(tor_ext_hs_parse((const uint8_t *)"le", 2, &h), ERR_PARSE);
    struct tor_utm u;
    const char *data = "d8:msg_typei1e5:piecei0e10:total_sizei5eeHELLO";
    assert_int_equal(tor_utm_parse((const uint8_t *)data, strlen(data), &u), 0);
    assert_int_equal(u.data.len, 5);
    const char *nosize = "d8:msg_typei1e5:piecei0eeHELLO";
    assert_int_equal(tor_utm_parse((const uint8_t *)nosize, strlen(nosize), &u), ERR_PARSE);
    const char *tail = "d8:msg_typei0e5:piecei0eeX";
    assert_int_equal(tor_utm_parse((const uint8_t *)tail, strlen(tail), &u), ERR_PARSE);
    const char *type = "d8:msg_typei7e5:piecei0ee";
    assert_int_equal(tor_utm_parse((const uint8_t *)type, strlen(type), &u), ERR_PARSE);
}

/* ---- BEP 52: a v2-only torrent from a btmh magnet link ---- */

#define V2_PIECES 1100 /* of 16 KiB: three chunks of hashes (512, 512, 76 padded to 128) */

/* A v2-only .torrent of one file of V2_PIECES pieces: its piece layer made up, its pieces
 * root folded from it. */
static void make_meta_v2(struct tor_meta *m)
{
    static uint8_t layer[32 * V2_PIECES];
    for (size_t i = 0; i < sizeof layer; i++)
        layer[i] = (uint8_t)(i * 31 + i / 97);
    uint8_t root[32], pad[32] = {0};
    tor_merkle_over(layer, V2_PIECES, tor_merkle_pow2(V2_PIECES), pad, root);
    struct str info = STR_INIT, t = STR_INIT;
    str_appendf(&info, "d9:file treed3:bigd0:d6:lengthi%de11:pieces root32:", V2_PIECES * PLEN);
    str_append(&info, root, 32);
    str_appends(&info, "eee12:meta versioni2e4:name2:v212:piece lengthi16384ee");
    str_appends(&t, "d4:info");
    str_append(&t, info.ptr, info.len);
    str_appends(&t, "12:piece layersd32:");
    str_append(&t, root, 32);
    str_appendf(&t, "%d:", 32 * V2_PIECES);
    str_append(&t, layer, sizeof layer);
    str_appends(&t, "ee");
    const char *why = NULL;
    assert_int_equal(tor_meta_parse(t.ptr, t.len, m, &why), 0);
    assert_true(m->v2_only);
    str_clear(&info);
    str_clear(&t);
}

/* A btmh-only link (the v2 hash; the wire name its first 20 bytes): the dictionary comes,
 * then its piece layer, chunk by chunk from the seed's hash answers (swarm_hash.c), proved
 * against the pieces root; a .torrent built around both reads back with the seed's piece
 * hashes. A seed whose layer is wrong is closed and nothing is accepted. */
static void test_v2_layers(void **state)
{
    (void)state;
    for (int lie = 0; lie < 2; lie++) {
        struct pair pr;
        memset(&pr, 0, sizeof pr);
        make_meta_v2(&pr.m);
        if (lie)
            pr.m.pieces[32 * 600 + 5] ^= 1; /* the seed serves a layer that is not the root's */
        struct tor_swarm_limits lim = {.max_peers = 10, .max_active_bytes = 4 * PLEN, .slots = 4};
        uint8_t all[(V2_PIECES + 7) / 8];
        memset(all, 0xff, sizeof all);
        all[sizeof all - 1] = (uint8_t)(0xff << (8 - V2_PIECES % 8));
        uint8_t id1[20] = "-PG0001-seedseedseed", id2[20] = "-PG0001-magnetmagnet";
        pr.s = tor_swarm_new(&pr.m, all, id1, &sops, &pr.seed, &lim, 1);
        pr.f = tor_mfetch_new(pr.m.info_hash, id2, &mops, NULL);
        tor_mfetch_set_v2(pr.f, pr.m.info_hash_v2);
        pr.mp = tor_mfetch_peer_new(pr.f, &pr.leech, "10.0.0.1", true, 0);
        pr.sp = tor_swarm_peer_new(pr.s, &pr.seed, "10.0.0.2", false, 0);
        run(&pr);
        size_t len = 0;
        const char *info = tor_mfetch_result(pr.f, &len);
        if (lie) {
            assert_null(info);
            assert_true(pr.leech.closed);
            assert_string_equal(pr.leech.why,
                                "sent hashes that do not lead to the pieces root (BEP 52)");
            teardown(&pr);
            continue;
        }
        assert_non_null(info);
        struct str layers = STR_INIT, t = STR_INIT;
        tor_mfetch_layers(pr.f, &layers);
        assert_true(layers.len > 32 * V2_PIECES);
        tor_meta_build(&t, info, len, NULL, 0, NULL, 0, layers.ptr, layers.len);
        struct tor_meta m2;
        const char *why = NULL;
        assert_int_equal(tor_meta_parse(t.ptr, t.len, &m2, &why), 0);
        assert_memory_equal(m2.info_hash_v2, pr.m.info_hash_v2, 32);
        assert_memory_equal(m2.pieces, pr.m.pieces, 32 * V2_PIECES);
        tor_meta_clear(&m2);
        str_clear(&layers);
        str_clear(&t);
        /* a request for another layer of the tree than the pieces' is refused */
        uint8_t req[49 + 4] = {0, 0, 0, 49, TOR_MSG_HASH_REQUEST};
        memcpy(req + 5, pr.m.files[0].root, 32);
        req[5 + 32 + 3] = 1;  /* base layer 1 (the pieces' is 0 here) */
        req[5 + 32 + 11] = 2; /* index 0, count 2, proof layers 0 */
        str_clear(&pr.seed.out);
        tor_swarm_peer_feed(pr.s, pr.sp, req, 53, 30000);
        uint8_t ids[4];
        size_t n = msg_ids(&pr.seed.out, ids, 4);
        assert_true(n == 1 && ids[0] == TOR_MSG_HASH_REJECT);
        /* a good request on a connection backed up with data: rejected (an answer is ~330
         * times its request), answered again once the backlog is gone */
        req[5 + 32 + 3] = 0;
        req[5 + 32 + 11] = 0, req[5 + 32 + 10] = 2; /* 512 hashes from 0 */
        req[5 + 32 + 15] = 10;                      /* proof layers 10 (width 2048) */
        pending_now = 256u << 10;
        str_clear(&pr.seed.out);
        tor_swarm_peer_feed(pr.s, pr.sp, req, 53, 30000);
        assert_true(msg_ids(&pr.seed.out, ids, 4) == 1 && ids[0] == TOR_MSG_HASH_REJECT);
        pending_now = 0;
        str_clear(&pr.seed.out);
        tor_swarm_peer_feed(pr.s, pr.sp, req, 53, 30000);
        assert_true(msg_ids(&pr.seed.out, ids, 4) == 1 && ids[0] == TOR_MSG_HASHES);
        teardown(&pr);
    }
}

/* A layer of 512k + 1 pieces: its last chunk is asked as 2 hashes (the second the padding),
 * never as 1 — libtorrent 2.0 answers a chunk of 1 one uncle short (review, session 11). */
static void test_no_chunk_of_one(void **state)
{
    (void)state;
    struct tor_layer_want w = {.npieces = 513};
    struct tor_lfetch *lf = tor_lfetch_new(&w, 1, PLEN);
    uint8_t head[2][48];
    assert_true(tor_lfetch_next(lf, 1, 0, head[0]));
    assert_true(tor_lfetch_next(lf, 1, 0, head[1]));
    assert_memory_equal(head[0] + 36, "\0\0\0\0\0\0\x02\0\0\0\0\x09", 12); /* 0, 512, 9 */
    assert_memory_equal(head[1] + 36, "\0\0\x02\0\0\0\0\x02\0\0\0\x09", 12); /* 512, 2, 9 */
    tor_lfetch_free(lf);
}

static void test_build_torrent(void **state)
{
    (void)state;
    struct tor_meta m;
    make_meta(&m);
    char *tr[] = {"udp://127.0.0.1:6969/announce", "http://t.example/announce"};
    char *ws[] = {"http://www.example/files/"};
    struct str t = STR_INIT;
    tor_meta_build(&t, m.info, m.info_len, tr, 2, ws, 1, NULL, 0);
    struct tor_meta m2;
    const char *why = NULL;
    assert_int_equal(tor_meta_parse(t.ptr, t.len, &m2, &why), 0);
    assert_memory_equal(m2.info_hash, m.info_hash, 20);
    assert_int_equal(m2.ntrackers, 2);
    assert_string_equal(m2.trackers[0], tr[0]);
    assert_string_equal(m2.trackers[1], tr[1]);
    assert_int_equal(m2.nwebseeds, 1);
    assert_string_equal(m2.webseeds[0], ws[0]);
    tor_meta_clear(&m2);
    str_clear(&t);
    tor_meta_clear(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fetch),
        cmocka_unit_test(test_handover),
        cmocka_unit_test(test_corrupt_metadata),
        cmocka_unit_test(test_no_extension_protocol),
        cmocka_unit_test(test_seed_serving),
        cmocka_unit_test(test_ext_parsers),
        cmocka_unit_test(test_build_torrent),
        cmocka_unit_test(test_v2_layers),
        cmocka_unit_test(test_no_chunk_of_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
