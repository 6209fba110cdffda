/* ARC (src/mailauth/arc*.c): sets sealed by Pigeon and verified by its own verifier over two
 * hops and both algorithms, tampering, broken structure (RFC 8617 §5.2 steps 1-4), a chain
 * ended by cv=fail, the trusted-sealer test and the ARC-Seal parser. python3-dkim checks the
 * same seals from the other side in tests/integration/test_arc.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/err.h"
#include "mailauth/arc.h"
#include "mailauth/arc_verify.h"
#include "mailauth/dkim.h"

#include <stdio.h>
#include <string.h>

static const char MSG[] = "Received: from mx.example.org by list.example.net\r\n"
                          "From: Joe SixPack <joe@football.example.com>\r\n"
                          "To: Suzie Q <suzie@shopping.example.net>\r\n"
                          "Subject: Is dinner ready?\r\n"
                          "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
                          "Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n"
                          "\r\n"
                          "Hi.\r\n"
                          "\r\n"
                          "We lost the game. Are you hungry yet?\r\n";

struct keyring {
    struct dkim_signer *s[2];
    struct dkim_key k[2]; /* the published record of each */
    bool down;            /* every look-up fails temporarily */
};

static const struct dkim_key *ring_key(void *ctx, const char *sel, const char *dom, bool *temp)
{
    struct keyring *r = ctx;
    *temp = r->down;
    if (r->down)
        return NULL;
    if (strcmp(sel, "s1") == 0 && strcmp(dom, "list.example.net") == 0)
        return &r->k[0];
    if (strcmp(sel, "s2") == 0 && strcmp(dom, "fwd.example.com") == 0)
        return &r->k[1];
    return NULL;
}

static void ring_init(struct keyring *r, enum dkim_alg a0, enum dkim_alg a1)
{
    memset(r, 0, sizeof *r);
    const char *dom[2] = {"list.example.net", "fwd.example.com"}, *sel[2] = {"s1", "s2"};
    enum dkim_alg alg[2] = {a0, a1};
    for (int i = 0; i < 2; i++) {
        struct str pem = STR_INIT, rec = STR_INIT;
        const char *err = NULL;
        assert_int_equal(dkim_key_generate(alg[i], &pem), 0);
        assert_int_equal(dkim_signer_new(pem.ptr, pem.len, dom[i], sel[i], &r->s[i], &err), 0);
        dkim_signer_record(r->s[i], &rec);
        assert_int_equal(dkim_key_parse(rec.ptr, rec.len, &r->k[i], &err), 0);
        str_clear(&pem);
        str_clear(&rec);
    }
}

static void ring_clear(struct keyring *r)
{
    dkim_signer_free(r->s[0]);
    dkim_signer_free(r->s[1]);
}

/* Seals text with signer, the set on top, into out (replacing it). */
static int seal(struct dkim_signer *s, const struct str *text, const char *results,
                enum arc_cv cv, struct str *out)
{
    struct str o = STR_INIT;
    int rc = arc_seal(s, text->ptr, text->len, results, cv, 1700000000, &o);
    if (rc == 0)
        str_append(&o, text->ptr, text->len);
    str_reset(out);
    str_append(out, o.ptr ? o.ptr : "", o.len);
    str_clear(&o);
    return rc;
}

/* Verifies text's chain; returns the result, n into *n. */
static enum arc_cv check(const struct str *text, struct keyring *r, unsigned *n,
                         const char **why)
{
    struct mailauth_msg m;
    assert_int_equal(mailauth_msg_split(text->ptr, text->len, &m), 0);
    struct arc_chain c;
    arc_chain_collect(&m, &c);
    bool temp;
    enum arc_cv cv = arc_chain_verify(&m, &c, ring_key, r, &temp, why);
    *n = c.n;
    arc_chain_clear(&c);
    mailauth_msg_clear(&m);
    return cv;
}

