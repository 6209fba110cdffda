/*
 * host — what pigeond hosts its services with: the process-wide context (`struct daemon`:
 * config, TLS, committer, pools, throttle, connection limits, listeners, workers) and each
 * worker's loop (`struct worker`: its conn_host, its store read handle, its DNS stub, each
 * service's state on it), plus
 * the service registry type (`struct service_def`). Services include this header; the
 * daemon (src/daemon/) fills it and runs the services' hooks. See docs/architecture.md,
 * "Adding a service".
 *
 * Every field is set by the daemon before the workers start and is read-only afterwards,
 * except where a comment says otherwise.
 */
#ifndef PIGEON_HOST_HOST_H
#define PIGEON_HOST_HOST_H

#include "conf/config.h"
#include "net/conn.h"

#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct committer;
struct dns_stub;
struct queue_runner;
struct dns_resolver;
struct pool;
struct throttle;
struct connlimit;
struct store;
struct loop_post;
struct daemon;
struct worker;
struct reload_report;
struct host_confgen;

/*
 * A service: its config sections and its lifecycle hooks, all optional but the name. The
 * daemon runs the hooks of every service in its registry (src/services/services.c), in that
 * order, on the main thread unless said otherwise. `state` is what open() returned in
 * *state_out; `wstate` what attach() returned for that worker.
 */
struct service_def {
    const char *name;
    const struct conf_section *sections; /* ends with a NULL name; NULL: none */
    /* Before the workers exist: read the sections (config_section), bind listeners
     * (host_listen_tcp / host_bind_udp), start threads. A service whose sections have no
     * listen line does nothing and returns 0. 0, or -1 after logging why. */
    int (*open)(struct daemon *d, void **state_out);
    /* Per worker, before its thread starts; returns the worker's state for this service. */
    void *(*attach)(struct worker *w, void *state);
    /* Per worker, after its thread stopped and before its loop is freed. */
    void (*detach)(struct worker *w, void *wstate);
    /* SIGHUP and `pigeon reload`, once the file read as `next` passed the checks a start
     * makes: apply what the section's reload_keys promise (conf/config.h). Re-list the
     * service's sections with host_relisten (host/confgen.h); reach the workers through
     * reload_worker or posts of its own. next becomes the workers' configuration
     * (host_config) and is freed when the last of them moves on to a newer one: only
     * listeners (host_relisten) and code on a worker within one event may point into it. Failures (and
     * notes) go to d->reloading as well as the log; a reload finished on another thread
     * holds a reference (core/reload_report.h). */
    void (*reload)(struct daemon *d, void *state, const struct config *next);
    /* After a reload, on each worker's thread, once host_config(w) is the new configuration
     * (the worker's sessions start with it from now on). */
    void (*reload_worker)(struct worker *w, void *wstate);
    /* A request on the control socket that is not "reload" (host/control_proto.h), on the
     * main thread: line is the request ("nta list"). Appends "note TEXT"/"error TEXT"
     * lines to answer and returns how many things failed, or -1 when the request (its first
     * word) is not this service's. May block briefly (a small state file written). */
    int (*control)(struct daemon *d, void *state, const char *line, struct str *answer);
    /* After the workers stopped, before their loops are freed: stop threads that report
     * to them. */
    void (*stop)(struct daemon *d, void *state);
    void (*close)(struct daemon *d, void *state); /* last: free the state */
};

#define HOST_MAX_SERVICES 32

/* A change report (host_mailbox_changed) as every worker receives it: the users whose
 * mailboxes changed (n 0: whoever has mailbox_id), the mailbox (0: any of theirs), and the
 * session that made it (0: none). */
struct host_change {
    int64_t mailbox_id;
    uint64_t origin;
    size_t n;
    int64_t users[];
};

/* "Mailbox changed" listener (host_on_mailbox_changed): called on every worker's own thread
 * (w), unless that worker is stopping, with the report; the report goes after the call. */
typedef void (*host_change_fn)(void *ctx, struct worker *w, const struct host_change *ch);

struct worker {
    struct daemon *d;
    unsigned index;
    pthread_t thread;
    struct conn_host host;        /* its event loop: base, post, connections, stopping */
    struct store *store;          /* this worker's read handle for lookups */
    void *main_ctx;               /* server.c's shutdown bookkeeping */
    struct dns_stub *stub;        /* the mail side's DNS on this worker's loop (SPF, MX) */
    void *svc_state[HOST_MAX_SERVICES]; /* per service of the registry: attach()'s result */
    struct host_confgen *gen;     /* the last reload's configuration here (host/confgen.h) */
};

