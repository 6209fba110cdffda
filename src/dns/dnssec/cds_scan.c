/* cds_scan — a child's CDS/CDNSKEY, as a validating resolver reports them, judged for the
 * parent. See cds_scan.h. The replies are parsed by dns_msg_parse (fuzzed on its own and here
 * through fuzz_cds_scan); this file only reads the parsed records. */
#include "dns/dnssec/cds_scan.h"

#include "dns/arena.h"
#include "dns/name.h"
#include "dns/rr.h"
#include "dns/wire.h"
#include "dns/zone.h"

#include <string.h>

const uint16_t dnssec_cds_qtypes[DNSSEC_CDS_NQ] = {DNS_TYPE_CDS, DNS_TYPE_CDNSKEY,
                                                   DNS_TYPE_DNSKEY};

/* RFC 8078 §4: CDS "0 0 0 00" and CDNSKEY "0 3 0 AA==". */
static const uint8_t cds_delete[5] = {0, 0, 0, 0, 0};
static const uint8_t cdnskey_delete[5] = {0, 0, 3, 0, 0};

#define SET_MAX 16 /* records of one type read from a reply */

struct rrs {
    size_t n;
    const struct dns_rr *rr[SET_MAX];
    bool has_delete;
};

static const char no_ad[] = "the resolver did not validate the answer (no AD: insecure)";

/* The records of type at child in the answer of a validated NOERROR reply (none: NODATA).
 * NULL, or why the reply does not count (no_ad: the records are read all the same). */
static const char *answer_of(const uint8_t *child, uint16_t type, const uint8_t *pkt,
                             size_t len, struct dns_arena *a, struct dns_msg *m, struct rrs *out)
{
    memset(out, 0, sizeof *out);
    if (!pkt)
        return "the resolver did not answer";
    if (dns_msg_parse(pkt, len, m, a) != 0 || !m->hdr.qr || m->hdr.qdcount != 1 ||
        !dns_name_eq(m->qd[0].qname, child) || m->qd[0].qtype != type)
        return "the resolver's reply is malformed";
    if (m->hdr.tc)
        return "the resolver's reply is truncated";
    if (m->rcode != DNS_RCODE_NOERROR)
        return "the resolver did not answer NOERROR (bogus, or not found)";
    const uint8_t *del = type == DNS_TYPE_CDS ? cds_delete : cdnskey_delete;
    for (uint16_t i = 0; i < m->count[0]; i++) {
        const struct dns_rr *rr = &m->rr[0][i];
        if (rr->type != type || rr->rclass != DNS_CLASS_IN || !dns_name_eq(rr->owner, child))
            continue;
        if (out->n == SET_MAX)
            return "too many records";
        out->rr[out->n++] = rr;
        out->has_delete |= rr->rdlen == 5 && memcmp(rr->rdata, del, 5) == 0;
    }
    return m->hdr.ad ? NULL : no_ad;
}

static int reject(struct dnssec_cds_result *r, const char *why)
{
    r->verdict = DNSSEC_CDS_REJECT;
    r->why = why;
    r->n = 0;
    return -1;
}

static bool ds_in(const struct dnssec_cds_result *r, const uint8_t *ds, size_t len)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->len[i] == len && memcmp(r->ds[i], ds, len) == 0)
            return true;
    return false;
}

static int ds_add(struct dnssec_cds_result *r, const uint8_t *ds, size_t len)
{
    struct dnssec_ds v;
    if (len > sizeof r->ds[0] || dnssec_ds_parse(ds, len, &v) != 0)
        return reject(r, "a CDS record is malformed");
    if (ds_in(r, ds, len))
        return 0;
    if (r->n == DNSSEC_CDS_MAX)
        return reject(r, "more CDS records than a parent takes");
    memcpy(r->ds[r->n], ds, len);
    r->len[r->n++] = (uint16_t)len;
    return 0;
}

