/*
 * service — the name server's life cycle inside pigeond: configuration, UDP sockets, the
 * control thread, each worker's state; the service clock passed to the engine. See
 * service.h; the parts are listed in service_int.h.
 */
#include "dns/server/service/service.h"

#include "conf/snapshot.h"
#include "core/reload_report.h"
#include "core/xmalloc.h"
#include "host/confgen.h"
#include "host/host.h"
#include "dns/server/rrl.h"
#include "dns/server/service/service_int.h"
#include "net/udp_batch.h"

#include <stdlib.h>
#include <string.h>
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

/* ---- life cycle (struct service_def, host/host.h) ---- */

static int dns_open(struct daemon *d, void **state_out)
{
    const struct config_dns *c = &d->cfg.dns;
    if (!c->svc.enabled)
        return 0;
    struct dns_service *s = xcalloc(1, sizeof *s);
    *state_out = s; /* close() frees it, also after a failed start */
    s->d = d;
    pthread_mutex_init(&s->rrl_lock, NULL);
    pthread_mutex_init(&s->cfg_lock, NULL);
    if (c->rrl_rate)
        s->rrl = dns_rrl_new(c->rrl_rate, c->rrl_slip, 0);
    if (!(s->cfg = dns_zcfg_new(c, d->cfg.data_dir, NULL)))
        return -1;
    bool ok;
    s->ctl = dns_ctl_new(s, &s->view0, &ok);
    if (!ok)
        return -1;
    if (host_bind_udp(&c->svc, "dns", &s->udp_fds, &s->nudp) < 0 ||
        host_listen_tcp(d, "dns", &dns_tcp_proto, c, &c->svc, false) < 0)
        return -1;
    return 0;
}

static void *dns_attach(struct worker *w, void *state)
{
    struct dns_service *s = state;
    if (!s)
        return NULL;
    struct dns_worker *dw = xcalloc(1, sizeof *dw);
    dw->w = w;
    dw->s = s;
    dw->view = dns_view_ref(s->view0);
    dw->cfg = dns_zcfg_ref(s->cfg); /* the control thread does not run yet */
    dns_arena_init(&dw->arena, dw->arena_mem, sizeof dw->arena_mem);
    dw->udp = udp_batch_new(w->host.base, s->udp_fds, s->nudp, dns_worker_datagram, dw);
    s->workers = xrealloc(s->workers, (s->nworkers + 1) * sizeof *s->workers);
    s->workers[s->nworkers++] = dw;
    /* The control thread publishes to every worker: start it once they all exist. */
    if (s->nworkers == w->d->nworkers)
        dns_ctl_start(s->ctl);
    return dw;
}

static void dns_detach(struct worker *w, void *wstate)
{
    struct dns_worker *dw = wstate;
    if (!dw)
        return;
    udp_batch_free(dw->udp);
    dns_view_unref(dw->view);
    dns_zcfg_unref(dw->cfg);
    dns_arena_clear(&dw->arena);
    struct dns_service *s = dw->s;
    for (unsigned i = 0; i < s->nworkers; i++)
        if (s->workers[i] == dw)
            s->workers[i] = NULL;
    free(dw);
}

/* A new response rate limit: a fresh table (or none), swapped under the workers' lock. */
static void rrl_reload(struct daemon *d, struct dns_service *s, const struct config_dns *next)
{
    const struct config_dns *now = &host_config_main(d)->dns;
    if (next->rrl_rate == now->rrl_rate && next->rrl_slip == now->rrl_slip)
        return;
    struct dns_rrl *fresh = next->rrl_rate ? dns_rrl_new(next->rrl_rate, next->rrl_slip, 0) : NULL;
    pthread_mutex_lock(&s->rrl_lock);
    struct dns_rrl *old = s->rrl;
    s->rrl = fresh;
    pthread_mutex_unlock(&s->rrl_lock);
    dns_rrl_free(old);
}

/* Whether a key of [zone NAME] or [tsig NAME], or [dns] udp_max, changed
 * (conf_snapshot_diff). */
static void zone_key_changed(void *vchanged, const char *section, const char *key)
{
    if (!strncmp(section, "zone ", 5) || !strncmp(section, "tsig ", 5) ||
        (!strcmp(section, "dns") && !strcmp(key, "udp_max")))
        *(bool *)vchanged = true;
}

/* The rate limit replaced; when [dns], [zone] or [tsig] sections changed, the new zone
 * configuration (zones added, removed, their ACLs, NOTIFY targets, keys, DNSSEC settings)
 * handed to the control thread; then every zone file read again. A configuration that does
 * not build (a bad secret, address or key name) keeps the running one, with the reason. */
static void dns_reload(struct daemon *d, void *state, const struct config *next)
{
    struct dns_service *s = state;
    if (!s)
        return;
    rrl_reload(d, s, &next->dns);
    bool changed = false;
    conf_snapshot_diff(host_config_main(d)->written, next->written, zone_key_changed, &changed);
    struct dns_zcfg *cfg = changed ? dns_zcfg_new(&next->dns, d->cfg.data_dir, d->reloading)
                                   : NULL;
    if (changed && !cfg)
        reload_report_add(d->reloading, true, "dns: the zones and keys stay as they were");
    dns_ctl_reload(s->ctl, cfg, d->reloading);
}

/* The control thread's replies (UPDATE answers, zone swaps) go to the workers' loops. */
static void dns_stop(struct daemon *d, void *state)
{
    struct dns_service *s = state;
    if (s && s->ctl)
        dns_ctl_stop(s->ctl);
}

static void dns_close(struct daemon *d, void *state)
{
    struct dns_service *s = state;
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
    dns_zcfg_unref(s->cfg);
    dns_rrl_free(s->rrl);
    pthread_mutex_destroy(&s->rrl_lock);
    pthread_mutex_destroy(&s->cfg_lock);
    free(s);
}

/* The [dns], [zone NAME] and [tsig NAME] sections stay in struct config (conf/config.c):
 * the resolver and `pigeon` read the zones too. */
const struct service_def dns_service_def = {
    .name = "dns",
    .open = dns_open,
    .attach = dns_attach,
    .detach = dns_detach,
    .reload = dns_reload,
    .stop = dns_stop,
    .close = dns_close,
};

struct dns_worker *dns_worker_of(const struct worker *w)
{
    return host_worker_state(w, &dns_service_def);
}

void dns_service_on_zones_changed(struct worker *w, dns_zones_changed_fn fn, void *ctx)
{
    struct dns_worker *dw = dns_worker_of(w);
    if (dw) {
        dw->zones_changed = fn;
        dw->zones_changed_ctx = ctx;
    }
}

struct dns_zoneset *dns_service_worker_zones(struct worker *w)
{
    struct dns_worker *dw = dns_worker_of(w);
    return dw && dw->view ? dw->view->zs : NULL;
}

bool dns_service_running(const struct daemon *d)
{
    return host_state(d, &dns_service_def) != NULL;
}
