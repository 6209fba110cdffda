/*
 * validator — DNSSEC validation of the resolver's answers (RFC 4033-4035, RFC 5155,
 * RFC 6840), on top of the pure checks of src/dns/dnssec (validate.h, denial.h).
 *
 * Each RRset of the answer chain, and the negative part (SOA and NSEC/NSEC3 proofs) of an
 * NXDOMAIN or NODATA answer, is checked with the keys of the zone that signed it. Those keys
 * come from a walk down from the closest trust anchor: the anchor's DNSKEY set (checked
 * against the anchor's DS), then for each name one label longer towards the signer, its DS
 * set from the zone above (signed with that zone's keys); a DS leads to the child's DNSKEY
 * set, a proven absent DS either to the next label (the name is no zone cut) or to an
 * insecure delegation (a cut without DS, or an NSEC3 opt-out span). Unsigned data is walked
 * the same way to its own name: it is insecure only below an insecure delegation, otherwise
 * bogus (RRSIGs missing). What the walk learns is kept in the key cache (keycache.h), so a
 * warm resolver validates without asking anything.
 *
 * The validator never waits: when it needs a DS or DNSKEY set it says which (RES_VAL_FETCH)
 * and the iterator fetches it (over TCP when truncated, like any query) and feeds it back.
 * Signature checks and NSEC3 hashes draw on the question's budget (KeyTrap, CVE-2023-50387
 * and CVE-2023-50868): a spent budget makes the answer bogus. Signature times are checked
 * against the wall clock.
 */
#include "dns/resolver/resolver_int.h"

#include "core/metrics.h"
#include "dns/dnssec/denial.h"
#include "dns/name.h"
#include "dns/rr.h"

#include <string.h>
#include <time.h>

enum { STEP_ANCHOR_KEYS = 1, STEP_DS, STEP_DNSKEY };

#define BOGUS_TTL 60 /* RFC 4035 §4.7: bogus data is kept only briefly */
#define KEY_TTL_MAX 86400
#define KEY_TTL_MIN 1

bool res_validating(const struct dns_resolver *r)
{
    return r->sh->anchors.n > 0;
}

/* ---- negative trust anchors (RFC 7646) ---- */

bool res_nta(const struct dns_resolver *r, const uint8_t *name)
{
    return dns_ntas_covers(r->sh->ntas, name, res_now_ms(r));
}

void res_nta_expire(struct dns_resolver_shared *sh)
{
    uint8_t gone[8][DNS_NAME_MAXLEN];
    size_t n;
    while ((n = dns_ntas_expire(sh->ntas, sh->io.now_ms(sh->io.ctx), gone, 8)) > 0)
        for (size_t i = 0; i < n; i++)
            dns_cache_forget_status_below(sh->cache, gone[i]);
}

int dns_resolver_nta_add(struct dns_resolver_shared *sh, const uint8_t *name,
                         uint64_t lifetime_ms)
{
    uint64_t now = sh->io.now_ms(sh->io.ctx);
    uint64_t until = lifetime_ms >= DNS_NTA_PERMANENT - now ? DNS_NTA_PERMANENT : now + lifetime_ms;
    int rc = dns_ntas_add(sh->ntas, name, until);
    if (rc == 0)
        dns_cache_forget_status_below(sh->cache, name);
    return rc;
}

bool dns_resolver_nta_remove(struct dns_resolver_shared *sh, const uint8_t *name)
{
    if (!dns_ntas_remove(sh->ntas, name))
        return false;
    dns_cache_forget_status_below(sh->cache, name);
    return true;
}

size_t dns_resolver_nta_list(struct dns_resolver_shared *sh, struct dns_nta *out, size_t cap,
                             uint64_t *now_ms_out)
{
    res_nta_expire(sh);
    *now_ms_out = sh->io.now_ms(sh->io.ctx);
    return dns_ntas_list(sh->ntas, *now_ms_out, out, cap);
}

static uint32_t wall_now(void)
{
    return (uint32_t)time(NULL);
}

static uint32_t key_ttl(uint32_t ttl)
{
    return ttl < KEY_TTL_MIN ? KEY_TTL_MIN : ttl > KEY_TTL_MAX ? KEY_TTL_MAX : ttl;
}

void res_val_init(struct res_val *v, struct dns_resolver *r, struct res_answer *ans,
                  const uint8_t *qname, uint16_t qtype, struct dns_arena *a)
{
    memset(v, 0, sizeof *v);
    v->r = r;
    v->ans = ans;
    v->a = a;
    v->qname = qname;
    v->qtype = qtype;
    dnssec_budget_init(&v->budget);
}

