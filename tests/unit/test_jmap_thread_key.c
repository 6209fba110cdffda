/* test_jmap_thread_key — the pure pieces threading and the HTTP side stand on: base subjects
 * (RFC 5256 §2.1), a message's thread key, and strict percent-decoding (jmap/url.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "jmap/jmap.h"
#include "jmap/url.h"

#include <string.h>

static void base(const char *in, const char *want)
{
    char out[200];
    jmap_base_subject(in, out, sizeof out);
    assert_string_equal(out, want);
}

static void test_base_subject(void **state)
{
    (void)state;
    base("Lunch plans", "lunch plans");
    base("Re: Lunch plans", "lunch plans");
    base("RE: re:  Lunch   plans", "lunch plans");
    base("Fwd: Re: Lunch plans (fwd)", "lunch plans");
    base("[pigeon-dev] Re: [pigeon-dev] Lunch plans", "lunch plans");
    base("Re[2]: Lunch plans", "lunch plans");
    base("AW: SV: Lunch plans", "lunch plans");
    base("[Fwd: Lunch plans]", "lunch plans");
    base("[only a tag]", "[only a tag]"); /* a tag with nothing after it stays */
    base("Reply guy", "reply guy");       /* "Re" only as a word followed by ":" */
    base("Re:", "");
    base("\t Re: \r\n Caf\xc3\xa9 ", "caf\xc3\xa9");
    char out[6];
    jmap_base_subject("ab\xc3\xa9\xc3\xa9", out, sizeof out); /* cut, never inside a character */
    assert_string_equal(out, "ab\xc3\xa9");
}

static void test_thread_key(void **state)
{
    (void)state;
    const char *m = "Subject: Re: =?utf-8?q?Caf=C3=A9?=\r\n"
                    "Message-ID: <c@x>\r\nIn-Reply-To: <b@x>\r\n"
                    "References: <a@x>\r\n <b@x>\r\n\r\nReferences: <body@x>\r\n";
    struct jmap_thread_key k;
    jmap_thread_key_make(m, strlen(m), &k);
    assert_int_equal(k.n, 3);
    assert_string_equal(k.ids[0], "c@x"); /* own id, then the parent, then the root */
    assert_string_equal(k.ids[1], "b@x");
    assert_string_equal(k.ids[2], "a@x");
    assert_string_equal(k.subject, "caf\xc3\xa9");
    jmap_thread_key_clear(&k);
    const char *none = "From: x@y\r\n\r\n";
    jmap_thread_key_make(none, strlen(none), &k);
    assert_int_equal(k.n, 0);
    assert_string_equal(k.subject, "");
    jmap_thread_key_clear(&k);
}

static void test_url_decode_strict(void **state)
{
    (void)state;
    char out[16];
    assert_int_equal(jmap_url_decode("a%20b", 5, out, sizeof out), 3);
    assert_string_equal(out, "a b");
    assert_int_equal(jmap_url_decode("%2F%2f", 6, out, sizeof out), 2);
    assert_int_equal(jmap_url_decode("100%", 4, out, sizeof out), -1);  /* cut escape */
    assert_int_equal(jmap_url_decode("%4", 2, out, sizeof out), -1);
    assert_int_equal(jmap_url_decode("%4g", 3, out, sizeof out), -1);   /* not hex */
    assert_int_equal(jmap_url_decode("% 41", 4, out, sizeof out), -1);  /* sscanf took this */
    assert_int_equal(jmap_url_decode("a%00b", 5, out, sizeof out), -1); /* a NUL */
    /* nothing read past the slice: "%41" cut after "%4" is an error, not "A" */
    assert_int_equal(jmap_url_decode("%41", 2, out, sizeof out), -1);
    assert_int_equal(jmap_url_decode("0123456789abcdef", 16, out, sizeof out), -1); /* too long */
    const char *q = "types=Email%2CMailbox&ping=30&bad=%zz";
    assert_int_equal(jmap_url_param(q, strlen(q), "types", out, sizeof out), 1);
    assert_string_equal(out, "Email,Mailbox");
    assert_int_equal(jmap_url_param(q, strlen(q), "ping", out, sizeof out), 1);
    assert_string_equal(out, "30");
    assert_int_equal(jmap_url_param(q, strlen(q), "bad", out, sizeof out), -1);
    assert_int_equal(jmap_url_param(q, strlen(q), "type", out, sizeof out), 0);
    assert_int_equal(jmap_url_param(q, 5, "types", out, sizeof out), 0); /* cut before '=' */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base_subject),
        cmocka_unit_test(test_thread_key),
        cmocka_unit_test(test_url_decode_strict),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
