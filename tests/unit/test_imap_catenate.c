/*
 * CATENATE (RFC 4469) through fakes/fake_imap, and the IMAP URLs it takes (imap/url.h,
 * RFC 5092's same-server subset): messages built from TEXT literals and sections of stored
 * messages, BADURL for a URL that names nothing, TRYCREATE before any URL is looked at,
 * all-or-none with MULTIAPPEND, and the command cut at every offset.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/err.h"
#include "core/xmalloc.h"
#include "fakes/fake_imap.h"
#include "imap/url.h"
#include "imap_expect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char m1[] = "From: foo@example.com\r\nSubject: one\r\n\r\nHello world body\r\n";
static const char m2[] = "From: bar@example.com\r\nMIME-Version: 1.0\r\n"
                         "Content-Type: multipart/mixed; boundary=XX\r\n\r\n"
                         "--XX\r\nContent-Type: text/plain\r\n\r\npart one\r\n"
                         "--XX\r\nContent-Type: text/plain\r\n\r\npart two\r\n--XX--\r\n";

static void test_url_parse(void **state)
{
    struct imap_url u;
    const char *err;
    imap_url_init(&u);
    static const char ok1[] =
        "/INBOX;UIDVALIDITY=385759045/;UID=20/;SECTION=1.HEADER.FIELDS%20(From)"
        "/;PARTIAL=10.20";
    assert_int_equal(imap_url_parse(ok1, strlen(ok1), &u, &err), 0);
    assert_string_equal(str_cstr(&u.mailbox), "INBOX");
    assert_int_equal(u.uidvalidity, 385759045);
    assert_int_equal(u.uid, 20);
    assert_string_equal(str_cstr(&u.section), "1.HEADER.FIELDS (From)");
    assert_true(u.partial);
    assert_int_equal(u.start, 10);
    assert_int_equal(u.count, 20);
    /* lower-case keys, a hierarchical name in UTF-8, inbox in any case */
    static const char ok2[] = "/inbox/caf%C3%A9/;uid=7";
    assert_int_equal(imap_url_parse(ok2, strlen(ok2), &u, &err), 0);
    assert_string_equal(str_cstr(&u.mailbox), "INBOX/caf\xc3\xa9");
    assert_int_equal(u.uidvalidity, 0);
    assert_int_equal(u.uid, 7);
    assert_int_equal(u.section.len, 0);
    assert_false(u.partial);
    static const char ok3[] = "/Sent/;UID=1/;PARTIAL=0";
    assert_int_equal(imap_url_parse(ok3, strlen(ok3), &u, &err), 0);
    assert_true(u.partial);
    assert_int_equal(u.count, UINT32_MAX);
    /* the absolute form with URLAUTH (RFC 4467 §3), and a rump */
    static const char full[] = "imap://bob@hamburger.edu/INBOX/;uid=20/;section=1.2"
                               ";EXPIRE=2030-01-01T00:00:00Z;urlauth=user+bob%40hamburger.edu"
                               ":internal:0123456789abcdef0123456789ABCDEF";
    assert_int_equal(imap_url_parse(full, strlen(full), &u, &err), 0);
    assert_true(u.absolute);
    assert_string_equal(str_cstr(&u.owner), "bob@hamburger.edu");
    assert_string_equal(str_cstr(&u.mailbox), "INBOX");
    assert_int_equal(u.uid, 20);
    assert_string_equal(str_cstr(&u.section), "1.2");
    assert_int_equal(u.expire, 1893456000);
    assert_int_equal(u.access, IMAP_URL_ACCESS_USER);
    assert_string_equal(str_cstr(&u.access_user), "bob@hamburger.edu");
    assert_int_equal(u.rump_len,
                     strlen(full) - strlen(":internal:0123456789abcdef0123456789ABCDEF"));
    assert_string_equal(str_cstr(&u.mech), "internal");
    assert_string_equal(str_cstr(&u.token), "0123456789abcdef0123456789ABCDEF");
    static const char rump[] = "imap://joe%40example.com@mail.example.com:143/Sent/;UID=3"
                               ";URLAUTH=authuser";
    assert_int_equal(imap_url_parse(rump, strlen(rump), &u, &err), 0);
    assert_string_equal(str_cstr(&u.owner), "joe@example.com");
    assert_int_equal(u.access, IMAP_URL_ACCESS_AUTHUSER);
    assert_int_equal(u.rump_len, strlen(rump));
    assert_int_equal(u.mech.len, 0);
    static const char plain[] = "imap://joe@example.com/Sent/;UID=3";
    assert_int_equal(imap_url_parse(plain, strlen(plain), &u, &err), 0);
    assert_string_equal(str_cstr(&u.owner), "joe@example.com");
    assert_int_equal(u.access, IMAP_URL_ACCESS_NONE);
    static const char *const bad[] = {
        "",
        "INBOX/;UID=1",                              /* not an absolute path */
        "//host/INBOX/;UID=1",                       /* a network path */
        "imap://localhost/INBOX/;UID=1",             /* no user */
        "imap://bob@localhost",                      /* no path */
        "imap://bob@/INBOX/;UID=1",                  /* no host */
        "imap://a@b@/INBOX/;UID=1",                  /* the last "@" ends the user: no host */
        "/INBOX/;UID=1;URLAUTH=authuser",            /* URLAUTH in the relative form */
        "imap://bob@h/INBOX/;UID=1;URLAUTH=someone", /* unknown access */
        "imap://bob@h/INBOX/;UID=1;URLAUTH=authuser:internal:12", /* token too short */
        "imap://bob@h/INBOX/;UID=1;URLAUTH=authuser:internal:" /* no token */,
        "imap://bob@h/INBOX/;UID=1;URLAUTH=authuser::0123456789abcdef0123456789abcdef",
        "imap://bob@h/INBOX/;UID=1;EXPIRE=2026-13-01T00:00:00Z;URLAUTH=authuser",
        "imap://bob@h/INBOX/;UID=1;EXPIRE=2026-12-01T00:00:00Z", /* EXPIRE alone */
        "/INBOX",                                                /* no message */
        "/INBOX/;UID=0",                                         /* nz-number */
        "/INBOX/;UID=4294967296",                                /* over 32 bits */
        "/INBOX/;UID=01",                                        /* leading zero */
        "/INBOX/;UID=1x",                                        /* junk */
        "/INBOX;UIDVALIDITY=/;UID=1",                            /* empty number */
        "/IN BOX/;UID=1",                                        /* a space must be %20 */
        "/IN%2/;UID=1",                                          /* short escape */
        "/IN%00X/;UID=1",                                        /* NUL */
        "/a/../b/;UID=1",                                        /* a level that escapes */
        "/INBOX/;UID=1/;SECTION=",                               /* empty section */
        "/INBOX/;UID=1/;PARTIAL=1.0",                            /* count is nz */
        "/INBOX/;UID=1/;URLAUTH=anonymous",                      /* URLAUTH */
        "/INBOX/;UID=1/;SECTION=1/;PARTIAL=1/",                  /* trailing */
        "/;UID=1",                                               /* no mailbox */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (imap_url_parse(bad[i], strlen(bad[i]), &u, &err) != ERR_PARSE)
            fail_msg("accepted %s", bad[i]);
    imap_url_clear(&u);
}

