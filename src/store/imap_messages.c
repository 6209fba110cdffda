/*
 * imap_messages — a mailbox's messages for IMAP (store/imap.h): SELECT snapshots, changes
 * since a modseq, \Recent claims, STORE with CONDSTORE, COPY/MOVE and APPEND.
 *
 * Reads run in one deferred transaction (one WAL snapshot); writes in BEGIN IMMEDIATE.
 * Every write that changes a message gives it the mailbox's next modseq (highestmodseq + 1,
 * one per command), and every removal is recorded in `expunged` with one, which is what
 * store_imap_changes reports to the other sessions.
 */
#include "store/imap.h"

#include "store/db.h"
#include "store/imap_int.h"
#include "store/quota.h"

#include "core/err.h"
#include "core/log.h"
#include "core/str.h"
#include "core/xmalloc.h"

#include <stdlib.h>
#include <string.h>

void store_imap_blob_path(const char *data_dir, const char *blob_id, struct str *path)
{
    str_appendf(path, "%s/blobs/%.2s/%s", data_dir, blob_id, blob_id);
}

/* ---- reading ---- */

/* Calls cb for every message of mailbox_id with modseq > since (since < 0: all), uid order. */
static int list_msgs(struct store *st, int64_t mailbox_id, int64_t since, int64_t *max_uid,
                     void (*cb)(void *ctx, const struct store_imap_msg *m), void *ctx)
{
    /* The whole mailbox walks the (mailbox_id, uid) index in order; changes since a modseq
     * take the modseq index (few rows: sorting them is cheap). */
    sqlite3_stmt *s =
        since < 0 ? imap_stmt(st, IS_LIST_ALL,
                              "SELECT uid, modseq, size, internal_date, flags, blob_id, date_tz "
                              "FROM messages WHERE mailbox_id = ?1 AND ?2 < 0 ORDER BY uid")
                  : imap_stmt(st, IS_LIST_SINCE,
                              "SELECT uid, modseq, size, internal_date, flags, blob_id, date_tz "
                              "FROM messages WHERE mailbox_id = ?1 AND modseq > ?2 ORDER BY uid");
    int src = !s || db_bind_int64(s, 1, mailbox_id) || db_bind_int64(s, 2, since) ? SQLITE_ERROR
                                                                                  : SQLITE_ROW;
    while (src == SQLITE_ROW && (src = db_step(st, s, "list messages")) == SQLITE_ROW) {
        const char *flags = (const char *)sqlite3_column_text(s, 4);
        const char *blob = (const char *)sqlite3_column_text(s, 5);
        struct store_imap_msg m = {
            .uid = sqlite3_column_int64(s, 0),
            .modseq = sqlite3_column_int64(s, 1),
            .size = sqlite3_column_int64(s, 2),
            .internal_date = sqlite3_column_int64(s, 3),
            .date_tz = sqlite3_column_int(s, 6),
            .flags = flags ? flags : "",
            .blob_id = blob ? blob : "",
        };
        if (m.uid > *max_uid)
            *max_uid = m.uid;
        if (cb)
            cb(ctx, &m);
    }
    imap_stmt_reset(s);
    return src == SQLITE_DONE ? 0 : db_err(src);
}

/* The mailbox row by id (user_id < 0) or by (user_id, name). */
static int mailbox_row(struct store *st, int64_t id, int64_t user_id, const char *name,
                       struct store_imap_mailbox *mb, int64_t *recent_uid)
{
    sqlite3_stmt *s = user_id < 0
                          ? imap_stmt(st, IS_MAILBOX_BY_ID,
                                      "SELECT id, uidvalidity, uidnext, highestmodseq, recent_uid "
                                      "FROM mailboxes WHERE id = ?")
                          : imap_stmt(st, IS_MAILBOX_BY_NAME,
                                      "SELECT id, uidvalidity, uidnext, highestmodseq, recent_uid "
                                      "FROM mailboxes WHERE user_id = ? AND name = ?");
    int rc = 0, src = SQLITE_ERROR;
    if (s && (user_id < 0 ? !db_bind_int64(s, 1, id)
                          : !db_bind_int64(s, 1, user_id) && !db_bind_text(s, 2, name)))
        src = db_step(st, s, "mailbox row");
    if (src == SQLITE_ROW) {
        mb->id = sqlite3_column_int64(s, 0);
        mb->uidvalidity = sqlite3_column_int64(s, 1);
        mb->uidnext = sqlite3_column_int64(s, 2);
        mb->highestmodseq = sqlite3_column_int64(s, 3);
        *recent_uid = sqlite3_column_int64(s, 4);
    } else {
        rc = src == SQLITE_DONE ? ERR_NOTFOUND : db_err(src);
    }
    imap_stmt_reset(s);
    return rc;
}

