/* proxy service internals shared by service.c, conn.c, fetch.c, upstream.c and tunnel.c. */
#ifndef PIGEON_PROXY_SERVICE_INT_H
#define PIGEON_PROXY_SERVICE_INT_H

#include "proxy/service/config.h"
#include "proxy/service/service.h"

#include "cache/policy.h"
#include "cache/store.h"
#include "proxy/forward.h"
#include "http/response_parse.h"
#include "proxy/session.h"

#include "conf/config.h"
#include "net/acl.h"
#include "net/conn.h"

#include <openssl/ssl.h>
#include <pthread.h>

struct evdns_base;
struct bufferevent;
struct http_exchange;
struct proxy_site;
struct daemon;
struct reload_report;
struct config;
struct event;
struct upstream;

struct inflight;

/* The origins a reverse-proxied site forwards to ([http NAME] proxy_to, [reverse_proxy]
 * origin): tried in order, an origin that failed is passed over for PROXY_ORIGIN_DOWN
 * seconds (passive health checking, shared by the workers). */
#define PROXY_MAX_ORIGINS 8
#define PROXY_ORIGIN_DOWN 10
struct proxy_origins {
    struct proxy_url url[PROXY_MAX_ORIGINS];
    unsigned n;
    bool preserve_host;                              /* the client's Host goes to the origin */
    _Atomic long long down_until[PROXY_MAX_ORIGINS]; /* time(NULL) before which it is skipped */
};
/* Parses "URL [URL ...]" into o. 0, or -1 with *why_out. */
int proxy_origins_parse(const char *text, struct proxy_origins *o, const char **why_out);

struct proxy_reloaded;
struct proxy_site_set;

struct proxy_state {
    /* [proxy] in force: the start configuration's, or a reload's copy of its numbers and
     * flags (its strings are read at start only); each use is one atomic load */
    const struct proxy_config *_Atomic cfg;
    struct cache_store *store;
    struct net_acl clients, origins; /* [proxy] allow, allow_origins at start */
    const struct net_acl *_Atomic clients_now, *_Atomic origins_now; /* or a reload's */
    struct proxy_reloaded *reloaded; /* what reloads put in force: freed at close */
    SSL_CTX *client_tls; /* towards HTTPS origins: verified against the system CAs */
    struct cache_rules rules;
    struct http_limits lim;
    char via[80];                      /* "1.1 NAME" */
    char name[64];                     /* NAME: the Cache-Status cache name */
    const struct reverse_config *rcfg; /* NULL without a [reverse_proxy] listen */
    struct proxy_origins reverse;      /* its origin */
    struct net_acl reverse_clients;
    uint16_t own_ports[CONF_MAX_LISTEN];
    unsigned n_own_ports;
    pthread_mutex_t inflight_lock;
    struct inflight *inflight;
    _Atomic bool closing; /* the workers' loops have stopped (stop hook): no more wakes */
    /* [http NAME] proxy_to sites (site.c): the start's, or a reload's (older sets are kept
     * until close: a fetch in flight holds its site's origins) */
    struct proxy_site_set *_Atomic siteset;
    bool sites_hooked; /* on the HTTP service's `more` hook since start */
    bool (*next_more)(struct http_exchange *x); /* the HTTP hook's previous owner */
};

/* Per worker. */
struct proxy_worker {
    struct worker *w;
    struct proxy_state *st;
    struct evdns_base *dns;
    struct upstream *idle; /* origin connections kept for reuse */
    unsigned nidle;
    struct fetch *fetches; /* every fetch of this worker, freed at detach if still running */
    struct event *stop_timer; /* shutdown: the end of the grace period (proxy_worker_stopping) */
};

/* The client side of a fetch: a connection of the proxy's own listeners (conn.c) or an
 * exchange of the HTTP service on a proxy_to site (site.c). */
struct fetch_client;
struct fetch_client_ops {
    /* The answer's head: fields without framing, length -1 when unknown. later: the body
     * follows from later callbacks (the origin, a collapsed stream); else it follows before
     * this call chain returns. */
    void (*head)(struct fetch_client *cl, int status, struct slice fields, int64_t length,
                 bool later);
    void (*body)(struct fetch_client *cl, const char *p, size_t n);
    /* len octets of fd from off; the callee dups or reads fd before it returns. */
    void (*body_file)(struct fetch_client *cl, int fd, uint64_t off, uint64_t len);
    /* The body is complete, or (complete false) cut short: the client must see a cut. */
    void (*end)(struct fetch_client *cl, bool complete);
    /* A whole small error answer with extra fields. */
    void (*error)(struct fetch_client *cl, int status, const char *why, struct slice fields);
    /* Octets handed over but not sent on yet (back-pressure). */
    size_t (*pending)(struct fetch_client *cl);
    /* The fetch lets go of the client (answered, or it gave up): it may read on. */
    void (*release)(struct fetch_client *cl);
};

