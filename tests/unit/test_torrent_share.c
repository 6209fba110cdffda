/* torrent/share: a seed's upload divided among its unchoked peers, run against a model of
 * its link. The model gives each window's link to the flows the way TCP may: in proportion
 * to a weight (a flow that got ahead keeps more), each flow held to its cap and to its own
 * path. Without caps two flows weighted 8 : 1 split the link 8 : 1; with them the split
 * comes near even, a peer slow on its own path costs the link nothing (its unused room is
 * lent to the others) and a configured upload rate is divided equally. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "torrent/share.h"

#include <string.h>

#define LINK 2500000u /* bytes/s: 20 Mbit/s */

struct flow {
    unsigned weight;
    uint64_t path; /* what its own path carries, 0: no limit */
    uint64_t got;  /* this window */
};

static uint64_t bound(const struct flow *f, const struct tor_share_peer *sp)
{
    uint64_t b = UINT64_MAX;
    if (f->path)
        b = f->path;
    if (sp->cap && sp->cap < b)
        b = sp->cap;
    return b;
}

/* One second of the link: weighted shares, each flow at most its bound; held when the cap
 * (not its path) stopped it. */
static void link_window(struct flow *f, struct tor_share_peer *sp, size_t n)
{
    bool fixed[16] = {false};
    uint64_t left = LINK;
    for (bool again = true; again;) {
        again = false;
        unsigned w = 0;
        for (size_t i = 0; i < n; i++)
            w += fixed[i] ? 0 : f[i].weight;
        for (size_t i = 0; i < n && w; i++) {
            if (fixed[i] || left * f[i].weight / w < bound(&f[i], &sp[i]))
                continue;
            f[i].got = bound(&f[i], &sp[i]);
            left -= f[i].got;
            fixed[i] = again = true;
            break;
        }
        if (!again)
            for (size_t i = 0; i < n; i++)
                if (!fixed[i])
                    f[i].got = left * f[i].weight / w;
    }
    for (size_t i = 0; i < n; i++) {
        sp[i].sent = f[i].got;
        sp[i].held = sp[i].cap && f[i].got >= sp[i].cap && (!f[i].path || sp[i].cap < f[i].path);
    }
}

static void run(struct tor_share *sh, struct flow *f, struct tor_share_peer *sp, size_t n,
                int windows)
{
    for (int w = 0; w < windows; w++) {
        link_window(f, sp, n);
        tor_share_run(sh, sp, n, 1000, 0);
    }
    link_window(f, sp, n);
}

static void test_model_without_caps(void **state)
{
    (void)state;
    struct flow f[2] = {{.weight = 8}, {.weight = 1}};
    struct tor_share_peer sp[2];
    memset(sp, 0, sizeof sp);
    link_window(f, sp, 2);
    assert_true(f[0].got > 7 * f[1].got); /* the unfairness the caps are for */
    assert_true(f[0].got + f[1].got >= LINK - 8);
}

static void test_hog_held_back(void **state)
{
    (void)state;
    struct tor_share sh;
    tor_share_init(&sh);
    struct flow f[2] = {{.weight = 8}, {.weight = 1}};
    struct tor_share_peer sp[2];
    memset(sp, 0, sizeof sp);
    /* the first window has no caps: 8 : 1. At once the favoured flow is held below what it
     * took, and the other is left room to grow. */
    link_window(f, sp, 2);
    tor_share_run(&sh, sp, 2, 1000, 0);
    assert_true(sp[0].cap > 0 && sp[0].cap < f[0].got);
    assert_true(sp[1].cap > f[1].got);
    /* within 20 s the split is near even and the link still full */
    run(&sh, f, sp, 2, 20);
    uint64_t total = f[0].got + f[1].got;
    assert_true(total >= LINK * 95 / 100);
    assert_true(f[1].got >= total * 2 / 5);
    assert_true(f[0].got <= total * 3 / 5);
}

