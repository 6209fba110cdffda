/*
 * Unit tests for imap/parser: every construct, every error with recovery, the limits, the
 * literal contract (continuation, LITERAL+, streaming, refusal), and the same transcript for
 * input split at every offset and fed one byte at a time.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/err.h"
#include "core/str.h"
#include "imap/parser.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A driver that feeds input and writes every event into a transcript. */
struct drv {
    struct imap_parser *p;
    struct str log;
    struct str data; /* streamed literal bytes not yet logged */
    bool stream;     /* stream every literal */
    bool reject;     /* refuse every literal */
    bool after_idle; /* expect a raw line after a command named IDLE */
};

static void log_arg(struct str *o, const struct imap_arg *a)
{
    switch (a->type) {
    case IMAP_ARG_ATOM:
        str_appendf(o, "%s", a->str);
        break;
    case IMAP_ARG_NIL:
        str_appends(o, "NIL");
        break;
    case IMAP_ARG_STRING:
        str_appendf(o, "\"%s\"", a->str);
        break;
    case IMAP_ARG_LITERAL:
        str_appendf(o, "%s{%zu%s}", a->literal8 ? "~" : "", a->len, a->literal_sync ? "" : "+");
        str_append(o, a->str, a->len);
        break;
    case IMAP_ARG_STREAMED:
        str_appendf(o, "{%zu streamed}", a->len);
        break;
    case IMAP_ARG_LIST:
        str_appendc(o, '(');
        for (size_t i = 0; i < a->count; i++) {
            if (i)
                str_appendc(o, ' ');
            log_arg(o, &a->list[i]);
        }
        str_appendc(o, ')');
        break;
    }
}

static void drv_flush_data(struct drv *d)
{
    if (d->data.len) {
        str_appendf(&d->log, "DATA[%s]\n", d->data.ptr);
        str_reset(&d->data);
    }
}

static void drv_event(struct drv *d, int r, const struct imap_parser_event *ev)
{
    if (r < 0) {
        str_appendf(&d->log, "ERR%d tag=%s %s%s lit=%llu\n", r, ev->tag ? ev->tag : "-", ev->error,
                    ev->empty_line ? " (empty)" : "", (unsigned long long)ev->literal_size);
        return;
    }
    switch (r) {
    case IMAP_PARSE_COMMAND:
        str_appendf(&d->log, "CMD %s %s [", ev->cmd->tag, ev->cmd->name);
        for (size_t i = 0; i < ev->cmd->nargs; i++) {
            if (i)
                str_appendc(&d->log, ' ');
            log_arg(&d->log, &ev->cmd->args[i]);
        }
        str_appends(&d->log, "]\n");
        if (d->after_idle && strcmp(ev->cmd->name, "IDLE") == 0)
            imap_parser_expect_line(d->p);
        break;
    case IMAP_PARSE_LITERAL:
        str_appendf(&d->log, "LIT %s %s %llu%s d%u i%zu\n", ev->tag, ev->name,
                    (unsigned long long)ev->literal_size, ev->literal_sync ? " +" : "",
                    ev->literal_depth, ev->literal_index);
        if (d->reject)
            imap_parser_literal_reject(d->p);
        else if (d->stream)
            imap_parser_literal_stream(d->p);
        break;
    case IMAP_PARSE_LINE:
        str_appendf(&d->log, "LINE[%.*s]\n", (int)ev->len, ev->data);
        break;
    default:
        fail_msg("unexpected event %d", r);
    }
}

static void drv_feed(struct drv *d, const char *s, size_t n)
{
    size_t off = 0;
    for (;;) {
        size_t used;
        struct imap_parser_event ev;
        int r = imap_parser_feed(d->p, s + off, n - off, &used, &ev);
        assert_true(used <= n - off);
        off += used;
        if (r == IMAP_PARSE_LITERAL_DATA) {
            assert_int_equal(ev.literal_offset, d->data.len);
            str_append(&d->data, ev.data, ev.len);
            continue;
        }
        if (r == 0) {
            assert_int_equal(off, n);
            return;
        }
        drv_flush_data(d);
        drv_event(d, r, &ev);
    }
}

