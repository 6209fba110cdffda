/*
 * IMAP4rev2 (RFC 9051) through fakes/fake_imap: advertised beside IMAP4rev1; once ENABLEd no
 * \Recent and no RECENT response, SEARCH answered with ESEARCH, SELECT with its LIST response
 * and without [UNSEEN], mailbox names in UTF-8, STATUS SIZE/DELETED (RECENT refused), the
 * RFC 9051 keywords kept, DELETE of a parent NO [HASCHILDREN]; and UNAUTHENTICATE (RFC 8437).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/xmalloc.h"
#include "fakes/fake_imap.h"
#include "imap/session.h"
#include "imap_expect.h"

#include <stdlib.h>
#include <string.h>

static const char msg1[] = "From: a@x.org\r\nSubject: one\r\n\r\nfirst\r\n";
static const char msg2[] = "From: b@x.org\r\nSubject: two\r\n\r\nsecond\r\n";

static void login(struct fake_imap *f)
{
    fake_imap_init(f, false, true, 0);
    expect(f, "a LOGIN bob hungry\r\n", "a OK");
}

static void test_rev2_capability_and_enable(void **state)
{
    struct fake_imap f;
    fake_imap_init(&f, false, true, 0);
    assert_non_null(strstr(str_cstr(&f.out), "[CAPABILITY IMAP4rev1 IMAP4rev2 "));
    expect(&f, "a LOGIN bob hungry\r\n", " STATUS=SIZE");
    expect(&f, "b ENABLE IMAP4rev2\r\n", "* ENABLED IMAP4rev2\r\nb OK");
    expect_not(&f, "c ENABLE IMAP4rev2\r\n", "* ENABLED IMAP4rev2");
    fake_imap_free(&f);
}

/* Without ENABLE the same mailbox shows \Recent (so the rev2 checks below can fail). */
static void test_rev1_keeps_recent(void **state)
{
    struct fake_imap f;
    login(&f);
    fake_imap_deliver(&f, "INBOX", msg1, "");
    char *got = send(&f, "b SELECT INBOX\r\n");
    assert_non_null(strstr(got, "* 1 RECENT\r\n"));
    assert_non_null(strstr(got, "* OK [UNSEEN 1]"));
    assert_null(strstr(got, "* LIST "));
    free(got);
    expect(&f, "c FETCH 1 FLAGS\r\n", "(\\Recent)");
    expect(&f, "d SEARCH ALL\r\n", "* SEARCH 1\r\n");
    fake_imap_free(&f);
}

static void test_rev2_no_recent(void **state)
{
    struct fake_imap f;
    login(&f);
    fake_imap_deliver(&f, "INBOX", msg1, "");
    expect(&f, "b ENABLE IMAP4rev2\r\n", "b OK");
    char *got = send(&f, "c SELECT INBOX\r\n");
    assert_non_null(strstr(got, "* 1 EXISTS\r\n"));
    assert_null(strstr(got, "RECENT"));
    assert_null(strstr(got, "[UNSEEN"));
    assert_non_null(strstr(got, "* LIST () \"/\" \"INBOX\"\r\n")); /* RFC 9051 §6.3.2 */
    assert_non_null(strstr(got, "c OK [READ-WRITE]"));
    free(got);
    expect_not(&f, "d FETCH 1 FLAGS\r\n", "\\Recent");
    fake_imap_deliver(&f, "INBOX", msg2, "");
    imap_session_notify(f.s);
    got = send(&f, "e NOOP\r\n");
    assert_non_null(strstr(got, "* 2 EXISTS\r\n"));
    assert_null(strstr(got, "RECENT"));
    free(got);
    expect_not(&f, "f FETCH 1:* FLAGS\r\n", "\\Recent");
    expect(&f, "g STATUS INBOX (RECENT)\r\n", "g BAD");
    expect(&f, "h STATUS INBOX (MESSAGES DELETED SIZE)\r\n",
           "* STATUS \"INBOX\" (MESSAGES 2 DELETED 0 SIZE 77)\r\nh OK");
    /* the rev2 session claimed nothing: an IMAP4rev1 login after it still sees both recent */
    expect(&f, "i UNAUTHENTICATE\r\n", "i OK");
    expect(&f, "j LOGIN bob hungry\r\n", "j OK");
    expect(&f, "k SELECT INBOX\r\n", "* 2 RECENT\r\n");
    fake_imap_free(&f);
}

/* ENABLE after SELECT: the messages already seen as \Recent lose it. */
static void test_rev2_enable_while_selected(void **state)
{
    struct fake_imap f;
    login(&f);
    fake_imap_deliver(&f, "INBOX", msg1, "");
    expect(&f, "b SELECT INBOX\r\n", "* 1 RECENT");
    expect(&f, "c ENABLE IMAP4rev2\r\n", "c OK");
    expect_not(&f, "d FETCH 1 FLAGS\r\n", "\\Recent");
    fake_imap_free(&f);
}

