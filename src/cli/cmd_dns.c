/* cmd_dns — `pigeon reload` and `pigeon dns reload`: ask the running pigeond to reload over
 * its control socket (DATA/pigeond.ctl, cli/control.c) and report what it answers. */
#include "cli/cli.h"

#include <stdio.h>

static int reload_request(struct cli_ctx *ctx)
{
    int rc = cli_control_show(ctx, "reload", NULL, NULL);
    if (rc == CLI_OK)
        printf("pigeond: reloaded\n");
    else
        fprintf(stderr, "pigeon: reload failed\n");
    return rc;
}

/* The same check pigeond makes before it reloads (it would refuse with the same file:line
 * reason); without a readable file there is no data directory to find pigeond in either. */
static int config_first(struct cli_ctx *ctx)
{
    if (cli_ctx_config(ctx) == 0)
        return 0;
    return cli_fail("nothing reloaded: pigeond keeps running as it is until the configuration "
                    "is fixed");
}

int cli_reload(struct cli_ctx *ctx, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (config_first(ctx) != 0)
        return CLI_FAIL;
    return reload_request(ctx);
}

int cli_dns_reload(struct cli_ctx *ctx, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (config_first(ctx) != 0)
        return CLI_FAIL;
    if (!ctx->cfg.dns.svc.enabled)
        return cli_fail("no [dns] listen address in %s: the name server is off", ctx->conf_path);
    return reload_request(ctx);
}
