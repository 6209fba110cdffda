/*
 * imap_mailboxes — the user's mailbox tree for IMAP (store/imap.h): CREATE, DELETE, RENAME
 * (INBOX semantics of RFC 3501 §6.3.5), subscriptions, LIST and STATUS.
 *
 * A name's inferiors are the names that start with it and "/": matched with substr() rather
 * than LIKE, whose wildcards ("_") may appear in names.
 */
#include "store/imap.h"

#include "store/db.h"
#include "store/imap_int.h"

#include "core/err.h"
#include "core/log.h"
#include "core/str.h"

#include <string.h>

/* ---- helpers ---- */

/* Runs a prepared statement to completion with no rows expected; finalizes it. */
static int step_done(struct store *st, sqlite3_stmt *s, const char *what)
{
    int src = db_step(st, s, what);
    sqlite3_finalize(s);
    if (src == SQLITE_DONE)
        return 0;
    return (src & 0xff) == SQLITE_CONSTRAINT ? ERR_EXISTS : db_err(src);
}

/* The id of user's mailbox name; ERR_NOTFOUND when absent. Caller holds a transaction or not. */
static int mailbox_find(struct store *st, int64_t user_id, const char *name, int64_t *id_out)
{
    sqlite3_stmt *s;
    int rc = db_prepare(st, "SELECT id FROM mailboxes WHERE user_id = ? AND name = ?", &s);
    if (rc != 0)
        return rc;
    int src = SQLITE_ERROR;
    if (!db_bind_int64(s, 1, user_id) && !db_bind_text(s, 2, name))
        src = db_step(st, s, "find mailbox");
    if (src == SQLITE_ROW)
        *id_out = sqlite3_column_int64(s, 0);
    else
        rc = src == SQLITE_DONE ? ERR_NOTFOUND : db_err(src);
    sqlite3_finalize(s);
    return rc;
}

/* Creates name unless it exists; unsubscribed (CREATE does not subscribe). */
static int create_one(struct store *st, int64_t user_id, const char *name, bool must_be_new)
{
    int64_t id;
    int rc = mailbox_find(st, user_id, name, &id);
    if (rc == 0)
        return must_be_new ? ERR_EXISTS : 0;
    if (rc != ERR_NOTFOUND)
        return rc;
    rc = db_mailbox_create(st, user_id, name, "");
    sqlite3_stmt *s;
    /* The column only seeds subscriptions for the default mailboxes (schema version 2). */
    if (rc == 0)
        rc = db_prepare(st, "UPDATE mailboxes SET subscribed = 0 WHERE user_id = ? AND name = ?",
                        &s);
    if (rc == 0) {
        if (db_bind_int64(s, 1, user_id) || db_bind_text(s, 2, name)) {
            sqlite3_finalize(s);
            return ERR_DB;
        }
        rc = step_done(st, s, "unsubscribe new mailbox");
    }
    return rc;
}

/* Creates every superior level of name ("a" and "a/b" for "a/b/c") that is missing. */
static int create_parents(struct store *st, int64_t user_id, const char *name)
{
    struct str part = STR_INIT;
    int rc = 0;
    for (const char *p = strchr(name, '/'); rc == 0 && p; p = strchr(p + 1, '/')) {
        str_reset(&part);
        str_append(&part, name, (size_t)(p - name));
        rc = create_one(st, user_id, str_cstr(&part), false);
    }
    str_clear(&part);
    return rc;
}

/* Runs fn as one write (its own transaction, or a savepoint of a batch). */
struct txn_args {
    int64_t user_id;
    const char *a, *b;
    bool on;
    int64_t id_out;
};

static int in_txn(struct store *st, const char *user, struct txn_args *t,
                  int (*fn)(struct store *st, struct txn_args *t))
{
    int rc = store_user_lookup(st, user, &t->user_id);
    if (rc != 0)
        return rc;
    bool nested;
    rc = imap_op_begin(st, &nested);
    if (rc != 0)
        return rc;
    return imap_op_end(st, fn(st, t), nested);
}

/* ---- CREATE ---- */

static int create_txn(struct store *st, struct txn_args *t)
{
    int rc = create_parents(st, t->user_id, t->a);
    return rc ? rc : create_one(st, t->user_id, t->a, true);
}

int store_imap_create(struct store *st, const char *user, const char *name)
{
    struct txn_args t = {.a = name};
    return in_txn(st, user, &t, create_txn);
}

/* ---- DELETE ---- */

static int has_inferiors(struct store *st, int64_t user_id, const char *name, bool *yes)
{
    sqlite3_stmt *s;
    int rc = db_prepare(st,
                        "SELECT 1 FROM mailboxes WHERE user_id = ?1 AND "
                        "substr(name, 1, length(?2) + 1) = ?2 || '/' LIMIT 1",
                        &s);
    if (rc != 0)
        return rc;
    int src = SQLITE_ERROR;
    if (!db_bind_int64(s, 1, user_id) && !db_bind_text(s, 2, name))
        src = db_step(st, s, "inferiors");
    *yes = src == SQLITE_ROW;
    sqlite3_finalize(s);
    return src == SQLITE_ROW || src == SQLITE_DONE ? 0 : db_err(src);
}

