/*
 * wiring_imap — the IMAP engine's ops (imap/session.h) on the daemon's auth and store: the
 * password check through wiring_auth() plus the per-user connection limit, every store
 * request run on the daemon's store pool (each thread owns a store handle; results come back
 * through the worker's loop_post), message files mapped read-only on the worker, and the
 * "mailbox changed" notices sent to the other sessions after each write (imap_notify.h).
 *
 * One `struct wiring_imap` per connection; it is the session's ops_ctx and is freed after it.
 */
#ifndef PIGEON_DAEMON_WIRING_IMAP_H
#define PIGEON_DAEMON_WIRING_IMAP_H

#include "imap/session.h"

#include <stdint.h>

struct conn;
struct wiring_imap;

const struct imap_session_ops *wiring_imap_ops(void);
/* Per-connection state; id is the connection's session id (the origin of its notices). */
struct wiring_imap *wiring_imap_new(struct conn *c, uint64_t id, unsigned max_per_user);
void wiring_imap_set_session(struct wiring_imap *wi, struct imap_session *s);
/* Releases the per-user connection slot. */
void wiring_imap_free(struct wiring_imap *wi);

/* For the notice registry: the user (0 before login) and the selected mailbox (0: none). */
int64_t wiring_imap_user_id(const struct wiring_imap *wi);
int64_t wiring_imap_selected(const struct wiring_imap *wi);
uint64_t wiring_imap_origin(const struct wiring_imap *wi);

#endif
