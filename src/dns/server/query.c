/*
 * query — plain QUERY (and the opcodes the answer engine refuses): SERVFAIL inside a zone we
 * should serve but cannot (a secondary not loaded yet, or expired), else the answer engine.
 * See server.h. (DNSSEC: the DO bit is in q->edns.do_bit; the answer engine gets q whole.)
 */
#include "dns/server/server.h"

#include "dns/auth/answer.h"
#include "dns/rr.h"
#include "dns/zone.h"
#include "dns/zoneset.h"

/* True when q's name lies in a configured zone that is not served, deeper than any live one. */
static bool in_dead_zone(const struct dns_server *srv, const struct dns_view *v,
                         const struct dns_msg *q)
{
    const struct dns_zone *live = dns_zoneset_find(v->zs, q->qd[0].qname);
    unsigned live_labels = live ? dns_zone_origin_labels(live) : 0;
    for (size_t i = 0; i < v->n && i < srv->nzones; i++) {
        const uint8_t *o = srv->zc[i].origin;
        if (!v->z[i].zone && dns_name_is_sub(q->qd[0].qname, o) &&
            (!live || dns_name_labels(o) > live_labels))
            return true;
    }
    return false;
}

size_t dns_server_query(const struct dns_server *srv, const struct dns_view *v,
                        const struct dns_msg *q, bool tcp, uint8_t *out, size_t cap)
{
    struct dns_answer_opts opts = {tcp, srv->udp_max};
    if (v->any_dead && q->hdr.qdcount == 1 && q->hdr.opcode == DNS_OPCODE_QUERY &&
        in_dead_zone(srv, v, q))
        return dns_answer_error(q, DNS_RCODE_SERVFAIL, &opts, out, cap);
    return dns_answer_msg(v->zs, q, &opts, out, cap, NULL);
}
