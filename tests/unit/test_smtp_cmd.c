/* Unit tests for smtp/cmd: verbs, MAIL/RCPT paths and parameters, BDAT, AUTH, error replies. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/err.h"
#include "smtp/cmd.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse(const char *line, unsigned flags, struct smtp_cmd *cmd)
{
    int rc = smtp_cmd_parse(line, strlen(line), flags, cmd);
    if (rc == 0)
        assert_null(cmd->reply);
    else
        assert_non_null(cmd->reply);
    return rc;
}

/* Parses a line expected to fail and checks the reply starts with `code`. */
static void expect_reply(const char *line, unsigned flags, const char *code)
{
    struct smtp_cmd cmd;
    int rc = smtp_cmd_parse(line, strlen(line), flags, &cmd);
    if (rc == 0)
        fail_msg("accepted: %s", line);
    if (strncmp(cmd.reply, code, strlen(code)) != 0)
        fail_msg("%s -> %s (want %s)", line, cmd.reply, code);
    assert_null(strchr(cmd.reply, '\r'));
    assert_null(strchr(cmd.reply, '\n'));
}

static bool slice_is(struct slice s, const char *want)
{
    return s.len == strlen(want) && memcmp(s.p, want, s.len) == 0;
}

static void test_textbook(void **state)
{
    struct smtp_cmd c;
    assert_int_equal(parse("HELO crepes.fr", 0, &c), 0);
    assert_int_equal(c.verb, SMTP_HELO);
    assert_true(slice_is(c.arg, "crepes.fr"));

    assert_int_equal(parse("MAIL FROM: <alice@crepes.fr>", 0, &c), 0);
    assert_int_equal(c.verb, SMTP_MAIL);
    assert_string_equal(c.addr.local, "alice");
    assert_string_equal(c.addr.domain, "crepes.fr");
    assert_int_equal(c.nparams, 0);

    assert_int_equal(parse("RCPT TO: <bob@hamburger.edu>", 0, &c), 0);
    assert_int_equal(c.verb, SMTP_RCPT);
    assert_string_equal(c.addr.local, "bob");
    assert_string_equal(c.addr.domain, "hamburger.edu");

    assert_int_equal(parse("DATA", 0, &c), 0);
    assert_int_equal(c.verb, SMTP_DATA);
    assert_int_equal(parse("QUIT", 0, &c), 0);
    assert_int_equal(c.verb, SMTP_QUIT);
}

static void test_verbs_case_insensitive(void **state)
{
    static const struct {
        const char *line;
        enum smtp_verb verb;
    } ok[] = {
        {"helo x", SMTP_HELO},        {"EhLo x", SMTP_EHLO},    {"mail from:<a@b>", SMTP_MAIL},
        {"rcpt to:<a@b>", SMTP_RCPT}, {"data", SMTP_DATA},      {"bdat 0 last", SMTP_BDAT},
        {"rset", SMTP_RSET},          {"noop", SMTP_NOOP},      {"noop anything at all", SMTP_NOOP},
        {"quit", SMTP_QUIT},          {"help", SMTP_HELP},      {"HELP mail", SMTP_HELP},
        {"vrfy bob", SMTP_VRFY},      {"expn list", SMTP_EXPN}, {"starttls", SMTP_STARTTLS},
        {"auth plain", SMTP_AUTH},    {"QUIT  ", SMTP_QUIT},    {"burl imap://h/x", SMTP_BURL},
    };
    static const char *names[] = {"",     "HELO",     "EHLO", "MAIL", "RCPT", "DATA",
                                  "BDAT", "RSET",     "NOOP", "QUIT", "HELP", "VRFY",
                                  "EXPN", "STARTTLS", "AUTH", "BURL"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        struct smtp_cmd c;
        if (parse(ok[i].line, 0, &c) != 0)
            fail_msg("rejected %s: %s", ok[i].line, c.reply);
        assert_int_equal(c.verb, ok[i].verb);
        assert_string_equal(smtp_verb_name(c.verb), names[ok[i].verb]);
    }
    assert_string_equal(smtp_verb_name(SMTP_UNKNOWN), "UNKNOWN");
}

