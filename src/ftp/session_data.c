/*
 * Data connections and transfers: TYPE/MODE/STRU (RFC 959 §3.1-3.4), PASV/PORT (§4.1.2),
 * EPSV/EPRT (RFC 2428), REST (RFC 3659 §5), RETR/STOR/STOU/APPE/LIST/NLST/MLSD and ABOR.
 *
 * PORT and EPRT name only the client's own address and a port >= 1024 (RFC 2577 §3: no
 * bounce through this server); the glue accepts a passive connection only from the client's
 * address. A data setup (PASV/EPSV/PORT/EPRT) serves one transfer.
 */
#include "ftp/session_int.h"

#include "core/log.h"

#include <stdio.h>
#include <string.h>

void ftp_cmd_type(struct ftp_session *s, const struct ftp_cmd *cmd)
{
    struct slice a = slice_trim(cmd->arg);
    /* TYPE A [N], TYPE I, TYPE L 8 (RFC 959 §4.1.2: the format N is the default). */
    if (slice_eq_ci(a, "A") || slice_eq_ci(a, "A N")) {
        s->ascii = true;
        return ftp_reply(s, "200 Switching to ASCII mode.");
    }
    if (slice_eq_ci(a, "I") || slice_eq_ci(a, "L 8") || slice_eq_ci(a, "L8")) {
        s->ascii = false;
        return ftp_reply(s, "200 Switching to Binary mode.");
    }
    if (a.len > 0 && strchr("AaEeLl", a.p[0]))
        return ftp_reply_error(s, "504 Command not implemented for that parameter.");
    ftp_reply_error(s, "501 Unrecognised TYPE command.");
}

/* MODE and STRU: only Stream mode and File structure (RFC 959 §5.1 minimum). */
static void only_one(struct ftp_session *s, const struct ftp_cmd *cmd, const char *ok,
                     const char *others, const char *what)
{
    struct slice a = slice_trim(cmd->arg);
    if (slice_eq_ci(a, ok))
        return ftp_reply(s, "200 %s set to %s.", what, ok);
    if (a.len == 1 && strchr(others, a.p[0]))
        return ftp_reply_error(s, "504 Command not implemented for that parameter.");
    ftp_reply_error(s, "501 Unrecognised %s.", what);
}

void ftp_cmd_mode(struct ftp_session *s, const struct ftp_cmd *cmd)
{
    only_one(s, cmd, "S", "BCbc", "Mode");
}

void ftp_cmd_stru(struct ftp_session *s, const struct ftp_cmd *cmd)
{
    only_one(s, cmd, "F", "RPrp", "Structure");
}

/* RFC 2428 §4: after EPSV ALL every other data setup is refused. */
static bool epsv_all_refuses(struct ftp_session *s)
{
    if (!s->epsv_all)
        return false;
    ftp_reply_error(s, "503 EPSV ALL is in effect; use EPSV.");
    return true;
}

void ftp_cmd_pasv(struct ftp_session *s, const struct ftp_cmd *cmd)
{
    struct ftp_hostport hp;
    char text[64];
    if (epsv_all_refuses(s))
        return;
    s->data_mode = FD_NONE;
    if (s->ops->passive(s->ops_ctx, false, &hp) < 0 ||
        ftp_format_pasv(&hp, text, sizeof text) < 0) {
        s->ops->abort(s->ops_ctx);
        return ftp_reply(s, "425 Cannot open passive connection; try EPSV.");
    }
    s->data_mode = FD_PASSIVE;
    ftp_reply(s, "227 Entering Passive Mode %s.", text);
}

void ftp_cmd_epsv(struct ftp_session *s, const struct ftp_cmd *cmd)
{
    struct slice a = slice_trim(cmd->arg);
    if (slice_eq_ci(a, "ALL")) {
        s->epsv_all = true;
        return ftp_reply(s, "200 EPSV ALL ok.");
    }
    if (a.len > 0) {
        bool known = slice_eq(a, "1") || slice_eq(a, "2");
        if (!known || (a.p[0] == '1' ? 4 : 6) != s->peer_family)
            return ftp_reply_error(s, "522 Network protocol not supported, use (%d)",
                                   s->peer_family == 4 ? 1 : 2);
    }
    struct ftp_hostport hp;
    s->data_mode = FD_NONE;
    if (s->ops->passive(s->ops_ctx, true, &hp) < 0) {
        s->ops->abort(s->ops_ctx);
        return ftp_reply(s, "425 Cannot open passive connection.");
    }
    s->data_mode = FD_PASSIVE;
    ftp_reply(s, "229 Entering Extended Passive Mode (|||%u|).", (unsigned)hp.port);
}

