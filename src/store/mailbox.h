/*
 * mailbox — access to one mailbox's messages, shared by POP3 and IMAP: open a user's
 * mailbox and list its messages as one consistent snapshot, and expunge a set of uids.
 *
 * Message text is not read here: each message names its immutable blob file, which the
 * caller opens and reads itself (store/blob.c never rewrites a file in place, and a file goes
 * away only once no row references it, through store_gc).
 *
 * Same rules as store.h: a `struct store` per thread, every function blocks on disk I/O,
 * returns 0 or a negative ERR_* (core/err.h).
 */
#ifndef PIGEON_STORE_MAILBOX_H
#define PIGEON_STORE_MAILBOX_H

#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

/* The state of a mailbox when it was opened (RFC 9051 §2.3.1.1, RFC 7162). */
struct store_mailbox {
    int64_t id;
    int64_t uidvalidity;
    int64_t uidnext;
    int64_t highestmodseq;
    int64_t exists; /* messages listed */
};

/* One message of a mailbox; strings are valid only during the callback. */
struct store_mailbox_msg {
    int64_t uid;
    int64_t size;          /* octets of the blob file, CRLF line ends */
    int64_t internal_date; /* unix seconds */
    int64_t modseq;
    const char *blob_path; /* absolute: "DATA/blobs/xx/<id>" */
    const char *flags;     /* space-separated system flags and keywords, "" for none */
};

/*
 * Opens address's mailbox `name` ("INBOX" in any case) and, when cb != NULL, calls cb for each
 * of its messages in uid order — all inside one read transaction, so the listing matches
 * mb_out exactly even while deliveries and expunges run. cb must not use st.
 * ERR_NOTFOUND when the user or the mailbox does not exist.
 */
int store_mailbox_open(struct store *st, const char *address, const char *name,
                       struct store_mailbox *mb_out,
                       void (*cb)(void *ctx, const struct store_mailbox_msg *m), void *ctx);

/*
 * Expunges the messages with uids[0..n) from mailbox mailbox_id in one transaction: their
 * rows move to the expunged table with one new modseq (the mailbox's highestmodseq + 1, which
 * becomes its highestmodseq). Uids no longer present (expunged meanwhile, e.g. by IMAP) are
 * skipped; when none is present nothing changes. Blob files are reclaimed later by store_gc.
 * *removed_out (may be NULL) gets how many were removed. Retries a busy database a few times.
 */
int store_mailbox_expunge(struct store *st, int64_t mailbox_id, const int64_t *uids, size_t n,
                          size_t *removed_out);

#endif
