/*
 * store sieve — each user's Sieve scripts (named, at most one active: RFC 5804 §1.2) and the
 * vacation memory (RFC 5230 §4.2). Used by ManageSieve, `pigeon sieve` and delivery. Every
 * function blocks on SQLite; names are compared as stored (case-sensitive, RFC 5804 §1.6).
 */
#ifndef PIGEON_STORE_SIEVE_H
#define PIGEON_STORE_SIEVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

/* Calls cb for each script of the user, by name. 0 or ERR_DB. */
int store_sieve_list(struct store *st, int64_t user,
                     void (*cb)(void *ctx, const char *name, bool active, size_t size),
                     void *ctx);
/* The text of one script (*text_out malloc'd, NUL-terminated). 0, ERR_NOTFOUND, ERR_DB. */
int store_sieve_get(struct store *st, int64_t user, const char *name, char **text_out,
                    size_t *len_out);
/* The active script's name and text (both malloc'd). 0, ERR_NOTFOUND (none), ERR_DB. */
int store_sieve_active(struct store *st, int64_t user, char **name_out, char **text_out,
                       size_t *len_out);
/* Creates or replaces a script (its active mark kept). 0 or ERR_DB. */
int store_sieve_put(struct store *st, int64_t user, const char *name, const char *text,
                    size_t len);
/* Makes name the active script; name "" deactivates all. 0, ERR_NOTFOUND, ERR_DB. */
int store_sieve_activate(struct store *st, int64_t user, const char *name);
/* Deletes a script. 0, ERR_NOTFOUND, ERR_BUSY_STATE (it is active: RFC 5804 §2.10), ERR_DB. */
int store_sieve_delete(struct store *st, int64_t user, const char *name);
/* Renames a script. 0, ERR_NOTFOUND, ERR_EXISTS (new name taken), ERR_DB. */
int store_sieve_rename(struct store *st, int64_t user, const char *from, const char *to);
/* Number of scripts and their total size, for HAVESPACE. */
int store_sieve_usage(struct store *st, int64_t user, int64_t *count_out, int64_t *bytes_out);

/* 1 when sender was answered with handle and the memory has not expired at now; 0 if not;
 * <0 ERR_DB. (The memory is written with the answered message: store_msg.vacations.) */
int store_sieve_vacation_seen(struct store *st, int64_t user, const char *handle,
                              const char *sender, int64_t now);

#endif
