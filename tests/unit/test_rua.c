/* mailauth/rua: DMARC (RFC 7489 §7.2) and TLS-RPT (RFC 8460) reports received by mail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mailauth/report_mail.h"
#include "mailauth/rua.h"
#include "core/err.h"
#include "msg/base64.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <string.h>

/* The form Pigeon's own reporter writes (dmarc_agg.c): DMARCbis namespace. */
static const char pigeon_xml[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<feedback xmlns=\"urn:ietf:params:xml:ns:dmarc-2.0\">\n"
    "  <version>1.0</version>\n"
    "  <report_metadata>\n    <org_name>mx.sender.test</org_name>\n"
    "    <email>postmaster@sender.test</email>\n"
    "    <report_id>1764979200.example.org@mx.sender.test</report_id>\n"
    "    <date_range>\n      <begin>1764979200</begin>\n      <end>1765065599</end>\n"
    "    </date_range>\n  </report_metadata>\n"
    "  <policy_published>\n    <domain>example.org</domain>\n    <adkim>r</adkim>\n"
    "    <aspf>r</aspf>\n    <p>reject</p>\n    <sp>reject</sp>\n  </policy_published>\n"
    "  <record>\n    <row>\n      <source_ip>192.0.2.7</source_ip>\n      <count>3</count>\n"
    "      <policy_evaluated>\n        <disposition>none</disposition>\n"
    "        <dkim>pass</dkim>\n        <spf>fail</spf>\n      </policy_evaluated>\n"
    "    </row>\n    <identifiers>\n      <header_from>example.org</header_from>\n"
    "    </identifiers>\n    <auth_results>\n      <dkim>\n"
    "        <domain>example.org</domain>\n        <selector>pigeon</selector>\n"
    "        <result>pass</result>\n      </dkim>\n      <spf>\n"
    "        <domain>bounce.example.org</domain>\n        <scope>mfrom</scope>\n"
    "        <result>fail</result>\n      </spf>\n    </auth_results>\n  </record>\n"
    "  <record>\n    <row>\n      <source_ip>2001:db8::25</source_ip>\n      <count>2</count>\n"
    "      <policy_evaluated>\n        <disposition>reject</disposition>\n"
    "        <dkim>fail</dkim>\n        <spf>fail</spf>\n"
    "        <reason><type>local_policy</type><comment>x</comment></reason>\n"
    "      </policy_evaluated>\n    </row>\n    <identifiers>\n"
    "      <header_from>example.org</header_from>\n    </identifiers>\n"
    "    <auth_results>\n      <spf>\n        <domain>forger.test</domain>\n"
    "        <result>softfail</result>\n      </spf>\n    </auth_results>\n  </record>\n"
    "</feedback>\n";

/* The shape large mailbox providers send: RFC 7489 Appendix C, no namespace, no version. */
static const char provider_xml[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<feedback>\n  <report_metadata>\n"
    "    <org_name>google.com</org_name>\n    <email>noreply-dmarc-support@google.com</email>\n"
    "    <extra_contact_info>https://support.google.com/a/answer/2466580</extra_contact_info>\n"
    "    <report_id>4137268502839150263</report_id>\n"
    "    <date_range>\n      <begin>1764979200</begin>\n      <end>1765065599</end>\n"
    "    </date_range>\n  </report_metadata>\n  <policy_published>\n"
    "    <domain>example.org</domain>\n    <adkim>r</adkim>\n    <aspf>r</aspf>\n"
    "    <p>reject</p>\n    <sp>reject</sp>\n    <pct>100</pct>\n  </policy_published>\n"
    "  <record>\n    <row>\n      <source_ip>198.51.100.9</source_ip>\n      <count>12</count>\n"
    "      <policy_evaluated>\n        <disposition>none</disposition>\n"
    "        <dkim>pass</dkim>\n        <spf>pass</spf>\n      </policy_evaluated>\n"
    "    </row>\n    <identifiers>\n      <header_from>example.org</header_from>\n"
    "    </identifiers>\n    <auth_results>\n      <dkim>\n"
    "        <domain>example.org</domain>\n        <result>pass</result>\n"
    "        <selector>pigeon</selector>\n      </dkim>\n      <spf>\n"
    "        <domain>example.org</domain>\n        <result>pass</result>\n      </spf>\n"
    "    </auth_results>\n  </record>\n</feedback>\n";

static const char tlsrpt_json[] =
    "{\"organization-name\": \"Mail Provider Inc.\",\n"
    " \"date-range\": {\"start-datetime\": \"2026-12-06T00:00:00Z\",\n"
    "                \"end-datetime\": \"2026-12-06T23:59:59Z\"},\n"
    " \"contact-info\": \"smtp-tls-reporting@provider.test\",\n"
    " \"report-id\": \"2026-12-06T00:00:00Z_example.org\",\n"
    " \"policies\": [{\n"
    "   \"policy\": {\"policy-type\": \"sts\",\n"
    "              \"policy-string\": [\"version: STSv1\", \"mode: enforce\",\n"
    "                                 \"mx: mx.example.org\", \"max_age: 86400\"],\n"
    "              \"policy-domain\": \"example.org\",\n"
    "              \"mx-host\": [\"mx.example.org\"]},\n"
    "   \"summary\": {\"total-successful-session-count\": 41,\n"
    "               \"total-failure-session-count\": 3},\n"
    "   \"failure-details\": [\n"
    "     {\"result-type\": \"certificate-expired\", \"sending-mta-ip\": \"203.0.113.4\",\n"
    "      \"receiving-mx-hostname\": \"mx.example.org\", \"receiving-ip\": \"192.0.2.25\",\n"
    "      \"failed-session-count\": 2},\n"
    "     {\"result-type\": \"validation-failure\", \"receiving-mx-hostname\": "
    "\"mx2.other.test\",\n"
    "      \"failed-session-count\": 1, \"failure-reason-code\": \"X509_V_ERR\"}]\n"
    " }]}\n";

static struct str show(const struct rua_report *r)
{
    struct str out = STR_INIT;
    assert_int_equal(rua_show(r->kind, r->json, strlen(r->json), &out), 0);
    return out;
}

static void test_dmarc_pigeon_form(void **state)
{
    struct rua_report r;
    const char *why = NULL;
    assert_int_equal(rua_parse_document(pigeon_xml, strlen(pigeon_xml), &r, &why), 0);
    assert_int_equal(r.kind, RUA_DMARC);
    assert_string_equal(r.org, "mx.sender.test");
    assert_string_equal(r.report_id, "1764979200.example.org@mx.sender.test");
    assert_string_equal(r.domain, "example.org");
    assert_int_equal(r.begin, 1764979200);
    assert_int_equal(r.end, 1765065599);
    struct str t = show(&r);
    assert_non_null(strstr(t.ptr, "domain example.org: p=reject sp=reject adkim=r aspf=r"));
    assert_non_null(strstr(t.ptr, "192.0.2.7"));
    assert_non_null(strstr(t.ptr, "none       dkim=pass spf=fail from=example.org"));
    assert_non_null(strstr(t.ptr, "dkim example.org/pigeon pass, spf bounce.example.org "
                                  "(mfrom) fail"));
    assert_non_null(strstr(t.ptr, "2001:db8::25"));
    assert_non_null(strstr(t.ptr, "reject     dkim=fail spf=fail from=example.org "
                                  "reason=local_policy"));
    assert_non_null(strstr(t.ptr, "5 message(s): 3 passed DMARC, 2 failed"));
    str_clear(&t);
    rua_report_clear(&r);
}

/* A zip archive of one file, as Google attaches it (application/zip). */
static void zip_of(const char *name, const char *data, struct str *out)
{
    size_t cap = strlen(data) + 4096, used = 0;
    char *buf = malloc(cap);
    struct archive *a = archive_write_new();
    archive_write_set_format_zip(a);
    assert_int_equal(archive_write_open_memory(a, buf, cap, &used), ARCHIVE_OK);
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, (la_int64_t)strlen(data));
    assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
    assert_int_equal(archive_write_data(a, data, strlen(data)), (la_ssize_t)strlen(data));
    archive_entry_free(e);
    archive_write_close(a);
    archive_write_free(a);
    str_append(out, buf, used);
    free(buf);
}

/* A report mail: a text part and the attachment, base64 with 76-column lines. */
static void mail_of(const char *type, const struct str *att, struct str *out)
{
    str_appendf(out,
                "From: noreply@provider.test\r\nTo: dmarc@example.org\r\n"
                "Subject: Report domain: example.org\r\nMIME-Version: 1.0\r\n"
                "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
                "--b1\r\nContent-Type: text/plain\r\n\r\nThis is a report.\r\n"
                "--b1\r\nContent-Type: %s; name=\"r\"\r\n"
                "Content-Transfer-Encoding: base64\r\n\r\n",
                type);
    char *b64 = malloc(base64_encoded_size(att->len));
    size_t n = base64_encode(att->ptr, att->len, b64);
    for (size_t i = 0; i < n; i += 76) {
        str_append(out, b64 + i, n - i < 76 ? n - i : 76);
        str_appends(out, "\r\n");
    }
    free(b64);
    str_appends(out, "--b1--\r\n");
}

static void test_dmarc_zip_mail(void **state)
{
    struct str zip = STR_INIT, mail = STR_INIT;
    zip_of("google.com!example.org!1764979200!1765065599.xml", provider_xml, &zip);
    mail_of("application/zip", &zip, &mail);
    struct rua_report r[RUA_MAX_PER_MSG];
    size_t refused = 9;
    const char *why = NULL;
    assert_int_equal(rua_parse_message(mail.ptr, mail.len, r, RUA_MAX_PER_MSG, &refused, &why), 1);
    assert_int_equal(refused, 0);
    assert_string_equal(r[0].org, "google.com");
    assert_string_equal(r[0].report_id, "4137268502839150263");
    struct str t = show(&r[0]);
    assert_non_null(strstr(t.ptr, "198.51.100.9"));
    assert_non_null(strstr(t.ptr, "12  none       dkim=pass spf=pass"));
    assert_non_null(strstr(t.ptr, "12 message(s): 12 passed DMARC, 0 failed"));
    str_clear(&t);
    rua_report_clear(&r[0]);
    str_clear(&zip);
    str_clear(&mail);
}

static void test_dmarc_gzip_mail(void **state)
{
    struct str gz = STR_INIT, mail = STR_INIT;
    assert_int_equal(mailauth_gzip(pigeon_xml, strlen(pigeon_xml), &gz), 0);
    mail_of("application/gzip", &gz, &mail);
    struct rua_report r[RUA_MAX_PER_MSG];
    size_t refused;
    const char *why = NULL;
    assert_int_equal(rua_parse_message(mail.ptr, mail.len, r, RUA_MAX_PER_MSG, &refused, &why), 1);
    assert_string_equal(r[0].domain, "example.org");
    rua_report_clear(&r[0]);
    str_clear(&gz);
    str_clear(&mail);
}

static void test_tlsrpt(void **state)
{
    struct str gz = STR_INIT, mail = STR_INIT;
    assert_int_equal(mailauth_gzip(tlsrpt_json, strlen(tlsrpt_json), &gz), 0);
    mail_of("application/tlsrpt+gzip", &gz, &mail);
    struct rua_report r[RUA_MAX_PER_MSG];
    size_t refused;
    const char *why = NULL;
    assert_int_equal(rua_parse_message(mail.ptr, mail.len, r, RUA_MAX_PER_MSG, &refused, &why), 1);
    assert_int_equal(r[0].kind, RUA_TLSRPT);
    assert_string_equal(r[0].org, "Mail Provider Inc.");
    assert_string_equal(r[0].domain, "example.org");
    assert_int_equal(r[0].begin, 1796515200);
    assert_int_equal(r[0].end, 1796515200 + 86399);
    struct str t = show(&r[0]);
    assert_non_null(strstr(t.ptr, "policy sts for example.org: 41 successful, 3 failed "
                                  "(mx mx.example.org)"));
    assert_non_null(strstr(t.ptr, "certificate-expired: 2 mx=mx.example.org ip=192.0.2.25 "
                                  "from=203.0.113.4"));
    assert_non_null(strstr(t.ptr, "validation-failure: 1 mx=mx2.other.test code=X509_V_ERR"));
    str_clear(&t);
    rua_report_clear(&r[0]);
    str_clear(&gz);
    str_clear(&mail);
}

static void refused(const char *doc, const char *reason)
{
    struct rua_report r;
    const char *why = NULL;
    assert_int_not_equal(rua_parse_document(doc, strlen(doc), &r, &why), 0);
    assert_non_null(why);
    assert_non_null(strstr(why, reason));
    rua_report_clear(&r);
}

static void test_refusals(void **state)
{
    refused("<?xml version=\"1.0\"?><!DOCTYPE feedback [<!ENTITY a \"aaaa\">]>"
            "<feedback><report_metadata/></feedback>",
            "DTD");
    refused("<feedback><report_metadata><org_name>x</org_name></report_metadata></feedback>",
            "no report_metadata or policy_published");
    refused("<report/>", "not <feedback>");
    refused("<feedback><report_metadata>", "not well-formed");
    refused("hello", "neither XML nor JSON");
    refused("{\"organization-name\": \"x\", \"report-id\": \"y\", \"date-range\": "
            "{\"start-datetime\": \"2026-12-06\", \"end-datetime\": \"2026-12-07T00:00:00Z\"}, "
            "\"policies\": []}",
            "date-range");
    refused("{\"organization-name\": \"x\", \"report-id\": \"y\", \"date-range\": "
            "{\"start-datetime\": \"2026-12-06T00:00:00Z\", \"end-datetime\": "
            "\"2026-12-07T00:00:00+01:00\"}, \"policies\": [{\"policy\": {\"policy-type\": "
            "\"sts\", \"policy-domain\": \"a\"}}]}",
            "summary");
    /* a record without a count */
    char *bad = strdup(pigeon_xml);
    char *c = strstr(bad, "<count>3</count>");
    memcpy(c, "<cxunt>3</cxunt>", 16);
    refused(bad, "without source_ip or count");
    free(bad);
}

/* A gzip bomb stops at the limit; a cut gzip stream is refused, never half-read. */
static void test_decompression_limits(void **state)
{
    size_t big = RUA_MAX_SIZE + 1024;
    char *zeros = calloc(1, big);
    struct str gz = STR_INIT, docs[RUA_MAX_PER_MSG];
    assert_int_equal(mailauth_gzip(zeros, big, &gz), 0);
    free(zeros);
    const char *why = NULL;
    assert_int_equal(rua_unpack((unsigned char *)gz.ptr, gz.len, docs, RUA_MAX_PER_MSG, &why),
                     ERR_LIMIT);
    str_reset(&gz);
    assert_int_equal(mailauth_gzip(pigeon_xml, strlen(pigeon_xml), &gz), 0);
    assert_true(rua_unpack((unsigned char *)gz.ptr, gz.len / 2, docs, RUA_MAX_PER_MSG, &why) < 0);
    assert_non_null(strstr(why, "damaged or cut short"));
    str_clear(&gz);
}

/* Text parts and a message without reports give nothing and refuse nothing. */
static void test_no_report(void **state)
{
    const char *m = "From: a@b\r\nSubject: hi\r\n\r\n<feedback>not an attachment</feedback>\r\n";
    struct rua_report r[RUA_MAX_PER_MSG];
    size_t refused_n;
    const char *why = NULL;
    assert_int_equal(rua_parse_message(m, strlen(m), r, RUA_MAX_PER_MSG, &refused_n, &why), 0);
    assert_int_equal(refused_n, 0);
}

int main(void)
{
    rua_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dmarc_pigeon_form), cmocka_unit_test(test_dmarc_zip_mail),
        cmocka_unit_test(test_dmarc_gzip_mail),   cmocka_unit_test(test_tlsrpt),
        cmocka_unit_test(test_refusals),          cmocka_unit_test(test_decompression_limits),
        cmocka_unit_test(test_no_report),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
