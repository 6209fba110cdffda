/* torrent/metainfo and torrent/magnet: .torrent files built here, info-hash over the raw
 * info dictionary, files and offsets, unsafe paths, trackers, web seeds, magnet links;
 * hybrid v1/v2 torrents (BEP 52) with padding files (BEP 47), v2-only torrents (files
 * aligned to pieces, merkle roots checked against a separate computation), refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/err.h"
#include "torrent/bencode.h"
#include "torrent/magnet.h"
#include "torrent/merkle.h"
#include "torrent/metainfo.h"

#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

/* A torrent of `total` bytes in pieces of plen; files: NULL = single file "f.bin". */
static void build(struct str *o, uint64_t plen, uint64_t total, const char *files_benc,
                  bool priv, struct str *info_out)
{
    struct str info = STR_INIT;
    benc_open_dict(&info);
    if (files_benc) {
        benc_put_cstr(&info, "files");
        str_appends(&info, files_benc);
    } else {
        benc_put_cstr(&info, "length");
        benc_put_int(&info, (int64_t)total);
    }
    benc_put_cstr(&info, "name");
    benc_put_cstr(&info, files_benc ? "dir" : "f.bin");
    benc_put_cstr(&info, "piece length");
    benc_put_int(&info, (int64_t)plen);
    benc_put_cstr(&info, "pieces");
    size_t np = plen ? (size_t)((total + plen - 1) / plen) : 1;
    char *h = calloc(np ? np : 1, 20);
    for (size_t i = 0; i < np; i++)
        h[i * 20] = (char)i;
    benc_put_str(&info, h, np * 20);
    free(h);
    if (priv) {
        benc_put_cstr(&info, "private");
        benc_put_int(&info, 1);
    }
    benc_close(&info);
    benc_open_dict(o);
    benc_put_cstr(o, "announce");
    benc_put_cstr(o, "http://t.example/announce");
    benc_put_cstr(o, "announce-list");
    str_appends(o, "ll25:http://t.example/announce20:udp://u.example:6969el17:http://b.example/ee");
    benc_put_cstr(o, "info");
    str_append(o, info.ptr, info.len);
    benc_put_cstr(o, "url-list");
    benc_put_cstr(o, "http://w.example/files/");
    benc_close(o);
    if (info_out)
        str_append(info_out, info.ptr, info.len);
    str_clear(&info);
}

static void test_single(void **state)
{
    (void)state;
    struct str t = STR_INIT, info = STR_INIT;
    build(&t, 32768, 100000, NULL, false, &info);
    struct tor_meta m;
    const char *why = NULL;
    assert_int_equal(tor_meta_parse(t.ptr, t.len, &m, &why), 0);
    uint8_t want[20];
    SHA1((const unsigned char *)info.ptr, info.len, want);
    assert_memory_equal(m.info_hash, want, 20);
    assert_int_equal(m.npieces, 4);
    assert_int_equal(m.total, 100000);
    assert_int_equal(tor_meta_piece_size(&m, 3), 100000 - 3 * 32768);
    assert_int_equal(m.nfiles, 1);
    assert_string_equal(m.files[0].path, "f.bin");
    assert_false(m.multi);
    assert_false(m.priv);
    assert_int_equal(m.ntrackers, 3); /* the duplicate announce is kept once */
    assert_string_equal(m.trackers[0], "http://t.example/announce");
    assert_string_equal(m.trackers[1], "udp://u.example:6969");
    assert_int_equal(m.nwebseeds, 1);
    assert_int_equal(m.info_len, info.len);
    assert_memory_equal(m.info, info.ptr, info.len);
    /* the same info through BEP 9 */
    struct tor_meta m2;
    assert_int_equal(tor_meta_from_info(info.ptr, info.len, want, &m2, &why), 0);
    assert_int_equal(m2.npieces, 4);
    tor_meta_clear(&m2);
    want[0] ^= 1;
    assert_int_equal(tor_meta_from_info(info.ptr, info.len, want, &m2, &why), ERR_PARSE);
    tor_meta_clear(&m);
    tor_meta_clear(&m2);
    str_clear(&t);
    str_clear(&info);
}

