/*
 * pop3 service internals: the connection glue (conn.c) and the engine's ops (ops.c).
 *
 * ops.c fills the POP3 engine's ops (pop3/session.h) on the daemon's auth and store: the
 * password check through host_login(), the maildrop (the user's INBOX) listed and, at QUIT,
 * expunged on the store pool, and message files read by path. One `struct pop3_store` per
 * connection holds the maildrop's lock and file paths; it is the ops_ctx of that
 * connection's session and is freed after the session.
 */
#ifndef PIGEON_POP3_SERVICE_SERVICE_INT_H
#define PIGEON_POP3_SERVICE_SERVICE_INT_H

#include "net/conn.h"
#include "pop3/session.h"

struct pop3_store;

/* conn.c: the engine behind [pop3] and [pop3s] listeners. */
extern const struct proto_ops pop3_proto;

/* ops.c */
const struct pop3_session_ops *pop3_store_ops(void);
/* Per-connection state for the ops; c is the connection the session writes to. */
struct pop3_store *pop3_store_new(struct conn *c);
/* Releases the maildrop lock (if still held) and closes an open message. */
void pop3_store_free(struct pop3_store *ps);

#endif
