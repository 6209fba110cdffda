/* The POP3 session engine driven through fakes/fake_pop3: replies, states, message sending. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "fakes/fake_pop3.h"

#include <stdlib.h>
#include <string.h>

static const char msg1[] = "From: alice@crepes.fr\r\nSubject: 1\r\n\r\nDo you like ketchup?\r\n";
static const char msg2[] = "From: alice@crepes.fr\r\nSubject: 2\r\n\r\nHow about pickles?\r\n";

/* Output written since `mark` must equal `want`. */
static void expect_exact(struct fake_pop3 *f, const char *input, const char *want)
{
    size_t mark = f->out.len;
    fake_pop3_feeds(f, input);
    const char *got = str_cstr(&f->out) + mark;
    if (strcmp(got, want) != 0)
        fail_msg("after %s expected\n'%s'\ngot\n'%s'", input, want, got);
}

static void expect_reply(struct fake_pop3 *f, const char *input, const char *prefix)
{
    size_t mark = f->out.len;
    fake_pop3_feeds(f, input);
    const char *got = str_cstr(&f->out) + mark;
    if (strncmp(got, prefix, strlen(prefix)) != 0)
        fail_msg("after %s expected '%s...', got '%s'", input, prefix, got);
}

static void setup_two(struct fake_pop3 *f)
{
    fake_pop3_init(f, false, true);
    fake_pop3_add(f, msg1);
    fake_pop3_add(f, msg2);
}

static void login(struct fake_pop3 *f)
{
    expect_reply(f, "USER bob\r\n", "+OK");
    expect_reply(f, "PASS hungry\r\n", "+OK Logged in");
}

/* The textbook session (Kurose & Ross §2.3): user, pass, list, retr, dele, retr, dele, quit. */
static const char textbook[] = "user bob\r\npass hungry\r\nlist\r\nretr 1\r\ndele 1\r\n"
                               "retr 2\r\ndele 2\r\nquit\r\n";

static const char textbook_replies[] =
    "+OK Pigeon POP3 server ready\r\n"
    "+OK Send your password\r\n"
    "+OK Logged in, maildrop has 2 messages (116 octets)\r\n"
    "+OK 2 messages (116 octets)\r\n1 59\r\n2 57\r\n.\r\n"
    "+OK 59 octets\r\nFrom: alice@crepes.fr\r\nSubject: 1\r\n\r\nDo you like ketchup?\r\n.\r\n"
    "+OK Message 1 deleted\r\n"
    "+OK 57 octets\r\nFrom: alice@crepes.fr\r\nSubject: 2\r\n\r\nHow about pickles?\r\n.\r\n"
    "+OK Message 2 deleted\r\n"
    "+OK Pigeon POP3 server signing off (maildrop empty)\r\n";

static void test_textbook(void **state)
{
    struct fake_pop3 f;
    setup_two(&f);
    assert_int_equal(strlen(msg1), 59);
    fake_pop3_feeds(&f, textbook);
    assert_string_equal(str_cstr(&f.out), textbook_replies);
    assert_true(pop3_session_closing(f.s));
    assert_int_equal(f.nremoved, 2);
    assert_int_equal(f.removed[0], 100);
    assert_int_equal(f.removed[1], 101);
    assert_int_equal(f.maildrop_opens, 1);
    assert_int_equal(f.maildrop_closes, 1);
    fake_pop3_free(&f);
}

/* The same input split at every offset, then byte by byte, with messages read in small
 * chunks, gives the same replies. */
static void test_textbook_every_split(void **state)
{
    size_t n = strlen(textbook);
    for (size_t cut = 0; cut <= n; cut++) {
        struct fake_pop3 f;
        setup_two(&f);
        f.read_max = 1 + cut % 7;
        fake_pop3_feed(&f, textbook, cut);
        fake_pop3_feed(&f, textbook + cut, n - cut);
        assert_string_equal(str_cstr(&f.out), textbook_replies);
        fake_pop3_free(&f);
    }
    struct fake_pop3 f;
    setup_two(&f);
    for (size_t i = 0; i < n; i++)
        fake_pop3_feed(&f, textbook + i, 1);
    assert_string_equal(str_cstr(&f.out), textbook_replies);
    fake_pop3_free(&f);
}

