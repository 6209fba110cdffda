/* DMARC (src/mailauth): the Public Suffix List, records, the From domain, alignment strict and
 * relaxed, p/sp/pct, and the Authentication-Results field exact for pass, fail and none. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/err.h"
#include "mailauth/authres.h"
#include "mailauth/check.h"
#include "mailauth/dmarc.h"
#include "mailauth/psl.h"

#include <string.h>

static struct psl *psl;

static int setup(void **state)
{
    const char *err;
    psl = psl_load(PSL_DEFAULT_PATH, &err); /* Debian's publicsuffix package */
    return psl ? 0 : -1;
}

static int teardown(void **state)
{
    psl_free(psl);
    return 0;
}

static void test_psl(void **state)
{
    assert_string_equal(psl_org_domain(psl, "mail.example.com"), "example.com");
    assert_string_equal(psl_org_domain(psl, "example.com"), "example.com");
    assert_null(psl_org_domain(psl, "com"));
    assert_string_equal(psl_org_domain(psl, "a.b.example.co.uk"), "example.co.uk");
    assert_null(psl_org_domain(psl, "co.uk"));
    /* wildcard *.ck and its exception !www.ck */
    assert_string_equal(psl_org_domain(psl, "a.b.c.ck"), "b.c.ck");
    assert_string_equal(psl_org_domain(psl, "x.www.ck"), "www.ck");
    /* not on the list: the "*" rule */
    assert_string_equal(psl_org_domain(psl, "mail.hamburger.edu"), "hamburger.edu");
    assert_string_equal(psl_org_domain(psl, "a.b.unlisted"), "b.unlisted");
    /* a private-section suffix */
    assert_string_equal(psl_org_domain(psl, "x.user.github.io"), "user.github.io");
    struct psl *small = psl_parse("// c\nfoo\n*.bar\n!ok.bar\n", 24);
    assert_string_equal(psl_org_domain(small, "a.b.foo"), "b.foo");
    assert_string_equal(psl_org_domain(small, "a.b.c.bar"), "b.c.bar");
    assert_string_equal(psl_org_domain(small, "a.ok.bar"), "ok.bar");
    psl_free(small);
}

