/*
 * libFuzzer target for the validator's input (src/dns/dnssec): the input is a DNS reply.
 * Every answer/authority record's DNSSEC view is parsed (DNSKEY, RRSIG, DS, NSEC, NSEC3);
 * each answer RRset is checked against its RRSIGs and a fixed DNSKEY set made of the reply's
 * own DNSKEYs plus one Ed25519 key; the authority's NSEC/NSEC3 records are run through the
 * NXDOMAIN, NODATA and wildcard provers for the question. The same input, as a query, is
 * answered from a signed zone (NSEC and NSEC3 versions) by the authoritative engine, whose
 * DNSSEC additions must stay within the reply size. Nothing may crash, read out of bounds,
 * or spend more than the per-question budget.
 */
#include "dns/arena.h"
#include "dns/auth/answer.h"
#include "dns/dnssec/signer.h"
#include "dns/zone.h"
#include "dns/zonefile.h"
#include "dns/zoneset.h"
#include "dns/dnssec/crypto.h"
#include "dns/dnssec/denial.h"
#include "dns/dnssec/validate.h"
#include "dns/name.h"
#include "dns/rr.h"
#include "dns/wire.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAXR 64

static void check_views(const struct dns_rr *r)
{
    struct dnssec_dnskey k;
    struct dnssec_rrsig s;
    struct dnssec_ds d;
    if (r->type == DNS_TYPE_DNSKEY && dnssec_dnskey_parse(r->rdata, r->rdlen, &k) == 0)
        EVP_PKEY_free(dnssec_pkey_from_dnskey(k.alg, k.key, k.keylen));
    if (r->type == DNS_TYPE_RRSIG && dnssec_rrsig_parse(r->rdata, r->rdlen, &s) == 0 &&
        s.sig + s.siglen != r->rdata + r->rdlen)
        abort();
    if (r->type == DNS_TYPE_DS)
        (void)dnssec_ds_parse(r->rdata, r->rdlen, &d);
}

/* Checks every RRset of the answer section; returns the budget left. */
static void verify_answer(const struct dns_msg *m, const uint8_t *zone, struct dnssec_budget *b)
{
    static const uint8_t fixed_key[36] = {1, 1, 3, 15, 0x11, 0x22, 0x33, 0x44};
    struct dns_rdata keys[MAXR], sigs[MAXR], set[MAXR];
    size_t nk = 0;
    keys[nk++] = (struct dns_rdata){sizeof fixed_key, fixed_key};
    for (unsigned i = 0; i < m->count[0] && nk < MAXR; i++)
        if (m->rr[0][i].type == DNS_TYPE_DNSKEY)
            keys[nk++] = (struct dns_rdata){m->rr[0][i].rdlen, m->rr[0][i].rdata};
    for (unsigned i = 0; i < m->count[0]; i++) {
        const struct dns_rr *r = &m->rr[0][i];
        if (r->type == DNS_TYPE_RRSIG)
            continue;
        size_t ns = 0, n = 0;
        for (unsigned j = 0; j < m->count[0]; j++) {
            const struct dns_rr *o = &m->rr[0][j];
            if (!dns_name_eq(o->owner, r->owner))
                continue;
            if (o->type == r->type && n < MAXR)
                set[n++] = (struct dns_rdata){o->rdlen, o->rdata};
            else if (o->type == DNS_TYPE_RRSIG && o->rdlen >= 2 &&
                     (o->rdata[0] << 8 | o->rdata[1]) == r->type && ns < MAXR)
                sigs[ns++] = (struct dns_rdata){o->rdlen, o->rdata};
        }
        struct dnssec_rrset_view v = {r->owner, r->type, DNS_CLASS_IN, set, n};
        uint16_t ede;
        unsigned labels = 0;
        unsigned before = b->validations;
        dnssec_verify_rrset(&v, sigs, ns, zone, keys, nk, 1800000000u, b, &labels, &ede);
        if (b->validations > before)
            abort();
    }
}

