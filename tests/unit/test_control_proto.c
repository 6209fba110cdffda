/* Unit tests for host/control_proto: the control socket's request reader (byte by byte, bad
 * and unknown lines, the length limit), the reload answer's lines, and the client's reader of
 * those lines. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/loop_post.h"
#include "host/control_proto.h"

#include <event2/event.h>
#include <string.h>

static int parse_req(const char *buf, size_t len, const char **answer,
                     enum control_request want)
{
    enum control_request req = 0;
    *answer = NULL;
    int rc = control_request_parse(buf, len, &req, answer);
    if (rc > 0)
        assert_int_equal(req, want);
    return rc;
}

static int parse(const char *buf, size_t len, const char **answer)
{
    return parse_req(buf, len, answer, CONTROL_RELOAD);
}

static void test_reload_byte_by_byte(void **state)
{
    const char req[] = "reload\ntrailing";
    const char *answer;
    for (size_t n = 0; n < 7; n++)
        assert_int_equal(parse(req, n, &answer), 0);
    for (size_t n = 7; n <= sizeof req - 1; n++)
        assert_int_equal(parse(req, n, &answer), 7); /* what follows is not read */
}

static void test_refusals(void **state)
{
    const char *answer;
    assert_true(parse("reload\r\n", 8, &answer) < 0); /* the one client sends LF only */
    assert_true(parse("\n", 1, &answer) < 0);
    assert_true(parse("Nta list\n", 9, &answer) < 0);  /* a service's word is lower case */
    assert_true(parse("nta\tlist\n", 9, &answer) < 0); /* printable ASCII only */
    assert_true(parse("nta list\x7f\n", 10, &answer) < 0);
    assert_true(parse("rel\0oad\n", 8, &answer) < 0);
    assert_string_equal(answer, "error bad request line\nfailed 1\n");
}

/* Other words go to the services (host.h control hook), with their arguments. */
static void test_service_requests(void **state)
{
    const char *answer;
    assert_int_equal(parse_req("status\n", 7, &answer, CONTROL_SERVICE), 7);
    assert_int_equal(parse_req("reloads\n", 8, &answer, CONTROL_SERVICE), 8);
    const char nta[] = "nta add example.com. 3600\n";
    for (size_t n = 0; n < sizeof nta - 2; n++)
        assert_int_equal(parse_req(nta, n, &answer, CONTROL_SERVICE), 0);
    assert_int_equal(parse_req(nta, sizeof nta - 1, &answer, CONTROL_SERVICE),
                     (int)sizeof nta - 1);
}

static void test_line_limit(void **state)
{
    char buf[CONTROL_LINE_MAX + 2];
    memset(buf, 'a', sizeof buf);
    const char *answer;
    assert_int_equal(parse(buf, CONTROL_LINE_MAX, &answer), 0);
    assert_true(parse(buf, CONTROL_LINE_MAX + 1, &answer) < 0);
    assert_string_equal(answer, "error request line too long\nfailed 1\n");
    buf[CONTROL_LINE_MAX + 1] = '\n'; /* a line of 257 octets with its LF */
    assert_true(parse(buf, sizeof buf, &answer) < 0);
    assert_string_equal(answer, "error bad request line\nfailed 1\n");
}

static struct str formatted;

static void on_done(void *arg, struct reload_report *r)
{
    control_answer_format(&formatted, r);
    reload_report_free(r);
}

static void format_report(bool with_error)
{
    struct event_base *base = event_base_new();
    struct loop_post *post = loop_post_new(base);
    struct reload_report *r = reload_report_new(post, on_done, NULL);
    reload_report_add(r, false, "zone example.org serial %d", 7);
    if (with_error)
        reload_report_add(r, true, "zone bad.test: line 3\nbad TTL");
    reload_report_release(r);
    str_reset(&formatted);
    event_base_loop(base, EVLOOP_ONCE);
    loop_post_free(post);
    event_base_free(base);
}

static void test_answer_format(void **state)
{
    format_report(false);
    assert_string_equal(str_cstr(&formatted), "note zone example.org serial 7\nok\n");
    format_report(true);
    assert_string_equal(str_cstr(&formatted), "note zone example.org serial 7\n"
                                              "error zone bad.test: line 3 bad TTL\n"
                                              "failed 1\n");
    str_clear(&formatted);
}

static void test_answer_parse(void **state)
{
    struct control_answer_line a;
    assert_int_equal(control_answer_parse("note zone x", 11, &a), 0);
    assert_int_equal(a.kind, CONTROL_ANSWER_NOTE);
    assert_int_equal(a.text.len, 6);
    assert_memory_equal(a.text.p, "zone x", 6);
    assert_int_equal(control_answer_parse("error why", 9, &a), 0);
    assert_int_equal(a.kind, CONTROL_ANSWER_ERROR);
    assert_memory_equal(a.text.p, "why", 3);
    assert_int_equal(control_answer_parse("ok", 2, &a), 0);
    assert_int_equal(a.kind, CONTROL_ANSWER_OK);
    assert_int_equal(control_answer_parse("failed 12", 9, &a), 0);
    assert_int_equal(a.kind, CONTROL_ANSWER_FAILED);
    assert_int_equal(a.failures, 12);
    static const char *const bad[] = {"", "ok ", "okay", "note", "notes x", "failed",
                                      "failed ", "failed 1x", "failed 1234567890", "Error x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(control_answer_parse(bad[i], strlen(bad[i]), &a), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reload_byte_by_byte), cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_service_requests),
        cmocka_unit_test(test_line_limit),          cmocka_unit_test(test_answer_format),
        cmocka_unit_test(test_answer_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