/* ---- signatures ---- */

/* The signer of set's first parsable RRSIG, or NULL (unsigned). */
static const uint8_t *signer_of(const struct dns_cache_rrset *set)
{
    for (uint16_t i = 0; i < set->nsig; i++) {
        struct dnssec_rrsig s;
        if (dnssec_rrsig_parse(set->sigs[i].data, set->sigs[i].len, &s) == 0 &&
            s.covered == set->type)
            return s.signer;
    }
    return NULL;
}

/* set against its RRSIGs with the keys of zone v->zone; *labels_out as dnssec_verify_rrset. */
static enum dnssec_status verify_set(struct res_val *v, const struct dns_cache_rrset *set,
                                     unsigned *labels_out, uint16_t *ede)
{
    if (set->nsig == 0) {
        *ede = DNSSEC_EDE_RRSIGS_MISSING;
        return DNSSEC_BOGUS;
    }
    const uint8_t *signer = signer_of(set);
    if (!signer || !dns_name_eq(signer, v->zone) || !dns_name_is_sub(set->owner, v->zone)) {
        *ede = DNSSEC_EDE_BOGUS;
        return DNSSEC_BOGUS;
    }
    struct dnssec_rrset_view view = {set->owner, set->type, DNS_CLASS_IN, set->rdata, set->count};
    return dnssec_verify_rrset(&view, set->sigs, set->nsig, v->zone, v->keys, v->nkeys, wall_now(),
                               &v->budget, labels_out, ede);
}

/* The NSEC/NSEC3 records of proof sets that verify with the zone's keys, into out (cap). */
static size_t proofs_verified(struct res_val *v, struct res_answer *a,
                              struct dnssec_nsec_rr *out, size_t cap, uint16_t *ede)
{
    size_t n = 0;
    for (unsigned i = 0; i < a->nproof; i++) {
        struct dns_cache_rrset *p = &a->proof[i];
        if (p->sec != DNSSEC_SECURE && verify_set(v, p, NULL, ede) != DNSSEC_SECURE)
            continue;
        p->sec = DNSSEC_SECURE;
        for (uint16_t k = 0; k < p->count && n < cap; k++)
            out[n++] =
                (struct dnssec_nsec_rr){p->owner, p->type, p->rdata[k].data, p->rdata[k].len};
    }
    return n;
}

/* RFC 8198: the NSEC/NSEC3 records (and the SOA) of a proof that held, for later
 * questions. */
static void keep_proofs(struct res_val *v, const struct res_answer *a)
{
    struct dns_nsec_cache *nc = v->r->sh->nsecs;
    uint64_t now = res_now_ms(v->r);
    bool any = false;
    for (unsigned i = 0; i < a->nproof; i++)
        if (a->proof[i].sec == DNSSEC_SECURE) { /* NSEC3 with opt-out is not kept */
            dns_nsec_cache_put(nc, v->zone, &a->proof[i], now);
            any = true;
        }
    if (any && a->soa.count) {
        struct dns_cache_rrset soa = a->soa;
        uint32_t min = soa.rdata[0].len >= 20 ? dns_soa_minimum(soa.rdata[0].data,
                                                                 soa.rdata[0].len)
                                              : 0;
        soa.ttl = soa.ttl < min ? soa.ttl : min; /* RFC 8198 §5.4: the negative TTL */
        dns_nsec_cache_put(nc, v->zone, &soa, now);
    }
}

/* A validated wildcard expansion: the set is kept under its wildcard name too ("*." and the
 * RRSIG's labels rightmost labels of the owner), with the NSEC or NSEC3 records (NSEC3 with
 * opt-out are not kept), so that other names the wildcard covers can be answered from the
 * cache (RFC 8198 §5.3). */
static void keep_wildcard(struct res_val *v, const struct dns_cache_rrset *set, unsigned labels)
{
    uint8_t wild[DNS_NAME_MAXLEN];
    if (!dnssec_wildcard_at(set->owner, labels, wild))
        return;
    uint64_t now = res_now_ms(v->r);
    struct dns_cache *c = v->r->sh->cache;
    dns_cache_put_sigs(c, wild, set->type, set->ttl, set->rank, set->rdata, set->count, set->sigs,
                       set->nsig, now);
    dns_cache_set_status(c, wild, set->type, DNSSEC_SECURE, set->ttl, now);
    for (unsigned i = 0; i < v->ans->nproof; i++)
        if (v->ans->proof[i].sec == DNSSEC_SECURE)
            dns_nsec_cache_put(v->r->sh->nsecs, v->zone, &v->ans->proof[i], now);
}

