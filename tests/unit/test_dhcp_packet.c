/* dhcp/packet: parsing (bounds, cookie, concatenation, overload) and writing (overload into
 * file/sname, long options split, padding). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dhcp/packet.h"

#include <string.h>

static struct dhcp_packet pkt;

/* A request header with the cookie; options follow at 240. */
static size_t base(uint8_t *b)
{
    memset(b, 0, 600);
    b[0] = 1;
    b[1] = 1;
    b[2] = 6;
    b[4] = 0xde, b[5] = 0xad, b[6] = 0xbe, b[7] = 0xef;
    b[10] = 0x80;
    memcpy(b + 28, "\x52\x54\x00\x11\x22\x33", 6);
    b[236] = 99, b[237] = 130, b[238] = 83, b[239] = 99;
    return 240;
}

static void test_parse_minimal(void **state)
{
    uint8_t b[600];
    size_t n = base(b);
    memcpy(b + n, "\x35\x01\x01\x37\x03\x01\x03\x06\xff", 9);
    n += 9;
    assert_int_equal(dhcp_packet_parse(b, n, &pkt), 0);
    assert_int_equal(pkt.xid, 0xdeadbeef);
    assert_int_equal(pkt.flags, DHCP_FLAG_BROADCAST);
    assert_int_equal(dhcp_packet_msg_type(&pkt), DHCP_DISCOVER);
    size_t len;
    const uint8_t *v = dhcp_packet_opt(&pkt, DHCP_OPT_PARAM_LIST, &len);
    assert_non_null(v);
    assert_int_equal(len, 3);
    assert_memory_equal(v, "\x01\x03\x06", 3);
    assert_null(dhcp_packet_opt(&pkt, DHCP_OPT_HOSTNAME, &len));
    assert_int_equal(dhcp_packet_max_reply(&pkt), 548);
}

static void test_parse_errors(void **state)
{
    uint8_t b[600];
    size_t n = base(b);
    assert_int_equal(dhcp_packet_parse(b, 239, &pkt), DHCP_PARSE_SHORT);
    b[239] = 98;
    assert_int_equal(dhcp_packet_parse(b, n, &pkt), DHCP_PARSE_COOKIE);
    n = base(b);
    b[2] = 17;
    assert_int_equal(dhcp_packet_parse(b, n, &pkt), DHCP_PARSE_HLEN);
    n = base(b);
    memcpy(b + n, "\x0c\x05" "ab", 4); /* length 5, 2 bytes left */
    assert_int_equal(dhcp_packet_parse(b, n + 4, &pkt), DHCP_PARSE_OPTION);
    memcpy(b + n, "\x0c", 1); /* a code with no length byte */
    assert_int_equal(dhcp_packet_parse(b, n + 1, &pkt), DHCP_PARSE_OPTION);
    memcpy(b + n, "\x34\x01\x07\xff", 4); /* overload 7 */
    assert_int_equal(dhcp_packet_parse(b, n + 4, &pkt), DHCP_PARSE_OVERLOAD);
    /* option 52 inside the overloaded file field: would loop */
    memcpy(b + n, "\x34\x01\x01\xff", 4);
    memcpy(b + 108, "\x34\x01\x03\xff", 4);
    assert_int_equal(dhcp_packet_parse(b, n + 4, &pkt), DHCP_PARSE_OVERLOAD);
    /* an option in file that runs past the 128-byte field */
    memset(b + 108, 0, 128);
    b[108 + 120] = 12, b[108 + 121] = 20;
    assert_int_equal(dhcp_packet_parse(b, n + 4, &pkt), DHCP_PARSE_OPTION);
}

static void test_parse_concat_and_overload(void **state)
{
    uint8_t b[600];
    size_t n = base(b);
    /* hostname split in two instances (RFC 3396), the second in the file field */
    memcpy(b + n, "\x35\x01\x03\x0c\x03" "abc" "\x34\x01\x03\xff", 12);
    memcpy(b + 108, "\x0c\x02" "de" "\xff", 5);
    memcpy(b + 44, "\x32\x04\x0a\x00\x00\x07\xff", 7);
    assert_int_equal(dhcp_packet_parse(b, n + 12, &pkt), 0);
    size_t len;
    const uint8_t *v = dhcp_packet_opt(&pkt, DHCP_OPT_HOSTNAME, &len);
    assert_int_equal(len, 5);
    assert_memory_equal(v, "abcde", 5);
    uint32_t a;
    assert_true(dhcp_packet_opt_addr(&pkt, DHCP_OPT_REQUESTED_ADDR, &a));
    assert_memory_equal(&a, "\x0a\x00\x00\x07", 4);
    assert_int_equal(pkt.overload, 3);
    assert_int_equal(pkt.file[0], 0); /* not a file name */
}

static void test_max_size(void **state)
{
    uint8_t b[600];
    size_t n = base(b);
    memcpy(b + n, "\x39\x02\x05\xdc\xff", 5); /* 1500 */
    assert_int_equal(dhcp_packet_parse(b, n + 5, &pkt), 0);
    assert_int_equal(dhcp_packet_max_reply(&pkt), 1472);
    memcpy(b + n, "\x39\x02\x01\x00\xff", 5); /* 256: below the minimum */
    assert_int_equal(dhcp_packet_parse(b, n + 5, &pkt), 0);
    assert_int_equal(dhcp_packet_max_reply(&pkt), 548);
}

