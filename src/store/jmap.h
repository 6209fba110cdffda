/*
 * store/jmap — the reads JMAP needs beyond store/imap.h: every mailbox of a user with its
 * modseq, next uid and uidvalidity (the engine counts messages from the rows), and every
 * message row of a user (or of one of the user's mailboxes) — each as one consistent snapshot, so a JMAP state string and the data it names
 * agree. Writes go through store/imap.h (the same modseq rules as IMAP's).
 *
 * Same rules as store.h: one `struct store` per thread; every function blocks on disk I/O
 * and returns 0 or a negative ERR_* (core/err.h). Strings passed to callbacks are valid
 * during the call only; callbacks must not use st.
 */
#ifndef PIGEON_STORE_JMAP_H
#define PIGEON_STORE_JMAP_H

#include "store/store.h"

#include <stdbool.h>
#include <stdint.h>

struct store_jmap_mailbox {
    int64_t id;
    const char *name;
    const char *special_use;
    int64_t highestmodseq, uidnext, uidvalidity;
    bool subscribed;
};

struct store_jmap_msg {
    int64_t mailbox_id, uid, modseq, size, internal_date;
    int64_t thread_id; /* store/jmap_threads.h; 0 when the message was never placed */
    const char *flags;
    const char *blob_id;
};

/* The user's mailboxes in name order. ERR_NOTFOUND when the user does not exist. */
int store_jmap_mailboxes(struct store *st, const char *user,
                         void (*cb)(void *ctx, const struct store_jmap_mailbox *m), void *ctx);
/* The user's messages (mailbox_id 0: of every mailbox), by mailbox and uid. */
int store_jmap_messages(struct store *st, const char *user, int64_t mailbox_id,
                        void (*cb)(void *ctx, const struct store_jmap_msg *m), void *ctx);
/* Whether a message of the user refers to file blob_id: 1 yes, 0 no, < 0 error. */
int store_jmap_blob_owned(struct store *st, const char *user, const char *blob_id);

#endif
