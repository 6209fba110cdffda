/* Unit tests for src/store: schema, domains, users, delivery rows, queue, gc. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/err.h"
#include "core/str.h"
#include "store/db.h"
#include "store/store.h"

struct fixture {
    char dir[64];
    struct store *st;
};

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/pigeon-store-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    const char *err = NULL;
    assert_int_equal(store_open(f->dir, &f->st, &err), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    store_close(f->st);
    nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* Runs a one-integer query on the database file directly (independent of the store code). */
static int64_t sql_int(const char *dir, const char *sql)
{
    char path[128];
    snprintf(path, sizeof path, "%s/pigeon.db", dir);
    sqlite3 *db;
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

static char *read_file(const char *path, size_t *len_out)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    *len_out = n;
    return buf;
}

/* ---- collectors for the list callbacks ---- */

struct names {
    char v[16][64];
    int n;
};

static void collect_name(void *ctx, const char *name)
{
    struct names *ns = ctx;
    assert_true(ns->n < 16);
    snprintf(ns->v[ns->n++], 64, "%s", name);
}

struct msgs {
    struct store_msg_info v[16];
    char paths[16][256];
    int n;
};

static void collect_msg(void *ctx, const struct store_msg_info *m)
{
    struct msgs *ms = ctx;
    assert_true(ms->n < 16);
    ms->v[ms->n] = *m;
    snprintf(ms->paths[ms->n], 256, "%s", m->blob_path);
    ms->v[ms->n].blob_path = ms->paths[ms->n];
    ms->v[ms->n].flags = "";
    ms->n++;
}

struct queue {
    struct store_queue_entry v[16];
    char rcpt[16][64], sender[16][64], state[16][16];
    int n;
};

static void collect_queue(void *ctx, const struct store_queue_entry *e)
{
    struct queue *q = ctx;
    assert_true(q->n < 16);
    q->v[q->n] = *e;
    snprintf(q->rcpt[q->n], 64, "%s", e->recipient);
    snprintf(q->sender[q->n], 64, "%s", e->sender);
    snprintf(q->state[q->n], 16, "%s", e->state);
    q->n++;
}

/* ---- tests ---- */

/* The statement cache of the per-message look-ups: the same statement comes back reset and
 * unbound, a second use while the first is out gets its own, a full cache still answers. */
static void test_stmt_cache(void **state)
{
    struct fixture *f = *state;
    struct store *st = f->st;
    static const char sql[] = "SELECT ?1 + 1";
    sqlite3_stmt *a, *b, *c;
    assert_int_equal(db_prepare_cached(st, sql, &a), 0);
    assert_int_equal(db_bind_int64(a, 1, 41), 0);
    assert_int_equal(db_step(st, a, "t"), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(a, 0), 42);
    assert_int_equal(db_prepare_cached(st, sql, &b), 0); /* a is still out */
    assert_ptr_not_equal(a, b);
    db_done(st, b);
    db_done(st, a);
    assert_false(sqlite3_stmt_busy(a)); /* reset: no read transaction left open */
    char copy[sizeof sql];
    memcpy(copy, sql, sizeof sql); /* found by its text, not its address */
    assert_int_equal(db_prepare_cached(st, copy, &c), 0);
    assert_true(c == a || c == b);
    assert_int_equal(db_step(st, c, "t"), SQLITE_ROW);
    assert_int_equal(sqlite3_column_type(c, 0), SQLITE_NULL); /* bindings cleared */
    db_done(st, c);
    sqlite3_stmt *many[DB_STMT_CACHE + 2];
    char texts[DB_STMT_CACHE + 2][32];
    for (int i = 0; i < DB_STMT_CACHE + 2; i++) {
        snprintf(texts[i], sizeof texts[i], "SELECT %d", i);
        assert_int_equal(db_prepare_cached(st, texts[i], &many[i]), 0);
        assert_int_equal(db_step(st, many[i], "t"), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int(many[i], 0), i);
    }
    for (int i = 0; i < DB_STMT_CACHE + 2; i++)
        db_done(st, many[i]); /* the ones past the cache are finalized (ASan: no leak) */
}

