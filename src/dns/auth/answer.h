/*
 * answer — the authoritative answer engine: (zone set, query, transport) -> response bytes,
 * following RFC 1034 §4.3.2 over many zones (the closest enclosing zone answers).
 *
 * It handles: exact matches, CNAME chains followed through our zones (at most
 * DNS_ANSWER_MAX_CHAIN links, loops stopped), wildcards (RFC 4592; empty non-terminals block
 * them), referrals at zone cuts (AA clear, NS in authority, glue in additional; DS is
 * answered by the parent side), NXDOMAIN and NODATA with the SOA in authority and TTL
 * min(SOA TTL, SOA minimum) (RFC 2308 §3), REFUSED outside our zones and for classes other
 * than IN, NOTIMP for opcodes other than QUERY, FORMERR for malformed queries and
 * QDCOUNT != 1, BADVERS for EDNS version > 0 (RFC 6891 §6.1.3), A/AAAA in additional for
 * MX/NS/SRV targets in our zones, minimal responses (no NS in authority on positive answers),
 * ANY answered with one RRset over UDP (RFC 8482), and size limits: 512 bytes without EDNS,
 * min(client size, opts->udp_max) with it, 65535 over TCP. When the answer or authority
 * section does not fit, the reply is the question alone with TC=1 (RFC 2181 §9); additional
 * data that does not fit is left out, except missing in-domain glue sets TC (RFC 9471).
 * The question is echoed as received (0x20 case kept).
 *
 * Zone transfers, NOTIFY, UPDATE and TSIG are not handled here: the server glue parses the
 * query first (dns_msg_parse), sends those to the transfer layer, and gives the rest to
 * dns_answer_msg; dns_answer_packet does both steps for the plain-query path and answers
 * NOTIFY/UPDATE with NOTIMP and AXFR/IXFR with REFUSED.
 *
 * Pure and fast: no I/O, no locks, no globals, no heap allocation (the caller's arena gets
 * the parsed query; its first block should be >= 4 KiB). Thread-safe as long as each thread
 * uses its own arena and output buffer, and holds a reference to the zone set.
 */
#ifndef PIGEON_DNS_AUTH_ANSWER_H
#define PIGEON_DNS_AUTH_ANSWER_H

#include "dns/arena.h"
#include "dns/wire.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dns_zone;
struct dns_zoneset;

#define DNS_ANSWER_MAX_CHAIN 12

struct dns_answer_opts {
    bool tcp;         /* over TCP: up to 65535 bytes (RFC 7766) */
    uint16_t udp_max; /* our EDNS UDP payload size; 0 means DNS_UDP_DEFAULT (1232) */
};

enum dns_answer_kind {
    DNS_ANSWER_DROP = 0, /* nothing to send (no header, or a response packet) */
    DNS_ANSWER_POSITIVE, /* data in the answer section (incl. a CNAME chain) */
    DNS_ANSWER_NODATA,   /* the name exists, the type does not */
    DNS_ANSWER_NXDOMAIN, /* the name does not exist */
    DNS_ANSWER_REFERRAL, /* delegation to a child zone */
    DNS_ANSWER_ERROR,    /* FORMERR, NOTIMP, REFUSED, BADVERS */
};

/* What was answered, for logs, statistics and response rate limiting. */
struct dns_answer_info {
    enum dns_answer_kind kind;
    unsigned rcode; /* full 12-bit rcode */
    bool aa, tc;
    const struct dns_zone *zone; /* the zone that answered (borrowed), or NULL */
};

/*
 * Answers the query packet pkt[0..len). The parsed query lives in arena (reset it after the
 * reply). Writes the response into out[0..cap) (cap >= 512; 65535 for TCP) and returns its
 * length, or 0 when nothing must be sent (shorter than a header, or QR set). info may be
 * NULL. Never blocks.
 */
size_t dns_answer_packet(const struct dns_zoneset *zs, const uint8_t *pkt, size_t len,
                         const struct dns_answer_opts *opts, struct dns_arena *arena, uint8_t *out,
                         size_t cap, struct dns_answer_info *info);

/* Answers an already parsed query q (as dns_answer_packet after a successful parse). */
size_t dns_answer_msg(const struct dns_zoneset *zs, const struct dns_msg *q,
                      const struct dns_answer_opts *opts, uint8_t *out, size_t cap,
                      struct dns_answer_info *info);

/*
 * An error reply to q: header (id, opcode, RD, CD copied; QR set), the question when q has
 * exactly one, an OPT when q had one; rcode may be extended (>= 16, carried in the OPT).
 * Returns the length (0 when cap < 12). For the transfer layer too (NOTAUTH, REFUSED...).
 */
size_t dns_answer_error(const struct dns_msg *q, unsigned rcode, const struct dns_answer_opts *opts,
                        uint8_t *out, size_t cap);

/* The response size limit for q under opts (512, the EDNS size, or 65535 for TCP). */
size_t dns_answer_limit(const struct dns_msg *q, const struct dns_answer_opts *opts);

#endif
