/*
 * ixfr — IXFR out (RFC 1995): over UDP the SOA alone (§2: the client then asks over TCP),
 * over TCP the differences from the client's serial, the full zone when the history does not
 * reach back that far, or the SOA alone when the client is up to date. See server.h.
 */
#include "dns/server/server_int.h"

#include "dns/rr.h"
#include "dns/zone.h"

static size_t soa_only(const struct dns_msg *q, const struct dns_zone *z, uint8_t *out,
                       size_t cap)
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

size_t dns_server_ixfr(const struct dns_server *srv, const struct dns_view *v,
                       const struct dns_server_req *req, const struct dns_msg *q,
                       const struct dns_tsig_result *res, uint8_t *out, size_t cap,
                       struct dns_server_job_out *job)
{
    long zi;
    size_t len = dns_server_xfr_begin(srv, v, req, q, res, out, cap, &zi);
    if (zi < 0)
        return len;
    if (req->tcp)
        return dns_server_xfr_start(srv, v, req, q, res, zi, out, cap, job);
    len = soa_only(q, v->z[zi].zone, out, cap);
    if (len && res && dns_server_tsig_answer(res, req->now, out, &len, cap) != 0)
        return 0;
    return len;
}