static void test_record(void **state)
{
    struct dmarc_record r;
    const char *err;
    const char *ok = "v=DMARC1; p=reject; sp=quarantine; adkim=s; pct=50; rua=mailto:d@x.example";
    assert_int_equal(dmarc_record_parse(ok, strlen(ok), &r, &err), 0);
    assert_int_equal(r.p, DMARC_POLICY_REJECT);
    assert_true(r.has_sp);
    assert_int_equal(r.sp, DMARC_POLICY_QUARANTINE);
    assert_true(r.adkim_strict);
    assert_false(r.aspf_strict);
    assert_int_equal(r.pct, 50);
    const char *rua_only = "v=DMARC1; rua=mailto:d@x.example";
    assert_int_equal(dmarc_record_parse(rua_only, strlen(rua_only), &r, &err), 0);
    assert_int_equal(r.p, DMARC_POLICY_NONE);
    const char *bad[] = {"p=reject; v=DMARC1", "v=DMARC1; p=maybe", "v=DMARC1", "v=DMARC1; p=none; pct=101",
                         "v=DMARC1; p=none; adkim=x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_not_equal(dmarc_record_parse(bad[i], strlen(bad[i]), &r, &err), 0);
    /* discovery: exactly one v=DMARC1 record among the TXT strings */
    const char *txt[] = {"v=spf1 -all", "v=DMARC1; p=none"};
    size_t len[] = {11, 16};
    assert_true(mailauth_dmarc_pick(txt, len, 2, &r));
    const char *two[] = {"v=DMARC1; p=none", "v=DMARC1; p=reject"};
    size_t len2[] = {16, 18};
    assert_false(mailauth_dmarc_pick(two, len2, 2, &r));
}

static int from_of(const char *msg, char *out)
{
    struct mailauth_msg m;
    assert_int_equal(mailauth_msg_split(msg, strlen(msg), &m), 0);
    int rc = dmarc_from_domain(&m, out, 254);
    mailauth_msg_clear(&m);
    return rc;
}

static void test_from(void **state)
{
    char d[254];
    assert_int_equal(from_of("From: Alice <alice@Crepes.FR>\r\n\r\n", d), 0);
    assert_string_equal(d, "crepes.fr");
    assert_int_equal(from_of("From: alice@crepes.fr (Alice, the sender)\r\n\r\n", d), 0);
    assert_string_equal(d, "crepes.fr");
    assert_int_equal(from_of("From: \"a@b, c\" <x@mail.example.org>\r\n\r\n", d), 0);
    assert_string_equal(d, "mail.example.org");
    assert_int_not_equal(from_of("From: a@b.example, c@d.example\r\n\r\n", d), 0);
    assert_int_not_equal(from_of("From: a@b.example\r\nFrom: c@d.example\r\n\r\n", d), 0);
    assert_int_not_equal(from_of("To: a@b.example\r\n\r\n", d), 0);
    assert_int_not_equal(from_of("From: undisclosed\r\n\r\n", d), 0);
}

static struct dkim_verify_result one_sig(const char *domain, enum dkim_result r)
{
    struct dkim_verify_result v;
    memset(&v, 0, sizeof v);
    v.n = 1;
    v.sig[0].result = r;
    strcpy(v.sig[0].domain, domain);
    strcpy(v.sig[0].selector, "s1");
    strcpy(v.sig[0].b_text, "AbCdEfGh");
    return v;
}

static void test_alignment(void **state)
{
    struct dmarc_record r;
    const char *err, *rec = "v=DMARC1; p=reject; sp=quarantine";
    assert_int_equal(dmarc_record_parse(rec, strlen(rec), &r, &err), 0);
    struct dkim_verify_result sub = one_sig("mail.crepes.fr", DKIM_PASS);
    struct dmarc_input in = {"crepes.fr", false, "", &sub, 0};
    struct dmarc_eval e;
    dmarc_evaluate(psl, &r, false, &in, &e); /* relaxed: same organisational domain */
    assert_int_equal(e.result, DMARC_PASS);
    assert_true(e.dkim_aligned);
    r.adkim_strict = true;
    dmarc_evaluate(psl, &r, false, &in, &e);
    assert_int_equal(e.result, DMARC_FAIL);
    assert_int_equal(e.disposition, DMARC_POLICY_REJECT);
    /* SPF pass for an aligned MAIL FROM domain is enough */
    in.spf_pass = true, in.spf_domain = "bounces.crepes.fr";
    dmarc_evaluate(psl, &r, false, &in, &e);
    assert_int_equal(e.result, DMARC_PASS);
    assert_true(e.spf_aligned);
    r.aspf_strict = true;
    dmarc_evaluate(psl, &r, false, &in, &e);
    assert_int_equal(e.result, DMARC_FAIL);
    /* a DKIM pass for another domain does not align; sp= for a subdomain found at the org */
    struct dkim_verify_result other = one_sig("evil.example", DKIM_PASS);
    struct dmarc_input in2 = {"news.crepes.fr", false, "", &other, 0};
    dmarc_evaluate(psl, &r, true, &in2, &e);
    assert_int_equal(e.result, DMARC_FAIL);
    assert_int_equal(e.policy, DMARC_POLICY_QUARANTINE);
    /* pct=0: the failing message is not sampled, the policy is one step milder */
    r.pct = 0;
    dmarc_evaluate(psl, &r, false, &in2, &e);
    assert_int_equal(e.policy, DMARC_POLICY_REJECT);
    assert_int_equal(e.disposition, DMARC_POLICY_QUARANTINE);
    /* no record: none */
    dmarc_evaluate(psl, NULL, false, &in2, &e);
    assert_int_equal(e.result, DMARC_NONE);
}

static void test_authres(void **state)
{
    struct mailauth_spf spf = {"pass", "alice@crepes.fr", "mail.crepes.fr"};
    struct mailauth_report r;
    memset(&r, 0, sizeof r);
    r.dkim = one_sig("crepes.fr", DKIM_PASS);
    strcpy(r.from_domain, "crepes.fr");
    r.dmarc = DMARC_PASS;
    r.have_rec = true;
    r.eval.policy = DMARC_POLICY_REJECT;
    struct str o = STR_INIT;
    mailauth_authres_write("mail.hamburger.edu", &spf, &r, &o);
    assert_string_equal(o.ptr, "Authentication-Results: mail.hamburger.edu;\r\n"
                               "\tdkim=pass header.d=crepes.fr header.s=s1 header.a=rsa-sha256"
                               " header.b=AbCdEfGh;\r\n"
                               "\tspf=pass smtp.mailfrom=alice@crepes.fr;\r\n"
                               "\tdmarc=pass (p=reject dis=none) header.from=crepes.fr\r\n");
    str_reset(&o);
    r.dkim.sig[0].result = DKIM_FAIL;
    r.dkim.sig[0].why = "body hash did not verify";
    r.dmarc = DMARC_FAIL;
    r.eval.disposition = DMARC_POLICY_REJECT;
    spf.result = "fail";
    mailauth_authres_write("mail.hamburger.edu", &spf, &r, &o);
    assert_string_equal(o.ptr, "Authentication-Results: mail.hamburger.edu;\r\n"
                               "\tdkim=fail reason=\"body hash did not verify\" header.d=crepes.fr"
                               " header.s=s1 header.a=rsa-sha256 header.b=AbCdEfGh;\r\n"
                               "\tspf=fail smtp.mailfrom=alice@crepes.fr;\r\n"
                               "\tdmarc=fail (p=reject dis=reject) header.from=crepes.fr\r\n");
    str_reset(&o);
    memset(&r, 0, sizeof r);
    strcpy(r.from_domain, "crepes.fr");
    struct mailauth_spf nospf = {NULL, "", "x"};
    mailauth_authres_write("mx", &nospf, &r, &o);
    assert_string_equal(o.ptr, "Authentication-Results: mx;\r\n\tdkim=none;\r\n"
                               "\tdmarc=none header.from=crepes.fr\r\n");
    /* forged fields with our authserv-id are removed, others kept */
    const char *msg = "Received: x\r\nAuthentication-Results: MX; dkim=pass\r\n"
                      "Authentication-Results: other.example; spf=pass\r\nSubject: s\r\n\r\nbody";
    str_reset(&o);
    assert_int_equal(mailauth_authres_strip(msg, strlen(msg), "mx", &o), 1);
    assert_string_equal(o.ptr, "Received: x\r\nAuthentication-Results: other.example; spf=pass"
                               "\r\nSubject: s\r\n\r\nbody");
    str_clear(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_psl),       cmocka_unit_test(test_record),
        cmocka_unit_test(test_from),      cmocka_unit_test(test_alignment),
        cmocka_unit_test(test_authres),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
