/*
 * cmd_torrent — `pigeon torrent add FILE [DIR] | list | pause HASH | resume HASH |
 * remove HASH`: the peer service ([torrent]) reads commands from DATA/torrent/inbox/ every
 * second and writes DATA/torrent/status every second, so the CLI only drops files there and
 * reads that one (no socket; it works the same whether pigeond runs or starts later).
 */
#include "cli/cli.h"

#include "core/file.h"
#include "torrent/metainfo.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int inbox_write(struct cli_ctx *ctx, const char *name, const void *p, size_t n)
{
    char path[1200], tmp[1210];
    snprintf(path, sizeof path, "%.900s/torrent/inbox/%s", ctx->cfg.data_dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return cli_fail("%s: %s (is [torrent] configured and was pigeond started once?)", tmp,
                        strerror(errno));
    bool ok = fwrite(p, 1, n, f) == n;
    if (fclose(f) != 0 || !ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return cli_fail("%s: %s", path, strerror(errno));
    }
    return 0;
}

int cli_torrent_add(struct cli_ctx *ctx, int argc, char **argv)
{
    int rc = cli_ctx_config(ctx);
    if (rc)
        return rc;
    if (strncmp(argv[0], "magnet:", 7) == 0)
        return cli_fail("magnet links need the metadata exchange (BEP 9), which this build does "
                        "not have: add the .torrent file");
    struct str raw = STR_INIT;
    if (file_read_all(argv[0], 16u << 20, &raw) < 0) {
        str_clear(&raw);
        return cli_fail("%s: cannot read it", argv[0]);
    }
    struct tor_meta m;
    const char *why = NULL;
    if (tor_meta_parse(raw.ptr, raw.len, &m, &why) < 0) {
        str_clear(&raw);
        return cli_fail("%s: not a usable .torrent file: %s", argv[0], why);
    }
    char hex[41], name[64];
    tor_hash_hex(m.info_hash, hex);
    snprintf(name, sizeof name, "%s.torrent", hex);
    if (argc > 1) {
        char dname[80];
        char *dir = realpath(argv[1], NULL);
        snprintf(dname, sizeof dname, "%s.dir", name);
        rc = dir ? inbox_write(ctx, dname, dir, strlen(dir))
                 : cli_fail("%s: %s", argv[1], strerror(errno));
        free(dir);
    }
    if (rc == 0)
        rc = inbox_write(ctx, name, raw.ptr, raw.len);
    if (rc == 0)
        printf("%s %s: queued for the running pigeond\n", hex, m.name);
    tor_meta_clear(&m);
    str_clear(&raw);
    return rc;
}

static int command(struct cli_ctx *ctx, const char *hash, const char *verb)
{
    int rc = cli_ctx_config(ctx);
    if (rc)
        return rc;
    if (strlen(hash) < 6 || strlen(hash) > 40 || strspn(hash, "0123456789abcdef") != strlen(hash))
        return cli_fail("%s: give the info-hash (at least 6 lower-case hex digits, as `pigeon "
                        "torrent list` prints it)", hash);
    char name[64];
    snprintf(name, sizeof name, "%s.%s", hash, verb);
    rc = inbox_write(ctx, name, "", 0);
    if (rc == 0)
        printf("%s: %s queued\n", hash, verb);
    return rc;
}

int cli_torrent_pause(struct cli_ctx *ctx, int argc, char **argv)
{
    return command(ctx, argv[0], "pause");
}

int cli_torrent_resume(struct cli_ctx *ctx, int argc, char **argv)
{
    return command(ctx, argv[0], "resume");
}

int cli_torrent_remove(struct cli_ctx *ctx, int argc, char **argv)
{
    return command(ctx, argv[0], "remove");
}

int cli_torrent_list(struct cli_ctx *ctx, int argc, char **argv)
{
    int rc = cli_ctx_config(ctx);
    if (rc)
        return rc;
    char path[1200];
    snprintf(path, sizeof path, "%.900s/torrent/status", ctx->cfg.data_dir);
    struct str s = STR_INIT;
    if (file_read_all(path, 16u << 20, &s) < 0) {
        str_clear(&s);
        return cli_fail("%s: no status (is [torrent] configured and pigeond running?)", path);
    }
    fwrite(str_cstr(&s), 1, s.len, stdout);
    str_clear(&s);
    return 0;
}
