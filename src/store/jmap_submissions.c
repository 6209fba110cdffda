/* store/jmap_submissions — see jmap_submissions.h: EmailSubmission records for JMAP. */
#include "store/jmap_submissions.h"

#include "store/db.h"

#include "core/err.h"

#include <stdlib.h>

int store_jmap_submission_put(struct store *st, const char *user, const char *id,
                              const char *object)
{
    int64_t uid_;
    int rc = store_user_lookup(st, user, &uid_);
    sqlite3_stmt *s = NULL;
    if (rc == 0)
        rc = db_prepare(st, "INSERT INTO jmap_submissions(user_id, id, seq, object) VALUES "
                            "(?1, ?2, (SELECT coalesce(max(seq), 0) + 1 FROM jmap_submissions "
                            "WHERE user_id = ?1), ?3)", &s);
    if (rc != 0)
        return rc;
    db_bind_int64(s, 1, uid_);
    db_bind_text(s, 2, id);
    db_bind_text(s, 3, object);
    int src = db_step(st, s, "jmap submission put");
    sqlite3_finalize(s);
    return src == SQLITE_DONE ? 0 : src == SQLITE_CONSTRAINT ? ERR_EXISTS : db_err(src);
}

/* The highest sequence number of user (0 when none). */
static int max_seq(struct store *st, int64_t user_id, int64_t *out)
{
    sqlite3_stmt *s = NULL;
    int rc = db_prepare(st, "SELECT coalesce(max(seq), 0) FROM jmap_submissions WHERE "
                            "user_id = ?1", &s);
    if (rc != 0)
        return rc;
    db_bind_int64(s, 1, user_id);
    int src = db_step(st, s, "jmap submission state");
    if (src == SQLITE_ROW)
        *out = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return src == SQLITE_ROW ? 0 : db_err(src);
}

int store_jmap_submissions(struct store *st, const char *user,
                           void (*cb)(void *arg, const char *object), void *arg,
                           struct str *state_out)
{
    int64_t uid_;
    int rc = store_user_lookup(st, user, &uid_);
    sqlite3_stmt *s = NULL;
    if (rc == 0)
        rc = db_prepare(st, "SELECT object FROM jmap_submissions WHERE user_id = ?1 AND "
                            "object != '' ORDER BY seq", &s);
    if (rc != 0)
        return rc;
    db_bind_int64(s, 1, uid_);
    int src;
    while ((src = db_step(st, s, "jmap submissions")) == SQLITE_ROW)
        cb(arg, (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    if (src != SQLITE_DONE)
        return db_err(src);
    int64_t max = 0;
    rc = max_seq(st, uid_, &max);
    if (rc == 0)
        str_appendf(state_out, "%lld", (long long)max);
    return rc;
}

int store_jmap_submission_del(struct store *st, const char *user, const char *id)
{
    int64_t uid_;
    int rc = store_user_lookup(st, user, &uid_);
    sqlite3_stmt *s = NULL;
    if (rc == 0)
        rc = db_prepare(st, "UPDATE jmap_submissions SET object = '', seq = (SELECT max(seq) + 1 "
                            "FROM jmap_submissions WHERE user_id = ?1) WHERE user_id = ?1 AND "
                            "id = ?2 AND object != ''", &s);
    if (rc != 0)
        return rc;
    db_bind_int64(s, 1, uid_);
    db_bind_text(s, 2, id);
    int src = db_step(st, s, "jmap submission del");
    int changed = sqlite3_changes(st->db);
    sqlite3_finalize(s);
    if (src != SQLITE_DONE)
        return db_err(src);
    return changed ? 0 : ERR_NOTFOUND;
}

int store_jmap_submission_changes(struct store *st, const char *user, int64_t since,
                                  void (*cb)(void *arg, const char *id, int64_t seq, bool gone),
                                  void *arg, int64_t *max_out)
{
    int64_t uid_;
    int rc = store_user_lookup(st, user, &uid_);
    sqlite3_stmt *s = NULL;
    if (rc == 0)
        rc = db_prepare(st, "SELECT id, seq, object = '' FROM jmap_submissions WHERE "
                            "user_id = ?1 AND seq > ?2 ORDER BY seq", &s);
    if (rc != 0)
        return rc;
    db_bind_int64(s, 1, uid_);
    db_bind_int64(s, 2, since);
    int src;
    while ((src = db_step(st, s, "jmap submission changes")) == SQLITE_ROW)
        cb(arg, (const char *)sqlite3_column_text(s, 0), sqlite3_column_int64(s, 1),
           sqlite3_column_int(s, 2) != 0);
    sqlite3_finalize(s);
    if (src != SQLITE_DONE)
        return db_err(src);
    return max_seq(st, uid_, max_out);
}
