/*
 * http service config — the `[http]` section (service-wide limits, access log, HTTP/2) and
 * every `[http NAME]` site section (document root, host names, listeners, features), read key
 * by key as the configuration loader meets them. Documented in docs/config.md. Reads no file
 * itself; opening the document roots happens when the service starts (service.c).
 */
#ifndef PIGEON_HTTP_SERVICE_CONFIG_H
#define PIGEON_HTTP_SERVICE_CONFIG_H

#include "conf/config.h"
#include "http/site.h"

#include <stdbool.h>
#include <stdint.h>

struct http_config {
    struct http_site **sites;
    unsigned nsites;
    struct conf_service plain;  /* every site's `listen`, deduplicated, plus the limits */
    struct conf_service tls;    /* every site's `listen_tls` */
    struct conf_service metrics; /* [metrics] listen: the Prometheus endpoint */
    char *access_log;             /* file for the combined log format; NULL: none */
    unsigned max_request_line;
    unsigned max_header_size;
    uint64_t max_body_size;       /* for any request, streamed or not; sites limit uploads */
    uint64_t max_buffered_body;   /* a body read whole into memory before its handler runs */
    unsigned header_timeout;      /* seconds to send a request head (slowloris) */
    bool h2;                      /* offer HTTP/2 (ALPN h2 on TLS listeners) */
    bool h2c;                     /* HTTP/2 with prior knowledge on plain loopback connections */
    char *mime_types;             /* path of the mime.types table */
    unsigned max_sessions;        /* login sessions kept in memory */
    unsigned open_file_cache;     /* files kept open per worker (0: none) */
    unsigned open_file_cache_valid; /* seconds before a cached file is looked up by path again */
};

/* Whether section belongs to this service ("http", "http NAME", "metrics"). */
bool http_config_owns(const char *section);
/* One key (key NULL: the section header). 0, or < 0 with a static reason in *why. */
int http_config_key(struct http_config **hc, const char *section, const char *key,
                    const char *value, const char **why);
/* After the whole file: required keys and defaults. 0, or < 0 with "path: reason" in err. */
int http_config_check(struct http_config *hc, const char *path, struct str *err);
void http_config_free(struct http_config *hc);

#endif
