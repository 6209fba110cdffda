/*
 * session_int — the SMTP session's private state, shared by session.c (framing, lifecycle),
 * session_cmds.c (one handler per verb), session_auth.c (SASL) and session_data.c (content).
 * Not for use outside src/smtp.
 */
#ifndef PIGEON_SMTP_SESSION_INT_H
#define PIGEON_SMTP_SESSION_INT_H

#include "smtp/cmd.h"
#include "smtp/data.h"
#include "smtp/session.h"

#include <time.h>

/* RFC 5321 §4.5.3.1.4: 512 octets including CRLF; AUTH lines may reach 12288 (RFC 4954 §4). */
#define SMTP_CMD_LINE_MAX 510
#define SMTP_AUTH_LINE_MAX 12288

enum smtp_state {
    SS_CONNECTED, /* no HELO/EHLO yet */
    SS_READY,     /* greeted, no transaction */
    SS_MAIL,      /* MAIL accepted */
    SS_RCPT,      /* at least one RCPT accepted */
    SS_DATA,      /* reading DATA content */
    SS_BDAT,      /* reading a BDAT chunk */
    SS_AUTH,      /* reading SASL responses */
};

enum smtp_auth_mech { AUTH_NONE, AUTH_PLAIN, AUTH_LOGIN };

struct smtp_session {
    struct smtp_server_config cfg;
    SESSION_BASE_MEMBER; /* id, peer_addr, listener, tls, closing, errors, io_arg */
    const struct smtp_io *io;
    const struct smtp_session_ops *ops;
    void *ops_ctx;

    enum smtp_state state;
    bool esmtp;
    char helo[256];
    char tls_desc[96];
    bool authenticated;
    char auth_user[256];

    struct str line;   /* partial input line */
    bool line_overflow;

    /* current transaction */
    struct smtp_txn txn;
    struct str trace;  /* headers from the sender check, placed above Received: */
    unsigned rcpt_cap;
    struct smtp_data data;
    bool bdat_active;  /* BDAT has started this transaction's content */
    bool bdat_last;
    const char *bdat_reject; /* reply to send once a refused chunk is consumed */

    /* SASL exchange */
    enum smtp_auth_mech auth_mech;
    char auth_login_user[256];

    bool waiting;      /* an ops call is outstanding */
    bool tls_pending;  /* STARTTLS answered; input paused until TLS starts */
    bool shutdown;
};

/* session.c */
void smtp_reply(struct smtp_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A reply caused by a client error: counts it and closes after too many. */
void smtp_reply_error(struct smtp_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void smtp_close(struct smtp_session *s);
void smtp_txn_reset(struct smtp_session *s);
/* After a transaction ends: back to READY, or 421 if the server is shutting down. */
void smtp_txn_finished(struct smtp_session *s);

/* session_cmds.c */
void smtp_cmd_dispatch(struct smtp_session *s, const char *line, size_t len);

/* session_auth.c */
/* AUTH in a phase the verb table allows (greeted, no transaction). */
void smtp_auth_begin(struct smtp_session *s, const struct smtp_cmd *cmd);
void smtp_auth_line(struct smtp_session *s, const char *line, size_t len);

/* session_data.c */
void smtp_content_begin(struct smtp_session *s);
void smtp_content_end(struct smtp_session *s);
/* BDAT in a phase the verb table allows (recipients accepted). */
void smtp_bdat_begin(struct smtp_session *s, const struct smtp_cmd *cmd);
void smtp_bdat_chunk_end(struct smtp_session *s);
/* Reads and drops a chunk of `size` octets, then sends `reply` (a refused BDAT). */
void smtp_bdat_discard(struct smtp_session *s, uint64_t size, const char *reply);
/* BURL (RFC 4468) in a phase the verb table allows: the URL's content as one more chunk. */
void smtp_burl(struct smtp_session *s, const struct smtp_cmd *cmd);

/* received.c */
void smtp_received_header(struct str *out, const struct smtp_session *s, time_t now);

#endif
