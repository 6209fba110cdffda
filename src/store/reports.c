/* reports — received aggregate reports (see reports.h). */
#include "store/reports.h"

#include "store/db.h"

#include "core/err.h"

int store_report_insert(struct store *st, const struct store_report *r, const char *msg_id,
                        int64_t now)
{
    sqlite3_stmt *s;
    int rc = db_prepare_cached(st,
                               "INSERT OR IGNORE INTO received_reports(kind, org, report_id, "
                               "domain, begin_at, end_at, data, msg_id, received_at) "
                               "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)",
                               &s);
    if (rc != 0)
        return rc;
    if (db_bind_text(s, 1, r->kind) || db_bind_text(s, 2, r->org) ||
        db_bind_text(s, 3, r->report_id) || db_bind_text(s, 4, r->domain) ||
        db_bind_int64(s, 5, r->begin) || db_bind_int64(s, 6, r->end) ||
        db_bind_text(s, 7, r->data) || db_bind_text(s, 8, msg_id) || db_bind_int64(s, 9, now)) {
        db_done(st, s);
        return ERR_DB;
    }
    int src = db_step(st, s, "report insert");
    db_done(st, s);
    return src == SQLITE_DONE ? 0 : db_err(src);
}

int store_report_list(struct store *st, const char *kind, const char *domain, int64_t since,
                      void (*cb)(void *ctx, const struct store_report *r), void *ctx)
{
    sqlite3_stmt *s;
    int rc = db_prepare(st,
                        "SELECT org, report_id, domain, begin_at, end_at, data, msg_id, "
                        "received_at FROM received_reports WHERE kind = ? AND end_at > ? "
                        "AND (?3 IS NULL OR domain = ?3 COLLATE NOCASE) "
                        "ORDER BY begin_at DESC, id DESC",
                        &s);
    if (rc != 0)
        return rc;
    if (db_bind_text(s, 1, kind) || db_bind_int64(s, 2, since) ||
        (domain && db_bind_text(s, 3, domain))) {
        sqlite3_finalize(s);
        return ERR_DB;
    }
    int src;
    while ((src = db_step(st, s, "report list")) == SQLITE_ROW) {
        struct store_report r = {
            .kind = kind,
            .org = (const char *)sqlite3_column_text(s, 0),
            .report_id = (const char *)sqlite3_column_text(s, 1),
            .domain = (const char *)sqlite3_column_text(s, 2),
            .begin = sqlite3_column_int64(s, 3),
            .end = sqlite3_column_int64(s, 4),
            .data = (const char *)sqlite3_column_text(s, 5),
            .msg_id = (const char *)sqlite3_column_text(s, 6),
            .received_at = sqlite3_column_int64(s, 7),
        };
        cb(ctx, &r);
    }
    sqlite3_finalize(s);
    return src == SQLITE_DONE ? 0 : db_err(src);
}
