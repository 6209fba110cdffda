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

/* The primary zone whose origin is the longest at or above name, or -1. */
static long zone_holding(const struct dns_service *s, const uint8_t *name, bool exact)
{
    long best = -1;
    unsigned best_labels = 0;
    for (size_t i = 0; i < s->nzones; i++) {
        const struct dns_zconf *zc = &s->zc[i];
        if (zc->secondary || !(exact ? dns_name_eq(name, zc->origin)
                                     : dns_name_is_sub(name, zc->origin)))
            continue;
        unsigned labels = dns_name_labels(zc->origin);
        if (best < 0 || labels > best_labels)
            best = (long)i, best_labels = labels;
    }
    return best;
}

static long find(const struct daemon *d, const char *text, bool exact)
{
    const struct dns_service *s = host_state(d, &dns_service_def);
    uint8_t name[DNS_NAME_MAXLEN];
    size_t len;
    const char *why;
    if (!s || !s->ctl || dns_name_from_text(text, strlen(text), NULL, name, &len, &why) != 0)
        return -1;
    return zone_holding(s, name, exact);
}

int dns_service_zone_of(const struct daemon *d, const char *name, char *apex_out, size_t cap,
                        bool *signed_out)
{
    long zi = find(d, name, false);
    if (zi < 0)
        return ERR_NOTFOUND;
    const struct dns_service *s = host_state(d, &dns_service_def);
    char text[DNS_NAME_MAXLEN * 4 + 2];
    size_t n = dns_name_to_text(s->zc[zi].origin, text, sizeof text);
    if (n > 1 && n < sizeof text && text[n - 1] == '.')
        text[n - 1] = 0;
    snprintf(apex_out, cap, "%s", text);
    *signed_out = s->zc[zi].dnssec;
    return 0;
}

int dns_service_zone_edit(const struct daemon *d, const char *apex, dns_zone_edit_build build,
                          dns_zone_edit_done done, void *arg)
{
    long zi = find(d, apex, true);
    if (zi < 0)
        return ERR_NOTFOUND;
    const struct dns_service *s = host_state(d, &dns_service_def);
    dns_ctl_edit(s->ctl, (size_t)zi, build, done, arg);
    return 0;
}