struct claim {
    int64_t mailbox_id, top, before;
};

static int claim_txn(struct store *st, void *vc)
{
    struct claim *c = vc;
    bool nested;
    int rc = imap_op_begin(st, &nested);
    if (rc != 0)
        return rc;
    struct store_imap_mailbox mb;
    rc = mailbox_row(st, c->mailbox_id, -1, NULL, &mb, &c->before);
    sqlite3_stmt *s;
    if (rc == 0 && c->before < c->top) {
        rc = db_prepare(st, "UPDATE mailboxes SET recent_uid = ? WHERE id = ?", &s);
        if (rc == 0) {
            int src = db_bind_int64(s, 1, c->top) || db_bind_int64(s, 2, c->mailbox_id)
                          ? SQLITE_ERROR
                          : db_step(st, s, "claim recent");
            sqlite3_finalize(s);
            rc = src == SQLITE_DONE ? 0 : db_err(src);
        }
    }
    return imap_op_end(st, rc, nested);
}

/*
 * \Recent (RFC 3501 §2.3.2): the uids in (recent_uid, top] become the caller's; *before_out
 * gets the old mark. Under the write lock, so two sessions never claim the same message; not
 * worth a WAL fsync (a claim lost in a crash only shows a message as recent once more).
 */
int store_imap_claim_recent(struct store *st, int64_t mailbox_id, int64_t top, int64_t *before_out)
{
    struct claim c = {mailbox_id, top, 0};
    int rc = imap_op_relaxed(st, claim_txn, &c);
    if (rc == 0)
        *before_out = c.before;
    return rc;
}

/* After a snapshot read: claims (when asked and there is something new) or reports the mark. */
static int recent_finish(struct store *st, struct store_imap_mailbox *mb, int64_t recent_uid,
                         int64_t max_uid, bool claim)
{
    mb->recent_before = recent_uid;
    if (!claim || max_uid <= recent_uid)
        return 0;
    return store_imap_claim_recent(st, mb->id, max_uid, &mb->recent_before);
}

int store_imap_select(struct store *st, const char *user, const char *name, bool claim_recent,
                      struct store_imap_mailbox *mb_out,
                      void (*cb)(void *ctx, const struct store_imap_msg *m), void *ctx)
{
    int64_t user_id, recent_uid = 0, max_uid = 0;
    struct store_imap_mailbox mb = {0};
    int rc = imap_read_begin(st);
    if (rc != 0)
        return rc;
    rc = imap_user_id(st, user, &user_id);
    if (rc == 0)
        rc = mailbox_row(st, 0, user_id, name, &mb, &recent_uid);
    if (rc == 0)
        rc = list_msgs(st, mb.id, -1, &max_uid, cb, ctx);
    rc = imap_read_end(st, rc);
    if (rc != 0)
        return rc;
    rc = recent_finish(st, &mb, recent_uid, max_uid, claim_recent);
    if (rc == 0)
        *mb_out = mb;
    return rc;
}

static int list_expunged(struct store *st, int64_t mailbox_id, int64_t since,
                         void (*cb)(void *ctx, int64_t uid), void *ctx)
{
    sqlite3_stmt *s =
        imap_stmt(st, IS_LIST_EXPUNGED,
                  "SELECT uid FROM expunged WHERE mailbox_id = ? AND modseq > ? ORDER BY uid");
    int src = !s || db_bind_int64(s, 1, mailbox_id) || db_bind_int64(s, 2, since) ? SQLITE_ERROR
                                                                                  : SQLITE_ROW;
    while (src == SQLITE_ROW && (src = db_step(st, s, "list expunged")) == SQLITE_ROW)
        cb(ctx, sqlite3_column_int64(s, 0));
    imap_stmt_reset(s);
    return src == SQLITE_DONE ? 0 : db_err(src);
}

