/* Unit tests for store/mailbox.h: a mailbox snapshot and expunging uids (POP3 UPDATE). */
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
#include "store/mailbox.h"

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

/* Delivers a message with `body` to bob's INBOX through the real commit path. */
static void deliver(struct fixture *f, const char *body)
{
    struct store_msg m;
    memset(&m, 0, sizeof m);
    m.sender = "alice@crepes.fr";
    m.local_prefix = "Return-Path: <alice@crepes.fr>\r\n";
    m.local_prefix_len = strlen(m.local_prefix);
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
    snprintf(f->dir, sizeof f->dir, "/tmp/pigeon-mbox-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    const char *err = NULL;
    assert_int_equal(store_open(f->dir, &f->st, &err), 0);
    assert_int_equal(store_domain_add(f->st, "hamburger.edu"), 0);
    assert_int_equal(store_user_add(f->st, "bob@hamburger.edu", "h"), 0);
    assert_int_equal(store_user_lookup(f->st, "bob@hamburger.edu", &f->bob), 0);
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

struct listing {
    int64_t uids[8];
    int64_t sizes[8];
    int64_t modseqs[8];
    size_t n;
    bool paths_ok;
};

static void collect(void *vl, const struct store_mailbox_msg *m)
{
    struct listing *l = vl;
    if (l->n < 8) {
        l->uids[l->n] = m->uid;
        l->sizes[l->n] = m->size;
        l->modseqs[l->n] = m->modseq;
        struct stat sb;
        l->paths_ok = l->paths_ok && m->blob_path[0] == '/' && stat(m->blob_path, &sb) == 0 &&
                      sb.st_size == m->size;
        l->n++;
    }
}

static void test_open(void **state)
{
    struct fixture *f = *state;
    struct store_mailbox mb;
    struct listing l = {.paths_ok = true};
    assert_int_equal(store_mailbox_open(f->st, "bob@hamburger.edu", "INBOX", &mb, collect, &l), 0);
    assert_int_equal(mb.exists, 0);
    assert_int_equal(mb.uidnext, 1);
    assert_true(mb.uidvalidity > 0);
    deliver(f, "Subject: 1\r\n\r\none\r\n");
    deliver(f, "Subject: 2\r\n\r\ntwo!\r\n");
    struct store_mailbox mb2;
    assert_int_equal(store_mailbox_open(f->st, "BOB@hamburger.edu", "inbox", &mb2, collect, &l), 0);
    assert_int_equal(mb2.id, mb.id);
    assert_int_equal(mb2.uidvalidity, mb.uidvalidity);
    assert_int_equal(mb2.exists, 2);
    assert_int_equal(mb2.uidnext, 3);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.uids[0], 1);
    assert_int_equal(l.uids[1], 2);
    assert_int_equal(l.sizes[0], 32 + 19);
    assert_true(l.paths_ok);
    assert_true(l.modseqs[1] > l.modseqs[0]);
    assert_int_equal(mb2.highestmodseq, l.modseqs[1]);
    /* no callback: just the state */
    assert_int_equal(store_mailbox_open(f->st, "bob@hamburger.edu", "INBOX", &mb2, NULL, NULL), 0);
    assert_int_equal(mb2.exists, 2);
    assert_int_equal(store_mailbox_open(f->st, "nobody@hamburger.edu", "INBOX", &mb2, NULL, NULL),
                     ERR_NOTFOUND);
    assert_int_equal(store_mailbox_open(f->st, "bob@hamburger.edu", "Nope", &mb2, NULL, NULL),
                     ERR_NOTFOUND);
}

static void test_expunge(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < 4; i++)
        deliver(f, "Subject: x\r\n\r\nbody\r\n");
    struct store_mailbox mb;
    assert_int_equal(store_mailbox_open(f->st, "bob@hamburger.edu", "INBOX", &mb, NULL, NULL), 0);
    int64_t before = mb.highestmodseq;
    const int64_t uids[] = {2, 4, 99};
    size_t removed = 0;
    assert_int_equal(store_mailbox_expunge(f->st, mb.id, uids, 3, &removed), 0);
    assert_int_equal(removed, 2);
    struct listing l = {.paths_ok = true};
    assert_int_equal(store_mailbox_open(f->st, "bob@hamburger.edu", "INBOX", &mb, collect, &l), 0);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.uids[0], 1);
    assert_int_equal(l.uids[1], 3);
    assert_int_equal(mb.highestmodseq, before + 1);
    assert_int_equal(mb.uidnext, 5); /* uids are never reused */
    assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM expunged WHERE uid IN (2, 4)"), 2);
    assert_int_equal(sql_int(f->dir, "SELECT min(modseq) FROM expunged"), before + 1);
    /* Already gone (e.g. expunged by IMAP meanwhile): nothing changes, no modseq spent. */
    assert_int_equal(store_mailbox_expunge(f->st, mb.id, uids, 2, &removed), 0);
    assert_int_equal(removed, 0);
    assert_int_equal(store_mailbox_open(f->st, "bob@hamburger.edu", "INBOX", &mb, NULL, NULL), 0);
    assert_int_equal(mb.highestmodseq, before + 1);
    assert_int_equal(store_mailbox_expunge(f->st, mb.id, NULL, 0, &removed), 0);
    assert_int_equal(removed, 0);
    /* The files stay until store_gc: a session still reading one is not disturbed. */
    int64_t gone = 0;
    assert_int_equal(store_gc_older(f->st, 0, &gone), 0);
    assert_int_equal(gone, 2);
    assert_int_equal(store_mailbox_expunge(f->st, 999999, uids, 1, &removed), ERR_NOTFOUND);
}

int main(void)
{
    log_set_level(LOG_ERR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expunge, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