static void test_write_roundtrip(void **state)
{
    static struct dhcp_writer w;
    uint8_t out[DHCP_MAX_LEN];
    dhcp_writer_init(&w);
    w.hdr.op = DHCP_BOOTREPLY;
    w.hdr.htype = 1;
    w.hdr.hlen = 6;
    w.hdr.xid = 0x01020304;
    dhcp_writer_opt_u8(&w, DHCP_OPT_MSG_TYPE, DHCP_OFFER);
    dhcp_writer_opt_u32(&w, DHCP_OPT_LEASE_TIME, 3600);
    size_t n = dhcp_writer_finish(&w, out, 548);
    assert_int_equal(n, DHCP_MIN_REPLY);
    assert_int_equal(dhcp_packet_parse(out, n, &pkt), 0);
    assert_int_equal(pkt.op, DHCP_BOOTREPLY);
    assert_int_equal(pkt.xid, 0x01020304);
    assert_int_equal(dhcp_packet_msg_type(&pkt), DHCP_OFFER);
    size_t len;
    assert_memory_equal(dhcp_packet_opt(&pkt, DHCP_OPT_LEASE_TIME, &len), "\x00\x00\x0e\x10", 4);
}

static void test_write_overload_and_split(void **state)
{
    static struct dhcp_writer w;
    uint8_t out[DHCP_MAX_LEN], big[400];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)i;
    dhcp_writer_init(&w);
    w.hdr.op = DHCP_BOOTREPLY;
    dhcp_writer_opt_u8(&w, DHCP_OPT_MSG_TYPE, DHCP_ACK);
    dhcp_writer_opt(&w, 43, big, 290);    /* two instances: 255 + 35 */
    dhcp_writer_opt(&w, 125, big, 100);   /* goes to file */
    dhcp_writer_opt(&w, 124, big, 50);    /* goes to sname */
    size_t n = dhcp_writer_finish(&w, out, 548);
    assert_true(n > 0 && n <= 548);
    assert_int_equal(dhcp_packet_parse(out, n, &pkt), 0);
    assert_int_equal(pkt.overload, 3);
    size_t len;
    const uint8_t *v = dhcp_packet_opt(&pkt, 43, &len);
    assert_int_equal(len, 290);
    assert_memory_equal(v, big, 290);
    assert_int_equal(dhcp_packet_opt(&pkt, 125, &len) != NULL, 1);
    assert_int_equal(len, 100);
    assert_int_equal(dhcp_packet_opt(&pkt, 124, &len) != NULL, 1);
    assert_int_equal(len, 50);
    /* too much for all three fields */
    dhcp_writer_opt(&w, 126, big, 300);
    assert_int_equal(dhcp_writer_finish(&w, out, 548), 0);
    /* with room, no overload */
    assert_true(dhcp_writer_finish(&w, out, 1472) > 0);
    assert_int_equal(dhcp_packet_parse(out, dhcp_writer_finish(&w, out, 1472), &pkt), 0);
    assert_int_equal(pkt.overload, 0);
}

/* An option too long for what is left of the options field and for the whole file field is
 * split (RFC 3396) across the options field, file and sname, which a reader joins back in
 * that order; an option that fits a later field whole is moved there instead. */
static void test_write_split_across_fields(void **state)
{
    static struct dhcp_writer w;
    uint8_t out[DHCP_MAX_LEN], big[200];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 7);
    dhcp_writer_init(&w);
    w.hdr.op = DHCP_BOOTREPLY;
    dhcp_writer_opt_u8(&w, DHCP_OPT_MSG_TYPE, DHCP_ACK);
    dhcp_writer_opt(&w, 43, big, 200); /* 57 bytes left in a 300-byte reply: split 3 ways */
    size_t n = dhcp_writer_finish(&w, out, DHCP_MIN_REPLY);
    assert_int_equal(n, DHCP_MIN_REPLY);
    assert_int_equal(dhcp_packet_parse(out, n, &pkt), 0);
    assert_int_equal(pkt.overload, 3);
    size_t len;
    const uint8_t *v = dhcp_packet_opt(&pkt, 43, &len);
    assert_int_equal(len, 200);
    assert_memory_equal(v, big, 200);
    assert_int_equal(out[240 + 3], 43); /* its first part in the options field */
    /* 120 bytes fit the file field whole: moved there, not split */
    dhcp_writer_init(&w);
    w.hdr.op = DHCP_BOOTREPLY;
    dhcp_writer_opt_u8(&w, DHCP_OPT_MSG_TYPE, DHCP_ACK);
    dhcp_writer_opt(&w, 43, big, 120);
    n = dhcp_writer_finish(&w, out, DHCP_MIN_REPLY);
    assert_int_equal(dhcp_packet_parse(out, n, &pkt), 0);
    assert_int_equal(pkt.overload, 1);
    assert_int_equal(out[108], 43);
    assert_int_equal(out[109], 120);
    v = dhcp_packet_opt(&pkt, 43, &len);
    assert_int_equal(len, 120);
    assert_memory_equal(v, big, 120);
    /* more than the three fields hold: no message */
    dhcp_writer_opt(&w, 44, big, 200);
    assert_int_equal(dhcp_writer_finish(&w, out, DHCP_MIN_REPLY), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_minimal),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_concat_and_overload),
        cmocka_unit_test(test_max_size),
        cmocka_unit_test(test_write_roundtrip),
        cmocka_unit_test(test_write_overload_and_split),
        cmocka_unit_test(test_write_split_across_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