int store_imap_vanished(struct store *st, int64_t mailbox_id, int64_t since,
                        void (*cb)(void *ctx, int64_t uid), void *ctx)
{
    int rc = imap_read_begin(st);
    if (rc != 0)
        return rc;
    return imap_read_end(st, list_expunged(st, mailbox_id, since, cb, ctx));
}

int store_imap_changes(struct store *st, int64_t mailbox_id, int64_t since, bool claim_recent,
                       struct store_imap_mailbox *mb_out,
                       void (*msg_cb)(void *ctx, const struct store_imap_msg *m),
                       void (*expunged_cb)(void *ctx, int64_t uid), void *ctx)
{
    struct store_imap_mailbox mb = {0};
    int64_t recent_uid = 0, max_uid = 0;
    int rc = imap_read_begin(st);
    if (rc != 0)
        return rc;
    rc = mailbox_row(st, mailbox_id, -1, NULL, &mb, &recent_uid);
    /* Nothing can have changed when the mailbox's modseq did not move. */
    bool changed = rc == 0 && mb.highestmodseq > since;
    if (changed)
        rc = list_msgs(st, mailbox_id, since, &max_uid, msg_cb, ctx);
    if (changed && rc == 0)
        rc = list_expunged(st, mailbox_id, since, expunged_cb, ctx);
    rc = imap_read_end(st, rc);
    if (rc != 0)
        return rc;
    rc = recent_finish(st, &mb, recent_uid, max_uid, claim_recent);
    if (rc == 0)
        *mb_out = mb;
    return rc;
}

/* ---- writing: helpers ---- */

/* highestmodseq + 1 of mailbox_id, which becomes its highestmodseq. */
static int bump_modseq(struct store *st, int64_t mailbox_id, int64_t *modseq_out)
{
    sqlite3_stmt *s = imap_stmt(st, IS_BUMP_MODSEQ,
                                "UPDATE mailboxes SET highestmodseq = highestmodseq + 1 "
                                "WHERE id = ? RETURNING highestmodseq");
    int rc;
    int src = !s || db_bind_int64(s, 1, mailbox_id) ? SQLITE_ERROR : db_step(st, s, "bump modseq");
    if (src == SQLITE_ROW) {
        *modseq_out = sqlite3_column_int64(s, 0);
        src = db_step(st, s, "bump modseq");
        rc = src == SQLITE_DONE ? 0 : db_err(src);
    } else {
        rc = src == SQLITE_DONE ? ERR_NOTFOUND : db_err(src);
    }
    imap_stmt_reset(s);
    return rc;
}

/* ---- STORE ---- */

struct flag_stmts {
    sqlite3_stmt *sel; /* ?1 mailbox, ?2 uid -> flags, modseq */
    sqlite3_stmt *upd; /* ?1 flags, ?2 modseq, ?3 mailbox, ?4 uid */
};

static int store_one(struct store *st, struct flag_stmts *fs, int64_t mailbox_id, int64_t uid,
                     enum store_imap_flag_op op, const char *flags, int64_t unchangedsince,
                     int64_t *new_modseq, struct str *tmp, struct store_imap_flag_result *r)
{
    sqlite3_reset(fs->sel);
    if (db_bind_int64(fs->sel, 1, mailbox_id) || db_bind_int64(fs->sel, 2, uid))
        return ERR_DB;
    int src = db_step(st, fs->sel, "read flags");
    if (src == SQLITE_DONE)
        return ERR_NOTFOUND;
    if (src != SQLITE_ROW)
        return db_err(src);
    const char *old = (const char *)sqlite3_column_text(fs->sel, 0);
    r->uid = uid;
    r->modseq = sqlite3_column_int64(fs->sel, 1);
    r->failed = unchangedsince >= 0 && r->modseq > unchangedsince;
    if (r->failed) {
        r->flags = xstrdup(old ? old : "");
        return 0;
    }
    store_imap_flags_apply(old, op, flags, tmp);
    r->flags = xstrdup(str_cstr(tmp));
    if (strcmp(r->flags, old ? old : "") == 0)
        return 0;
    int rc = *new_modseq ? 0 : bump_modseq(st, mailbox_id, new_modseq);
    if (rc != 0)
        return rc;
    r->modseq = *new_modseq;
    sqlite3_reset(fs->upd);
    if (db_bind_text(fs->upd, 1, r->flags) || db_bind_int64(fs->upd, 2, r->modseq) ||
        db_bind_int64(fs->upd, 3, mailbox_id) || db_bind_int64(fs->upd, 4, uid))
        return ERR_DB;
    src = db_step(st, fs->upd, "update flags");
    return src == SQLITE_DONE ? 0 : db_err(src);
}

