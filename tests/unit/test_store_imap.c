/* Unit tests for store/imap.h: the mailbox tree, snapshots and changes, \Recent, STORE with
 * CONDSTORE, COPY/MOVE, APPEND and the parse cache. */
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
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "store/imap.h"
#include "store/imap_urlauth.h"
#include "store/mailbox.h"

#define BOB "bob@hamburger.edu"

struct fixture {
    char dir[64];
    struct store *st;
    int64_t bob;
};

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void deliver(struct fixture *f, const char *body)
{
    struct store_msg m;
    memset(&m, 0, sizeof m);
    m.sender = "alice@crepes.fr";
    m.local_prefix = "";
    m.body = body;
    m.body_len = strlen(body);
    m.local_users = &f->bob;
    m.n_local = 1;
    m.received_at = 1700000000;
    assert_int_equal(store_blob_write(f->dir, &m), 0);
    assert_int_equal(store_blobs_sync(f->dir), 0);
    assert_int_equal(store_commit_batch(f->st, &m, 1), 0);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/pigeon-simap-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    const char *err = NULL;
    assert_int_equal(store_open(f->dir, &f->st, &err), 0);
    assert_int_equal(store_domain_add(f->st, "hamburger.edu"), 0);
    assert_int_equal(store_user_add(f->st, BOB, "h"), 0);
    assert_int_equal(store_user_lookup(f->st, BOB, &f->bob), 0);
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

/* ---- collecting callbacks ---- */

struct names {
    char text[2048];
};

static void name_cb(void *ctx, const struct store_imap_name *n)
{
    struct names *x = ctx;
    size_t len = strlen(x->text);
    snprintf(x->text + len, sizeof x->text - len, "%s%s%s%s|", n->name,
             n->special_use[0] ? n->special_use : "", n->subscribed ? "+" : "",
             n->exists ? "" : "?");
}

static const char *list(struct fixture *f, struct names *x)
{
    x->text[0] = '\0';
    assert_int_equal(store_imap_list(f->st, BOB, name_cb, x), 0);
    return x->text;
}

struct msgs {
    int date_tz[64];
    int64_t uid[64];
    char flags[64][64];
    int64_t modseq[64];
    size_t n;
    int64_t expunged[64];
    size_t nexp;
};

static void msg_cb(void *ctx, const struct store_imap_msg *m)
{
    struct msgs *x = ctx;
    x->uid[x->n] = m->uid;
    x->date_tz[x->n] = m->date_tz;
    x->modseq[x->n] = m->modseq;
    snprintf(x->flags[x->n], sizeof x->flags[0], "%s", m->flags);
    x->n++;
}

static void exp_cb(void *ctx, int64_t uid)
{
    struct msgs *x = ctx;
    x->expunged[x->nexp++] = uid;
}

/* ---- tests ---- */

static void test_tree(void **state)
{
    struct fixture *f = *state;
    struct names x;
    assert_string_equal(list(f, &x), "Archive\\Archive+|Drafts\\Drafts+|INBOX+|Junk\\Junk+|"
                                     "Sent\\Sent+|Trash\\Trash+|");
    assert_int_equal(store_imap_create(f->st, BOB, "Work/Projects/2026"), 0);
    assert_int_equal(store_imap_create(f->st, BOB, "Work"), ERR_EXISTS);
    assert_int_equal(store_imap_delete(f->st, BOB, "Work", NULL), ERR_BUSY_STATE);
    assert_int_equal(store_imap_rename(f->st, BOB, "Work", "Play", NULL), 0);
    assert_int_equal(store_imap_rename(f->st, BOB, "Play", "Play/x", NULL), ERR_PARSE);
    assert_int_equal(store_imap_rename(f->st, BOB, "Nope", "X", NULL), ERR_NOTFOUND);
    assert_int_equal(store_imap_rename(f->st, BOB, "Play", "Sent", NULL), ERR_EXISTS);
    assert_int_equal(store_imap_subscribe(f->st, BOB, "Play/Projects", true), 0);
    assert_int_equal(store_imap_subscribe(f->st, BOB, "Ghost", true), 0);
    assert_string_equal(list(f, &x), "Archive\\Archive+|Drafts\\Drafts+|Ghost+?|INBOX+|Junk\\Junk+|"
                                     "Play|Play/Projects+|Play/Projects/2026|Sent\\Sent+|"
                                     "Trash\\Trash+|");
    assert_int_equal(store_imap_delete(f->st, BOB, "Play/Projects/2026", NULL), 0);
    assert_int_equal(store_imap_delete(f->st, BOB, "Play/Projects/2026", NULL), ERR_NOTFOUND);
    assert_int_equal(store_imap_subscribe(f->st, BOB, "Ghost", false), 0);
    /* A name with LIKE wildcards is no pattern. */
    assert_int_equal(store_imap_create(f->st, BOB, "a_b"), 0);
    assert_int_equal(store_imap_create(f->st, BOB, "axb/c"), 0);
    assert_int_equal(store_imap_delete(f->st, BOB, "a_b", NULL), 0);
}

static void test_select_changes_recent(void **state)
{
    struct fixture *f = *state;
    deliver(f, "Subject: 1\r\n\r\none\r\n");
    deliver(f, "Subject: 2\r\n\r\ntwo\r\n");
    struct store_imap_mailbox mb;
    struct msgs a = {0}, b = {0};
    assert_int_equal(store_imap_select(f->st, BOB, "INBOX", true, &mb, msg_cb, &a), 0);
    assert_int_equal(a.n, 2);
    assert_int_equal(mb.recent_before, 0); /* both are ours */
    assert_int_equal(mb.uidnext, 3);
    int64_t hms = mb.highestmodseq;
    /* A second session sees none of them as recent. */
    assert_int_equal(store_imap_select(f->st, BOB, "INBOX", true, &mb, msg_cb, &b), 0);
    assert_int_equal(mb.recent_before, 2);
    /* A new message, a flag change, an expunge: all show up as changes. */
    deliver(f, "Subject: 3\r\n\r\nthree\r\n");
    struct store_imap_flag_result *res;
    size_t n;
    assert_int_equal(store_imap_store_flags(f->st, mb.id, (int64_t[]){1}, 1, STORE_FLAGS_ADD,
                                            "\\Seen $Work", -1, &res, &n),
                     0);
    assert_int_equal(n, 1);
    assert_string_equal(res[0].flags, "\\Seen $Work");
    store_imap_flag_results_free(res, n);
    assert_int_equal(store_mailbox_expunge(f->st, mb.id, (int64_t[]){2}, 1, NULL), 0);
    struct msgs c = {0};
    assert_int_equal(store_imap_changes(f->st, mb.id, hms, true, &mb, msg_cb, exp_cb, &c), 0);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.uid[0], 1);
    assert_string_equal(c.flags[0], "\\Seen $Work");
    assert_int_equal(c.uid[1], 3);
    assert_int_equal(c.nexp, 1);
    assert_int_equal(c.expunged[0], 2);
    assert_int_equal(mb.recent_before, 2); /* uid 3 claimed by this call */
    struct msgs d = {0};
    assert_int_equal(store_imap_changes(f->st, mb.id, hms, true, &mb, msg_cb, exp_cb, &d), 0);
    assert_int_equal(mb.recent_before, 3);
    /* Nothing since the newest modseq. */
    struct msgs e = {0};
    assert_int_equal(
        store_imap_changes(f->st, mb.id, mb.highestmodseq, false, &mb, msg_cb, exp_cb, &e), 0);
    assert_int_equal(e.n + e.nexp, 0);
    assert_int_equal(store_imap_changes(f->st, 9999, 0, false, &mb, msg_cb, exp_cb, &e),
                     ERR_NOTFOUND);
}

