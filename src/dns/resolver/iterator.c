/*
 * iterator — the walk down the tree for one client request (see resolver.h).
 *
 * A request holds up to RES_MAX_IQ questions ("iq"): the client's, and the address look-ups
 * of NS names that came without glue. Each question has one zone cut (its NS names and
 * server addresses) and at most one upstream query in flight. Nothing here frees a request:
 * res_req_complete marks it over and the reply leaves from the loop, so a deep call chain
 * (a look-up finishing, its parent sending, a limit failing the request) is always safe.
 */
#include "dns/resolver/resolver_int.h"

#include "core/xmalloc.h"
#include "dns/name.h"
#include "dns/resolver/scrub.h"
#include "dns/resolver/transport.h"
#include "dns/rr.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

enum { NS_NEW = 0, NS_LOOKUP, NS_DONE };

#define RTT_BAND_MS 400   /* servers this close to the fastest are all candidates */
#define QMIN_ONE_LABEL 4  /* RFC 9156 §2.3 MINIMISE_ONE_LAB */
#define QMIN_MAX_COUNT 10 /* RFC 9156 §2.3 MAX_MINIMISE_COUNT */
#define LOOKUPS_AT_ONCE 2 /* NS names without glue resolved in parallel */

struct iq {
    struct dns_resolver_req *req;
    struct iq *parent;
    int parent_ns;       /* NS index in the parent's cut this look-up is for */
    unsigned parent_gen; /* the parent's cut generation then */
    unsigned depth;
    uint8_t sname[DNS_NAME_MAXLEN]; /* the name being resolved (after CNAMEs) */
    uint16_t qtype;
    bool fetch; /* a DS/DNSKEY set for the validator (validator.c), not an address */
    unsigned referrals, cnames;
    bool have_cut;
    unsigned cut_gen;
    struct res_cut cut;
    unsigned qmin_labels; /* labels of the minimised name to ask; 0: the full name */
    unsigned qmin_steps;
    bool qmin_off;
    struct dns_query_io *io;
    int srv;
    bool sent_edns;
    uint64_t sent_ms;
    uint8_t sent_name[DNS_NAME_MAXLEN];
    uint16_t sent_type;
    unsigned subs; /* look-ups outstanding */
    bool starting_subs;
    bool done;
};

static void iq_next(struct iq *q);

static const struct dns_resolver_config *cfg_of(const struct iq *q)
{
    return &q->req->r->sh->cfg;
}

static struct iq *iq_new(struct dns_resolver_req *req, struct iq *parent, int parent_ns,
                         const uint8_t *name, uint16_t qtype)
{
    if (req->niq >= RES_MAX_IQ)
        return NULL;
    struct iq *q = xcalloc(1, sizeof *q);
    q->req = req;
    q->parent = parent;
    q->parent_ns = parent_ns;
    if (parent) {
        q->parent_gen = parent->cut_gen;
        q->depth = parent->depth + 1;
    }
    dns_name_copy(q->sname, name);
    q->qtype = qtype;
    q->srv = -1;
    req->iqs[req->niq++] = q;
    return q;
}

void iter_free_all(struct dns_resolver_req *req)
{
    for (unsigned i = 0; i < req->niq; i++) {
        res_io_cancel(req->r, req->iqs[i]->io);
        free(req->iqs[i]);
    }
    req->niq = 0;
}

/* ---- the zone cut ---- */

static void cut_add_addr(struct res_cut *c, uint16_t type, const uint8_t *rd, uint16_t len, int ns)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t sl;
    if (type == DNS_TYPE_A && len == 4) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons(53);
        memcpy(&s4->sin_addr, rd, 4);
        sl = sizeof *s4;
    } else if (type == DNS_TYPE_AAAA && len == 16) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(53);
        memcpy(&s6->sin6_addr, rd, 16);
        sl = sizeof *s6;
    } else {
        return;
    }
    for (unsigned i = 0; i < c->naddr; i++)
        if (c->addr[i].len == sl && memcmp(&c->addr[i].sa, &ss, sl) == 0)
            return;
    if (c->naddr < RES_MAX_ADDRS)
        c->addr[c->naddr++] = (struct res_srv){ss, sl, (int8_t)ns, 0};
}

