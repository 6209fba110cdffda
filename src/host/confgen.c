/* confgen — see confgen.h. */
#include "host/confgen.h"

#include "core/loop_post.h"
#include "core/xmalloc.h"
#include "net/listener.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct host_confgen {
    struct config cfg;
    struct listener *listeners; /* d->listeners as this generation accepts with them */
    unsigned nlisteners;
    atomic_uint refs;
};

static struct host_confgen *gen_ref(struct host_confgen *g)
{
    if (g)
        atomic_fetch_add(&g->refs, 1);
    return g;
}

static void gen_unref(struct host_confgen *g)
{
    if (!g || atomic_fetch_sub(&g->refs, 1) != 1)
        return;
    config_free(&g->cfg);
    free(g->listeners);
    free(g);
}

const struct config *host_config(const struct worker *w)
{
    return w->gen ? &w->gen->cfg : &w->d->cfg;
}

const struct config *host_config_main(const struct daemon *d)
{
    return d->gen ? &d->gen->cfg : &d->cfg;
}

struct host_confgen *host_confgen_hold(struct daemon *d)
{
    return gen_ref(d->gen_next ? d->gen_next : d->gen);
}

struct host_confgen *host_confgen_hold_worker(const struct worker *w)
{
    return gen_ref(w->gen);
}

void host_confgen_drop(struct host_confgen *g)
{
    gen_unref(g);
}

void host_relisten(struct daemon *d, const char *name, const void *svc_cfg,
                   const struct conf_service *svc)
{
    struct host_confgen *g = d->gen_next;
    if (!g)
        return;
    /* Every socket of the name, also one whose address the file no longer lists: it accepts
     * until a restart, and must not point into a generation that goes away. */
    for (unsigned i = 0; i < g->nlisteners; i++) {
        struct listener *l = &g->listeners[i];
        if (strcmp(l->name, name) != 0)
            continue;
        l->svc_cfg = svc_cfg;
        l->limits.max_per_ip = svc->max_connections_per_ip;
        l->limits.idle_timeout = svc->idle_timeout;
        l->limits.session_timeout = svc->session_timeout;
    }
}

void host_relisten_sections(struct daemon *d, const struct config *next,
                            const char *const *names)
{
    for (size_t k = 0; names[k]; k++) {
        for (unsigned i = 0; i < next->nsec; i++) {
            const struct conf_section *def = next->sec_defs[i];
            if (strcmp(def->name, names[k]) != 0 || def->service_offset == CONF_NOT_SERVICE)
                continue;
            const char *sec = next->sec_data[i];
            host_relisten(d, names[k], sec,
                          (const struct conf_service *)(sec + def->service_offset));
        }
    }
}

const struct config *host_confgen_begin(struct daemon *d, struct config *cfg)
{
    struct host_confgen *g = xcalloc(1, sizeof *g);
    g->cfg = *cfg;
    memset(cfg, 0, sizeof *cfg);
    const struct listener *from = d->gen ? d->gen->listeners : d->listeners;
    g->nlisteners = d->nlisteners;
    g->listeners = xcalloc(d->nlisteners ? d->nlisteners : 1, sizeof *g->listeners);
    if (d->nlisteners)
        memcpy(g->listeners, from, d->nlisteners * sizeof *g->listeners);
    atomic_init(&g->refs, 1);
    d->gen_next = g;
    return &g->cfg;
}

struct swap {
    struct worker *w;
    struct host_confgen *g; /* a reference for the worker */
};

/* On the worker, between two events: its sessions' next start sees the new generation. */
static void swap_on_worker(void *vs)
{
    struct swap *s = vs;
    struct worker *w = s->w;
    struct host_confgen *old = w->gen;
    w->gen = s->g;
    free(s);
    if (w->host.accepting) /* not once it stopped accepting for a shutdown */
        listener_watch(&w->host, w->gen->listeners, w->gen->nlisteners);
    for (unsigned k = 0; k < w->d->nservices; k++)
        if (w->d->services[k]->reload_worker && w->svc_state[k])
            w->d->services[k]->reload_worker(w, w->svc_state[k]);
    gen_unref(old);
}

void host_confgen_publish(struct daemon *d)
{
    struct host_confgen *g = d->gen_next;
    d->gen_next = NULL;
    if (!g)
        return;
    for (unsigned i = 0; i < d->nworkers; i++) {
        struct swap *s = xmalloc(sizeof *s);
        *s = (struct swap){&d->workers[i], gen_ref(g)};
        loop_post_send(d->workers[i].host.post, swap_on_worker, s);
    }
    gen_unref(d->gen);
    d->gen = g;
}

void host_confgen_release_all(struct daemon *d)
{
    for (unsigned i = 0; i < d->nworkers; i++) {
        gen_unref(d->workers[i].gen);
        d->workers[i].gen = NULL;
    }
    gen_unref(d->gen_next);
    d->gen_next = NULL;
    gen_unref(d->gen);
    d->gen = NULL;
}
