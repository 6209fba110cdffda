/*
 * zoneset — the set of zones a server is authoritative for, as one immutable,
 * reference-counted object, and the lookup of the closest enclosing zone of a name.
 *
 * Life cycle: build a set with dns_zoneset_new + dns_zoneset_add (single-threaded), then
 * publish it. A published set is never modified; to change anything (reload on SIGHUP, a
 * zone updated by UPDATE or a transfer) build a new set -- dns_zoneset_clone shares the
 * unchanged zones by reference -- and swap it in. The intended swap, race-free without
 * locks on the query path: the control thread builds the new set, then posts one reference
 * to each worker thread (core/loop_post); each worker replaces its own pointer and unrefs
 * the old set between two queries. A set (and its zones) is freed when the last worker lets
 * go. References are atomic; lookups perform no I/O and no allocation.
 */
#ifndef PIGEON_DNS_ZONESET_H
#define PIGEON_DNS_ZONESET_H

#include <stddef.h>
#include <stdint.h>

struct dns_zone;
struct dns_zoneset;

/* An empty set with one reference. */
struct dns_zoneset *dns_zoneset_new(void);
/* A new set (one reference) holding references to all zones of zs. */
struct dns_zoneset *dns_zoneset_clone(const struct dns_zoneset *zs);
/*
 * Adds zone z (the set takes its own reference). A zone with the same origin is replaced
 * (its reference dropped). Only on a set not yet published. Returns 0.
 */
int dns_zoneset_add(struct dns_zoneset *zs, struct dns_zone *z);
/* Removes the zone with this origin. 0, or ERR_NOTFOUND. Only on an unpublished set. */
int dns_zoneset_remove(struct dns_zoneset *zs, const uint8_t *origin);

struct dns_zoneset *dns_zoneset_ref(struct dns_zoneset *zs);
/* Drops a reference; the last one drops the set's zone references and frees it. NULL ok. */
void dns_zoneset_unref(struct dns_zoneset *zs);

/* The zone whose origin is the longest suffix of name (any case), or NULL. Borrowed: valid
 * while the caller holds its reference to the set. */
const struct dns_zone *dns_zoneset_find(const struct dns_zoneset *zs, const uint8_t *name);
/* The zone with exactly this origin, or NULL. */
struct dns_zone *dns_zoneset_get(const struct dns_zoneset *zs, const uint8_t *origin);
size_t dns_zoneset_count(const struct dns_zoneset *zs);
/* The i-th zone (in the order added), or NULL. */
struct dns_zone *dns_zoneset_at(const struct dns_zoneset *zs, size_t i);

#endif
