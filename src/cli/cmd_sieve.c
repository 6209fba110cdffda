/*
 * cmd_sieve — `pigeon sieve list|get|put|activate|delete|check`: a user's Sieve scripts
 * (store/sieve.h), the same ones ManageSieve edits. put and check parse the script first
 * (src/sieve/) and refuse it with the error's line number, as ManageSieve's PUTSCRIPT does.
 */
#include "cli/cli.h"

#include "core/err.h"
#include "core/xmalloc.h"
#include "sieve/sieve.h"
#include "store/sieve.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ADDR_CAP 512

/* The user's id. 0 or CLI_FAIL. */
static int sieve_user(struct cli_ctx *ctx, const char *arg, struct store **st, int64_t *id)
{
    char addr[ADDR_CAP];
    if (cli_address(ctx, arg, addr, sizeof addr) != 0 || cli_ctx_store(ctx, st) != 0)
        return CLI_FAIL;
    int rc = store_user_lookup(*st, addr, id);
    if (rc == ERR_NOTFOUND)
        return cli_fail("no such user: %s", addr);
    if (rc < 0)
        return cli_fail("cannot read user %s: %s", addr, err_str(rc));
    return 0;
}

/* Reads a whole file ("-": stdin), at most the script size limit + 1. */
static int read_script(const char *path, char **text, size_t *len)
{
    struct sieve_limits lim;
    sieve_limits_default(&lim);
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return cli_fail("cannot open %s", path);
    size_t cap = lim.max_script_size + 2;
    *text = xmalloc(cap);
    *len = fread(*text, 1, cap - 1, f);
    bool bad = ferror(f);
    if (f != stdin)
        fclose(f);
    (*text)[*len] = '\0';
    if (bad) {
        free(*text);
        return cli_fail("cannot read %s", path);
    }
    return 0;
}

/* 0 when text is a valid script, else CLI_FAIL with the parser's message. */
static int check_text(const char *what, const char *text, size_t len)
{
    struct sieve_script *s = NULL;
    struct str err = STR_INIT;
    int rc = sieve_script_parse(text, len, NULL, &s, &err);
    sieve_script_free(s);
    if (rc != 0)
        rc = cli_fail("%s: %s", what, str_cstr(&err));
    str_clear(&err);
    return rc == 0 ? 0 : CLI_FAIL;
}

static void list_one(void *ctx, const char *name, bool active, size_t size)
{
    printf("%s\t%zu%s\n", name, size, active ? "\tactive" : "");
}

int cli_sieve_list(struct cli_ctx *ctx, int argc, char **argv)
{
    struct store *st;
    int64_t id;
    if (sieve_user(ctx, argv[0], &st, &id) != 0)
        return CLI_FAIL;
    int rc = store_sieve_list(st, id, list_one, NULL);
    return rc ? cli_fail("cannot list scripts: %s", err_str(rc)) : CLI_OK;
}

int cli_sieve_get(struct cli_ctx *ctx, int argc, char **argv)
{
    struct store *st;
    int64_t id;
    char *text;
    size_t len;
    if (sieve_user(ctx, argv[0], &st, &id) != 0)
        return CLI_FAIL;
    int rc = store_sieve_get(st, id, argv[1], &text, &len);
    if (rc == ERR_NOTFOUND)
        return cli_fail("no script %s", argv[1]);
    if (rc != 0)
        return cli_fail("cannot read script %s: %s", argv[1], err_str(rc));
    fwrite(text, 1, len, stdout);
    free(text);
    return CLI_OK;
}

int cli_sieve_check(struct cli_ctx *ctx, int argc, char **argv)
{
    char *text;
    size_t len;
    if (read_script(argv[0], &text, &len) != 0)
        return CLI_FAIL;
    int rc = check_text(argv[0], text, len);
    free(text);
    if (rc == 0)
        printf("%s: ok\n", argv[0]);
    return rc ? CLI_FAIL : CLI_OK;
}

int cli_sieve_put(struct cli_ctx *ctx, int argc, char **argv)
{
    struct store *st;
    int64_t id;
    char *text;
    size_t len;
    if (sieve_user(ctx, argv[0], &st, &id) != 0 ||
        read_script(argc > 2 ? argv[2] : "-", &text, &len) != 0)
        return CLI_FAIL;
    int rc = check_text(argv[1], text, len);
    if (rc == 0 && (!argv[1][0] || strlen(argv[1]) > 255 || strchr(argv[1], '/')))
        rc = cli_fail("not a script name: \"%s\"", argv[1]);
    if (rc == 0 && (rc = store_sieve_put(st, id, argv[1], text, len)) != 0)
        rc = cli_fail("cannot store script %s: %s", argv[1], err_str(rc));
    free(text);
    return rc ? CLI_FAIL : CLI_OK;
}

int cli_sieve_activate(struct cli_ctx *ctx, int argc, char **argv)
{
    struct store *st;
    int64_t id;
    if (sieve_user(ctx, argv[0], &st, &id) != 0)
        return CLI_FAIL;
    const char *name = argc > 1 ? argv[1] : "";
    int rc = store_sieve_activate(st, id, name);
    if (rc == ERR_NOTFOUND)
        return cli_fail("no script %s", name);
    return rc ? cli_fail("cannot activate %s: %s", name, err_str(rc)) : CLI_OK;
}

int cli_sieve_delete(struct cli_ctx *ctx, int argc, char **argv)
{
    struct store *st;
    int64_t id;
    if (sieve_user(ctx, argv[0], &st, &id) != 0)
        return CLI_FAIL;
    int rc = store_sieve_delete(st, id, argv[1]);
    if (rc == ERR_NOTFOUND)
        return cli_fail("no script %s", argv[1]);
    if (rc == ERR_BUSY_STATE)
        return cli_fail("%s is the active script (pigeon sieve activate %s deactivates it)",
                        argv[1], argv[0]);
    return rc ? cli_fail("cannot delete %s: %s", argv[1], err_str(rc)) : CLI_OK;
}
