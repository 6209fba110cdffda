/*
 * imap service internals.
 *
 * ops.c fills the IMAP engine's ops (imap/session.h): the password check through
 * host_login() plus the per-user connection limit, every store request run on the store pool
 * or the IMAP writer (results come back through the worker's loop_post), message files
 * mapped read-only on the worker, and a mailbox-change report after each write. One
 * `struct imap_store` per connection; it is the session's ops_ctx and is freed after it.
 */
#ifndef PIGEON_IMAP_SERVICE_SERVICE_INT_H
#define PIGEON_IMAP_SERVICE_SERVICE_INT_H

#include "host/host.h"
#include "imap/service/pcache.h"
#include "imap/session.h"
#include "net/conn.h"

#include <stdint.h>

struct imap_conn;
struct imap_store;
struct host_change;

/* open()'s state: the writer that group-commits every IMAP write (NULL: writes go to the
 * store pool). */
struct imap_service_state {
    struct imap_writer *writer;
};

/* attach()'s state: this worker's IMAP sessions, which notices are delivered to, and its
 * memory copy of the parse cache (pcache.h). */
struct imap_worker_state {
    struct imap_conn *sessions;
    struct imap_pcache *pcache;
};

/* conn.c */
extern const struct proto_ops imap_proto;
/* host_change_fn, on each worker: its matching sessions re-sync. */
void imap_notify(void *ctx, struct worker *w, const struct host_change *ch);

/* ops.c */
const struct imap_session_ops *imap_store_ops(void);
/* Per-connection state; id is the connection's session id (the origin of its notices). */
struct imap_store *imap_store_new(struct conn *c, uint64_t id, unsigned max_per_user);
void imap_store_set_session(struct imap_store *is, struct imap_session *s);
/* Releases the per-user connection slot. */
void imap_store_free(struct imap_store *is);
/* For the notice registry: the user (0 before login) and the selected mailbox (0: none). */
int64_t imap_store_user_id(const struct imap_store *is);
int64_t imap_store_selected(const struct imap_store *is);
uint64_t imap_store_origin(const struct imap_store *is);
/* NOTIFY is on: notices of every mailbox of the user reach the session. */
bool imap_store_watch_all(const struct imap_store *is);

#endif
