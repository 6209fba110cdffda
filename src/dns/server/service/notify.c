/*
 * notify — on the control thread: one UDP request/response exchange with retries (used
 * for NOTIFY, a secondary's SOA queries and the CDS scan), continued over TCP (tcpq.c) when
 * the answer is truncated, and NOTIFY (RFC 1996) sent to each address
 * of a zone's `notify` list when its serial changes, signed with the list's key if it names
 * one, retried until answered (RFC 1996 §3.6). See service_int.h.
 */
#include "core/log.h"
#include "core/xmalloc.h"
#include "dns/server/service/service_int.h"
#include "dns/rr.h"
#include "dns/xfr/xfr.h"
#include "dns/zone.h"

#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define NOTIFY_TRIES 5
#define NOTIFY_TIMEOUT_MS 2000

/* ---- one UDP exchange ---- */

struct dns_udpq {
    int fd;
    struct event *ev;
    struct dns_remote to;
    struct dns_tcpq *tcp; /* the exchange after a truncated answer */
    uint8_t *msg;
    size_t len;
    unsigned tries_left;
    unsigned timeout_ms;
    dns_udpq_cb cb;
    void *arg;
};

static void udpq_free(struct dns_udpq *q)
{
    dns_tcpq_cancel(q->tcp);
    if (q->ev)
        event_free(q->ev);
    if (q->fd >= 0)
        close(q->fd);
    free(q->msg);
    free(q);
}

void dns_udpq_cancel(struct dns_udpq *q)
{
    if (q)
        udpq_free(q);
}

static void udpq_arm(struct dns_udpq *q)
{
    struct timeval tv = {q->timeout_ms / 1000, (q->timeout_ms % 1000) * 1000};
    event_add(q->ev, &tv);
}

static void udpq_send(struct dns_udpq *q)
{
    q->tries_left--;
    if (send(q->fd, q->msg, q->len, MSG_DONTWAIT) < 0)
        log_debug("dns: send: %s", strerror(errno));
    udpq_arm(q);
}

static void on_tcp_answer(void *vq, const uint8_t *resp, size_t len)
{
    struct dns_udpq *q = vq;
    q->tcp = NULL; /* freed by itself after this */
    q->cb(q->arg, resp, len);
    udpq_free(q);
}

/* RFC 7766 §5: a truncated answer is asked again over TCP, with the same message. */
static void udpq_to_tcp(struct dns_udpq *q)
{
    log_debug("dns: the answer from %s is truncated: asking over TCP", q->to.text);
    q->tcp = dns_tcpq_start(event_get_base(q->ev), &q->to, q->msg, q->len,
                            q->timeout_ms * (q->tries_left + 1), on_tcp_answer, q);
    if (!q->tcp) {
        q->cb(q->arg, NULL, 0);
        udpq_free(q);
    }
}

static void on_udpq(evutil_socket_t fd, short what, void *vq)
{
    struct dns_udpq *q = vq;
    if (what & EV_READ) {
        uint8_t buf[DNS_MSG_MAX];
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        /* Connected socket: only the peer's datagrams arrive. Same ID, QR set. */
        if (n >= DNS_HEADER_LEN && buf[0] == q->msg[0] && buf[1] == q->msg[1] && (buf[2] & 0x80)) {
            if (buf[2] & 0x02) { /* TC */
                event_del(q->ev);
                return udpq_to_tcp(q);
            }
            q->cb(q->arg, buf, (size_t)n);
            udpq_free(q);
            return;
        }
        udpq_arm(q); /* something else (ICMP error, stray packet): keep waiting */
        return;
    }
    if (q->tries_left > 0) {
        udpq_send(q);
        return;
    }
    q->cb(q->arg, NULL, 0);
    udpq_free(q);
}

