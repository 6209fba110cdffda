/*
 * The IMAP engine's extensions through fakes/fake_imap: ESEARCH (RFC 4731), SEARCHRES
 * (RFC 5182), SORT and SORT=DISPLAY (RFC 5256, 5957), ESORT (RFC 5267) and THREAD (RFC 5256).
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

static const char m1[] =
    "From: Carol <carol@x.org>\r\nSubject: lunch\r\n"
    "Date: Thu, 3 Jul 2025 12:00:00 +0000\r\nMessage-ID: <1@x>\r\n\r\nnoon?\r\n";
static const char m2[] = "From: alice <alice@x.org>\r\nSubject: Re: lunch\r\n"
                         "Date: Tue, 1 Jul 2025 12:00:00 +0000\r\nMessage-ID: <2@x>\r\n"
                         "References: <1@x>\r\n\r\nyes\r\n";
static const char m3[] =
    "From: Bob <bob@x.org>\r\nSubject: beer\r\n"
    "Date: Wed, 2 Jul 2025 12:00:00 +0000\r\nMessage-ID: <3@x>\r\n\r\nlater\r\n";
/* no Date: its internal date (2023) is its sent date */
static const char m4[] = "From: Zed <alice@y.org>\r\nSubject: Re: Re: lunch\r\n"
                         "Message-ID: <4@x>\r\nIn-Reply-To: <2@x>\r\n\r\nme too, a longer body\r\n";

/* Binary-safe: input of n bytes; the output must hold want[0..wn). */
static void expect_bytes(struct fake_imap *f, const char *input, size_t n, const char *want,
                         size_t wn)
{
    size_t mark = f->out.len;
    fake_imap_feed(f, input, n);
    if (!memmem(str_cstr(&f->out) + mark, f->out.len - mark, want, wn))
        fail_msg("after %s: output lacks the expected bytes", input);
}

static void setup(struct fake_imap *f)
{
    fake_imap_init(f, false, true, 0);
    fake_imap_deliver(f, "INBOX", m1, "");
    fake_imap_deliver(f, "INBOX", m2, "\\Seen");
    fake_imap_deliver(f, "INBOX", m3, "");
    fake_imap_deliver(f, "INBOX", m4, "\\Seen");
    expect(f, "a LOGIN bob hungry\r\n", "a OK");
    expect(f, "s SELECT INBOX\r\n", "s OK [READ-WRITE]");
}

static void test_capabilities(void **state)
{
    struct fake_imap f;
    setup(&f);
    expect(&f, "c CAPABILITY\r\n",
           " ESEARCH SEARCHRES SORT SORT=DISPLAY ESORT "
           "THREAD=ORDEREDSUBJECT THREAD=REFERENCES");
    fake_imap_free(&f);
}

static void test_esearch(void **state)
{
    struct fake_imap f;
    setup(&f);
    expect(&f, "a SEARCH RETURN (MIN MAX COUNT ALL) FROM alice\r\n",
           "* ESEARCH (TAG \"a\") MIN 2 MAX 4 ALL 2,4 COUNT 2\r\na OK");
    expect(&f, "b UID SEARCH RETURN () ALL\r\n", "* ESEARCH (TAG \"b\") UID ALL 1:4\r\nb OK");
    expect(&f, "c SEARCH RETURN (COUNT) 1000\r\n", "* ESEARCH (TAG \"c\") COUNT 0\r\nc OK");
    expect(&f, "d SEARCH RETURN (MIN) 1000\r\n", "* ESEARCH (TAG \"d\")\r\nd OK");
    /* RFC 7162 §3.1: the first CONDSTORE-enabling command reports HIGHESTMODSEQ, once */
    expect(&f, "d2 FETCH 1 (MODSEQ)\r\n", "* OK [HIGHESTMODSEQ 5] Highest\r\n* 1 FETCH");
    expect_not(&f, "d3 FETCH 1 (MODSEQ)\r\n", "HIGHESTMODSEQ");
    expect(&f, "e SEARCH RETURN (MAX) SEEN MODSEQ 1\r\n",
           "* ESEARCH (TAG \"e\") MAX 4 MODSEQ 5\r\ne OK");
    expect(&f, "f SEARCH RETURN (COLOR) ALL\r\n", "f BAD");
    expect(&f, "g SEARCH RETURN ALL\r\n", "g BAD");
    expect(&f, "h SEARCH SEEN\r\n", "* SEARCH 2 4\r\nh OK"); /* no RETURN: plain SEARCH */
    fake_imap_free(&f);
}

