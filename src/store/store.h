/*
 * store — Pigeon's durable storage: one SQLite database (WAL, synchronous=FULL) for metadata
 * and immutable message files ("blobs") under DATA/blobs/.
 *
 * A `struct store` is one SQLite connection plus the data directory. It is NOT thread-safe:
 * each thread opens its own (SQLite WAL lets readers run beside the one writer). Writes from
 * the CLI and from the daemon's committer serialise through SQLite's lock (busy timeout).
 *
 * Durability contract (DESIGN.md §5): a message is accepted only once its blob is fsynced,
 * renamed into place with the directory fsynced, and the rows that reference it (mailbox
 * messages and/or queue entries) are committed. The committer (store/committer.h) does that
 * for many messages at once: one transaction and one WAL fsync per batch (group commit).
 *
 * Addresses passed in are "local@domain"; they are matched case-insensitively (stored lower).
 * All functions return 0 or a negative ERR_* (core/err.h); they block on disk I/O.
 */
#ifndef PIGEON_STORE_STORE_H
#define PIGEON_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct store_report;

/* Current schema version; migrations bring any older database up to it. */
#define STORE_SCHEMA_VERSION 11

/*
 * Opens (creating when missing) DATA/pigeon.db and the blob directories, applies pending
 * migrations, sets WAL + synchronous=FULL + busy_timeout. *err_out gets static or
 * store-owned text on failure (valid until the next call). Caller frees with store_close().
 */
int store_open(const char *data_dir, struct store **out, const char **err_out);
void store_close(struct store *st);
/* Text of the last SQLite error on this handle (for logs). Never NULL. */
const char *store_errmsg(struct store *st);
/* The data directory this store was opened on. */
const char *store_data_dir(const struct store *st);

/* ---- domains ---- */
int store_domain_add(struct store *st, const char *domain); /* ERR_EXISTS if present */
/* ERR_NOTFOUND; ERR_BUSY_STATE while it has users (core/err.h renamed ERR_STATE). */
int store_domain_del(struct store *st, const char *domain);
int store_domain_exists(struct store *st, const char *domain); /* 1 yes, 0 no, <0 error */
int store_domain_list(struct store *st, void (*cb)(void *ctx, const char *domain), void *ctx);

/* ---- users ---- */
/*
 * Creates the user (its domain must exist: else ERR_NOTFOUND) with a crypt(3) hash, and its
 * mailboxes: INBOX plus Sent, Drafts, Trash, Junk, Archive with their SPECIAL-USE attributes.
 */
int store_user_add(struct store *st, const char *address, const char *pw_hash);
/* Deletes the user, its mailboxes and message rows (blobs are reclaimed by store_gc). */
int store_user_del(struct store *st, const char *address);
int store_user_set_hash(struct store *st, const char *address, const char *pw_hash);
/* *hash_out is malloc'd (caller frees). ERR_NOTFOUND if no such user. */
int store_user_get_hash(struct store *st, const char *address, char **hash_out);
/* *id_out gets the user's id. ERR_NOTFOUND if no such user. */
int store_user_lookup(struct store *st, const char *address, int64_t *id_out);
/* The address of user id (*address_out malloc'd). ERR_NOTFOUND if no such user. */
int store_user_address(struct store *st, int64_t id, char **address_out);
/* Lists "local@domain" of every user, or of one domain when domain != NULL. */
int store_user_list(struct store *st, const char *domain,
                    void (*cb)(void *ctx, const char *address), void *ctx);

/* ---- delivery (used by the committer thread; exposed for tests) ---- */

/* One delivery chosen by a Sieve script. */
struct store_target {
    int64_t user;
    const char *mailbox; /* "INBOX", "Lists/foo" ... */
    const char *flags;   /* IMAP flags and keywords, space-separated ("" none) */
    bool create;         /* Sieve's fileinto :create: a missing mailbox (a valid name) is made */
};

