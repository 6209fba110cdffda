/*
 * dns server service — the authoritative name server inside pigeond: zones from [zone NAME]
 * sections, UDP (net/udp_batch) and TCP (RFC 7766) on every [dns] listen address, every
 * request answered by the pure engine in src/dns/server (plain queries, AXFR/IXFR, NOTIFY,
 * UPDATE, TSIG). SIGHUP reloads the zone files; a zone that fails to load keeps its previous
 * version serving, and the new set is swapped into each worker between two requests.
 * Zone changes (UPDATE with its journal, transfers in, reloads, DNSSEC signing) happen on one
 * control thread; see service_int.h for the parts.
 */
#ifndef PIGEON_DNS_SERVER_SERVICE_SERVICE_H
#define PIGEON_DNS_SERVER_SERVICE_SERVICE_H

#include "host/host.h"

#include <stdbool.h>

struct dns_zoneset;

/* Registered in services/services.c. open() loads the zones (a bad zone file stops the start,
 * with file:line), binds UDP and TCP on every [dns] listen address and creates the control
 * thread; attach() gives each worker its view and UDP watcher (the control thread starts
 * once every worker has one); reload() (SIGHUP) reloads every zone file and hands the new set
 * to the workers; stop() stops the control thread, whose replies go to the workers' loops. */
extern const struct service_def dns_service_def;

/* Whether the name server runs in this daemon (its open() made its state). */
bool dns_service_running(const struct daemon *d);

/* The zone set this worker answers from right now (borrowed; valid until the worker's next
 * view swap), or NULL without a [dns] service. For the resolver: the server's own zones. */
struct dns_zoneset *dns_service_worker_zones(struct worker *w);

/* On worker w's thread, after each new zone set (UPDATE, transfer, reload) the worker swaps
 * in: fn(ctx, zs) (zs borrowed; take a reference to keep it). One listener per worker (the
 * resolver, which answers the server's own zones from the live set). */
typedef void (*dns_zones_changed_fn)(void *ctx, struct dns_zoneset *zs);
void dns_service_on_zones_changed(struct worker *w, dns_zones_changed_fn fn, void *ctx);

#endif
