/* http/session — see session.h: the HTTP/1.x connection engine. */
#include "http/session.h"

#include "http/chunked.h"

#include "core/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum state { ST_HEAD, ST_BODY, ST_HANDLER, ST_BODY_IN, ST_STREAM, ST_CLOSING };

#define STREAM_HIGH_WATER (256 * 1024) /* a streamed body is pulled while less is unsent */
#define STREAM_PIECE (32 * 1024)       /* octets pulled from a body source per chunk */
#define IN_KEEP 4096 /* an input buffer up to this size is kept between requests */

struct http_session {
    const struct http_session_ops *ops;
    void *io;
    struct http_limits lim;
    uint64_t max_buffered;     /* a body read whole: larger, 413 */
    bool tls;
    bool shutting_down;
    enum state state;
    struct str in;             /* the request being read (head, raw body) and what follows */
    size_t scanned;            /* http_head_find's position */
    size_t head_len;
    size_t body_end;           /* chunked: raw body octets consumed so far (from head_len) */
    struct http_request *req;  /* while a request is read or with the handler */
    struct http_request *spare; /* the last request's memory (3.3 KB), for the next one */
    const char *head_base;     /* in.ptr when req was parsed */
    struct http_chunked chunked;
    struct str body;           /* a decoded chunked body */
    uint64_t requests;
    struct http_date_cache own_date; /* the Date field, reused within its second ... */
    struct http_date_cache *date;    /* ... or the loop's (http_session_share_date) */
    /* ST_STREAM: the response whose body is being pulled from its source */
    struct http_response *out; /* (allocated only while streaming: idle connections stay small) */
    bool out_chunked, out_keep;
    bool out_waiting;          /* its source said HTTP_BODY_WAIT last time */
    uint64_t out_bytes;
    /* A request whose body is streamed to its handler (ST_BODY_IN while it arrives) */
    bool streamed, body_done;
    struct str head;           /* its head, copied: the request's slices point here */
    struct http_body_target reader;
    uint64_t stream_left;      /* Content-Length bodies: octets still to come */
};

struct http_session *http_session_new(const struct http_session_ops *ops, void *io,
                                      const struct http_limits *lim, bool tls)
{
    struct http_session *s = xcalloc(1, sizeof *s);
    s->ops = ops;
    s->io = io;
    s->lim = *lim;
    s->max_buffered = lim->max_body;
    s->tls = tls;
    s->date = &s->own_date;
    return s;
}

void http_session_share_date(struct http_session *s, struct http_date_cache *dc)
{
    s->date = dc;
}

void http_session_limit_buffered(struct http_session *s, uint64_t n)
{
    s->max_buffered = n < s->lim.max_body ? n : s->lim.max_body;
}

void http_session_free(struct http_session *s)
{
    if (!s)
        return;
    str_clear(&s->in);
    str_clear(&s->body);
    if (s->out) {
        http_response_clear(s->out);
        free(s->out);
    }
    if (s->state == ST_BODY_IN && s->reader.abort)
        s->reader.abort(s->reader.arg); /* the connection went while the body arrived */
    str_clear(&s->head);
    free(s->req);
    free(s->spare);
    free(s);
}

bool http_session_busy(const struct http_session *s)
{
    return s->state == ST_HANDLER;
}

bool http_session_closing(const struct http_session *s)
{
    return s->state == ST_CLOSING;
}

size_t http_session_pending_input(const struct http_session *s, const char **p_out)
{
    size_t used = !s->req ? 0
                  : s->req->chunked ? s->head_len + s->body_end
                                    : s->head_len + (size_t)s->req->content_length;
    *p_out = s->in.ptr ? s->in.ptr + used : "";
    return s->in.len > used ? s->in.len - used : 0;
}

bool http_session_reading_head(const struct http_session *s)
{
    return s->state == ST_HEAD;
}

bool http_session_streaming(const struct http_session *s)
{
    return s->state == ST_STREAM;
}

bool http_session_idle(const struct http_session *s)
{
    return s->state == ST_HEAD && s->in.len == 0 && !s->req && !s->out && !s->streamed &&
           !s->shutting_down;
}

void http_session_trim(struct http_session *s)
{
    free(s->spare);
    s->spare = NULL;
    if (s->in.len == 0)
        str_clear(&s->in);
}

