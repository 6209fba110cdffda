/*
 * http service sites — the set of `[http NAME]` sites requests are answered from, swapped by
 * a reload: a set holds its sites' open document roots and a reference to the configuration
 * generation their settings live in. Each connection reads the current set when a request
 * starts and holds it until that request can no longer need it (the next HTTP/1.1 request,
 * or the connection's end for HTTP/2, whose streams overlap); the last holder frees it.
 */
#include "http/service/sites.h"

#include "http/service/config.h"
#include "http/service/service.h"
#include "http/site.h"

#include "core/log.h"
#include "core/reload_report.h"
#include "core/xmalloc.h"
#include "host/confgen.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct http_siteset {
    atomic_uint refs;
    struct host_confgen *gen; /* where the sites live; NULL: the start configuration */
    struct http_site *const *sites;
    unsigned nsites;
};

static void roots_close(struct http_site *const *sites, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (sites[i]->root_fd >= 0) {
            close(sites[i]->root_fd);
            sites[i]->root_fd = -1;
        }
}

struct http_siteset *http_siteset_open(const struct http_config *hc, const struct http_mime *mime,
                                       struct host_confgen *gen, struct reload_report *r)
{
    for (unsigned i = 0; i < hc->nsites; i++)
        hc->sites[i]->root_fd = -1;
    for (unsigned i = 0; i < hc->nsites; i++) {
        struct http_site *s = hc->sites[i];
        s->mime = mime;
        if (!s->root) /* a site with no files of its own */
            continue;
        s->root_fd = open(s->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (s->root_fd < 0) {
            log_err("http: [http %s] root %s: %s", s->name, s->root, strerror(errno));
            reload_report_add(r, true, "http: [http %s] root %s: %s; the previous sites stay",
                              s->name, s->root, strerror(errno));
            roots_close(hc->sites, i);
            return NULL;
        }
    }
    struct http_siteset *set = xcalloc(1, sizeof *set);
    atomic_init(&set->refs, 1);
    set->gen = gen;
    set->sites = hc->sites;
    set->nsites = hc->nsites;
    return set;
}

void http_siteset_put(struct http_siteset *set)
{
    if (!set || atomic_fetch_sub(&set->refs, 1) != 1)
        return;
    roots_close(set->sites, set->nsites);
    host_confgen_drop(set->gen);
    free(set);
}

void http_siteset_install(struct http_service *svc, struct http_siteset *set)
{
    pthread_mutex_lock(&svc->sites_lock);
    struct http_siteset *old = svc->sites;
    svc->sites = set;
    atomic_fetch_add(&svc->sites_version, 1);
    pthread_mutex_unlock(&svc->sites_lock);
    http_siteset_put(old);
}

const struct http_site *http_siteset_select(const struct http_siteset *set, struct slice host)
{
    return http_site_select(set->sites, set->nsites, host);
}

const struct http_siteset *http_sites_use(struct http_sites_held *h, struct http_service *svc,
                                          bool drop_older)
{
    unsigned version = atomic_load(&svc->sites_version);
    if (!h->n || version != h->version) {
        pthread_mutex_lock(&svc->sites_lock);
        struct http_siteset *set = svc->sites;
        atomic_fetch_add(&set->refs, 1);
        h->version = atomic_load(&svc->sites_version);
        pthread_mutex_unlock(&svc->sites_lock);
        h->held = xrealloc(h->held, (h->n + 1) * sizeof *h->held);
        h->held[h->n++] = set;
    }
    if (drop_older && h->n > 1) { /* no request of the older sets is running */
        for (unsigned i = 0; i + 1 < h->n; i++)
            http_siteset_put(h->held[i]);
        h->held[0] = h->held[h->n - 1];
        h->n = 1;
    }
    return h->held[h->n - 1];
}

void http_sites_release(struct http_sites_held *h)
{
    for (unsigned i = 0; i < h->n; i++)
        http_siteset_put(h->held[i]);
    free(h->held);
    *h = (struct http_sites_held){0};
}
