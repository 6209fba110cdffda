/*
 * http/h2: the HTTP/2 engine driven with frames built here (a frame writer and nghttp2's
 * HPACK deflater) and with an nghttp2 client session for the flow-control exchanges:
 * SETTINGS, a request in HEADERS + CONTINUATION frames, request bodies in DATA frames (and
 * 413 over max_body), a response larger than the client's window (sent only as WINDOW_UPDATEs
 * allow), a streamed body, a file body written straight into the output (ops.reserve) and
 * a file that shrinks while it is sent (RST_STREAM, and no frame header left without its
 * data), the concurrent stream limit (REFUSED_STREAM), an oversized header list, and the two
 * floods: RST_STREAM (Rapid Reset) and CONTINUATION, each answered with
 * GOAWAY and the session closing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "http/h2.h"

#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAXS 512

/* ---- the server side: the engine with fake ops ---- */

struct fake {
    struct http2_session *s;
    struct str out;               /* what the server wrote, not yet read by the client */
    bool async;                   /* keep requests instead of answering */
    void *held[MAXS];
    unsigned nheld, nrequests;
    char last_path[64], last_body[64];
    size_t last_body_len;
    unsigned nheaders;
    size_t body_size;             /* answer with this many octets of 'x' */
    bool stream_body;             /* ... from a body source */
    int file_fd;                  /* ... from this file (when >= 0), body_size octets of it */
    int ndone, last_status;
    bool stream_in;               /* stream request bodies */
    struct str got;               /* ... what the reader received */
    int ends, aborts;
};

static void fk_write(void *io, const char *p, size_t n)
{
    str_append(&((struct fake *)io)->out, p, n);
}

static size_t fk_pending(void *io)
{
    return ((struct fake *)io)->out.len;
}

struct counted {
    size_t left;
};

static ssize_t counted_read(void *arg, char *buf, size_t cap)
{
    struct counted *c = arg;
    size_t n = c->left < cap ? c->left : cap;
    memset(buf, 'y', n);
    c->left -= n;
    return (ssize_t)n;
}

static void counted_free(void *arg)
{
    free(arg);
}

static void answer(struct fake *f, void *stream)
{
    struct http_response r;
    http_response_init(&r, 200);
    http_response_header(&r, "Content-Type", "text/plain");
    if (f->stream_body) {
        struct counted *c = malloc(sizeof *c);
        c->left = f->body_size;
        http_response_stream(&r, (struct http_body_source){counted_read, counted_free, c});
    } else if (f->file_fd >= 0) {
        r.fd = dup(f->file_fd);
        assert_int_equal(http_response_file(&r, 0, f->body_size), 0);
    } else {
        char *b = malloc(f->body_size + 1);
        memset(b, 'x', f->body_size);
        http_response_body(&r, b, f->body_size);
        free(b);
    }
    http2_session_respond(f->s, stream, &r);
}

static void fk_request(void *io, void *stream, struct http_request *req)
{
    struct fake *f = io;
    f->nrequests++;
    snprintf(f->last_path, sizeof f->last_path, "%.*s", (int)req->path.len, req->path.p);
    f->last_body_len = req->body_len;
    snprintf(f->last_body, sizeof f->last_body, "%.*s", (int)(req->body_len < 63 ? req->body_len : 63),
             req->body ? req->body : "");
    f->nheaders = req->nheaders;
    if (f->async) {
        assert_true(f->nheld < MAXS);
        f->held[f->nheld++] = stream;
        return;
    }
    answer(f, stream);
}

static time_t fk_now(void *io)
{
    return 784111777;
}

static void fk_done(void *io, const struct http_request *req, int status, uint64_t n)
{
    struct fake *f = io;
    f->ndone++;
    f->last_status = status;
}

static bool fk_stream_body(void *io, const struct http_request *req)
{
    return ((struct fake *)io)->stream_in;
}

/* The output reserved and committed in place (as conn_reserve / conn_commit). */
static char *fk_reserve(void *io, size_t n)
{
    struct fake *f = io;
    str_reserve(&f->out, f->out.len + n);
    return f->out.ptr + f->out.len;
}

static void fk_commit(void *io, char *p, size_t n)
{
    struct fake *f = io;
    assert_ptr_equal(p, f->out.ptr + f->out.len);
    f->out.len += n;
}

