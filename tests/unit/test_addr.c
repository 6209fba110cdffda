/* Unit tests for msg/addr: RFC 5321 paths, limits, UTF-8 gating, formatting. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/err.h"
#include "msg/addr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parses a whole path and checks every byte was consumed. */
static int path(const char *s, unsigned flags, struct mail_addr *a)
{
    size_t used = 0;
    const char *why = NULL;
    int rc = mail_addr_parse_path(s, strlen(s), flags, a, &used, &why);
    if (rc == 0)
        assert_int_equal(used, strlen(s));
    else
        assert_non_null(why);
    return rc;
}

static void test_simple(void **state)
{
    struct mail_addr a;
    assert_int_equal(path("<alice@crepes.fr>", 0, &a), 0);
    assert_string_equal(a.local, "alice");
    assert_string_equal(a.domain, "crepes.fr");
    assert_false(a.quoted);
    assert_false(a.is_null);
    assert_false(a.utf8);
    assert_int_equal(path("<bob@hamburger.edu>", 0, &a), 0);
    assert_string_equal(a.local, "bob");
    assert_int_equal(path("<First.Last+tag!#$%&'*/=?^_`{|}~-@a-b.C0m>", 0, &a), 0);
    assert_string_equal(a.local, "First.Last+tag!#$%&'*/=?^_`{|}~-");
    assert_string_equal(a.domain, "a-b.C0m");
}

static void test_consumed_stops_at_params(void **state)
{
    struct mail_addr a;
    size_t used = 0;
    const char *s = "<a@b.c> SIZE=100";
    assert_int_equal(mail_addr_parse_path(s, strlen(s), 0, &a, &used, NULL), 0);
    assert_int_equal(used, 7);
    s = "a@b.c SIZE=100";
    assert_int_equal(
        mail_addr_parse_path(s, strlen(s), MAIL_ADDR_ALLOW_NO_BRACKETS, &a, &used, NULL), 0);
    assert_int_equal(used, 5);
    assert_string_equal(a.domain, "b.c");
}

static void test_bad_syntax(void **state)
{
    static const char *bad[] = {
        "",
        "<",
        "<>x",
        "<a@b",
        "a@b",
        "<@>",
        "<a@>",
        "<@b>",
        "<a.@b>",
        "<.a@b>",
        "<a..b@c>",
        "<a b@c>",
        "<a@b..c>",
        "<a@b.>",
        "<a@.b>",
        "<a@-b>",
        "<a@b->",
        "<a@b_c>",
        "<a@@b>",
        "<a@b@c>",
        "<\"a@b>",
        "<a@[1.2.3]>",
        "<a@[1.2.3.256]>",
        "<a@[x]>",
        "<a@[IPv6:zz]>",
        "<a@[1.2.3.4>",
        "<a@[tag:foo]>",
        "<@a:>",
        "<@a,b:c@d>",
        "<@a c@d>",
        "<a(b)@c>",
        "<\"a\\\x01\"@b>",
        "<\"a\x01\"@b>",
        "< a@b>",
        "<a@b >",
        "<a\x80@b>",
        "<a@b\x00>",
        "<postmaster>",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct mail_addr a;
        size_t used = 0;
        const char *why = NULL;
        const char *s = bad[i];
        int rc = mail_addr_parse_path(s, strlen(s), 0, &a, &used, &why);
        if (rc == 0)
            fail_msg("accepted %s", s);
        assert_non_null(why);
    }
}

static void test_trailing_left_to_caller(void **state)
{
    struct mail_addr a;
    size_t used = 0;
    assert_int_equal(mail_addr_parse_path("<a@b>>", 6, 0, &a, &used, NULL), 0);
    assert_int_equal(used, 5);
}

static void test_null_path(void **state)
{
    struct mail_addr a;
    assert_int_equal(path("<>", 0, &a), ERR_PARSE);
    assert_int_equal(path("<>", MAIL_ADDR_ALLOW_NULL, &a), 0);
    assert_true(a.is_null);
    char buf[8];
    assert_int_equal(mail_addr_format(&a, buf, sizeof buf), 0);
    assert_string_equal(buf, "");
    assert_int_equal(mail_addr_parse("", 0, MAIL_ADDR_ALLOW_NULL, &a, NULL), 0);
    assert_true(a.is_null);
    assert_int_equal(mail_addr_parse("", 0, 0, &a, NULL), ERR_PARSE);
}

