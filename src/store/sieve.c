/* store sieve — see sieve.h. */
#include "store/sieve.h"

#include "store/db.h"

#include "core/err.h"
#include "core/xmalloc.h"

#include <stdlib.h>
#include <string.h>

/* Binds ?1 = user, then the given texts to ?2, ?3 ...; ends s on failure. */
static int bind_args(struct store *st, sqlite3_stmt *s, int64_t user, const char *t2,
                     const char *t3)
{
    if (db_bind_int64(s, 1, user) || (t2 && db_bind_text(s, 2, t2)) ||
        (t3 && db_bind_text(s, 3, t3))) {
        db_done(st, s);
        return ERR_DB;
    }
    return 0;
}

/* Prepares sql and binds its arguments (bind_args). Every statement is ended with db_done. */
static int prep(struct store *st, const char *sql, int64_t user, const char *t2, const char *t3,
                sqlite3_stmt **out)
{
    int rc = db_prepare(st, sql, out);
    return rc ? rc : bind_args(st, *out, user, t2, t3);
}

/* As prep, for the look-ups every delivery makes (the active script, an include, the
 * vacation memory): the connection keeps them prepared (db_prepare_cached). */
static int prep_cached(struct store *st, const char *sql, int64_t user, const char *t2,
                       const char *t3, sqlite3_stmt **out)
{
    int rc = db_prepare_cached(st, sql, out);
    return rc ? rc : bind_args(st, *out, user, t2, t3);
}

/* Runs a statement that changes rows: 0 with *changed, or ERR_DB / ERR_EXISTS (UNIQUE). */
static int change(struct store *st, sqlite3_stmt *s, const char *what, int *changed)
{
    int src = db_step(st, s, what);
    *changed = sqlite3_changes(sqlite3_db_handle(s));
    db_done(st, s);
    if ((src & 0xff) == SQLITE_CONSTRAINT)
        return ERR_EXISTS;
    return src == SQLITE_DONE ? 0 : db_err(src);
}

int store_sieve_list(struct store *st, int64_t user,
                     void (*cb)(void *ctx, const char *name, bool active, size_t size), void *ctx)
{
    sqlite3_stmt *s;
    int rc = prep(st,
                  "SELECT name, active, length(script) FROM sieve_scripts WHERE user_id = ? "
                  "ORDER BY name",
                  user, NULL, NULL, &s);
    if (rc != 0)
        return rc;
    int src;
    while ((src = db_step(st, s, "sieve list")) == SQLITE_ROW)
        cb(ctx, (const char *)sqlite3_column_text(s, 0), sqlite3_column_int(s, 1) != 0,
           (size_t)sqlite3_column_int64(s, 2));
    db_done(st, s);
    return src == SQLITE_DONE ? 0 : db_err(src);
}

/* Reads column col of the single row as a malloc'd text. */
static int one_text(struct store *st, sqlite3_stmt *s, char **name_out, char **text_out,
                    size_t *len_out)
{
    int src = db_step(st, s, "sieve get");
    int rc = src == SQLITE_ROW ? 0 : src == SQLITE_DONE ? ERR_NOTFOUND : db_err(src);
    if (rc == 0) {
        size_t n = (size_t)sqlite3_column_bytes(s, 1);
        *text_out = xmalloc(n + 1);
        if (n)
            memcpy(*text_out, sqlite3_column_blob(s, 1), n);
        (*text_out)[n] = '\0';
        *len_out = n;
        if (name_out)
            *name_out = xstrdup((const char *)sqlite3_column_text(s, 0));
    }
    db_done(st, s);
    return rc;
}

int store_sieve_get(struct store *st, int64_t user, const char *name, char **text_out,
                    size_t *len_out)
{
    sqlite3_stmt *s;
    int rc =
        prep_cached(st, "SELECT name, script FROM sieve_scripts WHERE user_id = ? AND name = ?",
                    user, name, NULL, &s);
    return rc ? rc : one_text(st, s, NULL, text_out, len_out);
}

int store_sieve_active(struct store *st, int64_t user, char **name_out, char **text_out,
                       size_t *len_out)
{
    sqlite3_stmt *s;
    int rc =
        prep_cached(st, "SELECT name, script FROM sieve_scripts WHERE user_id = ? AND active = 1",
                    user, NULL, NULL, &s);
    return rc ? rc : one_text(st, s, name_out, text_out, len_out);
}

