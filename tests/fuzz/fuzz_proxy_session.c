/*
 * libFuzzer target for proxy/session (the forward and reverse proxy's client side) and
 * proxy/forward (the URL a request asks for, the cache key, the head sent to the origin):
 * the input is what a client sends, fed in pieces (the first octet picks the piece size and
 * whether the proxy is a reverse one). Each complete request is answered the way the glue
 * does: its URL worked out (an error response when it has none), the origin's request head
 * built, then a response of known or unknown length, cut short now and then, or a tunnel
 * after a CONNECT. Nothing written may follow the session's close, and a request handed out
 * must be well formed.
 */
#include "proxy/forward.h"
#include "proxy/session.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct io {
    struct proxy_session *s;
    bool reverse;
    unsigned requests;
    size_t out, tunneled;
};

static void w(void *vio, const char *p, size_t n)
{
    struct io *io = vio;
    if (n && !p)
        abort();
    io->out += n;
}

static void w_file(void *vio, int fd, uint64_t off, uint64_t len)
{
    ((struct io *)vio)->out += len;
}

static size_t tunnel(void *vio, const char *p, size_t n)
{
    ((struct io *)vio)->tunneled += n;
    return n;
}

static void done(void *vio, const struct http_request *req, int status, uint64_t bytes)
{
    if (status < 100 || status > 599)
        abort();
}

static void request(void *vio, struct http_request *req)
{
    struct io *io = vio;
    unsigned kind = io->requests++;
    if (!req->method_name.len || !req->target.len || (req->body_len && !req->body))
        abort();
    struct proxy_url origin = {0}, u;
    const char *why = NULL;
    if (proxy_url_parse_origin("http://origin.test:8080", &origin) != 0)
        abort();
    origin.configured = true; /* as site.c has it */
    if (proxy_url_of(req, io->reverse ? &origin : NULL, &u, &why) != 0) {
        if (!why)
            abort();
        return proxy_session_error(io->s, 400, why, slice_make("", 0));
    }
    struct str key = STR_INIT, head = STR_INIT;
    proxy_url_key(&u, &key);
    if (io->reverse && req->host.len) {
        struct proxy_url with;
        if (proxy_url_with_host(&origin, req->host, &with) == 0)
            proxy_url_key(&with, &key);
    }
    struct proxy_forward f = {.via = "1.1 pigeon", .client = kind % 2 ? "::1" : "192.0.2.1",
                              .tls = kind % 3 == 0, .extra = slice_make("", 0),
                              .drop_conditionals = kind % 2, .reverse = io->reverse,
                              .keep_host = kind % 4 == 1};
    proxy_request_head(req, &u, &f, &head);
    if (head.len < 4 || memcmp(head.ptr + head.len - 4, "\r\n\r\n", 4) != 0)
        abort();
    (void)proxy_max_forwards(req);
    str_clear(&key);
    str_clear(&head);
    if (req->method == HTTP_CONNECT)
        return proxy_session_tunnel(io->s);
    const char fields[] = "Content-Type: text/plain\r\n";
    bool known = kind % 2;
    proxy_session_head(io->s, kind % 5 == 4 ? 304 : 200, slice_make(fields, sizeof fields - 1),
                       known ? 10 : -1);
    proxy_session_body(io->s, "0123456789", 10);
    if (kind % 7 == 6)
        proxy_session_body_file(io->s, 0, 0, 100);
    proxy_session_end(io->s, kind % 11 != 10);
}

static const struct proxy_session_ops ops = {w, w_file, request, tunnel, done};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t piece = (size_t)data[0] % 64 + 1;
    struct io io = {.reverse = data[0] & 0x80};
    data++;
    size--;
    struct http_limits lim = {.max_request_line = 2048, .max_head = 4096, .max_body = 4096};
    io.s = proxy_session_new(&ops, &io, &lim);
    size_t off = 0;
    while (off < size && !proxy_session_closing(io.s)) {
        size_t n = size - off < piece ? size - off : piece;
        size_t used = proxy_session_feed(io.s, (const char *)data + off, n);
        if (used > n)
            abort();
        if (used == 0)
            break; /* a request with the glue (none here: each is answered at once) */
        off += used;
    }
    if (!proxy_session_closing(io.s))
        proxy_session_timeout(io.s);
    proxy_session_close(io.s);
    proxy_session_free(io.s);
    return 0;
}
