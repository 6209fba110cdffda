/*
 * http service — the Web server as a Pigeon service: the sites of `[http NAME]`, their plain
 * and TLS listeners (ALPN h2 / http/1.1), HTTP/2 with prior knowledge on loopback, the
 * `[metrics]` listener, the access log, and what handlers borrow from the daemon (password
 * checks on the auth pool, a thread for durable file writes, the login session table).
 * conn.c joins one connection to the HTTP/1.1 or HTTP/2 engine.
 */
#ifndef PIGEON_HTTP_SERVICE_SERVICE_H
#define PIGEON_HTTP_SERVICE_SERVICE_H

#include "host/host.h"
#include "http/handler.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct daemon;
struct http_config;
struct http_request;
struct http_siteset;

struct http_service {
    struct daemon *d;
    const struct http_config *cfg;
    struct http_mime *mime;
    struct http_host host;        /* lent to handlers */
    struct pool *pool;            /* durable PUT/DELETE work */
    int log_fd;                   /* access log, -1: none */
    struct http_limits lim;
    char metrics_tag;             /* &metrics_tag is the metrics listener's svc_cfg */
    /* the sites new requests are answered from (sites.h); a reload replaces them */
    pthread_mutex_t sites_lock;
    struct http_siteset *sites;
    atomic_uint sites_version;    /* bumped by each replacement */
};

/* Per worker (host_worker_state): what its connections share. */
struct http_worker {
    struct http_date_cache date;  /* the Date field, formatted once per second */
    struct http_fcache *files;    /* the file handler's open-file cache (NULL: none) */
};

/* The service (services/services.c): its open() reads the sites (document roots, mime
 * table), the access log and the work pool, sets ALPN on the daemon's TLS context and binds
 * the http, https and metrics listeners; a no-op without [http] sections. Its state is the
 * struct http_service (host_state). */
extern const struct service_def http_service_def;
/* The engine behind the service's listeners. */
extern const struct proto_ops http_proto;

/* After each request: the access log line and the counters. */
void http_service_log(struct http_service *svc, const char *peer, const struct http_request *req,
                      int status, uint64_t bytes, const char *user);

#endif
