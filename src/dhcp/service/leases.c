/* dhcp/service/leases — see leases.h. */
#include "dhcp/service/leases.h"

#include "core/log.h"
#include "core/str.h"
#include "core/xmalloc.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct dhcp_leases {
    sqlite3 *db;
    sqlite3_stmt *save;
};

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=FULL;"
    "CREATE TABLE IF NOT EXISTS leases (addr INTEGER PRIMARY KEY, state INTEGER NOT NULL,"
    " expires INTEGER NOT NULL, client BLOB NOT NULL, htype INTEGER NOT NULL,"
    " chaddr BLOB NOT NULL, hostname TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS reservations (client BLOB PRIMARY KEY, addr INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS commands (id INTEGER PRIMARY KEY, verb TEXT NOT NULL,"
    " arg TEXT NOT NULL);";

struct dhcp_leases *dhcp_leases_open(const char *dir, struct str *err)
{
    char path[4096];
    if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
        str_appendf(err, "%s: %s", dir, strerror(errno));
        return NULL;
    }
    snprintf(path, sizeof path, "%s/leases.db", dir);
    struct dhcp_leases *l = xcalloc(1, sizeof *l);
    char *msg = NULL;
    if (sqlite3_open(path, &l->db) != SQLITE_OK ||
        sqlite3_busy_timeout(l->db, 5000) != SQLITE_OK ||
        sqlite3_exec(l->db, schema, NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_prepare_v2(l->db,
                           "INSERT OR REPLACE INTO leases VALUES (?,?,?,?,?,?,?)", -1,
                           &l->save, NULL) != SQLITE_OK) {
        str_appendf(err, "%s: %s", path, msg ? msg : sqlite3_errmsg(l->db));
        sqlite3_free(msg);
        dhcp_leases_close(l);
        return NULL;
    }
    return l;
}

void dhcp_leases_close(struct dhcp_leases *l)
{
    if (!l)
        return;
    sqlite3_finalize(l->save);
    sqlite3_close(l->db);
    free(l);
}

static int exec(struct dhcp_leases *l, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(l->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        log_err("dhcp: lease database: %s: %s", sql, msg ? msg : sqlite3_errmsg(l->db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

int dhcp_leases_begin(struct dhcp_leases *l)
{
    return exec(l, "BEGIN IMMEDIATE");
}

int dhcp_leases_commit(struct dhcp_leases *l)
{
    return exec(l, "COMMIT");
}

void dhcp_leases_rollback(struct dhcp_leases *l)
{
    if (!sqlite3_get_autocommit(l->db)) /* a failed COMMIT (SQLITE_FULL) already rolled back */
        exec(l, "ROLLBACK");
}

int dhcp_leases_save(struct dhcp_leases *l, const struct dhcp_lease *le)
{
    sqlite3_stmt *s = l->save;
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, le->addr);
    sqlite3_bind_int(s, 2, le->state);
    sqlite3_bind_int64(s, 3, le->expires);
    sqlite3_bind_blob(s, 4, le->key, le->key_len, SQLITE_STATIC);
    sqlite3_bind_int(s, 5, le->htype);
    sqlite3_bind_blob(s, 6, le->chaddr, le->hlen <= 16 ? le->hlen : 16, SQLITE_STATIC);
    sqlite3_bind_text(s, 7, le->hostname, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
        log_err("dhcp: lease database: save: %s", sqlite3_errmsg(l->db));
        return -1;
    }
    return 0;
}

int dhcp_leases_each(struct dhcp_leases *l, void (*fn)(void *ctx, const struct dhcp_lease *le),
                     void *ctx)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(l->db, "SELECT * FROM leases ORDER BY addr", -1, &s, NULL) != SQLITE_OK)
        return -1;
    while (sqlite3_step(s) == SQLITE_ROW) {
        struct dhcp_lease le = {0};
        le.addr = (uint32_t)sqlite3_column_int64(s, 0);
        le.state = (enum dhcp_lease_state)sqlite3_column_int(s, 1);
        le.expires = sqlite3_column_int64(s, 2);
        int kl = sqlite3_column_bytes(s, 3);
        int hl = sqlite3_column_bytes(s, 5);
        if (kl <= 0 || kl > DHCP_KEY_MAX || hl > 16 || le.state > DHCP_LEASE_DECLINED)
            continue;
        memcpy(le.key, sqlite3_column_blob(s, 3), (size_t)kl);
        le.key_len = (uint8_t)kl;
        le.htype = (uint8_t)sqlite3_column_int(s, 4);
        if (hl > 0)
            memcpy(le.chaddr, sqlite3_column_blob(s, 5), (size_t)hl);
        le.hlen = (uint8_t)hl;
        const unsigned char *h = sqlite3_column_text(s, 6);
        snprintf(le.hostname, sizeof le.hostname, "%s", h ? (const char *)h : "");
        fn(ctx, &le);
    }
    sqlite3_finalize(s);
    return 0;
}

static int run_blob_addr(struct dhcp_leases *l, const char *sql, const uint8_t *key, size_t len,
                         int64_t addr, bool with_addr)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(l->db, sql, -1, &s, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_blob(s, 1, key, (int)len, SQLITE_STATIC);
    if (with_addr)
        sqlite3_bind_int64(s, 2, addr);
    int rc = sqlite3_step(s);
    int changed = sqlite3_changes(l->db);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? changed : -1;
}

int dhcp_leases_reserve(struct dhcp_leases *l, const uint8_t *key, size_t len, uint32_t addr)
{
    return run_blob_addr(l, "INSERT OR REPLACE INTO reservations VALUES (?,?)", key, len, addr,
                         true) < 0
               ? -1
               : 0;
}

int dhcp_leases_unreserve(struct dhcp_leases *l, const uint8_t *key, size_t len)
{
    return run_blob_addr(l, "DELETE FROM reservations WHERE client = ?", key, len, 0, false);
}

int dhcp_leases_each_reservation(struct dhcp_leases *l,
                                 void (*fn)(void *ctx, const uint8_t *key, size_t len,
                                            uint32_t addr),
                                 void *ctx)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(l->db, "SELECT client, addr FROM reservations", -1, &s, NULL) !=
        SQLITE_OK)
        return -1;
    while (sqlite3_step(s) == SQLITE_ROW) {
        int kl = sqlite3_column_bytes(s, 0);
        if (kl > 0 && kl <= DHCP_KEY_MAX)
            fn(ctx, sqlite3_column_blob(s, 0), (size_t)kl, (uint32_t)sqlite3_column_int64(s, 1));
    }
    sqlite3_finalize(s);
    return 0;
}

