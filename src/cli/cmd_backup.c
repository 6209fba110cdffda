/* cmd_backup — `pigeon backup DIR` and `pigeon restore DIR` (store/backup.c): a consistent
 * copy of the data directory taken while pigeond runs, and its restore into an empty data
 * directory (with pigeond stopped: it would create a new store there). */
#include "cli/cli.h"

#include "host/privileges.h"
#include "store/backup.h"

#include <stdio.h>

static void stats_print(const char *what, const char *dir, const struct store_backup_stats *s)
{
    printf("%s %s: %lld messages, %lld queued, %lld files (%lld bytes)\n", what, dir,
           (long long)s->messages, (long long)s->queued, (long long)s->files,
           (long long)s->bytes);
    if (s->dropped)
        printf("%lld message files deleted during the backup were left out\n",
               (long long)s->dropped);
}

int cli_backup(struct cli_ctx *ctx, int argc, char **argv)
{
    struct store *st;
    ctx->keep_root = true;
    if (cli_ctx_store(ctx, &st) != 0)
        return CLI_FAIL;
    struct store_backup_stats stats;
    const char *why = NULL;
    if (store_backup(st, argv[0], &stats, &why) < 0)
        return cli_fail("backup failed: %s", why);
    stats_print("backup in", argv[0], &stats);
    return CLI_OK;
}

int cli_restore(struct cli_ctx *ctx, int argc, char **argv)
{
    if (cli_ctx_config(ctx) != 0)
        return CLI_FAIL;
    struct store_backup_stats stats;
    const char *why = NULL;
    if (store_restore(argv[0], ctx->cfg.data_dir, &stats, &why) < 0)
        return cli_fail("restore failed: %s", why);
    if (privileges_give_tree(&ctx->cfg, ctx->cfg.data_dir, &why) < 0)
        return cli_fail("restored, but cannot hand %s to [server] user: %s", ctx->cfg.data_dir,
                        why);
    stats_print("restored into", ctx->cfg.data_dir, &stats);
    return CLI_OK;
}
