/*
 * mutf7 — modified UTF-7 (RFC 3501 §5.1.3), the mailbox name encoding of IMAP4rev1:
 * strict decoding (anything a conforming encoder cannot produce is refused, so every name has
 * exactly one wire form) and encoding, both to and from UTF-8. Pure; output is appended to a
 * caller-owned struct str (partial output is left there on error).
 */
#ifndef PIGEON_IMAP_MUTF7_H
#define PIGEON_IMAP_MUTF7_H

#include "core/str.h"

#include <stddef.h>

/*
 * Appends the UTF-8 form of the modified UTF-7 text in[0..n). Returns 0, or ERR_PARSE when:
 * a byte is outside 0x20..0x7e; "&" is not closed by "-"; the base64 uses a character outside
 * [A-Za-z0-9+,], has leftover bits that are non-zero or make a whole sextet; a run encodes
 * printable US-ASCII; two encoded runs are adjacent ("&AGE-&AGI-"); UTF-16 surrogates are
 * unpaired; a run is empty but for "&-".
 */
int imap_mutf7_to_utf8(const char *in, size_t n, struct str *out);

/* Appends the modified UTF-7 form of the UTF-8 text in[0..n); ERR_PARSE when in is not
 * well-formed UTF-8. Printable ASCII stands for itself ("&" as "&-"), all else is encoded. */
int imap_utf8_to_mutf7(const char *in, size_t n, struct str *out);

#endif
