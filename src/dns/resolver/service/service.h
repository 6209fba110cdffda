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

struct daemon;
struct worker;
struct dns_zoneset;
struct dns_resolver;

/* Main thread, before the workers: reads the root hints and zones, parses `allow`, binds the
 * UDP sockets (TCP listeners are bound by server.c). 0, or -1 after logging why. */
int resolver_service_open(struct daemon *d);
/* Per worker, before its thread starts / after it stopped. */
void resolver_service_attach(struct worker *w);
void resolver_service_detach(struct worker *w);
/* SIGHUP (main thread): reload the local zones and hand them to the workers. */
void resolver_service_reload(struct daemon *d);
void resolver_service_close(struct daemon *d);
/* The resolver of worker w (for the stub on that worker's loop), or NULL when not running. */
struct dns_resolver *resolver_service_resolver(struct worker *w);
extern const struct proto_ops resolver_tcp_proto;

#endif