static int delete_txn(struct store *st, struct txn_args *t)
{
    int rc = mailbox_find(st, t->user_id, t->a, &t->id_out);
    bool inferiors = false;
    if (rc == 0)
        rc = has_inferiors(st, t->user_id, t->a, &inferiors);
    if (rc == 0 && inferiors)
        rc = ERR_BUSY_STATE;
    /* Rows first (foreign keys cascade too, but the CLI may run without them). */
    static const char *const sql[] = {
        "DELETE FROM messages WHERE mailbox_id = ?",
        "DELETE FROM expunged WHERE mailbox_id = ?",
        "DELETE FROM mailboxes WHERE id = ?",
    };
    for (size_t i = 0; rc == 0 && i < sizeof sql / sizeof sql[0]; i++) {
        sqlite3_stmt *s;
        rc = db_prepare(st, sql[i], &s);
        if (rc == 0 && db_bind_int64(s, 1, t->id_out)) {
            sqlite3_finalize(s);
            rc = ERR_DB;
        } else if (rc == 0) {
            rc = step_done(st, s, "delete mailbox");
        }
    }
    return rc;
}

int store_imap_delete(struct store *st, const char *user, const char *name, int64_t *id_out)
{
    struct txn_args t = {.a = name};
    int rc = in_txn(st, user, &t, delete_txn);
    if (rc == 0 && id_out)
        *id_out = t.id_out;
    return rc;
}

/* ---- RENAME ---- */

/* RFC 3501 §6.3.5: INBOX's messages move to the new mailbox; INBOX stays, empty. */
static int rename_inbox(struct store *st, struct txn_args *t)
{
    int64_t inbox = 0, dest = 0;
    int rc = mailbox_find(st, t->user_id, "INBOX", &inbox);
    if (rc == 0)
        rc = create_parents(st, t->user_id, t->b);
    if (rc == 0)
        rc = create_one(st, t->user_id, t->b, true);
    if (rc == 0)
        rc = mailbox_find(st, t->user_id, t->b, &dest);
    static const char *const sql[] = {
        /* ?1 INBOX, ?2 the new mailbox */
        "INSERT INTO messages(mailbox_id, uid, blob_id, msg_id, size, internal_date, date_tz, "
        "flags, modseq) SELECT ?2, row_number() OVER (ORDER BY uid), blob_id, msg_id, size, "
        "internal_date, date_tz, flags, 1 FROM messages WHERE mailbox_id = ?1",
        "UPDATE mailboxes SET uidnext = 1 + (SELECT count(*) FROM messages WHERE mailbox_id = "
        "?2), highestmodseq = 1 WHERE id = ?2",
        "UPDATE mailboxes SET highestmodseq = highestmodseq + 1 WHERE id = ?1 AND ?2 = ?2",
        "INSERT OR REPLACE INTO expunged(mailbox_id, uid, modseq) SELECT ?1, uid, "
        "(SELECT highestmodseq FROM mailboxes WHERE id = ?1) FROM messages WHERE mailbox_id = "
        "?1 AND ?2 = ?2",
        "DELETE FROM messages WHERE mailbox_id = ?1 AND ?2 = ?2",
    };
    for (size_t i = 0; rc == 0 && i < sizeof sql / sizeof sql[0]; i++) {
        sqlite3_stmt *s;
        rc = db_prepare(st, sql[i], &s);
        if (rc == 0 && (db_bind_int64(s, 1, inbox) || db_bind_int64(s, 2, dest))) {
            sqlite3_finalize(s);
            rc = ERR_DB;
        } else if (rc == 0) {
            rc = step_done(st, s, "rename INBOX");
        }
    }
    t->id_out = inbox;
    return rc;
}

static int rename_txn(struct store *st, struct txn_args *t)
{
    size_t flen = strlen(t->a);
    if (strncmp(t->b, t->a, flen) == 0 && t->b[flen] == '/')
        return ERR_PARSE; /* into itself */
    if (strcmp(t->a, "INBOX") == 0)
        return rename_inbox(st, t);
    int64_t id = 0;
    int rc = mailbox_find(st, t->user_id, t->a, &id);
    if (rc == 0 && mailbox_find(st, t->user_id, t->b, &id) == 0)
        rc = ERR_EXISTS;
    if (rc == 0)
        rc = create_parents(st, t->user_id, t->b);
    sqlite3_stmt *s = NULL;
    if (rc == 0)
        rc = db_prepare(st,
                        "UPDATE mailboxes SET name = ?3 || substr(name, length(?2) + 1) "
                        "WHERE user_id = ?1 AND (name = ?2 OR "
                        "substr(name, 1, length(?2) + 1) = ?2 || '/')",
                        &s);
    if (rc == 0) {
        if (db_bind_int64(s, 1, t->user_id) || db_bind_text(s, 2, t->a) ||
            db_bind_text(s, 3, t->b)) {
            sqlite3_finalize(s);
            return ERR_DB;
        }
        rc = step_done(st, s, "rename mailbox");
    }
    return rc;
}

