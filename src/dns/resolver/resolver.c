/*
 * resolver — see resolver.h. This file: shared state, client questions (checks, own zones,
 * cache answers, RD=0), requests and their replies. The walk itself is in iterator.c.
 */
#include "dns/resolver/resolver_int.h"

#include "core/xmalloc.h"
#include "dns/auth/answer.h"
#include "dns/name.h"
#include "dns/resolver/special.h"
#include "dns/resolver/transport.h"
#include "dns/zoneset.h"
#include "dns/rr.h"

#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void dns_resolver_config_defaults(struct dns_resolver_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->qname_minimisation = true;
    cfg->max_upstream = 64; /* Unbound allows a few dozen; NXNSAttack needs hundreds */
    cfg->max_referrals = 24;
    cfg->max_cname = 12; /* as the authoritative side (DNS_ANSWER_MAX_CHAIN) */
    cfg->max_glueless = 6;
    cfg->max_depth = 3;
    cfg->timeout_ms = 10000;
    cfg->udp_max = DNS_UDP_DEFAULT;
}

/* ---- shared state ---- */

struct dns_resolver_shared *dns_resolver_shared_new(const struct dns_resolver_config *cfg,
                                                    const struct dns_cache_config *cc,
                                                    struct dns_hints *hints)
{
    struct dns_resolver_shared *sh = xcalloc(1, sizeof *sh);
    sh->cfg = *cfg;
    sh->ccfg = *cc;
    if (!sh->ccfg.max_ttl)
        sh->ccfg.max_ttl = 86400;
    sh->cache = dns_cache_new(&sh->ccfg);
    sh->infra = dns_infra_new(10000, 900);
    sh->hints = *hints;
    memset(hints, 0, sizeof *hints);
    sh->io = dns_io_network;
    sh->keys = dns_keycache_new(10000);
    sh->nsecs = dns_nsec_cache_new();
    sh->ntas = dns_ntas_new();
    return sh;
}

void dns_resolver_shared_set_anchors(struct dns_resolver_shared *sh, struct dns_anchors *a)
{
    dns_anchors_clear(&sh->anchors);
    sh->anchors = *a;
    memset(a, 0, sizeof *a);
    dns_keycache_flush(sh->keys);
}

void dns_resolver_shared_set_autotrust(struct dns_resolver_shared *sh, struct dns_autotrust *at,
                                       dns_autotrust_changed_fn changed, void *ctx)
{
    dns_autotrust_free(sh->autotrust);
    sh->autotrust = at;
    sh->autotrust_changed = changed;
    sh->autotrust_ctx = ctx;
}

void dns_resolver_shared_free(struct dns_resolver_shared *sh)
{
    if (!sh)
        return;
    dns_cache_free(sh->cache);
    dns_infra_free(sh->infra);
    dns_hints_clear(&sh->hints);
    dns_anchors_clear(&sh->anchors);
    dns_keycache_free(sh->keys);
    dns_nsec_cache_free(sh->nsecs);
    dns_ntas_free(sh->ntas);
    dns_autotrust_free(sh->autotrust);
    free(sh);
}

struct dns_cache *dns_resolver_shared_cache(struct dns_resolver_shared *sh)
{
    return sh->cache;
}

/* ---- one resolver per loop ---- */

struct dns_resolver *dns_resolver_new(struct event_base *base, struct dns_resolver_shared *sh)
{
    struct dns_resolver *r = xcalloc(1, sizeof *r);
    r->base = base;
    r->sh = sh;
    RAND_bytes((unsigned char *)&r->rng, sizeof r->rng);
    r->rng |= 1;
    return r;
}

static void req_free(struct dns_resolver_req *req);

void dns_resolver_free(struct dns_resolver *r)
{
    if (!r)
        return;
    while (r->reqs) { /* every caller hears "no reply", so it can free its own state */
        struct dns_resolver_req *req = r->reqs;
        dns_resolver_cb cb = req->cb;
        void *arg = req->arg;
        req_free(req);
        if (cb)
            cb(arg, NULL, 0);
    }
    free(r);
}

void dns_resolver_set_zones(struct dns_resolver *r, const struct dns_zoneset *zs)
{
    r->zones = zs;
}

void dns_resolver_set_trace(struct dns_resolver *r, dns_resolver_trace_fn fn, void *arg)
{
    r->trace = fn;
    r->trace_arg = arg;
}

