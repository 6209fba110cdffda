/*
 * server — the authoritative name server's engine: (configuration, zone view, request bytes,
 * client address, clock) -> response bytes, or a job for the service glue. One file per
 * opcode, as Knot's knot/nameserver/:
 *
 *   process.c   the entry point: header, wire parse, TSIG check, dispatch by opcode/qtype
 *   query.c     plain QUERY (the answer engine dns/auth/answer.h; SERVFAIL for dead zones)
 *   axfr.c      AXFR: access (allow_transfer), TCP only; the transfer stream (signed)
 *   ixfr.c      IXFR: over UDP the SOA alone, over TCP an incremental (or full) stream
 *   notify.c    NOTIFY received as a secondary (from the primary only): refresh job
 *   update.c    UPDATE (RFC 2136): checks on the worker, then applied on the control thread
 *   tsig.c      signing answers to signed requests (errors, single answers, streams)
 *   rrl.c       response rate limiting (token buckets, slip to TC, loopback exempt)
 *   view.c      the immutable view answered from, and zone lookup by origin
 *
 * Pure: no sockets, no clock (times are passed in), no threads, no globals. The service glue
 * (src/dns/service/) reads the sockets, holds the view, runs the jobs: streams a transfer on
 * the TCP connection, hands an UPDATE to the control thread (which calls
 * dns_server_update_apply), asks the secondary to refresh.
 *
 * Hook points for DNSSEC: signing belongs where a new zone version is made
 * (dns_server_update_apply's result, and the control thread's zone load/transfer install);
 * DO handling belongs in query.c, which passes the parsed query to the answer engine.
 */
#ifndef PIGEON_DNS_SERVER_SERVER_H
#define PIGEON_DNS_SERVER_SERVER_H

#include "dns/arena.h"
#include "dns/name.h"
#include "dns/wire.h"
#include "dns/xfr/acl.h"
#include "dns/xfr/tsig.h"
#include "dns/xfr/xfr.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct dns_zone;
struct dns_zoneset;
struct dns_xfr_hist;

/* ---- configuration (derived from the [zone] and [tsig] sections; never changes) ---- */

/* A peer we talk to: a primary, or a secondary to NOTIFY. */
struct dns_remote {
    struct sockaddr_storage sa;
    socklen_t len;
    char text[80];
};

/* One [zone]. */
struct dns_zconf {
    const char *name; /* presentation form, for logs */
    const char *file;
    char *jnl; /* DATA/journal/NAME.jnl (journal_path) */
    uint8_t origin[DNS_NAME_MAXLEN];
    struct dns_acl xfr_acl, upd_acl;
    bool secondary;
    struct dns_remote primary;
    const struct dns_tsig_key *primary_key;
    struct dns_remote *notify;
    size_t nnotify;
    const struct dns_tsig_key *notify_key;
    /* DNSSEC signing of a primary zone (the service's glue signs; see dns_sign.c) */
    bool dnssec, dnssec_nsec3;
    uint8_t dnssec_alg;
    uint32_t dnssec_validity; /* seconds */
    uint32_t dnssec_refresh;  /* seconds before expiry a signature is made again */
    char *keydir;             /* DATA/dnssec */
    /* CDS/CDNSKEY of children served elsewhere, asked of a validating resolver */
    bool cds_scan;
    struct dns_remote cds_resolver;
    unsigned cds_interval; /* seconds */
};

/* What the engine answers with (borrowed; owned by the service). */
struct dns_server {
    const struct dns_zconf *zc;
    size_t nzones;
    const struct dns_tsig_key *keys;
    size_t nkeys;
    uint16_t udp_max; /* our EDNS payload size */
};

/* ---- the view (view.c) ---- */

struct dns_view_zone {
    struct dns_zone *zone;     /* NULL: not loaded yet, or expired (SERVFAIL) */
    struct dns_xfr_hist *hist; /* NULL or the IXFR history */
};

/* What requests are answered from; immutable once published, reference-counted (threads). */
struct dns_view {
    atomic_uint refs;
    struct dns_zoneset *zs;
    size_t n; /* = number of [zone] sections, in config order */
    struct dns_view_zone *z;
    bool any_dead; /* some zone is configured but not served */
};

struct dns_view *dns_view_ref(struct dns_view *v);
/* Drops a reference; the last one frees the view and its zone/history references. */
void dns_view_unref(struct dns_view *v);
/* The address of sa as text (no port), for logs. */
void dns_server_addr_text(const struct sockaddr *sa, char *out, size_t cap);
/* Index of the [zone] whose origin is exactly name, or -1. */
long dns_server_zone_find(const struct dns_server *srv, const uint8_t *name);

/* ---- TSIG on answers (tsig.c) ---- */

/* What signing the answers to a verified request needs (the request's own TSIG fields live in
 * the per-request arena and are gone by then). */
struct dns_tsig_reply {
    const struct dns_tsig_key *key; /* NULL: the request was not signed */
    uint8_t mac[DNS_TSIG_MAC_MAX];  /* the request's MAC, then each signed answer's */
    size_t mac_len;
    uint16_t fudge;
    unsigned nsigned; /* answers signed so far */
};

/* Appends a TSIG to the response out[0..*len) (cap bytes) answering a request verified as
 * res, at time now (seconds); unsigned/error forms as RFC 8945 §5.2 asks. 0 or ERR_LIMIT. */
int dns_server_tsig_answer(const struct dns_tsig_result *res, uint64_t now, uint8_t *out,
                           size_t *len, size_t cap);
