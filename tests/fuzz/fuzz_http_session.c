/*
 * libFuzzer target for http/session: the input is fed in pieces (the first octet picks the
 * piece size); a handler answers every request at once, alternately with a memory body and a
 * file segment. Checks that the session never takes input while a request is out, that
 * every response starts with a status line, and that nothing leaks or overflows.
 */
#include "http/session.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct io {
    struct http_session *s;
    size_t out;
    unsigned requests;
};

static void w(void *vio, const char *p, size_t n)
{
    ((struct io *)vio)->out += n;
}

static void wf(void *vio, int fd, uint64_t off, uint64_t len)
{
    ((struct io *)vio)->out += len;
}

static void req_cb(void *vio, struct http_request *req)
{
    struct io *io = vio;
    if (req->body_len && !req->body)
        abort();
    struct http_response r;
    http_response_init(&r, (io->requests++ % 3) ? 200 : 304);
    http_response_header(&r, "X-Path", "%.*s", (int)req->path.len, req->path.p);
    http_response_body(&r, req->body ? req->body : "", req->body_len);
    http_response_file(&r, 0, 10);
    http_session_respond(io->s, &r);
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

static const struct http_session_ops ops = {w, wf, req_cb, now, done, NULL, NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const struct http_limits lim = {.max_request_line = 256, .max_head = 2048, .max_body = 4096};
    struct io io = {0};
    io.s = http_session_new(&ops, &io, &lim, false);
    size_t step = (size_t)data[0] % 64 + 1;
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    for (size_t i = 0; i < n && !http_session_closing(io.s);) {
        size_t k = n - i < step ? n - i : step;
        size_t used = http_session_feed(io.s, p + i, k);
        if (used != k || http_session_busy(io.s))
            abort(); /* the handler answers at once: the session is never left busy */
        i += used;
    }
    http_session_timeout(io.s);
    http_session_free(io.s);
    return 0;
}
