/*
 * daemon — pigeond's top-level context: the one place that holds process-wide state
 * (config, TLS context, committer, pools, workers). Everything else receives what it needs
 * from here explicitly.
 */
#ifndef PIGEON_DAEMON_DAEMON_H
#define PIGEON_DAEMON_DAEMON_H

#include "daemon/config.h"

#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct event_base;
struct evconnlistener;
struct committer;
struct dns_stub;
struct queue_runner;
struct dns_service;
struct dns_worker;
struct resolver_service;
struct resolver_worker;
struct http_service;
struct pool;
struct throttle;
struct connlimit;
struct store;
struct loop_post;
struct conn;
struct sockaddr;

struct proto_ops;
struct imap_conn;
struct imap_writer;

/* A bound listening socket, made once in the main thread and shared by every worker. */
struct listener {
    const char *name;                 /* config section: "smtp", "submission", "pop3s" ... */
    const struct proto_ops *proto;    /* the engine behind it */
    const void *svc_cfg;              /* struct config_smtp / config_access of the section */
    const struct config_service *limits;
    const struct config_listen *addr;
    bool implicit_tls;
    int fd;
};

struct worker {
    struct daemon *d;
    unsigned index;
    pthread_t thread;
    struct event_base *base;
    struct store *store;          /* this worker's read handle for lookups */
    struct loop_post *post;
    struct evconnlistener **evls; /* one per daemon listener */
    void *accept_ctxs;
    void *main_ctx;               /* server.c's shutdown bookkeeping */
    struct dns_worker *dns;       /* this worker's DNS state (zone set reference, buffers) */
    struct resolver_worker *resolver; /* this worker's recursive resolver */
    struct dns_stub *stub;        /* the mail side's DNS on this worker's loop (SPF, MX) */
    struct conn *conns;           /* every open client connection on this worker */
    unsigned nconns;
    struct imap_conn *imap_sessions; /* this worker's IMAP sessions (imap_glue.c: notices) */
    bool stopping;
};

struct daemon {
    struct config cfg;
    SSL_CTX *tls;
    struct committer *committer;
    SSL_CTX *client_tls;          /* outbound STARTTLS (opportunistic: not verified) */
    struct dns_stub *stub;        /* the mail side's DNS, on worker 0 */
    struct queue_runner *runner;  /* outbound delivery, on worker 0 */
    struct dns_service *dns;      /* the authoritative name server, when [dns] listens */
    struct resolver_service *resolver; /* the recursive service ([resolver]) */
    struct http_service *http;    /* the Web server ([http NAME] sites), when configured */
    void *tls_policies;           /* the runner's per-domain policy table */
    struct pool *auth_pool;
    struct pool *store_pool;      /* POP3/IMAP store work (NULL without them: auth_pool) */
    struct imap_writer *imap_writer; /* IMAP's store writes, group-committed */
    struct throttle *throttle;
    struct connlimit *connlimit;
    char *dummy_hash;             /* verified against when a user does not exist */
    struct listener *listeners;
    unsigned nlisteners;
    struct worker *workers;
    unsigned nworkers;
    atomic_uint_fast64_t next_session_id;
    atomic_uint open_connections;
};

/* server.c */
int server_bind_all(struct daemon *d);
int server_run(struct daemon *d);
/* Binds a UDP socket on each listen address of svc, appending to fds_out; 0 or -1 (logged). */
int server_bind_udp(const struct config_service *svc, const char *name, int **fds_out,
                    unsigned *n_out);   /* starts workers, waits for SIGTERM/SIGINT, shuts down */

/* Protocol engines behind listeners (smtp_glue.c, ...). */
extern const struct proto_ops smtp_proto;
extern const struct proto_ops pop3_proto;
extern const struct proto_ops imap_proto;

#endif
