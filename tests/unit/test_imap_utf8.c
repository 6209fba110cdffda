/*
 * UTF8=ACCEPT (RFC 6855) through fakes/fake_imap: before ENABLE mailbox names travel in
 * modified UTF-7; after it in UTF-8 both ways (CREATE, LIST, SELECT, STATUS), and APPEND takes
 * UTF8 (literal8).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/xmalloc.h"
#include "fakes/fake_imap.h"
#include "imap_expect.h"

#include <stdlib.h>
#include <string.h>

static void test_utf8_accept(void **state)
{
    struct fake_imap f;
    fake_imap_init(&f, false, true, 0);
    expect(&f, "a LOGIN bob hungry\r\n", "a OK");
    expect(&f, "c CAPABILITY\r\n", " UTF8=ACCEPT");
    /* modified UTF-7 first: "caf&AOk-" is café */
    expect(&f, "b CREATE caf&AOk-\r\n", "b OK");
    expect(&f, "c LIST \"\" caf*\r\n", "* LIST (\\HasNoChildren) \"/\" \"caf&AOk-\"\r\n");
    /* an APPEND in UTF8 (...) is not taken before ENABLE */
    expect(&f, "d APPEND INBOX UTF8 (~{9+}\r\nA: \xc3\xa9\r\n\r\n)\r\n", "d BAD");
    expect(&f, "e ENABLE UTF8=ACCEPT\r\n", "* ENABLED UTF8=ACCEPT\r\ne OK");
    expect_not(&f, "f ENABLE UTF8=ACCEPT\r\n", "* ENABLED UTF8=ACCEPT");
    /* now UTF-8: the same mailbox; "&" is a plain character */
    char *got = send(&f, "g LIST \"\" caf*\r\n");
    assert_non_null(strstr(got, "caf\xc3\xa9"));
    assert_null(strstr(got, "&AOk-"));
    free(got);
    expect(&f, "h STATUS \"caf\xc3\xa9\" (MESSAGES)\r\n", "h OK");
    expect(&f, "i CREATE \"a&b\"\r\n", "i OK");
    expect(&f, "j SELECT \"a&b\"\r\n", "j OK");
    expect(&f, "k APPEND \"caf\xc3\xa9\" UTF8 (~{22+}\r\nSubject: \xc3\xa9t\xc3\xa9\r\n\r\nhi\r\n)\r\n",
           "k OK [APPENDUID");
    expect(&f, "l APPEND \"caf\xc3\xa9\" UTF8 ({2+}\r\nhi {2+}\r\nho)\r\n", "l BAD");
    fake_imap_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_accept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