static void drv_init(struct drv *d, const struct imap_parser_limits *lim)
{
    memset(d, 0, sizeof *d);
    d->p = imap_parser_new(lim);
}

static char *drv_done(struct drv *d)
{
    drv_flush_data(d);
    imap_parser_free(d->p);
    str_clear(&d->data);
    str_appends(&d->log, "");
    return str_steal(&d->log);
}

/* Feeds in[0..n) cut at the given offsets (each piece a separate heap copy for ASan). */
static char *run_cuts(const struct drv *tmpl, const struct imap_parser_limits *lim, const char *in,
                      size_t n, const size_t *cuts, size_t ncuts)
{
    struct drv d;
    drv_init(&d, lim);
    d.stream = tmpl->stream;
    d.reject = tmpl->reject;
    d.after_idle = tmpl->after_idle;
    size_t prev = 0;
    for (size_t k = 0; k <= ncuts; k++) {
        size_t end = k < ncuts ? cuts[k] : n;
        size_t len = end - prev;
        char *piece = malloc(len ? len : 1);
        memcpy(piece, in + prev, len);
        drv_feed(&d, piece, len);
        free(piece);
        prev = end;
    }
    return drv_done(&d);
}

/* The transcript for in, checked to be the same for every split point and byte by byte. */
static char *run_all_splits(const struct drv *tmpl, const struct imap_parser_limits *lim,
                            const char *in, size_t n)
{
    char *whole = run_cuts(tmpl, lim, in, n, NULL, 0);
    for (size_t cut = 0; cut <= n; cut++) {
        char *t = run_cuts(tmpl, lim, in, n, &cut, 1);
        if (strcmp(t, whole) != 0)
            fail_msg("split at %zu differs:\n%s\nvs whole:\n%s", cut, t, whole);
        free(t);
    }
    size_t *cuts = malloc((n + 1) * sizeof *cuts);
    for (size_t i = 0; i < n; i++)
        cuts[i] = i + 1;
    char *bytes = run_cuts(tmpl, lim, in, n, cuts, n ? n - 1 : 0);
    free(cuts);
    if (strcmp(bytes, whole) != 0)
        fail_msg("byte by byte differs:\n%s\nvs whole:\n%s", bytes, whole);
    free(bytes);
    return whole;
}

static void expect(const struct drv *tmpl, const struct imap_parser_limits *lim, const char *in,
                   const char *want)
{
    char *got = run_all_splits(tmpl, lim, in, strlen(in));
    if (strcmp(got, want) != 0)
        fail_msg("input: %s\n got:\n%s\nwant:\n%s", in, got, want);
    free(got);
}

static const struct drv plain = {0};