static void test_searchres(void **state)
{
    struct fake_imap f;
    setup(&f);
    expect(&f, "a SEARCH $\r\n", "* SEARCH\r\na OK"); /* nothing saved yet */
    expect_not(&f, "b SEARCH RETURN (SAVE) SUBJECT lunch\r\n", "ESEARCH");
    expect(&f, "c FETCH $ (UID)\r\n",
           "* 1 FETCH (UID 1)\r\n* 2 FETCH (UID 2)\r\n* 4 FETCH (UID 4)\r\nc OK");
    expect(&f, "d SEARCH $ FROM carol\r\n", "* SEARCH 1\r\nd OK");
    expect(&f, "e UID SEARCH NOT UID $\r\n", "* SEARCH 3\r\ne OK");
    expect(&f, "f SEARCH RETURN (SAVE MAX) UNSEEN\r\n", "* ESEARCH (TAG \"f\") MAX 3\r\nf OK");
    expect(&f, "g UID FETCH $ (UID)\r\n", "* 3 FETCH (UID 3)\r\ng OK");
    expect(&f, "h STORE $ +FLAGS (\\Flagged)\r\n", "* 3 FETCH (FLAGS (\\Flagged");
    /* a failed SAVE empties "$" (RFC 5182 §2.1) */
    expect(&f, "i SEARCH RETURN (SAVE) BEFORE nodate\r\n", "i BAD");
    expect(&f, "j SEARCH $\r\n", "* SEARCH\r\nj OK");
    /* a newly selected mailbox starts with an empty "$" */
    expect(&f, "k SEARCH RETURN (SAVE) ALL\r\n", "k OK");
    expect(&f, "l SELECT INBOX\r\n", "l OK");
    expect(&f, "m SEARCH $\r\n", "* SEARCH\r\nm OK");
    fake_imap_free(&f);
}

static void test_sort(void **state)
{
    struct fake_imap f;
    setup(&f);
    expect(&f, "a SORT (SUBJECT) UTF-8 ALL\r\n", "* SORT 3 1 2 4\r\na OK SORT completed");
    expect(&f, "b SORT (REVERSE SUBJECT) UTF-8 ALL\r\n", "* SORT 1 2 4 3\r\n");
    expect(&f, "c SORT (FROM) US-ASCII ALL\r\n", "* SORT 2 4 3 1\r\n");
    expect(&f, "d SORT (DISPLAYFROM) UTF-8 ALL\r\n", "* SORT 2 3 1 4\r\n");
    expect(&f, "e SORT (DATE) UTF-8 ALL\r\n", "* SORT 4 2 3 1\r\n");
    expect(&f, "f SORT (SUBJECT REVERSE DATE) UTF-8 ALL\r\n", "* SORT 3 1 2 4\r\n");
    expect(&f, "g SORT (ARRIVAL) UTF-8 SEEN\r\n", "* SORT 2 4\r\n");
    expect(&f, "h SORT (REVERSE SIZE) UTF-8 ALL\r\n", "* SORT 2 4 1 3\r\n");
    expect(&f, "i UID SORT (SUBJECT) US-ASCII SUBJECT lunch\r\n", "* SORT 1 2 4\r\n");
    expect(&f, "j SORT RETURN (MIN MAX COUNT) (DATE) UTF-8 ALL\r\n",
           "* ESEARCH (TAG \"j\") MIN 4 MAX 1 COUNT 4\r\nj OK");
    expect(&f, "k SORT RETURN (ALL) (DATE) UTF-8 ALL\r\n", "* ESEARCH (TAG \"k\") ALL 4,2:3,1\r\n");
    expect(&f, "l SORT (DATE) ALL\r\n", "l BAD");
    expect(&f, "m SORT (COLOR) UTF-8 ALL\r\n", "m BAD");
    expect(&f, "n SORT (DATE) KOI9-X ALL\r\n", "n NO [BADCHARSET");
    expect(&f, "o SORT DATE UTF-8 ALL\r\n", "o BAD");
    expect(&f, "p SORT RETURN (SAVE) (DATE) UTF-8 FROM alice\r\n", "p OK");
    expect(&f, "q SEARCH $\r\n", "* SEARCH 2 4\r\n");
    fake_imap_free(&f);
}

