/* dhcp/ratelimit: the burst, the refill at `rate` per second, separate keys, a full table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dhcp/ratelimit.h"

static void test_burst_and_refill(void **state)
{
    struct dhcp_ratelimit *rl = dhcp_ratelimit_new(2, 3, 64);
    const uint8_t a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {1, 2, 3, 4, 5, 7};
    for (int i = 0; i < 3; i++)
        assert_true(dhcp_ratelimit_allow(rl, a, 6, 1000));
    assert_false(dhcp_ratelimit_allow(rl, a, 6, 1000));
    assert_true(dhcp_ratelimit_allow(rl, b, 6, 1000)); /* another client is not affected */
    assert_false(dhcp_ratelimit_allow(rl, a, 6, 1400)); /* 0.8 of a token */
    assert_true(dhcp_ratelimit_allow(rl, a, 6, 1500));
    assert_false(dhcp_ratelimit_allow(rl, a, 6, 1500));
    assert_true(dhcp_ratelimit_allow(rl, a, 6, 100000)); /* refilled, capped at the burst */
    assert_true(dhcp_ratelimit_allow(rl, a, 6, 100000));
    assert_true(dhcp_ratelimit_allow(rl, a, 6, 100000));
    assert_false(dhcp_ratelimit_allow(rl, a, 6, 100000));
    dhcp_ratelimit_free(rl);
}

static void test_full_table_and_off(void **state)
{
    struct dhcp_ratelimit *rl = dhcp_ratelimit_new(1, 1, 8);
    for (uint32_t i = 0; i < 10000; i++) /* many keys: the table stays its size */
        assert_true(dhcp_ratelimit_allow(rl, (const uint8_t *)&i, 4, 5000 + i));
    dhcp_ratelimit_free(rl);
    rl = dhcp_ratelimit_new(0, 0, 8);
    for (int i = 0; i < 100; i++)
        assert_true(dhcp_ratelimit_allow(rl, (const uint8_t *)"x", 1, 1));
    dhcp_ratelimit_free(rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_and_refill),
        cmocka_unit_test(test_full_table_and_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
