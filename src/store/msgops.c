/*
 * msgops — store/mailbox.h: a mailbox's messages as one snapshot, and expunging uids with a
 * new modseq (what POP3's UPDATE state and IMAP's EXPUNGE both need).
 */
#include "store/mailbox.h"

#include "store/db.h"

#include "core/err.h"
#include "core/log.h"
#include "core/str.h"

#include <stdlib.h>
#include <strings.h>
#include <time.h>

#define EXPUNGE_TRIES 3

/* The mailbox row of address's mailbox name; caller holds a (read) transaction. */
static int mailbox_row(struct store *st, const char *address, const char *name,
                       struct store_mailbox *mb)
{
    char *addr = db_address_norm(address, NULL);
    if (!addr)
        return ERR_NOTFOUND;
    /* RFC 9051 §5.1: INBOX is case-insensitive, every other name is case-sensitive. */
    if (strcasecmp(name, "INBOX") == 0)
        name = "INBOX";
    sqlite3_stmt *s;
    int rc = db_prepare(st,
                        "SELECT mb.id, mb.uidvalidity, mb.uidnext, mb.highestmodseq "
                        "FROM mailboxes mb JOIN users u ON u.id = mb.user_id "
                        "WHERE u.address = ? AND mb.name = ?",
                        &s);
    if (rc == 0) {
        int src = SQLITE_ERROR;
        if (!db_bind_text(s, 1, addr) && !db_bind_text(s, 2, name))
            src = db_step(st, s, "open mailbox");
        if (src == SQLITE_ROW) {
            mb->id = sqlite3_column_int64(s, 0);
            mb->uidvalidity = sqlite3_column_int64(s, 1);
            mb->uidnext = sqlite3_column_int64(s, 2);
            mb->highestmodseq = sqlite3_column_int64(s, 3);
        } else {
            rc = src == SQLITE_DONE ? ERR_NOTFOUND : db_err(src);
        }
        sqlite3_finalize(s);
    }
    free(addr);
    return rc;
}

static int mailbox_list(struct store *st, struct store_mailbox *mb,
                        void (*cb)(void *ctx, const struct store_mailbox_msg *m), void *ctx)
{
    sqlite3_stmt *s;
    int rc = db_prepare(st,
                        "SELECT m.uid, m.size, m.internal_date, m.modseq, b.path, m.flags "
                        "FROM messages m JOIN blobs b ON b.id = m.blob_id "
                        "WHERE m.mailbox_id = ? ORDER BY m.uid",
                        &s);
    if (rc != 0)
        return rc;
    struct str path = STR_INIT;
    int src = db_bind_int64(s, 1, mb->id) ? SQLITE_ERROR : SQLITE_ROW;
    while (src == SQLITE_ROW && (src = db_step(st, s, "list mailbox")) == SQLITE_ROW) {
        str_reset(&path);
        str_appendf(&path, "%s/%s", st->data_dir, (const char *)sqlite3_column_text(s, 4));
        const char *flags = (const char *)sqlite3_column_text(s, 5);
        struct store_mailbox_msg m = {
            .uid = sqlite3_column_int64(s, 0),
            .size = sqlite3_column_int64(s, 1),
            .internal_date = sqlite3_column_int64(s, 2),
            .modseq = sqlite3_column_int64(s, 3),
            .blob_path = str_cstr(&path),
            .flags = flags ? flags : "",
        };
        mb->exists++;
        if (cb)
            cb(ctx, &m);
    }
    str_clear(&path);
    sqlite3_finalize(s);
    return src == SQLITE_DONE ? 0 : db_err(src);
}

int store_mailbox_open(struct store *st, const char *address, const char *name,
                       struct store_mailbox *mb_out,
                       void (*cb)(void *ctx, const struct store_mailbox_msg *m), void *ctx)
{
    struct store_mailbox mb = {0};
    /* A deferred transaction: the first SELECT takes the WAL snapshot both queries read. */
    int rc = db_exec(st, "BEGIN");
    if (rc != 0)
        return rc;
    rc = mailbox_row(st, address, name, &mb);
    if (rc == 0)
        rc = mailbox_list(st, &mb, cb, ctx);
    if (rc == 0)
        rc = db_exec(st, "COMMIT");
    if (rc != 0) {
        db_rollback(st);
        return rc;
    }
    *mb_out = mb;
    return 0;
}

