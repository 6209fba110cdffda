/* http/response_parse: origin response heads (status line, fields, RFC 9112 §6.3 framing and
 * its ambiguities refused) and the body reader, every input split at every offset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "http/response_parse.h"

#include <string.h>

static const struct http_limits lim = {8192, 65536, 0};

/* Finds and parses the head of text (whole). Returns the parse result; *len_out the head. */
static int parse(const char *text, enum http_method m, struct http_resp_head *h, long *len_out)
{
    size_t scanned = 0;
    long len = http_head_find(text, strlen(text), &scanned, &lim);
    *len_out = len;
    if (len <= 0)
        return -2;
    const char *why;
    return http_resp_parse(text, (size_t)len, m, h, &why);
}

static void test_heads(void **state)
{
    struct http_resp_head h;
    long len;
    assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nETag: \"x\"\r\n\r\nhello",
                           HTTP_GET, &h, &len),
                     0);
    assert_int_equal(h.status, 200);
    assert_int_equal(h.version, 11);
    assert_true(slice_eq(h.reason, "OK"));
    assert_int_equal(h.framing, HTTP_FRAME_LENGTH);
    assert_int_equal(h.content_length, 5);
    assert_true(h.keep_alive);
    assert_true(slice_eq(*http_resp_header(&h, "etag"), "\"x\""));
    assert_int_equal(
        parse("HTTP/1.1 200 \r\nTransfer-Encoding: chunked\r\n\r\n", HTTP_GET, &h, &len), 0);
    assert_int_equal(h.framing, HTTP_FRAME_CHUNKED);
    assert_int_equal(h.reason.len, 0);
    assert_int_equal(parse("HTTP/1.0 200 OK\r\nServer: x\r\n\r\n", HTTP_GET, &h, &len), 0);
    assert_int_equal(h.framing, HTTP_FRAME_CLOSE);
    assert_false(h.keep_alive);
    assert_int_equal(parse("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n",
                           HTTP_GET, &h, &len),
                     0);
    assert_true(h.keep_alive);
    assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", HTTP_HEAD, &h, &len), 0);
    assert_int_equal(h.framing, HTTP_FRAME_NONE);
    assert_int_equal(
        parse("HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n", HTTP_GET, &h, &len), 0);
    assert_int_equal(h.framing, HTTP_FRAME_NONE);
    assert_int_equal(parse("HTTP/1.1 100 Continue\r\n\r\n", HTTP_GET, &h, &len), 0);
    assert_int_equal(h.status, 100);
    assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n", HTTP_GET, &h, &len),
                     -1);
    /* two equal Content-Length fields are one length; different ones are an attack */
    assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
                           HTTP_GET, &h, &len),
                     0);
    const char *bad[] = {
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
        "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX : a\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX\r\n\r\n",
        "HTTP/2.0 200 OK\r\n\r\n",
        "HTTP/1.1 20 OK\r\n\r\n",
        "HTTP/1.1 2000 OK\r\n\r\n",
        "HTTP/1.1 099 OK\r\n\r\n",
        "ICY 200 OK\r\n\r\n",
        "HTTP/1.1 200 O\x01K\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (parse(bad[i], HTTP_GET, &h, &len) != -1)
            fail_msg("accepted: %s", bad[i]);
    /* bare LF is refused by the head scanner already */
    assert_int_equal(parse("HTTP/1.1 200 OK\nX: a\r\n\r\n", HTTP_GET, &h, &len), -2);
    assert_int_equal(len, -400);
}

/* The head found and the body read with the input split at every offset (the body fed one
 * piece per read) must give the same result as in one go. */
static void split_everywhere(const char *text, const char *body_want, int rc_want)
{
    size_t n = strlen(text);
    for (size_t cut = 0; cut <= n; cut++) {
        size_t scanned = 0;
        long len = http_head_find(text, cut, &scanned, &lim);
        if (len == 0)
            len = http_head_find(text, n, &scanned, &lim);
        assert_true(len > 0);
        struct http_resp_head h;
        const char *why;
        assert_int_equal(http_resp_parse(text, (size_t)len, HTTP_GET, &h, &why), 0);
        struct http_body_reader r;
        http_body_reader_init(&r, &h);
        struct str out = STR_INIT;
        size_t pos = (size_t)len, used;
        int rc = 0;
        size_t stop = cut > pos ? cut : pos;
        rc = http_body_reader_feed(&r, text + pos, stop - pos, false, &out, &used);
        pos += used;
        while (rc == 0 && pos < n) {
            rc = http_body_reader_feed(&r, text + pos, 1, false, &out, &used);
            pos += used;
            if (used == 0)
                break;
        }
        if (rc == 0)
            rc = http_body_reader_feed(&r, text + pos, 0, true, &out, &used);
        if (rc != rc_want)
            fail_msg("cut %zu: rc %d, expected %d", cut, rc, rc_want);
        if (rc == 1 && strcmp(str_cstr(&out), body_want) != 0)
            fail_msg("cut %zu: body '%s'", cut, str_cstr(&out));
        str_clear(&out);
    }
}

static void test_bodies(void **state)
{
    split_everywhere("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", "hello", 1);
    split_everywhere("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "5\r\nhello\r\n1;ext=1\r\n!\r\n0\r\nTrailer: x\r\n\r\n",
                     "hello!", 1);
    split_everywhere("HTTP/1.0 200 OK\r\n\r\nuntil close", "until close", 1);
    /* cut short by the origin's close */
    split_everywhere("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", NULL, -1);
    split_everywhere("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", NULL, -1);
    split_everywhere("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", NULL, -1);
}

/* Bytes after a length-delimited body belong to the next response: never consumed. */
static void test_pipelined_rest(void **state)
{
    const char *t = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 204 No\r\n\r\n";
    struct http_resp_head h;
    long len;
    assert_int_equal(parse(t, HTTP_GET, &h, &len), 0);
    struct http_body_reader r;
    http_body_reader_init(&r, &h);
    struct str out = STR_INIT;
    size_t used;
    assert_int_equal(
        http_body_reader_feed(&r, t + len, strlen(t) - (size_t)len, false, &out, &used), 1);
    assert_int_equal(used, 2);
    str_clear(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heads),
        cmocka_unit_test(test_bodies),
        cmocka_unit_test(test_pipelined_rest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