static uint8_t proof_status(enum dnssec_proof p, uint16_t *ede)
{
    if (p == DNSSEC_PROOF_OK)
        return DNSSEC_SECURE;
    if (p == DNSSEC_PROOF_INSECURE)
        return DNSSEC_INSECURE;
    *ede = DNSSEC_EDE_NSEC_MISSING;
    return DNSSEC_BOGUS;
}

/* ---- the walk down from the trust anchor ---- */

static void walk_result(struct res_val *v, uint8_t sec, uint16_t ede)
{
    v->walking = false;
    v->wres = sec;
    v->wede = ede;
}

static void kc_put(struct res_val *v, const uint8_t *name, enum dns_key_kind kind, uint16_t ede,
                   uint32_t ttl)
{
    struct dns_key_entry e = {kind, kind == DNS_KEY_SECURE ? v->zone : NULL, v->keys,
                              (uint16_t)(kind == DNS_KEY_SECURE ? v->nkeys : 0), ede};
    dns_keycache_put(v->r->sh->keys, name, &e, kind == DNS_KEY_BOGUS ? BOGUS_TTL : key_ttl(ttl),
                     res_now_ms(v->r));
}

static void walk_bogus(struct res_val *v, const uint8_t *name, uint16_t ede)
{
    kc_put(v, name, DNS_KEY_BOGUS, ede, BOGUS_TTL);
    walk_result(v, DNSSEC_BOGUS, ede);
}

/* Starts the walk to target: from the deepest key-cache entry at or above it, else from the
 * anchor. May finish at once (v->walking false). */
static void walk_begin(struct res_val *v, const uint8_t *target)
{
    const struct dns_anchors *an = &v->r->sh->anchors;
    dns_name_copy(v->target, target);
    dns_name_lower(v->target);
    v->walking = true;
    v->keys_cached = false;
    const struct dns_anchor *ta = dns_anchors_find(an, v->target);
    if (!ta || res_nta(v->r, v->target))
        return walk_result(v, DNSSEC_INSECURE, DNSSEC_EDE_NONE);
    unsigned top = dns_name_labels(ta->name);
    for (const uint8_t *n = v->target; n && dns_name_labels(n) >= top; n = dns_name_parent(n)) {
        struct dns_key_entry e;
        if (!dns_keycache_get(v->r->sh->keys, n, res_now_ms(v->r), v->a, &e))
            continue;
        if (e.kind == DNS_KEY_INSECURE)
            return walk_result(v, DNSSEC_INSECURE, DNSSEC_EDE_NONE);
        if (e.kind == DNS_KEY_BOGUS)
            return walk_result(v, DNSSEC_BOGUS, e.ede);
        dns_name_copy(v->zone, e.zone);
        dns_name_copy(v->pos, n);
        v->keys_cached = true;
        v->keys = e.keys;
        v->nkeys = e.nkeys;
        v->step = STEP_DS;
        return;
    }
    dns_name_copy(v->zone, ta->name);
    dns_name_copy(v->pos, ta->name);
    v->ds = ta->ds;
    v->nds = (uint16_t)ta->nds;
    v->step = STEP_ANCHOR_KEYS;
}

/* The next fetch of the walk, or the end of it. */
static void walk_next(struct res_val *v)
{
    if (v->step == STEP_ANCHOR_KEYS || v->step == STEP_DNSKEY) {
        dns_name_copy(v->fetch_name, v->step == STEP_DNSKEY ? v->pos : v->zone);
        v->fetch_type = DNS_TYPE_DNSKEY;
        return;
    }
    unsigned tl = dns_name_labels(v->target), pl = dns_name_labels(v->pos);
    if (pl >= tl)
        return walk_result(v, DNSSEC_SECURE, DNSSEC_EDE_NONE);
    dns_name_copy(v->fetch_name, dns_name_skip(v->target, tl - pl - 1));
    v->fetch_type = DNS_TYPE_DS;
}

/* Whether the anchor's DS set vouches for DNSKEY rdata rd of zone. */
static bool anchored_key(const struct res_val *v, const uint8_t *zone, const struct dns_rdata *rd)
{
    for (uint16_t i = 0; i < v->nds; i++) {
        struct dnssec_ds d;
        uint8_t mine[4 + DNSSEC_DIGEST_MAX];
        size_t ml;
        if (dnssec_ds_parse(v->ds[i].data, v->ds[i].len, &d) == 0 &&
            dnssec_ds_make(zone, rd->data, rd->len, d.digest_type, mine, &ml) == 0 &&
            ml == v->ds[i].len && memcmp(mine, v->ds[i].data, ml) == 0)
            return true;
    }
    return false;
}

