/*
 * deliver — store_commit_batch: the rows of many accepted messages in one transaction, so one
 * WAL fsync makes a whole batch durable (group commit).
 */
#include "store/db.h"
#include "store/reports.h"

#include <string.h>
#include <time.h>

#include "core/err.h"
#include "core/log.h"
#include "core/str.h"

#define COMMIT_TRIES 3

/* The statements of one batch, prepared once and reset per row. */
struct batch_stmts {
    sqlite3_stmt *blob;  /* ?1 id, ?2 path, ?3 size, ?4 created */
    sqlite3_stmt *alloc; /* ?1 user id -> mailbox id, uid, modseq */
    sqlite3_stmt *msg;   /* ?1 mailbox, ?2 uid, ?3 blob, ?4 msg id, ?5 size, ?6 date, ?7 modseq */
    sqlite3_stmt *queue; /* ?1 msg id, ?2 blob, ?3 sender, ?4 rcpt, ?5 arrived, ?6 next attempt */
    sqlite3_stmt *flags; /* ?1 flags, ?2 mailbox, ?3 uid */
};

static void stmts_free(struct batch_stmts *b)
{
    sqlite3_finalize(b->blob);
    sqlite3_finalize(b->alloc);
    sqlite3_finalize(b->msg);
    sqlite3_finalize(b->queue);
    sqlite3_finalize(b->flags);
}

static int stmts_prepare(struct store *st, struct batch_stmts *b)
{
    memset(b, 0, sizeof *b);
    int rc =
        db_prepare(st, "INSERT INTO blobs(id, path, size, created) VALUES(?, ?, ?, ?)", &b->blob);
    /* RETURNING gives the new row: the allocated uid is the old uidnext. */
    if (rc == 0)
        rc = db_prepare(st,
                        "UPDATE mailboxes SET uidnext = uidnext + 1, "
                        "highestmodseq = highestmodseq + 1 WHERE user_id = ? AND name = ? "
                        "RETURNING id, uidnext - 1, highestmodseq",
                        &b->alloc);
    if (rc == 0)
        rc = db_prepare(st,
                        "INSERT INTO messages(mailbox_id, uid, blob_id, msg_id, size, "
                        "internal_date, flags, modseq) VALUES(?, ?, ?, ?, ?, ?, '', ?)",
                        &b->msg);
    if (rc == 0)
        rc = db_prepare(st,
                        "INSERT INTO queue(msg_id, blob_id, sender, recipient, arrived, "
                        "next_attempt, state, flags) VALUES(?, ?, ?, ?, ?, ?, 'queued', ?)",
                        &b->queue);
    if (rc == 0)
        rc = db_prepare(st, "UPDATE messages SET flags = ? WHERE mailbox_id = ? AND uid = ?",
                        &b->flags);
    if (rc != 0)
        stmts_free(b);
    return rc;
}

/* Steps a reset-and-rebound insert to completion. 0 or ERR_*. */
static int run(struct store *st, sqlite3_stmt *s, const char *what)
{
    int src = db_step(st, s, what);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return src == SQLITE_DONE ? 0 : db_err(src);
}

static int insert_blob(struct store *st, struct batch_stmts *b, const char *blob_id, int64_t size)
{
    struct str path = STR_INIT;
    str_appendf(&path, "blobs/%.2s/%s", blob_id, blob_id);
    int rc = db_bind_text(b->blob, 1, blob_id) || db_bind_text(b->blob, 2, str_cstr(&path)) ||
             db_bind_int64(b->blob, 3, size) || db_bind_int64(b->blob, 4, db_now());
    str_clear(&path);
    return rc ? ERR_DB : run(st, b->blob, "insert blob");
}

/* Sieve's fileinto :create (RFC 5490 §3.2): mailbox and its missing superiors, as IMAP's
 * CREATE makes them, in the delivery's transaction. */
static int create_mailbox(struct store *st, int64_t user, const char *mailbox)
{
    struct str part = STR_INIT;
    int rc = 0;
    for (const char *p = mailbox; rc == 0 && p;) {
        p = strchr(p + 1, '/');
        str_reset(&part);
        str_append(&part, mailbox, p ? (size_t)(p - mailbox) : strlen(mailbox));
        sqlite3_stmt *s;
        rc = db_prepare_cached(st, "SELECT 1 FROM mailboxes WHERE user_id = ? AND name = ?", &s);
        if (rc != 0)
            break;
        int src = db_bind_int64(s, 1, user) || db_bind_text(s, 2, str_cstr(&part))
                      ? SQLITE_ERROR
                      : db_step(st, s, "find mailbox");
        db_done(st, s);
        if (src == SQLITE_DONE)
            rc = db_mailbox_create(st, user, str_cstr(&part), "");
        else if (src != SQLITE_ROW)
            rc = db_err(src);
    }
    str_clear(&part);
    return rc;
}

