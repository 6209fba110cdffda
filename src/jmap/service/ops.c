/*
 * jmap service — the engine's struct jmap_ops on Pigeon's store, run on a store pool thread
 * (its own store handle; every call may block on disk). Reads are store/jmap.h snapshots;
 * writes are store/imap.h's, so they bump modseqs exactly as IMAP's do. Submissions go
 * through the committer (the same durable path as SMTP submission: blob fsynced and rows
 * committed before the answer), local recipients to their INBOX, others to the queue.
 */
#include "jmap/service/service_int.h"

#include "core/err.h"
#include "core/file.h"
#include "core/xmalloc.h"
#include "host/host.h"
#include "msg/header.h"
#include "store/committer.h"
#include "store/imap.h"
#include "store/jmap.h"
#include "store/mailbox.h"
#include "store/route.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct cb_adapt {
    jmap_mbox_cb mcb;
    jmap_msg_cb rcb;
    void (*gone)(void *arg, int64_t uid);
    void *arg;
    int64_t mailbox_id;
    struct jmap_store_ctx *ctx;
    struct jmap_snap_rows keep;
    bool key_full; /* the mailboxes did not fit in the key: nothing cached */
};

static void mbox_adapt(void *vctx, const struct store_jmap_mailbox *m)
{
    struct cb_adapt *a = vctx;
    struct jmap_mbox j = {.id = m->id, .name = m->name, .special_use = m->special_use,
                          .modseq = m->highestmodseq,
                          .uidnext = m->uidnext, .subscribed = m->subscribed};
    char *key = a->ctx->snap_key;
    size_t used = strlen(key);
    /* uidvalidity too: a mailbox id used again names a mailbox with other messages */
    int n = a->key_full ? -1
                        : snprintf(key + used, JMAP_SNAP_KEY_MAX - used, "%lld.%lld.%lld.%lld,",
                                   (long long)m->id, (long long)m->uidvalidity,
                                   (long long)m->highestmodseq, (long long)m->uidnext);
    if (n < 0 || (size_t)n >= JMAP_SNAP_KEY_MAX - used)
        a->key_full = true;
    a->mcb(a->arg, &j);
}

static int op_mailboxes(void *vctx, jmap_mbox_cb cb, void *arg)
{
    struct jmap_store_ctx *ctx = vctx;
    struct cb_adapt a = {.mcb = cb, .arg = arg, .ctx = ctx};
    ctx->snap_key[0] = '\0';
    int rc = store_jmap_mailboxes(ctx->st, ctx->user, mbox_adapt, &a);
    if (rc != 0 || a.key_full)
        ctx->snap_key[0] = '\0';
    return rc;
}

static void keep_row(void *varg, const struct jmap_msg *m)
{
    struct cb_adapt *a = varg;
    jmap_snap_rows_add(&a->keep, m);
    a->rcb(a->arg, m);
}

/* Every row of the account comes from the snapshot cache when the mailboxes just read are
 * those it was kept at (snapcache.c), else from the store, and is then kept. */
static int op_messages(void *vctx, int64_t mailbox_id, jmap_msg_cb cb, void *arg)
{
    struct jmap_store_ctx *ctx = vctx;
    struct jmap_snapcache *cache = &ctx->svc->snaps;
    if (mailbox_id != 0 || !ctx->snap_key[0])
        return jmap_store_messages(ctx, mailbox_id, cb, arg);
    if (jmap_snapcache_replay(cache, ctx->user, ctx->snap_key, cb, arg))
        return 0;
    struct cb_adapt a = {.rcb = cb, .arg = arg, .ctx = ctx};
    int rc = jmap_store_messages(ctx, 0, keep_row, &a);
    if (rc == 0)
        jmap_snapcache_put(cache, ctx->user, ctx->snap_key, &a.keep);
    jmap_snap_rows_clear(&a.keep);
    return rc;
}

static void change_adapt(void *vctx, const struct store_imap_msg *m)
{
    struct cb_adapt *a = vctx;
    struct jmap_msg j = {.mailbox_id = a->mailbox_id, .uid = m->uid, .modseq = m->modseq,
                         .size = m->size, .received = m->internal_date, .flags = m->flags,
                         .blob_id = m->blob_id};
    a->rcb(a->arg, &j);
}

