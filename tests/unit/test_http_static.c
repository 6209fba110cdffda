/* http/static: safe paths, conditional requests in RFC 9110 §13.2.2 order, ranges, If-Range,
 * media types, dates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "http/response.h"
#include "http/static.h"

#include <string.h>

static void expect_path(const char *in, int rc_want, const char *out_want)
{
    struct str out = STR_INIT;
    bool dir;
    int rc = http_path_clean(slice_cstr(in), &out, &dir);
    if (rc != rc_want)
        fail_msg("'%s': rc %d, expected %d", in, rc, rc_want);
    if (rc == 0 && strcmp(str_cstr(&out), out_want) != 0)
        fail_msg("'%s': '%s', expected '%s'", in, str_cstr(&out), out_want);
    str_clear(&out);
}

static void test_paths(void **state)
{
    expect_path("/", 0, "");
    expect_path("/index.html", 0, "index.html");
    expect_path("/a//b/./c/", 0, "a/b/c");
    expect_path("/caf%C3%A9.txt", 0, "caf\xc3\xa9.txt");
    expect_path("/../etc/passwd", -400, "");
    expect_path("/a/../../etc/passwd", -400, "");
    expect_path("/%2e%2e/etc/passwd", -400, "");
    expect_path("/%2E%2e%2fetc", -400, "");
    expect_path("/a%2f..%2f..%2fetc", -400, "");
    expect_path("/a%00.html", -400, "");
    expect_path("/a%zz", -400, "");
    expect_path("/a%4", -400, "");
    expect_path("/.htpasswd", -404, "");
    expect_path("/.git/config", -404, "");
    expect_path("/.well-known/mta-sts.txt", 0, ".well-known/mta-sts.txt");
}

/* A request with the given fields ("Name: value" pairs). */
static struct http_request make_req(enum http_method m, const char *const *fields, int n)
{
    struct http_request r;
    memset(&r, 0, sizeof r);
    r.method = m;
    for (int i = 0; i < n; i++) {
        const char *colon = strchr(fields[i], ':');
        r.headers[i].name = slice_make(fields[i], (size_t)(colon - fields[i]));
        r.headers[i].value = slice_cstr(colon + 2);
    }
    r.nheaders = (unsigned)n;
    return r;
}

#define ETAG "\"1-2-3\""
#define LM 784111777 /* Sun, 06 Nov 1994 08:49:37 GMT */

static enum http_cond cond(enum http_method m, const char *f1, const char *f2)
{
    const char *f[2] = {f1, f2};
    struct http_request r = make_req(m, f, f2 ? 2 : f1 ? 1 : 0);
    return http_conditional(&r, ETAG, LM);
}