static void test_unknown(void **state)
{
    static const char *bad[] = {"",      "FOO",    "MAILFROM:<a@b>", " QUIT",    "QUI",
                                "QUITT", "\tQUIT", "HE\x01LO x",     "NO\x7fOP", "D\xc3\xa4TA",
                                "   "};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_reply(bad[i], 0, "500 5.5.2");
    struct smtp_cmd c;
    assert_int_equal(parse("FOO bar", 0, &c), ERR_PARSE);
    assert_string_equal(c.reply, "500 5.5.2 Command not recognized");
    assert_int_equal(c.verb, SMTP_UNKNOWN);
}

static void test_control_bytes(void **state)
{
    struct smtp_cmd c;
    /* NUL and CR anywhere make the whole line unrecognisable (RFC 5321 §2.3.8). */
    assert_int_equal(smtp_cmd_parse("QUIT\0", 5, 0, &c), ERR_PARSE);
    assert_string_equal(c.reply, "500 5.5.2 Command not recognized");
    assert_int_equal(smtp_cmd_parse("NOOP a\0b", 8, 0, &c), ERR_PARSE);
    assert_int_equal(smtp_cmd_parse("NOOP a\rb", 8, 0, &c), ERR_PARSE);
    assert_string_equal(c.reply, "500 5.5.2 Command not recognized");
    assert_int_equal(smtp_cmd_parse("QUIT\r", 5, 0, &c), ERR_PARSE);
    assert_int_equal(smtp_cmd_parse("NOOP\nQUIT", 9, 0, &c), ERR_PARSE);
    /* TAB separates like a space */
    assert_int_equal(parse("NOOP\thi", 0, &c), 0);
    assert_true(slice_is(c.arg, "hi"));
    expect_reply("HELO a\x01", 0, "501 5.5.4");
}

static void test_hello(void **state)
{
    struct smtp_cmd c;
    expect_reply("HELO", 0, "501 5.5.4 Syntax: HELO hostname");
    expect_reply("EHLO", 0, "501 5.5.4 Syntax: EHLO hostname");
    expect_reply("EHLO   ", 0, "501 5.5.4 Syntax: EHLO hostname");
    assert_int_equal(parse("EHLO [192.0.2.1]", 0, &c), 0);
    assert_true(slice_is(c.arg, "[192.0.2.1]"));
    assert_int_equal(parse("EHLO   mx.example.org   ", 0, &c), 0);
    assert_true(slice_is(c.arg, "mx.example.org"));
    assert_int_equal(parse("EHLO not_strict some words", 0, &c), 0);
    assert_true(slice_is(c.arg, "not_strict some words"));
}

static void test_no_arg_verbs(void **state)
{
    expect_reply("DATA x", 0, "501 5.5.4 Syntax: DATA");
    expect_reply("RSET x", 0, "501 5.5.4 Syntax: RSET");
    expect_reply("QUIT now", 0, "501 5.5.4 Syntax: QUIT");
    expect_reply("STARTTLS x", 0, "501 5.5.4 Syntax: STARTTLS");
    struct smtp_cmd c;
    assert_int_equal(parse("VRFY", 0, &c), 0);
    assert_int_equal(c.arg.len, 0);
}

static void test_mail_forms(void **state)
{
    struct smtp_cmd c;
    assert_int_equal(parse("MAIL FROM:<alice@crepes.fr>", 0, &c), 0);
    assert_int_equal(parse("mail from:<alice@crepes.fr>", 0, &c), 0);
    assert_int_equal(parse("MAIL FROM:alice@crepes.fr", 0, &c), 0);
    assert_string_equal(c.addr.local, "alice");
    assert_int_equal(parse("MAIL FROM:<>", 0, &c), 0);
    assert_true(c.addr.is_null);
    assert_int_equal(parse("MAIL FROM:   <>   ", 0, &c), 0);
    assert_int_equal(parse("MAIL FROM:<@relay:a@b.c>", 0, &c), 0);
    assert_string_equal(c.addr.domain, "b.c");
    assert_int_equal(parse("MAIL FROM:<\"x y\"@b.c>", 0, &c), 0);
    assert_true(c.addr.quoted);

    expect_reply("MAIL", 0, "501 5.5.4 Syntax: MAIL FROM:<address>");
    expect_reply("MAIL FROM:", 0, "501 5.5.4 Syntax: MAIL FROM:<address>");
    expect_reply("MAIL FROM: ", 0, "501 5.5.4 Syntax: MAIL FROM:<address>");
    expect_reply("MAIL TO:<a@b>", 0, "501 5.5.4 Syntax: MAIL FROM:<address>");
    expect_reply("MAIL FROM <a@b>", 0, "501 5.5.4 Syntax: MAIL FROM:<address>");
    expect_reply("MAIL FROM:<a@b", 0, "501 5.1.7 Bad sender address syntax");
    expect_reply("MAIL FROM:<a@b>x", 0, "501 5.1.7 Bad sender address syntax");
    expect_reply("MAIL FROM:<a b@c>", 0, "501 5.1.7 Bad sender address syntax");
    expect_reply("MAIL FROM:<postmaster>", 0, "501 5.1.7 Bad sender address syntax");
}

