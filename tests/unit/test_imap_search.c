/*
 * Unit tests for imap/search_parse, imap/search_match (against a small corpus through
 * msg/mime's text helpers) and imap/fetch_att.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/err.h"
#include "core/str.h"
#include "imap/fetch_att.h"
#include "imap/parser.h"
#include "imap/search_match.h"
#include "imap/search_parse.h"
#include "msg/mime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parses one command line (literals allowed: the parser is fed everything at once). */
static const struct imap_cmd *cmd_parse(struct imap_parser *p, const char *line)
{
    size_t off = 0, n = strlen(line), used;
    struct imap_parser_event ev;
    for (;;) {
        int r = imap_parser_feed(p, line + off, n - off, &used, &ev);
        off += used;
        if (r == IMAP_PARSE_COMMAND)
            return ev.cmd;
        if (r != IMAP_PARSE_LITERAL)
            fail_msg("'%s' did not parse: %d %s", line, r, ev.error ? ev.error : "");
    }
}

/* ---- the corpus ----------------------------------------------------------------------- */

struct msg {
    const char *raw;
    unsigned flags;
    const char *kw[2];
    int64_t internal; /* Unix time */
    uint64_t modseq;
    struct mime_tree *t;
};

static struct msg corpus[] = {
    {"From: Alice <alice@example.org>\r\nTo: Bob <bob@example.net>\r\nSubject: Lunch?\r\n"
     "Date: Mon, 2 Mar 2026 10:00:00 +0100\r\nMessage-ID: <1@x>\r\nContent-Type: text/plain; "
     "charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nCaf=C3=A9 at noon?\r\n",
     IMAP_MSGF_SEEN,
     {"$Work", NULL},
     1772442000 /* 2026-03-02 09:00 UTC */,
     3,
     NULL},
    {"From: Bob <bob@example.net>\r\nTo: Alice <alice@example.org>\r\nCc: carol@example.org\r\n"
     "Subject: =?UTF-8?B?R3LDvMOfZSBhdXMgTcO8bmNoZW4=?=\r\nDate: Tue, 3 Mar 2026 23:30:00 -0500\r\n"
     "\r\nSee the meeting notes.\r\n",
     IMAP_MSGF_RECENT | IMAP_MSGF_FLAGGED,
     {NULL, NULL},
     1772598600 /* 2026-03-04 04:30 UTC */,
     7,
     NULL},
    {"From: Carol <carol@example.org>\r\nTo: Bob <bob@example.net>\r\nSubject: Re: Lunch?\r\n"
     "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; "
     "charset=iso-8859-1\r\n\r\nd\xe9j\xe0 vu\r\n--b\r\nContent-Type: application/octet-stream\r\n"
     "\r\nsecret-attachment-word\r\n--b--\r\n",
     IMAP_MSGF_ANSWERED | IMAP_MSGF_DELETED | IMAP_MSGF_DRAFT,
     {"$Junk", "$Work"},
     1772700000 /* 2026-03-05 08:40 UTC */,
     12,
     NULL},
};
#define NMSG (sizeof corpus / sizeof corpus[0])

static size_t cb_header(void *ctx, const char *name, struct str *out)
{
    struct msg *m = ctx;
    return mime_text_header(m->raw, m->t->root->hdr_len, name, out);
}

static void cb_body(void *ctx, struct str *out)
{
    struct msg *m = ctx;
    mime_text_body(m->t, out, 0);
}

/* The matching messages as "1,3" (sequence numbers = index + 1, UID = 10 * seq). */
static char *search(const char *args, int *rc_out)
{
    struct imap_parser *p = imap_parser_new(NULL);
    char line[512];
    snprintf(line, sizeof line, "t SEARCH %s\r\n", args);
    const struct imap_cmd *c = cmd_parse(p, line);
    struct imap_search s;
    const char *why = NULL;
    *rc_out = imap_search_parse(c->args, c->nargs, IMAP_SEARCH_ALLOW_RETURN, &s, &why);
    struct str o = STR_INIT;
    if (*rc_out == 0) {
        imap_search_prepare(&s, NMSG, 10 * NMSG);
        for (size_t i = 0; i < NMSG; i++) {
            struct msg *mm = &corpus[i];
            if (!mm->t)
                mm->t = mime_parse(mm->raw, strlen(mm->raw), NULL);
            const char *kw[2];
            size_t nkw = 0;
            for (int k = 0; k < 2; k++)
                if (mm->kw[k])
                    kw[nkw++] = mm->kw[k];
            struct imap_search_msg m = {.seq = (uint32_t)i + 1,
                                        .uid = (uint32_t)(10 * (i + 1)),
                                        .flags = mm->flags,
                                        .keywords = kw,
                                        .nkeywords = nkw,
                                        .size = strlen(mm->raw),
                                        .internal_date = mm->internal,
                                        .internal_tz_min = 0,
                                        .modseq = mm->modseq,
                                        .ctx = mm,
                                        .header = cb_header,
                                        .body = cb_body};
            if (imap_search_match(&s, &m))
                str_appendf(&o, "%s%zu", o.len ? "," : "", i + 1);
        }
    } else {
        assert_non_null(why);
    }
    imap_search_clear(&s);
    imap_parser_free(p);
    str_appends(&o, "");
    return str_steal(&o);
}

