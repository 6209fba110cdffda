/* The IMAP session engine driven through fakes/fake_imap: replies, states, literals, bursts,
 * concurrent changes, IDLE, and input split at every offset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "fakes/fake_imap.h"
#include "imap_expect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char msg1[] =
    "From: Alice <alice@crepes.fr>\r\nTo: bob@hamburger.edu\r\nSubject: ketchup\r\n"
    "Date: Mon, 7 Jul 2025 10:00:00 +0200\r\n\r\nDo you like ketchup?\r\n";
static const char msg2[] =
    "From: Bob <bob@hamburger.edu>\r\nSubject: Re: ketchup\r\n"
    "Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\n"
    "Yes, on fries\r\n--x\r\nContent-Type: application/octet-stream\r\n\r\nAAAA\r\n--x--\r\n";

static void setup(struct fake_imap *f)
{
    fake_imap_init(f, false, true, 0);
    fake_imap_deliver(f, "INBOX", msg1, "");
    fake_imap_deliver(f, "INBOX", msg2, "\\Seen");
}

static void login_select(struct fake_imap *f)
{
    expect(f, "a LOGIN bob hungry\r\n", "a OK [CAPABILITY ");
    expect(f, "s SELECT INBOX\r\n", "s OK [READ-WRITE] SELECT completed\r\n");
}

/* ---- a whole session, exactly ---- */

static const char script[] =
    "a1 LOGIN bob hungry\r\n"
    "a2 SELECT inbox\r\n"
    "a3 FETCH 1:* (FLAGS RFC822.SIZE)\r\n"
    "a4 UID FETCH 2 (BODY.PEEK[1] BODY[2]<1.2>)\r\n"
    "a5 STORE 1 +FLAGS.SILENT (\\Deleted)\r\n"
    "a6 SEARCH DELETED\r\n"
    "a7 APPEND Drafts {5}\r\nhello\r\n"
    "a8 APPEND Drafts (\\Draft) \"07-Jul-1996 02:44:25 -0700\" {6+}\r\nhello!\r\n"
    "a9 EXPUNGE\r\n"
    "b1 LOGOUT\r\n";

#define CAPS                                                                                       \
    "IMAP4rev1 IMAP4rev2 SASL-IR LITERAL+ ID ENABLE IDLE NAMESPACE UNSELECT UIDPLUS MOVE "         \
    "SPECIAL-USE CHILDREN CONDSTORE QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE ESEARCH SEARCHRES "  \
    "SORT SORT=DISPLAY ESORT THREAD=ORDEREDSUBJECT THREAD=REFERENCES LIST-EXTENDED LIST-STATUS "   \
    "QRESYNC BINARY MULTIAPPEND CATENATE METADATA CONTEXT=SEARCH CONTEXT=SORT NOTIFY "             \
    "UTF8=ACCEPT STATUS=SIZE UNAUTHENTICATE URLAUTH URLAUTH=BINARY"

static const char script_replies[] =
    "* OK [CAPABILITY " CAPS " STARTTLS AUTH=PLAIN] Pigeon IMAP server ready\r\n"
    "a1 OK [CAPABILITY " CAPS " COMPRESS=DEFLATE] Logged in\r\n"
    "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
    "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted\r\n"
    "* 2 EXISTS\r\n* 2 RECENT\r\n* OK [UNSEEN 1] First unseen\r\n"
    "* OK [UIDVALIDITY 1] UIDs valid\r\n* OK [UIDNEXT 3] Predicted next UID\r\n"
    "* OK [HIGHESTMODSEQ 3] Highest\r\n"
    "a2 OK [READ-WRITE] SELECT completed\r\n"
    "* 1 FETCH (UID 1 FLAGS (\\Recent) RFC822.SIZE 134)\r\n"
    "* 2 FETCH (UID 2 FLAGS (\\Seen \\Recent) RFC822.SIZE 206)\r\n"
    "a3 OK FETCH completed\r\n"
    "* 2 FETCH (UID 2 BODY[1] {13}\r\nYes, on fries BODY[2]<1> {2}\r\nAA)\r\n"
    "a4 OK FETCH completed\r\n"
    "a5 OK STORE completed\r\n"
    "* SEARCH 1\r\n"
    "a6 OK SEARCH completed\r\n"
    "+ Ready for literal data\r\n"
    "a7 OK [APPENDUID 3 1] APPEND completed\r\n"
    "a8 OK [APPENDUID 3 2] APPEND completed\r\n"
    "* 1 EXPUNGE\r\n"
    "a9 OK EXPUNGE completed\r\n"
    "* BYE Pigeon IMAP server signing off\r\n"
    "b1 OK LOGOUT completed\r\n";

