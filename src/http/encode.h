/*
 * http/encode — on-the-fly content coding of a response body: a streaming gzip (zlib) or
 * brotli (libbrotlienc) encoder, and a struct http_body_source that reads a range of an open
 * file with pread and hands it out encoded, piece by piece, as the transport asks (HTTP/1.1
 * chunked, HTTP/2 DATA frames). Memory per response: the coder's state plus one 64 KiB read.
 * I/O: pread of the file given; nothing else.
 */
#ifndef PIGEON_HTTP_ENCODE_H
#define PIGEON_HTTP_ENCODE_H

#include "http/coding.h"
#include "http/response.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct http_encoder;

/* A gzip or br encoder (c must not be identity). */
struct http_encoder *http_encoder_new(enum http_coding c);
void http_encoder_free(struct http_encoder *e);
/* Encodes in[0..n) and appends what comes out to out; finish ends the stream (the trailer is
 * appended). 0, or -1 when the library fails (the output is then unusable). */
int http_encoder_run(struct http_encoder *e, const void *in, size_t n, bool finish,
                     struct str *out);

/*
 * Makes r's body fd's [0, len) encoded with c, streamed: r->fd (which must be open) moves
 * into the source. The length is unknown in advance, so the transport frames it (chunked on
 * HTTP/1.1, DATA frames with END_STREAM on HTTP/2).
 */
void http_encode_file(struct http_response *r, enum http_coding c, uint64_t len);

#endif
