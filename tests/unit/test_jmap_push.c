/* test_jmap_push — the pure half of JMAP push: event source parameters (RFC 8620 §7.3),
 * StateChange objects (§7.1) with EmailDelivery only when a message arrived, and the
 * event-stream framing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "jmap/push.h"

#include <jansson.h>
#include <string.h>

static int parse(const char *q, struct jmap_push_params *p)
{
    const char *why = NULL;
    int rc = jmap_push_params_parse(q, strlen(q), p, &why);
    if (rc < 0)
        assert_non_null(why);
    return rc;
}

static void test_params(void **state)
{
    struct jmap_push_params p;
    assert_int_equal(parse("types=*&closeafter=no&ping=0", &p), 0);
    assert_int_equal(p.types, JMAP_PUSH_ALL);
    assert_false(p.close_after);
    assert_int_equal(p.ping, 0);
    assert_int_equal(parse("types=Email%2CEmailDelivery,Unknown&closeafter=state&ping=30", &p),
                     0);
    assert_int_equal(p.types, JMAP_PUSH_EMAIL | JMAP_PUSH_DELIVERY);
    assert_true(p.close_after);
    assert_int_equal(p.ping, 30);
    assert_int_equal(parse("ping=99999", &p), 0); /* moved into the allowed range */
    assert_int_equal(p.ping, JMAP_PUSH_PING_MAX);
    assert_int_equal(p.types, JMAP_PUSH_ALL); /* defaults for what is missing */
    assert_int_equal(parse("", &p), 0);
    assert_int_equal(parse("types=&ping=", &p), -1);
    assert_int_equal(parse("closeafter=later", &p), -1);
    assert_int_equal(parse("ping=-1", &p), -1);
    assert_int_equal(parse("ping=12x", &p), -1);
    char long_q[600] = "types=";
    memset(long_q + 6, 'a', 500);
    assert_int_equal(parse(long_q, &p), -1); /* too long a value is refused, not cut */
    /* strict percent-decoding (jmap/url.h): no half escapes, no NUL */
    assert_int_equal(parse("types=Email%2", &p), -1);
    assert_int_equal(parse("types=%zzEmail", &p), -1);
    assert_int_equal(parse("ping=3%00", &p), -1);
    assert_int_equal(parse("ping=%33%30", &p), 0);
    assert_int_equal(p.ping, 30);
}

static json_t *change(unsigned types, const char *a, const char *b)
{
    struct str out = STR_INIT;
    bool any = jmap_push_state_change("u7", types, a, b, NULL, &out);
    json_t *j = any ? json_loads(str_cstr(&out), 0, NULL) : NULL;
    if (any)
        assert_non_null(j);
    str_clear(&out);
    return j;
}

static void test_state_change(void **state)
{
    const char *s0 = "0000abcd:1.5.3,2.7.10";
    const char *flags = "0000abcd:1.6.3,2.7.10";     /* a modseq moved, no uid */
    const char *arrived = "0000abcd:1.6.3,2.8.11";   /* mailbox 2 got a message */
    const char *newbox = "0000abce:1.5.3,2.7.10,9.1.2";
    assert_null(change(JMAP_PUSH_ALL, s0, s0));
    json_t *j = change(JMAP_PUSH_ALL, s0, flags);
    assert_string_equal(json_string_value(json_object_get(j, "@type")), "StateChange");
    json_t *acct = json_object_get(json_object_get(j, "changed"), "u7");
    assert_int_equal(json_object_size(acct), 3);
    assert_string_equal(json_string_value(json_object_get(acct, "Email")), flags);
    assert_null(json_object_get(acct, "EmailDelivery"));
    json_decref(j);
    j = change(JMAP_PUSH_ALL, flags, arrived);
    acct = json_object_get(json_object_get(j, "changed"), "u7");
    assert_int_equal(json_object_size(acct), 4);
    assert_string_equal(json_string_value(json_object_get(acct, "EmailDelivery")), arrived);
    json_decref(j);
    j = change(JMAP_PUSH_DELIVERY, s0, newbox); /* a new mailbox holding a message */
    assert_non_null(j);
    json_decref(j);
    assert_null(change(JMAP_PUSH_DELIVERY, s0, flags)); /* nothing of the types asked */
    j = change(JMAP_PUSH_DELIVERY, "garbage", flags); /* no usable old state: say so */
    assert_non_null(j);
    json_decref(j);
}

static void test_framing(void **state)
{
    struct str out = STR_INIT;
    jmap_push_sse_event(&out, "state", "{\"a\":1}");
    jmap_push_sse_ping(&out, 30);
    assert_string_equal(str_cstr(&out), "event: state\ndata: {\"a\":1}\n\n"
                                        "event: ping\ndata: {\"interval\":30}\n\n");
    str_clear(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_state_change),
        cmocka_unit_test(test_framing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
