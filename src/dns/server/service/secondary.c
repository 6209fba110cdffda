/*
 * secondary — on the control thread: one secondary zone (a [zone] with `primary`).
 *
 * RFC 1034 §4.3.5 / RFC 1996: at the refresh interval of the zone's SOA (at once when we
 * hold no copy, and when the primary sends NOTIFY) ask the primary for its SOA over UDP; when
 * its serial is newer, transfer the zone over TCP -- IXFR from our serial (RFC 1995), falling
 * back to AXFR when the primary refuses or its answer does not apply -- and hand the result to
 * the control thread, which journals it, writes the zone file and serves it. A failure retries
 * after the SOA retry interval; after the expire interval without a successful refresh the
 * zone is answered SERVFAIL. Requests are signed with the primary's key when `primary` names
 * one, and its answers must then be signed too (RFC 8945 §5.3).
 */
#include "core/log.h"
#include "core/xmalloc.h"
#include "dns/server/service/service_int.h"
#include "dns/rr.h"
#include "dns/xfr/xfr.h"
#include "dns/zone.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define SOA_TRIES 3
#define SOA_TIMEOUT_MS 2000
#define XFR_IDLE_SEC 30      /* a transfer that sends nothing for this long has failed */
#define RETRY_NO_ZONE_SEC 10 /* retry interval before we have any SOA */
#define TIMER_MIN_SEC 1

enum sec_state { SEC_IDLE, SEC_SOA, SEC_XFR };

struct dns_secondary {
    struct dns_ctl *ctl;
    size_t zi;
    const struct dns_zconf *zc;
    enum sec_state state;
    bool again; /* a NOTIFY came during a refresh */
    struct event *refresh_ev;
    struct event *expire_ev;
    struct dns_udpq *q;
    /* the transfer in progress */
    struct bufferevent *bev;
    uint16_t qtype, id;
    bool tried_axfr;
    struct dns_xfrin xin;
    struct dns_tsig_stream ts;
    uint8_t req_mac[DNS_TSIG_MAC_MAX];
    size_t req_mac_len;
    struct dns_arena arena;
    unsigned nmsg;
};

/* SOA timers: field 0 refresh, 1 retry, 2 expire (after the two names and the serial). */
static uint32_t soa_timer(const struct dns_zone *z, int field)
{
    const struct dns_rrset *soa = dns_zone_soa(z);
    const uint8_t *rd = soa->rdata[0].data;
    size_t off = dns_name_len(rd);
    off += dns_name_len(rd + off) + 4 + 4 * (size_t)field;
    return (uint32_t)rd[off] << 24 | (uint32_t)rd[off + 1] << 16 | (uint32_t)rd[off + 2] << 8 |
           rd[off + 3];
}

static void timer_set(struct event *ev, uint32_t sec)
{
    struct timeval tv = {sec < TIMER_MIN_SEC ? TIMER_MIN_SEC : sec, 0};
    evtimer_add(ev, &tv);
}

static void refresh_start(struct dns_secondary *sec);

/* The end of a refresh: schedule the next one (refresh or retry interval). */
static void refresh_done(struct dns_secondary *sec, bool ok)
{
    struct dns_zone *z = dns_ctl_zone(sec->ctl, sec->zi);
    sec->state = SEC_IDLE;
    if (ok && z) {
        timer_set(sec->expire_ev, soa_timer(z, 2));
        timer_set(sec->refresh_ev, soa_timer(z, 0));
    } else {
        timer_set(sec->refresh_ev, z ? soa_timer(z, 1) : RETRY_NO_ZONE_SEC);
    }
    if (sec->again) {
        sec->again = false;
        refresh_start(sec);
    }
}

/* ---- the transfer (TCP) ---- */

static void xfr_end(struct dns_secondary *sec)
{
    if (sec->bev)
        bufferevent_free(sec->bev);
    sec->bev = NULL;
    dns_xfrin_clear(&sec->xin);
    dns_tsig_stream_clear(&sec->ts);
    dns_arena_clear(&sec->arena);
}

