/*
 * resolver_int — the structures shared by resolver.c (client questions, cache answers,
 * replies) and iterator.c (the walk down the tree). Not for use outside src/dns/resolver.
 */
#ifndef PIGEON_DNS_RESOLVER_RESOLVER_INT_H
#define PIGEON_DNS_RESOLVER_RESOLVER_INT_H

#include "dns/dnssec/validate.h"
#include "dns/resolver/anchor.h"
#include "dns/resolver/autotrust.h"
#include "dns/resolver/infra.h"
#include "dns/resolver/keycache.h"
#include "dns/resolver/nsec_cache.h"
#include "dns/resolver/nta.h"
#include "dns/resolver/resolver.h"
#include "dns/resolver/transport.h"

#include <event2/event.h>

#define RES_MAX_NS 13    /* NS names kept per zone cut */
#define RES_MAX_ADDRS 26 /* server addresses kept per zone cut */
#define RES_MAX_IQ 40    /* questions (the client's, NS look-ups, DS/DNSKEY) per request */
#define RES_MAX_PROOF 16 /* NSEC/NSEC3 sets kept with an answer */
#define RES_MAX_CHAIN 16 /* RRsets in a reply's answer section */
#define RES_TRIES_PER_ADDR 2

struct dns_resolver_shared {
    struct dns_resolver_config cfg;
    struct dns_cache_config ccfg;
    struct dns_cache *cache;
    struct dns_infra *infra;
    struct dns_hints hints;
    struct dns_io_ops io; /* upstream queries and the clock (the network by default) */
    struct dns_anchors anchors; /* validation is on when some anchor is set */
    struct dns_keycache *keys;
    struct dns_nsec_cache *nsecs; /* RFC 8198 */
    struct dns_ntas *ntas;        /* negative trust anchors (RFC 7646) */
    struct dns_autotrust *autotrust; /* RFC 5011, or NULL */
    dns_autotrust_changed_fn autotrust_changed;
    void *autotrust_ctx;
};

/* What a reply says: the answer chain and the SOA (negative) or NS (RD=0 referral). */
struct res_answer {
    unsigned rcode;
    struct dns_cache_rrset chain[RES_MAX_CHAIN];
    unsigned nchain;
    struct dns_cache_rrset soa; /* count 0: none */
    struct dns_cache_rrset ns;  /* count 0: none */
    struct dns_cache_rrset proof[RES_MAX_PROOF]; /* NSEC/NSEC3 with their RRSIGs */
    unsigned nproof;
    uint8_t neg_sec; /* a cached negative answer's status (0: not validated) */
    bool stale;
    uint8_t sec;  /* the whole answer's enum dnssec_status (0: not validated) */
    uint16_t ede; /* RFC 8914 code for a bogus answer */
    bool limited; /* bogus because the KeyTrap limits cut the validation short */
};

/* The validator's progress on one answer (validator.c). */
struct res_val {
    struct dns_resolver *r;
    struct res_answer *ans;
    struct dns_arena *a;
    const uint8_t *qname;
    uint16_t qtype;
    struct dnssec_budget budget;
    unsigned item; /* the chain set being validated; nchain: the negative part; then done */
    /* the walk down from a trust anchor to `target` */
    bool walking;
    uint8_t target[DNS_NAME_MAXLEN];
    uint8_t zone[DNS_NAME_MAXLEN]; /* the deepest secure zone reached */
    const struct dns_rdata *keys;  /* its validated DNSKEYs */
    uint16_t nkeys;
    uint8_t pos[DNS_NAME_MAXLEN]; /* the name reached (zone or a name below it, not a cut) */
    const struct dns_rdata *ds; /* the validated DS set of the next zone */
    uint16_t nds;
    int step;                 /* what is being fetched */
    bool keys_cached;         /* the zone's keys came from the key cache */
    bool retried;             /* the one walk with fresh keys was made */
    uint8_t wres;             /* the walk's result: enum dnssec_status */
    uint16_t wede;
    uint8_t fetch_name[DNS_NAME_MAXLEN];
    uint16_t fetch_type;
};

/* The client's question, as needed to write the reply. */
struct res_client_q {
    uint16_t id;
    uint8_t qname[DNS_NAME_MAXLEN]; /* as received (case kept) */
    uint16_t qtype, qclass;
    bool rd, cd, edns, tcp;
    bool do_bit, ad; /* DNSSEC OK (RFC 3225), AD asked (RFC 6840 §5.7) */
    uint16_t udp_size;
};

struct res_ns {
    uint8_t name[DNS_NAME_MAXLEN];
    uint8_t state; /* NS_NEW, NS_LOOKUP, NS_DONE */
};

struct res_srv {
    struct sockaddr_storage sa;
    socklen_t len;
    int8_t ns; /* index into the cut's NS names, -1 when unknown */
    uint8_t sent;
};

struct res_cut {
    uint8_t zone[DNS_NAME_MAXLEN];
    struct res_ns ns[RES_MAX_NS];
    unsigned nns;
    struct res_srv addr[RES_MAX_ADDRS];
    unsigned naddr;
};

struct iq;

struct dns_resolver_req {
    struct dns_resolver *r;
    struct dns_resolver_req *prev, *next; /* the resolver's requests in flight */
    dns_resolver_cb cb;
    void *arg;
    struct res_client_q cq;
    struct dns_arena arena; /* the answer's RRsets */
    struct res_answer ans;
    unsigned upstream; /* queries sent for this request */
    unsigned glueless; /* NS look-ups started */
    struct iq *iqs[RES_MAX_IQ];
    unsigned niq;
    struct event *deadline;
    struct event *later; /* the reply is delivered from the loop, never from a call */
    struct res_val val;  /* the validation of the answer (when validating) */
    bool validating, val_done;
    uint8_t *ready;      /* an immediate reply (dns_resolver_query_packet), or NULL */
    size_t ready_len;
    bool finishing; /* over: the questions stop, the reply goes out from `later` */
};

