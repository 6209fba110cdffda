/*
 * proxy service — the Web cache as a Pigeon service: the `[proxy]` section (a forward proxy
 * for HTTP clients on its listen addresses: absolute-form requests through the cache,
 * CONNECT to port 443 tunnelled), the shared object store (cache/store.h), the origin side
 * (name look-ups, connections with reuse, HTTPS with certificate verification), and the
 * rules that keep it from being an open proxy (client prefixes or Proxy-Authorization
 * against Pigeon users; no loopback, private or own-port origins unless allowed).
 */
#ifndef PIGEON_PROXY_SERVICE_SERVICE_H
#define PIGEON_PROXY_SERVICE_SERVICE_H

#include "host/host.h"

extern const struct service_def proxy_service;

#endif
