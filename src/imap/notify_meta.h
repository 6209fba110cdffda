/*
 * notify_meta — NOTIFY's MailboxMetadataChange and ServerMetadataChange (RFC 5465 §5.8-5.9,
 * required with METADATA): what the client was last told of a mailbox's (or the server's)
 * metadata, as entry names and a hash of each value, and the unsolicited `* METADATA name
 * (entry ...)` (RFC 5464 §4.4.2) naming the entries that came, went or changed since.
 * Engine code (no I/O of its own: one GETMETA request per look). Not for use outside src/imap.
 */
#ifndef PIGEON_IMAP_NOTIFY_META_H
#define PIGEON_IMAP_NOTIFY_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct imap_session;

struct imap_notify_meta {
    struct imap_notify_meta_entry *e; /* owned */
    size_t n;
    bool seen; /* a state is known (the first look only sets it) */
};

/* Asks the store for every entry of mailbox name (NULL: the server); cont(s) runs after. */
void imap_notify_meta_ask(struct imap_session *s, const char *name,
                          void (*cont)(struct imap_session *s));
/* Takes the answer in s->req as m's new state; when tell and a state was known, writes the
 * METADATA response for what changed (nothing when nothing did). A failed request keeps m. */
void imap_notify_meta_update(struct imap_session *s, const char *name, struct imap_notify_meta *m,
                             bool tell);
void imap_notify_meta_clear(struct imap_notify_meta *m);

#endif
