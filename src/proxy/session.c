/* proxy/session — see session.h: the client side of the proxy. */
#include "proxy/session.h"

#include "http/chunked.h"
#include "http/response.h"

#include "core/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum state { S_HEAD, S_BODY, S_WITH_GLUE, S_TUNNEL, S_CLOSED };

struct proxy_session {
    const struct proxy_session_ops *ops;
    void *io;
    struct http_limits lim;
    enum state state;
    struct str head; /* the head being read, then the request's head */
    size_t scanned;
    struct http_request req;
    struct str body;
    struct http_chunked chunked;
    bool close_after;
    /* the response in progress */
    bool head_sent, chunked_out, no_body;
    int status;
    uint64_t sent;
};

struct proxy_session *proxy_session_new(const struct proxy_session_ops *ops, void *io,
                                        const struct http_limits *lim)
{
    struct proxy_session *s = xcalloc(1, sizeof *s);
    s->ops = ops;
    s->io = io;
    s->lim = *lim;
    return s;
}

void proxy_session_free(struct proxy_session *s)
{
    if (!s)
        return;
    str_clear(&s->head);
    str_clear(&s->body);
    free(s);
}

static void fail(struct proxy_session *s, int status, const char *why)
{
    struct str page = STR_INIT;
    struct http_response r;
    http_response_init(&r, status);
    http_response_error(&r, status, why);
    str_appendf(&page, "HTTP/1.1 %d %s\r\n%sContent-Length: %llu\r\nConnection: close\r\n\r\n",
                status, http_status_reason(status), str_cstr(&r.fields),
                (unsigned long long)http_response_length(&r));
    str_append(&page, r.mem.ptr, r.mem.len);
    s->ops->write(s->io, page.ptr, page.len);
    s->ops->done(s->io, s->state == S_WITH_GLUE ? &s->req : NULL, status, r.mem.len);
    http_response_clear(&r);
    str_clear(&page);
    s->state = S_CLOSED;
}

static void to_glue(struct proxy_session *s)
{
    s->req.body = s->body.ptr;
    s->req.body_len = s->body.len;
    s->state = S_WITH_GLUE;
    s->head_sent = false;
    s->sent = 0;
    s->ops->request(s->io, &s->req);
}