struct dns_resolver {
    struct event_base *base;
    struct dns_resolver_shared *sh;
    const struct dns_zoneset *zones;
    dns_resolver_trace_fn trace;
    void *trace_arg;
    struct dns_resolver_req *reqs;
    uint64_t rng;
    struct dns_resolver_stats st;
    uint8_t out[DNS_MSG_MAX];
};

/* resolver.c */
/* The resolver's monotonic clock (ms); a fake one in tests. */
uint64_t res_now_ms(const struct dns_resolver *r);
/* Cancels an upstream query (NULL: nothing). */
void res_io_cancel(const struct dns_resolver *r, struct dns_query_io *q);
uint32_t res_random(struct dns_resolver *r);
/* The request is over: its questions stop at once; the reply (req->ans, SERVFAIL on
 * failure, or a stale answer) goes out from the loop, then everything is freed. Safe to call
 * from deep inside the iterator, and more than once. */
void res_req_complete(struct dns_resolver_req *req);
/* A copy of set (owner, rdata) in the request's arena. */
struct dns_cache_rrset res_rrset_dup(struct dns_resolver_req *req,
                                     const struct dns_cache_rrset *set);
/* Appends a copy of set to the reply's answer section (dropped past RES_MAX_CHAIN). */
void res_answer_add(struct dns_resolver_req *req, const struct dns_cache_rrset *set);
/* The client answer from the cache for (name, qtype), following CNAMEs: true when complete.
 * When not complete, ans holds the cached part of the chain and *end_out (may be NULL) the
 * name still to resolve (in the arena, or name itself). */
bool res_answer_from_cache(struct dns_resolver *r, const uint8_t *name, uint16_t qtype,
                           unsigned flags, struct dns_arena *a, struct res_answer *ans,
                           const uint8_t **end_out);
/* local.c: the answer from the server's own zones (the authoritative engine's data, read
 * as a recursive answer: never AA), with res_answer_from_cache's contract. A CNAME chain that
 * leaves our zones, or reaches a delegation, is not complete: *end_out is then where the
 * look-up goes on (RFC 1034 §4.3.2 step 3a); nothing local: false, empty ans, name. */
bool res_answer_local(struct dns_resolver *r, const uint8_t *name, uint16_t qtype,
                      struct dns_arena *a, struct res_answer *ans, const uint8_t **end_out);
/* local.c: what is known without asking upstream: the own zones, then the cache from where
 * their chain ended (the two chains joined). Contract of res_answer_from_cache. */
bool res_answer_known(struct dns_resolver *r, const uint8_t *name, uint16_t qtype, unsigned flags,
                      struct dns_arena *a, struct res_answer *ans, const uint8_t **end_out);
/* Clamps a TTL as the cache does (min_ttl/max_ttl). */
uint32_t res_clamp_ttl(const struct dns_resolver *r, uint32_t ttl);

/* validator.c — validation of an answer (RFC 4033-4035, 5155, 6840) */
/* Whether questions of this resolver are validated (anchors configured). */
bool res_validating(const struct dns_resolver *r);
/* True when name (lower case) is at or below a live negative trust anchor. */
bool res_nta(const struct dns_resolver *r, const uint8_t *name);
/* Drops the negative trust anchors whose time ran out, and what was validated under them. */
void res_nta_expire(struct dns_resolver_shared *sh);
/* Starts validating ans, the answer to (qname, qtype); copies land in a. */
void res_val_init(struct res_val *v, struct dns_resolver *r, struct res_answer *ans,
                  const uint8_t *qname, uint16_t qtype, struct dns_arena *a);
enum { RES_VAL_DONE = 0, RES_VAL_FETCH };
/* Goes as far as it can without asking: RES_VAL_DONE (ans->sec, ans->ede, each set's sec
 * filled; the cache told), or RES_VAL_FETCH: (v->fetch_name, v->fetch_type) must be asked,
 * then res_val_feed and res_val_run again. */
int res_val_run(struct res_val *v);
/* The answer to the fetch (copied into v's arena by the caller), or got NULL when none. */
void res_val_feed(struct res_val *v, struct res_answer *got);
/* RFC 8198: NXDOMAIN or NODATA for (name, qtype) proven by cached validated NSEC records;
 * fills ans (secure) and returns true, else false. */
bool res_aggressive(struct dns_resolver *r, const uint8_t *name, uint16_t qtype,
                    struct dns_arena *a, struct res_answer *ans);
/* Flag for res_answer_from_cache/res_answer_known: only validated data (0 status = miss). */
#define RES_WANT_VALIDATED (1u << 8)
/* ... and a DO client: a negative answer whose proof cannot be given back (not validated,
 * or NSEC3) is a miss, so the client gets it fresh with its proof. */
#define RES_WANT_PROOFS (1u << 9)

/* iterator.c */
/* Starts resolving (name, qtype) for req (the client's question). */
void iter_start(struct dns_resolver_req *req, const uint8_t *name, uint16_t qtype);
/* True when the client's question reached its answer (positive or negative). */
bool iter_answered(const struct dns_resolver_req *req);
/* Cancels every upstream query and frees the request's questions. */
void iter_free_all(struct dns_resolver_req *req);

#endif
