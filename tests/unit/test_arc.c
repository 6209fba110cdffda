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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_hops_ed25519),
        cmocka_unit_test(test_two_hops_rsa),
        cmocka_unit_test(test_structure),
        cmocka_unit_test(test_aar_and_seal_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
