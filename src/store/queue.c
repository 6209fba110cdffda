/*
 * queue — reading the outgoing queue (one row per message and remote recipient). The queue
 * runner's claim/retry/bounce operations will live here too.
 */
#include "store/db.h"

#include "core/err.h"
#include "core/str.h"

static const char *col_text(sqlite3_stmt *s, int i)
{
    const char *t = (const char *)sqlite3_column_text(s, i);
    return t ? t : "";
}

/*
 * cb gets each entry in queue order (by id); the entry and its strings are valid only during
 * the call and cb must not modify the store through st. size is that of the queued file.
 */
int store_queue_list(struct store *st, void (*cb)(void *ctx, const struct store_queue_entry *e),
                     void *ctx)
{
    sqlite3_stmt *s;
    int rc = db_prepare(st,
                        "SELECT q.id, q.msg_id, q.sender, q.recipient, q.arrived, "
                        "q.next_attempt, q.attempts, q.last_error, q.state, "
                        "coalesce(b.size, 0), coalesce(b.path, ''), q.flags "
                        "FROM queue q LEFT JOIN blobs b ON b.id = q.blob_id "
                        "ORDER BY q.id",
                        &s);
    if (rc != 0)
        return rc;
    int src;
    struct str path = STR_INIT;
    while ((src = db_step(st, s, "list queue")) == SQLITE_ROW) {
        str_reset(&path);
        if (*col_text(s, 10))
            str_appendf(&path, "%s/%s", st->data_dir, col_text(s, 10));
        struct store_queue_entry e = {
            .id = sqlite3_column_int64(s, 0),
            .msg_id = col_text(s, 1),
            .sender = col_text(s, 2),
            .recipient = col_text(s, 3),
            .arrived = sqlite3_column_int64(s, 4),
            .next_attempt = sqlite3_column_int64(s, 5),
            .attempts = sqlite3_column_int(s, 6),
            .last_error = col_text(s, 7),
            .state = col_text(s, 8),
            .flags = (unsigned)sqlite3_column_int(s, 11),
            .size = sqlite3_column_int64(s, 9),
            .blob_path = str_cstr(&path),
        };
        cb(ctx, &e);
    }
    sqlite3_finalize(s);
    str_clear(&path);
    return src == SQLITE_DONE ? 0 : db_err(src);
}
