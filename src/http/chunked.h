/*
 * http/chunked — the chunked transfer coding (RFC 9112 §7.1): an incremental decoder for
 * request bodies and the framing helpers for response bodies.
 *
 * The decoder is strict: hex sizes of at most 16 digits, CRLF only (a bare CR or LF is an
 * error), chunk extensions and trailer fields checked for control characters and limited in
 * size; trailers are read and dropped. Performs no I/O.
 */
#ifndef PIGEON_HTTP_CHUNKED_H
#define PIGEON_HTTP_CHUNKED_H

#include "core/str.h"

#include <stddef.h>
#include <stdint.h>

#define HTTP_CHUNK_LINE_MAX 1024 /* a size line with its extensions */
#define HTTP_TRAILER_MAX 8192    /* all trailer fields together */

struct http_chunked {
    int state;
    uint64_t remaining; /* data octets left in the current chunk */
    uint64_t total;     /* decoded octets so far */
    size_t line;        /* octets in the current size or trailer line */
    size_t trailers;    /* trailer octets so far */
    unsigned digits;
};

void http_chunked_init(struct http_chunked *c);

/*
 * Decodes p[0..n), appending chunk data to out. *used_out is set to the octets consumed
 * (bytes after the final CRLF are left alone: they belong to the next request). Returns 1
 * when the body is complete, 0 when more input is needed, -400 for a malformed coding or
 * -413 when the decoded body would pass max_body.
 */
int http_chunked_feed(struct http_chunked *c, const char *p, size_t n, uint64_t max_body,
                      struct str *out, size_t *used_out);

/* Appends one chunk (n > 0) framed as "<hex>\r\n<data>\r\n". */
void http_chunk_append(struct str *out, const char *p, size_t n);
/* Appends the last chunk and the empty trailer section: "0\r\n\r\n". */
void http_chunk_end(struct str *out);

#endif
