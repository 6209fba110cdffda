/*
 * header — the little an MTA needs from an RFC 5322 header block: where it ends, whether a
 * field is present, and today's date in RFC 5322 form. Pure functions, no I/O.
 */
#ifndef PIGEON_MSG_HEADER_H
#define PIGEON_MSG_HEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/*
 * Length of the header block of msg[0..len): the offset just past the empty line that ends
 * it (CRLF or LF), or len when the message has no body separator.
 */
size_t msg_header_end(const char *msg, size_t len);

/* True when a field named `name` (case-insensitive, e.g. "Message-ID") starts a line of hdr. */
bool msg_header_has(const char *hdr, size_t hdr_len, const char *name);

/* Formats t as an RFC 5322 date-time in local time: "Sun, 22 Nov 2026 16:20:01 +0000".
 * Returns the length written (buf gets a NUL); cap should be at least 40. */
size_t msg_date_format(time_t t, char *buf, size_t cap);

#endif