static void test_script(void **state)
{
    struct fake_imap f;
    setup(&f);
    fake_imap_feeds(&f, script);
    assert_string_equal(str_cstr(&f.out), script_replies);
    assert_true(imap_session_closing(f.s));
    assert_int_equal(fake_imap_count(&f, "Drafts"), 2);
    assert_int_equal(fake_imap_count(&f, "INBOX"), 1);
    assert_int_equal(f.maps, f.unmaps);
    fake_imap_free(&f);
}

/* Every split of the input into two pieces, and byte by byte, gives the same replies. */
static void test_split_every_offset(void **state)
{
    size_t n = strlen(script);
    for (size_t cut = 0; cut <= n; cut++) {
        struct fake_imap f;
        setup(&f);
        size_t used = fake_imap_feed(&f, script, cut);
        assert_int_equal(used, cut);
        fake_imap_feed(&f, script + cut, n - cut);
        if (strcmp(str_cstr(&f.out), script_replies) != 0)
            fail_msg("split at %zu:\n%s", cut, str_cstr(&f.out));
        fake_imap_free(&f);
    }
    struct fake_imap f;
    setup(&f);
    for (size_t i = 0; i < n; i++)
        fake_imap_feed(&f, script + i, 1);
    assert_string_equal(str_cstr(&f.out), script_replies);
    fake_imap_free(&f);
}

/* A second session for the split test: SASL continuation, IDLE, LITERAL+, STORE, SEARCH. */
static const char script2[] = "a AUTHENTICATE PLAIN\r\nAGJvYgBodW5ncnk=\r\n"
                              "b SELECT INBOX\r\n"
                              "c IDLE\r\nDONE\r\n"
                              "d SEARCH CHARSET UTF-8 SUBJECT {7+}\r\nketchup\r\n"
                              "e STORE 1:* +FLAGS ($Work \\Flagged)\r\n"
                              "f UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (Subject)])\r\n"
                              "g CREATE \"Entw&APw-rfe/2026\"\r\n"
                              "h LIST \"\" Entw*\r\n"
                              "i LOGOUT\r\n";

/* Every split of script2 gives the replies of the unsplit input. */
static void test_split_second_script(void **state)
{
    struct fake_imap f;
    setup(&f);
    fake_imap_feeds(&f, script2);
    char *want = xstrdup(str_cstr(&f.out));
    fake_imap_free(&f);
    assert_non_null(strstr(want, "a OK [CAPABILITY"));
    assert_non_null(strstr(want, "c OK IDLE terminated"));
    assert_non_null(strstr(want, "* SEARCH 1 2\r\nd OK"));
    assert_non_null(strstr(want, "e OK STORE"));
    assert_non_null(strstr(want, "\"Entw&APw-rfe/2026\""));
    assert_non_null(strstr(want, "i OK LOGOUT"));
    size_t n = strlen(script2);
    for (size_t cut = 0; cut <= n; cut++) {
        setup(&f);
        fake_imap_feed(&f, script2, cut);
        fake_imap_feed(&f, script2 + cut, n - cut);
        if (strcmp(str_cstr(&f.out), want) != 0)
            fail_msg("split at %zu:\n%s", cut, str_cstr(&f.out));
        fake_imap_free(&f);
    }
    free(want);
}

/* Requests held: input pauses at the command waiting for the store, and resumes. */
static void test_async_pause(void **state)
{
    struct fake_imap f;
    setup(&f);
    expect(&f, "a LOGIN bob hungry\r\n", "a OK");
    f.hold = true;
    const char in[] = "b SELECT INBOX\r\nc NOOP\r\n";
    size_t used = fake_imap_feeds(&f, in);
    assert_int_equal(used, strlen("b SELECT INBOX\r\n"));
    assert_true(imap_session_busy(f.s));
    assert_null(strstr(str_cstr(&f.out), "b OK"));
    f.hold = false;
    fake_imap_complete(&f);
    assert_non_null(strstr(str_cstr(&f.out), "b OK [READ-WRITE]"));
    expect(&f, in + used, "c OK NOOP completed");
    fake_imap_free(&f);
}

/* ---- authentication ---- */