static void test_conditional(void **state)
{
    assert_int_equal(cond(HTTP_GET, NULL, NULL), HTTP_COND_PASS);
    assert_int_equal(cond(HTTP_GET, "If-None-Match: " ETAG, NULL), HTTP_COND_NOT_MODIFIED);
    assert_int_equal(cond(HTTP_GET, "If-None-Match: W/" ETAG, NULL), HTTP_COND_NOT_MODIFIED);
    assert_int_equal(cond(HTTP_GET, "If-None-Match: \"x\", " ETAG, NULL),
                     HTTP_COND_NOT_MODIFIED);
    assert_int_equal(cond(HTTP_GET, "If-None-Match: *", NULL), HTTP_COND_NOT_MODIFIED);
    assert_int_equal(cond(HTTP_GET, "If-None-Match: \"other\"", NULL), HTTP_COND_PASS);
    assert_int_equal(cond(HTTP_PUT, "If-None-Match: *", NULL), HTTP_COND_FAILED);
    assert_int_equal(cond(HTTP_GET, "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT", NULL),
                     HTTP_COND_NOT_MODIFIED);
    assert_int_equal(cond(HTTP_GET, "If-Modified-Since: Sun, 06 Nov 1994 08:49:36 GMT", NULL),
                     HTTP_COND_PASS);
    assert_int_equal(cond(HTTP_GET, "If-Modified-Since: garbage", NULL), HTTP_COND_PASS);
    /* If-None-Match takes precedence over If-Modified-Since. */
    assert_int_equal(cond(HTTP_GET, "If-None-Match: \"other\"",
                          "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT"),
                     HTTP_COND_PASS);
    assert_int_equal(cond(HTTP_GET, "If-Match: " ETAG, NULL), HTTP_COND_PASS);
    assert_int_equal(cond(HTTP_GET, "If-Match: W/" ETAG, NULL), HTTP_COND_FAILED);
    assert_int_equal(cond(HTTP_GET, "If-Match: \"other\"", NULL), HTTP_COND_FAILED);
    assert_int_equal(cond(HTTP_PUT, "If-Match: *", NULL), HTTP_COND_PASS);
    assert_int_equal(cond(HTTP_GET, "If-Unmodified-Since: Sun, 06 Nov 1994 08:49:36 GMT", NULL),
                     HTTP_COND_FAILED);
    assert_int_equal(cond(HTTP_GET, "If-Unmodified-Since: Sunday, 06-Nov-94 08:49:37 GMT", NULL),
                     HTTP_COND_PASS);
    /* If-Match first: it fails even when If-None-Match would say 304. */
    assert_int_equal(cond(HTTP_GET, "If-Match: \"x\"", "If-None-Match: " ETAG), HTTP_COND_FAILED);
    /* Two lines of one list field are one list (RFC 9110 §5.3; diff.md H3): the tag on the
     * second line counts. */
    assert_int_equal(cond(HTTP_GET, "If-None-Match: \"other\"", "If-None-Match: " ETAG),
                     HTTP_COND_NOT_MODIFIED);
    assert_int_equal(cond(HTTP_GET, "If-Match: \"y\"", "If-Match: " ETAG), HTTP_COND_PASS);
    assert_int_equal(cond(HTTP_GET, "If-Match: \"y\"", "If-Match: \"z\""), HTTP_COND_FAILED);
}

static void test_if_range(void **state)
{
    const char *f[1] = {"If-Range: " ETAG};
    struct http_request r = make_req(HTTP_GET, f, 1);
    assert_true(http_if_range(&r, ETAG, LM));
    assert_false(http_if_range(&r, "\"9-9-9\"", LM));
    f[0] = "If-Range: W/" ETAG;
    r = make_req(HTTP_GET, f, 1);
    assert_false(http_if_range(&r, ETAG, LM));
    f[0] = "If-Range: Sun, 06 Nov 1994 08:49:37 GMT";
    r = make_req(HTTP_GET, f, 1);
    assert_true(http_if_range(&r, ETAG, LM));
    assert_false(http_if_range(&r, ETAG, LM + 1));
    r = make_req(HTTP_GET, f, 0);
    assert_true(http_if_range(&r, ETAG, LM));
}

