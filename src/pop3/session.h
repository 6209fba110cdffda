/*
 * session — the POP3 server state machine: RFC 1939 (AUTHORIZATION, TRANSACTION, UPDATE),
 * RFC 2449 (CAPA, response codes, PIPELINING), RFC 2595 (STLS), RFC 5034 (AUTH PLAIN).
 *
 * The engine turns bytes into replies. It performs no I/O itself: it writes through
 * `struct pop3_io`, and reaches authentication and the maildrop through
 * `struct pop3_session_ops`, both filled in by the daemon (daemon/pop3_glue.c,
 * daemon/wiring_pop3.c). The password check, opening the maildrop and the UPDATE state's
 * removals are asynchronous: the engine pauses input until the matching *_done call. Message
 * text is pulled through ops->msg_read in bounded bursts: a RETR or TOP of a large message
 * pauses input after each burst until the daemon calls pop3_session_writable() (its output has
 * drained), so a session never holds a whole message in memory.
 *
 * Memory: the session owns its copy of the maildrop listing (numbers, sizes, uids, deletion
 * marks); ops callbacks get borrowed pointers valid until they return.
 */
#ifndef PIGEON_POP3_SESSION_H
#define PIGEON_POP3_SESSION_H

#include "core/session_base.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct pop3_session;

struct pop3_server_config {
    bool stls;         /* STLS offered (TLS available and not already implicit) */
    bool plaintext_ok; /* USER/PASS and AUTH PLAIN allowed before TLS (config + peer) */
    unsigned max_errors;
};

/* One message of the maildrop, as the daemon lists it when the maildrop is opened. */
struct pop3_msg {
    uint64_t uid;  /* the store's uid: with uidvalidity it makes the UIDL string */
    uint64_t size; /* octets RETR sends (before dot-stuffing), RFC 1939 §5 LIST */
};

/* Results of maildrop_open. */
enum pop3_maildrop_result {
    POP3_MAILDROP_OK = 0,
    POP3_MAILDROP_IN_USE,  /* another session holds it: -ERR [IN-USE] (RFC 2449 §8.1.1) */
    POP3_MAILDROP_TEMPFAIL /* store failure: -ERR [SYS/TEMP] */
};

struct pop3_io {
    void (*write)(void *io, const char *p, size_t n);
    /* "+OK Begin TLS negotiation" has been written; switch to TLS now and discard any input
     * that came with the command (RFC 2595 §4). Input stays paused until tls_started. */
    void (*starttls)(void *io);
};

struct pop3_session_ops {
    /* Checks credentials; must later call pop3_session_auth_done (possibly after a delay). */
    void (*auth)(void *ctx, struct pop3_session *s, const char *user, const char *pass);
    /* Locks and lists the maildrop of canonical user; must later call
     * pop3_session_maildrop_done. */
    void (*maildrop_open)(void *ctx, struct pop3_session *s, const char *user);
    /* Opens message index (0-based, in the order maildrop_done listed) for reading; 0 or < 0.
     * At most one message is open at a time. May block on disk I/O (briefly). */
    int (*msg_open)(void *ctx, size_t index);
    /* Reads up to cap bytes of the open message: bytes read, 0 at its end, < 0 on error. */
    ssize_t (*msg_read)(void *ctx, char *buf, size_t cap);
    void (*msg_close)(void *ctx);
    /* UPDATE state: removes the messages with these uids; must later call
     * pop3_session_update_done. Never called for zero messages. */
    void (*update)(void *ctx, struct pop3_session *s, const uint64_t *uids, size_t n);
    /* The session leaves the maildrop: unlock it (called before the QUIT reply is sent, so a
     * client reconnecting at once finds it free). Also done by the daemon when it frees. */
    void (*maildrop_close)(void *ctx);
};

/* Creates a session; nothing is written until pop3_session_start. */
struct pop3_session *pop3_session_new(const struct pop3_server_config *cfg,
                                      const struct pop3_io *io, void *io_arg,
                                      const struct pop3_session_ops *ops, void *ops_ctx,
                                      const struct session_peer *peer, uint64_t id);
/* Frees the session (closing an open message through ops->msg_close). Never inside one of
 * its own calls. */
void pop3_session_free(struct pop3_session *s);
uint64_t pop3_session_id(const struct pop3_session *s);

/* Sends the greeting "+OK Pigeon POP3 server ready". */
void pop3_session_start(struct pop3_session *s);
/* Refuses the connection: sends `reply` (an -ERR line without CRLF) and closes. */
void pop3_session_refuse(struct pop3_session *s, const char *reply);

/*
 * Feeds input. Returns how many bytes were consumed: all of them unless the session paused
 * (an asynchronous result outstanding, a message being sent, TLS starting, or closing) — the
 * caller keeps the rest and feeds it again after the next *_done / writable call or TLS start.
 */
size_t pop3_session_feed(struct pop3_session *s, const char *p, size_t n);
/* True while an ops call is outstanding (auth, maildrop_open, update): the session must not be
 * freed before its *_done arrives, and input must not be fed. */
bool pop3_session_busy(const struct pop3_session *s);
/* True while a message is being sent in bursts (wants pop3_session_writable). */
bool pop3_session_sending(const struct pop3_session *s);
/* True when the session has asked to be closed (flush output, then free it). */
bool pop3_session_closing(const struct pop3_session *s);

/* The output written so far has drained: send the next burst of a message being sent. */
void pop3_session_writable(struct pop3_session *s);
/* TLS is now active (after STLS). */
void pop3_session_tls_started(struct pop3_session *s, const char *version, const char *cipher);

/* ok: credentials valid for canonical_user. */
void pop3_session_auth_done(struct pop3_session *s, bool ok, const char *canonical_user);
/* result OK: msgs[0..n) (copied) are the maildrop, numbered 1..n for the session. */
void pop3_session_maildrop_done(struct pop3_session *s, enum pop3_maildrop_result result,
                                uint64_t uidvalidity, const struct pop3_msg *msgs, size_t n);
/* rc 0: every marked message was removed (or was gone already); else none was. */
void pop3_session_update_done(struct pop3_session *s, int rc);

/* Idle timeout or total session time exceeded: -ERR and close, without entering UPDATE. */
void pop3_session_timeout(struct pop3_session *s);
/* Server shutdown: close at once when idle, else after the command in progress; no UPDATE
 * unless QUIT already started it. */
void pop3_session_shutdown(struct pop3_session *s);

#endif
