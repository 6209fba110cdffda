/* cmd_dns — `pigeon reload` and `pigeon dns reload`: ask the running pigeond to reload over
 * its control socket (DATA/pigeond.ctl) and report what it answers. */
#include "cli/cli.h"

#include "core/unixsock.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ANSWER_TIMEOUT_MS (300 * 1000) /* zone files are loaded (and signed) before it comes */
#define ANSWER_MAX (1 << 20)

/* Reads until the daemon closes. 0, or -1 after printing why. */
static int answer_read(int fd, struct str *out)
{
    char buf[4096];
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        int n = poll(&p, 1, ANSWER_TIMEOUT_MS);
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0)
            return cli_fail("no answer from pigeond within %d s", ANSWER_TIMEOUT_MS / 1000);
        ssize_t k = n < 0 ? -1 : read(fd, buf, sizeof buf);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return cli_fail("reading pigeond's answer: %s", strerror(errno));
        if (k == 0)
            return 0;
        if (out->len + (size_t)k > ANSWER_MAX)
            return cli_fail("pigeond's answer is too long");
        str_append(out, buf, (size_t)k);
    }
}

/* Prints the answer's lines: notes on stdout, failures on stderr. The exit status: 0 only
 * when the answer ends in "ok". */
static int answer_print(const char *text)
{
    int rc = CLI_FAIL;
    bool ended = false;
    while (*text) {
        const char *nl = strchr(text, '\n');
        size_t len = nl ? (size_t)(nl - text) : strlen(text);
        if (len > 5 && !strncmp(text, "note ", 5))
            printf("%.*s\n", (int)(len - 5), text + 5);
        else if (len > 6 && !strncmp(text, "error ", 6))
            fprintf(stderr, "pigeon: %.*s\n", (int)(len - 6), text + 6);
        else if (len == 2 && !strncmp(text, "ok", 2))
            rc = CLI_OK, ended = true;
        else if (len > 7 && !strncmp(text, "failed ", 7))
            ended = true;
        text += len + (nl ? 1 : 0);
    }
    if (!ended)
        return cli_fail("pigeond closed the control connection without an answer");
    if (rc == CLI_OK)
        printf("pigeond: reloaded\n");
    else
        fprintf(stderr, "pigeon: reload failed\n");
    return rc;
}

int cli_control(struct cli_ctx *ctx, const char *request, struct str *answer)
{
    const char *dir = ctx->cfg.data_dir;
    int fd = unixsock_connect(dir, PIGEOND_CONTROL_SOCKET);
    if (fd < 0 && (errno == ENOENT || errno == ECONNREFUSED))
        return cli_fail("pigeond is not running (nothing listens on %s/%s)", dir,
                        PIGEOND_CONTROL_SOCKET);
    if (fd < 0)
        return cli_fail("cannot reach pigeond at %s/%s: %s", dir, PIGEOND_CONTROL_SOCKET,
                        strerror(errno));
    struct str req = STR_INIT;
    str_appendf(&req, "%s\n", request);
    int rc = write(fd, req.ptr, req.len) == (ssize_t)req.len
                 ? answer_read(fd, answer)
                 : cli_fail("cannot write to pigeond: %s", strerror(errno));
    close(fd);
    str_clear(&req);
    return rc;
}

static int reload_request(struct cli_ctx *ctx)
{
    struct str answer = STR_INIT;
    int rc = cli_control(ctx, "reload", &answer);
    if (rc == 0)
        rc = answer_print(str_cstr(&answer));
    str_clear(&answer);
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