static void test_thread(void **state)
{
    struct fake_imap f;
    setup(&f);
    expect(&f, "a THREAD REFERENCES UTF-8 ALL\r\n", "* THREAD (3)(1 2 4)\r\na OK THREAD completed");
    expect(&f, "b THREAD ORDEREDSUBJECT UTF-8 ALL\r\n", "* THREAD (4 (2)(1))(3)\r\n");
    expect(&f, "c UID THREAD REFERENCES US-ASCII NOT FROM carol\r\n", "* THREAD (2 4)(3)\r\n");
    expect(&f, "d THREAD REFERENCES UTF-8 1000\r\n", "* THREAD\r\nd OK");
    expect(&f, "e THREAD COLORS UTF-8 ALL\r\n", "e BAD");
    expect(&f, "f THREAD REFERENCES\r\n", "f BAD");
    fake_imap_free(&f);
}

static void test_list_extended(void **state)
{
    struct fake_imap f;
    setup(&f);
    expect(&f, "a CREATE Work/b\r\n", "a OK");
    expect(&f, "b SUBSCRIBE Work/b\r\n", "b OK");
    expect(&f, "c SUBSCRIBE Gone/x\r\n", "c OK");
    expect(&f, "d LIST (SUBSCRIBED RECURSIVEMATCH) \"\" Work\r\n",
           "* LIST (\\HasChildren) \"/\" \"Work\" (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\nd OK");
    expect(&f, "e LIST (SUBSCRIBED RECURSIVEMATCH) \"\" %\r\n",
           "* LIST (\\NonExistent) \"/\" \"Gone\" (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n");
    expect_not(&f, "f LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (Work Work/b)\r\n", "CHILDINFO");
    expect(&f, "g LIST (SUBSCRIBED) \"\" *\r\n",
           "* LIST (\\NonExistent \\Subscribed) \"/\" \"Gone/x\"\r\n");
    expect(&f, "h LIST (RECURSIVEMATCH) \"\" %\r\n", "h BAD");
    expect(&f, "i LIST (RECURSIVEMATCH REMOTE) \"\" %\r\n", "i BAD");
    expect(&f, "j LIST (COLOR) \"\" %\r\n", "j BAD");
    expect(&f, "k LIST \"\" % RETURN (COLOR)\r\n", "k BAD");
    expect(&f, "l LIST \"\" INBOX RETURN (STATUS (MESSAGES UNSEEN))\r\n",
           "* LIST (\\HasNoChildren) \"/\" \"INBOX\"\r\n"
           "* STATUS \"INBOX\" (MESSAGES 4 UNSEEN 2)\r\nl OK LIST completed");
    expect(&f, "m LIST \"\" (Sent Drafts) RETURN (SPECIAL-USE STATUS (UIDNEXT))\r\n",
           "* LIST (\\HasNoChildren \\Drafts) \"/\" \"Drafts\"\r\n"
           "* STATUS \"Drafts\" (UIDNEXT 1)\r\n"
           "* LIST (\\HasNoChildren \\Sent) \"/\" \"Sent\"\r\n"
           "* STATUS \"Sent\" (UIDNEXT 1)\r\nm OK");
    expect(&f, "n LIST \"\" % RETURN (STATUS (COLOR))\r\n", "n BAD");
    expect(&f, "o LSUB \"\" * RETURN (STATUS (MESSAGES))\r\n", "o BAD");
    /* a subscription that does not exist gets no STATUS */
    expect_not(&f, "p LIST (SUBSCRIBED) \"\" Gone/x RETURN (STATUS (MESSAGES))\r\n", "STATUS");
    fake_imap_free(&f);
}