static int cut_add_ns(struct res_cut *c, const uint8_t *name)
{
    for (unsigned i = 0; i < c->nns; i++)
        if (dns_name_eq(c->ns[i].name, name))
            return (int)i;
    if (c->nns >= RES_MAX_NS)
        return -1;
    dns_name_copy(c->ns[c->nns].name, name);
    c->ns[c->nns].state = NS_NEW;
    return (int)c->nns++;
}

/* Addresses of NS name i from the cache, glue included. */
static void cut_addrs_from_cache(struct dns_resolver *r, struct res_cut *c, int i)
{
    static const uint16_t types[2] = {DNS_TYPE_A, DNS_TYPE_AAAA};
    unsigned char mem[2048];
    struct dns_arena a;
    dns_arena_init(&a, mem, sizeof mem);
    for (int t = 0; t < 2; t++) {
        struct dns_cache_result res;
        if (dns_cache_get(r->sh->cache, c->ns[i].name, types[t], DNS_RANK_NONE, DNS_CACHE_PEEK,
                          res_now_ms(r), &a, &res) == DNS_CACHE_POSITIVE)
            for (uint16_t k = 0; k < res.rrset.count; k++)
                cut_add_addr(c, types[t], res.rrset.rdata[k].data, res.rrset.rdata[k].len, i);
        dns_arena_reset(&a);
    }
    dns_arena_clear(&a);
}

/* A usable cut at zone from cached NS: some address, or an NS name outside the zone. */
static bool cut_from_cache(struct dns_resolver *r, struct res_cut *c, const uint8_t *zone)
{
    unsigned char mem[4096];
    struct dns_arena a;
    dns_arena_init(&a, mem, sizeof mem);
    struct dns_cache_result res;
    bool usable = false;
    c->zone[0] = 0;
    c->nns = c->naddr = 0;
    if (dns_cache_get(r->sh->cache, zone, DNS_TYPE_NS, DNS_RANK_NONE, DNS_CACHE_PEEK, res_now_ms(r),
                      &a, &res) == DNS_CACHE_POSITIVE) {
        dns_name_copy(c->zone, zone);
        for (uint16_t k = 0; k < res.rrset.count; k++) {
            int i = cut_add_ns(c, res.rrset.rdata[k].data);
            if (i < 0)
                continue;
            cut_addrs_from_cache(r, c, i);
            if (!dns_name_is_sub(c->ns[i].name, zone))
                usable = true;
        }
        usable = usable || c->naddr > 0;
    }
    dns_arena_clear(&a);
    return usable;
}

static void cut_from_hints(struct dns_resolver *r, struct res_cut *c)
{
    const struct dns_hints *h = &r->sh->hints;
    c->zone[0] = 0;
    c->nns = c->naddr = 0;
    for (unsigned i = 0; i < h->n; i++) {
        int k = cut_add_ns(c, h->servers[i].name);
        for (unsigned j = 0; k >= 0 && j < h->servers[i].naddr && c->naddr < RES_MAX_ADDRS; j++)
            c->addr[c->naddr++] =
                (struct res_srv){h->servers[i].addr[j], h->servers[i].addrlen[j], (int8_t)k, 0};
    }
}

static void qmin_reset(struct iq *q)
{
    q->qmin_steps = 0;
    q->qmin_labels = 0;
    unsigned want = dns_name_labels(q->cut.zone) + 1;
    if (cfg_of(q)->qname_minimisation && !q->qmin_off && want < dns_name_labels(q->sname))
        q->qmin_labels = want;
}

