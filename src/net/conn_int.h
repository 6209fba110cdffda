/*
 * conn_int — what conn.c and conn_park.c share: the connection itself and the calls the
 * parking code makes into conn.c. Nothing outside src/net/ includes this.
 */
#ifndef PIGEON_NET_CONN_INT_H
#define PIGEON_NET_CONN_INT_H

#include "net/conn.h"

#include <event2/event.h>
#include <event2/event_struct.h>
#include <netinet/in.h>
#include <time.h>


struct conn {
    struct conn_host *h;
    struct conn *prev, *next;
    struct bufferevent *bev;
    const struct proto_ops *ops;
    void *eng;
    struct event *lifetime;   /* session_timeout */
    time_t deadline;          /* ... its end, CLOCK_MONOTONIC seconds */
    struct event *login;      /* login_timeout, until conn_logged_in */
    struct event *drain;      /* closing over TLS: polls the socket buffer until it is sent */
    struct event *linger;     /* closing: hard deadline for the last replies to leave */
    struct event *wire_ev;    /* direct TLS: the socket is full, waiting to write the rest */
    struct tls_sock *ts;      /* implicit TLS run by conn.c itself (proto_ops.direct_tls) */
    char peer[INET6_ADDRSTRLEN];
    const char *limit_name;   /* the listener's name while its per-address place is held */
    bool ip_held;             /* the place in the count over all services is held */
    bool prelogin;            /* counted in counters->prelogin */
    uint64_t id;
    bool want_tls;            /* the engine answered STARTTLS */
    bool want_compress;       /* the engine answered COMPRESS (RFC 4978) */
    bool implicit_tls;        /* TLS from the first byte: ts, or a filter over c->bev (POP3S) */
    bool tls_up;              /* implicit TLS: the handshake is done */
    bool flushing;            /* closing: waiting for output to drain */
    bool direct;              /* plain socket written from conn_after (conn_set_direct_write) */
    bool in_call;             /* an engine call is under way: conn_after follows it */
    bool own_read;            /* direct plain socket: read by rd_ev, not by the bufferevent */
    bool rd_on;               /* ... and rd_ev is added */
    unsigned idle_timeout;    /* seconds (the listener's) */
    size_t max_write;         /* conn_set_max_write's, ditto (0: libevent's default) */
    const struct conn_park_ops *park_ops; /* conn_set_parking's, or NULL */
    struct conn *idle_prev, *idle_next;   /* in h->idle: parks at a sweep if still idle */
    uint32_t idle_ms;         /* when last active (CLOCK_MONOTONIC_COARSE ms, low 32 bits) */
    bool idle_listed;
    struct event rd_ev;       /* own_read: the socket's read watcher (event_assign'd here) */
    bool dead;                /* the peer is gone but an async call is outstanding */
    bool tls_refusal;         /* refused at the limits, its refusal waiting for the handshake */
    bool woken;               /* made again after parking (conn_park.c) */
};


/* ---- conn.c, for conn_park.c ---- */

/* A connection on socket fd (not counted: conn_accept counts a new one, a parked one woken is
 * counted already). Linked into h->conns. c->bev is NULL when it could not be made (then fd
 * is closed). */
struct conn *conn_make(struct conn_host *h, const struct proto_ops *ops, bool implicit_tls,
                       unsigned idle_timeout, int fd, uint64_t id, const struct sockaddr *sa);
/* Takes c out of h->conns (it parks: still counted in h->nconns). */
void conn_unlink(struct conn *c);
void conn_own_read_start(struct conn *c); /* direct mode, conn.c reading (idempotent) */
void conn_lifetime_start(struct conn *c); /* the session_timeout timer, for what is left */
void conn_after(struct conn *c);          /* after a call into the engine */
void conn_sock_read(evutil_socket_t fd, short what, void *vc); /* rd_ev's callback */
time_t conn_mono_now(void);               /* CLOCK_MONOTONIC_COARSE seconds */

/* ---- conn_park.c, for conn.c ---- */

/* The connection is idle now: it parks (or is trimmed) at a sweep if it is still idle then. */
void conn_park_later(struct conn *c);
/* Off the list of connections that may park (it is freed). */
void conn_idle_unlink(struct conn *c);
/* Every parked connection of h is made whole again (into h->conns): shutdown, close all. */
void conn_park_wake_all(struct conn_host *h);

#endif
