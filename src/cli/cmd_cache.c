/*
 * cmd_cache — `pigeon cache purge URL|PREFIX*` and `pigeon cache stats`: asks the running
 * proxy (the first listen address of [proxy], from loopback) with PURGE or its statistics
 * page, and prints the answer. The index lives in pigeond's memory, so the CLI never edits
 * the cache directory itself.
 */
#include "cli/cli.h"

#include "proxy/service/config.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* Sends one request to the proxy and prints the body; the status goes to *status_out. */
static int ask_proxy(struct cli_ctx *ctx, const char *method, const char *target, int *status_out)
{
    int rc = cli_ctx_config(ctx);
    if (rc)
        return rc;
    const struct proxy_config *pc = config_section(&ctx->cfg, "proxy");
    if (!pc || !pc->svc.n_listen)
        return cli_fail("no [proxy] listen address in the configuration");
    const struct conf_listen *l = &pc->svc.listen[0];
    const char *host = l->host;
    if (!strcmp(host, "0.0.0.0"))
        host = "127.0.0.1";
    else if (!strcmp(host, "::"))
        host = "::1";
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST}, *ai;
    if (getaddrinfo(host, l->port, &hints, &ai) != 0)
        return cli_fail("bad [proxy] listen address");
    int fd = socket(ai->ai_family, SOCK_STREAM, 0);
    struct timeval tv = {10, 0};
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        freeaddrinfo(ai);
        if (fd >= 0)
            close(fd);
        return cli_fail("cannot reach the proxy (is pigeond running?)");
    }
    freeaddrinfo(ai);
    char req[4200];
    int n = snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: pigeon\r\nConnection: close\r\n\r\n",
                     method, target);
    if (n < 0 || (size_t)n >= sizeof req || write(fd, req, (size_t)n) != n) {
        close(fd);
        return cli_fail("the request is too long or could not be sent");
    }
    char buf[8192];
    size_t got = 0;
    ssize_t r;
    while (got < sizeof buf - 1 && (r = read(fd, buf + got, sizeof buf - 1 - got)) > 0)
        got += (size_t)r;
    close(fd);
    buf[got] = '\0';
    const char *body = strstr(buf, "\r\n\r\n");
    if (got < 12 || strncmp(buf, "HTTP/1.1 ", 9) != 0 || !body)
        return cli_fail("the proxy's answer is malformed");
    *status_out = atoi(buf + 9);
    fputs(body + 4, stdout);
    return CLI_OK;
}

int cli_cache_purge(struct cli_ctx *ctx, int argc, char **argv)
{
    if (strncmp(argv[0], "http://", 7) != 0 && strncmp(argv[0], "https://", 8) != 0)
        return cli_fail("purge takes an absolute URL (http://host/path, or a prefix ending in *)");
    if (strpbrk(argv[0], " \r\n"))
        return cli_fail("a URL has no spaces or line ends");
    int status = 0;
    int rc = ask_proxy(ctx, "PURGE", argv[0], &status);
    if (rc)
        return rc;
    return status == 200 || status == 404 ? CLI_OK : CLI_FAIL;
}

int cli_cache_stats(struct cli_ctx *ctx, int argc, char **argv)
{
    int status = 0;
    int rc = ask_proxy(ctx, "GET", "/.pigeon/cache-stats", &status);
    if (rc)
        return rc;
    return status == 200 ? CLI_OK : CLI_FAIL;
}
