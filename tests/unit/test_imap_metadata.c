/*
 * METADATA (RFC 5464) through fakes/fake_imap: the RFC's examples of SETMETADATA and
 * GETMETADATA on the server and on a mailbox, DEPTH and MAXSIZE, entry-name rules, the size
 * and count limits, literal and literal8 values, and the commands cut at every offset.
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

static void setup(struct fake_imap *f)
{
    fake_imap_init(f, false, true, 0);
    expect(f, "a LOGIN bob hungry\r\n", "a OK");
}

static void test_set_get(void **state)
{
    struct fake_imap f;
    setup(&f);
    expect(&f, "c CAPABILITY\r\n", " METADATA");
    /* RFC 5464 §4.3's examples */
    expect(
        &f,
        "a SETMETADATA INBOX (/private/comment {33+}\r\nMy new comment across\r\ntwo lines.)\r\n",
        "a OK SETMETADATA");
    expect(&f, "b GETMETADATA \"INBOX\" /private/comment\r\n",
           "* METADATA \"INBOX\" (/private/comment {33}\r\nMy new comment across\r\ntwo lines.)\r\n"
           "b OK");
    expect(&f, "c SETMETADATA \"\" (/shared/comment \"Shared comment\")\r\n", "c OK");
    expect(&f, "d GETMETADATA \"\" (/shared/comment /private/comment)\r\n",
           "* METADATA \"\" (/shared/comment \"Shared comment\" /private/comment NIL)\r\nd OK");
    /* the server's and the mailbox's entries are apart; names are case-insensitive */
    expect(&f, "e GETMETADATA INBOX /SHARED/Comment\r\n",
           "* METADATA \"INBOX\" (/shared/comment NIL)\r\ne OK");
    /* NIL removes */
    expect(&f, "f SETMETADATA INBOX (/private/comment NIL)\r\n", "f OK");
    expect(&f, "g GETMETADATA INBOX /private/comment\r\n",
           "* METADATA \"INBOX\" (/private/comment NIL)\r\ng OK");
    /* a value with a NUL comes back as literal8 */
    static const char bin[] = "h SETMETADATA INBOX (/private/vendor/x ~{3+}\r\na\0b)\r\n";
    fake_imap_feed(&f, bin, sizeof bin - 1);
    size_t mark = f.out.len;
    fake_imap_feeds(&f, "i GETMETADATA INBOX /private/vendor/x\r\n");
    static const char want[] = "* METADATA \"INBOX\" (/private/vendor/x ~{3}\r\na\0b)\r\ni OK";
    assert_true(f.out.len - mark >= sizeof want - 1);
    assert_memory_equal(str_cstr(&f.out) + mark, want, sizeof want - 1);
    /* unknown mailbox */
    expect(&f, "j GETMETADATA Nowhere /private/comment\r\n", "j NO [NONEXISTENT]");
    expect(&f, "k SETMETADATA Nowhere (/private/comment \"x\")\r\n", "k NO [NONEXISTENT]");
    fake_imap_free(&f);
}

static void test_depth_maxsize(void **state)
{
    struct fake_imap f;
    setup(&f);
    expect(&f,
           "a SETMETADATA INBOX (/private/filters/values/small \"sm\" "
           "/private/filters/values/big \"a big value\" /private/filters/values/x/deep \"d\")\r\n",
           "a OK");
    expect(&f, "b GETMETADATA (DEPTH 1) INBOX (/private/filters/values)\r\n",
           "* METADATA \"INBOX\" (/private/filters/values/big \"a big value\" "
           "/private/filters/values/small \"sm\")\r\nb OK");
    char *got = send(&f, "c GETMETADATA (DEPTH infinity) INBOX /private/filters\r\n");
    assert_non_null(strstr(got, "/private/filters/values/x/deep \"d\""));
    free(got);
    /* RFC 5464 §4.2.1: larger values left out, the largest size told */
    expect(&f, "d GETMETADATA (MAXSIZE 5 DEPTH 1) INBOX /private/filters/values\r\n",
           "* METADATA \"INBOX\" (/private/filters/values/small \"sm\")\r\n"
           "d OK [METADATA LONGENTRIES 11]");
    expect(&f, "e GETMETADATA (DEPTH 2) INBOX /private/filters\r\n", "e BAD");
    expect(&f, "f GETMETADATA (MAXSIZE x) INBOX /private/filters\r\n", "f BAD");
    expect(&f, "g GETMETADATA (DEPTH) INBOX /private/filters\r\n", "g BAD");
    fake_imap_free(&f);
}

static void test_limits(void **state)
{
    struct fake_imap f;
    setup(&f);
    static const char *const bad[] = {
        "/comment",    "/private",     "/private/", "/private//x", "/private/a*",
        "/private/a%", "/private/a b", "/public/x", "private/x",   "/private/caf\xc3\xa9",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) { /* BADs: a session each */
        struct fake_imap g;
        setup(&g);
        char line[128];
        snprintf(line, sizeof line, "s SETMETADATA INBOX (\"%s\" \"v\")\r\n", bad[i]);
        expect(&g, line, "s BAD");
        fake_imap_free(&g);
    }
    expect(&f, "t GETMETADATA INBOX /private/a*\r\n", "t BAD");
    expect(&f, "u SETMETADATA INBOX (/private/x)\r\n", "u BAD");
    expect(&f, "v SETMETADATA INBOX /private/x \"y\"\r\n", "v BAD");
    expect(&f, "w GETMETADATA INBOX ()\r\n", "w BAD");
    /* a value over 64 KiB: MAXSIZE tells the limit */
    struct str big = STR_INIT;
    str_appendf(&big, "x SETMETADATA INBOX (/private/big {%d+}\r\n", 64 * 1024 + 1);
    for (int i = 0; i <= 64 * 1024; i++)
        str_appendc(&big, 'a');
    str_appends(&big, ")\r\n");
    expect(&f, str_cstr(&big), "x NO [METADATA MAXSIZE 65536]");
    str_clear(&big);
    /* the store's count limit (the fake keeps 8): TOOMANY */
    for (int i = 0; i < 8; i++) {
        char line[96];
        snprintf(line, sizeof line, "y SETMETADATA \"\" (/private/n%d \"v\")\r\n", i);
        expect(&f, line, "y OK");
    }
    expect(&f, "z SETMETADATA \"\" (/private/one-more \"v\")\r\n", "z NO [METADATA TOOMANY]");
    /* before login: not allowed */
    struct fake_imap g;
    fake_imap_init(&g, false, true, 0);
    expect(&g, "a GETMETADATA \"\" /shared/comment\r\n", "a BAD");
    fake_imap_free(&g);
    fake_imap_free(&f);
}

/* SETMETADATA and GETMETADATA cut at every offset give the same replies as whole. */
static void test_split(void **state)
{
    const char script[] =
        "a SETMETADATA INBOX (/private/comment {4}\r\nab c /shared/x \"q\\\"\")\r\n"
        "b GETMETADATA (DEPTH 1 MAXSIZE 100) \"\" (/private /shared)\r\n"
        "c GETMETADATA INBOX (/private/comment /shared/x)\r\n";
    struct fake_imap f;
    setup(&f);
    size_t mark = f.out.len;
    fake_imap_feeds(&f, script);
    char *want = xstrdup(str_cstr(&f.out) + mark);
    fake_imap_free(&f);
    if (!strstr(want, "(/private/comment \"ab c\" /shared/x \"q\\\"\")\r\nc OK"))
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
        cmocka_unit_test(test_set_get),
        cmocka_unit_test(test_depth_maxsize),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
