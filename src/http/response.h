/*
 * http/response — one response as a handler builds it: status, header fields and a body made
 * of segments (bytes in memory, or ranges of one open file that the transport may send with
 * sendfile). Shared by HTTP/1.1 (session.c) and HTTP/2 (h2.c); neither the framing fields
 * (Content-Length, Transfer-Encoding, Connection) nor Date are set here: the transport adds
 * them. Also the status texts, the error page and IMF-fixdate formatting (RFC 9110 §5.6.7).
 * Performs no I/O except close() of the response's file in http_response_clear().
 */
#ifndef PIGEON_HTTP_RESPONSE_H
#define PIGEON_HTTP_RESPONSE_H

#include "core/str.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define HTTP_MAX_SEGS 48

/*
 * A body produced while it is sent, its length unknown in advance (an on-the-fly encoding,
 * see encode.h). The transport pulls it as its output drains: read fills buf with up to cap
 * octets and returns how many (> 0), 0 at the end, or < 0 when the body cannot be completed
 * (the transport then drops the connection, or resets the HTTP/2 stream, so the client never
 * takes a truncated body for a whole one). read runs on the connection's loop and must not
 * block for long. free(arg) runs once, when the response is done with.
 */

struct http_body_source {
    ssize_t (*read)(void *arg, char *buf, size_t cap);
    void (*free)(void *arg);
    void *arg;
};

/* A source's read may return this when nothing is ready yet, if the response was given a
 * set_wake hook (http_response_stream_waiting): "nothing yet, a wake follows". */
#define HTTP_BODY_WAIT ((ssize_t)-2)

/* How a source fed from elsewhere (a proxy's origin) learns to wake the transport: the
 * transport calls it with wake(wake_arg) when it takes the response; the source then calls
 * wake once, from its loop but never inside read, after a read returned HTTP_BODY_WAIT and
 * more can be read (or its end or failure is known); the transport pulls again. wake is
 * never called after the source's free. */
typedef void (*http_body_set_wake)(void *arg, void (*wake)(void *wake_arg), void *wake_arg);

struct http_seg {
    bool file;     /* a range of resp->fd; else bytes resp->mem[off..off+len) */
    uint64_t off, len;
};

struct http_response {
    int status;
    struct str fields;  /* "Name: value\r\n" lines */
    struct str mem;     /* bytes the memory segments refer to */
    unsigned nseg;      /* the first nseg of seg[] (last: the rest is never read) */
    int fd;             /* -1, or the file the file segments read; owned */
    bool close;         /* close the connection after this response */
    bool no_body;       /* HEAD semantics forced (the body is described, never sent) */
    struct http_body_source src; /* src.read set: the body comes from it, not from seg[] */
    http_body_set_wake src_set_wake; /* NULL: src never answers HTTP_BODY_WAIT */
    /* The body has no end of its own (an event stream): when the server shuts down while
     * it waits (HTTP_BODY_WAIT), it ends there — HTTP/1.1 sends the last chunk and closes,
     * HTTP/2 resets the stream with NO_ERROR — instead of holding the shutdown up. */
    bool open_ended;
    /* The source's exact length, when known (http_response_stream_length). */
    bool src_sized;
    uint64_t src_len;
    struct http_seg seg[HTTP_MAX_SEGS]; /* last: http_response_init leaves it as it is */
};

void http_response_init(struct http_response *r, int status);
/* Frees the buffers and closes fd; the struct may be initialised again. */
void http_response_clear(struct http_response *r);
/* Moves everything from src into dst (dst must be cleared or fresh); src is left empty. */
void http_response_move(struct http_response *dst, struct http_response *src);

/* Appends "name: value\r\n"; value must not hold CR or LF (it is cut there). */
void http_response_header(struct http_response *r, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same for a value given whole (no format: the file handler's fields, per request). */
void http_response_field(struct http_response *r, const char *name, const char *value);
/* Appends a memory segment with a copy of p[0..n). Returns 0, or -1 when out of segments. */
int http_response_body(struct http_response *r, const void *p, size_t n);
/* Appends a segment [off, off+len) of r->fd. Returns 0, or -1 when out of segments. */
int http_response_file(struct http_response *r, uint64_t off, uint64_t len);
uint64_t http_response_length(const struct http_response *r);
/* Makes src the body (r must have no segments); r owns it from now on. */
void http_response_stream(struct http_response *r, struct http_body_source src);
/* The same for a source that may answer HTTP_BODY_WAIT; set_wake gets the transport's wake. */
void http_response_stream_waiting(struct http_response *r, struct http_body_source src,
                                  http_body_set_wake set_wake);
/*
 * The source set on r will produce exactly len octets (a proxied origin's Content-Length): the
 * transport frames the body with Content-Length (HTTP/1.1 and 1.0 alike, so the connection
 * stays open) instead of chunked, and cuts the response — drops the connection, or resets
 * the HTTP/2 stream — if the source ends before len or goes past it.
 */
void http_response_stream_length(struct http_response *r, uint64_t len);
/* Whether the body comes from a source (its length unknown unless src_sized). */
static inline bool http_response_streamed(const struct http_response *r)
{
    return r->src.read != NULL;
}

/*
 * Replaces r by a small HTML error page for status with one sentence of detail (escaped;
 * may be NULL), Content-Type set. Keeps nothing of what r held.
 */
void http_response_error(struct http_response *r, int status, const char *detail);

/* "Not Found" for 404; "Unknown" for codes Pigeon never sends. */
const char *http_status_reason(int status);
/* Whether a response with this status carries no body at all (1xx, 204, 304). */
bool http_status_bodyless(int status);

/* Formats t as an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") into out (30 octets). */
void http_date_format(time_t t, char out[30]);

/* The Date field of the current second, formatted once per second (zero-initialise). A
 * transport shares one per loop (http_session_share_date, http2_session_share_date). */
struct http_date_cache {
    time_t t;
    char text[30];
};
/* The IMF-fixdate of now, from the cache when it is of the same second. */
const char *http_date_cached(struct http_date_cache *dc, time_t now);
/* Parses IMF-fixdate (and the obsolete RFC 850 and asctime forms, RFC 9110 §5.6.7).
 * Returns 0 or -1. */
int http_date_parse(struct slice s, time_t *out);

/* Appends s HTML-escaped (& < > " '). */
void http_html_escape(struct str *out, const char *s, size_t n);

#endif
