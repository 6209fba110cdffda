/* http/h2 — see h2.h: HTTP/2 streams over libnghttp2, answered by the HTTP handlers. */
#include "http/h2.h"

#include "core/xmalloc.h"
#include "msg/base64.h"

#include <errno.h>
#include <stddef.h>
#include <nghttp2/nghttp2.h>
#include <sanitizer/asan_interface.h> /* no-op macros without -fsanitize=address */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define H2_MAX_STREAMS 100
#define H2_SEND_HIGH_WATER (256 * 1024)
#define H2_MAX_CONTINUATIONS 8
#define H2_RST_BURST 200 /* RST_STREAM frames a client may send at once ... */
#define H2_RST_RATE 33   /* ... and per second after that */
#define H2_SPARE 10      /* closed streams' memory (8 KB each) kept for the next ones */

struct field_off {
    size_t name, nlen, value, vlen;
};

struct h2_stream {
    struct http2_session *s;
    int32_t id;
    struct str fields;           /* every name and value received, back to back */
    unsigned nfields;
    size_t method, mlen, path, plen, authority, alen; /* pseudo-fields, in fields */
    bool has_method, has_path;
    size_t head_bytes;
    struct str body;
    struct http_response resp;
    unsigned seg;                /* the response segment being sent ... */
    uint64_t seg_off;            /* ... and how far into it */
    bool with_handler;
    bool gone;                   /* closed by the client while with a handler */
    bool answered;
    bool refused;                /* answered by the engine itself (limits) */
    bool log_at_close;           /* a streamed body: logged when the stream ends */
    bool deferred;               /* its body source said HTTP_BODY_WAIT (not woken yet) */
    bool streamed;               /* the request body goes to a reader (body_streamed) */
    bool reading, ended;         /* ... the handler asked for it; END_STREAM arrived */
    struct http_body_target reader;
    uint64_t sent;               /* body octets handed to nghttp2 */
    uint64_t total;              /* a body not streamed: its length */
    /* The values of the fields submit adds, kept until the HEADERS frame is sent (they are
     * given to nghttp2 without a copy): */
    char status[4], clen[24], date[32];
    uint64_t got;                /* streamed request body octets received */
    struct h2_stream *next;
    /* Last, and not cleared when a stream starts (6 KiB, filled in order): */
    struct field_off off[HTTP_MAX_HEADERS]; /* the first nfields */
    struct http_request req;     /* reset when the stream starts, headers filled by build */
};

struct http2_session {
    const struct http2_ops *ops;
    void *io;
    struct http_limits lim;
    uint64_t max_buffered;       /* a body read whole, or held before its handler asks */
    bool tls;
    nghttp2_session *ng;
    struct h2_stream *streams;
    struct h2_stream *spare;     /* closed streams' memory, linked by next (nspare of them) */
    unsigned nspare;
    unsigned with_handler;
    bool in_recv;                /* inside nghttp2_session_mem_recv: no sending from here */
    bool fatal;
    bool goaway_sent;            /* shutdown or timeout: the graceful GOAWAY is out */
    /* Frame boundaries, so that no piece of input handed to nghttp2 ends inside a 9-octet
     * frame header (see http2_session_feed): */
    size_t preface_left;         /* octets of the client's connection preface still to come */
    uint32_t frame_left;         /* payload octets of the current frame still to come */
    uint8_t hold[9];             /* the start of a frame header cut by the end of a read */
    size_t nhold;
    struct http_date_cache own_date, *date; /* see http2_session_share_date */
};

/* ---- streams ---- */

static struct h2_stream *stream_new(struct http2_session *s, int32_t id)
{
    struct h2_stream *st = s->spare;
    if (st) {
        ASAN_UNPOISON_MEMORY_REGION(st, sizeof *st);
        s->spare = st->next;
        s->nspare--;
    } else {
        st = xmalloc(sizeof *st);
    }
    memset(st, 0, offsetof(struct h2_stream, off));
    http_request_reset(&st->req);
    str_reserve(&st->fields, 256); /* one allocation for a usual header block */
    st->s = s;
    st->id = id;
    http_response_init(&st->resp, 0);
    st->next = s->streams;
    s->streams = st;
    nghttp2_session_set_stream_user_data(s->ng, id, st);
    return st;
}

