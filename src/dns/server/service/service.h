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

struct daemon;
struct worker;
struct dns_zoneset;

/* Loads the zones and binds the UDP sockets (TCP listeners are bound by server.c).
 * 0, or -1 after logging why (a bad zone file stops the start, with file:line). */
int dns_service_open(struct daemon *d);
/* Per worker, before its thread starts / after it stopped. */
void dns_service_attach(struct worker *w);
void dns_service_detach(struct worker *w);
/* SIGHUP (main thread): reload every zone file and hand the new set to the workers. */
void dns_service_reload(struct daemon *d);
/* After the workers stopped, before their loops are freed: stops the DNS control thread
 * (zone changes, transfers in, NOTIFY), whose replies go to the workers' loops. */
void dns_service_stop(struct daemon *d);
void dns_service_close(struct daemon *d);

/* The zone set this worker answers from right now (borrowed; valid until the worker's next
 * view swap), or NULL without a [dns] service. For the resolver: the server's own zones. */
struct dns_zoneset *dns_service_worker_zones(struct worker *w);

/* On worker w's thread, after each new zone set (UPDATE, transfer, reload) the worker swaps
 * in: fn(ctx, zs) (zs borrowed; take a reference to keep it). One listener per worker (the
 * resolver, which answers the server's own zones from the live set). */
typedef void (*dns_zones_changed_fn)(void *ctx, struct dns_zoneset *zs);
void dns_service_on_zones_changed(struct worker *w, dns_zones_changed_fn fn, void *ctx);

extern const struct proto_ops dns_tcp_proto;

#endif
