/* A mail domain's DNS records (src/mailauth/mailrec.c): building, judging, and the UPDATE
 * that brings a zone in line, applied with the real UPDATE code (dns/xfr/update.c); and the
 * DKIM selector life (src/mailauth/dkim_rotate.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/err.h"
#include "dns/arena.h"
#include "dns/name.h"
#include "dns/rr.h"
#include "dns/wire.h"
#include "dns/xfr/update.h"
#include "dns/zone.h"
#include "mailauth/dkim_rotate.h"
#include "mailauth/mailrec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t digest[1][32] = {{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
                                       18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
                                       32}};

static void params(struct mailrec_params *p)
{
    *p = (struct mailrec_params){.domain = "example.test",
                                 .mx_host = "mx.example.test",
                                 .ttl = 300,
                                 .spf = "v=spf1 mx -all",
                                 .dkim_sel = {"sel1"},
                                 .dkim_txt = {"v=DKIM1; k=ed25519; p=AAAA"},
                                 .ndkim = 1,
                                 .dkim_gone = {"old"},
                                 .ngone = 1,
                                 .dmarc = "v=DMARC1; p=reject",
                                 .sts_id = "0123abcd",
                                 .tlsrpt = "v=TLSRPTv1; rua=mailto:postmaster@example.test",
                                 .tlsa = digest,
                                 .ntlsa = 1,
                                 .srv = {{"submission", 587}, {"imap", 0}},
                                 .nsrv = 2};
}

static struct dns_zone *zone(const char *text)
{
    uint8_t origin[DNS_NAME_MAXLEN];
    size_t len;
    const char *why;
    assert_int_equal(dns_name_from_text("example.test.", 13, NULL, origin, &len, &why), 0);
    struct dns_zone *z = NULL;
    struct str err = STR_INIT;
    int rc = dns_zone_from_text(text, strlen(text), "t.zone", origin, 0, &z, &err);
    if (rc)
        fail_msg("%s", str_cstr(&err));
    str_clear(&err);
    return z;
}

static const char base_zone[] = "$TTL 300\n"
                                "@ IN SOA ns.example.test. h.example.test. 1 60 60 600 60\n"
                                "@ IN NS ns.example.test.\n"
                                "ns IN A 192.0.2.1\n"
                                "mx IN A 192.0.2.2\n";

/* Applies s to z once with the real UPDATE code; returns the new zone (or z itself when
 * nothing changed) and the number of changed RRsets. */
static struct dns_zone *apply(const struct mailrec_set *s, struct dns_zone *z, size_t *changes)
{
    uint8_t pkt[65535];
    const char *why;
    size_t len = mailrec_update(s, z, pkt, sizeof pkt, changes, &why);
    assert_null(why);
    if (!len)
        return z;
    struct dns_arena arena;
    dns_arena_init(&arena, NULL, 0);
    struct dns_msg m;
    assert_int_equal(dns_msg_parse(pkt, len, &m, &arena), 0);
    struct dns_update_result res;
    dns_update_apply(z, &m, &res);
    assert_int_equal(res.rcode, DNS_RCODE_NOERROR);
    assert_non_null(res.zone);
    dns_zdiff_unref(res.diff);
    dns_arena_clear(&arena);
    dns_zone_unref(z);
    return res.zone;
}

static const struct dns_rrset *rrset(const struct dns_zone *z, const char *name, uint16_t type)
{
    uint8_t wire[DNS_NAME_MAXLEN];
    size_t len;
    const char *why;
    assert_int_equal(dns_name_from_text(name, strlen(name), NULL, wire, &len, &why), 0);
    const struct dns_node *n = dns_zone_find(z, wire, NULL);
    return n ? dns_node_rrset(n, type) : NULL;
}

static void test_text(void **state)
{
    struct mailrec_params p;
    struct mailrec_set s;
    params(&p);
    mailrec_set_init(&s);
    assert_int_equal(mailrec_build(&p, &s), 0);
    struct str out = STR_INIT;
    for (size_t i = 0; i < s.n; i++)
        mailrec_to_text(&s.r[i], &out);
    const char *t = str_cstr(&out);
    assert_non_null(strstr(t, "example.test. "));
    assert_non_null(strstr(t, "IN MX    10 mx.example.test.\n"));
    assert_non_null(strstr(t, "\"v=spf1 mx -all\""));
    assert_non_null(strstr(t, "sel1._domainkey.example.test."));
    assert_non_null(strstr(t, "; withdrawn: old._domainkey.example.test. TXT"));
    assert_non_null(strstr(t, "_mta-sts.example.test."));
    assert_non_null(strstr(t, "\"v=STSv1; id=0123abcd\""));
    assert_non_null(strstr(t, "_25._tcp.mx.example.test."));
    assert_non_null(strstr(t, "TLSA  3 1 1 0102030405"));
    assert_non_null(strstr(t, "_submission._tcp.example.test."));
    assert_non_null(strstr(t, "SRV   0 1 587 mx.example.test.\n"));
    assert_non_null(strstr(t, "SRV   0 0 0 .\n")); /* imap not offered: RFC 6186 §4 */
    str_clear(&out);
    mailrec_set_clear(&s);
}

