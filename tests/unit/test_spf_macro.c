/* RFC 7208 §7.4's macro examples, and the syntax errors that make a permerror. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "spf/spf.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

static struct sockaddr_in ip4;
static struct sockaddr_in6 ip6;

static void expect(const struct sockaddr *ip, const char *in, const char *want)
{
    struct spf_macro_ctx x = {"strong-bad@email.example.com", "strong-bad", "email.example.com",
                              "email.example.com", ip, "mx.example.org", "mx.test", NULL};
    struct str out = STR_INIT;
    assert_int_equal(spf_macro_expand(in, strlen(in), &x, false, &out), 0);
    assert_string_equal(str_cstr(&out), want);
    str_clear(&out);
}

static void test_rfc_examples(void **state)
{
    const struct sockaddr *a = (const struct sockaddr *)&ip4;
    expect(a, "%{s}", "strong-bad@email.example.com");
    expect(a, "%{o}", "email.example.com");
    expect(a, "%{d}", "email.example.com");
    expect(a, "%{d4}", "email.example.com");
    expect(a, "%{d3}", "email.example.com");
    expect(a, "%{d2}", "example.com");
    expect(a, "%{d1}", "com");
    expect(a, "%{dr}", "com.example.email");
    expect(a, "%{d2r}", "example.email");
    expect(a, "%{l}", "strong-bad");
    expect(a, "%{l-}", "strong.bad");
    expect(a, "%{lr}", "strong-bad");
    expect(a, "%{lr-}", "bad.strong");
    expect(a, "%{l1r-}", "strong");
    expect(a, "%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com");
    expect(a, "%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com");
    expect(a, "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}",
           "bad.strong.lp.3.2.0.192.in-addr._spf.example.com");
    expect(a, "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}",
           "3.2.0.192.in-addr.strong.lp._spf.example.com");
    expect(a, "%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net");
    expect(a, "a%%b%_c%-d", "a%b c%20d");
    expect((const struct sockaddr *)&ip6, "%{ir}.%{v}._spf.%{d2}",
           "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com");
}

static void test_errors(void **state)
{
    struct spf_macro_ctx x = {"a@b", "a", "b", "b", (const struct sockaddr *)&ip4, "h", "r", NULL};
    const char *bad[] = {"%", "%x", "%{", "%{q}", "%{d2x}", "%{c}", "%{d", NULL};
    for (int i = 0; bad[i]; i++) {
        struct str out = STR_INIT;
        assert_int_equal(spf_macro_expand(bad[i], strlen(bad[i]), &x, false, &out), -3);
        str_clear(&out);
    }
    struct str out = STR_INIT; /* %{c} is fine in explanations */
    assert_int_equal(spf_macro_expand("%{c}", 4, &x, true, &out), 0);
    assert_string_equal(str_cstr(&out), "192.0.2.3");
    str_clear(&out);
}

int main(void)
{
    ip4.sin_family = AF_INET;
    inet_pton(AF_INET, "192.0.2.3", &ip4.sin_addr);
    ip6.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "2001:db8::cb01", &ip6.sin6_addr);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc_examples),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
