/* http/field: the head-line and field lexer shared by requests and origin responses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "http/field.h"

#include <string.h>

static bool is(struct slice s, const char *t)
{
    return s.len == strlen(t) && memcmp(s.p, t, s.len) == 0;
}

static int lex(const char *line, struct http_header *h, const char **why)
{
    return http_field_lex(slice_make(line, strlen(line)), h, why);
}

static void test_fields(void **state)
{
    struct http_header h;
    const char *why = NULL;
    assert_int_equal(lex("Host: a.test", &h, &why), 0);
    assert_true(is(h.name, "Host") && is(h.value, "a.test"));
    assert_int_equal(lex("X-Empty:", &h, &why), 0);
    assert_true(is(h.name, "X-Empty") && h.value.len == 0);
    assert_int_equal(lex("X-Pad: \t v a l \t ", &h, &why), 0);
    assert_true(is(h.value, "v a l"));
    assert_int_equal(lex("X-Obs: caf\xc3\xa9", &h, &why), 0); /* obs-text is allowed */
    assert_int_equal(lex("!#$%&'*+-.^_`|~09azAZ: v", &h, &why), 0);

    assert_int_equal(lex(" folded: x", &h, &why), -1);
    assert_string_equal(why, "obsolete line folding");
    assert_int_equal(lex("\tfolded", &h, &why), -1);
    assert_int_equal(lex("No colon here", &h, &why), -1);
    assert_string_equal(why, "header line without a colon");
    assert_int_equal(lex("Name : x", &h, &why), -1); /* RFC 9112 §5.1 */
    assert_string_equal(why, "bad header name");
    assert_int_equal(lex(": x", &h, &why), -1);
    assert_int_equal(lex("Na(me: x", &h, &why), -1);
    assert_int_equal(lex("Name: a\x01z", &h, &why), -1);
    assert_string_equal(why, "control character in a header");
    assert_int_equal(lex("Name: a\x7fz", &h, &why), -1);
}

static void test_lines(void **state)
{
    const char text[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    const char *p = text, *end = text + sizeof text - 1, *why = NULL;
    struct slice l;
    assert_int_equal(http_line_next(&p, end, &l, &why), 0);
    assert_true(is(l, "GET / HTTP/1.1"));
    assert_int_equal(http_line_next(&p, end, &l, &why), 0);
    assert_true(is(l, "Host: x"));
    assert_int_equal(http_line_next(&p, end, &l, &why), 0);
    assert_int_equal(l.len, 0);
    assert_ptr_equal(p, end);

    static const char *const bad[] = {"a\n", "a\rb\r\n", "a\0b\r\n", "no end", "\n"};
    static const size_t lens[] = {2, 5, 5, 6, 1};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        p = bad[i];
        assert_int_equal(http_line_next(&p, bad[i] + lens[i], &l, &why), -1);
        assert_ptr_equal(p, bad[i]); /* nothing consumed */
    }
}

static void test_decimal(void **state)
{
    uint64_t v;
    assert_int_equal(http_decimal_parse(slice_make("0", 1), &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(http_decimal_parse(slice_make("1234567890123456789", 19), &v), 0);
    assert_true(v == 1234567890123456789ULL);
    assert_int_equal(http_decimal_parse(slice_make("12345678901234567890", 20), &v), -1);
    assert_int_equal(http_decimal_parse(slice_make("", 0), &v), -1);
    assert_int_equal(http_decimal_parse(slice_make("+1", 2), &v), -1);
    assert_int_equal(http_decimal_parse(slice_make("1,1", 3), &v), -1);
    assert_int_equal(http_decimal_parse(slice_make(" 1", 2), &v), -1);
    assert_true(http_token_ok(slice_make("GET", 3)));
    assert_false(http_token_ok(slice_make("", 0)));
    assert_false(http_token_ok(slice_make("G T", 3)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_lines),
        cmocka_unit_test(test_decimal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
