/*
 * The resolver's DNSSEC validation (src/dns/resolver/validator.c) against a simulated
 * Internet: zones signed in the test with Pigeon's signer and served by its authoritative
 * engine through the fake upstream (tests/fakes/fake_upstream.c), the root's DS as the trust
 * anchor. Secure, insecure (a delegation without DS), bogus (data changed after signing,
 * expired signatures, a DS that matches no DNSKEY, RRSIGs stripped), NSEC and NSEC3 denial,
 * a wildcard, a CNAME across zones, CD=1, a negative trust anchor, and the key cache.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/err.h"
#include "core/metrics.h"
#include "core/str.h"
#include "dns/arena.h"
#include "dns/dnssec/denial.h"
#include "dns/dnssec/signer.h"
#include "dns/dnssec/validate.h"
#include "dns/name.h"
#include "dns/print.h"
#include "dns/resolver/anchor.h"
#include "dns/resolver/autotrust.h"
#include "dns/resolver/nsec_cache.h"
#include "dns/resolver/nta.h"
#include "dns/resolver/resolver.h"
#include "dns/rr.h"
#include "dns/wire.h"
#include "dns/zone.h"
#include "dns/zonefile.h"
#include "dns/zoneset.h"
#include "fakes/fake_upstream.h"

#include <event2/event.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROOT "198.51.100.1"
#define TLD "198.51.100.2"
#define NS1 "198.51.100.3"
#define NS3 "198.51.100.4"

static const char HINTS[] = ". 3600000 NS ns.root.\nns.root. 3600000 A " ROOT "\n";

/* ---- the signed Internet, built once ---- */

struct internet {
    struct dns_zoneset *root, *tld, *ns1, *ns3;
    char anchor[512]; /* the root's DS, as a trust-anchor file line */
    char wrong_anchor[512]; /* a DS for the root that matches none of its keys */
    char root_key[1024];    /* the root's DNSKEY, as a master-file line */
};

static struct internet net;

static const uint8_t *N(const char *text, uint8_t *buf)
{
    size_t len;
    assert_int_equal(dns_name_from_text(text, strlen(text), NULL, buf, &len, NULL), 0);
    return buf;
}

static void make_key(struct dnssec_key *k)
{
    EVP_PKEY *pk = dnssec_key_generate(DNSSEC_ALG_ECDSAP256);
    assert_non_null(pk);
    assert_int_equal(dnssec_key_init(k, pk, DNSSEC_ALG_ECDSAP256, 257), 0);
    k->zsk = true; /* a CSK */
}

/* The DS line of k for owner (zone-file text, newline-terminated) appended to out. */
static void ds_line(const char *owner, const struct dnssec_key *k, struct str *out)
{
    uint8_t o[DNS_NAME_MAXLEN], ds[64];
    size_t len;
    assert_int_equal(
        dnssec_ds_make(N(owner, o), k->dnskey, k->dnskey_len, DNSSEC_DIGEST_SHA256, ds, &len), 0);
    dns_print_rr(o, DNS_TYPE_DS, DNS_CLASS_IN, 3600, ds, len, out);
    str_appends(out, "\n");
}

static struct dns_zone *zone_of(const char *origin, const char *text)
{
    uint8_t o[DNS_NAME_MAXLEN];
    struct dns_zone *z = NULL;
    struct str err = STR_INIT;
    if (dns_zone_from_text(text, strlen(text), origin, N(origin, o), DNS_ZF_NO_INCLUDE, &z, &err))
        fail_msg("%s", str_cstr(&err));
    str_clear(&err);
    return z;
}

static struct dns_zone *sign(const char *origin, const char *text, const struct dnssec_key *k,
                             bool nsec3, uint32_t now)
{
    struct dns_zone *z = zone_of(origin, text);
    struct dnssec_sign_params p = {
        .now = now, .inception_ago = 3600, .validity = 14 * 86400, .nsec3 = nsec3};
    struct dns_zone *out = NULL;
    struct str err = STR_INIT;
    if (dnssec_sign_zone(z, k, 1, &p, &out, &err) != 0)
        fail_msg("%s", str_cstr(&err));
    str_clear(&err);
    dns_zone_unref(z);
    return out;
}

/* The zone as master-file text, one record a line. */
static void zone_text(const struct dns_zone *z, struct str *out)
{
    size_t n;
    const struct dns_node *nodes = dns_zone_nodes(z, &n);
    for (size_t i = 0; i < n; i++)
        for (uint16_t j = 0; j < nodes[i].nrrsets; j++) {
            const struct dns_rrset *s = &nodes[i].rrsets[j];
            for (uint16_t k = 0; k < s->count; k++) {
                dns_print_rr(nodes[i].name, s->type, DNS_CLASS_IN, s->ttl, s->rdata[k].data,
                             s->rdata[k].len, out);
                str_appends(out, "\n");
            }
        }
}

/* z re-read after every line containing `drop` is removed and `from` replaced by `to`. */
static struct dns_zone *tamper(const char *origin, struct dns_zone *z, const char *drop,
                               const char *from, const char *to)
{
    struct str t = STR_INIT, o = STR_INIT;
    zone_text(z, &t);
    dns_zone_unref(z);
    for (const char *p = str_cstr(&t); *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);
        char *line = strndup(p, len);
        char *hit = from ? strstr(line, from) : NULL;
        if (drop && strstr(line, drop)) {
            /* dropped */
        } else if (hit) {
            str_appendf(&o, "%.*s%s%s", (int)(hit - line), line, to, hit + strlen(from));
        } else {
            str_appends(&o, line);
        }
        free(line);
        p += len;
    }
    struct dns_zone *out = zone_of(origin, str_cstr(&o));
    str_clear(&t);
    str_clear(&o);
    return out;
}

static struct dns_zoneset *set_of(struct dns_zone **z, size_t n)
{
    struct dns_zoneset *zs = dns_zoneset_new();
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(dns_zoneset_add(zs, z[i]), 0);
        dns_zone_unref(z[i]);
    }
    return zs;
}

#define SOA(z) z " 300 SOA ns." z " h." z " 1 3600 600 86400 300\n" z " 300 NS ns." z "\n"
#define CHILD(c, ip) c " 300 NS ns." c "\nns." c " 300 A " ip "\n"

/* KeyTrap (CVE-2023-50387): trap.example. publishes its key and TRAP_FAKES more DNSKEYs with
 * the same key tag (public key bytes moved so that the tag's checksum stays), and answers
 * www.trap.example. A with TRAP_SIGS RRSIGs of that tag, none of them valid. */
#define TRAP_FAKES 2
#define TRAP_SIGS 40

