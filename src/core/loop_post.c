#include "core/loop_post.h"

#include "core/xmalloc.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdlib.h>

struct post_item {
    void (*fn)(void *arg);
    void *arg;
    struct post_item *next;
};

struct loop_post {
    struct event *ev;
    pthread_mutex_t mu;
    struct post_item *head, *tail;
};

static void on_post(evutil_socket_t fd, short what, void *vlp)
{
    struct loop_post *lp = vlp;
    pthread_mutex_lock(&lp->mu);
    struct post_item *it = lp->head;
    lp->head = lp->tail = NULL;
    pthread_mutex_unlock(&lp->mu);
    while (it) {
        struct post_item *next = it->next;
        it->fn(it->arg);
        free(it);
        it = next;
    }
}

struct loop_post *loop_post_new(struct event_base *base)
{
    struct loop_post *lp = xcalloc(1, sizeof *lp);
    pthread_mutex_init(&lp->mu, NULL);
    lp->ev = event_new(base, -1, 0, on_post, lp);
    return lp;
}

void loop_post_free(struct loop_post *lp)
{
    if (!lp)
        return;
    event_free(lp->ev);
    /* The loop has stopped: run what is still queued here, so that results which arrived
     * during shutdown still release what they carry. */
    for (;;) {
        pthread_mutex_lock(&lp->mu);
        struct post_item *it = lp->head;
        lp->head = lp->tail = NULL;
        pthread_mutex_unlock(&lp->mu);
        if (!it)
            break;
        while (it) {
            struct post_item *next = it->next;
            it->fn(it->arg);
            free(it);
            it = next;
        }
    }
    pthread_mutex_destroy(&lp->mu);
    free(lp);
}

void loop_post_send(struct loop_post *lp, void (*fn)(void *arg), void *arg)
{
    struct post_item *it = xmalloc(sizeof *it);
    it->fn = fn;
    it->arg = arg;
    it->next = NULL;
    pthread_mutex_lock(&lp->mu);
    if (lp->tail)
        lp->tail->next = it;
    else
        lp->head = it;
    lp->tail = it;
    pthread_mutex_unlock(&lp->mu);
    event_active(lp->ev, EV_READ, 0);
}