/* RFC 5011: the anchored zone's DNSKEY set k, secure (st) by the anchor's DS, or by a key
 * the autotrust state trusts; each time it is secure its key-signing keys are observed. */
static enum dnssec_status anchor_keys(struct res_val *v, const struct dns_cache_rrset *k,
                                      enum dnssec_status st, uint16_t *ede)
{
    struct dns_resolver_shared *sh = v->r->sh;
    const uint8_t *zone = v->fetch_name;
    struct dnssec_rrset_view set = {zone, DNS_TYPE_DNSKEY, DNS_CLASS_IN, k->rdata, k->count};
    if (st != DNSSEC_SECURE) {
        struct dns_rdata trusted[DNS_AUTOTRUST_MAX_KEYS];
        size_t n = dns_autotrust_trusted(sh->autotrust, zone, v->a, trusted);
        if (n && dnssec_verify_rrset(&set, k->sigs, k->nsig, zone, trusted, n, wall_now(),
                                     &v->budget, NULL, ede) == DNSSEC_SECURE)
            st = DNSSEC_SECURE;
    }
    if (st != DNSSEC_SECURE || k->count > 16)
        return st;
    struct dns_autotrust_key keys[16];
    bool anchored[16];
    for (uint16_t i = 0; i < k->count; i++) {
        const struct dns_rdata *rd = &k->rdata[i];
        bool revoked = rd->len >= 4 && (rd->data[1] & (DNSSEC_FLAG_REVOKE & 0xff));
        keys[i] = (struct dns_autotrust_key){
            rd->data, rd->len,
            revoked && dnssec_revoke_self_signed(&set, k->sigs, k->nsig, zone, rd, wall_now(),
                                                 &v->budget)};
        anchored[i] = !revoked && anchored_key(v, zone, rd) &&
                      !dns_autotrust_revoked(sh->autotrust, zone, rd->data, rd->len);
    }
    if (dns_autotrust_observe(sh->autotrust, zone, keys, anchored, k->count, k->ttl, wall_now()) &&
        sh->autotrust_changed)
        sh->autotrust_changed(sh->autotrust_ctx, sh->autotrust);
    return st;
}

/* The fetched DNSKEY set of fetch_name, checked against v->ds. */
static void feed_dnskey(struct res_val *v, const struct res_answer *got)
{
    const uint8_t *name = v->fetch_name;
    const struct dns_cache_rrset *k = NULL;
    if (got && got->nchain && got->chain[got->nchain - 1].type == DNS_TYPE_DNSKEY)
        k = &got->chain[got->nchain - 1];
    if (!k)
        return walk_bogus(v, name, DNSSEC_EDE_DNSKEY_MISSING);
    uint16_t ede = DNSSEC_EDE_NONE;
    enum dnssec_status st = dnssec_verify_dnskeys(name, k->rdata, k->count, k->sigs, k->nsig, v->ds,
                                                  v->nds, wall_now(), &v->budget, &ede);
    if (v->step == STEP_ANCHOR_KEYS && v->r->sh->autotrust)
        st = anchor_keys(v, k, st, &ede);
    if (st == DNSSEC_INSECURE) {
        kc_put(v, name, DNS_KEY_INSECURE, 0, k->ttl);
        return walk_result(v, DNSSEC_INSECURE, DNSSEC_EDE_NONE);
    }
    if (st != DNSSEC_SECURE)
        return walk_bogus(v, name, ede == DNSSEC_EDE_NONE ? DNSSEC_EDE_DNSKEY_MISSING : ede);
    dns_name_copy(v->zone, name);
    dns_name_copy(v->pos, name);
    v->keys = k->rdata;
    v->nkeys = k->count;
    kc_put(v, name, DNS_KEY_SECURE, 0, k->ttl);
    v->step = STEP_DS;
}

