/* Unit tests for imap/mutf7 and imap/mailbox_name. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/err.h"
#include "core/str.h"
#include "imap/mailbox_name.h"
#include "imap/mutf7.h"
#include "msg/utf8.h"

#include <stdlib.h>
#include <string.h>

static void roundtrip(const char *utf8, const char *mutf7)
{
    struct str a = STR_INIT, b = STR_INIT;
    assert_int_equal(imap_utf8_to_mutf7(utf8, strlen(utf8), &a), 0);
    if (strcmp(str_cstr(&a), mutf7) != 0)
        fail_msg("encode '%s': got '%s' want '%s'", utf8, str_cstr(&a), mutf7);
    assert_int_equal(imap_mutf7_to_utf8(mutf7, strlen(mutf7), &b), 0);
    assert_string_equal(str_cstr(&b), utf8);
    str_clear(&a);
    str_clear(&b);
}

static void test_vectors(void **state)
{
    roundtrip("", "");
    roundtrip("INBOX", "INBOX");
    roundtrip("&", "&-");
    roundtrip("Tom & Jerry", "Tom &- Jerry");
    /* RFC 3501 §5.1.3 example: "~peter/mail/台北/日本語" */
    roundtrip("~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
              "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
    roundtrip("Entw\xc3\xbc"
              "rfe",
              "Entw&APw-rfe");
    roundtrip("\xc3\xa9\xc3\xa9\xc3\xa9", "&AOkA6QDp-");
    roundtrip("\xf0\x9f\x90\xa6 bird", "&2D3cJg- bird"); /* surrogate pair */
    roundtrip("a\tb", "a&AAk-b");                        /* control chars are encoded */
    /* long runs stay one run */
    struct str in = STR_INIT, enc = STR_INIT, dec = STR_INIT;
    for (int i = 0; i < 200; i++)
        str_appends(&in, "\xd0\x96");
    assert_int_equal(imap_utf8_to_mutf7(in.ptr, in.len, &enc), 0);
    assert_int_equal(enc.ptr[0], '&');
    assert_null(memchr(enc.ptr + 1, '&', enc.len - 1));
    assert_int_equal(imap_mutf7_to_utf8(enc.ptr, enc.len, &dec), 0);
    assert_int_equal(dec.len, in.len);
    assert_memory_equal(dec.ptr, in.ptr, in.len);
    str_clear(&in);
    str_clear(&enc);
    str_clear(&dec);
}

static void test_rejects(void **state)
{
    static const char *const bad[] = {
        "&",           /* unterminated */
        "&AOk",        /* no "-" */
        "&AOk-&AOk-",  /* adjacent runs must be one */
        "&AGE-",       /* encodes printable ASCII "a" */
        "&AOl-",       /* non-zero leftover bits */
        "&AOkA-",      /* a whole leftover sextet: not minimal */
        "&2D0-",       /* lone high surrogate */
        "&3CY-",       /* lone low surrogate */
        "&AO!-",       /* not base64 */
        "&AO/-",       /* "/" is "," in modified base64 */
        "caf\xc3\xa9", /* raw 8-bit */
        "a\tb",        /* raw control */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct str o = STR_INIT;
        if (imap_mutf7_to_utf8(bad[i], strlen(bad[i]), &o) != ERR_PARSE)
            fail_msg("'%s' accepted as '%s'", bad[i], str_cstr(&o));
        str_clear(&o);
    }
    struct str o = STR_INIT;
    assert_int_equal(imap_utf8_to_mutf7("\xff", 1, &o), ERR_PARSE);
    assert_int_equal(imap_utf8_to_mutf7("\xed\xa0\x80", 3, &o), ERR_PARSE); /* surrogate */
    str_clear(&o);
}

/* Every 1..3-byte mUTF-7 string either decodes and re-encodes to itself, or is refused. */
static void test_canonical_exhaustive(void **state)
{
    const char alpha[] = "&-AZaz09+,/!~ ";
    size_t na = sizeof alpha - 1;
    for (size_t len = 1; len <= 4; len++) {
        size_t total = 1;
        for (size_t k = 0; k < len; k++)
            total *= na;
        for (size_t code = 0; code < total; code++) {
            char s[8];
            size_t c = code;
            for (size_t k = 0; k < len; k++, c /= na)
                s[k] = alpha[c % na];
            struct str u = STR_INIT, back = STR_INIT;
            if (imap_mutf7_to_utf8(s, len, &u) == 0) {
                assert_true(utf8_valid(str_cstr(&u), u.len));
                assert_int_equal(imap_utf8_to_mutf7(str_cstr(&u), u.len, &back), 0);
                if (back.len != len || memcmp(back.ptr, s, len) != 0)
                    fail_msg("'%.*s' is not canonical ('%s')", (int)len, s, str_cstr(&back));
            }
            str_clear(&u);
            str_clear(&back);
        }
    }
}

