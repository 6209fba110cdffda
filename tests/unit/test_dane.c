/* DANE for SMTP (src/queue/dane.c, RFC 7672): which TLSA records are used, and OpenSSL's
 * DANE matching of a certificate through dane_ssl_setup in a real handshake over a socket
 * pair. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "queue/dane.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct dns_stub_rdata rd(const uint8_t *p, size_t n)
{
    return (struct dns_stub_rdata){p, (uint16_t)n};
}

static void test_usable(void **state)
{
    uint8_t ee311[35] = {3, 1, 1}, ta201[35] = {2, 0, 1}, pkix[35] = {1, 1, 1},
            shortd[20] = {3, 1, 1}, badsel[35] = {3, 2, 1}, sha512[67] = {3, 1, 2},
            full[100] = {3, 0, 0};
    struct dns_stub_rdata rr[] = {rd(ee311, 35), rd(ta201, 35), rd(pkix, 35), rd(shortd, 20),
                                  rd(badsel, 35), rd(sha512, 67), rd(full, 100)};
    struct dane_tlsa t[DANE_MAX];
    size_t n;
    assert_int_equal(dane_usable(rr, 7, t, &n), DANE_VERIFY);
    assert_int_equal(n, 4); /* 3 1 1, 2 0 1, 3 1 2, 3 0 0 */
    assert_int_equal(t[1].usage, 2);
    assert_int_equal(t[2].len, 64);
    assert_int_equal(t[3].len, 97);
    dane_tlsa_clear(t, n);
    assert_int_equal(dane_usable(&rr[2], 3, t, &n), DANE_TLS_ONLY); /* §2.2 */
    assert_int_equal(n, 0);
}

/* A self-signed EC certificate and its key. */
static void make_cert(EVP_PKEY **key, X509 **cert)
{
    *key = EVP_EC_gen("P-256");
    *cert = X509_new();
    X509_set_version(*cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(*cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(*cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(*cert), 3600);
    X509_set_pubkey(*cert, *key);
    X509_NAME *nm = X509_get_subject_name(*cert);
    X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)"mx.example", -1,
                               -1, 0);
    X509_set_issuer_name(*cert, nm);
    X509_sign(*cert, *key, EVP_sha256());
}

/* One handshake of a DANE client against a server with cert; true when it succeeds. */
static bool handshake(EVP_PKEY *key, X509 *cert, const uint8_t *digest)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    SSL_CTX *sctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate(sctx, cert);
    SSL_CTX_use_PrivateKey(sctx, key);
    SSL_CTX *cctx = dane_ctx_new();
    assert_non_null(cctx);
    SSL *s = SSL_new(sctx), *c = SSL_new(cctx);
    SSL_set_fd(s, sv[0]);
    SSL_set_fd(c, sv[1]);
    struct dane_tlsa t = {3, 1, 1, 32, (uint8_t *)digest};
    assert_int_equal(dane_ssl_setup(c, "mx.example", &t, 1), 0);
    SSL_set_connect_state(c);
    SSL_set_accept_state(s);
    /* both ends on one thread: alternate until both finish or one fails */
    int cr = 0, sr = 0;
    for (int i = 0; i < 50 && (cr != 1 || sr != 1); i++) {
        if (cr != 1) {
            cr = SSL_do_handshake(c);
            if (cr <= 0 && SSL_get_error(c, cr) != SSL_ERROR_WANT_READ)
                break;
        }
        if (sr != 1) {
            sr = SSL_do_handshake(s);
            if (sr <= 0 && SSL_get_error(s, sr) != SSL_ERROR_WANT_READ)
                break;
        }
    }
    bool ok = cr == 1 && SSL_get_verify_result(c) == X509_V_OK && dane_matched_usage(c) == 3;
    SSL_free(c);
    SSL_free(s);
    SSL_CTX_free(cctx);
    SSL_CTX_free(sctx);
    close(sv[0]);
    close(sv[1]);
    return ok;
}

static void test_match(void **state)
{
    EVP_PKEY *key;
    X509 *cert;
    make_cert(&key, &cert);
    unsigned char *der = NULL, md[32];
    unsigned mdlen;
    int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
    EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL);
    OPENSSL_free(der);
    assert_true(handshake(key, cert, md));
    md[0] ^= 1;
    assert_false(handshake(key, cert, md)); /* another key: the handshake fails */
    X509_free(cert);
    EVP_PKEY_free(key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usable),
        cmocka_unit_test(test_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