static void xfr_start(struct dns_secondary *sec, uint16_t qtype);

static void xfr_fail(struct dns_secondary *sec, const char *why)
{
    bool ixfr = sec->qtype == DNS_TYPE_IXFR;
    log_warn("dns: zone %s: %s from %s failed: %s", sec->zc->name, ixfr ? "IXFR" : "AXFR",
             sec->zc->primary.text, why);
    xfr_end(sec);
    if (ixfr && !sec->tried_axfr) /* RFC 1995 §4: fall back to a full transfer */
        return xfr_start(sec, DNS_TYPE_AXFR);
    refresh_done(sec, false);
}

static void xfr_complete(struct dns_secondary *sec)
{
    struct dns_zone *cur = dns_ctl_zone(sec->ctl, sec->zi), *z = NULL;
    struct str err = STR_INIT;
    int rc = dns_xfrin_finish(&sec->xin, cur, &z, NULL, DNS_HIST_MAX, &err);
    if (rc < 0) {
        char why[300];
        snprintf(why, sizeof why, "%s", str_cstr(&err));
        str_clear(&err);
        return xfr_fail(sec, why);
    }
    str_clear(&err);
    log_info("dns: zone %s: %s from %s: %zu records in %u messages%s", sec->zc->name,
             sec->qtype == DNS_TYPE_IXFR ? "IXFR" : "AXFR", sec->zc->primary.text,
             sec->xin.nrecords, sec->nmsg, rc == DNS_XFRIN_UPTODATE ? ", already up to date" : "");
    if (rc == DNS_XFRIN_INCREMENTAL) {
        size_t n;
        struct dns_zdiff *const *d = dns_xfrin_diffs(&sec->xin, &n);
        dns_ctl_install(sec->ctl, sec->zi, z, false, d, n);
    } else if (rc == DNS_XFRIN_FULL) {
        dns_ctl_install(sec->ctl, sec->zi, z, true, NULL, 0);
    }
    xfr_end(sec);
    refresh_done(sec, true);
}

/* One response message of the transfer. 1 done, 0 more, -1 failed (reported). */
static int xfr_message(struct dns_secondary *sec, const uint8_t *p, size_t len)
{
    struct dns_msg m;
    dns_arena_reset(&sec->arena);
    sec->nmsg++;
    if (dns_msg_parse(p, len, &m, &sec->arena) != 0) {
        xfr_fail(sec, "malformed message");
        return -1;
    }
    if (m.hdr.id != sec->id) {
        xfr_fail(sec, "message with another ID");
        return -1;
    }
    if (sec->zc->primary_key && dns_tsig_stream_feed(&sec->ts, p, len, &m, dns_now_sec()) != 0) {
        xfr_fail(sec, "TSIG verification failed");
        return -1;
    }
    int rc = dns_xfrin_feed(&sec->xin, &m);
    if (rc < 0) {
        xfr_fail(sec, sec->xin.err);
        return -1;
    }
    if (rc > 0 && sec->zc->primary_key && !dns_tsig_stream_complete(&sec->ts)) {
        xfr_fail(sec, "last message not signed");
        return -1;
    }
    return rc;
}

static void on_xfr_read(struct bufferevent *bev, void *vsec)
{
    struct dns_secondary *sec = vsec;
    struct evbuffer *in = bufferevent_get_input(bev);
    for (;;) {
        size_t len;
        const uint8_t *msg = dns_tcp_message_peek(in, &len);
        if (!msg)
            return;
        int rc = len >= DNS_HEADER_LEN ? xfr_message(sec, msg, len) : -2;
        if (rc == -2)
            xfr_fail(sec, "short message");
        if (rc < 0)
            return; /* bev freed */
        evbuffer_drain(in, len + 2);
        if (rc > 0)
            return xfr_complete(sec);
    }
}

static void on_xfr_event(struct bufferevent *bev, short what, void *vsec)
{
    struct dns_secondary *sec = vsec;
    if (what & BEV_EVENT_CONNECTED)
        return;
    xfr_fail(sec, what & BEV_EVENT_TIMEOUT ? "timed out"
                  : what & BEV_EVENT_EOF   ? "connection closed before the end"
                                           : strerror(EVUTIL_SOCKET_ERROR()));
}