/* Without reserve/commit: nghttp2 copies the body into its frames (the other path). */
static const struct http2_ops ops_copy = {fk_write, fk_pending, fk_request, fk_now, fk_done,
                                          fk_stream_body, NULL, NULL};
static const struct http2_ops ops = {fk_write, fk_pending, fk_request, fk_now, fk_done,
                                     fk_stream_body, fk_reserve, fk_commit};

static void rd_data(void *arg, const char *p, size_t n)
{
    str_append(&((struct fake *)arg)->got, p, n);
}

static void rd_end(void *arg)
{
    ((struct fake *)arg)->ends++;
}

static void rd_abort(void *arg)
{
    ((struct fake *)arg)->aborts++;
}

static const struct http_body_target reader = {rd_data, rd_end, rd_abort, NULL};
static const struct http_limits lim = {.max_request_line = 1000, .max_head = 2000,
                                       .max_body = 1000};

static void fake_init_with(struct fake *f, const struct http2_ops *o)
{
    memset(f, 0, sizeof *f);
    f->body_size = 5;
    f->file_fd = -1;
    f->s = http2_session_new(o, f, &lim, true);
}

static void fake_init(struct fake *f)
{
    fake_init_with(f, &ops);
}

static void fake_clear(struct fake *f)
{
    http2_session_free(f->s);
    str_clear(&f->out);
    str_clear(&f->got);
}

/* ---- raw frames ---- */

static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

