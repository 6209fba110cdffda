/* Unit tests for dns/name: presentation <-> wire, escapes, limits, comparison, order. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/err.h"
#include "dns/name.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parses an absolute or origin-relative name; asserts success. */
static size_t wire(const char *text, const uint8_t *origin, uint8_t *out)
{
    size_t len = 0;
    const char *why = NULL;
    int rc = dns_name_from_text(text, strlen(text), origin, out, &len, &why);
    if (rc)
        fail_msg("'%s': %s", text, why);
    return len;
}

static int wire_rc(const char *text)
{
    uint8_t out[DNS_NAME_MAXLEN];
    size_t len;
    const char *why = NULL;
    int rc = dns_name_from_text(text, strlen(text), NULL, out, &len, &why);
    if (rc)
        assert_non_null(why);
    return rc;
}

static void roundtrip(const char *text, const char *expect)
{
    uint8_t w[DNS_NAME_MAXLEN];
    char back[DNS_NAME_TEXT_MAX];
    wire(text, NULL, w);
    size_t n = dns_name_to_text(w, back, sizeof back);
    assert_int_equal(n, strlen(expect));
    assert_string_equal(back, expect);
}

static void test_from_text(void **state)
{
    uint8_t w[DNS_NAME_MAXLEN];
    assert_int_equal(wire("www.Example.com.", NULL, w), 17);
    assert_memory_equal(w, "\3www\7Example\3com\0", 17);
    assert_int_equal(wire(".", NULL, w), 1);
    assert_int_equal(w[0], 0);
    uint8_t origin[DNS_NAME_MAXLEN];
    wire("example.com.", NULL, origin);
    assert_int_equal(wire("mail", origin, w), 18);
    assert_memory_equal(w, "\4mail\7example\3com\0", 18);
    assert_int_equal(wire("a.b", origin, w), 17);
    assert_int_equal(dns_name_labels(w), 4);
    /* no origin: a relative name is taken as absolute */
    assert_int_equal(wire("a.b", NULL, w), 5);
}

static void test_escapes(void **state)
{
    uint8_t w[DNS_NAME_MAXLEN];
    assert_int_equal(wire("a\\.b.c.", NULL, w), 7);
    assert_memory_equal(w, "\3a.b\1c\0", 7);
    assert_int_equal(wire("\\065\\000z.", NULL, w), 5);
    assert_memory_equal(w, "\3A\0z\0", 5);
    roundtrip("a\\.b.c.", "a\\.b.c.");
    roundtrip("\\000\\255\\032x.", "\\000\\255\\032x.");
    roundtrip("q\\\"\\;\\(\\)\\@\\$.", "q\\\"\\;\\(\\)\\@\\$.");
    roundtrip("plain-name_1.example.", "plain-name_1.example.");
    assert_int_equal(wire_rc("a\\25.b."), ERR_PARSE);  /* short \DDD */
    assert_int_equal(wire_rc("a\\256.b."), ERR_PARSE); /* above 255 */
    assert_int_equal(wire_rc("a\\"), ERR_PARSE);       /* dangling backslash */
}

static void test_limits(void **state)
{
    char label[80];
    memset(label, 'a', 63);
    strcpy(label + 63, ".");
    assert_int_equal(wire_rc(label), 0);
    memset(label, 'a', 64);
    strcpy(label + 64, ".");
    assert_int_equal(wire_rc(label), ERR_RANGE);
    /* 255 bytes: 3 labels of 63 + one of 61 = 4*64 - 2 + 1 */
    char name[300];
    size_t p = 0;
    for (int i = 0; i < 3; i++) {
        memset(name + p, 'b', 63);
        p += 63;
        name[p++] = '.';
    }
    memset(name + p, 'c', 61);
    p += 61;
    name[p++] = '.';
    name[p] = '\0';
    uint8_t w[DNS_NAME_MAXLEN];
    assert_int_equal(wire(name, NULL, w), 255);
    name[p - 1] = 'c';
    name[p] = '.';
    name[p + 1] = '\0';
    assert_int_equal(wire_rc(name), ERR_RANGE); /* 256 */
    assert_int_equal(wire_rc("a..b."), ERR_PARSE);
    assert_int_equal(wire_rc(".a."), ERR_PARSE);
    assert_int_equal(wire_rc(""), ERR_PARSE);
    /* relative name too long once the origin is appended */
    uint8_t origin[DNS_NAME_MAXLEN];
    name[p - 1] = '\0';
    wire("example.com.", NULL, origin);
    size_t len;
    assert_int_equal(dns_name_from_text(name, strlen(name), origin, w, &len, NULL), ERR_RANGE);
}

