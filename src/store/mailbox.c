/*
 * mailbox — creating mailboxes (with a never-reused UIDVALIDITY) and listing a mailbox's
 * messages. IMAP's richer mailbox operations will live beside these.
 */
#include "store/db.h"

#include <stdlib.h>
#include <strings.h>

#include "core/err.h"
#include "core/str.h"

/*
 * RFC 9051 §2.3.1.1: a (name, UIDVALIDITY) pair must never name two different mailboxes, even
 * after a delete and re-create. The value is max(now, last + 1) kept in meta: unique for this
 * database forever and still 32-bit until 2106 unless millions of mailboxes are created per
 * second. Must run inside the caller's transaction.
 */
static int next_uidvalidity(struct store *st, int64_t *v_out)
{
    sqlite3_stmt *s;
    int rc = db_prepare(st,
                        "INSERT INTO meta(key, value) VALUES('uidvalidity', ?1) "
                        "ON CONFLICT(key) DO UPDATE SET value = max(excluded.value, value + 1) "
                        "RETURNING value",
                        &s);
    if (rc != 0)
        return rc;
    int src = db_bind_int64(s, 1, db_now()) ? SQLITE_ERROR : db_step(st, s, "uidvalidity");
    if (src == SQLITE_ROW) {
        *v_out = sqlite3_column_int64(s, 0);
        src = db_step(st, s, "uidvalidity");
    }
    sqlite3_finalize(s);
    return src == SQLITE_DONE ? 0 : db_err(src);
}

/* Caller holds a transaction. ERR_EXISTS when the user has a mailbox of that name already. */
int db_mailbox_create(struct store *st, int64_t user_id, const char *name, const char *special_use)
{
    int64_t uidvalidity = 0;
    int rc = next_uidvalidity(st, &uidvalidity);
    if (rc != 0)
        return rc;
    sqlite3_stmt *s;
    rc = db_prepare(st,
                    "INSERT INTO mailboxes(user_id, name, uidvalidity, special_use, created) "
                    "VALUES(?, ?, ?, ?, ?)",
                    &s);
    if (rc != 0)
        return rc;
    int src = SQLITE_ERROR;
    if (!db_bind_int64(s, 1, user_id) && !db_bind_text(s, 2, name) &&
        !db_bind_int64(s, 3, uidvalidity) && !db_bind_text(s, 4, special_use) &&
        !db_bind_int64(s, 5, db_now()))
        src = db_step(st, s, "create mailbox");
    sqlite3_finalize(s);
    if (src == SQLITE_DONE)
        return 0;
    return (src & 0xff) == SQLITE_CONSTRAINT ? ERR_EXISTS : db_err(src);
}

/* Finds the id of address's mailbox name ("INBOX" in any case). ERR_NOTFOUND if missing. */
static int mailbox_id(struct store *st, const char *address, const char *name, int64_t *id_out)
{
    char *addr = db_address_norm(address, NULL);
    if (!addr)
        return ERR_NOTFOUND;
    /* RFC 9051 §5.1: INBOX is case-insensitive, every other name is case-sensitive. */
    if (strcasecmp(name, "INBOX") == 0)
        name = "INBOX";
    sqlite3_stmt *s;
    int rc = db_prepare(st,
                        "SELECT mb.id FROM mailboxes mb JOIN users u ON u.id = mb.user_id "
                        "WHERE u.address = ? AND mb.name = ?",
                        &s);
    if (rc == 0) {
        int src = SQLITE_ERROR;
        if (!db_bind_text(s, 1, addr) && !db_bind_text(s, 2, name))
            src = db_step(st, s, "find mailbox");
        if (src == SQLITE_ROW)
            *id_out = sqlite3_column_int64(s, 0);
        else
            rc = src == SQLITE_DONE ? ERR_NOTFOUND : db_err(src);
        sqlite3_finalize(s);
    }
    free(addr);
    return rc;
}

/*
 * The store_msg_info passed to cb (and its strings) is valid only during the call; blob_path
 * is absolute ("DATA/blobs/xx/id"). cb must not modify the store through st.
 * ERR_NOTFOUND when the user or the mailbox does not exist.
 */
int store_mailbox_messages(struct store *st, const char *address, const char *mailbox,
                           void (*cb)(void *ctx, const struct store_msg_info *m), void *ctx)
{
    int64_t mbox = 0;
    int rc = mailbox_id(st, address, mailbox, &mbox);
    if (rc != 0)
        return rc;
    sqlite3_stmt *s;
    rc = db_prepare(st,
                    "SELECT m.uid, m.size, m.internal_date, b.path, m.flags FROM messages m "
                    "JOIN blobs b ON b.id = m.blob_id WHERE m.mailbox_id = ? ORDER BY m.uid",
                    &s);
    if (rc != 0)
        return rc;
    struct str path = STR_INIT;
    int src = db_bind_int64(s, 1, mbox) ? SQLITE_ERROR : SQLITE_ROW;
    while (src == SQLITE_ROW && (src = db_step(st, s, "list messages")) == SQLITE_ROW) {
        str_reset(&path);
        str_appendf(&path, "%s/%s", st->data_dir, (const char *)sqlite3_column_text(s, 3));
        const char *flags = (const char *)sqlite3_column_text(s, 4);
        struct store_msg_info info = {
            .uid = sqlite3_column_int64(s, 0),
            .size = sqlite3_column_int64(s, 1),
            .internal_date = sqlite3_column_int64(s, 2),
            .blob_path = str_cstr(&path),
            .flags = flags ? flags : "",
        };
        cb(ctx, &info);
    }
    str_clear(&path);
    sqlite3_finalize(s);
    return src == SQLITE_DONE ? 0 : db_err(src);
}
