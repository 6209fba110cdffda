/*
 * cmd_dnssec_nta — `pigeon dnssec nta add|remove|list`: the running resolver's negative trust
 * anchors (RFC 7646), asked of pigeond over its control socket (the resolver keeps them, with
 * their expiry, in DATA/resolver.nta across restarts).
 *
 *   dnssec nta add NAME [--lifetime DURATION]   NAME and below not validated (default 1 h)
 *   dnssec nta remove NAME                      validated again at once
 *   dnssec nta list                             NAME <tab> seconds left (or "permanent")
 */
#include "cli/cli.h"

#include "core/str.h"
#include "dns/resolver/service/nta.h"
#include "host/control_proto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NTA_DEFAULT_LIFETIME 3600 /* as BIND's nta-lifetime */

/* "90", "90s", "15m", "2h", "1d", "1w" -> seconds; 0 when not a duration in range. */
static unsigned long duration_parse(const char *text)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (errno || end == text || text[0] == '-' || v > RESOLVER_NTA_MAX_LIFETIME)
        return 0;
    static const struct {
        char unit;
        unsigned long mult;
    } units[] = {{'\0', 1}, {'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 604800}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (end[0] == units[i].unit && (end[0] == '\0' || end[1] == '\0'))
            return v * units[i].mult <= RESOLVER_NTA_MAX_LIFETIME ? v * units[i].mult : 0;
    return 0;
}

/* A list's note "NAME SECONDS" as "NAME<tab>SECONDS". */
static void list_line(struct slice text, void *arg)
{
    (void)arg;
    const char *sp = memchr(text.p, ' ', text.len);
    if (sp)
        printf("%.*s\t%.*s\n", (int)(sp - text.p), text.p, (int)(text.p + text.len - sp - 1),
               sp + 1);
    else
        printf("%.*s\n", (int)text.len, text.p);
}

/* The request line for argv, or CLI_USAGE-style failure (printed). */
static int request_make(int argc, char **argv, struct str *req)
{
    const char *op = argv[0];
    if (!strcmp(op, "list") && argc == 1) {
        str_appends(req, "nta list");
        return 0;
    }
    if (!strcmp(op, "remove") && argc == 2) {
        str_appendf(req, "nta remove %s", argv[1]);
        return 0;
    }
    if (strcmp(op, "add") != 0 || argc < 2)
        return cli_fail("usage: pigeon dnssec nta add NAME [--lifetime DURATION] | remove NAME "
                        "| list");
    unsigned long secs = NTA_DEFAULT_LIFETIME;
    const char *lt = NULL;
    if (argc == 4 && !strcmp(argv[2], "--lifetime"))
        lt = argv[3];
    else if (argc == 3 && !strncmp(argv[2], "--lifetime=", 11))
        lt = argv[2] + 11;
    else if (argc != 2)
        return cli_fail("usage: pigeon dnssec nta add NAME [--lifetime DURATION]");
    if (lt && (secs = duration_parse(lt)) == 0)
        return cli_fail("bad lifetime '%s': 1s to 7d (a number with s, m, h, d or w)", lt);
    if (strchr(argv[1], ' ') || strchr(argv[1], '\n'))
        return cli_fail("bad name '%s'", argv[1]);
    str_appendf(req, "nta add %s %lu", argv[1], secs);
    return 0;
}

int cli_dnssec_nta(struct cli_ctx *ctx, int argc, char **argv)
{
    if (cli_ctx_config(ctx) != 0)
        return CLI_FAIL;
    if (!ctx->cfg.resolver.trust_anchor)
        return cli_fail("no [resolver] trust_anchor in %s: the resolver does not validate",
                        ctx->conf_path);
    struct str req = STR_INIT;
    int rc = request_make(argc, argv, &req);
    if (rc == 0 && strpbrk(str_cstr(&req), "\r\n"))
        rc = cli_fail("bad argument");
    if (rc == 0)
        rc = cli_control_show(ctx, str_cstr(&req), !strcmp(argv[0], "list") ? list_line : NULL,
                              NULL);
    str_clear(&req);
    return rc;
}
