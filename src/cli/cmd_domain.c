/* cmd_domain — `pigeon domain add|del|list`: the local domains the server accepts mail for. */
#include "cli/cli.h"

#include "core/err.h"
#include "store/store.h"

#include <stdio.h>

/* RFC 1035 §2.3.4: 255 octets at most on the wire, 253 as text. */
#define DOMAIN_CAP 256

int cli_domain_add(struct cli_ctx *ctx, int argc, char **argv)
{
    char name[DOMAIN_CAP];
    struct store *st;
    if (cli_domain_name(argv[0], name, sizeof name) != 0 || cli_ctx_store(ctx, &st) != 0)
        return CLI_FAIL;
    int rc = store_domain_add(st, name);
    if (rc == ERR_EXISTS)
        return cli_fail("domain %s exists already", name);
    if (rc < 0)
        return cli_fail("cannot add domain %s: %s (%s)", name, err_str(rc), store_errmsg(st));
    return CLI_OK;
}

int cli_domain_del(struct cli_ctx *ctx, int argc, char **argv)
{
    char name[DOMAIN_CAP];
    struct store *st;
    if (cli_domain_name(argv[0], name, sizeof name) != 0 || cli_ctx_store(ctx, &st) != 0)
        return CLI_FAIL;
    int rc = store_domain_del(st, name);
    if (rc == ERR_NOTFOUND)
        return cli_fail("no such domain: %s", name);
    if (rc == ERR_BUSY_STATE)
        return cli_fail("domain %s still has users; delete them first", name);
    if (rc < 0)
        return cli_fail("cannot delete domain %s: %s (%s)", name, err_str(rc), store_errmsg(st));
    return CLI_OK;
}

static void domain_print(void *ctx, const char *domain)
{
    printf("%s\n", domain);
}

int cli_domain_list(struct cli_ctx *ctx, int argc, char **argv)
{
    struct store *st;
    if (cli_ctx_store(ctx, &st) != 0)
        return CLI_FAIL;
    int rc = store_domain_list(st, domain_print, NULL);
    if (rc < 0)
        return cli_fail("cannot list domains: %s (%s)", err_str(rc), store_errmsg(st));
    return CLI_OK;
}
