/*
 * Unit tests for msg/mime: the corpus of tests/data/mime (ENVELOPE, BODY and BODYSTRUCTURE
 * expected values written from RFC 3501 §7.4.2), BODY[section] resolution, header helpers,
 * tolerance of broken structure, and the SEARCH text helpers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/err.h"
#include "core/str.h"
#include "msg/mime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef MIME_DATA_DIR
#define MIME_DATA_DIR "tests/data/mime"
#endif

/* Reads a corpus file; LF becomes CRLF unless raw (files are kept with LF in git). */
static char *load(const char *name, bool raw, bool strip_final_lf, size_t *len_out)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", MIME_DATA_DIR, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    struct str s = STR_INIT;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        str_append(&s, buf, n);
    fclose(f);
    if (strip_final_lf && s.len && s.ptr[s.len - 1] == '\n')
        s.len--, s.ptr[s.len] = '\0';
    struct str out = STR_INIT;
    for (size_t i = 0; i < s.len; i++) {
        if (s.ptr[i] == '\n' && !raw && (i == 0 || s.ptr[i - 1] != '\r'))
            str_appendc(&out, '\r');
        str_appendc(&out, s.ptr[i]);
    }
    str_clear(&s);
    str_appends(&out, ""); /* never NULL */
    *len_out = out.len;
    return str_steal(&out);
}

static void expect_file(const char *what, const struct str *got, const char *file)
{
    size_t n;
    char *want = load(file, false, true, &n);
    if (got->len != n || memcmp(got->ptr, want, n) != 0) {
        print_error("%s mismatch for %s\n got: %s\nwant: %s\n", what, file, str_cstr(got), want);
        free(want);
        fail();
    }
    free(want);
}

static void corpus_check(const char *name)
{
    char file[128];
    snprintf(file, sizeof file, "%s.eml", name);
    size_t len;
    char *msg = load(file, strncmp(name, "lf_", 3) == 0, false, &len);
    struct mime_tree *t = mime_parse(msg, len, NULL);
    struct str s = STR_INIT;

    mime_envelope_write(msg + t->root->hdr_off, t->root->hdr_len, &s);
    snprintf(file, sizeof file, "%s.envelope", name);
    expect_file("ENVELOPE", &s, file);

    str_reset(&s);
    mime_bodystructure_write(t, t->root, MIME_BS_EXTENSIONS, &s);
    snprintf(file, sizeof file, "%s.bodystructure", name);
    expect_file("BODYSTRUCTURE", &s, file);

    str_reset(&s);
    mime_bodystructure_write(t, t->root, 0, &s);
    snprintf(file, sizeof file, "%s.body", name);
    expect_file("BODY", &s, file);

    str_clear(&s);
    mime_tree_free(t);
    free(msg);
}

