/*
 * rrl — response rate limiting against reflection and amplification: a token bucket per
 * client prefix (/24 for IPv4, /56 for IPv6) refilled at `rate` responses per second, with a
 * burst of one second's worth. A response over the limit is dropped, except every `slip`-th
 * one, which is sent truncated (TC=1, no records) so a real client behind the prefix retries
 * over TCP, where no limit applies (slip 0: always drop, 1: always truncate).
 *
 * The table has a fixed number of slots (least recently used prefix evicted), so memory does
 * not grow with a spoofed flood. Pure: the clock is passed in (milliseconds); no locks (the
 * caller serialises), no I/O, no globals.
 */
#ifndef PIGEON_DNS_XFR_RRL_H
#define PIGEON_DNS_XFR_RRL_H

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

#endif
