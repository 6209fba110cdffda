/*
 * The login and security verbs (RFC 959 USER/PASS, RFC 2228 + RFC 4217 AUTH TLS, PBSZ, PROT,
 * CCC) and the ones that describe the server (FEAT, OPTS, HELP, STAT).
 */
#include "ftp/session_int.h"

#include "core/log.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static bool anonymous_name(struct slice name)
{
    return slice_eq_ci(name, "anonymous") || slice_eq_ci(name, "ftp");
}

void ftp_cmd_user(struct ftp_session *s, const struct ftp_cmd *cmd)
{
    if (s->login == FL_LOGGED_IN)
        return ftp_reply_error(s, "530 Already logged in; cannot change user.");
    s->login = FL_NEED_USER;
    if (cmd->arg.len >= sizeof s->user)
        return ftp_reply_error(s, "501 User name too long.");
    if (anonymous_name(cmd->arg)) {
        if (!s->cfg.anonymous)
            return ftp_reply_error(s, "530 Anonymous login not allowed.");
        s->anonymous_user = true;
        snprintf(s->user, sizeof s->user, "anonymous");
        s->login = FL_NEED_PASS;
        return ftp_reply(s, "331 Anonymous login ok, send your e-mail address as password.");
    }
    /* RFC 4217 §4 and the mail services' rule: no password in clear text unless allowed. */
    if (!s->tls && !s->cfg.plaintext_ok)
        return ftp_reply_error(s, "530 Non-anonymous sessions must use encryption (AUTH TLS).");
    s->anonymous_user = false;
    memcpy(s->user, cmd->arg.p, cmd->arg.len);
    s->user[cmd->arg.len] = '\0';
    s->login = FL_NEED_PASS;
    ftp_reply(s, "331 Please specify the password.");
}

void ftp_cmd_pass(struct ftp_session *s, const struct ftp_cmd *cmd)
{
    if (s->login == FL_LOGGED_IN)
        return ftp_reply(s, "230 Already logged in.");
    if (s->login != FL_NEED_PASS)
        return ftp_reply_error(s, "503 Login with USER first.");
    char pass[FTP_LINE_MAX + 1];
    memcpy(pass, cmd->arg.p, cmd->arg.len);
    pass[cmd->arg.len] = '\0';
    s->waiting = true;
    s->ops->auth(s->ops_ctx, s, s->user, pass, s->anonymous_user);
    explicit_bzero(pass, sizeof pass);
}

void ftp_session_auth_done(struct ftp_session *s, enum ftp_auth_result r,
                           const char *canonical_user, bool read_only)
{
    s->waiting = false;
    if (s->shutdown) {
        ftp_reply(s, "421 Service not available, closing control connection.");
        return ftp_close(s);
    }
    if (r == FTP_AUTH_OK) {
        s->login = FL_LOGGED_IN;
        s->read_only = read_only;
        snprintf(s->user, sizeof s->user, "%s", canonical_user);
        snprintf(s->cwd, sizeof s->cwd, "/");
        log_info("ftp " LOG_ID " login %s from %s%s", LOG_IDV(s->id), s->user, s->peer_addr,
                 s->tls ? " (tls)" : "");
        return ftp_reply(s, "230 Login successful.");
    }
    s->login = FL_NEED_USER;
    if (r == FTP_AUTH_LIMIT) {
        log_info("ftp " LOG_ID " too many sessions of %s", LOG_IDV(s->id), s->user);
        ftp_reply(s, "421 Too many sessions for this user, closing control connection.");
        return ftp_close(s);
    }
    if (r == FTP_AUTH_NOHOME)
        return ftp_reply(s, "530 Cannot open the home directory.");
    /* the shared form of a failed login (fail2ban's filter): the address before the name the
     * client chose, so no name can pass for another address */
    log_info("ftp " LOG_ID " auth failed from %s user=%s", LOG_IDV(s->id), s->peer_addr,
             s->user);
    ftp_reply(s, "530 Login incorrect.");
    if (++s->login_failures >= s->cfg.max_login_failures) {
        ftp_reply(s, "421 Too many login failures, closing control connection.");
        ftp_close(s);
    }
}

