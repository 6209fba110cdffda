/* torrent/bencode: strict parsing, limits, raw spans, look-ups, writers, split inputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/err.h"
#include "torrent/bencode.h"

#include <string.h>

static int parse(const char *s, struct benc_doc *d)
{
    struct benc_limits lim;
    benc_limits_default(&lim);
    const char *why = NULL;
    return benc_parse(s, strlen(s), &lim, d, NULL, &why);
}

static void test_values(void **state)
{
    (void)state;
    struct benc_doc d = {0};
    assert_int_equal(parse("d3:cow3:moo4:spaml1:a1:be1:ni-42ee", &d), 0);
    assert_int_equal(d.t[0].type, BENC_DICT);
    assert_int_equal(d.t[0].count, 6);
    assert_int_equal(d.t[0].next, d.n);
    struct slice s;
    assert_true(benc_dict_str(&d, 0, "cow", &s));
    assert_true(slice_eq(s, "moo"));
    long l = benc_dict_get(&d, 0, "spam");
    assert_int_equal(d.t[l].type, BENC_LIST);
    assert_int_equal(d.t[l].count, 2);
    long c = benc_first(&d, l);
    assert_true(slice_eq(d.t[c].s, "a"));
    assert_true(slice_eq(d.t[d.t[c].next].s, "b"));
    int64_t v;
    assert_true(benc_dict_int(&d, 0, "n", &v));
    assert_true(v == -42);
    assert_false(benc_dict_int(&d, 0, "cow", &v));
    assert_int_equal(benc_dict_get(&d, 0, "moo"), -1);
    assert_int_equal(parse("i-9223372036854775808e", &d), 0);
    assert_true(d.t[0].i == INT64_MIN);
    assert_int_equal(parse("i9223372036854775807e", &d), 0);
    assert_true(d.t[0].i == INT64_MAX);
    assert_int_equal(parse("0:", &d), 0);
    assert_int_equal(d.t[0].s.len, 0);
    benc_doc_clear(&d);
}

static void test_raw_span(void **state)
{
    (void)state;
    struct benc_doc d = {0};
    const char *s = "d4:infod1:xi1ee1:yi2ee";
    assert_int_equal(parse(s, &d), 0);
    long info = benc_dict_get(&d, 0, "info");
    assert_int_equal(d.t[info].end - d.t[info].start, strlen("d1:xi1ee"));
    assert_memory_equal(s + d.t[info].start, "d1:xi1ee", 8);
    benc_doc_clear(&d);
}

static void test_rejects(void **state)
{
    (void)state;
    struct benc_doc d = {0};
    const char *bad[] = {"",        "i-0e",   "i03e",    "ie",       "i1",     "03:abc",
                         "4:abc",   "l",      "di1ei2ee", "d1:ae",   "x",      "i1ei2e",
                         "i9223372036854775808e", "i-9223372036854775809e", "99999999999999999999:a",
                         "-1:a", "i--1e"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (parse(bad[i], &d) >= 0)
            fail_msg("'%s' was accepted", bad[i]);
    benc_doc_clear(&d);
}

static void test_limits(void **state)
{
    (void)state;
    struct benc_doc d = {0};
    struct benc_limits lim = {.max_depth = 3, .max_tokens = 4, .max_str = 3};
    const char *why = NULL;
    assert_int_equal(benc_parse("lllee", 5, &lim, &d, NULL, &why), ERR_PARSE);
    assert_int_equal(benc_parse("llleee", 6, &lim, &d, NULL, &why), 0);
    assert_int_equal(benc_parse("llllee", 6, &lim, &d, NULL, &why), ERR_LIMIT);
    assert_string_equal(why, "nested too deeply");
    assert_int_equal(benc_parse("li1ei2ei3ei4ee", 14, &lim, &d, NULL, &why), ERR_LIMIT);
    assert_int_equal(benc_parse("4:abcd", 6, &lim, &d, NULL, &why), ERR_LIMIT);
    /* a deep input far beyond the stack with default limits */
    static char deep[200000];
    memset(deep, 'l', sizeof deep);
    benc_limits_default(&lim);
    assert_int_equal(benc_parse(deep, sizeof deep, &lim, &d, NULL, &why), ERR_LIMIT);
    benc_doc_clear(&d);
}

static void test_used_and_split(void **state)
{
    (void)state;
    struct benc_doc d = {0};
    struct benc_limits lim;
    benc_limits_default(&lim);
    const char *s = "d8:msg_typei1e5:piecei0eeRAWBYTES";
    size_t used = 0;
    assert_int_equal(benc_parse(s, strlen(s), &lim, &d, &used, NULL), 0);
    assert_string_equal(s + used, "RAWBYTES");
    /* every proper prefix of a value is incomplete, never accepted */
    const char *whole = "d4:listl3:abci7ee3:numi-3ee";
    for (size_t cut = 0; cut < strlen(whole); cut++)
        assert_true(benc_parse(whole, cut, &lim, &d, NULL, NULL) < 0);
    assert_int_equal(benc_parse(whole, strlen(whole), &lim, &d, NULL, NULL), 0);
    benc_doc_clear(&d);
}

static void test_writer(void **state)
{
    (void)state;
    struct str o = STR_INIT;
    benc_open_dict(&o);
    benc_put_cstr(&o, "a");
    benc_put_int(&o, -5);
    benc_put_cstr(&o, "b");
    benc_open_list(&o);
    benc_put_str(&o, "x\0y", 3);
    benc_close(&o);
    benc_close(&o);
    assert_int_equal(o.len, strlen("d1:ai-5e1:bl3:x") + 2 + 2);
    assert_memory_equal(o.ptr, "d1:ai-5e1:bl3:x\0yee", o.len);
    struct benc_doc d = {0};
    struct benc_limits lim;
    benc_limits_default(&lim);
    assert_int_equal(benc_parse(o.ptr, o.len, &lim, &d, NULL, NULL), 0);
    benc_doc_clear(&d);
    str_clear(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),  cmocka_unit_test(test_raw_span),
        cmocka_unit_test(test_rejects), cmocka_unit_test(test_limits),
        cmocka_unit_test(test_used_and_split), cmocka_unit_test(test_writer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
