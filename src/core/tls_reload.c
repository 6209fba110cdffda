#include "core/tls_reload.h"

#include "core/err.h"
#include "core/xmalloc.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

struct tls_pair {
    X509 *leaf;
    STACK_OF(X509) *chain;
    EVP_PKEY *key;
};

struct tls_reload {
    pthread_mutex_t lock;
    struct tls_pair cur;
    char *cert_file, *key_file;
};

static void pair_clear(struct tls_pair *p)
{
    X509_free(p->leaf);
    sk_X509_pop_free(p->chain, X509_free);
    EVP_PKEY_free(p->key);
    *p = (struct tls_pair){0};
}

static void ssl_reason(struct str *err, const char *what, const char *file)
{
    unsigned long e = ERR_get_error();
    char buf[256] = "unknown error";
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    str_appendf(err, "%s: %s: %s", file, what, buf);
}

static int pair_load(const char *cert_file, const char *key_file, struct tls_pair *out,
                     struct str *err)
{
    *out = (struct tls_pair){0};
    FILE *f = fopen(cert_file, "r");
    if (!f) {
        str_appendf(err, "%s: cannot open", cert_file);
        return ERR_IO;
    }
    out->leaf = PEM_read_X509(f, NULL, NULL, NULL);
    out->chain = sk_X509_new_null();
    X509 *x;
    while (out->leaf && (x = PEM_read_X509(f, NULL, NULL, NULL)))
        sk_X509_push(out->chain, x);
    ERR_clear_error(); /* the end of the file reads as an error */
    fclose(f);
    if (!out->leaf) {
        str_appendf(err, "%s: no PEM certificate", cert_file);
        pair_clear(out);
        return ERR_PARSE;
    }
    f = fopen(key_file, "r");
    out->key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    if (!out->key) {
        ssl_reason(err, "cannot read the private key", key_file);
        pair_clear(out);
        return ERR_PARSE;
    }
    if (X509_check_private_key(out->leaf, out->key) != 1) {
        ssl_reason(err, "the key does not match the certificate", key_file);
        pair_clear(out);
        return ERR_PARSE;
    }
    return 0;
}

/* Every server handshake: use the pair loaded last (override what the SSL_CTX had). */
static int cert_cb(SSL *ssl, void *arg)
{
    struct tls_reload *r = arg;
    pthread_mutex_lock(&r->lock);
    X509 *leaf = r->cur.leaf;
    EVP_PKEY *key = r->cur.key;
    STACK_OF(X509) *chain = X509_chain_up_ref(r->cur.chain);
    X509_up_ref(leaf);
    EVP_PKEY_up_ref(key);
    pthread_mutex_unlock(&r->lock);
    int ok = SSL_use_cert_and_key(ssl, leaf, key, chain, 1);
    X509_free(leaf);
    EVP_PKEY_free(key);
    sk_X509_pop_free(chain, X509_free);
    return ok == 1 ? 1 : 0;
}

struct tls_reload *tls_reload_new(SSL_CTX *ctx, const char *cert_file, const char *key_file,
                                  struct str *err)
{
    struct tls_reload *r = xcalloc(1, sizeof *r);
    pthread_mutex_init(&r->lock, NULL);
    r->cert_file = xstrdup(cert_file);
    r->key_file = xstrdup(key_file);
    if (pair_load(cert_file, key_file, &r->cur, err) < 0) {
        tls_reload_free(r);
        return NULL;
    }
    SSL_CTX_set_cert_cb(ctx, cert_cb, r);
    return r;
}

int tls_reload_files(struct tls_reload *r, struct str *err)
{
    struct tls_pair fresh;
    int rc = pair_load(r->cert_file, r->key_file, &fresh, err);
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&r->lock);
    struct tls_pair old = r->cur;
    r->cur = fresh;
    pthread_mutex_unlock(&r->lock);
    pair_clear(&old); /* handshakes in flight hold their own references */
    return 0;
}

void tls_reload_fingerprint(struct tls_reload *r, char *out, size_t cap)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    pthread_mutex_lock(&r->lock);
    X509_digest(r->cur.leaf, EVP_sha256(), md, &n);
    pthread_mutex_unlock(&r->lock);
    size_t o = 0;
    for (unsigned i = 0; i < n && o + 3 < cap; i++)
        o += (size_t)snprintf(out + o, cap - o, "%s%02X", i ? ":" : "", md[i]);
    if (cap)
        out[o < cap ? o : cap - 1] = '\0';
}

void tls_reload_free(struct tls_reload *r)
{
    if (!r)
        return;
    pair_clear(&r->cur);
    pthread_mutex_destroy(&r->lock);
    free(r->cert_file);
    free(r->key_file);
    free(r);
}