/* RFC 1939 §3: lines starting with "." get one more; a last line without CRLF gets one. */
static void test_dot_stuffing(void **state)
{
    for (size_t chunk = 0; chunk < 5; chunk++) {
        struct fake_pop3 f;
        fake_pop3_init(&f, false, true);
        f.read_max = chunk;
        fake_pop3_add(&f, ".start\r\nmid.dle\r\n.\r\n..two\r\nend");
        login(&f);
        expect_exact(&f, "RETR 1\r\n",
                     "+OK 30 octets\r\n..start\r\nmid.dle\r\n..\r\n...two\r\nend\r\n.\r\n");
        fake_pop3_free(&f);
    }
}

static void test_top(void **state)
{
    static const char m[] = "A: 1\r\nB: 2\r\n\r\nline1\r\n.line2\r\nline3\r\n";
    for (size_t chunk = 0; chunk < 4; chunk++) {
        struct fake_pop3 f;
        fake_pop3_init(&f, false, true);
        f.read_max = chunk;
        fake_pop3_add(&f, m);
        fake_pop3_add(&f, "No: body\r\n");
        fake_pop3_add(&f, "A: 1\n\nlf1\nlf2\n");
        login(&f);
        expect_exact(&f, "TOP 1 0\r\n",
                     "+OK Top of message 1 follows\r\nA: 1\r\nB: 2\r\n\r\n.\r\n");
        expect_exact(
            &f, "TOP 1 2\r\n",
            "+OK Top of message 1 follows\r\nA: 1\r\nB: 2\r\n\r\nline1\r\n..line2\r\n.\r\n");
        expect_exact(&f, "TOP 1 100\r\n",
                     "+OK Top of message 1 follows\r\nA: 1\r\nB: 2\r\n\r\n"
                     "line1\r\n..line2\r\nline3\r\n.\r\n");
        expect_exact(&f, "TOP 2 5\r\n", "+OK Top of message 2 follows\r\nNo: body\r\n.\r\n");
        expect_exact(&f, "TOP 3 1\r\n", "+OK Top of message 3 follows\r\nA: 1\n\nlf1\n.\r\n");
        expect_reply(&f, "TOP 4 1\r\n", "-ERR No such message");
        fake_pop3_free(&f);
    }
}

