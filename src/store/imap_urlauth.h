/*
 * store/imap_urlauth — the mailbox access keys of URLAUTH (RFC 4467 §6): one random 256-bit
 * key per user and mailbox, kept in the imap_urlauth_keys table (schema 11), made the first
 * time GENURLAUTH needs it and replaced (or all removed) by RESETKEY. A key goes with its
 * mailbox (a trigger on DELETE); the tokens themselves are computed by the IMAP engine
 * (imap/urlauth.h), never stored.
 *
 * Same rules as store/imap.h: one `struct store` per thread, blocking, 0 or ERR_*.
 */
#ifndef PIGEON_STORE_IMAP_URLAUTH_H
#define PIGEON_STORE_IMAP_URLAUTH_H

#include "store/store.h"

#include <stdbool.h>
#include <stdint.h>

#define STORE_URLAUTH_KEY_LEN 32

/*
 * The access key of user's mailbox name into key_out; with create, one is made (a write)
 * when there is none. ERR_NOTFOUND: no such user or mailbox, or no key and !create. May run
 * inside a batch (a savepoint) when create.
 */
int store_imap_urlauth_key(struct store *st, const char *user, const char *name, bool create,
                           unsigned char key_out[STORE_URLAUTH_KEY_LEN]);

/*
 * RESETKEY: a new key for user's mailbox name (every URL made with the old one stops
 * working); name NULL: every key of the user removed. ERR_NOTFOUND: no such user or mailbox.
 */
int store_imap_urlauth_reset(struct store *st, const char *user, const char *name);

#endif
