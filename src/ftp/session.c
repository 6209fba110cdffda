/*
 * session — the FTP session's lifecycle, line framing, replies and the verb table. The verbs
 * live in session_login.c, session_fs.c and session_data.c.
 */
#include "ftp/session_int.h"

#include "core/log.h"
#include "core/xmalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    LOGIN = 1,  /* only after a login (else 530) */
    DURING = 2, /* answered while a transfer runs (else held until it ends) */
};

struct ftp_verb_handler {
    unsigned flags;
    void (*run)(struct ftp_session *s, const struct ftp_cmd *cmd);
};

static void cmd_quit(struct ftp_session *s, const struct ftp_cmd *cmd)
{
    ftp_xfer_cancel(s);
    ftp_reply(s, "221 Goodbye.");
    ftp_close(s);
}

static void cmd_noop(struct ftp_session *s, const struct ftp_cmd *cmd)
{
    ftp_reply(s, "200 NOOP ok.");
}

static void cmd_syst(struct ftp_session *s, const struct ftp_cmd *cmd)
{
    ftp_reply(s, "215 UNIX Type: L8");
}

/* RFC 959 §4.1.1, §4.2: ACCT, ALLO and SMNT are superfluous here (202). */
static void cmd_superfluous(struct ftp_session *s, const struct ftp_cmd *cmd)
{
    ftp_reply(s, "202 %s not needed at this site.", ftp_verb_name(cmd->verb));
}

/* SITE's subcommands (CHMOD, UMASK ...) are none of this server's: 502, so that a client
 * reports the failure (a 202 is a success to lftp, FileZilla or curl -Q, and a SITE CHMOD
 * that changed nothing went unnoticed). */
static void cmd_site(struct ftp_session *s, const struct ftp_cmd *cmd)
{
    ftp_reply_error(s, "502 SITE commands are not implemented.");
}

static void cmd_rein(struct ftp_session *s, const struct ftp_cmd *cmd)
{
    ftp_reply_error(s, "502 REIN not implemented.");
}

static const struct ftp_verb_handler handlers[FTP_VERB_COUNT] = {
    [FTP_USER] = {0, ftp_cmd_user},
    [FTP_PASS] = {0, ftp_cmd_pass},
    [FTP_ACCT] = {0, cmd_superfluous},
    [FTP_QUIT] = {DURING, cmd_quit},
    [FTP_NOOP] = {DURING, cmd_noop},
    [FTP_SYST] = {0, cmd_syst},
    [FTP_FEAT] = {0, ftp_cmd_feat},
    [FTP_OPTS] = {0, ftp_cmd_opts},
    [FTP_HELP] = {0, ftp_cmd_help},
    [FTP_PWD] = {LOGIN, ftp_cmd_pwd},
    [FTP_CWD] = {LOGIN, ftp_cmd_cwd},
    [FTP_CDUP] = {LOGIN, ftp_cmd_cdup},
    [FTP_TYPE] = {LOGIN, ftp_cmd_type},
    [FTP_MODE] = {LOGIN, ftp_cmd_mode},
    [FTP_STRU] = {LOGIN, ftp_cmd_stru},
    [FTP_PASV] = {LOGIN, ftp_cmd_pasv},
    [FTP_EPSV] = {LOGIN, ftp_cmd_epsv},
    [FTP_PORT] = {LOGIN, ftp_cmd_port},
    [FTP_EPRT] = {LOGIN, ftp_cmd_eprt},
    [FTP_LIST] = {LOGIN, ftp_cmd_transfer},
    [FTP_NLST] = {LOGIN, ftp_cmd_transfer},
    [FTP_MLSD] = {LOGIN, ftp_cmd_transfer},
    [FTP_MLST] = {LOGIN, ftp_cmd_mlst},
    [FTP_RETR] = {LOGIN, ftp_cmd_transfer},
    [FTP_STOR] = {LOGIN, ftp_cmd_transfer},
    [FTP_STOU] = {LOGIN, ftp_cmd_transfer},
    [FTP_APPE] = {LOGIN, ftp_cmd_transfer},
    [FTP_REST] = {LOGIN, ftp_cmd_rest},
    [FTP_SIZE] = {LOGIN, ftp_cmd_size},
    [FTP_MDTM] = {LOGIN, ftp_cmd_mdtm},
    [FTP_DELE] = {LOGIN, ftp_cmd_dele},
    [FTP_MKD] = {LOGIN, ftp_cmd_mkd},
    [FTP_RMD] = {LOGIN, ftp_cmd_rmd},
    [FTP_RNFR] = {LOGIN, ftp_cmd_rnfr},
    [FTP_RNTO] = {LOGIN, ftp_cmd_rnto},
    [FTP_ABOR] = {DURING, ftp_cmd_abor},
    [FTP_STAT] = {DURING, ftp_cmd_stat},
    [FTP_AUTH] = {0, ftp_cmd_auth},
    [FTP_PBSZ] = {0, ftp_cmd_pbsz},
    [FTP_PROT] = {0, ftp_cmd_prot},
    [FTP_CCC] = {0, ftp_cmd_ccc},
    [FTP_ALLO] = {LOGIN, cmd_superfluous},
    [FTP_SITE] = {LOGIN, cmd_site},
    [FTP_SMNT] = {LOGIN, cmd_superfluous},
    [FTP_REIN] = {0, cmd_rein},
    [FTP_MFMT] = {LOGIN, ftp_cmd_mfmt},
};

