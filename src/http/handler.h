/*
 * http/handler — the interface between the transports (HTTP/1.1 session, HTTP/2 streams) and
 * the features that answer requests (h2o style: one handler per feature, each with its config
 * beside it): handler/file.c serves a document root, handler/upload.c PUT/DELETE,
 * handler/login.c the cookie login, later the proxy cache, JMAP, the tracker, /metrics.
 *
 * A transport turns each request into a struct http_exchange and hands it to the site's
 * router (http_site_dispatch). A handler answers exactly once through http_exchange_respond,
 * at once or later (after an asynchronous password check or a durable write); until then the
 * transport keeps the request alive and reads nothing more of that stream. What a handler
 * may need from the process (password checks, a thread for blocking work, randomness, the
 * login session table) comes through struct http_host, filled by the service glue, so
 * handlers never include the daemon.
 */
#ifndef PIGEON_HTTP_HANDLER_H
#define PIGEON_HTTP_HANDLER_H

#include "http/request.h"
#include "http/response.h"

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct http_site;
struct http_exchange;
struct http_sessions;
struct http_fcache;

typedef void (*http_auth_cb)(struct http_exchange *x, bool ok, const char *user);
typedef void (*http_work_done)(struct http_exchange *x, void *arg);

/* What the service lends handlers. Every callback runs on the exchange's own loop. */
struct http_host {
    /* Checks a Pigeon user's password (slow: on the auth pool, failures throttled). */
    void (*auth)(struct http_exchange *x, const char *user, const char *pass, http_auth_cb cb);
    /* Runs work(arg) on a thread that may block (fsync), then done(x, arg) on the loop. */
    void (*blocking)(struct http_exchange *x, void (*work)(void *arg), http_work_done done,
                     void *arg);
    /* Fills buf with n unpredictable octets (session ids). */
    void (*random)(void *buf, size_t n);
    /* The login sessions of every site (thread-safe wrapper around http/cookie.h). */
    struct http_login_table *logins;
    /* Appends gauges only the service can read (queue length, login sessions) to /metrics. */
    void (*gauges)(struct http_exchange *x, struct str *out);
    /* Handlers another service adds (JMAP and the webmail): true when taken; NULL: none. */
    bool (*more)(struct http_exchange *x);
};

/*
 * A request body streamed to its handler. The transport hands a request out at the end of
 * its head, with req->body_streamed set, when http_site_streams_body says its handler wants
 * it so (uploads larger than memory; later the proxy, JMAP uploads); the body then waits
 * until the handler calls http_exchange_read_body — typically after its checks (path,
 * credentials, Content-Length against its own limit), so a refused request is answered
 * before the client sends its body ("100 Continue" goes out only when the body is asked
 * for). Then data() gets each piece as it arrives (may be called before read_body returns),
 * end() once at its end — answer then, or later; or abort() once when the body can never be
 * completed (framing error, over [http] max_body_size, the client gone or too slow): release
 * everything and never answer, the transport has answered or hung up itself. A handler may
 * answer at any time instead (an error from data(): too large, disk full); the rest of the
 * body is then not read and the HTTP/1.1 connection closes after the answer. The body's
 * size is checked by nobody but the handler below max_body_size.
 */
struct http_body_sink {
    void (*data)(struct http_exchange *x, const char *p, size_t n);
    void (*end)(struct http_exchange *x);
    void (*abort)(struct http_exchange *x);
};

/*
 * A connection taken over after "101 Switching Protocols" (RFC 9110 §15.2.2; a WebSocket,
 * RFC 6455): from then on every octet the client sends goes to feed, which takes all of it
 * (keeping what it cannot use yet) and returns n, and the taker writes with conn_write on
 * x->conn. closing says when the connection should close (after what was written has gone
 * out); writable runs when the output drained; timeout when the
 * connection was idle for the listener's idle_timeout (a WebSocket pings, then closes);
 * shutdown when the server stops; free once, when the connection is gone.
 */
struct http_takeover {
    size_t (*feed)(void *arg, const char *p, size_t n);
    bool (*closing)(void *arg);
    void (*writable)(void *arg);
    void (*timeout)(void *arg);
    void (*shutdown)(void *arg);
    void (*free)(void *arg);
    void *arg;
};

struct http_exchange {
    struct http_request *req;
    const struct http_site *site;   /* chosen by Host */
    const struct http_host *host;
    char peer[64];                  /* client address, text */
    bool tls;
    bool loopback;                  /* the client is on 127.0.0.0/8 or ::1 */
    uint64_t id;                    /* the connection's session id, for logs */
    time_t now;
    void *handler_state;            /* the handler's own (a streamed body's file, ...) */
    /* The transport's: */
    void (*respond)(struct http_exchange *x, struct http_response *resp);
    void (*read_body)(struct http_exchange *x, const struct http_body_sink *sink);
    /* HTTP/1.1 only (NULL on HTTP/2): sends resp (status 101 and its fields; no body) and
     * hands the connection to t. The exchange and its request are gone once it returns. */
    void (*takeover)(struct http_exchange *x, struct http_response *resp,
                     const struct http_takeover *t);
    const struct http_body_sink *sink;
    void *transport;                /* the HTTP/1.1 session's or HTTP/2 stream's state */
    void *conn;                     /* the service glue's connection */
    struct http_fcache *files;      /* the loop's open-file cache (handler/fcache.h), or NULL */
};

/* The handler's one answer; takes resp's contents. */
static inline void http_exchange_respond(struct http_exchange *x, struct http_response *resp)
{
    x->respond(x, resp);
}

/* Asks for a body_streamed request's body (see struct http_body_sink); sink must outlive the
 * exchange (a static const table). */
static inline void http_exchange_read_body(struct http_exchange *x,
                                           const struct http_body_sink *sink)
{
    x->read_body(x, sink);
}

/* Answers status with the standard error page. */
void http_exchange_error(struct http_exchange *x, int status, const char *detail);

/* Whether this exchange may carry a password (TLS, or plain text as the site allows). */
bool http_plaintext_ok(const struct http_exchange *x);
/* The user logged in with this request's session cookie (copied to user), or false. */
bool http_login_user(const struct http_exchange *x, char *user, size_t cap);

/* Handlers: each returns true when it took the request. */
bool http_login_handle(struct http_exchange *x);
bool http_upload_handle(struct http_exchange *x);
bool http_file_handle(struct http_exchange *x);
bool http_metrics_handle(struct http_exchange *x); /* GET /metrics (the [metrics] listener) */
/* Counts a response for /metrics. */
void http_metrics_count(int status);

/* Whether the handler that will take req on site wants its body streamed (a PUT in the
 * upload area) rather than read whole first. Asked by the transports at the end of a head. */
bool http_site_streams_body(const struct http_site *site, const struct http_request *req);

/* Chooses the handler for x (redirects, login pages, the upload area, files) and runs it. */
void http_site_dispatch(struct http_exchange *x);

#endif
