/*
 * dhcp/ratelimit — token buckets keyed by a few bytes (a client's MAC, a relay's address):
 * `rate` messages per second with bursts of `burst`. A fixed table (no allocation after
 * new); when it is full the least recently used key gives way, so a flood of random MACs
 * costs memory that does not grow. Pure: the time comes in (milliseconds), no locking.
 */
#ifndef PIGEON_DHCP_RATELIMIT_H
#define PIGEON_DHCP_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dhcp_ratelimit;

/* rate 0: unlimited (dhcp_ratelimit_allow always true). NULL is never returned. */
struct dhcp_ratelimit *dhcp_ratelimit_new(unsigned rate, unsigned burst, unsigned slots);
void dhcp_ratelimit_free(struct dhcp_ratelimit *rl);
/* Takes a token for key[0..len) (at most 16 bytes are used) at now_ms: true when allowed. */
bool dhcp_ratelimit_allow(struct dhcp_ratelimit *rl, const uint8_t *key, size_t len,
                          int64_t now_ms);

#endif