uint64_t http_session_requests(const struct http_session *s)
{
    return s->requests;
}

/* ---- output ---- */

/* Writes the decimal digits of v at o (no printf: a head is written per response); returns
 * the end. */
static char *put_decimal(char *o, uint64_t v)
{
    char b[24];
    size_t i = sizeof b;
    do
        b[--i] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    memcpy(o, b + i, sizeof b - i);
    return o + (sizeof b - i);
}

static char *put(char *o, const char *p, size_t n)
{
    memcpy(o, p, n);
    return o + n;
}

#define PUT_LIT(o, lit) put((o), (lit), sizeof(lit) - 1)
#define HEAD_FIXED 192 /* a head's octets besides its reason, Date and the handler's fields */

/*
 * len is the body's length, or UINT64_MAX for a streamed body (chunked on HTTP/1.1, ended
 * by closing the connection on HTTP/1.0). body (or NULL) is a small body written in the same
 * piece as the head. The head is put together on the stack when it fits (no allocation per
 * response) and written with one call.
 */
static void write_head(struct http_session *s, const struct http_response *r, int version,
                       bool keep_alive, uint64_t len, bool head_only, const struct slice *body)
{
    const char *date = http_date_cached(s->date, s->ops->now(s->io));
    const char *reason = http_status_reason(r->status);
    size_t rlen = strlen(reason), dlen = strlen(date);
    size_t bound = HEAD_FIXED + rlen + dlen + r->fields.len + (body ? body->len : 0);
    char stack[4096];
    char *buf = bound <= sizeof stack ? stack : xmalloc(bound);
    char *o = PUT_LIT(buf, "HTTP/1.1 ");
    o = put_decimal(o, (uint64_t)r->status);
    *o++ = ' ';
    o = put(o, reason, rlen);
    o = PUT_LIT(o, "\r\nDate: ");
    o = put(o, date, dlen);
    o = PUT_LIT(o, "\r\nServer: Pigeon\r\n");
    if (r->fields.len)
        o = put(o, r->fields.ptr, r->fields.len);
    if (len == UINT64_MAX) {
        /* RFC 9112 §6.1: chunked only to an HTTP/1.1 client; for HEAD the length is what
         * the encoder would produce, unknown, so neither field is sent (RFC 9110 §9.3.2). */
        if (version >= 11 && !head_only)
            o = PUT_LIT(o, "Transfer-Encoding: chunked\r\n");
    } else if (!http_status_bodyless(r->status)) {
        o = PUT_LIT(o, "Content-Length: ");
        o = put_decimal(o, len);
        o = PUT_LIT(o, "\r\n");
    }
    if (!keep_alive)
        o = PUT_LIT(o, "Connection: close\r\n");
    else if (version == 10)
        o = PUT_LIT(o, "Connection: keep-alive\r\n");
    o = PUT_LIT(o, "\r\n");
    if (body)
        o = put(o, body->p, body->len);
    s->ops->write(s->io, buf, (size_t)(o - buf));
    if (buf != stack)
        free(buf);
}

static void write_body(struct http_session *s, const struct http_response *r)
{
    for (unsigned i = 0; i < r->nseg; i++) {
        const struct http_seg *g = &r->seg[i];
        if (g->file)
            s->ops->write_file(s->io, r->fd, g->off, g->len);
        else
            s->ops->write(s->io, r->mem.ptr + g->off, (size_t)g->len);
    }
}

/* The request is done with; from a connection's second request on, its memory serves the
 * next one. (A connection that makes one request and rests keeps nothing: 10,000 such
 * connections holding 3.3 KB each until they park left glibc's heap fragmented, idle memory
 * 320 → 1,390 B per connection.) */
static void release_req(struct http_session *s)
{
    if (!s->spare && s->requests > 1)
        s->spare = s->req;
    else
        free(s->req);
    s->req = NULL;
}

/* Drops the finished request's octets and gets ready for the next one. */
static void next_request(struct http_session *s)
{
    size_t used = s->streamed ? 0 /* head copied away, body taken as it came */
                  : s->req && s->req->chunked
                      ? s->head_len + s->body_end
                      : s->head_len + (s->req ? s->req->content_length : 0);
    s->streamed = s->body_done = false;
    str_clear(&s->head);
    str_consume(&s->in, used < s->in.len ? used : s->in.len);
    if (s->in.len == 0 && (s->in.cap > IN_KEEP || s->requests < 2))
        str_clear(&s->in); /* (a parked connection frees the whole session) */
    release_req(s);
    str_clear(&s->body);
    s->scanned = s->head_len = s->body_end = 0;
    s->state = ST_HEAD;
}

