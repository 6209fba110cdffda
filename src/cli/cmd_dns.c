/* cmd_dns — `pigeon dns reload`: asks the running pigeond to reload its zone files. */
#include "cli/cli.h"

#include "host/pidfile.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

int cli_dns_reload(struct cli_ctx *ctx, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (cli_ctx_config(ctx) != 0)
        return CLI_FAIL;
    if (!ctx->cfg.dns.svc.enabled)
        return cli_fail("no [dns] listen address in %s: the name server is off", ctx->conf_path);
    pid_t pid = pidfile_read(ctx->cfg.data_dir);
    if (pid < 0)
        return cli_fail("pigeond is not running (no live pid in %s/%s)", ctx->cfg.data_dir,
                        PIDFILE_NAME);
    /* The same as SIGHUP: zone files are read again; a bad one keeps its old version and the
     * reason goes to pigeond's log. */
    if (kill(pid, SIGHUP) != 0)
        return cli_fail("cannot signal pigeond (pid %ld): %s", (long)pid, strerror(errno));
    printf("pigeond (pid %ld): zone reload requested; see its log for the result\n", (long)pid);
    return CLI_OK;
}
