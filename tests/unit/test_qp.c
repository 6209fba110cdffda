/* Unit tests for msg/qp, msg/cte, msg/rfc2047, msg/charset, msg/utf8 and msg/imapstr. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/err.h"
#include "core/str.h"
#include "msg/charset.h"
#include "msg/cte.h"
#include "msg/imapstr.h"
#include "msg/qp.h"
#include "msg/rfc2047.h"
#include "msg/utf8.h"

#include <stdlib.h>
#include <string.h>

static void expect_qp(const char *in, bool q, const char *want)
{
    struct str o = STR_INIT;
    qp_decode(in, strlen(in), q, &o);
    if (strcmp(str_cstr(&o), want) != 0)
        fail_msg("qp '%s': got '%s' want '%s'", in, str_cstr(&o), want);
    str_clear(&o);
}

static void test_qp(void **state)
{
    expect_qp("Caf=C3=A9", false, "Caf\xc3\xa9");
    expect_qp("caf=c3=a9", false, "caf\xc3\xa9"); /* lower-case hex tolerated */
    expect_qp("soft=\r\nbreak", false, "softbreak");
    expect_qp("soft=  \r\nbreak", false, "softbreak");
    expect_qp("soft=\nbreak", false, "softbreak");
    expect_qp("trail   \r\nnext", false, "trail\r\nnext"); /* transport padding */
    expect_qp("in the  middle", false, "in the  middle");
    expect_qp("bad=ZZ=4", false, "bad=ZZ=4");
    expect_qp("end=", false, "end");
    expect_qp("a_b=5Fc", true, "a b_c");
    expect_qp("a_b", false, "a_b");
    expect_qp("", false, "");
    /* every prefix of a tricky input is safe */
    const char *t = "=4=\r=\n =A=0=aa \t\r\n_";
    for (size_t k = 0; k <= strlen(t); k++) {
        char *c = malloc(k ? k : 1);
        memcpy(c, t, k);
        struct str o = STR_INIT;
        qp_decode(c, k, true, &o);
        str_clear(&o);
        free(c);
    }
}

static void test_base64_lenient(void **state)
{
    struct str o = STR_INIT;
    const char *in = "SGVs\r\nbG8g\r\nd29y bGQ=\r\n";
    cte_base64_decode(in, strlen(in), &o);
    assert_string_equal(str_cstr(&o), "Hello world");
    str_reset(&o);
    cte_base64_decode("SGVsbG8", 7, &o); /* missing padding */
    assert_string_equal(str_cstr(&o), "Hello");
    str_reset(&o);
    cte_base64_decode("SGVsbG8=garbage", 15, &o); /* stops at "=" */
    assert_string_equal(str_cstr(&o), "Hello");
    str_reset(&o);
    cte_base64_decode("S", 1, &o);
    assert_int_equal(o.len, 0);
    /* longer than one internal chunk */
    struct str big = STR_INIT;
    for (int i = 0; i < 1000; i++)
        str_appends(&big, "QUJD\r\n");
    str_reset(&o);
    cte_base64_decode(big.ptr, big.len, &o);
    assert_int_equal(o.len, 3000);
    assert_memory_equal(o.ptr + 2997, "ABC", 3);
    str_clear(&big);
    str_clear(&o);
    assert_int_equal(cte_from_name(" Base64 ", 8), CTE_BASE64);
    assert_int_equal(cte_from_name("QUOTED-PRINTABLE", 16), CTE_QP);
    assert_int_equal(cte_from_name("", 0), CTE_7BIT);
    assert_int_equal(cte_from_name("x-uuencode", 10), CTE_UNKNOWN);
}

static void expect_2047(const char *in, const char *want)
{
    struct str o = STR_INIT;
    rfc2047_decode(in, strlen(in), &o);
    if (strcmp(str_cstr(&o), want) != 0)
        fail_msg("2047 '%s': got '%s' want '%s'", in, str_cstr(&o), want);
    str_clear(&o);
}

static void test_rfc2047(void **state)
{
    /* RFC 2047 §8 examples */
    expect_2047("=?ISO-8859-1?Q?a?=", "a");
    expect_2047("=?ISO-8859-1?Q?a?= b", "a b");
    expect_2047("=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=", "ab");
    expect_2047("=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=", "ab");
    expect_2047("=?ISO-8859-1?Q?a?=\r\n   =?ISO-8859-1?Q?b?=", "ab");
    expect_2047("=?ISO-8859-1?Q?a_b?=", "a b");
    expect_2047("=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=", "a b");
    expect_2047("=?US-ASCII?Q?Keith_Moore?= <moore@cs.utk.edu>", "Keith Moore <moore@cs.utk.edu>");
    expect_2047("=?ISO-8859-1?Q?Andr=E9?= Pirard", "Andr\xc3\xa9 Pirard");
    expect_2047("=?UTF-8?B?R3LDvMOfZSBhdXMgTcO8bmNoZW4=?=", "Gr\xc3\xbc\xc3\x9f"
                                                            "e aus M\xc3\xbc"
                                                            "nchen");
    /* a character split across two words survives */
    expect_2047("=?utf-8?q?=C3?= =?utf-8?q?=A9?=", "\xc3\xa9");
    /* RFC 2231 language suffix */
    expect_2047("=?utf-8*en?q?hi?=", "hi");
    /* unknown charset and malformed words stay as they are */
    expect_2047("=?x-nonesuch?q?a?=", "=?x-nonesuch?q?a?=");
    expect_2047("=?utf-8?x?a?=", "=?utf-8?x?a?=");
    expect_2047("=?utf-8?q?a b?=", "=?utf-8?q?a b?=");
    expect_2047("=?utf-8?q?unterminated", "=?utf-8?q?unterminated");
    expect_2047("x=?utf-8?q?y?=z", "xyz"); /* lenient: not between blanks */
    expect_2047("plain caf\xc3\xa9", "plain caf\xc3\xa9");
    expect_2047("latin caf\xe9", "latin caf\xc3\xa9");
    expect_2047("=?windows-1252?Q?=80?=", "\xe2\x82\xac"); /* through iconv */
}

