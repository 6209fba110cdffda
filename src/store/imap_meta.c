/*
 * imap_meta — METADATA annotations (store/imap_meta.h). A descendant of "/a/b" is a row whose
 * entry lies between "/a/b/" and "/a/b0" ('0' follows '/' in ASCII): one index range, no LIKE
 * (whose "_" would match any character).
 */
#include "store/imap_meta.h"

#include "store/db.h"
#include "store/imap.h"
#include "store/imap_int.h"

#include "core/err.h"
#include "core/str.h"

#include <string.h>

/* The user's id and the mailbox's (0 for the server). */
static int owner(struct store *st, const char *user, const char *name, int64_t *user_id,
                 int64_t *mailbox_id)
{
    int rc = store_user_lookup(st, user, user_id);
    *mailbox_id = 0;
    if (rc == 0 && name)
        rc = store_imap_mailbox_id(st, user, name, mailbox_id);
    return rc;
}

static int set_one(struct store *st, int64_t uid, int64_t mid, const struct store_meta_entry *e)
{
    sqlite3_stmt *s;
    int rc = db_prepare_cached(st,
                               e->value ? "INSERT OR REPLACE INTO imap_metadata"
                                          "(user_id, mailbox_id, entry, value) VALUES (?, ?, ?, ?)"
                                        : "DELETE FROM imap_metadata WHERE user_id = ? AND "
                                          "mailbox_id = ? AND entry = ?",
                               &s);
    if (rc != 0)
        return rc;
    if (db_bind_int64(s, 1, uid) || db_bind_int64(s, 2, mid) || db_bind_text(s, 3, e->entry) ||
        (e->value && sqlite3_bind_blob(s, 4, e->value, (int)e->len, SQLITE_STATIC) != SQLITE_OK))
        rc = ERR_DB;
    int src = rc == 0 ? db_step(st, s, "set metadata") : SQLITE_ERROR;
    db_done(st, s);
    return src == SQLITE_DONE ? 0 : db_err(src);
}

int store_imap_meta_set(struct store *st, const char *user, const char *name,
                        const struct store_meta_entry *e, size_t n)
{
    bool nested;
    int rc = imap_op_begin(st, &nested);
    if (rc != 0)
        return rc;
    int64_t uid, mid;
    rc = owner(st, user, name, &uid, &mid);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = e[i].value && e[i].len > STORE_META_MAX_VALUE ? ERR_LIMIT
                                                           : set_one(st, uid, mid, &e[i]);
    if (rc == 0) {
        sqlite3_stmt *s;
        rc = db_prepare_cached(st, "SELECT count(*) FROM imap_metadata WHERE user_id = ?", &s);
        if (rc == 0) {
            int src = db_bind_int64(s, 1, uid) ? SQLITE_ERROR : db_step(st, s, "count metadata");
            rc = src != SQLITE_ROW                                     ? db_err(src)
                 : sqlite3_column_int64(s, 0) > STORE_META_MAX_ENTRIES ? ERR_LIMIT
                                                                       : 0;
            db_done(st, s);
        }
    }
    return imap_op_end(st, rc, nested);
}

/* True when row is entry or a descendant within depth (1: children, 2: any). */
static bool within(const char *row, const char *entry, size_t elen, int depth)
{
    if (row[elen] == '\0')
        return true;
    return depth >= 2 || (depth == 1 && !strchr(row + elen + 1, '/'));
}

int store_imap_meta_get(struct store *st, const char *user, const char *name, const char *entry,
                        int depth,
                        void (*cb)(void *ctx, const char *entry, const char *value, size_t len),
                        void *ctx)
{
    int rc = imap_read_begin(st);
    if (rc != 0)
        return rc;
    int64_t uid, mid;
    rc = owner(st, user, name, &uid, &mid);
    sqlite3_stmt *s = NULL;
    if (rc == 0)
        rc = db_prepare_cached(st,
                               "SELECT entry, value FROM imap_metadata WHERE user_id = ?1 AND "
                               "mailbox_id = ?2 AND (entry = ?3 OR (?4 AND entry > ?3 || '/' AND "
                               "entry < ?3 || '0')) ORDER BY entry",
                               &s);
    if (rc == 0 && (db_bind_int64(s, 1, uid) || db_bind_int64(s, 2, mid) ||
                    db_bind_text(s, 3, entry) || db_bind_int64(s, 4, depth > 0)))
        rc = ERR_DB;
    size_t elen = strlen(entry);
    int src = SQLITE_DONE;
    while (rc == 0 && (src = db_step(st, s, "get metadata")) == SQLITE_ROW) {
        const char *row = (const char *)sqlite3_column_text(s, 0);
        const void *v = sqlite3_column_blob(s, 1);
        size_t len = (size_t)sqlite3_column_bytes(s, 1);
        if (row && within(row, entry, elen, depth))
            cb(ctx, row, v ? v : "", len);
    }
    if (rc == 0 && src != SQLITE_DONE)
        rc = db_err(src);
    db_done(st, s);
    return imap_read_end(st, rc);
}