/* A spare stream is as freed memory to ASan (a use after its stream ended is reported, not
 * mistaken for the next stream's), but for its link in the spare list. */
static void spare_poison(struct h2_stream *st)
{
    size_t link = offsetof(struct h2_stream, next), after = link + sizeof st->next;
    ASAN_POISON_MEMORY_REGION(st, link);
    ASAN_POISON_MEMORY_REGION((char *)st + after, sizeof *st - after);
}

static void stream_free(struct http2_session *s, struct h2_stream *st)
{
    if (st->reading && !st->ended)
        st->reader.abort(st->reader.arg); /* the session ends while the body arrives */
    if (st->log_at_close)
        s->ops->done(s->io, &st->req, st->resp.status, st->sent);
    for (struct h2_stream **pp = &s->streams; *pp; pp = &(*pp)->next)
        if (*pp == st) {
            *pp = st->next;
            break;
        }
    str_clear(&st->fields);
    str_clear(&st->body);
    http_response_clear(&st->resp);
    if (s->nspare < H2_SPARE) { /* the next stream's, without an 8 KB allocation */
        st->next = s->spare;
        s->spare = st;
        s->nspare++;
        spare_poison(st);
    } else {
        free(st);
    }
}

void http2_session_trim(struct http2_session *s)
{
    while (s->spare) {
        struct h2_stream *st = s->spare;
        ASAN_UNPOISON_MEMORY_REGION(st, sizeof *st);
        s->spare = st->next;
        free(st);
    }
    s->nspare = 0;
}

static struct slice at(const struct h2_stream *st, size_t off, size_t len)
{
    return slice_make(st->fields.ptr + off, len);
}

/* Builds the request's slices once the header block is complete (fields no longer grows). */
static int build_request(struct h2_stream *st, const char **why)
{
    struct http_request *q = &st->req;
    http_request_reset(q);
    if (!st->has_method || !st->has_path)
        return *why = "missing :method or :path", 400;
    /* Method and target are checked with the HTTP/1.1 request-line rules. */
    int rc = http_request_set_line(q, at(st, st->method, st->mlen), at(st, st->path, st->plen),
                                   why);
    if (rc)
        return rc;
    struct slice t = q->target;
    if (slice_eq(t, "*")) {
        q->path = t;
    } else {
        const char *qm = memchr(t.p, '?', t.len);
        q->path = slice_make(t.p, qm ? (size_t)(qm - t.p) : t.len);
        q->query = qm ? slice_make(qm + 1, t.len - q->path.len - 1) : slice_make(t.p, 0);
    }
    q->version = 20;
    q->keep_alive = true;
    for (unsigned i = 0; i < st->nfields; i++) {
        q->headers[i].name = at(st, st->off[i].name, st->off[i].nlen);
        q->headers[i].value = at(st, st->off[i].value, st->off[i].vlen);
    }
    q->nheaders = st->nfields;
    q->host = st->alen ? at(st, st->authority, st->alen) : slice_make("", 0);
    const struct slice *h = http_request_header(q, "host");
    if (!st->alen && h)
        q->host = *h;
    q->body = st->body.ptr;
    q->body_len = st->body.len;
    q->has_length = true;
    q->content_length = st->body.len;
    if (!st->ended) { /* a streamed body: only its announced length is known */
        const struct slice *cl = http_request_header(q, "content-length");
        unsigned long long v = 0;
        q->has_length = cl && slice_to_u64(*cl, UINT64_MAX, &v) == 0;
        q->content_length = q->has_length ? v : 0;
        q->body = NULL;
        q->body_len = 0;
    }
    q->tls = st->s->tls;
    return 0;
}

/* ---- sending ---- */

#define H2_FRAME_HEAD 9

/* The next octets of a body that is not streamed (memory and file segments) into buf: as
 * many as are left, up to len. Their count, or -1 when a file read fails or finds the file
 * shorter than its segment. */
