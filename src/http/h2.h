/*
 * http/h2 — one HTTP/2 connection (RFC 9113) as an engine over libnghttp2: bytes in, one
 * struct http_request per stream out to the same handlers as HTTP/1.1, the same struct
 * http_response back (memory and file segments, read with pread as the flow-control window
 * allows). Streams are answered concurrently, in whatever order their handlers finish.
 *
 * Limits: 100 concurrent streams, header lists of at most max_head octets, bodies of at most
 * max_body (413), at most 8 CONTINUATION frames per header block (CVE-2024-27316 class) and
 * a token bucket on RST_STREAM (Rapid Reset, CVE-2023-44487) — over either, GOAWAY and
 * close. Used after ALPN "h2" on TLS, or for h2c on loopback (prior knowledge or Upgrade).
 * No sockets, no clock (ops->now), no globals.
 */
#ifndef PIGEON_HTTP_H2_H
#define PIGEON_HTTP_H2_H

#include "http/request.h"
#include "http/response.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct http2_session;

struct http2_ops {
    void (*write)(void *io, const char *p, size_t n);
    /* How many octets the transport still has unsent (sending pauses above 256 KiB and
     * resumes on http2_session_writable). */
    size_t (*pending)(void *io);
    /* A complete request on a stream; answer with http2_session_respond(s, stream, ...). */
    void (*request)(void *io, void *stream, struct http_request *req);
    time_t (*now)(void *io);
    void (*done)(void *io, const struct http_request *req, int status, uint64_t body_bytes);
    /* Optional: whether this request's body should be streamed to its handler (then it is
     * handed out at the end of its header block, body_streamed set; see
     * http2_session_read_body). Else bodies are read whole first (http2_session_limit_buffered). */
    bool (*stream_body)(void *io, const struct http_request *req);
    /* Optional, both or neither: room for n octets at the end of the output, filled in place
     * and then committed — or never, and then none of it is sent (conn_reserve). With them a
     * body from memory or a file goes out without nghttp2's copy: each DATA frame (header and
     * data) is written straight into the output, and a file that shrank resets its stream
     * without leaving a frame header behind. */
    char *(*reserve)(void *io, size_t n);
    void (*commit)(void *io, char *p, size_t n);
};

/* A server session; the client's connection preface is expected first. */
struct http2_session *http2_session_new(const struct http2_ops *ops, void *io,
                                        const struct http_limits *lim, bool tls);
void http2_session_free(struct http2_session *s);
/* An idle session gives back the memory it keeps for the next streams (closed streams'). */
void http2_session_trim(struct http2_session *s);
/* Bodies read whole (not streamed), and DATA held before a streaming handler asks, are
 * limited to n octets (default: max_body). */
void http2_session_limit_buffered(struct http2_session *s, uint64_t n);
/* Takes the Date field from dc (the loop's, outliving s): see http_session_share_date. */
void http2_session_share_date(struct http2_session *s, struct http_date_cache *dc);
/*
 * "Upgrade: h2c" (RFC 7540 §3.2): the HTTP/1.1 request req (copied; its HTTP2-Settings
 * applied) becomes stream 1 and goes to the handler at once. Nothing is written until the
 * next http2_session_writable/feed, so the transport writes "101 Switching Protocols" first;
 * the client's preface follows. 0, or -1 (nothing done) when HTTP2-Settings is malformed.
 */
int http2_session_upgrade(struct http2_session *s, const struct http_request *req);

/* Input; returns n (everything is taken; a protocol error makes the session close). */
size_t http2_session_feed(struct http2_session *s, const char *p, size_t n);
/* The answer for a stream handed out by ops->request; takes resp's contents. */
void http2_session_respond(struct http2_session *s, void *stream, struct http_response *resp);
/* The handler of a body_streamed request on stream asks for its body: what has arrived is
 * handed to r at once (before this returns), the rest as DATA frames come. Data that arrives
 * before the handler asks is held up to the buffered limit (beyond, the stream is reset and r gets
 * abort). */
void http2_session_read_body(struct http2_session *s, void *stream,
                             const struct http_body_target *r);
/* The transport drained its output: send more. */
void http2_session_writable(struct http2_session *s);
bool http2_session_busy(const struct http2_session *s);    /* a stream is with a handler */
/* Whether frames wait to be sent (the output's high water held them back). */
bool http2_session_wants_write(const struct http2_session *s);
bool http2_session_closing(const struct http2_session *s); /* done: hang up once flushed */
/* A graceful GOAWAY: no new streams, open ones still answered; closing once none is left. */
void http2_session_shutdown(struct http2_session *s);
void http2_session_timeout(struct http2_session *s);

#endif
