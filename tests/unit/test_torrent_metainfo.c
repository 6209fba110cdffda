/* torrent/metainfo and torrent/magnet: .torrent files built here, info-hash over the raw
 * info dictionary, files and offsets, unsafe paths, trackers, web seeds, magnet links. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/err.h"
#include "torrent/bencode.h"
#include "torrent/magnet.h"
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single),
        cmocka_unit_test(test_multi_and_private),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_magnet),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