static void expect_search(const char *args, const char *want)
{
    int rc;
    char *got = search(args, &rc);
    if (rc != 0)
        fail_msg("SEARCH %s: refused (%d)", args, rc);
    if (strcmp(got, want) != 0)
        fail_msg("SEARCH %s: got '%s' want '%s'", args, got, want);
    free(got);
}

static void expect_refused(const char *args, int want_rc)
{
    int rc;
    free(search(args, &rc));
    if (rc != want_rc)
        fail_msg("SEARCH %s: rc %d, want %d", args, rc, want_rc);
}

static void test_search_keys(void **state)
{
    expect_search("ALL", "1,2,3");
    expect_search("FROM alice", "1");
    expect_search("FROM \"EXAMPLE.ORG\"", "1,3");
    expect_search("TO bob", "1,3");
    expect_search("CC carol", "2");
    expect_search("BCC x", "");
    expect_search("SUBJECT lunch", "1,3");
    expect_search("CHARSET UTF-8 SUBJECT {8+}\r\nM\xc3\x9cNCHEN", "2"); /* decoded + folded */
    expect_search("SUBJECT \"GR\xc3\x9c\xc3\x9f"
                  "E\"",
                  "2");                                           /* no CHARSET: UTF-8 */
    expect_search("CHARSET ISO-8859-1 BODY \"D\xc9J\xc0\"", "3"); /* converted */
    expect_search("BODY \"caf\xc3\xa9\"", "1");                   /* QP decoded */
    expect_search("BODY secret-attachment", "");                  /* not a text part */
    expect_search("BODY \"\"", "1,2,3");
    expect_search("TEXT meeting", "2");
    expect_search("TEXT carol@", "2,3"); /* header or body */
    expect_search("HEADER Message-ID \"\"", "1");
    expect_search("HEADER X-None \"\"", "");
    expect_search("HEADER content-type MIXED", "3");
    expect_search("SEEN", "1");
    expect_search("UNSEEN", "2,3");
    expect_search("ANSWERED", "3");
    expect_search("UNANSWERED", "1,2");
    expect_search("DELETED", "3");
    expect_search("UNDELETED", "1,2");
    expect_search("DRAFT", "3");
    expect_search("UNDRAFT", "1,2");
    expect_search("FLAGGED", "2");
    expect_search("UNFLAGGED", "1,3");
    expect_search("RECENT", "2");
    expect_search("NEW", "2");
    expect_search("OLD", "1,3");
    expect_search("KEYWORD $work", "1,3");
    expect_search("UNKEYWORD $Junk", "1,2");
    expect_search("LARGER 220", "1,3");
    expect_search("SMALLER 220", "2");
    expect_search("BEFORE 4-Mar-2026", "1");
    expect_search("ON 4-Mar-2026", "2");
    expect_search("SINCE 4-Mar-2026", "2,3");
    expect_search("SENTBEFORE 3-Mar-2026", "1");
    expect_search("SENTON \"3-Mar-2026\"", "2");  /* the day as written, not in UTC */
    expect_search("SENTSINCE 3-Mar-2026", "2,3"); /* no Date: internal date is used */
    expect_search("1,3", "1,3");
    expect_search("2:*", "2,3");
    expect_search("UID 20:*", "2,3");
    expect_search("UID 25", "");
    expect_search("UID 999:*", "3");
    expect_search("OR FROM alice FROM carol", "1,3");
    expect_search("NOT FROM alice", "2,3");
    expect_search("NOT NOT SEEN", "1");
    expect_search("(FROM bob) (TO alice)", "2");
    expect_search("OR (SEEN FLAGGED) (DELETED)", "3");
    expect_search("FROM bob SUBJECT \"m\xc3\xbcnchen\" UNSEEN", "2");
    expect_search("MODSEQ 7", "2,3");
    expect_search("MODSEQ \"/flags/\\\\draft\" all 10", "3");
    expect_search("RETURN (MIN COUNT) UNSEEN", "2,3");
    expect_search("all", "1,2,3");
}

