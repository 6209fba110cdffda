/*
 * The outgoing queue runner with a fake clock and a fake delivery side (queue_runner_hooks):
 * exponential back-off and its cap, expiry after max_age (a DSN with 4.4.7), a 5xx bounce to
 * the local sender's INBOX (and none for the null sender), and the global and per-domain
 * connection limits. The store and the committer are the real ones, in a temporary
 * directory; the jobs the runner starts are held by the test, which gives each recipient
 * its SMTP outcome.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fakes/fake_clock.h"
#include "queue/runner.h"
#include "store/committer.h"
#include "store/store.h"

#include <event2/event.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define T0 1800000000LL /* the fake clock starts here (unix seconds) */
#define MAX_JOBS 16

struct fixture {
    char dir[64];
    struct store *st;
    struct committer *committer;
    struct event_base *base;
    struct fake_clock clock;
    struct queue_runner *runner;
    struct domjob *jobs[MAX_JOBS]; /* started by the runner, not yet finished */
    unsigned njobs, started;
};

static int64_t now_s(void *arg)
{
    return fake_clock_now_s(&((struct fixture *)arg)->clock);
}

static void deliver(void *arg, struct domjob *j)
{
    struct fixture *f = arg;
    if (f->njobs < MAX_JOBS)
        f->jobs[f->njobs++] = j;
    f->started++;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void fixture_start(struct fixture *f, unsigned max_conn, unsigned per_domain,
                          unsigned retry_initial, unsigned retry_max, unsigned max_age)
{
    snprintf(f->dir, sizeof f->dir, "/tmp/pigeon-runner-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    const char *err = NULL;
    assert_int_equal(store_open(f->dir, &f->st, &err), 0);
    assert_int_equal(store_domain_add(f->st, "local.test"), 0);
    assert_int_equal(store_user_add(f->st, "alice@local.test", "h"), 0);
    assert_int_equal(committer_start(f->dir, 1, &f->committer, &err), 0);
    f->base = event_base_new();
    f->clock.ms = (uint64_t)T0 * 1000;
    struct queue_runner_config cfg = {0};
    cfg.data_dir = f->dir;
    cfg.hostname = "mail.local.test";
    cfg.max_connections = max_conn;
    cfg.max_per_domain = per_domain;
    cfg.retry_initial = retry_initial;
    cfg.retry_max = retry_max;
    cfg.max_age = max_age;
    cfg.scan_interval = 3600;
    cfg.max_return = 1 << 20;
    f->runner = queue_runner_new(f->base, &cfg, NULL, NULL, f->committer);
    assert_non_null(f->runner);
    struct queue_runner_hooks h = {now_s, deliver, f};
    queue_runner_set_hooks(f->runner, &h);
}

static int setup(void **state)
{
    *state = calloc(1, sizeof(struct fixture));
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    /* as the daemon does: commits in flight report to the runner's loop, so the committer
     * stops first; held jobs are freed with the runner (their rows stay queued) */
    committer_stop(f->committer);
    queue_runner_free(f->runner);
    store_close(f->st);
    event_base_free(f->base);
    nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* Queues one message from sender to rcpts (remote), arrived at the fake clock's now. */
static void enqueue(struct fixture *f, const char *sender, const char *const *rcpts, size_t n)
{
    static const char body[] = "From: a@local.test\r\nSubject: queued\r\n\r\nhello\r\n";
    struct store_msg m = {0};
    m.sender = sender;
    m.body = body;
    m.body_len = strlen(body);
    m.remote_rcpts = rcpts;
    m.n_remote = n;
    m.received_at = now_s(f);
    assert_int_equal(store_blob_write(f->dir, &m), 0);
    assert_int_equal(store_blobs_sync(f->dir), 0);
    assert_int_equal(store_commit_batch(f->st, &m, 1), 0);
    assert_int_equal(m.result, 0);
}

/* A scan now, and everything it posts to the loop. */
static void scan_now(struct fixture *f)
{
    queue_runner_kick(f->runner);
    for (int i = 0; i < 20; i++)
        event_base_loop(f->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
}

/* Finishes held job k with one outcome for all its items. */
static void finish(struct fixture *f, unsigned k, int code, const char *text)
{
    assert_true(k < f->njobs);
    struct domjob *j = f->jobs[k];
    for (size_t i = 0; i < queue_job_count(j); i++)
        queue_job_outcome(j, i, code, text, "mx.remote.test");
    f->jobs[k] = f->jobs[--f->njobs];
    queue_job_done(j);
}

struct row {
    char rcpt[128];
    int attempts;
    int64_t next_attempt;
    char error[256];
};

struct rows {
    struct row r[16];
    int n;
};

static void collect_row(void *ctx, const struct store_queue_entry *e)
{
    struct rows *rs = ctx;
    if (rs->n >= 16)
        return;
    struct row *r = &rs->r[rs->n++];
    snprintf(r->rcpt, sizeof r->rcpt, "%s", e->recipient);
    r->attempts = e->attempts;
    r->next_attempt = e->next_attempt;
    snprintf(r->error, sizeof r->error, "%s", e->last_error);
}

static struct rows rows(struct fixture *f)
{
    struct rows rs = {0};
    assert_int_equal(store_queue_list(f->st, collect_row, &rs), 0);
    return rs;
}

struct inbox {
    int n;
    char path[512];
};

static void collect_msg(void *ctx, const struct store_msg_info *m)
{
    struct inbox *in = ctx;
    in->n++;
    snprintf(in->path, sizeof in->path, "%s", m->blob_path);
}

/* Waits (the committer is a thread) until alice's INBOX holds n messages; returns the last
 * one's text (static). */
static const char *wait_inbox(struct fixture *f, int n)
{
    static char text[65536];
    struct inbox in = {0};
    for (int i = 0; i < 2000; i++) { /* 20 s: only a failure takes this long */
        in = (struct inbox){0};
        event_base_loop(f->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
        assert_int_equal(store_mailbox_messages(f->st, "alice@local.test", "INBOX", collect_msg,
                                                &in),
                         0);
        if (in.n >= n)
            break;
        usleep(10000);
    }
    assert_int_equal(in.n, n);
    char path[1024];
    snprintf(path, sizeof path, "%s%s%s", in.path[0] == '/' ? "" : f->dir,
             in.path[0] == '/' ? "" : "/", in.path);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    size_t len = fread(text, 1, sizeof text - 1, fp);
    fclose(fp);
    text[len] = 0;
    return text;
}

/* ---- back-off ---- */

static void test_backoff_doubles_up_to_the_cap(void **state)
{
    struct fixture *f = *state;
    fixture_start(f, 10, 2, 60, 200, 86400);
    static const char *const to[] = {"bob@remote.test"};
    enqueue(f, "alice@local.test", to, 1);
    int64_t want[] = {60, 120, 200, 200}; /* retry_initial doubled, capped at retry_max */
    for (int k = 0; k < 4; k++) {
        scan_now(f);
        assert_int_equal(f->njobs, 1);
        assert_string_equal(queue_job_domain(f->jobs[0]), "remote.test");
        finish(f, 0, 451, "451 4.3.0 try again\r\n later");
        struct rows rs = rows(f);
        assert_int_equal(rs.n, 1);
        assert_int_equal(rs.r[0].attempts, k + 1);
        assert_int_equal(rs.r[0].next_attempt, now_s(f) + want[k]);
        assert_string_equal(rs.r[0].error, "451 4.3.0 try again  later"); /* one line */
        /* not due a second early */
        fake_clock_advance(&f->clock, (uint64_t)(want[k] - 1) * 1000);
        scan_now(f);
        assert_int_equal(f->njobs, 0);
        fake_clock_advance(&f->clock, 1000);
    }
    assert_int_equal(f->started, 4);
}

/* ---- delivered, expired, bounced ---- */

static void test_delivered_rows_removed(void **state)
{
    struct fixture *f = *state;
    fixture_start(f, 10, 2, 60, 3600, 86400);
    static const char *const to[] = {"bob@remote.test", "carol@remote.test"};
    enqueue(f, "alice@local.test", to, 2);
    scan_now(f);
    assert_int_equal(f->njobs, 1);
    assert_int_equal(queue_job_count(f->jobs[0]), 2); /* one job per domain */
    finish(f, 0, 250, "250 2.0.0 ok");
    assert_int_equal(rows(f).n, 0);
    scan_now(f);
    assert_int_equal(f->started, 1); /* nothing sent twice */
}

static void test_expiry_bounces_with_447(void **state)
{
    struct fixture *f = *state;
    fixture_start(f, 10, 2, 60, 3600, 7200);
    static const char *const to[] = {"bob@remote.test"};
    enqueue(f, "alice@local.test", to, 1);
    scan_now(f);
    finish(f, 0, 451, "451 4.4.1 no answer");
    assert_int_equal(rows(f).n, 1); /* deferred: younger than max_age */
    fake_clock_advance(&f->clock, 7201 * 1000);
    scan_now(f);
    assert_int_equal(f->njobs, 1);
    finish(f, 0, 451, "451 4.4.1 no answer");
    const char *dsn = wait_inbox(f, 1);
    assert_non_null(strstr(dsn, "Status: 4.4.7"));
    assert_non_null(strstr(dsn, "Action: failed"));
    assert_non_null(strstr(dsn, "bob@remote.test"));
    assert_non_null(strstr(dsn, "expired"));
    for (int i = 0; i < 200 && rows(f).n; i++) /* removed in the DSN's own transaction */
        event_base_loop(f->base, EVLOOP_ONCE | EVLOOP_NONBLOCK), usleep(10000);
    assert_int_equal(rows(f).n, 0);
}

static void test_5xx_bounce_to_local_sender(void **state)
{
    struct fixture *f = *state;
    fixture_start(f, 10, 2, 60, 3600, 86400);
    static const char *const to[] = {"nobody@remote.test"};
    enqueue(f, "alice@local.test", to, 1);
    scan_now(f);
    finish(f, 0, 550, "550 5.1.1 no such user");
    const char *dsn = wait_inbox(f, 1);
    assert_non_null(strstr(dsn, "Status: 5.1.1"));
    assert_non_null(strstr(dsn, "Diagnostic-Code: smtp; 550 5.1.1 no such user"));
    assert_non_null(strstr(dsn, "Return-Path: <>"));
    for (int i = 0; i < 200 && rows(f).n; i++)
        event_base_loop(f->base, EVLOOP_ONCE | EVLOOP_NONBLOCK), usleep(10000);
    assert_int_equal(rows(f).n, 0);
}

static void test_no_bounce_for_null_sender(void **state)
{
    struct fixture *f = *state;
    fixture_start(f, 10, 2, 60, 3600, 86400);
    static const char *const to[] = {"nobody@remote.test"};
    enqueue(f, "", to, 1);
    scan_now(f);
    finish(f, 0, 550, "550 5.1.1 no such user");
    assert_int_equal(rows(f).n, 0); /* dropped at once */
    struct inbox in = {0};
    store_mailbox_messages(f->st, "alice@local.test", "INBOX", collect_msg, &in);
    assert_int_equal(in.n, 0);
}

/* ---- limits ---- */

static void test_per_domain_and_global_limits(void **state)
{
    struct fixture *f = *state;
    fixture_start(f, 2, 1, 60, 3600, 86400);
    static const char *const a1[] = {"x@a.test"}, *const a2[] = {"y@a.test"},
                             *const b[] = {"z@b.test"}, *const c[] = {"w@c.test"};
    enqueue(f, "alice@local.test", a1, 1);
    scan_now(f);
    assert_int_equal(f->njobs, 1); /* a.test, held open */
    enqueue(f, "alice@local.test", a2, 1);
    enqueue(f, "alice@local.test", b, 1);
    scan_now(f);
    /* a.test is at its limit of 1: only b.test starts; x is not picked up twice */
    assert_int_equal(f->njobs, 2);
    assert_string_equal(queue_job_domain(f->jobs[1]), "b.test");
    enqueue(f, "alice@local.test", c, 1);
    scan_now(f);
    assert_int_equal(f->njobs, 2); /* 2 connections at most */
    finish(f, 0, 250, "250 ok"); /* a.test's first job ends: room for a.test and ... */
    scan_now(f);
    assert_int_equal(f->njobs, 2); /* ... one more job: still 2 at once */
    int a = 0, cc = 0;
    for (unsigned k = 0; k < f->njobs; k++) {
        a += strcmp(queue_job_domain(f->jobs[k]), "a.test") == 0;
        cc += strcmp(queue_job_domain(f->jobs[k]), "c.test") == 0;
    }
    assert_int_equal(a + cc, 1); /* b.test still runs; one of the two waiting domains */
    while (f->njobs) {
        finish(f, 0, 250, "250 ok");
        scan_now(f);
    }
    assert_int_equal(f->started, 4);
    assert_int_equal(rows(f).n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_backoff_doubles_up_to_the_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delivered_rows_removed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry_bounces_with_447, setup, teardown),
        cmocka_unit_test_setup_teardown(test_5xx_bounce_to_local_sender, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_bounce_for_null_sender, setup, teardown),
        cmocka_unit_test_setup_teardown(test_per_domain_and_global_limits, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
