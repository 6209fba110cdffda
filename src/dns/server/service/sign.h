/*
 * sign — signs a primary zone for the name server's control thread (sign.c).
 * Blocking (key files, signing); call on the control thread only.
 */
#ifndef PIGEON_DNS_SERVER_SERVICE_SIGN_H
#define PIGEON_DNS_SERVER_SERVICE_SIGN_H

#include "dns/server/server.h"
#include "dns/zone.h"

#include <stdint.h>
#include <time.h>

/*
 * Signs z with the zone's keys (made on first use) at time now, keeping prev's signatures
 * (the version served so far; NULL: none) for RRsets that did not change while they have
 * more than half their validity left, so that the difference prev -> result holds only
 * what changed (IXFR). *last_serial (0 at start:
 * read from the serial file) is the serial of the previous signed version and is updated;
 * *resign_at gets when to sign again. Returns the signed zone (one reference), or NULL after
 * logging why (the caller keeps serving what it had).
 */
struct dns_zone *dns_sign(const struct dns_zconf *zc, const struct dns_zone *z,
                          const struct dns_zone *prev, time_t now, uint32_t *last_serial,
                          time_t *resign_at);

/*
 * The signed version served when pigeond stops, kept in DATA/dnssec/<zone>.signed, so that
 * the first signing after the start keeps its signatures and secondaries get that step by
 * IXFR too. dns_sign_load_saved returns it (one reference) when its serial is the last
 * signed one (not after a crash that lost a later version), else NULL.
 */
void dns_sign_save(const struct dns_zconf *zc, const struct dns_zone *served);
struct dns_zone *dns_sign_load_saved(const struct dns_zconf *zc);

#endif
