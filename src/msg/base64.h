/*
 * base64 — RFC 4648 base64 encoding and strict decoding. Pure functions, no I/O.
 */
#ifndef PIGEON_MSG_BASE64_H
#define PIGEON_MSG_BASE64_H

#include <stddef.h>

/* Bytes needed to encode n bytes, including the NUL. */
size_t base64_encoded_size(size_t n);
/* Encodes in[0..n) into out (base64_encoded_size(n) bytes), NUL-terminated; returns length. */
size_t base64_encode(const void *in, size_t n, char *out);
/*
 * Decodes in[0..n) into out (at least n/4*3+3 bytes). "=" padding may be omitted, but when
 * present it must complete the last quantum exactly; whitespace and any other character
 * outside the alphabet are refused (SASL). Empty input decodes to 0 bytes.
 * *out_len gets the decoded length. Returns 0 or ERR_PARSE.
 */
int base64_decode(const char *in, size_t n, unsigned char *out, size_t *out_len);

#endif
