/*
 * http/field — the lexer of HTTP/1.x head lines shared by the request head parser
 * (request.c) and the origin response parser (response_parse.c), so that both sides of a
 * proxy refuse exactly the same malformed lines: one CRLF-terminated line at a time (bare
 * CR, bare LF and NUL refused, RFC 9112 §2.2), one "name: value" field (RFC 9112 §5: the
 * name a token with no whitespace before the colon, no obs-fold; RFC 9110 §5.5: the value
 * field-vchar, SP, HTAB or obs-text, without its surrounding whitespace), and the strict
 * decimal of Content-Length (RFC 9110 §8.6: digits only, no sign, no list).
 *
 * Hand-written for the reason request.h gives. Pure: no I/O, no state, no allocation; the
 * slices it returns point into the caller's bytes.
 */
#ifndef PIGEON_HTTP_FIELD_H
#define PIGEON_HTTP_FIELD_H

#include "core/str.h"

#include <stdbool.h>
#include <stdint.h>

struct http_header {
    struct slice name, value; /* value without leading/trailing whitespace */
};

/*
 * Takes the line at *p (before end): sets *line_out to it without its CRLF and moves *p past
 * the CRLF. Returns 0, or -1 with *why_out (static text) when the line does not end in CRLF
 * before end or holds a bare CR or a NUL.
 */
int http_line_next(const char **p, const char *end, struct slice *line_out,
                   const char **why_out);

/* Lexes one field line (not empty). Returns 0, or -1 with *why_out (static text). */
int http_field_lex(struct slice line, struct http_header *out, const char **why_out);

/* RFC 9110 §5.6.2: whether s is a non-empty token (methods, field names). */
bool http_token_ok(struct slice s);
/* RFC 9110 §5.5: whether every octet of v may appear in a field value (or reason phrase). */
bool http_field_value_ok(struct slice v);
/* A Content-Length value: 1 to 19 decimal digits. Returns 0 with *out, or -1. */
int http_decimal_parse(struct slice v, uint64_t *out);

#endif