static void gone_adapt(void *vctx, int64_t uid)
{
    struct cb_adapt *a = vctx;
    a->gone(a->arg, uid);
}

static int op_changes(void *vctx, int64_t mailbox_id, int64_t since, jmap_msg_cb cb,
                      void (*gone)(void *arg, int64_t uid), void *arg)
{
    struct jmap_store_ctx *ctx = vctx;
    struct cb_adapt a = {.rcb = cb, .gone = gone, .arg = arg, .mailbox_id = mailbox_id};
    struct store_imap_mailbox mb;
    return store_imap_changes(ctx->st, mailbox_id, since, false, &mb, change_adapt, gone_adapt,
                              &a);
}

static bool hex32(const char *id)
{
    return strlen(id) == 32 && strspn(id, "0123456789abcdef") == 32;
}

static int op_read_row(void *vctx, const char *blob_id, struct str *out)
{
    struct jmap_store_ctx *ctx = vctx;
    if (!hex32(blob_id))
        return ERR_NOTFOUND;
    struct str path = STR_INIT;
    store_imap_blob_path(store_data_dir(ctx->st), blob_id, &path);
    int rc = file_read_all(str_cstr(&path), (size_t)1 << 30, out);
    str_clear(&path);
    return rc;
}

static int op_read(void *vctx, const char *blob_id, struct str *out)
{
    struct jmap_store_ctx *ctx = vctx;
    if (!hex32(blob_id))
        return ERR_NOTFOUND;
    if (store_jmap_blob_owned(ctx->st, ctx->user, blob_id) != 1 &&
        !jmap_upload_owned(ctx->svc, ctx->user, blob_id))
        return ERR_NOTFOUND;
    return op_read_row(vctx, blob_id, out);
}

static struct json_t *op_memo_get(void *vctx, const char *blob_id, const char *sig)
{
    struct jmap_store_ctx *ctx = vctx;
    return jmap_memo_get(&ctx->svc->memo, blob_id, sig);
}

static void op_memo_put(void *vctx, const char *blob_id, const char *sig, struct json_t *props)
{
    struct jmap_store_ctx *ctx = vctx;
    jmap_memo_put(&ctx->svc->memo, blob_id, sig, props);
}

static int op_set_flags(void *vctx, int64_t mailbox_id, int64_t uid, const char *flags)
{
    struct jmap_store_ctx *ctx = vctx;
    struct store_imap_flag_result *res = NULL;
    size_t n = 0;
    int rc = store_imap_store_flags(ctx->st, mailbox_id, &uid, 1, STORE_FLAGS_REPLACE, flags, -1,
                                    &res, &n);
    store_imap_flag_results_free(res, n);
    return rc == 0 && n == 0 ? ERR_NOTFOUND : rc;
}

static int op_move(void *vctx, int64_t mailbox_id, int64_t uid, const char *dest, bool copy,
                   int64_t *uid_out)
{
    struct jmap_store_ctx *ctx = vctx;
    struct store_imap_copy_result r = {0};
    int rc = store_imap_copy(ctx->st, ctx->user, mailbox_id, &uid, 1, dest, !copy, &r);
    if (rc == 0 && r.n == 0)
        rc = ERR_NOTFOUND;
    if (rc == 0)
        *uid_out = r.dst_uids[0];
    store_imap_copy_result_free(&r);
    return rc;
}

static int op_expunge(void *vctx, int64_t mailbox_id, int64_t uid)
{
    struct jmap_store_ctx *ctx = vctx;
    size_t removed = 0;
    int rc = store_mailbox_expunge(ctx->st, mailbox_id, &uid, 1, &removed);
    return rc == 0 && removed == 0 ? ERR_NOTFOUND : rc;
}

static int op_mailbox_create(void *vctx, const char *name)
{
    struct jmap_store_ctx *ctx = vctx;
    return store_imap_create(ctx->st, ctx->user, name);
}

static int op_mailbox_rename(void *vctx, const char *from, const char *to)
{
    struct jmap_store_ctx *ctx = vctx;
    return store_imap_rename(ctx->st, ctx->user, from, to, NULL);
}

static int op_mailbox_delete(void *vctx, const char *name)
{
    struct jmap_store_ctx *ctx = vctx;
    return store_imap_delete(ctx->st, ctx->user, name, NULL);
}

static int op_mailbox_subscribe(void *vctx, const char *name, bool on)
{
    struct jmap_store_ctx *ctx = vctx;
    return store_imap_subscribe(ctx->st, ctx->user, name, on);
}

