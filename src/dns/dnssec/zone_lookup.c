/* zone_lookup — NSEC/NSEC3 records of a zone for proofs. See zone_lookup.h. */
#include "dns/dnssec/zone_lookup.h"

#include "dns/dnssec/denial.h"
#include "dns/name.h"
#include "dns/rr.h"

#include <string.h>

bool dnssec_zone_signed(const struct dns_zone *z)
{
    return dns_node_rrset(dns_zone_node(z, 0), DNS_TYPE_DNSKEY) != NULL;
}

bool dnssec_zone_nsec3(const struct dns_zone *z)
{
    return dns_node_rrset(dns_zone_node(z, 0), DNS_TYPE_NSEC3PARAM) != NULL;
}

/* The last node index whose name is <= name in canonical order (0: the apex is first). */
static size_t node_floor(const struct dns_zone *z, const uint8_t *name)
{
    size_t nn;
    const struct dns_node *nodes = dns_zone_nodes(z, &nn);
    size_t lo = 0, hi = nn; /* invariant: nodes[lo] <= name (the apex is <= every name) */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (dns_name_cmp(nodes[mid].name, name) <= 0)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* The closest node at or before index i that has type, wrapping to the end once. */
static const struct dns_node *back_to(const struct dns_zone *z, size_t i, uint16_t type)
{
    size_t nn;
    const struct dns_node *nodes = dns_zone_nodes(z, &nn);
    for (size_t k = 0; k < nn; k++) {
        const struct dns_node *n = &nodes[(i + nn - k) % nn];
        if (dns_node_rrset(n, type))
            return n;
    }
    return NULL;
}

const struct dns_node *dnssec_nsec_for(const struct dns_zone *z, const uint8_t *name)
{
    return back_to(z, node_floor(z, name), DNS_TYPE_NSEC);
}

const struct dns_node *dnssec_nsec3_for(const struct dns_zone *z, const uint8_t *name,
                                        bool *match)
{
    const struct dns_rrset *param = dns_node_rrset(dns_zone_node(z, 0), DNS_TYPE_NSEC3PARAM);
    if (!param || param->rdata[0].len < 5)
        return NULL;
    const uint8_t *p = param->rdata[0].data;
    if (5u + p[4] > param->rdata[0].len)
        return NULL;
    uint8_t h[DNSSEC_NSEC3_HASH_MAX], owner[DNS_NAME_MAXLEN];
    if (dnssec_nsec3_hash(name, p[0], (unsigned)(p[2] << 8 | p[3]), p + 5, p[4], h) != 0 ||
        dnssec_nsec3_owner(h, dns_zone_origin(z), owner) != 0)
        return NULL;
    const struct dns_node *n = back_to(z, node_floor(z, owner), DNS_TYPE_NSEC3);
    *match = n && dns_name_eq(n->name, owner);
    return n;
}
