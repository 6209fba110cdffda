/*
 * Unit tests for imap/sortkey (RFC 5256 base subject, sent date, address keys, criteria) and
 * imap/thread (ORDEREDSUBJECT and REFERENCES, RFC 5256 §3-4).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/str.h"
#include "imap/parser.h"
#include "imap/sortkey.h"
#include "imap/thread.h"

#include <stdlib.h>
#include <string.h>

static void expect_base(const char *subject, const char *want, bool want_reply)
{
    struct str o = STR_INIT;
    bool reply = !want_reply;
    imap_base_subject(subject, strlen(subject), &o, &reply);
    if (strcmp(str_cstr(&o), want) != 0 || reply != want_reply)
        fail_msg("base subject of '%s': '%s' reply %d, want '%s' reply %d", subject, str_cstr(&o),
                 reply, want, want_reply);
    str_clear(&o);
}

static void test_base_subject(void **state)
{
    expect_base("a", "A", false);
    expect_base("Re: ketchup", "KETCHUP", true);
    expect_base("  Re:   re: FWD: lunch  ", "LUNCH", true);
    expect_base("[foo] Fwd: [bar] Re: fw: b (fWd)  (fwd)", "B", true);
    expect_base("Re: [FWD: c]", "C", true);
    expect_base("[xyz]", "[XYZ]", false);        /* a blob alone stays: nothing after it */
    expect_base("[list] hello", "HELLO", false); /* a blob before text goes */
    expect_base("re: [fwd: [fwd: re: [fwd: babylon]]]", "BABYLON", true);
    expect_base("Ad: Re: Ad: Re: Ad: x", "AD: RE: AD: RE: AD: X", false);
    expect_base("Re [x]: tab\there", "TAB HERE", true);
    expect_base("Reply: x", "REPLY: X", false); /* "re" must be followed by ":" */
    expect_base("", "", false);
    expect_base(" ", "", false);
    expect_base("_", "_", false);
    expect_base("(fwd)", "", true);
}

static void expect_addr(const char *value, bool display, const char *want)
{
    struct str o = STR_INIT;
    imap_sort_address(value, strlen(value), display, &o);
    if (strcmp(str_cstr(&o), want) != 0)
        fail_msg("address key of '%s' (display %d): '%s', want '%s'", value, display, str_cstr(&o),
                 want);
    str_clear(&o);
}

static void test_address(void **state)
{
    expect_addr("Alice Doe <alice@example.org>, bob@example.net", false, "ALICE");
    expect_addr("Alice Doe <alice@example.org>", true, "ALICE DOE");
    expect_addr("b@c.d", true, "B@C.D");
    expect_addr("user2@domain1.org", false, "USER2");
    expect_addr("undisclosed-recipients:;", false, "UNDISCLOSED-RECIPIENTS");
    expect_addr("", true, "");
    expect_addr("Team: carol@example.org;", false, "TEAM"); /* a group sorts by its name */
    expect_addr("Team: carol@example.org;", true, "TEAM");
    expect_addr("d", true, "D@.MISSING-HOST-NAME.");
}

static void test_dates_and_ids(void **state)
{
    const char *d = "Mon, 7 Jul 2025 10:00:00 +0200";
    assert_int_equal(imap_sent_date(d, strlen(d), 5), 1751875200);
    assert_int_equal(imap_sent_date("garbage", 7, 5), 5);
    assert_int_equal(imap_sent_date(NULL, 0, 9), 9);
    struct msg_arena a;
    msg_arena_init(&a, 256);
    const char *ids[3];
    const char *refs = "<a@x> junk <b@x>\n <c@x> <broken <>";
    size_t n = imap_msgids(refs, strlen(refs), &a, ids, 3);
    assert_int_equal(n, 3);
    assert_string_equal(ids[0], "a@x");
    assert_string_equal(ids[2], "c@x");
    n = imap_msgids(refs, strlen(refs), &a, ids, 2); /* the nearest two */
    assert_int_equal(n, 2);
    assert_string_equal(ids[0], "b@x");
    assert_string_equal(ids[1], "c@x");
    msg_arena_clear(&a);
}

static const struct imap_cmd *parse(struct imap_parser *p, const char *line)
{
    size_t used;
    struct imap_parser_event ev;
    int r = imap_parser_feed(p, line, strlen(line), &used, &ev);
    assert_int_equal(r, IMAP_PARSE_COMMAND);
    return ev.cmd;
}

