/*
 * session — the SMTP server state machine (RFC 5321, with PIPELINING, SIZE, 8BITMIME,
 * ENHANCEDSTATUSCODES, STARTTLS, AUTH, SMTPUTF8, CHUNKING and, on submission, BURL).
 *
 * The engine turns bytes into replies. It performs no I/O itself: it writes replies and asks
 * for TLS or close through `struct smtp_io`, and reaches policy and storage through
 * `struct smtp_session_ops`, both filled in by the daemon (daemon/smtp_glue.c, wiring.c).
 * Slow operations (password check, durable commit) are asynchronous: the engine pauses input
 * until the daemon calls smtp_session_auth_done() / smtp_session_commit_done().
 *
 * Memory: the session owns its transaction (addresses, message body); ops callbacks get
 * borrowed pointers valid until the matching *_done call.
 */
#ifndef PIGEON_SMTP_SESSION_H
#define PIGEON_SMTP_SESSION_H

#include "core/session_base.h"
#include "core/str.h"
#include "msg/addr.h"

#include <stdbool.h>
#include <stdint.h>

struct smtp_session;

struct smtp_server_config {
    const char *hostname;
    bool submission;          /* MAIL requires AUTH; Message-ID/Date added when missing */
    bool starttls;            /* STARTTLS offered (and TLS available) */
    bool auth;                /* AUTH offered (only ever once TLS is active) */
    uint64_t max_message_size;
    unsigned max_recipients;
    unsigned max_errors;
    bool check_sender;        /* call ops->mail_check at MAIL (SPF on the MX role) */
    bool reject_bare_line_ends; /* DATA with a bare CR or LF: 550 5.6.0 (else stored as CRLF) */
};

/* LOCAL: one user's INBOX (user_id); REMOTE: relayed as given; ROUTED: a local address the
 * daemon expands at commit (aliases, forwards, catch-alls: local users and/or remote
 * recipients, store/route.h). */
enum smtp_rcpt_kind { SMTP_RCPT_LOCAL, SMTP_RCPT_REMOTE, SMTP_RCPT_ROUTED };

struct smtp_rcpt {
    char addr[MAIL_PATH_MAX + 1]; /* "local@domain" as given (or the canonical target) */
    enum smtp_rcpt_kind kind;
    int64_t user_id;              /* store user id for SMTP_RCPT_LOCAL */
};

/* What a recipient check decided. */
enum smtp_rcpt_verdict {
    SMTP_RCPT_ACCEPT,         /* out->kind and out->user_id are set */
    SMTP_RCPT_NO_SUCH_USER,   /* 550 5.1.1 */
    SMTP_RCPT_RELAY_DENIED,   /* 554 5.7.1 */
    SMTP_RCPT_TEMPFAIL,       /* 451 4.3.0 */
    SMTP_RCPT_OVER_QUOTA,     /* 452 4.2.2 (RFC 3463: mailbox full) */
};

/* One mail transaction handed to the daemon at end of data. */
struct smtp_txn {
    char from[MAIL_PATH_MAX + 1]; /* reverse-path, "" for <> */
    bool smtputf8;
    struct smtp_rcpt *rcpts;
    unsigned nrcpt;
    struct str body;              /* Received: + [added headers] + content, CRLF line ends */
    char id[33];                  /* queue id, 32 hex digits: the same in Received:, the 250
                                   * reply, the log, `pigeon queue` and the stored file's name */
    const char *auth_user;        /* canonical user, NULL if not authenticated */
    bool requiretls;              /* MAIL FROM ... REQUIRETLS (RFC 8689 §4.1): the message is
                                   * tagged, every onward hop must be verified TLS */
};

struct smtp_io {
    void (*write)(void *io, const char *p, size_t n);
    /* The 220 reply to STARTTLS has been written; switch the connection to TLS now and
     * discard any input that arrived with the command (RFC 3207 §6, CVE-2011-0411). */
    void (*starttls)(void *io);
    /* Flush pending output and close; the daemon frees the session afterwards. */
    void (*close)(void *io);
};

