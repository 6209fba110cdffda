#include "dns/resolver/transport.h"

#include "core/xmalloc.h"
#include "dns/wire.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

struct dns_query_io {
    struct event_base *base;
    struct sockaddr_storage server;
    socklen_t slen;
    uint8_t *query;
    size_t qlen;
    size_t qsec_end;          /* end of the question section in query */
    struct dns_io_params p;
    dns_io_cb cb;
    void *arg;
    unsigned tries_done;
    int fd;
    struct event *ev;
    struct bufferevent *bev;
    struct event *later;
    enum dns_io_status later_status;
};

static void finish(struct dns_query_io *q, enum dns_io_status st, const uint8_t *r, size_t n);

static void close_udp(struct dns_query_io *q)
{
    if (q->ev) {
        event_free(q->ev);
        q->ev = NULL;
    }
    if (q->fd >= 0) {
        close(q->fd);
        q->fd = -1;
    }
}

static void release(struct dns_query_io *q)
{
    close_udp(q);
    if (q->bev)
        bufferevent_free(q->bev);
    if (q->later)
        event_free(q->later);
    free(q->query);
    free(q);
}

static void finish(struct dns_query_io *q, enum dns_io_status st, const uint8_t *r, size_t n)
{
    dns_io_cb cb = q->cb;
    void *arg = q->arg;
    close_udp(q);
    cb(arg, st, r, n);
    release(q);
}

static void new_id(struct dns_query_io *q)
{
    uint8_t id[2];
    RAND_bytes(id, sizeof id);
    q->query[0] = id[0];
    q->query[1] = id[1];
}

/* RFC 5452 §9: same ID and the same question (letters compared without case). */
bool dns_io_response_matches(const uint8_t *query, size_t qsec_end, bool match_case,
                             const uint8_t *r, size_t n)
{
    if (n < DNS_HEADER_LEN || n < qsec_end || qsec_end < DNS_HEADER_LEN)
        return false;
    if (r[0] != query[0] || r[1] != query[1] || !(r[2] & 0x80))
        return false;
    if (r[4] != query[4] || r[5] != query[5])
        return false;
    for (size_t i = DNS_HEADER_LEN; i < qsec_end; i++) {
        uint8_t a = r[i], b = query[i];
        if (a != b && (match_case ||
                       !((a | 0x20) == (b | 0x20) && (a | 0x20) >= 'a' && (a | 0x20) <= 'z')))
            return false;
    }
    return true;
}

static bool acceptable(const struct dns_query_io *q, const uint8_t *r, size_t n)
{
    return dns_io_response_matches(q->query, q->qsec_end, q->p.match_case, r, n);
}

long dns_io_tcp_message(const uint8_t *in, size_t avail)
{
    if (avail < 2)
        return -1;
    size_t len = (size_t)in[0] << 8 | in[1];
    return avail - 2 < len ? -1 : (long)len;
}

/* ---- TCP ---- */

static void on_tcp_read(struct bufferevent *bev, void *vq)
{
    struct dns_query_io *q = vq;
    struct evbuffer *in = bufferevent_get_input(bev);
    uint8_t lenb[2];
    ev_ssize_t have = evbuffer_copyout(in, lenb, 2);
    if (have < 2 || dns_io_tcp_message(lenb, evbuffer_get_length(in)) < 0)
        return;
    size_t len = (size_t)lenb[0] << 8 | lenb[1];
    uint8_t *r = evbuffer_pullup(in, (ssize_t)len + 2) + 2;
    if (!acceptable(q, r, len))
        return finish(q, DNS_IO_NETWORK, NULL, 0);
    finish(q, DNS_IO_OK, r, len);
}

static void on_tcp_event(struct bufferevent *bev, short what, void *vq)
{
    struct dns_query_io *q = vq;
    if (what & BEV_EVENT_CONNECTED)
        return;
    finish(q, (what & BEV_EVENT_TIMEOUT) ? DNS_IO_TIMEOUT : DNS_IO_NETWORK, NULL, 0);
}

