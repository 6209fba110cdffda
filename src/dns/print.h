/*
 * print — DNS records and messages in presentation form, as dig and zone dumps show them:
 * "www.example.com.\t3600\tIN\tA\t192.0.2.1". Appends to a caller's struct str.
 * Pure: no I/O, no allocation beyond the str, no globals.
 */
#ifndef PIGEON_DNS_PRINT_H
#define PIGEON_DNS_PRINT_H

#include "core/str.h"
#include "dns/wire.h"

#include <stdint.h>

/* One record as a zone-file line (no newline). */
void dns_print_rr(const uint8_t *owner, uint16_t type, uint16_t rclass, uint32_t ttl,
                  const uint8_t *rdata, size_t rdlen, struct str *out);
/*
 * A parsed message in dig's layout: ";; ->>HEADER<<- ..." and flags lines, the OPT
 * pseudosection, then QUESTION, ANSWER, AUTHORITY, ADDITIONAL sections (empty ones left out).
 */
void dns_print_msg(const struct dns_msg *m, struct str *out);

#endif
