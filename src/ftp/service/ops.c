/*
 * ftp service, ops — the engine's struct ftp_session_ops: the login (Pigeon's users through
 * host_login: auth pool, dummy hash, throttle; then the per-user session count and the home
 * directory ROOT/LOGIN, made on first login), the file operations beneath the session's tree
 * (fs.c), and the data connection and transfer calls (data.c, xfer.c).
 */
#include "ftp/service/service_int.h"

#include "host/host.h"
#include "host/login.h"

#include "core/connlimit.h"
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ROOT/LOGIN, made (0750) when it does not exist yet; -1 when it cannot be opened. */
static int open_home(int root, const char *login)
{
    if (!login[0] || strchr(login, '/') || strcmp(login, ".") == 0 || strcmp(login, "..") == 0)
        return -1;
    int fd = openat(root, login, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && mkdirat(root, login, 0750) == 0)
        fd = openat(root, login, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    return fd;
}

static void login_done(void *arg, bool ok, const char *user)
{
    struct ftp_conn *fc = arg;
    if (!ok)
        return ftp_session_auth_done(fc->s, FTP_AUTH_FAIL, NULL, false);
    const struct config_ftp *cfg = fc->set->cfg;
    char key[sizeof fc->user_key];
    snprintf(key, sizeof key, "ftp-user|%s", user);
    if (!connlimit_acquire(fc->w->d->connlimit, key, cfg->acc.max_connections_per_user))
        return ftp_session_auth_done(fc->s, FTP_AUTH_LIMIT, user, false);
    memcpy(fc->user_key, key, sizeof key);
    fc->root_fd = open_home(fc->set->root_fd, user);
    if (fc->root_fd < 0) {
        log_err("ftp " LOG_ID " cannot open the home of %s under %s: %s", LOG_IDV(fc->id), user,
                cfg->root, strerror(errno));
        return ftp_session_auth_done(fc->s, FTP_AUTH_NOHOME, user, false);
    }
    fc->read_only = false;
    conn_logged_in(fc->c);
    ftp_session_auth_done(fc->s, FTP_AUTH_OK, user, false);
    ftp_show_update(fc);
}

static void auth(void *ctx, struct ftp_session *s, const char *user, const char *pass,
                 bool anonymous)
{
    struct ftp_conn *fc = ctx;
    if (!anonymous)
        return host_login(fc->c, user, pass, login_done, fc);
    fc->root_fd = fc->set->anon_fd >= 0 ? fcntl(fc->set->anon_fd, F_DUPFD_CLOEXEC, 0) : -1;
    if (fc->root_fd < 0)
        return ftp_session_auth_done(s, FTP_AUTH_NOHOME, "anonymous", true);
    fc->read_only = true;
    conn_logged_in(fc->c);
    ftp_session_auth_done(s, FTP_AUTH_OK, "anonymous", true);
    ftp_show_update(fc);
}

static int op_stat(void *ctx, const char *path, struct ftp_stat *out)
{
    return ftp_fs_stat(((struct ftp_conn *)ctx)->root_fd, path, out);
}

static int op_mkdir(void *ctx, const char *path)
{
    return ftp_fs_mkdir(((struct ftp_conn *)ctx)->root_fd, path);
}

static int op_rmdir(void *ctx, const char *path)
{
    return ftp_fs_rmdir(((struct ftp_conn *)ctx)->root_fd, path);
}

static int op_unlink(void *ctx, const char *path)
{
    return ftp_fs_unlink(((struct ftp_conn *)ctx)->root_fd, path);
}

static int op_rename(void *ctx, const char *from, const char *to)
{
    return ftp_fs_rename(((struct ftp_conn *)ctx)->root_fd, from, to);
}

static int op_set_mtime(void *ctx, const char *path, int64_t mtime)
{
    return ftp_fs_set_mtime(((struct ftp_conn *)ctx)->root_fd, path, mtime);
}

static int op_list(void *ctx, const char *path, enum ftp_list_fmt fmt, struct str *out)
{
    struct ftp_conn *fc = ctx;
    return ftp_fs_list(fc->root_fd, path, "", fmt, fc->read_only, FACT_ALL, out);
}

static int op_passive(void *ctx, bool extended, struct ftp_hostport *out)
{
    return ftp_data_passive(ctx, extended, out);
}

static void op_active(void *ctx, const struct ftp_hostport *to)
{
    ftp_data_active(ctx, to);
}

static void op_xfer(void *ctx, struct ftp_session *s, const struct ftp_xfer *x)
{
    struct ftp_conn *fc = ctx;
    fc->in_engine = true;
    ftp_xfer_start(fc, x);
    fc->in_engine = false;
}

static void op_abort(void *ctx)
{
    struct ftp_conn *fc = ctx;
    ftp_xfer_abort(fc);
    ftp_data_reset(fc);
}

static uint64_t op_xfer_bytes(void *ctx)
{
    return ftp_xfer_bytes(ctx);
}

static const struct ftp_session_ops ops = {
    .auth = auth,
    .stat = op_stat,
    .mkdir = op_mkdir,
    .rmdir = op_rmdir,
    .unlink = op_unlink,
    .rename = op_rename,
    .list = op_list,
    .passive = op_passive,
    .active = op_active,
    .xfer = op_xfer,
    .abort = op_abort,
    .xfer_bytes = op_xfer_bytes,
    .set_mtime = op_set_mtime,
};

const struct ftp_session_ops *ftp_conn_ops(void)
{
    return &ops;
}

void ftp_conn_release(struct ftp_conn *fc)
{
    ftp_xfer_abort(fc);
    ftp_data_reset(fc);
    if (fc->root_fd >= 0)
        close(fc->root_fd);
    fc->root_fd = -1;
    if (fc->user_key[0])
        connlimit_release(fc->w->d->connlimit, fc->user_key);
    fc->user_key[0] = '\0';
}