static void test_rcpt_forms(void **state)
{
    struct smtp_cmd c;
    assert_int_equal(parse("RCPT TO:<bob@hamburger.edu>", 0, &c), 0);
    assert_int_equal(parse("rcpt to:bob@hamburger.edu", 0, &c), 0);
    assert_int_equal(parse("RCPT TO:<Postmaster>", 0, &c), 0);
    assert_string_equal(c.addr.local, "Postmaster");
    assert_string_equal(c.addr.domain, "");
    assert_int_equal(parse("RCPT TO:<postmaster@hamburger.edu>", 0, &c), 0);
    expect_reply("RCPT TO:<>", 0, "501 5.1.3");
    expect_reply("RCPT TO:", 0, "501 5.5.4 Syntax: RCPT TO:<address>");
    expect_reply("RCPT FROM:<a@b>", 0, "501 5.5.4 Syntax: RCPT TO:<address>");
    expect_reply("RCPT TO:<a@>", 0, "501 5.1.3 Bad recipient address syntax");
}

static void test_local_limit(void **state)
{
    char line[200], local[70];
    struct smtp_cmd c;
    memset(local, 'l', 64);
    local[64] = '\0';
    snprintf(line, sizeof line, "RCPT TO:<%s@hamburger.edu>", local);
    assert_int_equal(parse(line, 0, &c), 0);
    snprintf(line, sizeof line, "RCPT TO:<%sl@hamburger.edu>", local);
    expect_reply(line, 0, "501 5.1.3");
}

static void test_utf8_gating(void **state)
{
    struct smtp_cmd c;
    const char *mail = "MAIL FROM:<j\xc3\xb6rg@b\xc3\xbc"
                       "cher.de>";
    expect_reply(mail, 0, "553 5.6.7");
    char line[128];
    snprintf(line, sizeof line, "%s SMTPUTF8", mail);
    assert_int_equal(parse(line, 0, &c), 0);
    assert_true(c.smtputf8);
    assert_true(c.addr.utf8);
    /* SMTPUTF8 with an ASCII address is fine too */
    assert_int_equal(parse("MAIL FROM:<a@b> SMTPUTF8", 0, &c), 0);
    assert_true(c.smtputf8);
    assert_false(c.addr.utf8);

    const char *rcpt = "RCPT TO:<\xe5\x8f\xb8@\xe4\xbe\x8b.jp>";
    expect_reply(rcpt, 0, "553 5.6.7");
    assert_int_equal(parse(rcpt, SMTP_PARSE_UTF8, &c), 0);
    assert_true(c.addr.utf8);
    expect_reply("RCPT TO:<\xc3\x28@a.b>", SMTP_PARSE_UTF8, "501 5.1.3");
}