void dns_resolver_stats(const struct dns_resolver *r, struct dns_resolver_stats *out)
{
    *out = r->st;
}

void dns_resolver_shared_set_io(struct dns_resolver_shared *sh, const struct dns_io_ops *io)
{
    sh->io = *io;
}

uint64_t res_now_ms(const struct dns_resolver *r)
{
    return r->sh->io.now_ms(r->sh->io.ctx);
}

void res_io_cancel(const struct dns_resolver *r, struct dns_query_io *q)
{
    if (q)
        r->sh->io.cancel(r->sh->io.ctx, q);
}

/* xorshift64*: server choice and 0x20 bits (IDs and ports come from transport.c). */
uint32_t res_random(struct dns_resolver *r)
{
    r->rng ^= r->rng >> 12;
    r->rng ^= r->rng << 25;
    r->rng ^= r->rng >> 27;
    return (uint32_t)((r->rng * 2685821657736338717ull) >> 32);
}

uint32_t res_clamp_ttl(const struct dns_resolver *r, uint32_t ttl)
{
    const struct dns_cache_config *c = &r->sh->ccfg;
    if (ttl > c->max_ttl)
        ttl = c->max_ttl;
    return ttl < c->min_ttl ? c->min_ttl : ttl;
}

/* ---- answers from the cache ---- */

static void chain_add(struct res_answer *ans, const struct dns_cache_rrset *set)
{
    if (ans->nchain < RES_MAX_CHAIN)
        ans->chain[ans->nchain++] = *set;
}

bool res_answer_from_cache(struct dns_resolver *r, const uint8_t *name, uint16_t qtype,
                           unsigned flags, struct dns_arena *a, struct res_answer *ans,
                           const uint8_t **end_out)
{
    struct dns_cache *c = r->sh->cache;
    uint64_t now = res_now_ms(r);
    memset(ans, 0, sizeof *ans);
    const uint8_t *cur = name;
    bool complete = false;
    bool validated = flags & RES_WANT_VALIDATED; /* data not validated yet is a miss */
    bool proofs = flags & RES_WANT_PROOFS;
    flags &= ~(RES_WANT_VALIDATED | RES_WANT_PROOFS);
    for (unsigned hop = 0; hop <= r->sh->cfg.max_cname; hop++) {
        struct dns_cache_result res;
        enum dns_cache_kind k = dns_cache_get(c, cur, qtype, DNS_RANK_ANSWER, flags, now, a, &res);
        ans->stale |= res.stale;
        if (k != DNS_CACHE_MISS && validated && !res.sec)
            break;
        if (k == DNS_CACHE_POSITIVE) {
            chain_add(ans, &res.rrset);
            complete = true;
        } else if (k == DNS_CACHE_NODATA || k == DNS_CACHE_NXDOMAIN) {
            complete = true;
            /* a secure negative answer gets its signed SOA and NSEC proof back from the NSEC
             * cache (the negative entry keeps neither), for DO clients that validate (CD=1
             * ones too: delv) */
            if (res.sec == DNSSEC_SECURE && res_aggressive(r, cur, qtype, a, ans))
                break;
            if (proofs && res.sec != DNSSEC_INSECURE) {
                complete = false;
                break;
            }
            ans->rcode = k == DNS_CACHE_NXDOMAIN ? DNS_RCODE_NXDOMAIN : DNS_RCODE_NOERROR;
            ans->soa = res.soa;
            ans->neg_sec = res.sec;
        } else if (qtype != DNS_TYPE_CNAME &&
                   dns_cache_get(c, cur, DNS_TYPE_CNAME, DNS_RANK_ANSWER, flags, now, a, &res) ==
                       DNS_CACHE_POSITIVE &&
                   res.rrset.count == 1 && (!validated || res.sec)) {
            ans->stale |= res.stale;
            chain_add(ans, &res.rrset);
            cur = res.rrset.rdata[0].data;
            continue;
        } else if (k == DNS_CACHE_MISS && validated && res_aggressive(r, cur, qtype, a, ans)) {
            complete = true; /* RFC 8198: proven by cached NSEC records */
        }
        break;
    }
    if (end_out)
        *end_out = cur;
    return complete;
}

