/* dns/resolver/special — see special.h. The zones are a fixed table of wire names. */
#include "dns/resolver/special.h"

#include "dns/name.h"
#include "dns/rr.h"

#include <string.h>

#define SPECIAL_TTL 10800 /* as Unbound's local zones: the SOA's minimum, three hours */

static const uint8_t localhost[] = "\x09localhost";
static const uint8_t in_addr_127[] = "\x03" "127\x07in-addr\x04" "arpa";
static const uint8_t ptr_127[] = "\x01" "1\x01" "0\x01" "0\x03" "127\x07in-addr\x04" "arpa";
static const uint8_t ptr_v6[] = "\x01" "1\x01" "0\x01" "0\x01" "0\x01" "0\x01" "0\x01" "0\x01" "0"
                                "\x01" "0\x01" "0\x01" "0\x01" "0\x01" "0\x01" "0\x01" "0\x01" "0"
                                "\x01" "0\x01" "0\x01" "0\x01" "0\x01" "0\x01" "0\x01" "0\x01" "0"
                                "\x01" "0\x01" "0\x01" "0\x01" "0\x01" "0\x01" "0\x01" "0\x01" "0"
                                "\x03ip6\x04" "arpa";
static const uint8_t invalid[] = "\x07invalid";
static const uint8_t onion[] = "\x05onion";

/* SOA rdata: localhost. nobody.invalid. 1 3600 1200 604800 10800 */
static const uint8_t soa_rd[] = "\x09localhost\x00\x06nobody\x07invalid\x00"
                                "\x00\x00\x00\x01\x00\x00\x0e\x10\x00\x00\x04\xb0"
                                "\x00\x09\x3a\x80\x00\x00\x2a\x30";
static const uint8_t a_rd[] = {127, 0, 0, 1};
static const uint8_t aaaa_rd[16] = {[15] = 1};

static const struct dns_rdata soa_rdata = {sizeof soa_rd - 1, soa_rd};
static const struct dns_rdata a_rdata = {sizeof a_rd, a_rd};
static const struct dns_rdata aaaa_rdata = {sizeof aaaa_rd, aaaa_rd};
static const struct dns_rdata ptr_rdata = {sizeof localhost, localhost}; /* with the root's 0 */

static struct dns_cache_rrset set_of(const uint8_t *owner, uint16_t type,
                                     const struct dns_rdata *rd)
{
    return (struct dns_cache_rrset){owner, type, 1, SPECIAL_TTL, DNS_RANK_AUTH_ANSWER, rd,
                                    0,     0,    NULL};
}

/* NODATA (at a name that exists) or NXDOMAIN, with the zone's SOA. */
static bool negative(const uint8_t *apex, bool exists, struct res_answer *ans)
{
    ans->rcode = exists ? DNS_RCODE_NOERROR : DNS_RCODE_NXDOMAIN;
    ans->soa = set_of(apex, DNS_TYPE_SOA, &soa_rdata);
    return true;
}

/* One record of type at name, or NODATA. */
static bool one(const uint8_t *apex, const uint8_t *name, uint16_t qtype, uint16_t type,
                const struct dns_rdata *rd, struct res_answer *ans)
{
    if (qtype != type)
        return negative(apex, true, ans);
    ans->chain[ans->nchain++] = set_of(name, type, rd);
    return true;
}

bool res_answer_special(const uint8_t *qname, uint16_t qtype, struct res_answer *ans)
{
    memset(ans, 0, sizeof *ans);
    if (dns_name_is_sub(qname, localhost)) { /* every name in it: the loopback (§6.3) */
        if (qtype == DNS_TYPE_A || qtype == DNS_TYPE_AAAA) {
            ans->chain[ans->nchain++] =
                set_of(qname, qtype, qtype == DNS_TYPE_A ? &a_rdata : &aaaa_rdata);
            return true;
        }
        return qtype == DNS_TYPE_SOA && dns_name_eq(qname, localhost)
                   ? one(localhost, localhost, qtype, DNS_TYPE_SOA, &soa_rdata, ans)
                   : negative(localhost, true, ans);
    }
    if (dns_name_eq(qname, ptr_127))
        return one(in_addr_127, ptr_127, qtype, DNS_TYPE_PTR, &ptr_rdata, ans);
    if (dns_name_eq(qname, ptr_v6))
        return one(ptr_v6, ptr_v6, qtype, DNS_TYPE_PTR, &ptr_rdata, ans);
    if (dns_name_is_sub(qname, in_addr_127))
        return negative(in_addr_127, dns_name_eq(qname, in_addr_127) ||
                                         dns_name_is_sub(ptr_127, qname),
                        ans);
    const uint8_t *zones[] = {invalid, onion};
    for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++)
        if (dns_name_is_sub(qname, zones[i]))
            return negative(zones[i], dns_name_eq(qname, zones[i]), ans);
    return false;
}
