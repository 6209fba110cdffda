/*
 * conn — one client TCP connection (a libevent bufferevent, plain, STARTTLS or implicit TLS)
 * joined to one protocol engine through `struct proto_ops`. Protocol-agnostic: SMTP, POP3
 * and IMAP each supply a proto_ops (smtp_glue.c, ...).
 *
 * Bytes in are fed to the engine; the engine writes with conn_write() and asks for TLS with
 * conn_starttls(). The engine is never freed from inside one of its own calls: every call
 * into it is followed by conn_after(), which acts on what it asked for (TLS, close,
 * back-pressure). An engine that is busy (an asynchronous result outstanding) keeps its
 * connection object alive even after the peer is gone; the result then finds it.
 */
#ifndef PIGEON_DAEMON_CONN_H
#define PIGEON_DAEMON_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conn;
struct worker;
struct listener;
struct sockaddr;

/* Why a connection is refused before the engine starts (each protocol words its own reply). */
enum conn_refusal { CONN_REFUSE_PER_IP, CONN_REFUSE_TOTAL };

struct proto_ops {
    const char *name; /* "smtp", "pop3", "imap": the connection-limit namespace and logs */
    /* Makes the engine for a new connection; it may keep c to write through. */
    void *(*create)(struct conn *c, const struct listener *l, uint64_t id, const char *peer);
    void (*start)(void *eng);                        /* greeting */
    void (*refuse)(void *eng, enum conn_refusal why); /* reply and ask to close */
    size_t (*feed)(void *eng, const char *p, size_t n);
    bool (*busy)(const void *eng);
    bool (*closing)(const void *eng);
    void (*tls_started)(void *eng, const char *version, const char *cipher);
    void (*timeout)(void *eng);
    void (*shutdown)(void *eng);
    void (*free)(void *eng);
    /* Optional: the output written so far has been handed on (the write buffer drained);
     * an engine that sends a large reply in bursts writes its next burst here. */
    void (*writable)(void *eng);
};

/* Called by the accept callback of a listener whose proto is `ops`. */
void conn_accept(struct worker *w, const struct listener *l, int fd, const struct sockaddr *sa);
/* Server shutdown: tell every engine of this worker; idle ones close. */
void conn_shutdown_all(struct worker *w);
/* Closes every connection now (those with a result outstanding close when it arrives). */
void conn_close_all(struct worker *w);

/* For engines (through their io structs) and wiring: */
void conn_write(void *c, const char *p, size_t n);
void conn_starttls(void *c);
/* Queues len octets of fd from off (sendfile on plain sockets); fd stays the caller's. */
void conn_write_file(void *c, int fd, uint64_t off, uint64_t len);
/* Octets written but not yet handed to the kernel. */
size_t conn_output_pending(void *c);
/* Whether TLS negotiated the ALPN protocol proto ("h2"); whether the connection is TLS. */
bool conn_alpn(const struct conn *c, const char *proto);
bool conn_tls(const struct conn *c);
/* Sends small writes at once (no Nagle): a response head and its body segment leave together
 * instead of the body waiting for the head's ACK. */
void conn_set_nodelay(struct conn *c);
void conn_close_hint(void *c); /* no-op: closing is read from ops->closing after each call */
struct worker *conn_worker(struct conn *c);
const char *conn_peer(const struct conn *c);
/* Continues a connection after an asynchronous result was handed to its engine. */
void conn_resume(struct conn *c);

#endif
