/*
 * store/imap_meta — IMAP METADATA (RFC 5464): annotations of a user's mailboxes and of the
 * server, kept in the imap_metadata table (schema 9). Server annotations are kept per user
 * (as Dovecot keeps them with the user's INBOX): this server has no annotations shared
 * between users. A mailbox's annotations go with it (a trigger on DELETE) and follow it
 * through RENAME (kept by mailbox id).
 *
 * Entry names arrive checked and lower-cased (imap/cmd_metadata.c). Same rules as
 * store/imap.h: one `struct store` per thread, blocking, 0 or ERR_*.
 */
#ifndef PIGEON_STORE_IMAP_META_H
#define PIGEON_STORE_IMAP_META_H

#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

#define STORE_META_MAX_VALUE (64 * 1024) /* octets of one value */
#define STORE_META_MAX_ENTRIES 1000      /* annotations of one user, server and mailboxes */

struct store_meta_entry {
    const char *entry;
    const char *value; /* NULL: remove the entry */
    size_t len;
};

/*
 * Sets (or removes) e[0..n) on user's mailbox name (NULL: the server) in one write: all or
 * none. ERR_NOTFOUND: no such mailbox; ERR_LIMIT: the user would hold more than
 * STORE_META_MAX_ENTRIES annotations. May run inside a batch (a savepoint).
 */
int store_imap_meta_set(struct store *st, const char *user, const char *name,
                        const struct store_meta_entry *e, size_t n);

/*
 * Calls cb for each annotation of user's mailbox name (NULL: the server) that is entry or,
 * with depth 1, a child of it ("entry/x"), with depth 2 (infinity) any descendant; in name
 * order. value/len are valid during the call only. ERR_NOTFOUND: no such mailbox.
 */
int store_imap_meta_get(struct store *st, const char *user, const char *name, const char *entry,
                        int depth,
                        void (*cb)(void *ctx, const char *entry, const char *value, size_t len),
                        void *ctx);

#endif
