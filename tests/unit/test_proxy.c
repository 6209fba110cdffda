/* proxy/forward and proxy/session: URLs and cache keys, the request sent to the origin (hop-by-
 * hop fields and Proxy-Authorization gone, Via / X-Forwarded-For / Forwarded added or appended,
 * Max-Forwards decremented), the client's response fields, and the client-side session
 * (requests split at every offset, streamed responses framed by length, chunked or close,
 * pipelined requests in order, CONNECT's tunnel mode). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "proxy/forward.h"
#include "proxy/session.h"

#include <string.h>

static const struct http_limits lim = {8192, 65536, 1 << 20};

static struct http_request *req_of(const char *text, char *buf)
{
    static struct http_request req;
    size_t n = 0;
    for (const char *p = text; *p; p++) {
        if (*p == '\n')
            buf[n++] = '\r';
        buf[n++] = *p;
    }
    const char *why;
    assert_int_equal(http_request_parse(buf, n, &lim, &req, &why), 0);
    return &req;
}
#define REQ(t) req_of(t, (char[4096]){0})

static void test_urls(void **state)
{
    struct proxy_url u;
    const char *why;
    struct str k = STR_INIT;
    assert_int_equal(
        proxy_url_of(REQ("GET http://Example.COM:80/a?b=1 HTTP/1.1\nHost: x\n\n"), NULL, &u, &why),
        0);
    assert_string_equal(u.host, "example.com");
    assert_int_equal(u.port, 80);
    proxy_url_key(&u, &k);
    assert_string_equal(str_cstr(&k), "http://example.com/a?b=1");
    str_reset(&k);
    assert_int_equal(
        proxy_url_of(REQ("GET https://[::1]:8443 HTTP/1.1\nHost: x\n\n"), NULL, &u, &why), 0);
    assert_true(u.https);
    proxy_url_key(&u, &k);
    assert_string_equal(str_cstr(&k), "https://[::1]:8443/");
    assert_int_equal(
        proxy_url_of(REQ("CONNECT h.example:443 HTTP/1.1\nHost: h\n\n"), NULL, &u, &why), 0);
    assert_int_equal(u.port, 443);
    assert_int_equal(proxy_url_of(REQ("CONNECT h.example HTTP/1.1\nHost: h\n\n"), NULL, &u, &why),
                     -1);
    assert_int_equal(proxy_url_of(REQ("GET /a HTTP/1.1\nHost: h\n\n"), NULL, &u, &why), -1);
    assert_int_equal(proxy_url_of(REQ("GET http://h:99999/ HTTP/1.1\nHost: h\n\n"), NULL, &u, &why),
                     -1);
    struct proxy_url origin;
    assert_int_equal(proxy_url_parse_origin("http://127.0.0.1:8080/", &origin), 0);
    assert_int_equal(proxy_url_of(REQ("GET /x?y HTTP/1.1\nHost: site\n\n"), &origin, &u, &why), 0);
    str_reset(&k);
    proxy_url_key(&u, &k);
    assert_string_equal(str_cstr(&k), "http://127.0.0.1:8080/x?y");
    assert_int_equal(proxy_url_parse_origin("ftp://h/", &origin), -1);
    str_clear(&k);
}

static void test_request_head(void **state)
{
    struct http_request *r = REQ("OPTIONS http://h.example/p HTTP/1.1\nHost: h.example\n"
                                 "Connection: close, X-Hop\nX-Hop: 1\nKeep-Alive: 5\n"
                                 "Proxy-Authorization: Basic eDp5\nVia: 1.0 upstream\n"
                                 "X-Forwarded-For: 192.0.2.1\nMax-Forwards: 3\n"
                                 "If-None-Match: \"a\"\nAccept: */*\n\n");
    struct proxy_url u;
    const char *why;
    assert_int_equal(proxy_url_of(r, NULL, &u, &why), 0);
    struct proxy_forward f = {
        .via = "1.1 pigeon", .client = "127.0.0.1", .extra = slice_make("", 0)};
    struct str out = STR_INIT;
    proxy_request_head(r, &u, &f, &out);
    assert_string_equal(str_cstr(&out),
                        "OPTIONS /p HTTP/1.1\r\nHost: h.example\r\nMax-Forwards: 2\r\n"
                        "If-None-Match: \"a\"\r\nAccept: */*\r\nVia: 1.0 upstream, 1.1 pigeon\r\n"
                        "X-Forwarded-For: 192.0.2.1, 127.0.0.1\r\n"
                        "Forwarded: for=127.0.0.1;proto=http\r\n\r\n");
    str_reset(&out);
    f.drop_conditionals = true;
    f.client = "2001:db8::1";
    f.extra = slice_cstr("If-None-Match: \"stored\"\r\n");
    proxy_request_head(r, &u, &f, &out);
    assert_non_null(strstr(str_cstr(&out), "Forwarded: for=\"[2001:db8::1]\";proto=http\r\n"));
    assert_non_null(strstr(str_cstr(&out), "If-None-Match: \"stored\"\r\n"));
    assert_null(strstr(str_cstr(&out), "\"a\""));
    str_clear(&out);
}

