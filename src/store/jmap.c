/* store/jmap — see jmap.h: snapshots of a user's mailboxes and messages for JMAP. */
#include "store/jmap.h"

#include "store/db.h"

#include "core/err.h"

#include <stdlib.h>

int store_jmap_mailboxes(struct store *st, const char *user,
                         void (*cb)(void *ctx, const struct store_jmap_mailbox *m), void *ctx)
{
    char *addr = db_address_norm(user, NULL);
    if (!addr)
        return ERR_NOTFOUND;
    sqlite3_stmt *s;
    int rc = db_prepare_cached(
        st,
        "SELECT mb.id, mb.name, mb.special_use, mb.highestmodseq, mb.uidnext, mb.uidvalidity, "
        "  EXISTS (SELECT 1 FROM subscriptions sub WHERE sub.user_id = u.id AND "
        "     sub.name = mb.name) "
        "FROM mailboxes mb JOIN users u ON u.id = mb.user_id WHERE u.address = ? "
        "ORDER BY mb.name",
        &s);
    if (rc != 0) {
        free(addr);
        return rc;
    }
    int src = db_bind_text(s, 1, addr) ? SQLITE_ERROR : SQLITE_ROW;
    bool any = false;
    while (src == SQLITE_ROW && (src = db_step(st, s, "jmap mailboxes")) == SQLITE_ROW) {
        struct store_jmap_mailbox m = {
            .id = sqlite3_column_int64(s, 0),
            .name = (const char *)sqlite3_column_text(s, 1),
            .special_use = (const char *)sqlite3_column_text(s, 2),
            .highestmodseq = sqlite3_column_int64(s, 3),
            .uidnext = sqlite3_column_int64(s, 4),
            .uidvalidity = sqlite3_column_int64(s, 5),
            .subscribed = sqlite3_column_int64(s, 6) != 0,
        };
        any = true;
        cb(ctx, &m);
    }
    db_done(st, s);
    free(addr);
    if (src != SQLITE_DONE)
        return db_err(src);
    return any ? 0 : ERR_NOTFOUND;
}

int store_jmap_messages(struct store *st, const char *user, int64_t mailbox_id,
                        void (*cb)(void *ctx, const struct store_jmap_msg *m), void *ctx)
{
    char *addr = db_address_norm(user, NULL);
    if (!addr)
        return ERR_NOTFOUND;
    sqlite3_stmt *s;
    int rc = db_prepare_cached(st,
                        "SELECT m.mailbox_id, m.uid, m.modseq, m.size, m.internal_date, m.flags, "
                        "  m.blob_id, t.thread_id FROM messages m "
                        "  JOIN mailboxes mb ON mb.id = m.mailbox_id "
                        "  JOIN users u ON u.id = mb.user_id "
                        "  LEFT JOIN jmap_threads t ON t.mailbox_id = m.mailbox_id AND "
                        "    t.uid = m.uid AND t.blob_id = m.blob_id AND t.user_id = u.id "
                        "WHERE u.address = ?1 AND (?2 = 0 OR m.mailbox_id = ?2) "
                        "ORDER BY m.mailbox_id, m.uid",
                        &s);
    if (rc != 0) {
        free(addr);
        return rc;
    }
    int src = db_bind_text(s, 1, addr) || db_bind_int64(s, 2, mailbox_id) ? SQLITE_ERROR
                                                                           : SQLITE_ROW;
    while (src == SQLITE_ROW && (src = db_step(st, s, "jmap messages")) == SQLITE_ROW) {
        const char *flags = (const char *)sqlite3_column_text(s, 5);
        struct store_jmap_msg m = {
            .mailbox_id = sqlite3_column_int64(s, 0),
            .uid = sqlite3_column_int64(s, 1),
            .modseq = sqlite3_column_int64(s, 2),
            .size = sqlite3_column_int64(s, 3),
            .internal_date = sqlite3_column_int64(s, 4),
            .flags = flags ? flags : "",
            .blob_id = (const char *)sqlite3_column_text(s, 6),
            .thread_id = sqlite3_column_int64(s, 7), /* NULL: 0, not placed yet */
        };
        cb(ctx, &m);
    }
    db_done(st, s);
    free(addr);
    return src == SQLITE_DONE ? 0 : db_err(src);
}

int store_jmap_blob_owned(struct store *st, const char *user, const char *blob_id)
{
    char *addr = db_address_norm(user, NULL);
    if (!addr)
        return 0;
    sqlite3_stmt *s;
    int rc = db_prepare_cached(st,
                        "SELECT 1 FROM messages m JOIN mailboxes mb ON mb.id = m.mailbox_id "
                        "JOIN users u ON u.id = mb.user_id WHERE u.address = ? AND m.blob_id = ? "
                        "LIMIT 1",
                        &s);
    if (rc == 0) {
        int src = db_bind_text(s, 1, addr) || db_bind_text(s, 2, blob_id)
                      ? SQLITE_ERROR
                      : db_step(st, s, "jmap blob");
        rc = src == SQLITE_ROW ? 1 : src == SQLITE_DONE ? 0 : db_err(src);
        db_done(st, s);
    }
    free(addr);
    return rc;
}
