/*
 * dkim_sign — signing outgoing mail (RFC 6376 §5) with relaxed/relaxed canonicalisation and
 * no l=, and the per-domain keys behind it (PEM in, DNS record out, generation).
 */
#include "mailauth/dkim.h"

#include "core/err.h"
#include "core/xmalloc.h"
#include "mailauth/crypto.h"
#include "mailauth/dkim_int.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <string.h>

/* §5.4.1's recommended set; From, To and Subject are over-signed. */
static const char *const sign_names[] = {
    "from", "to", "subject", "cc", "reply-to", "date", "message-id", "in-reply-to", "references",
    "mime-version", "content-type", "content-transfer-encoding", "content-disposition",
    "content-id", "content-description", "sender", "resent-date", "resent-from", "resent-to",
    "resent-cc", "resent-sender", "resent-message-id", "list-id", "list-help", "list-unsubscribe",
    "list-unsubscribe-post", "list-subscribe", "list-post", "list-owner", "list-archive"};

static bool oversigned(const char *name)
{
    return !strcmp(name, "from") || !strcmp(name, "to") || !strcmp(name, "subject");
}

int dkim_signer_new(const char *pem, size_t len, const char *domain, const char *selector,
                    struct dkim_signer **out, const char **err_out)
{
    if (strlen(domain) >= sizeof((struct dkim_signer *)0)->domain ||
        strlen(selector) >= sizeof((struct dkim_signer *)0)->selector) {
        *err_out = "domain or selector too long";
        return ERR_RANGE;
    }
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *pk = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (!pk) {
        *err_out = "not a PEM private key";
        return ERR_PARSE;
    }
    int id = EVP_PKEY_get_base_id(pk), bits = EVP_PKEY_get_bits(pk);
    if (id != EVP_PKEY_ED25519 && (id != EVP_PKEY_RSA || bits < 1024 || bits > 8192)) {
        EVP_PKEY_free(pk);
        *err_out = "the key must be Ed25519 or RSA of 1024 to 8192 bits";
        return ERR_RANGE;
    }
    struct dkim_signer *s = xcalloc(1, sizeof *s);
    s->pk = pk;
    s->alg = id == EVP_PKEY_ED25519 ? DKIM_ED25519_SHA256 : DKIM_RSA_SHA256;
    snprintf(s->domain, sizeof s->domain, "%s", domain);
    snprintf(s->selector, sizeof s->selector, "%s", selector);
    ascii_lower(s->domain, strlen(s->domain));
    *out = s;
    return 0;
}

void dkim_signer_free(struct dkim_signer *s)
{
    if (!s)
        return;
    EVP_PKEY_free(s->pk);
    free(s);
}

enum dkim_alg dkim_signer_alg(const struct dkim_signer *s)
{
    return s->alg;
}

void dkim_signer_record(const struct dkim_signer *s, struct str *out)
{
    unsigned char raw[32], *der = NULL;
    str_appendf(out, "v=DKIM1; k=%s; p=", s->alg == DKIM_ED25519_SHA256 ? "ed25519" : "rsa");
    if (s->alg == DKIM_ED25519_SHA256) {
        size_t n = sizeof raw;
        if (EVP_PKEY_get_raw_public_key(s->pk, raw, &n) == 1)
            mailauth_b64_append(raw, n, out);
        return;
    }
    int n = i2d_PUBKEY(s->pk, &der);
    if (n > 0)
        mailauth_b64_append(der, (size_t)n, out);
    OPENSSL_free(der);
}

int dkim_key_generate(enum dkim_alg alg, struct str *pem_out)
{
    EVP_PKEY *pk = alg == DKIM_ED25519_SHA256 ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")
                                              : EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    BIO *bio = BIO_new(BIO_s_mem());
    int rc = ERR_IO;
    if (pk && bio && PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL) == 1) {
        char *p;
        long n = BIO_get_mem_data(bio, &p);
        str_append(pem_out, p, (size_t)n);
        rc = 0;
    }
    BIO_free(bio);
    EVP_PKEY_free(pk);
    return rc;
}

