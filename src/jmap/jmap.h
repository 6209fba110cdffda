/*
 * jmap — the JMAP engine (RFC 8620 core, RFC 8621 mail): a request body in, a response body
 * out. It parses the request envelope (using, methodCalls, createdIds), resolves result
 * references (RFC 8620 §3.7, JSON Pointer with "*"), enforces the limits it advertises in the
 * session resource, runs each method against one account through struct jmap_ops, and
 * writes the session resource itself.
 *
 * The engine is pure: no sockets, no clock (the time is passed in), no threads, no globals.
 * Everything it learns about mail comes through struct jmap_ops, filled by the service glue
 * (jmap/service/ops.c) on Pigeon's store, or by a fake in tests/unit/test_jmap.c. Messages
 * are parsed with msg/mime.h; JSON is jansson's.
 *
 * Data model (Pigeon stores one row per message and mailbox, as IMAP sees it):
 *   Mailbox id  "m<mailbox row id>"
 *   Email id    "e<mailbox id>-<uid>"   (a move gives the message a new id: the old one is
 *                                        destroyed and a new one created in Email/changes)
 *   Thread id   "t<thread number>"      (a conversation, kept by the store: thread_key.c)
 *   blob id     "b<file id>" for a message file, "b<file id>-<part>" for one MIME part
 *   state       the account's mailboxes with their highest modseq and next uid, so /changes
 *               is computed exactly from the store's CONDSTORE data (RFC 7162) whoever
 *               changed it: IMAP, POP3, SMTP delivery, the CLI or JMAP.
 */
#ifndef PIGEON_JMAP_JMAP_H
#define PIGEON_JMAP_JMAP_H

#include "core/str.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_t;

/* The limits of the urn:ietf:params:jmap:core capability (RFC 8620 §2). */
struct jmap_limits {
    uint64_t max_size_upload;
    uint64_t max_concurrent_upload;
    uint64_t max_size_request;
    uint64_t max_concurrent_requests;
    uint64_t max_calls_in_request;
    uint64_t max_objects_in_get;
    uint64_t max_objects_in_set;
};

/* One mailbox as the store lists it; strings valid during the callback only. */
struct jmap_mbox {
    int64_t id;
    const char *name;        /* full name, "/" between levels ("INBOX", "Archive/2025") */
    const char *special_use; /* "\Sent" ... or "" */
    int64_t total, unread;   /* not read: the engine counts the message rows */
    int64_t modseq, uidnext; /* highest modseq, next uid */
    bool subscribed;
};

/* One message row; strings valid during the callback only. */
struct jmap_msg {
    int64_t mailbox_id, uid, modseq, size, received;
    int64_t thread_id; /* its conversation (> 0; 0 only in the rows of changes) */
    const char *flags;   /* IMAP flag text: "\Seen \Flagged $Forwarded" */
    const char *blob_id; /* the message file's id (32 hex digits) */
};

typedef void (*jmap_mbox_cb)(void *arg, const struct jmap_mbox *m);
typedef void (*jmap_msg_cb)(void *arg, const struct jmap_msg *m);

/*
 * What the engine asks of the store, for one account. Every function returns 0 or a
 * negative ERR_* (core/err.h); ERR_NOTFOUND where something named does not exist.
 */