static void test_rev2_esearch(void **state)
{
    struct fake_imap f;
    login(&f);
    fake_imap_deliver(&f, "INBOX", msg1, "");
    fake_imap_deliver(&f, "INBOX", msg2, "\\Seen");
    expect(&f, "b ENABLE IMAP4rev2\r\n", "b OK");
    expect(&f, "c SELECT INBOX\r\n", "c OK");
    expect(&f, "d SEARCH ALL\r\n", "* ESEARCH (TAG \"d\") ALL 1:2\r\nd OK");
    expect(&f, "e UID SEARCH UNSEEN\r\n", "* ESEARCH (TAG \"e\") UID ALL 1\r\ne OK");
    expect(&f, "f SEARCH SUBJECT nothing\r\n", "* ESEARCH (TAG \"f\")\r\nf OK");
    expect(&f, "g SEARCH RETURN (COUNT) ALL\r\n", "* ESEARCH (TAG \"g\") COUNT 2\r\ng OK");
    expect_not(&f, "h SEARCH ALL\r\n", "* SEARCH");
    expect(&f, "i SEARCH RETURN (SAVE) SEEN\r\n", "i OK");
    expect(&f, "j FETCH $ UID\r\n", "* 2 FETCH (UID 2)");
    fake_imap_free(&f);
}

static void test_rev2_names_and_keywords(void **state)
{
    struct fake_imap f;
    login(&f);
    fake_imap_deliver(&f, "INBOX", msg1, "");
    expect(&f, "b ENABLE IMAP4rev2\r\n", "b OK");
    /* RFC 9051 §5.1: UTF-8 names both ways; "&" is no escape any more */
    expect(&f, "c CREATE \"caf\xc3\xa9/a&b\"\r\n", "c OK");
    /* (8-bit names go out as literals, which both revisions read) */
    expect(&f, "d LIST \"\" caf*\r\n", "* LIST (\\HasChildren) \"/\" {5}\r\ncaf\xc3\xa9\r\n");
    expect(&f, "e DELETE \"caf\xc3\xa9\"\r\n", "e NO [HASCHILDREN]");
    expect(&f, "f SELECT INBOX\r\n", "f OK");
    /* RFC 9051 §2.3.2's keywords are ordinary keywords here */
    expect(&f, "g STORE 1 +FLAGS ($Forwarded $Junk $MDNSent)\r\n",
           "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded $Junk $MDNSent)");
    expect(&f, "h FETCH 1 FLAGS\r\n", "FLAGS ($Forwarded $Junk $MDNSent)");
    expect(&f, "i SEARCH KEYWORD $Junk\r\n", "* ESEARCH (TAG \"i\") ALL 1\r\n");
    /* §6.3.2 with RFC 7162 §3.2.11: the old mailbox's responses end with [CLOSED] */
    char *got = send(&f, "j SELECT \"caf\xc3\xa9/a&b\"\r\n");
    assert_non_null(strstr(got, "* OK [CLOSED]"));
    assert_non_null(strstr(got, "* LIST () \"/\" {9}\r\ncaf\xc3\xa9/a&b\r\n"));
    free(got);
    fake_imap_free(&f);
}

static void test_unauthenticate(void **state)
{
    struct fake_imap f;
    fake_imap_init(&f, false, true, 0);
    expect(&f, "a UNAUTHENTICATE\r\n", "a BAD");
    expect(&f, "b LOGIN bob hungry\r\n", "b OK");
    fake_imap_deliver(&f, "INBOX", msg1, "");
    expect(&f, "c ENABLE IMAP4rev2\r\n", "c OK");
    expect(&f, "d SELECT INBOX\r\n", "d OK");
    expect(&f, "e STORE 1 +FLAGS (\\Deleted)\r\n", "e OK");
    expect(&f, "f UNAUTHENTICATE extra\r\n", "f BAD");
    expect(&f, "g UNAUTHENTICATE\r\n", "g OK");
    assert_int_equal(f.logouts, 1);
    assert_int_equal(f.selected, 0);
    /* RFC 8437: not authenticated again; nothing was expunged */
    expect(&f, "h SELECT INBOX\r\n", "h BAD");
    expect(&f, "i CAPABILITY\r\n", " AUTH=PLAIN");
    assert_int_equal(fake_imap_count(&f, "INBOX"), 1);
    expect(&f, "j LOGIN bob hungry\r\n", "j OK");
    /* the ENABLE is gone with the login: plain SEARCH and \Recent again */
    expect(&f, "k SELECT INBOX\r\n", "k OK");
    expect(&f, "l SEARCH DELETED\r\n", "* SEARCH 1\r\n");
    fake_imap_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rev2_capability_and_enable),
        cmocka_unit_test(test_rev1_keeps_recent),
        cmocka_unit_test(test_rev2_no_recent),
        cmocka_unit_test(test_rev2_enable_while_selected),
        cmocka_unit_test(test_rev2_esearch),
        cmocka_unit_test(test_rev2_names_and_keywords),
        cmocka_unit_test(test_unauthenticate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
