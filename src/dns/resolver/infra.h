/*
 * infra — what the resolver knows about each upstream server address: smoothed round-trip
 * time and variance (RFC 6298 style), the retransmission timeout with exponential back-off
 * after timeouts, whether it answers EDNS (RFC 6891 §7: fall back after FORMERR), and for
 * which zones it was found lame. Entries expire after host_ttl and then start over, so a
 * server that was down is probed again.
 *
 * Server selection (dns_infra_score, used by the iterator): the smoothed RTT of a server
 * that answers, an unknown server counts as DNS_INFRA_UNKNOWN_MS, and after a timeout the
 * backed-off timeout, so a dead server drops out of the band of fast ones until it expires.
 *
 * Shared by every worker's resolver: each call takes one mutex. Time is passed in (ms).
 * Performs no I/O.
 */
#ifndef PIGEON_DNS_RESOLVER_INFRA_H
#define PIGEON_DNS_RESOLVER_INFRA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define DNS_INFRA_UNKNOWN_MS 376 /* score and first timeout of a server never measured */
#define DNS_INFRA_MIN_RTO 120
#define DNS_INFRA_MAX_RTO 8000
#define DNS_INFRA_DOWN_AFTER 3 /* consecutive timeouts before a server counts as down */

struct dns_infra;

struct dns_infra_info {
    bool known;        /* measured at least once */
    unsigned score_ms; /* for selection: lower is better */
    unsigned rto_ms;   /* timeout to use for the next query */
    unsigned timeouts; /* consecutive */
    bool down;         /* DNS_INFRA_DOWN_AFTER timeouts and not yet due for a probe */
    bool noedns;       /* answered FORMERR to EDNS: ask without */
    bool lame;         /* lame for the zone asked about */
};

/* host_ttl: seconds an entry lives after its last update (0: 900). */
struct dns_infra *dns_infra_new(size_t max_hosts, unsigned host_ttl);
void dns_infra_free(struct dns_infra *inf);

/* What is known of server sa for zone (wire name; may be NULL). */
void dns_infra_get(struct dns_infra *inf, const struct sockaddr *sa, const uint8_t *zone,
                   uint64_t now_ms, struct dns_infra_info *out);
/* An answer came back after rtt_ms. */
void dns_infra_rtt(struct dns_infra *inf, const struct sockaddr *sa, unsigned rtt_ms,
                   uint64_t now_ms);
/* No answer within the timeout: back off. */
void dns_infra_timeout(struct dns_infra *inf, const struct sockaddr *sa, uint64_t now_ms);
/* The server refused EDNS (FORMERR): later queries go without it. */
void dns_infra_set_noedns(struct dns_infra *inf, const struct sockaddr *sa, uint64_t now_ms);
/* The server is lame for zone (not authoritative, REFUSED, SERVFAIL, bogus referral). */
void dns_infra_set_lame(struct dns_infra *inf, const struct sockaddr *sa, const uint8_t *zone,
                        uint64_t now_ms);

#endif
