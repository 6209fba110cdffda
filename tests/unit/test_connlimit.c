/* core/connlimit: counting per key, and the address part that counts (IPv6 by /64). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/connlimit.h"

#include <arpa/inet.h>
#include <string.h>

static void test_addr_key(void **state)
{
    char k[INET6_ADDRSTRLEN + 4];
    connlimit_addr_key("192.0.2.7", k, sizeof k);
    assert_string_equal(k, "192.0.2.7");
    /* Issue 10 item 2: every address of one /64 counts as one client. */
    connlimit_addr_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd", k, sizeof k);
    assert_string_equal(k, "2001:db8:1:2::/64");
    char k2[INET6_ADDRSTRLEN + 4];
    connlimit_addr_key("2001:db8:1:2::1", k2, sizeof k2);
    assert_string_equal(k, k2);
    connlimit_addr_key("2001:db8:1:3::1", k2, sizeof k2);
    assert_string_not_equal(k, k2);
    connlimit_addr_key("::1", k, sizeof k);
    assert_string_equal(k, "::/64");
    connlimit_addr_key("unknown", k, sizeof k);
    assert_string_equal(k, "unknown");
}

static void test_acquire_release(void **state)
{
    struct connlimit *cl = connlimit_new();
    assert_true(connlimit_acquire(cl, "*|2001:db8::/64", 2));
    assert_true(connlimit_acquire(cl, "*|2001:db8::/64", 2));
    assert_false(connlimit_acquire(cl, "*|2001:db8::/64", 2));
    assert_true(connlimit_acquire(cl, "*|192.0.2.7", 2));
    connlimit_release(cl, "*|2001:db8::/64");
    assert_true(connlimit_acquire(cl, "*|2001:db8::/64", 2));
    connlimit_release(cl, "never acquired"); /* a no-op */
    connlimit_free(cl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addr_key),
        cmocka_unit_test(test_acquire_release),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