static void test_open_idempotent(void **state)
{
    struct fixture *f = *state;
    struct store *again = NULL;
    const char *err = NULL;
    store_close(f->st);
    f->st = NULL;
    assert_int_equal(store_open(f->dir, &again, &err), 0);
    f->st = again;
    assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM schema_migrations"),
                     STORE_SCHEMA_VERSION);
    assert_int_equal(sql_int(f->dir, "SELECT max(version) FROM schema_migrations"),
                     STORE_SCHEMA_VERSION);
    assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM sqlite_master WHERE name IN "
                                     "('domains','users','aliases','mailboxes','blobs',"
                                     "'messages','queue','parse_cache')"),
                     8);
    assert_string_equal(store_data_dir(f->st), f->dir);
    char p[128];
    struct stat sb;
    snprintf(p, sizeof p, "%s/blobs/ff", f->dir);
    assert_int_equal(stat(p, &sb), 0);
    snprintf(p, sizeof p, "%s/tmp", f->dir);
    assert_int_equal(stat(p, &sb), 0);
    assert_int_equal(store_open("", &again, &err), ERR_CONFIG);
    assert_int_equal(store_open("/proc/nonexistent/x", &again, &err), ERR_IO);
    assert_non_null(strstr(err, "/proc/nonexistent/x"));
}

/* A parse-cache row of a message with 1.5 KB of header fields (Authentication-Results,
 * Received chains) stays in its b-tree leaf: an overflow page per row halved IMAP throughput. */
static void test_parse_cache_rows_fit_their_page(void **state)
{
    struct fixture *f = *state;
    char path[128];
    snprintf(path, sizeof path, "%s/pigeon.db", f->dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    const char *sql = "INSERT INTO blobs(id, path, size, created) VALUES (?1, 'x', 1, 0);"
                      "INSERT INTO parse_cache(blob_id, envelope, bodystructure, body, "
                      "search_headers, created) VALUES (?1, ?2, ?2, ?2, ?3, 0)";
    char hdrs[1500], env[300];
    memset(hdrs, 'h', sizeof hdrs - 1);
    hdrs[sizeof hdrs - 1] = '\0';
    memset(env, 'e', sizeof env - 1);
    env[sizeof env - 1] = '\0';
    for (int i = 0; i < 50; i++) {
        char id[40];
        snprintf(id, sizeof id, "%032d", i);
        const char *tail = sql;
        while (*tail) {
            sqlite3_stmt *s;
            assert_int_equal(sqlite3_prepare_v2(db, tail, -1, &s, &tail), SQLITE_OK);
            sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
            if (sqlite3_bind_parameter_count(s) > 1) {
                sqlite3_bind_text(s, 2, env, -1, SQLITE_STATIC);
                sqlite3_bind_text(s, 3, hdrs, -1, SQLITE_STATIC);
            }
            assert_int_equal(sqlite3_step(s), SQLITE_DONE);
            sqlite3_finalize(s);
        }
    }
    sqlite3_close(db);
    assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM parse_cache"), 50);
    assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM dbstat WHERE name = 'parse_cache' "
                                     "AND pagetype = 'overflow'"),
                     0);
}

static void test_domains(void **state)
{
    struct store *st = ((struct fixture *)*state)->st;
    assert_int_equal(store_domain_add(st, "Example.ORG"), 0);
    assert_int_equal(store_domain_add(st, "example.org"), ERR_EXISTS);
    assert_int_equal(store_domain_add(st, "b.example"), 0);
    assert_int_equal(store_domain_add(st, "bad domain"), ERR_PARSE);
    assert_int_equal(store_domain_exists(st, "EXAMPLE.org"), 1);
    assert_int_equal(store_domain_exists(st, "example.org."), 1);
    assert_int_equal(store_domain_exists(st, "nope.example"), 0);

    struct names ns = {0};
    assert_int_equal(store_domain_list(st, collect_name, &ns), 0);
    assert_int_equal(ns.n, 2);
    assert_string_equal(ns.v[0], "b.example");
    assert_string_equal(ns.v[1], "example.org");

    assert_int_equal(store_user_add(st, "alice@example.org", "$6$x"), 0);
    assert_int_equal(store_domain_del(st, "example.org"), ERR_BUSY_STATE);
    assert_int_equal(store_domain_del(st, "nope.example"), ERR_NOTFOUND);
    assert_int_equal(store_user_del(st, "alice@example.org"), 0);
    assert_int_equal(store_domain_del(st, "Example.org"), 0);
    assert_int_equal(store_domain_exists(st, "example.org"), 0);
}

