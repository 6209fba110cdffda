/*
 * mailfile — the pure parts of the two mail file formats other servers and clients keep:
 * Maildir (flags in the file name after ":2,", keywords as letters a-z indexed by Dovecot's
 * dovecot-keywords file) and mbox (messages after "From " separator lines whose date is the
 * internal date, ">From " quoting, flags in Status:/X-Status:/X-Keywords: headers as mutt and
 * Dovecot write them). Used by `pigeon import` and `pigeon export`; performs no I/O.
 *
 * Flags are Pigeon's canonical text (store/imap.h): system flags in the order \Answered
 * \Flagged \Deleted \Seen \Draft, then keywords, space-separated.
 */
#ifndef PIGEON_MSG_MAILFILE_H
#define PIGEON_MSG_MAILFILE_H

#include "core/str.h"

#include <stddef.h>
#include <stdint.h>

#define MAILFILE_KEYWORDS 26 /* Maildir keyword letters a-z */

/* Keyword names by letter index; entries may be NULL. Owned by the caller. */
struct mailfile_keywords {
    char *name[MAILFILE_KEYWORDS];
};

/* Maildir info letters ("FRS", "FSa", the part after ":2,") -> canonical flag text appended
 * to out. D draft, F flagged, P passed ($Forwarded), R replied, S seen, T trashed (\Deleted);
 * a-z are keywords from kw (unknown letters are skipped). */
void mailfile_maildir_flags_parse(const char *info, const struct mailfile_keywords *kw,
                                  struct str *out);
/* Canonical flag text -> Maildir info letters (sorted, as the spec asks) appended to out.
 * Keywords get letters from kw, new ones added in the first free slot; a keyword that finds
 * no slot is left out. */
void mailfile_maildir_flags_format(const char *flags, struct mailfile_keywords *kw,
                                   struct str *out);

/* Appends in[0..n) with every line ending made CRLF (LF and CRLF both accepted). */
void mailfile_crlf(const char *in, size_t n, struct str *out);

/* One message of an mbox, as mailfile_mbox_next finds it. */
struct mailfile_mbox_msg {
    int64_t date;     /* from the "From " line (asctime, taken as UTC); 0 if unreadable */
    struct str data;  /* the message, CRLF lines, ">From " unquoted, mbox headers removed */
    struct str flags; /* canonical flags from Status:, X-Status:, X-Keywords: */
};

/*
 * Reads the message starting at *pos in buf[0..len) (which must start with a "From " line
 * at *pos) and advances *pos to the next separator or the end. Returns 1 with out filled
 * (out's strings are reset first; the caller clears them), 0 at the end of buf, ERR_PARSE
 * when buf does not start with "From " (not an mbox).
 */
int mailfile_mbox_next(const char *buf, size_t len, size_t *pos, struct mailfile_mbox_msg *out);

/* Appends one message in mbox form: "From sender asctime(date)\n", Status:/X-Status:/
 * X-Keywords: for flags after the header's other fields, the body with LF line ends, ">From "
 * quoting (mboxrd: every ">*From " line gets one more '>'), and a blank line. */
void mailfile_mbox_append(struct str *out, const char *sender, int64_t date, const char *flags,
                          const char *data, size_t n);

#endif
