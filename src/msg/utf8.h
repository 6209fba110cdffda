/*
 * utf8 — UTF-8 validation and encoding, simple case folding and case-insensitive substring
 * search (IMAP SEARCH, RFC 3501 §6.4.4: "case-insensitive substring"). Pure functions, no I/O.
 * Output goes to a caller-owned struct str.
 */
#ifndef PIGEON_MSG_UTF8_H
#define PIGEON_MSG_UTF8_H

#include "core/str.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when s[0..n) is well-formed UTF-8 (no overlongs, surrogates or code points > 10FFFF). */
bool utf8_valid(const char *s, size_t n);
/* Decodes the code point at s[*i] and advances *i past it; an ill-formed sequence gives -1
 * and advances by one byte. *i must be < n. */
int32_t utf8_next(const char *s, size_t n, size_t *i);
/* Appends the UTF-8 form of cp (U+FFFD when cp is not a scalar value). */
void utf8_append(struct str *out, uint32_t cp);

/*
 * Appends a case-folded copy of s[0..n) to out: simple folding for ASCII, Latin-1, Latin
 * Extended-A, Greek and Cyrillic; other code points are unchanged and ill-formed bytes are
 * copied as they are (so raw 8-bit text still matches itself). Folding is idempotent.
 */
void utf8_fold(const char *s, size_t n, struct str *out);
/* The folded form of one code point. */
uint32_t utf8_fold_cp(uint32_t cp);
/*
 * True when needle (already folded with utf8_fold) occurs in hay after folding hay.
 * An empty needle matches everything. Allocates a temporary copy; never blocks.
 */
bool utf8_contains_folded(const char *hay, size_t hn, const char *needle, size_t nn);

#endif
