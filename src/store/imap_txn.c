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
#include "core/xmalloc.h"

#include <stdlib.h>

struct imap_stmts {
    sqlite3_stmt *s[IS_COUNT];
};

sqlite3_stmt *imap_stmt(struct store *st, enum imap_stmt_id id, const char *sql)
{
    if (!st->imap)
        st->imap = xcalloc(1, sizeof *st->imap);
    sqlite3_stmt **slot = &st->imap->s[id];
    if (!*slot &&
        sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL) != SQLITE_OK) {
        log_err("store: prepare: %s", sqlite3_errmsg(st->db));
        *slot = NULL;
    }
    return *slot;
}

void imap_stmt_reset(sqlite3_stmt *s)
{
    if (s) {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
    }
}

void imap_stmts_free(struct store *st)
{
    if (!st->imap)
        return;
    for (int i = 0; i < IS_COUNT; i++)
        sqlite3_finalize(st->imap->s[i]);
    free(st->imap);
    st->imap = NULL;
}

/* Runs a cached statement without parameters or rows. */
static int run_plain(struct store *st, enum imap_stmt_id id, const char *sql)
{
    sqlite3_stmt *s = imap_stmt(st, id, sql);
    int src = s ? db_step(st, s, sql) : SQLITE_ERROR;
    imap_stmt_reset(s);
    return src == SQLITE_DONE ? 0 : db_err(src);
}

int imap_read_begin(struct store *st)
{
    return run_plain(st, IS_BEGIN, "BEGIN");
}

int imap_read_end(struct store *st, int rc)
{
    if (rc == 0)
        rc = run_plain(st, IS_COMMIT, "COMMIT");
    if (rc != 0)
        db_rollback(st);
    return rc;
}

int imap_user_id(struct store *st, const char *user, int64_t *id_out)
{
    char *addr = db_address_norm(user, NULL);
    if (!addr)
        return ERR_NOTFOUND;
    sqlite3_stmt *s = imap_stmt(st, IS_USER, "SELECT id FROM users WHERE address = ?");
    int src = s && !db_bind_text(s, 1, addr) ? db_step(st, s, "user") : SQLITE_ERROR;
    if (src == SQLITE_ROW)
        *id_out = sqlite3_column_int64(s, 0);
    imap_stmt_reset(s);
    free(addr);
    return src == SQLITE_ROW ? 0 : src == SQLITE_DONE ? ERR_NOTFOUND : db_err(src);
}

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

void store_imap_tune(struct store *st)
{
    /* No mapping of the database file: in WAL mode a read transaction that finds the WAL
     * changed since the last one drops its page cache and, with mmap on, unmaps the whole
     * mapping (sqlite3OsUnfetch(fd, 0, 0)), so under IMAP's steady flag writes every read paid
     * a munmap (a TLB shootdown across the process's threads) and page faults to map the
     * pages again. Measured with imaptest logout=0 (20 clients, perf stat over 20 s): mmap
     * 1 GiB 1.08 page faults, 0.28 munmap, 2.8 context switches and 6.2 pread per command;
     * without it 0.09, 0.09, 2.4 and 7.3. */
    if (db_exec(st, "PRAGMA mmap_size = 0") != 0)
        log_warn("store: mmap_size not set: %s", sqlite3_errmsg(st->db));
    /* While nothing is written, pages stay in the connection's own cache instead: 16 MiB
     * (SQLite's default is 2 MiB) holds a large mailbox's rows and indexes. */
    if (db_exec(st, "PRAGMA cache_size = -16384") != 0)
        log_warn("store: cache_size not set: %s", sqlite3_errmsg(st->db));
}

int store_imap_batch_begin(struct store *st)
{
    return db_begin(st);
}

int store_imap_batch_begin_relaxed(struct store *st)
{
    /* changeable between transactions only; set back to FULL by store_imap_batch_end */
    int rc = db_exec(st, "PRAGMA synchronous=NORMAL");
    if (rc == 0 && (rc = db_begin(st)) != 0)
        db_exec(st, "PRAGMA synchronous=FULL");
    return rc;
}

int store_imap_batch_end(struct store *st, bool commit)
{
    int rc = 0;
    if (!commit)
        db_rollback(st);
    else
        rc = db_commit(st);
    if (db_exec(st, "PRAGMA synchronous=FULL") != 0)
        log_err("store: cannot restore synchronous=FULL");
    return rc;
}
