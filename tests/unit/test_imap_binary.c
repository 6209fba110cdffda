/*
 * imap/binary.h: the transfer encodings of a part and of everything inside it removed, as
 * URLFETCH's BINARY gives them (RFC 5524): leaves decoded with their Content-Transfer-Encoding
 * saying binary, containers kept byte for byte around their converted parts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "imap/binary.h"

#include <string.h>

static const char msg[] =
    "From: a@x.org\r\nContent-Type: multipart/mixed; boundary=\"foo bar\"\r\n\r\n"
    "prologue\r\n"
    "--foo bar\r\nContent-Type: message/rfc822\r\n\r\n"
    "Subject: sub\r\nContent-Type: multipart/alternative; boundary=s1\r\n\r\n"
    "pre\r\n"
    "--s1\r\nContent-Type: text/plain\r\ncontent-transfer-encoding: BASE64\r\n\r\n"
    "aGVs\r\nbG8gd29y\r\nbGQ=\r\n\r\n"
    "--s1\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
    "caf=C3=A9 =\r\nau lait\r\n"
    "--s1--\r\npost\r\n"
    "--foo bar\r\nContent-Type: application/x-odd\r\nContent-Transfer-Encoding: x-uuencode\r\n"
    "\r\nbegin\r\n"
    "--foo bar--\r\nepilogue\r\n";

static const char sub_binary[] =
    "Subject: sub\r\nContent-Type: multipart/alternative; boundary=s1\r\n\r\n"
    "pre\r\n"
    "--s1\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\n\r\n"
    "hello world\r\n"
    "--s1\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\n\r\n"
    "caf\xc3\xa9 au lait"
    "\r\n--s1--\r\npost";

static const struct mime_part *child(const struct mime_part *p, unsigned n)
{
    const struct mime_part *c = p->children;
    while (c && --n)
        c = c->next;
    assert_non_null(c);
    return c;
}

static void test_binary(void **state)
{
    struct mime_tree *t = mime_parse(msg, strlen(msg), NULL);
    struct str out = STR_INIT;
    /* the encapsulated message: both leaves decoded, the rest as written */
    const struct mime_part *m = child(t->root, 1);
    assert_true(imap_binary_content(t, m, &out));
    assert_int_equal(out.len, strlen(sub_binary));
    assert_memory_equal(out.ptr, sub_binary, out.len);
    /* one leaf: its decoded content only */
    str_reset(&out);
    assert_true(imap_binary_content(t, child(m->message, 1), &out));
    assert_int_equal(out.len, 11);
    assert_memory_equal(out.ptr, "hello world", 11);
    /* an unknown encoding anywhere below: false */
    str_reset(&out);
    assert_false(imap_binary_content(t, child(t->root, 2), &out));
    str_reset(&out);
    assert_false(imap_binary_content(t, NULL, &out));
    str_clear(&out);
    mime_tree_free(t);
}

/* BODYPARTSTRUCTURE asked with BINARY: the converted sizes and line feeds, as Dovecot gives */
static void test_resize(void **state)
{
    struct mime_tree *t = mime_parse(msg, strlen(msg), NULL);
    struct mime_part *m = (struct mime_part *)child(t->root, 1);
    size_t root_len = t->root->body_len, odd_len = child(t->root, 2)->body_len;
    imap_binary_resize(t, m);
    assert_int_equal(m->body_len, strlen(sub_binary));
    assert_int_equal(m->body_lines, 15); /* line feeds of sub_binary */
    const struct mime_part *leaf = child(m->message, 1);
    assert_int_equal(leaf->body_len, 11); /* "hello world" */
    assert_int_equal(leaf->body_lines, 0);
    assert_int_equal(child(m->message, 2)->body_len, strlen("caf\xc3\xa9 au lait"));
    assert_int_equal(child(m->message, 2)->body_lines, 0);
    /* outside the part: unchanged */
    assert_int_equal(t->root->body_len, root_len);
    assert_int_equal(child(t->root, 2)->body_len, odd_len);
    mime_tree_free(t);
    (void)state;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_binary),
        cmocka_unit_test(test_resize),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