static void test_constructs(void **state)
{
    expect(&plain, NULL, "a1 NOOP\r\n", "CMD a1 NOOP []\n");
    expect(&plain, NULL, "a1 noop\n", "CMD a1 noop []\n"); /* bare LF */
    expect(&plain, NULL, "A.b] CAPABILITY\r\n", "CMD A.b] CAPABILITY []\n");
    expect(&plain, NULL, "a2 LOGIN \"us\\\"e\\\\r\" {5}\r\npa ss\r\n",
           "LIT a2 LOGIN 5 + d0 i1\nCMD a2 LOGIN [\"us\"e\\r\" {5}pa ss]\n");
    expect(&plain, NULL,
           "a3 APPEND INBOX (\\Seen \\Flagged) \"17-Jul-1996 02:44:25 -0700\" {5+}\r\nhello\r\n",
           "LIT a3 APPEND 5 d0 i3\n"
           "CMD a3 APPEND [INBOX (\\Seen \\Flagged) \"17-Jul-1996 02:44:25 -0700\" {5+}hello]\n");
    expect(&plain, NULL, "a4 FETCH 1:*,3 (FLAGS BODY.PEEK[HEADER.FIELDS (From To)]<0.100>)\r\n",
           "CMD a4 FETCH [1:*,3 (FLAGS BODY.PEEK[HEADER.FIELDS (From To)]<0.100>)]\n");
    expect(&plain, NULL, "a4 UID FETCH 1 body[1.2.mime] BINARY[1]\r\n",
           "CMD a4 UID [FETCH 1 body[1.2.mime] BINARY[1]]\n");
    expect(&plain, NULL, "a5 SELECT NIL\r\n", "CMD a5 SELECT [NIL]\n");
    expect(&plain, NULL, "a6 X ((a (b)) c) () \"\" {0}\r\n\r\n",
           "LIT a6 X 0 + d0 i3\nCMD a6 X [((a (b)) c) () \"\" {0}]\n");
    expect(&plain, NULL, "a7 LIST \"\" %\r\na8 LIST \"\" *\r\n",
           "CMD a7 LIST [\"\" %]\nCMD a8 LIST [\"\" *]\n");
    expect(&plain, NULL, "a9 X (a {2}\r\nbc d {1+}\r\ne)\r\n",
           "LIT a9 X 2 + d1 i1\nLIT a9 X 1 d1 i3\nCMD a9 X [(a {2}bc d {1+}e)]\n");
    /* literal8 (RFC 3516) */
    expect(&plain, NULL,
           "b0 APPEND A ~{3+}\r\na\x01"
           "b\r\n",
           "LIT b0 APPEND 3 d0 i1\nCMD b0 APPEND [A ~{3+}a\x01"
           "b]\n");
    expect(&plain, NULL, "b1 X \"caf\xc3\xa9\" a\r\n", "CMD b1 X [\"caf\xc3\xa9\" a]\n");
    /* lenient: ")(" as in server data (BODYSTRUCTURE) */
    expect(&plain, NULL, "b5 X ((a)(b c))(d)\r\n", "CMD b5 X [((a) (b c)) (d)]\n");
    /* lenient: several spaces, a trailing space */
    expect(&plain, NULL, "b2 X  a   b \r\n", "CMD b2 X [a b]\n");
    /* a literal may hold CR, LF, NUL-free binary and look like commands */
    expect(&plain, NULL, "b3 X {8+}\r\nz NOOP\r\n\r\n",
           "LIT b3 X 8 d0 i0\nCMD b3 X [{8+}z NOOP\r\n]\n");
    /* brackets are only special after BODY/BINARY */
    expect(&plain, NULL, "b4 SELECT [Gmail]/Sent x[y]\r\n", "CMD b4 SELECT [[Gmail]/Sent x[y]]\n");
}

