/*
 * wiring_pop3 — the POP3 engine's ops (pop3/session.h) on the daemon's auth and store: the
 * password check through wiring_auth(), the maildrop (the user's INBOX) listed and, at QUIT,
 * expunged on the auth pool's store handles, and message files read by path.
 *
 * One `struct wiring_pop3` per connection holds the maildrop's lock and file paths; it is
 * the ops_ctx of that connection's session and is freed after the session.
 */
#ifndef PIGEON_DAEMON_WIRING_POP3_H
#define PIGEON_DAEMON_WIRING_POP3_H

#include "pop3/session.h"

struct conn;
struct wiring_pop3;

const struct pop3_session_ops *wiring_pop3_ops(void);
/* Per-connection state for the ops; c is the connection the session writes to. */
struct wiring_pop3 *wiring_pop3_new(struct conn *c);
/* Releases the maildrop lock (if still held) and closes an open message. */
void wiring_pop3_free(struct wiring_pop3 *wp);

#endif
