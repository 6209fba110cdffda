/*
 * worker — the name server on each worker: UDP datagrams (net/udp_batch) and TCP
 * connections (RFC 7766: several messages per connection, answered in order) go through the
 * engine (dns_server_process); the jobs it returns are run here: a transfer streamed on the
 * connection (xfr.c), an UPDATE handed to the control thread (ctl.c) and its answer sent when
 * it comes back, a secondary's refresh after a NOTIFY. Response rate limiting on UDP answers.
 * See service_int.h.
 */
#include "core/log.h"
#include "core/xmalloc.h"
#include "net/conn.h"
#include "host/host.h"
#include "dns/server/rrl.h"
#include "dns/server/service/service.h"
#include "dns/server/service/service_int.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

/* ---- dispatch: the engine, then the job it asks for ---- */

struct dns_req {
    const uint8_t *pkt;
    size_t len;
    const struct sockaddr *peer;
    socklen_t peer_len;
    struct dns_tcp *t; /* NULL over UDP */
    int fd;
};

/* An UPDATE for the control thread: the request copied, its reply comes back in the job. */
static void update_queue(struct dns_worker *dw, const struct dns_req *r,
                         const struct dns_server_job_out *jo)
{
    struct dns_job *job = xcalloc(1, sizeof *job);
    *job = (struct dns_job){.dw = dw,
                            .tcp = r->t != NULL,
                            .t = r->t,
                            .fd = r->fd,
                            .peer_len = r->peer_len,
                            .len = r->len,
                            .zi = jo->zi,
                            .tsig = jo->tsig};
    memcpy(&job->peer, r->peer, r->peer_len);
    job->pkt = xmemdup(r->pkt, r->len);
    if (r->t)
        r->t->busy = true;
    dns_ctl_update(dw->s->ctl, job);
}

/* Answers one request: the length of an answer in out, or 0 (nothing now: dropped, handed to
 * the control thread, or a transfer started on r->t). */
static size_t dispatch(struct dns_worker *dw, const struct dns_req *r, uint8_t *out, size_t cap)
{
    struct dns_server_req req = {r->pkt, r->len, r->peer, r->t != NULL, dns_now_sec()};
    struct dns_server_job_out jo;
    size_t len = dns_server_process(&dw->s->srv, dw->view, &req, &dw->arena, out, cap, &jo);
    switch (jo.kind) {
    case DNS_JOB_NONE:
        break;
    case DNS_JOB_XFR:
        dns_xfr_start(r->t, jo.xfr);
        break;
    case DNS_JOB_UPDATE:
        update_queue(dw, r, &jo);
        break;
    case DNS_JOB_REFRESH:
        dns_ctl_notified(dw->s->ctl, jo.zi);
        break;
    }
    return len;
}

/* ---- UDP ---- */

/* Applies response rate limiting to one UDP answer; returns the length to send (0: drop). */
static size_t rrl_apply(struct dns_service *s, const struct sockaddr *peer, uint8_t *out,
                        size_t len, uint64_t now)
{
    pthread_mutex_lock(&s->rrl_lock);
    len = dns_rrl_apply(s->rrl, peer, out, len, now);
    pthread_mutex_unlock(&s->rrl_lock);
    return len;
}

size_t dns_worker_datagram(void *vdw, int fd, const uint8_t *pkt, size_t len,
                          const struct sockaddr *peer, socklen_t peer_len, uint8_t *out,
                          size_t cap)
{
    struct dns_worker *dw = vdw;
    struct dns_req r = {pkt, len, peer, peer_len, NULL, fd};
    size_t n = dispatch(dw, &r, out, cap);
    dns_arena_reset(&dw->arena);
    if (n && dw->s->rrl)
        n = rrl_apply(dw->s, peer, out, n, dns_now_ms());
    return n;
}

/* ---- TCP (RFC 7766): length-prefixed messages, several per connection, answered in order ---- */