static int op_append(void *vctx, const char *mailbox, const char *data, size_t len,
                     const char *flags, int64_t date, int64_t *mailbox_id_out, int64_t *uid_out)
{
    struct jmap_store_ctx *ctx = vctx;
    int64_t uidv;
    return store_imap_append(ctx->st, ctx->user, mailbox, data, len, flags, date, mailbox_id_out,
                             &uidv, uid_out);
}

static int op_blob_put(void *vctx, const char *data, size_t len, char id_out[33])
{
    struct jmap_store_ctx *ctx = vctx;
    int rc = store_imap_append_blob(ctx->st, data, len, id_out);
    if (rc == 0)
        jmap_upload_add(ctx->svc, ctx->user, id_out);
    return rc;
}

/* ---- submission through the committer ---- */

struct waiter {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
};

static void submitted(struct store_msg *msg, void *arg)
{
    struct waiter *w = arg;
    pthread_mutex_lock(&w->lock);
    w->done = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

/* Where a submission goes: local users (aliases and forwards followed, as SMTP does) and
 * remote addresses (owned copies). */
struct routed {
    int64_t *users;
    size_t nl, cap_l;
    char **remotes;
    size_t nr, cap_r;
};

static void routed_user(struct routed *r, int64_t id)
{
    for (size_t k = 0; k < r->nl; k++)
        if (r->users[k] == id)
            return;
    if (r->nl == r->cap_l) {
        r->cap_l = r->cap_l ? 2 * r->cap_l : 8;
        r->users = xrealloc(r->users, r->cap_l * sizeof *r->users);
    }
    r->users[r->nl++] = id;
}

static void routed_remote(struct routed *r, const char *addr)
{
    for (size_t k = 0; k < r->nr; k++)
        if (strcasecmp(r->remotes[k], addr) == 0)
            return;
    if (r->nr == r->cap_r) {
        r->cap_r = r->cap_r ? 2 * r->cap_r : 8;
        r->remotes = xrealloc(r->remotes, r->cap_r * sizeof *r->remotes);
    }
    r->remotes[r->nr++] = xstrdup(addr);
}

static void routed_clear(struct routed *r)
{
    for (size_t k = 0; k < r->nr; k++)
        free(r->remotes[k]);
    free(r->remotes);
    free(r->users);
}

/* Routes one recipient; ERR_NOTFOUND when nobody of a local domain has the address,
 * ERR_PARSE when it is no address. */
static int route_one(struct jmap_store_ctx *ctx, const char *rcpt, struct routed *out)
{
    const char *at = strrchr(rcpt, '@');
    size_t n = strlen(rcpt);
    if (!at || at == rcpt || !at[1] || n > 320 || strpbrk(rcpt, " <>\"\\\r\n"))
        return ERR_PARSE;
    if (store_domain_exists(ctx->st, at + 1) != 1) {
        routed_remote(out, rcpt);
        return 0;
    }
    char lower[321];
    for (size_t i = 0; i <= n; i++)
        lower[i] = (char)tolower((unsigned char)rcpt[i]);
    const struct config *cfg = &ctx->svc->d->cfg;
    struct store_route_opts o = {
        .delim = cfg->recipient_delimiter ? cfg->recipient_delimiter[0] : '\0',
        .postmaster = cfg->postmaster};
    struct store_route r;
    int rc = store_route_resolve(ctx->st, lower, &o, &r);
    if (rc == 0) {
        for (size_t k = 0; k < r.n_users; k++)
            routed_user(out, r.users[k]);
        for (size_t k = 0; k < r.n_remotes; k++)
            routed_remote(out, r.remotes[k].addr);
    }
    store_route_clear(&r);
    return rc;
}

/* Routes every recipient; when some cannot be taken, ERR_NOTFOUND with invalid[i] set for
 * each of them (RFC 8621 §7.5 invalidRecipients). */
static int route(struct jmap_store_ctx *ctx, const char *const *rcpts, size_t n,
                 struct routed *out, bool *invalid)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        int rc = route_one(ctx, rcpts[i], out);
        invalid[i] = rc == ERR_NOTFOUND || rc == ERR_PARSE;
        if (invalid[i])
            bad = ERR_NOTFOUND;
        else if (rc != 0)
            return rc;
    }
    return bad;
}

