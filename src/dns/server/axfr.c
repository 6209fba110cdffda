/*
 * axfr — AXFR out (RFC 5936), and what IXFR shares with it: the access check
 * (allow_transfer: address prefixes or TSIG keys) and the signed message stream.
 * See server.h.
 */
#include "dns/server/server_int.h"

#include "core/log.h"
#include "core/xmalloc.h"
#include "dns/rr.h"
#include "dns/zone.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

size_t dns_server_xfr_begin(const struct dns_server *srv, const struct dns_view *v,
                            const struct dns_server_req *req, const struct dns_msg *q,
                            const struct dns_tsig_result *res, uint8_t *out, size_t cap,
                            long *zi_out)
{
    *zi_out = -1;
    long zi = dns_server_zone_find(srv, q->qd[0].qname);
    const struct dns_zone *z = zi >= 0 && (size_t)zi < v->n ? v->z[zi].zone : NULL;
    if (q->qd[0].qclass != DNS_CLASS_IN || !z) /* RFC 5936 §2.2.1: not authoritative */
        return dns_server_refuse(srv, q, DNS_RCODE_NOTAUTH, req->tcp, res, req->now, out, cap);
    if (!dns_acl_match(&srv->zc[zi].xfr_acl, req->peer, dns_server_verified_key(res))) {
        char who[INET6_ADDRSTRLEN], zname[DNS_NAME_TEXT_MAX];
        dns_server_addr_text(req->peer, who, sizeof who);
        dns_name_to_text(q->qd[0].qname, zname, sizeof zname);
        log_info("dns: %s of %s refused to %s%s",
                 q->qd[0].qtype == DNS_TYPE_AXFR ? "AXFR" : "IXFR", zname, who,
                 res ? " (key)" : "");
        return dns_server_refuse(srv, q, DNS_RCODE_REFUSED, req->tcp, res, req->now, out, cap);
    }
    *zi_out = zi;
    return 0;
}

size_t dns_server_xfr_start(const struct dns_server *srv, const struct dns_view *v,
                            const struct dns_server_req *req, const struct dns_msg *q,
                            const struct dns_tsig_result *res, long zi, uint8_t *out, size_t cap,
                            struct dns_server_job_out *job)
{
    struct dns_server_xfr *x = xcalloc(1, sizeof *x);
    struct dns_zone *z = v->z[zi].zone;
    if (dns_xfrout_init(&x->out, q, z, v->z[zi].hist) != 0) {
        free(x);
        return dns_server_refuse(srv, q, DNS_RCODE_FORMERR, true, res, req->now, out, cap);
    }
    char who[INET6_ADDRSTRLEN], zname[DNS_NAME_TEXT_MAX];
    dns_server_addr_text(req->peer, who, sizeof who);
    dns_name_to_text(q->qd[0].qname, zname, sizeof zname);
    log_info("dns: %s of %s (serial %u, %s) to %s",
             q->qd[0].qtype == DNS_TYPE_AXFR ? "AXFR" : "IXFR", zname,
             dns_zone_serial(z),
             x->out.mode == DNS_XFROUT_AXFR   ? "full"
             : x->out.mode == DNS_XFROUT_IXFR ? "incremental"
                                              : "up to date",
             who);
    dns_tsig_reply_init(&x->tsig, res);
    job->kind = DNS_JOB_XFR;
    job->zi = (size_t)zi;
    job->xfr = x;
    return 0;
}

size_t dns_server_axfr(const struct dns_server *srv, const struct dns_view *v,
                       const struct dns_server_req *req, const struct dns_msg *q,
                       const struct dns_tsig_result *res, uint8_t *out, size_t cap,
                       struct dns_server_job_out *job)
{
    long zi;
    size_t len = dns_server_xfr_begin(srv, v, req, q, res, out, cap, &zi);
    if (zi < 0)
        return len;
    if (!req->tcp) /* RFC 5936 §4.2: TCP only */
        return dns_server_refuse(srv, q, DNS_RCODE_FORMERR, false, res, req->now, out, cap);
    return dns_server_xfr_start(srv, v, req, q, res, zi, out, cap, job);
}

size_t dns_server_xfr_next(struct dns_server_xfr *x, uint64_t now, uint8_t *out, size_t cap)
{
    size_t reserve = x->tsig.key ? dns_tsig_rr_size(x->tsig.key, 0) : 0;
    size_t len = dns_xfrout_next(&x->out, out, cap, reserve);
    if (len == 0)
        return 0;
    /* RFC 8945 §5.3.1: we sign every message of the stream. */
    if (dns_tsig_reply_sign(&x->tsig, now, out, &len, cap) != 0) {
        x->out.failed = true;
        return 0;
    }
    return len;
}

bool dns_server_xfr_failed(const struct dns_server_xfr *x)
{
    return x->out.failed;
}

void dns_server_xfr_free(struct dns_server_xfr *x)
{
    if (!x)
        return;
    dns_xfrout_clear(&x->out);
    free(x);
}