static void test_logindisabled(void **state)
{
    struct fake_imap f;
    fake_imap_init(&f, false, false, 0);
    assert_non_null(strstr(str_cstr(&f.out), "LOGINDISABLED"));
    assert_null(strstr(str_cstr(&f.out), "AUTH=PLAIN"));
    expect(&f, "a LOGIN bob hungry\r\n", "a NO [PRIVACYREQUIRED]");
    expect(&f, "b AUTHENTICATE PLAIN AGJvYgBodW5ncnk=\r\n", "b NO [PRIVACYREQUIRED]");
    expect(&f, "c SELECT INBOX\r\n", "c BAD Log in first");
    expect(&f, "d STARTTLS\r\n", "d OK Begin TLS negotiation now");
    expect(&f, "e CAPABILITY\r\n", "AUTH=PLAIN");
    expect_not(&f, "e2 CAPABILITY\r\n", "STARTTLS");
    expect(&f, "f LOGIN bob wrong\r\n", "f NO [AUTHENTICATIONFAILED]");
    expect(&f, "g LOGIN \"bob\" {6}\r\nhungry\r\n", "g OK [CAPABILITY");
    expect(&f, "h LOGIN bob hungry\r\n", "h BAD Already logged in");
    fake_imap_free(&f);
}

static void test_authenticate(void **state)
{
    struct fake_imap f;
    fake_imap_init(&f, true, false, 0);
    expect(&f, "a AUTHENTICATE CRAM-MD5\r\n", "a NO [CANNOT]");
    expect(&f, "b AUTHENTICATE PLAIN\r\n", "+ \r\n");
    expect(&f, "*\r\n", "b BAD Authentication cancelled");
    expect(&f, "c AUTHENTICATE PLAIN\r\n", "+ \r\n");
    expect(&f, "!!!\r\n", "c BAD Invalid SASL PLAIN response");
    expect(&f, "d AUTHENTICATE PLAIN\r\n", "+ \r\n");
    /* base64("\0bob\0hungry") */
    expect(&f, "AGJvYgBodW5ncnk=\r\n", "d OK [CAPABILITY");
    fake_imap_free(&f);
    fake_imap_init(&f, true, false, 0);
    expect(&f, "e AUTHENTICATE PLAIN AGJvYgBodW5ncnk=\r\n", "e OK [CAPABILITY");
    fake_imap_free(&f);
}

/* ---- bad input ---- */

static void test_bad_input(void **state)
{
    struct fake_imap f;
    setup(&f);
    expect(&f, "\r\n", "");
    expect(&f, "nocommand\r\n", "nocommand BAD");
    expect(&f, "a FROB\r\n", "a BAD Unknown command");
    expect(&f, "b LOGIN bob\r\n", "b BAD");
    expect(&f, "c LOGIN \"bob hungry\r\n", "c BAD");
    login_select(&f);
    expect(&f, "d FETCH 1:x FLAGS\r\n", "d BAD Invalid sequence set");
    expect(&f, "e FETCH 3 FLAGS\r\n", "e BAD Invalid message sequence number");
    expect(&f, "f FETCH 1 (FLAGS\r\n", "f BAD");
    expect(&f, "g FETCH 1 BODY[9.HEADER.FIELDS]\r\n", "g BAD");
    fake_imap_free(&f);
    setup(&f); /* a fresh session: max_errors is 10 */
    login_select(&f);
    expect(&f, "h STORE 1 +FLAGS (\\Bogus)\r\n", "h BAD Invalid system flag");
    expect(&f, "i SEARCH FROB\r\n", "i BAD");
    expect(&f, "j SEARCH CHARSET KOI8-X ALL\r\n", "j NO [BADCHARSET");
    expect(&f, "l UID FROB 1\r\n", "l BAD Unknown UID command");
    expect(&f, "k SELECT \"a/../b\"\r\n", "k NO [CANNOT] Invalid mailbox name");
    expect(&f, "m NOOP\r\n", "m OK NOOP completed");
    expect(&f, "n STARTTLS\r\n", "n BAD");
    fake_imap_free(&f);
}

static void test_too_many_errors(void **state)
{
    struct fake_imap f;
    setup(&f);
    for (int i = 0; i < 9; i++)
        expect(&f, "x FROB\r\n", "x BAD");
    expect(&f, "x FROB\r\n", "* BYE Too many invalid commands");
    assert_true(imap_session_closing(f.s));
    fake_imap_free(&f);
}

/* ---- literals ---- */

