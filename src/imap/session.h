/*
 * session — the IMAP server state machine: RFC 3501 (IMAP4rev1) and RFC 9051 (IMAP4rev2, once
 * ENABLEd) with IDLE (RFC 2177), UNAUTHENTICATE (RFC 8437),
 * UIDPLUS (4315), MOVE (6851), NAMESPACE (2342), ID (2971), ENABLE (5161), LITERAL+ (7888),
 * SPECIAL-USE (6154), CHILDREN (3348), UNSELECT (3691), CONDSTORE and QRESYNC (7162),
 * SASL-IR (4959), ESEARCH (4731), SEARCHRES (5182), SORT and THREAD (5256), SORT=DISPLAY
 * (5957), ESORT (5267), LIST-EXTENDED (5258), LIST-STATUS (5819), BINARY (3516), MULTIAPPEND
 * (3502), COMPRESS (4978), QUOTA (9208), CATENATE (4469), METADATA (5464), CONTEXT=SEARCH
 * and CONTEXT=SORT (5267), NOTIFY (5465), URLAUTH (4467) and URLAUTH=BINARY (5524).
 *
 * The engine turns bytes into replies and performs no I/O: it writes through `struct
 * imap_io` and reaches authentication and the store through `struct imap_session_ops`, both
 * filled in by the daemon (daemon/imap_glue.c, daemon/wiring_imap.c). Everything that may
 * block is asynchronous: the engine hands the daemon one `struct imap_req` at a time (it stays
 * the engine's, and valid, until imap_session_req_done) and pauses its input meanwhile.
 * Message files are mapped through ops->msg_map (the daemon mmaps the immutable blob); large
 * FETCH output goes out in bursts, the next one when imap_session_writable is called.
 *
 * Concurrency: the selected mailbox is a view (uids, flags, modseqs) kept in step with the
 * store by IMAP_REQ_SYNC requests that return the changes after the view's modseq. The daemon
 * calls imap_session_notify when another session or a delivery changed the user's mailboxes;
 * the session then re-syncs at the end of the current or next command, or at once in IDLE.
 *
 * Memory: the session owns its view and the request's input; the daemon malloc()s every out
 * array of a request and the engine free()s them (imap_req_clear).
 */
#ifndef PIGEON_IMAP_SESSION_H
#define PIGEON_IMAP_SESSION_H

#include "core/session_base.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct imap_session;

struct imap_server_config {
    bool starttls;        /* STARTTLS offered (TLS available and not already implicit) */
    bool plaintext_ok;    /* LOGIN/AUTHENTICATE allowed before TLS (config + peer) */
    unsigned max_errors;  /* BAD replies before the server hangs up */
    uint64_t max_literal; /* larger literals are refused before they are read */
};

struct imap_io {
    void (*write)(void *io, const char *p, size_t n);
    /* The OK to STARTTLS has been written: switch to TLS now and discard any input that came
     * with the command (RFC 3501 §6.2.1). Input stays paused until tls_started. */
    void (*starttls)(void *io);
    /* The OK to COMPRESS DEFLATE has been written: every later byte, both ways, is raw
     * DEFLATE (RFC 4978 §3). NULL: COMPRESS is not offered. The engine takes no more input
     * in the call that answered; the next feed is already decompressed. */
    void (*compress)(void *io);
};

/* ---- requests to the store ---------------------------------------------------------- */

enum imap_req_kind {
    IMAP_REQ_LIST,      /* out: mailboxes (every mailbox and subscription of the user) */
    IMAP_REQ_CREATE,    /* name */
    IMAP_REQ_DELETE,    /* name; out: mailbox_id */
    IMAP_REQ_RENAME,    /* name -> name2 */
    IMAP_REQ_SUBSCRIBE, /* name, on */
    IMAP_REQ_STATUS,    /* name; out: status */
    IMAP_REQ_SELECT,    /* name, read_only; out: mailbox, rows */
    IMAP_REQ_SYNC,      /* mailbox_id, since_modseq, read_only; out: mailbox, rows, uids */
    IMAP_REQ_STORE,     /* mailbox_id, uids, store_op, flags, unchangedsince; out: rows */
    IMAP_REQ_EXPUNGE,   /* mailbox_id, uids */
    IMAP_REQ_COPY,      /* mailbox_id, uids, name2, move; out: mailbox, uids, uids2 */
    IMAP_REQ_APPEND,    /* name2, parts (one, or MULTIAPPEND's); out: mailbox, uids2 */
    IMAP_REQ_CACHE,     /* blobs; out: cache (parallel to blobs) */
    IMAP_REQ_QUOTA,     /* out: quota (the user's usage and limits, RFC 9208) */
    IMAP_REQ_VANISHED,  /* mailbox_id, since_modseq; out: uids expunged since (ascending) */
    IMAP_REQ_GETMETA,   /* name (NULL: the server), meta (entries), meta_depth; out: meta_out */
    IMAP_REQ_SETMETA,  /* name (NULL: the server), meta (value NULL removes); ERR_LIMIT: too many */
    IMAP_REQ_LOCATE,   /* name, in_uids[0]; out: mailbox.uidvalidity, rows[0].blob (ERR_NOTFOUND
                          no mailbox, ERR_PARSE no such message) */
    IMAP_REQ_URLKEY,   /* name; out: urlkey, made when there is none (a write; RFC 4467) */
    IMAP_REQ_RESETKEY, /* name (NULL: every key of the user removed) */
    IMAP_REQ_URLAUTH,  /* owner, name, in_uids[0], expire; out: urlkey, mailbox.uidvalidity,
                          rows[0].blob (ERR_NOTFOUND no key or mailbox, ERR_PARSE no message,
                          ERR_RANGE expired) */
};