static struct dns_zone *trap_zone(const struct dnssec_key *k, uint32_t now)
{
    struct dnssec_key keys[1 + TRAP_FAKES];
    keys[0] = *k;
    for (int i = 1; i <= TRAP_FAKES; i++) {
        struct dnssec_key *f = &keys[i];
        *f = *k;
        f->active = f->cds = false; /* published only */
        /* two different high-order octets of the key swapped: the same tag (RFC 4034 App. B),
         * another key */
        size_t x = 4 + 2 * (size_t)i, y = x + 2;
        while (f->dnskey[y] == f->dnskey[x] && y + 2 < f->dnskey_len)
            y += 2;
        uint8_t t = f->dnskey[x];
        f->dnskey[x] = f->dnskey[y];
        f->dnskey[y] = t;
    }
    struct dns_zone *z = zone_of("trap.example.", SOA("trap.example.") "ns.trap.example. 300 A " NS1
                                                   "\nwww.trap.example. 300 A 192.0.2.66\n");
    struct dnssec_sign_params p = {.now = now, .inception_ago = 3600, .validity = 14 * 86400};
    struct dns_zone *signed_z = NULL;
    struct str err = STR_INIT, text = STR_INIT, kept = STR_INIT;
    if (dnssec_sign_zone(z, keys, 1 + TRAP_FAKES, &p, &signed_z, &err) != 0)
        fail_msg("%s", str_cstr(&err));
    dns_zone_unref(z);
    zone_text(signed_z, &text);
    dns_zone_unref(signed_z);
    for (const char *l = str_cstr(&text); *l;) { /* the real signature of www's A goes */
        const char *nl = strchr(l, '\n');
        size_t len = (size_t)(nl - l) + 1;
        if (!strstr(l, "www.trap.example.\t300\tIN\tRRSIG\tA ") ||
            strstr(l, "www.trap.example.\t300\tIN\tRRSIG\tA ") > nl)
            str_append(&kept, l, len);
        l += len;
    }
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < TRAP_SIGS; i++) {
        char sig[87];
        for (int j = 0; j < 85; j++)
            sig[j] = b64[(i * 7 + j * 3) % 64];
        sig[85] = 'A';
        sig[86] = '\0';
        str_appendf(&kept, "www.trap.example. 300 RRSIG A 13 3 300 %u %u %u trap.example. %s==\n",
                    now + 86400, now - 3600, k->tag, sig);
    }
    struct dns_zone *trap = zone_of("trap.example.", str_cstr(&kept));
    str_clear(&text);
    str_clear(&kept);
    str_clear(&err);
    return trap;
}

static int internet_setup(void **state)
{
    (void)state;
    uint32_t now = (uint32_t)time(NULL);
    struct dnssec_key kroot, kex, kalt, kbad, kexp, knokey, kother, knosig, ktrap, kw3;
    struct dnssec_key *all[] = {&kroot,  &kex,    &kalt,   &kbad,  &kexp,
                                &knokey, &kother, &knosig, &ktrap, &kw3};
    size_t nkeys = sizeof all / sizeof all[0];
    for (size_t i = 0; i < nkeys; i++)
        make_key(all[i]);

    struct dns_zone *z1[6];
    z1[0] = zone_of("unsigned.example.",
                    SOA("unsigned.example.") "ns.unsigned.example. 300 A " NS1
                                             "\nwww.unsigned.example. 300 A 192.0.2.10\n");
    const char *leaf = "www.%s 300 A 192.0.2.20\nns.%s 300 A " NS1 "\n";
    char text[1024];
    snprintf(text, sizeof text, SOA("bad.example.") "%s", "");
    snprintf(text + strlen(text), sizeof text - strlen(text), leaf, "bad.example.", "bad.example.");
    /* data changed after signing: the signature no longer matches */
    z1[1] = tamper("bad.example.", sign("bad.example.", text, &kbad, false, now), NULL,
                   "192.0.2.20", "192.0.2.21");
    snprintf(text, sizeof text, SOA("expired.example."));
    snprintf(text + strlen(text), sizeof text - strlen(text), leaf, "expired.example.",
             "expired.example.");
    z1[2] = sign("expired.example.", text, &kexp, false, now - 30 * 86400);
    snprintf(text, sizeof text, SOA("nokey.example."));
    snprintf(text + strlen(text), sizeof text - strlen(text), leaf, "nokey.example.",
             "nokey.example.");
    z1[3] = sign("nokey.example.", text, &knokey, false, now);
    snprintf(text, sizeof text, SOA("nosig.example."));
    snprintf(text + strlen(text), sizeof text - strlen(text), leaf, "nosig.example.",
             "nosig.example.");
    z1[4] = tamper("nosig.example.", sign("nosig.example.", text, &knosig, false, now),
                   "www.nosig.example.\t300\tIN\tRRSIG\tA ", NULL, NULL);
    z1[5] = trap_zone(&ktrap, now);
    net.ns1 = set_of(z1, 6);

    struct dns_zone *z3[2];
    z3[0] = sign("alt.", SOA("alt.") "ns.alt. 300 A " NS3 "\nwww.alt. 300 A 192.0.2.30\n", &kalt,
                 true, now);
    /* an NSEC3 zone with a wildcard below an empty non-terminal */
    z3[1] = sign("wild3.", SOA("wild3.") "ns.wild3. 300 A " NS3 "\n*.w.wild3. 300 A 192.0.2.33\n",
                 &kw3, true, now);
    net.ns3 = set_of(z3, 2);

    struct str ex = STR_INIT;
    str_appends(
        &ex, SOA("example.") "ns.example. 300 A " TLD "\n"
                             "www.example. 300 A 192.0.2.1\n"
                             "*.wild.example. 300 A 192.0.2.2\n"
                             "cname.example. 300 CNAME www.alt.\n" CHILD("unsigned.example.", NS1)
                                 CHILD("bad.example.", NS1) CHILD("expired.example.", NS1)
                                     CHILD("nokey.example.", NS1) CHILD("nosig.example.", NS1)
                                         CHILD("trap.example.", NS1));
    ds_line("bad.example.", &kbad, &ex);
    ds_line("expired.example.", &kexp, &ex);
    ds_line("nokey.example.", &kother, &ex); /* no DNSKEY of nokey.example. matches */
    ds_line("nosig.example.", &knosig, &ex);
    ds_line("trap.example.", &ktrap, &ex);
    struct dns_zone *ztld = sign("example.", str_cstr(&ex), &kex, false, now);
    net.tld = set_of(&ztld, 1);

    struct str rt = STR_INIT;
    str_appends(&rt, ". 300 SOA ns.root. h.root. 1 3600 600 86400 300\n. 300 NS ns.root.\n"
                     "ns.root. 300 A " ROOT "\n" CHILD("example.", TLD) CHILD("alt.", NS3)
                         CHILD("wild3.", NS3));
    ds_line("example.", &kex, &rt);
    ds_line("alt.", &kalt, &rt);
    ds_line("wild3.", &kw3, &rt);
    struct dns_zone *zroot = sign(".", str_cstr(&rt), &kroot, false, now);
    net.root = set_of(&zroot, 1);

    struct str anchor = STR_INIT;
    str_appends(&anchor, "; the simulated root's KSK\n");
    ds_line(".", &kroot, &anchor);
    snprintf(net.anchor, sizeof net.anchor, "%s", str_cstr(&anchor));
    str_reset(&anchor);
    ds_line(".", &kex, &anchor);
    snprintf(net.wrong_anchor, sizeof net.wrong_anchor, "%s", str_cstr(&anchor));
    str_reset(&anchor);
    dns_print_rr((const uint8_t *)"", DNS_TYPE_DNSKEY, DNS_CLASS_IN, 0, kroot.dnskey,
                 kroot.dnskey_len, &anchor);
    snprintf(net.root_key, sizeof net.root_key, "%s", str_cstr(&anchor));
    str_clear(&anchor);
    str_clear(&ex);
    str_clear(&rt);
    for (size_t i = 0; i < nkeys; i++)
        EVP_PKEY_free(all[i]->pkey);
    return 0;
}

static int internet_teardown(void **state)
{
    (void)state;
    dns_zoneset_unref(net.root);
    dns_zoneset_unref(net.tld);
    dns_zoneset_unref(net.ns1);
    dns_zoneset_unref(net.ns3);
    return 0;
}

