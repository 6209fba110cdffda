/* answer_dnssec — RRSIGs and denial proofs in authoritative answers. See answer_int.h. */
#include "core/err.h"
#include "dns/auth/answer_int.h"
#include "dns/dnssec/zone_lookup.h"
#include "dns/name.h"
#include "dns/rr.h"

#include <string.h>

bool ans_sigs(struct ans *a, enum dns_section sec, const uint8_t *owner,
              const struct dns_node *n, uint16_t type, uint32_t ttl)
{
    const struct dns_rrset *sigs = dns_node_rrset(n, DNS_TYPE_RRSIG);
    if (!sigs || a->truncated)
        return !a->truncated;
    struct dns_builder_mark m;
    dns_builder_mark(&a->bld, &m);
    for (uint16_t i = 0; i < sigs->count; i++) {
        const struct dns_rdata *r = &sigs->rdata[i];
        if (r->len < 2 || (r->data[0] << 8 | r->data[1]) != type)
            continue;
        /* RFC 4035 §3.1.1: the RRSIG TTL equals the covered set's */
        if (dns_builder_rr(&a->bld, sec, owner, DNS_TYPE_RRSIG, DNS_CLASS_IN, ttl, r->data,
                           r->len) != 0) {
            dns_builder_rollback(&a->bld, &m);
            ans_truncate(a);
            return false;
        }
    }
    return true;
}

/* Up to 4 distinct proof records per answer. */
struct proof_set {
    const struct dns_node *n[4];
    unsigned count;
};

static void proof_add(struct proof_set *ps, const struct dns_node *n)
{
    if (!n || ps->count == 4)
        return;
    for (unsigned i = 0; i < ps->count; i++)
        if (ps->n[i] == n)
            return;
    ps->n[ps->count++] = n;
}

/* "*." + the closest encloser's name. */
static bool wildcard_of(const struct dns_node *ce, uint8_t out[DNS_NAME_MAXLEN])
{
    size_t l = dns_name_len(ce->name);
    if (l + 2 > DNS_NAME_MAXLEN)
        return false;
    out[0] = 1;
    out[1] = '*';
    memcpy(out + 2, ce->name, l);
    return true;
}

/* The name one label longer than the closest encloser on the way to name (RFC 5155 §1.3). */
static const uint8_t *next_closer(const uint8_t *name, const struct dns_node *ce)
{
    unsigned nl = dns_name_labels(name), cl = dns_name_labels(ce->name);
    return nl > cl ? dns_name_skip(name, nl - cl - 1) : name;
}

static void proofs_nsec(const struct dns_zone *z, const struct ans_proof *p,
                        struct proof_set *ps)
{
    uint8_t wild[DNS_NAME_MAXLEN];
    switch (p->kind) {
    case ANS_PROOF_NXDOMAIN:
        proof_add(ps, dnssec_nsec_for(z, p->name));
        if (p->ce && wildcard_of(p->ce, wild))
            proof_add(ps, dnssec_nsec_for(z, wild));
        break;
    case ANS_PROOF_NODATA: /* the node's own NSEC; an empty non-terminal's predecessor */
        proof_add(ps, dnssec_nsec_for(z, p->node ? p->node->name : p->name));
        break;
    case ANS_PROOF_WILD_NODATA:
        proof_add(ps, dnssec_nsec_for(z, p->name));
        proof_add(ps, dnssec_nsec_for(z, p->node->name));
        break;
    case ANS_PROOF_WILD_ANSWER:
        proof_add(ps, dnssec_nsec_for(z, p->name));
        break;
    }
}

static void proofs_nsec3(const struct dns_zone *z, const struct ans_proof *p,
                         struct proof_set *ps)
{
    uint8_t wild[DNS_NAME_MAXLEN];
    bool match;
    switch (p->kind) {
    case ANS_PROOF_NODATA:
        proof_add(ps, dnssec_nsec3_for(z, p->node ? p->node->name : p->name, &match));
        break;
    case ANS_PROOF_NXDOMAIN:
    case ANS_PROOF_WILD_NODATA:
        /* RFC 5155 §7.2.1/§7.2.5: closest encloser, next closer, wildcard */
        if (!p->ce)
            break;
        proof_add(ps, dnssec_nsec3_for(z, p->ce->name, &match));
        proof_add(ps, dnssec_nsec3_for(z, next_closer(p->name, p->ce), &match));
        if (wildcard_of(p->ce, wild))
            proof_add(ps, dnssec_nsec3_for(z, wild, &match));
        break;
    case ANS_PROOF_WILD_ANSWER: /* RFC 5155 §7.2.6: the next closer name is covered */
        if (p->ce)
            proof_add(ps, dnssec_nsec3_for(z, next_closer(p->name, p->ce), &match));
        break;
    }
}

void ans_deny(struct ans *a, const struct dns_zone *z, const struct ans_proof *p)
{
    struct proof_set ps = {{NULL}, 0};
    bool nsec3 = dnssec_zone_nsec3(z);
    if (nsec3)
        proofs_nsec3(z, p, &ps);
    else
        proofs_nsec(z, p, &ps);
    uint16_t type = nsec3 ? DNS_TYPE_NSEC3 : DNS_TYPE_NSEC;
    for (unsigned i = 0; i < ps.count; i++) {
        const struct dns_rrset *rs = dns_node_rrset(ps.n[i], type);
        if (rs && !ans_put(a, DNS_SEC_AUTHORITY, ps.n[i]->name, rs, rs->ttl, ps.n[i]))
            return;
    }
}