static void frame(struct str *o, uint8_t type, uint8_t flags, uint32_t stream, const void *p,
                  size_t n)
{
    uint8_t h[9] = {(uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n, type, flags,
                    (uint8_t)(stream >> 24), (uint8_t)(stream >> 16), (uint8_t)(stream >> 8),
                    (uint8_t)stream};
    str_append(o, h, 9);
    str_append(o, p, n);
}

/* A header block for "GET path" plus extra fields (name, value pairs; NULL-terminated). */
static size_t block(uint8_t *buf, size_t cap, const char *method, const char *path, ...)
{
    nghttp2_nv nv[64];
    size_t n = 0;
#define NV(a, b) nv[n++] = (nghttp2_nv){(uint8_t *)(a), (uint8_t *)(b), strlen(a), strlen(b), 0}
    NV(":method", method);
    NV(":scheme", "https");
    NV(":path", path);
    NV(":authority", "a.test");
    va_list ap;
    va_start(ap, path);
    for (const char *k; (k = va_arg(ap, const char *));) {
        const char *v = va_arg(ap, const char *);
        NV(k, v);
    }
    va_end(ap);
#undef NV
    nghttp2_hd_deflater *d;
    nghttp2_hd_deflate_new(&d, 4096);
    ssize_t len = nghttp2_hd_deflate_hd(d, buf, cap, nv, n);
    nghttp2_hd_deflate_del(d);
    assert_true(len > 0);
    return (size_t)len;
}

static void start(struct str *o)
{
    str_append(o, preface, sizeof preface - 1);
    frame(o, NGHTTP2_SETTINGS, 0, 0, NULL, 0);
}

struct seen {
    unsigned n, goaway, rst, headers, data_end;
    uint32_t goaway_code, rst_code;
    size_t data;
    bool settings_max_streams_100;
};

/* Parses what the server wrote (after its connection preface, i.e. from the start). */
static struct seen parse(const struct str *out)
{
    struct seen s = {0};
    const uint8_t *p = (const uint8_t *)out->ptr;
    size_t left = out->len;
    while (left >= 9) {
        size_t n = (size_t)p[0] << 16 | (size_t)p[1] << 8 | p[2];
        assert_true(left >= 9 + n);
        uint8_t type = p[3], flags = p[4];
        const uint8_t *pl = p + 9;
        s.n++;
        if (type == NGHTTP2_GOAWAY) {
            s.goaway++;
            s.goaway_code = (uint32_t)pl[4] << 24 | (uint32_t)pl[5] << 16 | pl[6] << 8 | pl[7];
        } else if (type == NGHTTP2_RST_STREAM) {
            s.rst++;
            s.rst_code = (uint32_t)pl[0] << 24 | (uint32_t)pl[1] << 16 | pl[2] << 8 | pl[3];
        } else if (type == NGHTTP2_HEADERS) {
            s.headers++;
        } else if (type == NGHTTP2_DATA) {
            s.data += n;
            s.data_end += (flags & NGHTTP2_FLAG_END_STREAM) != 0;
        } else if (type == NGHTTP2_SETTINGS && !(flags & NGHTTP2_FLAG_ACK)) {
            for (size_t i = 0; i + 6 <= n; i += 6)
                if ((pl[i] << 8 | pl[i + 1]) == NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS)
                    s.settings_max_streams_100 =
                        ((uint32_t)pl[i + 2] << 24 | (uint32_t)pl[i + 3] << 16 |
                         pl[i + 4] << 8 | pl[i + 5]) == 100;
        }
        p += 9 + n;
        left -= 9 + n;
    }
    return s;
}

static void feed(struct fake *f, const struct str *in)
{
    assert_int_equal(http2_session_feed(f->s, in->ptr, in->len), in->len);
}

/* ---- tests over raw frames ---- */

static void test_settings_and_get(void **state)
{
    struct fake f;
    fake_init(&f);
    struct str in = STR_INIT;
    start(&in);
    uint8_t b[512];
    size_t n = block(b, sizeof b, "GET", "/hello?x=1", "accept", "*/*", NULL);
    frame(&in, NGHTTP2_HEADERS, NGHTTP2_FLAG_END_HEADERS | NGHTTP2_FLAG_END_STREAM, 1, b, n);
    feed(&f, &in);
    assert_int_equal(f.nrequests, 1);
    assert_string_equal(f.last_path, "/hello");
    assert_int_equal(f.nheaders, 1);
    struct seen s = parse(&f.out);
    assert_true(s.settings_max_streams_100);
    assert_int_equal(s.headers, 1);
    assert_int_equal(s.data, 5);
    assert_int_equal(s.data_end, 1);
    assert_int_equal(f.ndone, 1);
    assert_false(http2_session_closing(f.s));
    str_clear(&in);
    fake_clear(&f);
}

/* One header block in a HEADERS frame and four CONTINUATION frames, fed first one frame per
 * read, then one octet per read (a client whose writes the network cuts into small
 * segments). Debian 12's libnghttp2 1.52 counts a CONTINUATION towards max_continuations
 * once per read that ends inside its 9-octet frame header: octet by octet, these four would
 * count 36 times (over the limit of 8) and earn a false GOAWAY, had the engine not handed
 * nghttp2 only pieces that end outside frame headers. */
static void test_continuation(void **state)
{
    uint8_t b[512];
    size_t n = block(b, sizeof b, "GET", "/cont", "x-one", "1111111111", "x-two", "2222222222",
                     "x-three", "3333333333", NULL);
    size_t cut[6];
    for (int i = 0; i < 6; i++)
        cut[i] = n * (size_t)i / 5;
    for (int octets = 0; octets < 2; octets++) {
        struct fake f;
        fake_init(&f);
        struct str in = STR_INIT;
        start(&in);
        size_t bounds[8] = {0, in.len};
        for (int i = 0; i < 5; i++) {
            frame(&in, i ? NGHTTP2_CONTINUATION : NGHTTP2_HEADERS,
                  (i ? 0 : NGHTTP2_FLAG_END_STREAM) | (i == 4 ? NGHTTP2_FLAG_END_HEADERS : 0), 1,
                  b + cut[i], cut[i + 1] - cut[i]);
            bounds[i + 2] = in.len;
        }
        if (octets) {
            for (size_t i = 0; i < in.len; i++)
                http2_session_feed(f.s, in.ptr + i, 1);
        } else {
            for (int i = 0; i + 1 < 7; i++)
                http2_session_feed(f.s, in.ptr + bounds[i], bounds[i + 1] - bounds[i]);
        }
        assert_false(http2_session_closing(f.s));
        assert_int_equal(parse(&f.out).goaway, 0);
        assert_int_equal(f.nrequests, 1);
        assert_string_equal(f.last_path, "/cont");
        assert_int_equal(f.nheaders, 3);
        str_clear(&in);
        fake_clear(&f);
    }
}

/* More than 8 CONTINUATION frames for one header block: GOAWAY ENHANCE_YOUR_CALM, closed,
 * the stream never reaches a handler. */
static void test_continuation_flood(void **state)
{
    struct fake f;
    fake_init(&f);
    struct str in = STR_INIT;
    start(&in);
    uint8_t b[512];
    size_t n = block(b, sizeof b, "GET", "/", NULL);
    frame(&in, NGHTTP2_HEADERS, NGHTTP2_FLAG_END_STREAM, 1, b, n);
    static const uint8_t field[] = {0x00, 0x03, 'x', '-', 'a', 0x01, 'b'}; /* literal x-a: b */
    for (int i = 0; i < 20; i++)
        frame(&in, NGHTTP2_CONTINUATION, 0, 1, field, sizeof field);
    feed(&f, &in);
    struct seen s = parse(&f.out);
    assert_int_equal(s.goaway, 1);
    assert_int_equal(s.goaway_code, NGHTTP2_ENHANCE_YOUR_CALM);
    assert_int_equal(f.nrequests, 0);
    assert_true(http2_session_closing(f.s));
    /* Input after the GOAWAY is ignored, not parsed. */
    feed(&f, &in);
    assert_int_equal(f.nrequests, 0);
    str_clear(&in);
    fake_clear(&f);
}

/* HEADERS + RST_STREAM, over and over (Rapid Reset): GOAWAY once past the token bucket (200
 * resets), no stream handed out after it, and the connection done once the handlers of the
 * streams already handed out have answered (their late answers are dropped safely). */
static void test_rst_flood(void **state)
{
    struct fake f;
    fake_init(&f);
    f.async = true; /* a slow handler: every stream is reset while with it */
    struct str in = STR_INIT;
    start(&in);
    uint8_t b[512];
    size_t n = block(b, sizeof b, "GET", "/", NULL);
    static const uint8_t cancel[4] = {0, 0, 0, NGHTTP2_CANCEL};
    for (uint32_t id = 1; id < 2 * 1000; id += 2) {
        frame(&in, NGHTTP2_HEADERS, NGHTTP2_FLAG_END_HEADERS | NGHTTP2_FLAG_END_STREAM, id, b, n);
        frame(&in, NGHTTP2_RST_STREAM, 0, id, cancel, 4);
    }
    feed(&f, &in);
    struct seen s = parse(&f.out);
    assert_int_equal(s.goaway, 1);
    assert_true(s.goaway_code == NGHTTP2_INTERNAL_ERROR ||
                s.goaway_code == NGHTTP2_ENHANCE_YOUR_CALM);
    assert_true(f.nrequests > 100 && f.nrequests < 400); /* of 1000, in one read */
    for (unsigned i = 0; i < f.nheld; i++)
        answer(&f, f.held[i]);
    assert_false(http2_session_busy(f.s));
    assert_true(http2_session_closing(f.s));
    str_clear(&in);
    fake_clear(&f);
}

/* 100 streams may be open at once. Before the client has acknowledged our SETTINGS, the
 * 101st is refused (RST_STREAM REFUSED_STREAM) and the others are answered; after it, nghttp2
 * treats the 101st as a connection error (GOAWAY PROTOCOL_ERROR). Either way no handler sees
 * more than 100. */
static void run_stream_limit(bool acked)
{
    struct fake f;
    fake_init(&f);
    f.async = true;
    struct str in = STR_INIT;
    start(&in);
    if (acked)
        frame(&in, NGHTTP2_SETTINGS, NGHTTP2_FLAG_ACK, 0, NULL, 0);
    uint8_t b[512];
    size_t n = block(b, sizeof b, "GET", "/", NULL);
    for (uint32_t id = 1; id <= 2 * 101 - 1; id += 2)
        frame(&in, NGHTTP2_HEADERS, NGHTTP2_FLAG_END_HEADERS | NGHTTP2_FLAG_END_STREAM, id, b, n);
    feed(&f, &in);
    assert_int_equal(f.nrequests, 100);
    assert_true(http2_session_busy(f.s));
    struct seen s = parse(&f.out);
    if (acked) {
        assert_int_equal(s.goaway, 1);
        assert_int_equal(s.goaway_code, NGHTTP2_PROTOCOL_ERROR);
    } else {
        assert_int_equal(s.rst, 1);
        assert_int_equal(s.rst_code, NGHTTP2_REFUSED_STREAM);
        assert_int_equal(s.goaway, 0);
    }
    str_reset(&f.out);
    for (unsigned i = 0; i < f.nheld; i++)
        answer(&f, f.held[i]);
    assert_false(http2_session_busy(f.s));
    s = parse(&f.out);
    assert_int_equal(s.headers, acked ? 0 : 100);
    str_clear(&in);
    fake_clear(&f);
}

static void test_stream_limit(void **state)
{
    run_stream_limit(false);
    run_stream_limit(true);
}

/* A header list over max_head: the stream is reset, the connection lives on. */
static void test_header_list_limit(void **state)
{
    struct fake f;
    fake_init(&f);
    struct str in = STR_INIT;
    start(&in);
    char big[1500];
    memset(big, 'v', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    uint8_t b[4096];
    size_t n = block(b, sizeof b, "GET", "/", "x-big", big, "x-big2", big, NULL);
    frame(&in, NGHTTP2_HEADERS, NGHTTP2_FLAG_END_HEADERS | NGHTTP2_FLAG_END_STREAM, 1, b, n);
    n = block(b, sizeof b, "GET", "/after", NULL);
    frame(&in, NGHTTP2_HEADERS, NGHTTP2_FLAG_END_HEADERS | NGHTTP2_FLAG_END_STREAM, 3, b, n);
    feed(&f, &in);
    assert_int_equal(f.nrequests, 1);
    assert_string_equal(f.last_path, "/after");
    struct seen s = parse(&f.out);
    assert_true(s.rst >= 1 || s.headers == 2); /* reset, or answered 431 by nghttp2 */
    assert_int_equal(s.goaway, 0);
    str_clear(&in);
    fake_clear(&f);
}

/* A request body in DATA frames reaches the handler whole; one over max_body gets 413. */
static void test_request_body(void **state)
{
    struct fake f;
    fake_init(&f);
    struct str in = STR_INIT;
    start(&in);
    uint8_t b[512];
    size_t n = block(b, sizeof b, "PUT", "/up", "content-type", "text/plain", NULL);
    frame(&in, NGHTTP2_HEADERS, NGHTTP2_FLAG_END_HEADERS, 1, b, n);
    frame(&in, NGHTTP2_DATA, 0, 1, "hello ", 6);
    frame(&in, NGHTTP2_DATA, NGHTTP2_FLAG_END_STREAM, 1, "world", 5);
    feed(&f, &in);
    assert_int_equal(f.nrequests, 1);
    assert_int_equal(f.last_body_len, 11);
    assert_string_equal(f.last_body, "hello world");
    str_reset(&in);
    str_reset(&f.out);
    frame(&in, NGHTTP2_HEADERS, NGHTTP2_FLAG_END_HEADERS, 3, b, n);
    char chunk[600];
    memset(chunk, 'z', sizeof chunk);
    frame(&in, NGHTTP2_DATA, 0, 3, chunk, sizeof chunk);
    frame(&in, NGHTTP2_DATA, NGHTTP2_FLAG_END_STREAM, 3, chunk, sizeof chunk);
    feed(&f, &in);
    assert_int_equal(f.nrequests, 1); /* never handed out */
    assert_int_equal(f.last_status, 413);
    str_clear(&in);
    fake_clear(&f);
}

/* A streamed request body: the request is handed out at the end of its header block; DATA
 * that arrives before the handler asks is held, then handed over, the rest as it comes;
 * end once. A stream reset by the client while the body arrives gives abort. */
static void test_streamed_request_body(void **state)
{
    struct fake f;
    fake_init(&f);
    f.async = true;
    f.stream_in = true;
    struct http_body_target r = reader;
    r.arg = &f;
    struct str in = STR_INIT;
    start(&in);
    uint8_t b[512];
    size_t n = block(b, sizeof b, "PUT", "/up", "content-length", "1500", NULL);
    frame(&in, NGHTTP2_HEADERS, NGHTTP2_FLAG_END_HEADERS, 1, b, n);
    char chunk[500];
    memset(chunk, 'a', sizeof chunk);
    frame(&in, NGHTTP2_DATA, 0, 1, chunk, sizeof chunk);
    feed(&f, &in);
    assert_int_equal(f.nrequests, 1); /* before its body */
    assert_int_equal(f.last_body_len, 0);
    assert_true(http2_session_busy(f.s)); /* the handler has not asked yet: input waits */
    http2_session_read_body(f.s, f.held[0], &r);
    assert_int_equal(f.got.len, 500);
    assert_false(http2_session_busy(f.s)); /* reading: its DATA must keep coming */
    str_reset(&in);
    memset(chunk, 'b', sizeof chunk);
    frame(&in, NGHTTP2_DATA, 0, 1, chunk, sizeof chunk); /* over max_body (1000) is fine: */
    frame(&in, NGHTTP2_DATA, NGHTTP2_FLAG_END_STREAM, 1, chunk, sizeof chunk);
    feed(&f, &in);
    /* ... max_body is 1000 here, so the third piece resets the stream: */
    assert_int_equal(f.got.len, 1000);
    assert_int_equal(f.aborts, 1);
    assert_int_equal(f.ends, 0);
    assert_false(http2_session_busy(f.s)); /* after abort the handler never answers */
    str_clear(&in);
    fake_clear(&f);

    fake_init(&f);
    f.async = true;
    f.stream_in = true;
    r.arg = &f;
    start(&in);
    n = block(b, sizeof b, "PUT", "/up", "content-length", "600", NULL);
    frame(&in, NGHTTP2_HEADERS, NGHTTP2_FLAG_END_HEADERS, 1, b, n);
    frame(&in, NGHTTP2_DATA, 0, 1, chunk, 300);
    frame(&in, NGHTTP2_DATA, NGHTTP2_FLAG_END_STREAM, 1, chunk, 300);
    feed(&f, &in);
    assert_int_equal(f.nrequests, 1);
    http2_session_read_body(f.s, f.held[0], &r); /* everything held: data, then end at once */
    assert_int_equal(f.got.len, 600);
    assert_int_equal(f.ends, 1);
    answer(&f, f.held[0]);
    assert_false(http2_session_busy(f.s));
    struct seen s = parse(&f.out);
    assert_int_equal(s.headers, 1);
    str_clear(&in);
    fake_clear(&f);

    /* Fewer octets than Content-Length announced, then END_STREAM: nghttp2 resets the
     * stream (RFC 9113 §8.1.1), and the reader gets abort, never end. */
    fake_init(&f);
    f.async = true;
    f.stream_in = true;
    r.arg = &f;
    start(&in);
    n = block(b, sizeof b, "PUT", "/up", "content-length", "900", NULL);
    frame(&in, NGHTTP2_HEADERS, NGHTTP2_FLAG_END_HEADERS, 1, b, n);
    feed(&f, &in);
    http2_session_read_body(f.s, f.held[0], &r);
    str_reset(&in);
    frame(&in, NGHTTP2_DATA, NGHTTP2_FLAG_END_STREAM, 1, chunk, 300);
    feed(&f, &in);
    assert_int_equal(f.ends, 0);
    assert_int_equal(f.aborts, 1);
    assert_false(http2_session_busy(f.s));
    str_clear(&in);
    fake_clear(&f);
}

/* ---- tests with an nghttp2 client (flow control) ---- */

struct client {
    nghttp2_session *ng;
    size_t data;
    int status;
    bool closed;
    uint32_t close_code;
};

static int c_data(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *p, size_t n,
                  void *u)
{
    ((struct client *)u)->data += n;
    return 0;
}

static int c_header(nghttp2_session *ng, const nghttp2_frame *fr, const uint8_t *name, size_t nl,
                    const uint8_t *value, size_t vl, uint8_t flags, void *u)
{
    if (nl == 7 && !memcmp(name, ":status", 7))
        ((struct client *)u)->status = atoi((const char *)value);
    return 0;
}

static int c_close(nghttp2_session *ng, int32_t id, uint32_t code, void *u)
{
    struct client *c = u;
    c->closed = true;
    c->close_code = code;
    return 0;
}

static void client_init(struct client *c)
{
    memset(c, 0, sizeof *c);
    nghttp2_session_callbacks *cb;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, c_data);
    nghttp2_session_callbacks_set_on_header_callback(cb, c_header);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, c_close);
    nghttp2_session_client_new(&c->ng, cb, c);
    nghttp2_session_callbacks_del(cb);
    nghttp2_submit_settings(c->ng, NGHTTP2_FLAG_NONE, NULL, 0); /* default 65535 window */
    nghttp2_nv nv[] = {
        {(uint8_t *)":method", (uint8_t *)"GET", 7, 3, 0},
        {(uint8_t *)":scheme", (uint8_t *)"https", 7, 5, 0},
        {(uint8_t *)":path", (uint8_t *)"/big", 5, 4, 0},
        {(uint8_t *)":authority", (uint8_t *)"a.test", 10, 6, 0},
    };
    assert_int_equal(nghttp2_submit_request(c->ng, NULL, nv, 4, NULL, NULL), 1);
}

