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
 * Signs z with the zone's keys (made on first use) at time now. *last_serial (0 at start:
 * read from the serial file) is the serial of the previous signed version and is updated;
 * *resign_at gets when to sign again. Returns the signed zone (one reference), or NULL after
 * logging why (the caller keeps serving what it had).
 */
struct dns_zone *dns_sign(const struct dns_zconf *zc, const struct dns_zone *z, time_t now,
                          uint32_t *last_serial, time_t *resign_at);

#endif