/* No DS at name: proven by the zone's NSEC/NSEC3, either not a cut or an insecure one. */
static void feed_no_ds(struct res_val *v, struct res_answer *got)
{
    const uint8_t *name = v->fetch_name;
    uint16_t ede = DNSSEC_EDE_NONE;
    struct dnssec_nsec_rr nv[64];
    if (got->soa.count == 0 || verify_set(v, &got->soa, NULL, &ede) != DNSSEC_SECURE)
        return walk_bogus(v, name, ede == DNSSEC_EDE_NONE ? DNSSEC_EDE_BOGUS : ede);
    size_t n = proofs_verified(v, got, nv, 64, &ede);
    enum dnssec_proof p = got->rcode == DNS_RCODE_NXDOMAIN
                              ? DNSSEC_PROOF_NONE /* the name must exist: data is below it */
                              : dnssec_prove_nodata(nv, n, v->zone, name, DNS_TYPE_DS, &v->budget);
    if (p == DNSSEC_PROOF_INSECURE) {
        kc_put(v, name, DNS_KEY_INSECURE, 0, got->soa.ttl);
        return walk_result(v, DNSSEC_INSECURE, DNSSEC_EDE_NONE);
    }
    if (p != DNSSEC_PROOF_OK)
        return walk_bogus(v, name, DNSSEC_EDE_NSEC_MISSING);
    if (dnssec_denial_is_cut(nv, n, v->zone, name, &v->budget)) {
        kc_put(v, name, DNS_KEY_INSECURE, 0, got->soa.ttl);
        return walk_result(v, DNSSEC_INSECURE, DNSSEC_EDE_NONE);
    }
    kc_put(v, name, DNS_KEY_SECURE, 0, got->soa.ttl); /* inside v->zone, no cut */
    dns_name_copy(v->pos, name);
}

/* The fetched DS set of fetch_name, signed by v->zone. */
static void feed_ds(struct res_val *v, struct res_answer *got)
{
    const uint8_t *name = v->fetch_name;
    if (!got || got->rcode == DNS_RCODE_SERVFAIL)
        return walk_bogus(v, name, DNSSEC_EDE_BOGUS);
    const struct dns_cache_rrset *ds = NULL;
    if (got->nchain == 1 && got->chain[0].type == DNS_TYPE_DS)
        ds = &got->chain[0];
    else if (got->nchain == 0)
        return feed_no_ds(v, got);
    if (!ds)
        return walk_bogus(v, name, DNSSEC_EDE_BOGUS);
    uint16_t ede = DNSSEC_EDE_NONE;
    if (verify_set(v, ds, NULL, &ede) != DNSSEC_SECURE)
        return walk_bogus(v, name, ede);
    if (!dnssec_ds_any_supported(ds->rdata, ds->count)) { /* RFC 6840 §5.2 */
        kc_put(v, name, DNS_KEY_INSECURE, 0, ds->ttl);
        return walk_result(v, DNSSEC_INSECURE, DNSSEC_EDE_NONE);
    }
    v->ds = ds->rdata;
    v->nds = ds->count;
    dns_name_copy(v->pos, name); /* the DNSKEY fetch moves the zone here */
    v->step = STEP_DNSKEY;
}

void res_val_feed(struct res_val *v, struct res_answer *got)
{
    if (v->step == STEP_DS)
        return feed_ds(v, got);
    feed_dnskey(v, got);
}

/* ---- the items of the answer ---- */

static void set_status(struct res_val *v, struct dns_cache_rrset *set, uint8_t sec, uint16_t ede)
{
    set->sec = sec;
    if (sec == DNSSEC_BOGUS && v->ans->ede == 0)
        v->ans->ede = ede;
    dns_cache_set_status(v->r->sh->cache, set->owner, set->type, sec,
                         sec == DNSSEC_BOGUS ? BOGUS_TTL : set->ttl, res_now_ms(v->r));
}

/* An answer made by a wildcard (RRSIG labels < owner's) needs its NSEC/NSEC3 proof. */
static uint8_t check_wildcard(struct res_val *v, const struct dns_cache_rrset *set, unsigned labels,
                              uint16_t *ede)
{
    if (labels >= dns_name_labels(set->owner))
        return DNSSEC_SECURE;
    struct dnssec_nsec_rr nv[64];
    size_t n = proofs_verified(v, v->ans, nv, 64, ede);
    uint8_t sec =
        proof_status(dnssec_prove_wildcard(nv, n, v->zone, set->owner, labels, &v->budget), ede);
    if (sec == DNSSEC_SECURE)
        keep_wildcard(v, set, labels);
    return sec;
}

/* Data that fails with keys from the key cache gets one more try with keys fetched afresh:
 * the zone may have rolled its keys since (its new signatures reached us before our cached
 * DNSKEY set expired). True when the walk starts again. */
