/*
 * sign — signs a primary zone for the name server's control thread (sign.c).
 * Blocking (key files, signing); call on the control thread only.
 */
#ifndef PIGEON_DNS_SERVER_SERVICE_SIGN_H
#define PIGEON_DNS_SERVER_SERVICE_SIGN_H

#include "dns/server/server.h"
#include "dns/zone.h"

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/*
 * Signs z with the zone's keys (made on first use) at time now, keeping prev's signatures
 * (the version served so far; NULL: none) for RRsets that did not change while they have
 * more than dnssec_refresh of their validity left, so that the difference prev -> result holds only
 * what changed (IXFR). *last_serial (0 at start:
 * read from the serial file) is the serial of the previous signed version and is updated;
 * *resign_at gets when to sign again. Returns the signed zone (one reference), or NULL after
 * logging why (the caller keeps serving what it had).
 */
struct dns_zone *dns_sign(const struct dns_zconf *zc, const struct dns_zone *z,
                          const struct dns_zone *prev, time_t now, uint32_t *last_serial,
                          time_t *resign_at);

/*
 * The signed versions on disk, so that a restart -- after a clean stop or a kill -9 -- serves
 * the version secondaries hold, keeps its signatures and its IXFR history:
 * DATA/dnssec/<zone>.signed holds one signed version whole, <zone>.sjnl (the journal format
 * of dns/xfr/journal.h) the signed differences before and after it. j counts the journal.
 *
 * dns_sign_save writes the version served whole and the journal as hist (NULL: empty): at a
 * clean stop, after a signing with no previous version, when the journal grew long.
 * dns_sign_log appends the difference of a signing (fsynced); false when the version should
 * be saved whole now (the append failed, or the journal outgrew the zone).
 * dns_sign_load_saved returns the saved version with the journal replayed (one reference;
 * *hist_out its history), or NULL when there is none usable.
 */
struct dns_sign_jnl {
    size_t entries, records;
    bool stale; /* the journal does not lead to the version served: rewrite it */
};
struct dns_zdiff;
struct dns_xfr_hist;
void dns_sign_save(const struct dns_zconf *zc, const struct dns_zone *served,
                   const struct dns_xfr_hist *hist, struct dns_sign_jnl *j);
bool dns_sign_log(const struct dns_zconf *zc, struct dns_zdiff *d, const struct dns_zone *served,
                  struct dns_sign_jnl *j);
struct dns_zone *dns_sign_load_saved(const struct dns_zconf *zc, struct dns_xfr_hist **hist_out,
                                     struct dns_sign_jnl *j);

#endif
