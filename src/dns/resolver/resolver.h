/*
 * resolver — the iterative (recursive-service) resolver of DESIGN.md §6, on a libevent loop.
 *
 * A client's question is answered from the cache when it can be (following cached CNAMEs);
 * otherwise the iterator walks down the tree: it finds the deepest zone cut it knows (cached
 * NS, else the root hints), picks one of that zone's server addresses by measured RTT
 * (infra.c; lame, dead and backed-off servers are avoided), asks it over UDP (TCP when TC=1,
 * transport.c: random ID and source port, reply matched on ID, question and address; 0x20
 * case randomisation optional) with EDNS0 at 1232 bytes (without EDNS after FORMERR), judges
 * the reply (scrub.c: bailiwick and RFC 2181 ranks), caches what it may, and follows
 * referrals, CNAMEs (bounded) and NS names without glue (looked up as sub-questions).
 * QNAME minimisation (RFC 9156) asks each zone only for one more label, with A as the QTYPE,
 * and falls back to the full name when a server errs or answers NXDOMAIN for a minimised name.
 *
 * Limits against abuse (NXNSAttack-style amplification): upstream queries per client
 * question, referrals followed, CNAME links, NS names without glue resolved, and the depth of
 * those sub-questions; a question over any limit gets SERVFAIL (or a stale answer).
 *
 * Thread model: a struct dns_resolver_shared (cache, server state, hints, limits) is made
 * once and shared by the struct dns_resolver of each event loop (one per worker thread).
 * Everything a resolver does happens on its loop; callbacks run there, never from inside
 * the call that started the work.
 */
#ifndef PIGEON_DNS_RESOLVER_RESOLVER_H
#define PIGEON_DNS_RESOLVER_RESOLVER_H

#include "dns/resolver/cache.h"
#include "dns/resolver/hints.h"
#include "dns/wire.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct event_base;
struct dns_zoneset;
struct dns_resolver;
struct dns_resolver_shared;
struct dns_resolver_req;
struct dns_scrub;

struct dns_resolver_config {
    bool qname_minimisation; /* RFC 9156 (default on) */
    bool case_randomization; /* 0x20: random letter case in names sent upstream */
    bool serve_stale;        /* RFC 8767: expired data when resolution fails */
    unsigned max_upstream;   /* upstream queries per client question */
    unsigned max_referrals;  /* zone cuts followed per name */
    unsigned max_cname;      /* CNAME links followed */
    unsigned max_glueless;   /* NS names without glue looked up per client question */
    unsigned max_depth;      /* nesting of those look-ups */
    unsigned timeout_ms;     /* whole resolution of one client question */
    uint16_t udp_max;        /* our EDNS payload size towards clients (1232) */
};

/* Fills the defaults (minimisation on, 0x20 off, serve-stale off, limits as documented). */
void dns_resolver_config_defaults(struct dns_resolver_config *cfg);

/* ---- shared state ---- */

/* Takes over *hints (cleared). Never NULL; free after every resolver using it is freed. */
struct dns_resolver_shared *dns_resolver_shared_new(const struct dns_resolver_config *cfg,
                                                    const struct dns_cache_config *cc,
                                                    struct dns_hints *hints);
void dns_resolver_shared_free(struct dns_resolver_shared *sh);
/* Replaces the network and the clock (transport.h) — for tests; before any resolver exists. */
struct dns_io_ops;
void dns_resolver_shared_set_io(struct dns_resolver_shared *sh, const struct dns_io_ops *io);
struct dns_cache *dns_resolver_shared_cache(struct dns_resolver_shared *sh);
/* DNSSEC validation (RFC 4033-4035) with these trust anchors (taken over, *a cleared); with
 * none, answers are not validated. Before any resolver exists. Bogus answers get SERVFAIL
 * with an Extended DNS Error (RFC 8914); secure ones AD when the client sets DO or AD; CD=1
 * gets the data unchecked. */
struct dns_anchors;
void dns_resolver_shared_set_anchors(struct dns_resolver_shared *sh, struct dns_anchors *a);
/* RFC 5011 (autotrust.h): the anchored zones' key-signing keys are followed in at (taken
 * over; freed with sh): its Valid keys are trusted beside the anchors, its Revoked ones no
 * more. changed(ctx, at) runs on the worker that saw a change (rarely), to save the state.
 * Before any resolver exists. */
struct dns_autotrust;
typedef void (*dns_autotrust_changed_fn)(void *ctx, struct dns_autotrust *at);
void dns_resolver_shared_set_autotrust(struct dns_resolver_shared *sh, struct dns_autotrust *at,
                                       dns_autotrust_changed_fn changed, void *ctx);
