/* torrent/picker and torrent/choker: random first pieces, rarest first, started pieces
 * first, end game, failed pieces; four best + one optimistic, rotation every 30 s; seeding
 * slots that rotate by turns of 30 s. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "torrent/choker.h"
#include "torrent/metainfo.h"
#include "torrent/picker.h"

#include <string.h>

#define NP 16
#define PLEN (2 * TOR_BLOCK)

static void all_bits(uint8_t *b)
{
    memset(b, 0xff, (NP + 7) / 8);
}

/* Completes piece i by receiving every block. */
static void complete(struct tor_picker *p, uint32_t piece)
{
    for (uint32_t b = 0; b < PLEN; b += TOR_BLOCK)
        tor_picker_received(p, piece, b, TOR_BLOCK);
    tor_picker_passed(p, piece);
}

static void test_rarest_after_random(void **state)
{
    (void)state;
    struct tor_picker p;
    tor_picker_init(&p, NP, PLEN, (uint64_t)NP * PLEN, 42);
    uint8_t bits[2];
    all_bits(bits);
    /* three peers have everything but piece 9, which one peer has */
    uint8_t most[2];
    all_bits(most);
    most[1] &= (uint8_t)~(0x80 >> 1);
    for (int k = 0; k < 3; k++)
        tor_picker_peer_bits(&p, most, +1);
    tor_picker_peer_have(&p, 9);
    assert_int_equal(p.avail[9], 1);
    assert_int_equal(p.avail[8], 3);
    /* random first: the first four pieces are not chosen by rarity (seeded: deterministic) */
    struct tor_block blk[4];
    for (int k = 0; k < 4; k++) {
        size_t n = tor_picker_pick(&p, bits, NULL, NULL, blk, 2);
        assert_int_equal(n, 2);
        assert_int_equal(blk[0].piece, blk[1].piece);
        assert_int_equal(blk[1].begin, TOR_BLOCK);
        complete(&p, blk[0].piece);
    }
    assert_int_equal(p.nhave, 4);
    /* now rarest first: 9 unless it was one of the random ones; then the rarest remaining
     * have equal counts, so only check that 9 is chosen when still missing */
    if (p.state[9] == TOR_PIECE_MISSING) {
        size_t n = tor_picker_pick(&p, bits, NULL, NULL, blk, 1);
        assert_int_equal(n, 1);
        assert_int_equal(blk[0].piece, 9);
    }
    tor_picker_clear(&p);
}

static void test_started_first_and_failed(void **state)
{
    (void)state;
    struct tor_picker p;
    tor_picker_init(&p, NP, PLEN, (uint64_t)NP * PLEN, 7);
    uint8_t bits[2];
    all_bits(bits);
    tor_picker_peer_bits(&p, bits, +1);
    struct tor_block b[2];
    assert_int_equal(tor_picker_pick(&p, bits, NULL, NULL, b, 1), 1);
    uint32_t first = b[0].piece;
    /* the request is lost: the same block comes back before any other piece */
    tor_picker_cancelled(&p, first, 0);
    assert_int_equal(tor_picker_pick(&p, bits, NULL, NULL, b, 1), 1);
    assert_int_equal(b[0].piece, first);
    assert_int_equal(b[0].begin, 0);
    assert_int_equal(tor_picker_pick(&p, bits, NULL, NULL, b, 1), 1);
    assert_int_equal(b[0].piece, first);
    assert_int_equal(b[0].begin, TOR_BLOCK);
    /* blocks not asked for, of the wrong length or twice are refused */
    assert_int_equal(tor_picker_received(&p, first, 0, 100), -1);
    assert_int_equal(tor_picker_received(&p, (first + 1) % NP, 0, TOR_BLOCK), -1);
    assert_int_equal(tor_picker_received(&p, first, 0, TOR_BLOCK), 0);
    assert_int_equal(tor_picker_received(&p, first, 0, TOR_BLOCK), -1);
    assert_int_equal(tor_picker_received(&p, first, 5, TOR_BLOCK), -1);
    assert_int_equal(tor_picker_received(&p, first, TOR_BLOCK, TOR_BLOCK), 1);
    /* hash mismatch: the piece starts again */
    tor_picker_failed(&p, first);
    assert_int_equal(p.state[first], TOR_PIECE_MISSING);
    tor_picker_clear(&p);
}

static bool asked_none(void *arg, uint32_t piece, uint32_t begin)
{
    (void)arg, (void)piece, (void)begin;
    return false;
}

static bool asked_all(void *arg, uint32_t piece, uint32_t begin)
{
    (void)arg, (void)piece, (void)begin;
    return true;
}