static void test_errors(void **state)
{
    expect(&plain, NULL, "\r\na NOOP\r\n",
           "ERR-3 tag=- Empty command line (empty) lit=0\nCMD a NOOP []\n");
    expect(&plain, NULL, "* NOOP\r\n+ x\r\n",
           "ERR-3 tag=- Invalid tag lit=0\nERR-3 tag=- Invalid tag lit=0\n");
    expect(&plain, NULL, "a\r\nb \r\n",
           "ERR-3 tag=a Missing command name lit=0\nERR-3 tag=b Missing command name lit=0\n");
    expect(&plain, NULL, "a NOOP \"unterminated\r\n",
           "ERR-3 tag=a Unterminated quoted string lit=0\n");
    expect(&plain, NULL, "a X \"bad\\q\"\r\n",
           "ERR-3 tag=a Invalid escape in quoted string lit=0\n");
    expect(&plain, NULL, "a X (a b\r\n", "ERR-3 tag=a Missing ')' lit=0\n");
    expect(&plain, NULL, "a X a)\r\n", "ERR-3 tag=a Unexpected ')' lit=0\n");
    expect(&plain, NULL, "a X \"a\"b\r\n", "ERR-3 tag=a Missing space between arguments lit=0\n");
    expect(&plain, NULL, "a X (a)b\r\n", "ERR-3 tag=a Missing space between arguments lit=0\n");
    expect(&plain, NULL, "a X a(b)\r\n", "ERR-3 tag=a Missing space between arguments lit=0\n");
    expect(&plain, NULL, "a X {5}junk\r\n",
           "ERR-3 tag=a Literal size not at the end of the line lit=0\n");
    expect(&plain, NULL, "a X {}\r\na X {x}\r\n",
           "ERR-3 tag=a Invalid literal size lit=0\nERR-3 tag=a Invalid literal size lit=0\n");
    expect(&plain, NULL, "a X ab\"c\r\n", "ERR-3 tag=a Unexpected character in atom lit=0\n");
    expect(&plain, NULL, "a X caf\xc3\xa9\r\n", "ERR-3 tag=a 8-bit character in atom lit=0\n");
    expect(&plain, NULL, "a X BODY[1\r\n", "ERR-3 tag=a Missing ']' lit=0\n");
    expect(&plain, NULL, "a X ~{}\r\n", "ERR-3 tag=a Invalid literal size lit=0\n");
    expect(&plain, NULL, "a X a\tb\r\n", "ERR-3 tag=a Control character in command lit=0\n");
    expect(&plain, NULL, "a X \"a\rb\"\r\n",
           "ERR-3 tag=a Invalid character in quoted string lit=0\n");
    expect(&plain, NULL, "a NO\"OP\r\n", "ERR-3 tag=a Invalid command name lit=0\n");
    /* NUL bytes (strlen-free input) */
    const char nul[] = "a X b\0c\r\nb NOOP\r\n";
    char *got = run_all_splits(&plain, NULL, nul, sizeof nul - 1);
    assert_string_equal(got, "ERR-3 tag=a NUL in command lit=0\nCMD b NOOP []\n");
    free(got);
    /* an error on a line announcing {n+}: the literal (which looks like a command) and the
     * rest of the command are discarded */
    expect(&plain, NULL, "a X ) {8+}\r\nb NOOP\r\n more ) {3+}\r\nxyz end\r\nc NOOP\r\n",
           "ERR-3 tag=a Unexpected ')' lit=0\nCMD c NOOP []\n");
    /* ... but not after {n}: the client waits for "+" which never comes */
    expect(&plain, NULL, "a X ) {8}\r\nb NOOP\r\n",
           "ERR-3 tag=a Unexpected ')' lit=0\nCMD b NOOP []\n");
}

