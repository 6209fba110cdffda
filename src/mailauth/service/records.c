/*
 * records — a local domain's mail records under a configuration (see records.h).
 */
#include "mailauth/service/records.h"

#include "conf/config.h"
#include "core/err.h"
#include "core/tls.h"
#include "mailauth/dkim_rotate.h"
#include "mailauth/keystore.h"
#include "mailauth/mailrec.h"
#include "mailauth/mtasts.h"
#include "mailauth/service/service.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mailauth_sts_policy(const struct config *cfg, struct str *out)
{
    const struct config_mta_sts *m = mailauth_sts_config(cfg);
    if (m->mode != MTASTS_NONE)
        mtasts_policy_text((enum mtasts_mode)m->mode, m->mx ? m->mx : cfg->hostname, m->max_age,
                           out);
}

int mailauth_cert_spki_sha256(const struct config *cfg, uint8_t out[32], const char **err_out)
{
    char dir[4200], path[4300];
    const char *cert = cfg->tls_cert;
    if (!cert) {
        struct str err = STR_INIT;
        snprintf(dir, sizeof dir, "%s/tls", cfg->data_dir);
        int rc = tls_selfsigned_ensure(dir, cfg->hostname, &err);
        str_clear(&err);
        if (rc < 0)
            return *err_out = "cannot make the self-signed certificate", ERR_IO;
        snprintf(path, sizeof path, "%s/cert.pem", dir);
        cert = path;
    }
    FILE *f = fopen(cert, "r");
    X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    if (!x)
        return *err_out = "cannot read the server's certificate", ERR_IO;
    unsigned char *der = NULL;
    int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
    unsigned mdlen = 0;
    if (n > 0)
        EVP_Digest(der, (size_t)n, out, &mdlen, EVP_sha256(), NULL);
    OPENSSL_free(der);
    X509_free(x);
    return mdlen == 32 ? 0 : (*err_out = "cannot hash the certificate's key", ERR_IO);
}

/* The SHA-256 of the SubjectPublicKeyInfo in the PEM file at path: a certificate, a public
 * key or a private key (what an administrator has of the next certificate's key). */
static int next_spki_sha256(const char *path, uint8_t out[32], const char **err_out)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return *err_out = "cannot read [mail_dns] tlsa_next_key", ERR_IO;
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    EVP_PKEY *pk = x ? X509_get_pubkey(x) : NULL;
    if (!pk) {
        rewind(f);
        pk = PEM_read_PUBKEY(f, NULL, NULL, NULL);
    }
    if (!pk) {
        rewind(f);
        pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    }
    fclose(f);
    X509_free(x);
    unsigned char *der = NULL;
    int n = pk ? i2d_PUBKEY(pk, &der) : 0;
    unsigned mdlen = 0;
    if (n > 0)
        EVP_Digest(der, (size_t)n, out, &mdlen, EVP_sha256(), NULL);
    OPENSSL_free(der);
    EVP_PKEY_free(pk);
    return mdlen == 32 ? 0 : (*err_out = "[mail_dns] tlsa_next_key holds no key", ERR_PARSE);
}

/* The first listen port of a declared service section ([submission], [imaps] ...), or 0. */
static unsigned listen_port(const struct config *cfg, const char *section)
{
    for (unsigned i = 0; i < cfg->nsec; i++) {
        const struct conf_section *def = cfg->sec_defs[i];
        if (strcmp(def->name, section) != 0 || def->service_offset == CONF_NOT_SERVICE)
            continue;
        const struct conf_service *svc =
            (const struct conf_service *)((const char *)cfg->sec_data[i] + def->service_offset);
        return svc->enabled && svc->n_listen ? (unsigned)atoi(svc->listen[0].port) : 0;
    }
    return 0;
}

struct dkim_texts {
    struct str txt[DKIM_SELS_MAX];
};

