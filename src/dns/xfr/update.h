/*
 * update — dynamic UPDATE (RFC 2136) as a pure function: (zone, parsed UPDATE message) ->
 * rcode, and on success a new zone plus the difference for IXFR and the journal.
 *
 * The UPDATE arrives parsed by the wire parser (dns_msg_parse: zone section in qd,
 * prerequisites in rr[0], updates in rr[1], additional in rr[2], TSIG aside), which for opcode
 * UPDATE accepts the empty rdata of class ANY/NONE records (RFC 2136 §2.4-2.5).
 *
 * dns_update_apply checks the prerequisites (all five kinds of §2.4), prescans the update
 * section (§3.4.1), applies it in order (§3.4.2: adds, RRset/name/single-RR deletes, with the
 * SOA and apex-NS rules and CNAME exclusivity) to a copy, bumps the SOA serial when the update
 * did not raise it itself (§3.6), and builds the new zone whole. All or nothing: on any error
 * the old zone is untouched. The caller has already checked the zone section names this zone,
 * the ACL and the TSIG.
 *
 * Pure: no I/O, no clock, no globals.
 */
#ifndef PIGEON_DNS_XFR_UPDATE_H
#define PIGEON_DNS_XFR_UPDATE_H

#include "dns/arena.h"
#include "dns/wire.h"
#include "dns/xfr/rrvec.h"

#include <stddef.h>
#include <stdint.h>

struct dns_zone;

struct dns_update_result {
    unsigned rcode;         /* NOERROR, FORMERR, NOTZONE, YXDOMAIN, NXDOMAIN, YXRRSET, ... */
    struct dns_zone *zone;  /* the new zone (one reference), or NULL when nothing changed */
    struct dns_zdiff *diff; /* its difference from the old one (one reference), or NULL */
    const char *why;        /* static reason for the log when rcode != NOERROR */
};

/* Applies the UPDATE m (zone section already checked) to z. */
void dns_update_apply(const struct dns_zone *z, const struct dns_msg *m,
                      struct dns_update_result *res);

#endif