static void test_check(void **state)
{
    size_t len;
    assert_int_equal(dns_name_check((const uint8_t *)"\3www\0", 5, &len), 0);
    assert_int_equal(len, 5);
    assert_int_equal(dns_name_check((const uint8_t *)"\3www", 4, &len), ERR_PARSE);
    assert_int_equal(dns_name_check((const uint8_t *)"\xc0\x0c", 2, &len), ERR_PARSE);
    assert_int_equal(dns_name_check((const uint8_t *)"\x40"
                                                     "a\0",
                                    3, &len),
                     ERR_PARSE);
    assert_int_equal(dns_name_check((const uint8_t *)"", 0, &len), ERR_PARSE);
}

static void test_compare(void **state)
{
    uint8_t a[DNS_NAME_MAXLEN], b[DNS_NAME_MAXLEN];
    wire("WWW.example.COM.", NULL, a);
    wire("www.EXAMPLE.com.", NULL, b);
    assert_true(dns_name_eq(a, b));
    assert_int_equal(dns_name_hash(a), dns_name_hash(b));
    assert_int_equal(dns_name_cmp(a, b), 0);
    wire("ww.example.com.", NULL, b);
    assert_false(dns_name_eq(a, b));
    uint8_t p[DNS_NAME_MAXLEN];
    wire("Example.com.", NULL, p);
    assert_true(dns_name_is_sub(a, p));
    assert_true(dns_name_is_sub(p, p));
    assert_false(dns_name_is_sub(p, a));
    wire("ample.com.", NULL, b);
    assert_false(dns_name_is_sub(a, b)); /* label boundaries, not string suffixes */
    wire(".", NULL, b);
    assert_true(dns_name_is_sub(a, b));
    assert_int_equal(dns_name_labels(a), 3);
    assert_int_equal(dns_name_labels(b), 0);
    assert_true(dns_name_eq(dns_name_parent(a), p));
    assert_null(dns_name_parent(b));
    assert_true(dns_name_eq(dns_name_skip(a, 3), b));
    wire("*.example.com.", NULL, b);
    assert_true(dns_name_is_wild(b));
    assert_false(dns_name_is_wild(a));
    dns_name_lower(a);
    assert_memory_equal(a, "\3www\7example\3com\0", 17);
}

/* RFC 4034 §6.1's example, already in canonical order. */
static void test_canonical_order(void **state)
{
    static const char *const sorted[] = {
        "example.",         "a.example.",      "yljkjljk.a.example.",
        "Z.a.example.",     "zABC.a.EXAMPLE.", "z.example.",
        "\\001.z.example.", "*.z.example.",    "\\200.z.example.",
    };
    size_t n = sizeof sorted / sizeof sorted[0];
    uint8_t w[16][DNS_NAME_MAXLEN];
    for (size_t i = 0; i < n; i++)
        wire(sorted[i], NULL, w[i]);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            int c = dns_name_cmp(w[i], w[j]);
            if (i < j)
                assert_true(c < 0);
            else if (i > j)
                assert_true(c > 0);
            else
                assert_int_equal(c, 0);
        }
}

static void test_concat_and_text_cap(void **state)
{
    uint8_t out[DNS_NAME_MAXLEN], suf[DNS_NAME_MAXLEN];
    size_t len;
    wire("example.", NULL, suf);
    assert_int_equal(dns_name_concat((const uint8_t *)"\1a", 2, suf, out, &len), 0);
    assert_int_equal(len, 11);
    assert_memory_equal(out, "\1a\7example\0", 11);
    char small[5];
    assert_int_equal(dns_name_to_text(out, small, sizeof small), 10);
    assert_string_equal(small, "a.ex");
    char root[2];
    assert_int_equal(dns_name_to_text((const uint8_t *)"", root, sizeof root), 1);
    assert_string_equal(root, ".");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_from_text),
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_compare),
        cmocka_unit_test(test_canonical_order),
        cmocka_unit_test(test_concat_and_text_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