/* The DKIM part of p: every published selector's record, the withdrawn ones as such. */
static int dkim_params(const struct config *cfg, const char *domain, bool create,
                       struct dkim_sels *sels, struct dkim_texts *t, struct mailrec_params *p,
                       const char **err_out)
{
    const struct config_dkim *k = mailauth_config(cfg);
    int rc = dkim_keystore_sels_load(k->key_dir, domain, k->selector, sels, err_out);
    for (size_t i = 0; rc == 0 && i < sels->n; i++) {
        const struct dkim_sel *e = &sels->s[i];
        if (e->state == DKIM_SEL_WITHDRAWN) {
            if (p->ngone < sizeof p->dkim_gone / sizeof p->dkim_gone[0])
                p->dkim_gone[p->ngone++] = e->name;
            continue;
        }
        struct dkim_signer *s;
        rc = dkim_keystore_load(k->key_dir, domain, e->name, (enum dkim_alg)k->algorithm,
                                create && e->state == DKIM_SEL_ACTIVE, &s, err_out);
        if (rc != 0)
            break;
        dkim_signer_record(s, &t->txt[p->ndkim]);
        dkim_signer_free(s);
        p->dkim_sel[p->ndkim] = e->name;
        p->dkim_txt[p->ndkim] = t->txt[p->ndkim].ptr;
        if (++p->ndkim == sizeof p->dkim_sel / sizeof p->dkim_sel[0])
            break;
    }
    return rc;
}

static void srv_params(const struct config *cfg, struct mailrec_params *p)
{
    static const char *const services[] = {"submission", "submissions", "imap",
                                           "imaps",      "pop3",        "pop3s"};
    if (!mailauth_dns_config(cfg)->srv)
        return;
    for (size_t i = 0; i < sizeof services / sizeof services[0]; i++) {
        p->srv[p->nsrv].service = services[i];
        p->srv[p->nsrv++].port = listen_port(cfg, services[i]);
    }
}

int mailauth_records(const struct config *cfg, const char *domain, bool create_keys, bool tlsa,
                     struct mailrec_set *out, const char **err_out)
{
    const struct config_mail_dns *m = mailauth_dns_config(cfg);
    struct mailrec_params p = {.domain = domain, .mx_host = cfg->hostname, .ttl = m->ttl,
                               .spf = m->spf, .dmarc = m->dmarc};
    struct dkim_sels sels;
    struct dkim_texts t;
    for (size_t i = 0; i < DKIM_SELS_MAX; i++)
        str_init(&t.txt[i]);
    struct str policy = STR_INIT, rpt = STR_INIT;
    char id[33];
    uint8_t digest[2][32];
    int rc = dkim_params(cfg, domain, create_keys, &sels, &t, &p, err_out);
    mailauth_sts_policy(cfg, &policy);
    if (policy.len) {
        mtasts_policy_id(policy.ptr, policy.len, id);
        p.sts_id = id;
    }
    if (m->tlsrpt_rua)
        str_appendf(&rpt, "v=TLSRPTv1; rua=%s", m->tlsrpt_rua);
    else
        str_appendf(&rpt, "v=TLSRPTv1; rua=mailto:postmaster@%s", domain);
    p.tlsrpt = rpt.ptr;
    if (rc == 0 && tlsa && (rc = mailauth_cert_spki_sha256(cfg, digest[0], err_out)) == 0)
        p.tlsa = (const uint8_t(*)[32])digest, p.ntlsa = 1;
    /* RFC 7671 §8.1 key roll-over: the next key's 3 1 1 is published beside the current one
     * before the certificate changes, so the TLSA RRset matches across the switch. */
    if (rc == 0 && tlsa && m->tlsa_next_key &&
        (rc = next_spki_sha256(m->tlsa_next_key, digest[1], err_out)) == 0 &&
        memcmp(digest[0], digest[1], 32) != 0)
        p.ntlsa = 2;
    srv_params(cfg, &p);
    if (rc == 0 && mailrec_build(&p, out) != 0)
        rc = ERR_PARSE, *err_out = "a name is too long for DNS";
    for (size_t i = 0; i < DKIM_SELS_MAX; i++)
        str_clear(&t.txt[i]);
    str_clear(&policy);
    str_clear(&rpt);
    return rc;
}