static void test_ranges(void **state)
{
    struct http_range r[HTTP_MAX_RANGES];
    assert_int_equal(http_range_parse(slice_cstr("bytes=0-9"), 100, r), 1);
    assert_true(r[0].first == 0 && r[0].last == 9);
    assert_int_equal(http_range_parse(slice_cstr("bytes=90-"), 100, r), 1);
    assert_true(r[0].first == 90 && r[0].last == 99);
    assert_int_equal(http_range_parse(slice_cstr("bytes=-10"), 100, r), 1);
    assert_true(r[0].first == 90 && r[0].last == 99);
    assert_int_equal(http_range_parse(slice_cstr("bytes=-500"), 100, r), 1);
    assert_true(r[0].first == 0 && r[0].last == 99);
    assert_int_equal(http_range_parse(slice_cstr("bytes=50-500"), 100, r), 1);
    assert_true(r[0].last == 99);
    assert_int_equal(http_range_parse(slice_cstr("bytes=0-0, 5-9 ,-1"), 100, r), 3);
    assert_true(r[2].first == 99);
    assert_int_equal(http_range_parse(slice_cstr("bytes=100-"), 100, r), -416);
    assert_int_equal(http_range_parse(slice_cstr("bytes=200-300, 150-"), 100, r), -416);
    assert_int_equal(http_range_parse(slice_cstr("bytes=200-300, 1-2"), 100, r), 1);
    assert_int_equal(http_range_parse(slice_cstr("bytes=-0"), 100, r), -416);
    /* An empty file: 200 with the (empty) whole, not 416, for any range (diff.md H5). */
    assert_int_equal(http_range_parse(slice_cstr("bytes=0-4"), 0, r), 0);
    assert_int_equal(http_range_parse(slice_cstr("bytes=-4"), 0, r), 0);
    assert_int_equal(http_range_parse(slice_cstr("bytes=5-1"), 100, r), 0);
    assert_int_equal(http_range_parse(slice_cstr("bytes=a-b"), 100, r), 0);
    assert_int_equal(http_range_parse(slice_cstr("lines=1-2"), 100, r), 0);
    assert_int_equal(http_range_parse(slice_cstr("bytes="), 100, r), 0);
    assert_int_equal(http_range_parse(slice_cstr("bytes=0-0,1-1,2-2,3-3,4-4,5-5,6-6,7-7,8-8,"
                                                 "9-9,10-10,11-11,12-12,13-13,14-14,15-15,16-16"),
                                      100, r),
                     0);
}

static void test_mime(void **state)
{
    const char table[] = "# comment\ntext/html html htm\n"
                         "image/x-pigeon\tpgn PGX\n\napplication/javascript js\n";
    struct http_mime *m = http_mime_new(table, sizeof table - 1);
    assert_string_equal(http_mime_type(m, "a/index.html"), "text/html");
    assert_string_equal(http_mime_type(m, "x.PGN"), "image/x-pigeon");
    assert_string_equal(http_mime_type(m, "x.pgx"), "image/x-pigeon");
    assert_string_equal(http_mime_type(m, "app.js"), "text/javascript");
    assert_string_equal(http_mime_type(m, "logo.png"), "image/png"); /* built in */
    assert_string_equal(http_mime_type(m, "README"), "application/octet-stream");
    assert_string_equal(http_mime_type(m, "dir.png/file"), "application/octet-stream");
    http_mime_free(m);
}

static void test_dates(void **state)
{
    char buf[30];
    http_date_format(LM, buf);
    assert_string_equal(buf, "Sun, 06 Nov 1994 08:49:37 GMT");
    time_t t;
    assert_int_equal(http_date_parse(slice_cstr("Sun, 06 Nov 1994 08:49:37 GMT"), &t), 0);
    assert_int_equal(t, LM);
    assert_int_equal(http_date_parse(slice_cstr("Sunday, 06-Nov-94 08:49:37 GMT"), &t), 0);
    assert_int_equal(t, LM);
    assert_int_equal(http_date_parse(slice_cstr("Sun Nov  6 08:49:37 1994"), &t), 0);
    assert_int_equal(t, LM);
    assert_int_equal(http_date_parse(slice_cstr("Sun, 06 Nov 1994 08:49:37 GMT x"), &t), -1);
    assert_int_equal(http_date_parse(slice_cstr("Sun, 06 Foo 1994 08:49:37 GMT"), &t), -1);
    assert_int_equal(http_date_parse(slice_cstr(""), &t), -1);
    struct http_file_meta meta = {.size = 10, .mtime = 5, .mtime_ns = 7, .ino = 3};
    char etag[64];
    http_etag(&meta, etag);
    assert_string_equal(etag, "\"3-a-5.7\"");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths),  cmocka_unit_test(test_conditional),
        cmocka_unit_test(test_if_range), cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_mime),   cmocka_unit_test(test_dates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