/* The statements of one expunge. */
struct expunge_stmts {
    sqlite3_stmt *bump; /* ?1 mailbox -> new highestmodseq */
    sqlite3_stmt *del;  /* ?1 mailbox, ?2 uid */
    sqlite3_stmt *ins;  /* ?1 mailbox, ?2 uid, ?3 modseq */
};

static void expunge_stmts_free(struct expunge_stmts *e)
{
    sqlite3_finalize(e->bump);
    sqlite3_finalize(e->del);
    sqlite3_finalize(e->ins);
}

static int expunge_stmts_prepare(struct store *st, struct expunge_stmts *e)
{
    int rc = db_prepare(st,
                        "UPDATE mailboxes SET highestmodseq = highestmodseq + 1 WHERE id = ? "
                        "RETURNING highestmodseq",
                        &e->bump);
    if (rc == 0)
        rc = db_prepare(st, "DELETE FROM messages WHERE mailbox_id = ? AND uid = ?", &e->del);
    if (rc == 0)
        rc = db_prepare(st,
                        "INSERT OR REPLACE INTO expunged(mailbox_id, uid, modseq) "
                        "VALUES(?, ?, ?)",
                        &e->ins);
    return rc;
}

static int new_modseq(struct store *st, sqlite3_stmt *bump, int64_t mbox, int64_t *modseq_out)
{
    int src = db_bind_int64(bump, 1, mbox) ? SQLITE_ERROR : db_step(st, bump, "bump modseq");
    if (src == SQLITE_DONE)
        return ERR_NOTFOUND;
    if (src != SQLITE_ROW)
        return db_err(src);
    *modseq_out = sqlite3_column_int64(bump, 0);
    src = db_step(st, bump, "bump modseq");
    return src == SQLITE_DONE ? 0 : db_err(src);
}

/* Removes one uid; *gone is set when a row was there. */
static int expunge_one(struct store *st, struct expunge_stmts *e, int64_t mbox, int64_t uid,
                       int64_t modseq, bool *gone)
{
    int src = db_bind_int64(e->del, 1, mbox) || db_bind_int64(e->del, 2, uid)
                  ? SQLITE_ERROR
                  : db_step(st, e->del, "expunge");
    sqlite3_reset(e->del);
    if (src != SQLITE_DONE)
        return db_err(src);
    *gone = sqlite3_changes(st->db) > 0;
    if (!*gone)
        return 0;
    src = db_bind_int64(e->ins, 1, mbox) || db_bind_int64(e->ins, 2, uid) ||
                  db_bind_int64(e->ins, 3, modseq)
              ? SQLITE_ERROR
              : db_step(st, e->ins, "record expunge");
    sqlite3_reset(e->ins);
    return src == SQLITE_DONE ? 0 : db_err(src);
}

/* One attempt: BEGIN IMMEDIATE, every row, COMMIT (or ROLLBACK when nothing was there). */
static int expunge_try(struct store *st, int64_t mbox, const int64_t *uids, size_t n,
                       size_t *removed)
{
    struct expunge_stmts e = {0};
    int64_t modseq = 0;
    *removed = 0;
    int rc = db_begin(st);
    if (rc != 0)
        return rc;
    rc = expunge_stmts_prepare(st, &e);
    if (rc == 0)
        rc = new_modseq(st, e.bump, mbox, &modseq);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        bool gone = false;
        rc = expunge_one(st, &e, mbox, uids[i], modseq, &gone);
        *removed += gone;
    }
    expunge_stmts_free(&e);
    if (rc != 0 || *removed == 0) {
        db_rollback(st); /* nothing removed: the modseq is not spent */
        return rc;
    }
    return db_commit(st);
}

int store_mailbox_expunge(struct store *st, int64_t mailbox_id, const int64_t *uids, size_t n,
                          size_t *removed_out)
{
    size_t removed = 0;
    int rc = n == 0 ? 0 : ERR_AGAIN;
    for (int i = 0; i < EXPUNGE_TRIES && rc == ERR_AGAIN; i++) {
        if (i > 0)
            nanosleep(&(struct timespec){0, 50000000L}, NULL); /* 50 ms */
        rc = expunge_try(st, mailbox_id, uids, n, &removed);
    }
    if (rc != 0 && rc != ERR_NOTFOUND) {
        log_err("store: expunge of %zu messages from mailbox %lld failed: %s", n,
                (long long)mailbox_id, sqlite3_errmsg(st->db));
    }
    if (rc != 0)
        removed = 0;
    if (removed_out)
        *removed_out = removed;
    return rc;
}