/* RFC 9156 §2.3: one label at a time for the first few, then bigger steps. */
static void qmin_advance(struct iq *q)
{
    unsigned total = dns_name_labels(q->sname);
    q->qmin_steps++;
    unsigned step = 1;
    if (q->qmin_steps >= QMIN_ONE_LABEL && q->qmin_steps < QMIN_MAX_COUNT) {
        unsigned left = total - q->qmin_labels;
        step = left / (QMIN_MAX_COUNT - q->qmin_steps);
        step = step ? step : 1;
    } else if (q->qmin_steps >= QMIN_MAX_COUNT) {
        step = total;
    }
    q->qmin_labels += step;
    if (q->qmin_labels >= total)
        q->qmin_labels = 0;
}

static void set_cut_gen(struct iq *q)
{
    q->have_cut = true;
    q->cut_gen++;
    qmin_reset(q);
}

/* The deepest cut known for sname: cached NS, else the root hints. */
static void iq_find_cut(struct iq *q)
{
    struct dns_resolver *r = q->req->r;
    const uint8_t *name = q->sname;
    if (q->qtype == DNS_TYPE_DS && name[0]) /* RFC 4035 §4.2: the DS is in the parent zone */
        name = dns_name_parent(name);
    while (!cut_from_cache(r, &q->cut, name)) {
        if (dns_name_labels(name) == 0) {
            cut_from_hints(r, &q->cut);
            break;
        }
        name = dns_name_parent(name);
    }
    set_cut_gen(q);
}

/* ---- server selection ---- */

static int iq_pick(struct iq *q)
{
    struct dns_resolver *r = q->req->r;
    uint64_t now = res_now_ms(r);
    int cand[RES_MAX_ADDRS];
    unsigned score[RES_MAX_ADDRS], n = 0, best = ~0u;
    for (int round = 0; round < 2 && n == 0; round++) {
        for (unsigned i = 0; i < q->cut.naddr; i++) {
            struct res_srv *s = &q->cut.addr[i];
            if (s->sent >= RES_TRIES_PER_ADDR)
                continue;
            struct dns_infra_info info;
            dns_infra_get(r->sh->infra, (struct sockaddr *)&s->sa, q->cut.zone, now, &info);
            if (info.lame || (round == 0 && info.down))
                continue;
            score[n] = info.score_ms + s->sent * 1000u; /* untried addresses first */
            cand[n++] = (int)i;
            if (score[n - 1] < best)
                best = score[n - 1];
        }
    }
    if (n == 0)
        return -1;
    unsigned k = 0;
    for (unsigned i = 0; i < n; i++)
        if (score[i] <= best + RTT_BAND_MS)
            cand[k++] = cand[i];
    return cand[res_random(r) % k];
}

/* ---- sending ---- */

static void iq_on_io(void *arg, enum dns_io_status st, const uint8_t *resp, size_t len);

/* 0x20 (draft-vixie-dnsext-dns0x20): a random case for each letter of the labels. */
static void randomize_case(struct dns_resolver *r, uint8_t *name)
{
    for (uint8_t *p = name; *p; p += *p + 1) {
        uint32_t bits = res_random(r);
        for (uint8_t i = 1; i <= *p; i++) {
            uint8_t c = p[i] | 0x20;
            if (c >= 'a' && c <= 'z')
                p[i] = (bits >> (i % 32)) & 1 ? (uint8_t)(c & 0xdf) : c;
        }
    }
}

/* The name to ask (minimised or full), with 0x20 if wanted. */
static void iq_question(struct iq *q)
{
    const uint8_t *name = q->sname;
    q->sent_type = q->qtype;
    if (q->qmin_labels) {
        name = dns_name_skip(q->sname, dns_name_labels(q->sname) - q->qmin_labels);
        q->sent_type = DNS_TYPE_A; /* RFC 9156 §2.1 */
    }
    dns_name_copy(q->sent_name, name);
    dns_name_lower(q->sent_name);
    if (cfg_of(q)->case_randomization)
        randomize_case(q->req->r, q->sent_name);
}