struct fetch_client {
    const struct fetch_client_ops *ops;
    struct fetch *fetch; /* answering it now; NULL between requests */
    const char *peer;    /* the client's address, text */
    uint64_t id;         /* for logs */
    bool tls;            /* it spoke TLS to us */
};

/* One client connection of the proxy's own listeners. */
struct pconn {
    struct fetch_client cl;
    struct conn *c;
    struct proxy_worker *pw;
    struct proxy_session *s;
    uint64_t id;
    char peer[64];
    bool allowed_by_addr;
    bool loopback;
    bool reverse; /* a [reverse_proxy] listener: origin-form requests for one origin */
    bool in_feed; /* inside proxy_session_feed: conn.c pumps on by itself */
    bool auth_ok; /* logged in with Proxy-Authorization on this connection */
    struct tunnel *tunnel;
};

/* ---- fetch.c: one request through the cache ---- */
/* Answers req for cl (which must stay until its release, or until proxy_fetch_detach).
 * rev: the site's origins (reverse proxy; origin-form targets), NULL for the forward proxy
 * (absolute URLs). req is copied: it may go once this returns. */
void proxy_fetch_start(struct proxy_worker *pw, struct fetch_client *cl,
                       const struct http_request *req, struct proxy_origins *rev);
/* The client can take more output (back-pressure released). */
void proxy_fetch_writable(struct fetch_client *cl);
/* The client goes away: its fetch answers nobody from now on. */
void proxy_fetch_detach(struct fetch_client *cl);
/* Shutdown, once the grace period is over: every client still waiting for an answer gets
 * what it has, cut (or a 503 before any head), and its fetch ends (origin connection closed,
 * the object being written dropped); fetches with no client are left to free_all. */
void proxy_fetch_cut_all(struct proxy_worker *pw);
/* Shutdown, after the loops stopped (detach): frees every fetch still running on pw (origin
 * connections closed, objects being written dropped with their temporary files). */
void proxy_fetch_free_all(struct proxy_worker *pw);

/* ---- upstream.c: the origin side ---- */
struct upstream_ops {
    /* The origin's head (framing already decided); return false to abandon. */
    void (*head)(void *arg, const struct http_resp_head *h);
    void (*body)(void *arg, const char *p, size_t n);
    /* The end: ok, or an error before (502/504 status to answer) or after the head. */
    void (*done)(void *arg, bool ok, int status, const char *why);
};

/* Sends head (taken) and body to u's origin and reads the answer. method for the response
 * framing; idempotent requests are retried on a failed or stale connection. *handle_out is
 * set first (for upstream_pause/cancel); ops->done, which may run before this returns, ends
 * its life: clear the handle there. */
void upstream_request(struct proxy_worker *pw, const struct proxy_url *u, enum http_method method,
                      bool idempotent, struct str *head, const char *body, size_t body_len,
                      const struct upstream_ops *ops, void *arg, struct upstream **handle_out);
/* Stops reading the origin (the client is slow) or starts again. */
void upstream_pause(struct upstream *up, bool pause);
/* Abandons a request: no more callbacks; the connection is closed. */
void upstream_cancel(struct upstream *up);
void upstream_idle_free_all(struct proxy_worker *pw);

/* Resolves host (system resolver: libevent's evdns with /etc/resolv.conf and /etc/hosts) and
 * picks the first address the SSRF rules allow. cb(arg, sa, len, 0, NULL), or cb(arg, NULL,
 * 0, status, why) with 403 (refused origin) or 502 (no such name), always from the loop
 * (never before this returns). trusted (an origin the configuration names): no SSRF check.
 * The handle cancels (the callback then never runs) until the callback has run. */
struct sockaddr;
typedef void (*upstream_resolve_cb)(void *arg, const struct sockaddr *sa, int len, int status,
                                    const char *why);
struct resolve_req *upstream_resolve(struct proxy_worker *pw, const char *host, uint16_t port,
                                     bool trusted, upstream_resolve_cb cb, void *arg);
void upstream_resolve_cancel(struct resolve_req *r);

/* ---- tunnel.c: CONNECT ---- */
void proxy_tunnel_start(struct pconn *pc, const struct proxy_url *u);
size_t proxy_tunnel_feed(struct pconn *pc, const char *p, size_t n);
void proxy_tunnel_writable(struct pconn *pc);
void proxy_tunnel_free(struct pconn *pc);