static void test_users(void **state)
{
    struct fixture *f = *state;
    struct store *st = f->st;
    assert_int_equal(store_user_add(st, "bob@nodomain.example", "h"), ERR_NOTFOUND);
    assert_int_equal(store_user_add(st, "nobody", "h"), ERR_PARSE);
    assert_int_equal(store_domain_add(st, "example.org"), 0);
    assert_int_equal(store_user_add(st, "Alice@Example.org", "$6$one"), 0);
    assert_int_equal(store_user_add(st, "alice@example.org", "$6$two"), ERR_EXISTS);
    assert_int_equal(store_user_add(st, "bob@example.org", "$6$bob"), 0);

    assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM mailboxes"), 12);
    assert_int_equal(sql_int(f->dir, "SELECT count(DISTINCT uidvalidity) FROM mailboxes"), 12);
    assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM mailboxes WHERE uidnext = 1"), 12);
    assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM mailboxes m JOIN users u ON "
                                     "u.id = m.user_id WHERE u.address = 'alice@example.org' "
                                     "AND ((m.name = 'INBOX' AND m.special_use = '') OR "
                                     "m.special_use = '\\' || m.name)"),
                     6);

    char *hash = NULL;
    assert_int_equal(store_user_get_hash(st, "ALICE@example.org", &hash), 0);
    assert_string_equal(hash, "$6$one");
    free(hash);
    assert_int_equal(store_user_set_hash(st, "alice@EXAMPLE.org", "$6$new"), 0);
    assert_int_equal(store_user_get_hash(st, "alice@example.org", &hash), 0);
    assert_string_equal(hash, "$6$new");
    free(hash);
    assert_int_equal(store_user_get_hash(st, "carol@example.org", &hash), ERR_NOTFOUND);
    assert_int_equal(store_user_set_hash(st, "carol@example.org", "x"), ERR_NOTFOUND);

    int64_t id1 = 0, id2 = 0;
    assert_int_equal(store_user_lookup(st, "alice@example.org", &id1), 0);
    assert_int_equal(store_user_lookup(st, "aLiCe@ExAmPlE.oRg", &id2), 0);
    assert_int_equal(id1, id2);
    assert_int_equal(store_user_lookup(st, "carol@example.org", &id2), ERR_NOTFOUND);

    struct names ns = {0};
    assert_int_equal(store_user_list(st, "EXAMPLE.org", collect_name, &ns), 0);
    assert_int_equal(ns.n, 2);
    assert_string_equal(ns.v[0], "alice@example.org");
    assert_string_equal(ns.v[1], "bob@example.org");
    assert_int_equal(store_user_list(st, "nope.example", collect_name, &ns), ERR_NOTFOUND);

    int64_t old_inbox = sql_int(f->dir, "SELECT uidvalidity FROM mailboxes m JOIN users u ON "
                                        "u.id = m.user_id WHERE u.address = 'alice@example.org' "
                                        "AND m.name = 'INBOX'");
    assert_int_equal(store_user_del(st, "alice@example.org"), 0);
    assert_int_equal(store_user_del(st, "alice@example.org"), ERR_NOTFOUND);
    assert_int_equal(store_user_lookup(st, "alice@example.org", &id2), ERR_NOTFOUND);
    assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM mailboxes"), 6);
    /* Re-created: the new INBOX never reuses a UIDVALIDITY. */
    assert_int_equal(store_user_add(st, "alice@example.org", "h"), 0);
    int64_t max_before = sql_int(f->dir, "SELECT max(uidvalidity) FROM mailboxes m JOIN users u "
                                         "ON u.id = m.user_id WHERE u.address = 'bob@example.org'");
    int64_t new_inbox = sql_int(f->dir, "SELECT uidvalidity FROM mailboxes m JOIN users u ON "
                                        "u.id = m.user_id WHERE u.address = 'alice@example.org' "
                                        "AND m.name = 'INBOX'");
    assert_true(new_inbox > old_inbox);
    assert_true(new_inbox > max_before);
}

/* A message "prefix + body" for users[] and rcpts[]; its blob written. */
static void make_msg(const char *dir, struct store_msg *m, const char *body, const int64_t *users,
                     size_t n_users, const char *const *rcpts, size_t n_rcpts)
{
    memset(m, 0, sizeof *m);
    m->sender = "Sender@Remote.example";
    m->local_prefix = "Return-Path: <Sender@Remote.example>\r\n";
    m->local_prefix_len = strlen(m->local_prefix);
    m->body = body;
    m->body_len = strlen(body);
    m->local_users = users;
    m->n_local = n_users;
    m->remote_rcpts = rcpts;
    m->n_remote = n_rcpts;
    m->received_at = 1700000000;
    assert_int_equal(store_blob_write(dir, m), 0);
    assert_int_equal(strlen(m->id), 32);
    assert_int_equal(store_blobs_sync(dir), 0);
}