/* RD=0 and nothing cached: a referral to the deepest cached zone cut (as BIND does). */
static void referral_from_cache(struct dns_resolver *r, const uint8_t *name, struct dns_arena *a,
                                struct res_answer *ans)
{
    for (const uint8_t *n = name; n; n = dns_name_parent(n)) {
        struct dns_cache_result res;
        if (dns_cache_get(r->sh->cache, n, DNS_TYPE_NS, DNS_RANK_NONE, DNS_CACHE_PEEK, res_now_ms(r),
                          a, &res) == DNS_CACHE_POSITIVE) {
            ans->ns = res.rrset;
            return;
        }
    }
}

/* ---- replies ---- */

static void client_q_init(struct res_client_q *cq, const struct dns_msg *q, bool tcp)
{
    memset(cq, 0, sizeof *cq);
    cq->id = q->hdr.id;
    dns_name_copy(cq->qname, q->qd[0].qname);
    cq->qtype = q->qd[0].qtype;
    cq->qclass = q->qd[0].qclass;
    cq->rd = q->hdr.rd;
    cq->cd = q->hdr.cd;
    cq->ad = q->hdr.ad;
    cq->do_bit = q->edns.present && q->edns.do_bit;
    cq->edns = q->edns.present;
    cq->udp_size = q->edns.udp_size < DNS_UDP_MIN ? DNS_UDP_MIN : q->edns.udp_size;
    cq->tcp = tcp;
}

static int put_rrset(struct dns_builder *b, enum dns_section sec, const struct dns_cache_rrset *s,
                     const struct res_client_q *cq)
{
    /* the question's own name keeps the case the client used */
    const uint8_t *owner = dns_name_eq(s->owner, cq->qname) ? cq->qname : s->owner;
    for (uint16_t i = 0; i < s->count; i++)
        if (dns_builder_rr(b, sec, owner, s->type, DNS_CLASS_IN, s->ttl, s->rdata[i].data,
                           s->rdata[i].len) < 0)
            return -1;
    for (uint16_t i = 0; cq->do_bit && i < s->nsig; i++) /* RFC 4035 §3.2.1 */
        if (dns_builder_rr(b, sec, owner, DNS_TYPE_RRSIG, DNS_CLASS_IN, s->ttl, s->sigs[i].data,
                           s->sigs[i].len) < 0)
            return -1;
    return 0;
}

/* RFC 8914 EXTRA-TEXT of a bogus answer that the KeyTrap limits ended. */
static const char limited_text[] = "validation limit (CVE-2023-50387): too many keys or signatures";

/* The OPT record, with an Extended DNS Error option (RFC 8914) when ede is set, and text
 * (NULL: none) as its EXTRA-TEXT. */
static void put_opt(struct dns_builder *b, const struct res_client_q *cq, uint16_t udp_max,
                    uint16_t ede, const char *text)
{
    if (ede == 0 || ede == DNSSEC_EDE_NONE) {
        dns_builder_opt(b, udp_max, 0, 0, cq->do_bit);
        return;
    }
    size_t tl = text ? strlen(text) : 0;
    if (tl > sizeof limited_text - 1)
        tl = 0; /* room is kept for that text only */
    uint8_t opt[6 + sizeof limited_text] = {0, 15, 0, (uint8_t)(2 + tl), (uint8_t)(ede >> 8),
                                            (uint8_t)ede};
    memcpy(opt + 6, text ? text : "", tl);
    dns_builder_rr(b, DNS_SEC_ADDITIONAL, (const uint8_t *)"", DNS_TYPE_OPT, udp_max,
                   cq->do_bit ? 0x8000u : 0, opt, (uint16_t)(6 + tl));
}