/* ---- a resolver in that Internet ---- */

struct world {
    struct event_base *base;
    struct fake_clock clock;
    struct fake_upstream *up;
    struct dns_resolver_shared *sh;
    struct dns_resolver *r;
};

static struct world *world_new_at(bool anchored, const char *nta, const char *anchor,
                                  struct dns_autotrust *at);

static struct world *world_new(bool anchored, const char *nta)
{
    return world_new_at(anchored, nta, NULL, NULL);
}

static struct str saved_state; /* what the autotrust change callback saved last */

static void state_changed(void *ctx, struct dns_autotrust *at)
{
    (void)ctx;
    str_reset(&saved_state);
    dns_autotrust_save(at, &saved_state);
}

static struct world *world_new_at(bool anchored, const char *nta, const char *anchor,
                                  struct dns_autotrust *at)
{
    struct world *w = calloc(1, sizeof *w);
    w->base = event_base_new();
    w->clock.ms = 5000000;
    w->up = fake_upstream_new(w->base, &w->clock, NULL, 0);
    fake_upstream_serve(w->up, ROOT, net.root);
    fake_upstream_serve(w->up, TLD, net.tld);
    fake_upstream_serve(w->up, NS1, net.ns1);
    fake_upstream_serve(w->up, NS3, net.ns3);
    struct dns_resolver_config cfg;
    dns_resolver_config_defaults(&cfg);
    struct dns_cache_config cc = {1 << 20, 0, 86400, 3600, 0};
    struct dns_hints h = {0};
    struct str err = STR_INIT;
    assert_int_equal(dns_hints_parse(HINTS, strlen(HINTS), "hints", &h, &err), 0);
    w->sh = dns_resolver_shared_new(&cfg, &cc, &h);
    if (anchored) {
        struct dns_anchors a = {0};
        const char *text = anchor ? anchor : net.anchor;
        if (dns_anchors_parse(&a, text, strlen(text), "anchor", &err) != 0)
            fail_msg("%s", str_cstr(&err));
        dns_resolver_shared_set_anchors(w->sh, &a);
        if (at)
            dns_resolver_shared_set_autotrust(w->sh, at, state_changed, NULL);
        uint8_t wire[DNS_NAME_MAXLEN];
        if (nta)
            assert_int_equal(dns_resolver_nta_add(w->sh, N(nta, wire), DNS_NTA_PERMANENT), 0);
    }
    str_clear(&err);
    dns_resolver_shared_set_io(w->sh, fake_upstream_ops(w->up));
    w->r = dns_resolver_new(w->base, w->sh);
    return w;
}

static void world_free(struct world *w)
{
    dns_resolver_free(w->r);
    dns_resolver_shared_free(w->sh);
    fake_upstream_free(w->up);
    event_base_free(w->base);
    free(w);
}

struct result {
    bool done;
    size_t len;
    uint8_t buf[DNS_MSG_MAX];
};

static void on_reply(void *arg, const uint8_t *resp, size_t len)
{
    struct result *res = arg;
    res->done = true;
    res->len = len;
    memcpy(res->buf, resp, len);
}

enum { Q_DO = 1, Q_CD = 2 };

struct reply {
    struct dns_msg m;
    unsigned rcode;
    bool ad;
    int ede; /* -1: none */
    char text[4096];
};

static int find_ede(const struct dns_msg *m)
{
    const uint8_t *p = m->edns.opts, *end = p + m->edns.opts_len;
    while (p && p + 4 <= end) {
        unsigned code = p[0] << 8 | p[1], len = p[2] << 8 | p[3];
        if (code == 15 && len >= 2 && p + 4 + len <= end)
            return p[4] << 8 | p[5];
        p += 4 + len;
    }
    return -1;
}