void ftp_cmd_auth(struct ftp_session *s, const struct ftp_cmd *cmd)
{
    /* RFC 4217 §4: "TLS" (and the older "TLS-C", "SSL" some clients still send). */
    if (!slice_eq_ci(cmd->arg, "TLS") && !slice_eq_ci(cmd->arg, "TLS-C") &&
        !slice_eq_ci(cmd->arg, "SSL"))
        return ftp_reply_error(s, "504 Security mechanism not understood.");
    if (s->tls)
        return ftp_reply_error(s, "503 TLS is already active.");
    if (!s->cfg.tls_available)
        return ftp_reply_error(s, "431 TLS is not available.");
    if (s->login == FL_LOGGED_IN)
        return ftp_reply_error(s, "503 AUTH must come before login.");
    ftp_reply(s, "234 Proceed with negotiation.");
    s->tls_pending = true;
    s->io->starttls(s->io_arg);
}

void ftp_cmd_pbsz(struct ftp_session *s, const struct ftp_cmd *cmd)
{
    uint64_t v;
    if (!s->tls)
        return ftp_reply_error(s, "503 PBSZ needs a protected control connection (AUTH TLS).");
    if (ftp_parse_offset(cmd->arg, &v) < 0 || v > UINT32_MAX)
        return ftp_reply_error(s, "501 PBSZ needs a decimal size.");
    s->pbsz = true;
    /* RFC 4217 §9: TLS needs no buffer; the server answers PBSZ=0. */
    ftp_reply(s, "200 PBSZ=0");
}

void ftp_cmd_prot(struct ftp_session *s, const struct ftp_cmd *cmd)
{
    if (!s->tls)
        return ftp_reply_error(s, "503 PROT needs a protected control connection (AUTH TLS).");
    if (!s->pbsz)
        return ftp_reply_error(s, "503 PBSZ must come before PROT.");
    if (slice_eq_ci(cmd->arg, "P")) {
        s->prot_private = true;
        return ftp_reply(s, "200 Protection level set to Private.");
    }
    if (slice_eq_ci(cmd->arg, "C")) {
        if (s->cfg.require_prot)
            return ftp_reply_error(s, "534 Data connections must be protected here.");
        s->prot_private = false;
        return ftp_reply(s, "200 Protection level set to Clear.");
    }
    if (slice_eq_ci(cmd->arg, "S") || slice_eq_ci(cmd->arg, "E"))
        return ftp_reply_error(s, "536 Protection level not supported with TLS.");
    ftp_reply_error(s, "504 Protection level not understood.");
}

void ftp_cmd_ccc(struct ftp_session *s, const struct ftp_cmd *cmd)
{
    /* RFC 4217 §6: a server may refuse to clear the control connection. */
    ftp_reply_error(s, "534 The control connection stays protected.");
}

void ftp_cmd_feat(struct ftp_session *s, const struct ftp_cmd *cmd)
{
    struct str t;
    str_init(&t);
    /* RFC 2389 §3.2: each feature line starts with a space. */
    str_appends(&t, "211-Features:\r\n");
    if (s->cfg.tls_available || s->tls)
        str_appends(&t, " AUTH TLS\r\n PBSZ\r\n PROT\r\n");
    str_appends(&t, " EPRT\r\n EPSV\r\n MDTM\r\n MFMT\r\n MLST type*;size*;modify*;perm*;unique*;\r\n"
                    " PASV\r\n REST STREAM\r\n SIZE\r\n TVFS\r\n UTF8\r\n211 End\r\n");
    ftp_reply_text(s, &t);
    str_clear(&t);
}

static const struct {
    const char *name;
    unsigned bit;
} facts[] = {{"type", FACT_TYPE}, {"size", FACT_SIZE}, {"modify", FACT_MODIFY},
             {"perm", FACT_PERM}, {"unique", FACT_UNIQUE}};

/* OPTS MLST fact;fact;... (RFC 3659 §7.9): unknown facts are ignored; the reply lists the
 * ones now selected. */
static void opts_mlst(struct ftp_session *s, struct slice list)
{
    unsigned sel = 0;
    size_t start = 0;
    for (size_t i = 0; i <= list.len; i++) {
        if (i < list.len && list.p[i] != ';')
            continue;
        struct slice f = slice_make(list.p + start, i - start);
        for (size_t k = 0; k < sizeof facts / sizeof facts[0]; k++)
            if (slice_eq_ci(f, facts[k].name))
                sel |= facts[k].bit;
        start = i + 1;
    }
    s->facts = sel;
    char out[80] = "";
    size_t w = 0;
    for (size_t k = 0; k < sizeof facts / sizeof facts[0]; k++)
        if (sel & facts[k].bit)
            w += (size_t)snprintf(out + w, sizeof out - w, "%s;", facts[k].name);
    ftp_reply(s, "200 MLST OPTS %s", out);
}

