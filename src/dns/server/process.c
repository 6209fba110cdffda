/*
 * process — one request through the engine: header, wire parse, TSIG check, then the opcode's
 * file. See server.h.
 */
#include "dns/server/server.h"

#include "core/metrics.h"

#include "dns/auth/answer.h"
#include "dns/rr.h"

#include <string.h>

size_t dns_server_refuse(const struct dns_server *srv, const struct dns_msg *q, unsigned rcode,
                         bool tcp, const struct dns_tsig_result *res, uint64_t now, uint8_t *out,
                         size_t cap)
{
    struct dns_answer_opts opts = {tcp, srv->udp_max};
    size_t len = dns_answer_error(q, rcode, &opts, out, cap);
    if (len && res && dns_server_tsig_answer(res, now, out, &len, cap) != 0)
        return 0;
    return len;
}

/* RFC 1035 §4.1.1: a request that does not parse gets FORMERR with the header alone. */
static size_t formerr(const struct dns_server *srv, const struct dns_msg *q, bool tcp,
                      uint8_t *out, size_t cap)
{
    struct dns_msg bare;
    memset(&bare, 0, sizeof bare);
    bare.hdr = q->hdr;
    bare.hdr.qdcount = 0;
    return dns_server_refuse(srv, &bare, DNS_RCODE_FORMERR, tcp, NULL, 0, out, cap);
}

/* A request whose TSIG failed: NOTAUTH with the TSIG error (RFC 8945 §5.2). */
static size_t tsig_refused(const struct dns_server *srv, const struct dns_msg *q,
                           const struct dns_tsig_result *res, const struct dns_server_req *req,
                           uint8_t *out, size_t cap)
{
    if (res->error == DNS_TSIG_FORMERR)
        return dns_server_refuse(srv, q, DNS_RCODE_FORMERR, req->tcp, NULL, 0, out, cap);
    return dns_server_refuse(srv, q, DNS_RCODE_NOTAUTH, req->tcp, res, req->now, out, cap);
}

static bool is_xfr(const struct dns_msg *q, uint16_t type)
{
    return q->hdr.opcode == DNS_OPCODE_QUERY && q->hdr.qdcount == 1 && q->qd[0].qtype == type;
}

static struct metric queries = METRIC("pigeon_dns_queries_total",
                                     "Queries to the authoritative name server (UDP and TCP)");

size_t dns_server_process(const struct dns_server *srv, const struct dns_view *v,
                          const struct dns_server_req *req, struct dns_arena *arena, uint8_t *out,
                          size_t cap, struct dns_server_job_out *job)
{
    memset(job, 0, sizeof *job);
    metric_inc(&queries);
    struct dns_header h;
    if (dns_header_read(req->pkt, req->len, &h) != 0 || h.qr)
        return 0; /* never answer a response: no reflection loops */
    struct dns_msg q;
    if (dns_msg_parse(req->pkt, req->len, &q, arena) != 0)
        return formerr(srv, &q, req->tcp, out, cap);
    struct dns_tsig_result res;
    memset(&res, 0, sizeof res);
    if (q.tsig && dns_tsig_verify(req->pkt, req->len, &q, srv->keys, srv->nkeys, req->now, NULL,
                                  0, &res) != 0)
        return tsig_refused(srv, &q, &res, req, out, cap);
    const struct dns_tsig_result *tr = q.tsig ? &res : NULL;
    if (h.opcode == DNS_OPCODE_UPDATE)
        return dns_server_update(srv, v, req, &q, tr, out, cap, job);
    if (is_xfr(&q, DNS_TYPE_AXFR))
        return dns_server_axfr(srv, v, req, &q, tr, out, cap, job);
    if (is_xfr(&q, DNS_TYPE_IXFR))
        return dns_server_ixfr(srv, v, req, &q, tr, out, cap, job);
    size_t len;
    if (h.opcode == DNS_OPCODE_NOTIFY && h.qdcount == 1)
        len = dns_server_notify(srv, req, &q, tr, out, cap, job);
    else
        len = dns_server_query(srv, v, &q, req->tcp, out, cap);
    if (len && tr && dns_server_tsig_answer(tr, req->now, out, &len, cap) != 0)
        return 0;
    return len;
}
