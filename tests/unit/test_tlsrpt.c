/* TLS-RPT (src/mailauth/tlsrpt.c, RFC 8460): the history line both ways and torn, sessions
 * counted per policy with failure details, the JSON of §4.4 read back with jansson, the
 * policy strings of an MTA-STS policy, and the rua= of _smtp._tls records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mailauth/mtasts.h"
#include "mailauth/tlsrpt.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static void rec(struct tlsrpt_rec *r, enum tlsrpt_type type, enum tlsrpt_result res,
                const char *mx, const char *rip)
{
    memset(r, 0, sizeof *r);
    r->time = 1796600000;
    snprintf(r->domain, sizeof r->domain, "example.com");
    r->type = type;
    r->result = res;
    snprintf(r->mx_host, sizeof r->mx_host, "%s", mx);
    snprintf(r->sending_ip, sizeof r->sending_ip, "192.0.2.1");
    snprintf(r->receiving_ip, sizeof r->receiving_ip, "%s", rip);
    if (type == TLSRPT_TLSA) {
        r->nstrings = 1;
        snprintf(r->strings[0], sizeof r->strings[0], "3 1 1 abcdef");
    }
}

static void test_line(void **state)
{
    struct tlsrpt_rec a, b;
    rec(&a, TLSRPT_TLSA, TLSRPT_TLSA_INVALID, "mx1.example.com", "198.51.100.1");
    struct str line = STR_INIT;
    tlsrpt_rec_format(&a, &line);
    assert_int_equal(tlsrpt_rec_parse(line.ptr, line.len, &b), 0);
    assert_memory_equal(&a, &b, sizeof a);
    for (size_t cut = 0; cut + 1 < line.len; cut++)
        assert_int_not_equal(tlsrpt_rec_parse(line.ptr, cut, &b), 0);
    str_clear(&line);
}

static void test_report_json(void **state)
{
    struct tlsrpt_report rep;
    tlsrpt_report_init(&rep, "example.com");
    struct tlsrpt_rec r;
    rec(&r, TLSRPT_TLSA, TLSRPT_SUCCESS, "mx1.example.com", "198.51.100.1");
    tlsrpt_report_add(&rep, &r);
    tlsrpt_report_add(&rep, &r);
    rec(&r, TLSRPT_TLSA, TLSRPT_TLSA_INVALID, "mx2.example.com", "198.51.100.2");
    tlsrpt_report_add(&rep, &r);
    tlsrpt_report_add(&rep, &r);
    rec(&r, TLSRPT_NO_POLICY, TLSRPT_STARTTLS_NOT_SUPPORTED, "mx3.example.com", "198.51.100.3");
    tlsrpt_report_add(&rep, &r);
    assert_int_equal(rep.n, 2);
    struct tlsrpt_meta m = {"Example Sender", "mailto:tls@sender.example", "sender.example",
                            1796515200, 1796601599};
    struct str js = STR_INIT;
    tlsrpt_json(&m, &rep, &js);
    json_error_t err;
    json_t *root = json_loads(js.ptr, 0, &err);
    assert_non_null(root);
    assert_string_equal(json_string_value(json_object_get(root, "organization-name")),
                        "Example Sender");
    json_t *dr = json_object_get(root, "date-range");
    assert_string_equal(json_string_value(json_object_get(dr, "start-datetime")),
                        "2026-12-06T00:00:00Z");
    assert_string_equal(json_string_value(json_object_get(dr, "end-datetime")),
                        "2026-12-06T23:59:59Z");
    assert_string_equal(json_string_value(json_object_get(root, "report-id")),
                        "1796515200.example.com@sender.example");
    json_t *pols = json_object_get(root, "policies");
    assert_int_equal(json_array_size(pols), 2);
    json_t *p0 = json_array_get(pols, 0), *pol = json_object_get(p0, "policy");
    assert_string_equal(json_string_value(json_object_get(pol, "policy-type")), "tlsa");
    assert_string_equal(json_string_value(json_array_get(json_object_get(pol, "policy-string"), 0)),
                        "3 1 1 abcdef");
    assert_int_equal(json_array_size(json_object_get(pol, "mx-host")), 2);
    json_t *sum = json_object_get(p0, "summary");
    assert_int_equal(json_integer_value(json_object_get(sum, "total-successful-session-count")),
                     2);
    assert_int_equal(json_integer_value(json_object_get(sum, "total-failure-session-count")), 2);
    json_t *fd = json_array_get(json_object_get(p0, "failure-details"), 0);
    assert_string_equal(json_string_value(json_object_get(fd, "result-type")), "tlsa-invalid");
    assert_string_equal(json_string_value(json_object_get(fd, "receiving-mx-hostname")),
                        "mx2.example.com");
    assert_int_equal(json_integer_value(json_object_get(fd, "failed-session-count")), 2);
    json_t *p1 = json_object_get(json_array_get(pols, 1), "policy");
    assert_string_equal(json_string_value(json_object_get(p1, "policy-type")), "no-policy-found");
    assert_null(json_object_get(p1, "policy-string"));
    json_decref(root);
    struct str f = STR_INIT;
    tlsrpt_filename(&m, "example.com", &f);
    assert_string_equal(f.ptr, "sender.example!example.com!1796515200!1796601599.json.gz");
    str_clear(&f);
    str_clear(&js);
    tlsrpt_report_clear(&rep);
}

static void test_sts_strings_and_rua(void **state)
{
    struct mtasts_policy p = {.mode = MTASTS_ENFORCE, .max_age = 86400, .nmx = 2};
    snprintf(p.mx[0], sizeof p.mx[0], "mx.example.com");
    snprintf(p.mx[1], sizeof p.mx[1], "*.example.net");
    struct tlsrpt_rec r;
    memset(&r, 0, sizeof r);
    tlsrpt_sts_strings(&p, &r);
    assert_int_equal(r.nstrings, 5);
    assert_string_equal(r.strings[0], "version: STSv1");
    assert_string_equal(r.strings[1], "mode: enforce");
    assert_string_equal(r.strings[3], "mx: *.example.net");
    assert_string_equal(r.strings[4], "max_age: 86400");
    char addr[4][320];
    const char *txt[2] = {"v=spf1 -all", "v=TLSRPTv1; rua=mailto:tls@example.com, "
                                         "https://r.example/x,mailto:b@c.example"};
    size_t len[2] = {strlen(txt[0]), strlen(txt[1])};
    assert_int_equal(tlsrpt_rua_pick(txt, len, 2, addr, 4), 2);
    assert_string_equal(addr[0], "tls@example.com");
    assert_string_equal(addr[1], "b@c.example");
    const char *two[2] = {"v=TLSRPTv1; rua=mailto:a@b", "v=TLSRPTv1; rua=mailto:c@d"};
    size_t tl[2] = {strlen(two[0]), strlen(two[1])};
    assert_int_equal(tlsrpt_rua_pick(two, tl, 2, addr, 4), 0); /* two records: none */
    const char *bad[1] = {"v=TLSRPTv10; rua=mailto:a@b"};
    size_t bl[1] = {strlen(bad[0])};
    assert_int_equal(tlsrpt_rua_pick(bad, bl, 1, addr, 4), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line),
        cmocka_unit_test(test_report_json),
        cmocka_unit_test(test_sts_strings_and_rua),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
