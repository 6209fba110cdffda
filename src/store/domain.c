/*
 * domain — the local domains Pigeon accepts mail for. Names are stored lower-cased, without a
 * trailing dot.
 */
#include "store/db.h"

#include <stdlib.h>

#include "core/err.h"

/* ERR_PARSE for an invalid name, ERR_EXISTS if present. */
int store_domain_add(struct store *st, const char *domain)
{
    char *name = db_domain_norm(domain);
    if (!name)
        return ERR_PARSE;
    sqlite3_stmt *s;
    int rc = db_prepare(st, "INSERT INTO domains(name, created) VALUES(?, ?)", &s);
    if (rc == 0) {
        int src = SQLITE_ERROR;
        if (!db_bind_text(s, 1, name) && !db_bind_int64(s, 2, db_now()))
            src = db_step(st, s, "add domain");
        if (src != SQLITE_DONE)
            rc = (src & 0xff) == SQLITE_CONSTRAINT ? ERR_EXISTS : db_err(src);
        sqlite3_finalize(s);
    }
    free(name);
    return rc;
}

/* Runs inside the caller's transaction: ERR_NOTFOUND, ERR_BUSY_STATE (has users) or deletes. */
static int domain_del_locked(struct store *st, const char *name)
{
    int64_t id = 0, users = 0;
    int rc = db_query_int64(st, "SELECT id FROM domains WHERE name = ?", name, &id);
    if (rc == 0)
        rc = db_query_int64(st,
                            "SELECT count(*) FROM users WHERE domain_id = "
                            "(SELECT id FROM domains WHERE name = ?)",
                            name, &users);
    if (rc == 0 && users > 0)
        rc = ERR_BUSY_STATE;
    if (rc != 0)
        return rc;
    sqlite3_stmt *s;
    rc = db_prepare(st, "DELETE FROM domains WHERE id = ?", &s);
    if (rc == 0) {
        int src = db_bind_int64(s, 1, id) ? SQLITE_ERROR : db_step(st, s, "delete domain");
        if (src != SQLITE_DONE)
            rc = db_err(src);
        sqlite3_finalize(s);
    }
    return rc;
}

/* ERR_NOTFOUND if absent; ERR_BUSY_STATE while the domain still has users. */
int store_domain_del(struct store *st, const char *domain)
{
    char *name = db_domain_norm(domain);
    if (!name)
        return ERR_NOTFOUND;
    int rc = db_begin(st);
    if (rc == 0) {
        rc = domain_del_locked(st, name);
        if (rc == 0)
            rc = db_commit(st);
        else
            db_rollback(st);
    }
    free(name);
    return rc;
}

/* 1 yes, 0 no (also for an invalid name), <0 error. */
int store_domain_exists(struct store *st, const char *domain)
{
    char *name = db_domain_norm(domain);
    if (!name)
        return 0;
    int64_t one = 0;
    int rc = db_query_int64(st, "SELECT 1 FROM domains WHERE name = ?", name, &one);
    free(name);
    if (rc == ERR_NOTFOUND)
        return 0;
    return rc == 0 ? 1 : rc;
}

/* cb gets each name (valid only during the call) in alphabetical order; it must not modify
 * the store through st. */
int store_domain_list(struct store *st, void (*cb)(void *ctx, const char *domain), void *ctx)
{
    sqlite3_stmt *s;
    int rc = db_prepare(st, "SELECT name FROM domains ORDER BY name", &s);
    if (rc != 0)
        return rc;
    int src;
    while ((src = db_step(st, s, "list domains")) == SQLITE_ROW)
        cb(ctx, (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return src == SQLITE_DONE ? 0 : db_err(src);
}