static void setup(struct fake_imap *f)
{
    fake_imap_init(f, false, true, 0);
    fake_imap_deliver(f, "INBOX", m1, "");
    fake_imap_deliver(f, "INBOX", m2, "");
    expect(f, "a LOGIN bob hungry\r\n", "a OK");
}

/* APPEND succeeds, and the last message of Drafts is want_body. */
static void expect_built(struct fake_imap *f, const char *append, const char *want_body)
{
    expect(f, append, " OK [APPENDUID ");
    char line[256];
    int n = fake_imap_count(f, "Drafts");
    snprintf(line, sizeof line, "x EXAMINE Drafts\r\ny FETCH %d BODY.PEEK[]\r\n", n);
    char want[1024];
    snprintf(want, sizeof want, "BODY[] {%zu}\r\n%s)", strlen(want_body), want_body);
    expect(f, line, want);
}

static void test_catenate(void **state)
{
    struct fake_imap f;
    setup(&f);
    expect(&f, "c CAPABILITY\r\n", " CATENATE");
    /* RFC 4469 §3's shape: a new header, a part of another message, a trailer */
    expect_built(&f,
                 "a APPEND Drafts (\\Seen) CATENATE (TEXT {14+}\r\nSubject: new\r\n"
                 " URL \"/INBOX;UIDVALIDITY=1/;UID=1/;SECTION=TEXT\" TEXT {8+}\r\n-- bye\r\n)\r\n",
                 "Subject: new\r\nHello world body\r\n-- bye\r\n");
    expect_built(&f,
                 "b APPEND Drafts CATENATE (URL \"/INBOX/;UID=1/;SECTION=HEADER\" "
                 "TEXT {7+}\r\nbody1\r\n)\r\n",
                 "From: foo@example.com\r\nSubject: one\r\n\r\nbody1\r\n");
    expect_built(&f, "c APPEND Drafts CATENATE (URL \"/INBOX/;UID=2/;SECTION=2\")\r\n", "part two");
    expect_built(&f, "d APPEND Drafts CATENATE (URL \"/INBOX/;UID=1/;PARTIAL=6.15\")\r\n",
                 "foo@example.com");
    expect_built(&f, "e APPEND Drafts CATENATE (URL \"/inbox/;uid=1\")\r\n", m1);
    /* a partial past the end adds nothing */
    expect_built(&f,
                 "f APPEND Drafts CATENATE (URL \"/INBOX/;UID=2/;PARTIAL=100000.1\" "
                 "TEXT {10+}\r\nHdr: foo\r\n)\r\n",
                 "Hdr: foo\r\n");
    int before = fake_imap_count(&f, "Drafts");
    /* BADURL: another UIDVALIDITY, no such message, mailbox or section, a foreign server */
    expect(&f, "g APPEND Drafts CATENATE (URL \"/INBOX;UIDVALIDITY=12345/;UID=1\")\r\n",
           "g NO [BADURL /INBOX;UIDVALIDITY=12345/;UID=1]");
    expect(&f, "h APPEND Drafts CATENATE (TEXT {3+}\r\nx\r\n URL \"/INBOX/;UID=99\")\r\n",
           "h NO [BADURL /INBOX/;UID=99]");
    expect(&f, "i APPEND Drafts CATENATE (URL \"/Nowhere/;UID=1\")\r\n", "i NO [BADURL");
    expect(&f, "j APPEND Drafts CATENATE (URL \"/INBOX/;UID=1/;SECTION=FOO\")\r\n", "j NO [BADURL");
    expect(&f, "k APPEND Drafts CATENATE (URL \"imap://bob@localhost/INBOX/;UID=1\")\r\n",
           "k NO [BADURL");
    /* TRYCREATE comes first, even when a URL is bad too */
    expect(&f, "l APPEND Nowhere CATENATE (URL \"/INBOX;UIDVALIDITY=9/;UID=1\")\r\n",
           "l NO [TRYCREATE]");
    /* syntax */
    expect(&f, "m APPEND Drafts CATENATE ()\r\n", "m BAD");
    expect(&f, "n APPEND Drafts CATENATE (TEXT)\r\n", "n BAD");
    expect(&f, "o APPEND Drafts CATENATE (TEXT \"quoted\")\r\n", "o BAD");
    expect(&f, "p APPEND Drafts CATENATE (FILE \"/x\")\r\n", "p BAD");
    expect(&f, "q APPEND Drafts CATENATE (URL \"/INBOX/;UID=1/;PARTIAL=100000\")\r\n",
           "q NO Cannot append an empty message");
    assert_int_equal(fake_imap_count(&f, "Drafts"), before);
    fake_imap_free(&f);
}

