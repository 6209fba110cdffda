/*
 * user — local accounts: "local@domain" (stored lower-cased), a crypt(3) password hash, and the
 * default mailboxes created with each account. Never logs hashes.
 */
#include "store/db.h"

#include <stdlib.h>

#include "core/err.h"
#include "core/xmalloc.h"

/* The mailboxes every new account gets (RFC 6154 special-use attributes). */
static const struct {
    const char *name;
    const char *special_use;
} default_mailboxes[] = {
    {"INBOX", ""},        {"Sent", "\\Sent"}, {"Drafts", "\\Drafts"},
    {"Trash", "\\Trash"}, {"Junk", "\\Junk"}, {"Archive", "\\Archive"},
};

/* Inserts the users row; caller holds a transaction. */
static int user_insert(struct store *st, const char *addr, const char *domain, const char *pw_hash,
                       int64_t *id_out)
{
    int64_t domain_id = 0;
    int rc = db_query_int64(st, "SELECT id FROM domains WHERE name = ?", domain, &domain_id);
    if (rc != 0)
        return rc;
    sqlite3_stmt *s;
    rc = db_prepare(st,
                    "INSERT INTO users(domain_id, local, address, pw_hash, created) "
                    "VALUES(?, ?, ?, ?, ?)",
                    &s);
    if (rc != 0)
        return rc;
    char *local = xstrndup(addr, (size_t)(domain - 1 - addr));
    int src = SQLITE_ERROR;
    if (!db_bind_int64(s, 1, domain_id) && !db_bind_text(s, 2, local) &&
        !db_bind_text(s, 3, addr) && !db_bind_text(s, 4, pw_hash) && !db_bind_int64(s, 5, db_now()))
        src = db_step(st, s, "add user");
    free(local);
    sqlite3_finalize(s);
    if (src != SQLITE_DONE)
        return (src & 0xff) == SQLITE_CONSTRAINT ? ERR_EXISTS : db_err(src);
    *id_out = sqlite3_last_insert_rowid(st->db);
    return 0;
}

/* ERR_PARSE (bad address), ERR_NOTFOUND (no such domain), ERR_EXISTS, or 0. */
int store_user_add(struct store *st, const char *address, const char *pw_hash)
{
    const char *domain = NULL;
    char *addr = db_address_norm(address, &domain);
    if (!addr || !pw_hash) {
        free(addr);
        return ERR_PARSE;
    }
    int rc = db_begin(st);
    if (rc != 0) {
        free(addr);
        return rc;
    }
    int64_t id = 0;
    rc = user_insert(st, addr, domain, pw_hash, &id);
    size_t n = sizeof default_mailboxes / sizeof default_mailboxes[0];
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = db_mailbox_create(st, id, default_mailboxes[i].name, default_mailboxes[i].special_use);
    if (rc == 0)
        rc = db_commit(st);
    else
        db_rollback(st);
    free(addr);
    return rc;
}

/* Runs one statement with the user id bound to ?1; caller holds a transaction. */
static int exec_with_id(struct store *st, const char *sql, int64_t id)
{
    sqlite3_stmt *s;
    int rc = db_prepare(st, sql, &s);
    if (rc != 0)
        return rc;
    int src = db_bind_int64(s, 1, id) ? SQLITE_ERROR : db_step(st, s, "delete user");
    sqlite3_finalize(s);
    return src == SQLITE_DONE ? 0 : db_err(src);
}

/* Deletes rows explicitly rather than trusting ON DELETE CASCADE alone (foreign_keys is a
 * per-connection pragma a tool such as sqlite3(1) does not set). Blob files stay for
 * store_gc. ERR_NOTFOUND if no such user. */
int store_user_del(struct store *st, const char *address)
{
    static const char *const steps[] = {
        "DELETE FROM messages WHERE mailbox_id IN (SELECT id FROM mailboxes WHERE user_id = ?1)",
        "DELETE FROM expunged WHERE mailbox_id IN (SELECT id FROM mailboxes WHERE user_id = ?1)",
        "DELETE FROM mailboxes WHERE user_id = ?1",
        "DELETE FROM users WHERE id = ?1",
    };
    char *addr = db_address_norm(address, NULL);
    if (!addr)
        return ERR_NOTFOUND;
    int rc = db_begin(st);
    if (rc != 0) {
        free(addr);
        return rc;
    }
    int64_t id = 0;
    rc = db_query_int64(st, "SELECT id FROM users WHERE address = ?", addr, &id);
    for (size_t i = 0; rc == 0 && i < sizeof steps / sizeof steps[0]; i++)
        rc = exec_with_id(st, steps[i], id);
    if (rc == 0)
        rc = db_commit(st);
    else
        db_rollback(st);
    free(addr);
    return rc;
}

