/* store/jmap_threads — see jmap_threads.h: JMAP's conversations kept in the store. */
#include "store/jmap_threads.h"

#include "store/db.h"

#include "core/err.h"

#include <stdlib.h>
#include <string.h>

enum { Q_ROW, Q_BLOB, Q_REF, Q_PUT, Q_REF_PUT, Q_N };

static const char *const sql[Q_N] = {
    [Q_ROW] = "SELECT thread_id, blob_id, user_id FROM jmap_threads WHERE mailbox_id = ?1 AND "
             "uid = ?2",
    [Q_BLOB] = "SELECT thread_id FROM jmap_threads WHERE user_id = ?1 AND blob_id = ?2 "
               "ORDER BY thread_id LIMIT 1",
    [Q_REF] = "SELECT thread_id FROM jmap_thread_refs WHERE user_id = ?1 AND msgid = ?2 "
              "AND subject = ?3",
    [Q_PUT] = "INSERT OR REPLACE INTO jmap_threads(mailbox_id, uid, user_id, blob_id, thread_id) "
              "VALUES (?1, ?2, ?3, ?4, ?5)",
    [Q_REF_PUT] = "INSERT OR IGNORE INTO jmap_thread_refs(user_id, msgid, subject, thread_id) "
                  "VALUES (?1, ?2, ?3, ?4)",
};

/* Steps s (bound by the caller) for one int64 in column 0: 1 found, 0 none, < 0 error. */
static int one(struct store *st, sqlite3_stmt *s, int64_t *out)
{
    int src = db_step(st, s, "jmap thread");
    if (src == SQLITE_ROW)
        *out = sqlite3_column_int64(s, 0);
    int rc = src == SQLITE_ROW ? 1 : src == SQLITE_DONE ? 0 : db_err(src);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc;
}

/* The thread r joins (0: none yet); *keep true when its row is already right. */
static int find(struct store *st, sqlite3_stmt **q, int64_t uid_, struct store_jmap_thread_req *r,
                bool *keep)
{
    int64_t t = 0;
    *keep = false;
    db_bind_int64(q[Q_ROW], 1, r->mailbox_id);
    db_bind_int64(q[Q_ROW], 2, r->uid);
    int src = db_step(st, q[Q_ROW], "jmap thread row");
    if (src == SQLITE_ROW) {
        const char *blob = (const char *)sqlite3_column_text(q[Q_ROW], 1);
        /* else a mailbox id used again since */
        *keep = blob && strcmp(blob, r->blob_id) == 0 &&
                sqlite3_column_int64(q[Q_ROW], 2) == uid_;
        t = *keep ? sqlite3_column_int64(q[Q_ROW], 0) : 0;
    }
    sqlite3_reset(q[Q_ROW]);
    if (src != SQLITE_ROW && src != SQLITE_DONE)
        return db_err(src);
    if (t)
        return r->thread_id = t, 0;
    db_bind_int64(q[Q_BLOB], 1, uid_);
    db_bind_text(q[Q_BLOB], 2, r->blob_id);
    int rc = one(st, q[Q_BLOB], &t);
    for (size_t i = 0; rc == 0 && i < r->nmsgids; i++) {
        db_bind_int64(q[Q_REF], 1, uid_);
        db_bind_text(q[Q_REF], 2, r->msgids[i]);
        db_bind_text(q[Q_REF], 3, r->subject);
        rc = one(st, q[Q_REF], &t);
    }
    r->thread_id = rc > 0 ? t : 0;
    return rc < 0 ? rc : 0;
}

static int put(struct store *st, sqlite3_stmt **q, int64_t uid_, const struct store_jmap_thread_req *r)
{
    db_bind_int64(q[Q_PUT], 1, r->mailbox_id);
    db_bind_int64(q[Q_PUT], 2, r->uid);
    db_bind_int64(q[Q_PUT], 3, uid_);
    db_bind_text(q[Q_PUT], 4, r->blob_id);
    db_bind_int64(q[Q_PUT], 5, r->thread_id);
    int src = db_step(st, q[Q_PUT], "jmap thread put");
    sqlite3_reset(q[Q_PUT]);
    for (size_t i = 0; src == SQLITE_DONE && i < r->nmsgids; i++) {
        db_bind_int64(q[Q_REF_PUT], 1, uid_);
        db_bind_text(q[Q_REF_PUT], 2, r->msgids[i]);
        db_bind_text(q[Q_REF_PUT], 3, r->subject);
        db_bind_int64(q[Q_REF_PUT], 4, r->thread_id);
        src = db_step(st, q[Q_REF_PUT], "jmap thread ref");
        sqlite3_reset(q[Q_REF_PUT]);
    }
    return src == SQLITE_DONE ? 0 : db_err(src);
}

int store_jmap_threads_assign(struct store *st, const char *user, struct store_jmap_thread_req *r,
                              size_t n)
{
    int64_t uid_ = 0, next = 0;
    int rc = store_user_lookup(st, user, &uid_);
    if (rc != 0 || n == 0)
        return rc;
    sqlite3_stmt *q[Q_N] = {0};
    for (int i = 0; i < Q_N && rc == 0; i++)
        rc = db_prepare(st, sql[i], &q[i]);
    if (rc == 0)
        rc = db_begin(st);
    if (rc == 0) {
        /* under the write lock: no other writer hands out the same number */
        rc = db_query_int64(st, "SELECT coalesce(max(thread_id), 0) FROM jmap_threads", NULL,
                            &next);
        for (size_t i = 0; rc == 0 && i < n; i++) {
            bool keep;
            rc = find(st, q, uid_, &r[i], &keep);
            if (rc == 0 && !r[i].thread_id)
                r[i].thread_id = ++next;
            if (rc == 0 && !keep)
                rc = put(st, q, uid_, &r[i]);
        }
        if (rc == 0)
            rc = db_commit(st);
        else
            db_rollback(st);
    }
    for (int i = 0; i < Q_N; i++)
        sqlite3_finalize(q[i]);
    return rc;
}

int store_jmap_thread_of(struct store *st, const char *user, int64_t mailbox_id, int64_t uid,
                         int64_t *thread_out)
{
    int64_t uid_ = 0;
    int rc = store_user_lookup(st, user, &uid_);
    if (rc != 0)
        return rc;
    sqlite3_stmt *s;
    rc = db_prepare_cached(st, "SELECT thread_id FROM jmap_threads WHERE mailbox_id = ?1 AND "
                               "uid = ?2 AND user_id = ?3", &s);
    if (rc != 0)
        return rc;
    db_bind_int64(s, 1, mailbox_id);
    db_bind_int64(s, 2, uid);
    db_bind_int64(s, 3, uid_);
    int src = db_step(st, s, "jmap thread of");
    if (src == SQLITE_ROW)
        *thread_out = sqlite3_column_int64(s, 0);
    db_done(st, s);
    return src == SQLITE_ROW ? 0 : src == SQLITE_DONE ? ERR_NOTFOUND : db_err(src);
}
