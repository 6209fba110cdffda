/*
 * imap service, ops — see service_int.h. Requests are translated from the engine's struct
 * imap_req to the store's IMAP API (store/imap.h, store/mailbox.h) on a store-pool thread;
 * the out arrays are malloc'd there and freed by the engine.
 *
 * Threads: a request's job touches only the request and its own copies while on the pool;
 * the engine does not look at the request until imap_session_req_done, which runs back on
 * the connection's worker.
 */
#include "imap/service/service_int.h"

#include "imap/service/service.h"

#include "host/login.h"
#include "store/quota.h"
#include "store/imap_writer.h"

#include "core/connlimit.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop_post.h"
#include "core/pool.h"
#include "core/xmalloc.h"
#include "store/imap.h"
#include "store/imap_meta.h"
#include "store/imap_urlauth.h"
#include "store/mailbox.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct imap_store {
    struct conn *conn;
    struct imap_session *s;
    uint64_t id;
    unsigned max_per_user;
    int64_t user_id;
    int64_t selected;
    bool watch_all;      /* NOTIFY: every mailbox of the user */
    char limit_key[300]; /* "" when no per-user slot is held */
};

struct imap_store *imap_store_new(struct conn *c, uint64_t id, unsigned max_per_user)
{
    struct imap_store *is = xcalloc(1, sizeof *is);
    if (conn_worker(c)->store)
        store_imap_tune(conn_worker(c)->store); /* reads run on it (read_in_place) */
    is->conn = c;
    is->id = id;
    is->max_per_user = max_per_user ? max_per_user : 1;
    return is;
}

void imap_store_set_session(struct imap_store *is, struct imap_session *s)
{
    is->s = s;
}

void imap_store_free(struct imap_store *is)
{
    if (!is)
        return;
    if (is->limit_key[0])
        connlimit_release(conn_worker(is->conn)->d->connlimit, is->limit_key);
    free(is);
}

int64_t imap_store_user_id(const struct imap_store *is)
{
    return is->user_id;
}

int64_t imap_store_selected(const struct imap_store *is)
{
    return is->selected;
}

uint64_t imap_store_origin(const struct imap_store *is)
{
    return is->id;
}

/* The service's writer (service.c); NULL once it stopped. */
static struct imap_writer *writer_of(const struct daemon *d)
{
    const struct imap_service_state *st = host_state(d, &imap_service);
    return st ? st->writer : NULL;
}

_Static_assert(IMAP_URLKEY_LEN == STORE_URLAUTH_KEY_LEN, "URLAUTH keys are passed through");
_Static_assert((int)IMAP_CACHE_ENVELOPE == (int)STORE_CACHE_ENVELOPE &&
                   (int)IMAP_CACHE_BODYSTRUCTURE == (int)STORE_CACHE_BODYSTRUCTURE &&
                   (int)IMAP_CACHE_BODY == (int)STORE_CACHE_BODY &&
                   (int)IMAP_CACHE_HEADERS == (int)STORE_CACHE_HEADERS,
               "cache field bits are passed through");

/* ---- authentication ---- */

static void auth_done(void *vis, bool ok, const char *user)
{
    struct imap_store *is = vis;
    struct worker *w = conn_worker(is->conn);
    if (!ok)
        return imap_session_auth_done(is->s, IMAP_AUTH_FAILED, user);
    char key[sizeof is->limit_key];
    snprintf(key, sizeof key, "imap-user|%s", user);
    if (!connlimit_acquire(w->d->connlimit, key, is->max_per_user)) {
        log_info("imap " LOG_ID " %s: too many connections", LOG_IDV(is->id), user);
        return imap_session_auth_done(is->s, IMAP_AUTH_LIMIT, NULL);
    }
    memcpy(is->limit_key, key, sizeof key);
    /* A small indexed read on the worker's own handle, as SMTP's RCPT check does. */
    if (store_user_lookup(w->store, user, &is->user_id) != 0)
        is->user_id = 0;
    imap_session_auth_done(is->s, IMAP_AUTH_OK, user);
}

static void auth(void *vis, struct imap_session *s, const char *user, const char *pass)
{
    struct imap_store *is = vis;
    host_login(is->conn, user, pass, auth_done, is);
}

/* ---- requests (on the store pool) ---- */