static void test_limits(void **state)
{
    struct imap_parser_limits lim;
    imap_parser_limits_default(&lim);
    lim.max_line = 20;
    lim.max_literal = 10;
    lim.max_depth = 3;
    lim.max_args = 6;
    /* line too long: refused, the rest of the line discarded, next command fine */
    expect(&plain, &lim, "a X 0123456789012345678901234567890\r\nb NOOP\r\n",
           "ERR-8 tag=- Line too long lit=0\nCMD b NOOP []\n");
    /* exactly max_line is fine */
    expect(&plain, &lim, "a X 0123456789012345\r\n", "CMD a X [0123456789012345]\n");
    /* a too long line ending with {n+}: its literal is skipped too */
    expect(&plain, &lim, "a X 0123456789012345678901234567890 {4+}\r\nb NO\r\nc NOOP\r\n",
           "ERR-8 tag=- Line too long lit=0\nCMD c NOOP []\n");
    /* synchronizing literal too large: refused before reading; the client sends nothing */
    expect(&plain, &lim, "a APPEND x {11}\r\nb NOOP\r\n",
           "ERR-8 tag=a Literal too large lit=11\nCMD b NOOP []\n");
    /* non-synchronizing: its bytes are discarded */
    expect(&plain, &lim, "a APPEND x {11+}\r\nb NOOP\r\nxy\r\nc NOOP\r\n",
           "ERR-8 tag=a Literal too large lit=11\nCMD c NOOP []\n");
    expect(&plain, &lim, "a APPEND x {10}\r\n0123456789\r\n",
           "LIT a APPEND 10 + d0 i1\nCMD a APPEND [x {10}0123456789]\n");
    expect(&plain, &lim, "a X (((a)))\r\n", "CMD a X [(((a)))]\n");
    expect(&plain, &lim, "a X ((((a))))\r\nb NOOP\r\n",
           "ERR-8 tag=a Lists nested too deeply lit=0\nCMD b NOOP []\n");
    expect(&plain, &lim, "a X 1 2 3 4 5 6\r\n", "CMD a X [1 2 3 4 5 6]\n");
    expect(&plain, &lim, "a X 1 2 3 4 5 6 7\r\n", "ERR-8 tag=a Too many arguments lit=0\n");
    expect(&plain, &lim, "a X (1 2) (3 4)\r\n", "CMD a X [(1 2) (3 4)]\n");
    expect(&plain, &lim, "a X (1 2) (3 4) 5\r\n", "ERR-8 tag=a Too many arguments lit=0\n");

    /* memory: a literal within max_literal but beyond max_memory, not streamed */
    imap_parser_limits_default(&lim);
    lim.max_literal = 1000;
    lim.max_memory = 500;
    expect(&plain, &lim, "a APPEND x {600}\r\n",
           "LIT a APPEND 600 + d0 i1\nERR-8 tag=a Literal too large lit=600\n");
    struct drv st = {.stream = true};
    struct str in = STR_INIT;
    str_appends(&in, "a APPEND x {600+}\r\n");
    for (int i = 0; i < 600; i++)
        str_appendc(&in, (char)('a' + i % 26));
    str_appends(&in, "\r\nb NOOP\r\n");
    char *got = run_cuts(&st, &lim, in.ptr, in.len, NULL, 0);
    assert_non_null(strstr(got, "CMD a APPEND [x {600 streamed}]\nCMD b NOOP []\n"));
    free(got);
    got = run_cuts(&plain, &lim, in.ptr, in.len, NULL, 0);
    assert_string_equal(got, "LIT a APPEND 600 d0 i1\nERR-8 tag=a Literal too large lit=600\n"
                             "CMD b NOOP []\n");
    free(got);
    str_clear(&in);
}

static void test_literal_contract(void **state)
{
    /* streaming: the bytes arrive as LITERAL_DATA, the argument is STREAMED */
    struct drv st = {.stream = true};
    expect(&st, NULL, "a APPEND box (\\Seen) {11}\r\nhello world\r\nb NOOP\r\n",
           "LIT a APPEND 11 + d0 i2\nDATA[hello world]\nCMD a APPEND [box (\\Seen) {11 streamed}]\n"
           "CMD b NOOP []\n");
    /* MULTIAPPEND-like: two streamed literals in one command */
    expect(&st, NULL, "a APPEND box {2+}\r\nab {3+}\r\ncde\r\n",
           "LIT a APPEND 2 d0 i1\nDATA[ab]\nLIT a APPEND 3 d0 i2\nDATA[cde]\n"
           "CMD a APPEND [box {2 streamed} {3 streamed}]\n");
    /* refusing: sync literal → nothing follows; non-sync → the bytes are skipped */
    struct drv rj = {.reject = true};
    expect(&rj, NULL, "a LOGIN u {5}\r\nb NOOP\r\n", "LIT a LOGIN 5 + d0 i1\nCMD b NOOP []\n");
    expect(&rj, NULL, "a LOGIN u {5+}\r\nb NOP rest\r\nc NOOP\r\n",
           "LIT a LOGIN 5 d0 i1\nCMD c NOOP []\n");
    /* IDLE ... DONE as a raw line */
    struct drv idle = {.after_idle = true};
    expect(&idle, NULL, "a IDLE\r\nDONE\r\nb NOOP\r\n",
           "CMD a IDLE []\nLINE[DONE]\nCMD b NOOP []\n");
}