static void two_hops(enum dkim_alg a0, enum dkim_alg a1)
{
    struct keyring r;
    ring_init(&r, a0, a1);
    struct str t = STR_INIT;
    str_appends(&t, MSG);
    unsigned n;
    const char *why;
    assert_int_equal(check(&t, &r, &n, &why), ARC_CV_NONE);
    assert_int_equal(seal(r.s[0], &t, "list.example.net; dkim=pass header.d=football.example.com"
                                      ";\r\n\tdmarc=pass header.from=football.example.com",
                          ARC_CV_NONE, &t),
                     0);
    assert_non_null(strstr(t.ptr, "ARC-Seal: i=1; a="));
    assert_non_null(strstr(t.ptr, "; cv=none;"));
    assert_non_null(strstr(t.ptr, "ARC-Authentication-Results: i=1; list.example.net; dkim="));
    assert_int_equal(check(&t, &r, &n, &why), ARC_CV_PASS);
    assert_int_equal(n, 1);
    /* the second hop finds it passing and continues it */
    assert_int_equal(seal(r.s[1], &t, "fwd.example.com; arc=pass", ARC_CV_PASS, &t), 0);
    assert_non_null(strstr(t.ptr, "ARC-Seal: i=2; a="));
    assert_non_null(strstr(t.ptr, "; cv=pass;"));
    assert_int_equal(check(&t, &r, &n, &why), ARC_CV_PASS);
    assert_int_equal(n, 2);

    /* a changed body breaks the newest AMS; a changed first AAR breaks both seals */
    struct str bad = STR_INIT;
    str_append(&bad, t.ptr, t.len);
    memcpy(strstr(bad.ptr, "lost"), "won!", 4);
    assert_int_equal(check(&bad, &r, &n, &why), ARC_CV_FAIL);
    assert_non_null(strstr(why, "body hash"));
    str_reset(&bad);
    str_append(&bad, t.ptr, t.len);
    memcpy(strstr(bad.ptr, "dmarc=pass"), "dmarc=fail", 10);
    assert_int_equal(check(&bad, &r, &n, &why), ARC_CV_FAIL);
    assert_string_equal(why, "an ARC-Seal did not verify");
    /* relaxed canonicalisation: a re-folded Subject still passes */
    str_reset(&bad);
    str_append(&bad, t.ptr, t.len);
    memcpy(strstr(bad.ptr, "Subject: Is"), "SUBJECT:\tIs", 11);
    assert_int_equal(check(&bad, &r, &n, &why), ARC_CV_PASS);
    /* keys: a temporary failure, then none at all */
    r.down = true;
    bool temp;
    struct mailauth_msg m;
    struct arc_chain c;
    assert_int_equal(mailauth_msg_split(t.ptr, t.len, &m), 0);
    arc_chain_collect(&m, &c);
    assert_int_equal(arc_chain_verify(&m, &c, ring_key, &r, &temp, &why), ARC_CV_FAIL);
    assert_true(temp);
    /* the trusted-sealer test: the set of list.example.net says dmarc=pass */
    char by[254];
    assert_true(arc_trusted_pass(&m, &c, "other.example, list.example.net", by, sizeof by));
    assert_string_equal(by, "list.example.net");
    assert_false(arc_trusted_pass(&m, &c, "fwd.example.com", by, sizeof by));
    assert_false(arc_trusted_pass(&m, &c, "", by, sizeof by));
    arc_chain_clear(&c);
    mailauth_msg_clear(&m);
    str_clear(&bad);
    str_clear(&t);
    ring_clear(&r);
}

static void test_two_hops_ed25519(void **state)
{
    two_hops(DKIM_ED25519_SHA256, DKIM_ED25519_SHA256);
}

static void test_two_hops_rsa(void **state)
{
    two_hops(DKIM_RSA_SHA256, DKIM_ED25519_SHA256);
}

/* Removes the first line starting with name (and its continuation lines) from t. */
static void drop_field(struct str *t, const char *name)
{
    char *p = strstr(t->ptr, name);
    assert_non_null(p);
    char *e = p;
    do
        e = strstr(e, "\r\n") + 2;
    while (*e == ' ' || *e == '\t');
    memmove(p, e, t->len - (size_t)(e - t->ptr) + 1);
    t->len -= (size_t)(e - p);
}

