/*
 * committer — group commit for accepted messages.
 *
 * Protocol sessions hand a message over with committer_submit(); a pool of writer threads
 * writes and fsyncs each blob (store_blob_write) in parallel, then one committer thread takes
 * every message whose blob is ready, syncs the blob directories once (store_blobs_sync) and
 * inserts all their rows in one SQLite transaction (store_commit_batch): one WAL fsync covers
 * the whole batch. Only then is each message's `done` callback called, from the committer
 * thread; the callback must hand control back to the owner's own event loop and return fast.
 *
 * Messages are never acknowledged before their batch's COMMIT returned.
 */
#ifndef PIGEON_STORE_COMMITTER_H
#define PIGEON_STORE_COMMITTER_H

#include "store/store.h"

struct committer;

/* Starts `writers` blob-writer threads and the committer thread on its own store handle. */
int committer_start(const char *data_dir, unsigned writers, struct committer **out,
                     const char **err_out);
/*
 * Queues msg (the caller keeps it and its buffers alive until done runs). done(msg, arg) is
 * called exactly once, from a committer thread, with msg->result set (0 = durable).
 */
void committer_submit(struct committer *c, struct store_msg *msg,
                      void (*done)(struct store_msg *msg, void *arg), void *arg);
/* Finishes every submitted message (their done callbacks run), then joins and frees. */
void committer_stop(struct committer *c);

#endif
