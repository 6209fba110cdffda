/* xfrout — AXFR/IXFR answers as a message stream, and transfer/NOTIFY requests. See xfr.h. */
#include "dns/xfr/xfr.h"

#include "core/err.h"
#include "dns/rr.h"
#include "dns/zone.h"

#include <string.h>

#define OPT_LEN 11

enum { XP_SOA_FIRST, XP_BODY, XP_DIFF, XP_SOA_LAST, XP_DONE };

int dns_xfrout_init(struct dns_xfrout *x, const struct dns_msg *q, struct dns_zone *z,
                    struct dns_xfr_hist *h)
{
    memset(x, 0, sizeof *x);
    const struct dns_question *qd = &q->qd[0];
    dns_name_copy(x->qname, qd->qname);
    x->qtype = qd->qtype;
    x->qclass = qd->qclass;
    x->id = q->hdr.id;
    x->edns = q->edns.present;
    x->mode = DNS_XFROUT_AXFR;
    x->phase = XP_SOA_FIRST;
    if (qd->qtype == DNS_TYPE_IXFR) {
        /* RFC 1995 §3: the client's SOA is in the authority section. */
        const struct dns_rr *soa = NULL;
        for (unsigned i = 0; i < q->count[1]; i++)
            if (q->rr[1][i].type == DNS_TYPE_SOA &&
                dns_rdata_check(DNS_TYPE_SOA, q->rr[1][i].rdata, q->rr[1][i].rdlen) == 0)
                soa = &q->rr[1][i];
        if (!soa)
            return ERR_PARSE;
        uint32_t theirs = dns_soa_serial(soa->rdata, soa->rdlen);
        uint32_t ours = dns_zone_serial(z);
        long from = dns_xfr_hist_find(h, theirs);
        if (dns_serial_cmp(theirs, ours) >= 0 && dns_serial_cmp(theirs, ours) != 2) {
            x->mode = DNS_XFROUT_UPTODATE; /* RFC 1995 §2: the SOA alone */
        } else if (from >= 0 && h->d[h->n - 1]->to == ours) {
            x->mode = DNS_XFROUT_IXFR;
            x->diff = (size_t)from;
            x->hist = dns_xfr_hist_ref(h);
        }
        /* else: the history does not reach their serial: the AXFR form (RFC 1995 §4) */
    }
    x->zone = dns_zone_ref(z);
    return 0;
}

void dns_xfrout_clear(struct dns_xfrout *x)
{
    dns_zone_unref(x->zone);
    dns_xfr_hist_unref(x->hist);
    x->zone = NULL;
    x->hist = NULL;
}

bool dns_xfrout_done(const struct dns_xfrout *x)
{
    return x->phase == XP_DONE;
}

static void soa_rr(const struct dns_xfrout *x, struct dns_xrr *r)
{
    const struct dns_rrset *soa = dns_zone_soa(x->zone);
    *r = (struct dns_xrr){dns_zone_origin(x->zone), soa->rdata[0].data, soa->ttl, DNS_TYPE_SOA,
                          soa->rdata[0].len};
}

/* The AXFR body: every record except the apex SOA, in zone order. */
static bool cur_body(struct dns_xfrout *x, struct dns_xrr *r)
{
    size_t nn;
    const struct dns_node *nodes = dns_zone_nodes(x->zone, &nn);
    while (x->node < nn) {
        const struct dns_node *n = &nodes[x->node];
        if (x->rrset >= n->nrrsets) {
            x->node++;
            x->rrset = x->rdata = 0;
            continue;
        }
        const struct dns_rrset *rs = &n->rrsets[x->rrset];
        if (x->rdata >= rs->count || (rs->type == DNS_TYPE_SOA && x->node == 0)) {
            x->rrset++;
            x->rdata = 0;
            continue;
        }
        *r = (struct dns_xrr){n->name, rs->rdata[x->rdata].data, rs->ttl, rs->type,
                              rs->rdata[x->rdata].len};
        return true;
    }
    return false;
}