/* The end of a response: log it, then read the next request or close. */
static void finish(struct http_session *s, int status, uint64_t bytes, bool keep)
{
    s->requests++;
    s->ops->done(s->io, s->req, status, bytes);
    if (keep)
        next_request(s);
    else
        s->state = ST_CLOSING;
}

static void out_free(struct http_session *s)
{
    http_response_clear(s->out);
    free(s->out);
    s->out = NULL;
}

/* Pulls the streamed body while the transport's output is below the high water. */
static void stream_pump(struct http_session *s)
{
    char buf[STREAM_PIECE];
    while (s->state == ST_STREAM &&
           (!s->ops->pending || s->ops->pending(s->io) < STREAM_HIGH_WATER)) {
        ssize_t n = s->out->src.read(s->out->src.arg, buf, sizeof buf);
        s->out_waiting = n == HTTP_BODY_WAIT;
        if (s->out_waiting)
            return; /* the source's wake pulls again */
        /* A sized source that runs over, or ends short, is cut like a failed one. */
        bool sized = s->out->src_sized;
        if (sized && n > 0 && (uint64_t)n > s->out->src_len - s->out_bytes)
            n = -1;
        if (sized && n == 0 && s->out_bytes != s->out->src_len)
            n = -1;
        if (n < 0) {
            /* No last chunk (or octets short of Content-Length), and the connection closes:
             * the client sees a cut body. */
            int status = s->out->status;
            out_free(s);
            return finish(s, status, s->out_bytes, false);
        }
        if (s->out_chunked) {
            char size[24];
            int m = snprintf(size, sizeof size, "%zx\r\n", (size_t)n);
            s->ops->write(s->io, n ? size : "0\r\n\r\n", n ? (size_t)m : 5);
        }
        if (n == 0) {
            int status = s->out->status;
            out_free(s);
            return finish(s, status, s->out_bytes, s->out_keep);
        }
        s->ops->write(s->io, buf, (size_t)n);
        if (s->out_chunked)
            s->ops->write(s->io, "\r\n", 2);
        s->out_bytes += (uint64_t)n;
    }
}

bool http_session_writable(struct http_session *s)
{
    if (s->state != ST_STREAM)
        return false;
    stream_pump(s);
    return s->state == ST_HEAD;
}

void http_session_respond(struct http_session *s, struct http_response *resp)
{
    struct http_request *req = s->req;
    int version = req ? req->version : 11;
    bool bodyless = http_status_bodyless(resp->status);
    bool head_only = bodyless || resp->no_body || (req && req->method == HTTP_HEAD);
    bool streamed = !bodyless && http_response_streamed(resp);
    /* A streamed body to an HTTP/1.0 client ends when the connection does. */
    /* A streamed request body not read to its end leaves the framing unknown: close. */
    bool unread = s->streamed && !s->body_done;
    if (s->state == ST_BODY_IN)
        s->state = ST_HANDLER; /* the reader gets nothing more */
    bool sized = streamed && resp->src_sized;
    bool keep = req && req->keep_alive && !resp->close && !s->shutting_down && !unread &&
                !(streamed && !sized && !head_only && version < 11);
    uint64_t len = sized      ? resp->src_len
                   : streamed ? UINT64_MAX
                   : bodyless ? 0
                              : http_response_length(resp);
    /* A small body in memory (a cached file, an error page) leaves with its head. */
    struct slice small = {0};
    bool with_head = !streamed && !head_only && resp->nseg == 1 && !resp->seg[0].file &&
                     resp->seg[0].len <= 2048;
    if (with_head)
        small = slice_make(resp->mem.ptr + resp->seg[0].off, (size_t)resp->seg[0].len);
    write_head(s, resp, version, keep, len, head_only, with_head ? &small : NULL);
    if (streamed && !head_only) {
        s->out = xmalloc(sizeof *s->out);
        http_response_move(s->out, resp);
        s->out_chunked = version >= 11 && !sized;
        s->out_keep = keep;
        s->out_bytes = 0;
        s->state = ST_STREAM;
        return stream_pump(s);
    }
    if (!head_only && !with_head)
        write_body(s, resp);
    int status = resp->status;
    http_response_clear(resp);
    finish(s, status, head_only ? 0 : len, keep);
}