static void test_search_errors(void **state)
{
    expect_refused("", ERR_PARSE);
    expect_refused("FOO", ERR_PARSE);
    expect_refused("FROM", ERR_PARSE);
    expect_refused("BEFORE 2026-03-04", ERR_PARSE);
    expect_refused("LARGER x", ERR_PARSE);
    expect_refused("UID x", ERR_PARSE);
    expect_refused("0", ERR_PARSE);
    expect_refused("OR SEEN", ERR_PARSE);
    expect_refused("NOT", ERR_PARSE);
    expect_refused("()", ERR_PARSE);
    expect_refused("HEADER \"\" x", ERR_PARSE);
    expect_refused("CHARSET", ERR_PARSE);
    expect_refused("CHARSET X-NONESUCH ALL", ERR_NOTFOUND);
    expect_refused("RETURN (BOGUS) ALL", ERR_PARSE);
    expect_refused("MODSEQ \"/flags/x\" bad 3", ERR_PARSE);
    struct str deep = STR_INIT;
    for (int i = 0; i < 100; i++)
        str_appends(&deep, "NOT ");
    str_appends(&deep, "ALL");
    expect_refused(deep.ptr, ERR_PARSE);
    str_clear(&deep);
}

static void test_search_struct(void **state)
{
    struct imap_parser *p = imap_parser_new(NULL);
    const struct imap_cmd *c = cmd_parse(p, "t SEARCH RETURN () MODSEQ 3 1:*\r\n");
    struct imap_search s;
    const char *why;
    assert_int_equal(imap_search_parse(c->args, c->nargs, IMAP_SEARCH_ALLOW_RETURN, &s, &why), 0);
    assert_true(s.esearch);
    assert_int_equal(s.ret, IMAP_SEARCH_RET_ALL);
    assert_true(s.uses_modseq);
    imap_search_clear(&s);
    c = cmd_parse(p, "t SEARCH RETURN (MIN) ALL\r\n");
    assert_int_equal(imap_search_parse(c->args, c->nargs, 0, &s, &why), ERR_PARSE);
    imap_search_clear(&s);
    imap_parser_free(p);
    for (size_t i = 0; i < NMSG; i++) {
        mime_tree_free(corpus[i].t);
        corpus[i].t = NULL;
    }
}

/* ---- FETCH attributes ------------------------------------------------------------------ */

static int fetch(const char *atts, struct imap_fetch_atts *fa, const char **why)
{
    struct imap_parser *p = imap_parser_new(NULL);
    char line[512];
    snprintf(line, sizeof line, "t FETCH 1 %s\r\n", atts);
    const struct imap_cmd *c = cmd_parse(p, line);
    assert_int_equal(c->nargs, 2);
    int r = imap_fetch_atts_parse(&c->args[1], fa, why);
    imap_parser_free(p); /* the result must not point into the parser */
    return r;
}

static void test_fetch_macros(void **state)
{
    struct imap_fetch_atts fa;
    const char *why;
    const unsigned fast = IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE | IMAP_FETCH_RFC822_SIZE;
    assert_int_equal(fetch("FAST", &fa, &why), 0);
    assert_int_equal(fa.flags, fast);
    imap_fetch_atts_clear(&fa);
    assert_int_equal(fetch("all", &fa, &why), 0);
    assert_int_equal(fa.flags, fast | IMAP_FETCH_ENVELOPE);
    imap_fetch_atts_clear(&fa);
    assert_int_equal(fetch("FULL", &fa, &why), 0);
    assert_int_equal(fa.flags, fast | IMAP_FETCH_ENVELOPE | IMAP_FETCH_BODY);
    assert_false(fa.sets_seen);
    imap_fetch_atts_clear(&fa);
    assert_int_equal(fetch("(FLAGS ALL)", &fa, &why), ERR_PARSE); /* macros stand alone */
    imap_fetch_atts_clear(&fa);
    assert_int_equal(
        fetch("(UID RFC822.SIZE RFC822.HEADER MODSEQ BODYSTRUCTURE ENVELOPE)", &fa, &why), 0);
    assert_int_equal(fa.flags, IMAP_FETCH_UID | IMAP_FETCH_RFC822_SIZE | IMAP_FETCH_RFC822_HEADER |
                                   IMAP_FETCH_MODSEQ | IMAP_FETCH_BODYSTRUCTURE |
                                   IMAP_FETCH_ENVELOPE);
    assert_false(fa.sets_seen);
    imap_fetch_atts_clear(&fa);
    assert_int_equal(fetch("RFC822", &fa, &why), 0);
    assert_true(fa.sets_seen);
    imap_fetch_atts_clear(&fa);
    assert_int_equal(fetch("(RFC822.TEXT)", &fa, &why), 0);
    assert_true(fa.sets_seen);
    imap_fetch_atts_clear(&fa);
}