static void test_names(void **state)
{
    static const char *const good[] = {"INBOX",
                                       "a",
                                       "Archive/2026",
                                       "Entw\xc3\xbc"
                                       "rfe",
                                       "a b/c.d",
                                       "...x",
                                       "x..",
                                       "[Gmail]/Sent"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        const char *why = NULL;
        if (imap_mailbox_name_check(good[i], strlen(good[i]), &why) != 0)
            fail_msg("'%s' refused: %s", good[i], why);
    }
    static const char *const bad[] = {"",      "/a", "a/", "a//b",  "..",   "a/../b", ".",
                                      "a/./b", "a%", "*",  "a\x01", "\xff", "a\x7f"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *why = NULL;
        if (imap_mailbox_name_check(bad[i], strlen(bad[i]), &why) != ERR_PARSE)
            fail_msg("'%s' accepted", bad[i]);
        assert_non_null(why);
    }
    struct str big = STR_INIT;
    const char *why;
    for (int i = 0; i < 33; i++)
        str_appends(&big, i ? "/x" : "x");
    assert_int_equal(imap_mailbox_name_check(big.ptr, big.len, &why), ERR_PARSE);
    str_reset(&big);
    for (int i = 0; i < 256; i++)
        str_appendc(&big, 'x');
    assert_int_equal(imap_mailbox_name_check(big.ptr, big.len, &why), ERR_PARSE);
    str_clear(&big);
}

static void test_wire(void **state)
{
    struct str o = STR_INIT;
    const char *why;
    assert_int_equal(imap_mailbox_name_from_wire("inbox", 5, false, &o, &why), 0);
    assert_string_equal(str_cstr(&o), "INBOX");
    str_reset(&o);
    assert_int_equal(imap_mailbox_name_from_wire("iNbOx/Sub", 9, false, &o, &why), 0);
    assert_string_equal(str_cstr(&o), "INBOX/Sub");
    str_reset(&o);
    assert_int_equal(imap_mailbox_name_from_wire("inboxes", 7, false, &o, &why), 0);
    assert_string_equal(str_cstr(&o), "inboxes");
    str_reset(&o);
    assert_int_equal(imap_mailbox_name_from_wire("Entw&APw-rfe", 12, false, &o, &why), 0);
    assert_string_equal(str_cstr(&o), "Entw\xc3\xbc"
                                      "rfe");
    str_reset(&o);
    assert_int_equal(imap_mailbox_name_from_wire("Entw\xc3\xbc"
                                                 "rfe",
                                                 9, true, &o, &why),
                     0);
    assert_string_equal(str_cstr(&o), "Entw\xc3\xbc"
                                      "rfe");
    str_reset(&o);
    assert_int_equal(imap_mailbox_name_from_wire("Entw\xc3\xbc"
                                                 "rfe",
                                                 9, false, &o, &why),
                     ERR_PARSE);
    assert_int_equal(imap_mailbox_name_from_wire("&AC4ALg-", 8, false, &o, &why), ERR_PARSE);
    assert_int_equal(imap_mailbox_name_from_wire("a/&AC8-/b", 9, false, &o, &why), ERR_PARSE);
    assert_int_equal(imap_mailbox_name_from_wire("../etc", 6, false, &o, &why), ERR_PARSE);
    assert_int_equal(imap_mailbox_name_from_wire("a&AAA-b", 7, false, &o, &why), ERR_PARSE);
    assert_int_equal(o.len, 0);
    imap_mailbox_name_to_wire("Entw\xc3\xbc"
                              "rfe & co",
                              14, false, &o);
    assert_string_equal(str_cstr(&o), "Entw&APw-rfe &- co");
    str_clear(&o);
}

static bool m(const char *pat, const char *name)
{
    return imap_mailbox_match(pat, strlen(pat), name, strlen(name));
}

static void test_match(void **state)
{
    assert_true(m("*", "a/b/c"));
    assert_true(m("%", "abc"));
    assert_false(m("%", "a/b"));
    assert_true(m("a/%", "a/b"));
    assert_false(m("a/%", "a/b/c"));
    assert_true(m("a/*", "a/b/c"));
    assert_true(m("a*c", "abbbc"));
    assert_false(m("a*c", "abbbd"));
    assert_true(m("%/%", "x/y"));
    assert_true(m("inbox", "INBOX"));
    assert_true(m("Inbox/%", "INBOX/Sub"));
    assert_false(m("inbox", "Inbox2"));
    assert_false(m("archive", "Archive")); /* only INBOX is case-insensitive */
    assert_true(m("", ""));
    assert_false(m("", "a"));
    assert_true(m("*%*%*", "a"));
    /* pathological pattern: quadratic, not exponential */
    struct str p = STR_INIT, n = STR_INIT;
    for (int i = 0; i < 200; i++)
        str_appends(&p, "*a");
    str_appends(&p, "b");
    for (int i = 0; i < 300; i++)
        str_appendc(&n, 'a');
    assert_false(imap_mailbox_match(p.ptr, p.len, n.ptr, n.len));
    str_clear(&p);
    str_clear(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_canonical_exhaustive),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_wire),
        cmocka_unit_test(test_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