static void test_multi_and_private(void **state)
{
    (void)state;
    struct str t = STR_INIT;
    build(&t, 16384, 30000,
          "ld6:lengthi10000e4:pathl1:a5:b.txteed6:lengthi20000e4:pathl5:c.bineee", true, NULL);
    struct tor_meta m;
    const char *why = NULL;
    assert_int_equal(tor_meta_parse(t.ptr, t.len, &m, &why), 0);
    assert_true(m.multi);
    assert_true(m.priv);
    assert_int_equal(m.nfiles, 2);
    assert_string_equal(m.files[0].path, "a/b.txt");
    assert_int_equal(m.files[1].offset, 10000);
    assert_int_equal(m.npieces, 2);
    tor_meta_clear(&m);
    str_clear(&t);
}

static void expect_bad(uint64_t plen, uint64_t total, const char *files)
{
    struct str t = STR_INIT;
    build(&t, plen, total, files, false, NULL);
    struct tor_meta m;
    const char *why = NULL;
    if (tor_meta_parse(t.ptr, t.len, &m, &why) >= 0)
        fail_msg("accepted: %s", files ? files : "single");
    assert_non_null(why);
    str_clear(&t);
}

static void test_rejects(void **state)
{
    (void)state;
    expect_bad(16384, 30000, "ld6:lengthi1e4:pathl2:..5:b.txteee");
    expect_bad(16384, 30000, "ld6:lengthi1e4:pathl1:.eee");
    expect_bad(16384, 30000, "ld6:lengthi1e4:pathl3:a/beee");
    expect_bad(16384, 30000, "ld6:lengthi1e4:pathl0:eee");
    expect_bad(16384, 30000, "ld6:lengthi1e4:pathleee");
    expect_bad(16384, 30000, "ld6:lengthi-1e4:pathl1:aeee");
    expect_bad(16384, 30000, "le");
    expect_bad(0, 30000, NULL);
    expect_bad(1ull << 30, 30000, NULL);
    /* piece hashes for a different length */
    struct str t = STR_INIT;
    build(&t, 16384, 30000, "ld6:lengthi99999e4:pathl1:aeee", false, NULL);
    struct tor_meta m;
    const char *why = NULL;
    assert_int_equal(tor_meta_parse(t.ptr, t.len, &m, &why), ERR_PARSE);
    assert_string_equal(why, "piece count does not match the length");
    str_clear(&t);
    assert_true(tor_meta_parse("de", 2, &m, &why) < 0);
}

static void test_magnet(void **state)
{
    (void)state;
    struct tor_magnet mg;
    const char *why = NULL;
    const char *u = "magnet:?xt=urn:btih:0123456789ABCDEF0123456789abcdef01234567&dn=My%20File"
                    "&tr=http%3A%2F%2Ft.example%2Fannounce&tr=udp://u:1&ws=http://w/f";
    assert_int_equal(tor_magnet_parse(u, strlen(u), &mg, &why), 0);
    assert_int_equal(mg.info_hash[0], 0x01);
    assert_int_equal(mg.info_hash[19], 0x67);
    assert_string_equal(mg.name, "My File");
    assert_int_equal(mg.ntrackers, 2);
    assert_string_equal(mg.trackers[0], "http://t.example/announce");
    assert_int_equal(mg.nwebseeds, 1);
    tor_magnet_clear(&mg);
    /* base32: 20 zero bytes then the same as hex */
    const char *b32 = "magnet:?xt=urn:btih:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB";
    assert_int_equal(tor_magnet_parse(b32, strlen(b32), &mg, &why), 0);
    assert_int_equal(mg.info_hash[19], 1);
    tor_magnet_clear(&mg);
    const char *bad[] = {"magnet:?dn=x", "http://x", "magnet:?xt=urn:btih:0123",
                         "magnet:?xt=urn:btih:0123456789ABCDEF0123456789abcdef0123456g",
                         "magnet:?xt=urn:btih:0123456789ABCDEF0123456789abcdef01234567&dn=%4",
                         "magnet:?xt=urn:btih:0123456789ABCDEF0123456789abcdef01234567&dn=a%00b"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (tor_magnet_parse(bad[i], strlen(bad[i]), &mg, &why) >= 0)
            fail_msg("accepted %s", bad[i]);
        assert_non_null(why);
    }
}

