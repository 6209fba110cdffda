/*
 * http/session — one HTTP/1.x connection as a pure engine: bytes in, requests out to a
 * handler, responses written back in order.
 *
 * The session reads a head (request.h), then the body (Content-Length or chunked, sending
 * "100 Continue" when the client waits for it), and hands the complete request to
 * ops->request. It reads nothing more until the response comes back through
 * http_session_respond (at once, or later from an asynchronous result), so pipelined requests
 * are answered strictly in order and their bytes wait in the transport. It frames the
 * response (Content-Length, or chunked for a streamed body of unknown length; Connection,
 * Date), omits the body for HEAD, 204 and 304, and
 * closes after HTTP/1.0 without keep-alive, "Connection: close", or any framing error (400,
 * 413, 414, 431, ... answered with a short HTML page).
 *
 * No sockets, no clock (ops->now), no globals. The struct http_request handed out and its
 * slices live until the response has been given.
 */
#ifndef PIGEON_HTTP_SESSION_H
#define PIGEON_HTTP_SESSION_H

#include "http/request.h"
#include "http/response.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct http_session;

struct http_session_ops {
    /* Output: bytes, and a range of an open file (the callee takes its own reference to fd,
     * e.g. dup(), before returning: the response closes it). */
    void (*write)(void *io, const char *p, size_t n);
    void (*write_file)(void *io, int fd, uint64_t off, uint64_t len);
    /* A complete request; answer with http_session_respond, now or later. */
    void (*request)(void *io, struct http_request *req);
    time_t (*now)(void *io);
    /* After each response: for the access log and counters (req is NULL for a request that
     * could not be parsed). */
    void (*done)(void *io, const struct http_request *req, int status, uint64_t body_bytes);
    /* Octets written but not yet sent (NULL: none ever wait). A streamed body (see
     * http_body_source) is pulled only while this is below 256 KiB; the transport then calls
     * http_session_writable once its output has drained. */
    size_t (*pending)(void *io);
    /* Optional: whether this request's body should be streamed to its handler (the request
     * is then handed out at the end of its head with body_streamed set, and the handler
     * calls http_session_read_body); else bodies are read whole first (http_session_limit_buffered). */
    bool (*stream_body)(void *io, const struct http_request *req);
};

struct http_session *http_session_new(const struct http_session_ops *ops, void *io,
                                      const struct http_limits *lim, bool tls);
void http_session_free(struct http_session *s);
/* Bodies read whole (not streamed) are refused (413) above n octets (default: max_body). */
void http_session_limit_buffered(struct http_session *s, uint64_t n);
/* Takes the Date field from dc (shared by the loop's sessions, outliving s) rather than a
 * cache of its own: a session made per request (after parking) formats no date. */
void http_session_share_date(struct http_session *s, struct http_date_cache *dc);

/* Input. Returns the octets taken; 0 while a request is with the handler (keep the rest). */
size_t http_session_feed(struct http_session *s, const char *p, size_t n);

/* The handler's answer to the request in progress; takes the contents of resp (left empty).
 * After an asynchronous answer, call http_session_feed(s, NULL, 0) to read on. */
void http_session_respond(struct http_session *s, struct http_response *resp);

/*
 * The handler of a body_streamed request asks for its body: r's calls follow as it arrives
 * ("100 Continue" is sent now if the client waits for it). Call http_session_feed(s, NULL, 0)
 * afterwards (not from inside the handler's own call chain) to deliver what is already
 * buffered. A handler that answers without asking for the body, or before its end, gets the
 * connection closed after its answer.
 */
void http_session_read_body(struct http_session *s, const struct http_body_target *r);

/* The transport's output drained: send more of a streamed body. Returns true when that
 * finished the body and the session reads again: then call http_session_feed(s, NULL, 0)
 * for pipelined bytes it already holds. */
bool http_session_writable(struct http_session *s);

bool http_session_busy(const struct http_session *s);    /* a request is with the handler */
bool http_session_closing(const struct http_session *s); /* everything written; hang up */
/* Idle or header timeout: 408 if a request had begun, then close. */
void http_session_timeout(struct http_session *s);
/* Server shutdown: close now when idle, else after the response in progress. */
void http_session_shutdown(struct http_session *s);
/* Input already taken that follows the request with the handler (pipelined bytes, or a
 * client preface after an Upgrade); *p_out points into the session. */
size_t http_session_pending_input(const struct http_session *s, const char **p_out);
/* Requests answered so far on this connection. */
uint64_t http_session_requests(const struct http_session *s);
/* Whether the session waits for (the rest of) a request head: the header timer runs then. */
bool http_session_reading_head(const struct http_session *s);
/* Whether a response body is being pulled from its source (it goes on as output drains). */
bool http_session_streaming(const struct http_session *s);
/* Whether the session holds nothing between requests (no input, no request, no response in
 * progress, not shutting down): it may be freed and made again for the next request. */
bool http_session_idle(const struct http_session *s);
/* An idle session that is kept (TLS) gives back the memory it keeps between requests for
 * speed (the last request's struct, an empty input buffer). */
void http_session_trim(struct http_session *s);

#endif
