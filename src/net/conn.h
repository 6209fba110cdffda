/*
 * conn — one client TCP connection (a libevent bufferevent, plain, STARTTLS or implicit TLS)
 * joined to one protocol engine through `struct proto_ops`. Protocol-agnostic: every TCP
 * service (SMTP, POP3, IMAP, DNS over TCP, ...) supplies a proto_ops in its service glue.
 *
 * A connection lives on a `struct conn_host`: one event loop with what conn.c needs from its
 * owner (TLS context, the shared per-address limit table and counters, the shutdown flag).
 * The owner (pigeond's worker) keeps a pointer to itself in `owner`, so glue can find its
 * per-loop state without conn.c knowing what it is.
 *
 * Bytes in are fed to the engine; the engine writes with conn_write() and asks for TLS with
 * conn_starttls(). The engine is never freed from inside one of its own calls: every call
 * into it is followed by conn_after(), which acts on what it asked for (TLS, close,
 * back-pressure). An engine that is busy (an asynchronous result outstanding) keeps its
 * connection object alive even after the peer is gone; the result then finds it.
 */
#ifndef PIGEON_NET_CONN_H
#define PIGEON_NET_CONN_H

#include <openssl/ssl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conn;
struct conn_park_ops;
struct conn_parking;
struct connlimit;
struct event_base;
struct loop_post;
struct sockaddr;

/* Shared by every host of a process: session ids and the process-wide connection count. */
struct conn_counters {
    atomic_uint_fast64_t next_id; /* start at 1 */
    atomic_uint open;
    /* The limits are atomic because a reload changes them while the loops read them. */
    atomic_uint max_open;         /* more open connections than this are refused */
    atomic_uint prelogin;         /* sessions of login listeners not logged in yet */
    atomic_uint max_prelogin;     /* more of those than this are refused */
    atomic_uint max_per_ip;       /* one address (IPv6: its /64) over all services */
    atomic_uint login_timeout;    /* seconds a session of a login listener has to log in */
};

/* One event loop that connections live on. The owner fills the first block; conn.c owns the
 * second. */
struct conn_host {
    struct event_base *base;
    struct loop_post *post;       /* other threads hand results back through it */
    SSL_CTX *tls;                 /* server context for STARTTLS and implicit TLS; NULL: none */
    struct connlimit *connlimit;  /* shared, thread-safe: per (service, address) limits */
    struct conn_counters *counters;
    void *owner;                  /* the loop's owner (pigeond: struct worker) */
    /* conn.c: */
    struct conn *conns;           /* every open connection on this loop */
    unsigned nconns;
    bool stopping;                /* shutting down: the loop exits when nconns reaches 0 */
    struct listen_set *accepting; /* listener.c: the accept watchers of this loop */
    struct conn *idle;            /* may park once idle a whole sweep interval (conn_park.c) */
    unsigned tls_refusals;        /* refused TLS connections waiting to send their refusal */
    struct event *park_timer;     /* the sweep, while idle is not empty */
    struct conn_parking *parking; /* the parked connections (conn_park.c); NULL: none */
    unsigned parked_since_trim;   /* connections parked (less woken) since malloc's heap was trimmed */
    uint64_t trimmed_ms;          /* ... when it was (CLOCK_MONOTONIC_COARSE ms) */
};

/* Per-service limits a connection enforces. */
struct conn_limits {
    unsigned max_per_ip;          /* simultaneous connections from one address */
    unsigned idle_timeout;        /* seconds without input */
    unsigned session_timeout;     /* seconds for a whole session */
    bool login;                   /* sessions must log in (POP3, IMAP, submission): the
                                   * login timeout and the pre-login cap apply until
                                   * conn_logged_in */
};

/* A bound listening socket, made once in the main thread and shared by every loop. */
struct listener {
    const char *name;             /* config section: "smtp", "submission", "pop3s" ... */
    const struct proto_ops *proto; /* the engine behind it */
    const void *svc_cfg;          /* the service's own section struct */
    struct conn_limits limits;
    const char *addr_text;        /* as configured, for logs and Received: "127.0.0.1:2525" */
    bool implicit_tls;
    int fd;
};

/* Why a connection is refused before the engine starts (each protocol words its own reply). */
enum conn_refusal { CONN_REFUSE_PER_IP, CONN_REFUSE_TOTAL };

struct proto_ops {
    const char *name; /* "smtp", "pop3", "imap": the connection-limit namespace and logs */
    /* Makes the engine for a new connection; it may keep c to write through. */
    void *(*create)(struct conn *c, const struct listener *l, uint64_t id, const char *peer);
    void (*start)(void *eng);                        /* greeting (optional) */
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
    /* Under implicit TLS, conn.c runs OpenSSL on the socket itself (net/tls_sock.h) instead
     * of libevent's filter, and the engine is in direct mode (conn_set_direct_write) from
     * its start. */
    bool direct_tls;
    /* TCP_NODELAY on the listening sockets (host_listen_tcp): every accepted socket inherits
     * it, with no setsockopt per connection. */
    bool nodelay;
    /* Optional: how an idle connection of this engine parks (conn_set_parking). */
    const struct conn_park_ops *parking;
};

/*
 * Parking idle connections (conn_set_parking; plain sockets in direct mode; TLS ones are
 * trimmed instead). A parked connection keeps nothing but its socket and a record of
 * conn_parked_size() octets (net/conn_park.c): its engine and struct conn are freed, and made
 * again (unpark) when input comes, its time is up, or at shutdown.
 */
