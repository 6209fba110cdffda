/*
 * store/imap — what IMAP needs from the store beyond store/mailbox.h: the user's mailbox
 * tree (create, delete, rename with RFC 3501 INBOX semantics, subscriptions, listing,
 * STATUS counts), a mailbox as a snapshot plus the changes since a modseq (new messages,
 * flag changes, expunges: how concurrent sessions see each other), flag and keyword updates
 * with CONDSTORE modseqs (RFC 7162), COPY/MOVE with UIDPLUS results (RFC 4315, 6851), APPEND
 * as a durable write, \Recent ownership, and the parse cache (ENVELOPE, BODYSTRUCTURE and
 * decoded header text computed once per blob).
 *
 * Mailbox names are in stored form (UTF-8, "/" as delimiter, "INBOX" upper case) and already
 * validated by the caller (imap/mailbox_name.h); users are canonical addresses.
 *
 * Flags are text: space-separated, system flags first in the order \Answered \Flagged
 * \Deleted \Seen \Draft, then keywords as first written (compared case-insensitively).
 * \Recent is never stored: a message is recent to the one session that claims it, through
 * the mailbox's recent_uid (every uid above it is still unclaimed).
 *
 * Same rules as store.h: one `struct store` per thread; every function blocks on disk I/O and
 * returns 0 or a negative ERR_* (core/err.h). Out arrays are malloc'd; the caller frees them
 * with the matching *_free.
 */
#ifndef PIGEON_STORE_IMAP_H
#define PIGEON_STORE_IMAP_H

#include "store/store.h"

#include "core/str.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- the mailbox tree (imap_mailboxes.c) ---- */

/*
 * Creates mailbox name and any missing superior level ("a/b/c" also makes "a" and "a/b",
 * RFC 3501 §6.3.3), unsubscribed, each with a fresh UIDVALIDITY. ERR_EXISTS when name exists.
 */
int store_imap_create(struct store *st, const char *user, const char *name);
/*
 * Deletes mailbox name with its messages (blobs are reclaimed by store_gc). ERR_NOTFOUND;
 * ERR_BUSY_STATE when it has inferior mailboxes (delete those first, as Dovecot asks).
 * *id_out (may be NULL) gets the id of the deleted mailbox.
 */
int store_imap_delete(struct store *st, const char *user, const char *name, int64_t *id_out);
/*
 * Renames from to `to` together with its inferiors ("from/x" becomes "to/x"), creating the
 * superior levels of `to`; UIDVALIDITY and uids are kept. Renaming INBOX (RFC 3501 §6.3.5)
 * creates `to` and moves every INBOX message into it (uids 1..n in the old order), leaving
 * INBOX empty (its messages are recorded as expunged) and its inferiors where they are.
 * ERR_NOTFOUND (no `from`), ERR_EXISTS (`to` or one of the new names exists), ERR_PARSE
 * (`to` inside `from`). *inbox_id_out (may be NULL) gets INBOX's id when INBOX was renamed.
 */
int store_imap_rename(struct store *st, const char *user, const char *from, const char *to,
                      int64_t *inbox_id_out);
/* Adds or removes name in the user's subscriptions (the name need not exist, RFC 3501
 * §6.3.6). Subscribing twice or unsubscribing an unknown name is not an error. */
int store_imap_subscribe(struct store *st, const char *user, const char *name, bool on);

/* One name of the user's tree; strings are valid during the callback only. */
struct store_imap_name {
    const char *name;
    const char *special_use; /* "\Sent", ... or "" */
    bool subscribed;
    bool exists; /* false: a subscription whose mailbox does not exist */
};
/* Every mailbox of the user, then every subscription without a mailbox; in name order. */
int store_imap_list(struct store *st, const char *user,
                    void (*cb)(void *ctx, const struct store_imap_name *n), void *ctx);

/* The id of user's mailbox name; ERR_NOTFOUND when it does not exist. */
int store_imap_mailbox_id(struct store *st, const char *user, const char *name, int64_t *id_out);

struct store_imap_status {
    int64_t id;
    int64_t messages, recent, unseen, deleted, size;
    int64_t uidnext, uidvalidity, highestmodseq;
};
/* STATUS counts of mailbox name (RFC 3501 §6.3.10, RFC 7162, RFC 9051 SIZE/DELETED). */
int store_imap_status(struct store *st, const char *user, const char *name,
                      struct store_imap_status *out);

/*
 * The message uid of user's mailbox name, for CATENATE's URLs (RFC 4469; imap_locate.c):
 * *uidvalidity_out gets the mailbox's UIDVALIDITY and blob_out its file's id. ERR_NOTFOUND:
 * no such mailbox; ERR_PARSE: the mailbox has no message uid.
 */
int store_imap_locate(struct store *st, const char *user, const char *name, int64_t uid,
                      int64_t *uidvalidity_out, char blob_out[40]);

/* ---- a mailbox's messages (imap_messages.c) ---- */

struct store_imap_mailbox {
    int64_t id;
    int64_t uidvalidity, uidnext, highestmodseq;
    int64_t recent_before; /* uids above this are \Recent for the caller (see claim_recent) */
};

