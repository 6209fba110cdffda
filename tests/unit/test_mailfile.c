/* Unit tests for msg/mailfile: Maildir flag letters, CRLF, mbox reading and writing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/err.h"
#include "core/str.h"
#include "msg/mailfile.h"

#include <stdlib.h>
#include <string.h>

static void test_maildir_flags(void **state)
{
    struct mailfile_keywords kw = {0};
    kw.name[0] = strdup("$Label1");
    kw.name[2] = strdup("Work");
    struct str o = STR_INIT;
    mailfile_maildir_flags_parse("DFPRSTac", &kw, &o);
    assert_string_equal(str_cstr(&o),
                        "\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded $Label1 Work");
    str_reset(&o);
    mailfile_maildir_flags_parse("Sbz", &kw, &o); /* unknown letters are skipped */
    assert_string_equal(str_cstr(&o), "\\Seen");
    str_reset(&o);
    mailfile_maildir_flags_format("\\Seen \\Answered work NewOne $Forwarded", &kw, &o);
    assert_string_equal(str_cstr(&o), "PRSbc"); /* "work" matches Work; NewOne gets slot b */
    assert_string_equal(kw.name[1], "NewOne");
    str_clear(&o);
    for (int i = 0; i < MAILFILE_KEYWORDS; i++)
        free(kw.name[i]);
}

static void test_crlf(void **state)
{
    struct str o = STR_INIT;
    mailfile_crlf("a\nb\r\nc", 6, &o);
    assert_string_equal(str_cstr(&o), "a\r\nb\r\nc\r\n");
    str_clear(&o);
}

static void test_mbox_read(void **state)
{
    const char *mb = "From a@b Tue Nov 14 22:13:20 2023\n"
                     "Subject: one\nStatus: RO\nX-Status: AF\nX-Keywords: k1, k2\n"
                     "X-UID: 7\n\n>From quoted\n>>From twice\n\n"
                     "From c@d  Wed Nov 15 00:00:00 2023\n"
                     "Subject: two\nContent-Length: 12\n\nFrom inside\n\n";
    struct mailfile_mbox_msg m = {0, STR_INIT, STR_INIT};
    size_t pos = 0;
    assert_int_equal(mailfile_mbox_next(mb, strlen(mb), &pos, &m), 1);
    assert_int_equal(m.date, 1700000000);
    assert_string_equal(str_cstr(&m.data),
                        "Subject: one\r\n\r\nFrom quoted\r\n>From twice\r\n");
    assert_string_equal(str_cstr(&m.flags), "\\Answered \\Flagged \\Seen k1 k2");
    assert_int_equal(mailfile_mbox_next(mb, strlen(mb), &pos, &m), 1);
    assert_int_equal(m.date, 1700006400);
    assert_string_equal(str_cstr(&m.data), "Subject: two\r\n\r\nFrom inside\r\n");
    assert_string_equal(str_cstr(&m.flags), "");
    assert_int_equal(mailfile_mbox_next(mb, strlen(mb), &pos, &m), 0);
    pos = 0;
    assert_int_equal(mailfile_mbox_next("Subject: x\n", 11, &pos, &m), ERR_PARSE);
    str_clear(&m.data);
    str_clear(&m.flags);
}

static void test_mbox_round_trip(void **state)
{
    const char *msg = "Subject: q\r\nStatus: O\r\n\r\nFrom here\r\n>From there\r\n";
    struct str out = STR_INIT;
    mailfile_mbox_append(&out, "", 1700000000, "\\Seen \\Draft k", msg, strlen(msg));
    assert_string_equal(str_cstr(&out), "From MAILER-DAEMON Tue Nov 14 22:13:20 2023\n"
                                        "Subject: q\nStatus: RO\nX-Status: T\nX-Keywords: k\n\n"
                                        ">From here\n>>From there\n\n");
    struct mailfile_mbox_msg m = {0, STR_INIT, STR_INIT};
    size_t pos = 0;
    assert_int_equal(mailfile_mbox_next(out.ptr, out.len, &pos, &m), 1);
    assert_string_equal(str_cstr(&m.data), "Subject: q\r\n\r\nFrom here\r\n>From there\r\n");
    assert_string_equal(str_cstr(&m.flags), "\\Seen \\Draft k");
    assert_int_equal(m.date, 1700000000);
    str_clear(&m.data);
    str_clear(&m.flags);
    str_clear(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_maildir_flags),
        cmocka_unit_test(test_crlf),
        cmocka_unit_test(test_mbox_read),
        cmocka_unit_test(test_mbox_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
