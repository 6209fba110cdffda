/* pop3/cmd: one command line into a struct pop3_cmd, and the reply for every kind of error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/err.h"
#include "pop3/cmd.h"

#include <string.h>

static int parse(const char *line, struct pop3_cmd *cmd)
{
    return pop3_cmd_parse(line, strlen(line), cmd);
}

static void expect_ok(const char *line, enum pop3_verb verb)
{
    struct pop3_cmd cmd;
    int rc = parse(line, &cmd);
    if (rc != 0)
        fail_msg("'%s': rc %d (%s)", line, rc, cmd.reply);
    assert_int_equal(cmd.verb, verb);
    assert_null(cmd.reply);
}

static void expect_err(const char *line, const char *reply)
{
    struct pop3_cmd cmd;
    int rc = parse(line, &cmd);
    if (rc >= 0)
        fail_msg("'%s' parsed", line);
    assert_non_null(cmd.reply);
    if (strcmp(cmd.reply, reply) != 0)
        fail_msg("'%s': expected '%s', got '%s'", line, reply, cmd.reply);
}

static bool slice_is(struct slice s, const char *text)
{
    return s.len == strlen(text) && memcmp(s.p, text, s.len) == 0;
}

static void test_verbs(void **state)
{
    expect_ok("USER bob", POP3_USER);
    expect_ok("user bob", POP3_USER);
    expect_ok("PASS hungry", POP3_PASS);
    expect_ok("STAT", POP3_STAT);
    expect_ok("stat", POP3_STAT);
    expect_ok("LIST", POP3_LIST);
    expect_ok("LIST 1", POP3_LIST);
    expect_ok("RETR 1", POP3_RETR);
    expect_ok("DELE 2", POP3_DELE);
    expect_ok("NOOP", POP3_NOOP);
    expect_ok("RSET", POP3_RSET);
    expect_ok("QUIT", POP3_QUIT);
    expect_ok("TOP 1 0", POP3_TOP);
    expect_ok("UIDL", POP3_UIDL);
    expect_ok("UIDL 3", POP3_UIDL);
    expect_ok("CAPA", POP3_CAPA);
    expect_ok("STLS", POP3_STLS);
    expect_ok("AUTH", POP3_AUTH);
    expect_ok("AUTH PLAIN", POP3_AUTH);
    expect_ok("AUTH PLAIN AGJvYgBodW5ncnk=", POP3_AUTH);
    expect_ok("STAT ", POP3_STAT); /* trailing space tolerated */
    expect_ok("RETR  1", POP3_RETR);
    assert_string_equal(pop3_verb_name(POP3_TOP), "TOP");
    assert_string_equal(pop3_verb_name(POP3_UNKNOWN), "");
}

static void test_arguments(void **state)
{
    struct pop3_cmd cmd;
    assert_int_equal(parse("USER bob@hamburger.edu", &cmd), 0);
    assert_true(slice_is(cmd.arg, "bob@hamburger.edu"));
    /* RFC 1939 §7: PASS takes the rest of the line, spaces included. */
    assert_int_equal(parse("PASS  two words ", &cmd), 0);
    assert_true(slice_is(cmd.arg, " two words "));
    assert_int_equal(parse("LIST", &cmd), 0);
    assert_false(cmd.has_msg);
    assert_int_equal(parse("LIST 42", &cmd), 0);
    assert_true(cmd.has_msg);
    assert_int_equal(cmd.msg, 42);
    assert_int_equal(parse("TOP 3 10", &cmd), 0);
    assert_int_equal(cmd.msg, 3);
    assert_int_equal(cmd.lines, 10);
    assert_int_equal(parse("TOP 3 99999999999999", &cmd), 0);
    assert_int_equal(cmd.lines, UINT32_MAX);
    assert_int_equal(parse("AUTH plain =", &cmd), 0);
    assert_true(slice_is(cmd.mechanism, "plain"));
    assert_true(slice_is(cmd.initial, "="));
    assert_int_equal(parse("AUTH", &cmd), 0);
    assert_int_equal(cmd.mechanism.len, 0);
    assert_int_equal(parse("RETR 0", &cmd), 0); /* the session says "no such message" */
    assert_int_equal(cmd.msg, 0);
}

static void test_errors(void **state)
{
    expect_err("", "-ERR Unknown command");
    expect_err("HELO x", "-ERR Unknown command");
    expect_err("APOP bob 1234", "-ERR Unknown command");
    expect_err("RETRX 1", "-ERR Unknown command");
    expect_err(" STAT", "-ERR Unknown command");
    expect_err("USER", "-ERR Syntax: USER name");
    expect_err("USER a b", "-ERR Syntax: USER name");
    expect_err("PASS", "-ERR Syntax: PASS password");
    expect_err("PASS ", "-ERR Syntax: PASS password");
    expect_err("STAT 1", "-ERR Syntax: STAT");
    expect_err("QUIT now", "-ERR Syntax: QUIT");
    expect_err("RETR", "-ERR Syntax: RETR msg");
    expect_err("RETR 1 2", "-ERR Syntax: RETR msg");
    expect_err("RETR x", "-ERR Invalid message number");
    expect_err("RETR -1", "-ERR Invalid message number");
    expect_err("RETR 1x", "-ERR Invalid message number");
    expect_err("RETR +1", "-ERR Invalid message number");
    expect_err("DELE", "-ERR Syntax: DELE msg");
    expect_err("LIST a", "-ERR Invalid message number");
    expect_err("LIST 1 2", "-ERR Syntax: LIST [msg]");
    expect_err("UIDL 99999999999", "-ERR No such message");
    expect_err("UIDL 123456789012345678901234567890", "-ERR No such message");
    expect_err("TOP 1", "-ERR Syntax: TOP msg lines");
    expect_err("TOP 1 2 3", "-ERR Syntax: TOP msg lines");
    expect_err("TOP 1 x", "-ERR Invalid number of lines");
    expect_err("TOP x 1", "-ERR Invalid message number");
    expect_err("AUTH PLAIN a b", "-ERR Syntax: AUTH mechanism [initial-response]");
    expect_err("USER b\x01ob", "-ERR Invalid characters in command");
    expect_err("PASS a\x7f", "-ERR Invalid characters in command");
    struct pop3_cmd cmd;
    assert_true(pop3_cmd_parse("STAT\0x", 6, &cmd) < 0);
    assert_string_equal(cmd.reply, "-ERR Invalid characters in command");
    assert_true(parse("RETR x", &cmd) < 0);
    assert_int_equal(cmd.verb, POP3_RETR); /* the verb is known even when its syntax is not */
}

/* Every prefix of a valid line either parses or fails with a reply; nothing crashes. */
static void test_prefixes(void **state)
{
    const char *lines[] = {"TOP 12 345", "AUTH PLAIN AGJvYgBodW5ncnk=", "PASS hungry", "UIDL 7"};
    for (size_t l = 0; l < sizeof lines / sizeof lines[0]; l++) {
        size_t n = strlen(lines[l]);
        for (size_t cut = 0; cut <= n; cut++) {
            struct pop3_cmd cmd;
            int rc = pop3_cmd_parse(lines[l], cut, &cmd);
            assert_true(rc == 0 ? cmd.reply == NULL : cmd.reply != NULL);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verbs),
        cmocka_unit_test(test_arguments),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_prefixes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