static void test_corpus(void **state)
{
    static const char *const names[] = {
        "simple",  "alternative",     "mixed_attachment", "nested",    "rfc822_attachment",
        "rfc2231", "no_content_type", "group_address",    "non_ascii", "missing_final_boundary",
        "digest",  "lf_only",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        corpus_check(names[i]);
}

static void test_rfc2231_utf8_client(void **state)
{
    size_t len;
    char *msg = load("rfc2231.eml", false, false, &len);
    struct mime_tree *t = mime_parse(msg, len, NULL);
    struct str s = STR_INIT;
    mime_bodystructure_write(t, NULL, MIME_BS_EXTENSIONS | MIME_BS_UTF8, &s);
    expect_file("BODYSTRUCTURE (UTF-8)", &s, "rfc2231.bodystructure.utf8");
    /* The tree holds the decoded value and the language suffix is gone. */
    const struct mime_part *p1 = t->root->children;
    const struct mime_param *fn = mime_param_find(p1->disp_params, p1->ndisp_params, "filename");
    assert_non_null(fn);
    assert_true(fn->ext);
    assert_string_equal(fn->value, "caf\xc3\xa9.txt");
    str_clear(&s);
    mime_tree_free(t);
    free(msg);
}

/* ---- sections ------------------------------------------------------------------------- */

struct sec_case {
    const char *spec; /* "" or "1.2" part numbers; kind below */
    enum mime_section_kind kind;
    const char *want; /* expected bytes (LF shown, compared as CRLF); NULL: not found */
};

/* The field list of the HEADER.FIELDS[.NOT] cases. */
static const char *const sec_fields[] = {"subject", "X-Absent"};

static void parse_parts(const char *spec, struct mime_section *s)
{
    memset(s, 0, sizeof *s);
    for (const char *p = spec; *p;) {
        s->part[s->nparts++] = (uint32_t)strtoul(p, (char **)&p, 10);
        if (*p == '.')
            p++;
    }
}

static void section_check(const char *eml, const struct sec_case *c, size_t n)
{
    size_t len;
    char *msg = load(eml, false, false, &len);
    struct mime_tree *t = mime_parse(msg, len, NULL);
    for (size_t i = 0; i < n; i++) {
        struct mime_section s;
        parse_parts(c[i].spec, &s);
        s.kind = c[i].kind;
        s.fields = sec_fields;
        s.nfields = 2;
        struct mime_range r;
        int rc = mime_section_resolve(t, &s, &r);
        if (!c[i].want) {
            if (rc != ERR_NOTFOUND)
                fail_msg("%s [%s/%d] should not exist", eml, c[i].spec, c[i].kind);
            continue;
        }
        if (rc != 0)
            fail_msg("%s [%s/%d] not found", eml, c[i].spec, c[i].kind);
        struct str want = STR_INIT;
        for (const char *p = c[i].want; *p; p++) {
            if (*p == '\n')
                str_appendc(&want, '\r');
            str_appendc(&want, *p);
        }
        struct slice got = mime_range_bytes(&r, msg);
        if (got.len != want.len || memcmp(got.p, str_cstr(&want), want.len) != 0)
            fail_msg("%s [%s/%d]: got '%.*s' want '%s'", eml, c[i].spec, c[i].kind, (int)got.len,
                     got.p, str_cstr(&want));
        str_clear(&want);
        mime_range_clear(&r);
    }
    mime_tree_free(t);
    free(msg);
}

static void test_sections_nested(void **state)
{
    const struct sec_case c[] = {
        {"1.1", MIME_SECTION_BODY, "See the photo."},
        {"1.2", MIME_SECTION_BODY, "<b>See the photo.</b>"},
        {"1.2", MIME_SECTION_MIME, "Content-Type: text/html; charset=\"us-ascii\"\n\n"},
        {"2", MIME_SECTION_BODY, "iVBORw0KGgo="},
        {"1", MIME_SECTION_BODY,
         "--inner\nContent-Type: text/plain; charset=\"us-ascii\"\n\nSee the photo.\n--inner\n"
         "Content-Type: text/html; charset=\"us-ascii\"\n\n<b>See the photo.</b>\n--inner--"},
        {"1", MIME_SECTION_MIME, "Content-Type: multipart/alternative; boundary=\"inner\"\n\n"},
        {"", MIME_SECTION_HEADER_FIELDS, "Subject: Photos\n\n"},
        {"3", MIME_SECTION_BODY, NULL},
        {"1.3", MIME_SECTION_BODY, NULL},
        {"2.1", MIME_SECTION_BODY, NULL},
        {"2", MIME_SECTION_HEADER, NULL}, /* not a message/rfc822 part */
        {"2", MIME_SECTION_TEXT, NULL},
        {"", MIME_SECTION_MIME, NULL},
    };
    section_check("nested.eml", c, sizeof c / sizeof c[0]);
}

static void test_sections_rfc822(void **state)
{
    const struct sec_case c[] = {
        {"1", MIME_SECTION_BODY, "See the forwarded message."},
        {"2", MIME_SECTION_MIME,
         "Content-Type: message/rfc822\nContent-Disposition: attachment\n\n"},
        {"2.1", MIME_SECTION_BODY, "Notes: ship it."},
        {"2.2", MIME_SECTION_BODY, "<p>Notes: ship it.</p>"},
        {"2.1", MIME_SECTION_MIME, "Content-Type: text/plain; charset=us-ascii\n\n"},
        {"2", MIME_SECTION_HEADER_FIELDS, "Subject: Meeting notes\n\n"},
        {"2", MIME_SECTION_HEADER_FIELDS_NOT,
         "From: Grace <grace@example.net>\nTo: Eve <eve@example.net>\n"
         "Date: Wed, 4 Mar 2026 17:00:00 +0200\nMessage-ID: <notes-1@example.net>\n"
         "MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=\"n\"\n\n"},
        {"2", MIME_SECTION_TEXT,
         "--n\nContent-Type: text/plain; charset=us-ascii\n\nNotes: ship it.\n--n\n"
         "Content-Type: text/html; charset=us-ascii\n\n<p>Notes: ship it.</p>\n--n--"},
        {"2.3", MIME_SECTION_BODY, NULL},
        {"2.1.1", MIME_SECTION_BODY, NULL},
    };
    section_check("rfc822_attachment.eml", c, sizeof c / sizeof c[0]);

    /* BODY[2] is the whole encapsulated message, BODY[2.HEADER] its header. */
    size_t len;
    char *msg = load("rfc822_attachment.eml", false, false, &len);
    struct mime_tree *t = mime_parse(msg, len, NULL);
    struct mime_section s = {.part = {2}, .nparts = 1, .kind = MIME_SECTION_BODY};
    struct mime_range r;
    assert_int_equal(mime_section_resolve(t, &s, &r), 0);
    struct slice b = mime_range_bytes(&r, msg);
    assert_int_equal(b.len, 376);
    assert_memory_equal(b.p, "From: Grace", 11);
    s.kind = MIME_SECTION_HEADER;
    assert_int_equal(mime_section_resolve(t, &s, &r), 0);
    b = mime_range_bytes(&r, msg);
    assert_memory_equal(b.p, "From: Grace", 11);
    assert_memory_equal(b.p + b.len - 4, "\"\r\n\r\n" + 1, 4);
    mime_tree_free(t);
    free(msg);
}

static void test_sections_simple(void **state)
{
    const struct sec_case c[] = {
        {"1", MIME_SECTION_BODY, "Hello,\nthis is the body.\n"},
        {"", MIME_SECTION_TEXT, "Hello,\nthis is the body.\n"},
        {"1", MIME_SECTION_MIME, NULL /* checked below: the whole header */},
        {"2", MIME_SECTION_BODY, NULL},
        {"1.1", MIME_SECTION_BODY, NULL},
        {"1", MIME_SECTION_HEADER, NULL},
    };
    section_check("simple.eml", c, 2);
    section_check("simple.eml", c + 3, 3);

    size_t len;
    char *msg = load("simple.eml", false, false, &len);
    struct mime_tree *t = mime_parse(msg, len, NULL);
    struct mime_section s = {.kind = MIME_SECTION_BODY};
    struct mime_range r;
    assert_int_equal(mime_section_resolve(t, &s, &r), 0); /* BODY[] */
    assert_int_equal(r.off, 0);
    assert_int_equal(r.len, len);
    s.kind = MIME_SECTION_HEADER;
    assert_int_equal(mime_section_resolve(t, &s, &r), 0);
    assert_int_equal(r.len + 27, len);
    s.nparts = 1;
    s.part[0] = 1;
    s.kind = MIME_SECTION_MIME; /* 1.MIME of a single-part message: its header */
    assert_int_equal(mime_section_resolve(t, &s, &r), 0);
    assert_int_equal(r.len + 27, len);

    /* Partial ranges. */
    s.kind = MIME_SECTION_BODY;
    assert_int_equal(mime_section_resolve(t, &s, &r), 0);
    mime_range_partial(&r, 8, 4);
    struct slice b = mime_range_bytes(&r, msg);
    assert_int_equal(b.len, 4);
    assert_memory_equal(b.p, "this", 4);
    assert_int_equal(mime_section_resolve(t, &s, &r), 0);
    mime_range_partial(&r, 20, 1000);
    assert_int_equal(r.len, 7);
    mime_range_partial(&r, 100, 5);
    assert_int_equal(r.len, 0);

    /* HEADER.FIELDS: case-insensitive, order of the message, empty line at the end. */
    const char *fields[] = {"to", "FROM", "X-Absent"};
    struct mime_section hf = {.kind = MIME_SECTION_HEADER_FIELDS, .fields = fields, .nfields = 3};
    assert_int_equal(mime_section_resolve(t, &hf, &r), 0);
    b = mime_range_bytes(&r, msg);
    const char *want = "From: Terry Gray <gray@cac.washington.edu>\r\n"
                       "To: imap@cac.washington.edu\r\n\r\n";
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.p, want, b.len);
    mime_range_partial(&r, 6, 5);
    b = mime_range_bytes(&r, msg);
    assert_memory_equal(b.p, "Terry", 5);
    mime_range_clear(&r);
    const char *none[] = {"X-Nothing"};
    hf.fields = none;
    hf.nfields = 1;
    assert_int_equal(mime_section_resolve(t, &hf, &r), 0);
    assert_int_equal(r.len, 2);
    mime_range_clear(&r);
    mime_tree_free(t);
    free(msg);
}

