/*
 * URLAUTH (RFC 4467) and URLAUTH=BINARY (RFC 5524) through fakes/fake_imap: GENURLAUTH signs
 * rump URLs, URLFETCH returns what a valid URL names and NIL for a tampered, revoked, expired
 * or foreign one, RESETKEY revokes, CATENATE takes signed URLs; the access identifiers.
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

static const char m1[] = "From: a@x.org\r\nSubject: one\r\n\r\nfirst body\r\n";
static const char m2[] = "From: b@x.org\r\nMIME-Version: 1.0\r\n"
                         "Content-Type: multipart/mixed; boundary=XX\r\n\r\n"
                         "--XX\r\nContent-Type: text/plain\r\n\r\npart one\r\n"
                         "--XX\r\nContent-Type: application/octet-stream\r\n"
                         "Content-Transfer-Encoding: base64\r\n\r\naGVsbG8gd29ybGQ=\r\n--XX--\r\n";

#define BASE "imap://bob@hamburger.edu/INBOX/;uid="

static void setup(struct fake_imap *f)
{
    fake_imap_init(f, false, true, 0);
    fake_imap_deliver(f, "INBOX", m1, "");
    fake_imap_deliver(f, "INBOX", m2, "");
    expect(f, "a LOGIN bob hungry\r\n", "a OK");
}

/* GENURLAUTH of one rump URL; returns the signed URL (malloc'd). */
static char *gen(struct fake_imap *f, const char *rump)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "g GENURLAUTH \"%s\" INTERNAL\r\n", rump);
    char *got = send(f, cmd);
    const char *p = strstr(got, "* GENURLAUTH \"");
    if (!p || !strstr(got, "g OK"))
        fail_msg("GENURLAUTH %s gave\n%s", rump, got);
    p += strlen("* GENURLAUTH \"");
    char *url = xstrndup(p, (size_t)(strchr(p, '"') - p));
    free(got);
    assert_int_equal(strncmp(url, rump, strlen(rump)), 0);
    assert_int_equal(strlen(url), strlen(rump) + strlen(":INTERNAL:") + 64);
    return url;
}

/* URLFETCH url; true when it returned the bytes want, false when NIL. */
static bool fetch(struct fake_imap *f, const char *url, const char *want)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "u URLFETCH \"%s\"\r\n", url);
    char *got = send(f, cmd);
    if (!strstr(got, "u OK URLFETCH"))
        fail_msg("URLFETCH %s gave\n%s", url, got);
    char nil[1100], lit[1100];
    snprintf(nil, sizeof nil, "* URLFETCH \"%s\" NIL\r\n", url);
    snprintf(lit, sizeof lit, "* URLFETCH \"%s\" {%zu}\r\n%s\r\n", url, strlen(want), want);
    bool found = strstr(got, lit) != NULL, none = strstr(got, nil) != NULL;
    if (found == none)
        fail_msg("URLFETCH %s gave\n%s", url, got);
    free(got);
    return found;
}

static void test_genurlauth_urlfetch(void **state)
{
    struct fake_imap f;
    setup(&f);
    char *u1 = gen(&f, BASE "1;urlauth=user+bob@hamburger.edu");
    assert_true(fetch(&f, u1, m1));
    char *u2 = gen(&f, BASE "2/;section=1;urlauth=authuser");
    assert_true(fetch(&f, u2, "part one"));
    /* the same key signs both: a second GENURLAUTH of the same rump gives the same URL */
    char *again = gen(&f, BASE "1;urlauth=user+bob@hamburger.edu");
    assert_string_equal(again, u1);
    /* tampering: another digit of the token, another uid under the same token */
    char *bad = xstrdup(u1);
    char *last = bad + strlen(bad) - 1;
    *last = *last == '0' ? '1' : '0';
    assert_false(fetch(&f, bad, m1));
    free(bad);
    bad = xstrdup(u1);
    bad[strlen(BASE)] = '2';
    assert_false(fetch(&f, bad, m1));
    free(bad);
    /* several URLs, and the extended form: BINARY decodes base64 (RFC 5524) */
    char *u3 = gen(&f, BASE "2/;section=2;urlauth=authuser");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "x URLFETCH (\"%s\" BINARY BODYPARTSTRUCTURE) \"%s\"\r\n", u3, u1);
    char *got = send(&f, cmd);
    assert_non_null(strstr(got, "(BODYPARTSTRUCTURE (\"application\" \"octet-stream\""));
    assert_non_null(strstr(got, " BINARY {11}\r\nhello world)\r\n"));
    char lit[32];
    snprintf(lit, sizeof lit, "\" {%zu}\r\nFrom: a@x.org", strlen(m1));
    assert_non_null(strstr(got, lit));
    free(got);
    /* RESETKEY of the mailbox revokes its URLs; a new GENURLAUTH signs anew */
    expect(&f, "r RESETKEY INBOX\r\n", "r OK [URLMECH INTERNAL]");
    assert_false(fetch(&f, u1, m1));
    assert_false(fetch(&f, u2, "part one"));
    char *u4 = gen(&f, BASE "1;urlauth=user+bob@hamburger.edu");
    assert_string_not_equal(u4, u1);
    assert_true(fetch(&f, u4, m1));
    expect(&f, "s RESETKEY\r\n", "s OK All keys removed");
    assert_false(fetch(&f, u4, m1));
    free(u1);
    free(u2);
    free(u3);
    free(u4);
    free(again);
    fake_imap_free(&f);
}

