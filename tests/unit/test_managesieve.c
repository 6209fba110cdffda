/* Unit tests for the ManageSieve engine (src/managesieve/): the command parser (quoted
 * strings, literals, numbers, limits; split at every offset) and the session driven with a
 * fake store (capabilities, STARTTLS, AUTHENTICATE PLAIN, every script command, errors). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/str.h"
#include "managesieve/parse.h"
#include "managesieve/session.h"

/* ---- the parser ---- */

static void test_parse_forms(void **state)
{
    (void)state;
    struct msv_cmd c = {0};
    const char *why = NULL;
    size_t skip = 0;
    const char *in = "putscript \"my \\\"s\\\\\" {12+}\r\nkeep;\r\nstop;\r\n";
    int rc = msv_cmd_parse(in, strlen(in), 1000, &c, &why, &skip);
    assert_int_equal(rc, (int)strlen(in));
    assert_string_equal(c.name, "PUTSCRIPT");
    assert_int_equal(c.nargs, 2);
    assert_string_equal(msv_arg_str(&c, 0), "my \"s\\");
    assert_int_equal(c.args[1].len, 12);
    assert_memory_equal(msv_arg_str(&c, 1), "keep;\r\nstop;", 12);
    in = "HAVESPACE \"x\" 12345\r\n";
    assert_int_equal(msv_cmd_parse(in, strlen(in), 1000, &c, &why, &skip), (int)strlen(in));
    assert_int_equal(c.args[1].type, MSV_ARG_NUM);
    assert_int_equal(c.args[1].num, 12345);
    in = "CHECKSCRIPT {3}\r\nabc\r\n"; /* synchronizing form accepted */
    assert_int_equal(msv_cmd_parse(in, strlen(in), 1000, &c, &why, &skip), (int)strlen(in));
    in = "LOGOUT\n";
    assert_int_equal(msv_cmd_parse(in, strlen(in), 1000, &c, &why, &skip), 7);
    str_clear(&c.strs);
}

static void test_parse_errors_and_limits(void **state)
{
    (void)state;
    struct msv_cmd c = {0};
    const char *why = NULL;
    size_t skip = 0;
    const char *bad[] = {"\"x\"\r\n", "NOOP x\r\nNEXT\r\n", "NOOP \"a\rb\"\r\n", "NOOP {x}\r\n",
                         "NOOP \"\\n\"\r\n", "NOOP 1 2 3 4 5\r\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = msv_cmd_parse(bad[i], strlen(bad[i]), 100, &c, &why, &skip);
        assert_int_equal(rc, ERR_PARSE);
        assert_non_null(why);
        assert_true(skip > 0 && skip <= strlen(bad[i]));
    }
    const char *big = "PUTSCRIPT \"a\" {500+}\r\n";
    assert_int_equal(msv_cmd_parse(big, strlen(big), 100, &c, &why, &skip), ERR_LIMIT);
    assert_int_equal(skip, strlen(big) + 500);
    char line[MSV_LINE_MAX + 100];
    memset(line, 'a', sizeof line);
    memcpy(line, "NOOP ", 5);
    assert_int_equal(msv_cmd_parse(line, sizeof line, 100, &c, &why, &skip), ERR_PARSE);
    str_clear(&c.strs);
}

/* Every prefix of a valid command is "need more", the whole is one command. */
static void test_parse_every_split(void **state)
{
    (void)state;
    const char *in = "RENAMESCRIPT \"o\\\"ld\" {4+}\r\nne w\r\n";
    size_t n = strlen(in);
    struct msv_cmd c = {0};
    const char *why;
    size_t skip;
    for (size_t i = 0; i < n; i++)
        assert_int_equal(msv_cmd_parse(in, i, 100, &c, &why, &skip), 0);
    assert_int_equal(msv_cmd_parse(in, n, 100, &c, &why, &skip), (int)n);
    assert_string_equal(msv_arg_str(&c, 1), "ne w");
    str_clear(&c.strs);
}

/* ---- the session, with a fake store ---- */

struct fake {
    struct str out;
    struct managesieve_session *s;
    bool tls_asked;
    char scripts[4][2][64]; /* name, text */
    int active;
    int nscripts;
    bool async; /* leave requests pending */
};