/* The DS set from CDS, or from CDNSKEY's SHA-256 digests; both: they must agree. */
static int ds_set(const uint8_t *child, const struct rrs *cds, const struct rrs *cdnskey,
                  struct dnssec_cds_result *r)
{
    for (size_t i = 0; i < cds->n; i++)
        if (ds_add(r, cds->rr[i]->rdata, cds->rr[i]->rdlen) != 0)
            return -1;
    for (size_t i = 0; i < cdnskey->n; i++) {
        uint8_t ds[4 + DNSSEC_DIGEST_MAX];
        size_t dl;
        const struct dns_rr *k = cdnskey->rr[i];
        if (dnssec_ds_make(child, k->rdata, k->rdlen, DNSSEC_DIGEST_SHA256, ds, &dl) != 0)
            return reject(r, "a CDNSKEY record is malformed");
        if (cds->n && !ds_in(r, ds, dl))
            return reject(r, "CDS and CDNSKEY disagree (RFC 7344 §4.1)");
        if (!cds->n && ds_add(r, ds, dl) != 0)
            return -1;
    }
    return 0;
}

/* RFC 7344 §4.1: some DS of the new set must match a key that signs the child's DNSKEY set
 * (the resolver validated that set; its RRSIGs came along with DO). */
static bool keeps_chain(const uint8_t *child, const struct dnssec_cds_result *r,
                        const struct dns_msg *m)
{
    for (uint16_t i = 0; i < m->count[0]; i++) {
        const struct dns_rr *k = &m->rr[0][i];
        struct dnssec_dnskey key;
        if (k->type != DNS_TYPE_DNSKEY || !dns_name_eq(k->owner, child) ||
            dnssec_dnskey_parse(k->rdata, k->rdlen, &key) != 0)
            continue;
        bool signs = false;
        for (uint16_t j = 0; j < m->count[0] && !signs; j++) {
            const struct dns_rr *s = &m->rr[0][j];
            struct dnssec_rrsig g;
            signs = s->type == DNS_TYPE_RRSIG && dns_name_eq(s->owner, child) &&
                    dnssec_rrsig_parse(s->rdata, s->rdlen, &g) == 0 &&
                    g.covered == DNS_TYPE_DNSKEY && g.tag == key.tag && g.alg == key.alg;
        }
        for (size_t d = 0; signs && d < r->n; d++) {
            struct dnssec_ds ds;
            uint8_t mine[4 + DNSSEC_DIGEST_MAX];
            size_t ml;
            if (dnssec_ds_parse(r->ds[d], r->len[d], &ds) == 0 && ds.tag == key.tag &&
                ds.alg == key.alg &&
                dnssec_ds_make(child, k->rdata, k->rdlen, ds.digest_type, mine, &ml) == 0 &&
                ml == r->len[d] && memcmp(mine, r->ds[d], ml) == 0)
                return true;
        }
    }
    return false;
}