static void start_tcp(struct dns_query_io *q)
{
    close_udp(q);
    new_id(q);
    q->bev = bufferevent_socket_new(q->base, -1, BEV_OPT_CLOSE_ON_FREE);
    bufferevent_setcb(q->bev, on_tcp_read, NULL, on_tcp_event, q);
    struct timeval tv = {(time_t)(q->p.timeout_ms / 1000), (suseconds_t)(q->p.timeout_ms % 1000) * 1000};
    bufferevent_set_timeouts(q->bev, &tv, &tv);
    uint8_t lenb[2] = {(uint8_t)(q->qlen >> 8), (uint8_t)q->qlen};
    bufferevent_write(q->bev, lenb, 2);
    bufferevent_write(q->bev, q->query, q->qlen);
    bufferevent_enable(q->bev, EV_READ | EV_WRITE);
    if (bufferevent_socket_connect(q->bev, (struct sockaddr *)&q->server, (int)q->slen) != 0)
        finish(q, DNS_IO_NETWORK, NULL, 0);
}

/* ---- UDP ---- */

static void send_udp(struct dns_query_io *q);

static void on_udp(evutil_socket_t fd, short what, void *vq)
{
    struct dns_query_io *q = vq;
    if (what & EV_TIMEOUT) {
        if (q->tries_done < q->p.tries)
            return send_udp(q);
        return finish(q, DNS_IO_TIMEOUT, NULL, 0);
    }
    uint8_t buf[DNS_MSG_MAX];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR)
            return;
        return finish(q, DNS_IO_NETWORK, NULL, 0); /* e.g. ICMP port unreachable */
    }
    if (!acceptable(q, buf, (size_t)n))
        return; /* not ours (spoofed or stale): keep waiting until the timeout */
    if (buf[2] & 0x02) /* TC: the full answer over TCP */
        return start_tcp(q);
    finish(q, DNS_IO_OK, buf, (size_t)n);
}

static void send_udp(struct dns_query_io *q)
{
    close_udp(q);
    q->tries_done++;
    new_id(q);
    q->fd = socket(q->server.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (q->fd < 0 || connect(q->fd, (struct sockaddr *)&q->server, q->slen) != 0 ||
        send(q->fd, q->query, q->qlen, 0) != (ssize_t)q->qlen) {
        /* A send error (no route) is final for this server. */
        return finish(q, DNS_IO_NETWORK, NULL, 0);
    }
    q->ev = event_new(q->base, q->fd, EV_READ | EV_PERSIST, on_udp, q);
    struct timeval tv = {(time_t)(q->p.timeout_ms / 1000), (suseconds_t)(q->p.timeout_ms % 1000) * 1000};
    event_add(q->ev, &tv);
}

static void on_later(evutil_socket_t fd, short what, void *vq)
{
    struct dns_query_io *q = vq;
    if (q->p.tcp_only)
        return start_tcp(q);
    send_udp(q);
}

size_t dns_io_question_end(const uint8_t *query, size_t len)
{
    size_t i = DNS_HEADER_LEN;
    while (i < len && query[i] != 0)
        i += (size_t)query[i] + 1;
    return i + 5 <= len ? i + 5 : len;
}

struct dns_query_io *dns_query_io_start(struct event_base *base, const struct sockaddr *server,
                                        socklen_t slen, const uint8_t *query, size_t qlen,
                                        const struct dns_io_params *p, dns_io_cb cb, void *arg)
{
    struct dns_query_io *q = xcalloc(1, sizeof *q);
    q->base = base;
    memcpy(&q->server, server, slen < sizeof q->server ? slen : sizeof q->server);
    q->slen = slen;
    q->query = xmemdup(query, qlen);
    q->qlen = qlen;
    q->qsec_end = dns_io_question_end(query, qlen);
    q->p = *p;
    if (q->p.tries == 0)
        q->p.tries = 1;
    q->cb = cb;
    q->arg = arg;
    q->fd = -1;
    /* Start from the loop, so that the callback never runs inside this call. */
    q->later = evtimer_new(base, on_later, q);
    struct timeval now = {0, 0};
    evtimer_add(q->later, &now);
    return q;
}

void dns_query_io_cancel(struct dns_query_io *q)
{
    if (q)
        release(q);
}

/* ---- the default dns_io_ops ---- */

static struct dns_query_io *net_start(void *ctx, struct event_base *base,
                                      const struct sockaddr *server, socklen_t slen,
                                      const uint8_t *query, size_t qlen,
                                      const struct dns_io_params *p, dns_io_cb cb, void *arg)
{
    return dns_query_io_start(base, server, slen, query, qlen, p, cb, arg);
}

static void net_cancel(void *ctx, struct dns_query_io *q)
{
    dns_query_io_cancel(q);
}

static uint64_t net_now_ms(void *ctx)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

const struct dns_io_ops dns_io_network = {net_start, net_cancel, net_now_ms, NULL};
