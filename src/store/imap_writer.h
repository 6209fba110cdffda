/*
 * imap_writer — group commit for IMAP's writes: one thread with its own store handle runs
 * every write request (STORE, EXPUNGE, COPY/MOVE, APPEND's rows, mailbox changes) of every
 * session, as many as are waiting at once in one transaction (store_imap_batch_*), so one WAL
 * fsync makes a whole batch durable and IMAP writers never fight over SQLite's lock (whose
 * busy handler sleeps whole milliseconds). Replies are sent only after the batch's COMMIT;
 * a batch of flag changes, expunges and \Recent claims only commits without its own fsync.
 */
#ifndef PIGEON_STORE_IMAP_WRITER_H
#define PIGEON_STORE_IMAP_WRITER_H

struct store;
struct imap_writer;

/* Starts the thread on its own store handle. 0, or < 0 with *err_out set (static text). */
int imap_writer_start(const char *data_dir, struct imap_writer **out, const char **err_out);
/*
 * Queues a write: run(st, arg) runs on the writer thread inside a batch (it must use only
 * store_imap_* writes, which nest as savepoints) and returns 0 or ERR_*; after the batch's
 * COMMIT, done(arg, rc) runs on the writer thread with the final result (a failed COMMIT
 * fails every write of the batch). done must hand control back to its owner's loop quickly.
 * Thread-safe.
 */
void imap_writer_submit(struct imap_writer *w, int (*run)(struct store *st, void *arg),
                        void (*done)(void *arg, int rc), void *arg);
/*
 * The same for a write that may be lost to a power failure but not to a crash of the process
 * (flags, expunges, \Recent claims: nothing a client gave the server to keep). A batch made
 * only of such writes commits without its own WAL fsync (store_imap_batch_begin_relaxed); one
 * with any other write fsyncs, which makes the relaxed ones in it durable too.
 */
void imap_writer_submit_relaxed(struct imap_writer *w, int (*run)(struct store *st, void *arg),
                                void (*done)(void *arg, int rc), void *arg);
/* Runs every queued write (their done callbacks too), joins the thread, frees. NULL: no-op. */
void imap_writer_stop(struct imap_writer *w);

#endif
