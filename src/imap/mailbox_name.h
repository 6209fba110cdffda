/*
 * mailbox_name — IMAP mailbox names as Pigeon stores them: UTF-8, hierarchy delimiter "/",
 * "INBOX" in upper case (RFC 3501 §5.1: INBOX is case-insensitive). Conversion from and to
 * the wire form (modified UTF-7, or UTF-8 once the client enabled UTF8=ACCEPT / IMAP4rev2),
 * validation that keeps every name inside the user's own tree, and LIST pattern matching.
 * Pure; output is appended to caller-owned struct str.
 */
#ifndef PIGEON_IMAP_MAILBOX_NAME_H
#define PIGEON_IMAP_MAILBOX_NAME_H

#include "core/str.h"

#include <stdbool.h>
#include <stddef.h>

#define IMAP_MAILBOX_DELIM '/'
#define IMAP_MAILBOX_MAX_LEN 1000      /* bytes of a whole name (UTF-8) */
#define IMAP_MAILBOX_MAX_COMPONENT 255 /* bytes of one level */
#define IMAP_MAILBOX_MAX_DEPTH 32      /* levels */

/*
 * Checks a stored-form name: valid UTF-8, not empty, no control characters, no wildcards
 * ("%", "*"), no leading, trailing or doubled "/", no "." or ".." level, within the length
 * and depth limits. Such a name cannot reach outside the user's namespace. Returns 0 or
 * ERR_PARSE with a static reason in *err_out.
 */
int imap_mailbox_name_check(const char *name, size_t n, const char **err_out);

/* Rewrites a leading "inbox" level (any case) as "INBOX", in place. */
void imap_mailbox_name_normalize(struct str *name);

/*
 * Wire form (an astring's bytes) to stored form: modified UTF-7 decoding unless utf8_mode,
 * INBOX normalised, then imap_mailbox_name_check. The caller strips one trailing "/" first
 * for CREATE (RFC 3501 §6.3.3). Appends to out; 0 or ERR_PARSE with *err_out.
 */
int imap_mailbox_name_from_wire(const char *in, size_t n, bool utf8_mode, struct str *out,
                                const char **err_out);
/* Stored form to wire form (modified UTF-7 unless utf8_mode). Appends to out. */
void imap_mailbox_name_to_wire(const char *name, size_t n, bool utf8_mode, struct str *out);

/*
 * LIST/LSUB matching (RFC 3501 §6.3.8): "*" matches any run, "%" any run without "/";
 * everything else byte for byte, except that a leading "INBOX" level matches in any case.
 * pattern is in stored form (decode the wire pattern first). Linear memory, O(p*n) time.
 */
bool imap_mailbox_match(const char *pattern, size_t plen, const char *name, size_t nlen);

#endif
