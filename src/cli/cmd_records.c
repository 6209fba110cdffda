/*
 * cmd_records — `pigeon domain records DOMAIN`: the DNS records a mail domain served by this
 * pigeond needs, in master-file form (mailauth/service/records.h: MX, SPF, the DKIM
 * selectors, DMARC, MTA-STS, TLS-RPT, TLSA 3 1 1 for the MX, the SRV records of RFC
 * 6186/8314), for an administrator whose zone is hosted elsewhere. pigeond keeps the same
 * records in the zones it serves itself ([mail_dns] publish). The DKIM key and the
 * self-signed certificate are made when missing. Blocks on small file I/O.
 */
#include "cli/cli.h"

#include "core/str.h"
#include "mailauth/mailrec.h"
#include "mailauth/mtasts.h"
#include "mailauth/service/records.h"
#include "mailauth/service/service.h"

#include <stdio.h>

int cli_domain_records(struct cli_ctx *ctx, int argc, char **argv)
{
    char domain[256];
    if (cli_domain_name(argv[0], domain, sizeof domain) != 0 || cli_ctx_config(ctx) != 0)
        return CLI_FAIL;
    const struct config *cfg = &ctx->cfg;
    struct mailrec_set set;
    const char *why = NULL;
    mailrec_set_init(&set);
    if (mailauth_records(cfg, domain, true, true, &set, &why) != 0) {
        mailrec_set_clear(&set);
        return cli_fail("cannot make the records of %s: %s", domain, why ? why : "?");
    }
    struct str out = STR_INIT;
    str_appendf(&out, "; Mail records for %s, served by %s. %s needs A/AAAA records of this "
                      "server.\n",
                domain, cfg->hostname, cfg->hostname);
    for (size_t i = 0; i < set.n; i++)
        mailrec_to_text(&set.r[i], &out);
    if (mailauth_sts_config(cfg)->mode != MTASTS_NONE)
        str_appendf(&out, "; and A/AAAA for mta-sts.%s., where pigeond's HTTPS serves the "
                          "MTA-STS policy\n",
                    domain);
    fwrite(out.ptr, 1, out.len, stdout);
    str_clear(&out);
    mailrec_set_clear(&set);
    return CLI_OK;
}
