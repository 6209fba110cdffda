/*
 * qp — quoted-printable decoding (RFC 2045 §6.7) and the "Q" encoding of encoded-words
 * (RFC 2047 §4.2). Lenient, as a reader must be: malformed escapes are kept as they are.
 * Pure functions, no I/O; output is appended to a caller-owned struct str.
 */
#ifndef PIGEON_MSG_QP_H
#define PIGEON_MSG_QP_H

#include "core/str.h"

#include <stdbool.h>
#include <stddef.h>

/*
 * Appends the decoded form of in[0..n) to out. Soft line breaks ("=" then optional
 * whitespace then CRLF or LF) vanish; whitespace at the end of a line is dropped (RFC 2045
 * §6.7 rule 3: it was added in transport); "=XX" with hex digits (either case) gives a byte;
 * any other "=" is kept. With q_mode (RFC 2047 "Q"), "_" stands for a space.
 */
void qp_decode(const char *in, size_t n, bool q_mode, struct str *out);

#endif