static ssize_t copy_body(struct h2_stream *st, uint8_t *buf, size_t len)
{
    const struct http_response *r = &st->resp;
    size_t n = 0;
    while (n < len && st->seg < r->nseg) {
        const struct http_seg *g = &r->seg[st->seg];
        uint64_t left = g->len - st->seg_off;
        size_t take = left < len - n ? (size_t)left : len - n;
        if (g->file) {
            ssize_t got = pread(r->fd, buf + n, take, (off_t)(g->off + st->seg_off));
            if (got <= 0)
                return -1;
            take = (size_t)got;
        } else {
            memcpy(buf + n, r->mem.ptr + g->off + st->seg_off, take);
        }
        n += take;
        st->seg_off += take;
        if (st->seg_off == g->len) {
            st->seg++;
            st->seg_off = 0;
        }
    }
    return (ssize_t)n;
}

static ssize_t read_body(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t len,
                         uint32_t *flags, nghttp2_data_source *src, void *user)
{
    struct h2_stream *st = src->ptr;
    struct http_response *r = &st->resp;
    if (http_response_streamed(r)) {
        ssize_t got = r->src.read(r->src.arg, (char *)buf, len);
        if (got == HTTP_BODY_WAIT) {
            st->deferred = true; /* resumed by stream_wake; reset at shutdown */
            return NGHTTP2_ERR_DEFERRED;
        }
        /* A sized source that runs over its content-length, or ends short of it, is cut. */
        if (r->src_sized && got > 0 && (uint64_t)got > r->src_len - st->sent)
            got = -1;
        if (r->src_sized && got == 0 && st->sent != r->src_len)
            got = -1;
        if (got < 0)
            return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* cut: reset the stream */
        if (got == 0)
            *flags |= NGHTTP2_DATA_FLAG_EOF;
        st->sent += (uint64_t)got;
        return got;
    }
    if (st->s->ops->reserve) { /* the frame is written by send_data, nothing copied here */
        uint64_t left = st->total - st->sent;
        size_t n = left < len ? (size_t)left : len;
        *flags |= NGHTTP2_DATA_FLAG_NO_COPY;
        if (n == left)
            *flags |= NGHTTP2_DATA_FLAG_EOF;
        st->sent += n;
        return (ssize_t)n;
    }
    ssize_t n = copy_body(st, buf, len);
    if (n < 0)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* file shrank: reset stream */
    if (st->seg == r->nseg)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    return n;
}

/* DATA_FLAG_NO_COPY (read_body): the frame's header, then its length octets of the body, in
 * one reservation of the output that is committed only when all of it is there. */
static int send_data(nghttp2_session *ng, nghttp2_frame *fr, const uint8_t *framehd,
                     size_t length, nghttp2_data_source *src, void *user)
{
    struct http2_session *s = user;
    struct h2_stream *st = src->ptr;
    size_t pad = fr->data.padlen; /* (0: no padding is asked for) its length octet included */
    size_t total = H2_FRAME_HEAD + pad + length;
    char *p = s->ops->reserve(s->io, total);
    if (!p)
        return NGHTTP2_ERR_CALLBACK_FAILURE; /* the connection is gone */
    memcpy(p, framehd, H2_FRAME_HEAD);
    size_t o = H2_FRAME_HEAD;
    if (pad)
        p[o++] = (char)(pad - 1);
    if (copy_body(st, (uint8_t *)p + o, length) != (ssize_t)length)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* file shrank: nothing committed */
    o += length;
    if (pad > 1)
        memset(p + o, 0, pad - 1);
    s->ops->commit(s->io, p, total);
    /* nghttp2_session_mem_send does not return after a NO_COPY frame: it goes on to the next
     * one, as long as the windows allow (up to 2 GiB). Stop it at the high water, as pump
     * does (pump breaks on the 0 this makes; writable resumes it once the output drained). */
    return s->ops->pending(s->io) >= H2_SEND_HIGH_WATER ? NGHTTP2_ERR_PAUSE : 0;
}

static void pump(struct http2_session *s)
{
    while (!s->fatal && s->ops->pending(s->io) < H2_SEND_HIGH_WATER) {
        const uint8_t *data;
        ssize_t n = nghttp2_session_mem_send(s->ng, &data);
        if (n < 0) {
            s->fatal = true;
            break;
        }
        if (n == 0)
            break;
        s->ops->write(s->io, (const char *)data, (size_t)n);
    }
}

