/*
 * session_base — what the line-protocol engines (SMTP, POP3, IMAP) keep alike in a session:
 * its id, the peer and listener as logged, implicit TLS, the output callback, the closing
 * flag and the count of client errors against its limit. Each engine's session struct holds
 * SESSION_BASE_MEMBER, so its code reads s->id, s->peer_addr, s->errors as before while the
 * shared functions below take &s->base. Performs no I/O but through the write callback it is
 * given, and keeps no pointer to the peer strings (they are copied).
 */
#ifndef PIGEON_CORE_SESSION_BASE_H
#define PIGEON_CORE_SESSION_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Who is connected, as the connection layer tells an engine's session_new. */
struct session_peer {
    const char *addr;     /* "127.0.0.1" */
    const char *listener; /* "127.0.0.1:2525" for logs */
    bool tls;             /* implicit TLS from the first byte (smtps, pop3s, imaps) */
};

typedef void (*session_write_fn)(void *io, const char *p, size_t n);

#define SESSION_BASE_FIELDS                                                                        \
    const char *proto; /* "smtp", "pop3", "imap": the first word of its log lines */               \
    uint64_t id;                                                                                   \
    char peer_addr[64];                                                                            \
    char listener[80];                                                                             \
    bool tls;                                                                                      \
    bool closing;                                                                                  \
    unsigned errors;     /* client errors so far */                                                \
    unsigned max_errors; /* at this many the session says goodbye and closes (>= 1) */             \
    session_write_fn write;                                                                        \
    void *io_arg;

struct session_base {
    SESSION_BASE_FIELDS
};

/* In an engine's session struct: the fields by their names and, over the same bytes, as one
 * struct named base (C11 anonymous members, as the Linux kernel's struct_group). */
#define SESSION_BASE_MEMBER                                                                        \
    union {                                                                                        \
        struct session_base base;                                                                  \
        struct {                                                                                   \
            SESSION_BASE_FIELDS                                                                    \
        };                                                                                         \
    }

/* Fills b for a new session: the peer copied, max_errors 0 taken as 1. */
void session_base_init(struct session_base *b, const char *proto, const struct session_peer *peer,
                       uint64_t id, session_write_fn write, void *io_arg, unsigned max_errors);

/* Formats one reply line into buf[0..cap) (CRLF added, the text cut when too long; cap >= 3)
 * and writes it. */
void session_base_vreply(struct session_base *b, char *buf, size_t cap, const char *fmt,
                         va_list ap);

/* Counts one client error. True when this one reached the limit while the session was not
 * closing yet (logged as "PROTO ID too many errors from ADDR"): the engine then sends its
 * goodbye and closes. */
bool session_base_error(struct session_base *b);

/* The log lines every engine writes when a session starts and when it is refused. */
void session_base_log_connect(const struct session_base *b);
void session_base_log_refused(const struct session_base *b, const char *reply);

#endif
