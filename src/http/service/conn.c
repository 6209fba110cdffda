/*
 * http service conn — one HTTP connection on the shared connection layer (net/conn.c):
 * picks the engine (HTTP/2 after ALPN "h2" on TLS, or when a plain loopback connection opens
 * with the HTTP/2 preface and h2c is on; else HTTP/1.1), turns each request into a struct
 * http_exchange for the site's handlers, and runs the header timer against slowloris
 * (a request head must arrive within header_timeout; an idle keep-alive connection is closed
 * after it).
 */
#include "http/service/service.h"

#include "http/h2.h"
#include "http/handler/fcache.h"
#include "http/service/config.h"
#include "http/service/sites.h"
#include "http/session.h"
#include "http/site.h"

#include "core/xmalloc.h"
#include "host/host.h"
#include "net/acl.h"
#include "net/conn.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define PREFACE_LEN 24
/* Under TLS, 16 full records per pass of the TLS filter rather than libevent's one (16 KiB);
 * plain sockets send files with sendfile, as much as the socket takes. */
#define HTTP_MAX_WRITE (256 * 1024)

struct hconn {
    struct conn *c;
    struct http_service *svc;
    struct http_worker *w;
    bool tls, loopback, metrics;
    bool decided, closing;
    bool in_feed;
    bool timer_on;                /* head_timer is added (it may be running late: see below) */
    uint8_t nsniff;               /* octets of the HTTP/2 preface seen so far (h2c sniffing) */
    uint64_t id;
    struct http_request *upgrade; /* an HTTP/1.1 request asking for h2c, switched after feed */
    struct hc_takeover *tk;       /* a handler's takeover (101), allocated when asked */
    struct http_session *h1;
    struct http2_session *h2;
    struct event *head_timer;
    uint64_t head_due;       /* ms (monotonic) when the head being waited for is late; 0: none */
    struct http_exchange *x; /* HTTP/1.1: the one request in progress (kept until parked) */
    struct http_sites_held sites; /* the site sets its requests were answered from */
};

/* A handler took the connection over (101, WebSocket): raw gets every octet from then. Kept
 * apart from struct hconn, which every idle connection holds. */
struct hc_takeover {
    struct http_takeover raw;
    bool on;                   /* switched: the HTTP/1.1 session is gone */
    bool pending;              /* asked for during feed: switched once it returns */
    struct http_response *resp; /* the 101 to send, until the switch */
};

static bool raw_on(const struct hconn *hc)
{
    return hc->tk && hc->tk->on;
}

struct h2x {
    struct http_exchange x;
    void *stream;
};

static void exchange_fill(struct hconn *hc, struct http_exchange *x, struct http_request *req)
{
    memset(x, 0, sizeof *x);
    x->req = req;
    /* HTTP/1.1 runs one request at a time: the earlier ones' sets can go. */
    const struct http_siteset *set = http_sites_use(&hc->sites, hc->svc, hc->h1 != NULL);
    x->site = http_siteset_select(set, req->host);
    x->host = &hc->svc->host;
    const char *peer = conn_peer(hc->c);
    size_t n = strnlen(peer, sizeof x->peer - 1);
    memcpy(x->peer, peer, n);
    x->peer[n] = '\0';
    x->tls = hc->tls;
    x->loopback = hc->loopback;
    x->id = hc->id;
    x->now = time(NULL);
    x->conn = hc->c;
    x->files = hc->w->files;
    if (!hc->in_feed) /* not just read (a pipelined request after an answer): a look-up drains */
        http_fcache_input(x->files);
}

/* Whether the handler that will take req wants its body streamed (and not a metrics port). */
static bool stream_body(void *io, const struct http_request *req)
{
    struct hconn *hc = io;
    const struct http_siteset *set = http_sites_use(&hc->sites, hc->svc, false);
    return !hc->metrics && http_site_streams_body(http_siteset_select(set, req->host), req);
}

/* The session's body reader, passed on to the handler's sink. */
static void sink_data(void *arg, const char *p, size_t n)
{
    struct http_exchange *x = arg;
    x->sink->data(x, p, n);
}

static void sink_end(void *arg)
{
    struct http_exchange *x = arg;
    x->sink->end(x);
}