static void test_qresync(void **state)
{
    struct fake_imap f;
    setup(&f);
    expect(&f, "a SELECT INBOX (QRESYNC (1 2))\r\n", "a BAD"); /* not enabled */
    expect(&f, "b ENABLE QRESYNC CONDSTORE\r\n", "* ENABLED QRESYNC\r\nb OK");
    expect(&f, "c ENABLE QRESYNC\r\n", "* ENABLED\r\nc OK");
    fake_imap_expunge_uid(&f, "INBOX", 2);            /* modseq 6 (the messages have 2-5) */
    fake_imap_set_flags(&f, "INBOX", 3, "\\Flagged"); /* modseq 7 */
    expect(&f, "d SELECT INBOX (QRESYNC (1 5 1:10))\r\n",
           "* OK [HIGHESTMODSEQ 7] Highest\r\n* VANISHED (EARLIER) 2\r\n"
           "* 2 FETCH (FLAGS (\\Flagged) UID 3 MODSEQ (7))\r\nd OK [READ-WRITE] SELECT");
    /* known-uids narrow VANISHED; a stale UIDVALIDITY gives neither VANISHED nor FETCH */
    expect_not(&f, "e EXAMINE INBOX (QRESYNC (1 5 3:10 (1:2 3:4)))\r\n", "VANISHED");
    expect_not(&f, "f SELECT INBOX (QRESYNC (77 1))\r\n", "FETCH");
    expect(&f, "g SELECT INBOX (QRESYNC (1 0))\r\n", "g BAD");
    expect(&f, "h SELECT INBOX (QRESYNC (1 x))\r\n", "h BAD");
    expect(&f, "i SELECT INBOX (QRESYNC)\r\n", "i BAD");
    /* EXPUNGE now answers with VANISHED */
    expect(&f, "j STORE 1 +FLAGS.SILENT (\\Deleted)\r\n", "j OK");
    expect(&f, "k EXPUNGE\r\n", "* VANISHED 1\r\nk OK");
    expect(&f, "l UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)\r\n",
           "* VANISHED (EARLIER) 1:2\r\n");
    expect(&f, "m UID FETCH 1:* (FLAGS) (VANISHED)\r\n", "m BAD");
    expect(&f, "n FETCH 1 (FLAGS) (CHANGEDSINCE 1 VANISHED)\r\n", "n BAD");
    fake_imap_expunge_uid(&f, "INBOX", 4);
    expect(&f, "o NOOP\r\n", "* VANISHED 4\r\no OK");
    fake_imap_free(&f);
}

static const char mb[] =
    "From: a@x.org\r\nSubject: parts\r\nContent-Type: multipart/mixed; boundary=z\r\n\r\n"
    "--z\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
    "caf=C3=A9 =3D ok\r\n"
    "--z\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    "AAECAw==\r\n"
    "--z\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nbegin\r\n"
    "--z--\r\n";

static void test_binary(void **state)
{
    struct fake_imap f;
    setup(&f);
    fake_imap_deliver(&f, "INBOX", mb, "");
    expect(&f, "n NOOP\r\n", "* 5 EXISTS");
    expect(&f, "a FETCH 5 (BINARY.PEEK[1])\r\n",
           "* 5 FETCH (UID 5 BINARY[1] {10}\r\ncaf\xc3\xa9 = ok)\r\na OK");
    static const char want_b[] =
        "* 5 FETCH (UID 5 BINARY[2] ~{4}\r\n\x00\x01\x02\x03 BINARY.SIZE[2] 4)\r\nb OK";
    expect_bytes(&f, "b FETCH 5 (BINARY.PEEK[2] BINARY.SIZE[2])\r\n", 43, want_b,
                 sizeof want_b - 1);
    expect(&f, "c FETCH 5 (BINARY.PEEK[1]<3.4>)\r\n", "BINARY[1]<3> {4}\r\n\xc3\xa9 =)");
    expect(&f, "d FETCH 5 (BINARY.PEEK[3])\r\n", "d NO [UNKNOWN-CTE]");
    expect(&f, "e FETCH 5 (BINARY.PEEK[1.MIME])\r\n", "e BAD");
    expect(&f, "f FETCH 5 (BINARY.SIZE[1]<0.3>)\r\n", "f BAD");
    expect(&f, "g FETCH 5 (BINARY.PEEK[9])\r\n", "BINARY[9] {0}\r\n");
    expect(&f, "h FETCH 5 (FLAGS)\r\n", "FLAGS (\\Recent)");
    expect(&f, "i FETCH 5 (BINARY[2])\r\n", "FLAGS (\\Seen \\Recent)"); /* sets \Seen */
    /* APPEND takes a literal8 (the NUL's round trip is in test_imap_ext.py: the fake keeps
     * texts NUL-terminated) */
    static const char app[] = "j APPEND Drafts ~{6+}\r\nA\r\n\r\n\0\r\n";
    expect_bytes(&f, app, sizeof app - 1, "j OK [APPENDUID", 15);
    fake_imap_free(&f);
}