void dnssec_cds_judge(const uint8_t *child, const uint8_t *const pkt[DNSSEC_CDS_NQ],
                      const size_t len[DNSSEC_CDS_NQ], struct dnssec_cds_result *out)
{
    memset(out, 0, sizeof *out);
    struct dns_arena a;
    dns_arena_init(&a, NULL, 0);
    struct dns_msg m[DNSSEC_CDS_NQ];
    struct rrs sets[DNSSEC_CDS_NQ];
    const char *whys[DNSSEC_CDS_NQ], *why = NULL;
    for (int q = 0; q < DNSSEC_CDS_NQ; q++) {
        whys[q] = answer_of(child, dnssec_cds_qtypes[q], pkt[q], len[q], &a, &m[q], &sets[q]);
        if (!why || (why == no_ad && whys[q])) /* a failed question says more than no AD */
            why = whys[q];
    }
    const struct rrs *cds = &sets[DNSSEC_CDS_Q_CDS], *cdnskey = &sets[DNSSEC_CDS_Q_CDNSKEY];
    bool seen = (!whys[0] || whys[0] == no_ad) && (!whys[1] || whys[1] == no_ad);
    if (seen && !cds->n && !cdnskey->n) {
        /* nothing asked, validated or not: the usual insecure child stays quiet */
        out->verdict = DNSSEC_CDS_NONE;
        out->why = "no CDS or CDNSKEY published";
    } else if (why) {
        reject(out, why);
    } else if (cds->has_delete || cdnskey->has_delete) {
        /* RFC 8078 §4: the delete record stands alone in its set */
        if ((cds->n && !(cds->has_delete && cds->n == 1)) ||
            (cdnskey->n && !(cdnskey->has_delete && cdnskey->n == 1)))
            reject(out, "a delete CDS/CDNSKEY beside other records");
        else
            out->verdict = DNSSEC_CDS_DELETE;
    } else if (ds_set(child, cds, cdnskey, out) == 0) {
        if (keeps_chain(child, out, &m[DNSSEC_CDS_Q_DNSKEY]))
            out->verdict = DNSSEC_CDS_SET;
        else
            reject(out, "no DS of the set matches a key that signs the child's DNSKEY set");
    }
    dns_arena_clear(&a);
}

size_t dnssec_cds_query(const uint8_t *child, uint16_t qtype, uint16_t id, uint8_t *out,
                        size_t cap)
{
    struct dns_header h = {.id = id, .rd = true, .ad = true};
    struct dns_builder b;
    dns_builder_init(&b, out, cap, cap, &h);
    dns_builder_question(&b, child, qtype, DNS_CLASS_IN);
    dns_builder_opt(&b, DNS_UDP_DEFAULT, 0, 0, true);
    return dns_builder_finish(&b);
}

/* Whether the cut's DS set is r's already (the zone keeps rdata in byte order). */
static bool same_set(const struct dns_rrset *ds, const struct dnssec_cds_result *r)
{
    if (r->verdict == DNSSEC_CDS_DELETE)
        return !ds;
    if (!ds || ds->count != r->n)
        return false;
    for (unsigned i = 0; i < ds->count; i++)
        if (!ds_in(r, ds->rdata[i].data, ds->rdata[i].len))
            return false;
    return true;
}

size_t dnssec_cds_update(const struct dns_zone *z, const uint8_t *child,
                         const struct dnssec_cds_result *r, uint8_t *out, size_t cap)
{
    const struct dns_node *cut = dns_zone_find(z, child, NULL);
    if ((r->verdict != DNSSEC_CDS_SET && r->verdict != DNSSEC_CDS_DELETE) || !cut ||
        !(cut->flags & DNS_NODE_DELEG))
        return 0;
    const struct dns_rrset *ds = dns_node_rrset(cut, DNS_TYPE_DS);
    if (same_set(ds, r))
        return 0;
    const struct dns_rrset *ns = dns_node_rrset(cut, DNS_TYPE_NS);
    uint32_t ttl = ds ? ds->ttl : ns ? ns->ttl : 3600;
    struct dns_header h = {.opcode = DNS_OPCODE_UPDATE};
    struct dns_builder b;
    dns_builder_init(&b, out, cap, cap > DNS_MSG_MAX ? DNS_MSG_MAX : cap, &h);
    dns_builder_question(&b, dns_zone_origin(z), DNS_TYPE_SOA, DNS_CLASS_IN);
    /* RFC 2136 §2.5.2: delete the RRset, then add the new records */
    dns_builder_rr(&b, DNS_SEC_AUTHORITY, cut->name, DNS_TYPE_DS, DNS_CLASS_ANY, 0, NULL, 0);
    for (size_t i = 0; r->verdict == DNSSEC_CDS_SET && i < r->n; i++)
        dns_builder_rr(&b, DNS_SEC_AUTHORITY, cut->name, DNS_TYPE_DS, DNS_CLASS_IN, ttl,
                       r->ds[i], r->len[i]);
    return dns_builder_finish(&b);
}
