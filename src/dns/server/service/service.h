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
#include <stddef.h>
#include <stdint.h>

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

/*
 * Zone changes from inside the process (the mail records of mailauth/service/publish.c; any
 * service that keeps names in a zone), applied exactly as an UPDATE from the network is
 * (RFC 2136 prerequisites and updates, the serial bumped, the journal fsynced, the signed
 * version made, NOTIFY sent, the new view published), without the ACL and TSIG checks: the
 * process trusts itself.
 *
 * build(arg, z, out, cap) runs on the control thread with the zone's current version
 * (read-only, valid during the call) and writes the UPDATE message into out (its zone
 * section naming z); 0: nothing to change. done(arg, rcode, why) runs next on the control
 * thread (why: static, or NULL), also when the zone is not served or pigeond is stopping
 * (SERVFAIL): release arg there, post to your own loop for anything more.
 */
struct dns_zone;
typedef size_t (*dns_zone_edit_build)(void *arg, const struct dns_zone *z, uint8_t *out,
                                      size_t cap);
typedef void (*dns_zone_edit_done)(void *arg, unsigned rcode, const char *why);

/* The primary zone served here that holds name (the longest origin at or above it): its
 * origin in presentation form (no final dot) into apex_out, and whether it is signed
 * (dnssec = on). 0, or ERR_NOTFOUND (no [dns] service, or no primary zone holds name). Any
 * thread. */
int dns_service_zone_of(const struct daemon *d, const char *name, char *apex_out, size_t cap,
                        bool *signed_out);

/* Queues an edit of the primary zone whose origin is apex. 0, or ERR_NOTFOUND (done is then
 * never called). Any thread, once open() has run. */
int dns_service_zone_edit(const struct daemon *d, const char *apex, dns_zone_edit_build build,
                          dns_zone_edit_done done, void *arg);

#endif
