/* Unit tests for the Sieve engine (src/sieve/): parsing and its errors with line numbers,
 * the RFC 5228 examples, each extension's commands and tests, limits, and vacation replies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "sieve/sieve.h"

static const char MSG[] =
    "Return-Path: <x@y>\r\n"
    "From: \"Coyote\" <coyote@desert.example.org>\r\n"
    "To: <roadrunner+birds@acme.example.com>, Other <other@acme.example.com>\r\n"
    "Cc: bob@hamburger.edu\r\n"
    "Subject: =?UTF-8?B?SMOpbGxv?= I have a present for you\r\n"
    "Date: Tue, 01 Dec 2026 10:30:00 +0100\r\n"
    "Message-ID: <m1@desert.example.org>\r\n"
    "X-Caffeine: C8H10N4O2\r\n"
    "\r\n"
    "Look, I'm sorry about the whole anvil thing, and I really\r\n"
    "didn't mean to try and drop it on you from the top of the\r\n"
    "cliff.  I want to try to make it up to you.\r\n";

static struct sieve_env env_default(void)
{
    static const char *const addrs[] = {"bob@hamburger.edu"};
    struct sieve_env e = {
        .msg = MSG, .len = sizeof MSG - 1, .env_from = "coyote@desert.example.org",
        .env_to = "bob+lists@hamburger.edu", .user_addresses = addrs, .n_user_addresses = 1,
        .delimiter = '+', .now = 1796000000, .tz_min = 0,
    };
    return e;
}

/* Parses and runs; returns the run's rc (parse errors fail the test). */
static int run_env(const char *script, const struct sieve_env *e, struct sieve_result *res,
                   struct str *err)
{
    struct sieve_script *s = NULL;
    int rc = sieve_script_parse(script, strlen(script), NULL, &s, err);
    if (rc != 0)
        fail_msg("parse: %s", str_cstr(err));
    rc = sieve_run(s, e, NULL, res, err);
    sieve_script_free(s);
    return rc;
}

static int run(const char *script, struct sieve_result *res, struct str *err)
{
    struct sieve_env e = env_default();
    return run_env(script, &e, res, err);
}

/* "kind:arg" of every action, space-separated. */
static void actions(const struct sieve_result *r, char *buf, size_t cap)
{
    buf[0] = '\0';
    for (size_t i = 0; i < r->n; i++) {
        const struct sieve_action *a = &r->v[i];
        char one[256];
        switch (a->kind) {
        case SIEVE_ACT_KEEP: snprintf(one, sizeof one, "keep[%s]", a->flags); break;
        case SIEVE_ACT_FILEINTO:
            snprintf(one, sizeof one, "fileinto:%s[%s]", a->mailbox, a->flags);
            break;
        case SIEVE_ACT_REDIRECT: snprintf(one, sizeof one, "redirect:%s", a->address); break;
        case SIEVE_ACT_REJECT: snprintf(one, sizeof one, "reject:%s", a->reason); break;
        case SIEVE_ACT_VACATION: snprintf(one, sizeof one, "vacation:%s", a->address); break;
        }
        if (i)
            strncat(buf, " ", cap - strlen(buf) - 1);
        strncat(buf, one, cap - strlen(buf) - 1);
    }
}

static void expect(const char *script, const char *want)
{
    struct sieve_result res;
    struct str err = STR_INIT;
    int rc = run(script, &res, &err);
    char got[1024];
    actions(&res, got, sizeof got);
    if (rc != 0 || strcmp(got, want) != 0)
        fail_msg("script:\n%s\nwant: %s\ngot:  %s (rc %d %s)", script, want, got, rc,
                 str_cstr(&err));
    sieve_result_clear(&res);
    str_clear(&err);
}

static void expect_parse_error(const char *script, const char *want)
{
    struct sieve_script *s = NULL;
    struct str err = STR_INIT;
    int rc = sieve_script_parse(script, strlen(script), NULL, &s, &err);
    if (rc == 0 || !strstr(str_cstr(&err), want))
        fail_msg("script:\n%s\nwant error containing: %s\ngot: rc %d \"%s\"", script, want, rc,
                 str_cstr(&err));
    assert_null(s);
    str_clear(&err);
}

static void test_implicit_keep(void **state)
{
    (void)state;
    expect("", "keep[]");
    expect("# nothing\r\n/* at all */", "keep[]");
    expect("discard;", "");
    expect("keep; discard;", "keep[]");
}