static void test_response_fields(void **state)
{
    struct http_header h[] = {
        {slice_cstr("Content-Type"), slice_cstr("text/plain")},
        {slice_cstr("Connection"), slice_cstr("X-Private")},
        {slice_cstr("X-Private"), slice_cstr("1")},
        {slice_cstr("Transfer-Encoding"), slice_cstr("chunked")},
        {slice_cstr("Content-Length"), slice_cstr("5")},
        {slice_cstr("Via"), slice_cstr("1.1 origin")},
    };
    struct str out = STR_INIT;
    proxy_response_fields(h, 6, "1.1 pigeon", &out);
    assert_string_equal(str_cstr(&out), "Content-Type: text/plain\r\nVia: 1.1 origin\r\n"
                                        "Via: 1.1 pigeon\r\n");
    str_clear(&out);
    assert_int_equal(proxy_max_forwards(REQ("TRACE http://h/ HTTP/1.1\nHost: h\n"
                                            "Max-Forwards: 0\n\n")),
                     0);
    assert_int_equal(proxy_max_forwards(REQ("GET http://h/ HTTP/1.1\nHost: h\n"
                                            "Max-Forwards: 0\n\n")),
                     -1);
}

/* ---- the session with a recording glue ---- */

struct rec {
    struct str out;
    int requests, dones;
    struct str targets;
    struct proxy_session *s;
    int answer; /* 0: hold; 1: answer at once with a known length; 2: unknown length */
    struct str tunnel;
};

static void r_write(void *io, const char *p, size_t n)
{
    str_append(&((struct rec *)io)->out, p, n);
}

static void r_write_file(void *io, int fd, uint64_t off, uint64_t len)
{
}

static void r_request(void *io, struct http_request *req)
{
    struct rec *r = io;
    r->requests++;
    str_append(&r->targets, req->target.p, req->target.len);
    str_appends(&r->targets, "|");
    if (req->method == HTTP_CONNECT) {
        proxy_session_tunnel(r->s);
        return;
    }
    if (r->answer == 1) {
        proxy_session_head(r->s, 200, slice_cstr("X: 1\r\n"), 2);
        proxy_session_body(r->s, "ok", 2);
        proxy_session_end(r->s, true);
    } else if (r->answer == 2) {
        proxy_session_head(r->s, 200, slice_cstr(""), -1);
        proxy_session_body(r->s, "abc", 3);
        proxy_session_end(r->s, true);
    }
}

static size_t r_tunnel(void *io, const char *p, size_t n)
{
    str_append(&((struct rec *)io)->tunnel, p, n);
    return n;
}

static void r_done(void *io, const struct http_request *req, int status, uint64_t bytes)
{
    ((struct rec *)io)->dones++;
}

static const struct proxy_session_ops rops = {r_write, r_write_file, r_request, r_tunnel, r_done};

static void feed_all(struct rec *r, const char *p, size_t n, size_t step)
{
    size_t pos = 0;
    while (pos < n) {
        size_t give = step && n - pos > step ? step : n - pos;
        size_t used = proxy_session_feed(r->s, p + pos, give);
        assert_true(used > 0 || proxy_session_busy(r->s));
        if (used == 0)
            break;
        pos += used;
    }
}

