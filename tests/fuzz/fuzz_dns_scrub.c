/*
 * libFuzzer target for the resolver's reply judge (dns/resolver/scrub.c): the input is an
 * upstream reply; it is judged as the answer to its own question from a server of the zone
 * that is the question's parent (or the root). Checks: no crash; every kept RRset lies inside
 * that zone (the bailiwick rule); the chain and NS/SOA indices are in range.
 */
#include "dns/name.h"
#include "dns/resolver/scrub.h"
#include "dns/wire.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static unsigned char mem[65536];
    struct dns_arena a;
    dns_arena_init(&a, mem, sizeof mem);
    struct dns_msg m;
    if (dns_msg_parse(data, size, &m, &a) == 0 && m.hdr.qdcount == 1) {
        const uint8_t *qname = m.qd[0].qname;
        const uint8_t *zone = dns_name_labels(qname) ? dns_name_parent(qname) : qname;
        struct dns_scrub sc;
        dns_scrub(&m, qname, m.qd[0].qtype, zone, &a, &sc);
        for (unsigned i = 0; i < sc.n; i++)
            if (!dns_name_is_sub(sc.sets[i].owner, zone) || sc.sets[i].count == 0)
                abort();
        for (unsigned i = 0; i < sc.nchain; i++)
            if (sc.chain[i] < 0 || (unsigned)sc.chain[i] >= sc.n)
                abort();
        if (sc.ns >= (int)sc.n || sc.soa >= (int)sc.n)
            abort();
    }
    dns_arena_clear(&a);
    return 0;
}