/* A body source that had nothing ready has more now (struct http_body_source). */
static void stream_wake(void *vst)
{
    struct h2_stream *st = vst;
    st->deferred = false;
    nghttp2_session_resume_data(st->s->ng, st->id);
    if (!st->s->in_recv)
        pump(st->s);
}

/* v in decimal at the end of out[24] (no printf: twice per response); returns its start. */
static char *decimal(char out[24], uint64_t v)
{
    char *p = out + 23;
    *p = '\0';
    do
        *--p = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    return p;
}

/* The response's HEADERS (and its body's data provider). nghttp2 copies no name or value
 * (NV_FLAG_NO_COPY_*): names are lower case constants or the handler's fields lower-cased in
 * place, values live in st until the stream ends — and a stream that ends first has its
 * HEADERS dropped unsent. */
static void submit(struct http2_session *s, struct h2_stream *st)
{
    struct http_response *r = &st->resp;
    nghttp2_nv nv[64];
    size_t n = 0;
    int code = r->status >= 100 && r->status <= 999 ? r->status : 500;
    st->status[0] = (char)('0' + code / 100);
    st->status[1] = (char)('0' + code / 10 % 10);
    st->status[2] = (char)('0' + code % 10);
    const char *date = http_date_cached(s->date, s->ops->now(s->io));
    size_t dlen = strlen(date);
    dlen = dlen < sizeof st->date ? dlen : sizeof st->date;
    memcpy(st->date, date, dlen);
#define NV(nm, val, vl)                                                                            \
    nv[n++] = (nghttp2_nv){(uint8_t *)(nm), (uint8_t *)(val), sizeof nm - 1, (vl),                \
                           NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE}
    NV(":status", st->status, 3);
    NV("date", st->date, dlen);
    NV("server", "Pigeon", 6);
    bool bodyless = http_status_bodyless(r->status);
    bool streamed = !bodyless && http_response_streamed(r);
    uint64_t total = bodyless ? 0 : streamed ? r->src_len : http_response_length(r);
    if (!bodyless && (!streamed || r->src_sized)) {
        const char *len = decimal(st->clen, total);
        NV("content-length", len, (size_t)(st->clen + sizeof st->clen - 1 - len));
    }
#undef NV
    /* The handler's fields, lower-cased in place (HTTP/2 field names are lower case). */
    char *f = r->fields.ptr, *end = f ? f + r->fields.len : NULL;
    while (f && f < end && n < sizeof nv / sizeof nv[0]) {
        char *colon = memchr(f, ':', (size_t)(end - f));
        char *crlf = colon ? memchr(colon, '\r', (size_t)(end - colon)) : NULL;
        if (!colon || !crlf)
            break;
        ascii_lower(f, (size_t)(colon - f));
        char *v = colon + 1;
        while (v < crlf && *v == ' ')
            v++;
        nv[n++] = (nghttp2_nv){(uint8_t *)f, (uint8_t *)v, (size_t)(colon - f),
                               (size_t)(crlf - v),
                               NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE};
        f = crlf + 2;
    }
    bool send_body = !bodyless && (total || streamed) && st->req.method != HTTP_HEAD && !r->no_body;
    st->total = total;
    nghttp2_data_provider prd = {.source.ptr = st, .read_callback = read_body};
    nghttp2_submit_response(s->ng, st->id, nv, n, send_body ? &prd : NULL);
    st->answered = true;
    if (send_body && streamed)
        st->log_at_close = true; /* its length is known once it has been sent */
    else
        s->ops->done(s->io, &st->req, r->status, send_body ? total : 0);
}

static void refuse(struct http2_session *s, struct h2_stream *st, int status, const char *why)
{
    http_response_clear(&st->resp);
    http_response_error(&st->resp, status, why);
    st->refused = true;
    submit(s, st);
}

void http2_session_respond(struct http2_session *s, void *vst, struct http_response *resp)
{
    struct h2_stream *st = vst;
    if (st->with_handler) {
        st->with_handler = false;
        s->with_handler--;
    }
    st->reading = false; /* answered: the rest of a streamed body is not wanted */
    if (st->gone) {
        http_response_clear(resp);
        return stream_free(s, st);
    }
    http_response_clear(&st->resp);
    http_response_move(&st->resp, resp);
    if (st->resp.src_set_wake)
        st->resp.src_set_wake(st->resp.src.arg, stream_wake, st);
    submit(s, st);
    if (!s->in_recv)
        pump(s);
}

