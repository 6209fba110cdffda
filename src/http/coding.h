/*
 * http/coding — content codings of responses (RFC 9110 §8.4, §12.5.3): which coding a
 * request's Accept-Encoding prefers (q-values honoured, "*" and "identity;q=0" included),
 * which media types are worth compressing, and the entity tag of an encoded variant.
 * Pure functions: no I/O, no clock, no globals.
 */
#ifndef PIGEON_HTTP_CODING_H
#define PIGEON_HTTP_CODING_H

#include "core/str.h"

#include <stdbool.h>

enum http_coding { HTTP_CODING_IDENTITY, HTTP_CODING_GZIP, HTTP_CODING_BR };

/* "gzip", "br", or "identity". */
const char *http_coding_name(enum http_coding c);

/*
 * The q-value (0..1000) that an Accept-Encoding field value gives coding name (case-
 * insensitive; "x-gzip" counts as "gzip"): its own entry, else "*", else 1000 for identity
 * and 0 for every other coding. A malformed q-value makes its entry count as absent.
 */
unsigned http_coding_q(struct slice field, const char *name);

/*
 * The coding to send, given the request's Accept-Encoding (ae: NULL when absent, which
 * means identity, as every server does: clients that decode send the field) and whether
 * brotli is offered. The acceptable coding with the highest q wins, br before gzip on a tie;
 * identity when it has a higher q than both. *identity_refused_out tells whether the field
 * refuses identity (identity;q=0, or *;q=0 without identity) — then the caller should encode
 * even what it would not otherwise bother with. RFC 9110 §12.5.3: when nothing acceptable is
 * left, the response is sent without a coding (never 406).
 */
enum http_coding http_coding_choose(const struct slice *ae, bool allow_br,
                                    bool *identity_refused_out);

/* Whether a media type (as http_mime_type returns it) is worth compressing: any text type, JSON,
 * XML, JavaScript, SVG, WebAssembly, fonts without their own compression, ... */
bool http_coding_compressible(const char *media_type);

/* Turns the strong entity tag etag ("...") into the encoded variant's ("...-gzip"), in
 * place; etag has room for 64 octets. RFC 9110 §8.8.3: a different representation needs a
 * different tag, so If-None-Match on one never validates the other. */
void http_coding_etag(char etag[64], enum http_coding c);

#endif