static void test_mail_params(void **state)
{
    struct smtp_cmd c;
    assert_int_equal(parse("MAIL FROM:<a@b> SIZE=12345 BODY=8BITMIME AUTH=<> SMTPUTF8", 0, &c), 0);
    assert_int_equal(c.size, 12345);
    assert_int_equal(c.body, SMTP_BODY_8BITMIME);
    assert_true(c.smtputf8);
    assert_true(slice_is(c.auth_param, "<>"));
    assert_int_equal(c.nparams, 4);
    /* a bare parameter's value is empty but still points into the line */
    assert_non_null(c.params[3].value.p);
    assert_true(slice_is(c.params[0].key, "SIZE"));
    assert_true(slice_is(c.params[0].value, "12345"));
    assert_true(slice_is(c.params[3].key, "SMTPUTF8"));
    assert_int_equal(c.params[3].value.len, 0);

    assert_int_equal(parse("MAIL FROM:<a@b> size=0 body=7bit", 0, &c), 0);
    assert_int_equal(c.body, SMTP_BODY_7BIT);
    assert_int_equal(parse("MAIL FROM:<a@b> BODY=BINARYMIME", 0, &c), 0);
    assert_int_equal(c.body, SMTP_BODY_BINARYMIME);
    assert_int_equal(parse("MAIL FROM:<a@b> SIZE=18446744073709551615", 0, &c), 0);
    assert_int_equal(c.size, UINT64_MAX);
    assert_int_equal(parse("MAIL FROM:<a@b> AUTH=bob+40hamburger.edu", 0, &c), 0);
    assert_true(slice_is(c.auth_param, "bob+40hamburger.edu"));
    assert_int_equal(parse("MAIL FROM:<a@b>   SIZE=1    BODY=7BIT  ", 0, &c), 0);
    assert_int_equal(c.nparams, 2);
    assert_int_equal(parse("MAIL FROM:a@b SIZE=1", 0, &c), 0);
    assert_int_equal(c.size, 1);
    assert_int_equal(parse("MAIL FROM:<a@b> RET=HDRS ENVID=QQ314159", 0, &c), 0);

    expect_reply("MAIL FROM:<a@b> SIZE=18446744073709551616", 0, "501 5.5.4");
    expect_reply("MAIL FROM:<a@b> SIZE=12k", 0, "501 5.5.4");
    expect_reply("MAIL FROM:<a@b> SIZE=", 0, "501 5.5.4");
    expect_reply("MAIL FROM:<a@b> SIZE", 0, "501 5.5.4");
    expect_reply("MAIL FROM:<a@b> AUTH", 0, "501 5.5.4");
    expect_reply("MAIL FROM:<a@b> RET", 0, "501 5.5.4");
    expect_reply("MAIL FROM:<a@b> ENVID", 0, "501 5.5.4");
    expect_reply("MAIL FROM:<a@b> BODY", 0, "501 5.5.4");
    expect_reply("MAIL FROM:<a@b> BODY=9BIT", 0, "501 5.5.4");
    expect_reply("MAIL FROM:<a@b> SMTPUTF8=yes", 0, "501 5.5.4");
    expect_reply("MAIL FROM:<a@b> AUTH=a+4", 0, "501 5.5.4");
    expect_reply("MAIL FROM:<a@b> AUTH=a+zz", 0, "501 5.5.4");
    expect_reply("MAIL FROM:<a@b> SIZE=1 size=2", 0, "501 5.5.4 Duplicate");
    expect_reply("MAIL FROM:<a@b> FOO=bar", 0, "555 5.5.4");
    expect_reply("MAIL FROM:<a@b> NOTIFY=NEVER", 0, "555 5.5.4");
    expect_reply("MAIL FROM:<a@b> =x", 0, "501 5.5.4");
    expect_reply("MAIL FROM:<a@b> -X=1", 0, "501 5.5.4");
    expect_reply("MAIL FROM:<a@b> X_Y=1", 0, "501 5.5.4");
    expect_reply("MAIL FROM:<a@b> SIZE==1", 0, "501 5.5.4");
}

/* RFC 8689 §2: REQUIRETLS is a MAIL parameter without a value; RCPT does not take it. */
static void test_requiretls_param(void **state)
{
    struct smtp_cmd c;
    assert_int_equal(parse("MAIL FROM:<a@b> REQUIRETLS", 0, &c), 0);
    assert_true(c.requiretls);
    assert_int_equal(parse("MAIL FROM:<a@b> SIZE=10 requiretls SMTPUTF8", 0, &c), 0);
    assert_true(c.requiretls && c.smtputf8);
    assert_int_equal(parse("MAIL FROM:<> REQUIRETLS", 0, &c), 0);
    assert_true(c.requiretls);
    assert_int_equal(parse("MAIL FROM:<a@b>", 0, &c), 0);
    assert_false(c.requiretls);
    expect_reply("MAIL FROM:<a@b> REQUIRETLS=YES", 0, "501 5.5.4");
    expect_reply("MAIL FROM:<a@b> REQUIRETLS REQUIRETLS", 0, "501 5.5.4 Duplicate");
    expect_reply("RCPT TO:<a@b> REQUIRETLS", 0, "555 5.5.4");
}

