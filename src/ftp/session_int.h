/*
 * session_int — the FTP session's private state, shared by session.c (framing, replies,
 * lifecycle, the verb table), session_login.c (USER/PASS, AUTH TLS/PBSZ/PROT/CCC, FEAT, OPTS,
 * HELP, SYST, STAT), session_fs.c (the working directory and the file commands) and
 * session_data.c (TYPE/MODE/STRU, PASV/EPSV/PORT/EPRT, REST, transfers, ABOR). Not for use
 * outside src/ftp.
 */
#ifndef PIGEON_FTP_SESSION_INT_H
#define PIGEON_FTP_SESSION_INT_H

#include "core/str.h"
#include "ftp/cmd.h"
#include "ftp/path.h"
#include "ftp/session.h"

enum ftp_login { FL_NEED_USER, FL_NEED_PASS, FL_LOGGED_IN };
enum ftp_data_mode { FD_NONE, FD_PASSIVE, FD_ACTIVE };
enum ftp_xfer_state { FX_NONE, FX_PENDING, FX_OPEN };

struct ftp_session {
    struct ftp_server_config cfg;
    const struct ftp_io *io;
    void *io_arg;
    const struct ftp_session_ops *ops;
    void *ops_ctx;
    uint64_t id;
    char peer_addr[64];
    int peer_family; /* 4 or 6 */
    char listener[80];

    enum ftp_login login;
    bool anonymous_user; /* USER named the anonymous account */
    bool read_only;
    char user[256];      /* USER's name, then the canonical account */
    char cwd[FTP_PATH_MAX];
    unsigned errors;
    unsigned login_failures;

    bool tls;
    bool tls_pending;
    bool pbsz;
    bool prot_private;

    bool ascii;          /* TYPE A (the default, RFC 959 §3.1.1.1) */
    enum ftp_data_mode data_mode;
    bool epsv_all;
    uint64_t rest;
    bool have_rnfr;
    char rnfr[FTP_PATH_MAX];
    unsigned facts;      /* OPTS MLST selection */

    enum ftp_xfer_state xfer;
    enum ftp_xfer_kind xfer_kind;
    char stou_name[FTP_PATH_MAX];

    struct str line;     /* partial input line */
    bool line_overflow;
    bool held;           /* a complete line waits in `line` for the transfer to end */

    bool waiting;        /* ops->auth outstanding */
    bool closing;
    bool shutdown;
};

/* session.c */
void ftp_reply(struct ftp_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A reply to a client error: counts it, and after max_errors answers 421 and closes. */
void ftp_reply_error(struct ftp_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Writes a multi-line reply already formatted in text (CRLF line ends). */
void ftp_reply_text(struct ftp_session *s, const struct str *text);
void ftp_close(struct ftp_session *s);
/* Resolves a command's path argument against the working directory into out; replies 553
 * and returns false when it is too long. */
bool ftp_resolve(struct ftp_session *s, struct slice arg, char *out);
/* An anonymous session names something in the upload directory (ftp_server_config
 * .anon_upload), which it may not read, list or stat: replies 550 and returns true. */
bool ftp_hidden(struct ftp_session *s, const char *path);
/* The reply for a failed file operation (550/553/452/451). */
void ftp_reply_fs(struct ftp_session *s, int fs);
/* "quoted" path for 257 replies: every '"' doubled (RFC 959 Appendix II). */
void ftp_quote_path(const char *path, char *out, size_t cap);
/* After a transfer: the line held during it runs now. */
void ftp_session_run_held(struct ftp_session *s);

/* session_login.c */
void ftp_cmd_user(struct ftp_session *s, const struct ftp_cmd *cmd);
void ftp_cmd_pass(struct ftp_session *s, const struct ftp_cmd *cmd);
void ftp_cmd_auth(struct ftp_session *s, const struct ftp_cmd *cmd);
void ftp_cmd_pbsz(struct ftp_session *s, const struct ftp_cmd *cmd);
void ftp_cmd_prot(struct ftp_session *s, const struct ftp_cmd *cmd);
void ftp_cmd_ccc(struct ftp_session *s, const struct ftp_cmd *cmd);
void ftp_cmd_feat(struct ftp_session *s, const struct ftp_cmd *cmd);
void ftp_cmd_opts(struct ftp_session *s, const struct ftp_cmd *cmd);
void ftp_cmd_help(struct ftp_session *s, const struct ftp_cmd *cmd);
void ftp_cmd_stat(struct ftp_session *s, const struct ftp_cmd *cmd);

/* session_fs.c */
void ftp_cmd_pwd(struct ftp_session *s, const struct ftp_cmd *cmd);
void ftp_cmd_cwd(struct ftp_session *s, const struct ftp_cmd *cmd);
void ftp_cmd_cdup(struct ftp_session *s, const struct ftp_cmd *cmd);
void ftp_cmd_mkd(struct ftp_session *s, const struct ftp_cmd *cmd);
void ftp_cmd_rmd(struct ftp_session *s, const struct ftp_cmd *cmd);
void ftp_cmd_dele(struct ftp_session *s, const struct ftp_cmd *cmd);
void ftp_cmd_rnfr(struct ftp_session *s, const struct ftp_cmd *cmd);
void ftp_cmd_rnto(struct ftp_session *s, const struct ftp_cmd *cmd);
void ftp_cmd_size(struct ftp_session *s, const struct ftp_cmd *cmd);
void ftp_cmd_mdtm(struct ftp_session *s, const struct ftp_cmd *cmd);
void ftp_cmd_mfmt(struct ftp_session *s, const struct ftp_cmd *cmd);
void ftp_cmd_mlst(struct ftp_session *s, const struct ftp_cmd *cmd);

/* session_data.c */
void ftp_cmd_type(struct ftp_session *s, const struct ftp_cmd *cmd);
void ftp_cmd_mode(struct ftp_session *s, const struct ftp_cmd *cmd);
void ftp_cmd_stru(struct ftp_session *s, const struct ftp_cmd *cmd);
void ftp_cmd_pasv(struct ftp_session *s, const struct ftp_cmd *cmd);
void ftp_cmd_epsv(struct ftp_session *s, const struct ftp_cmd *cmd);
void ftp_cmd_port(struct ftp_session *s, const struct ftp_cmd *cmd);
void ftp_cmd_eprt(struct ftp_session *s, const struct ftp_cmd *cmd);
void ftp_cmd_rest(struct ftp_session *s, const struct ftp_cmd *cmd);
void ftp_cmd_transfer(struct ftp_session *s, const struct ftp_cmd *cmd);
void ftp_cmd_abor(struct ftp_session *s, const struct ftp_cmd *cmd);
/* Drops a transfer in progress (QUIT, shutdown): ops->abort and the 426 reply. */
void ftp_xfer_cancel(struct ftp_session *s);

#endif