/* ---- BEP 52 hybrids ---- */

#define ROOT "32:rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr"
/* a (40000 bytes), 25536 bytes of padding, b (10000 bytes), in pieces of 32 KiB */
#define TREE "d1:ad0:d6:lengthi40000e11:pieces root" ROOT "ee1:bd0:d6:lengthi10000e11:pieces root" ROOT "eee"
#define FILES "ld6:lengthi40000e4:pathl1:aeed4:attr1:p6:lengthi25536e4:pathl4:.pad5:25536eed6:lengthi10000e4:pathl1:beee"

/* A .torrent around an info dictionary with these raw bencoded values (NULL: left out). */
static int hybrid(struct str *info, const char *tree, const char *files, const char *version,
                  const char *plen, bool pieces, struct tor_meta *m, const char **why)
{
    benc_open_dict(info);
    if (tree)
        str_appendf(info, "9:file tree%s", tree);
    str_appendf(info, "5:files%s", files);
    if (version)
        str_appendf(info, "12:meta version%s", version);
    str_appendf(info, "4:name3:dir12:piece length%s", plen);
    if (pieces) {
        str_appends(info, "6:pieces60:");
        for (int i = 0; i < 60; i++)
            str_appendc(info, 'h');
    }
    benc_close(info);
    struct str t = STR_INIT;
    str_appends(&t, "d4:info");
    str_append(&t, info->ptr, info->len);
    str_appendc(&t, 'e');
    int rc = tor_meta_parse(t.ptr, t.len, m, why);
    str_clear(&t);
    return rc;
}

static void test_hybrid(void **state)
{
    (void)state;
    struct str info = STR_INIT;
    struct tor_meta m;
    const char *why = NULL;
    assert_int_equal(hybrid(&info, TREE, FILES, "i2e", "i32768e", true, &m, &why), 0);
    assert_true(m.v2);
    uint8_t h1[20], h2[32];
    SHA1((const unsigned char *)info.ptr, info.len, h1);
    SHA256((const unsigned char *)info.ptr, info.len, h2);
    assert_memory_equal(m.info_hash, h1, 20);
    assert_memory_equal(m.info_hash_v2, h2, 32);
    /* a v2 peer names it by the first 20 bytes of the SHA-256 */
    assert_true(tor_meta_hash_matches(&m, h1));
    assert_true(tor_meta_hash_matches(&m, h2));
    h2[19] ^= 1;
    assert_false(tor_meta_hash_matches(&m, h2));
    assert_int_equal(m.nfiles, 3);
    assert_false(m.files[0].pad);
    assert_true(m.files[1].pad);
    assert_string_equal(m.files[2].path, "b");
    assert_int_equal(m.files[2].offset, 65536); /* b starts on a piece */
    assert_int_equal(m.npieces, 3);
    tor_meta_clear(&m);
    str_clear(&info);
    /* a plain v1 torrent has no v2 hash to match */
    assert_int_equal(hybrid(&info, NULL, FILES, NULL, "i32768e", true, &m, &why), 0);
    assert_false(m.v2);
    assert_true(m.files[1].pad);
    tor_meta_clear(&m);
    str_clear(&info);
}