void ftp_cmd_opts(struct ftp_session *s, const struct ftp_cmd *cmd)
{
    struct slice a = slice_trim(cmd->arg);
    size_t sp = 0;
    while (sp < a.len && a.p[sp] != ' ')
        sp++;
    struct slice name = slice_make(a.p, sp);
    struct slice rest = slice_trim(slice_make(a.p + sp, a.len - sp));
    if (slice_eq_ci(name, "UTF8") || slice_eq_ci(name, "UTF-8")) {
        /* RFC 2640: pathnames are UTF-8 always; the server keeps the octets as sent. */
        if (rest.len == 0 || slice_eq_ci(rest, "ON"))
            return ftp_reply(s, "200 UTF8 set to on.");
        return ftp_reply_error(s, "501 UTF8 is always on.");
    }
    if (slice_eq_ci(name, "MLST"))
        return opts_mlst(s, rest);
    ftp_reply_error(s, "501 Option not understood.");
}

void ftp_cmd_help(struct ftp_session *s, const struct ftp_cmd *cmd)
{
    struct str t;
    str_init(&t);
    str_appends(&t, "214-The following commands are recognized:\r\n");
    for (int v = FTP_UNKNOWN + 1, col = 0; v < FTP_VERB_COUNT; v++, col++) {
        str_appendf(&t, " %-4s", ftp_verb_name((enum ftp_verb)v));
        if (col % 12 == 11 || v == FTP_VERB_COUNT - 1)
            str_appends(&t, "\r\n");
    }
    str_appends(&t, "214 Help OK.\r\n");
    ftp_reply_text(s, &t);
    str_clear(&t);
}

static const char *data_mode_text(const struct ftp_session *s)
{
    return s->data_mode == FD_PASSIVE ? "passive" : s->data_mode == FD_ACTIVE ? "active" : "none";
}

static void stat_server(struct ftp_session *s)
{
    struct str t;
    str_init(&t);
    str_appends(&t, "211-Pigeon FTP server status:\r\n");
    str_appendf(&t, " Connected from %s\r\n", s->peer_addr);
    if (s->login == FL_LOGGED_IN)
        str_appendf(&t, " Logged in as %s\r\n", s->user);
    else
        str_appends(&t, " Not logged in\r\n");
    str_appendf(&t, " TYPE: %s; STRU: File; MODE: Stream\r\n", s->ascii ? "ASCII" : "BINARY");
    str_appendf(&t, " Control connection: %s; data: %s\r\n", s->tls ? "TLS" : "clear",
                s->prot_private ? "private" : "clear");
    if (s->xfer != FX_NONE)
        str_appendf(&t, " Transfer in progress: %llu octets moved\r\n",
                    (unsigned long long)s->ops->xfer_bytes(s->ops_ctx));
    else
        str_appendf(&t, " Data connection: %s\r\n", data_mode_text(s));
    str_appends(&t, "211 End of status\r\n");
    ftp_reply_text(s, &t);
    str_clear(&t);
}

/* STAT path: the listing over the control connection (RFC 959 §4.1.3, reply 213). */
static void stat_path(struct ftp_session *s, const struct ftp_cmd *cmd)
{
    char path[FTP_PATH_MAX];
    if (s->login != FL_LOGGED_IN)
        return ftp_reply_error(s, "530 Please login with USER and PASS.");
    if (!ftp_resolve(s, cmd->arg, path) || ftp_hidden(s, path))
        return;
    struct str t;
    str_init(&t);
    str_appendf(&t, "213-Status of %s:\r\n", path);
    int rc = s->ops->list(s->ops_ctx, path, FTP_LIST_LONG, &t);
    if (rc < 0) {
        str_clear(&t);
        return ftp_reply_fs(s, rc);
    }
    str_appends(&t, "213 End of status\r\n");
    ftp_reply_text(s, &t);
    str_clear(&t);
}

void ftp_cmd_stat(struct ftp_session *s, const struct ftp_cmd *cmd)
{
    if (cmd->has_arg && s->xfer == FX_NONE)
        return stat_path(s, cmd);
    stat_server(s);
}