static size_t feed_head(struct proxy_session *s, const char *p, size_t n)
{
    /* RFC 9112 §2.2: empty lines before a request are ignored. */
    size_t skip = 0;
    if (s->head.len == 0)
        while (skip < n && (p[skip] == '\r' || p[skip] == '\n'))
            skip++;
    size_t before = s->head.len;
    str_append(&s->head, p + skip, n - skip);
    long len = http_head_find(s->head.ptr ? s->head.ptr : "", s->head.len, &s->scanned, &s->lim);
    if (len < 0) {
        fail(s, (int)-len, "The request head is malformed or too large.");
        return n;
    }
    if (len == 0)
        return n;
    size_t used = skip + (size_t)len - before;
    s->head.len = (size_t)len; /* the rest is given back to the transport */
    const char *why;
    int st = http_request_parse(s->head.ptr, s->head.len, &s->lim, &s->req, &why);
    if (st) {
        fail(s, st, why);
        return n;
    }
    if (!s->req.keep_alive)
        s->close_after = true;
    str_reset(&s->body);
    http_chunked_init(&s->chunked);
    if (s->req.expect_continue && (s->req.chunked || s->req.content_length))
        s->ops->write(s->io, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    if (s->req.chunked || s->req.content_length)
        s->state = S_BODY;
    else
        to_glue(s);
    return used;
}

static size_t feed_body(struct proxy_session *s, const char *p, size_t n)
{
    if (s->req.chunked) {
        size_t used = 0;
        int rc = http_chunked_feed(&s->chunked, p, n, s->lim.max_body, &s->body, &used);
        if (rc < 0) {
            fail(s, -rc, "The chunked request body is malformed or too large.");
            return n;
        }
        if (rc == 1)
            to_glue(s);
        return used;
    }
    size_t want = (size_t)(s->req.content_length - s->body.len);
    size_t take = want < n ? want : n;
    str_append(&s->body, p, take);
    if (s->body.len == s->req.content_length)
        to_glue(s);
    return take;
}

size_t proxy_session_feed(struct proxy_session *s, const char *p, size_t n)
{
    size_t used = 0;
    while (used < n) {
        size_t u;
        switch (s->state) {
        case S_HEAD:
            u = feed_head(s, p + used, n - used);
            break;
        case S_BODY:
            u = feed_body(s, p + used, n - used);
            break;
        case S_TUNNEL:
            return used + s->ops->tunnel(s->io, p + used, n - used);
        case S_WITH_GLUE:
            return used;
        case S_CLOSED:
        default:
            return n;
        }
        used += u;
        if (u == 0)
            break;
    }
    return used;
}

void proxy_session_head(struct proxy_session *s, int status, struct slice fields, int64_t length)
{
    if (s->state != S_WITH_GLUE || s->head_sent)
        return;
    s->head_sent = true;
    s->status = status;
    s->no_body = s->req.method == HTTP_HEAD || http_status_bodyless(status);
    struct str h = STR_INIT;
    str_appendf(&h, "HTTP/1.1 %d %s\r\n", status, http_status_reason(status));
    str_append(&h, fields.p, fields.len);
    s->chunked_out = false;
    if (length >= 0 && !(http_status_bodyless(status)))
        str_appendf(&h, "Content-Length: %lld\r\n", (long long)length);
    else if (length < 0 && !s->no_body) {
        if (s->req.version >= 11) {
            s->chunked_out = true;
            str_appends(&h, "Transfer-Encoding: chunked\r\n");
        } else {
            s->close_after = true; /* HTTP/1.0: the end of the body is the close */
        }
    }
    if (s->close_after)
        str_appends(&h, "Connection: close\r\n");
    else if (s->req.version == 10)
        str_appends(&h, "Connection: keep-alive\r\n");
    str_appends(&h, "\r\n");
    s->ops->write(s->io, h.ptr, h.len);
    str_clear(&h);
}

void proxy_session_body(struct proxy_session *s, const char *p, size_t n)
{
    if (s->state != S_WITH_GLUE || !s->head_sent || s->no_body || n == 0)
        return;
    s->sent += n;
    if (s->chunked_out) {
        struct str c = STR_INIT;
        http_chunk_append(&c, p, n);
        s->ops->write(s->io, c.ptr, c.len);
        str_clear(&c);
        return;
    }
    s->ops->write(s->io, p, n);
}

void proxy_session_body_file(struct proxy_session *s, int fd, uint64_t off, uint64_t len)
{
    if (s->state != S_WITH_GLUE || !s->head_sent || s->no_body || len == 0)
        return;
    s->sent += len;
    if (s->chunked_out) {
        char line[32];
        int k = snprintf(line, sizeof line, "%llx\r\n", (unsigned long long)len);
        s->ops->write(s->io, line, (size_t)k);
        s->ops->write_file(s->io, fd, off, len);
        s->ops->write(s->io, "\r\n", 2);
        return;
    }
    s->ops->write_file(s->io, fd, off, len);
}

void proxy_session_end(struct proxy_session *s, bool complete)
{
    if (s->state != S_WITH_GLUE)
        return;
    if (s->chunked_out && complete)
        s->ops->write(s->io, "0\r\n\r\n", 5);
    s->ops->done(s->io, &s->req, s->status, s->sent);
    if (!complete || s->close_after) {
        s->state = S_CLOSED;
        return;
    }
    str_reset(&s->head);
    s->scanned = 0;
    s->state = S_HEAD;
}

void proxy_session_error(struct proxy_session *s, int status, const char *detail,
                         struct slice fields)
{
    if (s->state != S_WITH_GLUE || s->head_sent)
        return;
    struct http_response r;
    http_response_init(&r, status);
    http_response_error(&r, status, detail);
    str_append(&r.fields, fields.p, fields.len);
    proxy_session_head(s, status, slice_make(r.fields.ptr, r.fields.len),
                       (int64_t)http_response_length(&r));
    proxy_session_body(s, r.mem.ptr, r.mem.len);
    http_response_clear(&r);
    proxy_session_end(s, true);
}

void proxy_session_tunnel(struct proxy_session *s)
{
    if (s->state != S_WITH_GLUE)
        return;
    static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
    s->ops->write(s->io, ok, sizeof ok - 1);
    s->ops->done(s->io, &s->req, 200, 0);
    s->state = S_TUNNEL;
}

bool proxy_session_busy(const struct proxy_session *s)
{
    return s->state == S_WITH_GLUE;
}

bool proxy_session_closing(const struct proxy_session *s)
{
    return s->state == S_CLOSED;
}

bool proxy_session_tunneling(const struct proxy_session *s)
{
    return s->state == S_TUNNEL;
}

bool proxy_session_head_sent(const struct proxy_session *s)
{
    return s->head_sent;
}

void proxy_session_close(struct proxy_session *s)
{
    s->close_after = true;
    if (s->state == S_HEAD && s->head.len == 0)
        s->state = S_CLOSED;
    else if (s->state == S_TUNNEL)
        s->state = S_CLOSED;
}

void proxy_session_timeout(struct proxy_session *s)
{
    if ((s->state == S_HEAD && s->head.len) || s->state == S_BODY)
        fail(s, 408, "The request took too long to arrive.");
    else if (s->state != S_WITH_GLUE)
        s->state = S_CLOSED;
}