void store_imap_flag_results_free(struct store_imap_flag_result *r, size_t n)
{
    for (size_t i = 0; r && i < n; i++)
        free(r[i].flags);
    free(r);
}

int store_imap_store_flags(struct store *st, int64_t mailbox_id, const int64_t *uids, size_t n,
                           enum store_imap_flag_op op, const char *flags, int64_t unchangedsince,
                           struct store_imap_flag_result **res_out, size_t *nres_out)
{
    *res_out = NULL;
    *nres_out = 0;
    struct store_imap_flag_result *res = xcalloc(n ? n : 1, sizeof *res);
    size_t nres = 0;
    struct flag_stmts fs = {0};
    struct str tmp = STR_INIT;
    int64_t new_modseq = 0;
    bool nested;
    int rc = imap_op_begin(st, &nested);
    if (rc != 0) {
        free(res);
        return rc;
    }
    fs.sel = imap_stmt(st, IS_FLAGS_GET,
                       "SELECT flags, modseq FROM messages WHERE mailbox_id = ? AND uid = ?");
    fs.upd =
        imap_stmt(st, IS_FLAGS_SET,
                  "UPDATE messages SET flags = ?, modseq = ? WHERE mailbox_id = ? AND uid = ?");
    if (!fs.sel || !fs.upd)
        rc = ERR_DB;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = store_one(st, &fs, mailbox_id, uids[i], op, flags, unchangedsince, &new_modseq, &tmp,
                       &res[nres]);
        if (rc == 0)
            nres++;
        else if (rc == ERR_NOTFOUND)
            rc = 0; /* expunged meanwhile */
    }
    imap_stmt_reset(fs.sel);
    imap_stmt_reset(fs.upd);
    str_clear(&tmp);
    rc = imap_op_end(st, rc, nested);
    if (rc != 0) {
        store_imap_flag_results_free(res, nres + 1);
        return rc;
    }
    *res_out = res;
    *nres_out = nres;
    return 0;
}

/* ---- COPY / MOVE ---- */

struct copy_stmts {
    sqlite3_stmt *sel;   /* ?1 src, ?2 uid */
    sqlite3_stmt *alloc; /* ?1 dest -> uid */
    sqlite3_stmt *ins;   /* ?1 dest, ?2 uid, ?3 src, ?4 src uid, ?5 modseq */
    sqlite3_stmt *del;   /* ?1 src, ?2 uid */
    sqlite3_stmt *exp;   /* ?1 src, ?2 uid, ?3 modseq */
};

static void copy_stmts_free(struct copy_stmts *c)
{
    imap_stmt_reset(c->sel);
    imap_stmt_reset(c->alloc);
    imap_stmt_reset(c->ins);
    imap_stmt_reset(c->del);
    imap_stmt_reset(c->exp);
}

static int copy_stmts_prepare(struct store *st, struct copy_stmts *c)
{
    c->sel = imap_stmt(st, IS_COPY_HAS, "SELECT 1 FROM messages WHERE mailbox_id = ? AND uid = ?");
    c->alloc = imap_stmt(st, IS_COPY_ALLOC,
                         "UPDATE mailboxes SET uidnext = uidnext + 1 WHERE id = ? "
                         "RETURNING uidnext - 1");
    c->ins = imap_stmt(st, IS_COPY_INSERT,
                       "INSERT INTO messages(mailbox_id, uid, blob_id, msg_id, size, "
                       "internal_date, date_tz, flags, modseq) SELECT ?1, ?2, blob_id, msg_id, "
                       "size, internal_date, date_tz, flags, ?5 FROM messages WHERE mailbox_id = "
                       "?3 AND uid = ?4");
    c->del = imap_stmt(st, IS_DELETE, "DELETE FROM messages WHERE mailbox_id = ? AND uid = ?");
    c->exp = imap_stmt(st, IS_EXPUNGED_ADD,
                       "INSERT OR REPLACE INTO expunged(mailbox_id, uid, modseq) VALUES(?, ?, ?)");
    return c->sel && c->alloc && c->ins && c->del && c->exp ? 0 : ERR_DB;
}