static void *tcp_create(struct conn *c, const struct listener *l, uint64_t id, const char *peer)
{
    struct dns_tcp *t = xcalloc(1, sizeof *t);
    t->c = c;
    t->dw = conn_worker(c)->dns;
    snprintf(t->peer_text, sizeof t->peer_text, "%s", peer);
    struct sockaddr_in *s4 = (struct sockaddr_in *)&t->peer;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&t->peer;
    if (inet_pton(AF_INET, peer, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        t->peer_len = sizeof *s4;
    } else if (inet_pton(AF_INET6, peer, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        t->peer_len = sizeof *s6;
    }
    return t;
}

static void tcp_start(void *e)
{
    (void)e;
}

static void tcp_refuse(void *e, enum conn_refusal why)
{
    ((struct dns_tcp *)e)->closing = true;
}

void dns_tcp_send(struct dns_tcp *t, const uint8_t *msg, size_t len)
{
    t->nsent++;
    uint8_t *own = t->dw->tcp_out;
    if (msg == own + 2) { /* built in place: prefix and message in one write */
        own[0] = (uint8_t)(len >> 8);
        own[1] = (uint8_t)len;
        conn_write(t->c, (const char *)own, len + 2);
        return;
    }
    uint8_t pfx[2] = {(uint8_t)(len >> 8), (uint8_t)len};
    conn_write(t->c, (const char *)pfx, 2);
    conn_write(t->c, (const char *)msg, len);
}

/* Answers the complete messages in p[0..n), in order, until one must wait (an UPDATE with
 * the control thread, a transfer being streamed). Returns the bytes used. */
static size_t tcp_answer(struct dns_tcp *t, const uint8_t *p, size_t n)
{
    struct dns_worker *dw = t->dw;
    size_t used = 0;
    while (!t->closing && !t->busy && !t->xfr && n - used >= 2) {
        size_t len = (size_t)p[used] << 8 | p[used + 1];
        if (n - used - 2 < len)
            break;
        struct dns_req r = {p + used + 2, len, (struct sockaddr *)&t->peer, t->peer_len, t, -1};
        unsigned sent = t->nsent;
        size_t out = dispatch(dw, &r, dw->tcp_out + 2, DNS_MSG_MAX);
        dns_arena_reset(&dw->arena);
        used += len + 2;
        if (out)
            dns_tcp_send(t, dw->tcp_out + 2, out);
        else if (!t->busy && t->nsent == sent) /* nothing to answer: RFC 7766 §6.2.4 */
            t->closing = true;
    }
    return used;
}

/* The messages buffered in t->in. */
static void tcp_process(struct dns_tcp *t)
{
    str_consume(&t->in, tcp_answer(t, (const uint8_t *)t->in.ptr, t->in.len));
}

static size_t tcp_feed(void *e, const char *p, size_t n)
{
    struct dns_tcp *t = e;
    if (t->busy || t->xfr)
        return 0;         /* answered in order: the rest waits in the connection's buffer */
    if (t->in.len == 0) { /* the usual case: answer straight from the input, copy nothing */
        size_t used = tcp_answer(t, (const uint8_t *)p, n);
        if (t->busy || t->xfr || t->closing)
            return used;
        p += used;
        n -= used;
        str_append(&t->in, p, n); /* the start of a message still arriving */
        return used + n;
    }
    str_append(&t->in, p, n);
    tcp_process(t);
    return n;
}

static void tcp_writable(void *e)
{
    struct dns_tcp *t = e;
    if (t->xfr && !dns_xfr_pump(t))
        tcp_process(t);
}

void dns_job_done(void *vjob)
{
    struct dns_job *job = vjob;
    if (job->tcp) {
        struct dns_tcp *t = job->t;
        if (job->reply_len)
            dns_tcp_send(t, job->reply, job->reply_len);
        t->busy = false;
        tcp_process(t);
        conn_resume(t->c);
    } else if (job->reply_len) {
        sendto(job->fd, job->reply, job->reply_len, MSG_DONTWAIT, (struct sockaddr *)&job->peer,
               job->peer_len);
    }
    free(job->pkt);
    free(job->reply);
    free(job);
}

static bool tcp_busy(const void *e)
{
    return ((const struct dns_tcp *)e)->busy;
}

static bool tcp_closing(const void *e)
{
    return ((const struct dns_tcp *)e)->closing;
}

static void tcp_tls(void *e, const char *v, const char *c)
{
}

static void tcp_close(void *e)
{
    ((struct dns_tcp *)e)->closing = true;
}

static void tcp_free(void *e)
{
    struct dns_tcp *t = e;
    if (t->xfr)
        dns_xfr_abort(t);
    str_clear(&t->in);
    free(t);
}

const struct proto_ops dns_tcp_proto = {
    "dns",       tcp_create, tcp_start, tcp_refuse, tcp_feed, tcp_busy,
    tcp_closing, tcp_tls,    tcp_close, tcp_close,  tcp_free, tcp_writable,
};