static void ask(struct world *w, const char *name, uint16_t qtype, unsigned flags,
                struct reply *out, struct dns_arena *a)
{
    static struct result res;
    memset(&res, 0, sizeof res);
    uint8_t wire[DNS_NAME_MAXLEN], pkt[512];
    struct dns_header h = {.id = 0x4242, .rd = true, .cd = (flags & Q_CD) != 0, .qdcount = 1};
    struct dns_builder b;
    dns_builder_init(&b, pkt, sizeof pkt, sizeof pkt, &h);
    dns_builder_question(&b, N(name, wire), qtype, DNS_CLASS_IN);
    dns_builder_opt(&b, 1232, 0, 0, (flags & Q_DO) != 0);
    size_t n = dns_builder_finish(&b);
    dns_resolver_query_packet(w->r, pkt, n, on_reply, &res);
    for (int i = 0; i < 100000 && !res.done; i++)
        event_base_loop(w->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
    assert_true(res.done);
    assert_int_equal(dns_msg_parse(res.buf, res.len, &out->m, a), 0);
    out->rcode = out->m.rcode;
    out->ad = out->m.hdr.ad;
    out->ede = find_ede(&out->m);
    struct str s = STR_INIT;
    dns_print_msg(&out->m, &s);
    snprintf(out->text, sizeof out->text, "%s", str_cstr(&s));
    str_clear(&s);
}

static unsigned count_type(const struct dns_msg *m, int sec, uint16_t type)
{
    unsigned n = 0;
    for (uint16_t i = 0; i < m->count[sec]; i++)
        n += m->rr[sec][i].type == type;
    return n;
}

#define ARENA                                                                                      \
    unsigned char mem[16384];                                                                      \
    struct dns_arena a;                                                                            \
    dns_arena_init(&a, mem, sizeof mem)

/* ---- the cases ---- */

static void test_secure_answer_sets_ad(void **state)
{
    (void)state;
    ARENA;
    struct world *w = world_new(true, NULL);
    struct reply r;
    ask(w, "www.example.", DNS_TYPE_A, Q_DO, &r, &a);
    assert_int_equal(r.rcode, DNS_RCODE_NOERROR);
    assert_true(r.ad);
    assert_non_null(strstr(r.text, "192.0.2.1"));
    assert_int_equal(count_type(&r.m, 0, DNS_TYPE_RRSIG), 1); /* DO: the signature comes along */
    /* the chain was fetched: root DNSKEY, DS and DNSKEY of example. */
    assert_int_equal(fake_upstream_count(w->up, ROOT, ".", DNS_TYPE_DNSKEY), 1);
    assert_int_equal(fake_upstream_count(w->up, ROOT, "example.", DNS_TYPE_DS), 1);
    assert_int_equal(fake_upstream_count(w->up, TLD, "example.", DNS_TYPE_DNSKEY), 1);
    /* again: from the cache, still secure, nothing asked */
    size_t before;
    fake_upstream_log(w->up, &before);
    dns_arena_reset(&a);
    ask(w, "www.example.", DNS_TYPE_A, Q_DO, &r, &a);
    assert_true(r.ad);
    size_t after;
    fake_upstream_log(w->up, &after);
    assert_int_equal(before, after);
    /* without DO nor AD: no AD bit (RFC 6840 §5.7), no RRSIG */
    dns_arena_reset(&a);
    ask(w, "www.example.", DNS_TYPE_A, 0, &r, &a);
    assert_false(r.ad);
    assert_int_equal(count_type(&r.m, 0, DNS_TYPE_RRSIG), 0);
    world_free(w);
    dns_arena_clear(&a);
}

static void test_no_anchor_no_validation(void **state)
{
    (void)state;
    ARENA;
    struct world *w = world_new(false, NULL);
    struct reply r;
    ask(w, "www.bad.example.", DNS_TYPE_A, Q_DO, &r, &a);
    assert_int_equal(r.rcode, DNS_RCODE_NOERROR); /* not validating: the changed data passes */
    assert_false(r.ad);
    assert_int_equal(fake_upstream_count(w->up, NULL, NULL, DNS_TYPE_DNSKEY), 0);
    world_free(w);
    dns_arena_clear(&a);
}

static void test_insecure_delegation(void **state)
{
    (void)state;
    ARENA;
    struct world *w = world_new(true, NULL);
    struct reply r;
    ask(w, "www.unsigned.example.", DNS_TYPE_A, Q_DO, &r, &a);
    assert_int_equal(r.rcode, DNS_RCODE_NOERROR);
    assert_false(r.ad);
    assert_non_null(strstr(r.text, "192.0.2.10"));
    /* the NSEC of example. proved the DS absent */
    assert_int_equal(fake_upstream_count(w->up, TLD, "unsigned.example.", DNS_TYPE_DS), 1);
    world_free(w);
    dns_arena_clear(&a);
}

static void expect_bogus(const char *name, int ede)
{
    ARENA;
    struct world *w = world_new(true, NULL);
    struct reply r;
    ask(w, name, DNS_TYPE_A, Q_DO, &r, &a);
    if (r.rcode != DNS_RCODE_SERVFAIL || r.ede != ede)
        fail_msg("%s: wanted SERVFAIL with EDE %d, got %d:\n%s", name, ede, r.ede, r.text);
    assert_int_equal(r.m.count[0], 0);
    /* cached as bogus: asked again, SERVFAIL without going upstream */
    size_t before, after;
    fake_upstream_log(w->up, &before);
    dns_arena_reset(&a);
    ask(w, name, DNS_TYPE_A, Q_DO, &r, &a);
    assert_int_equal(r.rcode, DNS_RCODE_SERVFAIL);
    fake_upstream_log(w->up, &after);
    assert_int_equal(before, after);
    /* CD=1: the data, unchecked, without AD */
    dns_arena_reset(&a);
    ask(w, name, DNS_TYPE_A, Q_DO | Q_CD, &r, &a);
    assert_int_equal(r.rcode, DNS_RCODE_NOERROR);
    assert_false(r.ad);
    assert_int_equal(count_type(&r.m, 0, DNS_TYPE_A), 1);
    world_free(w);
    dns_arena_clear(&a);
}

static void test_bogus_bad_signature(void **state)
{
    (void)state;
    expect_bogus("www.bad.example.", 6);
}

static void test_bogus_expired(void **state)
{
    (void)state;
    expect_bogus("www.expired.example.", 7);
}

static void test_bogus_ds_matches_no_dnskey(void **state)
{
    (void)state;
    expect_bogus("www.nokey.example.", 9);
}

static void test_bogus_rrsigs_missing(void **state)
{
    (void)state;
    expect_bogus("www.nosig.example.", 10);
}

/* Data fetched with CD=1 is never served as validated: a later query validates it. */
static void test_cd_data_not_served_as_validated(void **state)
{
    (void)state;
    ARENA;
    struct world *w = world_new(true, NULL);
    struct reply r;
    ask(w, "www.bad.example.", DNS_TYPE_A, Q_DO | Q_CD, &r, &a);
    assert_int_equal(r.rcode, DNS_RCODE_NOERROR);
    assert_false(r.ad);
    dns_arena_reset(&a);
    ask(w, "www.bad.example.", DNS_TYPE_A, Q_DO, &r, &a);
    assert_int_equal(r.rcode, DNS_RCODE_SERVFAIL);
    dns_arena_reset(&a);
    ask(w, "www.example.", DNS_TYPE_A, Q_DO | Q_CD, &r, &a);
    assert_false(r.ad);
    dns_arena_reset(&a);
    ask(w, "www.example.", DNS_TYPE_A, Q_DO, &r, &a);
    assert_true(r.ad);
    world_free(w);
    dns_arena_clear(&a);
}

static void test_nsec_denial(void **state)
{
    (void)state;
    ARENA;
    struct world *w = world_new(true, NULL);
    struct reply r;
    ask(w, "nothere.example.", DNS_TYPE_A, Q_DO, &r, &a);
    if (r.rcode != DNS_RCODE_NXDOMAIN)
        fail_msg("EDE %d\n%s", r.ede, r.text);
    assert_true(r.ad);
    assert_true(count_type(&r.m, 1, DNS_TYPE_NSEC) >= 1);
    /* from the cache: still with the signed SOA and the NSEC proof for DO clients */
    dns_arena_reset(&a);
    ask(w, "nothere.example.", DNS_TYPE_A, Q_DO, &r, &a);
    assert_int_equal(r.rcode, DNS_RCODE_NXDOMAIN);
    assert_true(r.ad);
    assert_true(count_type(&r.m, 1, DNS_TYPE_NSEC) >= 1);
    assert_true(count_type(&r.m, 1, DNS_TYPE_RRSIG) >= 2);
    assert_int_equal(fake_upstream_count(w->up, TLD, "nothere.example.", 0), 1);
    dns_arena_reset(&a);
    ask(w, "www.example.", DNS_TYPE_MX, Q_DO, &r, &a);
    assert_int_equal(r.rcode, DNS_RCODE_NOERROR);
    assert_int_equal(r.m.count[0], 0);
    assert_true(r.ad);
    /* the wildcard: the answer and the NSEC showing the name itself does not exist */
    dns_arena_reset(&a);
    ask(w, "any.wild.example.", DNS_TYPE_A, Q_DO, &r, &a);
    assert_int_equal(r.rcode, DNS_RCODE_NOERROR);
    assert_non_null(strstr(r.text, "192.0.2.2"));
    assert_true(r.ad);
    world_free(w);
    dns_arena_clear(&a);
}

static void test_nsec3_denial_and_cname_across_zones(void **state)
{
    (void)state;
    ARENA;
    struct world *w = world_new(true, NULL);
    struct reply r;
    ask(w, "nothere.alt.", DNS_TYPE_A, Q_DO, &r, &a);
    assert_int_equal(r.rcode, DNS_RCODE_NXDOMAIN);
    assert_true(r.ad);
    assert_true(count_type(&r.m, 1, DNS_TYPE_NSEC3) >= 2);
    dns_arena_reset(&a);
    ask(w, "www.alt.", DNS_TYPE_TXT, Q_DO, &r, &a);
    assert_int_equal(r.rcode, DNS_RCODE_NOERROR);
    assert_true(r.ad);
    dns_arena_reset(&a);
    ask(w, "cname.example.", DNS_TYPE_A, Q_DO, &r, &a);
    assert_int_equal(r.rcode, DNS_RCODE_NOERROR);
    assert_non_null(strstr(r.text, "192.0.2.30"));
    assert_true(r.ad);
    world_free(w);
    dns_arena_clear(&a);
}

static void test_negative_trust_anchor(void **state)
{
    (void)state;
    ARENA;
    struct world *w = world_new(true, "bad.example.");
    struct reply r;
    ask(w, "www.bad.example.", DNS_TYPE_A, Q_DO, &r, &a);
    assert_int_equal(r.rcode, DNS_RCODE_NOERROR); /* RFC 7646: not validated below the NTA */
    assert_false(r.ad);
    dns_arena_reset(&a);
    ask(w, "www.expired.example.", DNS_TYPE_A, Q_DO, &r, &a);
    assert_int_equal(r.rcode, DNS_RCODE_SERVFAIL); /* only that zone */
    world_free(w);
    dns_arena_clear(&a);
}

/* An NTA added at run time turns a cached bogus answer into an insecure one at once; once
 * its lifetime is over (or it is removed) the zone is validated again, and bogus again. */
static void test_runtime_nta_expires(void **state)
{
    (void)state;
    ARENA;
    uint8_t n[DNS_NAME_MAXLEN];
    struct world *w = world_new(true, NULL);
    struct reply r;
    ask(w, "www.expired.example.", DNS_TYPE_A, Q_DO, &r, &a);
    assert_int_equal(r.rcode, DNS_RCODE_SERVFAIL);
    assert_int_equal(dns_resolver_nta_add(w->sh, N("Expired.Example.", n), 60000), 0);
    struct dns_nta list[4];
    uint64_t now;
    assert_int_equal(dns_resolver_nta_list(w->sh, list, 4, &now), 1);
    assert_true(dns_name_eq(list[0].name, N("expired.example.", n)));
    assert_int_equal(list[0].expires_ms - now, 60000);
    dns_arena_reset(&a);
    ask(w, "www.expired.example.", DNS_TYPE_A, Q_DO, &r, &a);
    assert_int_equal(r.rcode, DNS_RCODE_NOERROR);
    assert_false(r.ad);
    assert_non_null(strstr(r.text, "192.0.2.20"));
    w->clock.ms += 61000; /* the NTA's lifetime is over */
    dns_arena_reset(&a);
    ask(w, "www.expired.example.", DNS_TYPE_A, Q_DO, &r, &a);
    assert_int_equal(r.rcode, DNS_RCODE_SERVFAIL);
    assert_int_equal(dns_resolver_nta_list(w->sh, list, 4, &now), 0);
    /* added again, then removed by hand */
    assert_int_equal(dns_resolver_nta_add(w->sh, N("expired.example.", n), 60000), 0);
    dns_arena_reset(&a);
    ask(w, "www.expired.example.", DNS_TYPE_A, Q_DO, &r, &a);
    assert_int_equal(r.rcode, DNS_RCODE_NOERROR);
    assert_true(dns_resolver_nta_remove(w->sh, N("expired.example.", n)));
    assert_false(dns_resolver_nta_remove(w->sh, N("expired.example.", n)));
    dns_arena_reset(&a);
    ask(w, "www.expired.example.", DNS_TYPE_A, Q_DO, &r, &a);
    assert_int_equal(r.rcode, DNS_RCODE_SERVFAIL);
    world_free(w);
    dns_arena_clear(&a);
}

/* The NTA table itself: names below, case, order, the limit, expiry. */
static void test_nta_table(void **state)
{
    (void)state;
    uint8_t n[DNS_NAME_MAXLEN];
    struct dns_ntas *t = dns_ntas_new();
    assert_int_equal(dns_ntas_add(t, N("Corp.Example.", n), 1000), 0);
    assert_int_equal(dns_ntas_add(t, N("a.example.", n), DNS_NTA_PERMANENT), 0);
    assert_true(dns_ntas_covers(t, N("www.CORP.example.", n), 0));
    assert_true(dns_ntas_covers(t, N("corp.example.", n), 999));
    assert_false(dns_ntas_covers(t, N("xcorp.example.", n), 0));
    assert_false(dns_ntas_covers(t, N("example.", n), 0));
    assert_false(dns_ntas_covers(t, N("www.corp.example.", n), 1000)); /* expired */
    assert_false(dns_ntas_due(t, 999));
    assert_true(dns_ntas_due(t, 1000));
    struct dns_nta l[4];
    assert_int_equal(dns_ntas_list(t, 0, l, 4), 2);
    assert_true(dns_name_eq(l[0].name, N("a.example.", n))); /* canonical order */
    uint8_t gone[1][DNS_NAME_MAXLEN];
    assert_int_equal(dns_ntas_expire(t, 1000, gone, 1), 1);
    assert_true(dns_name_eq(gone[0], N("corp.example.", n)));
    assert_int_equal(dns_ntas_expire(t, 1000, gone, 1), 0);
    assert_false(dns_ntas_due(t, UINT64_MAX - 1)); /* only the permanent one is left */
    char name[32];
    for (int i = 1; i < DNS_NTAS_MAX; i++) {
        snprintf(name, sizeof name, "z%d.example.", i);
        assert_int_equal(dns_ntas_add(t, N(name, n), 5000), 0);
    }
    assert_int_equal(dns_ntas_add(t, N("one.more.", n), 5000), ERR_LIMIT);
    assert_int_equal(dns_ntas_add(t, N("z7.example.", n), 9000), 0); /* an update fits */
    dns_ntas_free(t);
}

/* The value of a process-wide counter (0 until first bumped). */
static uint64_t metric_value(const char *name)
{
    struct str s = STR_INIT;
    metrics_render(&s);
    char key[128];
    snprintf(key, sizeof key, "\n%s ", name);
    const char *p = strstr(str_cstr(&s), key);
    uint64_t v = p ? strtoull(p + strlen(key), NULL, 10) : 0;
    str_clear(&s);
    return v;
}

/* The EXTRA-TEXT of the reply's Extended DNS Error (RFC 8914 §2), or "". */
static void ede_text(const struct dns_msg *m, char *out, size_t cap)
{
    out[0] = '\0';
    const uint8_t *p = m->edns.opts, *end = p + m->edns.opts_len;
    while (p && p + 4 <= end) {
        unsigned code = p[0] << 8 | p[1], len = p[2] << 8 | p[3];
        if (code == 15 && len >= 2 && p + 4 + len <= end) {
            snprintf(out, cap, "%.*s", (int)(len - 2), (const char *)p + 6);
            return;
        }
        p += 4 + len;
    }
}

/* KeyTrap (CVE-2023-50387): 3 keys share one tag and 40 RRSIGs of that tag cover the A set;
 * the validator makes at most DNSSEC_MAX_SET_VALIDATIONS verifications for that set (4 keys
 * per RRSIG), counts them, and answers SERVFAIL with EDE 6 saying why. */
static void test_keytrap_zone_is_bounded(void **state)
{
    (void)state;
    ARENA;
    struct world *w = world_new(true, NULL);
    uint64_t checks = metric_value("pigeon_resolver_dnssec_signature_checks_total");
    uint64_t limited = metric_value("pigeon_resolver_dnssec_limited_total");
    struct reply r;
    ask(w, "www.trap.example.", DNS_TYPE_A, Q_DO, &r, &a);
    assert_int_equal(r.rcode, DNS_RCODE_SERVFAIL);
    assert_int_equal(r.ede, DNSSEC_EDE_BOGUS);
    char text[128];
    ede_text(&r.m, text, sizeof text);
    assert_non_null(strstr(text, "CVE-2023-50387"));
    /* the chain (the DNSKEY sets of ., example. and trap.example., the DS sets of example.
     * and trap.example.) takes one verification each; the trap's A set at most its limit */
    uint64_t made = metric_value("pigeon_resolver_dnssec_signature_checks_total") - checks;
    if (made > 5 + 8) /* 8: the per-RRset limit, written out (the question's is 32) */
        fail_msg("%llu signature verifications for one question", (unsigned long long)made);
    assert_true(made > 5);
    assert_int_equal(metric_value("pigeon_resolver_dnssec_limited_total") - limited, 1);
    /* the resolver goes on: other zones still validate */
    dns_arena_reset(&a);
    ask(w, "www.example.", DNS_TYPE_A, Q_DO, &r, &a);
    assert_true(r.ad);
    world_free(w);
    dns_arena_clear(&a);
}

/* A forged NXDOMAIN (no proof) for a name in a signed zone is bogus. */
static void test_forged_nxdomain_is_bogus(void **state)
{
    (void)state;
    ARENA;
    static const struct fake_dns_entry forged[] = {
        {NS3, "*", 0, FAKE_REPLY, DNS_RCODE_NXDOMAIN, true, NULL,
         "alt. 300 SOA ns.alt. h.alt. 1 3600 600 86400 300", NULL, 0},
    };
    struct world *w = world_new(true, NULL);
    struct reply r;
    ask(w, "www.alt.", DNS_TYPE_A, Q_DO, &r, &a); /* the keys of alt. are now cached */
    assert_true(r.ad);
    fake_upstream_free(w->up);
    dns_resolver_free(w->r);
    w->up = fake_upstream_new(w->base, &w->clock, forged, 1);
    fake_upstream_serve(w->up, ROOT, net.root);
    dns_resolver_shared_set_io(w->sh, fake_upstream_ops(w->up));
    w->r = dns_resolver_new(w->base, w->sh);
    dns_arena_reset(&a);
    ask(w, "other.alt.", DNS_TYPE_A, Q_DO, &r, &a);
    if (r.rcode != DNS_RCODE_SERVFAIL)
        fail_msg("a forged NXDOMAIN was accepted:\n%s", r.text);
    world_free(w);
    dns_arena_clear(&a);
}

/* RFC 8198: a name inside a span that a validated NSEC proved empty is answered NXDOMAIN
 * (secure) from the cache, without asking; outside any cached span, it is asked. */
static void test_aggressive_nsec(void **state)
{
    (void)state;
    ARENA;
    struct world *w = world_new(true, NULL);
    struct reply r;
    ask(w, "nothere.example.", DNS_TYPE_A, Q_DO, &r, &a); /* NSEC nosig -> ns, apex -> bad */
    assert_int_equal(r.rcode, DNS_RCODE_NXDOMAIN);
    dns_arena_reset(&a);
    ask(w, "nothing.example.", DNS_TYPE_TXT, Q_DO, &r, &a);
    assert_int_equal(r.rcode, DNS_RCODE_NXDOMAIN);
    assert_true(r.ad);
    assert_true(count_type(&r.m, 1, DNS_TYPE_NSEC) >= 1);
    assert_int_equal(fake_upstream_count(w->up, NULL, "nothing.example.", 0), 0);
    /* www.example. exists: its own NSEC is not cached, so it is asked */
    dns_arena_reset(&a);
    ask(w, "www.example.", DNS_TYPE_A, Q_DO, &r, &a);
    assert_int_equal(r.rcode, DNS_RCODE_NOERROR);
    assert_int_equal(fake_upstream_count(w->up, TLD, "www.example.", DNS_TYPE_A), 1);
    /* a wildcard answer validated once answers every name it covers (RFC 8198 §5.3) */
    dns_arena_reset(&a);
    ask(w, "one.wild.example.", DNS_TYPE_A, Q_DO, &r, &a);
    assert_true(r.ad);
    dns_arena_reset(&a);
    ask(w, "two.wild.example.", DNS_TYPE_A, Q_DO, &r, &a);
    assert_int_equal(r.rcode, DNS_RCODE_NOERROR);
    assert_true(r.ad);
    assert_non_null(strstr(r.text, "two.wild.example.\t"));
    assert_non_null(strstr(r.text, "192.0.2.2"));
    assert_int_equal(count_type(&r.m, 0, DNS_TYPE_RRSIG), 1);
    assert_int_equal(fake_upstream_count(w->up, NULL, "two.wild.example.", 0), 0);
    /* a name in another span is asked */
    dns_arena_reset(&a);
    ask(w, "zzz.example.", DNS_TYPE_A, Q_DO, &r, &a);
    assert_int_equal(r.rcode, DNS_RCODE_NXDOMAIN);
    assert_int_equal(fake_upstream_count(w->up, TLD, "zzz.example.", 0), 1);
    world_free(w);
    dns_arena_clear(&a);
}

/* RFC 8198 with NSEC3 (alt. is signed with NSEC3, no opt-out): once the three NSEC3 records
 * of the zone are cached (three NODATA answers), NXDOMAIN for any name and NODATA for a
 * missing type come from the cache, secure, with the NSEC3 proof, without asking. */
static void test_aggressive_nsec3(void **state)
{
    (void)state;
    ARENA;
    struct world *w = world_new(true, NULL);
    struct reply r;
    static const char *const names[] = {"alt.", "ns.alt.", "www.alt."};
    for (size_t i = 0; i < 3; i++) {
        dns_arena_reset(&a);
        ask(w, names[i], DNS_TYPE_TXT, Q_DO, &r, &a);
        assert_int_equal(r.rcode, DNS_RCODE_NOERROR);
        assert_true(r.ad);
    }
    static const char *const absent[] = {"random.alt.", "a.b.c.alt.", "zz.ns.alt."};
    for (size_t i = 0; i < 3; i++) {
        dns_arena_reset(&a);
        ask(w, absent[i], DNS_TYPE_A, Q_DO, &r, &a);
        if (r.rcode != DNS_RCODE_NXDOMAIN || !r.ad)
            fail_msg("%s:\n%s", absent[i], r.text);
        assert_true(count_type(&r.m, 1, DNS_TYPE_NSEC3) >= 2);
        assert_int_equal(fake_upstream_count(w->up, NULL, absent[i], 0), 0);
    }
    dns_arena_reset(&a);
    ask(w, "www.alt.", DNS_TYPE_MX, Q_DO, &r, &a); /* NODATA: www's NSEC3 lacks MX */
    assert_int_equal(r.rcode, DNS_RCODE_NOERROR);
    assert_true(r.ad);
    assert_int_equal(count_type(&r.m, 0, DNS_TYPE_MX), 0);
    assert_int_equal(fake_upstream_count(w->up, NULL, "www.alt.", DNS_TYPE_MX), 0);
    /* data that exists is not denied: www's A is asked */
    dns_arena_reset(&a);
    ask(w, "www.alt.", DNS_TYPE_A, Q_DO, &r, &a);
    assert_non_null(strstr(r.text, "192.0.2.30"));
    assert_int_equal(fake_upstream_count(w->up, NS3, "www.alt.", DNS_TYPE_A), 1);
    world_free(w);
    dns_arena_clear(&a);
}

/* Two names under *.w.wild3. whose NSEC3 hashes fall in the same span of the zone's chain
 * (wild3., ns.wild3., w.wild3., *.w.wild3.), so that the proof of the first covers the
 * second; each written as text into first/second. */
static void same_span_names(char *first, char *second, size_t cap)
{
    static const char *const chain[] = {"wild3.", "ns.wild3.", "w.wild3.", "*.w.wild3."};
    uint8_t hs[4][DNSSEC_NSEC3_HASH_MAX], n[DNS_NAME_MAXLEN], h[DNSSEC_NSEC3_HASH_MAX];
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(dnssec_nsec3_hash(N(chain[i], n), 1, 0, NULL, 0, hs[i]), 0);
    int span_of_first = -1;
    for (int c = 0; c < 200; c++) {
        char name[32];
        snprintf(name, sizeof name, "n%d.w.wild3.", c);
        assert_int_equal(dnssec_nsec3_hash(N(name, n), 1, 0, NULL, 0, h), 0);
        int span = -1; /* the chain record with the largest hash below h (wrapping) */
        for (int i = 0; i < 4; i++)
            if (memcmp(hs[i], h, sizeof h) < 0 &&
                (span < 0 || memcmp(hs[i], hs[span], sizeof h) > 0))
                span = i;
        if (span < 0) /* below every owner: the last record's span wraps round to it */
            for (int i = span = 0; i < 4; i++)
                if (memcmp(hs[i], hs[span], sizeof h) > 0)
                    span = i;
        if (span_of_first < 0) {
            span_of_first = span;
            snprintf(first, cap, "%s", name);
        } else if (span == span_of_first) {
            snprintf(second, cap, "%s", name);
            return;
        }
    }
    fail_msg("no two names in one NSEC3 span");
}

/* RFC 8198 §5.3 with NSEC3: once one name under the wildcard of wild3. (NSEC3, no opt-out)
 * was answered and validated, another name whose hash the same NSEC3 covers is answered from
 * the cache -- the wildcard's A at that name, secure, its RRSIG (labels 2) and the NSEC3
 * proving the name absent -- without asking; a name outside the span is asked; a name that
 * exists (w.wild3., an empty non-terminal) is never synthesized. */
static void test_aggressive_nsec3_wildcard(void **state)
{
    (void)state;
    ARENA;
    char first[32], second[32];
    same_span_names(first, second, sizeof first);
    struct world *w = world_new(true, NULL);
    struct reply r;
    ask(w, first, DNS_TYPE_A, Q_DO, &r, &a);
    assert_int_equal(r.rcode, DNS_RCODE_NOERROR);
    assert_true(r.ad);
    assert_non_null(strstr(r.text, "192.0.2.33"));
    assert_int_equal(fake_upstream_count(w->up, NS3, first, DNS_TYPE_A), 1);
    dns_arena_reset(&a);
    ask(w, second, DNS_TYPE_A, Q_DO, &r, &a);
    if (r.rcode != DNS_RCODE_NOERROR || !r.ad || !strstr(r.text, "192.0.2.33"))
        fail_msg("%s:\n%s", second, r.text);
    char owner[48];
    snprintf(owner, sizeof owner, "%s\t", second);
    assert_non_null(strstr(r.text, owner));
    assert_int_equal(count_type(&r.m, 0, DNS_TYPE_RRSIG), 1);
    assert_int_equal(count_type(&r.m, 1, DNS_TYPE_NSEC3), 1);
    assert_int_equal(fake_upstream_count(w->up, NULL, second, 0), 0);
    /* the same without DO: the data, AD only for a client that asks (RFC 6840 §5.8) */
    dns_arena_reset(&a);
    ask(w, second, DNS_TYPE_A, 0, &r, &a);
    assert_non_null(strstr(r.text, "192.0.2.33"));
    assert_int_equal(count_type(&r.m, 0, DNS_TYPE_RRSIG), 0);
    assert_int_equal(fake_upstream_count(w->up, NULL, second, 0), 0);
    /* the wildcard holds A only: another type is asked (a wildcard NODATA is not made up) */
    dns_arena_reset(&a);
    ask(w, second, DNS_TYPE_TXT, Q_DO, &r, &a);
    assert_true(fake_upstream_count(w->up, NS3, second, DNS_TYPE_TXT) >= 1);
    /* w.wild3. exists (an empty non-terminal): never answered from its wildcard */
    dns_arena_reset(&a);
    ask(w, "w.wild3.", DNS_TYPE_A, Q_DO, &r, &a);
    assert_int_equal(r.rcode, DNS_RCODE_NOERROR);
    assert_null(strstr(r.text, "192.0.2.33"));
    assert_true(fake_upstream_count(w->up, NS3, "w.wild3.", DNS_TYPE_A) >= 1);
    world_free(w);
    dns_arena_clear(&a);
}

/* RFC 8198 with NSEC3, wildcard NODATA (RFC 5155 §7.2.5, §8.7): once one name under the
 * wildcard *.w.wild3. (which holds A only) was answered NODATA for TXT -- validated with the
 * NSEC3 of the closest encloser w.wild3., the one covering the next closer name and the
 * wildcard's own, whose bitmap lacks TXT -- another name whose hash the same NSEC3 covers is
 * answered NODATA from the cache: secure, with those records, without asking. Once their TTL
 * (300 s) has passed on the fake clock it is asked again. */
static void test_aggressive_nsec3_wildcard_nodata(void **state)
{
    (void)state;
    ARENA;
    char first[32], second[32];
    same_span_names(first, second, sizeof first);
    struct world *w = world_new(true, NULL);
    struct reply r;
    ask(w, first, DNS_TYPE_TXT, Q_DO, &r, &a);
    if (r.rcode != DNS_RCODE_NOERROR || !r.ad || r.m.count[0] != 0)
        fail_msg("%s TXT:\n%s", first, r.text);
    assert_int_equal(fake_upstream_count(w->up, NS3, first, DNS_TYPE_TXT), 1);
    dns_arena_reset(&a);
    ask(w, second, DNS_TYPE_TXT, Q_DO, &r, &a);
    if (r.rcode != DNS_RCODE_NOERROR || !r.ad || r.m.count[0] != 0)
        fail_msg("%s TXT:\n%s", second, r.text);
    assert_int_equal(count_type(&r.m, 1, DNS_TYPE_SOA), 1);
    assert_true(count_type(&r.m, 1, DNS_TYPE_NSEC3) >= 2);
    assert_int_equal(fake_upstream_count(w->up, NULL, second, 0), 0);
    /* the wildcard's own type is no NODATA: A is asked (and answered from the wildcard) */
    dns_arena_reset(&a);
    ask(w, second, DNS_TYPE_A, Q_DO, &r, &a);
    assert_true(r.ad);
    assert_non_null(strstr(r.text, "192.0.2.33"));
    assert_int_equal(fake_upstream_count(w->up, NS3, second, DNS_TYPE_A), 1);
    /* the NSEC3 records expired: the next question goes upstream */
    w->clock.ms += 301000;
    dns_arena_reset(&a);
    ask(w, second, DNS_TYPE_TXT, Q_DO, &r, &a);
    assert_int_equal(r.rcode, DNS_RCODE_NOERROR);
    assert_true(r.ad);
    assert_int_equal(fake_upstream_count(w->up, NS3, second, DNS_TYPE_TXT), 1);
    world_free(w);
    dns_arena_clear(&a);
}

/* NSEC3 records with the opt-out flag are not kept for aggressive use (RFC 8198 §5.5): the
 * span may hide insecure delegations. */
static void test_nsec3_opt_out_not_cached(void **state)
{
    (void)state;
    ARENA;
    uint8_t zone[DNS_NAME_MAXLEN], owner[DNS_NAME_MAXLEN], q[DNS_NAME_MAXLEN];
    uint8_t h[DNSSEC_NSEC3_HASH_MAX];
    N("zone.test.", zone);
    assert_int_equal(dnssec_nsec3_hash(zone, 1, 0, NULL, 0, h), 0);
    assert_int_equal(dnssec_nsec3_owner(h, zone, owner), 0);
    /* one record covering the whole chain (next = itself), types SOA NS */
    uint8_t rd[6 + DNSSEC_NSEC3_HASH_MAX + 4] = {1, 0, 0, 0, 0, DNSSEC_NSEC3_HASH_MAX};
    memcpy(rd + 6, h, sizeof h);
    memcpy(rd + 6 + DNSSEC_NSEC3_HASH_MAX, (const uint8_t[]){0, 2, 0x22, 0}, 4);
    struct dns_rdata one = {sizeof rd, rd};
    struct dns_cache_rrset set = {owner, DNS_TYPE_NSEC3, 1, 300, 0, &one, 1, 0, NULL};
    static const uint8_t soa_rd[] = {0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1,
                                     0, 0, 0, 60};
    struct dns_rdata srd = {sizeof soa_rd, soa_rd};
    struct dns_cache_rrset soa = {zone, DNS_TYPE_SOA, 1, 300, 0, &srd, 1, 0, NULL}, got_soa;
    struct dns_cache_rrset found[NSEC_CACHE_FOUND3_MAX];
    for (int opt_out = 1; opt_out >= 0; opt_out--) {
        rd[1] = (uint8_t)opt_out;
        struct dns_nsec_cache *nc = dns_nsec_cache_new();
        dns_nsec_cache_put(nc, zone, &soa, 0);
        dns_nsec_cache_put(nc, zone, &set, 0);
        unsigned n = dns_nsec_cache_find3(nc, zone, N("nope.zone.test.", q), 1000, &a, found,
                                          &got_soa);
        assert_int_equal(n, opt_out ? 0 : 1); /* the one record proves all three parts */
        dns_nsec_cache_free(nc);
    }
    dns_arena_clear(&a);
}

/* RFC 5011 through the resolver: the root's key, vouched for by the anchor, is recorded as
 * Valid when its DNSKEY set is validated (and the state saved); with an anchor file whose
 * DS matches no key any more, the key the saved state trusts still validates the root. */
static void test_rfc5011_states(void **state)
{
    (void)state;
    ARENA;
    struct world *w = world_new_at(true, NULL, NULL, dns_autotrust_new());
    struct reply r;
    ask(w, "www.example.", DNS_TYPE_A, Q_DO, &r, &a);
    assert_true(r.ad);
    if (!strstr(str_cstr(&saved_state), "valid "))
        fail_msg("state: %s", str_cstr(&saved_state));
    world_free(w);
    /* the anchor no longer matches: bogus, unless the saved state trusts the key */
    w = world_new_at(true, NULL, net.wrong_anchor, NULL);
    dns_arena_reset(&a);
    ask(w, "www.example.", DNS_TYPE_A, Q_DO, &r, &a);
    assert_int_equal(r.rcode, DNS_RCODE_SERVFAIL);
    world_free(w);
    struct dns_autotrust *at = dns_autotrust_new();
    struct str text = STR_INIT, err = STR_INIT;
    str_appendf(&text, "valid %lld %s\n", (long long)time(NULL) - 86400, net.root_key);
    if (dns_autotrust_load(at, text.ptr, text.len, &err) != 0)
        fail_msg("%s", str_cstr(&err));
    w = world_new_at(true, NULL, net.wrong_anchor, at);
    dns_arena_reset(&a);
    ask(w, "www.example.", DNS_TYPE_A, Q_DO, &r, &a);
    assert_int_equal(r.rcode, DNS_RCODE_NOERROR);
    assert_true(r.ad);
    world_free(w);
    str_clear(&text);
    str_clear(&err);
    str_clear(&saved_state);
    dns_arena_clear(&a);
}

/* Trust anchors in the file forms Unbound reads: DS and DNSKEY lines with comments. */
static void test_anchor_file_forms(void **state)
{
    (void)state;
    static const char root_key[] =
        "; autotrust trust anchor file\n"
        ";;id: . 1\n"
        ".\t172800\tIN\tDNSKEY\t257 3 8 AwEAAaz/tAm8yTn4Mfeh5eyI96WSVexTBAvkMgJzkKTOiW1vkIbzxeF3"
        "+/4RgWOq7HrxRixHlFlExOLAJr5emLvN7SWXgnLh4+B5xQlNVz8Og8kvArMtNROxVQuCaSnIDdD5LKyWbRd2"
        "n9WGe2R8PzgCmr3EgVLrjyBxWezF0jLHwVN8efS3rCj/EWgvIWgb9tarpVUDK/b58Da+sqqls3eNbuv7pr+e"
        "oZG+SrDK6nWeL3c6H5Apxz7LjVc1uTIdsIXxuOLYA4/ilBmSVIzuDWfdRUfhHdY6+cn8HFRm+2hM8AnXGXws"
        "9555KrUB5qihylGa8subX2Nn6UwNR1AkUTV74bU= ;{id = 20326 (ksk), size = 2048b}\n"
        ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n";
    struct dns_anchors an = {0};
    struct str err = STR_INIT;
    if (dns_anchors_parse(&an, root_key, strlen(root_key), "root.key", &err) != 0)
        fail_msg("%s", str_cstr(&err));
    uint8_t n[DNS_NAME_MAXLEN];
    const struct dns_anchor *ta = dns_anchors_find(&an, N("www.example.", n));
    assert_non_null(ta);
    assert_int_equal(ta->nds, 1); /* the DNSKEY's SHA-256 DS is the DS line: one anchor */
    assert_int_equal(ta->ds[0].data[0] << 8 | ta->ds[0].data[1], 20326);
    assert_int_not_equal(dns_anchors_parse(&an, ". IN A 192.0.2.1\n", 17, "bad", &err), 0);
    /* Debian's /usr/share/dns/root.key gives no TTL at all */
    static const char no_ttl[] =
        "example. IN DS 12345 13 2 "
        "E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D ; keytag 12345\n";
    struct dns_anchors an2 = {0};
    if (dns_anchors_parse(&an2, no_ttl, strlen(no_ttl), "root.key", &err) != 0)
        fail_msg("%s", str_cstr(&err));
    assert_non_null(dns_anchors_find(&an2, N("www.example.", n)));
    dns_anchors_clear(&an2);
    str_clear(&err);
    dns_anchors_clear(&an);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_anchor_file_forms),
        cmocka_unit_test(test_secure_answer_sets_ad),
        cmocka_unit_test(test_no_anchor_no_validation),
        cmocka_unit_test(test_insecure_delegation),
        cmocka_unit_test(test_bogus_bad_signature),
        cmocka_unit_test(test_bogus_expired),
        cmocka_unit_test(test_bogus_ds_matches_no_dnskey),
        cmocka_unit_test(test_bogus_rrsigs_missing),
        cmocka_unit_test(test_cd_data_not_served_as_validated),
        cmocka_unit_test(test_nsec_denial),
        cmocka_unit_test(test_nsec3_denial_and_cname_across_zones),
        cmocka_unit_test(test_negative_trust_anchor),
        cmocka_unit_test(test_runtime_nta_expires),
        cmocka_unit_test(test_nta_table),
        cmocka_unit_test(test_keytrap_zone_is_bounded),
        cmocka_unit_test(test_forged_nxdomain_is_bogus),
        cmocka_unit_test(test_aggressive_nsec),
        cmocka_unit_test(test_aggressive_nsec3),
        cmocka_unit_test(test_aggressive_nsec3_wildcard),
        cmocka_unit_test(test_aggressive_nsec3_wildcard_nodata),
        cmocka_unit_test(test_rfc5011_states),
        cmocka_unit_test(test_nsec3_opt_out_not_cached),
    };
    return cmocka_run_group_tests(tests, internet_setup, internet_teardown);
}
