/* zone_verify — whole-zone signature and chain checks. See zone_verify.h. */
#include "dns/dnssec/zone_verify.h"

#include "core/err.h"
#include "core/xmalloc.h"
#include "dns/dnssec/denial.h"
#include "dns/dnssec/signer.h"
#include "dns/name.h"
#include "dns/rr.h"

#include <stdlib.h>
#include <string.h>

static void problem(struct dnssec_zone_report *r, const uint8_t *name, uint16_t type,
                    const char *why, unsigned code)
{
    r->failures++;
    if (r->failures > 100)
        return;
    char nb[DNS_NAME_TEXT_MAX], tb[16];
    dns_name_to_text(name, nb, sizeof nb);
    str_appendf(&r->errors, "%s %s: %s", nb, dns_type_name(type, tb), why);
    if (code != DNSSEC_EDE_NONE)
        str_appendf(&r->errors, " (EDE %u)", code);
    str_appendc(&r->errors, '\n');
}

/* The RRSIGs at node covering type, copied into sigs (capacity cap). */
static size_t sigs_for(const struct dns_node *n, uint16_t type, struct dns_rdata *sigs,
                       size_t cap)
{
    const struct dns_rrset *rs = dns_node_rrset(n, DNS_TYPE_RRSIG);
    size_t k = 0;
    for (unsigned i = 0; rs && i < rs->count && k < cap; i++)
        if (rs->rdata[i].len >= 2 && (rs->rdata[i].data[0] << 8 | rs->rdata[i].data[1]) == type)
            sigs[k++] = rs->rdata[i];
    return k;
}

static void verify_sets(const struct dns_zone *z, const struct dns_rrset *keys, uint32_t now,
                        struct dnssec_zone_report *r)
{
    size_t nn;
    const struct dns_node *nodes = dns_zone_nodes(z, &nn);
    struct dns_rdata sigs[64];
    for (size_t i = 0; i < nn; i++) {
        const struct dns_node *n = &nodes[i];
        if (n->flags & DNS_NODE_OCCLUDED)
            continue;
        for (unsigned j = 0; j < n->nrrsets; j++) {
            const struct dns_rrset *set = &n->rrsets[j];
            if (set->type == DNS_TYPE_RRSIG)
                continue;
            if ((n->flags & DNS_NODE_DELEG) && set->type != DNS_TYPE_DS &&
                set->type != DNS_TYPE_NSEC)
                continue;
            struct dnssec_rrset_view v = {n->name, set->type, DNS_CLASS_IN, set->rdata,
                                          set->count};
            struct dnssec_budget b;
            dnssec_budget_init(&b);
            uint16_t ede = DNSSEC_EDE_NONE;
            size_t ns = sigs_for(n, set->type, sigs, 64);
            r->rrsets++;
            if (dnssec_verify_rrset(&v, sigs, ns, dns_zone_origin(z), keys->rdata, keys->count,
                                    now, &b, NULL, &ede) != DNSSEC_SECURE)
                problem(r, n->name, set->type, ns ? "no valid signature" : "not signed", ede);
        }
    }
}

static void verify_nsec(const struct dns_zone *z, struct dnssec_zone_report *r)
{
    size_t nn;
    const struct dns_node *nodes = dns_zone_nodes(z, &nn);
    uint8_t *bm = xmalloc(8704);
    for (size_t i = 0; i < nn; i++) {
        const struct dns_node *n = &nodes[i];
        if ((n->flags & DNS_NODE_OCCLUDED) || n->nrrsets == 0)
            continue;
        const struct dns_rrset *ns = dns_node_rrset(n, DNS_TYPE_NSEC);
        if (!ns) {
            problem(r, n->name, DNS_TYPE_NSEC, "missing", DNSSEC_EDE_NONE);
            continue;
        }
        r->chain++;
        size_t j = i + 1;
        while (j < nn && ((nodes[j].flags & DNS_NODE_OCCLUDED) || nodes[j].nrrsets == 0))
            j++;
        const uint8_t *want = j < nn ? nodes[j].name : dns_zone_origin(z);
        const uint8_t *rd = ns->rdata[0].data;
        size_t nl = dns_name_len(rd), bl = dnssec_node_bitmap(n, true, bm);
        if (!dns_name_eq(rd, want))
            problem(r, n->name, DNS_TYPE_NSEC, "next name is not the next owner", DNSSEC_EDE_NONE);
        else if (ns->rdata[0].len - nl != bl || memcmp(rd + nl, bm, bl) != 0)
            problem(r, n->name, DNS_TYPE_NSEC, "type bitmap does not match the data",
                    DNSSEC_EDE_NONE);
    }
    free(bm);
}