static void test_idle_state(void **state)
{
    struct imap_parser *p = imap_parser_new(NULL);
    struct imap_parser_event ev;
    size_t used;
    assert_true(imap_parser_is_idle(p));
    assert_int_equal(imap_parser_feed(p, "a NO", 4, &used, &ev), 0);
    assert_int_equal(used, 4);
    assert_false(imap_parser_is_idle(p));
    assert_int_equal(imap_parser_feed(p, "OP\r\nb", 5, &used, &ev), IMAP_PARSE_COMMAND);
    assert_int_equal(used, 4); /* stops after the command: "b" stays with the caller */
    assert_string_equal(ev.cmd->name, "NOOP");
    assert_true(imap_parser_is_idle(p));
    assert_int_equal(imap_parser_feed(p, "b X {3}\r\n", 9, &used, &ev), IMAP_PARSE_LITERAL);
    assert_false(imap_parser_is_idle(p));
    imap_parser_reset(p);
    assert_true(imap_parser_is_idle(p));
    assert_int_equal(imap_parser_feed(p, "c Y\r\n", 5, &used, &ev), IMAP_PARSE_COMMAND);
    assert_string_equal(ev.cmd->tag, "c");

    /* helpers */
    assert_int_equal(imap_parser_feed(p, "d X nil \"s\" {1+}\r\nL a\r\n", 23, &used, &ev),
                     IMAP_PARSE_LITERAL);
    assert_int_equal(
        imap_parser_feed(p, "d X nil \"s\" {1+}\r\nL a\r\n" + used, 23 - used, &used, &ev),
        IMAP_PARSE_COMMAND);
    const struct imap_arg *a = ev.cmd->args;
    const char *s;
    size_t n;
    assert_true(imap_arg_atom_eq(&a[0], "NIL"));
    assert_true(imap_arg_get_astring(&a[0], &s, &n) && n == 3);
    assert_true(imap_arg_get_nstring(&a[0], &s, &n) && s == NULL);
    assert_false(imap_arg_get_string(&a[0], &s, &n));
    assert_true(imap_arg_get_string(&a[1], &s, &n) && n == 1 && *s == 's');
    assert_true(imap_arg_get_string(&a[2], &s, &n) && n == 1 && *s == 'L');
    assert_true(imap_arg_atom_eq(&a[3], "A"));
    imap_parser_free(p);
}

static void test_pipelined_mix(void **state)
{
    /* A realistic burst with every construct, checked at every split point. */
    const char *in =
        "1 CAPABILITY\r\n2 LOGIN {5}\r\nalice \"pa\\\\ss\"\r\n3 SELECT INBOX\r\n"
        "4 UID FETCH 1:* (UID FLAGS BODY.PEEK[HEADER.FIELDS (DATE FROM)])\r\n"
        "5 APPEND Sent (\\Seen) {3+}\r\nx\r\n\r\n6 SEARCH CHARSET UTF-8 OR (FROM x) NOT SEEN\r\n"
        "7 BAD (\r\n8 LOGOUT\r\n";
    expect(&plain, NULL, in,
           "CMD 1 CAPABILITY []\nLIT 2 LOGIN 5 + d0 i0\nCMD 2 LOGIN [{5}alice \"pa\\ss\"]\n"
           "CMD 3 SELECT [INBOX]\n"
           "CMD 4 UID [FETCH 1:* (UID FLAGS BODY.PEEK[HEADER.FIELDS (DATE FROM)])]\n"
           "LIT 5 APPEND 3 d0 i2\nCMD 5 APPEND [Sent (\\Seen) {3+}x\r\n]\n"
           "CMD 6 SEARCH [CHARSET UTF-8 OR (FROM x) NOT SEEN]\n"
           "ERR-3 tag=7 Missing ')' lit=0\nCMD 8 LOGOUT []\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constructs), cmocka_unit_test(test_errors),
        cmocka_unit_test(test_limits),     cmocka_unit_test(test_literal_contract),
        cmocka_unit_test(test_idle_state), cmocka_unit_test(test_pipelined_mix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