/* Builds (and signs) the transfer request; 0 when it could not be built. */
static size_t xfr_request(struct dns_secondary *sec, uint8_t *msg, size_t cap)
{
    struct dns_zone *cur = dns_ctl_zone(sec->ctl, sec->zi);
    const struct dns_rrset *soa = cur && sec->qtype == DNS_TYPE_IXFR ? dns_zone_soa(cur) : NULL;
    size_t len = dns_xfr_build(msg, cap, sec->id, DNS_OPCODE_QUERY, sec->zc->origin, sec->qtype,
                               soa ? soa->rdata[0].data : NULL, soa ? soa->rdata[0].len : 0,
                               soa ? soa->ttl : 0);
    if (len && sec->zc->primary_key) {
        struct dns_tsig_sign_args a = {.key = sec->zc->primary_key, .time = dns_now_sec()};
        if (dns_tsig_sign(msg, &len, cap, &a, sec->req_mac, &sec->req_mac_len) != 0)
            return 0;
        dns_tsig_stream_init(&sec->ts, sec->zc->primary_key, sec->req_mac, sec->req_mac_len);
    }
    return len;
}

static void xfr_start(struct dns_secondary *sec, uint16_t qtype)
{
    struct dns_zone *cur = dns_ctl_zone(sec->ctl, sec->zi);
    if (!cur)
        qtype = DNS_TYPE_AXFR;
    sec->state = SEC_XFR;
    sec->qtype = qtype;
    sec->tried_axfr |= qtype == DNS_TYPE_AXFR;
    sec->nmsg = 0;
    if (getrandom(&sec->id, sizeof sec->id, 0) != (ssize_t)sizeof sec->id)
        sec->id = (uint16_t)dns_now_ms();
    dns_xfrin_init(&sec->xin, sec->zc->origin, qtype, cur ? dns_zone_serial(cur) : 0);
    dns_arena_init(&sec->arena, NULL, 0);
    uint8_t msg[1024];
    size_t len = xfr_request(sec, msg + 2, sizeof msg - 2);
    sec->bev = bufferevent_socket_new(dns_ctl_base(sec->ctl), -1, BEV_OPT_CLOSE_ON_FREE);
    if (!len || !sec->bev) {
        sec->qtype = DNS_TYPE_AXFR; /* no fallback from here */
        return xfr_fail(sec, "cannot build the request");
    }
    msg[0] = (uint8_t)(len >> 8);
    msg[1] = (uint8_t)len;
    bufferevent_setcb(sec->bev, on_xfr_read, NULL, on_xfr_event, sec);
    struct timeval idle = {XFR_IDLE_SEC, 0};
    bufferevent_set_timeouts(sec->bev, &idle, &idle);
    bufferevent_write(sec->bev, msg, len + 2);
    bufferevent_enable(sec->bev, EV_READ | EV_WRITE);
    if (bufferevent_socket_connect(sec->bev, (struct sockaddr *)&sec->zc->primary.sa,
                                   (int)sec->zc->primary.len) != 0) {
        sec->qtype = DNS_TYPE_AXFR;
        xfr_fail(sec, strerror(errno));
    }
}

/* ---- the SOA query (UDP) ---- */

/* The serial in the answer's SOA, or -1 when the answer is not a usable one. */
static long soa_answer_serial(struct dns_secondary *sec, const uint8_t *resp, size_t len)
{
    struct dns_arena a;
    dns_arena_init(&a, NULL, 0);
    struct dns_msg m;
    long serial = -1;
    if (dns_msg_parse(resp, len, &m, &a) == 0 && m.rcode == DNS_RCODE_NOERROR && m.hdr.aa &&
        (!sec->zc->primary_key ||
         (m.tsig &&
          dns_tsig_verify(resp, len, &m, sec->zc->primary_key, 1, dns_now_sec(), sec->req_mac,
                          sec->req_mac_len, &(struct dns_tsig_result){0}) == 0)))
        for (unsigned i = 0; i < m.count[0]; i++)
            if (m.rr[0][i].type == DNS_TYPE_SOA && dns_name_eq(m.rr[0][i].owner, sec->zc->origin))
                serial = (long)dns_soa_serial(m.rr[0][i].rdata, m.rr[0][i].rdlen);
    dns_arena_clear(&a);
    return serial;
}

