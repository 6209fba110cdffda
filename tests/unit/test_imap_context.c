/*
 * CONTEXT=SEARCH and CONTEXT=SORT (RFC 5267 §4) through fakes/fake_imap: PARTIAL results,
 * RETURN (UPDATE) contexts told ADDTO/REMOVEFROM after this session's STORE, EXPUNGE and
 * APPEND and after another session's changes (also in IDLE), positions of SORT updates,
 * CANCELUPDATE, the end of contexts with the mailbox, and the commands cut at every offset.
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

static const char *const msgs[] = {
    "From: a@x\r\nSubject: s1\r\nDate: Thu, 3 Jul 2025 12:00:00 +0000\r\n\r\nbody one\r\n",
    "From: b@x\r\nSubject: s2\r\nDate: Tue, 1 Jul 2025 12:00:00 +0000\r\n\r\nbody two\r\n",
    "From: c@x\r\nSubject: s3\r\nDate: Wed, 2 Jul 2025 12:00:00 +0000\r\n\r\nbody three\r\n",
    "From: d@x\r\nSubject: s4\r\nDate: Mon, 30 Jun 2025 12:00:00 +0000\r\n\r\nbody four\r\n",
    "From: e@x\r\nSubject: s5\r\nDate: Fri, 4 Jul 2025 12:00:00 +0000\r\n\r\nbody five\r\n",
};

static void setup(struct fake_imap *f)
{
    fake_imap_init(f, false, true, 0);
    for (size_t i = 0; i < 5; i++)
        fake_imap_deliver(f, "INBOX", msgs[i], "");
    expect(f, "a LOGIN bob hungry\r\n", "a OK");
    expect(f, "s SELECT INBOX\r\n", "s OK [READ-WRITE]");
}

static void test_partial(void **state)
{
    struct fake_imap f;
    setup(&f);
    expect(&f, "c CAPABILITY\r\n", " CONTEXT=SEARCH CONTEXT=SORT");
    expect(&f, "a SEARCH RETURN (PARTIAL 1:1) ALL\r\n", "* ESEARCH (TAG \"a\") PARTIAL (1:1 1)");
    expect(&f, "b SEARCH RETURN (PARTIAL 4:2) ALL\r\n", "* ESEARCH (TAG \"b\") PARTIAL (2:4 2:4)");
    expect(&f, "c SEARCH RETURN (PARTIAL 1:6) ALL\r\n", "PARTIAL (1:6 1:5)");
    expect(&f, "d SEARCH RETURN (PARTIAL 6:6) ALL\r\n", "PARTIAL (6:6 NIL)");
    expect(&f, "e SEARCH RETURN (PARTIAL 2:3) 1:2,4:5\r\n", "PARTIAL (2:3 2,4)");
    expect(&f, "f UID SEARCH RETURN (PARTIAL 2:2 COUNT) ALL\r\n",
           "* ESEARCH (TAG \"f\") UID COUNT 5 PARTIAL (2:2 2)");
    expect(&f, "g SEARCH RETURN (PARTIAL 1) ALL\r\n", "g BAD");
    expect(&f, "h SEARCH RETURN (PARTIAL 1:*) ALL\r\n", "h BAD");
    expect(&f, "i SEARCH RETURN (PARTIAL *:1) ALL\r\n", "i BAD");
    expect(&f, "j SEARCH RETURN (PARTIAL 0:1) ALL\r\n", "j BAD");
    expect(&f, "k SEARCH RETURN (PARTIAL) ALL\r\n", "k BAD");
    /* SORT: positions in sorted order (dates: 4 2 3 1 5) */
    expect(&f, "l SORT RETURN (PARTIAL 2:3) (DATE) UTF-8 ALL\r\n",
           "* ESEARCH (TAG \"l\") PARTIAL (2:3 2:3)");
    expect(&f, "m SORT RETURN (PARTIAL 1:2) (REVERSE ARRIVAL) UTF-8 ALL\r\n", "PARTIAL (1:2 5,4)");
    expect(&f, "n SORT RETURN (PARTIAL 1) (DATE) UTF-8 ALL\r\n", "n BAD");
    fake_imap_free(&f);
}

