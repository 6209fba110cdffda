/*
 * jmap service, push — the per-worker registry of push listeners (event sources, WebSockets
 * with push enabled) and how mailbox-change notices reach them.
 *
 * Every "mailbox changed" report (SMTP delivery, IMAP, POP3, JMAP itself:
 * host_mailbox_changed) is posted to every worker; there each listener of a named user (or
 * every listener, for a report that names only a mailbox) has its account's state read again
 * on the store pool, and its sink is told when the state moved. The CLI writes the store
 * without telling the daemon: every JMAP_PUSH_POLL seconds each listener's state is read
 * again as well. Results come back by the listener's id, so a listener gone meanwhile is
 * simply not found.
 */
#include "jmap/service/service_int.h"
#include "jmap/service/service.h"

#include "core/loop_post.h"
#include "core/pool.h"
#include "core/xmalloc.h"
#include "host/host.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JMAP_PUSH_POLL 30 /* seconds between state reads for changes nobody reports */
#define JMAP_PUSH_MAX_PER_WORKER 1024

struct jmap_push {
    struct jmap_push *prev, *next;
    struct jmap_worker *wk;
    uint64_t id;
    char user[256];
    int64_t user_id;
    struct str state;   /* the state the sink was last told of (or its baseline) */
    bool checking, recheck;
    const struct jmap_push_sink *sink;
    void *arg;
};

struct jmap_worker {
    struct jmap_service *svc;
    struct worker *w;
    struct jmap_push *pushes;
    unsigned npushes;
    uint64_t next_id;
    struct event *poll;
};

/* A state read on the store pool for one listener. */
struct check {
    struct jmap_worker *wk;
    uint64_t id;
    char user[256];
    struct str state;
    int rc;
};

static struct jmap_push *push_find(struct jmap_worker *wk, uint64_t id)
{
    for (struct jmap_push *p = wk->pushes; p; p = p->next)
        if (p->id == id)
            return p;
    return NULL;
}

static void check_done(void *vk)
{
    struct check *k = vk;
    struct jmap_push *p = push_find(k->wk, k->id);
    if (p) {
        p->checking = false;
        bool moved = k->rc == 0 && strcmp(str_cstr(&p->state), str_cstr(&k->state)) != 0;
        struct str old = STR_INIT;
        if (moved) {
            str_append(&old, p->state.ptr, p->state.len);
            str_reset(&p->state);
            str_append(&p->state, k->state.ptr, k->state.len);
        }
        if (p->recheck) {
            p->recheck = false;
            jmap_push_check(p);
        }
        if (moved) /* last: the sink may end its connection, and with it p */
            p->sink->moved(p->arg, str_cstr(&old), str_cstr(&k->state));
        str_clear(&old);
    }
    str_clear(&k->state);
    free(k);
}

static void check_run(void *tctx, void *vk)
{
    struct check *k = vk;
    struct store *st = tctx;
    k->rc = -1;
    if (st) {
        struct jmap_store_ctx ctx = {.svc = k->wk->svc, .st = st, .user = k->user};
        struct jmap_ops ops;
        jmap_store_ops_init(&ops, &ctx);
        k->rc = jmap_account_state(&ops, &k->state);
    }
    loop_post_send(k->wk->w->host.post, check_done, k);
}

void jmap_push_check(struct jmap_push *p)
{
    if (p->checking) {
        p->recheck = true; /* after the read in flight: the change may have come after it */
        return;
    }
    p->checking = true;
    struct check *k = xcalloc(1, sizeof *k);
    k->wk = p->wk;
    k->id = p->id;
    memcpy(k->user, p->user, sizeof k->user);
    pool_submit(p->wk->svc->pool, check_run, k);
}

struct jmap_push *jmap_push_add(struct worker *w, const char *user, int64_t user_id,
                                const char *state, const struct jmap_push_sink *sink, void *arg)
{
    struct jmap_worker *wk = host_worker_state(w, &jmap_service_def);
    if (!wk || wk->npushes >= JMAP_PUSH_MAX_PER_WORKER)
        return NULL;
    struct jmap_push *p = xcalloc(1, sizeof *p);
    p->wk = wk;
    p->id = ++wk->next_id;
    snprintf(p->user, sizeof p->user, "%s", user);
    p->user_id = user_id;
    str_appends(&p->state, state);
    p->sink = sink;
    p->arg = arg;
    p->next = wk->pushes;
    if (wk->pushes)
        wk->pushes->prev = p;
    wk->pushes = p;
    wk->npushes++;
    return p;
}

void jmap_push_set_state(struct jmap_push *p, const char *state)
{
    str_reset(&p->state);
    str_appends(&p->state, state);
}

void jmap_push_remove(struct jmap_push *p)
{
    struct jmap_worker *wk = p->wk;
    if (p->prev)
        p->prev->next = p->next;
    else
        wk->pushes = p->next;
    if (p->next)
        p->next->prev = p->prev;
    wk->npushes--;
    str_clear(&p->state);
    free(p);
}

/* ---- timers and notices ---- */

static void on_poll(evutil_socket_t fd, short what, void *vwk)
{
    struct jmap_worker *wk = vwk;
    for (struct jmap_push *p = wk->pushes; p; p = p->next)
        jmap_push_check(p);
}

void jmap_push_notify(void *ctx, struct worker *w, const struct host_change *ch)
{
    struct jmap_worker *wk = host_worker_state(w, &jmap_service_def);
    for (struct jmap_push *p = wk ? wk->pushes : NULL; p; p = p->next) {
        bool mine = ch->n == 0; /* a report naming only a mailbox: whoever it is */
        for (size_t i = 0; i < ch->n && !mine; i++)
            mine = ch->users[i] == p->user_id;
        if (mine)
            jmap_push_check(p);
    }
}

/* ---- per worker ---- */

void *jmap_push_attach(struct worker *w, void *state)
{
    if (!state)
        return NULL;
    struct jmap_worker *wk = xcalloc(1, sizeof *wk);
    wk->svc = state;
    wk->w = w;
    wk->poll = event_new(w->host.base, -1, EV_PERSIST, on_poll, wk);
    struct timeval tv = {JMAP_PUSH_POLL, 0};
    event_add(wk->poll, &tv);
    return wk;
}

void jmap_push_detach(struct worker *w, void *wstate)
{
    struct jmap_worker *wk = wstate;
    if (!wk)
        return;
    /* The listeners went with the worker's connections. */
    event_free(wk->poll);
    free(wk);
}
