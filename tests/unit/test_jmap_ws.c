/* test_jmap_ws — RFC 6455 framing for JMAP over WebSocket: the handshake's accept value,
 * masked client frames (whole, and fed one octet at a time), fragmented messages with a
 * control frame between the fragments, and every rule whose breach fails the connection
 * (unmasked frames, reserved bits and opcodes, long or fragmented control frames, a
 * continuation out of place, too large a message, text that is not UTF-8). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "jmap/ws.h"

#include <string.h>

/* A client frame: masked with key m. */
static void frame(struct str *out, int b0, const char *p, size_t n, bool mask)
{
    static const unsigned char m[4] = {0x37, 0xfa, 0x21, 0x3d};
    unsigned char h[14];
    size_t hl = 2;
    h[0] = (unsigned char)b0;
    if (n < 126) {
        h[1] = (unsigned char)n;
    } else if (n < 65536) {
        h[1] = 126;
        h[2] = (unsigned char)(n >> 8);
        h[3] = (unsigned char)n;
        hl = 4;
    } else {
        h[1] = 127;
        for (int i = 0; i < 8; i++)
            h[2 + i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
        hl = 10;
    }
    if (mask) {
        h[1] |= 0x80;
        memcpy(h + hl, m, 4);
        hl += 4;
    }
    str_append(out, (const char *)h, hl);
    for (size_t i = 0; i < n; i++) {
        char c = (char)(p[i] ^ (mask ? m[i & 3] : 0));
        str_append(out, &c, 1);
    }
}

static void test_accept(void **state)
{
    char out[29];
    /* RFC 6455 §1.3's example */
    assert_true(jmap_ws_accept("dGhlIHNhbXBsZSBub25jZQ==", 24, out));
    assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    assert_false(jmap_ws_accept("dGhlIHNhbXBsZQ==", 16, out));
    assert_false(jmap_ws_accept("!!!!!!!!!!!!!!!!!!!!!!!!", 24, out));
}

static void test_messages_any_split(void **state)
{
    struct str in = STR_INIT;
    frame(&in, 0x01, "{\"a\":", 5, true);        /* text, not final */
    frame(&in, 0x89, "hi", 2, true);             /* ping between the fragments */
    frame(&in, 0x80, "1}", 2, true);             /* final continuation */
    char big[300];
    memset(big, 'x', sizeof big);
    frame(&in, 0x81, big, sizeof big, true);     /* 16-bit length */
    frame(&in, 0x88, "\x03\xe8" "bye", 5, true); /* close 1000 */
    for (size_t step = 1; step <= in.len; step = step == 1 ? in.len : in.len + 1) {
        struct jmap_ws_reader r;
        jmap_ws_reader_init(&r, 1000);
        struct jmap_ws_event ev;
        int seen = 0;
        for (size_t at = 0; at < in.len; at += step) {
            jmap_ws_feed(&r, in.ptr + at, at + step <= in.len ? step : in.len - at);
            int rc;
            while ((rc = jmap_ws_next(&r, &ev)) > 0) {
                if (seen == 0) {
                    assert_int_equal(ev.op, JMAP_WS_PING);
                    assert_memory_equal(ev.data, "hi", 2);
                } else if (seen == 1) {
                    assert_int_equal(ev.op, JMAP_WS_TEXT);
                    assert_int_equal(ev.len, 7);
                    assert_memory_equal(ev.data, "{\"a\":1}", 7);
                } else if (seen == 2) {
                    assert_int_equal(ev.op, JMAP_WS_TEXT);
                    assert_int_equal(ev.len, sizeof big);
                    assert_memory_equal(ev.data, big, sizeof big);
                } else {
                    assert_int_equal(ev.op, JMAP_WS_CLOSE);
                    assert_int_equal(ev.close_code, 1000);
                    assert_int_equal(ev.len, 3);
                }
                seen++;
            }
            assert_int_equal(rc, 0);
        }
        assert_int_equal(seen, 4);
        jmap_ws_reader_clear(&r);
    }
    str_clear(&in);
}

static int first_result(const struct str *in, uint64_t max)
{
    struct jmap_ws_reader r;
    jmap_ws_reader_init(&r, max);
    jmap_ws_feed(&r, in->ptr, in->len);
    struct jmap_ws_event ev;
    int rc;
    while ((rc = jmap_ws_next(&r, &ev)) > 0)
        ;
    jmap_ws_reader_clear(&r);
    return rc;
}

static void test_failures(void **state)
{
    struct {
        int b0;
        const char *p;
        size_t n;
        bool mask;
        int want;
    } cases[] = {
        {0x81, "{}", 2, false, -JMAP_WS_PROTOCOL_ERROR},      /* unmasked */
        {0xc1, "{}", 2, true, -JMAP_WS_PROTOCOL_ERROR},       /* RSV1 */
        {0x83, "{}", 2, true, -JMAP_WS_PROTOCOL_ERROR},       /* reserved opcode */
        {0x09, "x", 1, true, -JMAP_WS_PROTOCOL_ERROR},        /* fragmented ping */
        {0x80, "x", 1, true, -JMAP_WS_PROTOCOL_ERROR},        /* continuation, no message */
        {0x88, "\x03", 1, true, -JMAP_WS_PROTOCOL_ERROR},     /* close with 1 octet */
        {0x88, "\x03\xee", 2, true, -JMAP_WS_PROTOCOL_ERROR}, /* close 1006 (§7.4.1) */
        {0x88, "\x03\xf7", 2, true, -JMAP_WS_PROTOCOL_ERROR}, /* close 1015 */
        {0x88, "\x03\xe7", 2, true, -JMAP_WS_PROTOCOL_ERROR}, /* close 999 (§7.4.2) */
        {0x88, "\x13\x88", 2, true, -JMAP_WS_PROTOCOL_ERROR}, /* close 5000 */
        {0x88, "\x03\xe8\xc3\x28", 4, true, -JMAP_WS_INVALID_DATA}, /* reason not UTF-8 */
        {0x88, "\x0f\xa0ok", 4, true, 0},                      /* close 4000: fine */
        {0x81, "\xc3\x28", 2, true, -JMAP_WS_INVALID_DATA},   /* not UTF-8 */
        {0x81, "0123456789abcdefg", 17, true, -JMAP_WS_TOO_BIG},
        {0x82, "\xff", 1, true, 0},                           /* binary: the glue refuses it */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct str in = STR_INIT;
        frame(&in, cases[i].b0, cases[i].p, cases[i].n, cases[i].mask);
        assert_int_equal(first_result(&in, 16), cases[i].want);
        str_clear(&in);
    }
    /* a ping longer than 125 octets */
    struct str in = STR_INIT;
    char big[126] = {0};
    frame(&in, 0x89, big, sizeof big, true);
    assert_int_equal(first_result(&in, 1000), -JMAP_WS_PROTOCOL_ERROR);
    str_clear(&in);
    /* a new message while one is open */
    frame(&in, 0x01, "a", 1, true);
    frame(&in, 0x01, "b", 1, true);
    assert_int_equal(first_result(&in, 1000), -JMAP_WS_PROTOCOL_ERROR);
    str_clear(&in);
    /* fragments adding up past the limit */
    frame(&in, 0x01, "0123456789", 10, true);
    frame(&in, 0x80, "0123456789", 10, true);
    assert_int_equal(first_result(&in, 16), -JMAP_WS_TOO_BIG);
    str_clear(&in);
    /* a 64-bit length with the top bit set */
    str_append(&in, "\x81\xff\x80\0\0\0\0\0\0\0\1\2\3\4", 14);
    assert_int_equal(first_result(&in, 1000), -JMAP_WS_PROTOCOL_ERROR);
    str_clear(&in);
}

static void test_writer(void **state)
{
    struct str out = STR_INIT;
    jmap_ws_frame(&out, JMAP_WS_TEXT, "hey", 3);
    assert_int_equal(out.len, 5);
    assert_memory_equal(out.ptr, "\x81\x03hey", 5);
    str_reset(&out);
    char big[70000];
    memset(big, 'z', sizeof big);
    jmap_ws_frame(&out, JMAP_WS_BINARY, big, sizeof big);
    assert_int_equal(out.len, sizeof big + 10);
    assert_memory_equal(out.ptr, "\x82\x7f\0\0\0\0\0\x01\x11\x70", 10);
    str_reset(&out);
    jmap_ws_close_frame(&out, 1002, "Protocol error.");
    assert_memory_equal(out.ptr, "\x88\x11\x03\xea" "Protocol error.", 19);
    str_clear(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accept),
        cmocka_unit_test(test_messages_any_split),
        cmocka_unit_test(test_failures),
        cmocka_unit_test(test_writer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