struct ftp_session *ftp_session_new(const struct ftp_server_config *cfg, const struct ftp_io *io,
                                    void *io_arg, const struct ftp_session_ops *ops,
                                    void *ops_ctx, const struct ftp_peer *peer, uint64_t id)
{
    struct ftp_session *s = xcalloc(1, sizeof *s);
    s->cfg = *cfg;
    if (s->cfg.max_errors == 0)
        s->cfg.max_errors = 1;
    if (s->cfg.max_login_failures == 0)
        s->cfg.max_login_failures = 1;
    s->io = io;
    s->io_arg = io_arg;
    s->ops = ops;
    s->ops_ctx = ops_ctx;
    s->id = id;
    snprintf(s->peer_addr, sizeof s->peer_addr, "%s", peer->addr);
    s->peer_family = strchr(peer->addr, ':') ? 6 : 4;
    snprintf(s->listener, sizeof s->listener, "%s", peer->listener ? peer->listener : "");
    s->tls = peer->tls;
    s->ascii = true;
    s->facts = FACT_ALL;
    snprintf(s->cwd, sizeof s->cwd, "/");
    str_init(&s->line);
    return s;
}

void ftp_session_free(struct ftp_session *s)
{
    if (!s)
        return;
    str_clear(&s->line);
    explicit_bzero(s->user, sizeof s->user);
    free(s);
}

uint64_t ftp_session_id(const struct ftp_session *s)
{
    return s->id;
}

const char *ftp_session_user(const struct ftp_session *s)
{
    return s->login == FL_LOGGED_IN ? s->user : "";
}

const char *ftp_session_cwd(const struct ftp_session *s)
{
    return s->cwd;
}

static void reply_v(struct ftp_session *s, const char *fmt, va_list ap)
{
    char buf[FTP_PATH_MAX + 256];
    s->io->write(s->io_arg, buf, line_vformat(buf, sizeof buf, fmt, ap));
}

void ftp_reply(struct ftp_session *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    reply_v(s, fmt, ap);
    va_end(ap);
}

void ftp_reply_error(struct ftp_session *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    reply_v(s, fmt, ap);
    va_end(ap);
    if (++s->errors >= s->cfg.max_errors && !s->closing) {
        log_info("ftp " LOG_ID " too many errors from %s", LOG_IDV(s->id), s->peer_addr);
        ftp_xfer_cancel(s);
        ftp_reply(s, "421 Too many errors, closing control connection.");
        ftp_close(s);
    }
}

void ftp_reply_text(struct ftp_session *s, const struct str *text)
{
    s->io->write(s->io_arg, text->ptr, text->len);
}

void ftp_close(struct ftp_session *s)
{
    s->closing = true;
}

bool ftp_resolve(struct ftp_session *s, struct slice arg, char *out)
{
    if (ftp_path_resolve(s->cwd, arg, out, FTP_PATH_MAX) == 0)
        return true;
    ftp_reply_error(s, "553 File name not allowed.");
    return false;
}

bool ftp_hidden(struct ftp_session *s, const char *path)
{
    if (!s->read_only || !s->cfg.anon_upload[0] || !ftp_path_within(path, s->cfg.anon_upload))
        return false;
    ftp_reply_error(s, "550 Permission denied.");
    return true;
}

void ftp_reply_fs(struct ftp_session *s, int fs)
{
    switch (fs) {
    case FTP_FS_NOENT:
        return ftp_reply_error(s, "550 No such file or directory.");
    case FTP_FS_EXIST:
        return ftp_reply_error(s, "550 File exists.");
    case FTP_FS_PERM:
        return ftp_reply_error(s, "550 Permission denied.");
    case FTP_FS_NOTDIR:
        return ftp_reply_error(s, "550 Not a directory.");
    case FTP_FS_ISDIR:
        return ftp_reply_error(s, "550 Not a plain file.");
    case FTP_FS_NOTEMPTY:
        return ftp_reply_error(s, "550 Directory not empty.");
    case FTP_FS_NOSPACE:
        return ftp_reply(s, "452 Insufficient storage space.");
    case FTP_FS_BADNAME:
        return ftp_reply_error(s, "553 File name not allowed.");
    default:
        return ftp_reply(s, "451 Local error in processing.");
    }
}