static void test_literal_limit(void **state)
{
    struct fake_imap f;
    fake_imap_init(&f, false, true, 2048);
    /* Before login, big literals are refused whatever the limit. */
    expect_not(&f, "a LOGIN bob {9000}\r\n", "+ Ready");
    assert_non_null(strstr(str_cstr(&f.out), "a NO [TOOBIG]"));
    expect(&f, "b LOGIN bob hungry\r\n", "b OK");
    /* Synchronizing: refused before a byte is read, no continuation. */
    char *got = send(&f, "c APPEND INBOX {4096}\r\n");
    assert_null(strstr(got, "+ Ready"));
    assert_non_null(strstr(got, "c NO [TOOBIG]"));
    free(got);
    /* Non-synchronizing: the bytes are skipped, the connection goes on. */
    struct str big = STR_INIT;
    str_appends(&big, "d APPEND INBOX {4096+}\r\n");
    for (int i = 0; i < 4096; i++)
        str_appendc(&big, 'x');
    str_appends(&big, "\r\ne NOOP\r\n");
    got = send(&f, str_cstr(&big));
    assert_non_null(strstr(got, "d NO [TOOBIG]"));
    assert_non_null(strstr(got, "e OK NOOP"));
    free(got);
    str_clear(&big);
    expect(&f, "f APPEND INBOX {3}\r\n", "+ Ready for literal data");
    expect(&f, "abc\r\n", "f OK [APPENDUID");
    expect(&f, "g APPEND Nowhere {3+}\r\nabc\r\n", "g NO [TRYCREATE]");
    expect(&f, "h APPEND INBOX {0}\r\n\r\n", "h NO");
    assert_false(imap_session_closing(f.s));
    /* A non-synchronizing literal too large to discard: BAD [TOOBIG] and close (RFC 7888 §4),
     * never a connection that silently swallows everything after it (issue 10 item 9). */
    got = send(&f, "i APPEND INBOX {9223372036854775807+}\r\nj NOOP\r\n");
    assert_non_null(strstr(got, "i BAD [TOOBIG]"));
    assert_non_null(strstr(got, "* BYE"));
    assert_true(imap_session_closing(f.s));
    free(got);
    fake_imap_free(&f);
    /* The same before login. */
    fake_imap_init(&f, false, true, 0);
    got = send(&f, "a LOGIN bob {2000000+}\r\n");
    assert_non_null(strstr(got, "a BAD [TOOBIG]"));
    assert_true(imap_session_closing(f.s));
    free(got);
    fake_imap_free(&f);
}

/* ---- mailboxes ---- */

static void test_mailboxes(void **state)
{
    struct fake_imap f;
    setup(&f);
    expect(&f, "a LOGIN bob hungry\r\n", "a OK");
    expect(&f, "b CREATE Work/Projects/\r\n", "b OK CREATE completed");
    expect(&f, "c LIST \"\" Work*\r\n",
           "* LIST (\\HasChildren) \"/\" \"Work\"\r\n"
           "* LIST (\\HasNoChildren) \"/\" \"Work/Projects\"\r\n");
    expect(&f, "c2 LIST \"\" %\r\n", "* LIST (\\HasChildren) \"/\" \"Work\"\r\n");
    expect_not(&f, "c3 LIST \"\" %\r\n", "Work/Projects");
    expect(&f, "c4 LIST \"\" \"\"\r\n", "* LIST (\\Noselect) \"/\" \"\"\r\n");
    expect(&f, "c5 LIST \"\" \"*\"\r\n", "* LIST (\\HasNoChildren \\Sent) \"/\" \"Sent\"");
    expect(&f, "d CREATE Work\r\n", "d NO [ALREADYEXISTS]");
    expect(&f, "e CREATE inbox\r\n", "e NO [ALREADYEXISTS]");
    expect(&f, "f DELETE Work\r\n", "f NO [HASCHILDREN] Mailbox has children");
    expect(&f, "g RENAME Work Play\r\n", "g OK RENAME completed");
    expect(&f, "h LIST Play/ %\r\n", "\"Play/Projects\"");
    expect(&f, "i DELETE Nope\r\n", "i NO [NONEXISTENT]");
    expect(&f, "j DELETE INBOX\r\n", "j NO [CANNOT]");
    /* Modified UTF-7 round trip (RFC 3501 §5.1.3). */
    expect(&f, "k CREATE \"Entw&APw-rfe\"\r\n", "k OK");
    expect(&f, "l LIST \"\" Entw*\r\n", "\"Entw&APw-rfe\"");
    expect(&f, "m CREATE \"Bad&Jjo\"\r\n", "m NO [CANNOT] Invalid mailbox name");
    /* Subscriptions survive their mailbox (RFC 3501 §6.3.6). */
    expect(&f, "n SUBSCRIBE Play/Projects\r\n", "n OK");
    expect(&f, "o LSUB \"\" Play/*\r\n", "* LSUB () \"/\" \"Play/Projects\"");
    expect(&f, "o2 LSUB \"\" %\r\n", "* LSUB (\\Noselect) \"/\" \"Play\"");
    expect(&f, "p DELETE Play/Projects\r\n", "p OK");
    expect(&f, "q LSUB \"\" *\r\n", "* LSUB (\\Noselect) \"/\" \"Play/Projects\"");
    expect(&f, "r UNSUBSCRIBE Play/Projects\r\n", "r OK");
    expect_not(&f, "s LSUB \"\" *\r\n", "Projects");
    /* RENAME INBOX moves the messages and leaves INBOX empty (§6.3.5). */
    expect(&f, "t RENAME INBOX Old\r\n", "t OK");
    expect(&f, "u STATUS Old (MESSAGES UIDNEXT)\r\n", "* STATUS \"Old\" (MESSAGES 2 UIDNEXT 3)");
    expect(&f, "v STATUS INBOX (MESSAGES)\r\n", "* STATUS \"INBOX\" (MESSAGES 0)");
    expect(&f, "w RENAME Old Old/Sub\r\n", "w NO [CANNOT]");
    fake_imap_free(&f);
}