static void test_urlauth_access_and_expiry(void **state)
{
    struct fake_imap f;
    setup(&f);
    /* another user's access identifier, and submit+ (a submission server's): NIL here */
    char *alice = gen(&f, BASE "1;urlauth=user+alice@hamburger.edu");
    assert_false(fetch(&f, alice, m1));
    char *sub = gen(&f, BASE "1;urlauth=submit+bob@hamburger.edu");
    assert_false(fetch(&f, sub, m1));
    /* EXPIRE: valid before the date, NIL after it */
    char *exp = gen(&f, BASE "1;EXPIRE=2030-01-01T00:00:00Z;urlauth=authuser");
    assert_true(fetch(&f, exp, m1));
    f.now = 1893456000 + 1;
    assert_false(fetch(&f, exp, m1));
    f.now = 0;
    /* UIDVALIDITY in the URL must match */
    char *uv = gen(&f, "imap://bob@hamburger.edu/INBOX;UIDVALIDITY=999/;uid=1;urlauth=authuser");
    assert_false(fetch(&f, uv, m1));
    /* refusals of GENURLAUTH */
    expect(&f, "b GENURLAUTH \"" BASE "1;urlauth=anonymous\" INTERNAL\r\n", "b NO");
    expect(&f,
           "c GENURLAUTH \"imap://eve@hamburger.edu/INBOX/;uid=1;urlauth=authuser\" "
           "INTERNAL\r\n",
           "c NO [BADURL");
    expect(&f, "d GENURLAUTH \"" BASE "1;urlauth=authuser\" XSAMPLE\r\n", "d NO");
    expect(&f, "e GENURLAUTH \"" BASE "1\" INTERNAL\r\n", "e BAD");
    expect(&f, "h GENURLAUTH \"/INBOX/;uid=1\" INTERNAL\r\n", "h BAD");
    char full[600];
    snprintf(full, sizeof full, "i GENURLAUTH \"%s\" INTERNAL\r\n", exp);
    expect(&f, full, "i BAD");
    expect(&f,
           "j GENURLAUTH \"imap://bob@hamburger.edu/Nowhere/;uid=1;urlauth=authuser\" "
           "INTERNAL\r\n",
           "j NO [NONEXISTENT]");
    expect(&f, "k GENURLAUTH\r\n", "k BAD");
    expect(&f, "l URLFETCH\r\n", "l BAD");
    expect(&f, "m URLFETCH (\"" BASE "1\" BINARY BINARY)\r\n", "m BAD");
    expect(&f, "n RESETKEY Nowhere\r\n", "n NO [NONEXISTENT]");
    expect(&f, "o RESETKEY INBOX XSAMPLE\r\n", "o NO");
    /* a URL without URLAUTH, or malformed: NIL */
    assert_false(fetch(&f, BASE "1", m1));
    assert_false(fetch(&f, "not a url", m1));
    free(alice);
    free(sub);
    free(exp);
    free(uv);
    fake_imap_free(&f);
}

static void test_urlauth_catenate(void **state)
{
    struct fake_imap f;
    setup(&f);
    char *u = gen(&f, BASE "2/;section=1;urlauth=user+bob@hamburger.edu");
    int before = fake_imap_count(&f, "Drafts");
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "c APPEND Drafts CATENATE (TEXT {18+}\r\nSubject: fwd\r\n\r\nx\n URL \"%s\")\r\n", u);
    expect(&f, cmd, "c OK [APPENDUID");
    assert_int_equal(fake_imap_count(&f, "Drafts"), before + 1);
    expect(&f, "s SELECT Drafts\r\n", "s OK");
    expect(&f, "t FETCH * BODY.PEEK[TEXT]\r\n", "{10}\r\nx\npart one");
    u[strlen(u) - 1] = u[strlen(u) - 1] == 'a' ? 'b' : 'a';
    snprintf(cmd, sizeof cmd, "d APPEND Drafts CATENATE (URL \"%s\")\r\n", u);
    expect(&f, cmd, "d NO [BADURL");
    free(u);
    fake_imap_free(&f);
}

static void test_urlauth_needs_login(void **state)
{
    struct fake_imap f;
    fake_imap_init(&f, false, true, 0);
    expect(&f, "a GENURLAUTH \"" BASE "1;urlauth=authuser\" INTERNAL\r\n", "a BAD");
    expect(&f, "b URLFETCH \"" BASE "1\"\r\n", "b BAD");
    expect(&f, "c RESETKEY\r\n", "c BAD");
    expect(&f, "d CAPABILITY\r\n", " URLAUTH URLAUTH=BINARY");
    fake_imap_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_genurlauth_urlfetch),
        cmocka_unit_test(test_urlauth_access_and_expiry),
        cmocka_unit_test(test_urlauth_catenate),
        cmocka_unit_test(test_urlauth_needs_login),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
