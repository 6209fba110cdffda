/*
 * notify — NOTIFY received (RFC 1996): accepted only for one of our secondary zones, and only
 * from its primary (§3.10: by address, or by TSIG key when the primary is configured with
 * one); the answer is sent at once and the zone's refresh is the job. See server.h.
 */
#include "dns/server/server_int.h"

#include "core/log.h"
#include "dns/auth/answer.h"
#include "dns/rr.h"

#include <netinet/in.h>
#include <string.h>

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

size_t dns_server_notify(const struct dns_server *srv, const struct dns_server_req *req,
                         const struct dns_msg *q, const struct dns_tsig_result *res, uint8_t *out,
                         size_t cap, struct dns_server_job_out *job)
{
    char who[INET6_ADDRSTRLEN], zname[DNS_NAME_TEXT_MAX];
    dns_server_addr_text(req->peer, who, sizeof who);
    dns_name_to_text(q->qd[0].qname, zname, sizeof zname);
    long zi = dns_server_zone_find(srv, q->qd[0].qname);
    if (zi < 0 || !srv->zc[zi].secondary || q->qd[0].qtype != DNS_TYPE_SOA) {
        log_info("dns: NOTIFY for %s from %s: not a secondary zone of ours", zname, who);
        return dns_server_refuse(srv, q, DNS_RCODE_NOTAUTH, req->tcp, NULL, 0, out, cap);
    }
    const struct dns_zconf *zc = &srv->zc[zi];
    const uint8_t *key = dns_server_verified_key(res);
    bool ok = zc->primary_key ? key && dns_name_eq(key, zc->primary_key->name)
                              : same_addr(req->peer, &zc->primary.sa);
    if (!ok) {
        log_info("dns: NOTIFY for %s from %s refused (not the primary)", zname, who);
        return dns_server_refuse(srv, q, DNS_RCODE_REFUSED, req->tcp, NULL, 0, out, cap);
    }
    log_info("dns: NOTIFY for %s from %s: refreshing", zname, who);
    size_t len = dns_server_refuse(srv, q, DNS_RCODE_NOERROR, req->tcp, NULL, 0, out, cap);
    if (len)
        out[2] |= 0x04; /* AA */
    job->kind = DNS_JOB_REFRESH;
    job->zi = (size_t)zi;
    return len;
}