/* PORT/EPRT: only to the client itself, on an unprivileged port (RFC 2577 §3). */
static void set_active(struct ftp_session *s, const struct ftp_hostport *hp, const char *verb)
{
    if (strcmp(hp->addr, s->peer_addr) != 0 || hp->port < 1024) {
        log_info("ftp " LOG_ID " refused %s to %s port %u from %s", LOG_IDV(s->id), verb,
                 hp->addr, (unsigned)hp->port, s->peer_addr);
        return ftp_reply_error(s, "504 %s only to your own address and a port above 1023.",
                               verb);
    }
    s->ops->abort(s->ops_ctx); /* a passive listener set up before goes */
    s->ops->active(s->ops_ctx, hp);
    s->data_mode = FD_ACTIVE;
    ftp_reply(s, "200 %s command successful.", verb);
}

void ftp_cmd_port(struct ftp_session *s, const struct ftp_cmd *cmd)
{
    struct ftp_hostport hp;
    if (epsv_all_refuses(s))
        return;
    if (ftp_parse_port(cmd->arg, &hp) < 0)
        return ftp_reply_error(s, "501 Illegal PORT command.");
    set_active(s, &hp, "PORT");
}

void ftp_cmd_eprt(struct ftp_session *s, const struct ftp_cmd *cmd)
{
    struct ftp_hostport hp;
    if (epsv_all_refuses(s))
        return;
    int rc = ftp_parse_eprt(cmd->arg, &hp);
    if (rc == 1)
        return ftp_reply_error(s, "522 Network protocol not supported, use (1,2)");
    if (rc < 0)
        return ftp_reply_error(s, "501 Illegal EPRT command.");
    set_active(s, &hp, "EPRT");
}

void ftp_cmd_rest(struct ftp_session *s, const struct ftp_cmd *cmd)
{
    uint64_t off;
    if (ftp_parse_offset(cmd->arg, &off) < 0)
        return ftp_reply_error(s, "501 REST needs a decimal octet offset.");
    s->rest = off;
    ftp_reply(s, "350 Restart position accepted (%llu).", (unsigned long long)off);
}

static enum ftp_xfer_kind kind_of(enum ftp_verb v)
{
    switch (v) {
    case FTP_RETR:
        return FTP_XFER_RETR;
    case FTP_STOR:
        return FTP_XFER_STOR;
    case FTP_APPE:
        return FTP_XFER_APPE;
    case FTP_STOU:
        return FTP_XFER_STOU;
    case FTP_NLST:
        return FTP_XFER_NLST;
    case FTP_MLSD:
        return FTP_XFER_MLSD;
    default:
        return FTP_XFER_LIST;
    }
}

/* LIST and NLST: clients add ls options ("-la", "-a dir"); they are skipped. */
static struct slice list_arg(const struct ftp_cmd *cmd)
{
    struct slice a = slice_trim(cmd->arg);
    while (a.len > 0 && a.p[0] == '-') {
        size_t i = 0;
        while (i < a.len && a.p[i] != ' ')
            i++;
        a = slice_trim(slice_make(a.p + i, a.len - i));
    }
    return a.len ? a : slice_cstr(".");
}

static bool is_write(enum ftp_xfer_kind k)
{
    return k == FTP_XFER_STOR || k == FTP_XFER_APPE || k == FTP_XFER_STOU;
}

/* A read-only (anonymous) session: reads outside the upload directory; writes only as new
 * files right in it (STOR, STOU), from the start. Replies 550 and returns false otherwise. */
static bool anonymous_may(struct ftp_session *s, enum ftp_xfer_kind kind, const char *path,
                          uint64_t rest)
{
    if (!is_write(kind))
        return !ftp_hidden(s, path);
    if (s->cfg.anon_upload[0] && kind != FTP_XFER_APPE && rest == 0 &&
        ftp_path_in_dir(path, s->cfg.anon_upload))
        return true;
    ftp_reply_error(s, "550 Permission denied.");
    return false;
}

