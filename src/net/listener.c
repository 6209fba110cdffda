/* listener — see listener.h. */
#include "net/listener.h"

#include "core/log.h"
#include "core/xmalloc.h"

#include <errno.h>
#include <event2/listener.h>
#include <stdlib.h>
#include <string.h>

struct watch {
    struct conn_host *h;
    const struct listener *l;
    struct evconnlistener *evl;
};

struct listen_set {
    struct watch *w;
    unsigned n;
};

static void on_accept(struct evconnlistener *evl, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *vw)
{
    struct watch *w = vw;
    conn_accept(w->h, w->l, fd, sa);
}

static void on_accept_error(struct evconnlistener *evl, void *vw)
{
    /* EMFILE and friends: log and keep going; libevent retries on the next readiness. */
    log_warn("accept: %s", strerror(errno));
}

void listener_watch(struct conn_host *h, const struct listener *ls, unsigned n)
{
    listener_unwatch(h);
    struct listen_set *set = xcalloc(1, sizeof *set);
    set->w = xcalloc(n ? n : 1, sizeof *set->w);
    set->n = n;
    for (unsigned i = 0; i < n; i++) {
        set->w[i] = (struct watch){h, &ls[i], NULL};
        set->w[i].evl = evconnlistener_new(h->base, on_accept, &set->w[i], 0, -1, ls[i].fd);
        if (set->w[i].evl)
            evconnlistener_set_error_cb(set->w[i].evl, on_accept_error);
    }
    h->accepting = set;
}

void listener_unwatch(struct conn_host *h)
{
    struct listen_set *set = h->accepting;
    if (!set)
        return;
    for (unsigned i = 0; i < set->n; i++)
        if (set->w[i].evl)
            evconnlistener_free(set->w[i].evl);
    free(set->w);
    free(set);
    h->accepting = NULL;
}
