/*
 * NOTIFY (RFC 5465) through fakes/fake_imap: SET STATUS's first STATUS responses per event,
 * STATUS of other mailboxes on MessageNew / MessageExpunge / FlagChange heard between
 * commands and in IDLE, the selected mailbox's EXISTS/EXPUNGE/FETCH pushed without a command,
 * MailboxName and SubscriptionChange as LIST responses, BADEVENT, NOTIFY NONE, and the
 * command cut at every offset.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/xmalloc.h"
#include "fakes/fake_imap.h"
#include "imap_expect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char msg[] = "From: a@x\r\nSubject: hi\r\n\r\nbody\r\n";

static void setup(struct fake_imap *f)
{
    fake_imap_init(f, false, true, 0);
    fake_imap_deliver(f, "INBOX", msg, "");
    fake_imap_deliver(f, "Archive", msg, "");
    expect(f, "a LOGIN bob hungry\r\n", "a OK");
}

/* What the engine wrote, unasked, after another session's change (FETCH bursts included). */
static char *heard(struct fake_imap *f)
{
    size_t mark = f->out.len, before;
    imap_session_notify(f->s);
    do {
        before = f->out.len;
        imap_session_writable(f->s);
    } while (f->out.len != before);
    return xstrdup(str_cstr(&f->out) + mark);
}

static void test_set_status(void **state)
{
    struct fake_imap f;
    setup(&f);
    expect(&f, "c CAPABILITY\r\n", " NOTIFY");
    expect(&f, "a NOTIFY SET STATUS (MAILBOXES Archive (MessageNew MessageExpunge))\r\n",
           "* STATUS \"Archive\" (MESSAGES 1 UIDNEXT 2 UIDVALIDITY 6)\r\na OK NOTIFY");
    assert_true(f.notify_all);
    expect(&f, "b NOTIFY SET STATUS (MAILBOXES Archive (MessageExpunge MessageNew FlagChange))\r\n",
           "* STATUS \"Archive\" (MESSAGES 1 UIDNEXT 2 UIDVALIDITY 6 HIGHESTMODSEQ ");
    expect(&f, "b NOTIFY SET (SELECTED (MessageNew (UID) MessageExpunge))\r\n", "b OK");
    expect_not(&f, "d NOTIFY SET (MAILBOXES Archive (MessageNew MessageExpunge FlagChange))\r\n",
               "STATUS");
    expect(&f, "e NOTIFY SET (INBOXES (AnnotationChange))\r\n", "e NO [BADEVENT");
    expect(&f, "f NOTIFY SET (SELECTED (MailboxName))\r\n", "f NO [BADEVENT");
    expect(&f, "g NOTIFY SET (NOWHERE (MessageNew))\r\n", "g BAD");
    expect(&f, "h NOTIFY SET\r\n", "h BAD");
    expect(&f, "i NOTIFY SET (INBOXES (MessageNew (UID) MessageExpunge))\r\n", "i BAD");
    expect(&f, "j NOTIFY NONE\r\n", "j OK");
    assert_false(f.notify_all);
    fake_imap_free(&f);
}

/* RFC 5465 §5: MessageNew and MessageExpunge together, FlagChange only with them, one
 * selected group, fetch attributes only there and valid (BAD otherwise). */
static void test_set_bad(void **state)
{
    struct fake_imap f;
    setup(&f);
    expect(&f, "c NOTIFY SET STATUS (MAILBOXES Archive (FlagChange))\r\n", "c BAD");
    expect(&f, "c NOTIFY SET (INBOXES (MessageNew))\r\n", "c BAD");
    expect(&f, "c NOTIFY SET (SELECTED (MessageExpunge FlagChange))\r\n", "c BAD");
    expect(&f, "c NOTIFY SET (SELECTED NONE) (SELECTED-DELAYED NONE)\r\n", "c BAD");
    expect(&f, "c NOTIFY SET (SELECTED (MessageNew () MessageExpunge))\r\n", "c BAD");
    expect(&f, "c NOTIFY SET (SELECTED (MessageNew (NOSUCH) MessageExpunge))\r\n", "c BAD");
    expect(&f, "c NOTIFY SET (SELECTED (MessageNew (UID) (UID) MessageExpunge))\r\n", "c BAD");
    expect(&f, "d NOOP\r\n", "d OK");
    fake_imap_free(&f);
}