/* Appends msg to user's INBOX. A user deleted since RCPT has no INBOX: skipped with a warning
 * rather than failing the other recipients of the message. */
static int deliver_local(struct store *st, struct batch_stmts *b, const struct store_msg *m,
                         int64_t user, const char *mailbox, const char *flags, bool create)
{
    if (db_bind_int64(b->alloc, 1, user) || db_bind_text(b->alloc, 2, mailbox))
        return ERR_DB;
    int src = db_step(st, b->alloc, "allocate uid");
    int64_t mbox = 0, uid = 0, modseq = 0;
    if (src == SQLITE_ROW) {
        mbox = sqlite3_column_int64(b->alloc, 0);
        uid = sqlite3_column_int64(b->alloc, 1);
        modseq = sqlite3_column_int64(b->alloc, 2);
        src = db_step(st, b->alloc, "allocate uid");
    }
    sqlite3_reset(b->alloc);
    if (src == SQLITE_DONE && mbox == 0 && create && strcmp(mailbox, "INBOX") != 0) {
        int rc = create_mailbox(st, user, mailbox);
        if (rc == 0)
            return deliver_local(st, b, m, user, mailbox, flags, false);
        log_warn("store: %s: cannot create %s for user %lld: %s; kept in INBOX", m->id, mailbox,
                 (long long)user, err_str(rc));
    }
    if (src == SQLITE_DONE && mbox == 0 && strcmp(mailbox, "INBOX") != 0)
        return deliver_local(st, b, m, user, "INBOX", flags,
                             false); /* e.g. the user deleted Junk */
    if (src == SQLITE_DONE && mbox == 0)
        log_warn("store: %s: user %lld has no INBOX (deleted?); skipped", m->id, (long long)user);
    if (src != SQLITE_DONE)
        return db_err(src);
    if (mbox == 0)
        return 0;
    sqlite3_stmt *s = b->msg;
    int64_t size = (int64_t)(m->local_prefix_len + m->body_len);
    if (db_bind_int64(s, 1, mbox) || db_bind_int64(s, 2, uid) || db_bind_text(s, 3, m->id) ||
        db_bind_text(s, 4, m->id) || db_bind_int64(s, 5, size) ||
        db_bind_int64(s, 6, m->received_at) || db_bind_int64(s, 7, modseq))
        return ERR_DB;
    int rc = run(st, s, "insert message");
    if (rc != 0 || !flags || !flags[0])
        return rc;
    if (db_bind_text(b->flags, 1, flags) || db_bind_int64(b->flags, 2, mbox) ||
        db_bind_int64(b->flags, 3, uid))
        return ERR_DB;
    return run(st, b->flags, "message flags");
}

/* Sieve's deliveries: each (user, mailbox) once. */
static int deliver_targets(struct store *st, struct batch_stmts *b, const struct store_msg *m)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < m->n_targets; i++) {
        const struct store_target *t = &m->targets[i];
        bool dup = false;
        for (size_t j = 0; j < i; j++)
            dup |= m->targets[j].user == t->user && strcmp(m->targets[j].mailbox, t->mailbox) == 0;
        for (size_t j = 0; j < m->n_local; j++)
            dup |= m->local_users[j] == t->user;
        if (!dup)
            rc = deliver_local(st, b, m, t->user, t->mailbox, t->flags, t->create);
    }
    return rc;
}

/* RFC 5230 §4.2: the vacation memory, committed with the message that is answered. */
static int vacation_mark(struct store *st, const struct store_vacation_mark *v)
{
    sqlite3_stmt *s;
    int rc = db_prepare(st,
                        "INSERT OR REPLACE INTO sieve_vacation(user_id, handle, sender, expires) "
                        "VALUES(?, ?, lower(?), ?)",
                        &s);
    if (rc != 0)
        return rc;
    if (db_bind_int64(s, 1, v->user) || db_bind_text(s, 2, v->handle) ||
        db_bind_text(s, 3, v->sender) || db_bind_int64(s, 4, v->expires))
        rc = ERR_DB;
    else
        rc = db_step(st, s, "vacation mark") == SQLITE_DONE ? 0 : ERR_DB;
    sqlite3_finalize(s);
    return rc;
}