static void test_store_flags(void **state)
{
    struct fixture *f = *state;
    deliver(f, "Subject: 1\r\n\r\none\r\n");
    deliver(f, "Subject: 2\r\n\r\ntwo\r\n");
    struct store_imap_mailbox mb;
    assert_int_equal(store_imap_select(f->st, BOB, "INBOX", false, &mb, NULL, NULL), 0);
    struct store_imap_flag_result *r;
    size_t n;
    int64_t uids[] = {1, 2, 7};
    assert_int_equal(store_imap_store_flags(f->st, mb.id, uids, 3, STORE_FLAGS_REPLACE,
                                            "$b \\Deleted \\Answered $a $B", -1, &r, &n),
                     0);
    assert_int_equal(n, 2); /* uid 7 does not exist */
    assert_string_equal(r[0].flags, "\\Answered \\Deleted $b $a");
    int64_t m1 = r[0].modseq;
    assert_int_equal(r[1].modseq, m1); /* one modseq per command */
    store_imap_flag_results_free(r, n);
    /* UNCHANGEDSINCE below the current modseq fails (RFC 7162 §3.1.3). */
    assert_int_equal(store_imap_store_flags(f->st, mb.id, uids, 1, STORE_FLAGS_REMOVE,
                                            "\\DELETED $A", m1 - 1, &r, &n),
                     0);
    assert_true(r[0].failed);
    store_imap_flag_results_free(r, n);
    assert_int_equal(store_imap_store_flags(f->st, mb.id, uids, 1, STORE_FLAGS_REMOVE,
                                            "\\DELETED $A", m1, &r, &n),
                     0);
    assert_false(r[0].failed);
    assert_string_equal(r[0].flags, "\\Answered $b");
    assert_true(r[0].modseq > m1);
    store_imap_flag_results_free(r, n);
    /* No change: no new modseq. */
    struct store_imap_status st;
    assert_int_equal(store_imap_status(f->st, BOB, "INBOX", &st), 0);
    int64_t before = st.highestmodseq;
    assert_int_equal(
        store_imap_store_flags(f->st, mb.id, uids, 1, STORE_FLAGS_ADD, "\\Answered", -1, &r, &n),
        0);
    store_imap_flag_results_free(r, n);
    assert_int_equal(store_imap_status(f->st, BOB, "INBOX", &st), 0);
    assert_int_equal(st.highestmodseq, before);
    assert_int_equal(st.messages, 2);
    assert_int_equal(st.unseen, 2);
    assert_int_equal(st.deleted, 1);
    assert_int_equal(st.recent, 2);
}