static void test_transaction(void **state)
{
    struct fake_pop3 f;
    setup_two(&f);
    fake_pop3_add(&f, "x\r\n");
    login(&f);
    expect_exact(&f, "STAT\r\n", "+OK 3 119\r\n");
    expect_exact(&f, "LIST 2\r\n", "+OK 2 57\r\n");
    expect_exact(&f, "UIDL\r\n",
                 "+OK Unique-ID listing follows\r\n1 1700000000.100\r\n"
                 "2 1700000000.101\r\n3 1700000000.102\r\n.\r\n");
    expect_exact(&f, "UIDL 3\r\n", "+OK 3 1700000000.102\r\n");
    expect_exact(&f, "DELE 2\r\n", "+OK Message 2 deleted\r\n");
    expect_exact(&f, "DELE 2\r\n", "-ERR Message 2 is deleted\r\n");
    expect_exact(&f, "RETR 2\r\n", "-ERR Message 2 is deleted\r\n");
    expect_exact(&f, "LIST 2\r\n", "-ERR Message 2 is deleted\r\n");
    expect_exact(&f, "STAT\r\n", "+OK 2 62\r\n");
    expect_exact(&f, "LIST\r\n", "+OK 2 messages (62 octets)\r\n1 59\r\n3 3\r\n.\r\n");
    expect_exact(&f, "UIDL\r\n",
                 "+OK Unique-ID listing follows\r\n1 1700000000.100\r\n"
                 "3 1700000000.102\r\n.\r\n");
    expect_exact(&f, "RSET\r\n", "+OK Maildrop has 3 messages (119 octets)\r\n");
    expect_exact(&f, "STAT\r\n", "+OK 3 119\r\n");
    expect_exact(&f, "NOOP\r\n", "+OK\r\n");
    expect_exact(&f, "RETR 4\r\n", "-ERR No such message\r\n");
    expect_exact(&f, "RETR 0\r\n", "-ERR No such message\r\n");
    expect_exact(&f, "RETR 99999999999\r\n", "-ERR No such message\r\n");
    expect_exact(&f, "RETR one\r\n", "-ERR Invalid message number\r\n");
    expect_exact(&f, "RETR\r\n", "-ERR Syntax: RETR msg\r\n");
    expect_exact(&f, "USER bob\r\n", "-ERR Already logged in\r\n");
    expect_exact(&f, "DELE 3\r\n", "+OK Message 3 deleted\r\n");
    expect_exact(&f, "QUIT\r\n", "+OK Pigeon POP3 server signing off (2 messages left)\r\n");
    assert_int_equal(f.nremoved, 1);
    assert_int_equal(f.removed[0], 102);
    fake_pop3_free(&f);
}

static void test_empty_maildrop(void **state)
{
    struct fake_pop3 f;
    fake_pop3_init(&f, false, true);
    expect_exact(&f, "USER bob\r\nPASS hungry\r\n",
                 "+OK Send your password\r\n+OK Logged in, maildrop has 0 messages (0 octets)\r\n");
    expect_exact(&f, "LIST\r\n", "+OK 0 messages (0 octets)\r\n.\r\n");
    expect_exact(&f, "STAT\r\n", "+OK 0 0\r\n");
    expect_exact(&f, "RETR 1\r\n", "-ERR No such message\r\n");
    expect_exact(&f, "QUIT\r\n", "+OK Pigeon POP3 server signing off (maildrop empty)\r\n");
    assert_int_equal(f.nremoved, 0);
    fake_pop3_free(&f);
}

/* RFC 1939 §6: without QUIT nothing is removed. */
static void test_no_quit_no_update(void **state)
{
    struct fake_pop3 f;
    setup_two(&f);
    login(&f);
    expect_reply(&f, "DELE 1\r\n", "+OK");
    pop3_session_timeout(f.s);
    assert_true(pop3_session_closing(f.s));
    assert_int_equal(f.nremoved, 0);
    assert_int_equal(f.maildrop_closes, 1);
    fake_pop3_free(&f);
}

static void test_update_failure(void **state)
{
    struct fake_pop3 f;
    setup_two(&f);
    f.update_rc = -1;
    login(&f);
    expect_reply(&f, "DELE 1\r\n", "+OK");
    expect_exact(&f, "QUIT\r\n", "-ERR [SYS/TEMP] Some deleted messages not removed\r\n");
    assert_true(pop3_session_closing(f.s));
    fake_pop3_free(&f);
}

static void test_auth_failures(void **state)
{
    struct fake_pop3 f;
    setup_two(&f);
    expect_exact(&f, "PASS hungry\r\n", "-ERR Send USER first\r\n");
    expect_exact(&f, "STAT\r\n", "-ERR Log in first\r\n");
    expect_reply(&f, "USER bob\r\n", "+OK");
    expect_exact(&f, "PASS wrong\r\n", "-ERR [AUTH] Authentication failed\r\n");
    expect_exact(&f, "PASS hungry\r\n",
                 "-ERR Send USER first\r\n"); /* USER again after a failure */
    expect_reply(&f, "USER bob\r\n", "+OK");
    expect_reply(&f, "PASS hungry\r\n", "+OK Logged in");
    fake_pop3_free(&f);
}

