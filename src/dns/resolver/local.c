/*
 * local — answers from the server's own zones for the recursive side (resolver_int.h).
 *
 * A name inside a zone this process serves is answered by the authoritative engine
 * (dns/auth/answer.c) and read back as the RRsets of a recursive answer: a recursive reply
 * is built from them (RA set, never AA), and a CNAME chain that leaves our zones is handed to
 * the cache and the iterator at its target (RFC 1034 §4.3.2 step 3a), instead of being the
 * final answer. Performs no I/O.
 */
#include "dns/resolver/resolver_int.h"

#include "core/xmalloc.h"
#include "dns/auth/answer.h"
#include "dns/name.h"
#include "dns/rr.h"
#include "dns/zoneset.h"

#include <stdlib.h>
#include <string.h>

/* The authoritative engine's reply to (name, qtype), parsed into a; false when none. */
static bool local_reply(const struct dns_zoneset *zs, const uint8_t *name, uint16_t qtype,
                        bool dnssec, struct dns_arena *a, struct dns_msg *m,
                        struct dns_answer_info *info)
{
    uint8_t qpkt[DNS_NAME_MAXLEN + 32];
    struct dns_header h = {0};
    h.qdcount = 1;
    struct dns_builder b;
    dns_builder_init(&b, qpkt, sizeof qpkt, sizeof qpkt, &h);
    if (dns_builder_question(&b, name, qtype, DNS_CLASS_IN) < 0 ||
        (dnssec && dns_builder_opt(&b, DNS_UDP_DEFAULT, 0, 0, true) < 0))
        return false; /* with DO when validating: signed zones give RRSIGs and proofs */
    size_t qlen = dns_builder_finish(&b);
    struct dns_msg q;
    if (qlen == 0 || dns_msg_parse(qpkt, qlen, &q, a) < 0)
        return false;
    uint8_t *out = xmalloc(DNS_MSG_MAX);
    struct dns_answer_opts ao = {true, 0}; /* in-process: no UDP size limit */
    size_t n = dns_answer_msg(zs, &q, &ao, out, DNS_MSG_MAX, info);
    bool ok = n >= DNS_HEADER_LEN && dns_msg_parse(out, n, m, a) == 0; /* m lives in a */
    free(out);
    return ok;
}

/* The RRset of section sec starting at index *i (records of one owner and type are
 * adjacent in the engine's output); advances *i past it. */
static struct dns_cache_rrset take_set(const struct dns_msg *m, int sec, uint16_t *i,
                                       struct dns_arena *a)
{
    const struct dns_rr *first = &m->rr[sec][*i];
    uint16_t end = *i;
    while (end < m->count[sec] && m->rr[sec][end].type == first->type &&
           dns_name_eq(m->rr[sec][end].owner, first->owner))
        end++;
    uint16_t n = (uint16_t)(end - *i);
    struct dns_rdata *rd = dns_arena_alloc(a, n * sizeof *rd);
    for (uint16_t k = 0; k < n; k++)
        rd[k] = (struct dns_rdata){first[k].rdlen, first[k].rdata};
    struct dns_cache_rrset s = {first->owner, first->type, n, first->ttl, DNS_RANK_AUTH_ANSWER,
                                rd,           0,           0, NULL};
    *i = end;
    /* the RRSIGs of the set, anywhere in the section (RFC 4035 §3.1.1) */
    struct dns_rdata *sigs = NULL;
    for (uint16_t k = 0; k < m->count[sec] && first->type != DNS_TYPE_RRSIG; k++) {
        const struct dns_rr *rr = &m->rr[sec][k];
        if (rr->type != DNS_TYPE_RRSIG || rr->rdlen < 2 || !dns_name_eq(rr->owner, first->owner) ||
            (rr->rdata[0] << 8 | rr->rdata[1]) != first->type)
            continue;
        if (!sigs)
            sigs = dns_arena_alloc(a, m->count[sec] * sizeof *sigs);
        sigs[s.nsig++] = (struct dns_rdata){rr->rdlen, rr->rdata};
    }
    s.sigs = sigs;
    return s;
}