static bool retry_fresh(struct res_val *v)
{
    if (!v->keys_cached || v->retried)
        return false;
    v->retried = true;
    for (const uint8_t *n = v->target; n && dns_name_is_sub(n, v->zone); n = dns_name_parent(n))
        dns_keycache_remove(v->r->sh->keys, n);
    uint8_t target[DNS_NAME_MAXLEN];
    dns_name_copy(target, v->target);
    walk_begin(v, target);
    return true;
}

/* The walk for chain set i ended: its verdict. */
static void finish_chain(struct res_val *v, struct dns_cache_rrset *set)
{
    uint16_t ede = v->wede;
    uint8_t sec = v->wres;
    if (sec == DNSSEC_SECURE) {
        unsigned labels = 0;
        sec = verify_set(v, set, &labels, &ede);
        if (sec == DNSSEC_SECURE)
            sec = check_wildcard(v, set, labels, &ede);
    }
    if (sec == DNSSEC_BOGUS && retry_fresh(v))
        return;
    set_status(v, set, sec, ede);
    v->item++;
}

/* The end of the chain: the name a negative answer is about. */
static const uint8_t *end_name(const struct res_val *v)
{
    const struct res_answer *a = v->ans;
    if (a->nchain && a->chain[a->nchain - 1].type == DNS_TYPE_CNAME)
        return a->chain[a->nchain - 1].rdata[0].data;
    return v->qname;
}

static void finish_negative(struct res_val *v)
{
    struct res_answer *a = v->ans;
    uint16_t ede = v->wede;
    uint8_t sec = v->wres;
    const uint8_t *name = end_name(v);
    bool nx = a->rcode == DNS_RCODE_NXDOMAIN;
    if (sec == DNSSEC_SECURE && a->soa.count)
        sec = verify_set(v, &a->soa, NULL, &ede);
    else if (sec == DNSSEC_SECURE) /* no SOA, in a signed zone */
        sec = DNSSEC_BOGUS, ede = DNSSEC_EDE_NSEC_MISSING;
    if (sec == DNSSEC_SECURE) {
        struct dnssec_nsec_rr nv[64];
        size_t n = proofs_verified(v, a, nv, 64, &ede);
        enum dnssec_proof p = nx ? dnssec_prove_nxdomain(nv, n, v->zone, name, &v->budget)
                                 : dnssec_prove_nodata(nv, n, v->zone, name, v->qtype, &v->budget);
        sec = proof_status(p, &ede);
        if (sec == DNSSEC_SECURE)
            keep_proofs(v, a);
    }
    if (sec == DNSSEC_BOGUS && retry_fresh(v))
        return;
    v->item++;
    a->neg_sec = sec;
    if (sec == DNSSEC_BOGUS && a->ede == 0)
        a->ede = ede;
    dns_cache_set_status(v->r->sh->cache, name, nx ? DNS_CACHE_TYPE_NXDOMAIN : v->qtype, sec,
                         sec == DNSSEC_BOGUS ? BOGUS_TTL : KEY_TTL_MAX, res_now_ms(v->r));
}

static bool negative(const struct res_val *v)
{
    const struct res_answer *a = v->ans;
    if (a->rcode == DNS_RCODE_NXDOMAIN)
        return true;
    return a->rcode == DNS_RCODE_NOERROR &&
           (a->nchain == 0 ||
            (a->chain[a->nchain - 1].type == DNS_TYPE_CNAME && v->qtype != DNS_TYPE_CNAME));
}

/* The name whose keys item i needs: its signer, or for unsigned data its own name. */
static const uint8_t *item_target(struct res_val *v, unsigned i)
{
    const struct dns_cache_rrset *set = i < v->ans->nchain ? &v->ans->chain[i] : &v->ans->soa;
    if (i >= v->ans->nchain && set->count == 0)
        return end_name(v);
    const uint8_t *s = signer_of(set);
    return s && dns_name_is_sub(set->owner, s) ? s : set->owner;
}

static struct metric sig_checks =
    METRIC("pigeon_resolver_dnssec_signature_checks_total",
           "DNSSEC signature verifications made by the validating resolver");
static struct metric limited_answers =
    METRIC("pigeon_resolver_dnssec_limited_total",
           "Answers found bogus because the KeyTrap limits (keys per key tag, signatures per "
           "RRset or question, NSEC3 hashes) cut their validation short");

