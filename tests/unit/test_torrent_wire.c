/* torrent/wire: handshake, every message both ways, split input, length limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/err.h"
#include "torrent/metainfo.h"
#include "torrent/wire.h"

#include <string.h>

static void test_handshake(void **state)
{
    (void)state;
    struct tor_handshake hs = {.reserved = {0, 0, 0, 0, 0, TOR_RESERVED_EXT, 0, TOR_RESERVED_FAST}};
    memset(hs.info_hash, 0xab, 20);
    memcpy(hs.peer_id, "-PG0001-abcdefghijkl", 20);
    struct str o = STR_INIT;
    tor_wire_put_handshake(&o, &hs);
    assert_int_equal(o.len, TOR_HANDSHAKE_LEN);
    struct tor_handshake got;
    for (size_t cut = 0; cut < o.len; cut++)
        assert_int_equal(tor_wire_handshake_parse((uint8_t *)o.ptr, cut, &got), 0);
    assert_int_equal(tor_wire_handshake_parse((uint8_t *)o.ptr, o.len, &got), TOR_HANDSHAKE_LEN);
    assert_memory_equal(&got, &hs, sizeof hs);
    o.ptr[3] = 'X';
    assert_int_equal(tor_wire_handshake_parse((uint8_t *)o.ptr, 5, &got), ERR_PARSE);
    assert_int_equal(tor_wire_handshake_parse((const uint8_t *)"GET / HTTP/1.1", 14, &got),
                     ERR_PARSE);
    str_clear(&o);
}

static void test_round_trip(void **state)
{
    (void)state;
    struct str o = STR_INIT;
    tor_wire_put_simple(&o, TOR_MSG_KEEPALIVE);
    tor_wire_put_simple(&o, TOR_MSG_INTERESTED);
    tor_wire_put_have(&o, TOR_MSG_HAVE, 77);
    uint8_t bits[3] = {0xff, 0x00, 0x80};
    tor_wire_put_bitfield(&o, bits, 3);
    tor_wire_put_request(&o, TOR_MSG_REQUEST, 5, 16384, 16384);
    tor_wire_put_piece_head(&o, 5, 16384, 4);
    str_append(&o, "DATA", 4);
    tor_wire_put_request(&o, TOR_MSG_REJECT, 1, 2, 3);
    tor_wire_put_simple(&o, TOR_MSG_HAVE_ALL);
    tor_wire_put_extended(&o, 0, "de", 2, NULL, 0);
    str_append(&o, "\0\0\0\x03\x09\x1a\xe1", 7); /* port 6881 */
    str_append(&o, "\0\0\0\x02\x63\x00", 6);    /* unknown id 99 */
    const enum tor_msg_id want[] = {TOR_MSG_KEEPALIVE, TOR_MSG_INTERESTED, TOR_MSG_HAVE,
                                    TOR_MSG_BITFIELD,  TOR_MSG_REQUEST,    TOR_MSG_PIECE,
                                    TOR_MSG_REJECT,    TOR_MSG_HAVE_ALL,   TOR_MSG_EXTENDED,
                                    TOR_MSG_PORT,      TOR_MSG_UNKNOWN};
    size_t pos = 0, max = tor_wire_max_msg(100);
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        struct tor_msg m;
        /* every prefix of the message is "need more" */
        long len = tor_wire_msg_parse((uint8_t *)o.ptr + pos, o.len - pos, max, &m);
        assert_true(len > 0);
        for (long cut = 0; cut < len; cut++)
            assert_int_equal(tor_wire_msg_parse((uint8_t *)o.ptr + pos, (size_t)cut, max, &m), 0);
        tor_wire_msg_parse((uint8_t *)o.ptr + pos, o.len - pos, max, &m);
        assert_int_equal(m.id, want[i]);
        if (m.id == TOR_MSG_HAVE)
            assert_int_equal(m.index, 77);
        if (m.id == TOR_MSG_BITFIELD)
            assert_memory_equal(m.data.p, bits, 3);
        if (m.id == TOR_MSG_REQUEST)
            assert_true(m.index == 5 && m.begin == 16384 && m.length == 16384);
        if (m.id == TOR_MSG_PIECE)
            assert_true(m.index == 5 && m.begin == 16384 && slice_eq(m.data, "DATA"));
        if (m.id == TOR_MSG_EXTENDED)
            assert_true(m.ext_id == 0 && slice_eq(m.data, "de"));
        if (m.id == TOR_MSG_PORT)
            assert_int_equal(m.port, 6881);
        pos += (size_t)len;
    }
    assert_int_equal(pos, o.len);
    str_clear(&o);
}

static void test_bad_lengths(void **state)
{
    (void)state;
    struct tor_msg m;
    size_t max = tor_wire_max_msg(100);
    /* a block larger than 16 KiB plus header: the limit, before any payload arrives */
    uint8_t big[4] = {0, 0, 0x50, 0};
    assert_int_equal(tor_wire_msg_parse(big, 4, max, &m), ERR_LIMIT);
    uint8_t huge[4] = {0xff, 0xff, 0xff, 0xff};
    assert_int_equal(tor_wire_msg_parse(huge, 4, max, &m), ERR_LIMIT);
    /* have with 3 bytes, choke with a payload, request with 8, piece with 7 */
    const uint8_t *bad[] = {(const uint8_t *)"\0\0\0\x04\x04\0\0\0", (const uint8_t *)"\0\0\0\x02\x00\x00",
                            (const uint8_t *)"\0\0\0\x09\x06\0\0\0\0\0\0\0\0",
                            (const uint8_t *)"\0\0\0\x08\x07\0\0\0\0\0\0\0", (const uint8_t *)"\0\0\0\x01\x14"};
    const size_t lens[] = {8, 6, 13, 12, 5};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(tor_wire_msg_parse(bad[i], lens[i], max, &m), ERR_PARSE);
    /* a large torrent's bitfield is allowed past the block size */
    assert_true(tor_wire_max_msg(1000000) >= 1 + 125000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_bad_lengths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
