/*
 * db — private helpers shared by the files of src/store/ (not part of the store API; nothing
 * outside src/store/ includes this header).
 *
 * Holds the definition of struct store, SQLite statement helpers that map SQLite result codes
 * to ERR_* and log the SQLite text, transaction helpers that retry SQLITE_BUSY, the schema
 * migrator and a few small utilities (address normalisation, durable directory creation).
 * Every function blocks on disk I/O; none is thread-safe on one handle.
 */
#ifndef PIGEON_STORE_DB_H
#define PIGEON_STORE_DB_H

#include <sqlite3.h>
#include <stdint.h>

#include "store/store.h"

struct imap_stmts;

#define DB_STMT_CACHE 16 /* statements kept prepared per connection (db_prepare_cached) */

struct store {
    sqlite3 *db;
    char *data_dir; /* owned; no trailing slash */
    struct imap_stmts *imap; /* the IMAP files' prepared statements, NULL until used */
    struct {
        char *sql; /* owned copy of the text; NULL: a free slot */
        sqlite3_stmt *s;
        bool in_use; /* handed out, not yet given back with db_done */
    } cache[DB_STMT_CACHE];
};

/* Finalizes st->imap (imap_txn.c); store_close calls it before closing the connection. */
void imap_stmts_free(struct store *st);

/* ---- statements (db.c) ---- */

/* Prepares sql on st; logs and returns ERR_DB on failure. *out is finalised by the caller. */
int db_prepare(struct store *st, const char *sql, sqlite3_stmt **out);
/* As db_prepare, for a statement run on every message (a look-up of the SMTP path): the
 * connection keeps it prepared, found again by its text (compiling one costs more than
 * running it). Give it back with db_done, never sqlite3_finalize. */
int db_prepare_cached(struct store *st, const char *sql, sqlite3_stmt **out);
/* Ends a statement: one from db_prepare_cached is reset and kept, any other finalized.
 * NULL is ignored. */
void db_done(struct store *st, sqlite3_stmt *s);
/* Runs sql (no result rows expected) to completion. 0 or ERR_DB. */
int db_exec(struct store *st, const char *sql);
/* Binds a NUL-terminated text (copied by SQLite) or an int64 at 1-based index i. */
int db_bind_text(sqlite3_stmt *s, int i, const char *text);
int db_bind_int64(sqlite3_stmt *s, int i, int64_t v);
/*
 * Steps s once: SQLITE_ROW and SQLITE_DONE are returned as is; any other code is logged with
 * what (a short label for the log) and returned unchanged, so callers can tell
 * SQLITE_CONSTRAINT and SQLITE_BUSY apart from other failures.
 */
int db_step(struct store *st, sqlite3_stmt *s, const char *what);
/* Maps a failing SQLite code to ERR_*: SQLITE_BUSY/LOCKED -> ERR_AGAIN, else ERR_DB. */
int db_err(int sqlite_rc);
/* Runs a one-row query with optional text parameter p1; *v_out = column 0. ERR_NOTFOUND if
 * no row. */
int db_query_int64(struct store *st, const char *sql, const char *p1, int64_t *v_out);

/* ---- transactions (db.c) ---- */

/* BEGIN IMMEDIATE (takes the write lock now), retried on SQLITE_BUSY past the busy timeout. */
int db_begin(struct store *st);
/* COMMIT; on failure rolls back and returns ERR_AGAIN (busy) or ERR_DB. */
int db_commit(struct store *st);
/* ROLLBACK if a transaction is open; never fails visibly (logs). */
void db_rollback(struct store *st);

/* ---- schema (schema.c) ---- */

/* Applies every migration above the database's version, each in its own transaction. */
int db_migrate(struct store *st, const char **err_out);

/* ---- mailboxes (mailbox.c) ---- */

/* Creates mailbox name for user_id with a fresh uidvalidity; must run inside a transaction. */
int db_mailbox_create(struct store *st, int64_t user_id, const char *name, const char *special_use);

/* ---- utilities (db.c) ---- */

/*
 * Returns a malloc'd lower-cased copy of an address "local@domain" (caller frees), or NULL
 * when it has no '@', an empty side, or bytes below 0x21. When domain_out is not NULL it
 * points into the returned copy, just after the '@'.
 */
char *db_address_norm(const char *address, const char **domain_out);
/* Returns a malloc'd lower-cased copy of a domain name (caller frees), or NULL if invalid. */
char *db_domain_norm(const char *domain);
/* mkdir (mode 0750) that accepts an existing directory. 0 or ERR_IO (errno set). */
int db_mkdir(const char *path);
/* open(O_DIRECTORY) + fsync + close. 0 or ERR_IO (errno set). */
int db_fsync_dir(const char *path);
/* The current unix time in seconds. */
int64_t db_now(void);

#endif