static void combine(struct res_val *v)
{
    struct res_answer *a = v->ans;
    uint8_t sec = DNSSEC_SECURE;
    for (unsigned i = 0; i <= a->nchain; i++) {
        uint8_t s = i < a->nchain ? a->chain[i].sec : negative(v) ? a->neg_sec : DNSSEC_SECURE;
        if (s == DNSSEC_BOGUS || (s == DNSSEC_INSECURE && sec != DNSSEC_BOGUS) ||
            (s == DNSSEC_INDETERMINATE && sec == DNSSEC_SECURE))
            sec = s;
    }
    a->sec = sec;
    if (sec == DNSSEC_BOGUS && (a->ede == 0 || a->ede == DNSSEC_EDE_NONE))
        a->ede = DNSSEC_EDE_BOGUS;
    a->limited = sec == DNSSEC_BOGUS && v->budget.limited;
    if (a->limited) {
        a->ede = DNSSEC_EDE_BOGUS;
        metric_inc(&limited_answers);
    }
    if (v->budget.used)
        metric_add(&sig_checks, v->budget.used);
}

static void finish_item(struct res_val *v)
{
    if (v->item < v->ans->nchain)
        finish_chain(v, &v->ans->chain[v->item]);
    else
        finish_negative(v);
}

int res_val_run(struct res_val *v)
{
    struct res_answer *a = v->ans;
    for (;;) {
        if (v->walking) {
            walk_next(v);
            if (v->walking)
                return RES_VAL_FETCH;
            finish_item(v);
        } else if (v->item < a->nchain && a->chain[v->item].sec) {
            v->item++; /* known from the cache */
        } else if (v->item < a->nchain || (v->item == a->nchain && negative(v) && !a->neg_sec)) {
            walk_begin(v, item_target(v, v->item));
            if (!v->walking) /* known without a walk */
                finish_item(v);
        } else {
            combine(v);
            return RES_VAL_DONE;
        }
    }
}

/* ---- aggressive use of the validated cache (RFC 8198) ---- */

/* The deepest zone the key cache holds as secure at or above name, copied into a; NULL when
 * none, or when an insecure delegation is known on the way. */
static const uint8_t *secure_zone_of(struct dns_resolver *r, const uint8_t *name,
                                     struct dns_arena *a)
{
    for (const uint8_t *n = name; n; n = dns_name_parent(n)) {
        struct dns_key_entry e;
        if (dns_keycache_get(r->sh->keys, n, res_now_ms(r), a, &e))
            return e.kind == DNS_KEY_SECURE ? e.zone : NULL;
    }
    return NULL;
}

/* The answer synthesized from the wildcard's validated set wset: that set at name, with the
 * NSEC/NSEC3 record proving name absent. */
static bool add_synthesized(const uint8_t *name, const struct dns_cache_rrset *wset,
                            const struct dns_cache_rrset *proof, struct dns_arena *a,
                            struct res_answer *ans)
{
    if (ans->nchain >= RES_MAX_CHAIN)
        return false;
    struct dns_cache_rrset set = *wset;
    set.owner = dns_arena_dup(a, name, dns_name_len(name));
    if (proof->ttl < set.ttl)
        set.ttl = proof->ttl;
    ans->chain[ans->nchain++] = set;
    ans->rcode = DNS_RCODE_NOERROR;
    if (ans->nproof < RES_MAX_PROOF)
        ans->proof[ans->nproof++] = *proof;
    return true;
}

/* The validated qtype set of wildcard wild from the cache. */
static bool wildcard_set(struct dns_resolver *r, const uint8_t *wild, uint16_t qtype,
                         struct dns_arena *a, struct dns_cache_result *res)
{
    return dns_cache_get(r->sh->cache, wild, qtype, DNS_RANK_ANSWER, 0, res_now_ms(r), a, res) ==
               DNS_CACHE_POSITIVE &&
           res->sec == DNSSEC_SECURE;
}

/* RFC 8198 §5.3: name does not exist (nsec covers it) and its wildcard wild has a validated
 * qtype set in the cache: the answer is that set at name, with the NSEC as its proof. */
static bool synthesize_wildcard(struct dns_resolver *r, const uint8_t *name, uint16_t qtype,
                                const uint8_t *wild, const struct dns_cache_rrset *nsec,
                                struct dns_arena *a, struct res_answer *ans)
{
    struct dns_cache_result res;
    if (nsec->count != 1 || !wildcard_set(r, wild, qtype, a, &res))
        return false;
    size_t nl;
    const uint8_t *next = nsec->rdata[0].data;
    if (dns_name_check(next, nsec->rdata[0].len, &nl) != 0 ||
        !dnssec_nsec_covers(nsec->owner, next, name))
        return false;
    return add_synthesized(name, &res.rrset, nsec, a, ans);
}

