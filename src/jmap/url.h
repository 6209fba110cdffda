/*
 * jmap/url — percent-decoding (RFC 3986 §2.1) of a path segment or query value, strictly,
 * and one query parameter by name. Pure: no I/O, no allocation; reads only the given slice.
 */
#ifndef PIGEON_JMAP_URL_H
#define PIGEON_JMAP_URL_H

#include <stddef.h>

/* Decodes s[0..n) into out[cap] (NUL-terminated): its length, or -1 when a "%" is not
 * followed by two hexadecimal digits, "%00" appears, or out is too small. */
int jmap_url_decode(const char *s, size_t n, char *out, size_t cap);

/* The value of parameter name in query q[0..len) ("a=1&b=2"), decoded into out[cap]: 1, 0
 * when absent (out untouched), -1 when its value does not decode (as jmap_url_decode). */
int jmap_url_param(const char *q, size_t len, const char *name, char *out, size_t cap);

#endif
