/*
 * service — the name server's life cycle inside pigeond: configuration, UDP sockets, the
 * control thread, each worker's state; the service clock passed to the engine. See
 * service.h; the parts are listed in service_int.h.
 */
#include "dns/server/service/service.h"

#include "core/xmalloc.h"
#include "host/host.h"
#include "dns/server/rrl.h"
#include "dns/server/service/service_int.h"
#include "net/udp_batch.h"

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* ---- time ---- */

uint64_t dns_now_sec(void)
{
    return (uint64_t)time(NULL);
}

uint64_t dns_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- life cycle ---- */

int dns_service_open(struct daemon *d)
{
    const struct config_dns *c = &d->cfg.dns;
    if (!c->svc.enabled)
        return 0;
    struct dns_service *s = xcalloc(1, sizeof *s);
    d->dns = s;
    s->d = d;
    pthread_mutex_init(&s->rrl_lock, NULL);
    if (c->rrl_rate)
        s->rrl = dns_rrl_new(c->rrl_rate, c->rrl_slip, 0);
    if (dns_service_config(s, c) != 0)
        return -1;
    s->srv = (struct dns_server){s->zc, s->nzones, s->keys, s->nkeys, (uint16_t)c->udp_max};
    bool ok;
    s->ctl = dns_ctl_new(s, &s->view0, &ok);
    if (!ok)
        return -1;
    if (host_bind_udp(&c->svc, "dns", &s->udp_fds, &s->nudp) < 0)
        return -1;
    return 0;
}

void dns_service_attach(struct worker *w)
{
    struct dns_service *s = w->d->dns;
    if (!s)
        return;
    struct dns_worker *dw = xcalloc(1, sizeof *dw);
    dw->w = w;
    dw->s = s;
    dw->view = dns_view_ref(s->view0);
    dns_arena_init(&dw->arena, dw->arena_mem, sizeof dw->arena_mem);
    dw->udp = udp_batch_new(w->host.base, s->udp_fds, s->nudp, dns_worker_datagram, dw);
    s->workers = xrealloc(s->workers, (s->nworkers + 1) * sizeof *s->workers);
    s->workers[s->nworkers++] = dw;
    w->dns = dw;
    /* The control thread publishes to every worker: start it once they all exist. */
    if (s->nworkers == w->d->nworkers)
        dns_ctl_start(s->ctl);
}

void dns_service_detach(struct worker *w)
{
    struct dns_worker *dw = w->dns;
    if (!dw)
        return;
    udp_batch_free(dw->udp);
    dns_view_unref(dw->view);
    dns_arena_clear(&dw->arena);
    w->dns = NULL;
    struct dns_service *s = w->d->dns;
    for (unsigned i = 0; i < s->nworkers; i++)
        if (s->workers[i] == dw)
            s->workers[i] = NULL;
    free(dw);
}

void dns_service_reload(struct daemon *d)
{
    if (d->dns)
        dns_ctl_reload(d->dns->ctl, d->reloading);
}

void dns_service_stop(struct daemon *d)
{
    if (d->dns && d->dns->ctl)
        dns_ctl_stop(d->dns->ctl);
}

void dns_service_close(struct daemon *d)
{
    struct dns_service *s = d->dns;
    if (!s)
        return;
    if (s->ctl) {
        dns_ctl_stop(s->ctl);
        dns_ctl_free(s->ctl);
    }
    for (unsigned i = 0; i < s->nudp; i++)
        close(s->udp_fds[i]);
    free(s->udp_fds);
    free(s->workers);
    dns_view_unref(s->view0);
    dns_service_config_clear(s);
    dns_rrl_free(s->rrl);
    pthread_mutex_destroy(&s->rrl_lock);
    free(s);
    d->dns = NULL;
}

void dns_service_on_zones_changed(struct worker *w, dns_zones_changed_fn fn, void *ctx)
{
    if (w->dns) {
        w->dns->zones_changed = fn;
        w->dns->zones_changed_ctx = ctx;
    }
}

struct dns_zoneset *dns_service_worker_zones(struct worker *w)
{
    return w->dns && w->dns->view ? w->dns->view->zs : NULL;
}