static void test_other_mailboxes(void **state)
{
    struct fake_imap f;
    setup(&f);
    expect(&f, "s SELECT INBOX\r\n", "s OK");
    expect(&f,
           "a NOTIFY SET (SELECTED (MessageNew MessageExpunge FlagChange)) "
           "(PERSONAL (MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange))\r\n",
           "a OK");
    /* a delivery elsewhere: STATUS without a command */
    uint32_t uid = fake_imap_deliver(&f, "Archive", msg, "");
    char *got = heard(&f);
    assert_non_null(strstr(got, "* STATUS \"Archive\" (MESSAGES 2 UIDNEXT 3 UIDVALIDITY 6 "
                                "HIGHESTMODSEQ "));
    assert_int_equal(strchr(got, '\n') - got + 1, (long)strlen(got)); /* one line */
    free(got);
    fake_imap_set_flags(&f, "Archive", uid, "\\Seen");
    got = heard(&f);
    assert_non_null(strstr(got, "* STATUS \"Archive\" (UIDVALIDITY 6 HIGHESTMODSEQ "));
    assert_null(strstr(got, "MESSAGES"));
    free(got);
    fake_imap_expunge_uid(&f, "Archive", uid);
    got = heard(&f);
    assert_non_null(strstr(got, "* STATUS \"Archive\" (MESSAGES 1"));
    free(got);
    /* the selected mailbox: its own responses, at once */
    fake_imap_deliver(&f, "INBOX", msg, "");
    got = heard(&f);
    assert_non_null(strstr(got, "* 2 EXISTS\r\n"));
    assert_null(strstr(got, "STATUS"));
    free(got);
    fake_imap_expunge_uid(&f, "INBOX", 1);
    got = heard(&f);
    assert_non_null(strstr(got, "* 1 EXPUNGE\r\n"));
    free(got);
    /* nothing changed: nothing said */
    got = heard(&f);
    assert_string_equal(got, "");
    free(got);
    expect(&f, "b NOOP\r\n", "b OK");
    fake_imap_free(&f);
}

static void test_names_and_idle(void **state)
{
    struct fake_imap f;
    setup(&f);
    expect(&f,
           "a NOTIFY SET (SUBSCRIBED (MessageNew MessageExpunge MailboxName "
           "SubscriptionChange))\r\n",
           "a OK");
    /* a mailbox that came (here by this session: the fake tells every session, the daemon
     * does not tell the one that made the change) and its subscription */
    expect(&f, "b CREATE Lists\r\n", "b OK");
    expect(&f, "c SUBSCRIBE Lists\r\n", "c OK");
    char *got = heard(&f);
    assert_non_null(strstr(got, "* LIST (\\Subscribed) \"/\" \"Lists\"\r\n"));
    free(got);
    expect(&f, "d DELETE Lists\r\n", "d OK");
    got = heard(&f);
    assert_non_null(strstr(got, "* LIST (\\NonExistent) \"/\" \"Lists\"\r\n"));
    free(got);
    /* in IDLE (nothing selected): STATUS as mail comes to a subscribed mailbox */
    expect(&f, "i IDLE\r\n", "+ idling");
    fake_imap_deliver(&f, "INBOX", msg, "");
    got = heard(&f);
    assert_non_null(strstr(got, "* STATUS \"INBOX\" (MESSAGES 2 UIDNEXT 3"));
    free(got);
    expect(&f, "DONE\r\n", "i OK");
    fake_imap_free(&f);
}

/* The selected mailbox hears only the events its group names: without FlagChange another
 * session's flag change waits for the next command (RFC 5465 §5.3), new mail does not. */
static void test_selected_filter(void **state)
{
    struct fake_imap f;
    setup(&f);
    expect(&f, "s SELECT INBOX\r\n", "s OK");
    expect(&f, "a NOTIFY SET (SELECTED (MessageNew MessageExpunge))\r\n", "a OK");
    fake_imap_set_flags(&f, "INBOX", 1, "\\Flagged");
    char *got = heard(&f);
    assert_string_equal(got, "");
    free(got);
    fake_imap_deliver(&f, "INBOX", msg, "");
    got = heard(&f);
    assert_non_null(strstr(got, "* 2 EXISTS\r\n"));
    assert_null(strstr(got, "FETCH"));
    free(got);
    /* the next command's end reports the flag change, as without NOTIFY */
    expect(&f, "b NOOP\r\n", "* 1 FETCH (FLAGS (\\Flagged");
    /* with FlagChange: at once */
    expect(&f, "c NOTIFY SET (SELECTED (MessageNew MessageExpunge FlagChange))\r\n", "c OK");
    fake_imap_set_flags(&f, "INBOX", 2, "\\Answered");
    got = heard(&f);
    assert_non_null(strstr(got, "* 2 FETCH (FLAGS (\\Answered"));
    free(got);
    /* no selected group: nothing pushed for the selected mailbox */
    expect(&f, "d NOTIFY SET (INBOXES (MessageNew MessageExpunge))\r\n", "d OK");
    fake_imap_deliver(&f, "INBOX", msg, "");
    got = heard(&f);
    assert_null(strstr(got, "EXISTS"));
    free(got);
    expect(&f, "e NOOP\r\n", "* 3 EXISTS\r\n");
    fake_imap_free(&f);
}

/* MessageNew with fetch attributes (RFC 5465 §5.2): a FETCH after each new message's EXISTS,
 * between commands and in IDLE; messages already shown are never fetched. */
