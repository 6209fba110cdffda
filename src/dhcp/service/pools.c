/*
 * dhcp/service/pools — how full each subnet's pool is: two /metrics gauges per subnet
 * (pigeon_dhcp_pool_addresses, pigeon_dhcp_pool_used: bound or quarantined), and the alarm:
 * one warning when a pool's use reaches [dhcp] pool_alarm percent, one note when it is back
 * 5 points below (so a pool hovering at the mark does not fill the log). Checked every tick
 * on the DHCP thread. An exhausted pool also says so per refused client (io.c, within the
 * log budget).
 *
 * The gauges are linked into the process-wide metrics registry on first use and stay there
 * for the process's life (the registry is never unlinked), so they are never freed.
 */
#include "dhcp/service/service_int.h"

#include "core/log.h"
#include "core/metrics.h"
#include "core/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dhcp_pool_watch {
    bool alarmed;
    struct metric *total, *used; /* never freed: see above */
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

struct dhcp_pool_watch *dhcp_pools_new(const struct dhcp_config *c)
{
    struct dhcp_pool_watch *w = xcalloc(c->nsubnets ? c->nsubnets : 1, sizeof *w);
    for (unsigned i = 0; i < c->nsubnets; i++) {
        w[i].total = gauge("pigeon_dhcp_pool_addresses", c->subnets[i].name,
                           "Addresses a DHCP subnet hands out (pool and reservations)");
        w[i].used = gauge("pigeon_dhcp_pool_used", c->subnets[i].name,
                          "Addresses of a DHCP subnet bound or quarantined (DECLINE, ping)");
    }
    return w;
}

void dhcp_pools_free(struct dhcp_pool_watch *w)
{
    free(w); /* the gauges stay: the registry holds them */
}

void dhcp_pools_check(struct dhcp_svc *svc)
{
    const struct dhcp_config *c = &svc->cfg->engine;
    unsigned mark = svc->cfg->pool_alarm;
    for (unsigned i = 0; i < c->nsubnets; i++) {
        struct dhcp_pool_watch *w = &svc->pools[i];
        struct dhcp_pool_stats st;
        dhcp_engine_stats(svc->engine, &c->subnets[i], &st);
        unsigned used = st.bound + st.declined;
        metric_set(w->total, st.total);
        metric_set(w->used, used);
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
