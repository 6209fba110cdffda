/* Unit tests for core/reload_report: lines from several threads, completion only after the
 * last reference, on the owner's loop; NULL reports are ignored. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/loop_post.h"
#include "core/reload_report.h"

#include <event2/event.h>
#include <event2/thread.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

struct done_state {
    int calls;
    pthread_t thread;
    size_t errors, lines;
    char first[128];
    bool first_error;
};

static void on_done(void *arg, struct reload_report *r)
{
    struct done_state *s = arg;
    s->calls++;
    s->thread = pthread_self();
    s->errors = reload_report_errors(r);
    s->lines = reload_report_lines(r);
    if (s->lines)
        snprintf(s->first, sizeof s->first, "%s", reload_report_line(r, 0, &s->first_error));
    reload_report_free(r);
}

static void *part(void *vr)
{
    struct reload_report *r = vr;
    for (int i = 0; i < 100; i++)
        reload_report_add(r, i % 10 == 0, "zone z%d\nsecond line", i);
    reload_report_release(r);
    return NULL;
}

static void test_threads_and_completion(void **state)
{
    struct event_base *base = event_base_new();
    struct loop_post *post = loop_post_new(base);
    struct done_state s = {0};
    struct reload_report *r = reload_report_new(post, on_done, &s);
    reload_report_add(r, false, "TLS: certificate %s", "ok");
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        reload_report_hold(r);
        pthread_create(&t[i], NULL, part, r);
    }
    reload_report_release(r); /* the owner's reference: the parts still hold theirs */
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(s.calls, 0); /* posted, not called from the last releasing thread */
    event_base_loop(base, EVLOOP_NONBLOCK);
    assert_int_equal(s.calls, 1);
    assert_true(pthread_equal(s.thread, pthread_self()));
    assert_int_equal(s.errors, 40);
    assert_int_equal(s.lines, 256); /* 401 lines made, the first 256 kept */
    assert_string_equal(s.first, "TLS: certificate ok");
    assert_false(s.first_error);
    loop_post_free(post);
    event_base_free(base);
}

static void test_newlines_flattened(void **state)
{
    struct event_base *base = event_base_new();
    struct loop_post *post = loop_post_new(base);
    struct done_state s = {0};
    struct reload_report *r = reload_report_new(post, on_done, &s);
    reload_report_add(r, true, "a\nb\r\nc");
    reload_report_release(r);
    event_base_loop(base, EVLOOP_NONBLOCK);
    assert_int_equal(s.calls, 1);
    assert_string_equal(s.first, "a b  c");
    assert_true(s.first_error);
    assert_int_equal(s.errors, 1);
    loop_post_free(post);
    event_base_free(base);
}

static void test_null_report(void **state)
{
    reload_report_add(NULL, true, "nobody waits");
    reload_report_hold(NULL);
    reload_report_release(NULL);
    reload_report_free(NULL);
}

int main(void)
{
    evthread_use_pthreads();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threads_and_completion),
        cmocka_unit_test(test_newlines_flattened),
        cmocka_unit_test(test_null_report),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