/* Remote addresses are stored as given: RFC 5321 §2.4 leaves a remote local part's case to
 * the remote host. */
static int enqueue(struct store *st, struct batch_stmts *b, const struct store_msg *m,
                   const char *blob_id, size_t i, int64_t now)
{
    sqlite3_stmt *s = b->queue;
    const char *rcpt = m->remote_rcpts[i];
    const char *sender = m->remote_senders && m->remote_senders[i] ? m->remote_senders[i]
                         : m->sender                                ? m->sender
                                                                    : "";
    if (db_bind_text(s, 1, m->id) || db_bind_text(s, 2, blob_id) || db_bind_text(s, 3, sender) ||
        db_bind_text(s, 4, rcpt) || db_bind_int64(s, 5, m->received_at) ||
        db_bind_int64(s, 6, now) || db_bind_int64(s, 7, m->queue_flags))
        return ERR_DB;
    return run(st, s, "enqueue");
}

/* True when v[i] appeared before in v (a recipient listed twice is delivered once). */
static bool seen_id(const int64_t *v, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (v[j] == v[i])
            return true;
    return false;
}

static bool seen_str(const char *const *v, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (strcmp(v[j], v[i]) == 0)
            return true;
    return false;
}

/* All rows of one message; caller holds the transaction. */
static int insert_msg(struct store *st, struct batch_stmts *b, const struct store_msg *m,
                      int64_t now)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < m->n_done_queue; i++) {
        sqlite3_stmt *del;
        rc = db_prepare(st, "DELETE FROM queue WHERE id = ?", &del);
        if (rc == 0) {
            db_bind_int64(del, 1, m->done_queue_ids[i]);
            rc = run(st, del, "queue done");
            sqlite3_finalize(del);
        }
    }
    if (rc == 0 && (m->n_local > 0 || m->n_targets > 0))
        rc = insert_blob(st, b, m->id, (int64_t)(m->local_prefix_len + m->body_len));
    for (size_t i = 0; rc == 0 && i < m->n_local; i++)
        if (!seen_id(m->local_users, i))
            rc = deliver_local(st, b, m, m->local_users[i],
                               m->local_mailbox ? m->local_mailbox : "INBOX", NULL, false);
    if (rc == 0)
        rc = deliver_targets(st, b, m);
    for (size_t i = 0; rc == 0 && i < m->n_vacations; i++)
        rc = vacation_mark(st, &m->vacations[i]);
    for (size_t i = 0; rc == 0 && i < m->n_reports; i++)
        rc = store_report_insert(st, &m->reports[i], m->id, now);
    if (rc != 0 || m->n_remote == 0)
        return rc;
    char qid[40];
    memcpy(qid, m->id, 32);
    memcpy(qid + 32, ".q", 3);
    rc = insert_blob(st, b, qid, (int64_t)(m->remote_prefix_len + m->body_len));
    for (size_t i = 0; rc == 0 && i < m->n_remote; i++)
        if (!seen_str(m->remote_rcpts, i))
            rc = enqueue(st, b, m, qid, i, now);
    return rc;
}

/* One attempt: BEGIN IMMEDIATE, every row, COMMIT. ERR_AGAIN when worth retrying. */
static int batch_try(struct store *st, struct store_msg *msgs, size_t n)
{
    struct batch_stmts b;
    int rc = db_begin(st);
    if (rc != 0)
        return rc;
    rc = stmts_prepare(st, &b);
    if (rc == 0) {
        int64_t now = db_now();
        for (size_t i = 0; rc == 0 && i < n; i++)
            rc = insert_msg(st, &b, &msgs[i], now);
        stmts_free(&b);
    }
    if (rc != 0) {
        db_rollback(st);
        return rc;
    }
    return db_commit(st);
}

/* All or nothing: on failure nothing is inserted and every result is ERR_DB (the blob files
 * stay until store_gc). */
int store_commit_batch(struct store *st, struct store_msg *msgs, size_t n)
{
    if (n == 0)
        return 0;
    int rc = ERR_AGAIN;
    for (int i = 0; i < COMMIT_TRIES && rc == ERR_AGAIN; i++) {
        if (i > 0)
            nanosleep(&(struct timespec){0, 50000000L}, NULL); /* 50 ms */
        rc = batch_try(st, msgs, n);
    }
    if (rc != 0) {
        log_err("store: commit of %zu messages failed: %s", n, sqlite3_errmsg(st->db));
        rc = ERR_DB;
    }
    for (size_t i = 0; i < n; i++)
        msgs[i].result = rc;
    return rc;
}
