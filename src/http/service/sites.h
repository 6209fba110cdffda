/*
 * http service sites — the current set of `[http NAME]` sites, which a reload replaces
 * (sites.c). A set owns its document roots (opened when it is made, closed with it) and
 * keeps the configuration generation its sites live in; it is reference counted, so a
 * request answered from an older set finishes with it. No I/O but opening and closing the
 * roots.
 */
#ifndef PIGEON_HTTP_SERVICE_SITES_H
#define PIGEON_HTTP_SERVICE_SITES_H

#include "core/str.h"

#include <stdbool.h>

struct http_config;
struct http_mime;
struct http_service;
struct http_site;
struct http_siteset;
struct host_confgen;
struct reload_report;

/* A set of hc's sites with their roots opened (sites share mime), taking gen (the
 * generation hc lives in; NULL: the start configuration, which lives until exit). NULL when
 * a root cannot be opened (logged, reported into r; nothing stays open). */
struct http_siteset *http_siteset_open(const struct http_config *hc, const struct http_mime *mime,
                                       struct host_confgen *gen, struct reload_report *r);
/* Drops a reference; the last closes the roots and drops the generation. NULL: nothing. */
void http_siteset_put(struct http_siteset *set);
/* Makes set (taken) the one new requests use; drops the service's reference to the old. */
void http_siteset_install(struct http_service *svc, struct http_siteset *set);
/* The site for a Host value (http_site_select over the set). */
const struct http_site *http_siteset_select(const struct http_siteset *set, struct slice host);

/* The sets one connection holds (zeroed at start). */
struct http_sites_held {
    struct http_siteset **held;
    unsigned n;
    unsigned version; /* svc->sites_version of held[n - 1] */
};
/* The current set for a request starting on the connection (held until released). With
 * drop_older (HTTP/1.1: no earlier request is still running) the older sets are dropped. On
 * the connection's worker. */
const struct http_siteset *http_sites_use(struct http_sites_held *h, struct http_service *svc,
                                          bool drop_older);
/* At the connection's end. */
void http_sites_release(struct http_sites_held *h);

#endif
