/*
 * session_int — the POP3 session's private state, shared by session.c (framing, replies,
 * lifecycle), session_auth.c (AUTHORIZATION state), session_cmds.c (the verb table and the
 * TRANSACTION and UPDATE states) and session_send.c (RETR/TOP in bursts). Not for use outside
 * src/pop3.
 */
#ifndef PIGEON_POP3_SESSION_INT_H
#define PIGEON_POP3_SESSION_INT_H

#include "core/str.h"
#include "pop3/cmd.h"
#include "pop3/session.h"

/* RFC 5034 §4 lets a SASL response exceed the 255-octet command limit; PLAIN needs ~1 KB. */
#define POP3_SASL_LINE_MAX 4096
/* Bytes read from a message per ops->msg_read, and written per burst before pausing for
 * pop3_session_writable. */
#define POP3_READ_CHUNK ((size_t)64 * 1024)
#define POP3_SEND_BURST ((size_t)256 * 1024)

enum pop3_state {
    P3_AUTHORIZATION, /* RFC 1939 §4: until the maildrop is open */
    P3_SASL,          /* AUTH PLAIN sent "+ ": reading the client's response line */
    P3_TRANSACTION,   /* §5 */
    P3_UPDATE,        /* §6: QUIT received, removals in progress */
};

/* A RETR or TOP being sent. */
struct pop3_send {
    bool active;
    bool bol;     /* the next octet starts a line (dot-stuffing, TOP's line count) */
    bool top;     /* TOP: stop after `lines_left` body lines */
    bool in_body; /* TOP: the empty line ending the header has been sent */
    uint32_t lines_left;
    size_t line_len; /* octets of the current line so far (TOP: is it the empty line?) */
    char last;       /* the last octet sent (TOP: "\r\n" vs "\n") */
    char *buf;       /* POP3_READ_CHUNK octets while sending */
    struct str out;  /* the dot-stuffed burst being written */
};

struct pop3_session {
    struct pop3_server_config cfg;
    SESSION_BASE_MEMBER; /* id, peer_addr, listener, tls, closing, errors, io_arg */
    const struct pop3_io *io;
    const struct pop3_session_ops *ops;
    void *ops_ctx;

    enum pop3_state state;
    bool have_user; /* USER accepted, PASS may follow */
    char user[256]; /* the USER name, then the canonical user once logged in */

    struct str line; /* partial input line */
    bool line_overflow;

    /* the maildrop, fixed at login (RFC 1939 §5: message numbers do not change) */
    uint64_t uidvalidity;
    struct pop3_msg *msgs;
    bool *deleted;
    size_t nmsgs;
    size_t ndeleted;
    uint64_t total_size;   /* every message */
    uint64_t deleted_size; /* the ones marked deleted */
    bool maildrop_open;

    struct pop3_send send;

    bool waiting; /* an ops call is outstanding */
    bool tls_pending; /* STLS answered; input paused until TLS starts */
    bool shutdown;
};

/* session.c */
void pop3_reply(struct pop3_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A reply caused by a client error: counts it and closes after too many. */
void pop3_reply_error(struct pop3_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void pop3_close(struct pop3_session *s);
/* True when the session can log in now: TLS is active or plain text is allowed. */
bool pop3_can_login(const struct pop3_session *s);
/* After a command finished: closes if the server is shutting down. */
void pop3_idle_check(struct pop3_session *s);
/* Leaves the maildrop (ops->maildrop_close) if it is open. */
void pop3_maildrop_leave(struct pop3_session *s);

/* session_cmds.c */
void pop3_cmd_dispatch(struct pop3_session *s, const char *line, size_t len);

/* session_auth.c: the AUTHORIZATION-state verbs and CAPA */
void pop3_cmd_user(struct pop3_session *s, const struct pop3_cmd *cmd);
void pop3_cmd_pass(struct pop3_session *s, const struct pop3_cmd *cmd);
void pop3_cmd_auth(struct pop3_session *s, const struct pop3_cmd *cmd);
void pop3_cmd_stls(struct pop3_session *s, const struct pop3_cmd *cmd);
void pop3_cmd_capa(struct pop3_session *s, const struct pop3_cmd *cmd);
/* One line of a SASL exchange (state P3_SASL). */
void pop3_sasl_line(struct pop3_session *s, const char *line, size_t len);

/* session_send.c */
/* Starts sending the message opened with ops->msg_open (RETR: top == false; TOP: the header
 * and `lines` body lines) after "+OK ..." has been written; sends the first burst. */
void pop3_send_begin(struct pop3_session *s, bool top, uint32_t lines);
/* Sends the next burst; ends the message (".") when it is all sent. */
void pop3_send_pump(struct pop3_session *s);
/* Stops sending (closing the message) without ending it: the connection is going away. */
void pop3_send_abort(struct pop3_session *s);

#endif
