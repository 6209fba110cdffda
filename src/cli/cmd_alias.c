/*
 * cmd_alias — `pigeon alias add|del|list` (addresses that expand to local users and/or remote
 * addresses; "@domain" is the domain's catch-all) and `pigeon forward` (a user's forwarding:
 * alias rows on the user's own address, with a row to itself when a copy is kept).
 * See store/route.h for how mail is routed through them.
 */
#include "cli/cli.h"

#include "core/err.h"
#include "store/route.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>

#define ADDR_CAP 512

/* ADDRESS or "@domain" into out. 0 or CLI_FAIL. */
static int alias_address(struct cli_ctx *ctx, const char *arg, char *out, size_t cap)
{
    if (arg[0] == '@') {
        if (cli_domain_name(arg + 1, out + 1, cap - 1) != 0)
            return CLI_FAIL;
        out[0] = '@';
        return 0;
    }
    return cli_address(ctx, arg, out, cap);
}

static int alias_add_one(struct store *st, const char *addr, const char *target)
{
    int rc = store_alias_add(st, addr, target);
    if (rc == ERR_EXISTS)
        return 0; /* adding what is there changes nothing */
    if (rc == ERR_NOTFOUND)
        return cli_fail("%s is not in a local domain (pigeon domain add ...)", addr);
    if (rc == ERR_PARSE)
        return cli_fail("not an address: %s", target);
    if (rc < 0)
        return cli_fail("cannot add %s -> %s: %s (%s)", addr, target, err_str(rc),
                        store_errmsg(st));
    return 0;
}

int cli_alias_add(struct cli_ctx *ctx, int argc, char **argv)
{
    char addr[ADDR_CAP], target[ADDR_CAP];
    struct store *st;
    if (alias_address(ctx, argv[0], addr, sizeof addr) != 0 || cli_ctx_store(ctx, &st) != 0)
        return CLI_FAIL;
    for (int i = 1; i < argc; i++)
        if (cli_address(ctx, argv[i], target, sizeof target) != 0 ||
            alias_add_one(st, addr, target) != 0)
            return CLI_FAIL;
    return CLI_OK;
}

int cli_alias_del(struct cli_ctx *ctx, int argc, char **argv)
{
    char addr[ADDR_CAP], target[ADDR_CAP];
    struct store *st;
    if (alias_address(ctx, argv[0], addr, sizeof addr) != 0 ||
        (argc > 1 && cli_address(ctx, argv[1], target, sizeof target) != 0) ||
        cli_ctx_store(ctx, &st) != 0)
        return CLI_FAIL;
    int rc = store_alias_del(st, addr, argc > 1 ? target : NULL);
    if (rc == ERR_NOTFOUND)
        return cli_fail("no such alias: %s%s%s", addr, argc > 1 ? " -> " : "",
                        argc > 1 ? target : "");
    if (rc < 0)
        return cli_fail("cannot delete alias %s: %s (%s)", addr, err_str(rc), store_errmsg(st));
    return CLI_OK;
}

static void alias_print(void *ctx, const char *address, const char *target)
{
    printf("%s\t%s\n", address, target);
}

int cli_alias_list(struct cli_ctx *ctx, int argc, char **argv)
{
    char addr[ADDR_CAP];
    struct store *st;
    if ((argc > 0 && alias_address(ctx, argv[0], addr, sizeof addr) != 0) ||
        cli_ctx_store(ctx, &st) != 0)
        return CLI_FAIL;
    int rc = store_alias_list(st, argc > 0 ? addr : NULL, alias_print, NULL);
    if (rc < 0)
        return cli_fail("cannot list aliases: %s (%s)", err_str(rc), store_errmsg(st));
    return CLI_OK;
}

/* `pigeon forward ADDRESS` shows; `... off` stops; `... TARGET... [+keep]` replaces. */
int cli_forward(struct cli_ctx *ctx, int argc, char **argv)
{
    char addr[ADDR_CAP], target[ADDR_CAP];
    struct store *st;
    if (cli_address(ctx, argv[0], addr, sizeof addr) != 0 || cli_ctx_store(ctx, &st) != 0)
        return CLI_FAIL;
    int64_t id;
    int rc = store_user_lookup(st, addr, &id);
    if (rc == ERR_NOTFOUND)
        return cli_fail("no such user: %s (for other addresses use pigeon alias)", addr);
    if (rc < 0)
        return cli_fail("cannot look up %s: %s (%s)", addr, err_str(rc), store_errmsg(st));
    if (argc == 1)
        return store_alias_list(st, addr, alias_print, NULL) < 0 ? CLI_FAIL : CLI_OK;
    bool keep = false, off = argc == 2 && strcmp(argv[1], "off") == 0;
    for (int i = 1; i < argc; i++) {
        keep |= strcmp(argv[i], "+keep") == 0;
        if (!off && strcmp(argv[i], "+keep") != 0 &&
            cli_address(ctx, argv[i], target, sizeof target) != 0)
            return CLI_FAIL;
    }
    rc = store_alias_del(st, addr, NULL);
    if (rc < 0 && rc != ERR_NOTFOUND)
        return cli_fail("cannot change %s: %s (%s)", addr, err_str(rc), store_errmsg(st));
    if (off)
        return CLI_OK;
    if (keep && alias_add_one(st, addr, addr) != 0)
        return CLI_FAIL;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "+keep") != 0 &&
            (cli_address(ctx, argv[i], target, sizeof target) != 0 ||
             alias_add_one(st, addr, target) != 0))
            return CLI_FAIL;
    return CLI_OK;
}
