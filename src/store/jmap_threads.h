/*
 * store/jmap_threads — JMAP's conversations (schema version 7): which thread each message a
 * JMAP client has seen belongs to, and the message ids and base subject of every thread, by
 * which later messages join one. The decision of what a message's ids and base subject are is
 * the JMAP engine's (jmap/thread_key.c); this file only keeps and matches them.
 *
 * A thread number is handed out once and never changes for a message (RFC 8621 §4.1.1:
 * threadId is immutable): rows outlive an expunge, a copy or move (same file) joins the
 * thread of its original, and two threads that a later message links are not merged.
 *
 * Same rules as store.h: one struct store per thread; every function blocks on disk I/O and
 * returns 0 or a negative ERR_* (core/err.h).
 */
#ifndef PIGEON_STORE_JMAP_THREADS_H
#define PIGEON_STORE_JMAP_THREADS_H

#include "store/store.h"

#include <stdint.h>

/* One message to place: its row, its file, its key; thread_id is filled. */
struct store_jmap_thread_req {
    int64_t mailbox_id, uid;
    const char *blob_id;
    const char *const *msgids; /* its own Message-ID, In-Reply-To, References */
    size_t nmsgids;
    const char *subject; /* base subject */
    int64_t thread_id;   /* out */
};

/* Places every message of r[0..n) of user, in that order, in one transaction: the thread it
 * already has; else the thread of another row of the same file; else the thread of the first
 * of its message ids known with the same subject; else a new thread. Each message's ids are
 * then recorded for its thread. ERR_NOTFOUND when the user does not exist. */
int store_jmap_threads_assign(struct store *st, const char *user, struct store_jmap_thread_req *r,
                              size_t n);

/* The thread of (mailbox_id, uid) of user, also after its expunge. ERR_NOTFOUND when it was
 * never placed. */
int store_jmap_thread_of(struct store *st, const char *user, int64_t mailbox_id, int64_t uid,
                         int64_t *thread_out);

#endif