/* ---- receiving ---- */

static void dispatch(struct http2_session *s, struct h2_stream *st)
{
    const char *why = "bad request";
    int rc = build_request(st, &why);
    if (rc)
        return refuse(s, st, rc, why);
    st->with_handler = true;
    s->with_handler++;
    s->ops->request(s->io, st, &st->req);
}

static int on_begin_headers(nghttp2_session *ng, const nghttp2_frame *fr, void *user)
{
    if (fr->hd.type == NGHTTP2_HEADERS && fr->headers.cat == NGHTTP2_HCAT_REQUEST)
        stream_new(user, fr->hd.stream_id);
    return 0;
}

static int on_header(nghttp2_session *ng, const nghttp2_frame *fr, const uint8_t *name,
                     size_t nlen, const uint8_t *value, size_t vlen, uint8_t flags, void *user)
{
    struct http2_session *s = user;
    struct h2_stream *st = nghttp2_session_get_stream_user_data(ng, fr->hd.stream_id);
    if (!st || fr->hd.type != NGHTTP2_HEADERS)
        return 0;
    st->head_bytes += nlen + vlen + 32;
    if (st->head_bytes > s->lim.max_head || (name[0] != ':' && st->nfields == HTTP_MAX_HEADERS))
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* RST_STREAM this one */
    size_t noff = st->fields.len;
    str_append(&st->fields, name, nlen);
    size_t voff = st->fields.len;
    str_append(&st->fields, value, vlen);
    if (nlen == 7 && memcmp(name, ":method", 7) == 0) {
        st->method = voff, st->mlen = vlen, st->has_method = true;
    } else if (nlen == 5 && memcmp(name, ":path", 5) == 0) {
        st->path = voff, st->plen = vlen, st->has_path = true;
    } else if (nlen == 10 && memcmp(name, ":authority", 10) == 0) {
        st->authority = voff, st->alen = vlen;
    } else if (name[0] != ':') {
        st->off[st->nfields++] = (struct field_off){noff, nlen, voff, vlen};
    }
    return 0;
}

/* A streamed body's stream is reset: its reader (if any) lets go. */
static void stream_reset(struct http2_session *s, struct h2_stream *st, uint32_t code)
{
    if (st->reading)
        st->reader.abort(st->reader.arg); /* (a handler still to ask gets abort then) */
    if (st->reading && st->with_handler) {
        st->with_handler = false; /* after abort the handler never answers */
        s->with_handler--;
    }
    st->reading = false;
    st->refused = true;
    nghttp2_submit_rst_stream(s->ng, NGHTTP2_FLAG_NONE, st->id, code);
}

static int on_data(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *data,
                   size_t len, void *user)
{
    struct http2_session *s = user;
    struct h2_stream *st = nghttp2_session_get_stream_user_data(ng, id);
    if (!st || st->refused || st->answered)
        return 0;
    if (st->streamed) {
        st->got += len;
        if (st->got > s->lim.max_body ||
            (!st->reading && st->body.len + len > s->max_buffered))
            stream_reset(s, st, NGHTTP2_CANCEL);
        else if (st->reading)
            st->reader.data(st->reader.arg, (const char *)data, len);
        else
            str_append(&st->body, data, len); /* until the handler asks */
        return 0;
    }
    if (st->body.len + len > s->max_buffered) {
        refuse(s, st, 413, "The request body is too large.");
        return 0;
    }
    str_append(&st->body, data, len);
    return 0;
}

void http2_session_read_body(struct http2_session *s, void *vst, const struct http_body_target *r)
{
    struct h2_stream *st = vst;
    if (!st->streamed || st->reading || st->answered)
        return;
    if (st->gone || st->refused) {
        /* Reset meanwhile: nothing will come, and the handler will not answer. */
        if (st->with_handler) {
            st->with_handler = false;
            s->with_handler--;
        }
        r->abort(r->arg);
        if (st->gone)
            stream_free(s, st);
        return;
    }
    st->reader = *r;
    st->reading = true;
    if (st->body.len) {
        struct str held = st->body;
        st->body = (struct str)STR_INIT;
        r->data(r->arg, held.ptr, held.len);
        str_clear(&held);
    }
    if (st->ended && st->reading) {
        st->reading = false;
        r->end(r->arg);
    }
    if (!s->in_recv)
        pump(s);
}