/* One message; strings are valid during the callback only. */
struct store_imap_msg {
    int64_t uid, modseq, size, internal_date;
    int date_tz;         /* the internal date's zone, minutes east of UTC (APPEND's date-time) */
    const char *flags;   /* canonical flag text */
    const char *blob_id; /* the file is DATA/blobs/<first two chars>/<blob_id> */
};

/*
 * Opens user's mailbox name: its state and every message in uid order, from one snapshot.
 * claim_recent (SELECT; not EXAMINE): the messages not yet claimed by any session become this
 * caller's \Recent ones (mb_out->recent_before tells which); otherwise recent_before is the
 * mailbox's current mark and nothing changes. ERR_NOTFOUND when there is no such mailbox.
 */
int store_imap_select(struct store *st, const char *user, const char *name, bool claim_recent,
                      struct store_imap_mailbox *mb_out,
                      void (*cb)(void *ctx, const struct store_imap_msg *m), void *ctx);
/*
 * \Recent (RFC 3501 §2.3.2): claims the uids in (recent_uid, top] of mailbox_id for the
 * caller; *before_out gets the mark before (the caller's recent messages are above it). Under
 * the write lock, so no two sessions get the same message; a savepoint inside a batch.
 */
int store_imap_claim_recent(struct store *st, int64_t mailbox_id, int64_t top, int64_t *before_out);
/*
 * What changed in mailbox_id after modseq `since`: every message whose modseq is higher (new
 * ones and flag changes, to msg_cb in uid order) and every uid expunged after it (to
 * expunged_cb), from one snapshot, with the state in mb_out; claim_recent as for select.
 * ERR_NOTFOUND when the mailbox was deleted.
 */
int store_imap_changes(struct store *st, int64_t mailbox_id, int64_t since, bool claim_recent,
                       struct store_imap_mailbox *mb_out,
                       void (*msg_cb)(void *ctx, const struct store_imap_msg *m),
                       void (*expunged_cb)(void *ctx, int64_t uid), void *ctx);

/* The uids expunged from mailbox_id after modseq `since`, ascending (QRESYNC's VANISHED
 * (EARLIER), RFC 7162 §3.2.5-6): every expunge is kept with its modseq in `expunged`. */
int store_imap_vanished(struct store *st, int64_t mailbox_id, int64_t since,
                        void (*cb)(void *ctx, int64_t uid), void *ctx);

enum store_imap_flag_op { STORE_FLAGS_REPLACE, STORE_FLAGS_ADD, STORE_FLAGS_REMOVE };

/* The outcome of STORE for one message. */
struct store_imap_flag_result {
    int64_t uid;
    int64_t modseq;
    char *flags; /* the message's flags now (malloc'd) */
    bool failed; /* UNCHANGEDSINCE: modified since, left alone (RFC 7162 §3.1.3) */
};

/*
 * Applies op with `flags` (canonical text) to the messages uids[0..n) of mailbox_id in one
 * transaction; every message that really changed gets the same new modseq. unchangedsince
 * < 0: no condition. *res_out gets one entry per uid still present (uids order), freed with
 * store_imap_flag_results_free.
 */
int store_imap_store_flags(struct store *st, int64_t mailbox_id, const int64_t *uids, size_t n,
                           enum store_imap_flag_op op, const char *flags, int64_t unchangedsince,
                           struct store_imap_flag_result **res_out, size_t *nres_out);
void store_imap_flag_results_free(struct store_imap_flag_result *r, size_t n);

struct store_imap_copy_result {
    int64_t dest_id;
    int64_t dest_uidvalidity;
    int64_t *src_uids; /* the uids copied (those still present), ascending */
    int64_t *dst_uids; /* their new uids in the destination, same order */
    size_t n;
};
/*
 * Copies (or moves: the originals are expunged with a new modseq of the source) the messages
 * uids[0..n) of src_id into user's mailbox dest in one transaction: same file, flags and
 * internal date, new ascending uids. ERR_NOTFOUND when dest does not exist (TRYCREATE).
 * Free out with store_imap_copy_result_free.
 */
int store_imap_copy(struct store *st, const char *user, int64_t src_id, const int64_t *uids,
                    size_t n, const char *dest, bool move, struct store_imap_copy_result *out);
void store_imap_copy_result_free(struct store_imap_copy_result *r);

/*
 * APPEND: writes data[0..len) as a new blob (written, fsynced, renamed, directory fsynced)
 * and commits its row in user's mailbox name with flags and internal_date. Returns only once
 * the message is durable. ERR_NOTFOUND when the mailbox does not exist (nothing written).
 */
int store_imap_append(struct store *st, const char *user, const char *name, const char *data,
                      size_t len, const char *flags, int64_t internal_date, int64_t *mailbox_id_out,
                      int64_t *uidvalidity_out, int64_t *uid_out);

/* APPEND in two steps, for group commit: the file first (durable when this returns; no
 * database access), then its rows, which may run inside a batch. */