static void test_endgame_and_short_last(void **state)
{
    (void)state;
    struct tor_picker p;
    /* 2 pieces, the last one 100 bytes: 3 blocks in all */
    tor_picker_init(&p, 2, PLEN, PLEN + 100, 1);
    uint8_t bits[1] = {0xc0};
    struct tor_block b[8];
    size_t n = tor_picker_pick(&p, bits, NULL, NULL, b, 8);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++)
        if (b[i].piece == 1)
            assert_int_equal(b[i].length, 100);
    assert_false(p.endgame);
    /* everything is requested: another peer gets duplicates, except what it was asked */
    assert_int_equal(tor_picker_pick(&p, bits, asked_all, NULL, b, 8), 0);
    assert_int_equal(tor_picker_pick(&p, bits, asked_none, NULL, b, 8), 3);
    assert_true(p.endgame);
    assert_int_equal(tor_picker_received(&p, 1, 0, 100), 1);
    /* the duplicate of the same block arriving later is not wanted */
    assert_int_equal(tor_picker_received(&p, 1, 0, 100), -1);
    tor_picker_clear(&p);
}

static void test_choker(void **state)
{
    (void)state;
    struct tor_choker c;
    tor_choker_init(&c, 4, 8, 99);
    struct tor_choke_peer peers[10];
    memset(peers, 0, sizeof peers);
    for (int i = 0; i < 10; i++) {
        peers[i].id = (uint64_t)i + 1;
        peers[i].interested = i != 0; /* peer 0 is the fastest but wants nothing */
        peers[i].down_rate = (uint64_t)(i == 0 ? 1000 : i * 10);
        peers[i].up_rate = (uint64_t)(100 - i);
    }
    size_t n = tor_choker_run(&c, peers, 10, 1, false);
    assert_int_equal(n, 5);
    for (int i = 6; i <= 9; i++)
        assert_true(peers[i].unchoke && !peers[i].optimistic);
    assert_false(peers[0].unchoke);
    uint64_t opt = c.optimistic_id;
    assert_true(opt >= 2 && opt <= 6);
    assert_true(peers[opt - 1].optimistic);
    /* within 30 s the optimistic peer stays */
    tor_choker_run(&c, peers, 10, 10001, false);
    tor_choker_run(&c, peers, 10, 20001, false);
    assert_int_equal(c.optimistic_id, opt);
    /* rotation after 30 s: over many rotations more than one peer gets the slot */
    bool seen[11] = {false};
    for (uint64_t t = 30001; t < 30000 * 40; t += 30000) {
        assert_true(tor_choker_run(&c, peers, 10, t, false) <= 5);
        seen[c.optimistic_id] = true;
    }
    int distinct = 0;
    for (int i = 0; i < 11; i++)
        distinct += seen[i];
    assert_true(distinct >= 3);
    assert_false(seen[1]); /* never the uninterested one */
}

#define NSEED 16

/* One seeding round as swarm.c runs it: the holders of regular slots are told, and the
 * unchoked ones are the ones we send to (so their upload rate is the high one). */
static size_t seed_round(struct tor_choker *c, struct tor_choke_peer *p, uint64_t now)
{
    for (int i = 0; i < NSEED; i++) {
        p[i].regular = p[i].unchoke && !p[i].optimistic;
        p[i].up_rate = p[i].unchoke ? 1000000 : 0;
    }
    return tor_choker_run(c, p, NSEED, now, true);
}

