/* Unit tests for dns/resolver/stub: a stub freed while its queries are still out (pigeond
 * stopping while the queue runner waits for an MX, TXT or A/AAAA answer) cancels them, calls
 * no callback and leaves nothing allocated (LeakSanitizer checks at exit). The server is a
 * bound UDP socket that never answers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "dns/resolver/stub.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int called;

static void on_txt(void *arg, const struct dns_stub_txt_result *r)
{
    called++;
}

static void on_mx(void *arg, const struct dns_stub_mx_result *r)
{
    called++;
}

static void on_addr(void *arg, const struct dns_stub_addr_result *r)
{
    called++;
}

static void test_free_with_queries_out(void **state)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    struct event_base *base = event_base_new();
    struct dns_stub *s = dns_stub_new_server(base, (struct sockaddr *)&sa, len);
    assert_non_null(s);
    dns_stub_txt(s, "_mta-sts.example.org", on_txt, NULL);
    dns_stub_mx(s, "example.org", on_mx, NULL);
    dns_stub_addr(s, "mx.example.org", DNS_STUB_ANY, on_addr, NULL);
    /* the queries leave; nothing answers them */
    event_base_loop(base, EVLOOP_NONBLOCK);
    char buf[512];
    assert_true(recv(fd, buf, sizeof buf, 0) > 0);
    dns_stub_free(s);
    event_base_loop(base, EVLOOP_NONBLOCK);
    assert_int_equal(called, 0);
    event_base_free(base);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_free_with_queries_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
