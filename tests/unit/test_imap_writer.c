/* Unit tests for store/imap_writer.h: which batches commit without their own fsync. A batch of
 * only relaxed writes (flags, expunges, \Recent claims) runs with synchronous=NORMAL; a batch
 * with any other write (APPEND rows, COPY/MOVE, mailbox changes) runs with FULL, and the level
 * is FULL again after every relaxed batch, whether it committed or not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "core/err.h"
#include "store/db.h"
#include "store/imap_writer.h"

#define SYNC_NORMAL 1 /* PRAGMA synchronous's values */
#define SYNC_FULL 2

struct fixture {
    char dir[64];
    struct imap_writer *w;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool entered; /* the gate job runs: the writer took its batch, what comes next queues */
    bool open;    /* the gate job may return */
    int done;  /* done callbacks run */
};

/* One queued write: records the synchronous level its batch ran at. */
struct job {
    struct fixture *f;
    bool gate; /* holds the writer until f->open, so the next jobs queue up as one batch */
    int fail;  /* ERR_* to return from run (0: succeed) */
    int64_t level;
    int rc;
};

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int run(struct store *st, void *arg)
{
    struct job *j = arg;
    if (j->gate) {
        pthread_mutex_lock(&j->f->mu);
        j->f->entered = true;
        pthread_cond_broadcast(&j->f->cv);
        while (!j->f->open)
            pthread_cond_wait(&j->f->cv, &j->f->mu);
        pthread_mutex_unlock(&j->f->mu);
    }
    if (db_query_int64(st, "PRAGMA synchronous", NULL, &j->level) != 0)
        j->level = -1;
    return j->fail;
}

static void done(void *arg, int rc)
{
    struct job *j = arg;
    pthread_mutex_lock(&j->f->mu);
    j->rc = rc;
    j->f->done++;
    pthread_cond_broadcast(&j->f->cv);
    pthread_mutex_unlock(&j->f->mu);
}

static void wait_done(struct fixture *f, int n)
{
    pthread_mutex_lock(&f->mu);
    while (f->done < n)
        pthread_cond_wait(&f->cv, &f->mu);
    pthread_mutex_unlock(&f->mu);
}

/* Until the gate job runs: its batch is taken, so the jobs submitted after this all wait in
 * the queue and the writer takes them as one batch (not some with the gate, some alone). */
static void wait_entered(struct fixture *f)
{
    pthread_mutex_lock(&f->mu);
    while (!f->entered)
        pthread_cond_wait(&f->cv, &f->mu);
    pthread_mutex_unlock(&f->mu);
}

static void release(struct fixture *f)
{
    pthread_mutex_lock(&f->mu);
    f->open = true;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/pigeon-iwriter-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    const char *err = NULL;
    assert_int_equal(imap_writer_start(f->dir, &f->w, &err), 0);
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    imap_writer_stop(f->w);
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
    nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* Alone, each kind of write runs at its own level; FULL comes back after a relaxed batch. */
static void test_levels_alone(void **state)
{
    struct fixture *f = *state;
    f->open = true;
    struct job a = {.f = f}, b = {.f = f}, c = {.f = f};
    imap_writer_submit(f->w, run, done, &a);
    wait_done(f, 1);
    imap_writer_submit_relaxed(f->w, run, done, &b);
    wait_done(f, 2);
    imap_writer_submit(f->w, run, done, &c);
    wait_done(f, 3);
    assert_int_equal(a.level, SYNC_FULL);
    assert_int_equal(b.level, SYNC_NORMAL);
    assert_int_equal(c.level, SYNC_FULL);
    assert_int_equal(a.rc + b.rc + c.rc, 0);
}

/* An APPEND's rows queued with flag changes make the whole batch fsync: the relaxed writes in
 * it are as durable as the APPEND, and the APPEND never loses its fsync to them. */
static void test_mixed_batch_is_full(void **state)
{
    struct fixture *f = *state;
    struct job gate = {.f = f, .gate = true};
    struct job r1 = {.f = f}, strict = {.f = f}, r2 = {.f = f};
    imap_writer_submit(f->w, run, done, &gate);
    wait_entered(f);
    imap_writer_submit_relaxed(f->w, run, done, &r1); /* queued behind the gate: one batch */
    imap_writer_submit(f->w, run, done, &strict);
    imap_writer_submit_relaxed(f->w, run, done, &r2);
    release(f);
    wait_done(f, 4);
    assert_int_equal(r1.level, SYNC_FULL);
    assert_int_equal(strict.level, SYNC_FULL);
    assert_int_equal(r2.level, SYNC_FULL);

    /* A batch of only relaxed writes, several at once, is relaxed. */
    pthread_mutex_lock(&f->mu);
    f->open = false;
    f->entered = false;
    pthread_mutex_unlock(&f->mu);
    struct job gate2 = {.f = f, .gate = true}, r3 = {.f = f}, r4 = {.f = f};
    imap_writer_submit_relaxed(f->w, run, done, &gate2);
    wait_entered(f);
    imap_writer_submit_relaxed(f->w, run, done, &r3);
    imap_writer_submit_relaxed(f->w, run, done, &r4);
    release(f);
    wait_done(f, 7);
    assert_int_equal(r3.level, SYNC_NORMAL);
    assert_int_equal(r4.level, SYNC_NORMAL);
}

/* A relaxed write that fails still sets the level back: the next APPEND fsyncs. */
static void test_failed_relaxed_batch_restores_full(void **state)
{
    struct fixture *f = *state;
    f->open = true;
    struct job bad = {.f = f, .fail = ERR_NOTFOUND}, next = {.f = f};
    imap_writer_submit_relaxed(f->w, run, done, &bad);
    wait_done(f, 1);
    imap_writer_submit(f->w, run, done, &next);
    wait_done(f, 2);
    assert_int_equal(bad.level, SYNC_NORMAL);
    assert_int_equal(bad.rc, ERR_NOTFOUND);
    assert_int_equal(next.level, SYNC_FULL);
    assert_int_equal(next.rc, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_levels_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mixed_batch_is_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_relaxed_batch_restores_full, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