static void test_charset(void **state)
{
    struct str o = STR_INIT;
    assert_int_equal(charset_to_utf8("ISO-8859-15", 11, "\xa4", 1, &o), 0);
    assert_string_equal(str_cstr(&o), "\xe2\x82\xac");
    str_reset(&o);
    assert_int_equal(charset_to_utf8("utf-8", 5,
                                     "a\xff"
                                     "b",
                                     3, &o),
                     0);
    assert_string_equal(str_cstr(&o), "a\xef\xbf\xbd"
                                      "b");
    str_reset(&o);
    assert_int_equal(charset_to_utf8("nope", 4, "abc", 3, &o), ERR_NOTFOUND);
    assert_string_equal(str_cstr(&o), "abc");
    str_reset(&o);
    assert_int_equal(charset_to_utf8("../../etc/x", 11, "abc", 3, &o), ERR_NOTFOUND);
    str_reset(&o);
    assert_int_equal(charset_to_utf8("Shift_JIS", 9, "\x82\xa0", 2, &o), 0);
    assert_string_equal(str_cstr(&o), "\xe3\x81\x82");
    str_reset(&o);
    assert_int_equal(charset_to_utf8("Shift_JIS", 9, "a\x82", 2, &o), 0); /* truncated */
    assert_string_equal(str_cstr(&o), "a\xef\xbf\xbd");
    assert_true(charset_is_known("KOI8-R", 6));
    assert_false(charset_is_known("", 0) == false);
    assert_false(charset_is_known("x-none", 6));
    str_clear(&o);
}

static void test_utf8_fold(void **state)
{
    struct str o = STR_INIT;
    const char *in = "Gr\xc3\x9c\xc3\x9f"
                     "E \xc3\x89T\xc3\x89 \xce\xa3\xce\x9f\xce\xa6\xce\x99\xce\x91 "
                     "\xd0\x9c\xd0\x9e\xd0\xa1\xd0\x9a\xd0\x92\xd0\x90 \xc5\x81\xc3\xb3"
                     "d\xc5\xba \xff";
    utf8_fold(in, strlen(in), &o);
    assert_string_equal(str_cstr(&o), "gr\xc3\xbc\xc3\x9f"
                                      "e \xc3\xa9t\xc3\xa9 "
                                      "\xcf\x83\xce\xbf\xcf\x86\xce\xb9\xce\xb1 "
                                      "\xd0\xbc\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0 "
                                      "\xc5\x82\xc3\xb3"
                                      "d\xc5\xba \xff");
    struct str twice = STR_INIT;
    utf8_fold(o.ptr, o.len, &twice);
    assert_string_equal(twice.ptr, o.ptr);
    assert_true(utf8_contains_folded("Hello WORLD", 11, "o w", 3));
    assert_false(utf8_contains_folded("Hello", 5, "hellos", 6));
    assert_true(utf8_contains_folded("", 0, "", 0));
    assert_true(utf8_valid("", 0));
    assert_false(utf8_valid("\xc0\x80", 2));         /* overlong */
    assert_false(utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    assert_false(utf8_valid("\xe2\x82", 2));
    str_clear(&twice);
    str_clear(&o);
}

static void test_imapstr(void **state)
{
    struct str o = STR_INIT;
    imapstr_write(&o, "a \"b\" \\c", 8);
    assert_string_equal(o.ptr, "\"a \\\"b\\\" \\\\c\"");
    str_reset(&o);
    imapstr_write(&o, "caf\xc3\xa9", 5);
    assert_string_equal(o.ptr, "{5}\r\ncaf\xc3\xa9");
    str_reset(&o);
    imapstr_write(&o, "a\r\nb", 4);
    assert_string_equal(o.ptr, "{4}\r\na\r\nb");
    str_reset(&o);
    imapstr_write(&o, "a\0b", 3);
    assert_string_equal(o.ptr, "{3}\r\na?b");
    str_reset(&o);
    imapstr_write_nstring(&o, NULL);
    imapstr_write_nstring(&o, "");
    assert_string_equal(o.ptr, "NIL\"\"");
    str_reset(&o);
    imapstr_write_astring(&o, "INBOX", 5);
    str_appendc(&o, ' ');
    imapstr_write_astring(&o, "nil", 3);
    str_appendc(&o, ' ');
    imapstr_write_astring(&o, "a b", 3);
    str_appendc(&o, ' ');
    imapstr_write_astring(&o, "[x]", 3);
    str_appendc(&o, ' ');
    imapstr_write_astring(&o, "", 0);
    assert_string_equal(o.ptr, "INBOX \"nil\" \"a b\" [x] \"\"");
    str_clear(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qp),        cmocka_unit_test(test_base64_lenient),
        cmocka_unit_test(test_rfc2047),   cmocka_unit_test(test_charset),
        cmocka_unit_test(test_utf8_fold), cmocka_unit_test(test_imapstr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
