/* DMARC aggregate reports (src/mailauth/dmarc_agg.c): the history line both ways (and what a
 * torn line does), rows counted, the XML, rua= URIs and limits, the external-destination rule
 * (RFC 7489 §7.1), the report mail and gzip. tests/integration/test_dmarc_report.py validates
 * the XML against the schema with xmllint. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/err.h"
#include "mailauth/dmarc_agg.h"
#include "mailauth/psl.h"

#include <stdio.h>
#include <string.h>
#include <zlib.h>

static void fill(struct dmarc_agg_rec *r, const char *ip, const char *disp)
{
    memset(r, 0, sizeof *r);
    r->time = 1796600000;
    snprintf(r->source_ip, sizeof r->source_ip, "%s", ip);
    snprintf(r->header_from, sizeof r->header_from, "news.example.com");
    snprintf(r->policy_domain, sizeof r->policy_domain, "example.com");
    snprintf(r->envelope_from, sizeof r->envelope_from, "bounce.example.com");
    snprintf(r->spf_scope, sizeof r->spf_scope, "mfrom");
    snprintf(r->spf_result, sizeof r->spf_result, "pass");
    snprintf(r->disposition, sizeof r->disposition, "%s", disp);
    r->spf_aligned = true;
    r->p = DMARC_POLICY_REJECT;
    r->sp = DMARC_POLICY_QUARANTINE;
    snprintf(r->rua, sizeof r->rua, "mailto:agg@example.com");
    r->ndkim = 2;
    snprintf(r->dkim[0].domain, sizeof r->dkim[0].domain, "example.com");
    snprintf(r->dkim[0].selector, sizeof r->dkim[0].selector, "s1");
    snprintf(r->dkim[0].result, sizeof r->dkim[0].result, "fail");
    snprintf(r->dkim[1].domain, sizeof r->dkim[1].domain, "esp.example");
    snprintf(r->dkim[1].selector, sizeof r->dkim[1].selector, "x");
    snprintf(r->dkim[1].result, sizeof r->dkim[1].result, "pass");
}

static void test_line_roundtrip(void **state)
{
    struct dmarc_agg_rec a, b;
    fill(&a, "192.0.2.1", "reject");
    snprintf(a.reason_comment, sizeof a.reason_comment, "tab\there\nnewline");
    struct str line = STR_INIT;
    dmarc_agg_rec_format(&a, &line);
    assert_int_equal(line.ptr[line.len - 1], '\n');
    assert_null(memchr(line.ptr, '\n', line.len - 1));
    assert_int_equal(dmarc_agg_rec_parse(line.ptr, line.len, &b), 0);
    assert_string_equal(b.reason_comment, "tab?here?newline");
    snprintf(a.reason_comment, sizeof a.reason_comment, "%s", b.reason_comment);
    assert_memory_equal(&a, &b, sizeof a);
    /* every cut of the line (a crash mid-write) is refused, never half read */
    for (size_t cut = 0; cut + 1 < line.len; cut++)
        assert_int_not_equal(dmarc_agg_rec_parse(line.ptr, cut, &b), 0);
    assert_int_not_equal(dmarc_agg_rec_parse("2\t1\n", 4, &b), 0);
    str_clear(&line);
}

static void test_rows_and_xml(void **state)
{
    struct dmarc_agg_report rep;
    dmarc_agg_report_init(&rep, "example.com");
    struct dmarc_agg_rec r;
    fill(&r, "192.0.2.1", "reject");
    dmarc_agg_report_add(&rep, &r);
    dmarc_agg_report_add(&rep, &r);
    fill(&r, "2001:db8::1", "pass");
    r.time++;
    dmarc_agg_report_add(&rep, &r);
    assert_int_equal(rep.n, 2);
    assert_int_equal(rep.count[0], 2);
    struct dmarc_agg_meta m = {"Example Receiver", "postmaster@rx.example", "rx.example",
                               1796515200, 1796601599};
    struct str x = STR_INIT;
    dmarc_agg_xml(&m, &rep, &x);
    assert_non_null(strstr(x.ptr, "<feedback xmlns=\"urn:ietf:params:xml:ns:dmarc-2.0\">"));
    assert_non_null(strstr(x.ptr, "<report_id>1796515200.example.com@rx.example</report_id>"));
    assert_non_null(strstr(x.ptr, "<p>reject</p>\n    <sp>quarantine</sp>"));
    assert_non_null(strstr(x.ptr, "<source_ip>192.0.2.1</source_ip>\n      <count>2</count>"));
    assert_non_null(strstr(x.ptr, "<source_ip>2001:db8::1</source_ip>\n      <count>1</count>"));
    assert_non_null(strstr(x.ptr, "<disposition>reject</disposition>\n        <dkim>fail</dkim>"
                                  "\n        <spf>pass</spf>"));
    assert_non_null(strstr(x.ptr, "<domain>esp.example</domain>\n        <selector>x</selector>"));
    /* text is escaped */
    str_reset(&x);
    snprintf(rep.rows[0].header_from, sizeof rep.rows[0].header_from, "a<b>&\"c");
    dmarc_agg_xml(&m, &rep, &x);
    assert_non_null(strstr(x.ptr, "<header_from>a&lt;b&gt;&amp;&quot;c</header_from>"));
    struct str f = STR_INIT;
    dmarc_agg_filename(&m, "example.com", &f);
    assert_string_equal(f.ptr, "rx.example!example.com!1796515200!1796601599.xml.gz");
    str_clear(&f);
    str_clear(&x);
    dmarc_agg_report_clear(&rep);
}