/* Client → server; returns the octets sent. */
static size_t to_server(struct client *c, struct fake *f)
{
    size_t total = 0;
    const uint8_t *p;
    ssize_t n;
    while ((n = nghttp2_session_mem_send(c->ng, &p)) > 0) {
        http2_session_feed(f->s, (const char *)p, (size_t)n);
        total += (size_t)n;
    }
    return total;
}

static void to_client(struct client *c, struct fake *f)
{
    assert_int_equal(nghttp2_session_mem_recv(c->ng, (const uint8_t *)f->out.ptr, f->out.len),
                     (ssize_t)f->out.len);
    str_reset(&f->out);
}

enum body_kind { BODY_MEMORY, BODY_STREAMED, BODY_FILE };

/* A file of n octets of 'z' (unlinked; the caller closes it). */
static int temp_file(size_t n)
{
    char path[] = "/tmp/test_http_h2.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    char *b = malloc(n);
    memset(b, 'z', n);
    assert_int_equal(write(fd, b, n), (ssize_t)n);
    free(b);
    return fd;
}

/* 300,000 octets against a 65,535-octet window: the server sends no more than the window
 * until the client's WINDOW_UPDATEs, and the whole body arrives after them. Memory, file
 * and streamed (body source) bodies alike; memory and file bodies with nghttp2 copying
 * (copy) or written into the output in place.
 * shrink_to (a file body): the file is cut to that many octets once the first window's
 * worth was sent. A DATA frame then cannot be filled, so its stream is reset
 * (INTERNAL_ERROR) — and what went out is whole frames, no header without its data (parse
 * checks every frame's length). */