static void test_postmaster(void **state)
{
    struct mail_addr a;
    assert_int_equal(path("<postmaster>", 0, &a), ERR_PARSE);
    assert_int_equal(path("<PostMaster>", MAIL_ADDR_ALLOW_POSTMASTER, &a), 0);
    assert_string_equal(a.local, "PostMaster");
    assert_string_equal(a.domain, "");
    assert_int_equal(path("<Postmaster@hamburger.edu>", MAIL_ADDR_ALLOW_POSTMASTER, &a), 0);
    assert_string_equal(a.domain, "hamburger.edu");
    assert_int_equal(path("<postmasterx>", MAIL_ADDR_ALLOW_POSTMASTER, &a), ERR_PARSE);
    assert_int_equal(
        path("postmaster", MAIL_ADDR_ALLOW_POSTMASTER | MAIL_ADDR_ALLOW_NO_BRACKETS, &a), 0);
    char buf[32];
    mail_addr_format(&a, buf, sizeof buf);
    assert_string_equal(buf, "postmaster");
}

static void test_no_brackets(void **state)
{
    struct mail_addr a;
    assert_int_equal(path("alice@crepes.fr", 0, &a), ERR_PARSE);
    assert_int_equal(path("alice@crepes.fr", MAIL_ADDR_ALLOW_NO_BRACKETS, &a), 0);
    assert_string_equal(a.local, "alice");
    assert_int_equal(mail_addr_parse("alice@crepes.fr", 15, 0, &a, NULL), 0);
    assert_int_equal(mail_addr_parse("alice@crepes.fr x", 17, 0, &a, NULL), ERR_PARSE);
    assert_int_equal(mail_addr_parse("<alice@crepes.fr>", 17, 0, &a, NULL), ERR_PARSE);
}

static void test_quoted(void **state)
{
    struct mail_addr a;
    char buf[128];
    assert_int_equal(path("<\"john smith\"@example.com>", 0, &a), 0);
    assert_string_equal(a.local, "john smith");
    assert_true(a.quoted);
    mail_addr_format(&a, buf, sizeof buf);
    assert_string_equal(buf, "\"john smith\"@example.com");

    /* Quotes that were not needed are dropped. */
    assert_int_equal(path("<\"bob\"@example.com>", 0, &a), 0);
    assert_string_equal(a.local, "bob");
    assert_false(a.quoted);
    mail_addr_format(&a, buf, sizeof buf);
    assert_string_equal(buf, "bob@example.com");

    assert_int_equal(path("<\"a\\\"b\\\\c@d\"@e.f>", 0, &a), 0);
    assert_string_equal(a.local, "a\"b\\c@d");
    assert_true(a.quoted);
    mail_addr_format(&a, buf, sizeof buf);
    assert_string_equal(buf, "\"a\\\"b\\\\c@d\"@e.f");

    assert_int_equal(path("<\"\"@e.f>", 0, &a), 0);
    assert_string_equal(a.local, "");
    assert_true(a.quoted);
    mail_addr_format(&a, buf, sizeof buf);
    assert_string_equal(buf, "\"\"@e.f");

    assert_int_equal(path("<\"a..b\"@e.f>", 0, &a), 0);
    assert_true(a.quoted);
    assert_int_equal(path("<\"\\x\"@e.f>", 0, &a), 0);
    assert_string_equal(a.local, "x");
    assert_false(a.quoted);
}

static void test_local_limit(void **state)
{
    char s[200], local[80];
    struct mail_addr a;
    memset(local, 'x', 64);
    local[64] = '\0';
    snprintf(s, sizeof s, "<%s@example.com>", local);
    assert_int_equal(path(s, 0, &a), 0);
    assert_int_equal(strlen(a.local), 64);
    local[64] = 'x';
    local[65] = '\0';
    snprintf(s, sizeof s, "<%s@example.com>", local);
    assert_int_equal(path(s, 0, &a), ERR_PARSE);
    /* The limit is on the decoded local part. */
    memset(local, 'x', 64);
    local[64] = '\0';
    snprintf(s, sizeof s, "<\"%s\"@example.com>", local);
    assert_int_equal(path(s, 0, &a), 0);
    snprintf(s, sizeof s, "<\"%sx\"@example.com>", local);
    assert_int_equal(path(s, 0, &a), ERR_PARSE);
}

/* Builds "<x@" + labels + ">" where the domain is exactly dlen octets. */
static void make_domain(char *out, size_t dlen)
{
    char *p = out;
    *p++ = '<';
    *p++ = 'x';
    *p++ = '@';
    for (size_t i = 0; i < dlen; i++)
        *p++ = (i % 50 == 49) ? '.' : 'd';
    *p++ = '>';
    *p = '\0';
}