static void test_slow_path_costs_little(void **state)
{
    (void)state;
    struct tor_share sh;
    tor_share_init(&sh);
    /* peer 1's own path carries 1 Mbit/s: what it cannot take goes to the others, but for
     * the room it is left (a quarter of an equal share: 1/12 of the link) */
    struct flow f[3] = {{.weight = 1}, {.weight = 1, .path = 125000}, {.weight = 2}};
    struct tor_share_peer sp[3];
    memset(sp, 0, sizeof sp);
    run(&sh, f, sp, 3, 30);
    uint64_t total = f[0].got + f[1].got + f[2].got;
    assert_true(total >= LINK * 90 / 100);
    assert_int_equal(f[1].got, 125000);
    assert_true(f[0].got >= (LINK - 125000) * 2 / 5);
    assert_true(f[2].got >= (LINK - 125000) * 2 / 5);
}

static void test_unused_room_lent(void **state)
{
    (void)state;
    struct tor_share sh;
    tor_share_init(&sh);
    /* the N = 16 case: of 9 unchoked peers 7 are held to 1 Mbit/s by their own paths. The
     * room each is left (a quarter of an equal share) goes unused; without lending it the
     * two others stay at their caps and the link at about 80 %. */
    struct flow f[9];
    for (int i = 0; i < 9; i++)
        f[i] = (struct flow){.weight = 1, .path = i < 7 ? 125000 : 0};
    struct tor_share_peer sp[9];
    memset(sp, 0, sizeof sp);
    run(&sh, f, sp, 9, 30);
    uint64_t total = 0;
    for (int i = 0; i < 9; i++)
        total += f[i].got;
    assert_true(total >= LINK * 95 / 100);
    for (int i = 0; i < 7; i++)
        assert_int_equal(f[i].got, 125000);
    assert_true(f[7].got >= f[8].got - f[8].got / 16 && f[8].got >= f[7].got - f[7].got / 16);
    /* a peer whose path opens gets its room back: what was lent is given back once the
     * link is full, and it grows to near an equal share of what the slow ones leave */
    f[0].path = 0;
    run(&sh, f, sp, 9, 30);
    total = 0;
    for (int i = 0; i < 9; i++)
        total += f[i].got;
    assert_true(total >= LINK * 95 / 100);
    assert_true(f[0].got >= (LINK - 6 * 125000) / 3 * 3 / 4);
}

static void test_low_estimate_grows(void **state)
{
    (void)state;
    struct tor_share sh;
    tor_share_init(&sh);
    /* an estimate of 60 % of the link, and one of 9 peers held to 0.5 Mbit/s by its path:
     * not every peer is ever held, so the estimate grew only by what the link carried, and
     * that was what the caps allowed — 58 % for good. The probe lent beyond C finds the rest. */
    struct flow f[9];
    for (int i = 0; i < 9; i++)
        f[i] = (struct flow){.weight = 1 + i % 3, .path = i == 0 ? 60000 : 0};
    struct tor_share_peer sp[9];
    sh.capacity = LINK * 6 / 10;
    for (int i = 0; i < 9; i++)
        sp[i] = (struct tor_share_peer){.cap = LINK * 6 / 10 / 9};
    run(&sh, f, sp, 9, 30);
    uint64_t total = 0;
    for (int i = 0; i < 9; i++)
        total += f[i].got;
    assert_true(total >= LINK * 98 / 100);
    /* and the caps still even out flows of weights 1 and 3 */
    assert_true(f[3].got >= f[5].got * 3 / 4);
}

static void test_link_faster_than_estimate(void **state)
{
    (void)state;
    struct tor_share sh;
    tor_share_init(&sh);
    sh.capacity = LINK / 10; /* an estimate far too low: every flow is held, so it grows */
    struct flow f[2] = {{.weight = 1}, {.weight = 1}};
    struct tor_share_peer sp[2];
    memset(sp, 0, sizeof sp);
    sp[0].cap = sp[1].cap = LINK / 20;
    run(&sh, f, sp, 2, 30);
    assert_true(f[0].got + f[1].got >= LINK * 95 / 100);
}

