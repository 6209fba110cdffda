/* Unit tests for src/store/committer.c: group commit under concurrent submitters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/err.h"
#include "store/committer.h"
#include "store/store.h"

#define THREADS 4
#define PER_THREAD 100
#define TOTAL (THREADS * PER_THREAD)

struct fixture {
    char dir[64];
    struct store *st;
    int64_t alice;
};

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/pigeon-commit-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    const char *err = NULL;
    assert_int_equal(store_open(f->dir, &f->st, &err), 0);
    assert_int_equal(store_domain_add(f->st, "example.org"), 0);
    assert_int_equal(store_user_add(f->st, "alice@example.org", "h"), 0);
    assert_int_equal(store_user_lookup(f->st, "alice@example.org", &f->alice), 0);
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

/* One submitted message and what its done callback saw. */
struct item {
    struct store_msg msg;
    char body[64];
    atomic_int done_calls;
    int result;
};

static void on_done(struct store_msg *msg, void *arg)
{
    struct item *it = arg; /* no cmocka asserts here: this is the committer thread */
    it->result = msg == &it->msg ? msg->result : 12345;
    atomic_fetch_add(&it->done_calls, 1);
}

struct submitter {
    struct committer *c;
    struct item *items; /* PER_THREAD of them */
    const int64_t *alice;
    int t;
};

static const char *const remote[] = {"far@remote.example"};

static void *submit_main(void *arg)
{
    struct submitter *s = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        struct item *it = &s->items[i];
        snprintf(it->body, sizeof it->body, "Subject: t%d m%d\r\n\r\nbody\r\n", s->t, i);
        it->msg.sender = "s@remote.example";
        it->msg.local_prefix = "Return-Path: <s@remote.example>\r\n";
        it->msg.local_prefix_len = strlen(it->msg.local_prefix);
        it->msg.body = it->body;
        it->msg.body_len = strlen(it->body);
        it->msg.local_users = s->alice;
        it->msg.n_local = 1;
        it->msg.remote_rcpts = remote;
        it->msg.n_remote = i % 10 == 0 ? 1 : 0;
        it->msg.received_at = 1700000000 + i;
        committer_submit(s->c, &it->msg, on_done, it);
    }
    return NULL;
}

struct seen {
    int64_t uids[TOTAL + 1];
    int n;
};

static void collect_uid(void *ctx, const struct store_msg_info *m)
{
    struct seen *s = ctx;
    assert_true(s->n < TOTAL + 1);
    s->uids[s->n++] = m->uid;
}

static void count_queue(void *ctx, const struct store_queue_entry *e)
{
    (void)e;
    (*(int *)ctx)++;
}

static void test_concurrent_submitters(void **state)
{
    struct fixture *f = *state;
    struct committer *c = NULL;
    const char *err = NULL;
    assert_int_equal(committer_start(f->dir, 4, &c, &err), 0);
    struct item *items = calloc(TOTAL, sizeof *items);
    struct submitter subs[THREADS];
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++) {
        subs[t] = (struct submitter){c, items + t * PER_THREAD, &f->alice, t};
        assert_int_equal(pthread_create(&th[t], NULL, submit_main, &subs[t]), 0);
    }
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    committer_stop(c);

    for (int i = 0; i < TOTAL; i++) {
        assert_int_equal(atomic_load(&items[i].done_calls), 1);
        assert_int_equal(items[i].result, 0);
        assert_int_equal(strlen(items[i].msg.id), 32);
    }
    struct seen *seen = calloc(1, sizeof *seen);
    assert_int_equal(store_mailbox_messages(f->st, "alice@example.org", "INBOX", collect_uid, seen),
                     0);
    assert_int_equal(seen->n, TOTAL); /* each exactly once ... */
    for (int i = 0; i < TOTAL; i++)
        assert_int_equal(seen->uids[i], i + 1); /* ... with uids 1..TOTAL ascending */
    int queued = 0;
    assert_int_equal(store_queue_list(f->st, count_queue, &queued), 0);
    assert_int_equal(queued, TOTAL / 10);
    free(seen);
    free(items);
}

static void test_blob_failure_reported(void **state)
{
    struct fixture *f = *state;
    struct committer *c = NULL;
    const char *err = NULL;
    assert_int_equal(committer_start(f->dir, 2, &c, &err), 0);
    /* DATA/tmp replaced by a plain file: every blob write fails. */
    char tmp[128], moved[128];
    snprintf(tmp, sizeof tmp, "%s/tmp", f->dir);
    snprintf(moved, sizeof moved, "%s/tmp.away", f->dir);
    assert_int_equal(rename(tmp, moved), 0);
    FILE *fp = fopen(tmp, "w");
    fclose(fp);

    struct item *it = calloc(1, sizeof *it);
    it->msg.sender = "";
    it->msg.body = "x\r\n";
    it->msg.body_len = 3;
    it->msg.local_users = &f->alice;
    it->msg.n_local = 1;
    committer_submit(c, &it->msg, on_done, it);
    committer_stop(c);
    assert_int_equal(atomic_load(&it->done_calls), 1);
    assert_int_equal(it->result, ERR_IO);
    struct seen *seen = calloc(1, sizeof *seen);
    assert_int_equal(store_mailbox_messages(f->st, "alice@example.org", "INBOX", collect_uid, seen),
                     0);
    assert_int_equal(seen->n, 0);
    assert_int_equal(remove(tmp), 0);
    assert_int_equal(rename(moved, tmp), 0);
    free(seen);
    free(it);
}

static void test_stop_idle(void **state)
{
    struct fixture *f = *state;
    struct committer *c = NULL;
    const char *err = NULL;
    assert_int_equal(committer_start(f->dir, 0, &c, &err), 0);
    committer_stop(c);
    committer_stop(NULL);
    assert_int_equal(committer_start("", 1, &c, &err), ERR_CONFIG);
    assert_null(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_concurrent_submitters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blob_failure_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_idle, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
