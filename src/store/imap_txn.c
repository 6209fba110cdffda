/*
 * imap_txn — transactions of the store's IMAP writes (imap_int.h) and group commit
 * (store_imap_batch_*, store/imap.h): a batch is one BEGIN IMMEDIATE ... COMMIT around many
 * writes, each in its own savepoint, so one failing write is undone alone and one WAL fsync
 * makes all the others durable.
 */
#include "store/imap.h"
#include "store/imap_int.h"

#include "core/err.h"
#include "core/log.h"

int imap_op_begin(struct store *st, bool *nested)
{
    *nested = !sqlite3_get_autocommit(st->db);
    return *nested ? db_exec(st, "SAVEPOINT imap_op") : db_begin(st);
}

int imap_op_end(struct store *st, int rc, bool nested)
{
    if (!nested) {
        if (rc != 0) {
            db_rollback(st);
            return rc;
        }
        return db_commit(st);
    }
    if (rc != 0 && db_exec(st, "ROLLBACK TO imap_op") != 0)
        log_err("store: cannot undo a write of a batch: %s", sqlite3_errmsg(st->db));
    int r = db_exec(st, "RELEASE imap_op");
    return rc ? rc : r;
}

int imap_op_relaxed(struct store *st, int (*fn)(struct store *st, void *arg), void *arg)
{
    if (!sqlite3_get_autocommit(st->db))
        return fn(st, arg);
    /* Changeable between transactions only; a later FULL commit's WAL fsync covers this one. */
    int rc = db_exec(st, "PRAGMA synchronous=NORMAL");
    if (rc == 0)
        rc = fn(st, arg);
    if (db_exec(st, "PRAGMA synchronous=FULL") != 0)
        log_err("store: cannot restore synchronous=FULL");
    return rc;
}

int store_imap_batch_begin(struct store *st)
{
    return db_begin(st);
}

int store_imap_batch_end(struct store *st, bool commit)
{
    if (!commit) {
        db_rollback(st);
        return 0;
    }
    return db_commit(st);
}