/* "user was answered with vacation text handle, do not answer sender again before expires". */
struct store_vacation_mark {
    int64_t user;
    const char *handle;
    const char *sender;
    int64_t expires;
};

/* One accepted message. The store never takes ownership of these buffers. */
/* A queued message's delivery requirements (queue.flags, schema version 8; RFC 8689). */
enum store_queue_flag {
    STORE_QF_REQUIRETLS = 1 << 0,   /* MAIL ... REQUIRETLS: only over verified TLS to a next hop
                                     * that offers REQUIRETLS, else bounced (5.7.30) */
    STORE_QF_TLS_OPTIONAL = 1 << 1, /* "TLS-Required: No": the recipient's MTA-STS policy and
                                     * DANE records are not enforced */
};

struct store_msg {
    const char *sender; /* envelope sender, "" for the null reverse-path */
    const char
        *local_prefix; /* bytes prepended to body in the local copy ("Return-Path: ..\r\n") */
    size_t local_prefix_len;
    const char *body; /* the message as stored (CRLF line ends, trace headers included) */
    size_t body_len;
    const int64_t *local_users; /* user ids whose INBOX receives the message */
    const char *local_mailbox;  /* NULL: INBOX; else e.g. "Junk" (INBOX when a user has none) */
    size_t n_local;
    const char *const *remote_rcpts; /* addresses queued for outbound delivery */
    size_t n_remote;
    /* Optional, for forwarded mail: the envelope sender of each remote recipient (NULL: sender
     * for all; an entry NULL: sender), e.g. an SRS address (msg/srs.h), and bytes prepended to
     * the queued copy (Delivered-To: lines, so a forwarding loop is seen when it comes back). */
    const char *const *remote_senders;
    const char *remote_prefix;
    size_t remote_prefix_len;
    int64_t received_at;  /* unix seconds: internal date / queue arrival */
    unsigned queue_flags; /* enum store_queue_flag bits of every queue row it makes */
    /* Optional, from Sieve: further deliveries of the local copy, each into one user's mailbox
     * with flags (a missing mailbox falls back to INBOX), and the memory of the vacation
     * replies this message causes (written with the message, before the replies are sent,
     * so the next message from the same sender already finds it). */
    const struct store_target *targets;
    size_t n_targets;
    const struct store_vacation_mark *vacations;
    size_t n_vacations;
    /* Optional: aggregate reports this message carried (store/reports.h), kept with it. */
    const struct store_report *reports;
    size_t n_reports;
    const int64_t *done_queue_ids; /* queue rows removed in the same transaction (a DSN
                                    * replaces them: both happen, or neither) */
    size_t n_done_queue;
    /* Filled by the store: */
    char id[33]; /* message id used in logs, the queue and the file name: 32
                  * lower-case hex digits; chosen by store_blob_write unless
                  * the caller set one (SMTP: the id of its Received: field) */
    int result;  /* 0 or ERR_* */
};

/*
 * Writes blob file(s) for msg: when n_local > 0 one file "local_prefix + body" shared by every
 * local recipient; when n_remote > 0 one file "body" for the queue. Each file is written to
 * DATA/tmp, fsynced and renamed into DATA/blobs/xx/. The directory fsync is left to
 * store_blobs_sync() so a batch pays for it once. Fills msg->id. Thread-safe (no db access).
 */
int store_blob_write(const char *data_dir, struct store_msg *msg);
/* fsyncs every blob directory renamed into since the last call (per data dir). Thread-safe. */
int store_blobs_sync(const char *data_dir);
/*
 * The one durable-write helper for files outside the blob store (keys, state files): writes
 * data to "<path>.tmp.<random>", fsyncs it, renames it over path and fsyncs the directory.
 * Thread-safe; blocks on disk I/O. 0 or ERR_IO (errno tells more).
 */
int store_durable_write(const char *path, const void *data, size_t len);