/* ---- copy, move ---- */

static void test_copy_move(void **state)
{
    struct fake_imap f;
    setup(&f);
    login_select(&f);
    expect(&f, "a COPY 1:2 Trash\r\n", "a OK [COPYUID 4 1:2 1:2] COPY completed");
    expect(&f, "b UID COPY 2 Nowhere\r\n", "b NO [TRYCREATE]");
    char *got = send(&f, "c MOVE 1 Archive\r\n");
    assert_non_null(strstr(got, "* OK [COPYUID 6 1 1] Moved\r\n* 1 EXPUNGE\r\nc OK MOVE"));
    free(got);
    expect(&f, "d UID MOVE 2 Trash\r\n", "* OK [COPYUID 4 2 3] Moved\r\n* 1 EXPUNGE\r\n");
    assert_int_equal(fake_imap_count(&f, "INBOX"), 0);
    assert_int_equal(fake_imap_count(&f, "Trash"), 3);
    expect(&f, "e COPY 1 Trash\r\n", "e BAD Invalid message sequence number");
    expect(&f, "f COPY 1:* Trash\r\n", "f OK COPY completed");
    /* Copy into the selected mailbox shows up as EXISTS. */
    expect(&f, "g SELECT Trash\r\n", "* 3 EXISTS");
    expect(&f, "h COPY 1 Trash\r\n", "* 4 EXISTS");
    fake_imap_free(&f);
}

/* ---- concurrency: another session's changes ---- */

static void test_other_session(void **state)
{
    struct fake_imap f;
    setup(&f);
    login_select(&f);
    fake_imap_expunge_uid(&f, "INBOX", 1);
    fake_imap_set_flags(&f, "INBOX", 2, "\\Seen \\Flagged");
    fake_imap_deliver(&f, "INBOX", msg1, "");
    imap_session_notify(f.s);
    /* RFC 3501 §7.4.1: no EXPUNGE while answering FETCH; the numbers stay put. */
    char *got = send(&f, "a FETCH 1:* (FLAGS)\r\n");
    assert_null(strstr(got, "EXPUNGE"));
    assert_non_null(strstr(got, "* 2 FETCH (FLAGS (\\Flagged \\Seen \\Recent) UID 2)"));
    assert_non_null(strstr(got, "* 3 EXISTS\r\n"));
    free(got);
    expect(&f, "b SEARCH ALL\r\n", "* SEARCH 1 2 3\r\n");
    /* NOOP may carry it. */
    got = send(&f, "c NOOP\r\n");
    assert_non_null(strstr(got, "* 1 EXPUNGE\r\nc OK"));
    free(got);
    expect(&f, "d FETCH 1:* (UID)\r\n", "* 2 FETCH (UID 3)");
    /* UID FETCH may carry EXPUNGE (RFC 3501 §7.4.1 names only the MSN forms). */
    fake_imap_expunge_uid(&f, "INBOX", 3);
    imap_session_notify(f.s);
    expect(&f, "e UID FETCH 1:* (FLAGS)\r\n", "* 2 EXPUNGE\r\n");
    fake_imap_free(&f);
}