struct req_job {
    struct imap_store *is;
    struct worker *w;
    struct imap_req *req;
    size_t cap, cap2;
    char (*blobs)[33]; /* APPEND: the files written before the rows, one per part */
    struct store_imap_cache *parsed; /* APPEND: each part's parse-cache entry (or NULL) */
    size_t nparsed;
    bool on_worker;    /* a read on the worker's handle: no writes (claims, cache fills) */
    size_t missing;    /* CACHE on the worker: entries not in the cache */
    size_t *miss;      /* CACHE: the blobs' indices still to read (NULL: all of them) */
    size_t nmiss;
};

static void *grow(void *p, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return p;
    *cap = *cap ? *cap * 2 : 64;
    return xrealloc(p, *cap * size);
}

static void list_cb(void *vj, const struct store_imap_name *n)
{
    struct req_job *j = vj;
    struct imap_req *r = j->req;
    r->mailboxes = grow(r->mailboxes, r->nmailboxes, &j->cap, sizeof *r->mailboxes);
    r->mailboxes[r->nmailboxes++] = (struct imap_mailbox_info){
        xstrdup(n->name), xstrdup(n->special_use), n->subscribed, n->exists};
}

static void row_cb(void *vj, const struct store_imap_msg *m)
{
    struct req_job *j = vj;
    struct imap_req *r = j->req;
    r->rows = grow(r->rows, r->nrows, &j->cap, sizeof *r->rows);
    r->rows[r->nrows++] = (struct imap_row){
        .uid = (uint32_t)m->uid,
        .modseq = (uint64_t)m->modseq,
        .size = (uint64_t)m->size,
        .internal_date = m->internal_date,
        .internal_tz = m->date_tz,
        .flags = m->flags[0] ? xstrdup(m->flags) : NULL,
    };
    snprintf(r->rows[r->nrows - 1].blob, sizeof r->rows[0].blob, "%s", m->blob_id);
}

static void expunged_cb(void *vj, int64_t uid)
{
    struct req_job *j = vj;
    struct imap_req *r = j->req;
    r->uids = grow(r->uids, r->nuids, &j->cap2, sizeof *r->uids);
    r->uids[r->nuids++] = (uint32_t)uid;
}

static void mailbox_out(struct imap_req *r, const struct store_imap_mailbox *mb)
{
    r->mailbox.id = mb->id;
    r->mailbox.uidvalidity = (uint32_t)mb->uidvalidity;
    r->mailbox.uidnext = (uint32_t)mb->uidnext;
    r->mailbox.highestmodseq = (uint64_t)mb->highestmodseq;
    r->mailbox.recent_before = (uint32_t)mb->recent_before;
}

static int64_t *uids64(const struct imap_req *r)
{
    int64_t *v = xcalloc(r->n_in_uids ? r->n_in_uids : 1, sizeof *v);
    for (size_t i = 0; i < r->n_in_uids; i++)
        v[i] = r->in_uids[i];
    return v;
}

static int do_store(struct store *st, struct imap_req *r)
{
    int64_t *u = uids64(r);
    static const enum store_imap_flag_op ops[] = {
        [IMAP_STORE_REPLACE] = STORE_FLAGS_REPLACE,
        [IMAP_STORE_ADD] = STORE_FLAGS_ADD,
        [IMAP_STORE_REMOVE] = STORE_FLAGS_REMOVE,
    };
    struct store_imap_flag_result *res = NULL;
    size_t n = 0;
    int rc = store_imap_store_flags(st, r->mailbox_id, u, r->n_in_uids, ops[r->store_op],
                                    r->flags ? r->flags : "", r->unchangedsince, &res, &n);
    free(u);
    if (rc != 0)
        return rc;
    r->rows = xcalloc(n ? n : 1, sizeof *r->rows);
    for (size_t i = 0; i < n; i++) {
        r->rows[i] = (struct imap_row){.uid = (uint32_t)res[i].uid,
                                       .failed = res[i].failed,
                                       .modseq = (uint64_t)res[i].modseq,
                                       .flags = res[i].flags};
        res[i].flags = NULL;
    }
    r->nrows = n;
    store_imap_flag_results_free(res, n);
    return 0;
}

