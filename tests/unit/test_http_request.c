/* http/request and http/chunked: the strict head parser, every smuggling case, the chunked
 * decoder, each fed whole and split at every offset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "http/chunked.h"
#include "http/request.h"

#include <stdio.h>
#include <string.h>

static const struct http_limits lim = {.max_request_line = 200, .max_head = 1000,
                                       .max_body = 100};

/* Runs head_find over text fed in two parts split at `split`, then parses. Returns the
 * status (0 for success). */
static int run_split(const char *text, size_t split, struct http_request *req)
{
    size_t n = strlen(text), scanned = 0;
    long r = http_head_find(text, split, &scanned, &lim);
    if (r < 0)
        return (int)-r;
    if (r == 0)
        r = http_head_find(text, n, &scanned, &lim);
    if (r < 0)
        return (int)-r;
    if (r == 0)
        return -1; /* incomplete */
    const char *why;
    return http_request_parse(text, (size_t)r, &lim, req, &why);
}

static int run(const char *text, struct http_request *req)
{
    int st = run_split(text, 0, req);
    for (size_t i = 1; i <= strlen(text); i++) {
        int again = run_split(text, i, req);
        if (again != st)
            fail_msg("'%s' split at %zu: %d, whole: %d", text, i, again, st);
    }
    return st;
}

static void expect_status(const char *text, int status)
{
    struct http_request req;
    int st = run(text, &req);
    if (st != status)
        fail_msg("'%s': status %d, expected %d", text, st, status);
}

static bool is(struct slice s, const char *t)
{
    return s.len == strlen(t) && memcmp(s.p, t, s.len) == 0;
}

static void test_simple_get(void **state)
{
    struct http_request req;
    assert_int_equal(run("GET /a/b?x=1 HTTP/1.1\r\nHost: hamburger.edu\r\n"
                         "User-Agent: t\r\n\r\n",
                         &req),
                     0);
    assert_int_equal(req.method, HTTP_GET);
    assert_true(is(req.path, "/a/b"));
    assert_true(is(req.query, "x=1"));
    assert_true(is(req.host, "hamburger.edu"));
    assert_int_equal(req.version, 11);
    assert_true(req.keep_alive);
    assert_int_equal(req.nheaders, 2);
    assert_true(is(*http_request_header(&req, "user-agent"), "t"));
    assert_null(http_request_header(&req, "Cookie"));
}

