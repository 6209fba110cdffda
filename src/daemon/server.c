/*
 * server — listening sockets, worker threads and the shutdown sequence of pigeond.
 *
 * Sockets are bound once in the main thread (so a port already in use is an error at start,
 * and a stale daemon can never silently share a port as SO_REUSEPORT would allow); every
 * worker then accepts on every socket from its own event_base. The main thread only waits
 * for signals. SIGTERM/SIGINT: workers stop accepting, idle sessions get 421, sessions in a
 * transaction finish it; after shutdown_timeout the rest are closed.
 */
#include "daemon/server.h"
#include "host/confgen.h"
#include "host/control.h"
#include "host/reload.h"

#include "core/log.h"
#include "core/loop_post.h"
#include "core/sdnotify.h"
#include "core/pool.h"
#include "core/xmalloc.h"
#include "net/listener.h"
#include "queue/runner.h"
#include "store/committer.h"
#include "store/store.h"

#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int server_open_services(struct daemon *d)
{
    for (unsigned i = 0; i < d->nservices; i++) {
        const struct service_def *def = d->services[i];
        if (def->open && def->open(d, &d->svc_state[i]) < 0) {
            log_err("%s: cannot start", def->name);
            return -1;
        }
    }
    return 0;
}

void server_close_services(struct daemon *d)
{
    for (unsigned i = d->nservices; i-- > 0;) {
        if (d->services[i]->close)
            d->services[i]->close(d, d->svc_state[i]);
        d->svc_state[i] = NULL;
    }
}

struct main_ctx {
    struct daemon *d;
    struct event_base *base;
    struct loop_post *post;
    bool stopping;
    unsigned exited;
    unsigned unlistened;
    struct event *force;
    struct control *control; /* DATA/pigeond.ctl: `pigeon reload` */
};

/* Once no worker watches the listening sockets any more, they stop listening: a client
 * connecting during the shutdown is refused at once instead of waiting in the backlog for an
 * accept that never comes (Linux: shutdown() of a listening socket resets its backlog). */
static void on_worker_unlistened(void *vm)
{
    struct main_ctx *m = vm;
    if (++m->unlistened != m->d->nworkers)
        return;
    for (unsigned i = 0; i < m->d->nlisteners; i++)
        shutdown(m->d->listeners[i].fd, SHUT_RDWR);
}

/* Runs on the worker: stop accepting, tell every session the server is going away. */
static void worker_begin_shutdown(void *vw)
{
    struct worker *w = vw;
    w->host.stopping = true;
    listener_unwatch(&w->host);
    struct main_ctx *m = w->main_ctx;
    loop_post_send(m->post, on_worker_unlistened, m);
    conn_shutdown_all(&w->host);
    if (w->host.nconns == 0)
        event_base_loopexit(w->host.base, NULL);
}

static void worker_force_close(void *vw)
{
    struct worker *w = vw;
    conn_close_all(&w->host);
    if (w->host.nconns == 0)
        event_base_loopexit(w->host.base, NULL);
}

static void on_worker_exited(void *vm)
{
    struct main_ctx *m = vm;
    if (++m->exited == m->d->nworkers)
        event_base_loopexit(m->base, NULL);
}

static void *worker_main(void *vw)
{
    struct worker *w = vw;
    struct main_ctx *m = w->main_ctx;
    event_base_loop(w->host.base, EVLOOP_NO_EXIT_ON_EMPTY);
    listener_unwatch(&w->host);
    conn_close_all(&w->host);
    loop_post_send(m->post, on_worker_exited, m);
    return NULL;
}

static void on_force(evutil_socket_t fd, short what, void *vm)
{
    struct main_ctx *m = vm;
    log_warn("shutdown timeout: closing remaining sessions");
    for (unsigned i = 0; i < m->d->nworkers; i++)
        loop_post_send(m->d->workers[i].host.post, worker_force_close, &m->d->workers[i]);
}

static void delivery_reload(struct daemon *d);

