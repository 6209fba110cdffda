/*
 * cmd_dkim — `pigeon domain dkim rotate|status DOMAIN`: starts a DKIM key rotation (a new
 * key under a new selector, listed as "next" in DIR/DOMAIN/selectors; pigeond publishes it
 * and moves it on, mailauth/dkim_rotate.h), or prints the selectors with their state. Blocks
 * on small file I/O and, for an RSA key, key generation.
 */
#include "cli/cli.h"

#include "core/err.h"
#include "mailauth/dkim_rotate.h"
#include "mailauth/keystore.h"
#include "mailauth/service/service.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static int status(const struct config_dkim *k, const char *domain, const struct dkim_sels *s)
{
    for (size_t i = 0; i < s->n; i++) {
        const struct dkim_sel *e = &s->s[i];
        long long at = e->since;
        const char *then = "";
        if (e->state == DKIM_SEL_NEXT)
            at += k->switch_after, then = "signing from";
        else if (e->state == DKIM_SEL_RETIRED)
            at += k->retire_after, then = "withdrawn at";
        else
            then = "since";
        printf("%-40s %-9s %s %lld\n", e->name, dkim_sel_state_name(e->state), then, at);
    }
    return CLI_OK;
}

static int rotate(const struct config_dkim *k, const char *domain, struct dkim_sels *s)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char name[64], stamp[20];
    strftime(stamp, sizeof stamp, "%Y%m%d%H%M%S", &tm);
    snprintf(name, sizeof name, "%.40s-%s", k->selector, stamp);
    int rc = dkim_sels_add_next(s, name, (int64_t)now);
    if (rc == ERR_EXISTS)
        return cli_fail("%s: a rotation is under way already, or %s exists", domain, name);
    if (rc != 0)
        return cli_fail("%s: no room for another selector", domain);
    struct dkim_signer *signer;
    const char *why;
    if (dkim_keystore_load(k->key_dir, domain, name, (enum dkim_alg)k->algorithm, true, &signer,
                           &why) != 0)
        return cli_fail("%s: cannot make the key of %s: %s", domain, name, why);
    dkim_signer_free(signer);
    if (dkim_keystore_sels_save(k->key_dir, domain, s) != 0)
        return cli_fail("%s: cannot write the selector list", domain);
    printf("%s: new selector %s; pigeond signs with it from %lld on\n", domain, name,
           (long long)now + k->switch_after);
    return CLI_OK;
}

int cli_domain_dkim(struct cli_ctx *ctx, int argc, char **argv)
{
    char domain[256];
    if (cli_domain_name(argv[1], domain, sizeof domain) != 0 || cli_ctx_config(ctx) != 0)
        return CLI_FAIL;
    const struct config_dkim *k = mailauth_config(&ctx->cfg);
    struct dkim_sels s;
    const char *why;
    if (dkim_keystore_sels_load(k->key_dir, domain, k->selector, &s, &why) != 0)
        return cli_fail("%s: selectors: %s", domain, why);
    if (!strcmp(argv[0], "status"))
        return status(k, domain, &s);
    if (!strcmp(argv[0], "rotate"))
        return rotate(k, domain, &s);
    return cli_fail("unknown: %s (rotate or status)", argv[0]);
}
