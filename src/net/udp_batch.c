/* udp_batch — recvmmsg/sendmmsg around a per-datagram function. See udp_batch.h. */
#include "net/udp_batch.h"

#include "core/log.h"
#include "core/xmalloc.h"

#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

struct udp_batch {
    udp_batch_fn fn;
    void *ctx;
    struct event **ev;
    unsigned nev;
    uint8_t in[UDP_BATCH_MAX][UDP_BATCH_BUF];
    uint8_t out[UDP_BATCH_MAX][UDP_BATCH_BUF];
    struct sockaddr_storage peer[UDP_BATCH_MAX];
};

static void on_readable(evutil_socket_t fd, short what, void *vb)
{
    struct udp_batch *b = vb;
    struct mmsghdr msgs[UDP_BATCH_MAX], outs[UDP_BATCH_MAX];
    struct iovec iov[UDP_BATCH_MAX], oiov[UDP_BATCH_MAX];
    for (int i = 0; i < UDP_BATCH_MAX; i++) {
        iov[i] = (struct iovec){b->in[i], UDP_BATCH_BUF};
        msgs[i].msg_hdr = (struct msghdr){&b->peer[i], sizeof b->peer[i], &iov[i], 1, NULL, 0, 0};
    }
    int n = recvmmsg(fd, msgs, UDP_BATCH_MAX, MSG_DONTWAIT, NULL);
    if (n <= 0)
        return; /* another worker took them, or an ICMP error surfaced: nothing to do */
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC)
            continue; /* larger than any request we serve */
        socklen_t plen = msgs[i].msg_hdr.msg_namelen;
        size_t len = b->fn(b->ctx, fd, b->in[i], msgs[i].msg_len, (struct sockaddr *)&b->peer[i],
                           plen, b->out[k], UDP_BATCH_BUF);
        if (len == 0)
            continue;
        oiov[k] = (struct iovec){b->out[k], len};
        outs[k].msg_hdr = (struct msghdr){&b->peer[i], plen, &oiov[k], 1, NULL, 0, 0};
        k++;
    }
    if (k > 0 && sendmmsg(fd, outs, (unsigned)k, MSG_DONTWAIT) < 0)
        log_debug("udp: sendmmsg: %s", strerror(errno));
}

struct udp_batch *udp_batch_new(struct event_base *base, const int *fds, unsigned n,
                                udp_batch_fn fn, void *ctx)
{
    struct udp_batch *b = xcalloc(1, sizeof *b);
    b->fn = fn;
    b->ctx = ctx;
    b->ev = xcalloc(n ? n : 1, sizeof *b->ev);
    for (unsigned i = 0; i < n; i++) {
        b->ev[i] = event_new(base, fds[i], EV_READ | EV_PERSIST, on_readable, b);
        event_add(b->ev[i], NULL);
    }
    b->nev = n;
    return b;
}

void udp_batch_free(struct udp_batch *b)
{
    if (!b)
        return;
    for (unsigned i = 0; i < b->nev; i++)
        event_free(b->ev[i]);
    free(b->ev);
    free(b);
}