int store_imap_rename(struct store *st, const char *user, const char *from, const char *to,
                      int64_t *inbox_id_out)
{
    struct txn_args t = {.a = from, .b = to};
    int rc = in_txn(st, user, &t, rename_txn);
    if (inbox_id_out)
        *inbox_id_out = rc == 0 ? t.id_out : 0;
    return rc;
}

/* ---- subscriptions ---- */

static int subscribe_txn(struct store *st, struct txn_args *t)
{
    sqlite3_stmt *s;
    int rc = db_prepare(st,
                        t->on ? "INSERT OR IGNORE INTO subscriptions(user_id, name) VALUES(?, ?)"
                              : "DELETE FROM subscriptions WHERE user_id = ? AND name = ?",
                        &s);
    if (rc != 0)
        return rc;
    if (db_bind_int64(s, 1, t->user_id) || db_bind_text(s, 2, t->a)) {
        sqlite3_finalize(s);
        return ERR_DB;
    }
    return step_done(st, s, "subscribe");
}

int store_imap_subscribe(struct store *st, const char *user, const char *name, bool on)
{
    struct txn_args t = {.a = name, .on = on};
    return in_txn(st, user, &t, subscribe_txn);
}

/* ---- LIST ---- */

int store_imap_list(struct store *st, const char *user,
                    void (*cb)(void *ctx, const struct store_imap_name *n), void *ctx)
{
    int64_t uid;
    int rc = store_user_lookup(st, user, &uid);
    if (rc != 0)
        return rc;
    sqlite3_stmt *s;
    rc = db_prepare(st,
                    "SELECT m.name, m.special_use, s.name IS NOT NULL, 1 FROM mailboxes m "
                    "LEFT JOIN subscriptions s ON s.user_id = m.user_id AND s.name = m.name "
                    "WHERE m.user_id = ?1 "
                    "UNION ALL SELECT s.name, '', 1, 0 FROM subscriptions s WHERE s.user_id = ?1 "
                    "AND NOT EXISTS (SELECT 1 FROM mailboxes m WHERE m.user_id = ?1 AND "
                    "m.name = s.name) ORDER BY 1",
                    &s);
    if (rc != 0)
        return rc;
    int src = db_bind_int64(s, 1, uid) ? SQLITE_ERROR : SQLITE_ROW;
    while (src == SQLITE_ROW && (src = db_step(st, s, "list mailboxes")) == SQLITE_ROW) {
        const char *su = (const char *)sqlite3_column_text(s, 1);
        struct store_imap_name n = {
            .name = (const char *)sqlite3_column_text(s, 0),
            .special_use = su ? su : "",
            .subscribed = sqlite3_column_int(s, 2) != 0,
            .exists = sqlite3_column_int(s, 3) != 0,
        };
        if (n.name)
            cb(ctx, &n);
    }
    sqlite3_finalize(s);
    return src == SQLITE_DONE ? 0 : db_err(src);
}

int store_imap_mailbox_id(struct store *st, const char *user, const char *name, int64_t *id_out)
{
    int64_t uid;
    int rc = store_user_lookup(st, user, &uid);
    return rc ? rc : mailbox_find(st, uid, name, id_out);
}

/* ---- STATUS ---- */

int store_imap_status(struct store *st, const char *user, const char *name,
                      struct store_imap_status *out)
{
    int64_t uid;
    int rc = store_user_lookup(st, user, &uid);
    if (rc != 0)
        return rc;
    sqlite3_stmt *s;
    rc = db_prepare(st,
                    "SELECT mb.id, mb.uidnext, mb.uidvalidity, mb.highestmodseq, count(m.uid), "
                    "coalesce(sum(m.uid > mb.recent_uid), 0), "
                    "coalesce(sum(instr(' ' || m.flags || ' ', ' \\Seen ') = 0), 0), "
                    "coalesce(sum(instr(' ' || m.flags || ' ', ' \\Deleted ') > 0), 0), "
                    "coalesce(sum(m.size), 0) "
                    "FROM mailboxes mb LEFT JOIN messages m ON m.mailbox_id = mb.id "
                    "WHERE mb.user_id = ? AND mb.name = ? GROUP BY mb.id",
                    &s);
    if (rc != 0)
        return rc;
    int src = SQLITE_ERROR;
    if (!db_bind_int64(s, 1, uid) && !db_bind_text(s, 2, name))
        src = db_step(st, s, "status");
    if (src == SQLITE_ROW) {
        *out = (struct store_imap_status){
            .id = sqlite3_column_int64(s, 0),
            .uidnext = sqlite3_column_int64(s, 1),
            .uidvalidity = sqlite3_column_int64(s, 2),
            .highestmodseq = sqlite3_column_int64(s, 3),
            .messages = sqlite3_column_int64(s, 4),
            .recent = sqlite3_column_int64(s, 5),
            .unseen = sqlite3_column_int64(s, 6),
            .deleted = sqlite3_column_int64(s, 7),
            .size = sqlite3_column_int64(s, 8),
        };
        rc = 0;
    } else {
        rc = src == SQLITE_DONE ? ERR_NOTFOUND : db_err(src);
    }
    sqlite3_finalize(s);
    return rc;
}
