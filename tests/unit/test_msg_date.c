/* Unit tests for msg/date: RFC 5322 Date: parsing, IMAP date and date-time, Unix time. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/err.h"
#include "msg/date.h"

#include <stdlib.h>
#include <string.h>

static void expect_5322(const char *s, int y, int mo, int d, int h, int mi, int sec, int tz)
{
    struct msg_date dt;
    if (msg_date_parse_rfc5322(s, strlen(s), &dt) != 0)
        fail_msg("'%s' refused", s);
    if (dt.year != y || dt.month != mo || dt.day != d || dt.hour != h || dt.min != mi ||
        dt.sec != sec || dt.tz_min != tz)
        fail_msg("'%s': %d-%d-%d %d:%d:%d %d", s, dt.year, dt.month, dt.day, dt.hour, dt.min,
                 dt.sec, dt.tz_min);
}

static void test_rfc5322(void **state)
{
    expect_5322("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)", 1996, 7, 17, 2, 23, 25, -420);
    expect_5322("Fri, 21 Nov 1997 09:55:06 -0600", 1997, 11, 21, 9, 55, 6, -360);
    expect_5322("1 Jan 2000 00:00 +0000", 2000, 1, 1, 0, 0, 0, 0);
    expect_5322("  Tue,  1 Jul 2003 10:52:37 +0200", 2003, 7, 1, 10, 52, 37, 120);
    expect_5322("7 Mar 26 13:14 EST", 2026, 3, 7, 13, 14, 0, -300); /* obs-year, obs-zone */
    expect_5322("7 Mar 99 13:14 PDT", 1999, 3, 7, 13, 14, 0, -420);
    expect_5322("7 Mar 103 13:14 GMT", 2003, 3, 7, 13, 14, 0, 0); /* 3-digit year */
    expect_5322("Thu, 13 Feb 1969 23:32 -0330 (NST)", 1969, 2, 13, 23, 32, 0, -210);
    expect_5322("Mon (Monday), 9 (nine) mar 2026 10:11:12 +0100", 2026, 3, 9, 10, 11, 12, 60);
    expect_5322("9 MARCH 2026 10:11:12 Z", 2026, 3, 9, 10, 11, 12, 0);
    expect_5322("9-Mar-2026 10:11:12 +0100", 2026, 3, 9, 10, 11, 12, 60);
    expect_5322("9 Mar 2026 10:11:12", 2026, 3, 9, 10, 11, 12, 0); /* no zone */
    expect_5322("9 Mar 2026 10:11:12 A", 2026, 3, 9, 10, 11, 12, 0);
    expect_5322("29 Feb 2024 23:59:60 +0000", 2024, 2, 29, 23, 59, 60, 0);
    static const char *const bad[] = {"",
                                      "Wed",
                                      "32 Jan 2000 00:00 +0000",
                                      "29 Feb 2023 00:00 +0000",
                                      "1 Foo 2000 00:00",
                                      "1 Jan 2000",
                                      "1 Jan 2000 24:00",
                                      "1 Jan 2000 12:60",
                                      "1 Jan 2000 12:00 +0160",
                                      "1 Jan 2000 12:00 +01",
                                      "1 Jan 20000 12:00",
                                      "1 Jan 2 12:00"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct msg_date d;
        if (msg_date_parse_rfc5322(bad[i], strlen(bad[i]), &d) == 0)
            fail_msg("'%s' accepted", bad[i]);
    }
}

static void test_imap_forms(void **state)
{
    struct msg_date d;
    assert_int_equal(msg_date_parse_imap_date("1-Feb-1994", 10, &d), 0);
    assert_int_equal(d.year, 1994);
    assert_int_equal(d.month, 2);
    assert_int_equal(d.day, 1);
    assert_int_equal(msg_date_parse_imap_date("01-feb-1994", 11, &d), 0);
    assert_int_equal(msg_date_parse_imap_date("31-Apr-1994", 11, &d), ERR_RANGE);
    assert_int_equal(msg_date_parse_imap_date("1-Feb-94", 8, &d), ERR_PARSE);
    assert_int_equal(msg_date_parse_imap_date("1-February-1994", 15, &d), ERR_PARSE);
    assert_int_equal(msg_date_parse_imap_date("1-Feb-1994 ", 11, &d), ERR_PARSE);
    assert_int_equal(msg_date_parse_imap_date("001-Feb-1994", 12, &d), ERR_PARSE);

    const char *dt = "17-Jul-1996 02:44:25 -0700";
    assert_int_equal(msg_date_parse_imap_datetime(dt, strlen(dt), &d), 0);
    assert_int_equal(d.tz_min, -420);
    assert_int_equal(d.hour, 2);
    char buf[40];
    assert_int_equal(msg_date_format_imap_datetime(&d, buf, sizeof buf), 26);
    assert_string_equal(buf, dt);
    const char *sp = " 7-Jul-1996 02:44:25 +0530";
    assert_int_equal(msg_date_parse_imap_datetime(sp, strlen(sp), &d), 0);
    assert_int_equal(d.day, 7);
    assert_int_equal(d.tz_min, 330);
    msg_date_format_imap_datetime(&d, buf, sizeof buf);
    assert_string_equal(buf, "07-Jul-1996 02:44:25 +0530");
    static const char *const bad[] = {"17-Jul-1996 02:44:25", "17-Jul-1996 2:44:25 -0700",
                                      "17-Jul-1996 02:44:25 0700", "17-Jul-1996  02:44:25 -0700",
                                      "17-Jul-1996 02:44:25 -0700 x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (msg_date_parse_imap_datetime(bad[i], strlen(bad[i]), &d) == 0)
            fail_msg("'%s' accepted", bad[i]);
}

static void test_unix(void **state)
{
    struct msg_date d = {2026, 11, 22, 16, 20, 1, 0};
    assert_int_equal(msg_date_to_unix(&d), 1795364401);
    d.tz_min = -420;
    assert_int_equal(msg_date_to_unix(&d), 1795364401 + 7 * 3600);
    struct msg_date e;
    msg_date_from_unix(1795364401, 60, &e);
    assert_int_equal(e.year, 2026);
    assert_int_equal(e.hour, 17);
    assert_int_equal(e.tz_min, 60);
    msg_date_from_unix(0, 0, &e);
    assert_int_equal(e.year, 1970);
    assert_int_equal(e.day, 1);
    msg_date_from_unix(-1, 0, &e);
    assert_int_equal(e.year, 1969);
    assert_int_equal(e.month, 12);
    assert_int_equal(e.day, 31);
    assert_int_equal(e.hour, 23);
    assert_int_equal(e.sec, 59);
    /* every day for 600 years round-trips */
    for (int64_t t = -4000000000LL; t < 15000000000LL; t += 86400 * 7 + 3601) {
        msg_date_from_unix(t, -330, &e);
        assert_int_equal(msg_date_to_unix(&e), t);
    }
    struct msg_date a = {2026, 3, 9, 23, 0, 0, 0}, b = {2026, 3, 9, 0, 0, 0, 600};
    assert_int_equal(msg_date_cmp_day(&a, &b), 0);
    b.day = 10;
    assert_true(msg_date_cmp_day(&a, &b) < 0);
    b.year = 2025;
    assert_true(msg_date_cmp_day(&a, &b) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc5322),
        cmocka_unit_test(test_imap_forms),
        cmocka_unit_test(test_unix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
