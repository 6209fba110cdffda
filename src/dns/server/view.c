/* view — the immutable view the engine answers from, and zone lookup. See server.h. */
#include "dns/server/server_int.h"

#include "dns/xfr/rrvec.h"
#include "dns/zone.h"
#include "dns/zoneset.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>

struct dns_view *dns_view_ref(struct dns_view *v)
{
    atomic_fetch_add(&v->refs, 1);
    return v;
}

void dns_view_unref(struct dns_view *v)
{
    if (!v || atomic_fetch_sub(&v->refs, 1) != 1)
        return;
    for (size_t i = 0; i < v->n; i++) {
        dns_zone_unref(v->z[i].zone);
        dns_xfr_hist_unref(v->z[i].hist);
    }
    free(v->z);
    dns_zoneset_unref(v->zs);
    free(v);
}

long dns_server_zone_find(const struct dns_server *srv, const uint8_t *name)
{
    for (size_t i = 0; i < srv->nzones; i++)
        if (dns_name_eq(srv->zc[i].origin, name))
            return (long)i;
    return -1;
}

void dns_server_addr_text(const struct sockaddr *sa, char *out, size_t cap)
{
    const void *a = sa->sa_family == AF_INET6
                        ? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
                        : (const void *)&((const struct sockaddr_in *)sa)->sin_addr;
    if (!inet_ntop(sa->sa_family, a, out, (socklen_t)cap))
        snprintf(out, cap, "?");
}

const uint8_t *dns_server_verified_key(const struct dns_tsig_result *res)
{
    return res && res->key && res->error == DNS_TSIG_OK ? res->key->name : NULL;
}
