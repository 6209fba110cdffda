/*
 * The working directory and the file commands: PWD, CWD, CDUP (RFC 959 §4.1.1), MKD, RMD,
 * DELE, RNFR/RNTO (§4.1.3), SIZE, MDTM and MLST (RFC 3659), MFMT (draft-somers-ftp-mfxx: the
 * timestamp FileZilla, WinSCP and lftp set after an upload). Each path is resolved inside the
 * session's tree (ftp/path.h) before the ops see it.
 */
#include "ftp/session_int.h"

#include "core/log.h"

#include <stdio.h>
#include <string.h>

/* Writes are refused on a read-only (anonymous) tree. */
static bool writable(struct ftp_session *s)
{
    if (!s->read_only)
        return true;
    ftp_reply_error(s, "550 Permission denied.");
    return false;
}

void ftp_cmd_pwd(struct ftp_session *s, const struct ftp_cmd *cmd)
{
    char q[2 * FTP_PATH_MAX];
    ftp_quote_path(s->cwd, q, sizeof q);
    ftp_reply(s, "257 \"%s\" is the current directory.", q);
}

static void change_dir(struct ftp_session *s, struct slice arg)
{
    char path[FTP_PATH_MAX];
    struct ftp_stat st;
    if (!ftp_resolve(s, arg, path))
        return;
    int rc = s->ops->stat(s->ops_ctx, path, &st);
    if (rc < 0)
        return ftp_reply_fs(s, rc);
    if (!st.is_dir)
        return ftp_reply_fs(s, FTP_FS_NOTDIR);
    memcpy(s->cwd, path, sizeof s->cwd);
    ftp_reply(s, "250 Directory successfully changed.");
}

void ftp_cmd_cwd(struct ftp_session *s, const struct ftp_cmd *cmd)
{
    change_dir(s, cmd->arg);
}

/* RFC 959 §4.1.1: CDUP's replies are CWD's (250; §5.4's "200" for it is a known slip). */
void ftp_cmd_cdup(struct ftp_session *s, const struct ftp_cmd *cmd)
{
    change_dir(s, slice_cstr(".."));
}

void ftp_cmd_mkd(struct ftp_session *s, const struct ftp_cmd *cmd)
{
    char path[FTP_PATH_MAX], q[2 * FTP_PATH_MAX];
    if (!writable(s) || !ftp_resolve(s, cmd->arg, path))
        return;
    if (strcmp(path, "/") == 0)
        return ftp_reply_fs(s, FTP_FS_EXIST);
    int rc = s->ops->mkdir(s->ops_ctx, path);
    if (rc < 0)
        return ftp_reply_fs(s, rc);
    ftp_quote_path(path, q, sizeof q);
    ftp_reply(s, "257 \"%s\" created.", q);
}

void ftp_cmd_rmd(struct ftp_session *s, const struct ftp_cmd *cmd)
{
    char path[FTP_PATH_MAX];
    if (!writable(s) || !ftp_resolve(s, cmd->arg, path))
        return;
    if (strcmp(path, "/") == 0)
        return ftp_reply_fs(s, FTP_FS_PERM);
    int rc = s->ops->rmdir(s->ops_ctx, path);
    if (rc < 0)
        return ftp_reply_fs(s, rc);
    ftp_reply(s, "250 Directory removed.");
}

void ftp_cmd_dele(struct ftp_session *s, const struct ftp_cmd *cmd)
{
    char path[FTP_PATH_MAX];
    if (!writable(s) || !ftp_resolve(s, cmd->arg, path))
        return;
    int rc = s->ops->unlink(s->ops_ctx, path);
    if (rc < 0)
        return ftp_reply_fs(s, rc);
    log_info("ftp " LOG_ID " %s deleted %s", LOG_IDV(s->id), s->user, path);
    ftp_reply(s, "250 File deleted.");
}

void ftp_cmd_rnfr(struct ftp_session *s, const struct ftp_cmd *cmd)
{
    char path[FTP_PATH_MAX];
    struct ftp_stat st;
    if (!writable(s) || !ftp_resolve(s, cmd->arg, path))
        return;
    if (strcmp(path, "/") == 0)
        return ftp_reply_fs(s, FTP_FS_PERM);
    int rc = s->ops->stat(s->ops_ctx, path, &st);
    if (rc < 0)
        return ftp_reply_fs(s, rc);
    memcpy(s->rnfr, path, sizeof s->rnfr);
    s->have_rnfr = true;
    ftp_reply(s, "350 Ready for RNTO.");
}