/* ---- header helpers ------------------------------------------------------------------- */

static void test_header_helpers(void **state)
{
    const char *h = "From x\r\nSubject: a\r\n  folded\r\n\tline \r\nX-Empty:\r\n"
                    "Bad line\r\n c\r\nKey : v\r\n\r\nBody: no\r\n";
    size_t n = strlen(h), pos = 0;
    struct mime_field f;
    assert_int_equal(mime_header_next(h, n, &pos, &f), 1);
    assert_true(slice_eq(f.name, "Subject"));
    struct str s = STR_INIT;
    mime_header_unfold(f.raw.p, f.raw.len, &s);
    assert_string_equal(str_cstr(&s), "a  folded\tline");
    assert_int_equal(mime_header_next(h, n, &pos, &f), 1);
    assert_true(slice_eq(f.name, "X-Empty"));
    assert_int_equal(f.raw.len, 0);
    assert_int_equal(mime_header_next(h, n, &pos, &f), 1);
    assert_true(slice_eq(f.name, "Key"));
    assert_int_equal(mime_header_next(h, n, &pos, &f), 0);
    assert_true(mime_header_find(h, n, "subject", &f));
    assert_false(mime_header_find(h, n, "Body", &f));
    str_clear(&s);
}

/* ---- tolerance ------------------------------------------------------------------------ */