/* The SOA and the NSEC/NSEC3 proofs of the authority section into ans. */
static void take_authority(const struct dns_msg *m, struct dns_arena *a, struct res_answer *ans)
{
    for (uint16_t i = 0; i < m->count[1];) {
        struct dns_cache_rrset s = take_set(m, 1, &i, a);
        if (s.type == DNS_TYPE_SOA)
            ans->soa = s;
        else if ((s.type == DNS_TYPE_NSEC || s.type == DNS_TYPE_NSEC3) &&
                 ans->nproof < RES_MAX_PROOF)
            ans->proof[ans->nproof++] = s;
    }
}

/* Follows the answer section from name: the chain into ans; returns the last name reached
 * and sets *final when an RRset of qtype ended it. */
static const uint8_t *read_chain(const struct dns_msg *m, const uint8_t *name, uint16_t qtype,
                                 struct dns_arena *a, struct res_answer *ans, bool *final)
{
    const uint8_t *cur = name;
    *final = false;
    for (uint16_t i = 0; i < m->count[0] && !*final;) {
        struct dns_cache_rrset s = take_set(m, 0, &i, a);
        if (s.type == DNS_TYPE_RRSIG)
            continue; /* attached to the sets they cover */
        if (!dns_name_eq(s.owner, cur) || ans->nchain >= RES_MAX_CHAIN)
            break;
        ans->chain[ans->nchain++] = s;
        if (s.type == qtype)
            *final = true;
        else if (s.type == DNS_TYPE_CNAME && s.count == 1)
            cur = s.rdata[0].data;
        else
            break;
    }
    return cur;
}

bool res_answer_local(struct dns_resolver *r, const uint8_t *name, uint16_t qtype,
                      struct dns_arena *a, struct res_answer *ans, const uint8_t **end_out)
{
    memset(ans, 0, sizeof *ans);
    *end_out = name;
    if (!r->zones || !dns_zoneset_find(r->zones, name))
        return false;
    struct dns_msg m;
    struct dns_answer_info info;
    if (!local_reply(r->zones, name, qtype, res_validating(r), a, &m, &info))
        return false;
    bool final = false;
    const uint8_t *end = read_chain(&m, name, qtype, a, ans, &final);
    switch (info.kind) {
    case DNS_ANSWER_POSITIVE:
        take_authority(&m, a, ans); /* a wildcard's proof */
        if (!final) /* a CNAME out of our zones: the look-up goes on at its target */
            *end_out = end;
        return final;
    case DNS_ANSWER_NXDOMAIN:
    case DNS_ANSWER_NODATA:
        ans->rcode = info.kind == DNS_ANSWER_NXDOMAIN ? DNS_RCODE_NXDOMAIN : DNS_RCODE_NOERROR;
        take_authority(&m, a, ans);
        return true;
    case DNS_ANSWER_REFERRAL: /* delegated away (perhaps after CNAMEs): resolve from there */
        *end_out = end;
        return false;
    default:
        memset(ans, 0, sizeof *ans);
        return false;
    }
}

bool res_answer_known(struct dns_resolver *r, const uint8_t *name, uint16_t qtype, unsigned flags,
                      struct dns_arena *a, struct res_answer *ans, const uint8_t **end_out)
{
    const uint8_t *end = name;
    if (res_answer_local(r, name, qtype, a, ans, &end)) {
        if (end_out)
            *end_out = end;
        return true;
    }
    struct res_answer rest;
    bool complete = res_answer_from_cache(r, end, qtype, flags, a, &rest, end_out);
    for (unsigned i = 0; i < rest.nchain && ans->nchain < RES_MAX_CHAIN; i++)
        ans->chain[ans->nchain++] = rest.chain[i];
    ans->rcode = rest.rcode;
    ans->soa = rest.soa;
    ans->neg_sec = rest.neg_sec;
    for (unsigned i = 0; i < rest.nproof && ans->nproof < RES_MAX_PROOF; i++)
        ans->proof[ans->nproof++] = rest.proof[i];
    ans->stale |= rest.stale;
    return complete;
}
