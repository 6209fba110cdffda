/* cache/policy: RFC 9111 storability, freshness, age, reuse, validation, Vary, invalidation,
 * hop-by-hop fields and Cache-Status (RFC 9211). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cache/policy.h"

#include <string.h>

static const struct cache_rules rules = {10, 86400};

/* Parses a request head written with "\n" line ends. */
static struct http_request *req_of(const char *text, char *buf, size_t cap)
{
    static struct http_request req;
    size_t n = 0;
    for (const char *p = text; *p && n + 2 < cap; p++) {
        if (*p == '\n')
            buf[n++] = '\r';
        buf[n++] = *p;
    }
    buf[n] = '\0';
    struct http_limits lim = {8192, 65536, 1 << 20};
    const char *why;
    assert_int_equal(http_request_parse(buf, n, &lim, &req, &why), 0);
    return &req;
}

#define REQ(text) req_of(text, (char[4096]){0}, 4096)
#define F(s) slice_cstr(s)

static bool storable(const char *req, int status, const char *fields)
{
    const char *why;
    return cache_storable(REQ(req), status, F(fields), &why);
}

static void test_storable(void **state)
{
    const char *get = "GET /a HTTP/1.1\nHost: h\n\n";
    assert_true(storable(get, 200, "Cache-Control: max-age=60\r\n"));
    assert_true(storable(get, 200, "Expires: Thu, 01 Jan 2099 00:00:00 GMT\r\n"));
    assert_true(storable(get, 200, "Cache-Control: public\r\n"));
    assert_true(storable(get, 404, "Last-Modified: Thu, 01 Jan 2015 00:00:00 GMT\r\n"));
    /* §3: nothing that makes it reusable */
    assert_false(storable(get, 200, "Content-Type: text/plain\r\n"));
    /* a status the heuristic does not cover, without explicit freshness */
    assert_false(storable(get, 302, "Last-Modified: Thu, 01 Jan 2015 00:00:00 GMT\r\n"));
    assert_true(storable(get, 302, "Cache-Control: max-age=5\r\n"));
    assert_false(storable(get, 200, "Cache-Control: no-store, max-age=60\r\n"));
    assert_false(storable(get, 200, "Cache-Control: private, max-age=60\r\n"));
    assert_false(storable(get, 200, "Cache-Control: max-age=60\r\nSet-Cookie: a=b\r\n"));
    assert_false(storable(get, 200, "Cache-Control: max-age=60\r\nVary: *\r\n"));
    assert_false(storable(get, 206, "Cache-Control: max-age=60\r\n"));
    assert_false(storable(get, 304, "Cache-Control: max-age=60\r\n"));
    assert_false(storable("POST /a HTTP/1.1\nHost: h\nContent-Length: 0\n\n", 200,
                          "Cache-Control: max-age=60\r\n"));
    assert_false(storable("GET /a HTTP/1.1\nHost: h\nCache-Control: no-store\n\n", 200,
                          "Cache-Control: max-age=60\r\n"));
    /* §3.5: Authorization only with public, must-revalidate or s-maxage */
    const char *auth = "GET /a HTTP/1.1\nHost: h\nAuthorization: Basic eDp5\n\n";
    assert_false(storable(auth, 200, "Cache-Control: max-age=60\r\n"));
    assert_true(storable(auth, 200, "Cache-Control: max-age=60, public\r\n"));
    assert_true(storable(auth, 200, "Cache-Control: s-maxage=60\r\n"));
    assert_true(storable(auth, 200, "Cache-Control: max-age=60, must-revalidate\r\n"));
}