/* A request whose header block is complete but whose body is still to come: streamed to its
 * handler if the transport says so. */
static void maybe_stream(struct http2_session *s, struct h2_stream *st)
{
    const char *why = "bad request";
    if (!s->ops->stream_body || st->refused || st->answered || st->with_handler ||
        build_request(st, &why) != 0 || !s->ops->stream_body(s->io, &st->req))
        return;
    st->streamed = true;
    st->req.body_streamed = true;
    st->with_handler = true;
    s->with_handler++;
    s->ops->request(s->io, st, &st->req);
}

static int on_frame_recv(nghttp2_session *ng, const nghttp2_frame *fr, void *user)
{
    struct http2_session *s = user;
    if (fr->hd.type != NGHTTP2_HEADERS && fr->hd.type != NGHTTP2_DATA)
        return 0;
    struct h2_stream *st = nghttp2_session_get_stream_user_data(ng, fr->hd.stream_id);
    if (!st)
        return 0;
    if (!(fr->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
        if (fr->hd.type == NGHTTP2_HEADERS && fr->headers.cat == NGHTTP2_HCAT_REQUEST)
            maybe_stream(s, st);
        return 0;
    }
    st->ended = true;
    if (st->streamed) {
        if (st->reading) {
            st->reading = false;
            st->reader.end(st->reader.arg);
        }
        return 0;
    }
    if (!st->refused && !st->answered && !st->with_handler)
        dispatch(s, st);
    return 0;
}

static int on_stream_close(nghttp2_session *ng, int32_t id, uint32_t code, void *user)
{
    struct http2_session *s = user;
    struct h2_stream *st = nghttp2_session_get_stream_user_data(ng, id);
    if (!st)
        return 0;
    nghttp2_session_set_stream_user_data(ng, id, NULL);
    if (st->reading) {
        /* Closed (reset) while its body streamed in: the reader lets go, no answer comes. */
        st->reading = false;
        st->reader.abort(st->reader.arg);
        if (st->with_handler) {
            st->with_handler = false;
            s->with_handler--;
        }
    }
    if (st->with_handler) {
        /* The client reset it while a handler works: the answer is dropped on arrival. */
        st->gone = true;
        return 0;
    }
    stream_free(s, st);
    return 0;
}

static nghttp2_session_callbacks *callbacks(void)
{
    nghttp2_session_callbacks *cb;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
    nghttp2_session_callbacks_set_send_data_callback(cb, send_data);
    return cb;
}

struct http2_session *http2_session_new(const struct http2_ops *ops, void *io,
                                        const struct http_limits *lim, bool tls)
{
    struct http2_session *s = xcalloc(1, sizeof *s);
    s->ops = ops;
    s->io = io;
    s->lim = *lim;
    s->max_buffered = lim->max_body;
    s->tls = tls;
    s->preface_left = 24; /* RFC 9113 §3.4, also after an h2c upgrade (§3.2) */
    s->date = &s->own_date;
    nghttp2_session_callbacks *cb = callbacks();
    nghttp2_option *opt;
    nghttp2_option_new(&opt);
    nghttp2_option_set_max_continuations(opt, H2_MAX_CONTINUATIONS);
    nghttp2_option_set_stream_reset_rate_limit(opt, H2_RST_BURST, H2_RST_RATE);
    nghttp2_session_server_new2(&s->ng, cb, s, opt);
    nghttp2_option_del(opt);
    nghttp2_session_callbacks_del(cb);
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, H2_MAX_STREAMS},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, (uint32_t)lim->max_head},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20},
    };
    nghttp2_submit_settings(s->ng, NGHTTP2_FLAG_NONE, iv, sizeof iv / sizeof iv[0]);
    return s;
}

void http2_session_share_date(struct http2_session *s, struct http_date_cache *dc)
{
    s->date = dc;
}

void http2_session_limit_buffered(struct http2_session *s, uint64_t n)
{
    s->max_buffered = n < s->lim.max_body ? n : s->lim.max_body;
}

