/* The SMTP session engine driven through fakes/fake_smtp: replies, states, content framing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/log.h"
#include "fakes/fake_smtp.h"

#include <string.h>

/* Returns the reply lines written since `from` (offset into f->out). */
static const char *since(struct fake_smtp *f, size_t from)
{
    return str_cstr(&f->out) + from;
}

static void expect_reply(struct fake_smtp *f, const char *input, const char *prefix)
{
    size_t mark = f->out.len;
    fake_smtp_feeds(f, input);
    const char *got = since(f, mark);
    if (strncmp(got, prefix, strlen(prefix)) != 0)
        fail_msg("after %s expected '%s...', got '%s'", input, prefix, got);
}

static const char textbook[] = "HELO crepes.fr\r\n"
                               "MAIL FROM: <alice@crepes.fr>\r\n"
                               "RCPT TO: <bob@hamburger.edu>\r\n"
                               "DATA\r\n"
                               "Do you like ketchup?\r\n"
                               "How about pickles?\r\n"
                               ".\r\n"
                               "QUIT\r\n";

static const char textbook_replies[] = "220 mail.hamburger.edu ESMTP Pigeon\r\n"
                                       "250 mail.hamburger.edu\r\n"
                                       "250 2.1.0 Sender <alice@crepes.fr> OK\r\n"
                                       "250 2.1.5 Recipient <bob@hamburger.edu> OK\r\n"
                                       "354 End data with <CR><LF>.<CR><LF>\r\n"
                                       "250 2.0.0 Ok: queued as ID\r\n"
                                       "221 2.0.0 mail.hamburger.edu closing connection\r\n";

static const char *body_of(struct fake_smtp *f)
{
    /* skip the Received: header (ends at the "; date\r\n" line) */
    const char *b = str_cstr(&f->committed);
    const char *end = strstr(b, " +0000\r\n");
    return end ? end + 8 : b;
}

static void test_textbook(void **state)
{
    struct fake_smtp f;
    fake_smtp_init(&f, false, false);
    fake_smtp_feeds(&f, textbook);
    assert_string_equal(str_cstr(&f.out), textbook_replies);
    assert_int_equal(f.ncommitted, 1);
    assert_true(f.closed);
    assert_true(strncmp(str_cstr(&f.committed), "Received: from crepes.fr ([127.0.0.1])\r\n", 40) ==
                0);
    assert_string_equal(body_of(&f), "Do you like ketchup?\r\nHow about pickles?\r\n");
    fake_smtp_free(&f);
}

/* The same input split at every offset (and byte by byte) gives the same replies. */
static void test_textbook_every_split(void **state)
{
    size_t n = strlen(textbook);
    for (size_t cut = 0; cut <= n; cut++) {
        struct fake_smtp f;
        fake_smtp_init(&f, false, false);
        fake_smtp_feed(&f, textbook, cut);
        fake_smtp_feed(&f, textbook + cut, n - cut);
        assert_string_equal(str_cstr(&f.out), textbook_replies);
        assert_string_equal(body_of(&f), "Do you like ketchup?\r\nHow about pickles?\r\n");
        fake_smtp_free(&f);
    }
    struct fake_smtp f;
    fake_smtp_init(&f, false, false);
    for (size_t i = 0; i < n; i++)
        fake_smtp_feed(&f, textbook + i, 1);
    assert_string_equal(str_cstr(&f.out), textbook_replies);
    fake_smtp_free(&f);
}

static void start_txn(struct fake_smtp *f)
{
    expect_reply(f, "EHLO x\r\n", "250-mail.hamburger.edu");
    expect_reply(f, "MAIL FROM:<a@b.c>\r\n", "250 2.1.0");
    expect_reply(f, "RCPT TO:<bob@hamburger.edu>\r\n", "250 2.1.5");
    expect_reply(f, "DATA\r\n", "354 ");
}

/* SMTP smuggling: only CRLF.CRLF ends DATA; bare LF is stored as CRLF. */
static void test_smuggling(void **state)
{
    struct fake_smtp f;
    fake_smtp_init(&f, false, false);
    start_txn(&f);
    fake_smtp_feeds(&f, "a\r\n.\nMAIL FROM:<evil@x>\r\nb\n.\r\nc\r\n.\r\n");
    assert_int_equal(f.ncommitted, 1);
    assert_string_equal(body_of(&f), "a\r\n.\r\nMAIL FROM:<evil@x>\r\nb\r\n.\r\nc\r\n");
    fake_smtp_free(&f);
}