static void test_lifetime(void **state)
{
    bool h;
    assert_int_equal(cache_lifetime(F("Cache-Control: max-age=60\r\n"), 200, &rules, &h), 60);
    assert_false(h);
    /* s-maxage wins in a shared cache */
    assert_int_equal(
        cache_lifetime(F("Cache-Control: max-age=60, s-maxage=5\r\n"), 200, &rules, &h), 5);
    /* max-age wins over Expires */
    assert_int_equal(cache_lifetime(F("Expires: Thu, 01 Jan 2099 00:00:00 GMT\r\n"
                                      "Date: Thu, 01 Jan 2099 00:00:00 GMT\r\n"
                                      "Cache-Control: max-age=7\r\n"),
                                    200, &rules, &h),
                     7);
    assert_int_equal(cache_lifetime(F("Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
                                      "Expires: Sun, 06 Nov 1994 08:50:37 GMT\r\n"),
                                    200, &rules, &h),
                     60);
    /* an invalid Expires is already expired */
    assert_int_equal(
        cache_lifetime(F("Date: Sun, 06 Nov 1994 08:49:37 GMT\r\nExpires: 0\r\n"), 200, &rules, &h),
        0);
    /* a repeated max-age: the smallest */
    assert_int_equal(cache_lifetime(F("Cache-Control: max-age=60\r\nCache-Control: max-age=9\r\n"),
                                    200, &rules, &h),
                     9);
    /* heuristic: 10% of Date - Last-Modified (1000 s) */
    assert_int_equal(cache_lifetime(F("Date: Sun, 06 Nov 1994 09:06:17 GMT\r\n"
                                      "Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\n"),
                                    200, &rules, &h),
                     100);
    assert_true(h);
    /* never for a status that is not heuristically cacheable */
    assert_int_equal(cache_lifetime(F("Date: Sun, 06 Nov 1994 09:06:17 GMT\r\n"
                                      "Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\n"),
                                    302, &rules, &h),
                     0);
    /* capped */
    assert_int_equal(cache_lifetime(F("Date: Sun, 06 Nov 2011 09:06:17 GMT\r\n"
                                      "Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\n"),
                                    200, &rules, &h),
                     86400);
}

static void test_age(void **state)
{
    /* Date 08:49:37 = 784111777 */
    const char *f = "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n";
    time_t d = 784111777;
    assert_int_equal(cache_age(F(f), d, d, d), 0);
    assert_int_equal(cache_age(F(f), d, d, d + 30), 30);
    /* apparent age: received 10 s after Date */
    assert_int_equal(cache_age(F(f), d + 10, d + 10, d + 10), 10);
    /* Age field plus the response delay */
    assert_int_equal(
        cache_age(F("Age: 100\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"), d, d + 2, d + 2), 102);
}

static enum cache_use decide(const char *req, const char *fields, int64_t life, int64_t age)
{
    struct cache_cc cc;
    cache_cc_of_request(REQ(req), &cc);
    return cache_decide(&cc, F(fields), life, age);
}

static void test_decide(void **state)
{
    const char *get = "GET /a HTTP/1.1\nHost: h\n\n";
    assert_int_equal(decide(get, "", 60, 10), CACHE_USE_FRESH);
    assert_int_equal(decide(get, "", 60, 60), CACHE_USE_VALIDATE);
    assert_int_equal(decide(get, "Cache-Control: no-cache\r\n", 60, 0), CACHE_USE_VALIDATE);
    assert_int_equal(decide("GET /a HTTP/1.1\nHost: h\nCache-Control: no-cache\n\n", "", 60, 0),
                     CACHE_USE_VALIDATE);
    assert_int_equal(decide("GET /a HTTP/1.1\nHost: h\nPragma: no-cache\n\n", "", 60, 0),
                     CACHE_USE_VALIDATE);
    assert_int_equal(decide("GET /a HTTP/1.1\nHost: h\nCache-Control: max-age=5\n\n", "", 60, 10),
                     CACHE_USE_VALIDATE);
    assert_int_equal(
        decide("GET /a HTTP/1.1\nHost: h\nCache-Control: min-fresh=55\n\n", "", 60, 10),
        CACHE_USE_VALIDATE);
    assert_int_equal(
        decide("GET /a HTTP/1.1\nHost: h\nCache-Control: max-stale=100\n\n", "", 60, 100),
        CACHE_USE_FRESH);
    assert_int_equal(decide("GET /a HTTP/1.1\nHost: h\nCache-Control: max-stale=100\n\n",
                            "Cache-Control: must-revalidate\r\n", 60, 100),
                     CACHE_USE_VALIDATE);
    /* RFC 5861 §3 */
    const char *swr = "Cache-Control: max-age=60, stale-while-revalidate=30\r\n";
    assert_int_equal(decide(get, swr, 60, 80), CACHE_USE_STALE_REVALIDATE);
    assert_int_equal(decide(get, swr, 60, 91), CACHE_USE_VALIDATE);
    /* s-maxage implies proxy-revalidate */
    assert_int_equal(
        decide(get, "Cache-Control: s-maxage=60, stale-while-revalidate=30\r\n", 60, 80),
        CACHE_USE_VALIDATE);
}