static void run_big(enum body_kind kind, bool copy, size_t shrink_to)
{
    struct fake f;
    fake_init_with(&f, copy ? &ops_copy : &ops);
    f.body_size = 300000;
    f.stream_body = kind == BODY_STREAMED;
    if (kind == BODY_FILE)
        f.file_fd = temp_file(f.body_size);
    struct client c;
    client_init(&c);
    to_server(&c, &f);
    assert_int_equal(f.nrequests, 1);
    struct seen s = parse(&f.out);
    assert_true(s.data <= 65535);
    assert_true(s.data > 0);
    if (shrink_to)
        assert_int_equal(ftruncate(f.file_fd, (off_t)shrink_to), 0);
    to_client(&c, &f);
    for (int rounds = 0; !c.closed && rounds < 100; rounds++) {
        if (to_server(&c, &f) == 0)
            break;
        parse(&f.out);
        to_client(&c, &f);
    }
    assert_true(c.closed);
    assert_int_equal(c.status, 200);
    if (shrink_to) {
        assert_int_equal(c.close_code, NGHTTP2_INTERNAL_ERROR);
        assert_true(c.data <= shrink_to); /* whole frames of what the file still had */
    } else {
        assert_int_equal(c.close_code, NGHTTP2_NO_ERROR);
        assert_int_equal(c.data, 300000);
    }
    assert_int_equal(f.ndone, 1);
    nghttp2_session_del(c.ng);
    if (f.file_fd >= 0)
        close(f.file_fd);
    fake_clear(&f);
}

