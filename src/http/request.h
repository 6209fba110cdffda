/*
 * http/request — the HTTP/1.x request head parser (RFC 9112) and the parsed request.
 *
 * Hand-written rather than llhttp: Pigeon must refuse every request-smuggling ambiguity with
 * a definite status (CL+TE together, duplicate or non-decimal Content-Length, any
 * Transfer-Encoding other than exactly "chunked", obs-fold, bare CR or LF, whitespace before
 * the colon), which llhttp only does with its lenient flags in particular combinations, and
 * the head grammar is small. Fuzzed by tests/fuzz/fuzz_http_request.c; split-at-every-offset
 * tests in tests/unit/test_http_request.c.
 *
 * Two steps: http_head_find() scans bytes as they arrive for the end of the head (and the
 * line and size limits), then http_request_parse() reads the complete head into a struct
 * http_request whose slices point into that head. Performs no I/O, keeps no state of its own.
 */
#ifndef PIGEON_HTTP_REQUEST_H
#define PIGEON_HTTP_REQUEST_H

#include "http/field.h"

#include "core/str.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define HTTP_MAX_HEADERS 100

enum http_method {
    HTTP_OTHER = 0,
    HTTP_GET,
    HTTP_HEAD,
    HTTP_POST,
    HTTP_PUT,
    HTTP_DELETE,
    HTTP_OPTIONS,
    HTTP_TRACE,
    HTTP_CONNECT,
};

struct http_limits {
    size_t max_request_line; /* longer: 414 */
    size_t max_head;         /* request line + fields: longer, 431 */
    uint64_t max_body;       /* declared or decoded body: larger, 413 (streamed or not; a
                                body read whole is limited further by the transports'
                                *_limit_buffered) */
};

/* Where a streamed request body goes as it arrives (see http_session_read_body,
 * http2_session_read_body): data for each piece, then end once — or abort once, when the
 * body can never be completed (framing error, over max_body, the client gone or too slow):
 * the transport then answers (or drops the connection) itself and the handler must release
 * everything without answering. After end, abort, or the handler's answer, nothing more is
 * called. */
struct http_body_target {
    void (*data)(void *arg, const char *p, size_t n);
    void (*end)(void *arg);
    void (*abort)(void *arg);
    void *arg;
};

struct http_request {
    enum http_method method;
    struct slice method_name;
    struct slice target; /* as sent */
    struct slice path;   /* the target's path part (still percent-encoded), "*" for OPTIONS * */
    struct slice query;  /* after '?', without it; empty when none */
    int version;         /* 10 or 11; 20 for HTTP/2 streams */
    unsigned nheaders;   /* in headers[], last: only the first nheaders are ever written */
    struct slice host;   /* Host field, or the authority of an absolute-form target */
    bool has_length;     /* Content-Length given */
    uint64_t content_length;
    bool chunked;        /* Transfer-Encoding: chunked */
    bool keep_alive;     /* the client allows another request on this connection */
    bool expect_continue;
    bool upgrade_h2c;    /* Connection: Upgrade, HTTP2-Settings + Upgrade: h2c */
    /* Filled by the session once the body has arrived: */
    const char *body;
    size_t body_len;
    /* Or: the request went to its handler at the end of the head, and the body is read only
     * when the handler asks for it (body and body_len stay empty). */
    bool body_streamed;
    bool tls;            /* set by the transport */
    struct http_header headers[HTTP_MAX_HEADERS];
};

/* Clears a request for parsing: everything but the header array (3.2 KB, filled in order). */
static inline void http_request_reset(struct http_request *req)
{
    memset(req, 0, offsetof(struct http_request, headers));
}

/*
 * Looks for the empty line that ends a request head in p[0..n). *scanned holds where the last
 * call stopped (start at 0; the bytes before it were already checked). Leading empty lines
 * (RFC 9112 §2.2) must have been dropped by the caller. Returns the head's length (ending
 * with the empty line's CRLF) when complete, 0 when more bytes are needed, or -status (400,
 * 414, 431) when the head is malformed or over a limit. Never reads past p + n.
 */
long http_head_find(const char *p, size_t n, size_t *scanned, const struct http_limits *lim);

/*
 * Parses a complete head (as found by http_head_find) into req. Slices point into p, which
 * must outlive req. Returns 0, or the status to answer (400, 413, 417, 501, 505); *why_out
 * then names the reason in a few words (static text).
 */
int http_request_parse(const char *p, size_t n, const struct http_limits *lim,
                       struct http_request *req, const char **why_out);

/*
 * Sets req's method and target from their text (HTTP/2's :method and :path) with the rules
 * of a request line: the method a token, the target in one of RFC 9112 §3.2's forms. Slices
 * point into method and target. Returns 0, or 400 with *why_out set (static text).
 */
int http_request_set_line(struct http_request *req, struct slice method, struct slice target,
                          const char **why_out);

/* The value of the first field called name (case-insensitive), or NULL. */
const struct slice *http_request_header(const struct http_request *req, const char *name);

/* Whether a comma-separated field value list holds token (case-insensitive). */
bool http_list_has(struct slice list, const char *token);

const char *http_method_name(enum http_method m);

#endif