static size_t build_query(const struct iq *q, bool edns, uint8_t *out, size_t cap)
{
    struct dns_header h = {0};
    h.qdcount = 1; /* RD=0: iterative (RFC 1034 §4.3.1) */
    struct dns_builder b;
    dns_builder_init(&b, out, cap, cap, &h);
    dns_builder_question(&b, q->sent_name, q->sent_type, DNS_CLASS_IN);
    if (edns) /* DO (RFC 3225) when validating: the signatures and proofs come along */
        dns_builder_opt(&b, DNS_UDP_DEFAULT, 0, 0, res_validating(q->req->r));
    return dns_builder_finish(&b);
}

static void iq_fail(struct iq *q);

static void iq_send(struct iq *q, int i)
{
    struct dns_resolver_req *req = q->req;
    struct dns_resolver *r = req->r;
    if (++req->upstream > cfg_of(q)->max_upstream) /* NXNSAttack: bound the work */
        return res_req_complete(req);
    struct res_srv *s = &q->cut.addr[i];
    struct dns_infra_info info;
    uint64_t now = res_now_ms(r);
    dns_infra_get(r->sh->infra, (struct sockaddr *)&s->sa, q->cut.zone, now, &info);
    iq_question(q);
    q->sent_edns = !info.noedns;
    uint8_t pkt[DNS_NAME_MAXLEN + 64];
    size_t n = build_query(q, q->sent_edns, pkt, sizeof pkt);
    struct dns_io_params p = {info.rto_ms, 1, false, cfg_of(q)->case_randomization};
    s->sent++;
    q->srv = i;
    q->sent_ms = now;
    r->st.upstream_queries++;
    q->io = r->sh->io.start(r->sh->io.ctx, r->base, (struct sockaddr *)&s->sa, s->len, pkt, n, &p,
                            iq_on_io, q);
}

/* ---- results ---- */

static void store(struct iq *q, const struct dns_scrub *sc)
{
    struct dns_cache *c = q->req->r->sh->cache;
    uint64_t now = res_now_ms(q->req->r);
    for (unsigned i = 0; i < sc->n; i++) {
        const struct dns_scrub_rrset *s = &sc->sets[i];
        if (s->role != DNS_ROLE_SOA && s->role != DNS_ROLE_PROOF)
            dns_cache_put_sigs(c, s->owner, s->type, s->ttl, s->rank, s->rdata, s->count, s->sigs,
                               s->nsig, now);
    }
}

static void store_negative(struct iq *q, const struct dns_scrub *sc, const uint8_t *name,
                           uint16_t type)
{
    if (sc->soa < 0) /* RFC 2308 §5: without an SOA a negative answer is not cached */
        return;
    const struct dns_scrub_rrset *s = &sc->sets[sc->soa];
    dns_cache_put_negative(q->req->r->sh->cache, name, type, s->rank, s->owner, s->ttl,
                           s->rdata[0].data, s->rdata[0].len, res_now_ms(q->req->r));
}

static struct dns_cache_rrset to_rrset(const struct iq *q, const struct dns_scrub_rrset *s)
{
    return (struct dns_cache_rrset){s->owner, s->type,  s->count, res_clamp_ttl(q->req->r, s->ttl),
                                    s->rank,  s->rdata, 0,        s->nsig,
                                    s->sigs};
}

/* The NSEC/NSEC3 proofs of sc into ans (copied into the request's arena). */
static void add_proofs(struct iq *q, const struct dns_scrub *sc, struct res_answer *ans)
{
    for (unsigned i = 0; i < sc->n; i++) {
        struct dns_cache_rrset set = to_rrset(q, &sc->sets[i]);
        if (sc->sets[i].role == DNS_ROLE_PROOF && ans->nproof < RES_MAX_PROOF)
            ans->proof[ans->nproof++] = res_rrset_dup(q->req, &set);
    }
}

static void add_soa(struct iq *q, const struct dns_scrub *sc, struct res_answer *ans)
{
    if (sc->soa >= 0) {
        struct dns_cache_rrset soa = to_rrset(q, &sc->sets[sc->soa]);
        ans->soa = res_rrset_dup(q->req, &soa);
    }
}