struct daemon {
    struct config cfg;
    SSL_CTX *tls;
    struct tls_reload *tls_reload; /* the certificate SIGHUP reloads (core/tls_reload.h) */
    struct committer *committer;
    SSL_CTX *client_tls;          /* outbound STARTTLS (opportunistic: not verified) */
    struct dns_stub *stub;        /* the mail side's DNS, on worker 0 */
    struct queue_runner *runner;  /* outbound delivery, on worker 0 */
    /* the in-process resolver of a worker, when a service offers it
     * (host_set_internal_resolver) */
    struct dns_resolver *(*internal_resolver)(struct worker *w);
    void *tls_policies;           /* the runner's per-domain policy table */
    struct pool *auth_pool;
    struct pool *store_pool;      /* mail-access store work (host_store_pool) */
    struct throttle *throttle;
    struct connlimit *connlimit;
    char *dummy_hash;             /* verified against when a user does not exist */
    struct listener *listeners;
    unsigned nlisteners;
    struct worker *workers;
    unsigned nworkers;
    struct conn_counters counters;
    /* the service registry and each service's open() state */
    const struct service_def *const *services;
    unsigned nservices;
    void *svc_state[HOST_MAX_SERVICES];
    /* "mailbox changed" listeners (host_on_mailbox_changed), set before the workers start */
    struct {
        host_change_fn fn;
        void *ctx;
    } change_hooks[4];
    unsigned n_change_hooks;
    /* During a reload (main thread, inside the reload hooks): where its parts report; NULL
     * for a plain SIGHUP (every reload_report function accepts NULL). */
    struct reload_report *reloading;
    /* Reloaded configurations (host/confgen.h; main thread): the newest, the one a reload
     * is building. NULL: none (d->cfg). */
    struct host_confgen *gen, *gen_next;
};

/* The worker a connection lives on. */
static inline struct worker *conn_worker(const struct conn *c)
{
    return (struct worker *)conn_get_host(c)->owner;
}

/* ---- for services (host.c) ---- */

/* Binds a TCP listener on every listen address of svc for proto (main thread, in open()).
 * svc_cfg is what proto's create() gets as listener->svc_cfg. 0, or -1 after logging why. */
int host_listen_tcp(struct daemon *d, const char *name, const struct proto_ops *proto,
                    const void *svc_cfg, const struct conf_service *svc, bool implicit_tls);
/* The same for a service whose sessions must log in (POP3, IMAP, submission): until
 * conn_logged_in they have [server] login_timeout and count in max_prelogin_connections. */
int host_listen_tcp_login(struct daemon *d, const char *name, const struct proto_ops *proto,
                          const void *svc_cfg, const struct conf_service *svc, bool implicit_tls);
/* Binds a UDP socket on each listen address of svc, appending to fds_out; 0 or -1 (logged). */
int host_bind_udp(const struct conf_service *svc, const char *name, int **fds_out,
                  unsigned *n_out);
/* The pool for slow store work of mail-access services (made on first call; main thread,
 * before the workers start). Each thread owns a store handle (its thread context). */
struct pool *host_store_pool(struct daemon *d);
/* Thread context hooks of such pools (core/pool.h): each thread opens its own store handle
 * in d->cfg.data_dir (NULL, logged, when it cannot). */
void *host_store_thread_init(void *d);
void host_store_thread_fini(void *st);
/* A service's state: what its open() / its attach() on worker w returned. */
void *host_state(const struct daemon *d, const struct service_def *def);
void *host_worker_state(const struct worker *w, const struct service_def *def);

/* Offers the in-process resolver to the mail side's DNS stubs (host_stubs_open): fn(w) is
 * worker w's resolver. Main thread, in open(). */
void host_set_internal_resolver(struct daemon *d, struct dns_resolver *(*fn)(struct worker *w));
/* The mail side's DNS (SPF, MX, DKIM): a stub on every worker's loop (w->stub, d->stub =
 * worker 0's), asking the internal resolver when one was offered and [delivery] resolver =
 * internal, else [delivery] resolver or the first /etc/resolv.conf server. After every
 * attach(), before the workers start. host_stubs_close frees them. */
void host_stubs_open(struct daemon *d);
void host_stubs_close(struct daemon *d);

/* Hands a service request of the control socket to the services in registry order: what
 * the first one that takes it returns (failures), or -1 when none does. Main thread. */
int host_control_request(struct daemon *d, const char *line, struct str *answer);

/* Registers a listener for mailbox changes (main thread, in open()). */
void host_on_mailbox_changed(struct daemon *d, host_change_fn fn, void *ctx);
/*
 * Reports a change to the mailboxes of users[0..n) (n 0: whoever has mailbox_id), or to
 * mailbox_id (0: any of those users' mailboxes), made by the session with id `origin` (0:
 * none). On the worker's own thread; posted to every worker, where each listener runs (IMAP's
 * sessions, JMAP's push) and re-reads from the store: a change report is a hint, never data.
 */
void host_mailbox_changed(struct worker *from, const int64_t *users, size_t n, int64_t mailbox_id,
                          uint64_t origin);

#endif