/* RFC 8198 §5.3 with NSEC3 (RFC 5155 §8.8): the nearest "*.<ancestor>" of name with a
 * validated qtype set in the cache answers name when a cached NSEC3 without opt-out covers
 * the next closer name below that ancestor -- which makes the ancestor name's closest
 * encloser (it exists: the wildcard is below it; nothing exists between it and name). */
static bool synthesize_wildcard3(struct dns_resolver *r, const uint8_t *name,
                                 const uint8_t *lname, uint16_t qtype, const uint8_t *zone,
                                 struct dns_arena *a, struct res_answer *ans)
{
    unsigned nl = dns_name_labels(lname), zl = dns_name_labels(zone);
    if (nl <= zl || nl - zl > NSEC_CACHE_MAX_DEPTH3)
        return false;
    for (unsigned ce = nl - 1; ce >= zl && ce < nl; ce--) {
        uint8_t wild[DNS_NAME_MAXLEN];
        struct dns_cache_result res;
        if (!dnssec_wildcard_at(lname, ce, wild) || !wildcard_set(r, wild, qtype, a, &res))
            continue;
        const uint8_t *next_closer = dns_name_skip(lname, nl - ce - 1);
        struct dns_cache_rrset n3;
        if (!dns_nsec_cache_span3(r->sh->nsecs, zone, next_closer, res_now_ms(r), a, &n3))
            return false;
        struct dnssec_nsec_rr v = {n3.owner, DNS_TYPE_NSEC3, n3.rdata[0].data, n3.rdata[0].len};
        struct dnssec_budget b;
        dnssec_budget_init(&b);
        if (dnssec_prove_wildcard(&v, 1, zone, lname, ce, &b) != DNSSEC_PROOF_OK)
            return false;
        return add_synthesized(name, &res.rrset, &n3, a, ans);
    }
    return false;
}

bool res_aggressive(struct dns_resolver *r, const uint8_t *name, uint16_t qtype,
                    struct dns_arena *a, struct res_answer *ans)
{
    const struct dns_anchors *an = &r->sh->anchors;
    uint8_t lname[DNS_NAME_MAXLEN];
    dns_name_copy(lname, name);
    dns_name_lower(lname);
    if (!res_validating(r) || !dns_anchors_find(an, lname) || res_nta(r, lname))
        return false;
    const uint8_t *zone = secure_zone_of(r, lname, a);
    struct dns_cache_rrset found[NSEC_CACHE_FOUND3_MAX], soa;
    uint8_t wild[DNS_NAME_MAXLEN] = {0};
    unsigned nf = zone ? dns_nsec_cache_find(r->sh->nsecs, zone, lname, res_now_ms(r), a, found,
                                             &soa, wild)
                       : 0;
    if (zone && nf == 0) { /* an NSEC3 zone */
        if (synthesize_wildcard3(r, name, lname, qtype, zone, a, ans))
            return true;
        nf = dns_nsec_cache_find3(r->sh->nsecs, zone, lname, res_now_ms(r), a, found, &soa);
    }
    struct dnssec_nsec_rr v[8];
    size_t nv = 0;
    for (unsigned i = 0; i < nf; i++)
        for (uint16_t k = 0; k < found[i].count && nv < 8; k++)
            v[nv++] = (struct dnssec_nsec_rr){found[i].owner, found[i].type, found[i].rdata[k].data,
                                              found[i].rdata[k].len};
    if (nv == 0)
        return false;
    struct dnssec_budget b;
    dnssec_budget_init(&b);
    if (wild[0] && synthesize_wildcard(r, name, qtype, wild, &found[0], a, ans))
        return true;
    if (soa.count == 0)
        return false; /* a negative answer needs the zone's SOA */
    unsigned rcode = DNS_RCODE_NOERROR;
    if (dnssec_prove_nodata(v, nv, zone, lname, qtype, &b) != DNSSEC_PROOF_OK) {
        if (dnssec_prove_nxdomain(v, nv, zone, lname, &b) != DNSSEC_PROOF_OK)
            return false;
        rcode = DNS_RCODE_NXDOMAIN;
    }
    ans->rcode = rcode;
    ans->soa = soa;
    for (unsigned i = 0; i < nf && ans->nproof < RES_MAX_PROOF; i++)
        ans->proof[ans->nproof++] = found[i];
    ans->neg_sec = DNSSEC_SECURE;
    return true;
}