static void test_duplicate_params(void **state)
{
    struct smtp_cmd c;
    expect_reply("RCPT TO:<a@b> NOTIFY=NEVER NOTIFY=NEVER", 0, "501 5.5.4 Duplicate");
    expect_reply("MAIL FROM:<a@b> SMTPUTF8 smtputf8", 0, "501 5.5.4 Duplicate");
    assert_int_equal(parse("RCPT TO:<a@b> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a+40b", 0, &c), 0);
    assert_int_equal(c.nparams, 2);
}

static void test_rcpt_params(void **state)
{
    struct smtp_cmd c;
    assert_int_equal(parse("RCPT TO:<a@b> NOTIFY=NEVER", 0, &c), 0);
    assert_int_equal(parse("RCPT TO:<a@b> NOTIFY=success,delay", 0, &c), 0);
    assert_int_equal(parse("RCPT TO:<a@b> ORCPT=rfc822;bob@hamburger.edu", 0, &c), 0);
    assert_true(slice_is(c.params[0].value, "rfc822;bob@hamburger.edu"));
    expect_reply("RCPT TO:<a@b> NOTIFY=NEVER,SUCCESS", 0, "501 5.5.4");
    expect_reply("RCPT TO:<a@b> NOTIFY=SUCCESS,", 0, "501 5.5.4");
    expect_reply("RCPT TO:<a@b> NOTIFY=SOMETIMES", 0, "501 5.5.4");
    expect_reply("RCPT TO:<a@b> ORCPT=rfc822", 0, "501 5.5.4");
    expect_reply("RCPT TO:<a@b> ORCPT=;a@b", 0, "501 5.5.4");
    expect_reply("RCPT TO:<a@b> ORCPT=rfc822;", 0, "501 5.5.4");
    expect_reply("RCPT TO:<a@b> SIZE=10", 0, "555 5.5.4");
    /* value-less forms of parameters that need one (found by fuzzing) */
    expect_reply("RCPT TO:<a@b> NOTIFY", 0, "501 5.5.4");
    expect_reply("RCPT TO:<a@b> ORCPT", 0, "501 5.5.4");
    expect_reply("RCPT TO:<Postmaster> NOTIFY   \x16   =SUCLAY", 0, "501 5.5.4");
    expect_reply("RCPT TO:<a@b> ORCPT=rfc822;\xc3\xa4@b", 0, "501 5.5.4");
    assert_int_equal(parse("RCPT TO:<a@b> ORCPT=utf-8;\xc3\xa4@b", SMTP_PARSE_UTF8, &c), 0);
}

static void test_bdat(void **state)
{
    struct smtp_cmd c;
    assert_int_equal(parse("BDAT 1000", 0, &c), 0);
    assert_int_equal(c.chunk_size, 1000);
    assert_false(c.last);
    assert_int_equal(parse("BDAT 0 LAST", 0, &c), 0);
    assert_int_equal(c.chunk_size, 0);
    assert_true(c.last);
    assert_int_equal(parse("bdat 42 last", 0, &c), 0);
    assert_true(c.last);
    assert_int_equal(parse("BDAT 9223372036854775807", 0, &c), 0);
    assert_int_equal(c.chunk_size, INT64_MAX);
    expect_reply("BDAT 9223372036854775808", 0, "501 5.5.4 Syntax: BDAT");
    expect_reply("BDAT", 0, "501 5.5.4 Syntax: BDAT");
    expect_reply("BDAT x", 0, "501 5.5.4");
    expect_reply("BDAT -1", 0, "501 5.5.4");
    expect_reply("BDAT 10 FIRST", 0, "501 5.5.4");
    expect_reply("BDAT 10 LAST x", 0, "501 5.5.4");
    expect_reply("BDAT LAST", 0, "501 5.5.4");
}

