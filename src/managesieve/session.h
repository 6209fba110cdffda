/*
 * managesieve session — the ManageSieve server (RFC 5804) as a pure engine: capabilities,
 * STARTTLS, AUTHENTICATE PLAIN and LOGIN, LOGOUT, NOOP, CAPABILITY, HAVESPACE, PUTSCRIPT,
 * LISTSCRIPTS, SETACTIVE, GETSCRIPT, DELETESCRIPT, RENAMESCRIPT, CHECKSCRIPT. Scripts are checked with the
 * Sieve engine (sieve/sieve.h) before they are stored, and errors name their line.
 *
 * No I/O, no clock, no globals: bytes come in through managesieve_session_feed, replies go out
 * through struct managesieve_io, the password check and the script store are reached through
 * struct managesieve_session_ops, both asynchronous (the session pauses until *_done). Memory:
 * a request's strings are valid only during the ops call; the ops copy what they keep.
 */
#ifndef PIGEON_MANAGESIEVE_SESSION_H
#define PIGEON_MANAGESIEVE_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct managesieve_session;

struct managesieve_server_config {
    bool starttls;          /* STARTTLS offered (TLS available, not implicit) */
    bool plaintext_ok;      /* AUTHENTICATE allowed before TLS */
    unsigned max_errors;    /* bad commands before BYE */
    size_t max_script_size; /* octets (MAXSIZE) */
    unsigned max_scripts;   /* per user (MAXSCRIPTS) */
    unsigned max_redirects; /* advertised as MAXREDIRECTS */
};

struct managesieve_peer {
    const char *addr;
    bool tls; /* implicit TLS */
};

struct managesieve_io {
    void (*write)(void *io, const char *p, size_t n);
    /* The OK to STARTTLS was written: start TLS now, dropping input that came with it. */
    void (*starttls)(void *io);
};

enum managesieve_op {
    MANAGESIEVE_LIST,     /* every script of the user */
    MANAGESIEVE_GET,      /* name's text */
    MANAGESIEVE_PUT,      /* store name = text (ERR_LIMIT: a new name past max_scripts) */
    MANAGESIEVE_ACTIVATE, /* name active ("" none) */
    MANAGESIEVE_DELETE,   /* name (ERR_BUSY_STATE: active) */
    MANAGESIEVE_RENAME,   /* name -> name2 (ERR_EXISTS) */
};

struct managesieve_req {
    enum managesieve_op op;
    const char *user; /* canonical, authenticated */
    const char *name;
    const char *name2;
    const char *text;
    size_t len;
};

struct managesieve_script_info {
    const char *name;
    bool active;
};

/* What a request found. rc: 0, ERR_NOTFOUND, ERR_EXISTS, ERR_BUSY_STATE, ERR_LIMIT, or a
 * temporary failure (anything else). */
struct managesieve_result {
    int rc;
    const char *text; /* GET */
    size_t len;
    const struct managesieve_script_info *scripts; /* LIST */
    size_t n;
};

struct managesieve_session_ops {
    /* Checks a password; must later call managesieve_session_auth_done. */
    void (*auth)(void *ctx, struct managesieve_session *s, const char *user, const char *pass);
    /* Runs a request; must later call managesieve_session_request_done. */
    void (*request)(void *ctx, struct managesieve_session *s, const struct managesieve_req *r);
};

struct managesieve_session *managesieve_session_new(const struct managesieve_server_config *cfg,
                                                    const struct managesieve_io *io, void *io_arg,
                                                    const struct managesieve_session_ops *ops,
                                                    void *ops_ctx,
                                                    const struct managesieve_peer *peer,
                                                    uint64_t id);
void managesieve_session_free(struct managesieve_session *s);
uint64_t managesieve_session_id(const struct managesieve_session *s);

/* The capabilities and the greeting OK. */
void managesieve_session_start(struct managesieve_session *s);
/* Refuses the connection with BYE reason and closes. */
void managesieve_session_refuse(struct managesieve_session *s, const char *reason);
/* Bytes in; returns how many were consumed (all unless the session paused or closes). */
size_t managesieve_session_feed(struct managesieve_session *s, const char *p, size_t n);
bool managesieve_session_busy(const struct managesieve_session *s);
bool managesieve_session_closing(const struct managesieve_session *s);
/* TLS is up: the capabilities are sent again (RFC 5804 §2.2). */
void managesieve_session_tls_started(struct managesieve_session *s, const char *version,
                                     const char *cipher);
void managesieve_session_timeout(struct managesieve_session *s);
void managesieve_session_shutdown(struct managesieve_session *s);

void managesieve_session_auth_done(struct managesieve_session *s, bool ok,
                                   const char *canonical_user);
void managesieve_session_request_done(struct managesieve_session *s,
                                      const struct managesieve_result *r);

#endif