static void test_configured_rate_divided(void **state)
{
    (void)state;
    struct tor_share sh;
    tor_share_init(&sh);
    struct tor_share_peer sp[4];
    for (int i = 0; i < 4; i++)
        sp[i] = (struct tor_share_peer){.sent = 250000, .held = true, .cap = 250000};
    tor_share_run(&sh, sp, 4, 1000, 1000000);
    for (int i = 0; i < 4; i++)
        assert_int_equal(sp[i].cap, 250000 + 250000 / 16);
    /* a peer that asked for nothing leaves its share to the others, but for its room (a
     * quarter of an equal share) */
    for (int i = 0; i < 4; i++)
        sp[i].sent = sp[i].cap;
    sp[2] = (struct tor_share_peer){.sent = 0, .held = false, .cap = sp[2].cap};
    tor_share_run(&sh, sp, 4, 1000, 1000000);
    /* ... and what the window left unused (203,125 of 1,000,000) is lent to the other three,
     * half of it beyond 1/32 of the rate */
    assert_int_equal(sh.spare, (1000000 - 796875 - 31250) / 2);
    assert_int_equal(sp[0].cap, (1000000 - 62500) / 3 + (sh.spare + 1000000 / 16) / 3);
    assert_int_equal(sp[2].cap, 250000 + 250000 / 16);
}

static void test_held_means_at_the_cap(void **state)
{
    (void)state;
    struct tor_share sh;
    tor_share_init(&sh);
    sh.capacity = 1000000;
    /* a bucket that ran dry for a moment while the peer took half its cap: not held back,
     * so the estimate does not grow and the peer counts as limited elsewhere */
    struct tor_share_peer sp[2] = {{.sent = 250000, .held = true, .cap = 500000},
                                   {.sent = 500000, .held = true, .cap = 500000}};
    tor_share_run(&sh, sp, 2, 1000, 0);
    assert_int_equal(sh.capacity, 1000000);
    /* the rest, the unused quarter of the link lent (half of it beyond 1/32) and the probe */
    assert_int_equal(sp[1].cap, 1000000 - 375000 + (250000 - 31250) / 2 + 1000000 / 16);
}

static void test_no_caps(void **state)
{
    (void)state;
    struct tor_share sh;
    tor_share_init(&sh);
    struct tor_share_peer sp[2] = {{.sent = 0}, {.sent = 0}};
    tor_share_run(&sh, sp, 2, 1000, 0); /* nothing measured yet */
    assert_int_equal(sp[0].cap, 0);
    assert_int_equal(sh.join_cap, 0);
    sp[0].sent = 2000000;
    tor_share_run(&sh, sp, 1, 1000, 0); /* one peer: nobody to share with */
    assert_int_equal(sp[0].cap, 0);
    assert_int_equal(sh.capacity, 2000000);
    assert_int_equal(sh.join_cap, 0); /* a second one unchoked now is not held below the first */
    sp[0] = (struct tor_share_peer){.sent = 1000000, .held = true, .cap = 1000000};
    sp[1] = sp[0];
    tor_share_run(&sh, sp, 2, 1000, 0);
    assert_int_equal(sh.capacity, 2250000); /* both at their caps: the link may carry more */
    assert_int_equal(sp[0].cap, 1125000 + 1125000 / 16);
    assert_int_equal(sh.join_cap, 750000 + 750000 / 16); /* a third: its share */
    tor_share_reset(&sh);
    assert_int_equal(sh.join_cap, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_without_caps),
        cmocka_unit_test(test_hog_held_back),
        cmocka_unit_test(test_slow_path_costs_little),
        cmocka_unit_test(test_unused_room_lent),
        cmocka_unit_test(test_low_estimate_grows),
        cmocka_unit_test(test_link_faster_than_estimate),
        cmocka_unit_test(test_configured_rate_divided),
        cmocka_unit_test(test_held_means_at_the_cap),
        cmocka_unit_test(test_no_caps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
