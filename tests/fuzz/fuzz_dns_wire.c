/*
 * libFuzzer target for dns/wire (and the answer engine behind it). For every input:
 *   - dns_msg_parse must not crash or read outside the packet;
 *   - a parsed message rebuilt with the builder must parse again to the same records;
 *   - each record's presentation text must read back (zone-file syntax) to the same rdata;
 *   - dns_answer_packet must answer or drop without crashing, within the size limit.
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

static const char zone_text[] =
    "$TTL 300\n"
    "@ SOA ns1 h 1 2 3 4 60\n  NS ns1\n  MX 10 mail\n"
    "ns1 A 192.0.2.1\nmail A 192.0.2.2\nmail AAAA ::2\n"
    "www CNAME mail\n*.w TXT \"w\"\nsub NS ns.sub\nns.sub A 192.0.2.9\n";

/* Built once: fuzz targets may keep state between runs (the library itself has none). */
static struct dns_zoneset *fuzz_zoneset(void)
{
    static struct dns_zoneset *zs;
    if (zs)
        return zs;
    uint8_t o[DNS_NAME_MAXLEN];
    size_t ol;
    dns_name_from_text("example.com.", 12, NULL, o, &ol, NULL);
    struct dns_zone *z = NULL;
    if (dns_zone_from_text(zone_text, sizeof zone_text - 1, "fuzz", o, DNS_ZF_NO_INCLUDE, &z,
                           NULL) != 0)
        abort();
    zs = dns_zoneset_new();
    dns_zoneset_add(zs, z);
    dns_zone_unref(z);
    return zs;
}

static bool mem_eq_ci(const uint8_t *a, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t x = a[i], y = b[i];
        x = (x >= 'A' && x <= 'Z') ? (uint8_t)(x + 32) : x;
        y = (y >= 'A' && y <= 'Z') ? (uint8_t)(y + 32) : y;
        if (x != y)
            return false;
    }
    return true;
}

struct text_check {
    const struct dns_rr *rr;
    int seen;
};

static int text_cb(void *ctx, const struct dns_zonefile_rr *zr, const char **why)
{
    struct text_check *tc = ctx;
    tc->seen++;
    if (zr->type != tc->rr->type || zr->rdlen != tc->rr->rdlen ||
        memcmp(zr->rdata, tc->rr->rdata, zr->rdlen) != 0 || !dns_name_eq(zr->owner, tc->rr->owner))
        abort();
    return 0;
}

/* DS and CDS digests of a known digest type (SHA-1, SHA-256, SHA-384) must have its length
 * in text form (as in BIND): the wire may carry any length, the zone-file reader refuses the
 * wrong one -- and only that (the RFC 8078 delete "CDS 0 0 0 00" and every other record of
 * the DS form read back). */
static bool digest_length_refused(const struct dns_rr *rr)
{
    static const size_t len[5] = {0, 20, 32, 0, 48};
    if ((rr->type != DNS_TYPE_DS && rr->type != DNS_TYPE_CDS) || rr->rdlen < 4)
        return false;
    uint8_t dt = rr->rdata[3];
    return dt < 5 && len[dt] && rr->rdlen - 4 != len[dt];
}

/* Presentation form -> zone-file reader -> the same rdata. */
static void check_text(const struct dns_rr *rr)
{
    const struct dns_type_desc *d = dns_type_desc(rr->type);
    if (d && (d->flags & (DNS_TF_META | DNS_TF_QTYPE)))
        return; /* never in zone files */
    struct str line = STR_INIT;
    dns_print_rr(rr->owner, rr->type, DNS_CLASS_IN, 0, rr->rdata, rr->rdlen, &line);
    str_appendc(&line, '\n');
    struct text_check tc = {rr, 0};
    int rc = dns_zonefile_parse(line.ptr, line.len, "rr", (const uint8_t *)"", DNS_ZF_NO_INCLUDE,
                                text_cb, &tc, NULL);
    if ((rc != 0 && !digest_length_refused(rr)) || (rc == 0 && tc.seen != 1))
        abort();
    str_clear(&line);
}

static void check_rebuild(const struct dns_msg *m, uint8_t *out)
{
    struct dns_builder b;
    dns_builder_init(&b, out, DNS_MSG_MAX, DNS_MSG_MAX, &m->hdr);
    for (unsigned i = 0; i < m->hdr.qdcount; i++)
        if (dns_builder_question(&b, m->qd[i].qname, m->qd[i].qtype, m->qd[i].qclass) != 0)
            return;
    for (int s = 0; s < 3; s++)
        for (unsigned i = 0; i < m->count[s]; i++) {
            const struct dns_rr *r = &m->rr[s][i];
            if (dns_builder_rr(&b, s + 1, r->owner, r->type, r->rclass, r->ttl, r->rdata,
                               r->rdlen) != 0)
                return; /* may grow past 64 KiB: fine */
        }
    size_t len = dns_builder_finish(&b);
    unsigned char mem[4096];
    struct dns_arena a;
    dns_arena_init(&a, mem, sizeof mem);
    struct dns_msg m2;
    if (dns_msg_parse(out, len, &m2, &a) != 0)
        abort();
    for (int s = 0; s < 3; s++) {
        if (m2.count[s] != m->count[s])
            abort();
        for (unsigned i = 0; i < m->count[s]; i++) {
            const struct dns_rr *x = &m->rr[s][i], *y = &m2.rr[s][i];
            if (x->type != y->type || x->rdlen != y->rdlen || !dns_name_eq(x->owner, y->owner) ||
                !mem_eq_ci(x->rdata, y->rdata, x->rdlen))
                abort();
        }
    }
    dns_arena_clear(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *p = malloc(size ? size : 1); /* exact size: ASan sees any over-read */
    memcpy(p, data, size);
    unsigned char mem[4096];
    struct dns_arena a;
    dns_arena_init(&a, mem, sizeof mem);
    struct dns_msg m;
    uint8_t *out = malloc(DNS_MSG_MAX);
    if (dns_msg_parse(p, size, &m, &a) == 0) {
        struct str s = STR_INIT;
        dns_print_msg(&m, &s);
        str_clear(&s);
        /* RFC 2136 §2.5: UPDATE's delete operations carry empty rdata, which has no
         * presentation form in a zone file; every other record must read back. */
        for (int k = 0; k < 3; k++)
            for (unsigned i = 0; i < m.count[k]; i++)
                if (!(m.hdr.opcode == DNS_OPCODE_UPDATE && m.rr[k][i].rdlen == 0))
                    check_text(&m.rr[k][i]);
        check_rebuild(&m, out);
    }
    dns_arena_reset(&a);
    struct dns_answer_opts opts = {.tcp = size & 1};
    size_t n = dns_answer_packet(fuzz_zoneset(), p, size, &opts, &a, out, DNS_MSG_MAX, NULL);
    if (!opts.tcp && n > 1232)
        abort();
    dns_arena_clear(&a);
    free(out);
    free(p);
    return 0;
}
