/* answer — the authoritative answer engine. See answer.h. */
#include "dns/auth/answer.h"

#include "core/err.h"
#include "dns/auth/answer_int.h"
#include "dns/dnssec/zone_lookup.h"
#include "dns/name.h"
#include "dns/rr.h"
#include "dns/zone.h"
#include "dns/zoneset.h"

#include <string.h>

#define OPT_LEN 11 /* an OPT record without options */

size_t dns_answer_limit(const struct dns_msg *q, const struct dns_answer_opts *opts)
{
    if (opts && opts->tcp)
        return DNS_MSG_MAX;
    if (!q->edns.present)
        return DNS_UDP_MIN;
    size_t ours = opts && opts->udp_max ? opts->udp_max : DNS_UDP_DEFAULT;
    size_t theirs = q->edns.udp_size;
    if (ours < DNS_UDP_MIN)
        ours = DNS_UDP_MIN;
    if (theirs < DNS_UDP_MIN)
        theirs = DNS_UDP_MIN; /* RFC 6891 §6.2.5 */
    return theirs < ours ? theirs : ours;
}

static void ans_init(struct ans *a, const struct dns_zoneset *zs, const struct dns_msg *q,
                     const struct dns_answer_opts *opts, uint8_t *out, size_t cap)
{
    memset(a, 0, sizeof *a);
    a->zs = zs;
    a->q = q;
    a->opts = opts;
    struct dns_header h = {
        .id = q->hdr.id, .qr = true, .opcode = q->hdr.opcode, .rd = q->hdr.rd, .cd = q->hdr.cd};
    dns_builder_init(&a->bld, out, cap, dns_answer_limit(q, opts), &h);
    if (q->edns.present)
        dns_builder_reserve(&a->bld, OPT_LEN);
    a->info.kind = DNS_ANSWER_ERROR;
}

/* Writes the rcode (and the OPT when the query had one) and returns the length. */
static size_t ans_finish(struct ans *a)
{
    struct dns_builder *b = &a->bld;
    dns_builder_set_rcode(b, a->rcode & 0x0f);
    if (a->q->edns.present) {
        dns_builder_reserve(b, 0);
        uint16_t ours = a->opts && a->opts->udp_max ? a->opts->udp_max : DNS_UDP_DEFAULT;
        /* RFC 3225 §3: DO is copied into the response. */
        if (dns_builder_opt(b, ours < DNS_UDP_MIN ? DNS_UDP_MIN : ours, (uint8_t)(a->rcode >> 4), 0,
                            a->q->edns.do_bit) != 0)
            return 0;
    }
    if (a->truncated)
        dns_builder_set_tc(b);
    a->info.rcode = a->rcode;
    a->info.tc = a->truncated;
    return dns_builder_finish(b);
}

static size_t ans_error(struct ans *a, unsigned rcode)
{
    a->rcode = rcode;
    a->info.kind = DNS_ANSWER_ERROR;
    a->info.aa = false;
    a->info.zone = NULL;
    dns_builder_rollback(&a->bld, &a->after_q);
    dns_builder_set_aa(&a->bld, false);
    return ans_finish(a);
}

/* Drops everything after the question and sets TC (RFC 2181 §9: no partial RRsets). */
void ans_truncate(struct ans *a)
{
    dns_builder_rollback(&a->bld, &a->after_q);
    a->truncated = true;
    a->naddl = 0;
}

/* Adds a whole RRset; on overflow nothing of it stays and ERR_LIMIT is returned. */
int ans_rrset(struct ans *a, enum dns_section sec, const uint8_t *owner,
                     const struct dns_rrset *rs, uint32_t ttl)
{
    struct dns_builder_mark m;
    dns_builder_mark(&a->bld, &m);
    for (uint16_t i = 0; i < rs->count; i++) {
        if (dns_builder_rr(&a->bld, sec, owner, rs->type, DNS_CLASS_IN, ttl, rs->rdata[i].data,
                           rs->rdata[i].len) != 0) {
            dns_builder_rollback(&a->bld, &m);
            return ERR_LIMIT;
        }
    }
    return 0;
}

/* Remembers the targets of MX, NS and SRV records for the additional section. */
static void ans_note_targets(struct ans *a, const struct dns_rrset *rs)
{
    if (rs->type != DNS_TYPE_MX && rs->type != DNS_TYPE_NS && rs->type != DNS_TYPE_SRV)
        return;
    for (uint16_t i = 0; i < rs->count && a->naddl < MAX_ADDL; i++) {
        const uint8_t *t = dns_rdata_target(rs->type, rs->rdata[i].data, rs->rdata[i].len);
        if (!t || !*t)
            continue;
        bool dup = false;
        for (unsigned k = 0; k < a->naddl && !dup; k++)
            dup = dns_name_eq(a->addl[k], t);
        if (!dup)
            a->addl[a->naddl++] = t;
    }
}