static void test_structure(void **state)
{
    struct keyring r;
    ring_init(&r, DKIM_ED25519_SHA256, DKIM_ED25519_SHA256);
    struct str t = STR_INIT, u = STR_INIT;
    unsigned n;
    const char *why;
    str_appends(&t, MSG);
    assert_int_equal(seal(r.s[0], &t, "list.example.net; dmarc=pass", ARC_CV_NONE, &t), 0);
    /* an incomplete set */
    str_append(&u, t.ptr, t.len);
    drop_field(&u, "ARC-Message-Signature: i=1");
    assert_int_equal(check(&u, &r, &n, &why), ARC_CV_FAIL);
    assert_string_equal(why, "an ARC set is incomplete");
    /* a duplicated AAR */
    str_reset(&u);
    str_appends(&u, "ARC-Authentication-Results: i=1; x; dmarc=fail\r\n");
    str_append(&u, t.ptr, t.len);
    assert_int_equal(check(&u, &r, &n, &why), ARC_CV_FAIL);
    /* an instance above 50, a missing i=, h= in a seal */
    const char *junk[] = {"ARC-Authentication-Results: i=51; x; none\r\n",
                          "ARC-Authentication-Results: x; none\r\n",
                          "ARC-Seal: i=2; a=rsa-sha256; cv=pass; d=x; s=y; h=from; b=AAAA\r\n"};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        str_reset(&u);
        str_appends(&u, junk[i]);
        str_append(&u, t.ptr, t.len);
        assert_int_equal(check(&u, &r, &n, &why), ARC_CV_FAIL);
    }
    /* a second set whose seal says cv=none is malformed (§5.2 step 4) */
    assert_int_equal(seal(r.s[1], &t, "fwd.example.com; arc=pass", ARC_CV_PASS, &u), 0);
    char *cv = strstr(u.ptr, "cv=pass");
    memcpy(cv, "cv=none", 7);
    assert_int_equal(check(&u, &r, &n, &why), ARC_CV_FAIL);
    assert_string_equal(why, "an ARC-Seal has the wrong cv=");
    /* a failed chain: the next sealer says cv=fail, seals only its own set, and nobody may
     * add a set after that */
    assert_int_equal(seal(r.s[1], &t, "fwd.example.com; arc=fail", ARC_CV_FAIL, &u), 0);
    assert_int_equal(check(&u, &r, &n, &why), ARC_CV_FAIL);
    assert_string_equal(why, "the newest ARC-Seal says cv=fail");
    struct str v = STR_INIT;
    assert_int_equal(seal(r.s[0], &u, "list.example.net; arc=fail", ARC_CV_FAIL, &v), ERR_RANGE);
    str_clear(&v);
    str_clear(&u);
    str_clear(&t);
    ring_clear(&r);
}

