/*
 * imap_int — private helpers of the store's IMAP files (imap_*.c): a write that runs either
 * in a transaction of its own or, inside a group-commit batch (store_imap_batch_begin), in a
 * savepoint of the batch's transaction. Not part of the store API.
 */
#ifndef PIGEON_STORE_IMAP_INT_H
#define PIGEON_STORE_IMAP_INT_H

#include "store/db.h"

#include <stdbool.h>

/*
 * Prepared statements kept for the life of the handle (the hot paths of SELECT, sync, FETCH
 * and STORE would otherwise spend more time in sqlite3_prepare than in sqlite3_step).
 * imap_stmt returns the statement for id, preparing sql the first time (NULL on failure,
 * logged); the caller must imap_stmt_reset it before it returns, on every path.
 */
enum imap_stmt_id {
    IS_BEGIN,
    IS_BEGIN_IMMEDIATE,
    IS_COMMIT,
    IS_USER,
    IS_MAILBOX_BY_ID,
    IS_MAILBOX_BY_NAME,
    IS_LIST_ALL,
    IS_LIST_SINCE,
    IS_LIST_EXPUNGED,
    IS_BUMP_MODSEQ,
    IS_FLAGS_GET,
    IS_FLAGS_SET,
    IS_COPY_HAS,
    IS_COPY_ALLOC,
    IS_COPY_INSERT,
    IS_DELETE,
    IS_EXPUNGED_ADD,
    IS_CACHE_GET,
    IS_CACHE_PUT,
    IS_COUNT
};
sqlite3_stmt *imap_stmt(struct store *st, enum imap_stmt_id id, const char *sql);
void imap_stmt_reset(sqlite3_stmt *s);
/* The id of user (canonical address, matched lower-cased); ERR_NOTFOUND. */
int imap_user_id(struct store *st, const char *user, int64_t *id_out);
/* A read snapshot: BEGIN (deferred) / COMMIT through cached statements. */
int imap_read_begin(struct store *st);
int imap_read_end(struct store *st, int rc);

/* Starts one write: BEGIN IMMEDIATE, or SAVEPOINT when a batch is open (*nested set). */
int imap_op_begin(struct store *st, bool *nested);
/* Ends it: commit (rc 0) or undo, as it was begun. Returns rc, or the commit's failure. */
int imap_op_end(struct store *st, int rc, bool nested);
/* Runs fn(st, arg) as one op with synchronous=NORMAL: for data that may be lost in a crash
 * (a \Recent claim, the parse cache) and must not pay a WAL fsync. Outside batches only. */
int imap_op_relaxed(struct store *st, int (*fn)(struct store *st, void *arg), void *arg);

#endif