int store_imap_append_blob(struct store *st, const char *data, size_t len, char blob_id_out[33]);
int store_imap_append_rows(struct store *st, const char *user, const char *name,
                           const char *blob_id, size_t len, const char *flags,
                           int64_t internal_date, int64_t *mailbox_id_out, int64_t *uidvalidity_out,
                           int64_t *uid_out);
/* The same with the internal date's zone (minutes east of UTC, |tz| < 24 h; others are
 * stored as UTC): IMAP APPEND keeps the zone of its date-time (RFC 3501 §6.3.11), which
 * FETCH INTERNALDATE gives back. The functions above store UTC (0). */
int store_imap_append_tz(struct store *st, const char *user, const char *name, const char *data,
                         size_t len, const char *flags, int64_t internal_date, int date_tz,
                         int64_t *mailbox_id_out, int64_t *uidvalidity_out, int64_t *uid_out);
int store_imap_append_rows_tz(struct store *st, const char *user, const char *name,
                              const char *blob_id, size_t len, const char *flags,
                              int64_t internal_date, int date_tz, int64_t *mailbox_id_out,
                              int64_t *uidvalidity_out, int64_t *uid_out);

/*
 * Expunges uids[0..n) of mailbox_id (store_mailbox_expunge's semantics: rows move to
 * `expunged` with one new modseq; none present, nothing changes), but as one write that may
 * run inside a batch.
 */
int store_imap_expunge(struct store *st, int64_t mailbox_id, const int64_t *uids, size_t n,
                       size_t *removed_out);

/* ---- tuning and group commit (imap_txn.c) ---- */

/* Sets up st for IMAP's reads (no memory-mapped database pages: see imap_txn.c). Idempotent. */
void store_imap_tune(struct store *st);

/*
 * Opens a batch on st: the store_imap_* writes that follow run in savepoints of one
 * transaction, made durable together by store_imap_batch_end(st, true) (one WAL fsync). A
 * write that failed was undone alone; commit failure undoes all. 0 or ERR_*.
 */
int store_imap_batch_begin(struct store *st);
/*
 * The same for a batch of changes that may be lost to a power failure (flags, expunges,
 * \Recent claims): its COMMIT does not fsync the WAL (synchronous=NORMAL). It survives a
 * crash of the process, and becomes durable with the next fsynced commit of the database
 * (any delivery, APPEND or mailbox change: the WAL is written in order) or checkpoint.
 */
int store_imap_batch_begin_relaxed(struct store *st);
int store_imap_batch_end(struct store *st, bool commit);

/* Appends DATA/blobs/xx/<blob_id> to path. */
void store_imap_blob_path(const char *data_dir, const char *blob_id, struct str *path);

/* ---- the parse cache (imap_cache.c) ---- */

/* What IMAP computes once per message file. */
struct store_imap_cache {
    char *envelope;       /* RFC 3501 ENVELOPE */
    char *bodystructure;  /* BODYSTRUCTURE (with extension data) */
    char *body;           /* BODY (without) */
    char *search_headers; /* every header field decoded, "Name: value\n" (mime_text_header) */
};
/*
 * Fills the `fields` (enum store_imap_cache_field) of out[i] for blob_ids[i], i < n, from the
 * parse_cache table (a fill computes every field); *missing_out gets how many
 * were not there. fill: those are computed by parsing their files (msg/mime.h) and stored —
 * here (store_imap_cache_put) when fill->put is NULL, else handed to fill->put (the entries
 * are borrowed for the call: it copies what it keeps; a caller with a writer thread sends
 * them there rather than fight it for SQLite's write lock). fill NULL: they stay NULL and
 * nothing is written. A file that cannot be read gives NULL strings. Free with
 * store_imap_cache_free(out, n).
 */
struct store_imap_cache_fill {
    void (*put)(void *arg, const char *const *blob_ids, const struct store_imap_cache *entries,
                size_t n);
    void *arg;
};
enum store_imap_cache_field {
    STORE_CACHE_ENVELOPE = 1 << 0,
    STORE_CACHE_BODYSTRUCTURE = 1 << 1,
    STORE_CACHE_BODY = 1 << 2,
    STORE_CACHE_HEADERS = 1 << 3,
    STORE_CACHE_ALL = 15,
};
int store_imap_cache_get(struct store *st, const char *const *blob_ids, size_t n, unsigned fields,
                         struct store_imap_cache *out, const struct store_imap_cache_fill *fill,
                         size_t *missing_out);
/* Stores entries[0..n) for blob_ids (complete entries only; savepoint inside a batch). */
int store_imap_cache_put(struct store *st, const char *const *blob_ids,
                         const struct store_imap_cache *entries, size_t n);
void store_imap_cache_free(struct store_imap_cache *c, size_t n);
/* Computes an entry from message bytes (no store access). */
void store_imap_cache_compute(const char *msg, size_t len, struct store_imap_cache *out);

/* ---- flag text (imap_flags.c) ---- */

/* Applies op with operand to the flag text old, writing the canonical result to out. */
void store_imap_flags_apply(const char *old, enum store_imap_flag_op op, const char *operand,
                            struct str *out);

#endif