/* A request that cannot be read on: answer status and close (the framing is lost). */
static void fail(struct http_session *s, int status, const char *why)
{
    struct http_response r;
    http_response_init(&r, status);
    http_response_error(&r, status, why);
    r.close = true;
    if (s->req && s->state == ST_HEAD) /* the head did not parse: describe no request */
        release_req(s);
    http_response_header(&r, "Cache-Control", "no-store");
    http_session_respond(s, &r);
}

/* ---- input ---- */

static void dispatch(struct http_session *s)
{
    struct http_request *req = s->req;
    if (s->head_base != s->in.ptr) {
        /* The buffer moved while the body arrived: point the slices at the head again. */
        const char *why;
        http_request_parse(s->in.ptr, s->head_len, &s->lim, req, &why);
    }
    if (req->chunked) {
        req->body = s->body.ptr;
        req->body_len = s->body.len;
    } else {
        req->body = s->in.ptr + s->head_len;
        req->body_len = (size_t)req->content_length;
    }
    req->tls = s->tls;
    s->state = ST_HANDLER;
    s->ops->request(s->io, req);
}

/* The request goes to its handler now; its body waits for http_session_read_body. The head
 * moves to a buffer of its own so that input arriving meanwhile cannot move it. */
static void start_streamed(struct http_session *s)
{
    str_append(&s->head, s->in.ptr, s->head_len);
    const char *why;
    http_request_parse(s->head.ptr, s->head_len, &s->lim, s->req, &why);
    str_consume(&s->in, s->head_len);
    s->head_len = 0;
    s->streamed = true;
    s->body_done = false;
    s->stream_left = s->req->chunked ? 0 : s->req->content_length;
    http_chunked_init(&s->chunked);
    s->req->body_streamed = true;
    s->req->tls = s->tls;
    s->state = ST_HANDLER;
    s->ops->request(s->io, s->req);
}

void http_session_read_body(struct http_session *s, const struct http_body_target *r)
{
    if (!s->streamed || s->body_done || s->state != ST_HANDLER)
        return;
    s->reader = *r;
    s->state = ST_BODY_IN;
    /* RFC 9110 §10.1.1: the client waits for 100 before sending the body. */
    if (s->req->expect_continue && s->in.len == 0) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        s->ops->write(s->io, cont, sizeof cont - 1);
    }
}

/* The body can never be completed: the reader lets go, the session answers and closes. */
static void stream_fail(struct http_session *s, int status, const char *why)
{
    s->state = ST_HANDLER;
    s->reader.abort(s->reader.arg);
    fail(s, status, why);
}

/* Hands the reader what has arrived of a streamed body. */
static void read_body_in(struct http_session *s)
{
    if (!s->req->chunked) {
        size_t take = s->in.len < s->stream_left ? s->in.len : (size_t)s->stream_left;
        if (take) {
            s->reader.data(s->reader.arg, s->in.ptr, take);
            if (s->state != ST_BODY_IN)
                return; /* answered from within: the rest is not read */
            str_consume(&s->in, take);
            s->stream_left -= take;
        }
    } else {
        size_t used;
        int rc = http_chunked_feed(&s->chunked, s->in.ptr, s->in.len, s->lim.max_body, &s->body,
                                   &used);
        str_consume(&s->in, used);
        if (rc < 0)
            return stream_fail(s, -rc, rc == -413 ? "The request body is too large."
                                                  : "The chunked request body is malformed.");
        if (s->body.len) {
            s->reader.data(s->reader.arg, s->body.ptr, s->body.len);
            if (s->state != ST_BODY_IN)
                return;
            str_reset(&s->body);
        }
        s->stream_left = rc == 1 ? 0 : 1;
    }
    if (s->stream_left == 0) {
        s->body_done = true;
        s->state = ST_HANDLER;
        s->reader.end(s->reader.arg);
    }
}