static void test_rfc5228_examples(void **state)
{
    (void)state;
    /* RFC 5228 §9 (adapted to the message above) */
    const char *s = "require \"fileinto\";\n"
                    "if header :contains \"from\" \"coyote\" {\n"
                    "    discard;\n"
                    "} elsif header :contains [\"subject\"] [\"$$$\"] {\n"
                    "    discard;\n"
                    "} else {\n"
                    "    fileinto \"INBOX\";\n"
                    "}\n";
    expect(s, "");
    expect("require \"fileinto\";\n"
           "if header :is \"X-Caffeine\" \"C8H10N4O2\" { fileinto \"Chem\"; }",
           "fileinto:Chem[]");
    expect("if size :over 100K { discard; }", "keep[]");
    expect("if size :under 1M { discard; }", "");
    expect("if exists [\"From\",\"Date\"] { discard; }", "");
    expect("if exists [\"From\",\"X-None\"] { discard; }", "keep[]");
    expect("if not exists \"X-None\" { discard; }", "");
    expect("if allof (true, false) { discard; }", "keep[]");
    expect("if anyof (false, true) { discard; }", "");
    /* RFC 2047 subjects are decoded before matching */
    expect("if header :contains \"subject\" \"Héllo\" { discard; }", "");
    expect("if header :matches \"subject\" \"*present*\" { discard; }", "");
    expect("if header :is \"subject\" \"present\" { discard; }", "keep[]");
}

static void test_address_and_envelope(void **state)
{
    (void)state;
    expect("if address :domain :is \"from\" \"DESERT.example.org\" { discard; }", "");
    expect("if address :localpart :is \"from\" \"coyote\" { discard; }", "");
    expect("if address :all :is \"to\" \"other@acme.example.com\" { discard; }", "");
    expect("if address :is \"from\" \"Coyote\" { discard; }", "keep[]");
    expect("require \"envelope\";\n"
           "if envelope :all :is \"from\" \"coyote@desert.example.org\" { discard; }",
           "");
    expect("require [\"envelope\", \"subaddress\"];\n"
           "if envelope :detail \"to\" \"lists\" { discard; }",
           "");
    expect("require [\"envelope\", \"subaddress\"];\n"
           "if envelope :user \"to\" \"bob\" { discard; }",
           "");
    expect("require \"subaddress\";\n"
           "if address :detail \"to\" \"birds\" { discard; }",
           "");
    /* no detail: :detail never matches */
    expect("require \"subaddress\";\n"
           "if address :detail :matches \"cc\" \"*\" { discard; }",
           "keep[]");
}

static void test_fileinto_copy_flags(void **state)
{
    (void)state;
    expect("require [\"fileinto\", \"copy\"];\nfileinto :copy \"Archive\";",
           "fileinto:Archive[] keep[]");
    expect("require \"fileinto\";\nfileinto \"A\"; fileinto \"A\";", "fileinto:A[]");
    expect("require [\"fileinto\", \"imap4flags\"];\n"
           "setflag \"\\\\Seen\"; addflag [\"$Work\", \"\\\\Flagged\"]; removeflag \"\\\\Seen\";\n"
           "fileinto \"W\";",
           "fileinto:W[$Work \\Flagged]");
    expect("require [\"fileinto\", \"imap4flags\"];\n"
           "fileinto :flags \"\\\\Seen\" \"S\"; addflag \"x\"; keep;",
           "fileinto:S[\\Seen] keep[x]");
    expect("require \"imap4flags\";\n"
           "addflag \"a\"; if hasflag :is \"a\" { addflag \"b\"; }",
           "keep[a b]");
    expect("require [\"imap4flags\", \"variables\", \"relational\"];\n"
           "addflag \"f\" \"x y\"; if hasflag :count \"eq\" \"f\" \"2\" { discard; }",
           "");
}

