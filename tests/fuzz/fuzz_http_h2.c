/*
 * libFuzzer target for http/h2 (the HTTP/2 engine over libnghttp2): the input follows the
 * client connection preface and is fed in pieces (the first octet picks the piece size).
 * PUT bodies are streamed to a reader. Handlers answer at once with a memory body or a
 * streamed body, or hold every third request
 * and answer it after the input has ended (late answers, streams reset meanwhile). Checks
 * that a handed-out request is well formed (method, path, body bounds), that the engine
 * survives whatever frames arrive, and that nothing leaks or overflows.
 */
#include "http/h2.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define HELD_MAX 128

struct io {
    struct http2_session *s;
    size_t out;
    char *room;       /* what reserve handed out, until it is committed */
    size_t room_size;
    unsigned requests;
    void *held[HELD_MAX];
    unsigned nheld;
};

static void w(void *vio, const char *p, size_t n)
{
    ((struct io *)vio)->out += n;
}

/* Memory bodies go out through reserve/commit (DATA_FLAG_NO_COPY), as in pigeond. */
static char *reserve(void *vio, size_t n)
{
    struct io *io = vio;
    if (n > io->room_size) {
        free(io->room);
        io->room = malloc(n);
        io->room_size = n;
    }
    return io->room;
}

static void commit(void *vio, char *p, size_t n)
{
    struct io *io = vio;
    if (p != io->room || n > io->room_size)
        abort();
    io->out += n;
}

static size_t pending(void *vio)
{
    return 0;
}

static ssize_t src_read(void *arg, char *buf, size_t cap)
{
    size_t *left = arg;
    size_t n = *left < cap ? *left : cap;
    memset(buf, 'b', n);
    *left -= n;
    return (ssize_t)n;
}

static void answer(struct io *io, void *stream, unsigned kind)
{
    struct http_response r;
    http_response_init(&r, kind % 4 == 1 ? 304 : 200);
    http_response_header(&r, "X-Kind", "%u", kind);
    if (kind % 2) {
        size_t *left = malloc(sizeof *left);
        *left = 40000;
        http_response_stream(&r, (struct http_body_source){src_read, free, left});
    } else {
        http_response_body(&r, "hello", 5);
    }
    http2_session_respond(io->s, stream, &r);
}

static struct io *the_io; /* the readers' context (one session at a time) */

static void rd_data(void *arg, const char *p, size_t n)
{
    if (n && !p)
        abort();
}

static void rd_end(void *arg)
{
}

/* After abort the handler never answers: a held stream is forgotten. */
static void rd_abort(void *arg)
{
    for (unsigned i = 0; i < the_io->nheld; i++)
        if (the_io->held[i] == arg)
            the_io->held[i] = NULL;
}

static bool stream_body(void *vio, const struct http_request *req)
{
    return req->method == HTTP_PUT;
}

static void req_cb(void *vio, void *stream, struct http_request *req)
{
    struct io *io = vio;
    if (!req->method_name.len || !req->target.len || (req->body_len && !req->body))
        abort();
    if (req->path.p < req->target.p || req->path.p + req->path.len > req->target.p + req->target.len)
        abort();
    unsigned kind = io->requests++;
    if (kind % 3 == 2 && io->nheld < HELD_MAX) {
        io->held[io->nheld++] = stream;
        if (req->body_streamed) { /* read its body as it comes, answered at the end */
            struct http_body_target r = {rd_data, rd_end, rd_abort, stream};
            http2_session_read_body(io->s, stream, &r);
        }
        return;
    }
    answer(io, stream, kind); /* a streamed body not asked for: the rest is not read */
}

static time_t now(void *vio)
{
    return 0;
}

static void done(void *vio, const struct http_request *req, int status, uint64_t n)
{
    if (status < 100 || status > 599)
        abort();
}

static const struct http2_ops ops = {w, pending, req_cb, now, done, stream_body, reserve, commit};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    if (size < 1)
        return 0;
    size_t piece = (size_t)data[0] % 64 + 1;
    bool tls = data[0] & 0x80;
    data++;
    size--;
    struct http_limits lim = {.max_request_line = 2048, .max_head = 4096, .max_body = 4096};
    struct io io = {0};
    the_io = &io;
    io.s = http2_session_new(&ops, &io, &lim, tls);
    http2_session_feed(io.s, preface, sizeof preface - 1);
    for (size_t off = 0; off < size; off += piece)
        http2_session_feed(io.s, (const char *)data + off, size - off < piece ? size - off : piece);
    for (unsigned i = 0; i < io.nheld; i++)
        if (io.held[i])
            answer(&io, io.held[i], 0);
    http2_session_writable(io.s);
    http2_session_shutdown(io.s);
    http2_session_free(io.s);
    free(io.room);
    return 0;
}