static void test_stale_if_error(void **state)
{
    struct cache_cc cc;
    cache_cc_of_request(REQ("GET /a HTTP/1.1\nHost: h\n\n"), &cc);
    assert_true(
        cache_stale_if_error(&cc, F("Cache-Control: max-age=1, stale-if-error=60\r\n"), 1, 50));
    assert_false(
        cache_stale_if_error(&cc, F("Cache-Control: max-age=1, stale-if-error=60\r\n"), 1, 70));
    assert_false(cache_stale_if_error(&cc, F("Cache-Control: max-age=1\r\n"), 1, 5));
    assert_false(cache_stale_if_error(
        &cc, F("Cache-Control: max-age=1, stale-if-error=60, must-revalidate\r\n"), 1, 5));
    cache_cc_of_request(REQ("GET /a HTTP/1.1\nHost: h\nCache-Control: stale-if-error=9\n\n"), &cc);
    assert_true(cache_stale_if_error(&cc, F("Cache-Control: max-age=1\r\n"), 1, 5));
}

static void test_conditional_and_304(void **state)
{
    struct str out = STR_INIT;
    assert_true(cache_conditional(F("ETag: \"v1\"\r\nLast-Modified: Sun, 06 Nov 1994 08:49:37 "
                                    "GMT\r\n"),
                                  &out));
    assert_string_equal(str_cstr(&out), "If-None-Match: \"v1\"\r\nIf-Modified-Since: Sun, 06 Nov "
                                        "1994 08:49:37 GMT\r\n");
    str_reset(&out);
    assert_false(cache_conditional(F("Content-Type: text/html\r\n"), &out));
    assert_int_equal(out.len, 0);

    const char *stored = "Content-Type: text/html\r\nContent-Length: 5\r\nETag: \"v1\"\r\n"
                         "Cache-Control: max-age=1\r\nDate: a\r\n";
    assert_true(cache_304_matches(F(stored), F("ETag: \"v1\"\r\n")));
    assert_false(cache_304_matches(F(stored), F("ETag: \"v2\"\r\n")));
    assert_true(cache_304_matches(F(stored), F("Date: b\r\n")));
    cache_merge_304(F(stored),
                    F("Cache-Control: max-age=99\r\nDate: b\r\nContent-Length: 0\r\n"
                      "Connection: close\r\nX-New: 1\r\n"),
                    &out);
    assert_string_equal(str_cstr(&out), "Content-Type: text/html\r\nContent-Length: 5\r\n"
                                        "ETag: \"v1\"\r\nCache-Control: max-age=99\r\nDate: b\r\n"
                                        "X-New: 1\r\n");
    str_clear(&out);
}

