/* xfrin — receiving an AXFR or IXFR answer (RFC 5936 §2.2, RFC 1995 §4). See xfr.h. */
#include "dns/xfr/xfr.h"

#include "core/err.h"
#include "core/xmalloc.h"
#include "dns/rr.h"
#include "dns/zone.h"

#include <stdlib.h>
#include <string.h>

enum { XI_START, XI_SECOND, XI_FULL, XI_DEL, XI_ADD, XI_DONE, XI_UPTODATE };

void dns_xfrin_init(struct dns_xfrin *x, const uint8_t *origin, uint16_t qtype,
                    uint32_t have_serial)
{
    memset(x, 0, sizeof *x);
    dns_name_copy(x->origin, origin);
    dns_name_lower(x->origin);
    x->qtype = qtype;
    x->have_serial = have_serial;
    dns_arena_init(&x->arena, NULL, 0);
}

void dns_xfrin_clear(struct dns_xfrin *x)
{
    dns_zone_builder_free(x->zb);
    for (size_t i = 0; i < x->ndiffs; i++)
        dns_zdiff_unref(x->diffs[i]);
    free(x->diffs);
    dns_zdiff_unref(x->cur);
    dns_arena_clear(&x->arena);
    memset(x, 0, sizeof *x);
}

static int fail(struct dns_xfrin *x, const char *why)
{
    x->err = why;
    return ERR_PARSE;
}

static bool is_soa(const struct dns_xfrin *x, const struct dns_rr *rr)
{
    return rr->type == DNS_TYPE_SOA && dns_name_eq(rr->owner, x->origin) &&
           dns_rdata_check(DNS_TYPE_SOA, rr->rdata, rr->rdlen) == 0;
}

static struct dns_xrr xrr_of(const struct dns_rr *rr)
{
    return (struct dns_xrr){rr->owner, rr->rdata, rr->ttl, rr->type, rr->rdlen};
}

static int full_add(struct dns_xfrin *x, const struct dns_xrr *r)
{
    const char *why = "bad record";
    if (!x->zb)
        x->zb = dns_zone_builder_new(x->origin);
    if (dns_zone_builder_add(x->zb, r->owner, r->type, r->ttl, r->rdata, r->rdlen, NULL, 0, &why) !=
        0)
        return fail(x, why);
    return 0;
}

static void diff_done(struct dns_xfrin *x)
{
    x->diffs = xrealloc(x->diffs, (x->ndiffs + 1) * sizeof *x->diffs);
    x->diffs[x->ndiffs++] = x->cur;
    x->cur = NULL;
}

/* One record of the answer stream. Returns 1 when it ended the transfer. */
static int feed_rr(struct dns_xfrin *x, const struct dns_rr *rr)
{
    bool soa = is_soa(x, rr);
    uint32_t serial = soa ? dns_soa_serial(rr->rdata, rr->rdlen) : 0;
    struct dns_xrr r = xrr_of(rr);
    if (rr->rclass != DNS_CLASS_IN)
        return fail(x, "record of a class other than IN");
    switch (x->state) {
    case XI_START:
        if (!soa)
            return fail(x, "transfer does not start with the zone's SOA");
        x->final_serial = serial;
        x->first_soa = r;
        x->first_soa.owner = dns_arena_dup(&x->arena, rr->owner, dns_name_len(rr->owner));
        x->first_soa.rdata = dns_arena_dup(&x->arena, rr->rdata, rr->rdlen);
        if (x->qtype == DNS_TYPE_IXFR && dns_serial_cmp(serial, x->have_serial) <= 0) {
            x->state = XI_UPTODATE; /* RFC 1995 §2: one SOA, not newer than ours */
            return 1;
        }
        x->state = x->qtype == DNS_TYPE_IXFR ? XI_SECOND : XI_FULL;
        return x->state == XI_FULL ? full_add(x, &x->first_soa) : 0;
    case XI_SECOND:
        if (soa && serial == x->have_serial) {
            x->cur = dns_zdiff_new();
            dns_zdiff_put(x->cur, 0, &r);
            x->state = XI_DEL;
            return 0;
        }
        x->state = XI_FULL; /* the AXFR form inside an IXFR */
        if (full_add(x, &x->first_soa) != 0)
            return ERR_PARSE;
        if (soa && serial == x->final_serial) {
            x->state = XI_DONE;
            return 1;
        }
        return full_add(x, &r);
    case XI_FULL:
        if (soa && serial == x->final_serial) {
            x->state = XI_DONE;
            return 1;
        }
        return full_add(x, &r);
    case XI_DEL:
        dns_zdiff_put(x->cur, soa ? 2 : 1, &r);
        if (soa)
            x->state = XI_ADD;
        return 0;
    case XI_ADD:
        if (!soa) {
            dns_zdiff_put(x->cur, 3, &r);
            return 0;
        }
        diff_done(x);
        if (serial == x->final_serial && x->diffs[x->ndiffs - 1]->to == x->final_serial) {
            x->state = XI_DONE;
            return 1;
        }
        x->cur = dns_zdiff_new();
        dns_zdiff_put(x->cur, 0, &r);
        x->state = XI_DEL;
        return 0;
    default:
        return fail(x, "records after the end of the transfer");
    }
}