static void test_flow_control(void **state)
{
    run_big(BODY_MEMORY, false, 0);
    run_big(BODY_MEMORY, true, 0);
}

static void test_flow_control_streamed(void **state)
{
    run_big(BODY_STREAMED, false, 0);
}

static void test_flow_control_file(void **state)
{
    run_big(BODY_FILE, false, 0);
    run_big(BODY_FILE, true, 0);
}

static void test_file_shrinks(void **state)
{
    run_big(BODY_FILE, false, 70000); /* within the second window */
    run_big(BODY_FILE, true, 70000);
}

/* A client that opens its windows wide (2^31-1) and does not read: the server's output stays
 * near H2_SEND_HIGH_WATER (256 KiB) — one mem_send must not write every DATA frame the
 * windows allow. 8 MiB of memory body and of a file, with and without the copy. */
static void run_wide_window(enum body_kind kind, bool copy)
{
    struct fake f;
    fake_init_with(&f, copy ? &ops_copy : &ops);
    f.body_size = 8u << 20;
    if (kind == BODY_FILE)
        f.file_fd = temp_file(f.body_size);
    struct client c;
    client_init(&c);
    nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 0x7fffffff}};
    nghttp2_submit_settings(c.ng, NGHTTP2_FLAG_NONE, iv, 1);
    nghttp2_session_set_local_window_size(c.ng, NGHTTP2_FLAG_NONE, 0, 0x7fffffff);
    size_t most = 0;
    for (int round = 0; !c.closed && round < 1000; round++) {
        to_server(&c, &f);
        http2_session_writable(f.s); /* the output drained (conn: the write callback) */
        most = f.out.len > most ? f.out.len : most;
        to_client(&c, &f); /* what was written, read */
    }
    assert_true(c.closed);
    assert_int_equal(c.close_code, NGHTTP2_NO_ERROR);
    assert_int_equal(c.data, 8u << 20); /* all of it, once the output drains */
    if (most > 256 * 1024 + 2 * (16384 + 9) + 1024)
        fail_msg("wide window (%s, %s): %zu octets buffered at once",
                 kind == BODY_FILE ? "file" : "memory", copy ? "copy" : "in place", most);
    nghttp2_session_del(c.ng);
    if (f.file_fd >= 0)
        close(f.file_fd);
    fake_clear(&f);
}