struct conn_park_ops {
    /* The connection is idle — no input held, no output unsent, not busy, not closing. The
     * engine says whether it can be made again from nothing but its connection's id and peer
     * and one word of its own (*state_out): it returns the moment (CLOCK_MONOTONIC_COARSE,
     * ms, later than now_ms) its idle time is up, or 0 to stay as it is. When it parks,
     * conn.c then frees it (proto_ops.free). */
    uint64_t (*park)(void *eng, uint64_t now_ms, uint32_t *state_out);
    /* Makes the engine again, for c (a new struct conn in direct mode, the same id and peer),
     * idle until due_ms. Then conn.c feeds it the input that woke it, or calls timeout
     * (due_ms has come) or shutdown. Returns the engine (as proto_ops.create). */
    void *(*unpark)(struct conn *c, uint64_t id, const char *peer, uint32_t state,
                    uint64_t due_ms);
    /* Optional (any direct-mode connection): whether the engine has a next burst to write
     * when its output has drained. Direct mode then calls proto_ops.writable only when it
     * does, not after every answer (a deferred callback, and with it one more loop turn,
     * per request). */
    bool (*wants_writable)(const void *eng);
    /* Optional: a connection that cannot park (TLS: its session cannot be rebuilt; or park
     * said 0) has been idle as long: the engine gives back what it keeps between requests
     * only for speed. Under TLS, conn.c gives back OpenSSL's record buffers at the same time. */
    void (*trim)(void *eng);
};

/* Called by the accept callback of listener l on host h (listener.c). */
void conn_accept(struct conn_host *h, const struct listener *l, int fd, const struct sockaddr *sa);
/* Server shutdown: tell every engine of this host; idle ones close. */
void conn_shutdown_all(struct conn_host *h);
/* Closes every connection now (those with a result outstanding close when it arrives). */
void conn_close_all(struct conn_host *h);

/* For engines (through their io structs) and glue: */
void conn_write(void *c, const char *p, size_t n);
void conn_starttls(void *c);
/* The engine answered COMPRESS DEFLATE (RFC 4978): both directions go through raw DEFLATE
 * from the next byte on (net/deflate.h), after the reply already written. */
void conn_compress(void *c);
/* Room for n octets at the end of the output, filled in place and then sent with
 * conn_commit — or never committed, and then none of it is sent (HTTP/2 writes a DATA
 * frame's header and its file data in one piece: a file that shrank meanwhile leaves no
 * header without its data). Nothing else may be written between the two. NULL: the
 * connection is gone, or no memory. */
char *conn_reserve(void *c, size_t n);
void conn_commit(void *c, char *p, size_t n); /* p from conn_reserve, n at most its size */
/* Queues len octets of fd from off (sendfile on plain sockets); fd stays the caller's. */
void conn_write_file(void *c, int fd, uint64_t off, uint64_t len);
/* Octets written but not yet handed to the kernel. */
size_t conn_output_pending(void *c);
/* Whether TLS negotiated the ALPN protocol proto ("h2"); whether the connection is TLS. */
bool conn_alpn(const struct conn *c, const char *proto);
bool conn_tls(const struct conn *c);
/* Plain sockets: output goes out at the end of each call into the engine (one writev per
 * batch of replies, then sendfile) rather than on the loop's next turn; a no-op under TLS.
 * For engines whose every write happens inside a call from conn.c (feed, start, timeout,
 * writable, or before conn_resume). */
void conn_set_direct_write(struct conn *c);
/* The most one write (or TLS filter pass) hands on at a time: large files go out in fewer,
 * larger writes (libevent's default is 16 KiB). */
void conn_set_max_write(struct conn *c, size_t n);
/* Parks the connection whenever it is idle, through its proto_ops.parking (see struct
 * conn_park_ops). Only with conn_set_direct_write, which every write of the engine must then
 * allow. */
void conn_set_parking(struct conn *c);
/* The octets a parked connection keeps (besides its socket), and how many h holds now. */
size_t conn_parked_size(void);
unsigned conn_parked_count(const struct conn_host *h);
void conn_close_hint(void *c); /* no-op: closing is read from ops->closing after each call */
struct conn_host *conn_get_host(const struct conn *c);
/* The session has logged in: the login timeout and the pre-login cap no longer apply. */
void conn_logged_in(struct conn *c);
const char *conn_peer(const struct conn *c);
/* Continues a connection after an asynchronous result was handed to its engine. */
void conn_resume(struct conn *c);
/* The connection's own address (getsockname: on a wildcard listener, the address the client
 * reached) as text, IPv4-mapped shown as IPv4. 0, or -1 when there is no socket. */
int conn_local_addr(const struct conn *c, char *out, size_t cap);
/* An engine that lets an idle timeout pass (FTP while a transfer runs on its data
 * connection) calls this from its timeout hook: libevent stopped reading when the timer
 * fired, and a command sent now (ABOR) must still be read. The timer starts again. */
void conn_keep_reading(struct conn *c);
/* An address as text ("192.0.2.1", "2001:db8::1"; an IPv4-mapped IPv6 address as IPv4). */
void conn_addr_text(const struct sockaddr *sa, char *out, size_t cap);

#endif
