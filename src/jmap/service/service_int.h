/*
 * jmap service internals — what service.c, http.c, ops.c and webmail.c share.
 */
#ifndef PIGEON_JMAP_SERVICE_INT_H
#define PIGEON_JMAP_SERVICE_INT_H

#include "jmap/jmap.h"
#include "jmap/push.h"
#include "net/acl.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct daemon;
struct store;
struct worker;
struct host_change;
struct http_exchange;

/* snapcache.c: the last message rows of a few accounts, by the mailboxes' (id, modseq, next
 * uid) they were read at. */
#define JMAP_SNAP_CACHE 8
#define JMAP_SNAP_KEY_MAX 4096
struct jmap_snap_entry;
struct cached_row;
struct jmap_snapcache {
    pthread_mutex_t lock;
    struct jmap_snap_entry *e[JMAP_SNAP_CACHE];
    uint64_t clock;
};
/* Rows being read, to be kept (jmap_snapcache_put takes them). */
struct jmap_snap_rows {
    struct cached_row *rows;
    size_t n, cap;
};
void jmap_snapcache_init(struct jmap_snapcache *c);
void jmap_snapcache_clear(struct jmap_snapcache *c);
/* Calls cb with each row kept for (user, key); false when none are. */
bool jmap_snapcache_replay(struct jmap_snapcache *c, const char *user, const char *key,
                           jmap_msg_cb cb, void *arg);
void jmap_snap_rows_add(struct jmap_snap_rows *r, const struct jmap_msg *m);
void jmap_snap_rows_clear(struct jmap_snap_rows *r);
void jmap_snapcache_put(struct jmap_snapcache *c, const char *user, const char *key,
                        struct jmap_snap_rows *r);

/* memo.c: Email properties computed from message files, by (file, options). */
#define JMAP_MEMO_SLOTS 16384
struct memo_slot;
struct jmap_memo {
    pthread_mutex_t lock;
    struct memo_slot *slots;
};
void jmap_memo_init(struct jmap_memo *m);
void jmap_memo_clear(struct jmap_memo *m);
struct json_t *jmap_memo_get(struct jmap_memo *m, const char *blob, const char *sig);
void jmap_memo_put(struct jmap_memo *m, const char *blob, const char *sig, struct json_t *props);

/* [jmap] */
struct jmap_config {
    bool enabled;
    uint64_t max_size_request, max_size_upload;
    unsigned max_calls_in_request, max_objects_in_get, max_objects_in_set;
    unsigned max_concurrent_requests;
    char *webmail; /* directory served at /mail/, NULL: no webmail */
    bool image_proxy;           /* GET /jmap/image (image.c) */
    char *image_proxy_allow;    /* prefixes fetched although not public, NULL: none */
    uint64_t image_proxy_max_size;
};

#define JMAP_MAX_UPLOADS 1024
#define JMAP_AUTH_CACHE 64
#define JMAP_AUTH_TTL 60 /* seconds a checked Basic credential is trusted without a new hash */
#define JMAP_MAX_USERS 256

/* A blob a user uploaded: only that user may read it (it lives among the store's files and
 * is reclaimed by store_gc an hour after nothing refers to it). */
struct jmap_upload {
    char user[256];
    char id[33];
};

struct jmap_service {
    struct daemon *d;
    const struct jmap_config *cfg;
    struct jmap_limits lim;      /* the limits at start */
    /* the limits in force: lim, or a reload's (one atomic load per request); the replaced
     * ones are kept until close, as a request in flight may still read them */
    const struct jmap_limits *_Atomic cur;
    struct jmap_limits **replaced;
    size_t nreplaced;
    struct pool *pool;           /* the mail-access store pool (host_store_pool) */
    unsigned char secret[32];    /* CSRF tokens are HMAC(secret, session id) */
    int webmail_fd;              /* O_PATH of cfg->webmail, -1 */
    pthread_mutex_t lock;        /* uploads, busy */
    struct jmap_upload uploads[JMAP_MAX_UPLOADS];
    unsigned nuploads, next_upload;
    struct {
        char user[256];
        unsigned n;
    } busy[JMAP_MAX_USERS];      /* requests in progress per user (maxConcurrentRequests) */
    /* Basic credentials that passed the password check: HMAC(secret, user NUL password),
     * the user, until when. A JMAP client sends Basic with every request; hashing each
     * (yescrypt, tens of milliseconds) would cost more than the request. */
    struct {
        unsigned char mac[32];
        char user[256];
        time_t until;
    } auth_cache[JMAP_AUTH_CACHE];
    unsigned auth_next;
    /* the remote-image proxy (image.c) */
    struct pool *image_pool;     /* NULL: image_proxy = no */
    struct net_acl image_nonpublic, image_allow;
    unsigned images_busy;
    struct jmap_snapcache snaps;
    struct jmap_memo memo;
};