struct smtp_session_ops {
    enum smtp_rcpt_verdict (*rcpt_check)(void *ctx, struct smtp_session *s,
                                         const struct mail_addr *rcpt, bool authenticated,
                                         struct smtp_rcpt *out);
    /* Checks credentials; must later call smtp_session_auth_done (possibly after a delay). */
    void (*auth_check)(void *ctx, struct smtp_session *s, const char *user, const char *pass);
    /* Optional (cfg.check_sender): judges the sender (SPF); must later call
     * smtp_session_mail_done. */
    void (*mail_check)(void *ctx, struct smtp_session *s, const char *from, const char *helo);
    /* Makes txn durable; must later call smtp_session_commit_done. */
    void (*commit)(void *ctx, struct smtp_session *s, struct smtp_txn *txn);
    /* Optional: BURL (RFC 4468) on a submission server. Appends to out what the
     * URLAUTH-authorized IMAP URL url[0..n) names, fetched for the authenticated user; 0, or a
     * negative ERR_* with *reply_out a complete reply ("554 5.6.6 ..."; 4xx when it may work
     * later). Blocking reads on the caller's thread (the store and one message file). */
    int (*burl_fetch)(void *ctx, struct smtp_session *s, const char *url, size_t n,
                      const char *user, struct str *out, const char **reply_out);
};

/* Creates a session; nothing is written until smtp_session_start. */
struct smtp_session *smtp_session_new(const struct smtp_server_config *cfg,
                                      const struct smtp_io *io, void *io_arg,
                                      const struct smtp_session_ops *ops, void *ops_ctx,
                                      const struct session_peer *peer, uint64_t id);
void smtp_session_free(struct smtp_session *s);
uint64_t smtp_session_id(const struct smtp_session *s);

/* Sends the 220 greeting. */
void smtp_session_start(struct smtp_session *s);
/* Refuses the connection: sends `reply` (e.g. a 421) and closes. */
void smtp_session_refuse(struct smtp_session *s, const char *reply);

/*
 * Feeds input. Returns how many bytes were consumed: all of them unless the session paused
 * (waiting for an asynchronous result, for TLS, or closing) — the caller keeps the rest and
 * feeds it again after the next *_done call or TLS start.
 */
size_t smtp_session_feed(struct smtp_session *s, const char *p, size_t n);
/* True while the session waits on auth_check/commit (input must not be fed). */
bool smtp_session_busy(const struct smtp_session *s);
/* True when the session has asked to be closed. */
bool smtp_session_closing(const struct smtp_session *s);

/* TLS is now active (after starttls, or implicit); TLS details for Received:. */
void smtp_session_tls_started(struct smtp_session *s, const char *version, const char *cipher);

void smtp_session_auth_done(struct smtp_session *s, bool ok, const char *canonical_user);
/* The sender check finished: reject is a complete reply ("550 5.7.23 ...") or NULL to accept;
 * trace is a header block to put above Received: (e.g. Received-SPF), or NULL. */
void smtp_session_mail_done(struct smtp_session *s, const char *reject, const char *trace);
/* rc 0: durable, `queue_id` names it; otherwise a temporary failure (451). */
void smtp_session_commit_done(struct smtp_session *s, int rc, const char *queue_id);
/* The message is refused by policy at end of data (e.g. DMARC p=reject): reply is a complete
 * 5xx reply ("550 5.7.1 ..."); nothing was stored. Ends the transaction like commit_done. */
void smtp_session_commit_refused(struct smtp_session *s, const char *reply);
/* The EHLO/HELO name the client gave ("" before it). */
const char *smtp_session_helo(const struct smtp_session *s);

/* Idle timeout or total session time exceeded: 421 4.4.2 and close. */
void smtp_session_timeout(struct smtp_session *s);
/* Server shutdown: idle sessions get 421 4.3.2 at once, others after their transaction. */
void smtp_session_shutdown(struct smtp_session *s);

#endif