/* Copies one field into the stream as if it had arrived in a HEADERS frame. */
static void copy_field(struct h2_stream *st, struct slice name, struct slice value)
{
    size_t noff = st->fields.len;
    str_append(&st->fields, name.p, name.len);
    ascii_lower(st->fields.ptr + noff, name.len);
    size_t voff = st->fields.len;
    str_append(&st->fields, value.p, value.len);
    st->off[st->nfields++] = (struct field_off){noff, name.len, voff, value.len};
}

/* RFC 9113 §8.2.2: fields that only mean something to one HTTP/1.1 connection. */
static bool connection_specific(struct slice name)
{
    static const char *const drop[] = {"connection", "upgrade", "http2-settings", "keep-alive",
                                       "proxy-connection", "transfer-encoding", "te", "host"};
    for (size_t i = 0; i < sizeof drop / sizeof drop[0]; i++)
        if (slice_eq_ci(name, drop[i]))
            return true;
    return false;
}

int http2_session_upgrade(struct http2_session *s, const struct http_request *req)
{
    const struct slice *set = http_request_header(req, "HTTP2-Settings");
    if (!set || set->len > 1024)
        return -1;
    char b64[1028];
    size_t n = 0;
    for (size_t i = 0; i < set->len; i++) /* base64url → base64 (RFC 7540 §3.2.1) */
        b64[n++] = set->p[i] == '-' ? '+' : set->p[i] == '_' ? '/' : set->p[i];
    while (n % 4)
        b64[n++] = '=';
    unsigned char payload[800];
    size_t plen;
    if (base64_decode(b64, n, payload, &plen) != 0 ||
        nghttp2_session_upgrade2(s->ng, payload, plen, req->method == HTTP_HEAD, NULL) != 0)
        return -1;
    struct h2_stream *st = stream_new(s, 1); /* half-closed (remote): the request is complete */
    st->method = st->fields.len;
    st->mlen = req->method_name.len;
    str_append(&st->fields, req->method_name.p, req->method_name.len);
    st->path = st->fields.len;
    st->plen = req->target.len;
    str_append(&st->fields, req->target.p, req->target.len);
    st->authority = st->fields.len;
    st->alen = req->host.len;
    str_append(&st->fields, req->host.p, req->host.len);
    st->has_method = st->has_path = true;
    for (unsigned i = 0; i < req->nheaders; i++)
        if (!connection_specific(req->headers[i].name))
            copy_field(st, req->headers[i].name, req->headers[i].value);
    str_append(&st->body, req->body ? req->body : "", req->body_len);
    st->ended = true;
    s->in_recv = true; /* an answer at once is queued: the caller writes 101 first */
    dispatch(s, st);
    s->in_recv = false;
    return 0;
}

void http2_session_free(struct http2_session *s)
{
    if (!s)
        return;
    while (s->streams)
        stream_free(s, s->streams);
    http2_session_trim(s);
    nghttp2_session_del(s->ng);
    free(s);
}

/* Input is handed to nghttp2 in slices, with our frames sent between them: a GOAWAY that
 * nghttp2 decided on (a reset flood) goes out after the slice that earned it, and from then
 * on nghttp2 ignores new streams — so one large read cannot start thousands of them first. */
#define H2_RECV_SLICE 4096

static uint32_t frame_length(const uint8_t *h)
{
    return (uint32_t)h[0] << 16 | (uint32_t)h[1] << 8 | h[2];
}

/*
 * How much of p[0..n) (about want octets) goes to nghttp2 in one piece: the piece may end
 * inside the preface or a frame's payload, or right after a frame header, never inside one.
 * Moves the framer past it. 0: p starts with a frame header cut short (fewer than 9 octets).
 *
 * libnghttp2 1.52 (Debian 12) counts a CONTINUATION frame towards max_continuations once
 * per piece of input that ends inside its frame header, so a legitimate client whose header
 * blocks arrive in small reads could get a false GOAWAY (ENHANCE_YOUR_CALM); nghttp2 never
 * sees such a piece from here.
 */