/* Issue 10 item 7: a bare CR is a line end of its own, stored as CRLF, so "\r.\r\n" can never
 * be relayed as an end of data; with reject_bare_line_ends the message gets 550 5.6.0. */
static void test_bare_cr(void **state)
{
    struct fake_smtp f;
    fake_smtp_init(&f, false, false);
    start_txn(&f);
    fake_smtp_feeds(&f, "a\r.\r\nMAIL FROM:<evil@x>\rb\r\r\n.\r\n");
    assert_int_equal(f.ncommitted, 1);
    assert_string_equal(body_of(&f), "a\r\n.\r\nMAIL FROM:<evil@x>\r\nb\r\n\r\n");
    fake_smtp_free(&f);
    /* split at every offset: the held CR crosses the cut */
    const char *in = "x\r.\ry\r\n.\r\n";
    for (size_t cut = 0; cut <= strlen(in); cut++) {
        fake_smtp_init(&f, false, false);
        start_txn(&f);
        fake_smtp_feed(&f, in, cut);
        fake_smtp_feed(&f, in + cut, strlen(in) - cut);
        assert_string_equal(body_of(&f), "x\r\n\r\ny\r\n");
        fake_smtp_free(&f);
    }
    struct smtp_server_config cfg;
    fake_smtp_config(&cfg, false);
    cfg.reject_bare_line_ends = true;
    fake_smtp_init_config(&f, &cfg, false);
    start_txn(&f);
    expect_reply(&f, "a\r.\r\nb\r\n.\r\n", "550 5.6.0");
    assert_int_equal(f.ncommitted, 0);
    start_txn(&f);
    expect_reply(&f, "bare\nLF\r\n.\r\n", "550 5.6.0");
    start_txn(&f);
    expect_reply(&f, "clean\r\n.\r\n", "250 2.0.0");
    assert_int_equal(f.ncommitted, 1);
    fake_smtp_free(&f);
}

static void test_dot_stuffing(void **state)
{
    struct fake_smtp f;
    fake_smtp_init(&f, false, false);
    start_txn(&f);
    fake_smtp_feeds(&f, "..hello\r\n...\r\n.x\r\n.\r\n");
    assert_string_equal(body_of(&f), ".hello\r\n..\r\nx\r\n");
    fake_smtp_free(&f);
}

static void test_order_errors(void **state)
{
    struct fake_smtp f;
    fake_smtp_init(&f, false, false);
    expect_reply(&f, "MAIL FROM:<a@b.c>\r\n", "503 5.5.1");
    expect_reply(&f, "HELO x\r\n", "250 ");
    expect_reply(&f, "RCPT TO:<bob@hamburger.edu>\r\n", "503 5.5.1");
    expect_reply(&f, "DATA\r\n", "503 5.5.1");
    expect_reply(&f, "MAIL FROM:<a@b.c>\r\n", "250 ");
    expect_reply(&f, "MAIL FROM:<a@b.c>\r\n", "503 5.5.1");
    expect_reply(&f, "DATA\r\n", "503 5.5.1");
    expect_reply(&f, "RCPT TO:<nobody@hamburger.edu>\r\n", "550 5.1.1");
    expect_reply(&f, "RCPT TO:<x@elsewhere.org>\r\n", "554 5.7.1");
    expect_reply(&f, "FOO\r\n", "500 5.5.2");
    expect_reply(&f, "VRFY bob\r\n", "252 ");
    expect_reply(&f, "NOOP\r\n", "250 2.0.0");
    expect_reply(&f, "RSET\r\n", "250 2.0.0");
    expect_reply(&f, "AUTH PLAIN\r\n", "503 5.5.1"); /* not offered on the MX role */
    fake_smtp_free(&f);
}

/* The verb table's phase columns: each verb out of order gets its own 503 text, in every
 * phase (before HELO, greeted, after MAIL, after RCPT, between BDAT chunks), and the
 * command changes nothing. */
