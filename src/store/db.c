/*
 * db — opening the store (directories, SQLite connection, pragmas, migrations) and the small
 * SQLite helpers the other files of src/store/ share. See db.h.
 */
#include "store/db.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "core/str.h"
#include "core/xmalloc.h"

#define DB_BUSY_TIMEOUT_MS 5000
#define DB_BEGIN_TRIES 3

/*
 * store_open's error text: store_open has no handle to own it when it fails, so it lives in a
 * thread-local buffer (valid until the thread's next store_open). The only global of the
 * module besides the blob-directory registry in blob.c.
 */
static _Thread_local char open_err[512];

static const char *open_fail(const char *what, const char *detail)
{
    snprintf(open_err, sizeof open_err, "%s: %s", what, detail);
    return open_err;
}

/* ---- directories ---- */

int db_mkdir(const char *path)
{
    if (mkdir(path, 0750) == 0 || errno == EEXIST)
        return 0;
    return ERR_IO;
}

int db_fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return ERR_IO;
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc == 0 ? 0 : ERR_IO;
}

/* Creates DATA, DATA/tmp, DATA/blobs and DATA/blobs/00..ff, then makes those entries durable. */
static int make_dirs(const char *dir, const char **err_out)
{
    struct str p = STR_INIT;
    int rc = db_mkdir(dir);
    const char *failed = dir;
    static const char *const subs[] = {"tmp", "blobs"};
    for (size_t i = 0; rc == 0 && i < 2; i++) {
        str_reset(&p);
        str_appendf(&p, "%s/%s", dir, subs[i]);
        rc = db_mkdir(str_cstr(&p));
    }
    for (unsigned i = 0; rc == 0 && i < 256; i++) {
        str_reset(&p);
        str_appendf(&p, "%s/blobs/%02x", dir, i);
        rc = db_mkdir(str_cstr(&p));
    }
    if (rc == 0) {
        str_reset(&p);
        str_appendf(&p, "%s/blobs", dir);
        rc = db_fsync_dir(str_cstr(&p));
        if (rc == 0)
            rc = db_fsync_dir(dir);
    }
    if (rc != 0) {
        if (p.len)
            failed = str_cstr(&p);
        *err_out = open_fail(failed, strerror(errno));
    }
    str_clear(&p);
    return rc;
}

/* ---- open / close ---- */

/* WAL + synchronous=FULL + foreign keys; journal_mode answers with the mode it really set. */
static int set_pragmas(struct store *st, const char **err_out)
{
    sqlite3_busy_timeout(st->db, DB_BUSY_TIMEOUT_MS);
    sqlite3_stmt *s = NULL;
    int rc = db_prepare(st, "PRAGMA journal_mode=WAL", &s);
    if (rc == 0 && db_step(st, s, "journal_mode") == SQLITE_ROW) {
        const char *mode = (const char *)sqlite3_column_text(s, 0);
        if (!mode || strcmp(mode, "wal") != 0)
            rc = ERR_DB;
    } else {
        rc = ERR_DB;
    }
    sqlite3_finalize(s);
    if (rc == 0)
        rc = db_exec(st, "PRAGMA synchronous=FULL");
    if (rc == 0)
        rc = db_exec(st, "PRAGMA foreign_keys=ON");
    if (rc != 0)
        *err_out = open_fail("cannot enable WAL mode", sqlite3_errmsg(st->db));
    return rc;
}

/* Returns a malloc'd copy of dir without trailing slashes (but "/" stays "/"). */
static char *dir_dup(const char *dir)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    return xstrndup(dir, n);
}

/*
 * The database holds password hashes: owner-only. Created 0600 before SQLite opens it, and an
 * older, wider file (and its -wal/-shm) tightened. SQLite gives the -wal and -shm files it
 * creates the main file's mode.
 */