static void test_domain_limits(void **state)
{
    char s[600];
    struct mail_addr a;
    char label[70];
    memset(label, 'a', 63);
    label[63] = '\0';
    snprintf(s, sizeof s, "<x@%s.com>", label);
    assert_int_equal(path(s, 0, &a), 0);
    snprintf(s, sizeof s, "<x@%sa.com>", label);
    assert_int_equal(path(s, 0, &a), ERR_PARSE);

    make_domain(s, 252); /* path = "<x@" + 252 + ">" = 256 */
    assert_int_equal(path(s, 0, &a), 0);
    assert_int_equal(strlen(a.domain), 252);
    make_domain(s, 253); /* path 257 */
    assert_int_equal(path(s, 0, &a), ERR_PARSE);
    make_domain(s, 256); /* over the domain limit too */
    assert_int_equal(path(s, 0, &a), ERR_PARSE);
    make_domain(s, 500);
    assert_int_equal(path(s, 0, &a), ERR_PARSE);
}

static void test_literals(void **state)
{
    struct mail_addr a;
    assert_int_equal(path("<a@[192.0.2.1]>", 0, &a), 0);
    assert_string_equal(a.domain, "[192.0.2.1]");
    assert_int_equal(path("<a@[IPv6:2001:db8::1]>", 0, &a), 0);
    assert_string_equal(a.domain, "[IPv6:2001:db8::1]");
    assert_int_equal(path("<a@[ipv6:::ffff:192.0.2.1]>", 0, &a), 0);
    assert_int_equal(path("<a@[IPv6:1:2:3:4:5:6:7:8]>", 0, &a), 0);
    assert_int_equal(path("<a@[IPv6:1:2:3:4:5:6:7:8:9]>", 0, &a), ERR_PARSE);
    assert_int_equal(path("<a@[001.002.003.004]>", 0, &a), 0);
    assert_int_equal(path("<a@[1.2.3.4.5]>", 0, &a), ERR_PARSE);
    assert_int_equal(path("<a@[1234.2.3.4]>", 0, &a), ERR_PARSE);
    char buf[64];
    assert_int_equal(path("<a@[192.0.2.1]>", 0, &a), 0);
    mail_addr_format(&a, buf, sizeof buf);
    assert_string_equal(buf, "a@[192.0.2.1]");
}

static void test_source_route(void **state)
{
    struct mail_addr a;
    assert_int_equal(path("<@a,@b:user@c>", 0, &a), 0);
    assert_string_equal(a.local, "user");
    assert_string_equal(a.domain, "c");
    assert_int_equal(path("<@relay.example:user@c.d>", 0, &a), 0);
    assert_string_equal(a.domain, "c.d");
    assert_int_equal(path("<@[1.2.3.4]:user@c>", 0, &a), 0);
    assert_int_equal(path("<@a,:user@c>", 0, &a), ERR_PARSE);
    /* A UTF-8 route is gated like the rest but leaves no utf8 mark (found by fuzzing). */
    assert_int_equal(path("<@a\xd4\xb5"
                          "b:user@c>",
                          0, &a),
                     ERR_RANGE);
    assert_int_equal(path("<@a\xd4\xb5"
                          "b:user@c>",
                          MAIL_ADDR_ALLOW_UTF8, &a),
                     0);
    assert_false(a.utf8);
    assert_int_equal(path("<@a:>", 0, &a), ERR_PARSE);
}

static void test_utf8(void **state)
{
    struct mail_addr a;
    const char *s = "<j\xc3\xb6rg@b\xc3\xbc"
                    "cher.de>";
    assert_int_equal(path(s, 0, &a), ERR_RANGE);
    assert_int_equal(path(s, MAIL_ADDR_ALLOW_UTF8, &a), 0);
    assert_true(a.utf8);
    assert_string_equal(a.local, "j\xc3\xb6rg");
    assert_string_equal(a.domain, "b\xc3\xbc"
                                  "cher.de");
    /* in a quoted string too */
    assert_int_equal(path("<\"\xe2\x82\xac x\"@a.b>", 0, &a), ERR_RANGE);
    assert_int_equal(path("<\"\xe2\x82\xac x\"@a.b>", MAIL_ADDR_ALLOW_UTF8, &a), 0);
    assert_true(a.quoted);
    /* 4-octet sequence */
    assert_int_equal(path("<\xf0\x9f\x90\xa6@a.b>", MAIL_ADDR_ALLOW_UTF8, &a), 0);
    /* malformed: overlong, surrogate, truncated, stray continuation, > U+10FFFF */
    static const char *bad[] = {"<\xc0\xafx@a.b>",    "<\xed\xa0\x80@a.b>",     "<\xe2\x82@a.b>",
                                "<\x80@a.b>",         "<\xf4\x90\x80\x80@a.b>", "<a@b\xc3>",
                                "<\xe0\x80\x80@a.b>", "<\xf0\x80\x80\x80@a.b>", "<\xff@a.b>"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(path(bad[i], MAIL_ADDR_ALLOW_UTF8, &a), ERR_PARSE);
        assert_int_equal(path(bad[i], 0, &a), ERR_RANGE);
    }
}