static void test_fetch_sections(void **state)
{
    struct imap_fetch_atts fa;
    const char *why;
    assert_int_equal(fetch("(FLAGS BODY.PEEK[HEADER.FIELDS (From \"To\")]<0.100> body[1.2.mime] "
                           "BODY[] BODY[3.TEXT] BODY[HEADER.FIELDS.NOT (Subject)] BODY[2])",
                           &fa, &why),
                     0);
    assert_int_equal(fa.flags, IMAP_FETCH_FLAGS);
    assert_int_equal(fa.nbodies, 6);
    assert_true(fa.sets_seen);
    const struct imap_fetch_body *b = fa.bodies;
    assert_true(b[0].peek);
    assert_true(b[0].partial);
    assert_int_equal(b[0].start, 0);
    assert_int_equal(b[0].count, 100);
    assert_int_equal(b[0].section.kind, MIME_SECTION_HEADER_FIELDS);
    assert_int_equal(b[0].section.nfields, 2);
    assert_string_equal(b[0].section.fields[0], "From");
    assert_string_equal(b[0].section.fields[1], "To");
    assert_string_equal(b[0].name, "BODY[HEADER.FIELDS (From To)]<0>");
    assert_false(b[1].peek);
    assert_int_equal(b[1].section.nparts, 2);
    assert_int_equal(b[1].section.part[1], 2);
    assert_int_equal(b[1].section.kind, MIME_SECTION_MIME);
    assert_string_equal(b[1].name, "BODY[1.2.MIME]");
    assert_int_equal(b[2].section.nparts, 0);
    assert_int_equal(b[2].section.kind, MIME_SECTION_BODY);
    assert_string_equal(b[2].name, "BODY[]");
    assert_string_equal(b[3].name, "BODY[3.TEXT]");
    assert_int_equal(b[3].section.kind, MIME_SECTION_TEXT);
    assert_string_equal(b[4].name, "BODY[HEADER.FIELDS.NOT (Subject)]");
    assert_string_equal(b[5].name, "BODY[2]");
    imap_fetch_atts_clear(&fa);

    static const char *const bad[] = {
        "BODY[0]",
        "BODY[1.MIME.X]",
        "BODY[MIME]",
        "BODY[]<1.0>",
        "BODY[]<x.1>",
        "BINARY[1.TEXT]",
        "BINARY[HEADER]",
        "BINARY.SIZE[1]<0.5>",
        "BINARY[1]<0>",
        "BOGUS",
        "()",
        "(FLAGS (UID))",
        "BODY[HEADER.FIELDS]",
        "BODY[HEADER.FIELDS ()]",
        "BODY[1.]",
        "BODY.PEEK",
        "BODY[TEXT]<0.1>x",
        "BODY[1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.19."
        "20.21.22.23.24.25.26.27.28.29.30.31.32.33]",
        "\"FLAGS\"",
        "BODY[4294967296]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why = NULL;
        if (fetch(bad[i], &fa, &why) != ERR_PARSE)
            fail_msg("'%s' accepted", bad[i]);
        assert_non_null(why);
        imap_fetch_atts_clear(&fa);
    }
}

static void test_section_parse(void **state)
{
    struct msg_arena a;
    msg_arena_init(&a, 0);
    struct mime_section s;
    struct str norm = STR_INIT;
    const char *why;
    const char *spec = "4.2.header.fields (date \"x y\")";
    assert_int_equal(imap_section_parse(spec, strlen(spec), &a, &s, &norm, &why), 0);
    assert_string_equal(str_cstr(&norm), "4.2.HEADER.FIELDS (date \"x y\")");
    assert_int_equal(s.nparts, 2);
    assert_string_equal(s.fields[1], "x y");
    msg_arena_clear(&a);
    str_clear(&norm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_search_keys),    cmocka_unit_test(test_search_errors),
        cmocka_unit_test(test_search_struct),  cmocka_unit_test(test_fetch_macros),
        cmocka_unit_test(test_fetch_sections), cmocka_unit_test(test_section_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
