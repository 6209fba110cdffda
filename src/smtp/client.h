/*
 * client — the outbound SMTP client state machine (RFC 5321 §3, §4; PIPELINING RFC 2920,
 * STARTTLS RFC 3207, SIZE, 8BITMIME, SMTPUTF8). One instance drives one connection to one
 * remote MX and may carry several messages in turn (connection reuse).
 *
 * Pure like the server engine: bytes from the server go in through smtp_client_feed, commands
 * go out through `struct smtp_client_io`, outcomes come back through `struct
 * smtp_client_ops`. No sockets, no clock, no store.
 */
#ifndef PIGEON_SMTP_CLIENT_H
#define PIGEON_SMTP_CLIENT_H

#include "core/str.h"

#include <stdbool.h>
#include <stddef.h>

struct smtp_client;

enum smtp_tls_policy {
    SMTP_TLS_NONE,          /* never STARTTLS */
    SMTP_TLS_OPPORTUNISTIC, /* STARTTLS when offered, plain otherwise */
    SMTP_TLS_REQUIRED,      /* no delivery without TLS */
};

struct smtp_client_config {
    const char *helo_name;  /* our hostname for EHLO */
    enum smtp_tls_policy tls;
};

/* One message to send; the caller keeps it alive until ops->done. */
struct smtp_client_msg {
    const char *from;              /* reverse-path, "" for <> */
    const char *const *rcpts;
    size_t nrcpt;
    const char *body;              /* CRLF text, not dot-stuffed */
    size_t body_len;
    bool eightbit;                 /* send BODY=8BITMIME when offered */
    bool smtputf8;                 /* needs SMTPUTF8; refused if the server lacks it */
    /* RFC 8689: MAIL ... REQUIRETLS when the server offers it over TLS; with
     * requiretls_required a session without TLS or without the offer refuses the message
     * (550 5.7.30) instead of sending it without. */
    bool requiretls;
    bool requiretls_required;
};

/* The outcome of one message: a reply per recipient (the RCPT reply if it failed, else
 * the reply to the end of data). */
struct smtp_client_result {
    const int *codes;              /* per recipient */
    const char *const *texts;      /* per recipient: the server's reply lines */
    size_t n;
};

struct smtp_client_io {
    void (*write)(void *io, const char *p, size_t n);
    void (*starttls)(void *io);    /* begin the TLS handshake; call smtp_client_tls_done */
    void (*close)(void *io);
};

struct smtp_client_ops {
    /* The session is established (greeting, EHLO, TLS as policy says): send a message or
     * quit. Also called again after each message. */
    void (*ready)(void *ctx, struct smtp_client *c);
    void (*done)(void *ctx, struct smtp_client *c, const struct smtp_client_result *r);
    /* The connection cannot carry (more) mail: code is the server's (or 421 when it broke the
     * protocol, or 0 for a local policy failure such as TLS required), text says why. */
    void (*failed)(void *ctx, struct smtp_client *c, int code, const char *text);
};

struct smtp_client *smtp_client_new(const struct smtp_client_config *cfg,
                                    const struct smtp_client_io *io, void *io_arg,
                                    const struct smtp_client_ops *ops, void *ctx);
void smtp_client_free(struct smtp_client *c);

/* Bytes from the server. Returns the bytes consumed (all, unless it stopped). */
size_t smtp_client_feed(struct smtp_client *c, const char *p, size_t n);
/* The TLS handshake finished (ok) or failed. */
void smtp_client_tls_done(struct smtp_client *c, bool ok);
/* Sends a message; only between ready and done. */
void smtp_client_send(struct smtp_client *c, const struct smtp_client_msg *m);

/* Appends the DATA form of a message body to out: lines ending in CRLF (a bare CR or LF
 * becomes CRLF), a leading dot doubled, then ".\r\n". Pure. */
void smtp_client_dot_stuff(const char *body, size_t len, struct str *out);
/* Sends QUIT and closes. */
void smtp_client_quit(struct smtp_client *c);
/* The connection dropped or timed out: ops->failed with 421-like text if a message was
 * in flight. */
void smtp_client_abort(struct smtp_client *c, const char *why);
bool smtp_client_tls_active(const struct smtp_client *c);
/* The server's extensions after EHLO. */
bool smtp_client_has_pipelining(const struct smtp_client *c);
/* The server offered REQUIRETLS in its last EHLO reply (RFC 8689 §2). */
bool smtp_client_has_requiretls(const struct smtp_client *c);

#endif