/* rc values the engine tells apart (core/err.h codes). */
/* 0 ok; ERR_NOTFOUND no such mailbox; ERR_EXISTS already exists; ERR_BUSY_STATE has
 * children; ERR_PARSE invalid target; ERR_LIMIT over quota (NO [OVERQUOTA]); anything else:
 * a server failure (NO [UNAVAILABLE]). */

struct imap_quota_info { /* IMAP_REQ_QUOTA; limits 0: none */
    uint64_t used_bytes, limit_bytes, used_messages, limit_messages;
};

struct imap_mailbox_info { /* LIST */
    char *name;            /* stored form */
    char *special_use;     /* "\Sent" or "" */
    bool subscribed;
    bool exists; /* false: only a subscription */
};

#define IMAP_BLOB_ID_MAX 40 /* a message file's name, NUL included (the store's are 32 hex) */
#define IMAP_URLKEY_LEN 32  /* a URLAUTH mailbox access key (store/imap_urlauth.h) */

struct imap_row { /* one message: SELECT and SYNC (new or changed), STORE (its new state) */
    uint32_t uid;
    bool failed; /* STORE: UNCHANGEDSINCE failed (RFC 7162) */
    uint64_t modseq;
    uint64_t size;
    int64_t internal_date;       /* unix seconds */
    int internal_tz;             /* its zone, minutes east of UTC */
    char *flags;                 /* canonical flag text (no \Recent); NULL for none */
    char blob[IMAP_BLOB_ID_MAX]; /* blob id for ops->msg_map (SELECT, SYNC) */
};

enum imap_cache_field {
    IMAP_CACHE_ENVELOPE = 1 << 0,
    IMAP_CACHE_BODYSTRUCTURE = 1 << 1,
    IMAP_CACHE_BODY = 1 << 2,
    IMAP_CACHE_HEADERS = 1 << 3,
};

struct imap_cache_entry { /* IMAP_REQ_CACHE: NULLs when the file could not be read */
    char *envelope, *bodystructure, *body, *search_headers;
};

struct imap_mailbox_state {
    int64_t id;
    uint32_t uidvalidity, uidnext;
    uint64_t highestmodseq;
    uint32_t recent_before; /* SELECT/SYNC: uids above this are \Recent for this session */
    /* STATUS only: */
    uint32_t messages, recent, unseen, deleted;
    uint64_t size;
};

enum imap_store_op { IMAP_STORE_REPLACE, IMAP_STORE_ADD, IMAP_STORE_REMOVE };

/* METADATA (RFC 5464): an entry asked for or set (value NULL: remove it). */
struct imap_meta_item {
    const char *entry; /* lower-cased */
    const char *value;
    size_t len;
};

struct imap_meta_out { /* an entry found: malloc'd */
    char *entry;
    char *value;
    size_t len;
};

/* One message of an APPEND (RFC 3502 MULTIAPPEND: several, stored all or none). */
struct imap_append_part {
    const char *data;
    size_t len;
    const char *flags;     /* canonical flag text, "" for none */
    int64_t internal_date; /* 0: the time of arrival */
    int internal_tz;       /* the date-time's zone, minutes east of UTC */
};

struct imap_req {
    enum imap_req_kind kind;
    /* in (owned by the engine, valid until imap_session_req_done) */
    const char *user; /* canonical user */
    const char *name, *name2;
    bool on, read_only, move;
    bool no_recent; /* SELECT, SYNC: IMAP4rev2 session, claims no \Recent (RFC 9051) */
    int64_t mailbox_id;
    uint64_t since_modseq;
    const uint32_t *in_uids;
    size_t n_in_uids;
    enum imap_store_op store_op;
    const char *flags;
    int64_t unchangedsince;               /* < 0: none */
    const struct imap_append_part *parts; /* APPEND: the messages, in order */
    size_t nparts;
    const char *const *blobs; /* CACHE */
    size_t nblobs;
    unsigned cache_fields; /* CACHE: enum imap_cache_field wanted (others may be NULL) */
    const struct imap_meta_item *meta; /* GETMETA, SETMETA */
    size_t nmeta;
    int meta_depth;    /* GETMETA: 0, 1 (children) or 2 (infinity) */
    const char *owner; /* URLAUTH: the user whose mailbox the URL names */
    int64_t expire;    /* URLAUTH: the URL's ;EXPIRE= (Unix time), 0: none */
    /* out (malloc'd by the daemon, freed by the engine) */
    int rc;
    struct imap_mailbox_state mailbox;
    struct imap_mailbox_info *mailboxes;
    size_t nmailboxes;
    struct imap_row *rows;
    size_t nrows;
    uint32_t *uids; /* SYNC, VANISHED: expunged; COPY: source uids copied */
    size_t nuids;
    uint32_t *uids2; /* COPY: destination uids; APPEND: the new uids, one per part */
    size_t nuids2;
    struct imap_cache_entry *cache;
    struct imap_quota_info quota;
    struct imap_meta_out *meta_out; /* GETMETA */
    size_t nmeta_out;
    unsigned char urlkey[IMAP_URLKEY_LEN]; /* URLKEY, URLAUTH: the mailbox access key */
};

