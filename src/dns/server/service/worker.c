/*
 * worker — the name server on each worker: UDP datagrams (net/udp_batch) and TCP
 * connections (RFC 7766: several messages per connection, answered in order) go through the
 * engine (dns_server_process); the jobs it returns are run here: a transfer streamed on the
 * connection (xfr.c), an UPDATE handed to the control thread (ctl.c) and its answer sent when
 * it comes back, a secondary's refresh after a NOTIFY. Response rate limiting on UDP answers.
 * See service_int.h.
 */
#include "core/xmalloc.h"
#include "net/conn.h"
#include "host/host.h"
#include "dns/server/rrl.h"
#include "dns/server/service/service.h"
#include "dns/server/service/service_int.h"
#include "dns/service/tcp.h"

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
                            .cfg = dns_zcfg_ref(dw->cfg),
                            .zi = jo->zi,
                            .tsig = jo->tsig};
    memcpy(&job->peer, r->peer, r->peer_len);
    job->pkt = xmemdup(r->pkt, r->len);
    if (r->t) {
        r->t->busy = true;
        dns_tcp_hold(r->t->m);
    }
    dns_ctl_update(dw->s->ctl, job);
}

/* Answers one request: the length of an answer in out, or 0 (nothing now: dropped, handed to
 * the control thread, or a transfer started on r->t). */
static size_t dispatch(struct dns_worker *dw, const struct dns_req *r, uint8_t *out, size_t cap)
{
    struct dns_server_req req = {r->pkt, r->len, r->peer, r->t != NULL, dns_now_sec()};
    struct dns_server_job_out jo;
    size_t len = dns_server_process(&dw->cfg->srv, dw->view, &req, &dw->arena, out, cap, &jo);
    switch (jo.kind) {
    case DNS_JOB_NONE:
        break;
    case DNS_JOB_XFR:
        dns_xfr_start(r->t, jo.xfr, dw->cfg);
        break;
    case DNS_JOB_UPDATE:
        update_queue(dw, r, &jo);
        break;
    case DNS_JOB_REFRESH:
        dns_ctl_notified(dw->s->ctl, dns_zcfg_ref(dw->cfg), jo.zi);
        break;
    }
    return len;
}

/* ---- UDP ---- */

/* Applies response rate limiting to one UDP answer; returns the length to send (0: drop).
 * The table is read under the lock only: a reload replaces it (or turns it off). */
static size_t rrl_apply(struct dns_service *s, const struct sockaddr *peer, uint8_t *out,
                        size_t len, uint64_t now)
{
    pthread_mutex_lock(&s->rrl_lock);
    if (s->rrl)
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
    if (n)
        n = rrl_apply(dw->s, peer, out, n, dns_now_ms());
    return n;
}

/* ---- TCP (RFC 7766, framing in dns/service/tcp.c) ---- */

/* One message on a connection: answered, or a job started (the connection waits for it). */
static bool tcp_message(void *vt, struct dns_tcp_conn *m, const uint8_t *msg, size_t len)
{
    struct dns_tcp *t = vt;
    struct dns_worker *dw = t->dw;
    struct dns_req r = {msg, len, (struct sockaddr *)&t->peer, t->peer_len, t, -1};
    size_t out = dispatch(dw, &r, dw->tcp_out, DNS_MSG_MAX);
    dns_arena_reset(&dw->arena);
    if (out)
        dns_tcp_send(m, dw->tcp_out, out);
    return out || t->xfr || t->busy; /* nothing to answer: close (RFC 7766 §6.2.4) */
}

static bool tcp_more(void *vt, struct dns_tcp_conn *m)
{
    return dns_xfr_pump(vt);
}

static void tcp_close(void *vt)
{
    struct dns_tcp *t = vt;
    if (t->xfr)
        dns_xfr_abort(t);
    free(t);
}

static const struct dns_tcp_ops tcp_ops = {tcp_message, tcp_more, tcp_close};

static void *tcp_create(struct conn *c, const struct listener *l, uint64_t id, const char *peer)
{
    struct dns_tcp *t = xcalloc(1, sizeof *t);
    t->dw = dns_worker_of(conn_worker(c));
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
    t->m = dns_tcp_new(c, &tcp_ops, t);
    return t->m;
}

void dns_job_done(void *vjob)
{
    struct dns_job *job = vjob;
    if (job->tcp) {
        struct dns_tcp *t = job->t;
        if (job->reply_len)
            dns_tcp_send(t->m, job->reply, job->reply_len);
        t->busy = false;
        dns_tcp_release(t->m);
    } else if (job->reply_len) {
        sendto(job->fd, job->reply, job->reply_len, MSG_DONTWAIT, (struct sockaddr *)&job->peer,
               job->peer_len);
    }
    free(job->pkt);
    free(job->reply);
    dns_zcfg_unref(job->cfg);
    free(job);
}

const struct proto_ops dns_tcp_proto = {"dns", tcp_create, DNS_TCP_PROTO_OPS};
