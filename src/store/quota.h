/*
 * quota — storage and message-count limits per user and per domain (0: no limit), and each
 * user's usage, kept current by triggers on the messages table (schema 4). A domain's usage
 * is the sum of its users'. Blocks on SQLite; the checks are reads, the settings writes.
 */
#ifndef PIGEON_STORE_QUOTA_H
#define PIGEON_STORE_QUOTA_H

#include <stdbool.h>
#include <stdint.h>

struct store;

struct store_quota {
    int64_t used_bytes, used_messages;   /* the user's */
    int64_t limit_bytes, limit_messages; /* the user's limits, 0: none */
    int64_t dom_used_bytes, dom_used_messages;
    int64_t dom_limit_bytes, dom_limit_messages;
};

/* The user's usage and limits and those of its domain. ERR_NOTFOUND for no such user. */
int store_quota_get(struct store *st, int64_t user_id, struct store_quota *q);
int store_quota_get_addr(struct store *st, const char *address, struct store_quota *q);
/* True when one more message of add_bytes would pass a limit of the user or its domain
 * (add_bytes 0: true when a limit is reached already, as at RCPT time). */
bool store_quota_exceeded(const struct store_quota *q, int64_t add_bytes);
/* True when the usage in q is already past a limit (after a write inside a transaction that
 * is then rolled back: COPY's check). */
bool store_quota_over(const struct store_quota *q);
/* Sets the limits of a user ("local@domain") or of a domain ("@domain"). ERR_NOTFOUND,
 * ERR_PARSE. */
int store_quota_set(struct store *st, const char *target, int64_t bytes, int64_t messages);

#endif