static size_t build_reply(const struct res_client_q *cq, const struct res_answer *a,
                          uint16_t udp_max, uint8_t *out, size_t cap)
{
    size_t max = cq->tcp ? DNS_MSG_MAX : DNS_UDP_MIN;
    if (!cq->tcp && cq->edns)
        max = cq->udp_size < udp_max ? cq->udp_size : udp_max;
    if (max > cap)
        max = cap;
    bool bogus = a->sec == DNSSEC_BOGUS && !cq->cd;
    struct dns_header h = {.id = cq->id,
                           .qr = true,
                           .rd = cq->rd,
                           .ra = true,
                           .cd = cq->cd,
                           /* RFC 6840 §5.8: AD only for secure data, to a client that asks */
                           .ad = a->sec == DNSSEC_SECURE && (cq->do_bit || cq->ad),
                           .rcode = (uint8_t)((bogus ? DNS_RCODE_SERVFAIL : a->rcode) & 15),
                           .qdcount = 1};
    struct dns_builder b;
    dns_builder_init(&b, out, cap, max, &h);
    if (cq->edns)
        dns_builder_reserve(&b, 17 + (a->limited ? sizeof limited_text : 0));
    dns_builder_question(&b, cq->qname, cq->qtype, cq->qclass);
    struct dns_builder_mark m;
    dns_builder_mark(&b, &m);
    int rc = 0;
    for (unsigned i = 0; i < a->nchain && rc == 0 && !bogus; i++)
        rc = put_rrset(&b, DNS_SEC_ANSWER, &a->chain[i], cq);
    if (rc == 0 && a->soa.count && !bogus)
        rc = put_rrset(&b, DNS_SEC_AUTHORITY, &a->soa, cq);
    for (unsigned i = 0; i < a->nproof && rc == 0 && cq->do_bit && !bogus; i++)
        rc = put_rrset(&b, DNS_SEC_AUTHORITY, &a->proof[i], cq);
    if (rc == 0 && a->ns.count)
        rc = put_rrset(&b, DNS_SEC_AUTHORITY, &a->ns, cq);
    if (rc < 0) { /* RFC 2181 §9: the question alone, TC=1 */
        dns_builder_rollback(&b, &m);
        dns_builder_set_tc(&b);
    }
    if (cq->edns) {
        dns_builder_reserve(&b, 0);
        put_opt(&b, cq, udp_max, bogus ? a->ede : 0, bogus && a->limited ? limited_text : NULL);
    }
    return dns_builder_finish(&b);
}

/* ---- client questions ---- */

static size_t reply_error(const struct dns_msg *q, unsigned rcode, bool tcp, uint16_t udp_max,
                          uint8_t *out, size_t cap)
{
    struct dns_answer_opts ao = {tcp, udp_max};
    size_t n = dns_answer_error(q, rcode, &ao, out, cap);
    if (n >= DNS_HEADER_LEN)
        out[3] |= 0x80; /* RA */
    return n;
}

/* An rcode for a question this resolver will not take, or 0. */
static unsigned check_query(const struct dns_msg *q, const struct dns_resolver_qopts *o)
{
    if (q->hdr.opcode != DNS_OPCODE_QUERY)
        return DNS_RCODE_NOTIMP;
    if (q->hdr.qdcount != 1)
        return DNS_RCODE_FORMERR;
    if (q->edns.present && q->edns.version > 0)
        return DNS_RCODE_BADVERS; /* RFC 6891 §6.1.3 */
    if (!o->allowed)
        return DNS_RCODE_REFUSED; /* never an open resolver */
    if (q->qd[0].qclass != DNS_CLASS_IN)
        return DNS_RCODE_REFUSED;
    const struct dns_type_desc *d = dns_type_desc(q->qd[0].qtype);
    if (q->qd[0].qtype == DNS_TYPE_ANY)
        return 0; /* answered as RFC 8482 says (answer_any) */
    if (d && (d->flags & (DNS_TF_QTYPE | DNS_TF_META)))
        return DNS_RCODE_NOTIMP; /* AXFR, IXFR, OPT...: not through a resolver */
    return 0;
}

/* RFC 8482 §4.2: an ANY question gets one synthesised HINFO "RFC8482" "" instead of every
 * RRset of the name (the amplification ANY was known for); no upstream question. */
static bool answer_any(const struct res_client_q *cq, struct res_answer *ans)
{
    static const uint8_t hinfo[] = "\x07RFC8482\x00";
    static const struct dns_rdata rd = {sizeof hinfo - 1, hinfo};
    if (cq->qtype != DNS_TYPE_ANY)
        return false;
    memset(ans, 0, sizeof *ans);
    ans->chain[ans->nchain++] =
        (struct dns_cache_rrset){cq->qname, DNS_TYPE_HINFO, 1, 3600, DNS_RANK_AUTH_ANSWER, &rd,
                                 0,         0,              NULL};
    return true;
}

/* The names answered without asking anyone (special.h), unless one of our own zones holds
 * the name (a configured 127.in-addr.arpa zone, say, wins). */
