/*
 * dns/resolver/special — the names this resolver answers itself and never asks the Internet
 * about, as Unbound's default local zones do: localhost (RFC 6761 §6.3: the loopback
 * addresses), invalid (§6.4) and onion (RFC 7686 §2: NXDOMAIN), and the loopback addresses'
 * reverse names (RFC 6303 §4.2-4.3: PTR localhost.). Pure; no I/O.
 */
#ifndef PIGEON_DNS_RESOLVER_SPECIAL_H
#define PIGEON_DNS_RESOLVER_SPECIAL_H

#include "dns/resolver/resolver_int.h"

#include <stdbool.h>
#include <stdint.h>

/* True, with ans filled (rcode, answer, the zone's SOA when negative), when qname is one of
 * those names; ans's data is static. */
bool res_answer_special(const uint8_t *qname, uint16_t qtype, struct res_answer *ans);

#endif
