/* http/session: keep-alive, pipelining in order, 100-continue, HEAD, chunked bodies, errors
 * that close, asynchronous answers; a pipelined stream split at every offset gives the same
 * output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "http/session.h"

#include <stdio.h>
#include <string.h>

struct fake {
    struct str out;
    struct http_session *s;
    bool async;                 /* keep the request instead of answering */
    struct http_request *held;
    int statuses[16];
    uint64_t bytes[16];
    unsigned ndone;
    size_t pending;             /* what the transport reports as unsent */
    bool stream;                /* answer with a streamed body */
};

static void fk_write(void *io, const char *p, size_t n)
{
    str_append(&((struct fake *)io)->out, p, n);
}

static void fk_write_file(void *io, int fd, uint64_t off, uint64_t len)
{
    str_appendf(&((struct fake *)io)->out, "[file %llu+%llu]", (unsigned long long)off,
                (unsigned long long)len);
}

static void answer(struct fake *f, struct http_request *req)
{
    struct http_response r;
    http_response_init(&r, 200);
    http_response_header(&r, "Content-Type", "text/plain");
    struct str b = STR_INIT;
    str_appendf(&b, "%.*s %.*s body=%.*s", (int)req->method_name.len, req->method_name.p,
                (int)req->path.len, req->path.p, (int)req->body_len, req->body ? req->body : "");
    http_response_body(&r, b.ptr, b.len);
    str_clear(&b);
    http_session_respond(f->s, &r);
}

static void fk_request(void *io, struct http_request *req)
{
    struct fake *f = io;
    if (f->async) {
        f->held = req;
        return;
    }
    answer(f, req);
}

static time_t fk_now(void *io)
{
    return 784111777; /* Sun, 06 Nov 1994 08:49:37 GMT */
}

static void fk_done(void *io, const struct http_request *req, int status, uint64_t n)
{
    struct fake *f = io;
    if (f->ndone < 16) {
        f->bytes[f->ndone] = n;
        f->statuses[f->ndone++] = status;
    }
}

static size_t fk_pending(void *io)
{
    return ((struct fake *)io)->pending;
}

static bool fk_stream_body(void *io, const struct http_request *req)
{
    return req->method == HTTP_PUT && req->path.len == 3 && !memcmp(req->path.p, "/up", 3);
}

static const struct http_session_ops ops = {fk_write, fk_write_file, fk_request, fk_now,
                                            fk_done,  fk_pending,    fk_stream_body};

/* A streamed request body's reader. */
struct sink {
    struct str got;
    int ends, aborts;
};

static void sk_data(void *arg, const char *p, size_t n)
{
    str_append(&((struct sink *)arg)->got, p, n);
}

static void sk_end(void *arg)
{
    ((struct sink *)arg)->ends++;
}

static void sk_abort(void *arg)
{
    ((struct sink *)arg)->aborts++;
}

/* A streamed body: "piece1 piece2 ...", then the end, or a failure after fail_after pieces. */
struct pieces {
    unsigned n, total, fail_after;
    bool freed;
};

static ssize_t pieces_read(void *arg, char *buf, size_t cap)
{
    struct pieces *p = arg;
    if (p->fail_after && p->n == p->fail_after)
        return -1;
    if (p->n == p->total)
        return 0;
    return snprintf(buf, cap, "piece%u ", ++p->n);
}

static void pieces_free(void *arg)
{
    ((struct pieces *)arg)->freed = true;
}

static void answer_stream(struct fake *f, struct pieces *p)
{
    struct http_response r;
    http_response_init(&r, 200);
    http_response_stream(&r, (struct http_body_source){pieces_read, pieces_free, p});
    http_session_respond(f->s, &r);
}
static const struct http_limits lim = {.max_request_line = 200, .max_head = 1000,
                                       .max_body = 10000};

static void fake_init(struct fake *f)
{
    memset(f, 0, sizeof *f);
    f->s = http_session_new(&ops, f, &lim, false);
    http_session_limit_buffered(f->s, 100);
}

static void fake_clear(struct fake *f)
{
    http_session_free(f->s);
    str_clear(&f->out);
}

static void feed(struct fake *f, const char *text)
{
    size_t n = strlen(text);
    size_t used = http_session_feed(f->s, text, n);
    assert_int_equal(used, n);
}