static void test_message_new_fetch(void **state)
{
    struct fake_imap f;
    setup(&f);
    expect(&f, "a NOTIFY SET (SELECTED (MessageNew (FLAGS BODY.PEEK[HEADER.FIELDS (Subject)]) "
               "MessageExpunge))\r\n",
           "a OK");
    expect_not(&f, "s SELECT INBOX\r\n", "FETCH");
    fake_imap_deliver(&f, "INBOX", "From: a@x\r\nSubject: second\r\n\r\nbody\r\n", "");
    char *got = heard(&f);
    const char *exists = strstr(got, "* 2 EXISTS\r\n"), *fetch = strstr(got, "* 2 FETCH (");
    assert_non_null(exists);
    assert_non_null(fetch);
    assert_true(exists < fetch);
    assert_non_null(strstr(fetch, "UID 2"));
    assert_non_null(strstr(fetch, "FLAGS ("));
    if (!strstr(fetch, "BODY[HEADER.FIELDS (Subject)] {19}\r\nSubject: second\r\n\r\n)"))
        fail_msg("%s", got);
    assert_null(strstr(got, "* 1 FETCH"));
    free(got);
    got = heard(&f); /* told once */
    assert_string_equal(got, "");
    free(got);
    /* a message that came during a command: its EXISTS at the command's end, then the FETCH */
    fake_imap_deliver(&f, "INBOX", "Subject: third\r\n\r\nx\r\n", "");
    expect(&f, "b NOOP\r\n", "* 3 FETCH (UID 3 FLAGS (");
    /* in IDLE */
    expect(&f, "i IDLE\r\n", "+ idling");
    fake_imap_deliver(&f, "INBOX", "Subject: fourth\r\n\r\nx\r\n", "");
    got = heard(&f);
    assert_non_null(strstr(got, "* 4 EXISTS\r\n"));
    assert_non_null(strstr(got, "Subject: fourth"));
    free(got);
    expect(&f, "DONE\r\n", "i OK");
    fake_imap_free(&f);
}

/* MailboxMetadataChange and ServerMetadataChange (RFC 5465 §5.8-5.9, required with METADATA):
 * an unsolicited METADATA naming the entries that came, changed or went; nothing when nothing
 * did; not for the selected group. */
static void test_metadata_changes(void **state)
{
    struct fake_imap f;
    setup(&f);
    expect(&f, "a NOTIFY SET (PERSONAL (MailboxMetadataChange ServerMetadataChange))\r\n", "a OK");
    expect(&f, "b SETMETADATA Archive (/private/comment \"one\" /private/b \"x\")\r\n", "b OK");
    char *got = heard(&f);
    assert_string_equal(got, "* METADATA \"Archive\" (/private/b /private/comment)\r\n");
    free(got);
    got = heard(&f);
    assert_string_equal(got, "");
    free(got);
    expect(&f, "c SETMETADATA Archive (/private/comment \"two\")\r\n", "c OK");
    got = heard(&f);
    assert_string_equal(got, "* METADATA \"Archive\" (/private/comment)\r\n");
    free(got);
    expect(&f, "d SETMETADATA Archive (/private/b NIL)\r\n", "d OK");
    got = heard(&f);
    assert_string_equal(got, "* METADATA \"Archive\" (/private/b)\r\n");
    free(got);
    expect(&f, "e SETMETADATA \"\" (/private/vendor/x \"1\")\r\n", "e OK");
    got = heard(&f);
    assert_string_equal(got, "* METADATA \"\" (/private/vendor/x)\r\n");
    free(got);
    expect(&f, "f NOTIFY SET (SELECTED (MailboxMetadataChange))\r\n", "f NO [BADEVENT");
    expect(&f, "g NOTIFY SET (PERSONAL (AnnotationChange))\r\n",
           "ServerMetadataChange)] Unsupported event");
    fake_imap_free(&f);
}

/* A NOTIFY SET cut at every offset gives the same replies as whole. */
static void test_split(void **state)
{
    const char script[] = "a NOTIFY SET STATUS (SELECTED (MessageNew MessageExpunge)) "
                          "(MAILBOXES (Archive {5}\r\nINBOX) (MessageNew MessageExpunge))\r\n"
                          "b NOTIFY NONE\r\n";
    struct fake_imap f;
    setup(&f);
    size_t mark = f.out.len;
    fake_imap_feeds(&f, script);
    char *want = xstrdup(str_cstr(&f.out) + mark);
    fake_imap_free(&f);
    if (!strstr(want, "* STATUS \"Archive\" (MESSAGES 1 UIDNEXT 2") ||
        !strstr(want, "* STATUS \"INBOX\" (MESSAGES 1 UIDNEXT 2") || !strstr(want, "b OK"))
        fail_msg("whole:\n%s", want);
    for (size_t cut = 0; cut <= strlen(script); cut++) {
        setup(&f);
        mark = f.out.len;
        fake_imap_feed(&f, script, cut);
        fake_imap_feed(&f, script + cut, strlen(script) - cut);
        if (strcmp(str_cstr(&f.out) + mark, want) != 0)
            fail_msg("split at %zu:\n%s", cut, str_cstr(&f.out) + mark);
        fake_imap_free(&f);
    }
    free(want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_status),
        cmocka_unit_test(test_set_bad),
        cmocka_unit_test(test_other_mailboxes),
        cmocka_unit_test(test_names_and_idle),
        cmocka_unit_test(test_selected_filter),
        cmocka_unit_test(test_message_new_fetch),
        cmocka_unit_test(test_metadata_changes),
        cmocka_unit_test(test_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