int dns_xfrin_feed(struct dns_xfrin *x, const struct dns_msg *m)
{
    if (!m->hdr.qr)
        return fail(x, "not a response");
    if (m->rcode != DNS_RCODE_NOERROR)
        return fail(x, m->rcode == DNS_RCODE_NOTAUTH   ? "NOTAUTH (TSIG refused)"
                       : m->rcode == DNS_RCODE_REFUSED ? "REFUSED by the primary"
                                                       : "primary answered an error");
    if (m->hdr.qdcount > 1 || (m->hdr.qdcount == 1 && !dns_name_eq(m->qd[0].qname, x->origin)))
        return fail(x, "answer for another question");
    for (unsigned i = 0; i < m->count[0]; i++) {
        int rc = feed_rr(x, &m->rr[0][i]);
        if (rc < 0)
            return rc;
        x->nrecords++;
        if (rc > 0)
            return i + 1 == m->count[0] ? 1 : fail(x, "records after the closing SOA");
    }
    if (x->state == XI_START)
        return fail(x, "empty answer");
    return 0;
}

struct dns_zdiff *const *dns_xfrin_diffs(const struct dns_xfrin *x, size_t *n_out)
{
    *n_out = x->ndiffs;
    return x->diffs;
}

static int finish_incremental(struct dns_xfrin *x, const struct dns_zone *cur,
                              struct dns_zone **zone_out, struct dns_xfr_hist **hist_io,
                              size_t max_diffs, struct str *err)
{
    if (!cur) {
        str_appends(err, "incremental answer but no zone to apply it to");
        return ERR_PARSE;
    }
    struct dns_rrvec v;
    dns_rrvec_init(&v);
    dns_rrvec_from_zone(&v, cur);
    for (size_t i = 0; i < x->ndiffs; i++)
        if (dns_zdiff_apply(x->diffs[i], &v, x->origin) != 0) {
            str_appendf(err, "difference %u -> %u does not apply", x->diffs[i]->from,
                        x->diffs[i]->to);
            dns_rrvec_clear(&v);
            return ERR_PARSE;
        }
    int rc = dns_rrvec_to_zone(&v, x->origin, zone_out, err);
    dns_rrvec_clear(&v);
    if (rc != 0)
        return rc;
    for (size_t i = 0; hist_io && i < x->ndiffs; i++) {
        struct dns_xfr_hist *h = dns_xfr_hist_append(*hist_io, x->diffs[i], max_diffs);
        dns_xfr_hist_unref(*hist_io);
        *hist_io = h;
    }
    return DNS_XFRIN_INCREMENTAL;
}

int dns_xfrin_finish(struct dns_xfrin *x, const struct dns_zone *cur, struct dns_zone **zone_out,
                     struct dns_xfr_hist **hist_io, size_t max_diffs, struct str *err)
{
    *zone_out = NULL;
    if (x->state == XI_UPTODATE)
        return DNS_XFRIN_UPTODATE;
    if (x->state != XI_DONE) {
        str_appends(err, "transfer incomplete");
        return ERR_PARSE;
    }
    if (x->ndiffs)
        return finish_incremental(x, cur, zone_out, hist_io, max_diffs, err);
    struct dns_zone_builder *zb = x->zb;
    x->zb = NULL;
    int rc = dns_zone_builder_finish(zb, zone_out, err);
    return rc == 0 ? DNS_XFRIN_FULL : rc;
}
