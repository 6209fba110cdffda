/* DKIM (src/mailauth): tag lists, canonicalisation (RFC 6376 §3.4.5's example), signatures
 * made and checked with both algorithms, tampering, l=, key records and the pure verifier. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mailauth/canon.h"
#include "mailauth/crypto.h"
#include "mailauth/dkim_int.h"
#include "mailauth/dkim.h"
#include "mailauth/keystore.h"
#include "mailauth/taglist.h"
#include "mailauth/verify.h"
#include "dns/resolver/stub.h"
#include "core/err.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char MSG[] = "From: Joe SixPack <joe@football.example.com>\r\n"
                          "To: Suzie Q <suzie@shopping.example.net>\r\n"
                          "Subject: Is dinner ready?\r\n"
                          "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
                          "Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n"
                          "\r\n"
                          "Hi.\r\n"
                          "\r\n"
                          "We lost the game. Are you hungry yet?\r\n"
                          "\r\n"
                          "Joe.\r\n";

static void test_taglist(void **state)
{
    struct taglist tl;
    const char *err = NULL;
    const char *in = " v=1; a = rsa-sha256 ;\r\n\tb=abc\r\n def; empty=;";
    assert_int_equal(taglist_parse(in, strlen(in), &tl, &err), 0);
    assert_int_equal(tl.n, 4);
    assert_true(slice_eq(taglist_get(&tl, "a")->value, "rsa-sha256"));
    assert_true(slice_eq(taglist_get(&tl, "b")->value, "abc\r\n def"));
    assert_int_equal(taglist_get(&tl, "empty")->value.len, 0);
    assert_null(taglist_get(&tl, "A"));
    const char *bad[] = {"v=1; v=2", "=x", "1a=x", "a", "a=\x01", "", " ; "};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_not_equal(taglist_parse(bad[i], strlen(bad[i]), &tl, &err), 0);
}

/* RFC 6376 §3.4.5. */
static void test_canon_example(void **state)
{
    struct str o = STR_INIT;
    const char *a = "A: X\r\n", *b = "B : Y\t\r\n\tZ  \r\n";
    dkim_canon_header(DKIM_CANON_RELAXED, a, strlen(a), &o);
    dkim_canon_header(DKIM_CANON_RELAXED, b, strlen(b), &o);
    assert_string_equal(o.ptr, "a:X\r\nb:Y Z\r\n");
    str_reset(&o);
    const char *body = " C \r\nD \t E\r\n\r\n\r\n";
    assert_int_equal(dkim_canon_body(DKIM_CANON_RELAXED, body, strlen(body), &o), 9);
    assert_string_equal(o.ptr, " C\r\nD E\r\n");
    str_reset(&o);
    dkim_canon_body(DKIM_CANON_SIMPLE, body, strlen(body), &o);
    assert_string_equal(o.ptr, " C \r\nD \t E\r\n");
    str_reset(&o);
    assert_int_equal(dkim_canon_body(DKIM_CANON_SIMPLE, "", 0, &o), 2); /* one CRLF */
    str_reset(&o);
    assert_int_equal(dkim_canon_body(DKIM_CANON_RELAXED, "\r\n\r\n", 4, &o), 0);
    str_reset(&o);
    dkim_canon_body(DKIM_CANON_RELAXED, "x", 1, &o); /* a CRLF is added */
    assert_string_equal(o.ptr, "x\r\n");
    str_clear(&o);
}

struct signed_msg {
    struct str text;
    struct str record;
};

static void sign_with(enum dkim_alg alg, const char *msg, struct signed_msg *out)
{
    struct str pem = STR_INIT;
    assert_int_equal(dkim_key_generate(alg, &pem), 0);
    struct dkim_signer *s;
    const char *err = NULL;
    assert_int_equal(dkim_signer_new(pem.ptr, pem.len, "Football.Example.com", "brisbane", &s,
                                     &err), 0);
    assert_int_equal(dkim_signer_alg(s), alg);
    str_init(&out->text);
    str_init(&out->record);
    dkim_signer_record(s, &out->record);
    assert_int_equal(dkim_sign(s, msg, strlen(msg), 1700000000, &out->text), 0);
    str_appends(&out->text, msg);
    dkim_signer_free(s);
    str_clear(&pem);
}