/* IXFR body: for each difference, old SOA, deletions, new SOA, additions (RFC 1995 §4). */
static bool cur_diff(struct dns_xfrout *x, struct dns_xrr *r)
{
    while (x->diff < x->hist->n) {
        const struct dns_zdiff *d = x->hist->d[x->diff];
        switch (x->part) {
        case 0:
            *r = d->old_soa;
            return true;
        case 1:
            if (x->idx < d->ndel) {
                *r = d->del[x->idx];
                return true;
            }
            x->part = 2;
            x->idx = 0;
            continue;
        case 2:
            *r = d->new_soa;
            return true;
        default:
            if (x->idx < d->nadd) {
                *r = d->add[x->idx];
                return true;
            }
            x->diff++;
            x->part = 0;
            x->idx = 0;
            continue;
        }
    }
    return false;
}

/* The record at the current position, moving past exhausted parts; false when done. */
static bool cur(struct dns_xfrout *x, struct dns_xrr *r)
{
    for (;;) {
        switch (x->phase) {
        case XP_SOA_FIRST:
        case XP_SOA_LAST:
            soa_rr(x, r);
            return true;
        case XP_BODY:
            if (cur_body(x, r))
                return true;
            x->phase = XP_SOA_LAST;
            continue;
        case XP_DIFF:
            if (cur_diff(x, r))
                return true;
            x->phase = XP_SOA_LAST;
            continue;
        default:
            return false;
        }
    }
}

static void advance(struct dns_xfrout *x)
{
    switch (x->phase) {
    case XP_SOA_FIRST:
        x->phase = x->mode == DNS_XFROUT_AXFR   ? XP_BODY
                   : x->mode == DNS_XFROUT_IXFR ? XP_DIFF
                                                : XP_DONE;
        break;
    case XP_BODY:
        x->rdata++;
        break;
    case XP_DIFF:
        if (x->part == 0 || x->part == 2) {
            x->part++;
            x->idx = 0;
        } else {
            x->idx++;
        }
        break;
    case XP_SOA_LAST:
        x->phase = XP_DONE;
        break;
    default:
        break;
    }
}

size_t dns_xfrout_next(struct dns_xfrout *x, uint8_t *out, size_t max, size_t reserve)
{
    if (x->phase == XP_DONE || x->failed)
        return 0;
    if (max > DNS_MSG_MAX)
        max = DNS_MSG_MAX;
    struct dns_header h = {.id = x->id, .qr = true, .aa = true};
    struct dns_builder b;
    dns_builder_init(&b, out, max, max, &h);
    dns_builder_reserve(&b, reserve + (x->edns ? OPT_LEN : 0));
    if (x->nmsg == 0 && dns_builder_question(&b, x->qname, x->qtype, x->qclass) != 0) {
        x->failed = true;
        return 0;
    }
    unsigned n = 0;
    struct dns_xrr r;
    while (cur(x, &r)) {
        if (dns_builder_rr(&b, DNS_SEC_ANSWER, r.owner, r.type, DNS_CLASS_IN, r.ttl, r.rdata,
                           r.rdlen) != 0)
            break;
        advance(x);
        n++;
    }
    if (n == 0 && x->phase != XP_DONE) {
        x->failed = true; /* one record larger than a whole message */
        return 0;
    }
    if (x->edns) {
        dns_builder_reserve(&b, reserve);
        dns_builder_opt(&b, DNS_UDP_DEFAULT, 0, 0, false);
    }
    x->nmsg++;
    x->nrecords += n;
    return dns_builder_finish(&b);
}

/* ---- requests ---- */

size_t dns_xfr_build(uint8_t *out, size_t cap, uint16_t id, unsigned opcode, const uint8_t *qname,
                     uint16_t qtype, const uint8_t *soa, size_t soalen, uint32_t soa_ttl)
{
    struct dns_header h = {.id = id, .opcode = (uint8_t)opcode, .aa = opcode == DNS_OPCODE_NOTIFY};
    struct dns_builder b;
    dns_builder_init(&b, out, cap, cap, &h);
    if (dns_builder_question(&b, qname, qtype, DNS_CLASS_IN) != 0)
        return 0;
    if (soa) {
        enum dns_section sec = opcode == DNS_OPCODE_NOTIFY ? DNS_SEC_ANSWER : DNS_SEC_AUTHORITY;
        if (dns_builder_rr(&b, sec, qname, DNS_TYPE_SOA, DNS_CLASS_IN, soa_ttl, soa, soalen))
            return 0;
    }
    return dns_builder_finish(&b);
}