/* Plain text refused before TLS unless allowed: CAPA hides USER/SASL and offers STLS. */
static void test_stls(void **state)
{
    struct fake_pop3 f;
    fake_pop3_init(&f, false, false);
    expect_exact(&f, "CAPA\r\n",
                 "+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\n"
                 "AUTH-RESP-CODE\r\nPIPELINING\r\nSTLS\r\n"
                 "IMPLEMENTATION Pigeon\r\n.\r\n");
    expect_reply(&f, "USER bob\r\n", "-ERR Plaintext authentication disallowed");
    expect_reply(&f, "AUTH PLAIN AGJvYgBodW5ncnk=\r\n", "-ERR Plaintext authentication");
    /* input pipelined after STLS is dropped (RFC 2595 §4) */
    expect_exact(&f, "STLS\r\nUSER evil\r\n", "+OK Begin TLS negotiation\r\n");
    expect_exact(&f, "CAPA\r\n",
                 "+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\n"
                 "AUTH-RESP-CODE\r\nPIPELINING\r\nUSER\r\nSASL PLAIN\r\n"
                 "IMPLEMENTATION Pigeon\r\n.\r\n");
    expect_exact(&f, "STLS\r\n", "-ERR TLS already active\r\n");
    expect_exact(&f, "PASS hungry\r\n", "-ERR Send USER first\r\n");
    login(&f);
    expect_exact(&f, "STLS\r\n", "-ERR Already logged in\r\n");
    fake_pop3_free(&f);
}

static void test_auth_plain(void **state)
{
    struct fake_pop3 f;
    setup_two(&f);
    expect_exact(&f, "AUTH\r\n", "+OK\r\nPLAIN\r\n.\r\n");
    expect_exact(&f, "AUTH LOGIN\r\n", "-ERR Unsupported authentication mechanism\r\n");
    expect_exact(&f, "AUTH PLAIN\r\n", "+ \r\n");
    expect_exact(&f, "*\r\n", "-ERR Authentication cancelled\r\n");
    expect_exact(&f, "AUTH PLAIN\r\n", "+ \r\n");
    expect_exact(&f, "!!!\r\n", "-ERR Invalid SASL PLAIN response\r\n");
    expect_exact(&f, "AUTH PLAIN AGJvYgB3cm9uZw==\r\n", "-ERR [AUTH] Authentication failed\r\n");
    expect_exact(&f, "AUTH PLAIN =\r\n", "-ERR Invalid SASL PLAIN response\r\n");
    expect_exact(&f, "AUTH PLAIN\r\n", "+ \r\n");
    expect_reply(&f, "AGJvYgBodW5ncnk=\r\n", "+OK Logged in, maildrop has 2");
    fake_pop3_free(&f);

    setup_two(&f);
    expect_reply(&f, "AUTH PLAIN AGJvYgBodW5ncnk=\r\n", "+OK Logged in");
    expect_exact(&f, "AUTH PLAIN\r\n", "-ERR Already logged in\r\n");
    fake_pop3_free(&f);
}

static void test_in_use(void **state)
{
    struct fake_pop3 f;
    setup_two(&f);
    f.maildrop_busy = true;
    expect_reply(&f, "USER bob\r\n", "+OK");
    expect_exact(&f, "PASS hungry\r\n",
                 "-ERR [IN-USE] Maildrop already in use by another session\r\n");
    expect_exact(&f, "STAT\r\n", "-ERR Log in first\r\n");
    f.maildrop_busy = false;
    login(&f);
    expect_exact(&f, "STAT\r\n", "+OK 2 116\r\n");
    fake_pop3_free(&f);

    setup_two(&f);
    f.maildrop_fail = true;
    expect_reply(&f, "USER bob\r\n", "+OK");
    expect_exact(&f, "PASS hungry\r\n",
                 "-ERR [SYS/TEMP] Cannot open the maildrop, try again later\r\n");
    fake_pop3_free(&f);
}