/* The h= list for m: present fields of sign_names, over-signed ones once more. */
size_t dkim_pick_names(const struct mailauth_msg *m, char (*names)[80])
{
    size_t n = 0;
    for (size_t k = 0; k < sizeof sign_names / sizeof sign_names[0]; k++) {
        size_t count = oversigned(sign_names[k]) ? 1 : 0;
        for (size_t i = 0; i < m->nf; i++)
            count += mailauth_field_is(&m->f[i], sign_names[k]);
        for (; count > 0 && n < DKIM_MAX_H; count--)
            snprintf(names[n++], sizeof names[0], "%s", sign_names[k]);
    }
    return n;
}

void dkim_fold_append(struct str *f, size_t *col, const char *text)
{
    size_t n = strlen(text);
    if (*col + n > 76) {
        str_append(f, "\r\n\t", 3);
        *col = 1;
    }
    str_append(f, text, n);
    *col += n;
}

static void head_fields(const struct dkim_signer *s, const struct mailauth_msg *m, int64_t now,
                        const unsigned char bh[32], struct str *f, char (*names)[80], size_t nn)
{
    char tmp[300];
    size_t col = 0;
    str_appendf(f, "DKIM-Signature: v=1; a=%s; c=relaxed/relaxed;",
                s->alg == DKIM_ED25519_SHA256 ? "ed25519-sha256" : "rsa-sha256");
    col = f->len;
    snprintf(tmp, sizeof tmp, " d=%s;", s->domain);
    dkim_fold_append(f, &col, tmp);
    snprintf(tmp, sizeof tmp, " s=%s;", s->selector);
    dkim_fold_append(f, &col, tmp);
    snprintf(tmp, sizeof tmp, " t=%lld;", (long long)now);
    dkim_fold_append(f, &col, tmp);
    for (size_t i = 0; i < nn; i++) {
        snprintf(tmp, sizeof tmp, "%s%s%s", i == 0 ? " h=" : "", names[i],
                 i + 1 < nn ? ":" : ";");
        dkim_fold_append(f, &col, tmp);
    }
    struct str b = STR_INIT;
    str_appends(&b, " bh=");
    mailauth_b64_append(bh, 32, &b);
    str_appendc(&b, ';');
    dkim_fold_append(f, &col, b.ptr);
    str_clear(&b);
    dkim_fold_append(f, &col, " b=");
}

int dkim_sign_msg(const struct dkim_signer *s, const struct mailauth_msg *m, int64_t now,
                  struct str *out)
{
    char (*names)[80] = xcalloc(DKIM_MAX_H, sizeof *names);
    size_t nn = dkim_pick_names(m, names);
    unsigned char bh[32];
    size_t blen;
    dkim_body_hash(DKIM_CANON_RELAXED, m, false, 0, bh, &blen);
    struct str f = STR_INIT, in = STR_INIT, sig = STR_INIT;
    head_fields(s, m, now, bh, &f, names, nn);
    dkim_header_input(DKIM_CANON_RELAXED, (const char(*)[80])names, nn, m, m->nf, f.ptr, f.len,
                      &in);
    int rc = mailauth_sign(s->pk, s->alg, in.ptr, in.len, &sig);
    if (rc == 0) {
        str_append(out, f.ptr, f.len);
        for (size_t i = 0; i < sig.len; i += 64) { /* folded; b= is blanked whole (§3.7) */
            if (i)
                str_append(out, "\r\n\t", 3);
            str_append(out, sig.ptr + i, sig.len - i < 64 ? sig.len - i : 64);
        }
        str_append(out, "\r\n", 2);
    }
    str_clear(&f);
    str_clear(&in);
    str_clear(&sig);
    free(names);
    return rc;
}

int dkim_sign(const struct dkim_signer *s, const char *msg, size_t len, int64_t now,
              struct str *out)
{
    struct mailauth_msg m;
    int rc = mailauth_msg_split(msg, len, &m);
    if (rc)
        return rc;
    rc = dkim_sign_msg(s, &m, now, out);
    mailauth_msg_clear(&m);
    return rc;
}
