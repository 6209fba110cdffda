/*
 * edit — zone changes asked for by other parts of pigeond (service.h:
 * dns_service_zone_edit): the zone is found here, the change is made on the control thread
 * (ctl.c) as an UPDATE is.
 */
#include "core/err.h"
#include "dns/name.h"
#include "dns/server/service/service.h"
#include "dns/server/service/service_int.h"

#include <stdio.h>
#include <string.h>

/* The primary zone of cfg whose origin is the longest at or above name, or -1. */
static long zone_holding(const struct dns_zcfg *cfg, const uint8_t *name, bool exact)
{
    long best = -1;
    unsigned best_labels = 0;
    for (size_t i = 0; i < cfg->nzones; i++) {
        const struct dns_zconf *zc = &cfg->zc[i];
        if (zc->secondary || !(exact ? dns_name_eq(name, zc->origin)
                                     : dns_name_is_sub(name, zc->origin)))
            continue;
        unsigned labels = dns_name_labels(zc->origin);
        if (best < 0 || labels > best_labels)
            best = (long)i, best_labels = labels;
    }
    return best;
}

/* The zone holding text in the current configuration: its index, and *cfg_out a reference to
 * that configuration (a reload may replace it meanwhile). -1: none (nothing held). */
static long find(const struct daemon *d, const char *text, bool exact,
                 struct dns_zcfg **cfg_out)
{
    struct dns_service *s = host_state(d, &dns_service_def);
    uint8_t name[DNS_NAME_MAXLEN];
    size_t len;
    const char *why;
    if (!s || !s->ctl || dns_name_from_text(text, strlen(text), NULL, name, &len, &why) != 0)
        return -1;
    pthread_mutex_lock(&s->cfg_lock);
    struct dns_zcfg *cfg = dns_zcfg_ref(s->cfg);
    pthread_mutex_unlock(&s->cfg_lock);
    long zi = zone_holding(cfg, name, exact);
    if (zi < 0)
        dns_zcfg_unref(cfg);
    else
        *cfg_out = cfg;
    return zi;
}

int dns_service_zone_of(const struct daemon *d, const char *name, char *apex_out, size_t cap,
                        bool *signed_out)
{
    struct dns_zcfg *cfg;
    long zi = find(d, name, false, &cfg);
    if (zi < 0)
        return ERR_NOTFOUND;
    char text[DNS_NAME_MAXLEN * 4 + 2];
    size_t n = dns_name_to_text(cfg->zc[zi].origin, text, sizeof text);
    if (n > 1 && n < sizeof text && text[n - 1] == '.')
        text[n - 1] = 0;
    snprintf(apex_out, cap, "%s", text);
    *signed_out = cfg->zc[zi].dnssec;
    dns_zcfg_unref(cfg);
    return 0;
}

int dns_service_zone_edit(const struct daemon *d, const char *apex, dns_zone_edit_build build,
                          dns_zone_edit_done done, void *arg)
{
    struct dns_zcfg *cfg;
    long zi = find(d, apex, true, &cfg);
    if (zi < 0)
        return ERR_NOTFOUND;
    const struct dns_service *s = host_state(d, &dns_service_def);
    dns_ctl_edit(s->ctl, cfg, (size_t)zi, build, done, arg); /* takes cfg */
    return 0;
}