static void test_update_search(void **state)
{
    struct fake_imap f;
    setup(&f);
    /* RETURN (UPDATE) alone: no result yet */
    char *got = send(&f, "u SEARCH RETURN (UPDATE) BODY body SEEN\r\n");
    assert_non_null(strstr(got, "* ESEARCH (TAG \"u\")\r\nu OK"));
    free(got);
    expect(&f, "a STORE 1,2,4 +FLAGS (\\Seen)\r\n",
           "* ESEARCH (TAG \"u\") ADDTO (0 1:2,4)\r\na OK");
    expect(&f, "b STORE 1,2 -FLAGS (\\Seen)\r\n",
           "* ESEARCH (TAG \"u\") REMOVEFROM (0 1:2)\r\nb OK");
    /* REMOVEFROM before the EXPUNGE, with the numbers before it */
    expect(&f, "c STORE 3:5 +FLAGS (\\Deleted)\r\n", "c OK");
    expect(&f, "d EXPUNGE\r\n",
           "* ESEARCH (TAG \"u\") REMOVEFROM (0 4)\r\n* 5 EXPUNGE\r\n* 4 EXPUNGE\r\n* 3 EXPUNGE");
    /* a new message of this session's APPEND */
    got = send(&f, "e APPEND INBOX (\\Seen) {18+}\r\nSubject: x\r\n\r\nbody\r\n");
    assert_non_null(strstr(got, "* 3 EXISTS\r\n"));
    assert_non_null(strstr(got, "* ESEARCH (TAG \"u\") ADDTO (0 3)\r\ne OK"));
    free(got);
    /* another session's change, told at the next command */
    fake_imap_set_flags(&f, "INBOX", 1, "\\Seen");
    imap_session_notify(f.s);
    expect(&f, "f NOOP\r\n", "* ESEARCH (TAG \"u\") ADDTO (0 1)\r\nf OK");
    /* a UID context carries uids */
    expect(&f, "g UID SEARCH RETURN (UPDATE ALL) UNSEEN\r\n", "* ESEARCH (TAG \"g\") UID ALL 2");
    expect(&f, "h STORE 1 -FLAGS (\\Seen)\r\n", "* ESEARCH (TAG \"g\") UID ADDTO (0 1)");
    expect(&f, "i CANCELUPDATE \"g\"\r\n", "i OK");
    expect_not(&f, "j STORE 1 +FLAGS (\\Seen)\r\n", "TAG \"g\"");
    expect(&f, "k CANCELUPDATE \"g\"\r\n", "k BAD");
    expect(&f, "l SEARCH RETURN (UPDATE MIN) ALL\r\n", "l BAD");
    /* contexts end with the mailbox */
    expect(&f, "m UNSELECT\r\n", "m OK");
    expect(&f, "n SELECT INBOX\r\n", "n OK");
    expect_not(&f, "o STORE 2 +FLAGS (\\Seen)\r\n", "ESEARCH");
    fake_imap_free(&f);
}

static void test_update_idle(void **state)
{
    struct fake_imap f;
    setup(&f);
    expect(&f, "u SEARCH RETURN (UPDATE COUNT) FLAGGED\r\n", "* ESEARCH (TAG \"u\") COUNT 0");
    expect(&f, "i IDLE\r\n", "+ idling");
    size_t mark = f.out.len;
    fake_imap_set_flags(&f, "INBOX", 2, "\\Flagged");
    imap_session_notify(f.s);
    assert_non_null(strstr(str_cstr(&f.out) + mark, "* ESEARCH (TAG \"u\") ADDTO (0 2)\r\n"));
    mark = f.out.len;
    fake_imap_expunge_uid(&f, "INBOX", 2);
    imap_session_notify(f.s);
    assert_non_null(
        strstr(str_cstr(&f.out) + mark, "* ESEARCH (TAG \"u\") REMOVEFROM (0 2)\r\n* 2 EXPUNGE"));
    expect(&f, "DONE\r\n", "i OK");
    fake_imap_free(&f);
}

static void test_update_sort(void **state)
{
    struct fake_imap f;
    setup(&f);
    /* by date: 4 2 3 1 5; unseen all */
    expect(&f, "u SORT RETURN (UPDATE ALL) (DATE) UTF-8 UNSEEN\r\n",
           "* ESEARCH (TAG \"u\") ALL 4,2:3,1,5");
    /* removing 2 and 3: both at position 2 (the second after the first is gone) */
    expect(&f, "a STORE 2:3 +FLAGS (\\Seen)\r\n", "* ESEARCH (TAG \"u\") REMOVEFROM (2 2,3)");
    /* back, one at a time: 3 goes to position 2 (after 4), then 2 to position 2 */
    expect(&f, "b STORE 3 -FLAGS (\\Seen)\r\n", "* ESEARCH (TAG \"u\") ADDTO (2 3)");
    expect(&f, "c STORE 2 -FLAGS (\\Seen)\r\n", "* ESEARCH (TAG \"u\") ADDTO (2 2)");
    /* 4 and 5: the first and the last */
    expect(&f, "d STORE 4:5 +FLAGS (\\Seen)\r\n", "* ESEARCH (TAG \"u\") REMOVEFROM (1 4 4 5)");
    fake_imap_free(&f);
}

/* Commands cut at every offset give the same replies as whole. */
static void test_split(void **state)
{
    const char script[] = "a SEARCH RETURN (UPDATE PARTIAL 1:2) UNSEEN\r\n"
                          "b STORE 1 +FLAGS (\\Seen)\r\nc CANCELUPDATE {1}\r\na\r\n"
                          "d SORT RETURN (PARTIAL 3:1) (SUBJECT) US-ASCII ALL\r\n";
    struct fake_imap f;
    setup(&f);
    size_t mark = f.out.len;
    fake_imap_feeds(&f, script);
    char *want = xstrdup(str_cstr(&f.out) + mark);
    fake_imap_free(&f);
    if (!strstr(want, "REMOVEFROM (0 1)\r\nb OK") || !strstr(want, "c OK") ||
        !strstr(want, "PARTIAL (1:3 1:3)"))
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
        cmocka_unit_test(test_partial),     cmocka_unit_test(test_update_search),
        cmocka_unit_test(test_update_idle), cmocka_unit_test(test_update_sort),
        cmocka_unit_test(test_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