void ftp_cmd_rnto(struct ftp_session *s, const struct ftp_cmd *cmd)
{
    char path[FTP_PATH_MAX];
    if (!s->have_rnfr)
        return ftp_reply_error(s, "503 RNFR required first.");
    s->have_rnfr = false;
    if (!writable(s) || !ftp_resolve(s, cmd->arg, path))
        return;
    if (strcmp(path, "/") == 0)
        return ftp_reply_fs(s, FTP_FS_BADNAME);
    int rc = s->ops->rename(s->ops_ctx, s->rnfr, path);
    if (rc < 0)
        return ftp_reply_fs(s, rc == FTP_FS_EXIST ? FTP_FS_BADNAME : rc);
    log_info("ftp " LOG_ID " %s renamed %s to %s", LOG_IDV(s->id), s->user, s->rnfr, path);
    ftp_reply(s, "250 Rename successful.");
}

/* A plain file's facts, or a 550 reply. */
static bool stat_file(struct ftp_session *s, struct slice arg, struct ftp_stat *st)
{
    char path[FTP_PATH_MAX];
    if (!ftp_resolve(s, arg, path) || ftp_hidden(s, path))
        return false;
    int rc = s->ops->stat(s->ops_ctx, path, st);
    if (rc == 0 && !st->is_file)
        rc = FTP_FS_ISDIR;
    if (rc < 0) {
        ftp_reply_fs(s, rc);
        return false;
    }
    return true;
}

/* RFC 3659 §4: the octets a RETR in TYPE I would send. In TYPE A this is the file's size
 * too (as vsftpd and pure-ftpd answer): counting line ends would mean reading the file. */
void ftp_cmd_size(struct ftp_session *s, const struct ftp_cmd *cmd)
{
    struct ftp_stat st;
    if (stat_file(s, cmd->arg, &st))
        ftp_reply(s, "213 %llu", (unsigned long long)st.size);
}

void ftp_cmd_mdtm(struct ftp_session *s, const struct ftp_cmd *cmd)
{
    struct ftp_stat st;
    char t[15];
    if (!stat_file(s, cmd->arg, &st))
        return;
    ftp_time_val(st.mtime, t);
    ftp_reply(s, "213 %s", t);
}

/* draft-somers-ftp-mfxx-04 §3: "MFMT time path" sets a file's modification time; the answer
 * is "213 Modify=time; path" with the path as given. Plain files only, as MDTM. */
void ftp_cmd_mfmt(struct ftp_session *s, const struct ftp_cmd *cmd)
{
    int64_t when;
    struct slice name;
    struct ftp_stat st;
    char path[FTP_PATH_MAX], t[15];
    if (ftp_parse_mfmt(cmd->arg, &when, &name) < 0)
        return ftp_reply_error(s, "501 MFMT needs YYYYMMDDHHMMSS and a pathname.");
    if (!writable(s) || !stat_file(s, name, &st) || !ftp_resolve(s, name, path))
        return;
    int rc = s->ops->set_mtime(s->ops_ctx, path, when);
    if (rc < 0)
        return ftp_reply_fs(s, rc);
    ftp_time_val(when, t);
    ftp_reply(s, "213 Modify=%s; %.*s", t, (int)name.len, name.p);
}

/* RFC 3659 §7.2: the facts of one object on the control connection, the line starting with
 * a space. */
void ftp_cmd_mlst(struct ftp_session *s, const struct ftp_cmd *cmd)
{
    char path[FTP_PATH_MAX];
    struct ftp_stat st;
    if (!ftp_resolve(s, cmd->has_arg ? cmd->arg : slice_cstr("."), path) || ftp_hidden(s, path))
        return;
    int rc = s->ops->stat(s->ops_ctx, path, &st);
    if (rc < 0)
        return ftp_reply_fs(s, rc);
    struct str t;
    str_init(&t);
    str_appendf(&t, "250-Listing %s\r\n ", path);
    ftp_mlsx_facts(&t, &st, FTP_MLSX_ENTRY, s->read_only, s->facts);
    str_appendf(&t, "%s\r\n250 End\r\n", path);
    ftp_reply_text(s, &t);
    str_clear(&t);
}