/* Answer or authority data, with its RRSIGs from node n when DNSSEC is asked for (n NULL:
 * an unsigned set, as a delegation's NS); a failure truncates the whole reply. */
bool ans_put(struct ans *a, enum dns_section sec, const uint8_t *owner,
             const struct dns_rrset *rs, uint32_t ttl, const struct dns_node *n)
{
    if (a->truncated)
        return false;
    if (ans_rrset(a, sec, owner, rs, ttl) != 0) {
        ans_truncate(a);
        return false;
    }
    ans_note_targets(a, rs);
    return !a->dnssec || !n || ans_sigs(a, sec, owner, n, rs->type, ttl);
}

/* RFC 2308 §3: the SOA in authority, TTL = min(SOA TTL, SOA minimum); with DNSSEC, the
 * NSEC/NSEC3 records that prove it (proof: which case, see answer_int.h). */
static void ans_negative(struct ans *a, const struct dns_zone *z, bool nxdomain,
                         const struct ans_proof *proof)
{
    const struct dns_rrset *soa = dns_zone_soa(z);
    uint32_t min = dns_soa_minimum(soa->rdata[0].data, soa->rdata[0].len);
    a->rcode = nxdomain ? DNS_RCODE_NXDOMAIN : DNS_RCODE_NOERROR;
    a->info.kind = nxdomain ? DNS_ANSWER_NXDOMAIN : DNS_ANSWER_NODATA;
    if (ans_put(a, DNS_SEC_AUTHORITY, dns_zone_origin(z), soa, soa->ttl < min ? soa->ttl : min,
                dns_zone_node(z, 0)) &&
        a->dnssec)
        ans_deny(a, z, proof);
}

static void ans_referral(struct ans *a, const struct dns_zone *z, const struct dns_node *cut)
{
    const struct dns_rrset *ns = dns_node_rrset(cut, DNS_TYPE_NS);
    a->info.kind = DNS_ANSWER_REFERRAL;
    a->glue_cut = cut->name;
    if (!ans_put(a, DNS_SEC_AUTHORITY, cut->name, ns, ns->ttl, NULL) || !a->dnssec)
        return;
    /* RFC 4035 §3.1.4: the DS set, or the proof that there is none */
    const struct dns_rrset *ds = dns_node_rrset(cut, DNS_TYPE_DS);
    if (ds)
        ans_put(a, DNS_SEC_AUTHORITY, cut->name, ds, ds->ttl, cut);
    else
        ans_deny(a, z, &(struct ans_proof){ANS_PROOF_NODATA, cut->name, cut, NULL});
}

/* Data at the node that matched (exactly or by wildcard). Returns the CNAME target to
 * follow, or NULL when done. */
static const uint8_t *ans_node(struct ans *a, const struct dns_zone *z, const struct dns_node *n,
                               const uint8_t *owner, const struct dns_node *ce)
{
    uint16_t qtype = a->q->qd[0].qtype;
    bool wild = n->flags & DNS_NODE_WILD && !dns_name_eq(n->name, owner);
    struct ans_proof nodata = {wild ? ANS_PROOF_WILD_NODATA : ANS_PROOF_NODATA, owner, n, ce};
    if (n->nrrsets == 0) {
        ans_negative(a, z, false, &nodata); /* an empty non-terminal exists: NODATA */
        return NULL;
    }
    /* RFC 4035 §3.1.3.3: an answer synthesised from a wildcard proves qname is absent */
    struct ans_proof expanded = {ANS_PROOF_WILD_ANSWER, owner, n, ce};
    if (qtype == DNS_TYPE_ANY) {
        /* RFC 8482 §4.2: one RRset over UDP is enough; everything over TCP. */
        uint16_t count = a->opts && a->opts->tcp ? n->nrrsets : 1;
        for (uint16_t i = 0, put = 0; i < n->nrrsets && put < count; i++)
            if (n->rrsets[i].type != DNS_TYPE_RRSIG || !a->dnssec) /* RRSIGs come with sets */
                put += ans_put(a, DNS_SEC_ANSWER, owner, &n->rrsets[i], n->rrsets[i].ttl, n);
        a->info.kind = DNS_ANSWER_POSITIVE;
        if (wild && a->dnssec)
            ans_deny(a, z, &expanded);
        return NULL;
    }
    const struct dns_rrset *rs = dns_node_rrset(n, qtype);
    if (rs) {
        if (ans_put(a, DNS_SEC_ANSWER, owner, rs, rs->ttl, qtype == DNS_TYPE_RRSIG ? NULL : n) &&
            wild && a->dnssec)
            ans_deny(a, z, &expanded);
        a->info.kind = DNS_ANSWER_POSITIVE;
        return NULL;
    }
    const struct dns_rrset *cname = dns_node_rrset(n, DNS_TYPE_CNAME);
    if (cname) {
        if (!ans_put(a, DNS_SEC_ANSWER, owner, cname, cname->ttl, n))
            return NULL;
        if (wild && a->dnssec)
            ans_deny(a, z, &expanded);
        a->info.kind = DNS_ANSWER_POSITIVE;
        return cname->rdata[0].data;
    }
    ans_negative(a, z, false, &nodata);
    return NULL;
}