static char *bs_of(const char *msg, unsigned flags)
{
    struct mime_tree *t = mime_parse(msg, strlen(msg), NULL);
    struct str s = STR_INIT;
    mime_bodystructure_write(t, NULL, flags, &s);
    mime_tree_free(t);
    return str_steal(&s);
}

static void expect_bs(const char *msg, const char *want)
{
    char *got = bs_of(msg, 0);
    if (strcmp(got, want) != 0)
        fail_msg("BODY\n got: %s\nwant: %s", got, want);
    free(got);
}

static void test_tolerance(void **state)
{
    /* multipart without boundary: unusable Content-Type, RFC 2045 §5.2 default */
    expect_bs("Content-Type: multipart/mixed\r\n\r\nx\r\n",
              "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3 1)");
    /* no part found: one empty text part keeps the grammar */
    expect_bs("Content-Type: multipart/mixed; boundary=q\r\n\r\nno parts here\r\n",
              "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 0 0) \"mixed\")");
    /* "--foobar" is not a delimiter of boundary "foo"; transport padding is */
    expect_bs("Content-Type: multipart/mixed; boundary=foo\r\n\r\n--foo \t\r\n\r\na\r\n--foobar\r\n"
              "b\r\n--foo--\r\n",
              "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 14 2) \"mixed\")");
    /* message/rfc822 in base64 cannot be parsed in place */
    expect_bs("Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\nQQ==\r\n",
              "(\"APPLICATION\" \"OCTET-STREAM\" NIL NIL NIL \"base64\" 6)");
    /* comments, odd spacing, quoted-pair, duplicate parameters (first wins) */
    expect_bs(
        "Content-Type: (c) text / plain (x) ; charset = \"utf\\-8\" ; charset=latin1 ;"
        " ; junk ; name = a b.txt\r\n\r\n",
        "(\"text\" \"plain\" (\"charset\" \"utf-8\" \"name\" \"a b.txt\") NIL NIL \"7BIT\" 0 0)");
    /* a header without body */
    expect_bs("Subject: x\r\n",
              "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 0 0)");
    expect_bs("", "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 0 0)");
    /* a quote and a backslash in a parameter are escaped; CR in a value forces a literal */
    expect_bs("Content-Type: text/plain; name=\"a\\\"b\\\\c\"\r\n\r\n",
              "(\"text\" \"plain\" (\"name\" \"a\\\"b\\\\c\") NIL NIL \"7BIT\" 0 0)");
}