static const char zone_text[] = "$TTL 300\n@ SOA ns1 h 1 2 3 4 60\n  NS ns1\n  MX 10 mail\n"
                                "ns1 A 192.0.2.1\nmail A 192.0.2.2\nwww CNAME mail\n"
                                "*.w TXT \"w\"\na.b.c A 192.0.2.3\nsub NS ns.sub\n"
                                "ns.sub A 192.0.2.9\n";

/* Built once (fuzz targets may keep state between runs): example.com signed with NSEC, and
 * example.net with NSEC3, by a fixed Ed25519 key. */
static struct dns_zoneset *signed_zones(void)
{
    static struct dns_zoneset *zs;
    if (zs)
        return zs;
    static const uint8_t seed[32] = {42};
    EVP_PKEY *pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, sizeof seed);
    struct dnssec_key k;
    if (!pk || dnssec_key_init(&k, pk, DNSSEC_ALG_ED25519, 257) != 0)
        abort();
    k.zsk = true;
    zs = dns_zoneset_new();
    const char *origins[2] = {"example.com.", "example.net."};
    for (int i = 0; i < 2; i++) {
        uint8_t o[DNS_NAME_MAXLEN];
        size_t ol;
        dns_name_from_text(origins[i], strlen(origins[i]), NULL, o, &ol, NULL);
        struct dns_zone *z = NULL, *sz = NULL;
        struct str err = STR_INIT;
        struct dnssec_sign_params p = {.now = 1800000000u, .inception_ago = 3600,
                                       .validity = 86400, .nsec3 = i == 1};
        if (dns_zone_from_text(zone_text, sizeof zone_text - 1, "fuzz", o, DNS_ZF_NO_INCLUDE, &z,
                               NULL) != 0 ||
            dnssec_sign_zone(z, &k, 1, &p, &sz, &err) != 0)
            abort();
        str_clear(&err);
        dns_zoneset_add(zs, sz);
        dns_zone_unref(sz);
        dns_zone_unref(z);
    }
    EVP_PKEY_free(pk);
    return zs;
}

static void answer_signed(const uint8_t *data, size_t size)
{
    static uint8_t out[65535];
    struct dns_arena a;
    dns_arena_init(&a, NULL, 0);
    struct dns_answer_opts opts = {size & 1, 1232};
    size_t n = dns_answer_packet(signed_zones(), data, size, &opts, &a, out, sizeof out, NULL);
    if (n > (opts.tcp ? 65535u : 1232u))
        abort();
    dns_arena_clear(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    answer_signed(data, size);
    struct dns_arena arena;
    dns_arena_init(&arena, NULL, 0);
    struct dns_msg m;
    if (dns_msg_parse(data, size, &m, &arena) != 0 || m.hdr.qdcount != 1) {
        dns_arena_clear(&arena);
        return 0;
    }
    const uint8_t *qname = m.qd[0].qname;
    const uint8_t *zone = dns_name_labels(qname) > 0 ? dns_name_parent(qname) : qname;
    for (int s = 0; s < 2; s++)
        for (unsigned i = 0; i < m.count[s]; i++)
            check_views(&m.rr[s][i]);
    struct dnssec_budget b;
    dnssec_budget_init(&b);
    verify_answer(&m, zone, &b);

    struct dnssec_nsec_rr v[MAXR];
    size_t n = 0;
    for (unsigned i = 0; i < m.count[1] && n < MAXR; i++) {
        const struct dns_rr *r = &m.rr[1][i];
        if (r->type == DNS_TYPE_NSEC || r->type == DNS_TYPE_NSEC3)
            v[n++] = (struct dnssec_nsec_rr){r->owner, r->type, r->rdata, r->rdlen};
    }
    dnssec_budget_init(&b);
    dnssec_prove_nxdomain(v, n, zone, qname, &b);
    dnssec_prove_nodata(v, n, zone, qname, m.qd[0].qtype, &b);
    dnssec_prove_wildcard(v, n, zone, qname, dns_name_labels(qname) ? 1 : 0, &b);
    if (b.nsec3_hashes > DNSSEC_MAX_NSEC3_HASHES)
        abort();
    dns_arena_clear(&arena);
    return 0;
}