static void test_verb_phases(void **state)
{
    struct fake_smtp f;
    struct smtp_server_config cfg;
    fake_smtp_config(&cfg, false);
    cfg.max_errors = 100; /* more 503s here than a client may make by default */
    cfg.starttls = true;
    fake_smtp_init_config(&f, &cfg, false);
    expect_reply(&f, "MAIL FROM:<a@b.c>\r\n", "503 5.5.1 Error: send HELO/EHLO first");
    expect_reply(&f, "RCPT TO:<bob@hamburger.edu>\r\n", "503 5.5.1 Error: need MAIL command");
    expect_reply(&f, "DATA\r\n", "503 5.5.1 Error: need MAIL command");
    expect_reply(&f, "BDAT 2\r\nxy", "503 5.5.1 Error: need MAIL command");
    expect_reply(&f, "AUTH PLAIN\r\n", "503 5.5.1 Error: send HELO/EHLO first");
    expect_reply(&f, "EHLO x\r\n", "250-");
    expect_reply(&f, "RCPT TO:<bob@hamburger.edu>\r\n", "503 5.5.1 Error: need MAIL command");
    expect_reply(&f, "DATA\r\n", "503 5.5.1 Error: need MAIL command");
    expect_reply(&f, "MAIL FROM:<a@b.c>\r\n", "250 ");
    expect_reply(&f, "MAIL FROM:<a@b.c>\r\n", "503 5.5.1 Error: nested MAIL command");
    expect_reply(&f, "DATA\r\n", "503 5.5.1 Error: need RCPT command");
    expect_reply(&f, "STARTTLS\r\n", "503 5.5.1 Error: STARTTLS inside a transaction");
    expect_reply(&f, "AUTH PLAIN\r\n", "503 5.5.1 Error: AUTH not allowed during a transaction");
    /* a refused BDAT's chunk is read and dropped, and ends the transaction (RFC 3030 §2) */
    expect_reply(&f, "BDAT 1\r\nz", "503 5.5.1 Error: need RCPT command");
    expect_reply(&f, "RCPT TO:<bob@hamburger.edu>\r\n", "503 5.5.1 Error: need MAIL command");
    expect_reply(&f, "MAIL FROM:<a@b.c>\r\n", "250 ");
    expect_reply(&f, "RCPT TO:<bob@hamburger.edu>\r\n", "250 ");
    expect_reply(&f, "MAIL FROM:<a@b.c>\r\n", "503 5.5.1 Error: nested MAIL command");
    expect_reply(&f, "BDAT 3\r\nabc", "250 2.0.0 3 octets");
    expect_reply(&f, "DATA\r\n", "503 5.5.1 Error: DATA after BDAT");
    expect_reply(&f, "RCPT TO:<bob@hamburger.edu>\r\n", "503 5.5.1 Error: RCPT after BDAT");
    expect_reply(&f, "MAIL FROM:<a@b.c>\r\n", "503 5.5.1 Error: nested MAIL command");
    expect_reply(&f, "STARTTLS\r\n", "503 5.5.1 Error: STARTTLS inside a transaction");
    expect_reply(&f, "BDAT 2 LAST\r\nde", "250 2.0.0 Ok: queued");
    assert_string_equal(body_of(&f), "abcde");
    assert_int_equal(f.ncommitted, 1);
    fake_smtp_free(&f);
}

static void test_limits(void **state)
{
    struct fake_smtp f;
    fake_smtp_init(&f, false, false);
    char line[700];
    memset(line, 'a', sizeof line);
    memcpy(line, "NOOP ", 5);
    memcpy(line + sizeof line - 2, "\r\n", 2);
    size_t mark = f.out.len;
    fake_smtp_feed(&f, line, sizeof line);
    assert_true(strncmp(since(&f, mark), "500 5.5.2", 9) == 0);
    expect_reply(&f, "EHLO x\r\n", "250-");
    expect_reply(&f, "MAIL FROM:<a@b.c> SIZE=20000\r\n", "552 5.3.4");
    expect_reply(&f, "MAIL FROM:<a@b.c> SIZE=200\r\n", "250 ");
    for (int i = 0; i < 5; i++)
        expect_reply(&f, "RCPT TO:<bob@hamburger.edu>\r\n", "250 ");
    expect_reply(&f, "RCPT TO:<bob@hamburger.edu>\r\n", "452 4.5.3");
    expect_reply(&f, "DATA\r\n", "354");
    /* a 1001-octet line: refused at the end of data, nothing committed */
    char big[1001];
    memset(big, 'x', sizeof big);
    memcpy(big + sizeof big - 2, "\r\n", 2);
    fake_smtp_feed(&f, big, sizeof big);
    expect_reply(&f, ".\r\n", "554 5.6.0");
    assert_int_equal(f.ncommitted, 0);
    /* over max_message_size (10000) */
    expect_reply(&f, "MAIL FROM:<a@b.c>\r\n", "250 ");
    expect_reply(&f, "RCPT TO:<bob@hamburger.edu>\r\n", "250 ");
    expect_reply(&f, "DATA\r\n", "354");
    for (int i = 0; i < 20; i++)
        fake_smtp_feed(&f, big + 400, 601);
    expect_reply(&f, ".\r\n", "552 5.3.4");
    assert_int_equal(f.ncommitted, 0);
    fake_smtp_free(&f);
}