static void test_copy_move_append(void **state)
{
    struct fixture *f = *state;
    deliver(f, "Subject: 1\r\n\r\none\r\n");
    deliver(f, "Subject: 2\r\n\r\ntwo\r\n");
    struct store_imap_mailbox mb;
    assert_int_equal(store_imap_select(f->st, BOB, "INBOX", false, &mb, NULL, NULL), 0);
    struct store_imap_copy_result cr;
    assert_int_equal(
        store_imap_copy(f->st, BOB, mb.id, (int64_t[]){2, 1, 9}, 3, "Nope", false, &cr),
        ERR_NOTFOUND);
    assert_int_equal(
        store_imap_copy(f->st, BOB, mb.id, (int64_t[]){2, 1, 9}, 3, "Trash", false, &cr), 0);
    assert_int_equal(cr.n, 2);
    assert_int_equal(cr.src_uids[0], 1);
    assert_int_equal(cr.dst_uids[0], 1);
    assert_int_equal(cr.src_uids[1], 2);
    assert_int_equal(cr.dst_uids[1], 2);
    store_imap_copy_result_free(&cr);
    assert_int_equal(store_imap_copy(f->st, BOB, mb.id, (int64_t[]){1}, 1, "Trash", true, &cr), 0);
    assert_int_equal(cr.dst_uids[0], 3);
    store_imap_copy_result_free(&cr);
    struct store_imap_status st;
    assert_int_equal(store_imap_status(f->st, BOB, "INBOX", &st), 0);
    assert_int_equal(st.messages, 1);
    assert_int_equal(store_imap_status(f->st, BOB, "Trash", &st), 0);
    assert_int_equal(st.messages, 3);
    int64_t id, uidv, uid;
    const char msg[] = "Subject: appended\r\n\r\nbody\r\n";
    assert_int_equal(
        store_imap_append(f->st, BOB, "Nope", msg, strlen(msg), "", 1, &id, &uidv, &uid),
        ERR_NOTFOUND);
    assert_int_equal(store_imap_append(f->st, BOB, "Drafts", msg, strlen(msg), "\\Draft \\Seen",
                                       1234, &id, &uidv, &uid),
                     0);
    assert_int_equal(uid, 1);
    struct msgs x = {0};
    assert_int_equal(store_imap_select(f->st, BOB, "Drafts", false, &mb, msg_cb, &x), 0);
    assert_int_equal(mb.uidvalidity, uidv);
    assert_string_equal(x.flags[0], "\\Draft \\Seen");
    /* RENAME INBOX: messages move, INBOX stays, empty, with expunges recorded. */
    int64_t inbox;
    assert_int_equal(store_imap_rename(f->st, BOB, "INBOX", "Old/Mail", &inbox), 0);
    assert_int_equal(store_imap_status(f->st, BOB, "INBOX", &st), 0);
    assert_int_equal(st.messages, 0);
    assert_int_equal(store_imap_status(f->st, BOB, "Old/Mail", &st), 0);
    assert_int_equal(st.messages, 1);
    assert_int_equal(st.uidnext, 2);
    struct msgs y = {0};
    assert_int_equal(store_imap_changes(f->st, inbox, 0, false, &mb, msg_cb, exp_cb, &y), 0);
    assert_int_equal(y.nexp, 2);
}

