/*
 * nta — the resolver's negative trust anchors (RFC 7646): zones whose validation is turned
 * off, so that data at or below them is treated as insecure (no AD, never SERVFAIL for a
 * broken chain). The ones from the config file are permanent; the ones an operator adds at
 * run time (`pigeon dnssec nta add`) carry an expiry time and are dropped once it passes
 * (RFC 7646 §2: an NTA must not stay in place for ever by mistake).
 *
 * Shared by the resolvers of every worker and the control socket: each call takes one mutex,
 * except dns_ntas_due, one atomic load for the answer path. Times are the caller's clock in
 * milliseconds (the resolver's monotonic clock; tests pass a fake one). No I/O.
 */
#ifndef PIGEON_DNS_RESOLVER_NTA_H
#define PIGEON_DNS_RESOLVER_NTA_H

#include "dns/name.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_NTAS_MAX 1000 /* a limit on what an operator can add */
#define DNS_NTA_PERMANENT UINT64_MAX

struct dns_nta {
    uint8_t name[DNS_NAME_MAXLEN]; /* lower case */
    uint64_t expires_ms;           /* DNS_NTA_PERMANENT: from the config, never expires */
};

struct dns_ntas;

struct dns_ntas *dns_ntas_new(void);
void dns_ntas_free(struct dns_ntas *t);
/* Adds name (wire, any case) until expires_ms, or moves an existing one's expiry there.
 * 0, or ERR_LIMIT when DNS_NTAS_MAX are in place. */
int dns_ntas_add(struct dns_ntas *t, const uint8_t *name, uint64_t expires_ms);
/* Removes exactly name; false when it was not there. */
bool dns_ntas_remove(struct dns_ntas *t, const uint8_t *name);
/* True when name is at or below a live NTA. */
bool dns_ntas_covers(struct dns_ntas *t, const uint8_t *name, uint64_t now_ms);
/* The live NTAs (copied into out[0..cap), sorted by name as given); returns how many. */
size_t dns_ntas_list(struct dns_ntas *t, uint64_t now_ms, struct dns_nta *out, size_t cap);
/* True when some NTA has expired by now_ms (one atomic load: cheap on every query). */
bool dns_ntas_due(const struct dns_ntas *t, uint64_t now_ms);
/* Removes up to cap NTAs expired by now_ms, copying their names into out[0..cap); returns
 * how many (call again until 0). */
size_t dns_ntas_expire(struct dns_ntas *t, uint64_t now_ms, uint8_t (*out)[DNS_NAME_MAXLEN],
                       size_t cap);

#endif