static void fake_write(void *io, const char *p, size_t n)
{
    str_append(&((struct fake *)io)->out, p, n);
}

static void fake_starttls(void *io)
{
    ((struct fake *)io)->tls_asked = true;
}

static const struct managesieve_io fio = {fake_write, fake_starttls};

static void fake_auth(void *ctx, struct managesieve_session *s, const char *user, const char *pass)
{
    bool ok = strcmp(user, "bob@x") == 0 && strcmp(pass, "pw") == 0;
    managesieve_session_auth_done(s, ok, user);
}

static int find(struct fake *f, const char *name)
{
    for (int i = 0; i < f->nscripts; i++)
        if (strcmp(f->scripts[i][0], name) == 0)
            return i;
    return -1;
}

static void fake_request(void *ctx, struct managesieve_session *s, const struct managesieve_req *r)
{
    struct fake *f = ctx;
    struct managesieve_result res = {0};
    struct managesieve_script_info list[4];
    int i = r->name ? find(f, r->name) : -1;
    switch (r->op) {
    case MANAGESIEVE_LIST:
        for (int k = 0; k < f->nscripts; k++)
            list[k] = (struct managesieve_script_info){f->scripts[k][0], k == f->active};
        res.scripts = list;
        res.n = (size_t)f->nscripts;
        break;
    case MANAGESIEVE_GET:
        if (i < 0)
            res.rc = ERR_NOTFOUND;
        else
            res.text = f->scripts[i][1], res.len = strlen(f->scripts[i][1]);
        break;
    case MANAGESIEVE_PUT:
        if (i < 0 && f->nscripts == 4)
            res.rc = ERR_LIMIT;
        else {
            if (i < 0)
                i = f->nscripts++;
            snprintf(f->scripts[i][0], 64, "%s", r->name);
            snprintf(f->scripts[i][1], 64, "%.*s", (int)r->len, r->text);
        }
        break;
    case MANAGESIEVE_ACTIVATE:
        if (r->name[0] && i < 0)
            res.rc = ERR_NOTFOUND;
        else
            f->active = i;
        break;
    case MANAGESIEVE_DELETE:
        res.rc = i < 0 ? ERR_NOTFOUND : i == f->active ? ERR_BUSY_STATE : 0;
        if (res.rc == 0) {
            memmove(f->scripts[i], f->scripts[i + 1], (size_t)(f->nscripts - i - 1) * 128);
            f->nscripts--;
        }
        break;
    case MANAGESIEVE_RENAME:
        res.rc = i < 0 ? ERR_NOTFOUND : find(f, r->name2) >= 0 ? ERR_EXISTS : 0;
        if (res.rc == 0)
            snprintf(f->scripts[i][0], 64, "%s", r->name2);
        break;
    }
    managesieve_session_request_done(s, &res);
}

static const struct managesieve_session_ops fops = {fake_auth, fake_request};

static struct fake *fake_new(bool tls, bool plaintext_ok)
{
    struct fake *f = calloc(1, sizeof *f);
    f->active = -1;
    struct managesieve_server_config cfg = {true, plaintext_ok, 5, 100, 4, 4};
    struct managesieve_peer peer = {"127.0.0.1", tls};
    f->s = managesieve_session_new(&cfg, &fio, f, &fops, f, &peer, 1);
    managesieve_session_start(f->s);
    return f;
}

static void fake_free(struct fake *f)
{
    managesieve_session_free(f->s);
    str_clear(&f->out);
    free(f);
}

/* Feeds in, returns the output since the last call. */
static const char *talk(struct fake *f, const char *in)
{
    str_reset(&f->out);
    size_t n = strlen(in), used = managesieve_session_feed(f->s, in, n);
    assert_int_equal(used, n);
    return str_cstr(&f->out);
}

#define PLAIN_BOB "AGJvYkB4AHB3" /* "\0bob@x\0pw" */