struct dns_udpq *dns_udpq_start(struct event_base *base, const struct dns_remote *to,
                                const uint8_t *msg, size_t len, unsigned tries, unsigned timeout_ms,
                                dns_udpq_cb cb, void *arg)
{
    struct dns_udpq *q = xcalloc(1, sizeof *q);
    q->fd = socket(to->sa.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    q->to = *to;
    q->msg = xmemdup(msg, len);
    q->len = len;
    q->tries_left = tries ? tries : 1;
    q->timeout_ms = timeout_ms;
    q->cb = cb;
    q->arg = arg;
    if (q->fd < 0 || connect(q->fd, (const struct sockaddr *)&to->sa, to->len) != 0) {
        log_warn("dns: cannot reach %s: %s", to->text, strerror(errno));
        q->tries_left = 0; /* the timeout then reports the failure from the loop */
        q->ev = evtimer_new(base, on_udpq, q);
        udpq_arm(q);
        return q;
    }
    q->ev = event_new(base, q->fd, EV_READ, on_udpq, q);
    udpq_send(q);
    return q;
}

/* ---- NOTIFY out ---- */

struct notify_one {
    struct dns_notifier *n;
    size_t zi, ti;
    uint32_t serial;
    struct dns_udpq *q;
    struct notify_one *next;
};

struct dns_notifier {
    struct dns_ctl *ctl;
    struct notify_one *pending;
};

struct dns_notifier *dns_notifier_new(struct dns_ctl *ctl)
{
    struct dns_notifier *n = xcalloc(1, sizeof *n);
    n->ctl = ctl;
    return n;
}

static void notify_unlink(struct notify_one *o)
{
    for (struct notify_one **p = &o->n->pending; *p; p = &(*p)->next)
        if (*p == o) {
            *p = o->next;
            break;
        }
}

static void on_notify_reply(void *vo, const uint8_t *resp, size_t len)
{
    struct notify_one *o = vo;
    const struct dns_zconf *zc = &dns_ctl_service(o->n->ctl)->cfg->zc[o->zi];
    const char *to = zc->notify[o->ti].text;
    if (!resp)
        log_warn("dns: NOTIFY for %s (serial %u) to %s: no answer after %d tries", zc->name,
                 o->serial, to, NOTIFY_TRIES);
    else if ((resp[3] & 0x0f) != 0)
        log_warn("dns: NOTIFY for %s (serial %u) to %s: rcode %u", zc->name, o->serial, to,
                 resp[3] & 0x0f);
    else
        log_info("dns: NOTIFY for %s (serial %u) to %s: acknowledged", zc->name, o->serial, to);
    notify_unlink(o);
    free(o);
}

static void notify_send(struct dns_notifier *n, size_t zi, size_t ti, const struct dns_zone *z)
{
    const struct dns_zconf *zc = &dns_ctl_service(n->ctl)->cfg->zc[zi];
    for (struct notify_one *o = n->pending; o; o = o->next)
        if (o->zi == zi && o->ti == ti) { /* a newer serial replaces a NOTIFY in flight */
            dns_udpq_cancel(o->q);
            notify_unlink(o);
            free(o);
            break;
        }
    uint8_t msg[1024];
    uint16_t id;
    if (getrandom(&id, sizeof id, 0) != (ssize_t)sizeof id)
        id = (uint16_t)dns_now_ms();
    const struct dns_rrset *soa = dns_zone_soa(z);
    size_t len = dns_xfr_build(msg, sizeof msg, id, DNS_OPCODE_NOTIFY, zc->origin, DNS_TYPE_SOA,
                               soa->rdata[0].data, soa->rdata[0].len, soa->ttl);
    if (len && zc->notify_key) {
        struct dns_tsig_sign_args a = {.key = zc->notify_key, .time = dns_now_sec()};
        if (dns_tsig_sign(msg, &len, sizeof msg, &a, NULL, NULL) != 0)
            len = 0;
    }
    if (!len)
        return;
    struct notify_one *o = xcalloc(1, sizeof *o);
    *o = (struct notify_one){n, zi, ti, dns_zone_serial(z), NULL, n->pending};
    n->pending = o;
    o->q = dns_udpq_start(dns_ctl_base(n->ctl), &zc->notify[ti], msg, len, NOTIFY_TRIES,
                          NOTIFY_TIMEOUT_MS, on_notify_reply, o);
}

void dns_notifier_zone_changed(struct dns_notifier *n, size_t zi, const struct dns_zone *z)
{
    const struct dns_zconf *zc = &dns_ctl_service(n->ctl)->cfg->zc[zi];
    for (size_t ti = 0; z && ti < zc->nnotify; ti++)
        notify_send(n, zi, ti, z);
}

void dns_notifier_remap(struct dns_notifier *n, const long *map, size_t nold)
{
    const struct dns_zcfg *now = dns_ctl_service(n->ctl)->cfg;
    for (struct notify_one **p = &n->pending; *p;) {
        struct notify_one *o = *p;
        long zi = o->zi < nold ? map[o->zi] : -1;
        if (zi >= 0 && o->ti < now->zc[zi].nnotify) {
            o->zi = (size_t)zi;
            p = &o->next;
            continue;
        }
        *p = o->next; /* the zone, or that secondary, is gone */
        dns_udpq_cancel(o->q);
        free(o);
    }
}

void dns_notifier_free(struct dns_notifier *n)
{
    if (!n)
        return;
    while (n->pending) {
        struct notify_one *o = n->pending;
        n->pending = o->next;
        dns_udpq_cancel(o->q);
        free(o);
    }
    free(n);
}