int dhcp_leases_command_add(struct dhcp_leases *l, const char *verb, const char *arg)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(l->db, "INSERT INTO commands (verb, arg) VALUES (?,?)", -1, &s,
                           NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(s, 1, verb, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, arg, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

int dhcp_leases_commands_take(struct dhcp_leases *l,
                              void (*fn)(void *ctx, const char *verb, const char *arg), void *ctx)
{
    /* Read and delete in one transaction, then act outside it: fn saves leases in
     * transactions of its own. */
    struct str verbs = STR_INIT, args = STR_INIT;
    unsigned n = 0;
    sqlite3_stmt *s;
    if (dhcp_leases_begin(l) < 0)
        return -1;
    if (sqlite3_prepare_v2(l->db, "SELECT verb, arg FROM commands ORDER BY id", -1, &s, NULL) !=
        SQLITE_OK) {
        dhcp_leases_rollback(l);
        return -1;
    }
    while (sqlite3_step(s) == SQLITE_ROW && n < 1000) {
        const char *v = (const char *)sqlite3_column_text(s, 0);
        const char *a = (const char *)sqlite3_column_text(s, 1);
        str_append(&verbs, v ? v : "", v ? strlen(v) + 1 : 1);
        str_append(&args, a ? a : "", a ? strlen(a) + 1 : 1);
        n++;
    }
    sqlite3_finalize(s);
    int rc = exec(l, "DELETE FROM commands") < 0 ? -1 : dhcp_leases_commit(l);
    if (rc < 0)
        dhcp_leases_rollback(l);
    const char *v = str_cstr(&verbs), *a = str_cstr(&args);
    for (unsigned i = 0; rc == 0 && i < n; i++) {
        fn(ctx, v, a);
        v += strlen(v) + 1;
        a += strlen(a) + 1;
    }
    str_clear(&verbs);
    str_clear(&args);
    return rc;
}

int64_t dhcp_leases_data_version(struct dhcp_leases *l)
{
    sqlite3_stmt *s;
    int64_t v = -1;
    if (sqlite3_prepare_v2(l->db, "PRAGMA data_version", -1, &s, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

const char *dhcp_lease_state_name(int state)
{
    static const char *const names[] = {"free", "offered", "bound", "released", "expired",
                                        "declined"};
    return state >= 0 && state <= DHCP_LEASE_DECLINED ? names[state] : "?";
}