static void test_greeting_and_tls(void **state)
{
    (void)state;
    struct fake *f = fake_new(false, false);
    const char *o = str_cstr(&f->out);
    assert_non_null(strstr(o, "\"IMPLEMENTATION\" \"Pigeon\"\r\n"));
    assert_non_null(strstr(o, "\"SIEVE\" \"fileinto reject"));
    assert_non_null(strstr(o, "\"STARTTLS\"\r\n"));
    assert_non_null(strstr(o, "\"SASL\" \"\"\r\n")); /* no password before TLS */
    assert_non_null(strstr(o, "\"VERSION\" \"1.0\"\r\nOK \"Pigeon ManageSieve ready\"\r\n"));
    o = talk(f, "AUTHENTICATE \"PLAIN\" \"" PLAIN_BOB "\"\r\n");
    assert_string_equal(o, "NO (ENCRYPT-NEEDED) \"Use STARTTLS first\"\r\n");
    o = talk(f, "STARTTLS\r\nNOOP\r\n"); /* what follows STARTTLS is dropped */
    assert_true(f->tls_asked);
    assert_string_equal(o, "OK \"Begin TLS negotiation now\"\r\n");
    str_reset(&f->out);
    managesieve_session_tls_started(f->s, "TLSv1.3", "x");
    o = str_cstr(&f->out);
    assert_non_null(strstr(o, "\"SASL\" \"PLAIN LOGIN\"\r\n"));
    assert_null(strstr(o, "STARTTLS"));
    assert_non_null(strstr(o, "OK \"TLS negotiation successful\"\r\n"));
    o = talk(f, "AUTHENTICATE \"PLAIN\"\r\n");
    assert_string_equal(o, "\"\"\r\n");
    o = talk(f, "{12+}\r\n" PLAIN_BOB "\r\n");
    assert_string_equal(o, "OK \"Logged in\"\r\n");
    o = talk(f, "CAPABILITY\r\n");
    assert_non_null(strstr(o, "\"OWNER\" \"bob@x\"\r\n"));
    fake_free(f);
}

static struct fake *logged_in(void)
{
    struct fake *f = fake_new(true, false);
    assert_string_equal(talk(f, "AUTHENTICATE \"PLAIN\" \"" PLAIN_BOB "\"\r\n"),
                        "OK \"Logged in\"\r\n");
    return f;
}

static void test_scripts(void **state)
{
    (void)state;
    struct fake *f = logged_in();
    assert_string_equal(talk(f, "PUTSCRIPT \"a\" {6+}\r\nkeep;\n\r\n"), "OK \"Completed\"\r\n");
    const char *o = talk(f, "PUTSCRIPT \"b\" {18+}\r\nif true {\n  keep;\n\r\n");
    assert_string_equal(o, "NO \"line 3: \\\"}\\\" expected\"\r\n");
    assert_string_equal(talk(f, "CHECKSCRIPT \"fileinto \\\"x\\\";\"\r\n"),
                        "NO \"line 1: command \\\"fileinto\\\" needs require\"\r\n");
    assert_string_equal(talk(f, "CHECKSCRIPT \"discard;\"\r\n"), "OK \"Script is valid\"\r\n");
    assert_string_equal(talk(f, "SETACTIVE \"a\"\r\n"), "OK \"Completed\"\r\n");
    assert_string_equal(talk(f, "PUTSCRIPT \"b\" \"discard;\"\r\nLISTSCRIPTS\r\n"),
                        "OK \"Completed\"\r\n\"a\" ACTIVE\r\n\"b\"\r\n"
                        "OK \"Listscripts completed\"\r\n");
    assert_string_equal(talk(f, "GETSCRIPT \"a\"\r\n"),
                        "{6}\r\nkeep;\n\r\nOK \"Getscript completed\"\r\n");
    assert_string_equal(talk(f, "GETSCRIPT \"zz\"\r\n"),
                        "NO (NONEXISTENT) \"There is no such script\"\r\n");
    assert_string_equal(talk(f, "DELETESCRIPT \"a\"\r\n"),
                        "NO (ACTIVE) \"The script is active\"\r\n");
    assert_string_equal(talk(f, "RENAMESCRIPT \"b\" \"a\"\r\n"),
                        "NO (ALREADYEXISTS) \"A script of that name exists\"\r\n");
    assert_string_equal(talk(f, "RENAMESCRIPT \"b\" \"c\"\r\n"), "OK \"Completed\"\r\n");
    assert_string_equal(talk(f, "SETACTIVE \"\"\r\nDELETESCRIPT \"a\"\r\n"),
                        "OK \"Completed\"\r\nOK \"Completed\"\r\n");
    assert_string_equal(talk(f, "HAVESPACE \"n\" 99\r\n"), "OK \"Putscript would succeed\"\r\n");
    assert_string_equal(talk(f, "HAVESPACE \"n\" 101\r\n"),
                        "NO (QUOTA/MAXSIZE) \"Scripts are limited to 100 octets\"\r\n");
    assert_string_equal(talk(f, "PUTSCRIPT \"big\" {150+}\r\n"),
                        "NO (QUOTA/MAXSIZE) \"script too large\"\r\n");
    char body[200];
    memset(body, '#', 150);
    strcpy(body + 150, "\r\nNOOP \"t\"\r\n"); /* the refused literal is dropped */
    assert_string_equal(talk(f, body), "OK (TAG \"t\") \"Done\"\r\n");
    assert_string_equal(talk(f, "LOGOUT\r\n"), "OK \"Logout completed\"\r\n");
    assert_true(managesieve_session_closing(f->s));
    fake_free(f);
}

