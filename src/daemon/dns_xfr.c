/*
 * dns_xfr — the worker side of zone transfers out (AXFR, IXFR over TCP; IXFR over UDP answered
 * with the SOA alone), NOTIFY received as a secondary, and UPDATE requests handed to the
 * control thread. Access is checked here: allow_transfer / allow_update (address prefixes or
 * TSIG keys), and the primary's address or key for NOTIFY. See dns_int.h.
 */
#include "core/log.h"
#include "core/xmalloc.h"
#include "daemon/conn.h"
#include "daemon/daemon.h"
#include "daemon/dns_int.h"
#include "dns/auth/answer.h"
#include "dns/rr.h"
#include "dns/xfr/xfr.h"
#include "dns/zone.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#define XFR_BURST (256 * 1024) /* bytes written before waiting for the socket to drain */

/* An error answer, signed when the request was. */
static size_t refuse(const struct dns_msg *q, unsigned rcode, bool tcp, uint16_t udp_max,
                     const struct dns_tsig_result *res, uint8_t *out, size_t cap)
{
    struct dns_answer_opts opts = {tcp, udp_max};
    size_t len = dns_answer_error(q, rcode, &opts, out, cap);
    if (len && res && dns_tsig_answer(res, out, &len, cap) != 0)
        return 0;
    return len;
}

static const uint8_t *verified_key(const struct dns_tsig_result *res)
{
    return res && res->key && res->error == DNS_TSIG_OK ? res->key->name : NULL;
}

/* ---- transfers out ---- */

/* RFC 1995 §2: over UDP the SOA alone; the client then asks over TCP. */
static size_t ixfr_udp(const struct dns_msg *q, const struct dns_zone *z, uint8_t *out, size_t cap)
{
    struct dns_header h = {.id = q->hdr.id, .qr = true, .aa = true};
    struct dns_builder b;
    size_t max = q->edns.present ? (q->edns.udp_size < 512 ? 512 : q->edns.udp_size) : 512;
    dns_builder_init(&b, out, cap, max < cap ? max : cap, &h);
    const struct dns_rrset *soa = dns_zone_soa(z);
    dns_builder_question(&b, q->qd[0].qname, q->qd[0].qtype, q->qd[0].qclass);
    dns_builder_rr(&b, DNS_SEC_ANSWER, dns_zone_origin(z), DNS_TYPE_SOA, DNS_CLASS_IN, soa->ttl,
                   soa->rdata[0].data, soa->rdata[0].len);
    return dns_builder_finish(&b);
}

size_t dns_xfr_serve(struct dns_worker *dw, struct dns_tcp *t, const struct dns_msg *q,
                     const uint8_t *pkt, size_t len, const struct sockaddr *peer,
                     const struct dns_tsig_result *res, uint8_t *out, size_t cap)
{
    struct dns_service *s = dw->s;
    uint16_t udp_max = (uint16_t)s->d->cfg.dns.udp_max;
    const char *kind = q->qd[0].qtype == DNS_TYPE_AXFR ? "AXFR" : "IXFR";
    char who[INET6_ADDRSTRLEN], zname[DNS_NAME_TEXT_MAX];
    dns_addr_text(peer, who, sizeof who);
    dns_name_to_text(q->qd[0].qname, zname, sizeof zname);
    long zi = dns_zconf_find(s, q->qd[0].qname);
    struct dns_zone *z = zi >= 0 ? dw->view->z[zi].zone : NULL;
    if (q->qd[0].qclass != DNS_CLASS_IN || !z) /* RFC 5936 §2.2.1: not authoritative */
        return refuse(q, DNS_RCODE_NOTAUTH, t != NULL, udp_max, res, out, cap);
    if (!dns_acl_match(&s->zc[zi].xfr_acl, peer, verified_key(res))) {
        log_info("dns: %s of %s refused to %s%s", kind, zname, who, res ? " (key)" : "");
        return refuse(q, DNS_RCODE_REFUSED, t != NULL, udp_max, res, out, cap);
    }
    if (!t) {
        if (q->qd[0].qtype == DNS_TYPE_AXFR) /* RFC 5936 §4.2: TCP only */
            return refuse(q, DNS_RCODE_FORMERR, false, udp_max, res, out, cap);
        size_t n = ixfr_udp(q, z, out, cap);
        if (n && res && dns_tsig_answer(res, out, &n, cap) != 0)
            return 0;
        return n;
    }
    struct dns_xfrout *x = xcalloc(1, sizeof *x);
    if (dns_xfrout_init(x, q, z, dw->view->z[zi].hist) != 0) {
        free(x);
        return refuse(q, DNS_RCODE_FORMERR, true, udp_max, res, out, cap);
    }
    log_info("dns: %s of %s (serial %u, %s) to %s", kind, zname, dns_zone_serial(z),
             x->mode == DNS_XFROUT_AXFR   ? "full"
             : x->mode == DNS_XFROUT_IXFR ? "incremental"
                                          : "up to date",
             who);
    t->xfr = x;
    dns_tsig_reply_init(&t->xfr_tsig, res);
    (void)pkt;
    (void)len;
    dns_xfr_pump(t);
    return 0;
}

void dns_xfr_abort(struct dns_tcp *t)
{
    dns_xfrout_clear(t->xfr);
    free(t->xfr);
    t->xfr = NULL;
}

