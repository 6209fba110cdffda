/*
 * Unit tests for src/net/acl: prefixes of every length, IPv4 and IPv6, IPv4-mapped IPv6
 * sources against IPv4 prefixes (what the resolver's old `allow` copy missed), text
 * addresses, words taken by the caller, and parse errors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "net/acl.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

static struct sockaddr_storage sa(const char *a)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    if (strchr(a, ':')) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        assert_int_equal(inet_pton(AF_INET6, a, &s6->sin6_addr), 1);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        assert_int_equal(inet_pton(AF_INET, a, &s4->sin_addr), 1);
    }
    return ss;
}

static bool match(const struct net_acl *acl, const char *a)
{
    struct sockaddr_storage ss = sa(a);
    return net_acl_match(acl, (struct sockaddr *)&ss);
}

/* The resolver's default: loopback only. */
static void test_loopback_default(void **state)
{
    struct net_acl acl;
    char bad[32];
    assert_int_equal(net_acl_parse("127.0.0.0/8 ::1/128", &acl, NULL, NULL, bad, sizeof bad), 0);
    assert_int_equal(acl.n, 2);
    assert_true(match(&acl, "127.0.0.1"));
    assert_true(match(&acl, "127.255.0.9"));
    assert_true(match(&acl, "::1"));
    assert_false(match(&acl, "128.0.0.1"));
    assert_false(match(&acl, "::2"));
    assert_false(match(&acl, "192.0.2.1"));
    /* a dual-stack socket reports an IPv4 client as ::ffff:a.b.c.d */
    assert_true(match(&acl, "::ffff:127.0.0.1"));
    assert_false(match(&acl, "::ffff:192.0.2.1"));
    /* ... but only in the mapped range: ::127.0.0.1 (compatible form) is not IPv4 */
    assert_false(match(&acl, "::127.0.0.1"));
    net_acl_clear(&acl);
}

static void test_prefix_lengths(void **state)
{
    struct net_acl acl;
    char bad[32];
    assert_int_equal(net_acl_parse("10.1.2.128/25, 2001:db8:ab00::/40\t192.0.2.7", &acl, NULL,
                                   NULL, bad, sizeof bad),
                     0);
    assert_int_equal(acl.n, 3);
    assert_true(match(&acl, "10.1.2.128"));
    assert_true(match(&acl, "10.1.2.255"));
    assert_false(match(&acl, "10.1.2.127"));
    assert_true(match(&acl, "::ffff:10.1.2.200"));
    assert_true(match(&acl, "2001:db8:abff::1"));
    assert_false(match(&acl, "2001:db8:ac00::1"));
    assert_true(match(&acl, "192.0.2.7"));
    assert_false(match(&acl, "192.0.2.8"));
    assert_true(net_acl_match_text(&acl, "192.0.2.7"));
    assert_true(net_acl_match_text(&acl, "::ffff:192.0.2.7"));
    assert_false(net_acl_match_text(&acl, "not an address"));
    net_acl_clear(&acl);
    /* /0 matches everything of its family (and mapped IPv4) */
    assert_int_equal(net_acl_parse("0.0.0.0/0", &acl, NULL, NULL, bad, sizeof bad), 0);
    assert_true(match(&acl, "203.0.113.1"));
    assert_true(match(&acl, "::ffff:203.0.113.1"));
    assert_false(match(&acl, "2001:db8::1"));
    net_acl_clear(&acl);
}

static void test_parse_errors(void **state)
{
    struct net_acl acl;
    char bad[32];
    const char *wrong[] = {"10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8x",
                           "300.0.0.1", "example.com", "1.2.3.4 nope"};
    for (size_t i = 0; i < sizeof wrong / sizeof *wrong; i++) {
        assert_int_not_equal(net_acl_parse(wrong[i], &acl, NULL, NULL, bad, sizeof bad), 0);
        assert_int_equal(acl.n, 0); /* nothing kept */
    }
    assert_string_equal(bad, "nope");
    /* empty and NULL: an empty list, which matches nobody */
    assert_int_equal(net_acl_parse(NULL, &acl, NULL, NULL, bad, sizeof bad), 0);
    assert_false(match(&acl, "127.0.0.1"));
    assert_int_equal(net_acl_parse(" , ", &acl, NULL, NULL, bad, sizeof bad), 0);
    assert_int_equal(acl.n, 0);
}

static int take_star(void *ctx, const char *w, size_t len)
{
    if (len == 1 && *w == '*') {
        ++*(int *)ctx;
        return 0;
    }
    return -1;
}

/* Words that are not addresses go to the caller's parser (the name server's key:NAME). */
static void test_other_words(void **state)
{
    struct net_acl acl;
    char bad[32];
    int stars = 0;
    assert_int_equal(net_acl_parse("* 192.0.2.0/24 *", &acl, take_star, &stars, bad, sizeof bad),
                     0);
    assert_int_equal(stars, 2);
    assert_int_equal(acl.n, 1);
    net_acl_clear(&acl);
    assert_int_not_equal(net_acl_parse("* +", &acl, take_star, &stars, bad, sizeof bad), 0);
    assert_string_equal(bad, "+");
}

/* Who counts as loopback for plaintext_auth = loopback (POP3, IMAP). */
static void test_addr_is_loopback(void **state)
{
    (void)state;
    assert_true(net_addr_is_loopback("127.0.0.1"));
    assert_true(net_addr_is_loopback("127.255.0.9"));
    assert_true(net_addr_is_loopback("::1"));
    assert_true(net_addr_is_loopback("::ffff:127.0.0.2"));
    assert_false(net_addr_is_loopback("128.0.0.1"));
    assert_false(net_addr_is_loopback("10.127.0.1"));
    assert_false(net_addr_is_loopback("::2"));
    assert_false(net_addr_is_loopback("::ffff:10.0.0.1"));
    assert_false(net_addr_is_loopback("fd00::1"));
    assert_false(net_addr_is_loopback("localhost"));
    assert_false(net_addr_is_loopback(""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loopback_default),
        cmocka_unit_test(test_prefix_lengths),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_other_words),
        cmocka_unit_test(test_addr_is_loopback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
