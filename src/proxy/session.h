/*
 * proxy/session — one client connection to the proxy as a pure engine: request heads and
 * bodies in (http/request.h's strict parser, http/chunked.h), responses out as they become
 * available — a head, then body pieces (memory or a file range) — so a response is streamed
 * while the origin sends it, framed with Content-Length when its length is known, else
 * chunked (HTTP/1.1 clients) or closed (HTTP/1.0). After a CONNECT is accepted the connection
 * is a tunnel: input goes to ops->tunnel untouched.
 *
 * One request at a time: nothing more is read while a request is with the glue, so pipelined
 * requests are answered in order. No sockets, no clock, no globals.
 */
#ifndef PIGEON_PROXY_SESSION_H
#define PIGEON_PROXY_SESSION_H

#include "core/str.h"
#include "http/request.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct proxy_session;

struct proxy_session_ops {
    void (*write)(void *io, const char *p, size_t n);
    /* A range of an open file; the callee takes its own reference (dup) before returning. */
    void (*write_file)(void *io, int fd, uint64_t off, uint64_t len);
    /* A complete request (body in req->body); answer with proxy_session_head ... _end. */
    void (*request)(void *io, struct http_request *req);
    /* Tunnel mode: bytes from the client. Returns the octets taken. */
    size_t (*tunnel)(void *io, const char *p, size_t n);
    /* After each response, for the access log. req is NULL when it could not be parsed. */
    void (*done)(void *io, const struct http_request *req, int status, uint64_t bytes);
};

struct proxy_session *proxy_session_new(const struct proxy_session_ops *ops, void *io,
                                        const struct http_limits *lim);
void proxy_session_free(struct proxy_session *s);

/* Input. Returns the octets taken (less while a request is with the glue: keep the rest). */
size_t proxy_session_feed(struct proxy_session *s, const char *p, size_t n);

/*
 * The response to the request in progress: status, its fields ("Name: value\r\n" lines,
 * without framing or Connection fields), and the body length (-1: not known yet). A HEAD
 * request's body is never sent. Then proxy_session_body / _body_file, then proxy_session_end.
 */
void proxy_session_head(struct proxy_session *s, int status, struct slice fields, int64_t length);
void proxy_session_body(struct proxy_session *s, const char *p, size_t n);
void proxy_session_body_file(struct proxy_session *s, int fd, uint64_t off, uint64_t len);
/* The response is complete. complete false: the body was cut short (the origin failed
 * after the head): the connection is closed so the client sees the truncation. */
void proxy_session_end(struct proxy_session *s, bool complete);
/* A whole small error response (HTML page) with extra fields (may be empty). */
void proxy_session_error(struct proxy_session *s, int status, const char *detail,
                         struct slice fields);
/* After CONNECT: "200 Connection established", then the connection is a tunnel. */
void proxy_session_tunnel(struct proxy_session *s);

bool proxy_session_busy(const struct proxy_session *s);    /* a request is with the glue */
bool proxy_session_closing(const struct proxy_session *s); /* everything written; hang up */
bool proxy_session_tunneling(const struct proxy_session *s);
/* Whether a response head has gone out for the request in progress. */
bool proxy_session_head_sent(const struct proxy_session *s);
/* Marks the connection to close after the response in progress (or now when idle). */
void proxy_session_close(struct proxy_session *s);
/* Idle timeout: 408 if a request had begun, then close. */
void proxy_session_timeout(struct proxy_session *s);

#endif
