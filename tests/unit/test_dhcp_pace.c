/* dhcp/pace: a committed group's ACKs leave evenly over half the time the group was open,
 * even when its requests came in clumped; never before the COMMIT, groups in order, at most
 * `burst` per turn, the schedule moved back after a late take; and a receiver with a
 * default-sized buffer that reads a little faster than the requests come in never overflows,
 * where the whole group sent at once would. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dhcp/pace.h"

#define MS 1000 /* times are microseconds */

static int items[4096];

/* n items of a group open n * gap µs (its requests `gap` µs apart), committed at
 * `committed`. */
static void push_group(struct dhcp_pace *p, int64_t committed, int base, unsigned n, int64_t gap)
{
    dhcp_pace_group(p, committed, n, (int64_t)n * gap);
    for (unsigned i = 0; i < n; i++)
        dhcp_pace_push(p, &items[base + (int)i]);
}

static void test_nothing_before_the_commit(void **state)
{
    struct dhcp_pace *p = dhcp_pace_new(16);
    void *out[16];
    int64_t next;
    push_group(p, 300 * MS, 0, 400, MS / 2);
    assert_int_equal(dhcp_pace_take(p, 300 * MS - 1, out, &next), 0);
    assert_int_equal(next, 300 * MS);
    assert_int_equal(dhcp_pace_take(p, 300 * MS, out, &next), 1);
    assert_ptr_equal(out[0], &items[0]);
    dhcp_pace_free(p);
}

/* 400 requests over 200 ms: their ACKs over 100 ms, 250 µs apart, in order. */
static void test_group_follows_the_requests_rhythm(void **state)
{
    struct dhcp_pace *p = dhcp_pace_new(16);
    void *out[16];
    int64_t next;
    push_group(p, 300 * MS, 0, 400, MS / 2);
    int expect = 0;
    for (int64_t now = 300 * MS; now <= 400 * MS; now += MS) {
        unsigned n = dhcp_pace_take(p, now, out, &next);
        assert_true(n <= 5); /* 4 per ms, plus the one due on the ms itself */
        for (unsigned i = 0; i < n; i++)
            assert_ptr_equal(out[i], &items[expect++]);
        if (now < 399 * MS)
            assert_true(next > now); /* never behind: one take per ms is enough */
    }
    assert_int_equal(expect, 400);
    assert_int_equal(next, -1);
    assert_int_equal(dhcp_pace_pending(p), 0);
    dhcp_pace_free(p);
}

/* A group committed while the previous one is still leaving starts after its last ACK. */
static void test_groups_in_order(void **state)
{
    struct dhcp_pace *p = dhcp_pace_new(64);
    void *out[64];
    int64_t next;
    push_group(p, 200 * MS, 0, 100, MS);   /* due 200 .. 249.5 ms */
    push_group(p, 210 * MS, 100, 100, MS); /* committed while the first leaves */
    int expect = 0;
    for (int64_t now = 200 * MS; now <= 400 * MS; now += MS / 4) {
        unsigned n = dhcp_pace_take(p, now, out, &next);
        for (unsigned i = 0; i < n; i++) {
            assert_ptr_equal(out[i], &items[expect]);
            if (expect == 100) /* the second group's first ACK: after the first's last */
                assert_true(now >= 249 * MS + MS / 2);
            expect++;
        }
    }
    assert_int_equal(expect, 200);
    /* an idle pacer: the next group starts at its own commit */
    push_group(p, 1000 * MS, 300, 1, 0);
    assert_int_equal(dhcp_pace_take(p, 999 * MS, out, &next), 0);
    assert_int_equal(next, 1000 * MS);
    dhcp_pace_free(p);
}

/* A group open 200 ms whose 400 requests came in its first millisecond: their ACKs still
 * leave evenly, 250 µs apart, the last about 100 ms after the COMMIT. */
static void test_clumped_requests_answered_evenly(void **state)
{
    struct dhcp_pace *p = dhcp_pace_new(16);
    void *out[16];
    int64_t next;
    dhcp_pace_group(p, 300 * MS, 400, 200 * MS);
    for (int i = 0; i < 400; i++)
        dhcp_pace_push(p, &items[i]);
    unsigned total = 0;
    for (int64_t now = 300 * MS; now < 400 * MS; now += MS) {
        unsigned n = dhcp_pace_take(p, now, out, &next);
        assert_true(n <= 5);
        total += n;
    }
    assert_int_equal(total, 397); /* 0 .. 396: due by 399 ms */
    assert_int_equal(dhcp_pace_take(p, 400 * MS, out, &next), 3);
    assert_ptr_equal(out[2], &items[399]);
    assert_int_equal(next, -1);
    dhcp_pace_free(p);
}