static void test_wide_window_bounded(void **state)
{
    run_wide_window(BODY_MEMORY, true);
    run_wide_window(BODY_FILE, true);
    run_wide_window(BODY_MEMORY, false);
    run_wide_window(BODY_FILE, false);
}

/* Garbage instead of the connection preface: GOAWAY PROTOCOL_ERROR and closing. */
static void test_bad_preface(void **state)
{
    struct fake f;
    fake_init(&f);
    const char junk[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    http2_session_feed(f.s, junk, sizeof junk - 1);
    assert_true(http2_session_closing(f.s));
    assert_int_equal(f.nrequests, 0);
    fake_clear(&f);
}

/* Server shutdown: GOAWAY NO_ERROR, the stream in progress still answered. */
static void test_shutdown_finishes_streams(void **state)
{
    struct fake f;
    fake_init(&f);
    f.async = true;
    struct str in = STR_INIT;
    start(&in);
    uint8_t b[512];
    size_t n = block(b, sizeof b, "GET", "/", NULL);
    frame(&in, NGHTTP2_HEADERS, NGHTTP2_FLAG_END_HEADERS | NGHTTP2_FLAG_END_STREAM, 1, b, n);
    feed(&f, &in);
    http2_session_shutdown(f.s);
    struct seen s = parse(&f.out);
    assert_true(s.goaway >= 1);
    assert_int_equal(s.goaway_code, NGHTTP2_NO_ERROR);
    str_reset(&f.out);
    answer(&f, f.held[0]);
    s = parse(&f.out);
    assert_int_equal(s.headers, 1);
    assert_int_equal(s.data_end, 1);
    str_clear(&in);
    fake_clear(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_settings_and_get),
        cmocka_unit_test(test_continuation),
        cmocka_unit_test(test_continuation_flood),
        cmocka_unit_test(test_rst_flood),
        cmocka_unit_test(test_stream_limit),
        cmocka_unit_test(test_header_list_limit),
        cmocka_unit_test(test_request_body),
        cmocka_unit_test(test_streamed_request_body),
        cmocka_unit_test(test_flow_control),
        cmocka_unit_test(test_flow_control_streamed),
        cmocka_unit_test(test_flow_control_file),
        cmocka_unit_test(test_file_shrinks),
        cmocka_unit_test(test_wide_window_bounded),
        cmocka_unit_test(test_bad_preface),
        cmocka_unit_test(test_shutdown_finishes_streams),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