static void test_multiappend(void **state)
{
    struct fake_imap f;
    setup(&f);
    expect(&f,
           "a APPEND Drafts (\\Draft) {5+}\r\nfirst \"7-Jul-2025 10:00:00 +0200\" {6+}\r\n"
           "second {5+}\r\nthird\r\n",
           "a OK [APPENDUID 3 1:3] APPEND completed");
    assert_int_equal(fake_imap_count(&f, "Drafts"), 3);
    expect(&f, "b APPEND Drafts {3+}\r\none (\\Seen)\r\n", "b BAD");
    expect(&f, "c APPEND Drafts {3+}\r\none {0+}\r\n\r\n", "c NO");
    expect(&f, "d APPEND Nowhere {3+}\r\none {3+}\r\ntwo\r\n", "d NO [TRYCREATE]");
    assert_int_equal(fake_imap_count(&f, "Drafts"), 3); /* none of a failed APPEND */
    expect(&f, "e EXAMINE Drafts\r\n", "* 3 EXISTS");
    expect(&f, "f FETCH 1:3 (FLAGS BODY[])\r\n", "BODY[] {6}\r\nsecond)\r\n* 3 FETCH");
    fake_imap_free(&f);
}

static void test_compress(void **state)
{
    struct fake_imap f;
    fake_imap_init(&f, false, true, 0);
    expect_not(&f, "a CAPABILITY\r\n", "COMPRESS"); /* not before login */
    expect(&f, "b COMPRESS DEFLATE\r\n", "b BAD");
    expect(&f, "c LOGIN bob hungry\r\n", " COMPRESS=DEFLATE]");
    expect(&f, "d COMPRESS GZIP\r\n", "d BAD");
    assert_false(f.compress_requested);
    /* the command after COMPRESS is not read in the same call: it is compressed data */
    size_t mark = f.out.len;
    const char two[] = "e COMPRESS DEFLATE\r\nf NOOP\r\n";
    size_t used = imap_session_feed(f.s, two, sizeof two - 1);
    assert_int_equal(used, strlen("e COMPRESS DEFLATE\r\n"));
    assert_string_equal(str_cstr(&f.out) + mark, "e OK DEFLATE active\r\n");
    assert_true(f.compress_requested);
    expect(&f, "g COMPRESS DEFLATE\r\n", "g NO [COMPRESSIONACTIVE]");
    expect_not(&f, "h CAPABILITY\r\n", "COMPRESS");
    fake_imap_free(&f);
}

/* A SORT and a THREAD cut at every offset give the same replies as whole. */
static void test_split(void **state)
{
    const char script[] =
        "a SORT RETURN (ALL) (REVERSE DATE) UTF-8 OR FROM alice FROM {3+}\r\nbob\r\n"
        "b THREAD REFERENCES US-ASCII ALL\r\nc SEARCH RETURN (COUNT) $\r\n";
    struct fake_imap f;
    setup(&f);
    size_t mark = f.out.len;
    fake_imap_feeds(&f, script);
    char *want = xstrdup(str_cstr(&f.out) + mark);
    fake_imap_free(&f);
    if (!strstr(want, "ALL 3,2,4\r\n"))
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
        cmocka_unit_test(test_capabilities),  cmocka_unit_test(test_esearch),
        cmocka_unit_test(test_searchres),     cmocka_unit_test(test_sort),
        cmocka_unit_test(test_thread),        cmocka_unit_test(test_split),
        cmocka_unit_test(test_list_extended), cmocka_unit_test(test_qresync),
        cmocka_unit_test(test_binary),        cmocka_unit_test(test_multiappend),
        cmocka_unit_test(test_compress),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