/* Remembers what signing answers to the request verified as res (NULL: unsigned) needs. */
void dns_tsig_reply_init(struct dns_tsig_reply *r, const struct dns_tsig_result *res);
/* Signs the next answer (the first with the request MAC, later ones as a stream, RFC 8945
 * §5.3.1). Nothing to do for an unsigned request. 0 or ERR_LIMIT. */
int dns_tsig_reply_sign(struct dns_tsig_reply *r, uint64_t now, uint8_t *out, size_t *len,
                        size_t cap);

/* ---- one request (process.c) ---- */

struct dns_server_req {
    const uint8_t *pkt;
    size_t len;
    const struct sockaddr *peer; /* the client's address (ACLs, NOTIFY's primary check) */
    bool tcp;
    uint64_t now; /* seconds since the epoch (TSIG) */
};

enum dns_server_job {
    DNS_JOB_NONE = 0, /* the answer (if any) is in out */
    DNS_JOB_XFR,      /* TCP: stream job->xfr on the connection (nothing in out) */
    DNS_JOB_UPDATE,   /* hand the request to the control thread (nothing in out) */
    DNS_JOB_REFRESH,  /* answer in out; ask secondary zone job->zi to refresh now */
};

/* A transfer being streamed: the message source and the signing state. */
struct dns_server_xfr {
    struct dns_xfrout out;
    struct dns_tsig_reply tsig;
};

struct dns_server_job_out {
    enum dns_server_job kind;
    size_t zi;                 /* XFR, UPDATE, REFRESH: the zone's index */
    struct dns_server_xfr *xfr; /* XFR: owned by the caller (dns_server_xfr_free) */
    struct dns_tsig_reply tsig; /* UPDATE: how to sign its answer */
};

/*
 * Answers the request req from view v. Writes the answer into out[0..cap) (cap >= 512; the
 * whole DNS_MSG_MAX for TCP) and returns its length, or 0 when nothing is to be sent now:
 * dropped (a response, no header), or a job started (job->kind). The parsed request lives in
 * arena (reset it after the call). Never blocks.
 */
size_t dns_server_process(const struct dns_server *srv, const struct dns_view *v,
                          const struct dns_server_req *req, struct dns_arena *arena, uint8_t *out,
                          size_t cap, struct dns_server_job_out *job);

/* ---- per opcode (called by process.c; q parsed, TSIG verified when res != NULL) ---- */

size_t dns_server_query(const struct dns_server *srv, const struct dns_view *v,
                        const struct dns_msg *q, bool tcp, uint8_t *out, size_t cap);
size_t dns_server_axfr(const struct dns_server *srv, const struct dns_view *v,
                       const struct dns_server_req *req, const struct dns_msg *q,
                       const struct dns_tsig_result *res, uint8_t *out, size_t cap,
                       struct dns_server_job_out *job);
size_t dns_server_ixfr(const struct dns_server *srv, const struct dns_view *v,
                       const struct dns_server_req *req, const struct dns_msg *q,
                       const struct dns_tsig_result *res, uint8_t *out, size_t cap,
                       struct dns_server_job_out *job);
size_t dns_server_notify(const struct dns_server *srv, const struct dns_server_req *req,
                         const struct dns_msg *q, const struct dns_tsig_result *res, uint8_t *out,
                         size_t cap, struct dns_server_job_out *job);
size_t dns_server_update(const struct dns_server *srv, const struct dns_view *v,
                         const struct dns_server_req *req, const struct dns_msg *q,
                         const struct dns_tsig_result *res, uint8_t *out, size_t cap,
                         struct dns_server_job_out *job);

/* An error answer to q (signed when the request was: res), for every opcode. */
size_t dns_server_refuse(const struct dns_server *srv, const struct dns_msg *q, unsigned rcode,
                         bool tcp, const struct dns_tsig_result *res, uint64_t now, uint8_t *out,
                         size_t cap);

/* ---- transfers out (axfr.c) ---- */

/* Writes the next message of the stream into out[0..cap), signed when the request was, and
 * returns its length; 0 when the transfer is complete or failed (x->out.failed). */
size_t dns_server_xfr_next(struct dns_server_xfr *x, uint64_t now, uint8_t *out, size_t cap);
bool dns_server_xfr_failed(const struct dns_server_xfr *x);
void dns_server_xfr_free(struct dns_server_xfr *x);

/* ---- UPDATE on the control thread (update.c) ---- */

struct dns_server_update_result {
    unsigned rcode;
    struct dns_zone *zone;  /* the new version (one reference), or NULL: nothing changed */
    struct dns_zdiff *diff; /* its difference (one reference), or NULL */
    const char *why;        /* static reason for the log when rcode != NOERROR */
};

/*
 * Applies the UPDATE request pkt[0..len) (already checked by dns_server_update) to zone z
 * (NULL: no longer served, SERVFAIL). The caller installs res->zone (journal first) and, if
 * that fails, answers with dns_server_update_answer(SERVFAIL) instead. Returns 0, or -1 when
 * the packet no longer parses (nothing to answer).
 */
int dns_server_update_apply(const struct dns_zone *z, const uint8_t *pkt, size_t len,
                            struct dns_arena *arena, struct dns_server_update_result *res);
/* The answer to the UPDATE pkt[0..len) with rcode, signed with tsig. Returns its length in
 * out, or 0 (the request does not parse, or the answer does not fit). */
size_t dns_server_update_answer(const uint8_t *pkt, size_t len, unsigned rcode, bool tcp,
                                uint16_t udp_max, struct dns_tsig_reply *tsig, uint64_t now,
                                struct dns_arena *arena, uint8_t *out, size_t cap);

#endif