/* APPEND keeps the internal date's zone; COPY and RENAME INBOX carry it along. */
static void test_date_zone(void **state)
{
    struct fixture *f = *state;
    int64_t id, uidv, uid;
    const char msg[] = "Subject: z\r\n\r\nbody\r\n";
    assert_int_equal(store_imap_append_tz(f->st, BOB, "INBOX", msg, strlen(msg), "", 1234, -420,
                                          &id, &uidv, &uid),
                     0);
    char blob[33];
    assert_int_equal(store_imap_append_blob(f->st, msg, strlen(msg), blob), 0);
    assert_int_equal(store_imap_append_rows_tz(f->st, BOB, "INBOX", blob, strlen(msg), "", 99, 330,
                                               &id, &uidv, &uid),
                     0);
    assert_int_equal(
        store_imap_append(f->st, BOB, "INBOX", msg, strlen(msg), "", 5, &id, &uidv, &uid), 0);
    struct store_imap_mailbox mb;
    struct msgs x = {0};
    assert_int_equal(store_imap_select(f->st, BOB, "INBOX", false, &mb, msg_cb, &x), 0);
    assert_int_equal(x.n, 3);
    assert_int_equal(x.date_tz[0], -420);
    assert_int_equal(x.date_tz[1], 330);
    assert_int_equal(x.date_tz[2], 0);
    struct store_imap_copy_result cr;
    assert_int_equal(store_imap_copy(f->st, BOB, mb.id, (int64_t[]){1}, 1, "Trash", false, &cr), 0);
    store_imap_copy_result_free(&cr);
    struct msgs y = {0};
    assert_int_equal(store_imap_select(f->st, BOB, "Trash", false, &mb, msg_cb, &y), 0);
    assert_int_equal(y.date_tz[0], -420);
    int64_t inbox;
    assert_int_equal(store_imap_rename(f->st, BOB, "INBOX", "Old", &inbox), 0);
    struct msgs z = {0};
    assert_int_equal(store_imap_select(f->st, BOB, "Old", false, &mb, msg_cb, &z), 0);
    assert_int_equal(z.date_tz[1], 330);
}