static void test_idle(void **state)
{
    struct fake_imap f;
    setup(&f);
    login_select(&f);
    expect(&f, "a IDLE\r\n", "+ idling\r\n");
    size_t mark = f.out.len;
    fake_imap_deliver(&f, "INBOX", msg1, "");
    fake_imap_expunge_uid(&f, "INBOX", 1);
    imap_session_notify(f.s);
    const char *got = str_cstr(&f.out) + mark;
    /* the expunge first, then the count without it (as Dovecot orders them) */
    assert_non_null(strstr(got, "* 1 EXPUNGE\r\n* 2 EXISTS\r\n* 2 RECENT\r\n"));
    expect(&f, "DONE\r\n", "a OK IDLE terminated");
    expect(&f, "b IDLE\r\n", "+ idling");
    expect(&f, "NOTDONE\r\n", "b BAD Expected DONE");
    expect(&f, "c NOOP\r\n", "c OK");
    /* A shutdown ends IDLE at once. */
    expect(&f, "d IDLE\r\n", "+ idling");
    imap_session_shutdown(f.s);
    assert_true(imap_session_closing(f.s));
    fake_imap_free(&f);
}

/* ---- flags, CONDSTORE ---- */

static void test_store_condstore(void **state)
{
    struct fake_imap f;
    setup(&f);
    login_select(&f);
    expect(&f, "a STORE 1 FLAGS ($Label1 \\Answered)\r\n",
           "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Label1)\r\n"
           "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Label1 \\*)] "
           "Flags permitted\r\n"
           "* 1 FETCH (FLAGS (\\Answered \\Recent $Label1) UID 1)\r\n");
    expect(&f, "b STORE 1 -FLAGS $label1\r\n", "* 1 FETCH (FLAGS (\\Answered \\Recent) UID 1)");
    expect(&f, "c SEARCH KEYWORD $Label1\r\n", "* SEARCH\r\n");
    expect(&f, "d ENABLE CONDSTORE\r\n", "* ENABLED CONDSTORE\r\nd OK");
    expect(&f, "e FETCH 1 (MODSEQ)\r\n", "* 1 FETCH (UID 1 MODSEQ (5))");
    expect(&f, "f STORE 1:2 (UNCHANGEDSINCE 4) +FLAGS \\Flagged\r\n",
           "* 2 FETCH (FLAGS (\\Flagged \\Seen \\Recent) UID 2 MODSEQ (6))\r\n"
           "f OK [MODIFIED 1] Conditional STORE failed");
    expect(&f, "g FETCH 1:* (FLAGS) (CHANGEDSINCE 5)\r\n", "* 2 FETCH (UID 2 FLAGS");
    expect_not(&f, "h FETCH 1:* (FLAGS) (CHANGEDSINCE 5)\r\n", "* 1 FETCH");
    expect(&f, "i SEARCH MODSEQ 6\r\n", "* SEARCH 2 (MODSEQ 6)");
    expect(&f, "j EXAMINE INBOX\r\n", "* OK [CLOSED]");
    expect(&f, "k STORE 1 +FLAGS \\Seen\r\n", "k NO [READ-ONLY]");
    fake_imap_free(&f);
}

/* ---- FETCH: sections, \Seen, bursts ---- */

static void test_fetch(void **state)
{
    struct fake_imap f;
    setup(&f);
    login_select(&f);
    expect(&f, "a FETCH 2 (BODY[HEADER.FIELDS (Subject)])\r\n",
           "BODY[HEADER.FIELDS (Subject)] {24}\r\nSubject: Re: ketchup\r\n\r\n");
    expect(&f, "b FETCH 1 BODY[TEXT]\r\n",
           "* 1 FETCH (UID 1 FLAGS (\\Seen \\Recent) BODY[TEXT] {22}\r\nDo you like ketchup?\r\n)");
    expect(&f, "c FETCH 1 (RFC822.HEADER)\r\n", "RFC822.HEADER {112}\r\nFrom: Alice");
    expect(&f, "d FETCH 2 (BODY[3] BODY[2.MIME])\r\n", "BODY[3] {0}\r\n BODY[2.MIME] {42}");
    expect(&f, "e FETCH 1 BODYSTRUCTURE\r\n",
           "BODYSTRUCTURE (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 22 1 NIL "
           "NIL NIL NIL)");
    expect(&f, "f FETCH 1 ALL\r\n", "ENVELOPE (\"Mon, 7 Jul 2025 10:00:00 +0200\" \"ketchup\"");
    expect(&f, "g FETCH 1 (BODY.PEEK[]<0.4>)\r\n", "BODY[]<0> {4}\r\nFrom)");
    fake_imap_free(&f);

    /* A large message goes out in several bursts, byte-identical. */
    size_t big = 3 * 1024 * 1024 + 17;
    char *text = xmalloc(big + 1);
    memcpy(text, "Subject: big\r\n\r\n", 16);
    for (size_t i = 16; i < big; i++)
        text[i] = (i % 78 == 77) ? '\n' : (char)('a' + i % 26);
    text[big] = '\0';
    fake_imap_init(&f, false, true, 0);
    fake_imap_deliver(&f, "INBOX", text, "");
    login_select(&f);
    size_t mark = f.out.len;
    fake_imap_feeds(&f, "h FETCH 1 BODY.PEEK[]\r\n");
    assert_true(f.writable_calls > 3);
    const char *o = str_cstr(&f.out) + mark;
    const char *lit = strstr(o, "{3145745}\r\n");
    assert_non_null(lit);
    assert_memory_equal(lit + 11, text, big);
    assert_string_equal(lit + 11 + big, ")\r\nh OK FETCH completed\r\n");
    fake_imap_free(&f);
    free(text);
}

