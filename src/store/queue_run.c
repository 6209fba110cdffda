/*
 * queue_run — the outgoing queue as the runner and the admin tool change it. Each function is
 * one statement or one transaction; rows are the durable truth (DESIGN.md §5).
 */
#include "store/db.h"

#include "core/err.h"

#include <stdio.h>

static const char *text_or_empty(sqlite3_stmt *s, int i)
{
    const char *t = (const char *)sqlite3_column_text(s, i);
    return t ? t : "";
}

int store_queue_due(struct store *st, int64_t now, unsigned max,
                    void (*cb)(void *ctx, const struct store_queue_item *it), void *ctx)
{
    sqlite3_stmt *s;
    int rc = db_prepare(st,
                        "SELECT q.id, q.msg_id, q.sender, q.recipient, b.path, q.arrived, "
                        "q.attempts, q.last_error, q.flags FROM queue q "
                        "JOIN blobs b ON b.id = q.blob_id "
                        "WHERE q.state = 'queued' AND q.next_attempt <= ? "
                        "ORDER BY q.next_attempt, q.id LIMIT ?",
                        &s);
    if (rc != 0)
        return rc;
    db_bind_int64(s, 1, now);
    db_bind_int64(s, 2, max);
    char path[4096];
    int src;
    while ((src = db_step(st, s, "queue due")) == SQLITE_ROW) {
        snprintf(path, sizeof path, "%s/%s", st->data_dir, text_or_empty(s, 4));
        struct store_queue_item it = {
            .id = sqlite3_column_int64(s, 0),
            .msg_id = text_or_empty(s, 1),
            .sender = text_or_empty(s, 2),
            .recipient = text_or_empty(s, 3),
            .blob_path = path,
            .arrived = sqlite3_column_int64(s, 5),
            .attempts = sqlite3_column_int(s, 6),
            .last_error = text_or_empty(s, 7),
            .flags = (unsigned)sqlite3_column_int(s, 8),
        };
        cb(ctx, &it);
    }
    sqlite3_finalize(s);
    return src == SQLITE_DONE ? 0 : db_err(src);
}

int store_queue_next_due(struct store *st, int64_t *when_out)
{
    return db_query_int64(st,
                          "SELECT next_attempt FROM queue WHERE state = 'queued' "
                          "ORDER BY next_attempt LIMIT 1",
                          NULL, when_out);
}

/* Runs a statement with up to three int64 parameters; *changes_out gets rows changed. */
static int exec3(struct store *st, const char *sql, int n, int64_t a, int64_t b, int64_t c,
                 int *changes_out)
{
    sqlite3_stmt *s;
    int rc = db_prepare(st, sql, &s);
    if (rc != 0)
        return rc;
    int64_t v[3] = {a, b, c};
    for (int i = 0; i < n; i++)
        db_bind_int64(s, i + 1, v[i]);
    int src = db_step(st, s, "queue update");
    sqlite3_finalize(s);
    if (src != SQLITE_DONE)
        return db_err(src);
    if (changes_out)
        *changes_out = sqlite3_changes(st->db);
    return 0;
}

int store_queue_remove(struct store *st, const int64_t *ids, size_t n)
{
    int rc = db_begin(st);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = exec3(st, "DELETE FROM queue WHERE id = ?", 1, ids[i], 0, 0, NULL);
    if (rc != 0) {
        db_rollback(st);
        return rc;
    }
    return db_commit(st);
}

int store_queue_defer(struct store *st, int64_t id, int64_t next_attempt, const char *error)
{
    sqlite3_stmt *s;
    int rc = db_prepare(st,
                        "UPDATE queue SET attempts = attempts + 1, next_attempt = ?, "
                        "last_error = ? WHERE id = ?",
                        &s);
    if (rc != 0)
        return rc;
    db_bind_int64(s, 1, next_attempt);
    db_bind_text(s, 2, error);
    db_bind_int64(s, 3, id);
    int src = db_step(st, s, "queue defer");
    sqlite3_finalize(s);
    return src == SQLITE_DONE ? 0 : db_err(src);
}

static int admin(struct store *st, const char *all_sql, const char *one_sql, int64_t id,
                 int64_t now)
{
    int changed = 0;
    int rc = id ? exec3(st, one_sql, 2, id, now, 0, &changed)
                : exec3(st, all_sql, 1, now, 0, 0, &changed);
    if (rc != 0)
        return rc;
    return changed ? 0 : ERR_NOTFOUND;
}

int store_queue_hold(struct store *st, int64_t id)
{
    return admin(st, "UPDATE queue SET state = 'held' WHERE state = 'queued' AND ? >= 0",
                 "UPDATE queue SET state = 'held' WHERE state = 'queued' AND id = ? AND ? >= 0",
                 id, 0);
}

int store_queue_release(struct store *st, int64_t id)
{
    return admin(st, "UPDATE queue SET state = 'queued', next_attempt = ? WHERE state = 'held'",
                 "UPDATE queue SET state = 'queued', next_attempt = ?2 WHERE state = 'held' "
                 "AND id = ?1",
                 id, 0);
}

int store_queue_flush(struct store *st, int64_t id, int64_t now)
{
    return admin(st, "UPDATE queue SET next_attempt = ? WHERE state = 'queued'",
                 "UPDATE queue SET next_attempt = ?2 WHERE state = 'queued' AND id = ?1", id,
                 now);
}

int store_queue_delete(struct store *st, int64_t id)
{
    return admin(st, "DELETE FROM queue WHERE ? >= 0", "DELETE FROM queue WHERE id = ? AND ? >= 0",
                 id, 0);
}