bool dns_xfr_pump(struct dns_tcp *t)
{
    struct dns_xfrout *x = t->xfr;
    uint8_t *buf = t->dw->tcp_out + 2; /* dns_tcp_send writes the prefix in front */
    size_t reserve = t->xfr_tsig.key ? dns_tsig_rr_size(t->xfr_tsig.key, 0) : 0;
    size_t burst = 0;
    while (burst < XFR_BURST) {
        size_t len = dns_xfrout_next(x, buf, DNS_MSG_MAX, reserve);
        if (len == 0)
            break;
        /* RFC 8945 §5.3.1: we sign every message of the stream. */
        if (dns_tsig_reply_sign(&t->xfr_tsig, buf, &len, DNS_MSG_MAX) != 0) {
            x->failed = true;
            break;
        }
        dns_tcp_send(t, buf, len);
        burst += len;
    }
    if (!x->failed && !dns_xfrout_done(x))
        return true;
    if (x->failed) {
        log_warn("dns: transfer to %s failed after %u messages", t->peer_text, x->nmsg);
        t->closing = true;
    } else {
        log_info("dns: transfer to %s done: %zu records in %u messages", t->peer_text, x->nrecords,
                 x->nmsg);
    }
    dns_xfr_abort(t);
    return false;
}

/* ---- NOTIFY in (RFC 1996 §3.10: accepted from our primary only) ---- */

static bool same_addr(const struct sockaddr *a, const struct sockaddr_storage *b)
{
    if (a->sa_family != b->ss_family)
        return false;
    if (a->sa_family == AF_INET)
        return !memcmp(&((const struct sockaddr_in *)a)->sin_addr,
                       &((const struct sockaddr_in *)b)->sin_addr, 4);
    if (a->sa_family == AF_INET6)
        return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                       &((const struct sockaddr_in6 *)b)->sin6_addr, 16);
    return false;
}

size_t dns_notify_request(struct dns_worker *dw, const struct dns_msg *q,
                          const struct sockaddr *peer, const struct dns_tsig_result *res,
                          uint8_t *out, size_t cap)
{
    struct dns_service *s = dw->s;
    uint16_t udp_max = (uint16_t)s->d->cfg.dns.udp_max;
    char who[INET6_ADDRSTRLEN], zname[DNS_NAME_TEXT_MAX];
    dns_addr_text(peer, who, sizeof who);
    dns_name_to_text(q->qd[0].qname, zname, sizeof zname);
    long zi = dns_zconf_find(s, q->qd[0].qname);
    if (zi < 0 || !s->zc[zi].secondary || q->qd[0].qtype != DNS_TYPE_SOA) {
        log_info("dns: NOTIFY for %s from %s: not a secondary zone of ours", zname, who);
        return refuse(q, DNS_RCODE_NOTAUTH, false, udp_max, NULL, out, cap);
    }
    const struct dns_zconf *zc = &s->zc[zi];
    const uint8_t *key = verified_key(res);
    bool ok = zc->primary_key ? key && dns_name_eq(key, zc->primary_key->name)
                              : same_addr(peer, &zc->primary.sa);
    if (!ok) {
        log_info("dns: NOTIFY for %s from %s refused (not the primary)", zname, who);
        return refuse(q, DNS_RCODE_REFUSED, false, udp_max, NULL, out, cap);
    }
    log_info("dns: NOTIFY for %s from %s: refreshing", zname, who);
    dns_ctl_notified(s->ctl, (size_t)zi);
    struct dns_answer_opts opts = {false, udp_max};
    size_t len = dns_answer_error(q, DNS_RCODE_NOERROR, &opts, out, cap);
    if (len)
        out[2] |= 0x04; /* AA */
    return len;
}

/* ---- UPDATE (RFC 2136 §3.1-3.3 here, the rest on the control thread) ---- */

size_t dns_update_request(struct dns_worker *dw, struct dns_job *job, const struct dns_msg *q,
                          const struct dns_tsig_result *res, uint8_t *out, size_t cap, bool *queued)
{
    struct dns_service *s = dw->s;
    uint16_t udp_max = (uint16_t)s->d->cfg.dns.udp_max;
    *queued = false;
    char who[INET6_ADDRSTRLEN];
    dns_addr_text((const struct sockaddr *)&job->peer, who, sizeof who);
    /* §3.1.1: one zone, type SOA, class IN */
    if (q->hdr.qdcount != 1 || q->qd[0].qtype != DNS_TYPE_SOA)
        return refuse(q, DNS_RCODE_FORMERR, job->tcp, udp_max, res, out, cap);
    long zi = dns_zconf_find(s, q->qd[0].qname);
    if (zi < 0 || q->qd[0].qclass != DNS_CLASS_IN)
        return refuse(q, DNS_RCODE_NOTAUTH, job->tcp, udp_max, res, out, cap);
    const struct dns_zconf *zc = &s->zc[zi];
    if (zc->secondary) /* §6: forwarding to the primary is not done */
        return refuse(q, DNS_RCODE_NOTIMP, job->tcp, udp_max, res, out, cap);
    if (!dns_acl_match(&zc->upd_acl, (const struct sockaddr *)&job->peer, verified_key(res))) {
        log_info("dns: UPDATE of %s refused to %s%s", zc->name, who, res ? " (key)" : "");
        return refuse(q, DNS_RCODE_REFUSED, job->tcp, udp_max, res, out, cap);
    }
    if (!dw->view->z[zi].zone)
        return refuse(q, DNS_RCODE_SERVFAIL, job->tcp, udp_max, res, out, cap);
    job->zi = (size_t)zi;
    dns_tsig_reply_init(&job->tsig, res);
    if (job->tcp)
        job->t->busy = true;
    *queued = true;
    dns_ctl_update(s->ctl, job);
    return 0;
}