/* Requests that came in together are due together: `burst` per take. */
static void test_burst_per_turn(void **state)
{
    struct dhcp_pace *p = dhcp_pace_new(16);
    void *out[16];
    int64_t next;
    dhcp_pace_group(p, 50 * MS, 40, 0);
    for (int i = 0; i < 40; i++)
        dhcp_pace_push(p, &items[i]);
    assert_int_equal(dhcp_pace_take(p, 50 * MS, out, &next), 16);
    assert_int_equal(next, 50 * MS); /* more due: take again next turn */
    assert_int_equal(dhcp_pace_take(p, 50 * MS, out, &next), 16);
    assert_ptr_equal(out[4], &items[20]);
    assert_int_equal(dhcp_pace_take(p, 50 * MS, out, &next), 8);
    assert_int_equal(next, -1);
    dhcp_pace_free(p);
}

/* Taken 50 ms late, with 200 ACKs due: one burst leaves, and the rest keep their spacing
 * from then on rather than leave at once. */
static void test_late_take_moves_the_schedule(void **state)
{
    struct dhcp_pace *p = dhcp_pace_new(16);
    void *out[16];
    int64_t next;
    push_group(p, 100 * MS, 0, 400, MS / 2); /* due 100 ms, then every 250 µs */
    assert_int_equal(dhcp_pace_take(p, 100 * MS, out, &next), 1);
    assert_int_equal(dhcp_pace_take(p, 150 * MS, out, &next), 16);
    assert_ptr_equal(out[15], &items[16]);
    assert_int_equal(next, 150 * MS + MS / 4); /* not 200 due now */
    assert_int_equal(dhcp_pace_take(p, 151 * MS, out, &next), 4);
    assert_int_equal(next, 151 * MS + MS / 4);
    /* a group committed now starts with the moved schedule's last (245.75 ms) */
    push_group(p, 152 * MS, 400, 1, 0);
    unsigned total = 0, n;
    int64_t now = 151 * MS;
    while (total < 378) {
        now += MS / 4;
        total += n = dhcp_pace_take(p, now, out, &next);
        assert_int_equal(n, 1);
    }
    assert_int_equal(now, 245 * MS + MS / 2);
    assert_int_equal(dhcp_pace_take(p, now + MS / 4, out, &next), 2);
    assert_ptr_equal(out[0], &items[399]);
    assert_ptr_equal(out[1], &items[400]);
    assert_int_equal(next, -1);
    dhcp_pace_free(p);
}

/*
 * The case that made the rule: requests at 2000/s for 1 s, COMMITs of 200 ms each (a loaded
 * disk): the requests of [200k, 200k + 200) ms are committed at 200k + 400 ms. The receiver's
 * socket holds 150 datagrams (about the kernel's default buffer) and it reads 6000 a second,
 * three times the requests' rate. Every 100 µs the server sends what is due (paced) or every
 * ACK just committed (not paced). Paced, the socket never overflows.
 */
static unsigned overflow(bool paced)
{
    struct dhcp_pace *p = dhcp_pace_new(16);
    const int64_t gap = MS / 2, commit = 200 * MS, step = 100;
    unsigned queued = 0, dropped = 0, burst = 0;
    int64_t read_credit = 0; /* thousandths of a datagram */
    void *out[16];
    int64_t next;
    for (int64_t now = 0; now < 3000 * MS; now += step) {
        if (now % commit == 0 && now >= 2 * commit && now <= 6 * commit) {
            int k = (int)(now / commit) - 2;
            if (paced)
                push_group(p, now, 400 * k, 400, gap);
            else
                burst = 400;
        }
        unsigned arriving = burst, n;
        burst = 0;
        while ((n = dhcp_pace_take(p, now, out, &next)) > 0)
            arriving += n;
        for (unsigned i = 0; i < arriving; i++)
            if (queued < 150)
                queued++;
            else
                dropped++;
        read_credit += step * 6; /* 6000 a second: 0.6 datagram per 100 µs */
        while (queued && read_credit >= 1000) {
            queued--;
            read_credit -= 1000;
        }
        if (!queued && read_credit > 1000)
            read_credit = 1000;
    }
    dhcp_pace_free(p);
    return dropped;
}

static void test_default_buffer_holds_paced_acks(void **state)
{
    assert_true(overflow(false) > 0); /* the model does overflow with whole groups at once */
    assert_int_equal(overflow(true), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nothing_before_the_commit),
        cmocka_unit_test(test_group_follows_the_requests_rhythm),
        cmocka_unit_test(test_groups_in_order),
        cmocka_unit_test(test_clumped_requests_answered_evenly),
        cmocka_unit_test(test_burst_per_turn),
        cmocka_unit_test(test_late_take_moves_the_schedule),
        cmocka_unit_test(test_default_buffer_holds_paced_acks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