/* The message to the routed recipients, committed as SMTP commits (blob fsynced, rows). */
static int commit(struct jmap_store_ctx *ctx, struct routed *r, const char *data, size_t len,
                  char queue_id_out[33])
{
    char prefix[600], date[64];
    struct str body = STR_INIT;
    snprintf(prefix, sizeof prefix, "Return-Path: <%s>\r\n", ctx->user);
    msg_date_format(time(NULL), date, sizeof date);
    /* RFC 5321 §4.4: a trace field for the hop into Pigeon */
    str_appendf(&body, "Received: by pigeon with JMAP (authenticated user %s);\r\n\t%s\r\n",
                ctx->user, date);
    str_append(&body, data, len);
    struct store_msg msg = {.sender = ctx->user, .local_prefix = prefix,
                            .local_prefix_len = strlen(prefix), .body = body.ptr,
                            .body_len = body.len, .local_users = r->users, .n_local = r->nl,
                            .remote_rcpts = (const char *const *)r->remotes, .n_remote = r->nr,
                            .received_at = (int64_t)time(NULL)};
    struct waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false};
    committer_submit(ctx->svc->d->committer, &msg, submitted, &w);
    pthread_mutex_lock(&w.lock);
    while (!w.done)
        pthread_cond_wait(&w.cond, &w.lock);
    pthread_mutex_unlock(&w.lock);
    int rc = msg.result;
    if (rc == 0) {
        memcpy(queue_id_out, msg.id, 33);
        for (size_t i = 0; i < r->nl && ctx->nchanged < 64; i++)
            ctx->changed_users[ctx->nchanged++] = r->users[i];
        ctx->submitted_remote |= r->nr > 0;
    }
    str_clear(&body);
    return rc;
}

static int op_submit(void *vctx, const char *const *rcpts, size_t n, const char *data, size_t len,
                     char queue_id_out[33], bool *invalid_out)
{
    struct jmap_store_ctx *ctx = vctx;
    struct routed r = {0};
    int rc = route(ctx, rcpts, n, &r, invalid_out);
    if (rc == 0)
        rc = r.nl + r.nr ? commit(ctx, &r, data, len, queue_id_out) : ERR_NOTFOUND;
    routed_clear(&r);
    return rc;
}

void jmap_store_ops_init(struct jmap_ops *ops, struct jmap_store_ctx *ctx)
{
    *ops = (struct jmap_ops){
        .ctx = ctx,
        .mailboxes = op_mailboxes,
        .messages = op_messages,
        .changes = op_changes,
        .thread_of = jmap_store_thread_of,
        .read = op_read,
        .read_row = op_read_row,
        .memo_get = op_memo_get,
        .memo_put = op_memo_put,
        .set_flags = op_set_flags,
        .move = op_move,
        .expunge = op_expunge,
        .mailbox_create = op_mailbox_create,
        .mailbox_rename = op_mailbox_rename,
        .mailbox_delete = op_mailbox_delete,
        .mailbox_subscribe = op_mailbox_subscribe,
        .append = op_append,
        .blob_put = op_blob_put,
        .submit = op_submit,
    };
    jmap_store_account_ops(ops);
}

/* ---- uploads ---- */

bool jmap_upload_owned(struct jmap_service *svc, const char *user, const char *id)
{
    bool ok = false;
    pthread_mutex_lock(&svc->lock);
    for (unsigned i = 0; i < svc->nuploads && !ok; i++)
        ok = strcmp(svc->uploads[i].id, id) == 0 && strcasecmp(svc->uploads[i].user, user) == 0;
    pthread_mutex_unlock(&svc->lock);
    return ok;
}

void jmap_upload_add(struct jmap_service *svc, const char *user, const char *id)
{
    pthread_mutex_lock(&svc->lock);
    /* A ring: the oldest upload is forgotten first (its file goes with store_gc). */
    struct jmap_upload *u = &svc->uploads[svc->next_upload];
    snprintf(u->user, sizeof u->user, "%s", user);
    snprintf(u->id, sizeof u->id, "%s", id);
    svc->next_upload = (svc->next_upload + 1) % JMAP_MAX_UPLOADS;
    if (svc->nuploads < JMAP_MAX_UPLOADS)
        svc->nuploads++;
    pthread_mutex_unlock(&svc->lock);
}