static void test_search(void **state)
{
    struct fake_imap f;
    setup(&f);
    login_select(&f);
    expect(&f, "a SEARCH FROM alice\r\n", "* SEARCH 1\r\n");
    expect(&f, "b SEARCH OR FROM alice SUBJECT \"re:\"\r\n", "* SEARCH 1 2\r\n");
    expect(&f, "c SEARCH BODY fries\r\n", "* SEARCH 2\r\n");
    expect(&f, "d SEARCH TEXT KETCHUP UNSEEN\r\n", "* SEARCH 1\r\n");
    expect(&f, "e UID SEARCH LARGER 150\r\n", "* SEARCH 2\r\n");
    expect(&f, "f SEARCH SENTON 7-Jul-2025\r\n", "* SEARCH 1\r\n");
    expect(&f, "g SEARCH NOT 1:* \r\n", "* SEARCH\r\n");
    expect(&f, "h SEARCH HEADER Content-Type multipart\r\n", "* SEARCH 2\r\n");
    expect(&f, "i SEARCH CHARSET UTF-8 TO bob\r\n", "* SEARCH 1\r\n");
    expect(&f, "j SEARCH RECENT NEW\r\n", "* SEARCH 1\r\n");
    fake_imap_free(&f);
}

/* A SEARCH over more than one cache chunk (IMAP_CHUNK = 128 messages): every chunk's parse-cache
 * entries are freed (issue 10 item 1: the first chunk's leaked; LeakSanitizer fails the binary). */
static void test_search_chunks(void **state)
{
    struct fake_imap f;
    setup(&f);
    for (int i = 0; i < 140; i++)
        fake_imap_deliver(&f, "INBOX", i % 2 ? msg1 : msg2, "");
    login_select(&f);
    for (int k = 0; k < 3; k++) {
        char *got = send(&f, "a SEARCH HEADER Subject re:\r\n");
        size_t hits = 0;
        for (const char *p = strstr(got, "* SEARCH"); p && *p != '\r'; p++)
            hits += *p == ' ';
        assert_int_equal(hits - 1, 1 + 70); /* msg2 and every even delivery */
        assert_non_null(strstr(got, "a OK SEARCH completed"));
        free(got);
    }
    fake_imap_free(&f);
}

static void test_misc(void **state)
{
    struct fake_imap f;
    setup(&f);
    expect(&f, "a ID (\"name\" \"test\")\r\n", "* ID (\"name\" \"Pigeon\"");
    expect(&f, "b ID NIL\r\n", "b OK");
    expect(&f, "c ID (\"odd\")\r\n", "c BAD");
    expect(&f, "d NAMESPACE\r\n", "d BAD");
    login_select(&f);
    expect(&f, "e NAMESPACE\r\n", "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\ne OK");
    expect(&f, "f STATUS Sent (UIDVALIDITY HIGHESTMODSEQ)\r\n",
           "* STATUS \"Sent\" (UIDVALIDITY 2 HIGHESTMODSEQ 1)");
    expect(&f, "g STATUS Sent (BOGUS)\r\n", "g BAD");
    expect(&f, "h STORE 1 +FLAGS \\Deleted\r\n", "h OK");
    expect(&f, "i CLOSE\r\n", "i OK CLOSE completed");
    assert_int_equal(fake_imap_count(&f, "INBOX"), 1);
    expect(&f, "j FETCH 1 FLAGS\r\n", "j BAD Select a mailbox first");
    expect(&f, "k EXAMINE INBOX\r\n", "k OK [READ-ONLY]");
    expect(&f, "l UNSELECT\r\n", "l OK");
    assert_int_equal(f.selected, 0);
    f.fail_requests = true;
    expect(&f, "m SELECT INBOX\r\n", "m NO [UNAVAILABLE]");
    fake_imap_free(&f);
}