static void test_pipelining_waits_for_commit(void **state)
{
    struct fake_smtp f;
    fake_smtp_init(&f, false, false);
    f.auto_commit = false;
    const char *in = "EHLO x\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<bob@hamburger.edu>\r\nDATA\r\n"
                     "hi\r\n.\r\nQUIT\r\n";
    size_t used = fake_smtp_feeds(&f, in);
    assert_int_equal(used, strlen(in) - strlen("QUIT\r\n"));
    assert_true(f.commit_pending);
    assert_null(strstr(str_cstr(&f.out), "221"));
    fake_smtp_commit(&f, 0);
    fake_smtp_feeds(&f, "QUIT\r\n");
    assert_non_null(strstr(str_cstr(&f.out), "250 2.0.0 Ok: queued as ID\r\n221 "));
    fake_smtp_free(&f);
}

static void test_commit_failure_is_temporary(void **state)
{
    struct fake_smtp f;
    fake_smtp_init(&f, false, false);
    f.auto_commit = false;
    start_txn(&f);
    fake_smtp_feeds(&f, "x\r\n.\r\n");
    size_t mark = f.out.len;
    fake_smtp_commit(&f, -10);
    assert_true(strncmp(since(&f, mark), "451 4.3.0", 9) == 0);
    fake_smtp_free(&f);
}

static void test_bdat(void **state)
{
    struct fake_smtp f;
    fake_smtp_init(&f, false, false);
    expect_reply(&f, "EHLO x\r\n", "250-");
    expect_reply(&f, "BDAT 3\r\nabc", "503 5.5.1"); /* no transaction: chunk read and dropped */
    expect_reply(&f, "MAIL FROM:<a@b.c>\r\n", "250 ");
    expect_reply(&f, "RCPT TO:<bob@hamburger.edu>\r\n", "250 ");
    expect_reply(&f, "BDAT 5\r\nab\r\n.", "250 2.0.0 5 octets");
    expect_reply(&f, "BDAT 4 LAST\r\n\r\nyz", "250 2.0.0 Ok: queued");
    assert_string_equal(body_of(&f), "ab\r\n.\r\nyz");
    expect_reply(&f, "MAIL FROM:<a@b.c>\r\n", "250 ");
    expect_reply(&f, "RCPT TO:<bob@hamburger.edu>\r\n", "250 ");
    expect_reply(&f, "BDAT 0 LAST\r\n", "250 2.0.0 Ok: queued");
    assert_int_equal(f.ncommitted, 2);
    fake_smtp_free(&f);
}