/* image.c: GET /jmap/image?url= (authenticated already); the proxy's threads and address
 * lists, made at open (-1: a bad image_proxy_allow) and freed at close. */
void jmap_image_start(struct jmap_service *svc, struct http_exchange *x);
int jmap_image_open(struct jmap_service *svc);
void jmap_image_close(struct jmap_service *svc);

/* http.c: the handler the HTTP service calls for every request (true: taken). */
bool jmap_http_handle(struct http_exchange *x);

/* ops.c: the engine's store operations for user on st (a store pool thread's handle). */
struct jmap_store_ctx {
    struct jmap_service *svc;
    struct store *st;
    const char *user;
    /* the mailboxes last read, "id.modseq.uidnext," each: the snapshot cache's key ("" when
     * too long to keep) */
    char snap_key[JMAP_SNAP_KEY_MAX];
    int64_t changed_users[64]; /* users whose mailboxes a submission delivered to */
    size_t nchanged;
    bool submitted_remote;
};
void jmap_store_ops_init(struct jmap_ops *ops, struct jmap_store_ctx *ctx);
/* threads.c: the user's message rows (of mailbox_id, 0: all) each with its thread, placing
 * the rows never placed before; and the thread of a row, also expunged (jmap_ops). */
int jmap_store_messages(struct jmap_store_ctx *ctx, int64_t mailbox_id, jmap_msg_cb cb,
                        void *arg);
int jmap_store_thread_of(void *ctx, int64_t mailbox_id, int64_t uid, int64_t *thread_out);
/* account_ops.c: sets ops' sieve_read/write (Sieve scripts) and identities_read/write. */
void jmap_store_account_ops(struct jmap_ops *ops);
/* Whether user may read blob id (one of its messages' files, or its upload). */
bool jmap_upload_owned(struct jmap_service *svc, const char *user, const char *id);
void jmap_upload_add(struct jmap_service *svc, const char *user, const char *id);

/* http.c: one API request (RFC 8620 §3.3) for user on a store pool thread's handle; then, on
 * the worker, the reports of what it changed (IMAP sessions, push) and a queue kick. */
#define JMAP_CHANGED_MAX 65
struct jmap_api_result {
    int status;         /* 200: out is a Response object; else a problem-details object */
    struct str out;
    int64_t changed[JMAP_CHANGED_MAX];
    size_t nchanged;
    bool kick_queue;
};
void jmap_api_run(struct jmap_service *svc, struct store *st, const char *user,
                  const char *account, const char *body, size_t len, struct jmap_api_result *r);
void jmap_api_finish(struct worker *w, const struct jmap_api_result *r);

/* push.c: the push listeners of each worker (event sources, WebSockets with push on). */
struct jmap_push;
struct jmap_push_sink {
    /* The account's state moved (on the listener's worker). May end the listener. */
    void (*moved)(void *arg, const char *old_state, const char *new_state);
};
/* Registers a listener of user on worker w whose state is now `state`; NULL when the worker
 * has too many. */
struct jmap_push *jmap_push_add(struct worker *w, const char *user, int64_t user_id,
                                const char *state, const struct jmap_push_sink *sink, void *arg);
void jmap_push_remove(struct jmap_push *p);
/* A new baseline (a WebSocket client's pushState), then a read: the sink hears if it moved. */
void jmap_push_set_state(struct jmap_push *p, const char *state);
void jmap_push_check(struct jmap_push *p);
/* host_on_mailbox_changed listener, on each worker: the listeners of the named users look. */
void jmap_push_notify(void *ctx, struct worker *w, const struct host_change *ch);
void *jmap_push_attach(struct worker *w, void *state);
void jmap_push_detach(struct worker *w, void *wstate);

/* What the event source and the WebSocket start from (read on the store pool). */
struct jmap_push_start_args {
    const char *user, *account; /* the user's address and accountId */
    int64_t user_id;
    const char *state;          /* the account's state now */
    struct jmap_push_params params; /* the event source's URL parameters */
};
/* eventsource.c: answers x with the event stream. */
void jmap_eventsource_start(struct http_exchange *x, const struct jmap_push_start_args *a);
/* ws.c: answers x with 101 and speaks JMAP over WebSocket (RFC 8887) on the connection. */
void jmap_ws_start(struct http_exchange *x, const struct jmap_push_start_args *a);
/* Whether x is a WebSocket handshake JMAP can take; else answers it (400/426) and false. */
bool jmap_ws_handshake_ok(struct http_exchange *x);

/* webmail.c: GET /mail/... from cfg->webmail. */
void jmap_webmail_serve(struct jmap_service *svc, struct http_exchange *x);

#endif