void ftp_cmd_transfer(struct ftp_session *s, const struct ftp_cmd *cmd)
{
    enum ftp_xfer_kind kind = kind_of(cmd->verb);
    struct slice arg = kind == FTP_XFER_LIST || kind == FTP_XFER_NLST ? list_arg(cmd)
                       : cmd->has_arg                                ? cmd->arg
                                                                     : slice_cstr(".");
    char path[FTP_PATH_MAX];
    uint64_t rest = s->rest;
    s->rest = 0;
    if (s->data_mode == FD_NONE)
        return ftp_reply_error(s, "425 Use PORT or PASV first.");
    if (s->tls && s->cfg.require_prot && !s->prot_private)
        return ftp_reply_error(s, "521 Data connections must be protected (PROT P).");
    if (!ftp_resolve(s, arg, path))
        return;
    if (kind == FTP_XFER_STOU && !cmd->has_arg)
        snprintf(path + strlen(path), sizeof path - strlen(path), "%sftp.upload",
                 strcmp(path, "/") == 0 ? "" : "/");
    if (s->read_only && !anonymous_may(s, kind, path, rest))
        return;
    char shown[FTP_PATH_MAX] = "";
    bool listing = kind == FTP_XFER_LIST || kind == FTP_XFER_NLST;
    if (listing && !slice_eq(arg, ".") && arg.len < sizeof shown) {
        memcpy(shown, arg.p, arg.len);
        shown[arg.len] = '\0';
    }
    struct ftp_xfer x = {
        .kind = kind,
        .path = path,
        .offset = kind == FTP_XFER_RETR || kind == FTP_XFER_STOR ? rest : 0,
        .ascii = s->ascii,
        .tls = s->tls && s->prot_private,
        .read_only = s->read_only,
        .create_only = s->read_only && is_write(kind),
        .facts = s->facts,
        .shown = shown,
    };
    s->xfer = FX_PENDING;
    s->xfer_kind = kind;
    s->data_mode = FD_NONE;
    s->ops->xfer(s->ops_ctx, s, &x);
}

void ftp_session_xfer_open(struct ftp_session *s, int64_t size, const char *name)
{
    if (s->xfer != FX_PENDING)
        return;
    s->xfer = FX_OPEN;
    const char *mode = s->ascii ? "ASCII" : "BINARY";
    switch (s->xfer_kind) {
    case FTP_XFER_RETR:
        if (size >= 0)
            return ftp_reply(s, "150 Opening %s mode data connection (%lld bytes).", mode,
                             (long long)size);
        return ftp_reply(s, "150 Opening %s mode data connection.", mode);
    case FTP_XFER_STOU:
        /* RFC 1123 §4.1.2.9: the 150 reply names the file. */
        snprintf(s->stou_name, sizeof s->stou_name, "%s", name ? name : "");
        return ftp_reply(s, "150 FILE: %s", s->stou_name);
    case FTP_XFER_STOR:
    case FTP_XFER_APPE:
        return ftp_reply(s, "150 Ok to send data (%s mode).", mode);
    default:
        return ftp_reply(s, "150 Here comes the directory listing.");
    }
}

void ftp_session_xfer_done(struct ftp_session *s, enum ftp_xfer_result r, int fs)
{
    if (s->xfer == FX_NONE)
        return;
    bool opened = s->xfer == FX_OPEN;
    s->xfer = FX_NONE;
    switch (r) {
    case FTP_XFER_OK:
        if (s->xfer_kind == FTP_XFER_STOU)
            ftp_reply(s, "226 Transfer complete (unique file name: %s).", s->stou_name);
        else
            ftp_reply(s, "226 Transfer complete.");
        break;
    case FTP_XFER_NOCONN:
        ftp_reply(s, "425 Cannot open data connection.");
        break;
    case FTP_XFER_LOST:
        ftp_reply(s, "426 Connection closed; transfer aborted.");
        break;
    case FTP_XFER_NOSPACE:
        ftp_reply(s, "452 Insufficient storage space.");
        break;
    case FTP_XFER_TLS_REUSE:
        ftp_reply(s, "522 Data connections must resume the control connection's TLS session.");
        break;
    case FTP_XFER_TIMEOUT:
        ftp_reply(s, "421 Data connection timed out, closing control connection.");
        ftp_close(s);
        return;
    case FTP_XFER_FS:
        if (!opened) {
            ftp_reply_fs(s, fs);
            break;
        }
        /* a file error after 150 */
        __attribute__((fallthrough));
    case FTP_XFER_IOERR:
        ftp_reply(s, "451 Local error in processing; transfer aborted.");
        break;
    }
    ftp_session_run_held(s);
}

void ftp_xfer_cancel(struct ftp_session *s)
{
    s->data_mode = FD_NONE;
    s->ops->abort(s->ops_ctx);
    if (s->xfer == FX_NONE)
        return;
    s->xfer = FX_NONE;
    s->held = false;
    str_reset(&s->line);
    ftp_reply(s, "426 Connection closed; transfer aborted.");
}

/* RFC 959 §4.1.3 ABOR: 426 for the transfer cut, then 226 for ABOR itself; with no transfer,
 * 226 alone (a data setup waiting is dropped). */
void ftp_cmd_abor(struct ftp_session *s, const struct ftp_cmd *cmd)
{
    bool running = s->xfer != FX_NONE;
    if (running)
        log_info("ftp " LOG_ID " %s aborted a transfer", LOG_IDV(s->id), s->user);
    ftp_xfer_cancel(s);
    ftp_reply(s, running ? "226 Abort successful." : "226 No transfer to abort.");
}