static void on_soa(void *vsec, const uint8_t *resp, size_t len)
{
    struct dns_secondary *sec = vsec;
    sec->q = NULL;
    long serial = resp ? soa_answer_serial(sec, resp, len) : -1;
    if (serial < 0) {
        log_warn("dns: zone %s: no usable SOA answer from %s", sec->zc->name,
                 sec->zc->primary.text);
        return refresh_done(sec, false);
    }
    struct dns_zone *cur = dns_ctl_zone(sec->ctl, sec->zi);
    if (cur && dns_serial_cmp((uint32_t)serial, dns_zone_serial(cur)) != 1)
        return refresh_done(sec, true); /* up to date */
    sec->tried_axfr = false;
    xfr_start(sec, DNS_TYPE_IXFR);
}

static void refresh_start(struct dns_secondary *sec)
{
    if (sec->state != SEC_IDLE) {
        sec->again = true;
        return;
    }
    evtimer_del(sec->refresh_ev);
    uint8_t msg[1024];
    uint16_t id;
    if (getrandom(&id, sizeof id, 0) != (ssize_t)sizeof id)
        id = (uint16_t)dns_now_ms();
    size_t len = dns_xfr_build(msg, sizeof msg, id, DNS_OPCODE_QUERY, sec->zc->origin, DNS_TYPE_SOA,
                               NULL, 0, 0);
    sec->req_mac_len = 0;
    if (len && sec->zc->primary_key) {
        struct dns_tsig_sign_args a = {.key = sec->zc->primary_key, .time = dns_now_sec()};
        if (dns_tsig_sign(msg, &len, sizeof msg, &a, sec->req_mac, &sec->req_mac_len) != 0)
            len = 0;
    }
    if (!len)
        return refresh_done(sec, false);
    sec->state = SEC_SOA;
    sec->q = dns_udpq_start(dns_ctl_base(sec->ctl), &sec->zc->primary, msg, len, SOA_TRIES,
                            SOA_TIMEOUT_MS, on_soa, sec);
}

static void on_refresh(evutil_socket_t fd, short what, void *vsec)
{
    refresh_start(vsec);
}

static void on_expire(evutil_socket_t fd, short what, void *vsec)
{
    struct dns_secondary *sec = vsec;
    dns_ctl_expire(sec->ctl, sec->zi);
}

/* ---- life cycle ---- */

struct dns_secondary *dns_secondary_new(struct dns_ctl *ctl, size_t zi, bool loaded)
{
    struct dns_secondary *sec = xcalloc(1, sizeof *sec);
    sec->ctl = ctl;
    sec->zi = zi;
    sec->zc = &dns_ctl_service(ctl)->cfg->zc[zi];
    sec->refresh_ev = evtimer_new(dns_ctl_base(ctl), on_refresh, sec);
    sec->expire_ev = evtimer_new(dns_ctl_base(ctl), on_expire, sec);
    /* A copy from disk serves at once and is checked with the primary right away. */
    struct timeval now = {0, 1000};
    evtimer_add(sec->refresh_ev, &now);
    if (loaded)
        timer_set(sec->expire_ev, soa_timer(dns_ctl_zone(ctl, zi), 2));
    return sec;
}

void dns_secondary_notified(struct dns_secondary *sec)
{
    refresh_start(sec);
}

void dns_secondary_free(struct dns_secondary *sec)
{
    if (!sec)
        return;
    dns_udpq_cancel(sec->q);
    if (sec->state == SEC_XFR)
        xfr_end(sec);
    event_free(sec->refresh_ev);
    event_free(sec->expire_ev);
    free(sec);
}
