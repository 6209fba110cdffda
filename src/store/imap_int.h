/*
 * imap_int — private helpers of the store's IMAP files (imap_*.c): a write that runs either
 * in a transaction of its own or, inside a group-commit batch (store_imap_batch_begin), in a
 * savepoint of the batch's transaction. Not part of the store API.
 */
#ifndef PIGEON_STORE_IMAP_INT_H
#define PIGEON_STORE_IMAP_INT_H

#include "store/db.h"

#include <stdbool.h>

/* Starts one write: BEGIN IMMEDIATE, or SAVEPOINT when a batch is open (*nested set). */
int imap_op_begin(struct store *st, bool *nested);
/* Ends it: commit (rc 0) or undo, as it was begun. Returns rc, or the commit's failure. */
int imap_op_end(struct store *st, int rc, bool nested);
/* Runs fn(st, arg) as one op with synchronous=NORMAL: for data that may be lost in a crash
 * (a \Recent claim, the parse cache) and must not pay a WAL fsync. Outside batches only. */
int imap_op_relaxed(struct store *st, int (*fn)(struct store *st, void *arg), void *arg);

#endif