static void test_submission_auth(void **state)
{
    struct fake_smtp f;
    fake_smtp_init(&f, true, false);
    expect_reply(&f, "EHLO x\r\n", "250-");
    assert_null(strstr(str_cstr(&f.out), "AUTH"));
    expect_reply(&f, "AUTH PLAIN AGJvYgBodW5ncnk=\r\n", "538 5.7.11");
    expect_reply(&f, "MAIL FROM:<bob@hamburger.edu>\r\n", "530 5.7.0");
    expect_reply(&f, "STARTTLS\r\nEHLO injected\r\n", "220 2.0.0");
    size_t mark = f.out.len;
    expect_reply(&f, "EHLO x\r\n", "250-");
    assert_non_null(strstr(since(&f, mark), "250-AUTH PLAIN LOGIN\r\n"));
    assert_null(strstr(since(&f, mark), "STARTTLS"));
    expect_reply(&f, "AUTH PLAIN AGJvYgB3cm9uZw==\r\n", "535 5.7.8"); /* bob / wrong */
    expect_reply(&f, "AUTH LOGIN\r\n", "334 VXNlcm5hbWU6");
    expect_reply(&f, "Ym9i\r\n", "334 UGFzc3dvcmQ6");
    expect_reply(&f, "aHVuZ3J5\r\n", "235 2.7.0");
    expect_reply(&f, "MAIL FROM:<bob@hamburger.edu>\r\n", "250 ");
    expect_reply(&f, "RCPT TO:<someone@example.org>\r\n", "250 ");
    expect_reply(&f, "DATA\r\n", "354");
    expect_reply(&f, "Subject: x\r\n\r\nhi\r\n.\r\n", "250 2.0.0");
    const char *b = str_cstr(&f.committed);
    assert_non_null(strstr(b, "with ESMTPSA"));
    assert_non_null(strstr(b, "\r\nDate: "));
    assert_non_null(strstr(b, "\r\nMessage-ID: <"));
    fake_smtp_free(&f);
}

/* RFC 4468: BURL is offered on submission only (bare before AUTH, "imap" after); its content
 * and BDAT chunks make one message, LAST on either ends it; a URL that cannot be fetched fails
 * the transaction; the MX role does not take it. */
static void test_burl(void **state)
{
    struct fake_smtp f;
    fake_smtp_init(&f, true, true);
    size_t mark = f.out.len;
    expect_reply(&f, "EHLO x\r\n", "250-");
    assert_non_null(strstr(since(&f, mark), "250-BURL\r\n"));
    expect_reply(&f, "AUTH PLAIN AGJvYgBodW5ncnk=\r\n", "235 2.7.0");
    mark = f.out.len;
    expect_reply(&f, "EHLO x\r\n", "250-");
    assert_non_null(strstr(since(&f, mark), "250-BURL imap\r\n"));
    expect_reply(&f, "BURL imap://ok/x LAST\r\n", "503 5.5.1 Error: need MAIL command");
    expect_reply(&f, "MAIL FROM:<bob@hamburger.edu>\r\n", "250 ");
    expect_reply(&f, "BURL imap://ok/x LAST\r\n", "503 5.5.1 Error: need RCPT command");
    expect_reply(&f, "RCPT TO:<someone@example.org>\r\n", "250 ");
    expect_reply(&f, "BURL\r\n", "501 5.5.4 Syntax: BURL");
    expect_reply(&f, "BURL imap://ok/x NOTLAST\r\n", "501 5.5.4 Syntax: BURL");
    expect_reply(&f, "BDAT 21\r\nSubject: chunks\r\n\r\nA:", "250 2.0.0 21 octets");
    expect_reply(&f, "BURL imap://ok/from-the-store\r\n", "250 2.0.0 35 octets");
    expect_reply(&f, "DATA\r\n", "503 5.5.1 Error: DATA after BDAT");
    expect_reply(&f, "BDAT 2\r\n\r\n", "250 2.0.0 37 octets");
    expect_reply(&f, "BURL imap://ok/end LAST\r\n", "250 2.0.0 Ok: queued");
    assert_int_equal(f.ncommitted, 1);
    assert_non_null(
        strstr(str_cstr(&f.committed), "Subject: chunks\r\n\r\nA:from-the-store\r\nend"));
    /* a URL that names nothing: 554, and the transaction is over */
    expect_reply(&f, "MAIL FROM:<bob@hamburger.edu>\r\n", "250 ");
    expect_reply(&f, "RCPT TO:<someone@example.org>\r\n", "250 ");
    expect_reply(&f, "BURL imap://ok/part\r\n", "250 2.0.0 4 octets");
    expect_reply(&f, "BURL imap://bad/x LAST\r\n", "554 5.6.6");
    expect_reply(&f, "BDAT 1 LAST\r\nx", "503 5.5.1 Error: need MAIL command");
    expect_reply(&f, "MAIL FROM:<bob@hamburger.edu>\r\n", "250 ");
    expect_reply(&f, "RCPT TO:<someone@example.org>\r\n", "250 ");
    expect_reply(&f, "BURL imap://later/x LAST\r\n", "454 4.6.6");
    assert_int_equal(f.ncommitted, 1);
    fake_smtp_free(&f);
    /* the MX role: not offered, not taken */
    fake_smtp_init(&f, false, false);
    mark = f.out.len;
    expect_reply(&f, "EHLO x\r\n", "250-");
    assert_null(strstr(since(&f, mark), "BURL"));
    expect_reply(&f, "MAIL FROM:<a@b.c>\r\n", "250 ");
    expect_reply(&f, "RCPT TO:<bob@hamburger.edu>\r\n", "250 ");
    expect_reply(&f, "BURL imap://ok/x LAST\r\n", "502 5.5.1 BURL not available");
    assert_int_equal(f.ncommitted, 0);
    fake_smtp_free(&f);
}