/* An empty zone gets every record; a second pass changes nothing. */
static void test_publish_all(void **state)
{
    struct mailrec_params p;
    struct mailrec_set s;
    params(&p);
    mailrec_set_init(&s);
    assert_int_equal(mailrec_build(&p, &s), 0);
    struct dns_zone *z = zone(base_zone);
    size_t changes;
    z = apply(&s, z, &changes);
    assert_int_equal(changes, 9); /* MX SPF DKIM DMARC STS RPT TLSA 2xSRV; "old" not there */
    assert_int_equal(dns_zone_serial(z), 2);
    assert_non_null(rrset(z, "example.test", DNS_TYPE_MX));
    assert_non_null(rrset(z, "sel1._domainkey.example.test", DNS_TYPE_TXT));
    assert_non_null(rrset(z, "_25._tcp.mx.example.test", DNS_TYPE_TLSA));
    assert_non_null(rrset(z, "_imap._tcp.example.test", DNS_TYPE_SRV));
    z = apply(&s, z, &changes);
    assert_int_equal(changes, 0);
    assert_int_equal(dns_zone_serial(z), 2);
    dns_zone_unref(z);
    mailrec_set_clear(&s);
}

/* The administrator's MX and SPF stay; Pigeon's own records (DKIM key, MTA-STS id) are
 * replaced; a withdrawn selector goes. */
static void test_respects_admin(void **state)
{
    char text[2048];
    snprintf(text, sizeof text,
             "%s@ IN MX 5 other.example.net.\n"
             "@ IN TXT \"v=spf1 include:elsewhere.example -all\"\n"
             "@ IN TXT \"google-site-verification=x\"\n"
             "_mta-sts IN TXT \"v=STSv1; id=old\"\n"
             "old._domainkey IN TXT \"v=DKIM1; p=OLD\"\n"
             "_dmarc IN CNAME dmarc.example.net.\n",
             base_zone);
    struct mailrec_params p;
    struct mailrec_set s;
    params(&p);
    mailrec_set_init(&s);
    assert_int_equal(mailrec_build(&p, &s), 0);
    struct dns_zone *z = zone(text);
    size_t changes;
    z = apply(&s, z, &changes);
    const struct dns_rrset *mx = rrset(z, "example.test", DNS_TYPE_MX);
    assert_int_equal(mx->count, 1);
    assert_int_equal(mx->rdata[0].data[1], 5); /* theirs */
    assert_int_equal(rrset(z, "example.test", DNS_TYPE_TXT)->count, 2); /* no second SPF */
    const struct dns_rrset *sts = rrset(z, "_mta-sts.example.test", DNS_TYPE_TXT);
    assert_int_equal(sts->count, 1);
    assert_memory_equal(sts->rdata[0].data + 1, "v=STSv1; id=0123abcd", 20);
    assert_null(rrset(z, "old._domainkey.example.test", DNS_TYPE_TXT));
    assert_null(rrset(z, "_dmarc.example.test", DNS_TYPE_TXT)); /* a CNAME: left alone */
    /* judged as `pigeon domain check` does */
    size_t i = 0;
    while (s.r[i].type != DNS_TYPE_MX)
        i++;
    assert_int_equal(mailrec_judge(&s.r[i], 1, mx->rdata, mx->count), MAILREC_DIFFERENT);
    assert_int_equal(mailrec_judge(&s.r[i], 1, NULL, 0), MAILREC_MISSING);
    dns_zone_unref(z);
    mailrec_set_clear(&s);
}

static void test_rotate(void **state)
{
    struct dkim_sels s;
    const char *why;
    dkim_sels_default(&s, "pigeon");
    assert_string_equal(dkim_sels_active(&s)->name, "pigeon");
    assert_int_equal(dkim_sels_add_next(&s, "pigeon-2", 1000), 0);
    assert_int_equal(dkim_sels_add_next(&s, "pigeon-3", 1000), ERR_EXISTS); /* one at a time */
    assert_false(dkim_sels_advance(&s, 1099, 100, 500));
    assert_true(dkim_sels_advance(&s, 1100, 100, 500));
    assert_string_equal(dkim_sels_active(&s)->name, "pigeon-2");
    assert_int_equal(s.s[0].state, DKIM_SEL_RETIRED);
    assert_false(dkim_sels_advance(&s, 1599, 100, 500));
    assert_true(dkim_sels_advance(&s, 1600, 100, 500));
    assert_int_equal(s.s[0].state, DKIM_SEL_WITHDRAWN);
    struct str text = STR_INIT;
    dkim_sels_format(&s, &text);
    struct dkim_sels back;
    assert_int_equal(dkim_sels_parse(text.ptr, text.len, &back, &why), 0);
    assert_int_equal(back.n, 2);
    assert_int_equal(back.s[1].state, DKIM_SEL_ACTIVE);
    str_clear(&text);
    assert_true(dkim_sels_advance(&s, 2100, 100, 500)); /* forgotten */
    assert_int_equal(s.n, 1);
    assert_int_equal(dkim_sels_parse("a active 1\nb active 2\n", 22, &back, &why), ERR_PARSE);
    assert_int_equal(dkim_sels_parse("a active x\n", 11, &back, &why), ERR_PARSE);
    assert_int_equal(dkim_sels_parse("../x active 1\n", 14, &back, &why), ERR_PARSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_publish_all),
        cmocka_unit_test(test_respects_admin),
        cmocka_unit_test(test_rotate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