int store_sieve_put(struct store *st, int64_t user, const char *name, const char *text,
                    size_t len)
{
    sqlite3_stmt *s;
    int rc = prep(st,
                  "INSERT INTO sieve_scripts(user_id, name, script, updated) VALUES(?, ?, ?, ?) "
                  "ON CONFLICT(user_id, name) DO UPDATE SET script = excluded.script, "
                  "updated = excluded.updated",
                  user, name, NULL, &s);
    if (rc != 0)
        return rc;
    if (sqlite3_bind_blob(s, 3, text, (int)len, SQLITE_TRANSIENT) != SQLITE_OK ||
        db_bind_int64(s, 4, db_now())) {
        db_done(st, s);
        return ERR_DB;
    }
    int changed;
    return change(st, s, "sieve put", &changed);
}

int store_sieve_activate(struct store *st, int64_t user, const char *name)
{
    int rc = db_begin(st);
    if (rc != 0)
        return rc;
    sqlite3_stmt *s;
    int changed = 0;
    rc = prep(st, "UPDATE sieve_scripts SET active = 0 WHERE user_id = ? AND active = 1", user,
              NULL, NULL, &s);
    if (rc == 0)
        rc = change(st, s, "sieve deactivate", &changed);
    if (rc == 0 && name[0]) {
        rc = prep(st, "UPDATE sieve_scripts SET active = 1 WHERE user_id = ? AND name = ?", user,
                  name, NULL, &s);
        if (rc == 0)
            rc = change(st, s, "sieve activate", &changed);
        if (rc == 0 && changed == 0)
            rc = ERR_NOTFOUND;
    }
    if (rc != 0) {
        db_rollback(st);
        return rc;
    }
    return db_commit(st);
}

int store_sieve_delete(struct store *st, int64_t user, const char *name)
{
    sqlite3_stmt *s;
    int64_t active = 0;
    int rc = prep(st, "SELECT active FROM sieve_scripts WHERE user_id = ? AND name = ?", user,
                  name, NULL, &s);
    if (rc != 0)
        return rc;
    int src = db_step(st, s, "sieve delete");
    if (src == SQLITE_ROW)
        active = sqlite3_column_int64(s, 0);
    db_done(st, s);
    if (src != SQLITE_ROW)
        return src == SQLITE_DONE ? ERR_NOTFOUND : db_err(src);
    if (active)
        return ERR_BUSY_STATE;
    int changed;
    rc = prep(st, "DELETE FROM sieve_scripts WHERE user_id = ? AND name = ? AND active = 0", user,
              name, NULL, &s);
    if (rc == 0)
        rc = change(st, s, "sieve delete", &changed);
    return rc == 0 && changed == 0 ? ERR_NOTFOUND : rc;
}

int store_sieve_rename(struct store *st, int64_t user, const char *from, const char *to)
{
    sqlite3_stmt *s;
    int changed = 0;
    int rc = prep(st, "UPDATE sieve_scripts SET name = ?3 WHERE user_id = ?1 AND name = ?2", user,
                  from, to, &s);
    if (rc == 0)
        rc = change(st, s, "sieve rename", &changed);
    return rc == 0 && changed == 0 ? ERR_NOTFOUND : rc;
}

int store_sieve_usage(struct store *st, int64_t user, int64_t *count_out, int64_t *bytes_out)
{
    sqlite3_stmt *s;
    int rc = prep(st,
                  "SELECT count(*), coalesce(sum(length(script)), 0) FROM sieve_scripts "
                  "WHERE user_id = ?",
                  user, NULL, NULL, &s);
    if (rc != 0)
        return rc;
    int src = db_step(st, s, "sieve usage");
    if (src == SQLITE_ROW) {
        *count_out = sqlite3_column_int64(s, 0);
        *bytes_out = sqlite3_column_int64(s, 1);
    }
    db_done(st, s);
    return src == SQLITE_ROW ? 0 : db_err(src);
}

int store_sieve_vacation_seen(struct store *st, int64_t user, const char *handle,
                              const char *sender, int64_t now)
{
    sqlite3_stmt *s;
    int rc = prep_cached(st,
                         "SELECT expires FROM sieve_vacation WHERE user_id = ? AND handle = ? "
                         "AND sender = lower(?)",
                         user, handle, sender, &s);
    if (rc != 0)
        return rc;
    int src = db_step(st, s, "vacation seen");
    int64_t expires = src == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    db_done(st, s);
    if (src != SQLITE_ROW && src != SQLITE_DONE)
        return db_err(src);
    return expires > now;
}
