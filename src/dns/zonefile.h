/*
 * zonefile — the RFC 1035 §5 master file reader: $ORIGIN, $TTL (RFC 2308 §4), $INCLUDE
 * (relative to the including file, nested at most DNS_ZF_MAX_DEPTH deep), parentheses across
 * lines, comments, "@", relative names, omitted owner (the previous one), omitted TTL and
 * class, quoted strings with escapes, and RFC 3597 "\# len hex" rdata. Class IN only.
 *
 * The reader only turns text into records and hands each one to a callback; checking the
 * zone as a whole (SOA, CNAME, out-of-zone data) is zone.h's job. TTL rules follow BIND:
 * explicit TTL, else $TTL, else the previous record's TTL, else the SOA's minimum for a
 * leading SOA; TTLs above 2^31-1 become 0 (RFC 2181 §8).
 *
 * Errors are reported once as "file:line: reason" in *err_out. dns_zonefile_read blocks on
 * file reads; dns_zonefile_parse does no I/O unless the text has $INCLUDE. No globals.
 */
#ifndef PIGEON_DNS_ZONEFILE_H
#define PIGEON_DNS_ZONEFILE_H

#include "core/str.h"

#include <stddef.h>
#include <stdint.h>

#define DNS_ZF_MAX_DEPTH 8

enum dns_zonefile_flags {
    DNS_ZF_NO_INCLUDE = 1 << 0,   /* $INCLUDE is an error (fuzzing, untrusted text) */
    DNS_ZF_TTL_OPTIONAL = 1 << 1, /* no TTL anywhere is TTL 0, not an error: trust-anchor
                                   * files (Debian's /usr/share/dns/root.key) omit it */
};

/* One record as read. Every pointer is borrowed and valid only during the callback. */
struct dns_zonefile_rr {
    const uint8_t *owner; /* wire form, case as written */
    uint16_t type, rclass;
    uint32_t ttl;
    const uint8_t *rdata;
    uint16_t rdlen;
    const char *file; /* the file (as opened) and line where the record starts */
    unsigned line;
};

/*
 * Called for each record. Return 0 to go on, or an ERR_* code to stop: the reader then
 * returns that code and reports "file:line: <*reason_out>" (reason_out is preset to a
 * generic text; set it to a static or ctx-owned string).
 */
typedef int (*dns_zonefile_fn)(void *ctx, const struct dns_zonefile_rr *rr,
                               const char **reason_out);

/*
 * Reads the master file at path with the given origin (wire form, absolute). Returns 0, or
 * ERR_IO / ERR_PARSE / ERR_RANGE / ERR_LIMIT / the callback's code, with "file:line: reason"
 * appended to err_out. Blocks on file reads.
 */
int dns_zonefile_read(const char *path, const uint8_t *origin, unsigned flags, dns_zonefile_fn fn,
                      void *ctx, struct str *err_out);
/*
 * Parses master file text[0..len) named fname (used in messages and to resolve relative
 * $INCLUDE paths). Same return convention as dns_zonefile_read.
 */
int dns_zonefile_parse(const char *text, size_t len, const char *fname, const uint8_t *origin,
                       unsigned flags, dns_zonefile_fn fn, void *ctx, struct str *err_out);

#endif