static void test_limits(void **state)
{
    /* 50 nested multiparts: the tree stops at the depth limit and still writes valid
     * output (deeper containers become APPLICATION/OCTET-STREAM leaves). */
    struct str m = STR_INIT;
    for (int i = 0; i < 50; i++)
        str_appendf(&m, "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i);
    str_appends(&m, "\r\nx\r\n");
    struct mime_limits lim = {8, 1000};
    struct mime_tree *t = mime_parse(m.ptr, m.len, &lim);
    assert_true(t->truncated);
    struct str s = STR_INIT;
    mime_bodystructure_write(t, NULL, MIME_BS_EXTENSIONS, &s);
    assert_non_null(strstr(str_cstr(&s), "\"APPLICATION\" \"OCTET-STREAM\""));
    int open = 0;
    for (size_t i = 0; i < s.len; i++)
        open += s.ptr[i] == '(' ? 1 : s.ptr[i] == ')' ? -1 : 0;
    assert_int_equal(open, 0);
    mime_tree_free(t);
    t = mime_parse(m.ptr, m.len, NULL);
    assert_false(t->truncated);
    mime_tree_free(t);
    str_clear(&s);
    str_clear(&m);

    /* The part limit. */
    str_appends(&m, "Content-Type: multipart/mixed; boundary=z\r\n\r\n");
    for (int i = 0; i < 50; i++)
        str_appends(&m, "--z\r\n\r\np\r\n");
    struct mime_limits lim2 = {64, 10};
    t = mime_parse(m.ptr, m.len, &lim2);
    assert_true(t->truncated);
    assert_true(t->nparts <= 10);
    mime_tree_free(t);
    str_clear(&m);
}

static void test_envelope_edge(void **state)
{
    struct str s = STR_INIT;
    const char *h = "Subject: say \"hi\" \\ there\r\nFrom: <>\r\nTo: bare, \"q w\"@x.y, a@b (c)\r\n"
                    "Cc: ;,\r\nBcc:   \r\nReply-To: \"A. B\" <@r:u@h>\r\n\r\n";
    mime_envelope_write(h, strlen(h), &s);
    assert_string_equal(
        str_cstr(&s), "(NIL \"say \\\"hi\\\" \\\\ there\" ((NIL NIL \"\" \"\")) "
                      "((NIL NIL \"\" \"\")) ((\"A. B\" \"@r\" \"u\" \"h\")) "
                      "((NIL NIL \"bare\" \".MISSING-HOST-NAME.\")"
                      "(NIL NIL \"\\\"q w\\\"\" \"x.y\")(\"c\" NIL \"a\" \"b\")) NIL NIL NIL NIL)");
    str_reset(&s);
    mime_envelope_write("", 0, &s);
    assert_string_equal(str_cstr(&s), "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
    str_clear(&s);
}

/* SEARCH FROM/TO/CC/BCC also match the parsed addresses: comments and spaces inside an address
 * are not part of it; groups give their members. */
static void test_address_list_text(void **state)
{
    struct str s = STR_INIT;
    const char *v = "<user-from (comment)@ (comment) domain.org>, \"Some One\" <a@b.c>, "
                    "team: x@y.z, w@v.u;, bare";
    mime_address_list_text(v, strlen(v), &s);
    assert_string_equal(str_cstr(&s), "comment <user-from@domain.org>\nSome One <a@b.c>\n<x@y.z>\n"
                                      "<w@v.u>\n<bare@.MISSING-HOST-NAME.>\n");
    str_clear(&s);
}

/* A last line without a line end is not a line (as Dovecot and UW imapd count). */
static void test_body_lines(void **state)
{
    static const struct {
        const char *msg;
        size_t lines;
    } cases[] = {
        {"Subject: x\r\n\r\none\r\ntwo", 1},
        {"Subject: x\r\n\r\none\r\ntwo\r\n", 2},
        {"Subject: x\r\n\r\n", 0},
        {"Subject: x\r\n\r\nno end", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct mime_tree *t = mime_parse(cases[i].msg, strlen(cases[i].msg), NULL);
        assert_int_equal(t->root->body_lines, cases[i].lines);
        mime_tree_free(t);
    }
}

/* ---- text for SEARCH ------------------------------------------------------------------ */

static void test_text(void **state)
{
    size_t len;
    char *msg = load("non_ascii.eml", false, false, &len);
    struct mime_tree *t = mime_parse(msg, len, NULL);
    struct str s = STR_INIT;
    assert_int_equal(mime_text_header(msg, t->root->hdr_len, "subject", &s), 1);
    assert_string_equal(str_cstr(&s), "Gr\xc3\xbc\xc3\x9f"
                                      "e aus M\xc3\xbc"
                                      "nchen\n");
    str_reset(&s);
    assert_int_equal(mime_text_header(msg, t->root->hdr_len, "To", &s), 1);
    assert_string_equal(str_cstr(&s),
                        "Ren\xc3\xa9 <rene@example.fr>, \"Zo\xc3\xab\" <zoe@example.com>\n");
    str_reset(&s);
    assert_int_equal(mime_text_header(msg, t->root->hdr_len, "X-None", &s), 0);
    mime_text_body(t, &s, 0);
    assert_string_equal(str_cstr(&s), "Gr\xc3\xbc\xc3\x9f"
                                      "e aus M\xc3\xbc"
                                      "nchen!\r\n\n");
    str_clear(&s);
    mime_tree_free(t);
    free(msg);

    msg = load("alternative.eml", false, false, &len);
    t = mime_parse(msg, len, NULL);
    mime_text_body(t, &s, 0);
    assert_non_null(strstr(str_cstr(&s), "Caf\xc3\xa9 on the corner."));
    assert_null(strstr(str_cstr(&s), "=C3"));
    str_reset(&s);
    mime_text_body(t, &s, 10);
    assert_int_equal(s.len, 10);
    str_clear(&s);
    mime_tree_free(t);
    free(msg);

    msg = load("rfc822_attachment.eml", false, false, &len);
    t = mime_parse(msg, len, NULL);
    mime_text_body(t, &s, 0);
    assert_non_null(strstr(str_cstr(&s), "Subject: Meeting notes"));
    assert_non_null(strstr(str_cstr(&s), "<p>Notes: ship it.</p>"));
    str_clear(&s);
    mime_tree_free(t);
    free(msg);

    msg = load("mixed_attachment.eml", false, false, &len);
    t = mime_parse(msg, len, NULL);
    mime_text_body(t, &s, 0);
    assert_null(strstr(str_cstr(&s), "JVBER")); /* attachments are not searched */
    str_clear(&s);
    mime_tree_free(t);
    free(msg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus),          cmocka_unit_test(test_rfc2231_utf8_client),
        cmocka_unit_test(test_sections_nested), cmocka_unit_test(test_sections_rfc822),
        cmocka_unit_test(test_sections_simple), cmocka_unit_test(test_header_helpers),
        cmocka_unit_test(test_tolerance),       cmocka_unit_test(test_limits),
        cmocka_unit_test(test_envelope_edge),   cmocka_unit_test(test_text),
        cmocka_unit_test(test_address_list_text), cmocka_unit_test(test_body_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