static void sink_abort(void *arg)
{
    struct http_exchange *x = arg;
    x->sink->abort(x);
}

static void run(struct hconn *hc, struct http_exchange *x)
{
    if (hc->metrics) {
        if (!http_metrics_handle(x))
            http_exchange_error(x, 404, "Only /metrics is served here.");
        return;
    }
    http_site_dispatch(x);
}

/* ---- HTTP/1.1 ---- */

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * The header timer runs until head_due: header_timeout from the end of the last answer (or
 * the connection's start), through idling and the next head's arrival, parked or not.
 * head_due is the deadline; the event is lazy: stopping only clears head_due, and starting
 * again leaves an event that is still added as it is (it fires no later than the new
 * deadline, and on_head_timer adds it again for what is left). A keep-alive request costs
 * no event_del and event_add of its own.
 */
static void timer_add(struct hconn *hc, uint64_t now)
{
    uint64_t left = hc->head_due > now ? hc->head_due - now : 0;
    struct timeval tv = {(time_t)(left / 1000), (suseconds_t)(left % 1000) * 1000};
    evtimer_add(hc->head_timer, &tv);
    hc->timer_on = true;
}

static void head_timer_start(struct hconn *hc)
{
    if (hc->head_due && hc->timer_on)
        return;
    uint64_t now = mono_ms();
    if (!hc->head_due)
        hc->head_due = now + (uint64_t)hc->svc->cfg->header_timeout * 1000;
    if (!hc->timer_on)
        timer_add(hc, now);
}

static void head_timer_stop(struct hconn *hc)
{
    hc->head_due = 0; /* the next head gets a full header_timeout */
}

/* The event goes for good (HTTP/2, a takeover): nothing will start it again. */
static void head_timer_off(struct hconn *hc)
{
    if (hc->head_timer && hc->timer_on)
        evtimer_del(hc->head_timer);
    hc->timer_on = false;
    hc->head_due = 0;
}

static void sync_timer(struct hconn *hc)
{
    if (!hc->h1 || !hc->head_timer)
        return;
    if (http_session_reading_head(hc->h1) && !http_session_closing(hc->h1))
        head_timer_start(hc);
    else
        head_timer_stop(hc);
}

static void on_head_timer(evutil_socket_t fd, short what, void *vhc)
{
    struct hconn *hc = vhc;
    hc->timer_on = false;
    if (!hc->head_due)
        return; /* stopped since it was added */
    uint64_t now = mono_ms();
    if (now < hc->head_due)
        return timer_add(hc, now); /* started again since: what is left of the new one */
    if (hc->h1)
        http_session_timeout(hc->h1);
    else if (!hc->h2 && !raw_on(hc))
        hc->closing = true; /* not a byte (or no TLS handshake) within header_timeout */
    conn_resume(hc->c);
}

static void hc_writable(void *v);

/* A body source that had nothing ready has more now (struct http_body_source). */
static void h1_wake(void *vhc)
{
    struct hconn *hc = vhc;
    hc_writable(hc);
    conn_resume(hc->c);
}

static void h1_respond(struct http_exchange *x, struct http_response *resp)
{
    struct hconn *hc = x->transport;
    if (resp->src_set_wake)
        resp->src_set_wake(resp->src.arg, h1_wake, hc);
    http_session_respond(hc->h1, resp);
    if (!hc->in_feed) /* an asynchronous answer: read the pipelined requests waiting */
        http_session_feed(hc->h1, NULL, 0);
    sync_timer(hc);
}

static void h1_read_body(struct http_exchange *x, const struct http_body_sink *sink)
{
    struct hconn *hc = x->transport;
    x->sink = sink;
    struct http_body_target r = {sink_data, sink_end, sink_abort, x};
    http_session_read_body(hc->h1, &r);
    if (!hc->in_feed) { /* asked later (after a password check): what is held already */
        http_session_feed(hc->h1, NULL, 0);
        sync_timer(hc);
    }
}

/* The HTTP/1.1 session goes (a 101 switched protocols) and its header timer stops; returns a
 * copy of the octets it had read past the request (NULL when none; *n_out its length), which
 * belong to the new protocol. The caller frees it. */
static char *h1_leave(struct hconn *hc, size_t *n_out)
{
    const char *rest;
    size_t n = http_session_pending_input(hc->h1, &rest);
    char *copy = n ? xmalloc(n) : NULL;
    if (n)
        memcpy(copy, rest, n);
    http_session_free(hc->h1);
    hc->h1 = NULL;
    head_timer_off(hc);
    *n_out = n;
    return copy;
}

/* Sends the 101 and hands the connection to the taker: the octets the session read past
 * the request go to it first; the HTTP/1.1 session goes. */
static void takeover_now(struct hconn *hc)
{
    struct hc_takeover *tk = hc->tk;
    struct http_response *resp = tk->resp;
    tk->resp = NULL;
    struct str head = STR_INIT;
    str_appendf(&head, "HTTP/1.1 %d %s\r\n", resp->status, http_status_reason(resp->status));
    if (resp->fields.len)
        str_append(&head, resp->fields.ptr, resp->fields.len);
    str_appends(&head, "\r\n");
    conn_write(hc->c, head.ptr, head.len);
    str_clear(&head);
    http_service_log(hc->svc, conn_peer(hc->c), hc->x->req, resp->status, 0, NULL);
    http_response_clear(resp);
    free(resp);
    size_t nrest;
    char *rest = h1_leave(hc, &nrest);
    tk->on = true;
    if (nrest)
        tk->raw.feed(tk->raw.arg, rest, nrest);
    free(rest);
}

static void h1_takeover(struct http_exchange *x, struct http_response *resp,
                        const struct http_takeover *t)
{
    struct hconn *hc = x->transport;
    struct hc_takeover *tk = hc->tk = xcalloc(1, sizeof *tk);
    tk->raw = *t;
    tk->resp = xmalloc(sizeof *tk->resp);
    http_response_init(tk->resp, 0);
    http_response_move(tk->resp, resp);
    if (hc->in_feed)
        tk->pending = true; /* switched once the session has returned (feed) */
    else
        takeover_now(hc);
}

static void h1_write(void *io, const char *p, size_t n)
{
    conn_write(((struct hconn *)io)->c, p, n);
}

static void h1_write_file(void *io, int fd, uint64_t off, uint64_t len)
{
    conn_write_file(((struct hconn *)io)->c, fd, off, len);
}

static void h1_request(void *io, struct http_request *req)
{
    struct hconn *hc = io;
    if (req->upgrade_h2c && hc->svc->cfg->h2c && hc->loopback && !hc->tls && !hc->metrics) {
        hc->upgrade = req; /* switched once the session has returned (feed) */
        return;
    }
    if (!hc->x)
        hc->x = xmalloc(sizeof *hc->x);
    exchange_fill(hc, hc->x, req);
    hc->x->respond = h1_respond;
    hc->x->read_body = h1_read_body;
    hc->x->takeover = h1_takeover;
    hc->x->transport = hc;
    run(hc, hc->x);
}

static time_t now(void *io)
{
    return time(NULL);
}

static void done(void *io, const struct http_request *req, int status, uint64_t bytes)
{
    struct hconn *hc = io;
    head_timer_stop(hc); /* the next request gets a full header_timeout */
    http_service_log(hc->svc, conn_peer(hc->c), req, status, bytes, NULL);
}

static size_t h1_pending(void *io)
{
    return conn_output_pending(((struct hconn *)io)->c);
}

static const struct http_session_ops h1_ops = {h1_write, h1_write_file, h1_request, now,
                                               done,     h1_pending,    stream_body};

/* ---- HTTP/2 ---- */

static void h2_respond(struct http_exchange *x, struct http_response *resp)
{
    struct h2x *e = (struct h2x *)x;
    struct hconn *hc = e->x.transport;
    http2_session_respond(hc->h2, e->stream, resp);
    free(e);
}

/* An aborted stream's handler never answers: its exchange goes here instead. */
static void h2_sink_abort(void *arg)
{
    sink_abort(arg);
    free(arg);
}

static void h2_read_body(struct http_exchange *x, const struct http_body_sink *sink)
{
    struct h2x *e = (struct h2x *)x;
    struct hconn *hc = e->x.transport;
    x->sink = sink;
    struct http_body_target r = {sink_data, sink_end, h2_sink_abort, x};
    http2_session_read_body(hc->h2, e->stream, &r);
}

static size_t h2_pending(void *io)
{
    return conn_output_pending(((struct hconn *)io)->c);
}

static void h2_request(void *io, void *stream, struct http_request *req)
{
    struct hconn *hc = io;
    struct h2x *e = xmalloc(sizeof *e);
    exchange_fill(hc, &e->x, req);
    e->x.respond = h2_respond;
    e->x.read_body = h2_read_body;
    e->x.transport = hc;
    e->stream = stream;
    run(hc, &e->x);
}

static char *h2_reserve(void *io, size_t n)
{
    return conn_reserve(((struct hconn *)io)->c, n);
}

static void h2_commit(void *io, char *p, size_t n)
{
    conn_commit(((struct hconn *)io)->c, p, n);
}

static const struct http2_ops h2_ops = {h1_write, h2_pending, h2_request, now,
                                        done,     stream_body, h2_reserve, h2_commit};

/* ---- choosing the engine ---- */

static void start_h1(struct hconn *hc)
{
    hc->h1 = http_session_new(&h1_ops, hc, &hc->svc->lim, hc->tls);
    http_session_limit_buffered(hc->h1, hc->svc->cfg->max_buffered_body);
    http_session_share_date(hc->h1, &hc->w->date);
    hc->decided = true;
    sync_timer(hc);
}

static void start_h2(struct hconn *hc)
{
    hc->h2 = http2_session_new(&h2_ops, hc, &hc->svc->lim, hc->tls);
    http2_session_limit_buffered(hc->h2, hc->svc->cfg->max_buffered_body);
    http2_session_share_date(hc->h2, &hc->w->date);
    hc->decided = true;
    head_timer_off(hc); /* HTTP/2 lives on the idle timeout */
}

/* Plain loopback with h2c on: the first 24 octets tell HTTP/2 prior knowledge from 1.1. The
 * octets held back so far are the preface's first nsniff, so they are not kept. */
static size_t sniff(struct hconn *hc, const char *p, size_t n)
{
    size_t held = hc->nsniff;
    size_t take = PREFACE_LEN - held < n ? PREFACE_LEN - held : n;
    if (memcmp(p, PREFACE + held, take) != 0) {
        start_h1(hc); /* the octets held back, then all of this read */
        if (held)
            http_session_feed(hc->h1, PREFACE, held);
        return 0;
    }
    hc->nsniff = (uint8_t)(held + take);
    if (hc->nsniff < PREFACE_LEN)
        return take;
    start_h2(hc);
    http2_session_feed(hc->h2, PREFACE, PREFACE_LEN);
    return take;
}

static void h2_start_upgrade(struct hconn *hc);

static size_t feed(struct hconn *hc, const char *p, size_t n)
{
    if (!hc->decided) {
        if (hc->tls)
            hc->svc->cfg->h2 && conn_alpn(hc->c, "h2") ? start_h2(hc) : start_h1(hc);
        else if (!(hc->svc->cfg->h2c && hc->loopback) || hc->metrics)
            start_h1(hc);
        else {
            size_t used = sniff(hc, p, n);
            if (!hc->decided || used == n)
                return used;
            return used + feed(hc, p + used, n - used);
        }
    }
    if (raw_on(hc))
        return hc->tk->raw.feed(hc->tk->raw.arg, p, n);
    if (hc->h2)
        return http2_session_feed(hc->h2, p, n);
    size_t used = http_session_feed(hc->h1, p, n);
    if (hc->tk && hc->tk->pending) {
        hc->tk->pending = false;
        takeover_now(hc);
    } else if (hc->upgrade)
        h2_start_upgrade(hc);
    else
        sync_timer(hc);
    return used;
}

/* RFC 7540 §3.2: 101, then HTTP/2 with the request as stream 1; the HTTP/1.1 session goes. */
static void h2_start_upgrade(struct hconn *hc)
{
    struct http_request *req = hc->upgrade;
    hc->upgrade = NULL;
    struct http2_session *h2 = http2_session_new(&h2_ops, hc, &hc->svc->lim, false);
    http2_session_limit_buffered(h2, hc->svc->cfg->max_buffered_body);
    http2_session_share_date(h2, &hc->w->date);
    hc->h2 = h2; /* stream 1's handler may answer at once, through hc->h2 */
    if (http2_session_upgrade(h2, req) < 0) {
        hc->h2 = NULL;
        http2_session_free(h2);
        struct http_response r;
        http_response_init(&r, 400);
        http_response_error(&r, 400, "The HTTP2-Settings field is malformed.");
        r.close = true;
        http_session_respond(hc->h1, &r);
        return;
    }
    static const char sw[] = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                             "Upgrade: h2c\r\n\r\n";
    conn_write(hc->c, sw, sizeof sw - 1);
    size_t nrest;
    char *rest = h1_leave(hc, &nrest);
    http2_session_writable(h2);
    if (nrest)
        http2_session_feed(h2, rest, nrest);
    free(rest);
}

/* ---- proto_ops ---- */

static struct hconn *hc_new(struct conn *c, uint64_t id, const char *peer, bool tls, bool metrics)
{
    struct hconn *hc = xcalloc(1, sizeof *hc);
    hc->c = c;
    hc->svc = host_state(conn_worker(c)->d, &http_service_def);
    hc->w = host_worker_state(conn_worker(c), &http_service_def);
    hc->tls = tls;
    hc->metrics = metrics;
    hc->id = id;
    hc->loopback = net_addr_is_loopback(peer); /* IPv4-mapped included */
    hc->head_timer = evtimer_new(conn_worker(c)->host.base, on_head_timer, hc);
    return hc;
}

static void *hc_create(struct conn *c, const struct listener *l, uint64_t id, const char *peer)
{
    struct http_service *svc = host_state(conn_worker(c)->d, &http_service_def);
    return hc_new(c, id, peer, l->implicit_tls, l->svc_cfg == &svc->metrics_tag);
}

/* Responses written during a call from conn.c leave at its end, pipelined ones together in
 * one writev; an asynchronous answer goes out on the loop's next turn. */
static void hc_io_setup(struct hconn *hc)
{
    conn_set_direct_write(hc->c);
    conn_set_max_write(hc->c, HTTP_MAX_WRITE);
    conn_set_parking(hc->c);
}

static void hc_start(void *v)
{
    struct hconn *hc = v;
    hc_io_setup(hc);
    head_timer_start(hc); /* also bounds a TLS handshake that never ends */
}

static void hc_refuse(void *v, enum conn_refusal why)
{
    struct hconn *hc = v;
    static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                               "Retry-After: 5\r\nConnection: close\r\n\r\n";
    conn_write(hc->c, busy, sizeof busy - 1);
    hc->closing = true;
}

static size_t hc_feed(void *v, const char *p, size_t n)
{
    struct hconn *hc = v;
    hc->in_feed = true;
    http_fcache_input(hc->w->files); /* requests just read: one inotify drain for them all */
    size_t used = feed(hc, p, n);
    hc->in_feed = false;
    return used;
}

static bool hc_busy(const void *v)
{
    const struct hconn *hc = v;
    if (raw_on(hc))
        return false;
    return hc->h1 ? http_session_busy(hc->h1) : hc->h2 ? http2_session_busy(hc->h2) : false;
}

static bool hc_closing(const void *v)
{
    const struct hconn *hc = v;
    if (raw_on(hc))
        return hc->closing || hc->tk->raw.closing(hc->tk->raw.arg);
    return hc->closing || (hc->h1 && http_session_closing(hc->h1)) ||
           (hc->h2 && http2_session_closing(hc->h2));
}

static void hc_tls_started(void *v, const char *version, const char *cipher)
{
}

static void hc_timeout(void *v)
{
    struct hconn *hc = v;
    if (raw_on(hc))
        hc->tk->raw.timeout(hc->tk->raw.arg);
    else if (hc->h1)
        http_session_timeout(hc->h1);
    else if (hc->h2)
        http2_session_timeout(hc->h2);
    else
        hc->closing = true;
}

static void hc_shutdown(void *v)
{
    struct hconn *hc = v;
    if (raw_on(hc))
        hc->tk->raw.shutdown(hc->tk->raw.arg);
    else if (hc->h1)
        http_session_shutdown(hc->h1);
    else if (hc->h2)
        http2_session_shutdown(hc->h2);
    else
        hc->closing = true;
}

static void hc_free(void *v)
{
    struct hconn *hc = v;
    /* The engines first: freeing one may log a last response, which touches the timer. */
    http_session_free(hc->h1);
    http2_session_free(hc->h2);
    if (hc->tk && (hc->tk->on || hc->tk->resp))
        hc->tk->raw.free(hc->tk->raw.arg);
    if (hc->tk && hc->tk->resp) {
        http_response_clear(hc->tk->resp);
        free(hc->tk->resp);
    }
    free(hc->tk);
    free(hc->x); /* after the session: a streamed body's reader is told through it */
    if (hc->head_timer)
        event_free(hc->head_timer);
    http_sites_release(&hc->sites);
    free(hc);
}

/* A parked connection's word (conn_park_ops.park): what hc_unpark needs besides id and peer. */
#define PARKED_METRICS 1u /* accepted on the metrics listener */

/* An idle keep-alive HTTP/1.1 connection in clear parks whole: nothing of it stays but the
 * metrics flag and head_due. The deadline stays: parked or not, the next head must be whole
 * header_timeout after the last answer (parked, the connection is closed then; woken by the
 * head's first octets, the timer runs on to the same moment). */
static uint64_t hc_park(void *v, uint64_t now_ms, uint32_t *state_out)
{
    struct hconn *hc = v;
    if (!hc->h1 || hc->h2 || hc->upgrade || hc->tk || hc->tls || !http_session_idle(hc->h1) ||
        hc->head_due <= now_ms)
        return 0; /* (due now: the header timer closes it as it is) */
    *state_out = hc->metrics ? PARKED_METRICS : 0;
    return hc->head_due;
}

static void *hc_unpark(struct conn *c, uint64_t id, const char *peer, uint32_t state,
                       uint64_t due_ms)
{
    struct hconn *hc = hc_new(c, id, peer, false, state & PARKED_METRICS);
    hc_io_setup(hc);
    hc->head_due = due_ms;
    start_h1(hc);
    return hc;
}

/* Only a body still being produced (HTTP/1.1 streaming, HTTP/2 frames held back by the
 * output's high water, a taken-over connection) needs to hear that the output drained. */
static bool hc_wants_writable(const void *v)
{
    const struct hconn *hc = v;
    if (raw_on(hc))
        return true;
    if (hc->h2)
        return http2_session_wants_write(hc->h2);
    return hc->h1 && http_session_streaming(hc->h1);
}

/* An idle connection that is kept (HTTPS, HTTP/2): the session's spare memory goes. */
static void hc_trim(void *v)
{
    struct hconn *hc = v;
    if (hc->h1)
        http_session_trim(hc->h1);
    if (hc->h2)
        http2_session_trim(hc->h2);
}

static const struct conn_park_ops hc_parking = {hc_park, hc_unpark, hc_wants_writable, hc_trim};

static void hc_writable(void *v)
{
    struct hconn *hc = v;
    if (raw_on(hc))
        return hc->tk->raw.writable(hc->tk->raw.arg);
    if (hc->h2)
        return http2_session_writable(hc->h2);
    if (!hc->h1)
        return;
    if (http_session_writable(hc->h1)) { /* a streamed body ended: pipelined requests */
        http_session_feed(hc->h1, NULL, 0);
        sync_timer(hc);
    }
}

const struct proto_ops http_proto = {
    .name = "http",
    .create = hc_create,
    .start = hc_start,
    .refuse = hc_refuse,
    .feed = hc_feed,
    .busy = hc_busy,
    .closing = hc_closing,
    .tls_started = hc_tls_started,
    .timeout = hc_timeout,
    .shutdown = hc_shutdown,
    .free = hc_free,
    .writable = hc_writable,
    .direct_tls = true, /* HTTPS: conn.c runs TLS on the socket (net/tls_sock.h) */
    .nodelay = true,    /* a response's pieces never wait for an ACK (set on the listener) */
    .parking = &hc_parking,
};