/* ERR_NOTFOUND if no such user. */
int store_user_set_hash(struct store *st, const char *address, const char *pw_hash)
{
    char *addr = db_address_norm(address, NULL);
    if (!addr || !pw_hash) {
        free(addr);
        return addr ? ERR_PARSE : ERR_NOTFOUND;
    }
    sqlite3_stmt *s;
    int rc = db_prepare(st, "UPDATE users SET pw_hash = ? WHERE address = ?", &s);
    if (rc == 0) {
        int src = SQLITE_ERROR;
        if (!db_bind_text(s, 1, pw_hash) && !db_bind_text(s, 2, addr))
            src = db_step(st, s, "set hash");
        if (src != SQLITE_DONE)
            rc = db_err(src);
        else if (sqlite3_changes(st->db) == 0)
            rc = ERR_NOTFOUND;
        sqlite3_finalize(s);
    }
    free(addr);
    return rc;
}

/* *hash_out is malloc'd (caller frees); untouched on error. */
int store_user_get_hash(struct store *st, const char *address, char **hash_out)
{
    char *addr = db_address_norm(address, NULL);
    if (!addr)
        return ERR_NOTFOUND;
    sqlite3_stmt *s;
    int rc = db_prepare(st, "SELECT pw_hash FROM users WHERE address = ?", &s);
    if (rc == 0) {
        int src = db_bind_text(s, 1, addr) ? SQLITE_ERROR : db_step(st, s, "get hash");
        if (src == SQLITE_ROW)
            *hash_out = xstrdup((const char *)sqlite3_column_text(s, 0));
        else
            rc = src == SQLITE_DONE ? ERR_NOTFOUND : db_err(src);
        sqlite3_finalize(s);
    }
    free(addr);
    return rc;
}

/* ERR_NOTFOUND if no such user (or the address is malformed). */
int store_user_lookup(struct store *st, const char *address, int64_t *id_out)
{
    char *addr = db_address_norm(address, NULL);
    if (!addr)
        return ERR_NOTFOUND;
    int rc = db_query_int64(st, "SELECT id FROM users WHERE address = ?", addr, id_out);
    free(addr);
    return rc;
}

int store_user_address(struct store *st, int64_t id, char **address_out)
{
    sqlite3_stmt *s;
    int rc = db_prepare_cached(st, "SELECT address FROM users WHERE id = ?", &s);
    if (rc != 0)
        return rc;
    if (db_bind_int64(s, 1, id)) {
        db_done(st, s);
        return ERR_DB;
    }
    int src = db_step(st, s, "user address");
    if (src == SQLITE_ROW)
        *address_out = xstrdup((const char *)sqlite3_column_text(s, 0));
    db_done(st, s);
    return src == SQLITE_ROW ? 0 : src == SQLITE_DONE ? ERR_NOTFOUND : db_err(src);
}

/* cb gets each address (valid only during the call) in order; it must not modify the store.
 * ERR_NOTFOUND when domain is given and does not exist. */
int store_user_list(struct store *st, const char *domain,
                    void (*cb)(void *ctx, const char *address), void *ctx)
{
    char *name = NULL;
    if (domain) {
        name = db_domain_norm(domain);
        int rc = name ? store_domain_exists(st, name) : 0;
        if (rc <= 0) {
            free(name);
            return rc < 0 ? rc : ERR_NOTFOUND;
        }
    }
    sqlite3_stmt *s;
    int rc = db_prepare(st,
                        "SELECT u.address FROM users u JOIN domains d ON d.id = u.domain_id "
                        "WHERE ?1 IS NULL OR d.name = ?1 ORDER BY u.address",
                        &s);
    if (rc == 0) {
        int src = name && db_bind_text(s, 1, name) ? SQLITE_ERROR : SQLITE_ROW;
        while (src == SQLITE_ROW && (src = db_step(st, s, "list users")) == SQLITE_ROW)
            cb(ctx, (const char *)sqlite3_column_text(s, 0));
        rc = src == SQLITE_DONE ? 0 : db_err(src);
        sqlite3_finalize(s);
    }
    free(name);
    return rc;
}