/*
 * Negative trust anchors (RFC 7646, nta.h): name (wire, any case) and everything below it is
 * not validated for lifetime_ms of the resolver's clock (DNS_NTA_PERMANENT: until removed).
 * Adding or removing one makes what the cache holds at or below name "not validated", so the
 * next question sees the change at once (a bogus answer kept for 60 s included). Any thread.
 * add: 0 or ERR_LIMIT; remove: false when name had none.
 */
int dns_resolver_nta_add(struct dns_resolver_shared *sh, const uint8_t *name,
                         uint64_t lifetime_ms);
bool dns_resolver_nta_remove(struct dns_resolver_shared *sh, const uint8_t *name);
/* The live NTAs into out[0..cap) (sorted), their expiry on the resolver's clock, whose
 * present reading goes into *now_ms_out. Returns how many. */
struct dns_nta;
size_t dns_resolver_nta_list(struct dns_resolver_shared *sh, struct dns_nta *out, size_t cap,
                             uint64_t *now_ms_out);

/* ---- per event loop ---- */

struct dns_resolver *dns_resolver_new(struct event_base *base, struct dns_resolver_shared *sh);
/* Ends everything in flight: each callback is called once with no reply (len 0), so its
 * owner can release its state; then frees r. */
void dns_resolver_free(struct dns_resolver *r);
/* Zones this process serves itself: questions inside them are answered from the zones
 * (borrowed; the caller keeps its reference while set; NULL to unset). */
void dns_resolver_set_zones(struct dns_resolver *r, const struct dns_zoneset *zs);

/* One step of the walk, for `pigeon lookup +trace` and logs. */
struct dns_resolver_trace {
    const uint8_t *zone;    /* the zone cut being asked */
    const uint8_t *ns_name; /* the server's name (root hints / NS), or NULL */
    const struct sockaddr *server;
    const uint8_t *qname; /* as sent (minimised, 0x20) */
    uint16_t qtype;
    bool timeout; /* no usable reply */
    unsigned rtt_ms;
    const struct dns_msg *msg;       /* the parsed reply, or NULL */
    size_t len;                      /* its size */
    const struct dns_scrub *verdict; /* what the iterator made of it, or NULL */
};
typedef void (*dns_resolver_trace_fn)(void *arg, const struct dns_resolver_trace *t);
void dns_resolver_set_trace(struct dns_resolver *r, dns_resolver_trace_fn fn, void *arg);

/* ---- client questions ---- */

struct dns_resolver_qopts {
    bool tcp;     /* the reply may be up to 65535 bytes */
    bool allowed; /* the client may use recursion; false: REFUSED */
};

/*
 * Answers the parsed query q at once when no upstream query is needed: errors (FORMERR,
 * NOTIMP, REFUSED for clients not allowed), the server's own zones, cache hits, and RD=0
 * (cache only: the answer, or a referral to the closest cached zone cut). Writes the reply
 * into out[0..cap) (cap >= 512) and returns its length; returns 0 when resolution is needed
 * (then call dns_resolver_start). Never blocks.
 */
size_t dns_resolver_answer_now(struct dns_resolver *r, const struct dns_msg *q,
                               const struct dns_resolver_qopts *o, uint8_t *out, size_t cap);

/* resp is valid only during the call. */
typedef void (*dns_resolver_cb)(void *arg, const uint8_t *resp, size_t len);

/*
 * Resolves q (copied; q may go away after the call) and calls cb with the reply (SERVFAIL
 * when resolution fails). Returns a handle for dns_resolver_cancel, valid until cb runs.
 */
struct dns_resolver_req *dns_resolver_start(struct dns_resolver *r, const struct dns_msg *q,
                                            const struct dns_resolver_qopts *o, dns_resolver_cb cb,
                                            void *arg);
/*
 * For in-process clients (the stub): the query packet pkt[0..len) is answered as from an
 * allowed client, from the cache or by resolving; cb always runs later from the loop (with
 * FORMERR, or nothing (len 0) when pkt is not a query).
 */
struct dns_resolver_req *dns_resolver_query_packet(struct dns_resolver *r, const uint8_t *pkt,
                                                   size_t len, dns_resolver_cb cb, void *arg);
/* The callback of req will not be called; req is freed. */
void dns_resolver_cancel(struct dns_resolver_req *req);

/* Counters of this resolver (not thread-safe: read on its loop). */
struct dns_resolver_stats {
    uint64_t client_queries, cache_answers, resolutions, upstream_queries, upstream_timeouts,
        servfail, stale_answers, refused;
};
void dns_resolver_stats(const struct dns_resolver *r, struct dns_resolver_stats *out);

#endif
