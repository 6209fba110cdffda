/*
 * rfc2047 — decoding of MIME encoded-words ("=?charset?B?...?=", RFC 2047) in header values,
 * to UTF-8, for SEARCH and display. IMAP ENVELOPE and BODYSTRUCTURE do NOT use this: RFC 3501
 * §7.4.2 returns header strings as they are in the message, encoded-words included.
 * Pure function, no I/O; output is appended to a caller-owned struct str.
 */
#ifndef PIGEON_MSG_RFC2047_H
#define PIGEON_MSG_RFC2047_H

#include "core/str.h"

#include <stddef.h>

/*
 * Appends the decoded form of the (unfolded) header value in[0..n) to out, in UTF-8.
 * Encoded-words are recognised anywhere (readers must be lenient, many mailers do not put
 * them between blanks); whitespace between two adjacent encoded-words is dropped (§6.2); the
 * bytes of adjacent words in one charset are joined before conversion so a character split
 * across words survives. RFC 2231 language suffixes ("=?utf-8*en?Q?...?=") are accepted.
 * A malformed word or an unknown charset is kept as raw text. Text outside encoded-words is
 * taken as UTF-8 when well-formed, else as ISO-8859-1.
 */
void rfc2047_decode(const char *in, size_t n, struct str *out);

#endif