void ftp_quote_path(const char *path, char *out, size_t cap)
{
    size_t w = 0;
    for (const char *p = path; *p && w + 3 < cap; p++) {
        out[w++] = *p;
        if (*p == '"')
            out[w++] = '"';
    }
    out[w] = '\0';
}

void ftp_session_start(struct ftp_session *s)
{
    log_info("ftp " LOG_ID " connect from %s to %s%s", LOG_IDV(s->id), s->peer_addr, s->listener,
             s->tls ? " (tls)" : "");
    ftp_reply(s, "220 Pigeon FTP server ready.");
}

void ftp_session_refuse(struct ftp_session *s, const char *reply)
{
    log_info("ftp " LOG_ID " refused %s: %s", LOG_IDV(s->id), s->peer_addr, reply);
    ftp_reply(s, "%s", reply);
    ftp_close(s);
}

static void dispatch(struct ftp_session *s, const struct ftp_cmd *cmd)
{
    const struct ftp_verb_handler *h = &handlers[cmd->verb];
    if ((h->flags & LOGIN) && s->login != FL_LOGGED_IN)
        return ftp_reply_error(s, "530 Please login with USER and PASS.");
    /* RFC 959 §4.1.3: RNTO must come right after RNFR. */
    if (cmd->verb != FTP_RNTO)
        s->have_rnfr = false;
    h->run(s, cmd);
}

/* One complete line in s->line (CR, LF removed): runs it, or holds it during a transfer. */
static void run_line(struct ftp_session *s)
{
    size_t len = ftp_telnet_strip(s->line.ptr, s->line.len);
    struct ftp_cmd cmd;
    int rc = ftp_cmd_parse(s->line.ptr, len, &cmd);
    if (s->xfer != FX_NONE && (rc < 0 || !(handlers[cmd.verb].flags & DURING))) {
        s->line.len = len;
        s->held = true;
        return;
    }
    if (rc < 0)
        ftp_reply_error(s, "%s", cmd.reply);
    else
        dispatch(s, &cmd);
    str_reset(&s->line);
}

/* Takes one line from the input (or buffers a partial one). Returns octets used. */
static size_t feed_line(struct ftp_session *s, const char *p, size_t n)
{
    const char *lf = memchr(p, '\n', n);
    size_t seg = lf ? (size_t)(lf - p) : n;
    if (s->line.len + seg > FTP_LINE_MAX)
        s->line_overflow = true;
    else
        str_append(&s->line, p, seg);
    if (!lf)
        return n;
    if (s->line.len && s->line.ptr[s->line.len - 1] == '\r')
        s->line.len--;
    if (s->line_overflow) {
        s->line_overflow = false;
        str_reset(&s->line);
        ftp_reply_error(s, "500 Command line too long.");
    } else {
        run_line(s);
    }
    return seg + 1;
}

size_t ftp_session_feed(struct ftp_session *s, const char *p, size_t n)
{
    size_t used = 0;
    while (used < n && !s->waiting && !s->closing && !s->tls_pending && !s->held)
        used += feed_line(s, p + used, n - used);
    return used;
}

bool ftp_session_busy(const struct ftp_session *s)
{
    return s->waiting;
}

bool ftp_session_closing(const struct ftp_session *s)
{
    return s->closing;
}

bool ftp_session_transferring(const struct ftp_session *s)
{
    return s->xfer != FX_NONE;
}

void ftp_session_run_held(struct ftp_session *s)
{
    if (!s->held || s->closing)
        return;
    s->held = false;
    run_line(s);
}

void ftp_session_tls_started(struct ftp_session *s, const char *version, const char *cipher)
{
    s->tls = true;
    s->tls_pending = false;
    /* RFC 4217 §4: what was said before TLS does not carry over. */
    s->login = FL_NEED_USER;
    s->anonymous_user = false;
    explicit_bzero(s->user, sizeof s->user);
    s->pbsz = false;
    s->prot_private = false;
    str_reset(&s->line);
    s->line_overflow = false;
    log_info("ftp " LOG_ID " tls %s with cipher %s", LOG_IDV(s->id), version, cipher);
}

void ftp_session_timeout(struct ftp_session *s)
{
    if (s->closing || s->xfer != FX_NONE || s->waiting) /* waiting: on us, not idle */
        return;
    log_info("ftp " LOG_ID " timeout from %s", LOG_IDV(s->id), s->peer_addr);
    ftp_reply(s, "421 Timeout: closing control connection.");
    ftp_close(s);
}

void ftp_session_shutdown(struct ftp_session *s)
{
    s->shutdown = true;
    if (s->closing || s->waiting)
        return;
    ftp_xfer_cancel(s);
    ftp_reply(s, "421 Service not available, closing control connection.");
    ftp_close(s);
}
