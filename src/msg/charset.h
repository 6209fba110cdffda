/*
 * charset — conversion of text in a MIME charset to UTF-8, for SEARCH and RFC 2047/2231
 * decoding. UTF-8, US-ASCII and ISO-8859-1 are handled here; every other charset goes
 * through glibc iconv(3) (thread-safe: one descriptor per call). Performs no I/O.
 */
#ifndef PIGEON_MSG_CHARSET_H
#define PIGEON_MSG_CHARSET_H

#include "core/str.h"

#include <stdbool.h>
#include <stddef.h>

/*
 * Appends in[0..n), written in charset cs[0..cs_len) (a MIME charset name, any case;
 * empty means US-ASCII), to out as UTF-8. Ill-formed input becomes U+FFFD. US-ASCII text with
 * 8-bit bytes is taken as UTF-8 when it is well-formed UTF-8, else as ISO-8859-1.
 * Returns 0, or ERR_NOTFOUND when the charset is unknown: the bytes are then appended with
 * ill-formed UTF-8 replaced, so ASCII words still match in SEARCH.
 */
int charset_to_utf8(const char *cs, size_t cs_len, const char *in, size_t n, struct str *out);

/* True when charset_to_utf8 knows cs[0..cs_len). */
bool charset_is_known(const char *cs, size_t cs_len);

/* Appends in[0..n) to out with every ill-formed UTF-8 sequence replaced by U+FFFD. */
void charset_utf8_sanitize(const char *in, size_t n, struct str *out);

#endif