/* One step of RFC 1034 §4.3.2 in zone z for name; returns a CNAME target or NULL. */
static const uint8_t *ans_step(struct ans *a, const struct dns_zone *z, const uint8_t *name,
                               bool first)
{
    const struct dns_node *ce = NULL;
    const struct dns_node *n = dns_zone_find(z, name, &ce);
    struct ans_proof nx = {ANS_PROOF_NXDOMAIN, name, NULL, ce};
    a->dnssec = a->q->edns.do_bit && dnssec_zone_signed(z);
    if (!ce) {
        ans_negative(a, z, true, &nx);
        return NULL;
    }
    uint16_t qtype = a->q->qd[0].qtype;
    if (ce->cut != DNS_NODE_NONE) {
        const struct dns_node *cut = dns_zone_node(z, ce->cut);
        /* RFC 4035 §3.1.4.1: DS at the cut belongs to the parent side. */
        if (!(qtype == DNS_TYPE_DS && n == cut)) {
            ans_referral(a, z, cut);
            return NULL;
        }
    }
    if (first) {
        a->info.aa = true;
        dns_builder_set_aa(&a->bld, true);
    }
    if (!n) {
        if (ce->wild == DNS_NODE_NONE) {
            ans_negative(a, z, true, &nx);
            return NULL;
        }
        n = dns_zone_node(z, ce->wild); /* RFC 4592 §3.3.1: the source of synthesis */
    }
    return ans_node(a, z, n, name, ce);
}

/* The zone that answers for qname: the closest enclosing one, except that DS at the apex of
 * a zone of ours goes to its parent zone when we have that too. */
static const struct dns_zone *ans_zone(struct ans *a, const uint8_t *qname, uint16_t qtype)
{
    const struct dns_zone *z = dns_zoneset_find(a->zs, qname);
    if (z && qtype == DNS_TYPE_DS && qname[0] && dns_name_eq(dns_zone_origin(z), qname)) {
        const struct dns_zone *p = dns_zoneset_find(a->zs, dns_name_parent(qname));
        if (p)
            z = p;
    }
    return z;
}

static void ans_resolve(struct ans *a, const struct dns_zone *z)
{
    const uint8_t *name = a->q->qd[0].qname;
    const uint8_t *seen[DNS_ANSWER_MAX_CHAIN];
    a->info.zone = z;
    for (unsigned hop = 0; hop < DNS_ANSWER_MAX_CHAIN && z; hop++) {
        seen[hop] = name;
        const uint8_t *next = ans_step(a, z, name, hop == 0);
        if (!next || a->truncated)
            return;
        for (unsigned k = 0; k <= hop; k++)
            if (dns_name_eq(seen[k], next))
                return; /* a CNAME loop: the chain so far is the answer */
        name = next;
        z = dns_zoneset_find(a->zs, name); /* outside our zones the chain ends here */
    }
}

/* A and AAAA for the remembered targets, when they are in our zones (RFC 1034 §4.3.2 step 6).
 * Glue below a cut is used only in referrals. */
static void ans_additional(struct ans *a)
{
    static const uint16_t types[2] = {DNS_TYPE_A, DNS_TYPE_AAAA};
    for (unsigned k = 0; k < a->naddl && !a->truncated; k++) {
        const uint8_t *t = a->addl[k];
        const struct dns_zone *z = dns_zoneset_find(a->zs, t);
        const struct dns_node *n = z ? dns_zone_find(z, t, NULL) : NULL;
        if (!n || (n->cut != DNS_NODE_NONE && !a->glue_cut))
            continue;
        for (int i = 0; i < 2; i++) {
            const struct dns_rrset *rs = dns_node_rrset(n, types[i]);
            if (!rs || ans_rrset(a, DNS_SEC_ADDITIONAL, t, rs, rs->ttl) == 0)
                continue;
            /* RFC 9471 §3: in-domain glue that does not fit makes the referral truncated. */
            if (a->glue_cut && dns_name_is_sub(t, a->glue_cut))
                a->truncated = true;
        }
    }
}