/* RFC 8689 §2: REQUIRETLS is offered only over TLS, and MAIL ... REQUIRETLS is taken only
 * there; the transaction carries the tag to the commit. */
static void test_requiretls(void **state)
{
    struct fake_smtp f;
    fake_smtp_init(&f, false, false);
    expect_reply(&f, "EHLO x\r\n", "250-");
    assert_null(strstr(str_cstr(&f.out), "REQUIRETLS"));
    expect_reply(&f, "MAIL FROM:<a@b.c> REQUIRETLS\r\n", "530 5.7.0");
    expect_reply(&f, "STARTTLS\r\n", "220 2.0.0");
    smtp_session_tls_started(f.s, "TLSv1.3", "TEST");
    size_t mark = f.out.len;
    expect_reply(&f, "EHLO x\r\n", "250-");
    assert_non_null(strstr(since(&f, mark), "250-REQUIRETLS\r\n"));
    expect_reply(&f, "MAIL FROM:<a@b.c> REQUIRETLS\r\n", "250 ");
    expect_reply(&f, "RCPT TO:<bob@hamburger.edu>\r\n", "250 ");
    expect_reply(&f, "DATA\r\n", "354");
    expect_reply(&f, "Subject: x\r\n\r\nhi\r\n.\r\n", "250 2.0.0");
    assert_true(f.requiretls_last);
    /* the next transaction starts untagged */
    expect_reply(&f, "MAIL FROM:<a@b.c>\r\n", "250 ");
    expect_reply(&f, "RCPT TO:<bob@hamburger.edu>\r\n", "250 ");
    expect_reply(&f, "DATA\r\n", "354");
    expect_reply(&f, "Subject: y\r\n\r\nhi\r\n.\r\n", "250 2.0.0");
    assert_false(f.requiretls_last);
    fake_smtp_free(&f);
}

static void test_too_many_errors(void **state)
{
    struct fake_smtp f;
    fake_smtp_init(&f, false, false);
    for (int i = 0; i < 10 && !f.closed; i++)
        fake_smtp_feeds(&f, "BOGUS\r\n");
    assert_true(f.closed);
    assert_non_null(strstr(str_cstr(&f.out), "421 4.7.0"));
    fake_smtp_free(&f);
}

static void test_shutdown(void **state)
{
    struct fake_smtp f;
    fake_smtp_init(&f, false, false);
    start_txn(&f);
    smtp_session_shutdown(f.s);
    assert_false(f.closed); /* in a transaction: finish it first */
    expect_reply(&f, "x\r\n.\r\n", "250 2.0.0 Ok: queued as ID\r\n421 4.3.2");
    assert_true(f.closed);
    fake_smtp_free(&f);
}

int main(void)
{
    log_set_level(LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_textbook),
        cmocka_unit_test(test_textbook_every_split),
        cmocka_unit_test(test_smuggling),
        cmocka_unit_test(test_bare_cr),
        cmocka_unit_test(test_dot_stuffing),
        cmocka_unit_test(test_order_errors),
        cmocka_unit_test(test_verb_phases),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_pipelining_waits_for_commit),
        cmocka_unit_test(test_commit_failure_is_temporary),
        cmocka_unit_test(test_bdat),
        cmocka_unit_test(test_submission_auth),
        cmocka_unit_test(test_requiretls),
        cmocka_unit_test(test_burl),
        cmocka_unit_test(test_too_many_errors),
        cmocka_unit_test(test_shutdown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
