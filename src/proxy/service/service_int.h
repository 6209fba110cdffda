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
struct event;
struct upstream;

/* A fetch that other clients wait for (request collapsing), shared by every worker. */
struct inflight_waiter {
    struct loop_post *post;
    void (*wake)(void *arg, bool stored);
    void *arg;
    struct inflight_waiter *next;
};

struct inflight {
    char *key;
    struct inflight_waiter *waiters;
    struct inflight *next;
};

struct proxy_state {
    const struct proxy_config *cfg;
    struct cache_store *store;
    struct net_acl clients, origins;
    SSL_CTX *client_tls; /* towards HTTPS origins: verified against the system CAs */
    struct cache_rules rules;
    struct http_limits lim;
    char via[80];                      /* "1.1 NAME" */
    char name[64];                     /* NAME: the Cache-Status cache name */
    const struct reverse_config *rcfg; /* NULL without a [reverse_proxy] listen */
    struct proxy_url reverse;          /* its origin */
    struct net_acl reverse_clients;
    uint16_t own_ports[CONF_MAX_LISTEN];
    unsigned n_own_ports;
    pthread_mutex_t inflight_lock;
    struct inflight *inflight;
};

/* Per worker. */
struct proxy_worker {
    struct worker *w;
    struct proxy_state *st;
    struct evdns_base *dns;
    struct upstream *idle; /* origin connections kept for reuse */
    unsigned nidle;
};

/* One client connection. */
struct pconn {
    struct conn *c;
    struct proxy_worker *pw;
    struct proxy_session *s;
    uint64_t id;
    char peer[64];
    bool allowed_by_addr;
    bool loopback;
    bool reverse;        /* a [reverse_proxy] listener: origin-form requests for one origin */
    bool in_feed;        /* inside proxy_session_feed: conn.c pumps on by itself */
    bool auth_ok;        /* logged in with Proxy-Authorization on this connection */
    struct fetch *fetch; /* the request in progress */
    struct tunnel *tunnel;
};

/* ---- fetch.c: one request through the cache ---- */
void proxy_fetch_start(struct pconn *pc, struct http_request *req);
/* The client connection can take more output (back-pressure released). */
void proxy_fetch_writable(struct pconn *pc);
/* The client connection goes away: detach from its fetch. */
void proxy_fetch_detach(struct pconn *pc);

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

/* ---- service.c ---- */
/* The service's state from a connection. */
struct proxy_worker *proxy_worker_of(struct conn *c);
/* Collapsing: true when key had no fetch in flight (the caller fetches and later calls
 * proxy_inflight_done); false when w was queued behind the one in flight (w NULL: nothing
 * queued, the caller just does not fetch). */
bool proxy_inflight_join(struct proxy_state *st, const char *key, struct inflight_waiter *w);
void proxy_inflight_done(struct proxy_state *st, const char *key, bool stored);

extern const struct proxy_session_ops proxy_session_glue;

#endif