/* Runs s (reset first) with int64 parameters p[0..n); *row_out gets column 0 of a row. */
static int run_i64(struct store *st, sqlite3_stmt *s, const int64_t *p, int n, int64_t *row_out,
                   const char *what)
{
    sqlite3_reset(s);
    for (int i = 0; i < n; i++)
        if (db_bind_int64(s, i + 1, p[i]))
            return ERR_DB;
    int src = db_step(st, s, what), rc;
    if (src == SQLITE_ROW) {
        if (row_out)
            *row_out = sqlite3_column_int64(s, 0);
        src = db_step(st, s, what);
        rc = src == SQLITE_DONE ? 1 : db_err(src);
    } else {
        rc = src == SQLITE_DONE ? 0 : db_err(src);
    }
    sqlite3_reset(s);
    return rc;
}

static int copy_one(struct store *st, struct copy_stmts *c, int64_t src, int64_t uid, int64_t dest,
                    int64_t dest_modseq, int64_t src_modseq, struct store_imap_copy_result *out)
{
    int rc = run_i64(st, c->sel, (int64_t[]){src, uid}, 2, NULL, "copy source");
    if (rc <= 0)
        return rc; /* 0: gone */
    int64_t new_uid = 0;
    rc = run_i64(st, c->alloc, (int64_t[]){dest}, 1, &new_uid, "allocate uid");
    if (rc > 0)
        rc = run_i64(st, c->ins, (int64_t[]){dest, new_uid, src, uid, dest_modseq}, 5, NULL,
                     "copy message");
    if (rc == 0 && src_modseq) {
        rc = run_i64(st, c->del, (int64_t[]){src, uid}, 2, NULL, "move: delete");
        if (rc == 0)
            rc = run_i64(st, c->exp, (int64_t[]){src, uid, src_modseq}, 3, NULL, "move: expunged");
    }
    if (rc < 0)
        return rc;
    out->src_uids[out->n] = uid;
    out->dst_uids[out->n] = new_uid;
    out->n++;
    return 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

void store_imap_copy_result_free(struct store_imap_copy_result *r)
{
    free(r->src_uids);
    free(r->dst_uids);
    memset(r, 0, sizeof *r);
}

int store_imap_copy(struct store *st, const char *user, int64_t src_id, const int64_t *uids,
                    size_t n, const char *dest, bool move, struct store_imap_copy_result *out)
{
    memset(out, 0, sizeof *out);
    int64_t user_id, recent_uid;
    int rc = imap_user_id(st, user, &user_id);
    if (rc != 0)
        return rc;
    int64_t *sorted = xcalloc(n ? n : 1, sizeof *sorted);
    memcpy(sorted, uids, n * sizeof *uids);
    qsort(sorted, n, sizeof *sorted, cmp_i64);
    out->src_uids = xcalloc(n ? n : 1, sizeof *out->src_uids);
    out->dst_uids = xcalloc(n ? n : 1, sizeof *out->dst_uids);
    struct copy_stmts c = {0};
    struct store_imap_mailbox mb = {0};
    int64_t dest_modseq = 0, src_modseq = 0;
    bool nested;
    rc = imap_op_begin(st, &nested);
    if (rc == 0) {
        rc = mailbox_row(st, 0, user_id, dest, &mb, &recent_uid);
        if (rc == 0)
            rc = bump_modseq(st, mb.id, &dest_modseq);
        if (rc == 0 && move)
            rc = bump_modseq(st, src_id, &src_modseq);
        if (rc == 0)
            rc = copy_stmts_prepare(st, &c);
        for (size_t i = 0; rc == 0 && i < n; i++)
            if (i == 0 || sorted[i] != sorted[i - 1])
                rc = copy_one(st, &c, src_id, sorted[i], mb.id, dest_modseq, src_modseq, out);
        copy_stmts_free(&c);
        /* RFC 9208 §4.3: a COPY that takes the user past a limit is refused (the usage
         * triggers ran inside this transaction, which is rolled back). MOVE within one user
         * changes no usage and is never refused for quota. */
        struct store_quota q;
        if (rc == 0 && !move && (rc = store_quota_get(st, user_id, &q)) == 0 &&
            store_quota_over(&q))
            rc = ERR_LIMIT;
        rc = imap_op_end(st, rc, nested);
    }
    free(sorted);
    out->dest_id = mb.id;
    out->dest_uidvalidity = mb.uidvalidity;
    if (rc != 0)
        store_imap_copy_result_free(out);
    return rc;
}

/* ---- APPEND ---- */

static int append_rows(struct store *st, int64_t mailbox_id, const char *blob_id, size_t len,
                       const char *flags, int64_t internal_date, int date_tz, int64_t *uid_out)
{
    struct str path = STR_INIT;
    str_appendf(&path, "blobs/%.2s/%s", blob_id, blob_id);
    sqlite3_stmt *s = NULL;
    int64_t modseq = 0;
    int rc = db_prepare(st, "INSERT INTO blobs(id, path, size, created) VALUES(?, ?, ?, ?)", &s);
    if (rc == 0 && (db_bind_text(s, 1, blob_id) || db_bind_text(s, 2, str_cstr(&path)) ||
                    db_bind_int64(s, 3, (int64_t)len) || db_bind_int64(s, 4, db_now())))
        rc = ERR_DB;
    if (rc == 0 && db_step(st, s, "append blob") != SQLITE_DONE)
        rc = ERR_DB;
    sqlite3_finalize(s);
    str_clear(&path);
    s = NULL;
    if (rc == 0)
        rc = db_prepare(st,
                        "UPDATE mailboxes SET uidnext = uidnext + 1, highestmodseq = "
                        "highestmodseq + 1 WHERE id = ? RETURNING uidnext - 1, highestmodseq",
                        &s);
    int src = SQLITE_ERROR;
    if (rc == 0 && !db_bind_int64(s, 1, mailbox_id) &&
        (src = db_step(st, s, "append uid")) == SQLITE_ROW) {
        *uid_out = sqlite3_column_int64(s, 0);
        modseq = sqlite3_column_int64(s, 1);
        src = db_step(st, s, "append uid");
    }
    sqlite3_finalize(s);
    if (rc == 0 && src != SQLITE_DONE)
        rc = db_err(src);
    if (rc == 0)
        rc = db_prepare(st,
                        "INSERT INTO messages(mailbox_id, uid, blob_id, msg_id, size, "
                        "internal_date, flags, modseq, date_tz) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        &s);
    if (rc == 0) {
        if (db_bind_int64(s, 1, mailbox_id) || db_bind_int64(s, 2, *uid_out) ||
            db_bind_text(s, 3, blob_id) || db_bind_text(s, 4, blob_id) ||
            db_bind_int64(s, 5, (int64_t)len) || db_bind_int64(s, 6, internal_date) ||
            db_bind_text(s, 7, flags) || db_bind_int64(s, 8, modseq) ||
            db_bind_int64(s, 9, date_tz))
            rc = ERR_DB;
        if (rc == 0 && db_step(st, s, "append message") != SQLITE_DONE)
            rc = ERR_DB;
        sqlite3_finalize(s);
    }
    return rc;
}

int store_imap_append_blob(struct store *st, const char *data, size_t len, char blob_id_out[33])
{
    /* The durable path of every message: file written and fsynced, renamed, directory
     * fsynced (DESIGN.md §5); the rows come after. */
    int64_t dummy_user = 0;
    struct store_msg msg = {
        .sender = "",
        .local_prefix = "",
        .body = data,
        .body_len = len,
        .local_users = &dummy_user,
        .n_local = 1,
    };
    int rc = store_blob_write(st->data_dir, &msg);
    if (rc == 0)
        rc = store_blobs_sync(st->data_dir);
    if (rc == 0)
        memcpy(blob_id_out, msg.id, 33);
    return rc;
}

int store_imap_append_rows(struct store *st, const char *user, const char *name,
                           const char *blob_id, size_t len, const char *flags,
                           int64_t internal_date, int64_t *mailbox_id_out, int64_t *uidvalidity_out,
                           int64_t *uid_out)
{
    return store_imap_append_rows_tz(st, user, name, blob_id, len, flags, internal_date, 0,
                                     mailbox_id_out, uidvalidity_out, uid_out);
}

int store_imap_append_rows_tz(struct store *st, const char *user, const char *name,
                              const char *blob_id, size_t len, const char *flags,
                              int64_t internal_date, int date_tz, int64_t *mailbox_id_out,
                              int64_t *uidvalidity_out, int64_t *uid_out)
{
    int64_t user_id, recent_uid;
    struct store_imap_mailbox mb = {0};
    bool nested;
    int rc = imap_user_id(st, user, &user_id);
    if (rc == 0)
        rc = imap_op_begin(st, &nested);
    if (rc != 0)
        return rc;
    rc = mailbox_row(st, 0, user_id, name, &mb, &recent_uid);
    if (rc == 0)
        rc = append_rows(st, mb.id, blob_id, len, flags ? flags : "", internal_date,
                         date_tz >= -1439 && date_tz <= 1439 ? date_tz : 0, uid_out);
    rc = imap_op_end(st, rc, nested);
    if (rc != 0)
        return rc; /* the file, if any, is reclaimed by store_gc */
    *mailbox_id_out = mb.id;
    *uidvalidity_out = mb.uidvalidity;
    return 0;
}

int store_imap_append(struct store *st, const char *user, const char *name, const char *data,
                      size_t len, const char *flags, int64_t internal_date, int64_t *mailbox_id_out,
                      int64_t *uidvalidity_out, int64_t *uid_out)
{
    return store_imap_append_tz(st, user, name, data, len, flags, internal_date, 0, mailbox_id_out,
                                uidvalidity_out, uid_out);
}

int store_imap_append_tz(struct store *st, const char *user, const char *name, const char *data,
                         size_t len, const char *flags, int64_t internal_date, int date_tz,
                         int64_t *mailbox_id_out, int64_t *uidvalidity_out, int64_t *uid_out)
{
    int64_t user_id, recent_uid;
    struct store_imap_mailbox mb = {0};
    int rc = imap_user_id(st, user, &user_id);
    if (rc == 0) /* nothing is written for a mailbox that does not exist */
        rc = mailbox_row(st, 0, user_id, name, &mb, &recent_uid);
    char blob[33];
    if (rc == 0)
        rc = store_imap_append_blob(st, data, len, blob);
    if (rc == 0)
        rc = store_imap_append_rows_tz(st, user, name, blob, len, flags, internal_date, date_tz,
                                       mailbox_id_out, uidvalidity_out, uid_out);
    if (rc != 0 && rc != ERR_NOTFOUND)
        log_err("store: append to %s of %s failed: %s", name, user, err_str(rc));
    return rc;
}

/* ---- EXPUNGE ---- */

int store_imap_expunge(struct store *st, int64_t mailbox_id, const int64_t *uids, size_t n,
                       size_t *removed_out)
{
    struct copy_stmts c = {0};
    size_t removed = 0;
    int64_t modseq = 0;
    bool nested;
    int rc = imap_op_begin(st, &nested);
    if (rc != 0)
        return rc;
    rc = copy_stmts_prepare(st, &c);
    if (rc == 0)
        rc = bump_modseq(st, mailbox_id, &modseq);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = run_i64(st, c.del, (int64_t[]){mailbox_id, uids[i]}, 2, NULL, "expunge");
        if (rc == 0 && sqlite3_changes(st->db) > 0) {
            removed++;
            rc = run_i64(st, c.exp, (int64_t[]){mailbox_id, uids[i], modseq}, 3, NULL,
                         "record expunge");
        }
    }
    copy_stmts_free(&c);
    /* Nothing was there: keep the modseq unspent (as store_mailbox_expunge does). */
    rc = imap_op_end(st, rc == 0 && removed == 0 ? ERR_NOTFOUND : rc, nested);
    if (rc == ERR_NOTFOUND)
        rc = 0;
    if (removed_out)
        *removed_out = rc == 0 ? removed : 0;
    return rc;
}
