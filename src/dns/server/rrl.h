/*
 * rrl — response rate limiting against reflection and amplification: a token bucket per
 * client prefix (/24 for IPv4, /56 for IPv6) refilled at `rate` responses per second, with a
 * burst of one second's worth. A response over the limit is dropped, except every `slip`-th
 * one, which is sent truncated (TC=1, no records) so a real client behind the prefix retries
 * over TCP, where no limit applies (slip 0: always drop, 1: always truncate).
 *
 * Loopback clients (127/8, ::1, ::ffff:127.0.0.0/104) are never limited: a reflection
 * attack needs a spoofed source the packets can reach, and local tools and benchmarks talk
 * over loopback. The limit is on by default for every other client (docs/config.md).
 *
 * The table has a fixed number of slots (least recently used prefix evicted), so memory does
 * not grow with a spoofed flood. Pure: the clock is passed in (milliseconds); no locks (the
 * caller serialises), no I/O, no globals.
 */
#ifndef PIGEON_DNS_SERVER_RRL_H
#define PIGEON_DNS_SERVER_RRL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sockaddr;
struct dns_rrl;

enum dns_rrl_action {
    DNS_RRL_SEND = 0, /* under the limit */
    DNS_RRL_DROP,     /* over: send nothing */
    DNS_RRL_SLIP,     /* over: send a truncated answer */
};

/* A table for rate responses/s (> 0) and slip, with about `slots` prefixes (0: 16384). */
struct dns_rrl *dns_rrl_new(unsigned rate, unsigned slip, size_t slots);
void dns_rrl_free(struct dns_rrl *r);
/* Accounts one response to sa at now_ms and says what to do with it. */
enum dns_rrl_action dns_rrl_check(struct dns_rrl *r, const struct sockaddr *sa, uint64_t now_ms);
/* True for loopback sources, which are never limited. */
bool dns_rrl_exempt(const struct sockaddr *sa);
/* Applies the limit (r NULL: off) to the UDP response out[0..len) for sa at now_ms: returns
 * len (send it), the length of its truncated form (slip: header and question, TC=1, rewritten
 * in place), or 0 (drop). The caller serialises calls on one table. */
size_t dns_rrl_apply(struct dns_rrl *r, const struct sockaddr *sa, uint8_t *out, size_t len,
                     uint64_t now_ms);

#endif