static bool answer_special(struct dns_resolver *r, const struct res_client_q *cq,
                           struct res_answer *ans)
{
    if (r->zones && dns_zoneset_find(r->zones, cq->qname))
        return false;
    return res_answer_special(cq->qname, cq->qtype, ans);
}

size_t dns_resolver_answer_now(struct dns_resolver *r, const struct dns_msg *q,
                               const struct dns_resolver_qopts *o, uint8_t *out, size_t cap)
{
    r->st.client_queries++;
    if (dns_ntas_due(r->sh->ntas, res_now_ms(r)))
        res_nta_expire(r->sh);
    unsigned rc = check_query(q, o);
    if (rc) {
        r->st.refused += rc == DNS_RCODE_REFUSED;
        return reply_error(q, rc, o->tcp, r->sh->cfg.udp_max, out, cap);
    }
    size_t n = 0;
    unsigned char mem[8192];
    struct dns_arena a;
    dns_arena_init(&a, mem, sizeof mem);
    struct res_client_q cq;
    client_q_init(&cq, q, o->tcp);
    struct res_answer ans;
    if (answer_any(&cq, &ans) || answer_special(r, &cq, &ans)) {
        r->st.cache_answers++;
        return build_reply(&cq, &ans, r->sh->cfg.udp_max, out, cap);
    }
    /* own zones first (a recursive answer: RA, never AA), then the cache */
    bool validate = res_validating(r) && !cq.cd;
    unsigned flags = (validate ? RES_WANT_VALIDATED : 0) |
                     (res_validating(r) && cq.do_bit ? RES_WANT_PROOFS : 0);
    bool hit = res_answer_known(r, cq.qname, cq.qtype, flags, &a, &ans, NULL);
    if (hit && validate) { /* answered now only when no DS/DNSKEY must be fetched */
        struct res_val v;
        res_val_init(&v, r, &ans, cq.qname, cq.qtype, &a);
        hit = res_val_run(&v) == RES_VAL_DONE;
    }
    if (!hit && !q->hdr.rd) /* RD=0: from the cache only */
        referral_from_cache(r, cq.qname, &a, &ans);
    if (hit || !q->hdr.rd) {
        r->st.cache_answers++;
        n = build_reply(&cq, &ans, r->sh->cfg.udp_max, out, cap);
    }
    dns_arena_clear(&a);
    return n;
}

/* ---- requests ---- */

static void req_free(struct dns_resolver_req *req)
{
    struct dns_resolver *r = req->r;
    iter_free_all(req);
    if (req->prev)
        req->prev->next = req->next;
    else
        r->reqs = req->next;
    if (req->next)
        req->next->prev = req->prev;
    if (req->deadline)
        event_free(req->deadline);
    if (req->later)
        event_free(req->later);
    free(req->ready);
    dns_arena_clear(&req->arena);
    free(req);
}

/* From the loop: the reply goes out, the request is freed. */
static void on_later(evutil_socket_t fd, short what, void *vreq)
{
    struct dns_resolver_req *req = vreq;
    struct dns_resolver *r = req->r;
    iter_free_all(req); /* no upstream query outlives its request */
    const uint8_t *resp = req->ready;
    size_t len = req->ready_len;
    if (!resp) {
        if (req->ans.rcode == DNS_RCODE_SERVFAIL && r->sh->cfg.serve_stale) {
            struct res_answer st;
            if (res_answer_from_cache(r, req->cq.qname, req->cq.qtype, DNS_CACHE_STALE_OK,
                                      &req->arena, &st, NULL)) {
                req->ans = st; /* RFC 8767 */
                r->st.stale_answers++;
            }
        }
        r->st.servfail += req->ans.rcode == DNS_RCODE_SERVFAIL;
        len = build_reply(&req->cq, &req->ans, r->sh->cfg.udp_max, r->out, sizeof r->out);
        resp = r->out;
    }
    dns_resolver_cb cb = req->cb;
    void *arg = req->arg;
    uint8_t *ready = req->ready; /* the immediate reply outlives the request until cb is done */
    req->ready = NULL;
    req->cb = NULL;
    req_free(req); /* before the callback, which may start new work or free the resolver */
    if (cb)
        cb(arg, resp, len);
    free(ready);
}

void res_req_complete(struct dns_resolver_req *req)
{
    if (req->finishing)
        return;
    req->finishing = true;
    if (!req->ready && !iter_answered(req))
        req->ans.rcode = DNS_RCODE_SERVFAIL; /* a limit or the deadline stopped it */
    struct timeval now = {0, 0};
    evtimer_add(req->later, &now);
}

