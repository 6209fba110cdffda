/*
 * http/response_parse — the origin side of a proxy: an HTTP/1.1 response head parser
 * (RFC 9112 §4, §6.3) and the body reader for the three framings (Content-Length, chunked,
 * until the connection closes).
 *
 * Hand-written, for the reason request.h gives: a proxy must refuse every framing ambiguity
 * from an origin too (response smuggling, cache poisoning): Transfer-Encoding together with
 * Content-Length, two different lengths, a coding other than exactly "chunked", obs-fold,
 * bare CR or LF. The head is found with http_head_find (the same line rules as requests).
 * Fuzzed by tests/fuzz/fuzz_http_response.c; split-at-every-offset tests in
 * tests/unit/test_http_response_parse.c. Performs no I/O, keeps no state of its own.
 */
#ifndef PIGEON_HTTP_RESPONSE_PARSE_H
#define PIGEON_HTTP_RESPONSE_PARSE_H

#include "http/chunked.h"
#include "http/request.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum http_framing {
    HTTP_FRAME_NONE,    /* no body: HEAD, 1xx, 204, 304 */
    HTTP_FRAME_LENGTH,  /* Content-Length octets */
    HTTP_FRAME_CHUNKED, /* chunked */
    HTTP_FRAME_CLOSE,   /* until the origin closes the connection */
};

struct http_resp_head {
    int version; /* 10 or 11 */
    int status;
    struct slice reason;
    struct http_header headers[HTTP_MAX_HEADERS];
    unsigned nheaders;
    enum http_framing framing;
    uint64_t content_length; /* HTTP_FRAME_LENGTH */
    bool keep_alive;         /* the connection may carry another request after this body */
};

/*
 * Parses a complete response head (as found by http_head_find; slices point into p) to a
 * request made with method. Returns 0, or -1 with *why_out (static text) when the head is
 * malformed or its framing ambiguous.
 */
int http_resp_parse(const char *p, size_t n, enum http_method method, struct http_resp_head *h,
                    const char **why_out);

/* The value of the first field called name, or NULL. */
const struct slice *http_resp_header(const struct http_resp_head *h, const char *name);

/* Reads a body in the head's framing. */
struct http_body_reader {
    enum http_framing framing;
    uint64_t remaining; /* HTTP_FRAME_LENGTH */
    struct http_chunked chunked;
};

void http_body_reader_init(struct http_body_reader *r, const struct http_resp_head *h);
/*
 * Decodes p[0..n), appending body octets to out; *used_out is set to the octets consumed.
 * Returns 1 when the body is complete, 0 when more is needed, -1 when the framing is broken.
 * For HTTP_FRAME_CLOSE the body ends at eof: call with eof true (n may be 0) when the
 * connection closed; a length or chunked body cut short by eof is -1.
 */
int http_body_reader_feed(struct http_body_reader *r, const char *p, size_t n, bool eof,
                          struct str *out, size_t *used_out);

#endif