/* URLAUTH keys: made once, kept, replaced by RESETKEY, all dropped, gone with the mailbox. */
static void test_urlauth_keys(void **state)
{
    struct fixture *f = *state;
    unsigned char k1[STORE_URLAUTH_KEY_LEN], k2[STORE_URLAUTH_KEY_LEN], k3[STORE_URLAUTH_KEY_LEN];
    assert_int_equal(store_imap_urlauth_key(f->st, BOB, "INBOX", false, k1), ERR_NOTFOUND);
    assert_int_equal(store_imap_urlauth_key(f->st, BOB, "INBOX", true, k1), 0);
    assert_int_equal(store_imap_urlauth_key(f->st, BOB, "INBOX", false, k2), 0);
    assert_memory_equal(k1, k2, sizeof k1);
    assert_int_equal(store_imap_urlauth_key(f->st, BOB, "Sent", true, k3), 0);
    assert_memory_not_equal(k1, k3, sizeof k1);
    assert_int_equal(store_imap_urlauth_key(f->st, BOB, "Nope", true, k3), ERR_NOTFOUND);
    assert_int_equal(store_imap_urlauth_key(f->st, "eve@hamburger.edu", "INBOX", true, k3),
                     ERR_NOTFOUND);
    assert_int_equal(store_imap_urlauth_reset(f->st, BOB, "INBOX"), 0);
    assert_int_equal(store_imap_urlauth_key(f->st, BOB, "INBOX", false, k2), 0);
    assert_memory_not_equal(k1, k2, sizeof k1);
    assert_int_equal(store_imap_urlauth_reset(f->st, BOB, "Nope"), ERR_NOTFOUND);
    assert_int_equal(store_imap_urlauth_reset(f->st, BOB, NULL), 0);
    assert_int_equal(store_imap_urlauth_key(f->st, BOB, "INBOX", false, k2), ERR_NOTFOUND);
    assert_int_equal(store_imap_urlauth_key(f->st, BOB, "Sent", false, k2), ERR_NOTFOUND);
    assert_int_equal(store_imap_create(f->st, BOB, "Tmp"), 0);
    assert_int_equal(store_imap_urlauth_key(f->st, BOB, "Tmp", true, k1), 0);
    int64_t id;
    assert_int_equal(store_imap_delete(f->st, BOB, "Tmp", &id), 0);
    assert_int_equal(store_imap_create(f->st, BOB, "Tmp"), 0);
    assert_int_equal(store_imap_urlauth_key(f->st, BOB, "Tmp", false, k1), ERR_NOTFOUND);
}

static void test_cache(void **state)
{
    struct fixture *f = *state;
    deliver(f, "From: Alice <alice@crepes.fr>\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\n\r\nhi\r\n");
    struct store_imap_mailbox mb;
    char blob[64] = "";
    struct msgs x = {0};
    assert_int_equal(store_imap_select(f->st, BOB, "INBOX", false, &mb, msg_cb, &x), 0);
    sqlite3 *db = NULL;
    char path[128];
    snprintf(path, sizeof path, "%s/pigeon.db", f->dir);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT blob_id FROM messages", -1, &s, NULL), 0);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    snprintf(blob, sizeof blob, "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    const char *ids[] = {blob, "0000nonexistent"};
    struct store_imap_cache c[2];
    for (int round = 0; round < 2; round++) {
        size_t missing;
        assert_int_equal(store_imap_cache_get(f->st, ids, 2, STORE_CACHE_ALL, c,
                                              &(struct store_imap_cache_fill){0}, &missing),
                         0);
        assert_int_equal(missing, round == 0 ? 2 : 1);
        assert_string_equal(c[0].envelope, "(NIL \"=?utf-8?q?caf=C3=A9?=\" ((\"Alice\" NIL "
                                           "\"alice\" \"crepes.fr\")) ((\"Alice\" NIL \"alice\" "
                                           "\"crepes.fr\")) ((\"Alice\" NIL \"alice\" "
                                           "\"crepes.fr\")) NIL NIL NIL NIL NIL)");
        assert_non_null(strstr(c[0].search_headers, "Subject: caf\xc3\xa9\n"));
        assert_non_null(strstr(c[0].bodystructure, "\"TEXT\" \"PLAIN\""));
        assert_null(c[1].envelope);
        store_imap_cache_free(c, 2);
    }
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM parse_cache", -1, &s, NULL), 0);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(s, 0), 1);
    sqlite3_finalize(s);
    sqlite3_close(db);
}