/* Verifies m with record as the key of every signature; returns the first result. */
static enum dkim_result verify_with(const char *msg, size_t len, const char *record,
                                    struct dkim_verify_result *r)
{
    struct mailauth_msg m;
    struct dkim_sig sigs[DKIM_MAX_SIGS];
    size_t fields[DKIM_MAX_SIGS];
    assert_int_equal(mailauth_msg_split(msg, len, &m), 0);
    dkim_verify_prepare(&m, 1700000100, r, sigs, fields);
    const char *txt[1] = {record};
    size_t tlen[1] = {record ? strlen(record) : 0};
    for (size_t i = 0; i < r->n; i++)
        if (r->sig[i].result == DKIM_NONE)
            dkim_verify_finish(&m, &sigs[i], fields[i], record ? DNS_STUB_OK : DNS_STUB_NXDOMAIN,
                               txt, tlen, record ? 1 : 0, &r->sig[i]);
    mailauth_msg_clear(&m);
    return r->n ? r->sig[0].result : DKIM_NONE;
}

static void roundtrip(enum dkim_alg alg)
{
    struct signed_msg sm;
    sign_with(alg, MSG, &sm);
    struct dkim_verify_result r;
    assert_int_equal(verify_with(sm.text.ptr, sm.text.len, sm.record.ptr, &r), DKIM_PASS);
    assert_string_equal(r.sig[0].domain, "football.example.com");
    assert_string_equal(r.sig[0].selector, "brisbane");
    struct str flat = STR_INIT; /* the field unfolded */
    for (size_t i = 0; i < sm.text.len; i++)
        if (sm.text.ptr[i] != '\r' && sm.text.ptr[i] != '\n' && sm.text.ptr[i] != '\t')
            str_appendc(&flat, sm.text.ptr[i]);
    assert_non_null(strstr(flat.ptr, "h=from:from:to:to:subject:subject:date:message-id;"));
    str_clear(&flat);

    /* a changed body, a changed header, an added From: fail */
    struct str t = STR_INIT;
    str_append(&t, sm.text.ptr, sm.text.len);
    char *p = strstr(t.ptr, "lost");
    memcpy(p, "won!", 4);
    assert_int_equal(verify_with(t.ptr, t.len, sm.record.ptr, &r), DKIM_FAIL);
    assert_string_equal(r.sig[0].why, "body hash did not verify");
    str_reset(&t);
    str_append(&t, sm.text.ptr, sm.text.len);
    p = strstr(t.ptr, "dinner");
    memcpy(p, "lunch!", 6);
    assert_int_equal(verify_with(t.ptr, t.len, sm.record.ptr, &r), DKIM_FAIL);
    assert_string_equal(r.sig[0].why, "signature did not verify");
    str_reset(&t);
    str_append(&t, sm.text.ptr, sm.text.len);
    str_appends(&t, ""); /* keep */
    struct str t2 = STR_INIT;
    str_appends(&t2, "From: mallory@evil.example\r\n");
    str_append(&t2, t.ptr, t.len);
    assert_int_equal(verify_with(t2.ptr, t2.len, sm.record.ptr, &r), DKIM_FAIL);
    /* relaxed canonicalisation: re-folded headers and trailing spaces still pass */
    str_reset(&t2);
    str_append(&t2, sm.text.ptr, sm.text.len);
    p = strstr(t2.ptr, "Subject: Is");
    memcpy(p, "SUBJECT:\tIs", 11);
    assert_int_equal(verify_with(t2.ptr, t2.len, sm.record.ptr, &r), DKIM_PASS);
    /* no key published, and a revoked key */
    assert_int_equal(verify_with(sm.text.ptr, sm.text.len, NULL, &r), DKIM_PERMERROR);
    assert_int_equal(verify_with(sm.text.ptr, sm.text.len, "v=DKIM1; p=", &r), DKIM_PERMERROR);
    str_clear(&t);
    str_clear(&t2);
    str_clear(&sm.text);
    str_clear(&sm.record);
}

/* The streamed body hash (dkim_hash.c: no copy of the body, SHA-256 fed in pieces) equals
 * the hash of the canonical body built whole, cut or not by l=, over bodies that cross the
 * sink's buffer with short and long lines, blank runs and trailing blank lines. */
