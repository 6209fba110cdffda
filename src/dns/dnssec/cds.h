/*
 * cds — a parent zone takes its children's CDS (RFC 7344, RFC 8078) as its DS records, when
 * both zones are served by the same pigeond: the child's signed zone is trusted as it is our
 * own data (no query, no signature check needed). A CDS of "0 0 0 00" removes the DS
 * (RFC 8078 §4: the child goes insecure). Pure: no I/O, no clock.
 */
#ifndef PIGEON_DNS_DNSSEC_CDS_H
#define PIGEON_DNS_DNSSEC_CDS_H

#include "dns/zone.h"

#include <stddef.h>

/*
 * For every zone in children[0..n) that is delegated from parent (a cut at its origin) and
 * publishes CDS, a copy of parent with the DS set at that cut replaced by the CDS set. Returns
 * 0 with *out (one reference) when something changed, 0 with *out NULL when nothing did, or
 * ERR_PARSE with err_out filled.
 */
int dnssec_parent_apply_cds(const struct dns_zone *parent, const struct dns_zone *const *children,
                            size_t n, struct dns_zone **out, struct str *err_out);

#endif