static void add_two_users(struct store *st, int64_t *alice, int64_t *bob)
{
    assert_int_equal(store_domain_add(st, "example.org"), 0);
    assert_int_equal(store_user_add(st, "alice@example.org", "h"), 0);
    assert_int_equal(store_user_add(st, "bob@example.org", "h"), 0);
    assert_int_equal(store_user_lookup(st, "alice@example.org", alice), 0);
    assert_int_equal(store_user_lookup(st, "bob@example.org", bob), 0);
}

static void test_commit_batch(void **state)
{
    struct fixture *f = *state;
    int64_t users[2];
    add_two_users(f->st, &users[0], &users[1]);
    const char *const rcpts[] = {"Carol@Remote.example"};
    struct store_msg batch[2];
    make_msg(f->dir, &batch[0], "Subject: one\r\n\r\nfirst\r\n", users, 2, rcpts, 1);
    make_msg(f->dir, &batch[1], "Subject: two\r\n\r\nsecond\r\n", users, 1, NULL, 0);
    assert_int_equal(store_commit_batch(f->st, batch, 2), 0);
    assert_int_equal(batch[0].result, 0);
    assert_int_equal(batch[1].result, 0);

    struct msgs a = {0}, b = {0};
    assert_int_equal(store_mailbox_messages(f->st, "alice@example.org", "inbox", collect_msg, &a),
                     0);
    assert_int_equal(store_mailbox_messages(f->st, "BOB@example.org", "INBOX", collect_msg, &b), 0);
    assert_int_equal(a.n, 2);
    assert_int_equal(b.n, 1);
    assert_int_equal(a.v[0].uid, 1);
    assert_int_equal(a.v[1].uid, 2);
    assert_int_equal(b.v[0].uid, 1);
    /* One file serves every local recipient. */
    assert_string_equal(a.paths[0], b.paths[0]);
    assert_string_not_equal(a.paths[0], a.paths[1]);
    assert_int_equal(a.v[0].internal_date, 1700000000);
    size_t len;
    const char *content = read_file(a.paths[0], &len);
    assert_int_equal(a.v[0].size, (int64_t)len);
    assert_int_equal(len, batch[0].local_prefix_len + batch[0].body_len);
    assert_true(strncmp(content, "Return-Path: <Sender@Remote.example>\r\nSubject: one", 50) == 0);

    struct queue q = {0};
    assert_int_equal(store_queue_list(f->st, collect_queue, &q), 0);
    assert_int_equal(q.n, 1);
    assert_string_equal(q.rcpt[0], "Carol@Remote.example"); /* remote case kept */
    assert_string_equal(q.sender[0], "Sender@Remote.example");
    assert_string_equal(q.state[0], "queued");
    assert_int_equal(q.v[0].size, (int64_t)batch[0].body_len);
    assert_int_equal(q.v[0].arrived, 1700000000);
    assert_int_equal(q.v[0].attempts, 0);
    char qpath[256];
    snprintf(qpath, sizeof qpath, "%s/blobs/%.2s/%s.q", f->dir, batch[0].id, batch[0].id);
    content = read_file(qpath, &len);
    assert_int_equal(len, batch[0].body_len);
    assert_memory_equal(content, batch[0].body, len);

    /* A later batch continues the uid sequence; highestmodseq follows. */
    struct store_msg third;
    make_msg(f->dir, &third, "Subject: three\r\n\r\n3\r\n", users, 1, NULL, 0);
    assert_int_equal(store_blobs_sync(f->dir), 0);
    assert_int_equal(store_commit_batch(f->st, &third, 1), 0);
    a.n = 0;
    assert_int_equal(store_mailbox_messages(f->st, "alice@example.org", "INBOX", collect_msg, &a),
                     0);
    assert_int_equal(a.n, 3);
    assert_int_equal(a.v[2].uid, 3);
    assert_int_equal(sql_int(f->dir, "SELECT uidnext FROM mailboxes WHERE name = 'INBOX' AND "
                                     "user_id = (SELECT id FROM users WHERE local = 'alice')"),
                     4);
    assert_int_equal(sql_int(f->dir, "SELECT count(DISTINCT modseq) FROM messages"), 3);
    assert_int_equal(store_mailbox_messages(f->st, "alice@example.org", "Nope", collect_msg, &a),
                     ERR_NOTFOUND);
    assert_int_equal(store_mailbox_messages(f->st, "zed@example.org", "INBOX", collect_msg, &a),
                     ERR_NOTFOUND);
}