/* The chain, SOA and proofs of sc into ans. */
static void scrub_to_answer(struct iq *q, const struct dns_scrub *sc, struct res_answer *ans)
{
    for (unsigned i = 0; i < sc->nchain && ans->nchain < RES_MAX_CHAIN; i++) {
        struct dns_cache_rrset set = to_rrset(q, &sc->sets[sc->chain[i]]);
        ans->chain[ans->nchain++] = res_rrset_dup(q->req, &set);
    }
    add_proofs(q, sc, ans);
    add_soa(q, sc, ans);
}

/* ---- validation (validator.c does the checking; here its fetches are run) ---- */

/* Runs the validator until it is done (the reply goes) or needs a DS/DNSKEY set fetched. */
static void val_continue(struct dns_resolver_req *req)
{
    if (req->finishing)
        return;
    if (res_val_run(&req->val) == RES_VAL_DONE) {
        req->val_done = true;
        return res_req_complete(req);
    }
    struct iq *f = iq_new(req, NULL, -1, req->val.fetch_name, req->val.fetch_type);
    if (!f) /* too many questions for one answer: it stays unvalidated, SERVFAIL */
        return res_req_complete(req);
    f->fetch = true;
    f->depth = 1;
    iq_next(f);
}

/* The client's answer is complete: validate it, unless the client said CD. */
static void answer_complete(struct dns_resolver_req *req)
{
    if (!req->validating)
        return res_req_complete(req);
    res_val_init(&req->val, req->r, &req->ans, req->cq.qname, req->cq.qtype, &req->arena);
    val_continue(req);
}

/* A validator fetch ended: sc is its judged reply, or NULL when it failed. */
static void fetch_done(struct iq *q, unsigned rcode, const struct dns_scrub *sc)
{
    q->done = true;
    struct res_answer *got = NULL;
    if (sc) {
        got = dns_arena_alloc(&q->req->arena, sizeof *got);
        memset(got, 0, sizeof *got);
        got->rcode = rcode;
        scrub_to_answer(q, sc, got);
    }
    res_val_feed(&q->req->val, got);
    val_continue(q->req);
}

/* The client's question: add the chain of sc to the reply. */
static void add_chain(struct iq *q, const struct dns_scrub *sc)
{
    if (q->depth != 0)
        return;
    for (unsigned i = 0; i < sc->nchain; i++) {
        struct dns_cache_rrset set = to_rrset(q, &sc->sets[sc->chain[i]]);
        res_answer_add(q->req, &set);
    }
    add_proofs(q, sc, &q->req->ans);
}

static void iq_sub_done(struct iq *q)
{
    struct iq *p = q->parent;
    q->done = true;
    p->subs--;
    if (p->cut_gen == q->parent_gen)
        p->cut.ns[q->parent_ns].state = NS_DONE;
    if (!p->starting_subs && !p->io && !p->done)
        iq_next(p);
}

/* An NS look-up found addresses: give them to the parent's cut. */
static void sub_addresses(struct iq *q, uint16_t type, const struct dns_rdata *rd, uint16_t n)
{
    struct iq *p = q->parent;
    if (p->cut_gen != q->parent_gen || (type != DNS_TYPE_A && type != DNS_TYPE_AAAA))
        return;
    for (uint16_t i = 0; i < n; i++)
        cut_add_addr(&p->cut, type, rd[i].data, rd[i].len, q->parent_ns);
}

static void iq_done(struct iq *q, unsigned rcode, const struct dns_scrub *sc)
{
    if (q->fetch)
        return fetch_done(q, rcode, sc);
    if (q->depth > 0) {
        if (sc && sc->kind == DNS_SCRUB_ANSWER && sc->nchain) {
            const struct dns_scrub_rrset *s = &sc->sets[sc->chain[sc->nchain - 1]];
            sub_addresses(q, s->type, s->rdata, s->count);
        }
        return iq_sub_done(q);
    }
    q->done = true;
    q->req->ans.rcode = rcode;
    if (sc) /* the chain and proofs are in already (add_chain) */
        add_soa(q, sc, &q->req->ans);
    answer_complete(q->req);
}