static void test_hybrid_rejects(void **state)
{
    (void)state;
    static const struct {
        const char *tree, *version, *plen;
        bool pieces;
        const char *why;
    } cases[] = {
        {TREE, "i2e", "i32768e", false, "a file without its piece layer"},
        {TREE, "i3e", "i32768e", true, "unknown meta version"},
        {TREE, "1:2", "i32768e", true, "unknown meta version"},
        {TREE, "i2e", "i32769e", true, "bad piece length for v2"},
        {NULL, "i2e", "i32768e", true, "meta version 2 without a file tree"},
        {"d1:ad0:d6:lengthi40000e11:pieces root" ROOT "ee1:bd0:d6:lengthi10001e11:pieces root" ROOT "eee",
         "i2e", "i32768e", true, "file tree and files differ"},
        {"d1:ad0:d6:lengthi40000e11:pieces root" ROOT "eee", "i2e", "i32768e", true,
         "file tree and files differ"},
        {"d1:bd0:d6:lengthi10000e11:pieces root" ROOT "ee1:ad0:d6:lengthi40000e11:pieces root" ROOT "eee",
         "i2e", "i32768e", true, "file tree and files differ"},
        {"d2:..d0:d6:lengthi40000e11:pieces root" ROOT "eee", "i2e", "i32768e", true,
         "unsafe file path"},
        {"d1:ad0:d6:lengthi40000e11:pieces root3:abcee1:bd0:d6:lengthi10000e11:pieces root" ROOT "eee",
         "i2e", "i32768e", true, "file tree: a file without its pieces root"},
        {"d0:d6:lengthi1eee", "i2e", "i32768e", true, "bad file tree"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct str info = STR_INIT;
        struct tor_meta m;
        const char *why = NULL;
        assert_int_equal(hybrid(&info, cases[i].tree, FILES, cases[i].version, cases[i].plen,
                                cases[i].pieces, &m, &why),
                         ERR_PARSE);
        assert_string_equal(why, cases[i].why);
        str_clear(&info);
    }
}

/* ---- BEP 52 v2-only ---- */

/* The merkle root over n 16 KiB-block leaves of data, padded with zero hashes to width:
 * computed here recursively, apart from torrent/merkle's loop. */
static void tree_root(const uint8_t *data, size_t len, size_t first, size_t width, uint8_t out[32])
{
    if (width == 1) {
        size_t off = first * 16384;
        memset(out, 0, 32);
        if (off < len)
            SHA256(data + off, len - off < 16384 ? len - off : 16384, out);
        return;
    }
    uint8_t two[64];
    tree_root(data, len, first, width / 2, two);
    tree_root(data, len, first + width / 2, width / 2, two + 32);
    SHA256(two, 64, out);
}

/* a: 40000 bytes (two pieces of 32 KiB: a piece layer), b: 10000 bytes (a pieces root) */
static void v2_torrent(struct str *t, struct str *info, const uint8_t *a, const uint8_t *b,
                       bool with_layers, bool bad_layer)
{
    uint8_t ra[32], rb[32], layer[64];
    tree_root(a, 40000, 0, 4, ra);
    tree_root(b, 10000, 0, 1, rb);
    tree_root(a, 32768, 0, 2, layer);
    tree_root(a + 32768, 40000 - 32768, 0, 2, layer + 32);
    if (bad_layer)
        layer[40] ^= 1;
    benc_open_dict(info);
    str_appends(info, "9:file treed1:ad0:d6:lengthi40000e11:pieces root32:");
    str_append(info, ra, 32);
    str_appends(info, "ee1:bd0:d6:lengthi10000e11:pieces root32:");
    str_append(info, rb, 32);
    str_appends(info, "eee12:meta versioni2e4:name2:v212:piece lengthi32768e");
    benc_close(info);
    str_appends(t, "d4:info");
    str_append(t, info->ptr, info->len);
    if (with_layers) {
        str_appends(t, "12:piece layersd32:");
        str_append(t, ra, 32);
        str_appends(t, "64:");
        str_append(t, layer, 64);
        str_appendc(t, 'e');
    }
    str_appendc(t, 'e');
}

/* The contents of the two files of v2_torrent. */
static void v2_files(uint8_t a[40000], uint8_t b[10000])
{
    for (size_t i = 0; i < 40000; i++)
        a[i] = (uint8_t)(i * 7 + i / 300);
    for (size_t i = 0; i < 10000; i++)
        b[i] = (uint8_t)(i * 13 + 1);
}

static void test_v2_only(void **state)
{
    (void)state;
    uint8_t a[40000], b[10000];
    v2_files(a, b);
    struct str t = STR_INIT, info = STR_INIT;
    v2_torrent(&t, &info, a, b, true, false);
    struct tor_meta m;
    const char *why = NULL;
    assert_int_equal(tor_meta_parse(t.ptr, t.len, &m, &why), 0);
    assert_true(m.v2 && m.v2_only && m.multi);
    uint8_t h[32];
    SHA256((const unsigned char *)info.ptr, info.len, h);
    assert_memory_equal(m.info_hash_v2, h, 32);
    assert_memory_equal(m.info_hash, h, 20); /* its name on the wire */
    /* a, padding to the next piece, b */
    assert_int_equal(m.nfiles, 3);
    assert_string_equal(m.files[0].path, "a");
    assert_true(m.files[1].pad);
    assert_int_equal(m.files[1].length, 65536 - 40000);
    assert_int_equal(m.files[2].offset, 65536);
    assert_int_equal(m.npieces, 3);
    /* each piece checks against its merkle root, padding bytes included in the data */
    uint8_t piece[32768];
    assert_true(tor_meta_piece_ok(&m, 0, a, 32768));
    memset(piece, 0, sizeof piece);
    memcpy(piece, a + 32768, 40000 - 32768);
    assert_true(tor_meta_piece_ok(&m, 1, piece, 32768));
    assert_true(tor_meta_piece_ok(&m, 2, b, 10000));
    piece[5] ^= 1;
    assert_false(tor_meta_piece_ok(&m, 1, piece, 32768));
    assert_false(tor_meta_piece_ok(&m, 0, a + 1, 32768));
    tor_meta_clear(&m);
    /* no piece layers, or one that does not fold up to the pieces root */
    str_clear(&t), str_clear(&info);
    v2_torrent(&t, &info, a, b, false, false);
    assert_int_equal(tor_meta_parse(t.ptr, t.len, &m, &why), ERR_PARSE);
    assert_string_equal(why, "a file without its piece layer");
    str_clear(&t), str_clear(&info);
    v2_torrent(&t, &info, a, b, true, true);
    assert_int_equal(tor_meta_parse(t.ptr, t.len, &m, &why), ERR_PARSE);
    assert_string_equal(why, "piece layer does not match its pieces root");
    /* review finding 2: 154 bytes declaring 2^45 bytes in 16 KiB pieces (2^31 pieces, 64 GiB
     * of piece table) are refused before anything is allocated for them */
    struct str huge = STR_INIT;
    str_appends(&huge, "d4:infod9:file treed1:ad0:d6:lengthi35184372088832e11:pieces root32:");
    str_append(&huge, h, 32);
    str_appends(&huge, "eee12:meta versioni2e4:name1:a12:piece lengthi16384eee");
    assert_int_equal(huge.len, 154);
    assert_int_equal(tor_meta_parse(huge.ptr, huge.len, &m, &why), ERR_PARSE);
    assert_string_equal(why, "too many pieces");
    struct tor_layer_want *w = NULL;
    uint64_t plen;
    assert_int_equal(tor_meta_layers_wanted(huge.ptr + 7, huge.len - 8, &w, &plen), -1);
    assert_null(w);
    str_clear(&huge);
    /* a bare info dictionary (BEP 9) carries no piece layers */
    SHA1((const unsigned char *)info.ptr, info.len, h);
    assert_int_equal(tor_meta_from_info(info.ptr, info.len, h, &m, &why), ERR_PARSE);
    assert_string_equal(why, "v2-only metadata without its piece layers");
    str_clear(&t), str_clear(&info);
}

static void test_merkle(void **state)
{
    (void)state;
    static uint8_t d[6 * 16384 - 100];
    for (size_t i = 0; i < sizeof d; i++)
        d[i] = (uint8_t)(i ^ (i >> 9));
    uint8_t want[32], got[32], pieces[3 * 32], zero[32];
    /* a file's root: 6 blocks (the last short) padded to 8 leaves */
    tree_root(d, sizeof d, 0, 8, want);
    tor_merkle_root(d, sizeof d, 8, got);
    assert_memory_equal(got, want, 32);
    /* the same root folded from its piece layer (pieces of 2 blocks: 3 of them, padded to 4
     * with the root of two zero leaves) */
    for (size_t i = 0; i < 3; i++)
        tor_merkle_root(d + i * 32768, i < 2 ? 32768 : sizeof d - 65536, 2, pieces + 32 * i);
    tor_merkle_zero(2, zero);
    tree_root(d, 0, 0, 2, want);
    assert_memory_equal(zero, want, 32);
    tor_merkle_over(pieces, 3, 4, zero, got);
    tree_root(d, sizeof d, 0, 8, want);
    assert_memory_equal(got, want, 32);
    assert_int_equal(tor_merkle_pow2(0), 1);
    assert_int_equal(tor_merkle_pow2(5), 8);
    assert_int_equal(tor_merkle_pow2(8), 8);
}

/* BEP 52 hash answers: a chunk of a layer with the uncles that prove it folds up to the
 * root, for every chunk size and place; a changed hash or a short proof does not; requests
 * that do not fit the tree are refused. */
static void test_merkle_proof(void **state)
{
    (void)state;
    uint8_t layer[5 * 32], pad[32], root[32], out[32 * 16];
    for (size_t i = 0; i < sizeof layer; i++)
        layer[i] = (uint8_t)(i * 3 + 1);
    tor_merkle_zero(4, pad);
    tor_merkle_over(layer, 5, 8, pad, root);
    uint8_t *tree = tor_merkle_tree(layer, 5, 8, pad);
    assert_memory_equal(tree + 32 * 14, root, 32); /* 8 + 4 + 2 below it */
    for (uint32_t count = 1; count <= 8; count *= 2)
        for (uint32_t index = 0; index < 8; index += count) {
            /* the proof up to just below the root: log2(8) - 1 layers */
            size_t nu = tor_merkle_nuncles(count, 2);
            assert_int_equal(nu, 3 - tor_merkle_log2(count));
            assert_true(tor_merkle_proof(tree, 8, index, count, 2, out));
            assert_memory_equal(out, tree + 32 * index, 32 * count);
            assert_true(tor_merkle_check(out, count, index, nu, 8, root));
            out[0] ^= 1;
            assert_false(tor_merkle_check(out, count, index, nu, 8, root));
            out[0] ^= 1;
            if (nu)
                assert_false(tor_merkle_check(out, count, index, nu - 1, 8, root));
        }
    assert_false(tor_merkle_proof(tree, 8, 0, 3, 2, out));   /* not a power of two */
    assert_false(tor_merkle_proof(tree, 8, 2, 4, 2, out));   /* not on a multiple */
    assert_false(tor_merkle_proof(tree, 8, 8, 2, 2, out));   /* past the width */
    assert_false(tor_merkle_proof(tree, 8, 0, 16, 2, out));  /* wider than the tree */
    assert_false(tor_merkle_proof(tree, 8, 0, 2, 3, out));   /* the root has no sibling */
    free(tree);
}

/* A bare v2-only dictionary lists the piece layers it still needs; a .torrent built around
 * it and them reads back; the files keep their pieces roots; a btmh magnet link. */
static void test_v2_layers_wanted(void **state)
{
    (void)state;
    uint8_t a[40000], b[10000];
    v2_files(a, b);
    struct str t = STR_INIT, info = STR_INIT, layers = STR_INIT, t2 = STR_INIT;
    v2_torrent(&t, &info, a, b, true, false);
    struct tor_meta m;
    const char *why = NULL;
    assert_int_equal(tor_meta_parse(t.ptr, t.len, &m, &why), 0);
    struct tor_layer_want *w;
    uint64_t plen;
    assert_int_equal(tor_meta_layers_wanted(info.ptr, info.len, &w, &plen), 1);
    assert_int_equal(plen, 32768);
    assert_memory_equal(w[0].root, m.files[0].root, 32);
    assert_int_equal(w[0].npieces, 2);
    uint32_t n = 0;
    assert_ptr_equal(tor_meta_layer(&m, 0, &n), m.pieces);
    assert_int_equal(n, 2);
    assert_null(tor_meta_layer(&m, 2, &n)); /* b: one piece, its root is its hash */
    assert_int_equal(tor_meta_file_by_root(&m, m.files[2].root), 2);
    benc_open_dict(&layers);
    benc_put_str(&layers, w[0].root, 32);
    benc_put_str(&layers, m.pieces, 64);
    benc_close(&layers);
    tor_meta_build(&t2, info.ptr, info.len, NULL, 0, NULL, 0, layers.ptr, layers.len);
    struct tor_meta m2;
    assert_int_equal(tor_meta_parse(t2.ptr, t2.len, &m2, &why), 0);
    assert_memory_equal(m2.pieces, m.pieces, 32 * 3);
    assert_memory_equal(m2.info_hash, m.info_hash, 20);
    tor_meta_clear(&m2);
    free(w);
    /* a v1 dictionary is not one */
    struct str v1 = STR_INIT;
    str_appends(&v1, "d6:lengthi5e4:name1:x12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaae");
    assert_int_equal(tor_meta_layers_wanted(v1.ptr, v1.len, &w, &plen), -1);
    assert_null(w);
    /* btmh: SHA-256 multihash; alone it is also the wire name, truncated */
    struct str u = STR_INIT;
    str_appends(&u, "magnet:?xt=urn:btmh:1220");
    for (int i = 0; i < 32; i++)
        str_appendf(&u, "%02x", m.info_hash_v2[i]);
    struct tor_magnet mg;
    assert_int_equal(tor_magnet_parse(u.ptr, u.len, &mg, &why), 0);
    assert_true(mg.v2 && mg.v2_only);
    assert_memory_equal(mg.info_hash_v2, m.info_hash_v2, 32);
    assert_memory_equal(mg.info_hash, m.info_hash, 20);
    tor_magnet_clear(&mg);
    str_appends(&u, "&xt=urn:btih:0123456789ABCDEF0123456789abcdef01234567");
    assert_int_equal(tor_magnet_parse(u.ptr, u.len, &mg, &why), 0);
    assert_true(mg.v2 && !mg.v2_only); /* a hybrid's link: named by its v1 hash */
    assert_int_equal(mg.info_hash[0], 0x01);
    tor_magnet_clear(&mg);
    const char *bad = "magnet:?xt=urn:btmh:1114aaaa";
    assert_int_equal(tor_magnet_parse(bad, strlen(bad), &mg, &why), ERR_PARSE);
    tor_meta_clear(&m);
    str_clear(&t), str_clear(&info), str_clear(&layers), str_clear(&t2), str_clear(&v1);
    str_clear(&u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single),
        cmocka_unit_test(test_multi_and_private),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_magnet),
        cmocka_unit_test(test_hybrid),
        cmocka_unit_test(test_hybrid_rejects),
        cmocka_unit_test(test_v2_only),
        cmocka_unit_test(test_merkle),
        cmocka_unit_test(test_merkle_proof),
        cmocka_unit_test(test_v2_layers_wanted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
