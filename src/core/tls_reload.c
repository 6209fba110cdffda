#include "core/tls_reload.h"

#include "core/err.h"
#include "core/xmalloc.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <dirent.h>
#include <string.h>
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
    struct tls_pair cur;        /* the default pair */
    struct tls_pair *named;     /* SNI: the pairs of dir, chosen by the name the client asks */
    size_t nnamed;
    char *cert_file, *key_file, *dir;
    char **extra;               /* cert, key, cert, key, ...: services' own pairs (tls_reload_add) */
    size_t nextra;              /* pairs */
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

/* Loads every NAME.crt with its NAME.key in dir (sorted by name). */
static int dir_load(const char *dir, struct tls_pair **out, size_t *n_out, struct str *err)
{
    *out = NULL;
    *n_out = 0;
    if (!dir)
        return 0;
    struct dirent **ents = NULL;
    int n = scandir(dir, &ents, NULL, alphasort);
    if (n < 0) {
        str_appendf(err, "%s: cannot read the directory", dir);
        return ERR_IO;
    }
    int rc = 0;
    struct str c = STR_INIT, k = STR_INIT;
    for (int i = 0; i < n; i++) {
        const char *name = ents[i]->d_name;
        size_t len = strlen(name);
        if (rc == 0 && len > 4 && !strcmp(name + len - 4, ".crt")) {
            str_reset(&c);
            str_reset(&k);
            str_appendf(&c, "%s/%s", dir, name);
            str_appendf(&k, "%s/%.*s.key", dir, (int)(len - 4), name);
            *out = xrealloc(*out, (*n_out + 1) * sizeof **out);
            rc = pair_load(str_cstr(&c), str_cstr(&k), &(*out)[*n_out], err);
            if (rc == 0)
                (*n_out)++;
        }
        free(ents[i]);
    }
    free(ents);
    str_clear(&c);
    str_clear(&k);
    return rc;
}

static void named_free(struct tls_pair *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        pair_clear(&v[i]);
    free(v);
}

/* The pairs chosen by SNI: services' own pairs first (a site's explicit certificate wins),
 * then dir's. */
static int named_load(struct tls_reload *r, struct tls_pair **out, size_t *n_out,
                      struct str *err)
{
    struct tls_pair *dir;
    size_t ndir;
    int rc = dir_load(r->dir, &dir, &ndir, err);
    if (rc < 0)
        return rc;
    *out = xcalloc(r->nextra + ndir + 1, sizeof **out);
    *n_out = 0;
    for (size_t i = 0; i < r->nextra; i++) {
        if ((rc = pair_load(r->extra[2 * i], r->extra[2 * i + 1], &(*out)[i], err)) < 0) {
            named_free(*out, i);
            named_free(dir, ndir);
            return rc;
        }
    }
    if (ndir)
        memcpy(*out + r->nextra, dir, ndir * sizeof *dir);
    free(dir);
    *n_out = r->nextra + ndir;
    return 0;
}

/* Every server handshake: the pair loaded last whose certificate covers the name the client
 * asked for with SNI (names and wildcards, as X509_check_host matches them), else the
 * default pair. */
static int cert_cb(SSL *ssl, void *arg)
{
    struct tls_reload *r = arg;
    const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    pthread_mutex_lock(&r->lock);
    const struct tls_pair *p = &r->cur;
    for (size_t i = 0; sni && i < r->nnamed; i++)
        if (X509_check_host(r->named[i].leaf, sni, 0, 0, NULL) == 1) {
            p = &r->named[i];
            break;
        }
    X509 *leaf = p->leaf;
    EVP_PKEY *key = p->key;
    STACK_OF(X509) *chain = X509_chain_up_ref(p->chain);
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
                                  const char *dir, struct str *err)
{
    struct tls_reload *r = xcalloc(1, sizeof *r);
    pthread_mutex_init(&r->lock, NULL);
    r->cert_file = xstrdup(cert_file);
    r->key_file = xstrdup(key_file);
    r->dir = dir ? xstrdup(dir) : NULL;
    if (pair_load(cert_file, key_file, &r->cur, err) < 0 ||
        dir_load(r->dir, &r->named, &r->nnamed, err) < 0) {
        tls_reload_free(r);
        return NULL;
    }
    SSL_CTX_set_cert_cb(ctx, cert_cb, r);
    return r;
}

int tls_reload_files(struct tls_reload *r, struct str *err)
{
    struct tls_pair fresh, *named;
    size_t nnamed;
    int rc = pair_load(r->cert_file, r->key_file, &fresh, err);
    if (rc < 0)
        return rc;
    if ((rc = named_load(r, &named, &nnamed, err)) < 0) {
        pair_clear(&fresh);
        return rc;
    }
    pthread_mutex_lock(&r->lock);
    struct tls_pair old = r->cur, *old_named = r->named;
    size_t old_n = r->nnamed;
    r->cur = fresh;
    r->named = named;
    r->nnamed = nnamed;
    pthread_mutex_unlock(&r->lock);
    pair_clear(&old); /* handshakes in flight hold their own references */
    named_free(old_named, old_n);
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

int tls_reload_add(struct tls_reload *r, const char *cert_file, const char *key_file,
                   struct str *err)
{
    struct tls_pair p;
    int rc = pair_load(cert_file, key_file, &p, err);
    if (rc < 0)
        return rc;
    r->extra = xrealloc(r->extra, (r->nextra + 1) * 2 * sizeof *r->extra);
    r->extra[2 * r->nextra] = xstrdup(cert_file);
    r->extra[2 * r->nextra + 1] = xstrdup(key_file);
    r->nextra++;
    pthread_mutex_lock(&r->lock);
    r->named = xrealloc(r->named, (r->nnamed + 1) * sizeof *r->named);
    memmove(r->named + r->nextra, r->named + r->nextra - 1,
            (r->nnamed - (r->nextra - 1)) * sizeof *r->named);
    r->named[r->nextra - 1] = p; /* after the other services' pairs, before dir's */
    r->nnamed++;
    pthread_mutex_unlock(&r->lock);
    return 0;
}

void tls_reload_free(struct tls_reload *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < 2 * r->nextra; i++)
        free(r->extra[i]);
    free(r->extra);
    pair_clear(&r->cur);
    named_free(r->named, r->nnamed);
    free(r->dir);
    pthread_mutex_destroy(&r->lock);
    free(r->cert_file);
    free(r->key_file);
    free(r);
}
