/*
 * cmd_cache — `pigeon cache purge URL|PREFIX*` and `pigeon cache stats`: asks the running
 * pigeond over its control socket (the proxy service answers "cache stats" and "cache purge",
 * proxy/service/control.c), so they work whatever the cache listens behind: the forward
 * proxy, a [reverse_proxy], or only [http NAME] proxy_to sites. The index lives in pigeond's
 * memory, so the CLI never edits the cache directory itself.
 */
#include "cli/cli.h"

#include "core/str.h"
#include "host/control_proto.h"

#include <stdio.h>
#include <string.h>

/* Sends request and prints the notes; CLI_OK when the answer ends in "ok". */
static int ask(struct cli_ctx *ctx, const char *request)
{
    if (cli_ctx_config(ctx) != 0)
        return CLI_FAIL;
    return cli_control_show(ctx, request, NULL, NULL);
}

int cli_cache_purge(struct cli_ctx *ctx, int argc, char **argv)
{
    (void)argc;
    if (strncmp(argv[0], "http://", 7) != 0 && strncmp(argv[0], "https://", 8) != 0)
        return cli_fail("purge takes an absolute URL (http://host/path, or a prefix ending in *)");
    for (const unsigned char *p = (const unsigned char *)argv[0]; *p; p++)
        if (*p <= ' ' || *p >= 0x7f)
            return cli_fail("a URL has no spaces, control characters or raw non-ASCII octets "
                            "(percent-encode them)");
    struct str req = STR_INIT;
    str_appendf(&req, "cache purge %s", argv[0]);
    int rc = req.len <= CONTROL_LINE_MAX ? ask(ctx, str_cstr(&req))
                                         : cli_fail("the URL is longer than the control socket "
                                                    "takes (%d octets with \"cache purge \")",
                                                    CONTROL_LINE_MAX);
    str_clear(&req);
    return rc;
}

int cli_cache_stats(struct cli_ctx *ctx, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return ask(ctx, "cache stats");
}