/* SASL LOGIN: "Username:" and "Password:" challenges, with or without the initial response; a
 * bad step, "*" and a wrong password each end the exchange with NO. */
static void test_sasl_login(void **state)
{
    (void)state;
    struct fake *f = fake_new(true, false);
    assert_string_equal(talk(f, "AUTHENTICATE \"LOGIN\"\r\n"), "\"VXNlcm5hbWU6\"\r\n");
    assert_string_equal(talk(f, "\"Ym9iQHg=\"\r\n"), "\"UGFzc3dvcmQ6\"\r\n"); /* bob@x */
    assert_string_equal(talk(f, "\"d3g=\"\r\n"), "NO \"Authentication failed\"\r\n"); /* wx */
    assert_string_equal(talk(f, "AUTHENTICATE \"login\"\r\n\"*\"\r\n"),
                        "\"VXNlcm5hbWU6\"\r\nNO \"Authentication cancelled\"\r\n");
    assert_string_equal(talk(f, "AUTHENTICATE \"LOGIN\" \"Ym9iQHg=\"\r\n\"*\"\r\n"),
                        "\"UGFzc3dvcmQ6\"\r\nNO \"Authentication cancelled\"\r\n");
    assert_string_equal(talk(f, "AUTHENTICATE \"LOGIN\" \"!!\"\r\n"),
                        "NO \"Bad LOGIN response\"\r\n");
    assert_string_equal(talk(f, "AUTHENTICATE \"LOGIN\" \"Ym9iQHg=\"\r\n{4+}\r\ncHc=\r\n"),
                        "\"UGFzc3dvcmQ6\"\r\nOK \"Logged in\"\r\n"); /* pw */
    assert_non_null(strstr(talk(f, "CAPABILITY\r\n"), "\"OWNER\" \"bob@x\"\r\n"));
    fake_free(f);
}

static void test_errors(void **state)
{
    (void)state;
    struct fake *f = fake_new(true, false);
    assert_string_equal(talk(f, "LISTSCRIPTS\r\n"), "NO \"Authenticate first\"\r\n");
    assert_string_equal(talk(f, "FOO\r\n"), "NO \"Unknown command\"\r\n");
    assert_string_equal(talk(f, "AUTHENTICATE \"X-FOO\"\r\n"),
                        "NO \"Unsupported SASL mechanism\"\r\n");
    assert_string_equal(talk(f, "AUTHENTICATE \"PLAIN\" \"AGJvYkB4AHd4\"\r\n"),
                        "NO \"Authentication failed\"\r\n");
    /* the fifth error ends the session */
    assert_string_equal(talk(f, "NOOP 1 2\r\n"), "BYE \"Too many errors\"\r\n");
    assert_true(managesieve_session_closing(f->s));
    fake_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_forms),
        cmocka_unit_test(test_parse_errors_and_limits),
        cmocka_unit_test(test_parse_every_split),
        cmocka_unit_test(test_greeting_and_tls),
        cmocka_unit_test(test_scripts),
        cmocka_unit_test(test_sasl_login),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
