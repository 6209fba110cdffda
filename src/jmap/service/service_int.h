/*
 * jmap service internals — what service.c, http.c, ops.c and webmail.c share.
 */
#ifndef PIGEON_JMAP_SERVICE_INT_H
#define PIGEON_JMAP_SERVICE_INT_H

#include "jmap/jmap.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct daemon;
struct store;
struct http_exchange;

/* [jmap] */
struct jmap_config {
    bool enabled;
    uint64_t max_size_request, max_size_upload;
    unsigned max_calls_in_request, max_objects_in_get, max_objects_in_set;
    unsigned max_concurrent_requests;
    char *webmail; /* directory served at /mail/, NULL: no webmail */
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
    struct jmap_limits lim;
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
};

/* http.c: the handler the HTTP service calls for every request (true: taken). */
bool jmap_http_handle(struct http_exchange *x);

/* ops.c: the engine's store operations for user on st (a store pool thread's handle). */
struct jmap_store_ctx {
    struct jmap_service *svc;
    struct store *st;
    const char *user;
    int64_t changed_users[64]; /* users whose mailboxes a submission delivered to */
    size_t nchanged;
    bool submitted_remote;
};
void jmap_store_ops_init(struct jmap_ops *ops, struct jmap_store_ctx *ctx);
/* Whether user may read blob id (one of its messages' files, or its upload). */
bool jmap_upload_owned(struct jmap_service *svc, const char *user, const char *id);
void jmap_upload_add(struct jmap_service *svc, const char *user, const char *id);

/* webmail.c: GET /mail/... from cfg->webmail. */
void jmap_webmail_serve(struct jmap_service *svc, struct http_exchange *x);

#endif
