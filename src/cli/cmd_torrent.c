/*
 * cmd_torrent — `pigeon torrent add FILE|MAGNET [--dir D] | list | pause HASH | resume HASH |
 * remove HASH`: the peer service ([torrent]) reads commands from DATA/torrent/inbox/ every
 * second and writes DATA/torrent/status every second, so the CLI only drops files there and
 * reads that one (no socket; it works the same whether pigeond runs or starts later).
 */
#include "cli/cli.h"

#include "core/file.h"
#include "torrent/magnet.h"
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

/* Reads "--dir D" / "--dir=D" (or a second positional DIR, the older form) out of argv. */
static int add_args(int argc, char **argv, const char **what, const char **dir)
{
    *what = *dir = NULL;
    for (int i = 0; i < argc; i++) {
        const char *d = NULL;
        if (strcmp(argv[i], "--dir") == 0) {
            if (i + 1 == argc)
                return cli_fail("--dir needs a directory");
            d = argv[++i];
        } else if (strncmp(argv[i], "--dir=", 6) == 0) {
            d = argv[i] + 6;
        } else if (!*what) {
            *what = argv[i];
            continue;
        } else {
            d = argv[i];
        }
        if (*dir)
            return cli_fail("give one download directory");
        *dir = d;
    }
    if (!*what)
        return cli_fail("give a .torrent file or a magnet link");
    return 0;
}

/* NAME.dir in the inbox: the download directory, made absolute (pigeond has another cwd). */
static int write_dir(struct cli_ctx *ctx, const char *name, const char *dir)
{
    if (!dir)
        return 0;
    char dname[80];
    char *abs = realpath(dir, NULL);
    snprintf(dname, sizeof dname, "%s.dir", name);
    int rc =
        abs ? inbox_write(ctx, dname, abs, strlen(abs)) : cli_fail("%s: %s", dir, strerror(errno));
    free(abs);
    return rc;
}

static int add_magnet(struct cli_ctx *ctx, const char *uri, const char *dir)
{
    struct tor_magnet m;
    const char *why = NULL;
    if (tor_magnet_parse(uri, strlen(uri), &m, &why) < 0)
        return cli_fail("not a usable magnet link: %s", why);
    char hex[41], name[64];
    tor_hash_hex(m.info_hash, hex);
    snprintf(name, sizeof name, "%s.magnet", hex);
    int rc = write_dir(ctx, name, dir);
    if (rc == 0)
        rc = inbox_write(ctx, name, uri, strlen(uri));
    if (rc == 0)
        printf("%s %s: queued for the running pigeond (fetching the metadata from peers%s)\n", hex,
               m.name ? m.name : "(no name)", m.ntrackers ? "" : "; the link names no tracker");
    tor_magnet_clear(&m);
    return rc;
}

int cli_torrent_add(struct cli_ctx *ctx, int argc, char **argv)
{
    int rc = cli_ctx_config(ctx);
    if (rc)
        return rc;
    const char *what, *dir;
    if ((rc = add_args(argc, argv, &what, &dir)) != 0)
        return rc;
    if (strncmp(what, "magnet:", 7) == 0)
        return add_magnet(ctx, what, dir);
    struct str raw = STR_INIT;
    if (file_read_all(what, 16u << 20, &raw) < 0) {
        str_clear(&raw);
        return cli_fail("%s: cannot read it", what);
    }
    struct tor_meta m;
    const char *why = NULL;
    if (tor_meta_parse(raw.ptr, raw.len, &m, &why) < 0) {
        str_clear(&raw);
        return cli_fail("%s: not a usable .torrent file: %s", what, why);
    }
    char hex[41], name[64];
    tor_hash_hex(m.info_hash, hex);
    snprintf(name, sizeof name, "%s.torrent", hex);
    rc = write_dir(ctx, name, dir);
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
                        "torrent list` prints it)",
                        hash);
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