/* Rows of sql on f's database (opened on its own); the first row's first column in first. */
static int count_rows(struct fixture *f, const char *sql, char *first, size_t cap)
{
    sqlite3 *db = NULL;
    char path[128];
    snprintf(path, sizeof path, "%s/pigeon.db", f->dir);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), 0);
    int n = 0;
    while (sqlite3_step(s) == SQLITE_ROW)
        if (n++ == 0 && first)
            snprintf(first, cap, "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
}

struct put_seen {
    int calls;
    size_t n;
    char id[64];
    struct store_imap_cache c;
};

static void put_hook(void *arg, const char *const *ids, const struct store_imap_cache *c, size_t n)
{
    struct put_seen *p = arg;
    p->calls++;
    p->n = n;
    snprintf(p->id, sizeof p->id, "%s", ids[0]);
    p->c = (struct store_imap_cache){strdup(c[0].envelope), strdup(c[0].bodystructure),
                                     strdup(c[0].body), strdup(c[0].search_headers)};
}

/* A fill with a put hook computes the misses and hands them over; it writes nothing itself
 * (the IMAP service sends them to its writer thread), and what the hook stores is found. */
static void test_cache_fill_hook(void **state)
{
    struct fixture *f = *state;
    deliver(f, "From: Alice <alice@crepes.fr>\r\nSubject: hook\r\n\r\nhi\r\n");
    char blob[64] = "";
    assert_int_equal(count_rows(f, "SELECT blob_id FROM messages", blob, sizeof blob), 1);
    const char *ids[] = {blob};
    struct store_imap_cache c[1];
    struct put_seen seen = {0};
    size_t missing;
    struct store_imap_cache_fill fill = {put_hook, &seen};
    assert_int_equal(store_imap_cache_get(f->st, ids, 1, STORE_CACHE_ALL, c, &fill, &missing), 0);
    assert_int_equal(missing, 1);
    assert_int_equal(seen.calls, 1);
    assert_int_equal(seen.n, 1);
    assert_string_equal(seen.id, blob);
    assert_string_equal(seen.c.envelope, c[0].envelope);
    store_imap_cache_free(c, 1);
    assert_int_equal(count_rows(f, "SELECT blob_id FROM parse_cache", NULL, 0), 0);
    const char *seen_ids[] = {seen.id};
    assert_int_equal(store_imap_cache_put(f->st, seen_ids, &seen.c, 1), 0);
    store_imap_cache_free(&seen.c, 1);
    assert_int_equal(count_rows(f, "SELECT blob_id FROM parse_cache", NULL, 0), 1);
    assert_int_equal(store_imap_cache_get(f->st, ids, 1, STORE_CACHE_ALL, c, &fill, &missing), 0);
    assert_int_equal(missing, 0);
    assert_int_equal(seen.calls, 1);
    assert_non_null(strstr(c[0].search_headers, "Subject: hook\n"));
    store_imap_cache_free(c, 1);
}

int main(void)
{
    log_set_level(LOG_ERR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_select_changes_recent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_move_append, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_fill_hook, setup, teardown),
        cmocka_unit_test_setup_teardown(test_date_zone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_urlauth_keys, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