static int do_copy(struct store *st, struct imap_req *r)
{
    int64_t *u = uids64(r);
    struct store_imap_copy_result res;
    int rc = store_imap_copy(st, r->user, r->mailbox_id, u, r->n_in_uids, r->name2, r->move, &res);
    free(u);
    if (rc != 0)
        return rc;
    r->mailbox.id = res.dest_id;
    r->mailbox.uidvalidity = (uint32_t)res.dest_uidvalidity;
    r->uids = xcalloc(res.n ? res.n : 1, sizeof *r->uids);
    r->uids2 = xcalloc(res.n ? res.n : 1, sizeof *r->uids2);
    for (size_t i = 0; i < res.n; i++) {
        r->uids[i] = (uint32_t)res.src_uids[i];
        r->uids2[i] = (uint32_t)res.dst_uids[i];
    }
    r->nuids = r->nuids2 = res.n;
    store_imap_copy_result_free(&res);
    return 0;
}

/* APPEND's rows (the files were written by append_work on the pool), or files and rows at
 * once when there is no writer; every part's row in the one savepoint of this write, so a
 * MULTIAPPEND is stored whole or not at all (RFC 3502 §6.3.11). */
static int do_append_rows(struct store *st, struct req_job *j)
{
    struct imap_req *r = j->req;
    int64_t id = 0, uidv = 0, uid = 0;
    r->uids2 = xcalloc(r->nparts ? r->nparts : 1, sizeof *r->uids2);
    for (size_t k = 0; k < r->nparts; k++) {
        const struct imap_append_part *p = &r->parts[k];
        int64_t date = p->internal_date ? p->internal_date : (int64_t)time(NULL);
        const char *flags = p->flags ? p->flags : "";
        int tz = p->internal_date ? p->internal_tz : 0;
        int rc = j->blobs ? store_imap_append_rows_tz(st, r->user, r->name2, j->blobs[k], p->len,
                                                      flags, date, tz, &id, &uidv, &uid)
                          : store_imap_append_tz(st, r->user, r->name2, p->data, p->len, flags,
                                                 date, tz, &id, &uidv, &uid);
        if (rc != 0)
            return rc;
        /* Its own savepoint: a failure leaves the cache to be filled by the first FETCH. */
        if (j->parsed)
            store_imap_cache_put(st, (const char *[]){j->blobs[k]}, &j->parsed[k], 1);
        r->uids2[r->nuids2++] = (uint32_t)uid;
    }
    r->mailbox.id = id;
    r->mailbox.uidvalidity = (uint32_t)uidv;
    return 0;
}

static int do_status(struct store *st, struct imap_req *r)
{
    struct store_imap_status x;
    int rc = store_imap_status(st, r->user, r->name, &x);
    if (rc != 0)
        return rc;
    r->mailbox = (struct imap_mailbox_state){
        .id = x.id,
        .uidvalidity = (uint32_t)x.uidvalidity,
        .uidnext = (uint32_t)x.uidnext,
        .highestmodseq = (uint64_t)x.highestmodseq,
        .messages = (uint32_t)x.messages,
        .recent = (uint32_t)x.recent,
        .unseen = (uint32_t)x.unseen,
        .deleted = (uint32_t)x.deleted,
        .size = (uint64_t)x.size,
    };
    return 0;
}

/* Parse-cache entries computed on the pool, on their way to the writer. */
struct cache_put_job {
    char **ids;
    struct store_imap_cache *c;
    size_t n;
};

static int cache_put_run(struct store *st, void *vp)
{
    struct cache_put_job *p = vp;
    return store_imap_cache_put(st, (const char *const *)p->ids, p->c, p->n);
}

static void cache_put_done(void *vp, int rc)
{
    struct cache_put_job *p = vp;
    if (rc != 0) /* the next FETCH of these messages parses them again */
        log_warn("imap: parse cache not stored: %s", err_str(rc));
    for (size_t i = 0; i < p->n; i++)
        free(p->ids[i]);
    store_imap_cache_free(p->c, p->n);
    free(p->ids);
    free(p->c);
    free(p);
}

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

/*
 * store_imap_cache_get's fill hook on the pool: the entries go to the writer as a relaxed
 * write that no reply waits for. Written here they would need SQLite's write lock, which the
 * writer holds most of the time under load: the busy handler slept whole milliseconds (558
 * sleeps in 4 s of imaptest logout=0), inside the FETCH that asked.
 */
static void cache_put_to_writer(void *vw, const char *const *ids,
                                const struct store_imap_cache *c, size_t n)
{
    struct cache_put_job *p = xcalloc(1, sizeof *p);
    p->ids = xcalloc(n, sizeof *p->ids);
    p->c = xcalloc(n, sizeof *p->c);
    p->n = n;
    for (size_t i = 0; i < n; i++) {
        p->ids[i] = xstrdup(ids[i]);
        p->c[i] = (struct store_imap_cache){dup_or_null(c[i].envelope),
                                            dup_or_null(c[i].bodystructure),
                                            dup_or_null(c[i].body),
                                            dup_or_null(c[i].search_headers)};
    }
    imap_writer_submit_relaxed(vw, cache_put_run, cache_put_done, p);
}