static void test_redirect_reject(void **state)
{
    (void)state;
    expect("redirect \"alice@example.net\";", "redirect:alice@example.net");
    expect("require \"copy\"; redirect :copy \"alice@example.net\";",
           "redirect:alice@example.net keep[]");
    expect("redirect \"a@b.c\"; redirect \"A@b.c\";", "redirect:a@b.c");
    expect("require \"reject\"; reject \"no thanks\";", "reject:no thanks");
    expect("require \"ereject\"; ereject \"no\"; discard;", "reject:no");

    struct sieve_result res;
    struct str err = STR_INIT;
    assert_int_equal(run("require [\"reject\",\"fileinto\"]; fileinto \"x\"; reject \"r\";", &res,
                         &err),
                     ERR_BUSY_STATE);
    assert_non_null(strstr(str_cstr(&err), "line 1"));
    sieve_result_clear(&res);
    str_reset(&err);
    assert_int_equal(run("redirect \"bad address\";", &res, &err), ERR_PARSE);
    sieve_result_clear(&res);
    str_reset(&err);
    assert_int_equal(run("redirect \"a@b.c\"; redirect \"b@b.c\"; redirect \"c@b.c\";"
                         "redirect \"d@b.c\"; redirect \"e@b.c\";",
                         &res, &err),
                     ERR_LIMIT);
    sieve_result_clear(&res);
    str_clear(&err);
}

static void test_variables(void **state)
{
    (void)state;
    expect("require [\"variables\", \"fileinto\"];\n"
           "if header :matches \"subject\" \"* I have a * for you\" {\n"
           "  fileinto \"gift-${2}\";\n"
           "}",
           "fileinto:gift-present[]");
    expect("require [\"variables\", \"fileinto\"];\n"
           "set :lower :upperfirst \"b\" \"HELLO\"; set :length \"n\" \"${b}!\";\n"
           "fileinto \"${b}-${n}-${unknown}-${\";",
           "fileinto:Hello-6--${[]");
    expect("require [\"variables\", \"fileinto\"];\n"
           "set \"a\" \"x*?\"; set :quotewildcard \"q\" \"${a}\";\n"
           "if string :matches \"x*?\" \"${q}\" { fileinto \"ok\"; }",
           "fileinto:ok[]");
    expect("require [\"variables\", \"envelope\", \"fileinto\", \"subaddress\"];\n"
           "if envelope :matches :detail \"to\" \"*\" { set \"d\" \"${1}\"; }\n"
           "fileinto \"lists/${d}\";",
           "fileinto:lists/lists[]");
    /* without the variables extension "${...}" is literal text */
    expect("require \"fileinto\"; fileinto \"${x}\";", "fileinto:${x}[]");
}

static void test_relational_regex_body(void **state)
{
    (void)state;
    expect("require [\"relational\", \"comparator-i;ascii-numeric\"];\n"
           "if header :count \"ge\" :comparator \"i;ascii-numeric\" \"to\" \"1\" { discard; }",
           "");
    expect("require \"relational\";\n"
           "if address :count \"eq\" [\"to\",\"cc\"] \"3\" { discard; }",
           "");
    expect("require [\"relational\", \"comparator-i;ascii-numeric\"];\n"
           "if header :value \"lt\" :comparator \"i;ascii-numeric\" \"x-caffeine\" \"5\" "
           "{ discard; }",
           "keep[]");
    expect("require [\"regex\", \"variables\", \"fileinto\"];\n"
           "if header :regex \"from\" \"([a-z]+)@desert\" { fileinto \"r-${1}\"; }",
           "fileinto:r-coyote[]");
    expect("require \"body\"; if body :contains \"anvil\" { discard; }", "");
    expect("require \"body\"; if body :raw :contains \"Return-Path\" { discard; }", "keep[]");
    expect("require \"body\"; if body :content \"text\" :contains \"cliff\" { discard; }", "");
    expect("require \"body\"; if body :content \"image\" :contains \"cliff\" { discard; }",
           "keep[]");
}

static void test_date(void **state)
{
    (void)state;
    expect("require \"date\";\n"
           "if date :is \"date\" \"date\" \"2026-12-01\" { discard; }",
           "");
    expect("require \"date\";\n"
           "if date :originalzone :is \"date\" \"hour\" \"10\" { discard; }",
           "");
    expect("require \"date\";\n"
           "if date :zone \"+0000\" :is \"date\" \"hour\" \"09\" { discard; }",
           "");
    expect("require \"date\";\n"
           "if date :is \"date\" \"weekday\" \"2\" { discard; }",
           "");
    /* 1796000000 is 2026-11-29 */
    expect("require [\"date\", \"relational\"];\n"
           "if currentdate :value \"ge\" \"date\" \"2026-11-29\" { discard; }",
           "");
}

