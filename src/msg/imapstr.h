/*
 * imapstr — writing IMAP strings (RFC 3501 §4.3, §9 string / nstring / astring): a quoted
 * string when the bytes allow it (7-bit, no CR/LF/NUL; '"' and '\' escaped), else a literal
 * "{n}\r\n" followed by the bytes. Used by ENVELOPE/BODYSTRUCTURE here and by the IMAP
 * session for its responses. Pure; appends to a caller-owned struct str.
 */
#ifndef PIGEON_MSG_IMAPSTR_H
#define PIGEON_MSG_IMAPSTR_H

#include "core/str.h"

#include <stdbool.h>
#include <stddef.h>

/* Appends s[0..n) as a quoted string or, for 8-bit/CR/LF content or n > 4000, a literal.
 * NUL bytes, which no IMAP string may carry, are sent as '?'. */
void imapstr_write(struct str *out, const char *s, size_t n);
/* NIL when s is NULL, else imapstr_write of the NUL-terminated s. */
void imapstr_write_nstring(struct str *out, const char *s);
/* An atom when s is a non-empty run of ASTRING-CHARs and not "NIL", else imapstr_write. */
void imapstr_write_astring(struct str *out, const char *s, size_t n);
/* True when s[0..n) can be sent as a quoted string. */
bool imapstr_quotable(const char *s, size_t n);

#endif
