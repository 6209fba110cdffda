#include "core/tls.h"

#include "core/err.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void ssl_error(struct str *err, const char *what)
{
    char buf[256];
    unsigned long e = ERR_get_error();
    ERR_error_string_n(e, buf, sizeof buf);
    str_appendf(err, "%s: %s", what, e ? buf : "unknown OpenSSL error");
    ERR_clear_error();
}

static X509 *make_cert(EVP_PKEY *key, const char *hostname)
{
    X509 *x = X509_new();
    if (!x)
        return NULL;
    unsigned char serial[16];
    FILE *r = fopen("/dev/urandom", "rb");
    if (!r || fread(serial, 1, sizeof serial, r) != sizeof serial) {
        if (r)
            fclose(r);
        X509_free(x);
        return NULL;
    }
    fclose(r);
    serial[0] &= 0x7f;
    BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
    BN_free(bn);
    X509_set_version(x, 2);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 10L * 365 * 24 * 3600);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)hostname, -1, -1,
                               0);
    X509_set_issuer_name(x, name);
    char san[300];
    snprintf(san, sizeof san, "DNS:%s", hostname);
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
    if (ext) {
        X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
    }
    if (!X509_sign(x, key, EVP_sha256())) {
        X509_free(x);
        return NULL;
    }
    return x;
}

/* Writes PEM through a temp file and rename, so a crash never leaves half a key. */
static int write_pem(const char *path, int mode, EVP_PKEY *key, X509 *cert)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0)
        return ERR_IO;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        return ERR_IO;
    }
    int ok = key ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)
                 : PEM_write_X509(f, cert);
    ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
    if (fclose(f) != 0)
        ok = 0;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return ERR_IO;
    }
    return 0;
}

int tls_selfsigned_ensure(const char *dir, const char *hostname, struct str *err)
{
    char cert_path[4096], key_path[4096];
    snprintf(cert_path, sizeof cert_path, "%s/cert.pem", dir);
    snprintf(key_path, sizeof key_path, "%s/key.pem", dir);
    if (access(cert_path, R_OK) == 0 && access(key_path, R_OK) == 0)
        return 0;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        str_appendf(err, "%s: %s", dir, strerror(errno));
        return ERR_IO;
    }
    EVP_PKEY *key = EVP_EC_gen("P-256");
    if (!key) {
        ssl_error(err, "generating TLS key");
        return ERR_TLS;
    }
    X509 *cert = make_cert(key, hostname);
    int rc = ERR_TLS;
    if (!cert) {
        ssl_error(err, "making self-signed certificate");
    } else if (write_pem(key_path, 0600, key, NULL) < 0 ||
               write_pem(cert_path, 0644, NULL, cert) < 0) {
        str_appendf(err, "%s: cannot write certificate or key: %s", dir, strerror(errno));
        rc = ERR_IO;
    } else {
        rc = 0;
    }
    X509_free(cert);
    EVP_PKEY_free(key);
    return rc;
}

SSL_CTX *tls_server_ctx_new(const char *cert_file, const char *key_file, struct str *err)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        ssl_error(err, "SSL_CTX_new");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    /* TLS 1.2: forward-secret AEAD suites only (TLS 1.3's defaults are all such). */
    SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20");
    /* X25519 first: the cheapest key exchange for the server, what clients offer first. */
    SSL_CTX_set1_groups_list(ctx, "X25519:P-256:X448:P-384:P-521");
    /* Resumption: TLS 1.3 tickets and TLS 1.2 session ids from the context's shared cache
     * (one context serves every worker, so a session resumes on any); the id context keeps
     * sessions of this server apart from those of any other context in the process. */
    static const unsigned char sid_ctx[] = "pigeon";
    SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof sid_ctx - 1);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    SSL_CTX_sess_set_cache_size(ctx, 20000);
    SSL_CTX_set_timeout(ctx, 3600);
    /* An idle connection gives its read and write buffers (about 34 KiB) back. */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
        ssl_error(err, cert_file);
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        ssl_error(err, key_file);
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}
