/* cmd_mail — `pigeon mail list|cat`: a read-only look into a user's mailbox (admin/debug). */
#include "cli/cli.h"

#include "core/err.h"
#include "core/str.h"
#include "core/xmalloc.h"
#include "store/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ADDR_CAP 512

int cli_user_open(struct cli_ctx *ctx, const char *arg, char *addr, size_t cap,
                          struct store **st_out)
{
    if (cli_address(ctx, arg, addr, cap) != 0 || cli_ctx_store(ctx, st_out) != 0)
        return CLI_FAIL;
    int64_t id;
    int rc = store_user_lookup(*st_out, addr, &id);
    if (rc == ERR_NOTFOUND)
        return cli_fail("no such user: %s", addr);
    if (rc < 0)
        return cli_fail("cannot look up user %s: %s (%s)", addr, err_str(rc),
                        store_errmsg(*st_out));
    return 0;
}

static int mailbox_fail(struct store *st, int rc, const char *addr, const char *mailbox)
{
    if (rc == ERR_NOTFOUND)
        return cli_fail("no such mailbox: %s of %s", mailbox, addr);
    return cli_fail("cannot read mailbox %s of %s: %s (%s)", mailbox, addr, err_str(rc),
                    store_errmsg(st));
}

static void msg_print(void *ctx, const struct store_msg_info *m)
{
    printf("%lld\t%lld\t%lld\t%s\n", (long long)m->uid, (long long)m->size,
           (long long)m->internal_date, m->blob_path);
}

int cli_mail_list(struct cli_ctx *ctx, int argc, char **argv)
{
    char addr[ADDR_CAP];
    struct store *st;
    const char *mailbox = argc > 1 ? argv[1] : "INBOX";
    if (cli_user_open(ctx, argv[0], addr, sizeof addr, &st) != 0)
        return CLI_FAIL;
    int rc = store_mailbox_messages(st, addr, mailbox, msg_print, NULL);
    return rc < 0 ? mailbox_fail(st, rc, addr, mailbox) : CLI_OK;
}

struct msg_find {
    int64_t uid;
    char *path; /* malloc'd copy: the store's string lives only during the callback */
};

static void msg_find_cb(void *vctx, const struct store_msg_info *m)
{
    struct msg_find *f = vctx;
    if (m->uid == f->uid && !f->path)
        f->path = xstrdup(m->blob_path);
}

/* Copies the file to stdout. 0, or CLI_FAIL after printing why. */
static int file_copy_out(const char *path)
{
    FILE *in = fopen(path, "rb");
    if (!in)
        return cli_fail("cannot open %s: %s", path, strerror(errno));
    char buf[65536];
    size_t n;
    int rc = 0;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) {
        if (fwrite(buf, 1, n, stdout) != n) {
            rc = cli_fail("cannot write to stdout: %s", strerror(errno));
            break;
        }
    }
    if (rc == 0 && ferror(in))
        rc = cli_fail("cannot read %s: %s", path, strerror(errno));
    fclose(in);
    return rc;
}

int cli_mail_cat(struct cli_ctx *ctx, int argc, char **argv)
{
    char addr[ADDR_CAP];
    struct store *st;
    const char *mailbox = argc > 2 ? argv[2] : "INBOX";
    unsigned long long uid;
    if (slice_to_u64(slice_cstr(argv[1]), INT64_MAX, &uid) != 0 || uid == 0)
        return cli_fail("invalid UID: '%s' (a positive number)", argv[1]);
    if (cli_user_open(ctx, argv[0], addr, sizeof addr, &st) != 0)
        return CLI_FAIL;
    struct msg_find f = {(int64_t)uid, NULL};
    int rc = store_mailbox_messages(st, addr, mailbox, msg_find_cb, &f);
    if (rc < 0) {
        free(f.path);
        return mailbox_fail(st, rc, addr, mailbox);
    }
    if (!f.path)
        return cli_fail("no message with UID %llu in %s of %s", uid, mailbox, addr);
    struct str full = STR_INIT;
    if (f.path[0] != '/')
        str_appendf(&full, "%s/", store_data_dir(st));
    str_appends(&full, f.path);
    free(f.path);
    rc = file_copy_out(str_cstr(&full));
    str_clear(&full);
    return rc;
}