static int db_file_private(const char *path, const char **err_out)
{
    /* Never open and close a database file this process may already have open: closing any
     * descriptor of a file drops the process's POSIX locks on it, SQLite's included. Only a
     * file that does not exist yet is created here; modes are set by path. */
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0)
        close(fd);
    if ((fd < 0 && errno != EEXIST) || chmod(path, 0600) != 0) {
        *err_out = open_fail(path, strerror(errno));
        return ERR_IO;
    }
    static const char *const side[] = {"-wal", "-shm"};
    int rc = 0;
    struct str p = STR_INIT;
    for (size_t i = 0; rc == 0 && i < 2; i++) {
        str_reset(&p);
        str_appendf(&p, "%s%s", path, side[i]);
        if (chmod(str_cstr(&p), 0600) != 0 && errno != ENOENT) {
            *err_out = open_fail(str_cstr(&p), strerror(errno));
            rc = ERR_IO;
        }
    }
    str_clear(&p);
    return rc;
}

int store_open(const char *data_dir, struct store **out, const char **err_out)
{
    const char *ignored;
    if (!err_out)
        err_out = &ignored;
    *out = NULL;
    if (!data_dir || !*data_dir) {
        *err_out = "empty data directory";
        return ERR_CONFIG;
    }
    struct store *st = xcalloc(1, sizeof *st);
    st->data_dir = dir_dup(data_dir);
    int rc = make_dirs(st->data_dir, err_out);
    if (rc != 0) {
        store_close(st);
        return rc;
    }
    struct str path = STR_INIT;
    str_appendf(&path, "%s/pigeon.db", st->data_dir);
    rc = db_file_private(str_cstr(&path), err_out);
    if (rc != 0) {
        str_clear(&path);
        store_close(st);
        return rc;
    }
    int src =
        sqlite3_open_v2(str_cstr(&path), &st->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (src != SQLITE_OK) {
        *err_out = open_fail(str_cstr(&path), st->db ? sqlite3_errmsg(st->db) : "out of memory");
        rc = ERR_DB;
    }
    str_clear(&path);
    if (rc == 0)
        rc = set_pragmas(st, err_out);
    if (rc == 0)
        rc = db_migrate(st, err_out);
    if (rc != 0) {
        store_close(st);
        return rc;
    }
    *out = st;
    return 0;
}

/* Closes the connection (finalising nothing: every helper finalises its statements). */
void store_close(struct store *st)
{
    if (!st)
        return;
    imap_stmts_free(st);
    for (size_t i = 0; i < DB_STMT_CACHE; i++) {
        sqlite3_finalize(st->cache[i].s);
        free(st->cache[i].sql);
    }
    if (st->db && sqlite3_close(st->db) != SQLITE_OK)
        log_err("store: close: %s", sqlite3_errmsg(st->db));
    free(st->data_dir);
    free(st);
}

const char *store_errmsg(struct store *st)
{
    return st && st->db ? sqlite3_errmsg(st->db) : "no database";
}

const char *store_data_dir(const struct store *st)
{
    return st->data_dir;
}

/* ---- statements ---- */

int db_prepare(struct store *st, const char *sql, sqlite3_stmt **out)
{
    *out = NULL;
    if (sqlite3_prepare_v2(st->db, sql, -1, out, NULL) == SQLITE_OK)
        return 0;
    log_err("store: prepare \"%.60s\": %s", sql, sqlite3_errmsg(st->db));
    return ERR_DB;
}

int db_prepare_cached(struct store *st, const char *sql, sqlite3_stmt **out)
{
    size_t free_slot = DB_STMT_CACHE;
    for (size_t i = 0; i < DB_STMT_CACHE; i++) {
        if (!st->cache[i].sql) {
            if (free_slot == DB_STMT_CACHE)
                free_slot = i;
        } else if (!st->cache[i].in_use && strcmp(st->cache[i].sql, sql) == 0) {
            st->cache[i].in_use = true;
            *out = st->cache[i].s;
            return 0;
        }
    }
    int rc = db_prepare(st, sql, out);
    if (rc == 0 && free_slot < DB_STMT_CACHE) { /* a full cache: finalized after use */
        st->cache[free_slot].sql = xstrdup(sql);
        st->cache[free_slot].s = *out;
        st->cache[free_slot].in_use = true;
    }
    return rc;
}

void db_done(struct store *st, sqlite3_stmt *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < DB_STMT_CACHE; i++)
        if (st->cache[i].s == s) {
            sqlite3_reset(s); /* no read transaction stays open behind a kept statement */
            sqlite3_clear_bindings(s);
            st->cache[i].in_use = false;
            return;
        }
    sqlite3_finalize(s);
}