static void test_seed_rotation(void **state)
{
    (void)state;
    struct tor_choker c;
    tor_choker_init(&c, 4, 8, 7);
    struct tor_choke_peer p[NSEED];
    memset(p, 0, sizeof p);
    for (int i = 0; i < NSEED; i++) {
        p[i].id = (uint64_t)i + 1;
        p[i].interested = true;
    }
    uint64_t t0 = 5000;
    assert_int_equal(seed_round(&c, p, t0), 9); /* 8 regular + 1 optimistic */
    bool first[NSEED], had[NSEED];
    for (int i = 0; i < NSEED; i++) {
        first[i] = p[i].unchoke && !p[i].optimistic;
        had[i] = first[i];
    }
    /* a turn lasts 30 s: the same 8 hold their slots at 10 s and 20 s, and running the
     * choker again at once changes nothing */
    for (uint64_t t = t0 + 10000; t < t0 + TOR_SEED_TURN_MS; t += 10000) {
        seed_round(&c, p, t);
        seed_round(&c, p, t);
        for (int i = 0; i < NSEED; i++)
            assert_int_equal(p[i].unchoke && !p[i].optimistic, first[i]);
    }
    /* after the turn the slots go to the 8 that never had one, though the first 8 are the
     * peers we sent to fastest (the lecture's seeding rule would keep them) */
    seed_round(&c, p, t0 + TOR_SEED_TURN_MS);
    int regular = 0;
    for (int i = 0; i < NSEED; i++) {
        bool r = p[i].unchoke && !p[i].optimistic;
        regular += r;
        if (r)
            assert_false(first[i]);
        had[i] |= r;
    }
    assert_int_equal(regular, 8);
    for (int i = 0; i < NSEED; i++)
        assert_true(had[i]); /* every peer had a regular slot within two turns */
    /* a holder that loses interest frees its slot at once, for the peer waiting longest */
    int gone = -1;
    for (int i = 0; i < NSEED && gone < 0; i++)
        if (p[i].unchoke && !p[i].optimistic)
            gone = i;
    p[gone].interested = false;
    assert_int_equal(seed_round(&c, p, t0 + TOR_SEED_TURN_MS + 1), 9);
    assert_false(p[gone].unchoke);
    int fresh = 0;
    for (int i = 0; i < NSEED; i++)
        fresh += p[i].unchoke && !p[i].optimistic && first[i];
    assert_int_equal(fresh, 1);
    /* fewer interested peers than slots: every one of them is unchoked */
    for (int i = 0; i < NSEED; i++)
        p[i].interested = i < 5;
    assert_int_equal(seed_round(&c, p, t0 + 2 * TOR_SEED_TURN_MS), 5);
    /* downloading again, the lecture's rule: the 4 fastest senders + 1 */
    for (int i = 0; i < NSEED; i++) {
        p[i].interested = true;
        p[i].down_rate = (uint64_t)i;
    }
    assert_int_equal(tor_choker_run(&c, p, NSEED, t0 + 3 * TOR_SEED_TURN_MS, false), 5);
    for (int i = NSEED - 4; i < NSEED; i++)
        assert_true(p[i].unchoke && !p[i].optimistic);
}

/* Seeding: while the unchoked peers are idle (nothing of theirs waits at our end) a third of
 * the time or more and some peer waits choked, a slot opens per choke run, up to seed_slots
 * more; busy (idle less than a tenth of the time), one closes per run. */
static void test_seed_slots_open(void **state)
{
    (void)state;
    struct tor_choker c;
    tor_choker_init(&c, 4, 8, 7);
    struct tor_choke_peer p[NSEED];
    memset(p, 0, sizeof p);
    for (int i = 0; i < NSEED; i++) {
        p[i].id = (uint64_t)i + 1;
        p[i].interested = true;
    }
    assert_int_equal(seed_round(&c, p, 5000), 9);
    tor_choker_seed_idle(&c, 3, 9, false); /* idle, but nobody waits: no slot */
    assert_int_equal(seed_round(&c, p, 15000), 9);
    tor_choker_seed_idle(&c, 2, 9, true); /* busy enough: none */
    assert_int_equal(seed_round(&c, p, 25000), 9);
    tor_choker_seed_idle(&c, 3, 9, true);
    assert_int_equal(seed_round(&c, p, 35000), 10);
    for (int i = 0; i < 20; i++)
        tor_choker_seed_idle(&c, 90, 100, true);
    assert_int_equal(seed_round(&c, p, 45000), NSEED); /* 16 regular of 16: no optimistic */
    assert_int_equal(c.seed_extra, 8);                 /* and no more than 8 opened */
    tor_choker_seed_idle(&c, 1, 10, true); /* a tenth: kept */
    assert_int_equal(c.seed_extra, 8);
    tor_choker_seed_idle(&c, 0, 0, true); /* nothing seen: kept */
    assert_int_equal(c.seed_extra, 8);
    for (int i = 0; i < 3; i++)
        tor_choker_seed_idle(&c, 9, 100, true);
    assert_int_equal(c.seed_extra, 5);
    assert_int_equal(seed_round(&c, p, 75000), 14); /* 13 regular + 1 optimistic */
    for (int i = 0; i < 10; i++)
        tor_choker_seed_idle(&c, 0, 100, true);
    assert_int_equal(seed_round(&c, p, 105000), 9);
    /* slots opened, then seed_slots lowered by a reload: never more than twice the new one */
    for (int i = 0; i < 8; i++)
        tor_choker_seed_idle(&c, 90, 100, true);
    c.seed_slots = 2;
    assert_int_equal(seed_round(&c, p, 135000), 5); /* 2 + 2 regular + 1 optimistic */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rarest_after_random),
        cmocka_unit_test(test_started_first_and_failed),
        cmocka_unit_test(test_endgame_and_short_last),
        cmocka_unit_test(test_choker),
        cmocka_unit_test(test_seed_rotation),
        cmocka_unit_test(test_seed_slots_open),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