static void test_catenate_multiappend(void **state)
{
    struct fake_imap f;
    setup(&f);
    expect(&f,
           "a APPEND Drafts CATENATE (URL \"/INBOX/;UID=1/;SECTION=HEADER\" TEXT {4+}\r\none\n)"
           " (\\Answered) {4+}\r\ntwo\n CATENATE (URL \"/INBOX/;UID=2/;SECTION=1\")\r\n",
           "a OK [APPENDUID 3 1:3]");
    expect(&f, "b EXAMINE Drafts\r\nc FETCH 1:3 (BODY.PEEK[])\r\n", "BODY[] {8}\r\npart one)");
    /* one bad URL: none of the messages is stored */
    expect(&f,
           "d APPEND Drafts CATENATE (URL \"/INBOX/;UID=1\") CATENATE (URL \"/INBOX/;UID=9\")\r\n",
           "d NO [BADURL");
    assert_int_equal(fake_imap_count(&f, "Drafts"), 3);
    fake_imap_free(&f);
}

/* A CATENATE cut at every offset gives the same replies as whole. */
static void test_split(void **state)
{
    const char script[] = "a APPEND Drafts CATENATE (TEXT {8+}\r\nNew: x\r\n URL "
                          "\"/INBOX/;UID=1/;SECTION=TEXT\" TEXT {3}\r\nend)\r\n"
                          "b EXAMINE Drafts\r\nc FETCH 1 BODY.PEEK[]\r\n";
    struct fake_imap f;
    setup(&f);
    size_t mark = f.out.len;
    fake_imap_feeds(&f, script);
    char *want = xstrdup(str_cstr(&f.out) + mark);
    fake_imap_free(&f);
    if (!strstr(want, "BODY[] {29}\r\nNew: x\r\nHello world body\r\nend)"))
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
        cmocka_unit_test(test_url_parse),
        cmocka_unit_test(test_catenate),
        cmocka_unit_test(test_catenate_multiappend),
        cmocka_unit_test(test_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