/* RFC 9208: one root "" per user; no root without limits; APPEND over it: NO [OVERQUOTA]. */
static void test_quota(void **state)
{
    struct fake_imap f;
    setup(&f);
    login_select(&f);
    expect(&f, "q1 GETQUOTAROOT INBOX\r\n", "* QUOTAROOT \"INBOX\"\r\nq1 OK GETQUOTAROOT");
    expect(&f, "q2 GETQUOTA \"\"\r\n", "q2 NO [NONEXISTENT]");
    f.quota = (struct imap_quota_info){3000, 10240, 2, 100};
    expect(&f, "q3 GETQUOTAROOT Drafts\r\n",
           "* QUOTAROOT \"Drafts\" \"\"\r\n* QUOTA \"\" (STORAGE 3 10 MESSAGE 2 100)\r\n"
           "q3 OK GETQUOTAROOT completed");
    expect(&f, "q4 GETQUOTA \"\"\r\n", "* QUOTA \"\" (STORAGE 3 10 MESSAGE 2 100)\r\nq4 OK");
    expect(&f, "q5 GETQUOTA other\r\n", "q5 NO [NONEXISTENT]");
    expect(&f, "q6 GETQUOTAROOT Nowhere\r\n", "q6 NO [NONEXISTENT]");
    expect(&f, "q7 SETQUOTA \"\" (STORAGE 1)\r\n", "q7 NO [NOPERM]");
    expect(&f, "q8 SETQUOTA\r\n", "q8 BAD");
    f.quota.used_bytes = 10000;
    expect(&f, "q9 APPEND Drafts {500+}\r\n", "");
    char big[501];
    memset(big, 'x', 500);
    big[500] = '\0';
    expect(&f, big, "");
    expect(&f, "\r\n", "q9 NO [OVERQUOTA] Quota exceeded");
    expect(&f, "q10 APPEND Drafts {5+}\r\nhello\r\n", "q10 OK [APPENDUID");
    expect(&f, "c CAPABILITY\r\n", " QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE");
    fake_imap_free(&f);
}

/* APPEND's date-time keeps its zone: FETCH INTERNALDATE gives it back as written (as
 * Dovecot does), COPY keeps it, and SEARCH ON judges the day in that zone. */
static void test_internaldate_zone(void **state)
{
    struct fake_imap f;
    setup(&f);
    login_select(&f);
    expect(&f, "z1 APPEND Drafts \"07-Jul-1996 23:44:25 -0700\" {5+}\r\nhello\r\n", "z1 OK");
    expect(&f, "z2 APPEND Drafts \" 1-Feb-2000 00:30:00 +0530\" {5+}\r\nworld\r\n", "z2 OK");
    expect(&f, "z3 SELECT Drafts\r\n", "z3 OK");
    expect(&f, "z4 FETCH 1:2 INTERNALDATE\r\n",
           "* 1 FETCH (UID 1 INTERNALDATE \"07-Jul-1996 23:44:25 -0700\")\r\n"
           "* 2 FETCH (UID 2 INTERNALDATE \"01-Feb-2000 00:30:00 +0530\")\r\n");
    /* in UTC these are 8-Jul-1996 and 31-Jan-2000: the zone's own day counts */
    expect(&f, "z5 SEARCH ON 7-Jul-1996\r\n", "* SEARCH 1\r\n");
    expect(&f, "z6 SEARCH ON 1-Feb-2000\r\n", "* SEARCH 2\r\n");
    expect(&f, "z7 COPY 1 INBOX\r\n", "z7 OK");
    expect(&f, "z8 SELECT INBOX\r\n", "z8 OK");
    expect(&f, "z9 FETCH * INTERNALDATE\r\n", "INTERNALDATE \"07-Jul-1996 23:44:25 -0700\"");
    fake_imap_free(&f);
}

int main(void)
{
    log_set_level(LOG_ERR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_script),
        cmocka_unit_test(test_split_every_offset),
        cmocka_unit_test(test_split_second_script),
        cmocka_unit_test(test_async_pause),
        cmocka_unit_test(test_logindisabled),
        cmocka_unit_test(test_authenticate),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_too_many_errors),
        cmocka_unit_test(test_literal_limit),
        cmocka_unit_test(test_mailboxes),
        cmocka_unit_test(test_copy_move),
        cmocka_unit_test(test_other_session),
        cmocka_unit_test(test_idle),
        cmocka_unit_test(test_store_condstore),
        cmocka_unit_test(test_fetch),
        cmocka_unit_test(test_search),
        cmocka_unit_test(test_search_chunks),
        cmocka_unit_test(test_misc),
        cmocka_unit_test(test_quota),
        cmocka_unit_test(test_internaldate_zone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