static void test_format_truncation(void **state)
{
    struct mail_addr a;
    assert_int_equal(path("<alice@crepes.fr>", 0, &a), 0);
    char buf[8];
    memset(buf, '#', sizeof buf);
    assert_int_equal(mail_addr_format(&a, buf, sizeof buf), 15);
    assert_string_equal(buf, "alice@c");
    assert_int_equal(mail_addr_format(&a, NULL, 0), 15);
    char big[16];
    assert_int_equal(mail_addr_format(&a, big, sizeof big), 15);
    assert_string_equal(big, "alice@crepes.fr");

    /* A hand-built address that needs quoting is quoted even without the flag. */
    struct mail_addr h;
    memset(&h, 0, sizeof h);
    strcpy(h.local, "a b");
    strcpy(h.domain, "x.y");
    char out[32];
    mail_addr_format(&h, out, sizeof out);
    assert_string_equal(out, "\"a b\"@x.y");
}

/* Round trip: format then parse gives the same address. */
static void test_roundtrip(void **state)
{
    static const char *in[] = {"<a@b.c>",       "<\"a b\"@c.d>", "<\"x\\\"y\"@z>",
                               "<a@[1.2.3.4]>", "<\"\\\\\"@q>",  "<\".a\"@b>"};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        struct mail_addr a, b;
        char buf[300];
        assert_int_equal(path(in[i], 0, &a), 0);
        size_t n = mail_addr_format(&a, buf, sizeof buf);
        assert_int_equal(mail_addr_parse(buf, n, 0, &b, NULL), 0);
        assert_string_equal(a.local, b.local);
        assert_string_equal(a.domain, b.domain);
        assert_int_equal(a.quoted, b.quoted);
    }
}

/* Every prefix of valid input is parsed in its own exact-size buffer (ASan checks reads). */
static void test_every_prefix(void **state)
{
    static const char *in[] = {"<@a,@b:\"q \\\" x\"@[IPv6:2001:db8::1]> SIZE=1",
                               "<j\xc3\xb6rg@b\xc3\xbc"
                               "cher.de>",
                               "<postmaster>",
                               "<>",
                               "a@b.c d",
                               "<a@[1.2.3.4]>"};
    unsigned flags = MAIL_ADDR_ALLOW_NULL | MAIL_ADDR_ALLOW_UTF8 | MAIL_ADDR_ALLOW_POSTMASTER |
                     MAIL_ADDR_ALLOW_NO_BRACKETS;
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        size_t len = strlen(in[i]);
        for (size_t k = 0; k <= len; k++) {
            char *copy = malloc(k ? k : 1);
            memcpy(copy, in[i], k);
            struct mail_addr a;
            size_t used = 0;
            const char *why = NULL;
            if (mail_addr_parse_path(copy, k, flags, &a, &used, &why) == 0)
                assert_true(used <= k);
            else
                assert_non_null(why);
            (void)mail_addr_parse(copy, k, flags, &a, &why);
            free(copy);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple),      cmocka_unit_test(test_consumed_stops_at_params),
        cmocka_unit_test(test_bad_syntax),  cmocka_unit_test(test_trailing_left_to_caller),
        cmocka_unit_test(test_null_path),   cmocka_unit_test(test_postmaster),
        cmocka_unit_test(test_no_brackets), cmocka_unit_test(test_quoted),
        cmocka_unit_test(test_local_limit), cmocka_unit_test(test_domain_limits),
        cmocka_unit_test(test_literals),    cmocka_unit_test(test_source_route),
        cmocka_unit_test(test_utf8),        cmocka_unit_test(test_format_truncation),
        cmocka_unit_test(test_roundtrip),   cmocka_unit_test(test_every_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