static void test_versions_and_connection(void **state)
{
    struct http_request req;
    assert_int_equal(run("GET / HTTP/1.0\r\n\r\n", &req), 0);
    assert_false(req.keep_alive);
    assert_int_equal(run("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &req), 0);
    assert_true(req.keep_alive);
    assert_int_equal(run("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, close\r\n\r\n", &req),
                     0);
    assert_false(req.keep_alive);
    expect_status("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505);
    expect_status("GET / HTTP/0.9\r\n\r\n", 505);
    expect_status("GET / HTTP/1.10\r\n\r\n", 400);
    expect_status("GET / http/1.1\r\nHost: a\r\n\r\n", 400);
    expect_status("GET / HTTP/1.1\r\n\r\n", 400); /* no Host */
    expect_status("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);
    expect_status("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400);
}

static void test_targets(void **state)
{
    struct http_request req;
    assert_int_equal(run("GET http://Example.org:8080/x?y HTTP/1.1\r\nHost: other\r\n\r\n", &req),
                     0);
    assert_true(is(req.host, "Example.org:8080"));
    assert_true(is(req.path, "/x"));
    assert_true(is(req.query, "y"));
    assert_int_equal(run("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", &req), 0);
    expect_status("GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400);
    expect_status("GET x HTTP/1.1\r\nHost: a\r\n\r\n", 400);
    expect_status("GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n", 400);
    expect_status("GET /\x80 HTTP/1.1\r\nHost: a\r\n\r\n", 400);
    expect_status("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
    expect_status("GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400);
    expect_status("G@T / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
    assert_int_equal(run("BREW / HTTP/1.1\r\nHost: a\r\n\r\n", &req), 0);
    assert_int_equal(req.method, HTTP_OTHER);
}

static void test_line_endings(void **state)
{
    expect_status("GET / HTTP/1.1\nHost: a\r\n\r\n", 400);           /* bare LF */
    expect_status("GET / HTTP/1.1\r\nHost: a\n\n", 400);             /* bare LF */
    expect_status("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", 400);   /* bare CR */
    expect_status("GET / HTTP/1.1\r\nX: a\r\n b\r\nHost: a\r\n\r\n", 400); /* obs-fold */
    expect_status("GET / HTTP/1.1\r\nHost: a\r\nX : b\r\n\r\n", 400); /* space before colon */
    expect_status("GET / HTTP/1.1\r\nHost: a\r\nX: a\x01b\r\n\r\n", 400);
    expect_status("GET / HTTP/1.1\r\nHost: a\r\nNo colon\r\n\r\n", 400);
    expect_status("GET / HTTP/1.1\r\nHost: a\r\n: empty\r\n\r\n", 400);
    struct http_request req;
    assert_int_equal(run("GET / HTTP/1.1\r\nHost: a\r\nX: caf\xc3\xa9\r\n\r\n", &req), 0);
}

static void test_limits(void **state)
{
    char buf[2048];
    snprintf(buf, sizeof buf, "GET /%0250d HTTP/1.1\r\nHost: a\r\n\r\n", 0);
    expect_status(buf, 414);
    size_t n = (size_t)snprintf(buf, sizeof buf, "GET / HTTP/1.1\r\nHost: a\r\n");
    while (n < 1100)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "X-Filler: 0123456789\r\n");
    snprintf(buf + n, sizeof buf - n, "\r\n");
    expect_status(buf, 431);
    /* An incomplete head over the limit is refused before its end arrives. */
    size_t scanned = 0;
    buf[1050] = '\0';
    assert_int_equal(http_head_find(buf, 1050, &scanned, &lim), -431);
    memset(buf, 'a', 300);
    scanned = 0;
    assert_int_equal(http_head_find(buf, 300, &scanned, &lim), -414);
    /* 101 fields: too many. */
    static char many[8192];
    struct http_limits big = lim;
    big.max_head = sizeof many;
    n = (size_t)snprintf(many, sizeof many, "GET / HTTP/1.1\r\nHost: a\r\n");
    for (int i = 0; i < 100; i++)
        n += (size_t)snprintf(many + n, sizeof many - n, "X%d: y\r\n", i);
    n += (size_t)snprintf(many + n, sizeof many - n, "\r\n");
    struct http_request req;
    const char *why;
    assert_int_equal(http_request_parse(many, n, &big, &req, &why), 431);
}

static void test_smuggling(void **state)
{
    /* CL.TE and TE.CL: both framings in one request. */
    expect_status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n",
                  400);
    expect_status("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                  "Content-Length: 4\r\n\r\n",
                  400);
    /* Duplicate and malformed Content-Length. */
    expect_status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\n",
                  400);
    expect_status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4, 4\r\n\r\n", 400);
    expect_status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +4\r\n\r\n", 400);
    expect_status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x4\r\n\r\n", 400);
    expect_status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4 4\r\n\r\n", 400);
    expect_status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", 400);
    expect_status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n",
                  400);
    expect_status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 101\r\n\r\n", 413);
    /* TE.TE obfuscations. */
    expect_status("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n", 400);
    expect_status("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
                  400);
    expect_status("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                  "Transfer-Encoding: identity\r\n\r\n",
                  400);
    expect_status("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n", 400);
    expect_status("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\x0b" "chunked\r\n\r\n", 400);
    expect_status("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;x\r\n\r\n", 400);
    expect_status("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501);
    expect_status("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
    struct http_request req;
    assert_int_equal(run("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:  CHUNKED \r\n\r\n",
                         &req),
                     0);
    assert_true(req.chunked);
    assert_int_equal(run("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0012\r\n\r\n", &req), 0);
    assert_int_equal(req.content_length, 12);
}

static void test_expect_upgrade(void **state)
{
    struct http_request req;
    assert_int_equal(run("PUT /f HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\n"
                         "Content-Length: 3\r\n\r\n",
                         &req),
                     0);
    assert_true(req.expect_continue);
    expect_status("PUT /f HTTP/1.1\r\nHost: a\r\nExpect: tea\r\n\r\n", 417);
    assert_int_equal(run("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                         "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n",
                         &req),
                     0);
    assert_true(req.upgrade_h2c);
}

/* ---- chunked ---- */

static int chunked_split(const char *in, size_t n, size_t split, struct str *out, size_t *used)
{
    struct http_chunked c;
    http_chunked_init(&c);
    str_reset(out);
    size_t u1 = 0, u2 = 0;
    int rc = http_chunked_feed(&c, in, split, 100, out, &u1);
    if (rc == 0 && split < n)
        rc = http_chunked_feed(&c, in + u1, n - u1, 100, out, &u2);
    *used = u1 + u2;
    return rc;
}

static void expect_chunked(const char *in, int rc_want, const char *body_want, size_t used_want)
{
    struct str out = STR_INIT;
    size_t n = strlen(in);
    for (size_t split = 0; split <= n; split++) {
        size_t used;
        int rc = chunked_split(in, n, split, &out, &used);
        if (rc != rc_want)
            fail_msg("'%s' split %zu: rc %d, expected %d", in, split, rc, rc_want);
        if (rc == 1 && (used != used_want || out.len != strlen(body_want) ||
                        memcmp(out.ptr, body_want, out.len) != 0))
            fail_msg("'%s' split %zu: body '%.*s' used %zu", in, split, (int)out.len,
                     out.ptr ? out.ptr : "", used);
    }
    str_clear(&out);
}

static void test_chunked(void **state)
{
    expect_chunked("5\r\nhello\r\n0\r\n\r\n", 1, "hello", 15);
    expect_chunked("5\r\nhello\r\n0\r\n\r\nGET /next", 1, "hello", 15);
    expect_chunked("3;name=val\r\nabc\r\n2 ; x\r\nde\r\n0\r\nX-T: 1\r\n\r\n", 1, "abcde", 41);
    expect_chunked("A\r\n0123456789\r\n0\r\n\r\n", 1, "0123456789", 20);
    expect_chunked("5\nhello\r\n0\r\n\r\n", -400, "", 0);  /* bare LF */
    expect_chunked("5\r\nhelloXX0\r\n\r\n", -400, "", 0);  /* data longer than declared */
    expect_chunked("-5\r\nhello\r\n0\r\n\r\n", -400, "", 0);
    expect_chunked("0x5\r\nhello\r\n0\r\n\r\n", -400, "", 0);
    expect_chunked("\r\n", -400, "", 0);
    expect_chunked("00000000000000005\r\nhello\r\n0\r\n\r\n", -400, "", 0); /* 17 digits */
    expect_chunked("65\r\n", -413, "", 0); /* 101 > max_body 100 */
    expect_chunked("5\r\nhello\r\n0\r\n folded\r\n\r\n", -400, "", 0);
    expect_chunked("5\r\nhello\r\n0\r\n\r\r", -400, "", 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_get),  cmocka_unit_test(test_versions_and_connection),
        cmocka_unit_test(test_targets),     cmocka_unit_test(test_line_endings),
        cmocka_unit_test(test_limits),      cmocka_unit_test(test_smuggling),
        cmocka_unit_test(test_expect_upgrade), cmocka_unit_test(test_chunked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