/* RFC 2449 PIPELINING: commands sent at once wait while the password is checked. */
static void test_pipelining(void **state)
{
    struct fake_pop3 f;
    setup_two(&f);
    f.hold = true;
    const char *in = "USER bob\r\nPASS hungry\r\nSTAT\r\nQUIT\r\n";
    size_t used = fake_pop3_feeds(&f, in);
    assert_true(pop3_session_busy(f.s));
    assert_int_equal(used, strlen("USER bob\r\nPASS hungry\r\n"));
    fake_pop3_complete(&f); /* the password check, then opening the maildrop */
    assert_false(pop3_session_busy(f.s));
    fake_pop3_feeds(&f, in + used);
    assert_string_equal(str_cstr(&f.out),
                        "+OK Pigeon POP3 server ready\r\n+OK Send your password\r\n"
                        "+OK Logged in, maildrop has 2 messages (116 octets)\r\n+OK 2 116\r\n"
                        "+OK Pigeon POP3 server signing off (2 messages left)\r\n");
    fake_pop3_free(&f);
}

static void test_bad_input(void **state)
{
    struct fake_pop3 f;
    setup_two(&f);
    char longline[400];
    memset(longline, 'A', sizeof longline);
    memcpy(longline + sizeof longline - 2, "\r\n", 2);
    size_t mark = f.out.len;
    fake_pop3_feed(&f, longline, sizeof longline);
    assert_string_equal(str_cstr(&f.out) + mark, "-ERR Line too long\r\n");
    /* 253 octets + CRLF is the longest line allowed */
    char ok[260] = "USER ";
    memset(ok + 5, 'b', 248);
    memcpy(ok + 253, "\r\n", 3);
    expect_exact(&f, ok, "+OK Send your password\r\n");
    ok[252] = 'b';
    memcpy(ok + 253, "b\r\n", 4);
    expect_exact(&f, ok, "-ERR Line too long\r\n");
    expect_exact(&f, "FOO\r\n", "-ERR Unknown command\r\n");
    expect_exact(&f, "\r\n", "-ERR Unknown command\r\n");
    mark = f.out.len;
    fake_pop3_feed(&f, "NO\0OP\xff\r\n", 8);
    assert_string_equal(str_cstr(&f.out) + mark, "-ERR Invalid characters in command\r\n");
    assert_false(pop3_session_closing(f.s));
    expect_reply(&f, "USER bob\nPASS hungry\n", "+OK Send your password\r\n+OK Logged in");
    fake_pop3_free(&f);
}

static void test_too_many_errors(void **state)
{
    struct fake_pop3 f;
    setup_two(&f);
    for (int i = 0; i < 9; i++)
        expect_exact(&f, "BAD\r\n", "-ERR Unknown command\r\n");
    expect_exact(&f, "BAD\r\nNOOP\r\n",
                 "-ERR Unknown command\r\n-ERR Too many errors, closing connection\r\n");
    assert_true(pop3_session_closing(f.s));
    fake_pop3_free(&f);
}

/* A large message goes out in bursts, each after the output drained. */
static void test_large_message_bursts(void **state)
{
    size_t n = 80 * 40000;
    char *big = xmalloc(n + 1);
    for (size_t i = 0; i < n; i++)
        big[i] = (i % 80 == 78) ? '\r' : (i % 80 == 79) ? '\n' : (i % 80 == 0) ? '.' : 'x';
    big[n] = '\0';
    struct fake_pop3 f;
    fake_pop3_init(&f, false, true);
    fake_pop3_add(&f, big);
    login(&f);
    size_t mark = f.out.len;
    fake_pop3_feeds(&f, "RETR 1\r\nNOOP\r\n");
    assert_true(f.writable_calls >= 10);
    const char *got = str_cstr(&f.out) + mark;
    const char *head = "+OK 3200000 octets\r\n";
    assert_int_equal(strncmp(got, head, strlen(head)), 0);
    size_t lines = n / 80;
    assert_int_equal(f.out.len - mark, strlen(head) + n + lines + 3 + 5);
    assert_string_equal(got + strlen(head) + n + lines, ".\r\n+OK\r\n");
    fake_pop3_free(&f);
    free(big);
}