/* Frees the out arrays of req and zeroes them (engine side; exposed for the daemon's tests). */
void imap_req_clear(struct imap_req *req);

/* A mapped message file (ops->msg_map). */
struct imap_msg_map {
    const char *data;
    size_t len;
    void *handle; /* the daemon's */
};

enum imap_auth_result {
    IMAP_AUTH_OK,
    IMAP_AUTH_FAILED,   /* NO [AUTHENTICATIONFAILED] */
    IMAP_AUTH_LIMIT,    /* too many connections for the user: NO [LIMIT] */
    IMAP_AUTH_TEMPFAIL, /* NO [UNAVAILABLE] */
};

struct imap_session_ops {
    /* Checks credentials; must later call imap_session_auth_done (maybe after a delay). */
    void (*auth)(void *ctx, struct imap_session *s, const char *user, const char *pass);
    /* Runs req (see enum imap_req_kind); must later call imap_session_req_done. */
    void (*request)(void *ctx, struct imap_session *s, struct imap_req *req);
    /* Maps message file `blob` read-only; 0 or < 0. Blocks on disk I/O briefly at most. */
    int (*msg_map)(void *ctx, const char *blob, struct imap_msg_map *out);
    void (*msg_unmap)(void *ctx, struct imap_msg_map *m);
    /* The session selected mailbox_id (0: none) — whose changes it wants to hear of. */
    void (*selected)(void *ctx, int64_t mailbox_id);
    /* NOTIFY (RFC 5465): on, the session hears of changes to any of its user's mailboxes. */
    void (*notify_all)(void *ctx, bool on);
    /* UNAUTHENTICATE (RFC 8437): the user logged out, the connection stays (release what
     * was held for the user: its connection slot, the mailbox watched). */
    void (*logout)(void *ctx);
};

/* ---- lifecycle ------------------------------------------------------------------------ */

/* Creates a session; nothing is written until imap_session_start. */
struct imap_session *imap_session_new(const struct imap_server_config *cfg,
                                      const struct imap_io *io, void *io_arg,
                                      const struct imap_session_ops *ops, void *ops_ctx,
                                      const struct session_peer *peer, uint64_t id);
/* Frees the session. Never inside one of its own calls, nor while busy. */
void imap_session_free(struct imap_session *s);
uint64_t imap_session_id(const struct imap_session *s);

/* Sends the greeting "* OK [CAPABILITY ...] Pigeon IMAP server ready". */
void imap_session_start(struct imap_session *s);
/* Refuses the connection: "* BYE <text>" and close. */
void imap_session_refuse(struct imap_session *s, const char *text);

/*
 * Feeds input. Returns how many bytes were consumed: all of them unless the session paused
 * (a request outstanding, output being sent in bursts, TLS starting, or closing); the caller
 * keeps the rest and feeds it again after the next *_done / writable call or TLS start.
 */
size_t imap_session_feed(struct imap_session *s, const char *p, size_t n);
/* True while an ops call is outstanding: not to be freed or fed until its *_done. */
bool imap_session_busy(const struct imap_session *s);
/* True when the session has asked to be closed (flush output, then free it). */
bool imap_session_closing(const struct imap_session *s);
/* The output written so far has drained: send the next burst of a FETCH. */
void imap_session_writable(struct imap_session *s);
/* TLS is now active (after STARTTLS). */
void imap_session_tls_started(struct imap_session *s, const char *version, const char *cipher);

/* ---- results and events from the daemon ------------------------------------------------- */

void imap_session_auth_done(struct imap_session *s, enum imap_auth_result r,
                            const char *canonical_user);
/* The outstanding request's out fields are filled. */
void imap_session_req_done(struct imap_session *s);
/* Mail of this user changed (delivery, another session, POP3): re-sync when allowed. */
void imap_session_notify(struct imap_session *s);
/* Idle timeout or total session time exceeded: BYE and close. */
void imap_session_timeout(struct imap_session *s);
/* Server shutdown: BYE and close at once when idle, else after the command in progress. */
void imap_session_shutdown(struct imap_session *s);

#endif
