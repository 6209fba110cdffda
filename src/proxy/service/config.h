/*
 * proxy service config — the `[proxy]` section as the configuration loader fills it (keys
 * declared in service.c, documented in docs/config.md). Shared with `pigeon cache`, which
 * finds the proxy's listen address here.
 */
#ifndef PIGEON_PROXY_SERVICE_CONFIG_H
#define PIGEON_PROXY_SERVICE_CONFIG_H

#include "conf/keys.h"

#include <stdbool.h>
#include <stdint.h>

/* [proxy] */
struct proxy_config {
    struct conf_service svc;
    char *cache_dir; /* NULL: DATA/proxy-cache */
    uint64_t cache_memory, cache_disk, max_object_size, memory_object_size;
    char *allow;                            /* client prefixes (default loopback) */
    bool auth;                              /* other clients may log in with Proxy-Authorization */
    char *allow_origins;                    /* origin prefixes allowed though local or private */
    char *origin_ca_file;                   /* extra CAs for HTTPS origins (beside the system's) */
    char *via;                              /* pseudonym in Via and Cache-Status */
    unsigned connect_timeout, read_timeout; /* seconds, towards origins */
    unsigned retries; /* for idempotent requests that failed before any answer */
    unsigned heuristic_percent;
    unsigned heuristic_max;
    uint64_t max_body_size; /* request bodies (buffered) */
    int policy;             /* enum cache_policy: lru, lfu */
    int resolver;           /* enum proxy_resolver: system, pigeon */
    bool resolver_fallback; /* pigeon: the system's resolver when Pigeon's fails */
};

/* Who resolves origin names: the system's resolver (libevent's evdns: /etc/resolv.conf and
 * /etc/hosts) or Pigeon's own (the workers' DNS stub, as the mail side: [delivery] resolver,
 * the in-process resolver with `resolver = internal`). */
enum proxy_resolver { PROXY_RESOLVER_SYSTEM, PROXY_RESOLVER_PIGEON };

/* [reverse_proxy]: a site served from one origin through the same cache. */
struct reverse_config {
    struct conf_service svc;
    char *origin; /* http://host:port or https://... */
    char *allow;  /* client prefixes; none: everyone */
};

#endif