/*
 * Inserts the rows for msgs[0..n) in one transaction (uids allocated per mailbox, queue rows
 * with next_attempt = now). Sets msgs[i].result. Returns 0 if the commit succeeded.
 * The blobs must have been written by store_blob_write and synced by store_blobs_sync.
 */
int store_commit_batch(struct store *st, struct store_msg *msgs, size_t n);

/* ---- mailbox messages (minimal read API; POP3/IMAP extend it) ---- */
struct store_msg_info {
    int64_t uid;
    int64_t size;          /* octets of the stored file */
    int64_t internal_date; /* unix seconds */
    const char *blob_path; /* absolute or data_dir-relative path of the file */
    const char *flags;     /* space-separated system flags and keywords */
};
/* Calls cb for each message of the user's mailbox (e.g. "INBOX") in uid order. */
int store_mailbox_messages(struct store *st, const char *address, const char *mailbox,
                           void (*cb)(void *ctx, const struct store_msg_info *m), void *ctx);

/* ---- outgoing queue ---- */
struct store_queue_entry {
    int64_t id;
    const char *msg_id; /* the store_msg id */
    const char *sender;
    const char *recipient;
    int64_t arrived;      /* unix seconds */
    int64_t next_attempt; /* unix seconds */
    int attempts;
    const char *last_error; /* "" when none */
    const char *state;      /* "queued", "held", ... */
    unsigned flags;         /* enum store_queue_flag */
    int64_t size;
    const char *blob_path; /* absolute path of the queued file, "" if unknown */
};
int store_queue_list(struct store *st, void (*cb)(void *ctx, const struct store_queue_entry *e),
                     void *ctx);

/* ---- outgoing queue: the runner's and the admin's operations (queue_run.c) ---- */

struct store_queue_item {
    int64_t id;
    const char *msg_id;
    const char *sender;
    const char *recipient;
    const char *blob_path; /* absolute path of the queued file */
    int64_t arrived;
    int attempts;
    const char *last_error;
    unsigned flags; /* enum store_queue_flag */
};

/* Entries in state 'queued' whose next_attempt <= now, oldest first, at most max. */
int store_queue_due(struct store *st, int64_t now, unsigned max,
                    void (*cb)(void *ctx, const struct store_queue_item *it), void *ctx);
/* Earliest next_attempt among 'queued' entries; ERR_NOTFOUND when there is none. */
int store_queue_next_due(struct store *st, int64_t *when_out);
/* Removes entries (delivered, or bounced once the DSN is committed) in one transaction. */
int store_queue_remove(struct store *st, const int64_t *ids, size_t n);
/* Records a failed attempt: attempts + 1, the error text, the next attempt time. */
int store_queue_defer(struct store *st, int64_t id, int64_t next_attempt, const char *error);
/* Admin: id 0 means every entry. ERR_NOTFOUND when nothing matched. */
int store_queue_hold(struct store *st, int64_t id);               /* queued -> held */
int store_queue_release(struct store *st, int64_t id);            /* held -> queued, due now */
int store_queue_flush(struct store *st, int64_t id, int64_t now); /* queued: due now */
int store_queue_delete(struct store *st, int64_t id);

/*
 * Removes blob files no row references (after a crash between rename and commit, after
 * store_user_del) together with their blobs rows, and DATA/tmp files; only files older than
 * STORE_GC_MIN_AGE seconds, so a blob renamed but not yet committed by a running daemon is
 * never taken. *removed_out (may be NULL) gets the number of files removed.
 */
#define STORE_GC_MIN_AGE 3600
int store_gc(struct store *st, int64_t *removed_out);
/* store_gc with another minimum age in seconds for blob files (0 = every unreferenced one:
 * tests, offline use). DATA/tmp files are always held STORE_GC_MIN_AGE. */
int store_gc_older(struct store *st, int64_t min_age, int64_t *removed_out);

#endif