static void test_rua(void **state)
{
    struct dmarc_rua u[DMARC_RUA_MAX];
    size_t n = dmarc_rua_parse(" mailto:Agg@Reports.EXAMPLE!10m, https://x.example/r,"
                               "mailto:a@b.example!2k ,mailto:bad, mailto:c@d!,"
                               "mailto:e@f.example, mailto:g@h.example",
                               u, DMARC_RUA_MAX);
    assert_int_equal(n, 4);
    assert_string_equal(u[0].addr, "Agg@reports.example");
    assert_string_equal(u[0].domain, "reports.example");
    assert_int_equal(u[0].limit, 10u << 20);
    assert_int_equal(u[1].limit, 2048);
    assert_string_equal(u[2].addr, "c@d");
    assert_int_equal(u[2].limit, 0);
    assert_string_equal(u[3].addr, "e@f.example");

    const char list[] = "com\nco.uk\n";
    struct psl *psl = psl_parse(list, strlen(list));
    char name[300];
    bool unusable;
    assert_false(dmarc_rua_external(psl, "mail.example.com", "reports.example.com", name,
                                    sizeof name, &unusable));
    assert_false(unusable);
    assert_true(dmarc_rua_external(psl, "example.com", "thirdparty.co.uk", name, sizeof name,
                                   &unusable));
    assert_string_equal(name, "example.com._report._dmarc.thirdparty.co.uk");
    char longname[260];
    memset(longname, 'a', 250);
    strcpy(longname + 250, ".com");
    assert_false(dmarc_rua_external(psl, longname, "thirdparty.co.uk", name, sizeof name,
                                    &unusable));
    assert_true(unusable);
    psl_free(psl);
    const char *txt[2] = {"v=spf1 -all", "v=DMARC1;"};
    size_t len[2] = {11, 9};
    assert_false(dmarc_rua_consents(txt, len, 1));
    assert_true(dmarc_rua_consents(txt, len, 2));
    const char *bad[1] = {"v=DMARC10"};
    size_t blen[1] = {9};
    assert_false(dmarc_rua_consents(bad, blen, 1));
}

static void test_mail_and_gzip(void **state)
{
    const char xml[] = "<?xml version=\"1.0\"?><feedback/>";
    struct str gz = STR_INIT, mail = STR_INIT;
    assert_int_equal(mailauth_gzip(xml, strlen(xml), &gz), 0);
    assert_true(gz.len > 18 && (unsigned char)gz.ptr[0] == 0x1f &&
                (unsigned char)gz.ptr[1] == 0x8b);
    char back[100];
    uLongf blen = sizeof back;
    z_stream z = {0};
    assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
    z.next_in = (Bytef *)gz.ptr, z.avail_in = (uInt)gz.len;
    z.next_out = (Bytef *)back, z.avail_out = (uInt)blen;
    assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
    assert_int_equal(z.total_out, strlen(xml));
    assert_memory_equal(back, xml, strlen(xml));
    inflateEnd(&z);
    struct dmarc_agg_meta m = {"Rx", "dmarc@rx.example", "rx.example", 1796515200, 1796601599};
    dmarc_agg_mail(&m, "example.com", "dmarc@rx.example", "agg@example.com",
                   (const unsigned char *)gz.ptr, gz.len, 1796605200, &mail);
    assert_non_null(strstr(mail.ptr, "Subject: Report Domain: example.com\r\n Submitter: "
                                     "rx.example\r\n Report-ID: <1796515200.example.com@"
                                     "rx.example>\r\n"));
    assert_non_null(strstr(mail.ptr, "Content-Type: application/gzip; name=\"rx.example!"
                                     "example.com!1796515200!1796601599.xml.gz\""));
    assert_non_null(strstr(mail.ptr, "Date: Mon, 07 Dec 2026 01:00:00 +0000\r\n"));
    assert_non_null(strstr(mail.ptr, "\r\n--=_pigeon_report--\r\n"));
    str_clear(&gz);
    str_clear(&mail);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_roundtrip),
        cmocka_unit_test(test_rows_and_xml),
        cmocka_unit_test(test_rua),
        cmocka_unit_test(test_mail_and_gzip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