/* CACHE: the entries of r->blobs, or of those at j->miss when the worker's memory copy
 * (pcache.h) had the others; they land at their index in r->cache. */
static int do_cache(struct store *st, struct req_job *j)
{
    struct imap_req *r = j->req;
    size_t n = j->miss ? j->nmiss : r->nblobs;
    const char **ids = xcalloc(n ? n : 1, sizeof *ids);
    for (size_t k = 0; k < n; k++)
        ids[k] = r->blobs[j->miss ? j->miss[k] : k];
    struct store_imap_cache *c = xcalloc(n ? n : 1, sizeof *c);
    /* enum imap_cache_field and enum store_imap_cache_field have the same bits. */
    struct imap_writer *writer = writer_of(j->w->d);
    struct store_imap_cache_fill fill = {writer ? cache_put_to_writer : NULL, writer};
    int rc = store_imap_cache_get(st, ids, n, r->cache_fields ? r->cache_fields : STORE_CACHE_ALL,
                                  c, j->on_worker ? NULL : &fill, &j->missing);
    if (rc == 0) {
        if (!r->cache)
            r->cache = xcalloc(r->nblobs ? r->nblobs : 1, sizeof *r->cache);
        for (size_t k = 0; k < n; k++)
            r->cache[j->miss ? j->miss[k] : k] = (struct imap_cache_entry){
                c[k].envelope, c[k].bodystructure, c[k].body, c[k].search_headers};
    }
    free(c); /* the strings moved to r->cache */
    free(ids);
    return rc;
}

static struct imap_pcache *pcache_of(struct worker *w)
{
    struct imap_worker_state *ws = host_worker_state(w, &imap_service);
    return ws ? ws->pcache : NULL;
}

static bool entry_has(const struct imap_cache_entry *e, unsigned fields)
{
    const char *f[4] = {e->envelope, e->bodystructure, e->body, e->search_headers};
    for (int i = 0; i < 4; i++)
        if ((fields & (1u << i)) && !f[i])
            return false;
    return true;
}

/* On the worker: the entries read for j->miss (or all) go into the memory copy. */
static void pcache_fill(struct req_job *j)
{
    struct imap_pcache *pc = pcache_of(j->w);
    struct imap_req *r = j->req;
    size_t n = j->miss ? j->nmiss : r->nblobs;
    for (size_t k = 0; pc && r->cache && k < n; k++) {
        size_t i = j->miss ? j->miss[k] : k;
        imap_pcache_put(pc, r->blobs[i], &r->cache[i]);
    }
}

/* The indices of r->cache still lacking a wanted field (j->miss); their count. */
static size_t cache_misses(struct req_job *j)
{
    struct imap_req *r = j->req;
    unsigned fields = r->cache_fields ? r->cache_fields
                                      : IMAP_CACHE_ENVELOPE | IMAP_CACHE_BODYSTRUCTURE |
                                            IMAP_CACHE_BODY | IMAP_CACHE_HEADERS;
    if (!j->miss)
        j->miss = xcalloc(r->nblobs ? r->nblobs : 1, sizeof *j->miss);
    j->nmiss = 0;
    for (size_t i = 0; i < r->nblobs; i++)
        if (!entry_has(&r->cache[i], fields))
            j->miss[j->nmiss++] = i;
    return j->nmiss;
}

/* CACHE from the worker's memory copy; true when every entry was there. */
static bool cache_from_memory(struct req_job *j)
{
    struct imap_pcache *pc = pcache_of(j->w);
    struct imap_req *r = j->req;
    if (!pc)
        return false;
    unsigned fields = r->cache_fields ? r->cache_fields
                                      : IMAP_CACHE_ENVELOPE | IMAP_CACHE_BODYSTRUCTURE |
                                            IMAP_CACHE_BODY | IMAP_CACHE_HEADERS;
    r->cache = xcalloc(r->nblobs ? r->nblobs : 1, sizeof *r->cache);
    for (size_t i = 0; i < r->nblobs; i++)
        imap_pcache_get(pc, r->blobs[i], fields, &r->cache[i]);
    return cache_misses(j) == 0;
}

