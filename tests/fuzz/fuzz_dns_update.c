/*
 * libFuzzer target for the transfer/UPDATE layer (src/dns/xfr): one packet, its opcode set to
 * UPDATE, goes through the wire parser (UPDATE's empty rdata) and, when it parses, is applied to a small zone (prerequisites, updates, zone
 * rebuild); the same bytes go through the journal decoder, the TSIG verifier and, parsed by
 * the wire parser, through an AXFR/IXFR receiver. Nothing may crash, leak or read outside.
 */
#include "dns/arena.h"
#include "dns/rr.h"
#include "dns/wire.h"
#include "dns/xfr/journal.h"
#include "dns/xfr/tsig.h"
#include "dns/xfr/update.h"
#include "dns/xfr/xfr.h"
#include "dns/zone.h"
#include "dns/zonefile.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char zone_text[] = "$ORIGIN example.com.\n$TTL 300\n"
                                "@ SOA ns1 host 1 3600 600 86400 60\n@ NS ns1\n"
                                "ns1 A 192.0.2.1\nwww A 192.0.2.2\nalias CNAME www\n";

static void fuzz_update(const uint8_t *data, size_t size, struct dns_zone *z)
{
    struct dns_arena ar;
    dns_arena_init(&ar, NULL, 0);
    uint8_t *pkt = malloc(size ? size : 1);
    memcpy(pkt, data, size);
    if (size > 2)
        pkt[2] = (uint8_t)((pkt[2] & 0x87) | DNS_OPCODE_UPDATE << 3);
    struct dns_msg m;
    if (dns_msg_parse(pkt, size, &m, &ar) == 0) {
        struct dns_update_result res;
        dns_update_apply(z, &m, &res);
        if (res.zone && !res.diff)
            abort();
        dns_zone_unref(res.zone);
        dns_zdiff_unref(res.diff);
        struct dns_tsig_key k;
        const char *why;
        struct dns_tsig_result tr;
        if (m.tsig && dns_tsig_key_init(&k, "k", NULL, (const uint8_t *)"secret", 6, &why) == 0)
            dns_tsig_verify(pkt, size, &m, &k, 1, 0, NULL, 0, &tr);
    }
    free(pkt);
    dns_arena_clear(&ar);
}

static void fuzz_xfrin(const uint8_t *data, size_t size, struct dns_zone *z)
{
    struct dns_arena ar;
    dns_arena_init(&ar, NULL, 0);
    struct dns_msg m;
    if (dns_msg_parse(data, size, &m, &ar) == 0) {
        struct dns_xfrin x;
        dns_xfrin_init(&x, dns_zone_origin(z), size & 1 ? DNS_TYPE_IXFR : DNS_TYPE_AXFR, 1);
        if (dns_xfrin_feed(&x, &m) > 0) {
            struct dns_zone *out = NULL;
            struct str err = STR_INIT;
            dns_xfrin_finish(&x, z, &out, NULL, 4, &err);
            dns_zone_unref(out);
            str_clear(&err);
        }
        dns_xfrin_clear(&x);
    }
    dns_arena_clear(&ar);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t origin[] = "\7example\3com";
    struct dns_zone *z = NULL;
    struct str err = STR_INIT;
    if (dns_zone_from_text(zone_text, sizeof zone_text - 1, "fuzz", origin, DNS_ZF_NO_INCLUDE, &z,
                           &err) != 0)
        abort();
    str_clear(&err);
    fuzz_update(data, size, z);
    fuzz_xfrin(data, size, z);
    struct dns_zdiff **d;
    size_t n, valid;
    if (dns_journal_decode(data, size, &d, &n, &valid) == 0) {
        if (valid > size)
            abort();
        dns_journal_free(d, n);
    }
    dns_zone_unref(z);
    return 0;
}