static void test_aar_and_seal_parse(void **state)
{
    assert_true(arc_aar_dmarc_pass(slice_cstr("i=1; mx.example; dkim=pass;\r\n\tdmarc=pass "
                                              "(p=reject) header.from=example.com")));
    assert_true(arc_aar_dmarc_pass(slice_cstr("i=1; mx; DMARC=pass")));
    assert_false(arc_aar_dmarc_pass(slice_cstr("i=1; mx; dmarc=fail; x=dmarc=pass")));
    assert_false(arc_aar_dmarc_pass(slice_cstr("i=1; mx; dmarc=passed")));
    struct arc_seal_sig s;
    unsigned inst;
    const char *err;
    const char *ok = "i=3; a=ed25519-sha256; cv=pass; d=Example.COM; s=sel; t=1; b=AAAA";
    assert_int_equal(arc_seal_parse(ok, strlen(ok), &s, &inst, &err), 0);
    assert_int_equal(inst, 3);
    assert_int_equal(s.cv, ARC_CV_PASS);
    assert_string_equal(s.domain, "example.com");
    const char *bad[] = {"i=0; a=rsa-sha256; cv=none; d=x; s=y; b=AAAA",
                         "i=1; a=rsa-sha1; cv=none; d=x; s=y; b=AAAA",
                         "i=1; a=rsa-sha256; cv=maybe; d=x; s=y; b=AAAA",
                         "i=1; a=rsa-sha256; cv=none; d=x; b=AAAA",
                         "i=1; a=rsa-sha256; cv=none; d=x; s=y; b=!!"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_not_equal(arc_seal_parse(bad[i], strlen(bad[i]), &s, &inst, &err), 0);
}

/* RFC 8617 Appendix B, the example message after its third ARC hop (a mailing list, a
 * forwarding mailbox, a final receiver), as the RFC prints it. */
static const char RFC8617_EXAMPLE[] =
    "Return-Path: <jqd@d1.example>\r\n"
    "Received: from example.org (example.org [208.69.40.157])\r\n"
    "    by gmail.example with ESMTP id d200mr22663000ykb.93.1421363207\r\n"
    "    for <fmartin@example.com>; Thu, 14 Jan 2015 15:02:40 -0800 (PST)\r\n"
    "Received: from segv.d1.example (segv.d1.example [72.52.75.15])\r\n"
    "    by lists.example.org (8.14.5/8.14.5) with ESMTP id t0EKaNU9010123\r\n"
    "    for <arc@example.org>; Thu, 14 Jan 2015 15:01:30 -0800 (PST)\r\n"
    "    (envelope-from jqd@d1.example)\r\n"
    "Received: from [2001:DB8::1A] (w-x-y-z.dsl.static.isp.example [w.x.y.z])\r\n"
    "    (authenticated bits=0)\r\n"
    "    by segv.d1.example with ESMTP id t0FN4a8O084569;\r\n"
    "    Thu, 14 Jan 2015 15:00:01 -0800 (PST)\r\n"
    "    (envelope-from jqd@d1.example)\r\n"
    "Received: from mail-ob0-f188.google.example\r\n"
    "    (mail-ob0-f188.google.example [208.69.40.157]) by\r\n"
    "    clochette.example.org with ESMTP id d200mr22663000ykb.93.1421363268\r\n"
    "    for <fmartin@example.org>; Thu, 14 Jan 2015 15:03:15 -0800 (PST)\r\n"
    "ARC-Seal: i=3; a=rsa-sha256; cv=pass; d=clochette.example.org; s=\r\n"
    "        clochette; t=12345; b=CU87XzXlNlk5X/yW4l73UvPUcP9ivwYWxyBWcVrRs7\r\n"
    "        +HPx3K05nJhny2fvymbReAmOA9GTH/y+k9kEc59hAKVg==\r\n"
    "ARC-Message-Signature: i=3; a=rsa-sha256; c=relaxed/relaxed; d=\r\n"
    "        clochette.example.org; h=message-id:date:from:to:subject; s=\r\n"
    "        clochette; t=12345; bh=KWSe46TZKCcDbH4klJPo+tjk5LWJnVRlP5pvjXFZY\r\n"
    "        LQ=; b=o71vwyLsK+Wm4cOSlirXoRwzEvi0vqIjd/2/GkYFYlSd/GGfKzkAgPqxf\r\n"
    "        K7ccBMP7Zjb/mpeggswHjEMS8x5NQ==\r\n"
    "ARC-Authentication-Results: i=3; clochette.example.org; spf=fail\r\n"
    "    smtp.from=jqd@d1.example; dkim=fail (512-bit key)\r\n"
    "    header.i=@d1.example; dmarc=fail; arc=pass (as.2.gmail.example=pass,\r\n"
    "    ams.2.gmail.example=pass, as.1.lists.example.org=pass,\r\n"
    "    ams.1.lists.example.org=fail (message has been altered))\r\n"
    "Authentication-Results: clochette.example.org; spf=fail\r\n"
    "    smtp.from=jqd@d1.example; dkim=fail (512-bit key)\r\n"
    "    header.i=@d1.example; dmarc=fail; arc=pass (as.2.gmail.example=pass,\r\n"
    "    ams.2.gmail.example=pass, as.1.lists.example.org=pass,\r\n"
    "    ams.1.lists.example.org=fail (message has been altered))\r\n"
    "ARC-Seal: i=2; a=rsa-sha256; cv=pass; d=gmail.example; s=20120806; t=\r\n"
    "        12345; b=Zpukh/kJL4Q7Kv391FKwTepgS56dgHIcdhhJZjsalhqkFIQQAJ4T9BE\r\n"
    "        8jjLXWpRNuh81yqnT1/jHn086RwezGw==\r\n"
    "ARC-Message-Signature: i=2; a=rsa-sha256; c=relaxed/relaxed; d=\r\n"
    "        gmail.example; h=message-id:date:from:to:subject; s=20120806; t=\r\n"
    "        12345; bh=KWSe46TZKCcDbH4klJPo+tjk5LWJnVRlP5pvjXFZYLQ=; b=CVoG44\r\n"
    "        cVZvoSs2mMig2wwqPaJ4OZS5XGMCegWqQs1wvRZJS894tJM0xO1RJLgCPsBOxdA5\r\n"
    "        9WSqI9s9DfyKDfWg==\r\n"
    "ARC-Authentication-Results: i=2; gmail.example; spf=fail\r\n"
    "    smtp.from=jqd@d1.example; dkim=fail (512-bit key)\r\n"
    "    header.i=@example.org; dmarc=fail; arc=pass\r\n"
    "    (as.1.lists.example.org=pass, ams.1.lists.example.org=pass)\r\n"
    "ARC-Seal: i=1; a=rsa-sha256; cv=none; d=lists.example.org; s=dk-lists;\r\n"
    "         t=12345; b=TlCCKzgk3TrAa+G77gYYO8Fxk4q/Ml0biqduZJeOYh6+0zhwQ8u/\r\n"
    "        lHxLi21pxu347isLSuNtvIagIvAQna9a5A==\r\n"
    "ARC-Message-Signature: i=1; a=rsa-sha256; c=relaxed/relaxed; d=\r\n"
    "        lists.example.org; h=message-id:date:from:to:subject; s=\r\n"
    "        dk-lists; t=12345; bh=KWSe46TZKCcDbH4klJPo+tjk5LWJnVRlP5pvjXFZYL\r\n"
    "        Q=; b=DsoD3n3hiwlrN1ma8IZQFgZx8EDO7Wah3hUjIEsYKuShRKYB4LwGUiKD5Y\r\n"
    "        yHgcIwGHhSc/4+ewYqHMWDnuFxiQ==\r\n"
    "ARC-Authentication-Results: i=1; lists.example.org; spf=pass\r\n"
    "    smtp.mfrom=jqd@d1.example; dkim=pass (512-bit key)\r\n"
    "    header.i=@d1.example; dmarc=pass\r\n"
    "DKIM-Signature: v=1; a=rsa-sha1; c=relaxed/relaxed; d=d1.example; h=\r\n"
    "        message-id:date:from:to:subject; s=origin2015; bh=bIxxaeIQvmOBdT\r\n"
    "        AitYfSNFgzPP4=; b=qKjd5fYibKXWWIcMKCgRYuo1vJ2fD+IAQPjX+uamXIGY2Q\r\n"
    "        0HjQ+Lq3/yHzG3JHJp6780/nKQPOWt2UDJQrJkEA==\r\n"
    "Message-ID: <54B84785.1060301@d1.example>\r\n"
    "Date: Thu, 14 Jan 2015 15:00:01 -0800\r\n"
    "From: John Q Doe <jqd@d1.example>\r\n"
    "To: arc@dmarc.example\r\n"
    "Subject: [List 2] Example 1\r\n"
    "\r\n"
    "Hey gang,\r\n"
    "This is a test message.\r\n"
    "--J.\r\n";

/* No key of the example is published: every look-up finds none. */
static const struct dkim_key *no_key(void *ctx, const char *sel, const char *dom, bool *temp)
{
    *temp = false;
    (*(unsigned *)ctx)++;
    return NULL;
}

/*
 * What of the example can be checked. Its three sets are collected as a well-formed chain
 * (§5.2 steps 1-4: instances 1..3, cv=none then pass), every field parses, and each
 * ARC-Message-Signature's bh= is the body's relaxed SHA-256 (the body hash needs no key).
 * The signatures themselves cannot be verified: the RFC publishes none of the keys
 * (dk-lists._domainkey.lists.example.org, 20120806._domainkey.gmail.example,
 * clochette._domainkey.clochette.example.org), and every b= is 64 bytes, i.e. made with a
 * 512-bit RSA key, which RFC 8301 §3.2 forbids verifiers to accept; so with no key the chain
 * fails at the newest AMS, as it must.
 */
static void test_rfc8617_example(void **state)
{
    struct mailauth_msg m;
    assert_int_equal(mailauth_msg_split(RFC8617_EXAMPLE, sizeof RFC8617_EXAMPLE - 1, &m), 0);
    struct arc_chain c;
    arc_chain_collect(&m, &c);
    assert_int_equal(c.n, 3);
    assert_int_equal(c.result, ARC_CV_PASS);
    assert_false(c.ended);
    const char *dom[3] = {"lists.example.org", "gmail.example", "clochette.example.org"};
    const char *sel[3] = {"dk-lists", "20120806", "clochette"};
    for (unsigned i = 0; i < 3; i++) {
        const struct arc_set *set = &c.sets[i];
        assert_int_equal(set->seal.cv, i == 0 ? ARC_CV_NONE : ARC_CV_PASS);
        assert_int_equal(set->seal.alg, DKIM_RSA_SHA256);
        assert_string_equal(set->seal.domain, dom[i]);
        assert_string_equal(set->seal.selector, sel[i]);
        assert_int_equal(set->seal.b_len, 64); /* 512 bits */
        assert_string_equal(set->ams_sig.domain, dom[i]);
        assert_string_equal(set->ams_sig.selector, sel[i]);
        const char *why = NULL;
        assert_int_equal(dkim_check_body(&set->ams_sig, &m, &why), DKIM_PASS);
        /* the i=1 list saw DMARC pass; the later hops saw it fail */
        assert_int_equal(arc_aar_dmarc_pass(mailauth_field_value(&m.f[set->aar])), i == 0);
    }
    unsigned lookups = 0;
    bool temp = true;
    const char *why = NULL;
    assert_int_equal(arc_chain_verify(&m, &c, no_key, &lookups, &temp, &why), ARC_CV_FAIL);
    assert_false(temp);
    assert_true(lookups >= 1);
    assert_non_null(why);
    arc_chain_clear(&c);
    mailauth_msg_clear(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_hops_ed25519), cmocka_unit_test(test_two_hops_rsa),
        cmocka_unit_test(test_structure),        cmocka_unit_test(test_aar_and_seal_parse),
        cmocka_unit_test(test_rfc8617_example),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