static void on_signal(evutil_socket_t sig, short what, void *vm)
{
    struct main_ctx *m = vm;
    if (sig == SIGHUP) {
        host_reload(m->d, NULL);
        delivery_reload(m->d);
        return;
    }
    if (m->stopping)
        return;
    m->stopping = true;
    sdnotify_send("STOPPING=1");
    log_info("%s: shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    for (unsigned i = 0; i < m->d->nworkers; i++)
        loop_post_send(m->d->workers[i].host.post, worker_begin_shutdown, &m->d->workers[i]);
    struct timeval tv = {(time_t)m->d->cfg.shutdown_timeout, 0};
    m->force = evtimer_new(m->base, on_force, m);
    evtimer_add(m->force, &tv);
}

/* `pigeon reload` through the control socket. */
static void control_reload(void *vd, struct reload_report *r)
{
    host_reload(vd, r);
    delivery_reload(vd);
}

static int control_service(void *vd, const char *line, struct str *answer)
{
    return host_control_request(vd, line, answer);
}

static int workers_create(struct daemon *d, struct main_ctx *m)
{
    d->nworkers = d->cfg.workers;
    d->workers = xcalloc(d->nworkers, sizeof *d->workers);
    for (unsigned i = 0; i < d->nworkers; i++) {
        struct worker *w = &d->workers[i];
        const char *why = NULL;
        w->d = d;
        w->index = i;
        w->main_ctx = m;
        w->host.base = event_base_new();
        w->host.post = loop_post_new(w->host.base);
        w->host.tls = d->tls;
        w->host.connlimit = d->connlimit;
        w->host.counters = &d->counters;
        w->host.owner = w;
        if (store_open(d->cfg.data_dir, &w->store, &why) < 0) {
            log_err("worker %u: cannot open store: %s", i, why ? why : "unknown error");
            return -1;
        }
        listener_watch(&w->host, d->listeners, d->nlisteners);
        for (unsigned k = 0; k < d->nservices; k++)
            if (d->services[k]->attach)
                w->svc_state[k] = d->services[k]->attach(w, d->svc_state[k]);
    }
    return 0;
}

static void workers_free(struct daemon *d)
{
    for (unsigned i = 0; i < d->nworkers; i++) {
        struct worker *w = &d->workers[i];
        listener_unwatch(&w->host);
        /* First what other threads posted to this loop (zone swaps, change notices): their
         * callbacks still find the services' worker state. */
        loop_post_free(w->host.post);
        for (unsigned k = d->nservices; k-- > 0;)
            if (d->services[k]->detach && w->svc_state[k])
                d->services[k]->detach(w, w->svc_state[k]);
        if (w->store)
            store_close(w->store);
        if (w->host.base)
            event_base_free(w->host.base);
    }
    host_confgen_release_all(d); /* after the loops ran the swaps posted to them */
    free(d->workers);
    d->workers = NULL;
    d->nworkers = 0;
}

/* The runner stored a DSN for local users: their IMAP sessions re-sync (runner's loop =
 * worker 0's). */
static void notify_local(void *w, const int64_t *users, size_t n)
{
    host_mailbox_changed(w, users, n, 0, 0);
}

/* The runner's configuration from cfg's [delivery]; *pol_out (free it) holds the policies. */
static struct queue_runner_config delivery_config(struct daemon *d, const struct config *cfg,
                                                  struct queue_tls_policy **pol_out)
{
    const struct config_delivery *c = &cfg->delivery;
    struct queue_tls_policy *pol = xcalloc(c->n_tls_policies + 1, sizeof *pol);
    for (unsigned i = 0; i < c->n_tls_policies; i++)
        pol[i] = (struct queue_tls_policy){c->tls_policy_domains[i],
                                           (enum smtp_tls_policy)c->tls_policy_values[i]};
    *pol_out = pol;
    return (struct queue_runner_config){
        d->cfg.data_dir, d->cfg.hostname, c->max_connections, c->max_per_domain,
        c->retry_initial, c->retry_max, c->max_age, c->scan_interval, c->connect_timeout,
        c->command_timeout, (uint16_t)c->remote_port, c->source_address,
        (enum smtp_tls_policy)c->tls, pol, c->n_tls_policies, (size_t)c->max_return,
        notify_local, &d->workers[0],
    };
}

static void delivery_start(struct daemon *d, struct event_base *base)
{
    host_stubs_open(d);
    struct queue_tls_policy *pol;
    struct queue_runner_config rc = delivery_config(d, &d->cfg, &pol);
    d->runner = queue_runner_new(base, &rc, d->client_tls, d->stub, d->committer);
    d->tls_policies = pol;
}

/* On worker 0 (the runner's loop), after the reload's generation reached it: the runner
 * copies what it keeps. */
static void delivery_reconfigure(void *vw)
{
    struct worker *w = vw;
    if (!w->d->runner)
        return;
    struct queue_tls_policy *pol;
    struct queue_runner_config rc = delivery_config(w->d, host_config(w), &pol);
    queue_runner_set_config(w->d->runner, &rc);
    free(pol);
}

/* After a reload published its configuration (main thread): worker 0's queue runner takes
 * the new [delivery] (all but resolver), for the scans and connections that start later.
 * Posted after the generation, so worker 0 has it when this runs. */
static void delivery_reload(struct daemon *d)
{
    if (d->nworkers)
        loop_post_send(d->workers[0].host.post, delivery_reconfigure, &d->workers[0]);
}

static void delivery_stop(struct daemon *d)
{
    queue_runner_free(d->runner);
    d->runner = NULL;
    host_stubs_close(d);
    free(d->tls_policies);
    d->tls_policies = NULL;
}

int server_run(struct daemon *d)
{
    struct main_ctx m = {0};
    m.d = d;
    m.base = event_base_new();
    m.post = loop_post_new(m.base);
    int rc = workers_create(d, &m);
    struct event *sigs[3] = {NULL, NULL, NULL};
    if (rc == 0)
        delivery_start(d, d->workers[0].host.base);
    if (rc == 0) {
        int signums[3] = {SIGTERM, SIGINT, SIGHUP};
        for (int i = 0; i < 3; i++) {
            sigs[i] = evsignal_new(m.base, signums[i], on_signal, &m);
            evsignal_add(sigs[i], NULL);
        }
        /* Workers must not take the signals: block them before the threads start. */
        sigset_t set, old;
        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGHUP);
        pthread_sigmask(SIG_BLOCK, &set, &old);
        for (unsigned i = 0; i < d->nworkers; i++)
            pthread_create(&d->workers[i].thread, NULL, worker_main, &d->workers[i]);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        m.control = control_open(m.base, m.post, d->cfg.data_dir, control_reload,
                                 control_service, d);
        log_info("pigeond ready: %u workers, %u listeners", d->nworkers, d->nlisteners);
        sdnotify_send("READY=1");
        event_base_loop(m.base, EVLOOP_NO_EXIT_ON_EMPTY);
        for (unsigned i = 0; i < d->nworkers; i++)
            pthread_join(d->workers[i].thread, NULL);
    }
    /* Commits still in flight report to the workers' and the runner's loops: finish them
     * before those loops go away. */
    if (d->committer)
        committer_stop(d->committer);
    d->committer = NULL;
    /* Store requests in flight report to the workers' loops too; then the services' own
     * threads (IMAP's writer, which the pool's APPENDs hand rows to). */
    if (d->store_pool)
        pool_free(d->store_pool);
    d->store_pool = NULL;
    for (unsigned i = d->nservices; i-- > 0;)
        if (d->services[i]->stop)
            d->services[i]->stop(d, d->svc_state[i]);
    delivery_stop(d);
    for (int i = 0; i < 3; i++)
        if (sigs[i])
            event_free(sigs[i]);
    if (m.force)
        event_free(m.force);
    workers_free(d);
    loop_post_free(m.post); /* reload answers still queued are written (not sent) */
    control_free(m.control);
    event_base_free(m.base);
    return rc;
}
