/*
 * store/jmap_submissions — JMAP's EmailSubmission objects (RFC 8621 §7) of each user, kept
 * as the engine's JSON text (schema version 7). A submission is handed to the queue when it is
 * created (undoStatus "final"); this record is what EmailSubmission/get reads back. Every
 * change takes the user's next sequence number: a new record, and a destroy, which blanks the
 * row and moves it to a new number. So the state (the highest sequence number) only grows,
 * and EmailSubmission/changes is the rows above the old state: live ones were created,
 * blank ones destroyed (records are never updated: they are final).
 *
 * Same rules as store.h: one struct store per thread; every function blocks on disk I/O and
 * returns 0 or a negative ERR_* (core/err.h).
 */
#ifndef PIGEON_STORE_JMAP_SUBMISSIONS_H
#define PIGEON_STORE_JMAP_SUBMISSIONS_H

#include "core/str.h"
#include "store/store.h"

/* Keeps object (JSON text) as submission id of user. ERR_EXISTS when the id is taken. */
int store_jmap_submission_put(struct store *st, const char *user, const char *id,
                              const char *object);
/* Calls cb with every live submission of user in creation order; appends the state to
 * state_out (the highest sequence number, in decimal). */
int store_jmap_submissions(struct store *st, const char *user,
                           void (*cb)(void *arg, const char *object), void *arg,
                           struct str *state_out);
/* Blanks submission id of user (under a new sequence number). ERR_NOTFOUND when there is no
 * live one. */
int store_jmap_submission_del(struct store *st, const char *user, const char *id);
/* Calls cb with each record of user changed after sequence number since, in sequence order
 * (gone: destroyed); *max_out the highest sequence number now. */
int store_jmap_submission_changes(struct store *st, const char *user, int64_t since,
                                  void (*cb)(void *arg, const char *id, int64_t seq, bool gone),
                                  void *arg, int64_t *max_out);

#endif