static void read_head(struct http_session *s)
{
    /* RFC 9112 §2.2: empty lines before a request line are ignored. */
    size_t skip = 0;
    while (s->scanned == 0 && skip + 1 < s->in.len && s->in.ptr[skip] == '\r' &&
           s->in.ptr[skip + 1] == '\n')
        skip += 2;
    if (skip)
        str_consume(&s->in, skip);
    long r = http_head_find(s->in.ptr, s->in.len, &s->scanned, &s->lim);
    if (r == 0)
        return;
    if (r < 0)
        return fail(s, (int)-r, r == -414 ? "The request line is too long."
                                : r == -431 ? "The request header is too large."
                                            : "The request is malformed.");
    s->head_len = (size_t)r;
    s->req = s->spare ? s->spare : xmalloc(sizeof *s->req);
    s->spare = NULL;
    const char *why;
    s->head_base = s->in.ptr;
    int st = http_request_parse(s->in.ptr, s->head_len, &s->lim, s->req, &why);
    if (st) {
        s->state = ST_HEAD;
        return fail(s, st, why);
    }
    if (!s->req->chunked && s->req->content_length == 0)
        return dispatch(s);
    if (s->ops->stream_body && s->ops->stream_body(s->io, s->req))
        return start_streamed(s);
    if (!s->req->chunked && s->req->content_length > s->max_buffered)
        return fail(s, 413, "The request body is too large.");
    s->state = ST_BODY;
    http_chunked_init(&s->chunked);
    /* RFC 9110 §10.1.1: the client waits for 100 before sending the body. */
    if (s->req->expect_continue && s->in.len == s->head_len) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        s->ops->write(s->io, cont, sizeof cont - 1);
    }
}

static void read_body(struct http_session *s)
{
    if (!s->req->chunked) {
        if (s->in.len - s->head_len >= s->req->content_length)
            dispatch(s);
        return;
    }
    size_t at = s->head_len + s->body_end, used;
    int rc = http_chunked_feed(&s->chunked, s->in.ptr + at, s->in.len - at,
                               s->max_buffered, &s->body, &used);
    s->body_end += used;
    if (rc < 0)
        return fail(s, -rc, rc == -413 ? "The request body is too large."
                                       : "The chunked request body is malformed.");
    /* The raw chunked octets are not needed again: keep only the head and what follows. */
    memmove(s->in.ptr + s->head_len, s->in.ptr + s->head_len + s->body_end,
            s->in.len - s->head_len - s->body_end);
    s->in.len -= s->body_end;
    s->body_end = 0;
    if (rc == 1)
        dispatch(s);
}

size_t http_session_feed(struct http_session *s, const char *p, size_t n)
{
    if (s->state == ST_HANDLER || s->state == ST_STREAM || s->state == ST_CLOSING)
        return 0;
    if (n)
        str_append(&s->in, p, n); /* (nothing new: no buffer for an idle connection) */
    for (;;) {
        enum state before = s->state;
        size_t len = s->in.len;
        if (s->state == ST_HEAD)
            read_head(s);
        else if (s->state == ST_BODY)
            read_body(s);
        else if (s->state == ST_BODY_IN)
            read_body_in(s);
        else
            break;
        if (s->state == before && s->in.len == len)
            break; /* needs more input */
    }
    return n;
}

void http_session_timeout(struct http_session *s)
{
    if (s->state == ST_BODY_IN)
        return stream_fail(s, 408, "The request body did not arrive in time.");
    if (s->state == ST_HANDLER || s->state == ST_STREAM || s->state == ST_CLOSING)
        return;
    if (s->in.len == 0 && s->state == ST_HEAD) {
        s->state = ST_CLOSING; /* an idle keep-alive connection: just close */
        return;
    }
    fail(s, 408, "The request did not arrive in time.");
}

void http_session_shutdown(struct http_session *s)
{
    s->shutting_down = true;
    if (s->state == ST_STREAM && s->out_waiting && s->out->open_ended) {
        /* A body waiting for data (an event stream) would hold the shutdown up: it ends
         * here, properly (the last chunk), and the connection closes. */
        if (s->out_chunked)
            s->ops->write(s->io, "0\r\n\r\n", 5);
        int status = s->out->status;
        out_free(s);
        return finish(s, status, s->out_bytes, false);
    }
    if (s->state == ST_HEAD && s->in.len == 0)
        s->state = ST_CLOSING;
}