int db_exec(struct store *st, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(st->db, sql, NULL, NULL, &msg);
    if (rc == SQLITE_OK)
        return 0;
    log_err("store: \"%.60s\": %s", sql, msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return db_err(rc);
}

int db_bind_text(sqlite3_stmt *s, int i, const char *text)
{
    return sqlite3_bind_text(s, i, text, -1, SQLITE_TRANSIENT) == SQLITE_OK ? 0 : ERR_DB;
}

int db_bind_int64(sqlite3_stmt *s, int i, int64_t v)
{
    return sqlite3_bind_int64(s, i, v) == SQLITE_OK ? 0 : ERR_DB;
}

int db_step(struct store *st, sqlite3_stmt *s, const char *what)
{
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        return rc;
    /* A constraint failure is an expected answer ("exists"), not an incident. */
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        log_debug("store: %s: %s", what, sqlite3_errmsg(st->db));
    else
        log_err("store: %s: %s", what, sqlite3_errmsg(st->db));
    return rc;
}

int db_err(int sqlite_rc)
{
    int primary = sqlite_rc & 0xff;
    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
        return ERR_AGAIN;
    return ERR_DB;
}

int db_query_int64(struct store *st, const char *sql, const char *p1, int64_t *v_out)
{
    sqlite3_stmt *s;
    int rc = db_prepare_cached(st, sql, &s);
    if (rc != 0)
        return rc;
    if (p1)
        rc = db_bind_text(s, 1, p1);
    if (rc == 0) {
        int src = db_step(st, s, "query");
        if (src == SQLITE_ROW)
            *v_out = sqlite3_column_int64(s, 0);
        else
            rc = src == SQLITE_DONE ? ERR_NOTFOUND : db_err(src);
    }
    db_done(st, s);
    return rc;
}

/* ---- transactions ---- */

int db_begin(struct store *st)
{
    int rc = SQLITE_BUSY;
    /* The busy handler already waited DB_BUSY_TIMEOUT_MS; a few more rounds ride out a long
     * CLI transaction or a checkpoint. */
    for (int i = 0; i < DB_BEGIN_TRIES && (rc & 0xff) == SQLITE_BUSY; i++)
        rc = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        return 0;
    log_err("store: begin: %s", sqlite3_errmsg(st->db));
    return db_err(rc);
}

int db_commit(struct store *st)
{
    int rc = sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        return 0;
    log_err("store: commit: %s", sqlite3_errmsg(st->db));
    db_rollback(st);
    return db_err(rc);
}

void db_rollback(struct store *st)
{
    if (sqlite3_get_autocommit(st->db))
        return; /* SQLite already rolled back (e.g. after an I/O error) */
    if (sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK)
        log_err("store: rollback: %s", sqlite3_errmsg(st->db));
}

/* ---- utilities ---- */

/* True when every byte is printable ASCII or UTF-8 (no controls, spaces or DEL). */
static int name_bytes_ok(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x21 || c == 0x7f)
            return 0;
    }
    return 1;
}

char *db_address_norm(const char *address, const char **domain_out)
{
    if (!address || !name_bytes_ok(address))
        return NULL;
    const char *at = strrchr(address, '@');
    if (!at || at == address || at[1] == '\0')
        return NULL;
    char *copy = xstrdup(address);
    ascii_lower(copy, strlen(copy));
    if (domain_out)
        *domain_out = copy + (at - address) + 1;
    return copy;
}

char *db_domain_norm(const char *domain)
{
    if (!domain || !name_bytes_ok(domain) || strchr(domain, '@'))
        return NULL;
    size_t n = strlen(domain);
    if (n > 0 && domain[n - 1] == '.') /* "example.org." names the same domain */
        n--;
    if (n == 0)
        return NULL;
    char *copy = xstrndup(domain, n);
    ascii_lower(copy, n);
    return copy;
}

int64_t db_now(void)
{
    return (int64_t)time(NULL);
}
