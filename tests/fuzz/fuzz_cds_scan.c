/*
 * libFuzzer target for the CDS scan (src/dns/dnssec/cds_scan.c): the input holds the
 * validating resolver's three replies about a child (CDS, CDNSKEY, DNSKEY), each preceded by
 * a 2-byte big-endian length (a length past the end takes what is left; a missing reply is
 * none). They are judged, and an accepted DS set is written as an UPDATE of a parent zone
 * whose cut is the child, which the wire parser must read back. Nothing may crash, read out
 * of bounds, or accept more records than DNSSEC_CDS_MAX.
 */
#include "dns/arena.h"
#include "dns/dnssec/cds_scan.h"
#include "dns/name.h"
#include "dns/wire.h"
#include "dns/zone.h"
#include "dns/zonefile.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char parent_text[] = "$ORIGIN example.\n$TTL 3600\n"
                                  "@ SOA ns admin 5 7200 3600 1209600 300\n@ NS ns\n"
                                  "ns A 192.0.2.1\nkid NS ns.kid\nns.kid A 192.0.2.2\n";

static struct dns_zone *parent(void)
{
    static struct dns_zone *z;
    if (!z) {
        uint8_t o[DNS_NAME_MAXLEN];
        size_t len;
        struct str err = STR_INIT;
        if (dns_name_from_text("example.", 8, NULL, o, &len, NULL) != 0 ||
            dns_zone_from_text(parent_text, strlen(parent_text), "p", o, DNS_ZF_NO_INCLUDE, &z,
                               &err) != 0)
            abort();
        str_clear(&err);
    }
    return z;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t child[DNS_NAME_MAXLEN];
    size_t cl;
    if (dns_name_from_text("kid.example.", 12, NULL, child, &cl, NULL) != 0)
        abort();
    const uint8_t *pkt[DNSSEC_CDS_NQ] = {NULL};
    size_t len[DNSSEC_CDS_NQ] = {0};
    for (int i = 0; i < DNSSEC_CDS_NQ && size >= 2; i++) {
        size_t n = (size_t)data[0] << 8 | data[1];
        data += 2;
        size -= 2;
        if (n > size)
            n = size;
        pkt[i] = data;
        len[i] = n;
        data += n;
        size -= n;
    }
    struct dnssec_cds_result r;
    dnssec_cds_judge(child, pkt, len, &r);
    if (r.n > DNSSEC_CDS_MAX || (r.verdict == DNSSEC_CDS_REJECT && !r.why))
        abort();
    uint8_t out[DNS_MSG_MAX];
    size_t ul = dnssec_cds_update(parent(), child, &r, out, sizeof out);
    if (ul) {
        struct dns_arena a;
        dns_arena_init(&a, NULL, 0);
        struct dns_msg m;
        if (dns_msg_parse(out, ul, &m, &a) != 0 || m.count[1] != 1 + r.n * (r.verdict ==
                                                                          DNSSEC_CDS_SET))
            abort();
        dns_arena_clear(&a);
    }
    return 0;
}