static void verify_nsec3(const struct dns_zone *z, const struct dns_rrset *param,
                         struct dnssec_zone_report *r)
{
    const uint8_t *p = param->rdata[0].data;
    size_t nn;
    const struct dns_node *nodes = dns_zone_nodes(z, &nn);
    if (param->rdata[0].len < 5 || p[0] != 1 || 5u + p[4] > param->rdata[0].len) {
        problem(r, dns_zone_origin(z), DNS_TYPE_NSEC3PARAM, "unusable", DNSSEC_EDE_NONE);
        return;
    }
    unsigned iter = (unsigned)(p[2] << 8 | p[3]);
    uint8_t *bm = xmalloc(8704);
    for (size_t i = 0; i < nn; i++) {
        const struct dns_node *n = &nodes[i];
        const struct dns_rrset *n3 = dns_node_rrset(n, DNS_TYPE_NSEC3);
        if (n3 || (n->flags & DNS_NODE_OCCLUDED))
            continue;
        uint8_t h[DNSSEC_NSEC3_HASH_MAX], owner[DNS_NAME_MAXLEN];
        if (dnssec_nsec3_hash(n->name, 1, iter, p + 5, p[4], h) != 0 ||
            dnssec_nsec3_owner(h, dns_zone_origin(z), owner) != 0)
            continue;
        const struct dns_node *hn = dns_zone_find(z, owner, NULL);
        const struct dns_rrset *set = hn ? dns_node_rrset(hn, DNS_TYPE_NSEC3) : NULL;
        if (!set) {
            if (!(n->flags & DNS_NODE_DELEG) || dns_node_rrset(n, DNS_TYPE_DS))
                problem(r, n->name, DNS_TYPE_NSEC3, "missing", DNSSEC_EDE_NONE);
            continue; /* an unsigned delegation may sit in an opt-out span */
        }
        r->chain++;
        const uint8_t *rd = set->rdata[0].data;
        size_t len = set->rdata[0].len, off = 5u + rd[4];
        size_t bl = dnssec_node_bitmap(n, false, bm);
        if (off >= len || off + 1u + rd[off] > len ||
            len - off - 1 - rd[off] != bl || memcmp(rd + off + 1 + rd[off], bm, bl) != 0)
            problem(r, n->name, DNS_TYPE_NSEC3, "type bitmap does not match the data",
                    DNSSEC_EDE_NONE);
    }
    free(bm);
}

int dnssec_zone_verify(const struct dns_zone *z, uint32_t now, struct dnssec_zone_report *r)
{
    const struct dns_node *apex = dns_zone_node(z, 0);
    const struct dns_rrset *keys = dns_node_rrset(apex, DNS_TYPE_DNSKEY);
    if (!keys) {
        problem(r, apex->name, DNS_TYPE_DNSKEY, "no DNSKEY set at the apex", DNSSEC_EDE_NONE);
        return ERR_AUTH;
    }
    verify_sets(z, keys, now, r);
    const struct dns_rrset *param = dns_node_rrset(apex, DNS_TYPE_NSEC3PARAM);
    r->nsec3 = param != NULL;
    if (param)
        verify_nsec3(z, param, r);
    else
        verify_nsec(z, r);
    return r->failures ? ERR_AUTH : 0;
}