static void iq_fail(struct iq *q)
{
    if (q->fetch)
        return fetch_done(q, DNS_RCODE_SERVFAIL, NULL);
    if (q->depth > 0)
        return iq_sub_done(q);
    q->done = true;
    q->req->ans.rcode = DNS_RCODE_SERVFAIL;
    res_req_complete(q->req);
}

/* ---- the cache before asking ---- */

/* A validator fetch inside the server's own zones is answered from them. */
static bool iq_fetch_local(struct iq *q)
{
    struct res_answer *got = dns_arena_alloc(&q->req->arena, sizeof *got);
    const uint8_t *end;
    if (!res_answer_local(q->req->r, q->sname, q->qtype, &q->req->arena, got, &end))
        return false;
    q->done = true;
    res_val_feed(&q->req->val, got);
    val_continue(q->req);
    return true;
}

/* True when the question was answered from the own zones or the cache (the iq is then
 * done); a chain that leaves them moves sname to where it ended. */
static bool iq_cache(struct iq *q)
{
    struct dns_resolver *r = q->req->r;
    if (q->fetch) /* the validator needs the proofs, which the cache does not keep: ask */
        return iq_fetch_local(q);
    unsigned char mem[4096];
    struct dns_arena tmp;
    dns_arena_init(&tmp, mem, sizeof mem);
    struct dns_arena *a = q->depth == 0 ? &q->req->arena : &tmp;
    struct res_answer ans;
    const uint8_t *end = NULL;
    unsigned flags = 0;
    if (q->depth == 0 && q->req->validating)
        flags |= RES_WANT_VALIDATED;
    if (q->depth == 0 && res_validating(r) && q->req->cq.do_bit)
        flags |= RES_WANT_PROOFS;
    bool complete = res_answer_known(r, q->sname, q->qtype, flags, a, &ans, &end);
    if (q->depth == 0)
        for (unsigned i = 0; i < ans.nchain; i++)
            res_answer_add(q->req, &ans.chain[i]);
    if (complete && q->depth > 0 && ans.nchain)
        sub_addresses(q, ans.chain[ans.nchain - 1].type, ans.chain[ans.nchain - 1].rdata,
                      ans.chain[ans.nchain - 1].count);
    if (!complete && end && end != q->sname) {
        q->cnames += ans.nchain;
        dns_name_copy(q->sname, end);
    }
    dns_arena_clear(&tmp);
    if (!complete)
        return false;
    if (q->depth > 0) {
        iq_sub_done(q);
    } else {
        q->done = true;
        struct res_answer *ra = &q->req->ans;
        ra->rcode = ans.rcode;
        ra->soa = ans.soa;
        ra->neg_sec = ans.neg_sec;
        for (unsigned i = 0; i < ans.nproof && ra->nproof < RES_MAX_PROOF; i++)
            ra->proof[ra->nproof++] = ans.proof[i];
        answer_complete(q->req);
    }
    return true;
}

/* ---- NS names without glue ---- */

static unsigned iq_start_lookups(struct iq *q)
{
    const struct dns_resolver_config *c = cfg_of(q);
    unsigned started = 0;
    if (q->depth >= c->max_depth)
        return 0;
    q->starting_subs = true;
    for (unsigned i = 0; i < q->cut.nns && started < LOOKUPS_AT_ONCE; i++) {
        struct res_ns *ns = &q->cut.ns[i];
        if (ns->state != NS_NEW)
            continue;
        ns->state = NS_DONE;
        /* An NS inside its own zone needs glue: asking the zone for it would loop. */
        if (dns_name_is_sub(ns->name, q->cut.zone) || q->req->glueless >= c->max_glueless)
            continue;
        struct iq *sub = iq_new(q->req, q, (int)i, ns->name, DNS_TYPE_A);
        if (!sub)
            break;
        ns->state = NS_LOOKUP;
        q->req->glueless++;
        q->subs++;
        started++;
        iq_next(sub);
        if (q->req->finishing)
            break;
    }
    q->starting_subs = false;
    return started;
}