struct jmap_ops {
    void *ctx;
    /* Every mailbox of the account, in name order. */
    int (*mailboxes)(void *ctx, jmap_mbox_cb cb, void *arg);
    /* Every message of the account (mailbox_id 0) or of one mailbox. */
    int (*messages)(void *ctx, int64_t mailbox_id, jmap_msg_cb cb, void *arg);
    /* Messages of mailbox_id with modseq > since, and uids expunged after since. */
    int (*changes)(void *ctx, int64_t mailbox_id, int64_t since, jmap_msg_cb cb,
                   void (*gone)(void *arg, int64_t uid), void *arg);
    /* The thread message (mailbox_id, uid) was placed in, also after it was expunged;
     * ERR_NOTFOUND when it never was. */
    int (*thread_of)(void *ctx, int64_t mailbox_id, int64_t uid, int64_t *thread_out);
    /* The bytes of file blob_id appended to out (a message, or an uploaded blob), once the
     * account is known to own it. */
    int (*read)(void *ctx, const char *blob_id, struct str *out);
    /* The same for the file of a message row the engine was given by messages(): the
     * account's own, so no ownership look-up is made. */
    int (*read_row)(void *ctx, const char *blob_id, struct str *out);
    /* Optional (NULL: none): a memo of the Email properties computed from a message file
     * under one set of Email/get options (sig). memo_get returns a new object, or NULL when
     * none is kept; memo_put keeps a copy of props. Files never change: an entry is never
     * stale. */
    struct json_t *(*memo_get)(void *ctx, const char *blob_id, const char *sig);
    void (*memo_put)(void *ctx, const char *blob_id, const char *sig, struct json_t *props);
    /* Writes: the message's flags become flags (canonical IMAP text). */
    int (*set_flags)(void *ctx, int64_t mailbox_id, int64_t uid, const char *flags);
    /* Moves (copy false) or copies a message into dest; *uid_out its uid there. */
    int (*move)(void *ctx, int64_t mailbox_id, int64_t uid, const char *dest, bool copy,
                int64_t *uid_out);
    int (*expunge)(void *ctx, int64_t mailbox_id, int64_t uid);
    int (*mailbox_create)(void *ctx, const char *name);
    int (*mailbox_rename)(void *ctx, const char *from, const char *to);
    int (*mailbox_delete)(void *ctx, const char *name);
    int (*mailbox_subscribe)(void *ctx, const char *name, bool on);
    /* A durable new message in mailbox name; its row's mailbox id and uid out. */
    int (*append)(void *ctx, const char *mailbox, const char *data, size_t len, const char *flags,
                  int64_t date, int64_t *mailbox_id_out, int64_t *uid_out);
    /* Keeps data as a new file; its id (32 hex digits) out. */
    int (*blob_put)(void *ctx, const char *data, size_t len, char id_out[33]);
    /* Sends data from the account to rcpts[0..n) (local delivery or the outgoing queue);
     * *queue_id_out (33 octets) names it. ERR_NOTFOUND, nothing sent, when a recipient
     * cannot be taken (nobody of a local domain has it, or it is no address): invalid_out[i]
     * (n of them) says which. */
    int (*submit)(void *ctx, const char *const *rcpts, size_t n, const char *data, size_t len,
                  char queue_id_out[33], bool *invalid_out);
    /* The account's Sieve script name: *text_out its text (malloc'd; NULL when there is no
     * such script), *active_out the active script's name (malloc'd; NULL when none). */
    int (*sieve_read)(void *ctx, const char *name, char **text_out, char **active_out);
    /* Writes script name, then makes `activate` the active script ("": none; NULL: leave
     * the mark where it is). ERR_PARSE when the script does not compile. */
    int (*sieve_write)(void *ctx, const char *name, const char *text, const char *activate);
    /* EmailSubmission records (RFC 8621 §7), one JSON object each, named by id: kept
     * (submission_put), listed (cb with each one's JSON text, in creation order; *state_out,
     * appended, a decimal number that grows whenever one is kept or removed), removed
     * (submission_del: ERR_NOTFOUND when none). */
    int (*submission_put)(void *ctx, const char *id, const char *json);
    int (*submissions)(void *ctx, void (*cb)(void *arg, const char *json), void *arg,
                       struct str *state_out);
    int (*submission_del)(void *ctx, const char *id);
    /* Every record changed after state `since` (a number: the state is the count of changes),
     * in the order of the changes; gone when it was destroyed (records are never updated).
     * *now_out the state now. */
    int (*submission_changes)(void *ctx, int64_t since,
                              void (*cb)(void *arg, const char *id, int64_t seq, bool gone),
                              void *arg, int64_t *now_out);
    /* The account's own identities (Identity/set) as JSON text appended to out ("" when
     * none were ever written); identities_write replaces them, durably. */
    int (*identities_read)(void *ctx, struct str *out);
    int (*identities_write)(void *ctx, const char *json);
};

/* One API request's account and environment. */
struct jmap_env {
    const struct jmap_ops *ops;
    const struct jmap_limits *lim;
    const char *user;       /* the account's address */
    const char *account_id; /* its accountId ("u" and the user's number) */
    const char *user_name;  /* display name for Identity, or "" */
    int64_t now;            /* unix seconds */
    char random[17];        /* 16 hex digits unique to this request (ids of submissions) */
    /* Filled by jmap_api_process: whether a method changed the store (the glue reports it
     * to the other services). */
    bool changed;
};

/*
 * Processes an API request body (RFC 8620 §3.3). Returns the HTTP status: 200 with the
 * Response object in out, or 400 with a problem-details object (RFC 7807; types
 * urn:ietf:params:jmap:error:notJSON, notRequest, unknownCapability, limit). Never blocks
 * except through the ops.
 */
int jmap_api_process(struct jmap_env *env, const char *body, size_t len, struct str *out);

/*
 * Writes the session resource (RFC 8620 §2) for user (account account_id): capabilities with lim, the account,
 * the API, download, upload and event source URLs under base ("https://host:port"), and
 * state (a value that changes when the session's data does).
 */
void jmap_session_write(const struct jmap_limits *lim, const char *user, const char *account_id,
                        const char *base, struct str *out);

/* Default limits (what a server without configuration advertises). */
void jmap_limits_default(struct jmap_limits *lim);

/* Parses a blob id ("b<hex>" or "b<hex>-<part>"): the file id into file_out, the part path
 * ("" for the whole file) into part_out. 0 or ERR_PARSE. */
int jmap_blob_id_parse(const char *id, char file_out[33], char part_out[64]);
/* The bytes blob id designates in the account: a whole file, or one MIME part decoded (its
 * transfer encoding removed); *type_out (static or in out's companion) the part's media
 * type. 0, ERR_NOTFOUND. */
int jmap_blob_read(const struct jmap_ops *ops, const char *id, struct str *out,
                   struct str *type_out);

/*
 * Threading (thread_key.c). A message joins a conversation when it shares a message id with
 * it (its own Message-ID, In-Reply-To or References) and has the same base subject (RFC 5256
 * §2.1), as Fastmail and Gmail do; the store keeps the ids and subjects of each thread.
 */
#define JMAP_THREAD_IDS 24
struct jmap_thread_key {
    char *ids[JMAP_THREAD_IDS]; /* malloc'd: own Message-ID, In-Reply-To, References (nearest
                                 * ancestors first, then the root); no duplicates */
    size_t n;
    char subject[200];          /* base subject, ASCII letters in lower case */
};
/* The key of message msg[0..len) (only its header is read). Clear it after. */
void jmap_thread_key_make(const char *msg, size_t len, struct jmap_thread_key *out);
void jmap_thread_key_clear(struct jmap_thread_key *k);
/* The base subject of a decoded Subject (RFC 5256 §2.1), lower case, into out[cap]. */
void jmap_base_subject(const char *subject, char *out, size_t cap);

/* The state string of the account now (the event source sends it when it changes). */
int jmap_account_state(const struct jmap_ops *ops, struct str *out);

#endif
