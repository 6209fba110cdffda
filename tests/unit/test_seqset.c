/* Unit tests for imap/seqset: parsing, "*", normalisation, membership, iteration, format. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/err.h"
#include "core/str.h"
#include "imap/seqset.h"

#include <stdlib.h>
#include <string.h>

/* Parses, resolves against max and returns the compact form (caller frees). */
static char *norm(const char *text, uint32_t max)
{
    struct imap_seqset s;
    imap_seqset_init(&s);
    const char *why = NULL;
    if (imap_seqset_parse(text, strlen(text), 0, &s, &why) < 0)
        fail_msg("'%s' refused: %s", text, why);
    imap_seqset_resolve(&s, max);
    struct str o = STR_INIT;
    imap_seqset_format(&s, &o);
    str_appends(&o, "");
    imap_seqset_clear(&s);
    return str_steal(&o);
}

static void expect_norm(const char *text, uint32_t max, const char *want)
{
    char *got = norm(text, max);
    if (strcmp(got, want) != 0)
        fail_msg("'%s' max %u: got '%s' want '%s'", text, max, got, want);
    free(got);
}

static void test_parse_resolve(void **state)
{
    expect_norm("1", 10, "1");
    expect_norm("1,3:5,7:*", 10, "1,3:5,7:10");
    expect_norm("*", 10, "10");
    expect_norm("*:4", 10, "4:10"); /* either order */
    expect_norm("5:3", 10, "3:5");
    expect_norm("3,1,2,9:8,4", 100, "1:4,8:9"); /* sorted and merged */
    expect_norm("1:5,2:3,6", 100, "1:6");       /* overlapping and adjacent */
    expect_norm("559:*", 500, "500:559");       /* RFC 3501 §6.4.8: includes the last UID */
    expect_norm("*", 0, "");                    /* empty mailbox */
    expect_norm("1:*", 0, "1");
    expect_norm("4294967295", 1, "4294967295");
    expect_norm("4294967294:4294967295,1", 1, "1,4294967294:4294967295");
}

static void test_parse_errors(void **state)
{
    static const char *const bad[] = {"",
                                      "0",
                                      "0:3",
                                      "1:0",
                                      ",1",
                                      "1,",
                                      "1,,2",
                                      "1::2",
                                      "a",
                                      "1a",
                                      "-1",
                                      "1:",
                                      ":1",
                                      "*1",
                                      "1 2",
                                      "4294967296",
                                      "$",
                                      "1;2",
                                      "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct imap_seqset s;
        imap_seqset_init(&s);
        const char *why = NULL;
        if (imap_seqset_parse(bad[i], strlen(bad[i]), 0, &s, &why) != ERR_PARSE)
            fail_msg("'%s' accepted", bad[i]);
        assert_non_null(why);
        imap_seqset_clear(&s);
    }
    struct imap_seqset s;
    imap_seqset_init(&s);
    const char *why;
    assert_int_equal(imap_seqset_parse("$", 1, IMAP_SEQSET_ALLOW_SAVED, &s, &why), 0);
    assert_true(s.saved);
    assert_int_equal(imap_seqset_parse("$,1", 3, IMAP_SEQSET_ALLOW_SAVED, &s, &why), ERR_PARSE);
    imap_seqset_clear(&s);
}

static void test_contains_iter(void **state)
{
    struct imap_seqset s;
    imap_seqset_init(&s);
    const char *why;
    assert_int_equal(imap_seqset_parse("2,4:6,10:*", 10, 0, &s, &why), 0);
    imap_seqset_resolve(&s, 12);
    bool want[14] = {false, false, true,  false, true, true, true,
                     false, false, false, true,  true, true, false};
    for (uint32_t n = 0; n < 14; n++)
        assert_int_equal(imap_seqset_contains(&s, n), want[n]);
    assert_int_equal(imap_seqset_count(&s), 7);
    assert_int_equal(imap_seqset_max(&s), 12);
    struct imap_seqset_iter it;
    imap_seqset_iter_init(&it, &s);
    uint32_t n, got[8], k = 0;
    while (imap_seqset_iter_next(&it, &n))
        got[k++] = n;
    assert_int_equal(k, 7);
    uint32_t exp[7] = {2, 4, 5, 6, 10, 11, 12};
    assert_memory_equal(got, exp, sizeof exp);
    imap_seqset_clear(&s);

    /* iteration up to UINT32_MAX does not wrap */
    imap_seqset_add(&s, 4294967294u, 4294967295u);
    imap_seqset_resolve(&s, 1);
    imap_seqset_iter_init(&it, &s);
    k = 0;
    while (imap_seqset_iter_next(&it, &n))
        k++;
    assert_int_equal(k, 2);
    imap_seqset_clear(&s);

    /* empty set */
    imap_seqset_resolve(&s, 5);
    imap_seqset_iter_init(&it, &s);
    assert_false(imap_seqset_iter_next(&it, &n));
    assert_false(imap_seqset_contains(&s, 1));
    assert_int_equal(imap_seqset_max(&s), 0);
}

static void test_build_uidplus(void **state)
{
    /* COPYUID sets are built one UID at a time and sent compact. */
    struct imap_seqset s;
    imap_seqset_init(&s);
    uint32_t uids[] = {7, 3, 4, 5, 9, 10, 1, IMAP_SEQ_STAR};
    for (size_t i = 0; i < sizeof uids / sizeof uids[0]; i++)
        imap_seqset_add(&s, uids[i], uids[i]);
    imap_seqset_resolve(&s, 11);
    struct str o = STR_INIT;
    imap_seqset_format(&s, &o);
    assert_string_equal(str_cstr(&o), "1,3:5,7,9:11");
    str_clear(&o);
    imap_seqset_clear(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_resolve),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_contains_iter),
        cmocka_unit_test(test_build_uidplus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