static void test_vary(void **state)
{
    struct str a = STR_INIT, b = STR_INIT;
    const char *vary = "Vary: Accept-Language\r\nVary: accept-encoding\r\n";
    assert_int_equal(
        cache_vary_key(F(vary), REQ("GET / HTTP/1.1\nHost: h\nAccept-Language:  de \n\n"), &a), 0);
    assert_string_equal(str_cstr(&a), "accept-language:de\naccept-encoding:\n");
    assert_int_equal(cache_vary_key(F(vary),
                                    REQ("GET / HTTP/1.1\nHost: h\nAccept-Language: en\n"
                                        "Accept-Encoding: gzip\nAccept-Encoding: br\n\n"),
                                    &b),
                     0);
    assert_string_equal(str_cstr(&b), "accept-language:en\naccept-encoding:gzip, br\n");
    str_reset(&a);
    assert_int_equal(cache_vary_key(F("Vary: a, *\r\n"), REQ("GET / HTTP/1.1\nHost: h\n\n"), &a),
                     -1);
    str_reset(&a);
    assert_int_equal(
        cache_vary_key(F("Content-Type: x\r\n"), REQ("GET / HTTP/1.1\nHost: h\n\n"), &a), 0);
    assert_int_equal(a.len, 0);
    str_clear(&a);
    str_clear(&b);
}

static void test_invalidate_hop(void **state)
{
    assert_true(cache_invalidates(HTTP_POST, F("POST"), 200));
    assert_true(cache_invalidates(HTTP_DELETE, F("DELETE"), 204));
    assert_true(cache_invalidates(HTTP_OTHER, F("PATCH"), 303));
    assert_false(cache_invalidates(HTTP_POST, F("POST"), 500));
    assert_false(cache_invalidates(HTTP_GET, F("GET"), 200));
    assert_false(cache_invalidates(HTTP_HEAD, F("HEAD"), 200));
    assert_true(cache_hop_by_hop(F("connection"), F("")));
    assert_true(cache_hop_by_hop(F("Keep-Alive"), F("")));
    assert_true(cache_hop_by_hop(F("Transfer-Encoding"), F("")));
    assert_true(cache_hop_by_hop(F("X-Secret"), F("close, x-secret")));
    assert_false(cache_hop_by_hop(F("X-Secret"), F("close")));
    assert_false(cache_hop_by_hop(F("Content-Type"), F("")));
}

static void test_cache_status(void **state)
{
    struct str out = STR_INIT;
    struct cache_status hit = {.hit = true, .ttl = 40};
    cache_status_format("pigeon", &hit, &out);
    assert_string_equal(str_cstr(&out), "pigeon; hit; ttl=40");
    str_reset(&out);
    struct cache_status miss = {
        .fwd = "uri-miss", .fwd_status = 200, .stored = true, .ttl = CACHE_ABSENT};
    cache_status_format("pigeon", &miss, &out);
    assert_string_equal(str_cstr(&out), "pigeon; fwd=uri-miss; fwd-status=200; stored");
    str_clear(&out);
}

static void test_cc_parse(void **state)
{
    struct cache_cc cc;
    cache_cc_init(&cc);
    cache_cc_add(&cc, F("Public , max-age=\"30\", no-cache=\"Set-Cookie, X\", bogus, s-maxage=x"));
    assert_true(cc.public_);
    assert_int_equal(cc.max_age, 30);
    assert_true(cc.no_cache);
    assert_int_equal(cc.s_maxage, 0); /* malformed: stale at once */
    cache_cc_init(&cc);
    cache_cc_add(&cc, F("max-age=99999999999999999999"));
    assert_int_equal(cc.max_age, 2147483648LL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_storable),
        cmocka_unit_test(test_lifetime),
        cmocka_unit_test(test_age),
        cmocka_unit_test(test_decide),
        cmocka_unit_test(test_stale_if_error),
        cmocka_unit_test(test_conditional_and_304),
        cmocka_unit_test(test_vary),
        cmocka_unit_test(test_invalidate_hop),
        cmocka_unit_test(test_cache_status),
        cmocka_unit_test(test_cc_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