static void test_criteria(void **state)
{
    struct imap_parser *p = imap_parser_new(NULL);
    struct imap_sort_crit c[IMAP_SORT_MAX_KEYS];
    size_t n;
    unsigned want;
    const char *err = NULL;
    const struct imap_cmd *cmd = parse(p, "t SORT (REVERSE date subject DISPLAYFROM)\r\n");
    assert_true(imap_sort_criteria_parse(&cmd->args[0], c, &n, &want, &err));
    assert_int_equal(n, 3);
    assert_true(c[0].reverse && c[0].key == IMAP_SORT_DATE);
    assert_false(c[1].reverse);
    assert_int_equal(want, IMAP_WANT_DATE | IMAP_WANT_SUBJECT | IMAP_WANT_DISPLAYFROM);
    static const char *const bad[] = {"t SORT ()\r\n", "t SORT (REVERSE)\r\n",
                                      "t SORT (REVERSE REVERSE DATE)\r\n", "t SORT (COLOR)\r\n",
                                      "t SORT DATE\r\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cmd = parse(p, bad[i]);
        err = NULL;
        assert_false(imap_sort_criteria_parse(&cmd->args[0], c, &n, &want, &err));
        assert_non_null(err);
    }
    imap_parser_free(p);
}

/* ---- threads ---- */

struct tmsg {
    const char *subject, *msgid, *refs[4];
    int64_t sent;
};

static char *thread(enum imap_thread_algo algo, const struct tmsg *m, size_t n)
{
    struct imap_sort_item *it = calloc(n, sizeof *it);
    struct str keys[16];
    for (size_t i = 0; i < n; i++) {
        str_init(&keys[i]);
        it[i].seq = it[i].num = (uint32_t)(i + 1);
        it[i].sent = m[i].sent;
        imap_base_subject(m[i].subject, strlen(m[i].subject), &keys[i], &it[i].reply);
        it[i].subject = str_cstr(&keys[i]);
        it[i].msgid = m[i].msgid;
        it[i].refs = (const char **)m[i].refs;
        while (it[i].nrefs < 4 && m[i].refs[it[i].nrefs])
            it[i].nrefs++;
    }
    struct str o = STR_INIT;
    imap_thread(algo, it, n, &o);
    for (size_t i = 0; i < n; i++)
        str_clear(&keys[i]);
    free(it);
    str_appends(&o, "");
    return str_steal(&o);
}

static void expect_thread(enum imap_thread_algo algo, const struct tmsg *m, size_t n,
                          const char *want)
{
    char *got = thread(algo, m, n);
    if (strcmp(got, want) != 0)
        fail_msg("thread: '%s', want '%s'", got, want);
    free(got);
}

static void test_orderedsubject(void **state)
{
    /* RFC 5256 §3 ORDEREDSUBJECT: groups by base subject, parent first, groups by date */
    const struct tmsg m[] = {
        {"lunch", "1@x", {NULL}, 300},     {"Re: lunch", "2@x", {NULL}, 100},
        {"other", "3@x", {NULL}, 200},     {"RE: Lunch", "4@x", {NULL}, 400},
        {"Re: other", "5@x", {NULL}, 250},
    };
    expect_thread(IMAP_THREAD_ORDEREDSUBJECT, m, 5, "(2 (1)(4))(3 5)");
    expect_thread(IMAP_THREAD_ORDEREDSUBJECT, m, 0, "");
}

static void test_references(void **state)
{
    /* a chain, a reply to a missing message (dummy with two children at the root), and a
     * message whose References mention an unknown middle id */
    const struct tmsg chain[] = {
        {"a", "1@x", {NULL}, 10},
        {"Re: a", "2@x", {"1@x", NULL}, 20},
        {"Re: a", "3@x", {"1@x", "2@x", NULL}, 30},
        {"b", "4@x", {"gone@x", NULL}, 40},
        {"Re: b", "5@x", {"gone@x", NULL}, 35},
        {"c", "6@x", {"1@x", "lost@x", NULL}, 50},
    };
    expect_thread(IMAP_THREAD_REFERENCES, chain, 6, "(1 (2 3)(6))((5)(4))");
}

static void test_references_subjects(void **state)
{
    /* roots with the same base subject join: a non-reply takes a reply as its child; two
     * non-replies get a dummy parent; a message without Message-ID and duplicate ids count as
     * messages of their own */
    const struct tmsg m[] = {
        {"hello", "1@x", {NULL}, 10}, {"Re: hello", "2@x", {NULL}, 20}, {"news", NULL, {NULL}, 30},
        {"news", "1@x", {NULL}, 40},  {"", "5@x", {NULL}, 50},
    };
    expect_thread(IMAP_THREAD_REFERENCES, m, 5, "(1 2)((3)(4))(5)");
}

static void test_references_loops(void **state)
{
    /* References that loop (each names the other) never hang or lose a message */
    const struct tmsg m[] = {
        {"x", "1@x", {"2@x", NULL}, 10},
        {"y", "2@x", {"1@x", NULL}, 20},
        {"z", "3@x", {"3@x", NULL}, 30},
    };
    expect_thread(IMAP_THREAD_REFERENCES, m, 3, "(2 1)(3)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base_subject),        cmocka_unit_test(test_address),
        cmocka_unit_test(test_dates_and_ids),       cmocka_unit_test(test_criteria),
        cmocka_unit_test(test_orderedsubject),      cmocka_unit_test(test_references),
        cmocka_unit_test(test_references_subjects), cmocka_unit_test(test_references_loops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