static void test_body_hash_streamed(void **state)
{
    struct str body = STR_INIT;
    for (int i = 0; i < 400; i++) {
        str_appendf(&body, "line %d \t with  runs\t \r\n", i);
        if (i % 50 == 0)
            str_appends(&body, " \r\n\r\n\t\r\n");
        if (i % 97 == 0)
            for (int k = 0; k < 1200; k++)
                str_appendc(&body, k % 13 ? 'x' : ' ');
    }
    str_appends(&body, "\r\n\r\n \r\n");
    const uint64_t limits[] = {0, 1, 100, 8191, 8192, 8193, 20000, 1u << 30};
    for (int c = 0; c < 2; c++) {
        struct str canon = STR_INIT;
        size_t n = dkim_canon_body((enum dkim_canon)c, body.ptr, body.len, &canon);
        for (size_t k = 0; k <= sizeof limits / sizeof limits[0]; k++) {
            bool lim = k < sizeof limits / sizeof limits[0];
            struct mailauth_msg m = {.body = body.ptr, .body_len = body.len};
            unsigned char got[32], want[32];
            size_t len;
            dkim_body_hash((enum dkim_canon)c, &m, lim, lim ? limits[k] : 0, got, &len);
            assert_int_equal(len, n);
            mailauth_sha256(canon.ptr, lim && limits[k] < n ? (size_t)limits[k] : n, want);
            assert_memory_equal(got, want, 32);
        }
        str_clear(&canon);
    }
    str_clear(&body);
}

static void test_roundtrip_ed25519(void **state)
{
    roundtrip(DKIM_ED25519_SHA256);
}

static void test_roundtrip_rsa(void **state)
{
    roundtrip(DKIM_RSA_SHA256);
}

/* Two signatures (ed25519 and RSA, as providers sign): both checked, each with its key. */
static void test_two_signatures(void **state)
{
    struct signed_msg a, b;
    sign_with(DKIM_RSA_SHA256, MSG, &a);
    sign_with(DKIM_ED25519_SHA256, a.text.ptr, &b);
    struct dkim_verify_result r;
    verify_with(b.text.ptr, b.text.len, b.record.ptr, &r);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.sig[0].result, DKIM_PASS);
    assert_int_equal(r.sig[1].result, DKIM_PERMERROR); /* ed25519 record for an RSA signature */
    verify_with(b.text.ptr, b.text.len, a.record.ptr, &r);
    assert_int_equal(r.sig[1].result, DKIM_PASS);
    str_clear(&a.text), str_clear(&a.record), str_clear(&b.text), str_clear(&b.record);
}

/* l=: a signature over part of the body is "policy" when more follows, fail past the end. */
static void test_length_limit(void **state)
{
    struct signed_msg sm;
    sign_with(DKIM_ED25519_SHA256, MSG, &sm);
    struct dkim_verify_result r;
    /* Insert l= into the signature: it breaks the signature, so the header half fails; what
     * matters here is the body half, checked alone. */
    struct mailauth_msg m;
    assert_int_equal(mailauth_msg_split(sm.text.ptr, sm.text.len, &m), 0);
    struct dkim_sig sig;
    struct slice v = mailauth_field_value(&m.f[0]);
    const char *err;
    assert_int_equal(dkim_sig_parse(v.p, v.len, &sig, &err), 0);
    assert_int_equal(dkim_check_body(&sig, &m, &err), DKIM_PASS);
    sig.has_l = true;
    sig.l = 5; /* "Hi.\r\n" */
    assert_int_equal(dkim_check_body(&sig, &m, &err), DKIM_FAIL); /* bh is of the whole body */
    sig.l = 100000;
    assert_int_equal(dkim_check_body(&sig, &m, &err), DKIM_FAIL);
    assert_string_equal(err, "l= is longer than the body");
    mailauth_msg_clear(&m);
    (void)r;
    str_clear(&sm.text), str_clear(&sm.record);
}