static int include_cb(void *ctx, const char *name, bool global, char **text, size_t *len)
{
    (void)ctx;
    const char *t = NULL;
    if (strcmp(name, "spam") == 0 && !global)
        t = "require [\"fileinto\", \"include\"]; if header :contains \"subject\" \"present\" "
            "{ fileinto \"Spam\"; return; } discard;";
    else if (strcmp(name, "loop") == 0)
        t = "require \"include\"; include \"loop\";";
    if (!t)
        return ERR_NOTFOUND;
    *text = strdup(t);
    *len = strlen(t);
    return 0;
}

static void test_include(void **state)
{
    (void)state;
    struct sieve_env e = env_default();
    e.include = include_cb;
    struct sieve_result res;
    struct str err = STR_INIT;
    char got[512];
    assert_int_equal(run_env("require \"include\"; include \"spam\"; keep;", &e, &res, &err), 0);
    actions(&res, got, sizeof got);
    assert_string_equal(got, "fileinto:Spam[] keep[]");
    sieve_result_clear(&res);
    assert_int_equal(run_env("require \"include\"; include :optional \"none\";", &e, &res, &err),
                     0);
    sieve_result_clear(&res);
    assert_int_equal(run_env("require \"include\"; include \"none\";", &e, &res, &err),
                     ERR_NOTFOUND);
    sieve_result_clear(&res);
    str_reset(&err);
    assert_int_equal(run_env("require \"include\"; include \"loop\";", &e, &res, &err),
                     ERR_LIMIT);
    sieve_result_clear(&res);
    str_clear(&err);
}

static void test_vacation(void **state)
{
    (void)state;
    const char *script = "require \"vacation\";\n"
                         "vacation :days 3 :subject \"Away\" \"I am away.\nBack soon.\";";
    struct sieve_result res;
    struct str err = STR_INIT;
    assert_int_equal(run(script, &res, &err), 0);
    assert_int_equal(res.n, 2);
    const struct sieve_action *a = &res.v[0];
    assert_int_equal(a->kind, SIEVE_ACT_VACATION);
    assert_string_equal(a->address, "coyote@desert.example.org");
    assert_int_equal(a->days, 3);
    assert_string_equal(a->from, "bob@hamburger.edu");
    struct sieve_env e = env_default();
    struct str out = STR_INIT;
    sieve_vacation_build(a, &e, "Sun, 29 Nov 2026 10:00:00 +0000", "<v1@hamburger.edu>", &out);
    const char *m = str_cstr(&out);
    assert_non_null(strstr(m, "To: <coyote@desert.example.org>\r\n"));
    assert_non_null(strstr(m, "Subject: Away\r\n"));
    assert_non_null(strstr(m, "In-Reply-To: <m1@desert.example.org>\r\n"));
    assert_non_null(strstr(m, "Auto-Submitted: auto-replied"));
    assert_non_null(strstr(m, "\r\n\r\nI am away.\r\nBack soon.\r\n"));
    str_clear(&out);
    char *handle = strdup(a->handle);
    sieve_result_clear(&res);

    /* the same text gives the same handle; another text another one */
    assert_int_equal(run(script, &res, &err), 0);
    assert_string_equal(res.v[0].handle, handle);
    sieve_result_clear(&res);
    assert_int_equal(run("require \"vacation\"; vacation :subject \"Away\" \"other\";", &res,
                         &err),
                     0);
    assert_string_not_equal(res.v[0].handle, handle);
    free(handle);
    sieve_result_clear(&res);

    /* never to <>, to lists, or when the user is not a visible recipient */
    e.env_from = "";
    assert_int_equal(run_env(script, &e, &res, &err), 0);
    assert_int_equal(res.n, 1);
    assert_non_null(strstr(str_cstr(&res.log), "<>"));
    sieve_result_clear(&res);
    e = env_default();
    e.user_addresses = NULL;
    e.n_user_addresses = 0;
    e.env_to = "carol@hamburger.edu";
    assert_int_equal(run_env(script, &e, &res, &err), 0);
    assert_int_equal(res.n, 1);
    sieve_result_clear(&res);
    assert_int_equal(run_env("require \"vacation\"; vacation :addresses \"other@acme.example.com\""
                             " \"away\";",
                             &e, &res, &err),
                     0);
    assert_int_equal(res.n, 2);
    sieve_result_clear(&res);
    str_clear(&err);
}

