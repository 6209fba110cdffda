/*
 * resolver service — the recursive service inside pigeond ([resolver] section): UDP
 * (net/udp_batch) and TCP (RFC 7766) on every listen address,
 * answered by the in-process iterative resolver (src/dns/resolver). Clients outside `allow`
 * (default: loopback) get REFUSED: never an open resolver. Every worker runs its own
 * resolver over one shared cache. Questions inside the server's own [zone]s are answered from
 * those zones directly: the name server's live zone set when [dns] runs (it tells us of each
 * new one), else a copy loaded here and reloaded on SIGHUP.
 *
 * The same resolver backs the mail side's stub when [delivery] resolver = internal (then the
 * service starts even without listen addresses).
 */
#ifndef PIGEON_DNS_RESOLVER_SERVICE_SERVICE_H
#define PIGEON_DNS_RESOLVER_SERVICE_SERVICE_H

#include "host/host.h"

/* Registered in services/services.c, after the name server (whose per-worker zone set it
 * shares). open() reads the root hints and zones, parses `allow`, binds UDP and TCP, and
 * with [delivery] resolver = internal offers each worker's resolver to the mail side's stubs
 * (host_set_internal_resolver). */
extern const struct service_def resolver_service_def;

#endif
