/*
 * tcpq — on the control thread: one DNS request/response over TCP, framed by the two-byte
 * length of RFC 1035 §4.2.2. A UDP exchange (notify.c) continues here when its answer comes
 * back truncated (TC set), as RFC 7766 §5 asks of every client: the CDS scan's CDNSKEY and
 * DNSKEY answers of a child with large keys do not fit 1232 bytes. See service_int.h.
 */
#include "core/log.h"
#include "core/xmalloc.h"
#include "dns/server/service/service_int.h"
#include "dns/wire.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dns_tcpq {
    struct bufferevent *bev;
    uint8_t id[2];
    char peer[80];
    dns_udpq_cb cb;
    void *arg;
};

void dns_tcpq_cancel(struct dns_tcpq *q)
{
    if (!q)
        return;
    if (q->bev)
        bufferevent_free(q->bev);
    free(q);
}

/* The exchange is over: the callback gets the answer (NULL: none) and q is freed after it
 * (resp may point into q's buffer). */
static void tcpq_end(struct dns_tcpq *q, const uint8_t *resp, size_t len, const char *why)
{
    if (!resp)
        log_debug("dns: TCP query to %s: %s", q->peer, why);
    q->cb(q->arg, resp, len);
    dns_tcpq_cancel(q);
}

const uint8_t *dns_tcp_message_peek(struct evbuffer *in, size_t *len)
{
    uint8_t pfx[2];
    if (evbuffer_copyout(in, pfx, 2) != 2)
        return NULL;
    *len = (size_t)pfx[0] << 8 | pfx[1];
    if (evbuffer_get_length(in) < *len + 2)
        return NULL;
    return evbuffer_pullup(in, (ssize_t)*len + 2) + 2;
}

static void on_read(struct bufferevent *bev, void *vq)
{
    struct dns_tcpq *q = vq;
    size_t len;
    const uint8_t *p = dns_tcp_message_peek(bufferevent_get_input(bev), &len);
    if (!p)
        return;
    /* The peer answers this one question only: same ID, QR set. */
    if (len < DNS_HEADER_LEN || p[0] != q->id[0] || p[1] != q->id[1] || !(p[2] & 0x80))
        return tcpq_end(q, NULL, 0, "not an answer to the query");
    tcpq_end(q, p, len, NULL);
}

static void on_event(struct bufferevent *bev, short what, void *vq)
{
    (void)bev;
    if (what & BEV_EVENT_CONNECTED)
        return;
    tcpq_end(vq, NULL, 0,
             what & BEV_EVENT_TIMEOUT ? "timed out"
             : what & BEV_EVENT_EOF   ? "connection closed before the answer"
                                      : strerror(EVUTIL_SOCKET_ERROR()));
}

struct dns_tcpq *dns_tcpq_start(struct event_base *base, const struct dns_remote *to,
                                const uint8_t *msg, size_t len, unsigned timeout_ms, dns_udpq_cb cb,
                                void *arg)
{
    if (len < DNS_HEADER_LEN || len > DNS_MSG_MAX)
        return NULL;
    struct dns_tcpq *q = xcalloc(1, sizeof *q);
    memcpy(q->id, msg, 2);
    snprintf(q->peer, sizeof q->peer, "%s", to->text);
    q->cb = cb;
    q->arg = arg;
    q->bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    uint8_t pfx[2] = {(uint8_t)(len >> 8), (uint8_t)len};
    if (!q->bev || bufferevent_write(q->bev, pfx, 2) != 0 ||
        bufferevent_write(q->bev, msg, len) != 0) {
        dns_tcpq_cancel(q);
        return NULL;
    }
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    bufferevent_set_timeouts(q->bev, &tv, &tv);
    bufferevent_enable(q->bev, EV_READ | EV_WRITE);
    /* The callbacks are set once connect returned: a failure it reports at once runs the
     * event callback from inside it, and the caller hears of it by NULL instead. */
    if (bufferevent_socket_connect(q->bev, (const struct sockaddr *)&to->sa, (int)to->len) != 0) {
        log_warn("dns: cannot reach %s over TCP: %s", to->text, strerror(errno));
        dns_tcpq_cancel(q);
        return NULL;
    }
    bufferevent_setcb(q->bev, on_read, NULL, on_event, q);
    return q;
}