static unsigned count(const char *hay, const char *needle)
{
    unsigned c = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        c++;
    return c;
}

static const char pipeline[] =
    "GET /one HTTP/1.1\r\nHost: a\r\n\r\n"
    "POST /two HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
    "\r\n" /* a stray empty line between requests is ignored */
    "POST /three HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
    "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    "HEAD /four HTTP/1.1\r\nHost: a\r\n\r\n"
    "GET /five HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
    "GET /never HTTP/1.1\r\nHost: a\r\n\r\n";

static void test_pipeline_in_order(void **state)
{
    struct fake f;
    fake_init(&f);
    feed(&f, pipeline);
    const char *o = str_cstr(&f.out);
    const char *a = strstr(o, "GET /one body=");
    const char *b = strstr(o, "POST /two body=hello");
    const char *c = strstr(o, "POST /three body=abcde");
    const char *e = strstr(o, "GET /five body=");
    assert_non_null(a);
    assert_true(a < b && b < c && c < e);
    assert_null(strstr(o, "/four body"));  /* HEAD: no body */
    assert_null(strstr(o, "/never"));      /* after Connection: close */
    assert_int_equal(count(o, "HTTP/1.1 200 OK\r\n"), 5);
    assert_int_equal(count(o, "Connection: close\r\n"), 1);
    assert_true(strstr(o, "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n") != NULL);
    assert_true(http_session_closing(f.s));
    fake_clear(&f);
}

static void test_split_everywhere(void **state)
{
    struct fake whole;
    fake_init(&whole);
    feed(&whole, pipeline);
    size_t n = strlen(pipeline);
    for (size_t i = 1; i < n; i++) {
        struct fake f;
        fake_init(&f);
        size_t u = http_session_feed(f.s, pipeline, i);
        assert_int_equal(u, i);
        if (!http_session_closing(f.s))
            http_session_feed(f.s, pipeline + i, n - i);
        if (f.out.len != whole.out.len || memcmp(f.out.ptr, whole.out.ptr, f.out.len) != 0)
            fail_msg("split at %zu differs:\n%s", i, str_cstr(&f.out));
        fake_clear(&f);
    }
    fake_clear(&whole);
}