/* ---- the loop ---- */

static void iq_next(struct iq *q)
{
    for (int guard = 0; guard < 64; guard++) {
        if (q->done || q->req->finishing)
            return;
        if (!q->have_cut) {
            if (q->cnames > cfg_of(q)->max_cname)
                return iq_fail(q);
            if (iq_cache(q))
                return;
            iq_find_cut(q);
        }
        int i = iq_pick(q);
        if (i >= 0)
            return iq_send(q, i);
        if (q->subs > 0)
            return; /* an NS look-up will call back */
        unsigned naddr = q->cut.naddr;
        unsigned started = iq_start_lookups(q);
        if (q->done || q->req->finishing || q->subs > 0)
            return;
        if (started == 0 && q->cut.naddr == naddr)
            return iq_fail(q);
    }
    iq_fail(q);
}

bool iter_answered(const struct dns_resolver_req *req)
{
    return req->niq > 0 && req->iqs[0]->done && req->ans.rcode != DNS_RCODE_SERVFAIL &&
           (!req->validating || req->val_done);
}

void iter_start(struct dns_resolver_req *req, const uint8_t *name, uint16_t qtype)
{
    struct iq *q = iq_new(req, NULL, -1, name, qtype);
    iq_next(q);
}

/* ---- replies ---- */

/* RFC 9156 §2.3: a server that errs on a minimised name is asked the full name. */
static void qmin_fallback(struct iq *q)
{
    q->qmin_off = true;
    q->qmin_labels = 0;
    iq_send(q, q->srv);
}

static void iq_referral(struct iq *q, const struct dns_scrub *sc)
{
    if (++q->referrals > cfg_of(q)->max_referrals)
        return iq_fail(q);
    store(q, sc);
    const struct dns_scrub_rrset *ns = &sc->sets[sc->ns];
    struct res_cut *c = &q->cut;
    dns_name_copy(c->zone, ns->owner);
    dns_name_lower(c->zone);
    c->nns = c->naddr = 0;
    for (uint16_t k = 0; k < ns->count; k++)
        cut_add_ns(c, ns->rdata[k].data);
    for (unsigned i = 0; i < sc->n; i++) {
        const struct dns_scrub_rrset *g = &sc->sets[i];
        for (unsigned k = 0; g->role == DNS_ROLE_GLUE && k < c->nns; k++)
            if (dns_name_eq(c->ns[k].name, g->owner))
                for (uint16_t j = 0; j < g->count; j++)
                    cut_add_addr(c, g->type, g->rdata[j].data, g->rdata[j].len, (int)k);
    }
    for (unsigned k = 0; k < c->nns; k++)
        cut_addrs_from_cache(q->req->r, c, (int)k);
    set_cut_gen(q);
    iq_next(q);
}

static void iq_cname(struct iq *q, const struct dns_scrub *sc)
{
    store(q, sc);
    add_chain(q, sc);
    q->cnames += sc->nchain;
    dns_name_copy(q->sname, sc->end_name);
    q->have_cut = false;
    q->qmin_off = false;
    iq_next(q);
}