/* Header checks before any lookup: returns true when an error reply was decided. */
static bool ans_precheck(struct ans *a, unsigned *rcode_out)
{
    const struct dns_msg *q = a->q;
    if (q->hdr.opcode != DNS_OPCODE_QUERY) {
        *rcode_out = DNS_RCODE_NOTIMP;
        return true;
    }
    if (q->hdr.qdcount != 1) {
        *rcode_out = DNS_RCODE_FORMERR;
        return true;
    }
    if (q->edns.present && q->edns.version > 0) {
        *rcode_out = DNS_RCODE_BADVERS;
        return true;
    }
    uint16_t qtype = q->qd[0].qtype;
    if (qtype == DNS_TYPE_OPT || qtype == DNS_TYPE_TSIG || qtype == DNS_TYPE_TKEY) {
        *rcode_out = DNS_RCODE_FORMERR;
        return true;
    }
    if (qtype == DNS_TYPE_MAILA || qtype == DNS_TYPE_MAILB) {
        *rcode_out = DNS_RCODE_NOTIMP;
        return true;
    }
    /* Transfers belong to the transfer layer; here they are simply not allowed. */
    if (qtype == DNS_TYPE_AXFR || qtype == DNS_TYPE_IXFR || q->qd[0].qclass != DNS_CLASS_IN) {
        *rcode_out = DNS_RCODE_REFUSED;
        return true;
    }
    return false;
}

size_t dns_answer_msg(const struct dns_zoneset *zs, const struct dns_msg *q,
                      const struct dns_answer_opts *opts, uint8_t *out, size_t cap,
                      struct dns_answer_info *info)
{
    struct ans a;
    ans_init(&a, zs, q, opts, out, cap);
    if (q->hdr.qdcount == 1)
        dns_builder_question(&a.bld, q->qd[0].qname, q->qd[0].qtype, q->qd[0].qclass);
    dns_builder_mark(&a.bld, &a.after_q);
    unsigned rcode;
    size_t len;
    const struct dns_zone *z = NULL;
    if (ans_precheck(&a, &rcode)) {
        len = ans_error(&a, rcode);
    } else if (!(z = ans_zone(&a, q->qd[0].qname, q->qd[0].qtype))) {
        len = ans_error(&a, DNS_RCODE_REFUSED);
    } else {
        ans_resolve(&a, z);
        ans_additional(&a);
        len = ans_finish(&a);
    }
    if (info)
        *info = a.info;
    return len;
}

size_t dns_answer_error(const struct dns_msg *q, unsigned rcode, const struct dns_answer_opts *opts,
                        uint8_t *out, size_t cap)
{
    struct ans a;
    if (cap < DNS_HEADER_LEN)
        return 0;
    ans_init(&a, NULL, q, opts, out, cap);
    if (q->hdr.qdcount == 1 && q->qd)
        dns_builder_question(&a.bld, q->qd[0].qname, q->qd[0].qtype, q->qd[0].qclass);
    dns_builder_mark(&a.bld, &a.after_q);
    return ans_error(&a, rcode);
}

size_t dns_answer_packet(const struct dns_zoneset *zs, const uint8_t *pkt, size_t len,
                         const struct dns_answer_opts *opts, struct dns_arena *arena, uint8_t *out,
                         size_t cap, struct dns_answer_info *info)
{
    struct dns_msg q;
    if (info)
        memset(info, 0, sizeof *info);
    int rc = dns_msg_parse(pkt, len, &q, arena);
    if (!q.hdr_ok || q.hdr.qr)
        return 0; /* never answer a response: no reflection loops */
    if (rc != 0) {
        /* RFC 1035 §4.1.1: FORMERR, without a question or OPT we could not trust. */
        struct dns_msg bare;
        memset(&bare, 0, sizeof bare);
        bare.hdr = q.hdr;
        bare.hdr.qdcount = 0;
        if (info) {
            info->kind = DNS_ANSWER_ERROR;
            info->rcode = DNS_RCODE_FORMERR;
        }
        return dns_answer_error(&bare, DNS_RCODE_FORMERR, opts, out, cap);
    }
    return dns_answer_msg(zs, &q, opts, out, cap, info);
}
