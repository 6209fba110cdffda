/* Unit tests for msg/header: header end, field lookup, RFC 5322 dates. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "msg/header.h"

#include <stdlib.h>
#include <string.h>

static size_t hend(const char *s)
{
    return msg_header_end(s, strlen(s));
}

static void test_header_end(void **state)
{
    assert_int_equal(hend("A: 1\r\nB: 2\r\n\r\nbody"), 14);
    assert_int_equal(hend("A: 1\nB: 2\n\nbody"), 11);
    assert_int_equal(hend("A: 1\r\n\r\n"), 8);
    assert_int_equal(hend("\r\nbody"), 2);
    assert_int_equal(hend("\nbody"), 1);
    assert_int_equal(hend("A: 1\r\nB: 2\r\n"), 12); /* no separator: all header */
    assert_int_equal(hend("A: 1"), 4);
    assert_int_equal(hend(""), 0);
    assert_int_equal(hend("A: 1\r\n \r\nB: 2\r\n\r\n"), 17); /* WSP line is not empty */
    assert_int_equal(hend("A: x\ry\r\n\r\n"), 10);           /* bare CR inside a line */
    assert_int_equal(hend("A: 1\r\n\r"), 7);
}

static void test_header_has(void **state)
{
    const char *h = "Received: from x\r\n\tby y\r\nMessage-ID: <1@x>\r\nsubject : hi\r\n"
                    "X-Date: no\r\n\r\nDate: in body\r\n";
    size_t n = strlen(h);
    assert_true(msg_header_has(h, n, "Message-ID"));
    assert_true(msg_header_has(h, n, "message-id"));
    assert_true(msg_header_has(h, n, "Received"));
    assert_true(msg_header_has(h, n, "Subject"));  /* obs: WSP before the colon */
    assert_false(msg_header_has(h, n, "Date"));    /* only X-Date, and one in the body */
    assert_false(msg_header_has(h, n, "by y"));    /* continuation line */
    assert_false(msg_header_has(h, n, "Message")); /* prefix of a name */
    assert_false(msg_header_has(h, n, ""));
    assert_false(msg_header_has("Date", 4, "Date"));
    assert_true(msg_header_has("Date:", 5, "Date"));
    assert_true(msg_header_has("A: b\nDate: x\n", 13, "date"));
}

static void test_date_format(void **state)
{
    setenv("TZ", "UTC", 1);
    tzset();
    char buf[64];
    size_t n = msg_date_format(1795364401, buf, sizeof buf); /* 2026-11-22 16:20:01 UTC */
    assert_string_equal(buf, "Sun, 22 Nov 2026 16:20:01 +0000");
    assert_int_equal(n, strlen(buf));

    setenv("TZ", "EST5EDT", 1);
    tzset();
    msg_date_format(1795364401, buf, sizeof buf);
    assert_string_equal(buf, "Sun, 22 Nov 2026 11:20:01 -0500");
    setenv("TZ", "IST-5:30", 1);
    tzset();
    msg_date_format(0, buf, sizeof buf);
    assert_string_equal(buf, "Thu, 01 Jan 1970 05:30:00 +0530");

    char small[10];
    n = msg_date_format(0, small, sizeof small);
    assert_int_equal(n, 9);
    assert_int_equal(strlen(small), 9);
    assert_int_equal(msg_date_format(0, small, 0), 0);
    setenv("TZ", "UTC", 1);
    tzset();
}

static void test_every_prefix(void **state)
{
    const char *s = "A: 1\r\n b\r\nMessage-ID: x\r\n\r\nbody";
    size_t len = strlen(s);
    for (size_t k = 0; k <= len; k++) {
        char *copy = malloc(k ? k : 1);
        memcpy(copy, s, k);
        assert_true(msg_header_end(copy, k) <= k);
        (void)msg_header_has(copy, k, "Message-ID");
        free(copy);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_end),
        cmocka_unit_test(test_header_has),
        cmocka_unit_test(test_date_format),
        cmocka_unit_test(test_every_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