/* ---- collapse.c: N simultaneous misses for one URL, one origin fetch ---- */
struct inflight_waiter {
    struct loop_post *post; /* the waiter's loop */
    void (*wake)(void *arg);
    void *arg;
    struct inflight_waiter *next;
};

enum inflight_state {
    INFLIGHT_FETCHING, /* no head yet */
    INFLIGHT_STREAM,   /* the head is out; the body grows in the object's file */
    INFLIGHT_COMPLETE, /* the whole body is in the file */
    INFLIGHT_CUT,      /* the body ended early: readers must cut theirs */
    INFLIGHT_OWN,      /* nothing to share (not storable, failed): waiters fetch their own */
};

/* What a waiter reads (the head fields never change once published). */
struct inflight_view {
    enum inflight_state state;
    int status;
    struct slice fields; /* stored head, without Age */
    const char *vary;    /* the response's Vary key */
    int64_t length;      /* -1: unknown */
    time_t request_time, response_time;
    int fd; /* the object's file, readable; the body from body_off */
    uint64_t body_off, written;
};

enum inflight_join { INFLIGHT_LEAD, INFLIGHT_QUEUED, INFLIGHT_READ };
/* LEAD: key had no fetch in flight; *out is a new one the caller leads (proxy_inflight_done
 * ends it). QUEUED: w waits (its wake runs once, on its loop). READ: the fetch in flight
 * already streams: read it now. Both give a reference in *out (proxy_inflight_unref). w
 * NULL: a background fetch that never waits (QUEUED then gives no reference). */
enum inflight_join proxy_inflight_join(struct proxy_state *st, const char *key,
                                       struct inflight_waiter *w, struct inflight **out);
/* The leader's response can be shared: readers get fd (dup'd) from body_off. */
void proxy_inflight_stream(struct proxy_state *st, struct inflight *f, int status,
                           struct slice fields, const char *vary, int64_t length,
                           time_t request_time, time_t response_time, int fd, uint64_t body_off);
/* The body in the file has grown to written octets. */
void proxy_inflight_wrote(struct proxy_state *st, struct inflight *f, uint64_t written);
/* The leader's end: COMPLETE, CUT or OWN; the key leaves the table; drops the lead's ref. */
void proxy_inflight_done(struct proxy_state *st, struct inflight *f, enum inflight_state how);
void proxy_inflight_view(struct proxy_state *st, struct inflight *f, struct inflight_view *v);
/* A reader that has seen have octets: queues w and returns true, unless more is there or
 * the stream has ended (false: read on now). */
bool proxy_inflight_wait(struct proxy_state *st, struct inflight *f, struct inflight_waiter *w,
                         uint64_t have);
void proxy_inflight_unref(struct proxy_state *st, struct inflight *f);
/* One more reference to f (a client handed from the leader to a reader). */
void proxy_inflight_ref(struct proxy_state *st, struct inflight *f);
/* Takes w out of f's queue if it is there (a waiting reader freed at shutdown). */
void proxy_inflight_forget(struct proxy_state *st, struct inflight *f, struct inflight_waiter *w);
void proxy_inflight_free_all(struct proxy_state *st);

/* ---- site.c: [http NAME] proxy_to, on the HTTP service's `more` hook ---- */
int proxy_sites_open(struct daemon *d, struct proxy_state *st);
/* Reload: the proxy_to sites of next for the requests that start from now on (reported into
 * r); a site added when none was reverse-proxied at start is refused: that needs a restart. */
void proxy_sites_reload(struct proxy_state *st, const struct config *next,
                        struct reload_report *r);
void proxy_sites_free(struct proxy_state *st);
/* Whether the HTTP configuration has proxy_to sites (they need the proxy service). */
bool proxy_sites_configured(const struct config *cfg);
/* Every site's proxy_to parses. 0, or -1 with the reason in err. */
int proxy_sites_check(const struct config *cfg, struct str *err);

/* ---- control.c: `pigeon cache` on the control socket ---- */
int proxy_control(struct daemon *d, void *state, const char *line, struct str *answer);
/* The store's counters, one "PREFIXname value" line each (the control socket's notes, the
 * forward proxy's /.pigeon/cache-stats page). */
void proxy_stats_text(struct proxy_state *st, const char *prefix, struct str *out);

/* ---- service.c ---- */
/* The server is stopping (a connection's shutdown hook): answers still in progress may go on
 * for [server] shutdown_timeout, then they are cut (proxy_fetch_cut_all), so that a client
 * waiting on a stalled origin holds no connection, and so the worker's loop, open. */
void proxy_worker_stopping(struct proxy_worker *pw);
/* The service's state from a connection. */
struct proxy_worker *proxy_worker_of(struct conn *c);

extern const struct proxy_session_ops proxy_session_glue;

#endif
