/*
 * proxy service collapse — request collapsing across the workers: the first miss for a URL
 * leads (asks the origin), later misses for the same URL join it. Once the leader has a
 * storable response head it publishes it with a descriptor of the object's file as the store
 * writes it; readers pass the body on from that file as it grows (sendfile on the proxy's
 * own connections), woken on their own loop each time there is more, so nothing of the body
 * is held in memory for them and a slow reader holds back nobody. A response that cannot be
 * shared (not storable, a failure before the head) sends the readers to the origin on their
 * own. One mutex guards the table; the published head never changes, so readers use it
 * without the lock.
 */
#include "proxy/service/service_int.h"

#include "core/loop_post.h"
#include "core/xmalloc.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct inflight {
    char *key;
    unsigned refs; /* the leader's, each reader's */
    bool in_table;
    enum inflight_state state;
    struct inflight_waiter *waiters; /* queued for the next change */
    /* published with INFLIGHT_STREAM: */
    int status;
    struct str fields;
    char *vary;
    int64_t length;
    time_t request_time, response_time;
    int fd;
    uint64_t body_off, written;
    struct inflight *next;
};

static void post_wake(void *vw)
{
    struct inflight_waiter *w = vw;
    w->wake(w->arg);
}

/* Takes every queued waiter (under the lock); they are woken after it is released. */
static struct inflight_waiter *take_waiters(struct inflight *f)
{
    struct inflight_waiter *w = f->waiters;
    f->waiters = NULL;
    return w;
}

static void wake_all(struct proxy_state *st, struct inflight_waiter *w)
{
    if (atomic_load_explicit(&st->closing, memory_order_relaxed))
        return; /* the loops have stopped: every fetch is freed by its worker's detach */
    for (struct inflight_waiter *next; w; w = next) {
        next = w->next; /* w lives in its fetch, which runs again only after this wake */
        loop_post_send(w->post, post_wake, w);
    }
}

static void inflight_free(struct inflight *f)
{
    if (f->fd >= 0)
        close(f->fd);
    str_clear(&f->fields);
    free(f->vary);
    free(f->key);
    free(f);
}

/* Removes f from the table (under the lock). */
static void unlink_flight(struct proxy_state *st, struct inflight *f)
{
    if (!f->in_table)
        return;
    struct inflight **pp = &st->inflight;
    while (*pp && *pp != f)
        pp = &(*pp)->next;
    if (*pp)
        *pp = f->next;
    f->in_table = false;
}

enum inflight_join proxy_inflight_join(struct proxy_state *st, const char *key,
                                       struct inflight_waiter *w, struct inflight **out)
{
    *out = NULL;
    pthread_mutex_lock(&st->inflight_lock);
    struct inflight *f = st->inflight;
    while (f && strcmp(f->key, key) != 0)
        f = f->next;
    enum inflight_join r;
    if (!f) {
        f = xcalloc(1, sizeof *f);
        f->key = xstrdup(key);
        f->fd = -1;
        f->refs = 1;
        f->in_table = true;
        f->next = st->inflight;
        st->inflight = f;
        *out = f;
        r = INFLIGHT_LEAD;
    } else if (!w) {
        r = INFLIGHT_QUEUED; /* a background fetch: the one in flight will do */
    } else {
        f->refs++;
        *out = f;
        r = f->state == INFLIGHT_FETCHING ? INFLIGHT_QUEUED : INFLIGHT_READ;
        if (r == INFLIGHT_QUEUED) {
            w->next = f->waiters;
            f->waiters = w;
        }
    }
    pthread_mutex_unlock(&st->inflight_lock);
    return r;
}

void proxy_inflight_stream(struct proxy_state *st, struct inflight *f, int status,
                           struct slice fields, const char *vary, int64_t length,
                           time_t request_time, time_t response_time, int fd, uint64_t body_off)
{
    struct str copy = STR_INIT;
    str_append(&copy, fields.p, fields.len);
    char *v = xstrdup(vary);
    pthread_mutex_lock(&st->inflight_lock);
    f->status = status;
    f->fields = copy;
    f->vary = v;
    f->length = length;
    f->request_time = request_time;
    f->response_time = response_time;
    f->fd = fd;
    f->body_off = body_off;
    f->state = INFLIGHT_STREAM;
    struct inflight_waiter *w = take_waiters(f);
    pthread_mutex_unlock(&st->inflight_lock);
    wake_all(st, w);
}

void proxy_inflight_wrote(struct proxy_state *st, struct inflight *f, uint64_t written)
{
    pthread_mutex_lock(&st->inflight_lock);
    f->written = written;
    struct inflight_waiter *w = take_waiters(f);
    pthread_mutex_unlock(&st->inflight_lock);
    wake_all(st, w);
}

void proxy_inflight_done(struct proxy_state *st, struct inflight *f, enum inflight_state how)
{
    pthread_mutex_lock(&st->inflight_lock);
    unlink_flight(st, f); /* later misses look in the store, or lead a new fetch */
    if (f->state == INFLIGHT_FETCHING || f->state == INFLIGHT_STREAM)
        f->state = how;
    struct inflight_waiter *w = take_waiters(f);
    bool last = --f->refs == 0;
    pthread_mutex_unlock(&st->inflight_lock);
    wake_all(st, w);
    if (last)
        inflight_free(f);
}

void proxy_inflight_view(struct proxy_state *st, struct inflight *f, struct inflight_view *v)
{
    pthread_mutex_lock(&st->inflight_lock);
    *v = (struct inflight_view){f->state,
                                f->status,
                                slice_make(str_cstr(&f->fields), f->fields.len),
                                f->vary ? f->vary : "",
                                f->length,
                                f->request_time,
                                f->response_time,
                                f->fd,
                                f->body_off,
                                f->written};
    pthread_mutex_unlock(&st->inflight_lock);
}

bool proxy_inflight_wait(struct proxy_state *st, struct inflight *f, struct inflight_waiter *w,
                         uint64_t have)
{
    pthread_mutex_lock(&st->inflight_lock);
    bool wait =
        (f->state == INFLIGHT_FETCHING || f->state == INFLIGHT_STREAM) && f->written <= have;
    if (wait) {
        w->next = f->waiters;
        f->waiters = w;
    }
    pthread_mutex_unlock(&st->inflight_lock);
    return wait;
}

void proxy_inflight_ref(struct proxy_state *st, struct inflight *f)
{
    pthread_mutex_lock(&st->inflight_lock);
    f->refs++;
    pthread_mutex_unlock(&st->inflight_lock);
}

void proxy_inflight_forget(struct proxy_state *st, struct inflight *f, struct inflight_waiter *w)
{
    pthread_mutex_lock(&st->inflight_lock);
    struct inflight_waiter **pp = &f->waiters;
    while (*pp && *pp != w)
        pp = &(*pp)->next;
    if (*pp)
        *pp = w->next;
    pthread_mutex_unlock(&st->inflight_lock);
}

void proxy_inflight_unref(struct proxy_state *st, struct inflight *f)
{
    if (!f)
        return;
    pthread_mutex_lock(&st->inflight_lock);
    bool last = --f->refs == 0;
    if (last)
        unlink_flight(st, f);
    pthread_mutex_unlock(&st->inflight_lock);
    if (last)
        inflight_free(f);
}

void proxy_inflight_free_all(struct proxy_state *st)
{
    while (st->inflight) { /* the workers are gone: nobody holds a reference any more */
        struct inflight *f = st->inflight;
        st->inflight = f->next;
        inflight_free(f);
    }
}