static void test_http10(void **state)
{
    struct fake f;
    fake_init(&f);
    feed(&f, "GET / HTTP/1.0\r\n\r\n");
    assert_true(strstr(str_cstr(&f.out), "Connection: close\r\n") != NULL);
    assert_true(http_session_closing(f.s));
    fake_clear(&f);
    fake_init(&f);
    feed(&f, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert_true(strstr(str_cstr(&f.out), "Connection: keep-alive\r\n") != NULL);
    assert_false(http_session_closing(f.s));
    fake_clear(&f);
}

static void test_continue(void **state)
{
    struct fake f;
    fake_init(&f);
    feed(&f, "PUT /f HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
    assert_string_equal(str_cstr(&f.out), "HTTP/1.1 100 Continue\r\n\r\n");
    feed(&f, "xyz");
    assert_true(strstr(str_cstr(&f.out), "PUT /f body=xyz") != NULL);
    fake_clear(&f);
    /* Too large: 413 at once, no 100, connection closed. */
    fake_init(&f);
    feed(&f, "PUT /f HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 500\r\n\r\n");
    assert_true(strncmp(str_cstr(&f.out), "HTTP/1.1 413 ", 13) == 0);
    assert_true(http_session_closing(f.s));
    fake_clear(&f);
}

static void expect_error(const char *text, int status)
{
    struct fake f;
    fake_init(&f);
    http_session_feed(f.s, text, strlen(text));
    char want[32];
    snprintf(want, sizeof want, "HTTP/1.1 %d ", status);
    if (strncmp(str_cstr(&f.out), want, strlen(want)) != 0)
        fail_msg("'%s': got '%s'", text, str_cstr(&f.out));
    assert_true(strstr(str_cstr(&f.out), "Connection: close\r\n") != NULL);
    assert_true(http_session_closing(f.s));
    assert_int_equal(f.ndone, 1);
    assert_int_equal(f.statuses[0], status);
    fake_clear(&f);
}

static void test_errors_close(void **state)
{
    expect_error("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
                 400);
    expect_error("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400);
    expect_error("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "40\r\n0123456789012345678901234567890123456789012345678901234567890123\r\n"
                 "40\r\n",
                 413);
    expect_error("GET / HTTP/3.0\r\n\r\n", 505);
    char big[400];
    memset(big, 'a', sizeof big);
    memcpy(big, "GET /", 5);
    big[sizeof big - 1] = '\0';
    expect_error(big, 414);
}

static void test_async_answer(void **state)
{
    struct fake f;
    fake_init(&f);
    f.async = true;
    feed(&f, "GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_true(http_session_busy(f.s));
    assert_int_equal(f.out.len, 0);
    assert_int_equal(http_session_feed(f.s, "x", 1), 0); /* nothing taken while busy */
    answer(&f, f.held);
    assert_false(http_session_busy(f.s));
    http_session_feed(f.s, NULL, 0);
    assert_true(http_session_busy(f.s)); /* /b now with the handler */
    assert_true(strstr(f.held->path.p, "/b") == f.held->path.p);
    answer(&f, f.held);
    assert_int_equal(count(str_cstr(&f.out), "200 OK"), 2);
    fake_clear(&f);
}

static void test_timeouts(void **state)
{
    struct fake f;
    fake_init(&f);
    http_session_timeout(f.s);
    assert_true(http_session_closing(f.s));
    assert_int_equal(f.out.len, 0); /* idle: closed without a word */
    fake_clear(&f);
    fake_init(&f);
    feed(&f, "GET / HTTP/1.1\r\nHost:");
    http_session_timeout(f.s);
    assert_true(strncmp(str_cstr(&f.out), "HTTP/1.1 408 ", 13) == 0);
    fake_clear(&f);
}

/* A body of unknown length: chunked on HTTP/1.1, pulled only while little is unsent, the
 * next pipelined request read once it has ended. */
static void test_streamed_chunked(void **state)
{
    struct fake f;
    fake_init(&f);
    f.async = true;
    f.pending = 1u << 20; /* the transport is full: nothing may be pulled yet */
    feed(&f, "GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n");
    struct pieces p = {.total = 3};
    answer_stream(&f, &p);
    const char *o = str_cstr(&f.out);
    assert_non_null(strstr(o, "Transfer-Encoding: chunked\r\n"));
    assert_null(strstr(o, "Content-Length"));
    assert_int_equal(p.n, 0);
    assert_false(http_session_writable(f.s)); /* still full */
    f.pending = 0;
    assert_true(http_session_writable(f.s)); /* drained: the whole body, then reading again */
    o = str_cstr(&f.out);
    assert_non_null(strstr(o, "\r\n\r\n7\r\npiece1 \r\n7\r\npiece2 \r\n7\r\npiece3 \r\n0\r\n\r\n"));
    assert_true(p.freed);
    assert_int_equal(f.ndone, 1);
    assert_int_equal(f.bytes[0], 21);
    http_session_feed(f.s, NULL, 0);
    assert_true(http_session_busy(f.s)); /* /b */
    answer(&f, f.held);
    assert_non_null(strstr(str_cstr(&f.out), "GET /b body="));
    fake_clear(&f);
}

/* HTTP/1.0 has no chunked coding: the body ends when the connection does. HEAD sends none. */
static void test_streamed_http10_head(void **state)
{
    struct fake f;
    fake_init(&f);
    f.async = true;
    feed(&f, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    struct pieces p = {.total = 2};
    answer_stream(&f, &p);
    const char *o = str_cstr(&f.out);
    assert_non_null(strstr(o, "Connection: close\r\n"));
    assert_null(strstr(o, "chunked"));
    assert_non_null(strstr(o, "\r\n\r\npiece1 piece2 "));
    assert_true(http_session_closing(f.s));
    fake_clear(&f);
    fake_init(&f);
    f.async = true;
    feed(&f, "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n");
    struct pieces h = {.total = 2};
    answer_stream(&f, &h);
    o = str_cstr(&f.out);
    assert_null(strstr(o, "chunked"));
    assert_null(strstr(o, "Content-Length"));
    assert_null(strstr(o, "piece"));
    assert_int_equal(h.n, 0);
    assert_true(h.freed);
    assert_false(http_session_closing(f.s));
    fake_clear(&f);
}

/* A source that fails: no last chunk, and the connection closes (a cut body never looks
 * whole). */
static void test_streamed_failure(void **state)
{
    struct fake f;
    fake_init(&f);
    f.async = true;
    feed(&f, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    struct pieces p = {.total = 5, .fail_after = 2};
    answer_stream(&f, &p);
    assert_null(strstr(str_cstr(&f.out), "0\r\n\r\n"));
    assert_true(http_session_closing(f.s));
    assert_true(p.freed);
    fake_clear(&f);
}

static void answer_sized(struct fake *f, struct pieces *p, uint64_t len)
{
    struct http_response r;
    http_response_init(&r, 200);
    http_response_stream(&r, (struct http_body_source){pieces_read, pieces_free, p});
    http_response_stream_length(&r, len);
    http_session_respond(f->s, &r);
}

/* A source of known length goes out with Content-Length, not chunked (HTTP/1.0 keeps its
 * connection too); one that ends short of its length, or runs past it, is cut. */
static void test_streamed_sized(void **state)
{
    struct fake f;
    fake_init(&f);
    f.async = true;
    feed(&f, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    struct pieces p = {.total = 3};
    answer_sized(&f, &p, 21);
    const char *o = str_cstr(&f.out);
    assert_non_null(strstr(o, "Content-Length: 21\r\n"));
    assert_null(strstr(o, "chunked"));
    assert_non_null(strstr(o, "\r\n\r\npiece1 piece2 piece3 "));
    assert_null(strstr(o, "0\r\n\r\n"));
    assert_false(http_session_closing(f.s));
    assert_int_equal(f.bytes[0], 21);
    fake_clear(&f);
    fake_init(&f);
    f.async = true;
    feed(&f, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    struct pieces q = {.total = 2};
    answer_sized(&f, &q, 14);
    o = str_cstr(&f.out);
    assert_non_null(strstr(o, "Content-Length: 14\r\n"));
    assert_non_null(strstr(o, "Connection: keep-alive\r\n"));
    assert_false(http_session_closing(f.s));
    fake_clear(&f);
    unsigned lens[] = {22, 13}; /* the source ends short; the source runs over */
    for (unsigned i = 0; i < 2; i++) {
        fake_init(&f);
        f.async = true;
        feed(&f, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        struct pieces c = {.total = 3};
        answer_sized(&f, &c, lens[i]);
        assert_true(http_session_closing(f.s)); /* the client sees fewer octets than said */
        if (i == 1)
            assert_null(strstr(str_cstr(&f.out), "piece2")); /* never more than said */
        assert_true(c.freed);
        fake_clear(&f);
    }
}

/* A streamed request body (Content-Length or chunked): the request is handed out at the end
 * of its head, 100 Continue goes out only when the handler asks for the body, the body is
 * handed over in pieces as it arrives (split anywhere), end once, then the next request. */
static void run_streamed_in(const char *head, const char *body, size_t split)
{
    struct fake f;
    fake_init(&f);
    f.async = true;
    struct sink k = {STR_INIT, 0, 0};
    struct http_body_target r = {sk_data, sk_end, sk_abort, &k};
    feed(&f, head);
    assert_non_null(f.held);
    assert_true(f.held->body_streamed);
    assert_null(strstr(str_cstr(&f.out), "100 Continue")); /* not before the handler asks */
    http_session_read_body(f.s, &r);
    assert_non_null(strstr(str_cstr(&f.out), "HTTP/1.1 100 Continue\r\n\r\n"));
    size_t n = strlen(body);
    http_session_feed(f.s, body, split);
    http_session_feed(f.s, body + split, n - split);
    assert_int_equal(k.ends, 1);
    assert_int_equal(k.aborts, 0);
    assert_string_equal(str_cstr(&k.got), "hello world, streamed");
    /* The head's slices survived the input that came after it. */
    assert_true(f.held->path.len == 3 && memcmp(f.held->path.p, "/up", 3) == 0);
    f.async = false;
    answer(&f, f.held);
    assert_false(http_session_closing(f.s));
    feed(&f, "GET /next HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_non_null(strstr(str_cstr(&f.out), "GET /next body="));
    str_clear(&k.got);
    fake_clear(&f);
}

static void test_streamed_request_body(void **state)
{
    static const char cl_head[] = "PUT /up HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
                                  "Content-Length: 21\r\n\r\n";
    static const char ch_head[] = "PUT /up HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
                                  "Transfer-Encoding: chunked\r\n\r\n";
    static const char cl_body[] = "hello world, streamed";
    static const char ch_body[] = "6\r\nhello \r\nf\r\nworld, streamed\r\n0\r\n\r\n";
    for (size_t i = 0; i <= strlen(cl_body); i++)
        run_streamed_in(cl_head, cl_body, i);
    for (size_t i = 0; i <= strlen(ch_body); i++)
        run_streamed_in(ch_head, ch_body, i);
}

/* Bodies larger than max_buffered (100 here) may stream; the handler answering early closes the
 * connection; a chunked framing error, a stall or the connection's end abort the reader. */
static void test_streamed_request_errors(void **state)
{
    struct fake f;
    fake_init(&f);
    f.async = true;
    struct sink k = {STR_INIT, 0, 0};
    struct http_body_target r = {sk_data, sk_end, sk_abort, &k};
    feed(&f, "PUT /up HTTP/1.1\r\nHost: a\r\nContent-Length: 50\r\n\r\n0123456789");
    http_session_read_body(f.s, &r);
    http_session_feed(f.s, NULL, 0);
    assert_int_equal(k.got.len, 10);
    f.async = false;
    answer(&f, f.held); /* e.g. 413 from the handler's own limit, before the end */
    assert_true(http_session_closing(f.s));
    assert_non_null(strstr(str_cstr(&f.out), "Connection: close\r\n"));
    assert_int_equal(http_session_feed(f.s, "more", 4), 0);
    assert_int_equal(k.got.len, 10);
    fake_clear(&f);

    fake_init(&f);
    f.async = true;
    str_reset(&k.got);
    feed(&f, "PUT /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\n");
    http_session_read_body(f.s, &r);
    http_session_feed(f.s, NULL, 0);
    assert_int_equal(k.aborts, 1);
    assert_int_equal(k.ends, 0);
    assert_true(strstr(str_cstr(&f.out), "HTTP/1.1 400 ") != NULL);
    assert_true(http_session_closing(f.s));
    fake_clear(&f);

    fake_init(&f);
    f.async = true;
    feed(&f, "PUT /up HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\nab");
    assert_non_null(f.held); /* over max_buffered 100, but streamed: up to max_body */
    http_session_read_body(f.s, &r);
    http_session_timeout(f.s);
    assert_int_equal(k.aborts, 2);
    assert_true(strstr(str_cstr(&f.out), "HTTP/1.1 408 ") != NULL);
    fake_clear(&f);

    fake_init(&f);
    f.async = true;
    feed(&f, "PUT /up HTTP/1.1\r\nHost: a\r\nContent-Length: 50\r\n\r\nab");
    http_session_read_body(f.s, &r);
    fake_clear(&f); /* the connection ends mid-body */
    assert_int_equal(k.aborts, 3);
    str_clear(&k.got);
}

static void test_file_segments(void **state)
{
    struct http_response r;
    http_response_init(&r, 206);
    r.fd = -1;
    http_response_body(&r, "--b\r\n", 5);
    http_response_file(&r, 10, 5);
    http_response_body(&r, "\r\n--b--\r\n", 9);
    assert_int_equal(r.nseg, 3);
    assert_int_equal(http_response_length(&r), 19);
    http_response_header(&r, "X-Evil", "a\r\nSet-Cookie: x=1");
    assert_string_equal(str_cstr(&r.fields), "X-Evil: a\r\n");
    http_response_clear(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pipeline_in_order), cmocka_unit_test(test_split_everywhere),
        cmocka_unit_test(test_http10),            cmocka_unit_test(test_continue),
        cmocka_unit_test(test_errors_close),      cmocka_unit_test(test_async_answer),
        cmocka_unit_test(test_timeouts),          cmocka_unit_test(test_file_segments),
        cmocka_unit_test(test_streamed_chunked),  cmocka_unit_test(test_streamed_http10_head),
        cmocka_unit_test(test_streamed_failure),  cmocka_unit_test(test_streamed_sized),
        cmocka_unit_test(test_streamed_request_body),
        cmocka_unit_test(test_streamed_request_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