static void test_timeout_while_sending(void **state)
{
    size_t n = 1024 * 1024;
    char *big = xmalloc(n + 1);
    memset(big, 'y', n);
    big[n] = '\0';
    struct fake_pop3 f;
    fake_pop3_init(&f, false, true);
    fake_pop3_add(&f, big);
    login(&f);
    size_t mark = f.out.len;
    pop3_session_feed(f.s, "RETR 1\r\n", 8); /* no writable calls: stays mid-message */
    assert_true(pop3_session_sending(f.s));
    pop3_session_timeout(f.s);
    assert_true(pop3_session_closing(f.s));
    assert_false(pop3_session_sending(f.s));
    assert_true(f.open_index == SIZE_MAX); /* closed */
    assert_null(strstr(str_cstr(&f.out) + mark, "-ERR"));
    fake_pop3_free(&f);
    free(big);
}

static void test_unreadable_message(void **state)
{
    struct fake_pop3 f;
    setup_two(&f);
    login(&f);
    f.msg_open_fail = true;
    expect_exact(&f, "RETR 1\r\n", "-ERR [SYS/TEMP] Message 1 cannot be read now\r\n");
    fake_pop3_free(&f);
}

static void test_shutdown(void **state)
{
    struct fake_pop3 f;
    setup_two(&f);
    pop3_session_shutdown(f.s);
    assert_true(pop3_session_closing(f.s));
    assert_non_null(strstr(str_cstr(&f.out), "-ERR [SYS/TEMP] Server shutting down\r\n"));
    fake_pop3_free(&f);

    setup_two(&f);
    f.hold = true;
    fake_pop3_feeds(&f, "USER bob\r\nPASS hungry\r\n");
    pop3_session_shutdown(f.s);
    assert_false(pop3_session_closing(f.s)); /* the login finishes first */
    fake_pop3_complete(&f);
    fake_pop3_complete(&f);
    assert_true(pop3_session_closing(f.s));
    assert_int_equal(f.maildrop_closes, f.maildrop_opens);
    fake_pop3_free(&f);
}

static void test_quit_in_authorization(void **state)
{
    struct fake_pop3 f;
    setup_two(&f);
    expect_exact(&f, "QUIT\r\n", "+OK Pigeon POP3 server signing off\r\n");
    assert_true(pop3_session_closing(f.s));
    assert_int_equal(f.maildrop_opens, 0);
    fake_pop3_free(&f);
}

int main(void)
{
    log_set_level(LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_textbook),
        cmocka_unit_test(test_textbook_every_split),
        cmocka_unit_test(test_dot_stuffing),
        cmocka_unit_test(test_top),
        cmocka_unit_test(test_transaction),
        cmocka_unit_test(test_empty_maildrop),
        cmocka_unit_test(test_no_quit_no_update),
        cmocka_unit_test(test_update_failure),
        cmocka_unit_test(test_auth_failures),
        cmocka_unit_test(test_stls),
        cmocka_unit_test(test_auth_plain),
        cmocka_unit_test(test_in_use),
        cmocka_unit_test(test_pipelining),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_too_many_errors),
        cmocka_unit_test(test_large_message_bursts),
        cmocka_unit_test(test_timeout_while_sending),
        cmocka_unit_test(test_unreadable_message),
        cmocka_unit_test(test_shutdown),
        cmocka_unit_test(test_quit_in_authorization),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