/* RFC 4468 §3.5: "BURL" SP absolute-URI [SP "LAST"] */
static void test_burl(void **state)
{
    struct smtp_cmd c;
    const char *u = "imap://bob@h/INBOX/;uid=1;urlauth=submit+bob:internal:00";
    char line[200];
    snprintf(line, sizeof line, "BURL %s LAST", u);
    assert_int_equal(parse(line, 0, &c), 0);
    assert_int_equal(c.verb, SMTP_BURL);
    assert_int_equal(c.url.len, strlen(u));
    assert_memory_equal(c.url.p, u, strlen(u));
    assert_true(c.last);
    assert_int_equal(parse("burl imap://x/y", 0, &c), 0);
    assert_false(c.last);
    expect_reply("BURL", 0, "501 5.5.4 Syntax: BURL");
    expect_reply("BURL imap://x/y FIRST", 0, "501 5.5.4");
    expect_reply("BURL imap://x/y LAST more", 0, "501 5.5.4");
    expect_reply("BURL imap://x/\x7f", 0, "501 5.5.4");
    expect_reply("BURL imap://x/\xc3\xa4", 0, "501 5.5.4");
}

static void test_auth(void **state)
{
    struct smtp_cmd c;
    assert_int_equal(parse("AUTH PLAIN", 0, &c), 0);
    assert_true(slice_is(c.mechanism, "PLAIN"));
    assert_int_equal(c.initial.len, 0);
    assert_int_equal(parse("AUTH PLAIN AGJvYgBodW5ncnk=", 0, &c), 0);
    assert_true(slice_is(c.initial, "AGJvYgBodW5ncnk="));
    assert_int_equal(parse("auth login =", 0, &c), 0);
    assert_true(slice_is(c.mechanism, "login"));
    assert_true(slice_is(c.initial, "="));
    assert_int_equal(parse("AUTH SCRAM-SHA-256", 0, &c), 0);
    expect_reply("AUTH", 0, "501 5.5.4 Syntax: AUTH");
    expect_reply("AUTH PLAIN a b", 0, "501 5.5.4");
    expect_reply("AUTH PL/AIN", 0, "501 5.5.4");
    expect_reply("AUTH ABCDEFGHIJKLMNOPQRSTU", 0, "501 5.5.4");
}

/* Every prefix of each line, in an exact-size heap copy, must parse or fail cleanly. */
static void test_every_prefix(void **state)
{
    static const char *lines[] = {
        "HELO crepes.fr",
        "MAIL FROM: <alice@crepes.fr>",
        "RCPT TO: <bob@hamburger.edu>",
        "DATA",
        "QUIT",
        "MAIL FROM:<@a,@b:\"q x\"@[IPv6:2001:db8::1]> SIZE=100 BODY=8BITMIME AUTH=a+2Bb SMTPUTF8",
        "RCPT TO:<j\xc3\xb6rg@b\xc3\xbc"
        "cher.de> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;x+40y",
        "BDAT 123 LAST",
        "AUTH PLAIN AGJvYgBodW5ncnk=",
        "RCPT TO:<Postmaster>",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        size_t len = strlen(lines[i]);
        for (size_t k = 0; k <= len; k++) {
            char *copy = malloc(k ? k : 1);
            memcpy(copy, lines[i], k);
            struct smtp_cmd c;
            int rc = smtp_cmd_parse(copy, k, SMTP_PARSE_UTF8, &c);
            if (rc < 0)
                assert_non_null(c.reply);
            else
                assert_null(c.reply);
            free(copy);
        }
        struct smtp_cmd c;
        assert_int_equal(smtp_cmd_parse(lines[i], len, SMTP_PARSE_UTF8, &c), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_textbook),
        cmocka_unit_test(test_verbs_case_insensitive),
        cmocka_unit_test(test_unknown),
        cmocka_unit_test(test_control_bytes),
        cmocka_unit_test(test_hello),
        cmocka_unit_test(test_no_arg_verbs),
        cmocka_unit_test(test_mail_forms),
        cmocka_unit_test(test_rcpt_forms),
        cmocka_unit_test(test_local_limit),
        cmocka_unit_test(test_utf8_gating),
        cmocka_unit_test(test_mail_params),
        cmocka_unit_test(test_requiretls_param),
        cmocka_unit_test(test_duplicate_params),
        cmocka_unit_test(test_rcpt_params),
        cmocka_unit_test(test_bdat),
        cmocka_unit_test(test_burl),
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_every_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