static void test_commit_deleted_user_and_duplicates(void **state)
{
    struct fixture *f = *state;
    int64_t users[3];
    add_two_users(f->st, &users[0], &users[1]);
    users[2] = users[0]; /* alice listed twice: one copy */
    assert_int_equal(store_user_del(f->st, "bob@example.org"), 0);
    struct store_msg m;
    make_msg(f->dir, &m, "Subject: x\r\n\r\nx\r\n", users, 3, NULL, 0);
    assert_int_equal(store_commit_batch(f->st, &m, 1), 0);
    assert_int_equal(m.result, 0);
    assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM messages"), 1);
}

static void set_old(const char *path)
{
    struct timeval tv[2];
    gettimeofday(&tv[0], NULL);
    tv[0].tv_sec -= 2 * STORE_GC_MIN_AGE;
    tv[1] = tv[0];
    assert_int_equal(utimes(path, tv), 0);
}

static int age_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)ftw;
    if (flag == FTW_F && S_ISREG(sb->st_mode) && !strstr(path, "pigeon.db"))
        set_old(path);
    return 0;
}

static int file_exists(const char *dir, const char *id, const char *suffix)
{
    char p[256];
    struct stat sb;
    snprintf(p, sizeof p, "%s/blobs/%.2s/%s%s", dir, id, id, suffix);
    return stat(p, &sb) == 0;
}

static void test_gc(void **state)
{
    struct fixture *f = *state;
    int64_t users[2];
    add_two_users(f->st, &users[0], &users[1]);
    const char *const rcpts[] = {"x@remote.example"};
    struct store_msg kept, orphan, bobs;
    make_msg(f->dir, &kept, "Subject: kept\r\n\r\n", users, 1, rcpts, 1);
    make_msg(f->dir, &bobs, "Subject: bob\r\n\r\n", &users[1], 1, NULL, 0);
    make_msg(f->dir, &orphan, "Subject: orphan\r\n\r\n", users, 1, rcpts, 1); /* never committed */
    assert_int_equal(store_commit_batch(f->st, &kept, 1), 0);
    assert_int_equal(store_commit_batch(f->st, &bobs, 1), 0);
    char tmp[128];
    snprintf(tmp, sizeof tmp, "%s/tmp/stale", f->dir);
    FILE *fp = fopen(tmp, "w");
    fclose(fp);

    int64_t removed = -1;
    assert_int_equal(store_gc(f->st, &removed), 0); /* everything is fresh */
    assert_int_equal(removed, 0);
    assert_true(file_exists(f->dir, orphan.id, ""));

    nftw(f->dir, age_one, 16, FTW_PHYS);
    assert_int_equal(store_user_del(f->st, "bob@example.org"), 0);
    assert_int_equal(store_gc(f->st, &removed), 0);
    assert_int_equal(removed, 4); /* orphan + orphan.q + bob's + tmp/stale */
    assert_false(file_exists(f->dir, orphan.id, ""));
    assert_false(file_exists(f->dir, orphan.id, ".q"));
    assert_false(file_exists(f->dir, bobs.id, ""));
    assert_true(file_exists(f->dir, kept.id, ""));
    assert_true(file_exists(f->dir, kept.id, ".q"));
    assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM blobs"), 2);
    assert_int_equal(access(tmp, F_OK), -1);

    assert_int_equal(store_gc_older(f->st, 0, &removed), 0);
    assert_int_equal(removed, 0);
}

static void test_durable_write(void **state)
{
    struct fixture *f = *state;
    char p[128];
    snprintf(p, sizeof p, "%s/state", f->dir);
    assert_int_equal(store_durable_write(p, "one", 3), 0);
    assert_int_equal(store_durable_write(p, "second", 6), 0);
    size_t len;
    const char *c = read_file(p, &len);
    assert_int_equal(len, 6);
    assert_memory_equal(c, "second", 6);
    snprintf(p, sizeof p, "%s/no/such/dir/state", f->dir);
    assert_int_equal(store_durable_write(p, "x", 1), ERR_IO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_cache_rows_fit_their_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stmt_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(test_domains, setup, teardown),
        cmocka_unit_test_setup_teardown(test_users, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_deleted_user_and_duplicates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_durable_write, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