static size_t frame_cut(struct http2_session *s, const uint8_t *p, size_t n, size_t want)
{
    size_t off = 0;
    while (off < n && off < want) {
        size_t room = n - off, t;
        if (s->preface_left) {
            t = s->preface_left < room ? s->preface_left : room;
            s->preface_left -= t;
        } else if (s->frame_left) {
            t = s->frame_left < room ? s->frame_left : room;
            t = t < want - off ? t : want - off;
            s->frame_left -= (uint32_t)t;
        } else if (room >= H2_FRAME_HEAD) {
            s->frame_left = frame_length(p + off);
            t = H2_FRAME_HEAD;
        } else {
            break;
        }
        off += t;
    }
    return off;
}

/* One piece to nghttp2, then our frames out. Returns -1 when the session is over. */
static int recv_piece(struct http2_session *s, const uint8_t *p, size_t n)
{
    s->in_recv = true;
    ssize_t rc = nghttp2_session_mem_recv(s->ng, p, n);
    s->in_recv = false;
    if (rc < 0) {
        /* A flood or a protocol error: tell the client why (GOAWAY), then hang up. */
        int code = rc == NGHTTP2_ERR_FLOODED || rc == NGHTTP2_ERR_TOO_MANY_CONTINUATIONS
                       ? NGHTTP2_ENHANCE_YOUR_CALM
                       : NGHTTP2_PROTOCOL_ERROR;
        nghttp2_session_terminate_session(s->ng, (uint32_t)code);
        pump(s);
        s->fatal = true;
        return -1;
    }
    pump(s);
    return 0;
}

size_t http2_session_feed(struct http2_session *s, const char *p, size_t n)
{
    const uint8_t *in = (const uint8_t *)p;
    size_t off = 0;
    if (s->nhold && !s->fatal) { /* complete the frame header held back last time */
        off = H2_FRAME_HEAD - s->nhold < n ? H2_FRAME_HEAD - s->nhold : n;
        memcpy(s->hold + s->nhold, in, off);
        s->nhold += off;
        if (s->nhold < H2_FRAME_HEAD)
            return n;
        s->nhold = 0;
        s->frame_left = frame_length(s->hold);
        if (recv_piece(s, s->hold, H2_FRAME_HEAD) < 0)
            return n;
    }
    while (off < n && !s->fatal) {
        size_t take = frame_cut(s, in + off, n - off, H2_RECV_SLICE);
        if (take == 0) {
            memcpy(s->hold, in + off, n - off); /* fewer than 9 octets */
            s->nhold = n - off;
            break;
        }
        if (recv_piece(s, in + off, take) < 0)
            break;
        off += take;
    }
    return n;
}

void http2_session_writable(struct http2_session *s)
{
    pump(s);
}

/* A stream whose handler reads its body as it comes does not hold the input back (its DATA
 * must arrive); if the connection ends meanwhile, its reader gets abort. */
bool http2_session_busy(const struct http2_session *s)
{
    if (s->with_handler == 0)
        return false;
    for (const struct h2_stream *st = s->streams; st; st = st->next)
        if (st->with_handler && !st->reading)
            return true;
    return false;
}

bool http2_session_wants_write(const struct http2_session *s)
{
    return !s->fatal && nghttp2_session_want_write(s->ng);
}

bool http2_session_closing(const struct http2_session *s)
{
    if (s->fatal)
        return true;
    return !nghttp2_session_want_read(s->ng) && !nghttp2_session_want_write(s->ng);
}

/* A graceful GOAWAY (RFC 9113 §6.8): no new streams; those already open are still answered,
 * and the session is done (closing) once none is left. */
static void goaway(struct http2_session *s)
{
    if (s->goaway_sent)
        return;
    s->goaway_sent = true;
    nghttp2_submit_goaway(s->ng, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(s->ng),
                          NGHTTP2_NO_ERROR, NULL, 0);
}

void http2_session_shutdown(struct http2_session *s)
{
    goaway(s);
    /* A body waiting for data (an event stream) would hold the shutdown up: it ends here. */
    for (struct h2_stream *st = s->streams; st; st = st->next)
        if (st->deferred && st->resp.open_ended)
            nghttp2_submit_rst_stream(s->ng, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_NO_ERROR);
    pump(s);
}

void http2_session_timeout(struct http2_session *s)
{
    goaway(s);
    pump(s);
}