/* CATENATE's and URLFETCH's URL: the mailbox's UIDVALIDITY and the message's file (of
 * user's mailbox). */
static int do_locate(struct store *st, struct imap_req *r, const char *user)
{
    int64_t uidv = 0;
    char blob[40];
    if (r->n_in_uids != 1)
        return ERR_PARSE;
    int rc = store_imap_locate(st, user, r->name, r->in_uids[0], &uidv, blob);
    if (rc != 0)
        return rc;
    r->mailbox.uidvalidity = (uint32_t)uidv;
    r->rows = xcalloc(1, sizeof *r->rows);
    r->nrows = 1;
    r->rows[0].uid = r->in_uids[0];
    snprintf(r->rows[0].blob, sizeof r->rows[0].blob, "%s", blob);
    return 0;
}

/* URLFETCH (RFC 4467): the owner's key and message; an expired URL names nothing. */
static int do_urlauth(struct store *st, struct imap_req *r)
{
    if (!r->owner || (r->expire && r->expire <= (int64_t)time(NULL)))
        return ERR_RANGE;
    int rc = store_imap_urlauth_key(st, r->owner, r->name, false, r->urlkey);
    return rc == 0 ? do_locate(st, r, r->owner) : rc;
}

static void meta_cb(void *vj, const char *entry, const char *value, size_t len)
{
    struct req_job *j = vj;
    struct imap_req *r = j->req;
    r->meta_out = grow(r->meta_out, r->nmeta_out, &j->cap, sizeof *r->meta_out);
    char *v = xmalloc(len + 1);
    memcpy(v, value, len);
    v[len] = '\0';
    r->meta_out[r->nmeta_out++] = (struct imap_meta_out){xstrdup(entry), v, len};
}

/* METADATA (RFC 5464): each entry asked for, with its descendants to the depth asked. */
static int do_getmeta(struct store *st, struct req_job *j)
{
    struct imap_req *r = j->req;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < r->nmeta; i++)
        rc = store_imap_meta_get(st, r->user, r->name, r->meta[i].entry, r->meta_depth, meta_cb, j);
    return rc;
}

static int do_setmeta(struct store *st, struct imap_req *r)
{
    struct store_meta_entry *e = xcalloc(r->nmeta ? r->nmeta : 1, sizeof *e);
    for (size_t i = 0; i < r->nmeta; i++)
        e[i] = (struct store_meta_entry){r->meta[i].entry, r->meta[i].value, r->meta[i].len};
    int rc = store_imap_meta_set(st, r->user, r->name, e, r->nmeta);
    free(e);
    return rc;
}

/* The user's own limits, or its domain's when the user has none (RFC 9208: one root). */
static int do_quota(struct store *st, struct req_job *j)
{
    struct store_quota q;
    int rc = store_quota_get(st, j->is->user_id, &q);
    if (rc != 0)
        return rc;
    bool own = q.limit_bytes || q.limit_messages;
    j->req->quota =
        (struct imap_quota_info){(uint64_t)(own ? q.used_bytes : q.dom_used_bytes),
                                 (uint64_t)(own ? q.limit_bytes : q.dom_limit_bytes),
                                 (uint64_t)(own ? q.used_messages : q.dom_used_messages),
                                 (uint64_t)(own ? q.limit_messages : q.dom_limit_messages)};
    return 0;
}

/* SELECT and SYNC claim \Recent messages (writes) off the worker only, and never for a
 * read-only or IMAP4rev2 session. */
static bool claims(const struct req_job *j)
{
    return !j->req->read_only && !j->req->no_recent && !j->on_worker;
}

