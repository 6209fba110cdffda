/*
 * throttle — failed-login accounting, to slow down password guessing.
 *
 * Failures are counted per (client address, account), per account and per client address.
 * The delay before the next password check grows with the scores (1 s, 2 s, 4 s ... capped at
 * 15 s) and the scores decay with time (one point a minute). The (address, account) pair
 * counts in full; the account (many addresses guessing one password) and the address (one
 * address trying many accounts) count one point per THROTTLE_SHARED_WEIGHT failures, so a
 * user's own typos never slow other users. A success clears only its own (address, account)
 * pair: an attacker who owns one account cannot reset the count of another.
 *
 * The delay comes before the hash is computed (throttle_begin), and parallel attempts on one
 * key are spaced by it, so opening more connections does not buy more guesses.
 * A bounded table (the least recently touched entry is evicted). Thread-safe: one instance
 * serves every worker. Times are milliseconds of any monotonic-enough clock.
 */
#ifndef PIGEON_AUTH_THROTTLE_H
#define PIGEON_AUTH_THROTTLE_H

#include <stdint.h>

#define THROTTLE_SHARED_WEIGHT 4

struct throttle;

struct throttle *throttle_new(unsigned max_entries);
void throttle_free(struct throttle *t);
/* Milliseconds to wait, from now_ms, before checking a password for account from addr; the
 * attempt's start is reserved, so the next attempt on the same keys waits after it. */
unsigned throttle_begin(struct throttle *t, const char *addr, const char *account, uint64_t now_ms);
/* The delay (ms) the scores alone give a new attempt now, reserving nothing. */
unsigned throttle_delay_ms(struct throttle *t, const char *addr, const char *account,
                           uint64_t now_ms);
void throttle_failure(struct throttle *t, const char *addr, const char *account, uint64_t now_ms);
/* Clears the (addr, account) pair only; the shared per-account and per-address scores decay. */
void throttle_success(struct throttle *t, const char *addr, const char *account);

#endif
