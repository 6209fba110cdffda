/* MTA-STS (src/mailauth/mtasts.c, RFC 8461): the _mta-sts TXT record, the policy file and
 * the MX patterns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/err.h"
#include "mailauth/mtasts.h"

#include <stdlib.h>
#include <string.h>

static bool pick(const char *a, const char *b, char id[33])
{
    const char *txt[2] = {a, b};
    size_t len[2] = {strlen(a), b ? strlen(b) : 0};
    return mtasts_txt_pick(txt, len, b ? 2 : 1, id);
}

static void test_txt(void **state)
{
    char id[33];
    assert_true(pick("v=STSv1; id=20260101T000000;", NULL, id));
    assert_string_equal(id, "20260101T000000");
    assert_true(pick("v=spf1 -all", "v=STSv1;id=abc", id)); /* other records ignored */
    assert_string_equal(id, "abc");
    assert_false(pick("v=STSv1; id=a", "v=STSv1; id=b", id)); /* §3.1: two -> none */
    assert_false(pick("v=STSv1;", NULL, id));                 /* no id */
    assert_false(pick("v=STSv1; id=has-dash", NULL, id));     /* id is ALPHA / DIGIT */
    assert_false(pick("v=STSv1; id=123456789012345678901234567890123", NULL, id)); /* 33 */
    assert_false(pick("v=STSv10; id=a", NULL, id));
    assert_false(pick("V=STSv1; id=a", NULL, id));
}

static void test_policy(void **state)
{
    struct mtasts_policy p;
    const char *why = NULL;
    const char *ok = "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\n"
                     "mx: *.example.net\r\nmax_age: 604800\r\nfuture: ignored\r\n";
    assert_int_equal(mtasts_policy_parse(ok, strlen(ok), &p, &why), 0);
    assert_int_equal(p.mode, MTASTS_ENFORCE);
    assert_int_equal(p.max_age, 604800);
    assert_int_equal(p.nmx, 2);
    assert_string_equal(p.mx[1], "*.example.net");
    const char *lf = "version: STSv1\nmode: testing\nmx: MX.Example.COM.\nmax_age: 86400";
    assert_int_equal(mtasts_policy_parse(lf, strlen(lf), &p, &why), 0);
    assert_int_equal(p.mode, MTASTS_TESTING);
    assert_string_equal(p.mx[0], "mx.example.com");
    const char *none = "version: STSv1\nmode: none\nmax_age: 0\n";
    assert_int_equal(mtasts_policy_parse(none, strlen(none), &p, &why), 0);
    static const char *const bad[] = {
        "mode: enforce\nmx: a.example\nmax_age: 1\n",                 /* no version */
        "version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 1\n", /* version */
        "version: STSv1\nmode: strict\nmx: a.example\nmax_age: 1\n",  /* mode */
        "version: STSv1\nmode: enforce\nmax_age: 1\n",                /* no mx */
        "version: STSv1\nmode: enforce\nmx: a.example\n",             /* no max_age */
        "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 31557601\n",
        "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: -1\n",
        "version: STSv1\nmode: enforce\nmx: a b\nmax_age: 1\n",
        "version: STSv1\nmode: enforce\nmx: a.*.example\nmax_age: 1\n",
        "version: STSv1\nno colon\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why = NULL;
        assert_int_equal(mtasts_policy_parse(bad[i], strlen(bad[i]), &p, &why), ERR_PARSE);
        assert_non_null(why);
    }
    size_t big = MTASTS_MAX_POLICY + 1;
    char *b = malloc(big);
    memset(b, '\n', big);
    assert_int_equal(mtasts_policy_parse(b, big, &p, &why), ERR_LIMIT);
    free(b);
}

static void test_mx_match(void **state)
{
    struct mtasts_policy p;
    const char *why;
    const char *t = "version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\n"
                    "max_age: 1\n";
    assert_int_equal(mtasts_policy_parse(t, strlen(t), &p, &why), 0);
    assert_true(mtasts_mx_match(&p, "mail.example.com"));
    assert_true(mtasts_mx_match(&p, "MAIL.example.com."));
    assert_false(mtasts_mx_match(&p, "mail2.example.com"));
    assert_false(mtasts_mx_match(&p, "example.com"));
    assert_true(mtasts_mx_match(&p, "mx1.example.net"));
    assert_false(mtasts_mx_match(&p, "example.net"));          /* the wildcard needs a label */
    assert_false(mtasts_mx_match(&p, "a.b.example.net"));      /* exactly one label (§4.1) */
    assert_false(mtasts_mx_match(&p, "mx1.example.net.evil")); /* suffix, not substring */
    assert_false(mtasts_mx_match(&p, ""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_txt),
        cmocka_unit_test(test_policy),
        cmocka_unit_test(test_mx_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