static int do_request(struct store *st, struct req_job *j)
{
    struct imap_req *r = j->req;
    struct store_imap_mailbox mb = {0};
    int64_t id = 0;
    int rc;
    switch (r->kind) {
    case IMAP_REQ_LIST:
        return store_imap_list(st, r->user, list_cb, j);
    case IMAP_REQ_CREATE:
        return store_imap_create(st, r->user, r->name);
    case IMAP_REQ_DELETE:
        rc = store_imap_delete(st, r->user, r->name, &id);
        r->mailbox.id = id;
        return rc;
    case IMAP_REQ_RENAME:
        rc = store_imap_rename(st, r->user, r->name, r->name2, &id);
        r->mailbox.id = id;
        return rc;
    case IMAP_REQ_SUBSCRIBE:
        return store_imap_subscribe(st, r->user, r->name, r->on);
    case IMAP_REQ_STATUS:
        return do_status(st, r);
    case IMAP_REQ_SELECT:
        rc = store_imap_select(st, r->user, r->name, claims(j), &mb, row_cb, j);
        mailbox_out(r, &mb);
        return rc;
    case IMAP_REQ_SYNC:
        rc = store_imap_changes(st, r->mailbox_id, (int64_t)r->since_modseq, claims(j), &mb, row_cb,
                                expunged_cb, j);
        mailbox_out(r, &mb);
        return rc;
    case IMAP_REQ_STORE:
        return do_store(st, r);
    case IMAP_REQ_EXPUNGE: {
        int64_t *u = uids64(r);
        rc = store_imap_expunge(st, r->mailbox_id, u, r->n_in_uids, NULL);
        free(u);
        return rc;
    }
    case IMAP_REQ_COPY:
        return do_copy(st, r);
    case IMAP_REQ_APPEND:
        return do_append_rows(st, j);
    case IMAP_REQ_CACHE:
        return do_cache(st, j);
    case IMAP_REQ_QUOTA:
        return do_quota(st, j);
    case IMAP_REQ_VANISHED:
        return store_imap_vanished(st, r->mailbox_id, (int64_t)r->since_modseq, expunged_cb, j);
    case IMAP_REQ_LOCATE:
        return do_locate(st, r, r->user);
    case IMAP_REQ_URLKEY:
        return store_imap_urlauth_key(st, r->user, r->name, true, r->urlkey);
    case IMAP_REQ_RESETKEY:
        return store_imap_urlauth_reset(st, r->user, r->name);
    case IMAP_REQ_URLAUTH:
        return do_urlauth(st, r);
    case IMAP_REQ_GETMETA:
        return do_getmeta(st, j);
    case IMAP_REQ_SETMETA:
        return do_setmeta(st, r);
    }
    return ERR_PARSE;
}

/* After a write: the other sessions of this user re-sync. */
static void notify_others(struct req_job *j)
{
    const struct imap_req *r = j->req;
    int64_t mailbox = 0;
    switch (r->kind) {
    case IMAP_REQ_STORE:
    case IMAP_REQ_EXPUNGE:
        mailbox = r->mailbox_id;
        break;
    case IMAP_REQ_APPEND:
        mailbox = r->mailbox.id;
        break;
    case IMAP_REQ_COPY:
    case IMAP_REQ_CREATE:    /* NOTIFY's MailboxName */
    case IMAP_REQ_DELETE:
    case IMAP_REQ_RENAME:
    case IMAP_REQ_SUBSCRIBE: /* NOTIFY's SubscriptionChange */
    case IMAP_REQ_SETMETA:   /* NOTIFY's MailboxMetadataChange / ServerMetadataChange */
        mailbox = 0;
        break;
    default:
        return;
    }
    if (j->is->user_id)
        host_mailbox_changed(j->w, &j->is->user_id, 1, mailbox, j->is->id);
}

static void job_free(struct req_job *j)
{
    if (j->parsed)
        store_imap_cache_free(j->parsed, j->nparsed);
    free(j->parsed);
    free(j->blobs);
    free(j->miss);
    free(j);
}

static void req_result(void *vj)
{
    struct req_job *j = vj;
    struct conn *c = j->is->conn;
    if (j->req->rc == 0)
        notify_others(j);
    if (j->req->kind == IMAP_REQ_CACHE && j->req->rc == 0) /* parsed on the pool: keep them */
        pcache_fill(j);
    imap_session_req_done(j->is->s);
    job_free(j);
    conn_resume(c);
}

static void req_work(void *tctx, void *vj)
{
    struct req_job *j = vj;
    struct store *st = tctx;
    j->req->rc = st ? do_request(st, j) : ERR_DB;
    loop_post_send(j->w->host.post, req_result, j);
}

/* ---- writes: group-committed by the writer thread ---- */

static int write_run(struct store *st, void *vj)
{
    return do_request(st, vj);
}

static void write_done(void *vj, int rc)
{
    struct req_job *j = vj;
    j->req->rc = rc;
    if (rc != 0) { /* results of a write that did not commit are not to be used */
        int keep = rc;
        imap_req_clear(j->req);
        j->req->rc = keep;
    }
    loop_post_send(j->w->host.post, req_result, j);
}

/* APPEND on the pool: the files are written and made durable there (in parallel with other
 * sessions), then their rows go to the writer. */
