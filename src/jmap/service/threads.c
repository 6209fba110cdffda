/*
 * jmap service — the account's message rows with their threads. Rows come from
 * store/jmap.h with the thread the store keeps for them; a row never placed before (new
 * mail, whoever wrote it: SMTP, IMAP, POP3, the CLI) is placed here, once: the head of its
 * file is read, its key made by the engine (jmap_thread_key_make) and the store matches it
 * against the user's threads (store/jmap_threads.h), all the new rows of one read in one
 * transaction, oldest first so a conversation's first message names it.
 */
#include "jmap/service/service_int.h"

#include "core/err.h"
#include "core/xmalloc.h"
#include "store/imap.h"
#include "store/jmap.h"
#include "store/jmap_threads.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HEAD_MAX (64 * 1024) /* a header longer than this is threaded on what it has */

struct unplaced {
    struct jmap_msg m; /* m.blob_id is set only when the row is handed on: the array moves */
    char *flags;
    char blob[33];
};

struct rows {
    jmap_msg_cb cb;
    void *arg;
    struct unplaced *u;
    size_t n, cap;
};

static void row_in(void *vctx, const struct store_jmap_msg *m)
{
    struct rows *r = vctx;
    struct jmap_msg j = {.mailbox_id = m->mailbox_id, .uid = m->uid, .modseq = m->modseq,
                         .size = m->size, .received = m->internal_date, .flags = m->flags,
                         .blob_id = m->blob_id, .thread_id = m->thread_id};
    if (m->thread_id > 0)
        return r->cb(r->arg, &j);
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        r->u = xrealloc(r->u, r->cap * sizeof *r->u);
    }
    struct unplaced *u = &r->u[r->n++];
    u->m = j;
    u->flags = xstrdup(m->flags);
    snprintf(u->blob, sizeof u->blob, "%s", m->blob_id ? m->blob_id : "");
    u->m.flags = u->flags;
    u->m.blob_id = NULL; /* not into blob: a later xrealloc or the sort moves the row */
}

static int older_first(const void *a, const void *b)
{
    const struct jmap_msg *x = &((const struct unplaced *)a)->m;
    const struct jmap_msg *y = &((const struct unplaced *)b)->m;
    if (x->received != y->received)
        return x->received < y->received ? -1 : 1;
    if (x->mailbox_id != y->mailbox_id)
        return x->mailbox_id < y->mailbox_id ? -1 : 1;
    return x->uid < y->uid ? -1 : x->uid > y->uid;
}

/* The first HEAD_MAX octets of the message file (a missing file reads as empty). */
static void head_read(struct store *st, const char *blob, struct str *out)
{
    struct str path = STR_INIT;
    store_imap_blob_path(store_data_dir(st), blob, &path);
    int fd = open(str_cstr(&path), O_RDONLY | O_CLOEXEC);
    str_clear(&path);
    if (fd < 0)
        return;
    char *buf = xmalloc(HEAD_MAX);
    size_t n = 0;
    while (n < HEAD_MAX) {
        ssize_t k = read(fd, buf + n, HEAD_MAX - n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        n += (size_t)k;
    }
    close(fd);
    str_append(out, buf, n);
    free(buf);
}

static int place(struct jmap_store_ctx *ctx, struct rows *r)
{
    qsort(r->u, r->n, sizeof *r->u, older_first);
    struct jmap_thread_key *keys = xcalloc(r->n, sizeof *keys);
    struct store_jmap_thread_req *req = xcalloc(r->n, sizeof *req);
    struct str head = STR_INIT;
    for (size_t i = 0; i < r->n; i++) {
        str_reset(&head);
        head_read(ctx->st, r->u[i].blob, &head);
        jmap_thread_key_make(head.ptr ? head.ptr : "", head.len, &keys[i]);
        req[i] = (struct store_jmap_thread_req){
            .mailbox_id = r->u[i].m.mailbox_id, .uid = r->u[i].m.uid, .blob_id = r->u[i].blob,
            .msgids = (const char *const *)keys[i].ids, .nmsgids = keys[i].n,
            .subject = keys[i].subject};
    }
    str_clear(&head);
    int rc = store_jmap_threads_assign(ctx->st, ctx->user, req, r->n);
    for (size_t i = 0; i < r->n; i++) {
        r->u[i].m.thread_id = req[i].thread_id;
        jmap_thread_key_clear(&keys[i]);
    }
    free(keys);
    free(req);
    return rc;
}

int jmap_store_messages(struct jmap_store_ctx *ctx, int64_t mailbox_id, jmap_msg_cb cb, void *arg)
{
    struct rows r = {.cb = cb, .arg = arg};
    int rc = store_jmap_messages(ctx->st, ctx->user, mailbox_id, row_in, &r);
    if (rc == 0 && r.n)
        rc = place(ctx, &r);
    for (size_t i = 0; i < r.n; i++) {
        r.u[i].m.blob_id = r.u[i].blob; /* where the row is now */
        if (rc == 0)
            cb(arg, &r.u[i].m);
        free(r.u[i].flags);
    }
    free(r.u);
    return rc;
}

int jmap_store_thread_of(void *vctx, int64_t mailbox_id, int64_t uid, int64_t *thread_out)
{
    struct jmap_store_ctx *ctx = vctx;
    return store_jmap_thread_of(ctx->st, ctx->user, mailbox_id, uid, thread_out);
}
