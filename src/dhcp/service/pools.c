/*
 * dhcp/service/pools — how full each subnet's pool is: two /metrics gauges per subnet
 * (pigeon_dhcp_pool_addresses, pigeon_dhcp_pool_used: bound or quarantined), and the alarm:
 * one warning when a pool's use reaches [dhcp] pool_alarm percent, one note when it is back
 * 5 points below (so a pool hovering at the mark does not fill the log). Checked every tick
 * on the DHCP thread. An exhausted pool also says so per refused client (io.c, within the
 * log budget).
 *
 * Re-entrant (dhcp_pools_apply at start and after each reload): a subnet keeps its gauges
 * and its alarm state by name; a subnet no longer served keeps its gauges, at 0. The gauges
 * are linked into the process-wide metrics registry on first use and stay there for the
 * process's life (the registry is never unlinked), so they are never freed; this module
 * keeps every pair it made, so a name gets one pair however often it comes and goes.
 */
#include "dhcp/service/service_int.h"

#include "core/log.h"
#include "core/metrics.h"
#include "core/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pool_gauges {
    struct pool_gauges *next;
    char *subnet;
    struct metric *total, *used; /* never freed: see above */
};

struct pool_watch {
    bool alarmed;
    struct pool_gauges *g;
};

struct dhcp_pools {
    struct pool_gauges *all; /* every pair ever made, by subnet name */
    struct pool_watch *w;    /* one per subnet of the configuration in force */
    unsigned n;
};

static struct metric *gauge(const char *base, const char *subnet, const char *help)
{
    struct metric *m = xcalloc(1, sizeof *m);
    size_t n = strlen(base) + strlen(subnet) + 16;
    char *name = xmalloc(n);
    snprintf(name, n, "%s{subnet=\"%s\"}", base, subnet);
    m->name = name;
    m->help = help;
    m->gauge = true;
    return m;
}

static struct pool_gauges *gauges_of(struct dhcp_pools *p, const char *subnet)
{
    for (struct pool_gauges *g = p->all; g; g = g->next)
        if (!strcmp(g->subnet, subnet))
            return g;
    struct pool_gauges *g = xcalloc(1, sizeof *g);
    g->subnet = xstrdup(subnet);
    g->total = gauge("pigeon_dhcp_pool_addresses", subnet,
                     "Addresses a DHCP subnet hands out (pool and reservations)");
    g->used = gauge("pigeon_dhcp_pool_used", subnet,
                    "Addresses of a DHCP subnet bound or quarantined (DECLINE, ping)");
    g->next = p->all;
    p->all = g;
    return g;
}

struct dhcp_pools *dhcp_pools_new(void)
{
    return xcalloc(1, sizeof(struct dhcp_pools));
}

void dhcp_pools_apply(struct dhcp_pools *p, const struct dhcp_config *c)
{
    struct pool_watch *w = xcalloc(c->nsubnets ? c->nsubnets : 1, sizeof *w);
    for (unsigned i = 0; i < c->nsubnets; i++) {
        w[i].g = gauges_of(p, c->subnets[i].name);
        for (unsigned k = 0; k < p->n; k++)
            if (p->w[k].g == w[i].g)
                w[i].alarmed = p->w[k].alarmed;
    }
    /* a subnet no longer served: its gauges say so (its metric lines cannot go) */
    for (struct pool_gauges *g = p->all; g; g = g->next) {
        bool kept = false;
        for (unsigned i = 0; i < c->nsubnets && !kept; i++)
            kept = w[i].g == g;
        if (!kept) {
            metric_set(g->total, 0);
            metric_set(g->used, 0);
        }
    }
    free(p->w);
    p->w = w;
    p->n = c->nsubnets;
}

void dhcp_pools_free(struct dhcp_pools *p)
{
    if (!p)
        return;
    while (p->all) {
        struct pool_gauges *g = p->all;
        p->all = g->next;
        free(g->subnet);
        free(g); /* the gauges stay: the registry holds them */
    }
    free(p->w);
    free(p);
}

void dhcp_pools_check(struct dhcp_svc *svc)
{
    const struct dhcp_config *c = &svc->cfg->engine;
    unsigned mark = svc->cfg->pool_alarm;
    struct dhcp_pools *p = svc->pools;
    for (unsigned i = 0; i < c->nsubnets && i < p->n; i++) {
        struct pool_watch *w = &p->w[i];
        struct dhcp_pool_stats st;
        dhcp_engine_stats(svc->engine, &c->subnets[i], &st);
        unsigned used = st.bound + st.declined;
        metric_set(w->g->total, st.total);
        metric_set(w->g->used, used);
        if (mark == 0 || st.total == 0)
            continue;
        unsigned pct = (unsigned)((100ull * used) / st.total);
        if (!w->alarmed && pct >= mark) {
            w->alarmed = true;
            log_warn("dhcp: pool alarm: subnet %s is %u%% used (%u of %u addresses bound, %u "
                     "quarantined; pool_alarm = %u%%)",
                     c->subnets[i].name, pct, st.bound, st.total, st.declined, mark);
        } else if (w->alarmed && pct + 5 < mark) {
            w->alarmed = false;
            log_info("dhcp: pool alarm over: subnet %s is %u%% used (%u of %u)",
                     c->subnets[i].name, pct, used, st.total);
        }
    }
}
