/* cds — children's CDS as the parent's DS. See cds.h. */
#include "dns/dnssec/cds.h"

#include "core/err.h"
#include "dns/name.h"
#include "dns/rr.h"

#include <string.h>

/* RFC 8078 §4: "0 0 0 00" asks for the DS to be removed. */
static bool cds_is_delete(const struct dns_rrset *cds)
{
    return cds->count == 1 && cds->rdata[0].len == 5 &&
           memcmp(cds->rdata[0].data, "\0\0\0\0\0", 5) == 0;
}

static bool same_set(const struct dns_rrset *a, const struct dns_rrset *b)
{
    return a && b ? dns_rrset_same_rdata(a, b) : !a && !b;
}

/* The DS set the child asks for at its cut in parent (NULL: none), and whether it differs. */
static bool child_wants(const struct dns_zone *parent, const struct dns_zone *child,
                        const struct dns_node **cut_out, const struct dns_rrset **cds_out)
{
    const uint8_t *co = dns_zone_origin(child);
    if (!co[0] || !dns_name_is_sub(co, dns_zone_origin(parent)) ||
        dns_name_eq(co, dns_zone_origin(parent)))
        return false;
    const struct dns_node *cut = dns_zone_find(parent, co, NULL);
    if (!cut || !(cut->flags & DNS_NODE_DELEG))
        return false;
    const struct dns_rrset *cds = dns_node_rrset(dns_zone_node(child, 0), DNS_TYPE_CDS);
    if (!cds)
        return false;
    *cut_out = cut;
    *cds_out = cds_is_delete(cds) ? NULL : cds;
    return !same_set(dns_node_rrset(cut, DNS_TYPE_DS), *cds_out);
}

int dnssec_parent_apply_cds(const struct dns_zone *parent, const struct dns_zone *const *children,
                            size_t n, struct dns_zone **out, struct str *err_out)
{
    *out = NULL;
    const struct dns_node *cuts[64];
    const struct dns_rrset *sets[64];
    size_t k = 0;
    for (size_t i = 0; i < n && k < 64; i++)
        if (children[i] && child_wants(parent, children[i], &cuts[k], &sets[k]))
            k++;
    if (k == 0)
        return 0;
    struct dns_zone_builder *zb = dns_zone_builder_new(dns_zone_origin(parent));
    size_t nn;
    const struct dns_node *nodes = dns_zone_nodes(parent, &nn);
    const char *why = NULL;
    int rc = 0;
    for (size_t i = 0; i < nn && rc == 0; i++) {
        const struct dns_rrset *repl = NULL;
        bool at_cut = false;
        for (size_t c = 0; c < k; c++)
            if (cuts[c] == &nodes[i]) {
                at_cut = true;
                repl = sets[c];
            }
        for (unsigned r = 0; r < nodes[i].nrrsets && rc == 0; r++) {
            const struct dns_rrset *s = &nodes[i].rrsets[r];
            if (at_cut && s->type == DNS_TYPE_DS)
                continue;
            for (unsigned j = 0; j < s->count && rc == 0; j++)
                rc = dns_zone_builder_add(zb, nodes[i].name, s->type, s->ttl, s->rdata[j].data,
                                          s->rdata[j].len, NULL, 0, &why);
        }
        for (unsigned j = 0; repl && j < repl->count && rc == 0; j++)
            rc = dns_zone_builder_add(zb, nodes[i].name, DNS_TYPE_DS, repl->ttl,
                                      repl->rdata[j].data, repl->rdata[j].len, NULL, 0, &why);
    }
    if (rc != 0) {
        str_appendf(err_out, "DS from CDS: %s", why ? why : "cannot add");
        dns_zone_builder_free(zb);
        return ERR_PARSE;
    }
    return dns_zone_builder_finish(zb, out, err_out) == 0 ? 0 : ERR_PARSE;
}