/* Acts on a judged reply. */
static void iq_handle(struct iq *q, const struct dns_scrub *sc)
{
    struct dns_resolver *r = q->req->r;
    struct res_srv *s = &q->cut.addr[q->srv];
    bool minimised = q->qmin_labels != 0;
    switch (sc->kind) {
    case DNS_SCRUB_ERROR:
    case DNS_SCRUB_LAME:
        if (minimised && sc->rcode != DNS_RCODE_SERVFAIL)
            return qmin_fallback(q);
        if (sc->kind == DNS_SCRUB_LAME || sc->rcode == DNS_RCODE_REFUSED)
            dns_infra_set_lame(r->sh->infra, (struct sockaddr *)&s->sa, q->cut.zone, res_now_ms(r));
        s->sent = RES_TRIES_PER_ADDR;
        return iq_next(q);
    case DNS_SCRUB_REFERRAL:
        return iq_referral(q, sc);
    case DNS_SCRUB_CNAME:
        if (minimised)
            return qmin_fallback(q);
        return iq_cname(q, sc);
    case DNS_SCRUB_NXDOMAIN:
        if (minimised) /* RFC 8020 would allow stopping; some servers get ENTs wrong */
            return qmin_fallback(q);
        store(q, sc);
        store_negative(q, sc, sc->end_name, DNS_CACHE_TYPE_NXDOMAIN);
        add_chain(q, sc);
        return iq_done(q, DNS_RCODE_NXDOMAIN, sc);
    case DNS_SCRUB_NODATA:
    case DNS_SCRUB_ANSWER:
        store(q, sc);
        if (sc->kind == DNS_SCRUB_NODATA)
            store_negative(q, sc, sc->end_name, q->sent_type);
        if (minimised) { /* the name exists: one more label */
            qmin_advance(q);
            return iq_next(q);
        }
        add_chain(q, sc);
        return iq_done(q, DNS_RCODE_NOERROR, sc);
    }
}

static void trace(struct iq *q, bool timeout, unsigned rtt, const struct dns_msg *m, size_t len,
                  const struct dns_scrub *sc)
{
    struct dns_resolver *r = q->req->r;
    if (!r->trace)
        return;
    const struct res_srv *s = &q->cut.addr[q->srv];
    struct dns_resolver_trace t = {q->cut.zone,
                                   s->ns >= 0 ? q->cut.ns[s->ns].name : NULL,
                                   (const struct sockaddr *)&s->sa,
                                   q->sent_name,
                                   q->sent_type,
                                   timeout,
                                   rtt,
                                   m,
                                   len,
                                   sc};
    r->trace(r->trace_arg, &t);
}

static void iq_on_io(void *arg, enum dns_io_status st, const uint8_t *resp, size_t len)
{
    struct iq *q = arg;
    struct dns_resolver *r = q->req->r;
    struct res_srv *s = &q->cut.addr[q->srv];
    uint64_t now = res_now_ms(r);
    unsigned rtt = (unsigned)(now - q->sent_ms);
    q->io = NULL;
    if (q->req->finishing)
        return;
    if (st != DNS_IO_OK) {
        dns_infra_timeout(r->sh->infra, (struct sockaddr *)&s->sa, now);
        r->st.upstream_timeouts++;
        trace(q, true, rtt, NULL, 0, NULL);
        return iq_next(q);
    }
    static __thread unsigned char mem[16384]; /* per thread: one reply is judged at a time */
    struct dns_arena a;
    dns_arena_init(&a, mem, sizeof mem);
    struct dns_msg m;
    struct dns_scrub *sc = dns_arena_alloc(&a, sizeof *sc);
    if (dns_msg_parse(resp, len, &m, &a) < 0) {
        s->sent = RES_TRIES_PER_ADDR; /* garbage: this server is no use for this question */
        trace(q, true, rtt, NULL, len, NULL);
        iq_next(q);
    } else if ((m.rcode == DNS_RCODE_FORMERR || m.rcode == DNS_RCODE_BADVERS) && q->sent_edns) {
        dns_infra_rtt(r->sh->infra, (struct sockaddr *)&s->sa, rtt, now);
        dns_infra_set_noedns(r->sh->infra, (struct sockaddr *)&s->sa, now); /* RFC 6891 §7 */
        trace(q, false, rtt, &m, len, NULL);
        s->sent--;
        iq_send(q, q->srv);
    } else {
        dns_infra_rtt(r->sh->infra, (struct sockaddr *)&s->sa, rtt, now);
        s->sent--; /* it answered: only failures use up an address's tries */
        dns_scrub(&m, q->sent_name, q->sent_type, q->cut.zone, &a, sc);
        trace(q, false, rtt, &m, len, sc);
        iq_handle(q, sc);
    }
    dns_arena_clear(&a);
}
