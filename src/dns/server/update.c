/*
 * update — UPDATE (RFC 2136). On the worker (dns_server_update): §3.1 zone section (one SOA
 * question of class IN naming a zone of ours), primary only (§6: no forwarding), the
 * allow_update ACL (addresses or TSIG keys); then the request is a job for the control
 * thread, where zones change. There (dns_server_update_apply) the prerequisites and updates
 * are applied by dns/xfr/update.c; the caller journals the new version before answering
 * (dns_server_update_answer). See server.h.
 */
#include "dns/server/server_int.h"

#include "core/log.h"
#include "dns/auth/answer.h"
#include "dns/rr.h"
#include "dns/xfr/update.h"

#include <netinet/in.h>
#include <string.h>

size_t dns_server_update(const struct dns_server *srv, const struct dns_view *v,
                         const struct dns_server_req *req, const struct dns_msg *q,
                         const struct dns_tsig_result *res, uint8_t *out, size_t cap,
                         struct dns_server_job_out *job)
{
    bool tcp = req->tcp;
    if (q->hdr.qdcount != 1 || q->qd[0].qtype != DNS_TYPE_SOA) /* §3.1.1 */
        return dns_server_refuse(srv, q, DNS_RCODE_FORMERR, tcp, res, req->now, out, cap);
    long zi = dns_server_zone_find(srv, q->qd[0].qname);
    if (zi < 0 || q->qd[0].qclass != DNS_CLASS_IN)
        return dns_server_refuse(srv, q, DNS_RCODE_NOTAUTH, tcp, res, req->now, out, cap);
    const struct dns_zconf *zc = &srv->zc[zi];
    if (zc->secondary) /* §6: forwarding to the primary is not done */
        return dns_server_refuse(srv, q, DNS_RCODE_NOTIMP, tcp, res, req->now, out, cap);
    if (!dns_acl_match(&zc->upd_acl, req->peer, dns_server_verified_key(res))) {
        char who[INET6_ADDRSTRLEN];
        dns_server_addr_text(req->peer, who, sizeof who);
        log_info("dns: UPDATE of %s refused to %s%s", zc->name, who, res ? " (key)" : "");
        return dns_server_refuse(srv, q, DNS_RCODE_REFUSED, tcp, res, req->now, out, cap);
    }
    if ((size_t)zi >= v->n || !v->z[zi].zone)
        return dns_server_refuse(srv, q, DNS_RCODE_SERVFAIL, tcp, res, req->now, out, cap);
    job->kind = DNS_JOB_UPDATE;
    job->zi = (size_t)zi;
    dns_tsig_reply_init(&job->tsig, res);
    return 0;
}

int dns_server_update_apply(const struct dns_zone *z, const uint8_t *pkt, size_t len,
                            struct dns_arena *arena, struct dns_server_update_result *res)
{
    memset(res, 0, sizeof *res);
    struct dns_msg q;
    if (dns_msg_parse(pkt, len, &q, arena) != 0)
        return -1;
    if (!z) {
        res->rcode = DNS_RCODE_SERVFAIL;
        res->why = "zone not served";
        return 0;
    }
    struct dns_update_result u;
    dns_update_apply(z, &q, &u);
    *res = (struct dns_server_update_result){u.rcode, u.zone, u.diff, u.why};
    return 0;
}

size_t dns_server_update_answer(const uint8_t *pkt, size_t len, unsigned rcode, bool tcp,
                                uint16_t udp_max, struct dns_tsig_reply *tsig, uint64_t now,
                                struct dns_arena *arena, uint8_t *out, size_t cap)
{
    struct dns_msg q;
    if (dns_msg_parse(pkt, len, &q, arena) != 0)
        return 0;
    struct dns_answer_opts opts = {tcp, udp_max};
    size_t n = dns_answer_error(&q, rcode, &opts, out, cap);
    if (n && dns_tsig_reply_sign(tsig, now, out, &n, cap) != 0)
        return 0;
    return n;
}
