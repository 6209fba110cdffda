/*
 * throttle — failed-login accounting per client address, to slow down password guessing.
 *
 * Each failure from an address adds to its score; the delay before answering the next attempt
 * grows with the score (1 s, 2 s, 4 s ... capped at 15 s) and the score decays with time.
 * A bounded table (oldest entries evicted). Thread-safe: one instance serves every worker.
 */
#ifndef PIGEON_AUTH_THROTTLE_H
#define PIGEON_AUTH_THROTTLE_H

#include <stdint.h>
#include <time.h>

struct throttle;

struct throttle *throttle_new(unsigned max_entries);
void throttle_free(struct throttle *t);
/* Milliseconds to wait before answering an authentication attempt from `addr` now. */
unsigned throttle_delay_ms(struct throttle *t, const char *addr, time_t now);
void throttle_failure(struct throttle *t, const char *addr, time_t now);
void throttle_success(struct throttle *t, const char *addr);

#endif
