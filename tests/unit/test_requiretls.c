/* mailauth/requiretls: the TLS-Required header field of RFC 8689 §3. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mailauth/requiretls.h"

#include <string.h>

static bool says_no(const char *msg)
{
    return requiretls_header_no(msg, strlen(msg));
}

static void test_field_forms(void **state)
{
    assert_true(says_no("From: a@b\r\nTLS-Required: No\r\nSubject: x\r\n\r\nbody\r\n"));
    assert_true(says_no("tls-required:no\r\n\r\n"));
    assert_true(says_no("TLS-REQUIRED :  NO  \r\n\r\n"));
    assert_true(says_no("Subject: x\r\nTLS-Required:\r\n No\r\n\r\n")); /* folded */
    assert_true(says_no("TLS-Required: No\n\nbody\n"));                 /* LF only */
    assert_true(says_no("TLS-Required: No"));                           /* no line end */
}

static void test_not_no(void **state)
{
    assert_false(says_no(""));
    assert_false(says_no("Subject: x\r\n\r\n"));
    assert_false(says_no("TLS-Required: Yes\r\n\r\n")); /* §3: "No" is the only value */
    assert_false(says_no("TLS-Required: No thanks\r\n\r\n"));
    assert_false(says_no("TLS-Required: Nope\r\n\r\n"));
    assert_false(says_no("TLS-Required:\r\n\r\n"));
    assert_false(says_no("X-TLS-Required: No\r\n\r\n"));
    assert_false(says_no("TLS-Required-X: No\r\n\r\n"));
    assert_false(says_no("Subject: x\r\n TLS-Required: No\r\n\r\n")); /* a continuation */
    /* only the header block counts */
    assert_false(says_no("Subject: x\r\n\r\nTLS-Required: No\r\n"));
    assert_false(says_no("\r\nTLS-Required: No\r\n"));
}

/* Every prefix of a message is read without running past its end (ASan checks). */
static void test_every_prefix(void **state)
{
    const char *m = "From: a@b\r\nTLS-Required:\r\n\tNo\r\nSubject: s\r\n\r\nbody\r\n";
    size_t n = strlen(m);
    for (size_t i = 0; i <= n; i++) {
        char *copy = test_malloc(i ? i : 1);
        memcpy(copy, m, i);
        bool r = requiretls_header_no(copy, i);
        test_free(copy);
        if (i >= strlen("From: a@b\r\nTLS-Required:\r\n\tNo"))
            assert_true(r);
        else
            assert_false(r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_field_forms),
        cmocka_unit_test(test_not_no),
        cmocka_unit_test(test_every_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
