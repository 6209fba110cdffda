/* quota — see quota.h. */
#include "store/quota.h"

#include "store/db.h"

#include "core/err.h"

#include <stdlib.h>
#include <string.h>

static const char quota_sql[] =
    "SELECT u.used_bytes, u.used_messages, u.quota_bytes, u.quota_messages, "
    "  (SELECT coalesce(sum(used_bytes), 0) FROM users WHERE domain_id = u.domain_id), "
    "  (SELECT coalesce(sum(used_messages), 0) FROM users WHERE domain_id = u.domain_id), "
    "  d.quota_bytes, d.quota_messages "
    "FROM users u JOIN domains d ON d.id = u.domain_id WHERE ";

static int quota_query(struct store *st, const char *where, const char *text, int64_t id,
                       struct store_quota *q)
{
    char sql[sizeof quota_sql + 32];
    memcpy(sql, quota_sql, sizeof quota_sql - 1);
    strcpy(sql + sizeof quota_sql - 1, where);
    sqlite3_stmt *s;
    int rc = db_prepare_cached(st, sql, &s); /* each commit asks: kept prepared */
    if (rc != 0)
        return rc;
    if (text ? db_bind_text(s, 1, text) : db_bind_int64(s, 1, id)) {
        db_done(st, s);
        return ERR_DB;
    }
    int src = db_step(st, s, "quota");
    if (src == SQLITE_ROW) {
        int64_t *v[] = {&q->used_bytes,      &q->used_messages,     &q->limit_bytes,
                        &q->limit_messages,  &q->dom_used_bytes,    &q->dom_used_messages,
                        &q->dom_limit_bytes, &q->dom_limit_messages};
        for (int i = 0; i < 8; i++)
            *v[i] = sqlite3_column_int64(s, i);
    }
    db_done(st, s);
    return src == SQLITE_ROW ? 0 : src == SQLITE_DONE ? ERR_NOTFOUND : db_err(src);
}

int store_quota_get(struct store *st, int64_t user_id, struct store_quota *q)
{
    memset(q, 0, sizeof *q);
    return quota_query(st, "u.id = ?", NULL, user_id, q);
}

int store_quota_get_addr(struct store *st, const char *address, struct store_quota *q)
{
    memset(q, 0, sizeof *q);
    char *a = db_address_norm(address, NULL);
    if (!a)
        return ERR_PARSE;
    int rc = quota_query(st, "u.address = ?", a, 0, q);
    free(a);
    return rc;
}

static bool over(int64_t used, int64_t limit, int64_t add)
{
    return limit > 0 && (add > 0 ? used + add > limit : used >= limit);
}

bool store_quota_exceeded(const struct store_quota *q, int64_t add_bytes)
{
    int64_t one = add_bytes > 0 ? 1 : 0;
    return over(q->used_bytes, q->limit_bytes, add_bytes) ||
           over(q->used_messages, q->limit_messages, one) ||
           over(q->dom_used_bytes, q->dom_limit_bytes, add_bytes) ||
           over(q->dom_used_messages, q->dom_limit_messages, one);
}

bool store_quota_over(const struct store_quota *q)
{
    return (q->limit_bytes > 0 && q->used_bytes > q->limit_bytes) ||
           (q->limit_messages > 0 && q->used_messages > q->limit_messages) ||
           (q->dom_limit_bytes > 0 && q->dom_used_bytes > q->dom_limit_bytes) ||
           (q->dom_limit_messages > 0 && q->dom_used_messages > q->dom_limit_messages);
}

int store_quota_set(struct store *st, const char *target, int64_t bytes, int64_t messages)
{
    if (bytes < 0 || messages < 0)
        return ERR_RANGE;
    bool domain = target[0] == '@';
    char *key = domain ? db_domain_norm(target + 1) : db_address_norm(target, NULL);
    if (!key)
        return ERR_PARSE;
    sqlite3_stmt *s;
    int rc = db_prepare(st,
                        domain ? "UPDATE domains SET quota_bytes = ?, quota_messages = ? "
                                 "WHERE name = ?"
                               : "UPDATE users SET quota_bytes = ?, quota_messages = ? "
                                 "WHERE address = ?",
                        &s);
    if (rc == 0) {
        int src = SQLITE_ERROR;
        if (!db_bind_int64(s, 1, bytes) && !db_bind_int64(s, 2, messages) &&
            !db_bind_text(s, 3, key))
            src = db_step(st, s, "set quota");
        rc = src != SQLITE_DONE ? db_err(src) : sqlite3_changes(st->db) ? 0 : ERR_NOTFOUND;
        sqlite3_finalize(s);
    }
    free(key);
    return rc;
}