static void append_work(void *tctx, void *vj)
{
    struct req_job *j = vj;
    struct store *st = tctx;
    struct imap_req *r = j->req;
    int64_t id, total = 0;
    for (size_t k = 0; k < r->nparts; k++)
        total += (int64_t)r->parts[k].len;
    int rc = st ? store_imap_mailbox_id(st, r->user, r->name2, &id) : ERR_DB;
    struct store_quota q;
    if (rc == 0 && (rc = store_quota_get(st, j->is->user_id, &q)) == 0 &&
        store_quota_exceeded(&q, total))
        rc = ERR_LIMIT; /* RFC 9208 §4.3: NO [OVERQUOTA] */
    j->blobs = xcalloc(r->nparts ? r->nparts : 1, sizeof *j->blobs);
    for (size_t k = 0; rc == 0 && k < r->nparts; k++)
        rc = store_imap_append_blob(st, r->parts[k].data, r->parts[k].len, j->blobs[k]);
    /* The parse cache too, from the bytes at hand, stored with the rows: clients FETCH what
     * they append (or what arrives), and the first FETCH then reads SQLite on the worker
     * instead of a trip to the pool to read and parse the file. */
    if (rc == 0) {
        j->parsed = xcalloc(r->nparts ? r->nparts : 1, sizeof *j->parsed);
        j->nparsed = r->nparts;
        for (size_t k = 0; k < r->nparts; k++)
            store_imap_cache_compute(r->parts[k].data, r->parts[k].len, &j->parsed[k]);
    }
    if (rc != 0) {
        r->rc = rc;
        return loop_post_send(j->w->host.post, req_result, j);
    }
    imap_writer_submit(writer_of(j->w->d), write_run, write_done, j);
}

static bool is_write(enum imap_req_kind k)
{
    return k == IMAP_REQ_CREATE || k == IMAP_REQ_DELETE || k == IMAP_REQ_RENAME ||
           k == IMAP_REQ_SUBSCRIBE || k == IMAP_REQ_STORE || k == IMAP_REQ_EXPUNGE ||
           k == IMAP_REQ_COPY || k == IMAP_REQ_SETMETA || k == IMAP_REQ_URLKEY ||
           k == IMAP_REQ_RESETKEY;
}

/* ---- reads: on the worker's own handle ---- */

static int claim_run(struct store *st, void *vj)
{
    struct req_job *j = vj;
    struct imap_req *r = j->req;
    int64_t before = 0;
    int rc = store_imap_claim_recent(st, r->mailbox.id, r->rows[r->nrows - 1].uid, &before);
    if (rc == 0)
        r->mailbox.recent_before = (uint32_t)before;
    return rc;
}

static void claim_done(void *vj, int rc)
{
    struct req_job *j = vj;
    if (rc != 0) /* the messages stay unclaimed: not recent for this session */
        j->req->mailbox.recent_before = j->req->rows[j->req->nrows - 1].uid;
    loop_post_send(j->w->host.post, req_result, j);
}

/*
 * SELECT, SYNC, LIST, STATUS and CACHE hits are small indexed SQLite reads (WAL: never
 * blocked by a writer), done at once on the worker rather than paying two thread handoffs.
 * What would write goes on: a \Recent claim to the writer, cache misses (files to parse) to
 * the pool. Returns false when the request went on (its answer comes later).
 */
static bool read_in_place(struct req_job *j)
{
    struct imap_req *r = j->req;
    j->on_worker = true;
    r->rc = j->w->store ? do_request(j->w->store, j) : ERR_DB;
    bool claim = (r->kind == IMAP_REQ_SELECT || r->kind == IMAP_REQ_SYNC) && r->rc == 0 &&
                 !r->read_only && !r->no_recent && r->nrows &&
                 r->rows[r->nrows - 1].uid > r->mailbox.recent_before;
    if (claim) {
        imap_writer_submit_relaxed(writer_of(j->w->d), claim_run, claim_done, j);
        return false;
    }
    if (r->kind == IMAP_REQ_CACHE && r->rc == 0) {
        pcache_fill(j);                      /* what SQLite had */
        if (j->missing && cache_misses(j)) { /* the rest: files to parse, on the pool */
            j->on_worker = false;
            pool_submit(j->w->d->store_pool, req_work, j);
            return false;
        }
    }
    return true;
}

