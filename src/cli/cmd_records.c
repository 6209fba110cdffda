/*
 * cmd_records — `pigeon domain records DOMAIN`: the DNS records a mail domain served by this
 * pigeond needs, in master-file form, for an administrator whose zone is hosted elsewhere
 * (or for Pigeon's own [zone] files): MX, SPF, the DKIM selector (the key is made when
 * missing, as pigeond would on first use), DMARC, TLSA 3 1 1 for the MX (DANE, RFC 7672,
 * from the server's certificate, made when missing) and the SRV records of RFC 6186/8314 for
 * the services this configuration listens on. Blocks on small file I/O.
 */
#include "cli/cli.h"

#include "core/err.h"
#include "core/str.h"
#include "core/tls.h"
#include "mailauth/keystore.h"
#include "mailauth/service/service.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TTL 3600

/* One TXT record: the text split into <character-string>s of at most 255 octets. */
static void print_txt(const char *owner, const char *text)
{
    printf("%-40s %d IN TXT   ", owner, TTL);
    size_t n = strlen(text);
    for (size_t i = 0; i < n; i += 250)
        printf("%s\"%.*s\"", i ? " " : "", (int)(n - i < 250 ? n - i : 250), text + i);
    printf("\n");
}

static int print_dkim(struct cli_ctx *ctx, const char *domain)
{
    const struct config_dkim *k = mailauth_config(&ctx->cfg);
    struct dkim_signer *s;
    const char *why;
    if (dkim_keystore_load(k->key_dir, domain, k->selector, (enum dkim_alg)k->algorithm, true,
                           &s, &why) != 0)
        return cli_fail("no DKIM key for %s: %s", domain, why);
    struct str rec = STR_INIT, owner = STR_INIT;
    dkim_signer_record(s, &rec);
    str_appendf(&owner, "%s._domainkey.%s.", k->selector, domain);
    print_txt(owner.ptr, rec.ptr);
    str_clear(&rec);
    str_clear(&owner);
    dkim_signer_free(s);
    return 0;
}

/* "3 1 1": SHA-256 of the certificate's SubjectPublicKeyInfo (RFC 7671 §5.1: DANE-EE). */
static int print_tlsa(struct cli_ctx *ctx)
{
    const struct config *cfg = &ctx->cfg;
    char dir[4200], path[4300];
    const char *cert = cfg->tls_cert;
    if (!cert) {
        struct str err = STR_INIT;
        snprintf(dir, sizeof dir, "%s/tls", cfg->data_dir);
        int rc = tls_selfsigned_ensure(dir, cfg->hostname, &err);
        str_clear(&err);
        if (rc < 0)
            return cli_fail("cannot make the TLS certificate in %s", dir);
        snprintf(path, sizeof path, "%s/cert.pem", dir);
        cert = path;
    }
    FILE *f = fopen(cert, "r");
    X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    if (!x)
        return cli_fail("cannot read the certificate %s", cert);
    unsigned char *der = NULL, md[32];
    int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
    unsigned mdlen = 0;
    if (n > 0)
        EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL);
    OPENSSL_free(der);
    X509_free(x);
    if (mdlen != 32)
        return cli_fail("cannot hash the certificate's key");
    char owner[300];
    snprintf(owner, sizeof owner, "_25._tcp.%s.", cfg->hostname);
    printf("%-40s %d IN TLSA  3 1 1 ", owner, TTL);
    for (int i = 0; i < 32; i++)
        printf("%02x", md[i]);
    printf("\n");
    return 0;
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

/* RFC 6186 §3 / RFC 8314 §5.1: one SRV per service; target "." when it is not offered. */
static void print_srv(const char *domain, const char *host, const char *svc, unsigned port)
{
    char owner[300];
    snprintf(owner, sizeof owner, "_%s._tcp.%s.", svc, domain);
    if (port)
        printf("%-40s %d IN SRV   0 1 %u %s.\n", owner, TTL, port, host);
    else
        printf("%-40s %d IN SRV   0 0 0 .\n", owner, TTL);
}

int cli_domain_records(struct cli_ctx *ctx, int argc, char **argv)
{
    char domain[256];
    if (cli_domain_name(argv[0], domain, sizeof domain) != 0 || cli_ctx_config(ctx) != 0)
        return CLI_FAIL;
    const struct config *cfg = &ctx->cfg;
    char owner[300], text[600];
    printf("; Mail records for %s, served by %s. %s needs A/AAAA records of this server.\n",
           domain, cfg->hostname, cfg->hostname);
    snprintf(owner, sizeof owner, "%s.", domain);
    printf("%-40s %d IN MX    10 %s.\n", owner, TTL, cfg->hostname);
    print_txt(owner, "v=spf1 mx -all");
    if (print_dkim(ctx, domain) != 0)
        return CLI_FAIL;
    snprintf(owner, sizeof owner, "_dmarc.%s.", domain);
    snprintf(text, sizeof text, "v=DMARC1; p=reject; adkim=r; aspf=r");
    print_txt(owner, text);
    if (print_tlsa(ctx) != 0)
        return CLI_FAIL;
    print_srv(domain, cfg->hostname, "submission", listen_port(cfg, "submission"));
    print_srv(domain, cfg->hostname, "submissions", listen_port(cfg, "submissions"));
    print_srv(domain, cfg->hostname, "imap", listen_port(cfg, "imap"));
    print_srv(domain, cfg->hostname, "imaps", listen_port(cfg, "imaps"));
    print_srv(domain, cfg->hostname, "pop3", listen_port(cfg, "pop3"));
    print_srv(domain, cfg->hostname, "pop3s", listen_port(cfg, "pop3s"));
    return CLI_OK;
}