static void test_sig_parse_errors(void **state)
{
    struct dkim_sig s;
    const char *err;
    const char *bad[] = {
        "v=1; a=rsa-sha1; d=a.b; s=x; h=from; bh=AAAA; b=AAAA",
        "v=2; a=rsa-sha256; d=a.b; s=x; h=from; bh=AAAA; b=AAAA",
        "v=1; a=rsa-sha256; d=a.b; s=x; h=to; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA",
        "v=1; a=rsa-sha256; d=a.b; s=x; h=from; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA; i=@c.d",
        "v=1; a=rsa-sha256; d=a.b; h=from; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(dkim_sig_parse(bad[i], strlen(bad[i]), &s, &err), ERR_PARSE);
    const char *ok = "v=1; a=ed25519-sha256; c=relaxed; d=A.B; s=x; h=From : to; i=joe@sub.a.b;"
                     " bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AA\r\n AA; l=3";
    assert_int_equal(dkim_sig_parse(ok, strlen(ok), &s, &err), 0);
    assert_int_equal(s.hcanon, DKIM_CANON_RELAXED);
    assert_int_equal(s.bcanon, DKIM_CANON_SIMPLE);
    assert_string_equal(s.domain, "a.b");
    assert_int_equal(s.nh, 2);
    assert_string_equal(s.h[1], "to");
    assert_true(s.has_l);
}

static void test_key_records(void **state)
{
    struct dkim_key k;
    const char *err;
    const char *ok = "v=DKIM1; k=ed25519; t=y:s; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
    assert_int_equal(dkim_key_parse(ok, strlen(ok), &k, &err), 0);
    assert_int_equal(k.alg, DKIM_ED25519_SHA256);
    assert_int_equal(k.pub_len, 32);
    assert_true(k.testing && k.strict);
    const char *bad[] = {"k=rsa; v=DKIM1; p=AAAA", "k=dsa; p=AAAA", "h=sha1; p=AAAA",
                         "s=tlsrpt; p=AAAA", "v=DKIM1", "p=!!!!"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_not_equal(dkim_key_parse(bad[i], strlen(bad[i]), &k, &err), 0);
}

/* dkim_keystore_make: a missing key is made (0600, loadable), an existing one never read
 * nor replaced, a name that is not one path component refused. */
static void test_keystore_make(void **state)
{
    char dir[] = "/tmp/pigeon-dkim-XXXXXX";
    assert_non_null(mkdtemp(dir));
    const char *err;
    bool made = false;
    assert_int_equal(dkim_keystore_make(dir, "Ex.Test", "s1", DKIM_ED25519_SHA256, &made, &err),
                     0);
    assert_true(made);
    char path[256];
    snprintf(path, sizeof path, "%s/ex.test/s1.pem", dir);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    struct dkim_signer *s = NULL;
    assert_int_equal(dkim_keystore_load(dir, "ex.test", "s1", DKIM_RSA_SHA256, false, &s, &err),
                     0);
    dkim_signer_free(s);
    FILE *f = fopen(path, "w"); /* not a key: make must leave it alone */
    assert_non_null(f);
    fputs("junk", f);
    fclose(f);
    assert_int_equal(dkim_keystore_make(dir, "ex.test", "s1", DKIM_ED25519_SHA256, &made, &err),
                     0);
    assert_false(made);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_size, 4);
    assert_int_equal(dkim_keystore_make(dir, "../x", "s1", DKIM_ED25519_SHA256, &made, &err),
                     ERR_PARSE);
    unlink(path);
    snprintf(path, sizeof path, "%s/ex.test", dir);
    rmdir(path);
    rmdir(dir);
}

/* The key thread (dkim_keystore_make) and a worker signing (dkim_keystore_load, create) make
 * the same new key at once: both succeed and end with the one key that won (they once wrote
 * one temporary file, DIR/DOMAIN/.new.PID, and the loser failed: its domain went unsigned). */
struct race {
    const char *dir;
    pthread_barrier_t bar;
    int rounds, make_fail;
};

static void *race_maker(void *arg)
{
    struct race *r = arg;
    for (int i = 0; i < r->rounds; i++) {
        char dom[64];
        snprintf(dom, sizeof dom, "d%d.example", i);
        pthread_barrier_wait(&r->bar);
        bool made;
        const char *err;
        if (dkim_keystore_make(r->dir, dom, "sel", DKIM_ED25519_SHA256, &made, &err) != 0)
            r->make_fail++;
        pthread_barrier_wait(&r->bar);
    }
    return NULL;
}

static void test_keystore_make_and_load_race(void **state)
{
    char dir[] = "/tmp/pigeon-dkim-XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct race r = {.dir = dir, .rounds = 60};
    pthread_barrier_init(&r.bar, NULL, 2);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, race_maker, &r), 0);
    int load_fail = 0;
    for (int i = 0; i < r.rounds; i++) {
        char dom[64];
        snprintf(dom, sizeof dom, "d%d.example", i);
        pthread_barrier_wait(&r.bar);
        struct dkim_signer *s = NULL;
        const char *err;
        if (dkim_keystore_load(dir, dom, "sel", DKIM_ED25519_SHA256, true, &s, &err) != 0)
            load_fail++;
        dkim_signer_free(s);
        pthread_barrier_wait(&r.bar);
    }
    pthread_join(t, NULL);
    pthread_barrier_destroy(&r.bar);
    assert_int_equal(load_fail, 0);
    assert_int_equal(r.make_fail, 0);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_taglist),        cmocka_unit_test(test_canon_example),
        cmocka_unit_test(test_body_hash_streamed),
        cmocka_unit_test(test_roundtrip_ed25519), cmocka_unit_test(test_roundtrip_rsa),
        cmocka_unit_test(test_two_signatures), cmocka_unit_test(test_length_limit),
        cmocka_unit_test(test_sig_parse_errors), cmocka_unit_test(test_key_records),
        cmocka_unit_test(test_keystore_make), cmocka_unit_test(test_keystore_make_and_load_race),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