static void test_session_split(void **state)
{
    const char *in = "GET http://h/a HTTP/1.1\r\nHost: h\r\n\r\n"
                     "POST http://h/b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "3\r\nabc\r\n0\r\n\r\n"
                     "GET http://h/c HTTP/1.1\r\nHost: h\r\n\r\n";
    size_t n = strlen(in);
    for (size_t step = 1; step <= n; step++) {
        struct rec r = {STR_INIT, 0, 0, STR_INIT, NULL, 1, STR_INIT};
        r.s = proxy_session_new(&rops, &r, &lim);
        feed_all(&r, in, n, step);
        assert_int_equal(r.requests, 3);
        assert_string_equal(str_cstr(&r.targets), "http://h/a|http://h/b|http://h/c|");
        assert_false(proxy_session_closing(r.s));
        proxy_session_free(r.s);
        str_clear(&r.out);
        str_clear(&r.targets);
    }
}

static void test_session_framing(void **state)
{
    struct rec r = {STR_INIT, 0, 0, STR_INIT, NULL, 2, STR_INIT};
    r.s = proxy_session_new(&rops, &r, &lim);
    const char *a = "GET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n";
    proxy_session_feed(r.s, a, strlen(a));
    assert_string_equal(str_cstr(&r.out), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                          "3\r\nabc\r\n0\r\n\r\n");
    str_reset(&r.out);
    const char *b = "GET http://h/ HTTP/1.0\r\n\r\n"; /* HTTP/1.0: the close ends the body */
    proxy_session_feed(r.s, b, strlen(b));
    assert_string_equal(str_cstr(&r.out), "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nabc");
    assert_true(proxy_session_closing(r.s));
    proxy_session_free(r.s);
    str_clear(&r.out);
    str_clear(&r.targets);
    /* a malformed head: 400 and close */
    struct rec q = {STR_INIT, 0, 0, STR_INIT, NULL, 1, STR_INIT};
    q.s = proxy_session_new(&rops, &q, &lim);
    const char *bad = "GET http://h/ HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n";
    proxy_session_feed(q.s, bad, strlen(bad));
    assert_int_equal(q.requests, 0);
    assert_true(strncmp(str_cstr(&q.out), "HTTP/1.1 400 ", 13) == 0);
    assert_true(proxy_session_closing(q.s));
    proxy_session_free(q.s);
    str_clear(&q.out);
}

static void test_session_hold_and_tunnel(void **state)
{
    struct rec r = {STR_INIT, 0, 0, STR_INIT, NULL, 0, STR_INIT};
    r.s = proxy_session_new(&rops, &r, &lim);
    const char *two = "GET http://h/1 HTTP/1.1\r\nHost: h\r\n\r\nGET http://h/2 HTTP/1.1\r\n"
                      "Host: h\r\n\r\n";
    size_t used = proxy_session_feed(r.s, two, strlen(two));
    assert_int_equal(used, strlen("GET http://h/1 HTTP/1.1\r\nHost: h\r\n\r\n"));
    assert_true(proxy_session_busy(r.s));
    assert_int_equal(proxy_session_feed(r.s, two + used, strlen(two) - used), 0);
    proxy_session_error(r.s, 502, "origin down", slice_make("", 0));
    assert_false(proxy_session_busy(r.s));
    assert_true(strncmp(str_cstr(&r.out), "HTTP/1.1 502 ", 13) == 0);
    proxy_session_feed(r.s, two + used, strlen(two) - used);
    assert_int_equal(r.requests, 2);
    proxy_session_free(r.s);
    str_clear(&r.out);
    str_clear(&r.targets);
    struct rec t = {STR_INIT, 0, 0, STR_INIT, NULL, 0, STR_INIT};
    t.s = proxy_session_new(&rops, &t, &lim);
    const char *c = "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n\x16\x03\x01";
    assert_int_equal(proxy_session_feed(t.s, c, strlen(c)), strlen(c));
    assert_true(proxy_session_tunneling(t.s));
    assert_string_equal(str_cstr(&t.out), "HTTP/1.1 200 Connection established\r\n\r\n");
    assert_string_equal(str_cstr(&t.tunnel), "\x16\x03\x01");
    proxy_session_free(t.s);
    str_clear(&t.out);
    str_clear(&t.targets);
    str_clear(&t.tunnel);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_urls),
        cmocka_unit_test(test_request_head),
        cmocka_unit_test(test_response_fields),
        cmocka_unit_test(test_session_split),
        cmocka_unit_test(test_session_framing),
        cmocka_unit_test(test_session_hold_and_tunnel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