static void on_deadline(evutil_socket_t fd, short what, void *vreq)
{
    struct dns_resolver_req *req = vreq;
    req->ans.rcode = DNS_RCODE_SERVFAIL;
    res_req_complete(req);
}

static struct dns_resolver_req *req_new(struct dns_resolver *r, dns_resolver_cb cb, void *arg)
{
    struct dns_resolver_req *req = xcalloc(1, sizeof *req);
    req->r = r;
    req->cb = cb;
    req->arg = arg;
    dns_arena_init(&req->arena, NULL, 0);
    req->later = evtimer_new(r->base, on_later, req);
    req->next = r->reqs;
    if (r->reqs)
        r->reqs->prev = req;
    r->reqs = req;
    return req;
}

static const struct dns_rdata *rdatas_dup(struct dns_arena *a, const struct dns_rdata *rd,
                                          uint16_t n)
{
    struct dns_rdata *out = dns_arena_alloc(a, (n + 1u) * sizeof *out);
    for (uint16_t i = 0; i < n; i++)
        out[i] = (struct dns_rdata){rd[i].len, dns_arena_dup(a, rd[i].data, rd[i].len)};
    return out;
}

struct dns_cache_rrset res_rrset_dup(struct dns_resolver_req *req,
                                     const struct dns_cache_rrset *set)
{
    struct dns_cache_rrset c = *set;
    c.owner = dns_arena_dup(&req->arena, set->owner, dns_name_len(set->owner));
    c.rdata = rdatas_dup(&req->arena, set->rdata, set->count);
    c.sigs = rdatas_dup(&req->arena, set->sigs, set->nsig);
    return c;
}

void res_answer_add(struct dns_resolver_req *req, const struct dns_cache_rrset *set)
{
    if (req->ans.nchain < RES_MAX_CHAIN)
        req->ans.chain[req->ans.nchain++] = res_rrset_dup(req, set);
}

struct dns_resolver_req *dns_resolver_start(struct dns_resolver *r, const struct dns_msg *q,
                                            const struct dns_resolver_qopts *o, dns_resolver_cb cb,
                                            void *arg)
{
    struct dns_resolver_req *req = req_new(r, cb, arg);
    client_q_init(&req->cq, q, o->tcp);
    req->validating = res_validating(r) && !req->cq.cd; /* CD=1: the data unchecked */
    r->st.resolutions++;
    unsigned ms = r->sh->cfg.timeout_ms;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    req->deadline = evtimer_new(r->base, on_deadline, req);
    evtimer_add(req->deadline, &tv);
    uint8_t name[DNS_NAME_MAXLEN];
    dns_name_copy(name, req->cq.qname);
    dns_name_lower(name);
    iter_start(req, name, req->cq.qtype);
    return req;
}

struct dns_resolver_req *dns_resolver_query_packet(struct dns_resolver *r, const uint8_t *pkt,
                                                   size_t len, dns_resolver_cb cb, void *arg)
{
    unsigned char mem[4096];
    struct dns_arena a;
    dns_arena_init(&a, mem, sizeof mem);
    struct dns_msg q;
    struct dns_resolver_qopts o = {true, true}; /* in-process: no UDP size limit */
    struct dns_resolver_req *req;
    int prc = dns_msg_parse(pkt, len, &q, &a);
    size_t n = 0;
    if (prc < 0 || q.hdr.qr)
        n = prc < 0 && q.hdr_ok && !q.hdr.qr
                ? reply_error(&q, DNS_RCODE_FORMERR, true, 0, r->out, sizeof r->out)
                : 0;
    else
        n = dns_resolver_answer_now(r, &q, &o, r->out, sizeof r->out);
    if (n || prc < 0 || q.hdr.qr) { /* answered at once: deliver from the loop */
        req = req_new(r, cb, arg);
        req->ready = xmemdup(r->out, n ? n : 1);
        req->ready_len = n;
        req->finishing = true;
        struct timeval now = {0, 0};
        evtimer_add(req->later, &now);
    } else {
        req = dns_resolver_start(r, &q, &o, cb, arg);
    }
    dns_arena_clear(&a);
    return req;
}

void dns_resolver_cancel(struct dns_resolver_req *req)
{
    if (req)
        req_free(req);
}
