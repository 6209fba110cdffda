/*
 * libFuzzer target for dns/zonefile and dns/zone: the input is master-file text for
 * example.com ($INCLUDE disabled). No crash, no leak; when the zone loads, every RRset's
 * presentation text reads back to the same rdata, and a query for every node is answered.
 */
#include "core/str.h"
#include "dns/arena.h"
#include "dns/auth/answer.h"
#include "dns/name.h"
#include "dns/print.h"
#include "dns/rr.h"
#include "dns/wire.h"
#include "dns/zone.h"
#include "dns/zonefile.h"
#include "dns/zoneset.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct back {
    const uint8_t *rdata;
    size_t len;
    int seen;
};

static int back_cb(void *ctx, const struct dns_zonefile_rr *rr, const char **why)
{
    struct back *b = ctx;
    b->seen++;
    if (rr->rdlen != b->len || memcmp(rr->rdata, b->rdata, b->len) != 0)
        abort();
    return 0;
}

static void check_node(const struct dns_zoneset *zs, const struct dns_node *n)
{
    for (uint16_t i = 0; i < n->nrrsets; i++) {
        const struct dns_rrset *rs = &n->rrsets[i];
        for (uint16_t k = 0; k < rs->count; k++) {
            struct str line = STR_INIT;
            dns_print_rr(n->name, rs->type, DNS_CLASS_IN, rs->ttl, rs->rdata[k].data,
                         rs->rdata[k].len, &line);
            str_appendc(&line, '\n');
            struct back b = {rs->rdata[k].data, rs->rdata[k].len, 0};
            if (dns_zonefile_parse(line.ptr, line.len, "rr", (const uint8_t *)"", DNS_ZF_NO_INCLUDE,
                                   back_cb, &b, NULL) != 0 ||
                b.seen != 1)
                abort();
            str_clear(&line);
        }
    }
    uint8_t q[600], out[1232];
    struct dns_header h = {.id = 1};
    struct dns_builder bld;
    dns_builder_init(&bld, q, sizeof q, sizeof q, &h);
    dns_builder_question(&bld, n->name, n->nrrsets ? n->rrsets[0].type : DNS_TYPE_A, DNS_CLASS_IN);
    size_t qlen = dns_builder_finish(&bld);
    unsigned char mem[2048];
    struct dns_arena a;
    dns_arena_init(&a, mem, sizeof mem);
    if (dns_answer_packet(zs, q, qlen, NULL, &a, out, sizeof out, NULL) == 0)
        abort();
    dns_arena_clear(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1);
    memcpy(text, data, size);
    static const uint8_t origin[] = "\7example\3com";
    struct dns_zone *z = NULL;
    struct str err = STR_INIT;
    int rc = dns_zone_from_text(text, size, "fuzz.zone", origin, DNS_ZF_NO_INCLUDE, &z, &err);
    if (rc != 0 && (!err.ptr || strncmp(err.ptr, "fuzz.zone:", 10) != 0))
        abort(); /* every error names the file and line */
    if (rc == 0) {
        struct dns_zoneset *zs = dns_zoneset_new();
        dns_zoneset_add(zs, z);
        size_t count;
        const struct dns_node *nodes = dns_zone_nodes(z, &count);
        for (size_t i = 0; i < count && i < 64; i++)
            check_node(zs, &nodes[i]);
        dns_zoneset_unref(zs);
        dns_zone_unref(z);
    }
    str_clear(&err);
    free(text);
    return 0;
}