static void test_parse_errors(void **state)
{
    (void)state;
    expect_parse_error("if header :is \"a\" \"b\" {\n discard;\n", "line 3: \"}\" expected");
    expect_parse_error("\n\nfileinto \"x\";", "line 3: command \"fileinto\" needs require");
    expect_parse_error("require \"nosuch\";", "unsupported extension \"nosuch\"");
    expect_parse_error("keep;\nrequire \"fileinto\";", "line 2: require must come before");
    expect_parse_error("if hedaer \"a\" \"b\" { }", "line 1: unknown test \"hedaer\"");
    expect_parse_error("if header :is :contains \"a\" \"b\" { }", "conflicts");
    expect_parse_error("if header :regex \"a\" \"b\" { }", "unknown tag :regex");
    expect_parse_error("if header \"a\" { }", "2 arguments expected, 1 given");
    expect_parse_error("else { }", "else without if");
    expect_parse_error("if true { } discard", "\";\" expected");
    expect_parse_error("keep \"x\";", "0 arguments expected");
    expect_parse_error("if size 5 { }", "size: 0 arguments expected, 1 given");
    expect_parse_error("if header :comparator \"i;foo\" \"a\" \"b\" { }", "unknown comparator");
    expect_parse_error("discard; /* open", "unterminated /* comment");
    expect_parse_error("require \"vacation\"; vacation text:\nno end\n", "unterminated text:");
    expect_parse_error("if header \"a\" \"b\nc", "unterminated string");
    expect_parse_error("require \"variables\"; set \"1x\" \"y\";", "not a variable name");
    expect_parse_error("if true discard;", "if needs a block");
    expect_parse_error("if { }", "if needs one test");
    expect_parse_error("if anyof (true,) { }", "a test expected");
    /* deep nesting is refused, not recursed into */
    char deep[4096] = "";
    for (int i = 0; i < 200; i++)
        strcat(deep, "if true {");
    expect_parse_error(deep, "nested too deeply");
    char big[70000];
    memset(big, '#', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    expect_parse_error(big, "script too large");
}

/* RFC 5228 §2.4.2.4 encoded-character and RFC 6131 vacation :seconds. */
static void test_encoded_and_seconds(void **state)
{
    (void)state;
    expect("require [\"fileinto\", \"encoded-character\"];\n"
           "fileinto \"${hex: 57 6f}${unicode:72}k\";",
           "fileinto:Work[]");
    expect("require [\"fileinto\", \"encoded-character\"];\n"
           "fileinto \"caf${unicode:e9} ${hex:zz} ${hex:} ${unicode:1F600\";",
           "fileinto:caf\xc3\xa9 ${hex:zz} ${hex:} ${unicode:1F600[]");
    expect("require \"fileinto\";\nfileinto \"${hex:41}\";", "fileinto:${hex:41}[]");
    expect_parse_error("require [\"fileinto\", \"encoded-character\"];\n\nfileinto "
                       "\"${unicode:D800}\";",
                       "line 3: encoded character out of range");
    struct sieve_result res;
    struct str err = STR_INIT;
    assert_int_equal(run("require \"vacation-seconds\";\nvacation :seconds 600 \"brb\";", &res,
                         &err),
                     0);
    assert_int_equal(res.v[0].kind, SIEVE_ACT_VACATION);
    assert_int_equal(res.v[0].period, 600);
    sieve_result_clear(&res);
    assert_int_equal(run("require \"vacation-seconds\";\nvacation :seconds 0 \"every\";", &res,
                         &err),
                     0);
    assert_int_equal(res.v[0].period, 0);
    sieve_result_clear(&res);
    assert_int_equal(run("require \"vacation\";\nvacation :days 2 \"x\";", &res, &err), 0);
    assert_int_equal(res.v[0].period, 2 * 86400);
    sieve_result_clear(&res);
    str_clear(&err);
    expect_parse_error("require \"vacation\"; vacation :seconds 5 \"x\";", "unknown tag :seconds");
    expect_parse_error("require \"vacation-seconds\"; vacation :days 1 :seconds 5 \"x\";",
                       "conflicts");
}

static bool exists_cb(void *ctx, const char *name)
{
    return strcmp(name, "Lists") == 0 || strcmp(name, "Lists/pigeon") == 0;
}

/* RFC 5490 §3: fileinto :create and mailboxexists. */
static void test_mailbox(void **state)
{
    expect("require [\"fileinto\", \"mailbox\"]; fileinto :create \"Lists/new\";",
           "fileinto:Lists/new[]");
    expect_parse_error("require \"fileinto\"; fileinto :create \"x\";", "line 1");
    expect_parse_error("require \"fileinto\"; if mailboxexists \"x\" { stop; }", "line 1");
    struct sieve_result res = {0};
    struct str err = STR_INIT;
    struct sieve_script *s = NULL;
    static const char script[] =
        "require [\"fileinto\", \"mailbox\"];\n"
        "if mailboxexists [\"Lists\", \"Lists/pigeon\"] { fileinto \"both\"; }\n"
        "if mailboxexists [\"Lists\", \"Nope\"] { fileinto \"wrong\"; }\n"
        "if mailboxexists \"inbox\" { fileinto :create \"inbox-ok\"; }\n";
    assert_int_equal(sieve_script_parse(script, strlen(script), NULL, &s, &err), 0);
    struct sieve_env e = env_default();
    e.mailbox_exists = exists_cb;
    assert_int_equal(sieve_run(s, &e, NULL, &res, &err), 0);
    char buf[512];
    actions(&res, buf, sizeof buf);
    assert_string_equal(buf, "fileinto:both[] fileinto:inbox-ok[]");
    assert_false(res.v[0].create);
    assert_true(res.v[1].create);
    sieve_result_clear(&res);
    /* without a store to ask, no mailbox but INBOX exists */
    e.mailbox_exists = NULL;
    assert_int_equal(sieve_run(s, &e, NULL, &res, &err), 0);
    actions(&res, buf, sizeof buf);
    assert_string_equal(buf, "fileinto:inbox-ok[]");
    sieve_result_clear(&res);
    sieve_script_free(s);
    str_clear(&err);
}

static void test_multiline_and_numbers(void **state)
{
    (void)state;
    const char *s = "require \"vacation\";\n"
                    "vacation text: # comment\n"
                    "Line one\n"
                    "..dotted\n"
                    ".\n"
                    ";\n";
    struct sieve_result res;
    struct str err = STR_INIT;
    assert_int_equal(run(s, &res, &err), 0);
    assert_string_equal(res.v[0].body, "Line one\r\n.dotted\r\n");
    sieve_result_clear(&res);
    str_clear(&err);
    expect("if size :over 1k { discard; }", "keep[]");
    expect("if size :under 1k { discard; }", "");
    expect("if size :over 1G { discard; }", "keep[]");
}

/* Every prefix of a valid script either parses or fails cleanly (no crash, no leak). */
static void test_every_prefix(void **state)
{
    (void)state;
    const char *s = "require [\"fileinto\", \"variables\", \"vacation\"];\n"
                    "if anyof (header :matches \"subject\" \"*x*\", size :over 10K) {\n"
                    "  set \"a\" \"${1}\"; fileinto \"f/${a}\";\n"
                    "} elsif not exists \"to\" { vacation text:\nbye\n.\n; } else { stop; }\n";
    size_t n = strlen(s);
    for (size_t i = 0; i <= n; i++) {
        struct sieve_script *sc = NULL;
        struct str err = STR_INIT;
        int rc = sieve_script_parse(s, i, NULL, &sc, &err);
        if (i == n)
            assert_int_equal(rc, 0);
        if (rc == 0) {
            struct sieve_env e = env_default();
            struct sieve_result res;
            sieve_run(sc, &e, NULL, &res, &err);
            sieve_result_clear(&res);
        } else {
            assert_true(err.len > 0);
        }
        sieve_script_free(sc);
        str_clear(&err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_implicit_keep),
        cmocka_unit_test(test_rfc5228_examples),
        cmocka_unit_test(test_address_and_envelope),
        cmocka_unit_test(test_fileinto_copy_flags),
        cmocka_unit_test(test_redirect_reject),
        cmocka_unit_test(test_variables),
        cmocka_unit_test(test_relational_regex_body),
        cmocka_unit_test(test_date),
        cmocka_unit_test(test_include),
        cmocka_unit_test(test_vacation),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_multiline_and_numbers),
        cmocka_unit_test(test_encoded_and_seconds),
        cmocka_unit_test(test_every_prefix),
        cmocka_unit_test(test_mailbox),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
