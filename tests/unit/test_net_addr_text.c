/* conn_addr_text: a peer's address as text (IPv4 written without inet_ntop; IPv4-mapped IPv6
 * shown as IPv4), the same text as inet_ntop gives. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "net/conn.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

static void v4_text(const unsigned char b[4], char *out, size_t cap)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    memcpy(&sa.sin_addr, b, 4);
    conn_addr_text((const struct sockaddr *)&sa, out, cap);
}

/* Every value of every octet, at each of the four places, against inet_ntop. */
static void test_ipv4_as_inet_ntop(void **state)
{
    for (int place = 0; place < 4; place++)
        for (int v = 0; v < 256; v++) {
            unsigned char b[4] = {10, 0, 100, 9};
            b[place] = (unsigned char)v;
            char got[INET6_ADDRSTRLEN], want[INET6_ADDRSTRLEN];
            v4_text(b, got, sizeof got);
            assert_non_null(inet_ntop(AF_INET, b, want, sizeof want));
            assert_string_equal(got, want);
        }
    char out[INET_ADDRSTRLEN];
    v4_text((const unsigned char[]){255, 255, 255, 255}, out, sizeof out); /* exactly fits */
    assert_string_equal(out, "255.255.255.255");
    v4_text((const unsigned char[]){0, 0, 0, 0}, out, sizeof out);
    assert_string_equal(out, "0.0.0.0");
}

static void test_ipv4_too_small(void **state)
{
    char out[8] = "xxxxxxx";
    v4_text((const unsigned char[]){192, 0, 2, 1}, out, sizeof out);
    assert_string_equal(out, ""); /* never a cut address */
}

static void v6_text(const char *addr, char *out, size_t cap)
{
    struct sockaddr_in6 sa = {.sin6_family = AF_INET6};
    assert_int_equal(inet_pton(AF_INET6, addr, &sa.sin6_addr), 1);
    conn_addr_text((const struct sockaddr *)&sa, out, cap);
}

static void test_ipv6(void **state)
{
    char out[INET6_ADDRSTRLEN];
    v6_text("::ffff:192.0.2.77", out, sizeof out); /* a dual-stack socket's IPv4 client */
    assert_string_equal(out, "192.0.2.77");
    v6_text("2001:db8::1", out, sizeof out);
    assert_string_equal(out, "2001:db8::1");
    v6_text("::1", out, sizeof out);
    assert_string_equal(out, "::1");
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    conn_addr_text((const struct sockaddr *)&un, out, sizeof out);
    assert_string_equal(out, "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4_as_inet_ntop),
        cmocka_unit_test(test_ipv4_too_small),
        cmocka_unit_test(test_ipv6),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
