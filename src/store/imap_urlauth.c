/*
 * imap_urlauth — URLAUTH mailbox access keys (store/imap_urlauth.h).
 */
#include "store/imap_urlauth.h"

#include "store/db.h"
#include "store/imap.h"
#include "store/imap_int.h"

#include "core/err.h"

#include <openssl/rand.h>
#include <string.h>

static int owner(struct store *st, const char *user, const char *name, int64_t *user_id,
                 int64_t *mailbox_id)
{
    int rc = store_user_lookup(st, user, user_id);
    return rc == 0 ? store_imap_mailbox_id(st, user, name, mailbox_id) : rc;
}

/* The key row of (uid, mid): 0, ERR_NOTFOUND or ERR_DB. */
static int read_key(struct store *st, int64_t uid, int64_t mid, unsigned char *key)
{
    sqlite3_stmt *s;
    int rc = db_prepare_cached(st,
                               "SELECT key FROM imap_urlauth_keys WHERE user_id = ? AND "
                               "mailbox_id = ?",
                               &s);
    if (rc != 0)
        return rc;
    int src = db_bind_int64(s, 1, uid) || db_bind_int64(s, 2, mid)
                  ? SQLITE_ERROR
                  : db_step(st, s, "read urlauth key");
    if (src == SQLITE_ROW && sqlite3_column_bytes(s, 0) == STORE_URLAUTH_KEY_LEN)
        memcpy(key, sqlite3_column_blob(s, 0), STORE_URLAUTH_KEY_LEN);
    rc = src == SQLITE_ROW    ? (sqlite3_column_bytes(s, 0) == STORE_URLAUTH_KEY_LEN ? 0 : ERR_DB)
         : src == SQLITE_DONE ? ERR_NOTFOUND
                              : db_err(src);
    db_done(st, s);
    return rc;
}

/* A fresh random key for (uid, mid), replacing any. */
static int new_key(struct store *st, int64_t uid, int64_t mid, unsigned char *key)
{
    if (RAND_bytes(key, STORE_URLAUTH_KEY_LEN) != 1)
        return ERR_IO;
    sqlite3_stmt *s;
    int rc = db_prepare_cached(st,
                               "INSERT OR REPLACE INTO imap_urlauth_keys(user_id, mailbox_id, key) "
                               "VALUES (?, ?, ?)",
                               &s);
    if (rc != 0)
        return rc;
    int src =
        db_bind_int64(s, 1, uid) || db_bind_int64(s, 2, mid) ||
                sqlite3_bind_blob(s, 3, key, STORE_URLAUTH_KEY_LEN, SQLITE_STATIC) != SQLITE_OK
            ? SQLITE_ERROR
            : db_step(st, s, "store urlauth key");
    db_done(st, s);
    return src == SQLITE_DONE ? 0 : db_err(src);
}

int store_imap_urlauth_key(struct store *st, const char *user, const char *name, bool create,
                           unsigned char key_out[STORE_URLAUTH_KEY_LEN])
{
    bool nested = false;
    int rc = create ? imap_op_begin(st, &nested) : imap_read_begin(st);
    if (rc != 0)
        return rc;
    int64_t uid = 0, mid = 0;
    rc = owner(st, user, name, &uid, &mid);
    if (rc == 0) {
        rc = read_key(st, uid, mid, key_out);
        if (rc == ERR_NOTFOUND && create)
            rc = new_key(st, uid, mid, key_out);
    }
    return create ? imap_op_end(st, rc, nested) : imap_read_end(st, rc);
}

int store_imap_urlauth_reset(struct store *st, const char *user, const char *name)
{
    bool nested;
    int rc = imap_op_begin(st, &nested);
    if (rc != 0)
        return rc;
    int64_t uid = 0, mid = 0;
    unsigned char key[STORE_URLAUTH_KEY_LEN];
    if (name) {
        rc = owner(st, user, name, &uid, &mid);
        if (rc == 0)
            rc = new_key(st, uid, mid, key);
        explicit_bzero(key, sizeof key);
        return imap_op_end(st, rc, nested);
    }
    rc = store_user_lookup(st, user, &uid);
    sqlite3_stmt *s = NULL;
    if (rc == 0)
        rc = db_prepare_cached(st, "DELETE FROM imap_urlauth_keys WHERE user_id = ?", &s);
    if (rc == 0) {
        int src = db_bind_int64(s, 1, uid) ? SQLITE_ERROR : db_step(st, s, "reset urlauth keys");
        rc = src == SQLITE_DONE ? 0 : db_err(src);
        db_done(st, s);
    }
    return imap_op_end(st, rc, nested);
}
