/* host — see host.h: listeners, the store pool, service state and change reports. */
#include "host/host.h"

#include "core/listen.h"
#include "core/log.h"
#include "core/loop_post.h"
#include "core/pool.h"
#include "core/xmalloc.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

static int listen_tcp(struct daemon *d, const char *name, const struct proto_ops *proto,
                      const void *svc_cfg, const struct conf_service *svc, bool implicit_tls,
                      bool login)
{
    for (unsigned i = 0; i < svc->n_listen; i++) {
        struct str err = STR_INIT;
        char what[100];
        snprintf(what, sizeof what, "listen %s", svc->listen[i].text);
        int fd = listen_bind(svc->listen[i].host, svc->listen[i].port, SOCK_STREAM, what, &err);
        if (fd < 0) {
            log_err("%s", str_cstr(&err));
            str_clear(&err);
            return -1;
        }
        int one = 1; /* inherited by the accepted sockets (Linux): no call per connection */
        if (proto->nodelay)
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        d->listeners = xrealloc(d->listeners, (d->nlisteners + 1) * sizeof *d->listeners);
        struct conn_limits lim = {svc->max_connections_per_ip, svc->idle_timeout,
                                  svc->session_timeout, login};
        d->listeners[d->nlisteners++] =
            (struct listener){name, proto, svc_cfg, lim, svc->listen[i].text, implicit_tls, fd};
        log_info("listening on %s (%s)", svc->listen[i].text, name);
    }
    return 0;
}

int host_listen_tcp(struct daemon *d, const char *name, const struct proto_ops *proto,
                    const void *svc_cfg, const struct conf_service *svc, bool implicit_tls)
{
    return listen_tcp(d, name, proto, svc_cfg, svc, implicit_tls, false);
}

int host_listen_tcp_login(struct daemon *d, const char *name, const struct proto_ops *proto,
                          const void *svc_cfg, const struct conf_service *svc, bool implicit_tls)
{
    return listen_tcp(d, name, proto, svc_cfg, svc, implicit_tls, true);
}

int host_bind_udp(const struct conf_service *svc, const char *name, int **fds_out,
                  unsigned *n_out)
{
    for (unsigned i = 0; i < svc->n_listen; i++) {
        struct str err = STR_INIT;
        char what[100];
        snprintf(what, sizeof what, "%s: listen %s (udp)", name, svc->listen[i].text);
        int fd = listen_bind(svc->listen[i].host, svc->listen[i].port, SOCK_DGRAM, what, &err);
        if (fd < 0) {
            log_err("%s", str_cstr(&err));
            str_clear(&err);
            return -1;
        }
        *fds_out = xrealloc(*fds_out, (*n_out + 1) * sizeof **fds_out);
        (*fds_out)[(*n_out)++] = fd;
        log_info("listening on %s (%s udp)", svc->listen[i].text, name);
    }
    return 0;
}

void *host_store_thread_init(void *vd)
{
    struct daemon *d = vd;
    struct store *st = NULL;
    const char *why = NULL;
    if (store_open(d->cfg.data_dir, &st, &why) < 0)
        log_err("pool thread: cannot open store: %s", why ? why : "unknown");
    return st;
}

void host_store_thread_fini(void *st)
{
    if (st)
        store_close(st);
}

struct pool *host_store_pool(struct daemon *d)
{
    /* Mail-access store work gets its own threads: a login's password hash (tens of ms) must
     * not hold up other sessions' FETCH, SELECT or POP3 maildrop listings. */
    if (!d->store_pool)
        d->store_pool = pool_new(2, host_store_thread_init, host_store_thread_fini, d);
    return d->store_pool;
}

static int service_index(const struct daemon *d, const struct service_def *def)
{
    for (unsigned i = 0; i < d->nservices; i++)
        if (d->services[i] == def)
            return (int)i;
    return -1;
}

void *host_state(const struct daemon *d, const struct service_def *def)
{
    int i = service_index(d, def);
    return i < 0 ? NULL : d->svc_state[i];
}

void *host_worker_state(const struct worker *w, const struct service_def *def)
{
    int i = service_index(w->d, def);
    return i < 0 ? NULL : w->svc_state[i];
}

void host_on_mailbox_changed(struct daemon *d, host_change_fn fn, void *ctx)
{
    if (d->n_change_hooks == sizeof d->change_hooks / sizeof d->change_hooks[0]) {
        log_err("too many mailbox-change listeners");
        return;
    }
    d->change_hooks[d->n_change_hooks].fn = fn;
    d->change_hooks[d->n_change_hooks++].ctx = ctx;
}

struct change_post {
    struct worker *w;
    struct host_change ch; /* last: its users follow */
};

/* On worker w's loop: every listener hears the report. */
static void change_run(void *vp)
{
    struct change_post *p = vp;
    struct daemon *d = p->w->d;
    for (unsigned i = 0; i < d->n_change_hooks && !p->w->host.stopping; i++)
        d->change_hooks[i].fn(d->change_hooks[i].ctx, p->w, &p->ch);
    free(p);
}

void host_mailbox_changed(struct worker *from, const int64_t *users, size_t n, int64_t mailbox_id,
                          uint64_t origin)
{
    struct daemon *d = from->d;
    if (from->host.stopping || (n == 0 && mailbox_id == 0) || d->n_change_hooks == 0)
        return;
    for (unsigned i = 0; i < d->nworkers; i++) {
        struct change_post *p = xmalloc(sizeof *p + n * sizeof p->ch.users[0]);
        p->w = &d->workers[i];
        p->ch.mailbox_id = mailbox_id;
        p->ch.origin = origin;
        p->ch.n = n;
        if (n)
            memcpy(p->ch.users, users, n * sizeof *users);
        loop_post_send(p->w->host.post, change_run, p);
    }
}

int host_control_request(struct daemon *d, const char *line, struct str *answer)
{
    for (unsigned i = 0; i < d->nservices; i++) {
        const struct service_def *def = d->services[i];
        int rc = def->control ? def->control(d, d->svc_state[i], line, answer) : -1;
        if (rc >= 0)
            return rc;
    }
    return -1;
}