static void request(void *vis, struct imap_session *s, struct imap_req *req)
{
    struct imap_store *is = vis;
    struct req_job *j = xcalloc(1, sizeof *j);
    j->is = is;
    j->w = conn_worker(is->conn);
    j->req = req;
    struct daemon *d = j->w->d;
    struct pool *pool = d->store_pool;
    if (j->w->host.stopping) {
        /* Shutting down: the writer and the pools may be gone already (a result delivered
         * while the loops wind down can start another request). Fail it in place. */
        free(j);
        req->rc = ERR_AGAIN;
        return imap_session_req_done(s);
    }
    struct imap_writer *writer = writer_of(d);
    if (!writer) /* no writer: everything on the pool */
        return pool_submit(pool, req_work, j);
    /* flags and expunges keep nothing the client gave: no fsync of their own (imap_writer.h) */
    if (req->kind == IMAP_REQ_STORE || req->kind == IMAP_REQ_EXPUNGE)
        return imap_writer_submit_relaxed(writer, write_run, write_done, j);
    if (is_write(req->kind))
        return imap_writer_submit(writer, write_run, write_done, j);
    if (req->kind == IMAP_REQ_APPEND)
        return pool_submit(pool, append_work, j);
    if (req->kind == IMAP_REQ_CACHE && cache_from_memory(j))
        req->rc = 0; /* every entry in this worker's memory: no SQLite read */
    else if (!read_in_place(j))
        return;
    job_free(j);
    imap_session_req_done(s); /* inside the engine's call: conn.c continues after it */
}

/* ---- message files (on the worker: blobs are immutable) ---- */

/* Files up to this size are read into memory rather than mapped: unmapping in a process of
 * many threads costs a TLB shootdown on every core (it was the largest kernel cost under
 * imaptest's mix), and most messages are a few kilobytes. */
#define MSG_READ_MAX (1u << 20)

static int msg_map(void *vis, const char *blob, struct imap_msg_map *out)
{
    struct imap_store *is = vis;
    struct str path = STR_INIT;
    store_imap_blob_path(conn_worker(is->conn)->d->cfg.data_dir, blob, &path);
    int fd = open(str_cstr(&path), O_RDONLY | O_CLOEXEC);
    struct stat sb;
    int rc = fd >= 0 && fstat(fd, &sb) == 0 ? 0 : ERR_IO;
    if (rc != 0)
        log_warn("imap " LOG_ID " %s: %s", LOG_IDV(is->id), str_cstr(&path), strerror(errno));
    str_clear(&path);
    *out = (struct imap_msg_map){"", 0, NULL};
    if (rc == 0 && sb.st_size > 0 && (uint64_t)sb.st_size <= MSG_READ_MAX) {
        size_t n = (size_t)sb.st_size, got = 0;
        char *b = xmalloc(n);
        while (got < n) {
            ssize_t k = pread(fd, b + got, n - got, (off_t)got);
            if (k <= 0 && !(k < 0 && errno == EINTR))
                break;
            got += k > 0 ? (size_t)k : 0;
        }
        if (got == n)
            *out = (struct imap_msg_map){b, n, b};
        else
            rc = ERR_IO, free(b);
    } else if (rc == 0 && sb.st_size > 0) {
        void *m = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            rc = ERR_IO;
        } else {
            *out = (struct imap_msg_map){m, (size_t)sb.st_size, m};
        }
    }
    if (fd >= 0)
        close(fd);
    return rc;
}

static void msg_unmap(void *vis, struct imap_msg_map *m)
{
    if (m->handle && m->len <= MSG_READ_MAX)
        free(m->handle);
    else if (m->handle)
        munmap(m->handle, m->len);
    *m = (struct imap_msg_map){"", 0, NULL};
}

static void selected(void *vis, int64_t mailbox_id)
{
    ((struct imap_store *)vis)->selected = mailbox_id;
}

static void notify_all(void *vis, bool on)
{
    ((struct imap_store *)vis)->watch_all = on;
}

/* UNAUTHENTICATE: the user's connection slot goes back; a later login takes one again. */
static void logout(void *vis)
{
    struct imap_store *is = vis;
    if (is->limit_key[0])
        connlimit_release(conn_worker(is->conn)->d->connlimit, is->limit_key);
    is->limit_key[0] = '\0';
    is->user_id = 0;
    is->selected = 0;
    is->watch_all = false;
}

bool imap_store_watch_all(const struct imap_store *is)
{
    return is->watch_all;
}

static const struct imap_session_ops imap_ops = {auth,     request,    msg_map, msg_unmap,
                                                 selected, notify_all, logout};

const struct imap_session_ops *imap_store_ops(void)
{
    return &imap_ops;
}
