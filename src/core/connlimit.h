/*
 * connlimit — counts open connections per (service, client address) so that one address
 * cannot take every slot. Thread-safe; shared by all workers.
 */
#ifndef PIGEON_CORE_CONNLIMIT_H
#define PIGEON_CORE_CONNLIMIT_H

#include <stdbool.h>
#include <stddef.h>

struct connlimit;

struct connlimit *connlimit_new(void);
void connlimit_free(struct connlimit *cl);
/* Counts one more connection for key unless it already has `max`; false when refused. */
bool connlimit_acquire(struct connlimit *cl, const char *key, unsigned max);
void connlimit_release(struct connlimit *cl, const char *key);

/* The part of a client address that limits count: an IPv4 address as is, an IPv6 address
 * by its /64 (one site's hosts, as one customer gets: "2001:db8:1:2::/64"). addr is numeric
 * text; out gets at least INET6_ADDRSTRLEN + 3 octets. */
void connlimit_addr_key(const char *addr, char *out, size_t cap);

#endif
