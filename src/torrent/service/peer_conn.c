/*
 * torrent/service/peer_conn — peer connections on net/conn.c: accepted from the [torrent]
 * listen sockets (watched by worker 0 only, so every torrent lives on one loop) or dialled
 * out to addresses the trackers gave, then handed to conn_accept alike. The first 48 bytes
 * of an incoming handshake name the torrent; after that the swarm engine does the rest.
 * Closes the engine asks for outside a connection's own callback go through a reaper event,
 * so a connection is never freed under a loop walking the swarm's peers.
 */
#include "torrent/service/peer_int.h"

#include "core/log.h"
#include "core/xmalloc.h"
#include "net/conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

uint64_t peer_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- the swarm's view of a connection ---- */

static void sw_send(void *vpc, const void *p, size_t n)
{
    struct pconn *pc = vpc;
    if (pc->closing)
        return;
    if (pc->ws)
        peer_webseed_from_swarm(pc, p, n);
    else
        conn_write(pc->c, p, n);
}

static void sw_close(void *vpc, const char *why)
{
    struct pconn *pc = vpc;
    if (pc->closing)
        return;
    pc->closing = true;
    pc->next_close = NULL;
    if (pc->ws)
        return; /* a web seed: dropped at the next housekeeping */
    if (pc->svc->reaper)
        event_active(pc->svc->reaper, EV_TIMEOUT, 0);
}

static size_t sw_pending(void *vpc)
{
    struct pconn *pc = vpc;
    return pc->c ? conn_output_pending(pc->c) : 0;
}

/* What we wrote that the peer has not acknowledged: ours not yet handed to the kernel, and
 * the socket's send queue (SIOCOUTQ on TCP: unsent and unacknowledged bytes). */
static size_t sw_unacked(void *vpc)
{
    struct pconn *pc = vpc;
    int q = 0;
    if (!pc->c)
        return 0;
    if (pc->fd < 0 || ioctl(pc->fd, SIOCOUTQ, &q) < 0 || q < 0)
        q = 0;
    return conn_output_pending(pc->c) + (size_t)q;
}

/* What we wrote that has not been sent: ours not yet handed to the kernel, and the socket's
 * unsent bytes (SIOCOUTQNSD). */
static size_t sw_unsent(void *vpc)
{
    struct pconn *pc = vpc;
    int q = 0;
    if (!pc->c)
        return 0;
    if (pc->fd < 0 || ioctl(pc->fd, SIOCOUTQNSD, &q) < 0 || q < 0)
        q = 0;
    return conn_output_pending(pc->c) + (size_t)q;
}

static int sw_read(void *vit, uint32_t piece, uint32_t begin, uint32_t len, uint8_t *out)
{
    struct tor_item *it = vit;
    return tor_storage_read(&it->st, piece, begin, len, out);
}

static void sw_log(void *vit, uint64_t peer, const char *what)
{
    struct tor_item *it = vit;
    log_info("torrent %.8s: peer %llu: %s", it->hex, (unsigned long long)peer, what);
}

/* PEX (BEP 11) and the DHT (BEP 5): addresses join the ones to dial, unless already there. */
void peer_found(void *vit, const struct tor_pex_addr *a, size_t n)
{
    struct tor_item *it = vit;
    for (size_t i = 0; i < n; i++) {
        bool known = a[i].port == 0;
        for (size_t k = 0; k < it->ncand && !known; k++)
            known = it->cand[k].family == a[i].family && it->cand[k].port == a[i].port &&
                    memcmp(it->cand[k].ip, a[i].ip, 16) == 0;
        if (known)
            continue;
        if (it->ncand == TOR_ANNOUNCE_MAX_PEERS) {
            if (it->cand_next == 0)
                return; /* full of addresses not dialled yet */
            memmove(it->cand, it->cand + it->cand_next,
                    (it->ncand - it->cand_next) * sizeof *it->cand);
            it->ncand -= it->cand_next;
            it->cand_next = 0;
        }
        struct tor_peer_addr *c = &it->cand[it->ncand++];
        memcpy(c->ip, a[i].ip, 16);
        c->family = a[i].family;
        c->port = a[i].port;
    }
}

static void mf_log(void *vit, const char *what)
{
    struct tor_item *it = vit;
    log_info("torrent %.8s: metadata: %s", it->hex, what);
}

const struct tor_mfetch_ops torrent_mfetch_ops = {
    .send = sw_send,
    .close = sw_close,
    .log = mf_log,
};

const struct tor_swarm_ops torrent_swarm_ops = {
    .send = sw_send,
    .close = sw_close,
    .pending = sw_pending,
    .unacked = sw_unacked,
    .read = sw_read,
    .verify = peer_verify,
    .log = sw_log,
    .found = peer_found,
    .share_log = peer_share_log,
    .unsent = sw_unsent,
};

/* Runs on the reaper event: lets conn.c see every connection marked closing. */
void peer_reap(int fd, short what, void *vsvc)
{
    struct peer_svc *svc = vsvc;
    for (struct pconn *pc = svc->conns, *next; pc; pc = next) {
        next = pc->next;
        if (pc->closing)
            conn_resume(pc->c); /* may free pc (ops.free) */
    }
}

/* ---- proto_ops ---- */

static void link_conn(struct peer_svc *svc, struct pconn *pc)
{
    pc->next = svc->conns;
    if (svc->conns)
        svc->conns->prev = pc;
    svc->conns = pc;
}

static void *pc_create(struct conn *c, const struct listener *l, uint64_t id, const char *peer)
{
    struct peer_svc *svc = (struct peer_svc *)l->svc_cfg;
    struct pconn *pc = xcalloc(1, sizeof *pc);
    pc->c = c;
    pc->svc = svc;
    pc->fd = svc->accepting_fd;
    svc->accepting_fd = -1;
    snprintf(pc->addr, sizeof pc->addr, "%s", peer);
    link_conn(svc, pc);
    struct tor_item *it = svc->connecting_for;
    svc->connecting_for = NULL;
    if (it) {
        pc->item = it;
        pc->port = svc->connecting_port;
        if (it->fetch) {
            pc->mpeer = tor_mfetch_peer_new(it->fetch, pc, peer, true, peer_now_ms());
        } else {
            pc->peer = tor_swarm_peer_new(it->swarm, pc, peer, true, peer_now_ms());
            tor_swarm_peer_set_port(pc->peer, svc->connecting_port);
        }
    }
    return pc;
}

static void pc_start(void *eng)
{
    (void)eng;
}

static void pc_refuse(void *eng, enum conn_refusal why)
{
    struct pconn *pc = eng;
    pc->closing = true;
}

/* An incoming connection: its handshake's info-hash picks the torrent. */
static bool route(struct pconn *pc)
{
    if (pc->in.len < 48)
        return pc->in.len < 20 || memcmp(pc->in.ptr,
                                         "\x13"
                                         "BitTorrent protocol",
                                         20) == 0
                   ? false
                   : (pc->closing = true, false);
    if (memcmp(pc->in.ptr,
               "\x13"
               "BitTorrent protocol",
               20) != 0) {
        pc->closing = true;
        return false;
    }
    struct tor_item *it = peer_item_find(pc->svc, (const uint8_t *)pc->in.ptr + 28);
    if (!it || !peer_item_room(it) || (it->swarm && tor_swarm_banned(it->swarm, pc->addr))) {
        pc->closing = true;
        return false;
    }
    pc->item = it;
    if (it->fetch)
        pc->mpeer = tor_mfetch_peer_new(it->fetch, pc, pc->addr, false, peer_now_ms());
    else
        pc->peer = tor_swarm_peer_new(it->swarm, pc, pc->addr, false, peer_now_ms());
    return true;
}

static size_t pc_feed(void *eng, const char *p, size_t n)
{
    struct pconn *pc = eng;
    if (pc->closing)
        return n;
    str_append(&pc->in, p, n);
    if (!pc->peer && !pc->mpeer && !route(pc))
        return n;
    const uint8_t *in = (const uint8_t *)pc->in.ptr;
    size_t used =
        pc->mpeer ? tor_mfetch_peer_feed(pc->item->fetch, pc->mpeer, in, pc->in.len, peer_now_ms())
                  : tor_swarm_peer_feed(pc->item->swarm, pc->peer, in, pc->in.len, peer_now_ms());
    str_consume(&pc->in, used);
    return n;
}

static bool pc_busy(const void *eng)
{
    (void)eng;
    return false;
}

static bool pc_closing(const void *eng)
{
    const struct pconn *pc = eng;
    return pc->closing;
}

static void pc_timeout(void *eng)
{
    struct pconn *pc = eng;
    pc->closing = true;
}

static void pc_free(void *eng)
{
    struct pconn *pc = eng;
    if (pc->peer && pc->item && pc->item->swarm)
        tor_swarm_peer_gone(pc->item->swarm, pc->peer);
    if (pc->mpeer && pc->item && pc->item->fetch)
        tor_mfetch_peer_gone(pc->item->fetch, pc->mpeer);
    if (pc->prev)
        pc->prev->next = pc->next;
    else
        pc->svc->conns = pc->next;
    if (pc->next)
        pc->next->prev = pc->prev;
    str_clear(&pc->in);
    free(pc);
}

static void pc_writable(void *eng)
{
    struct pconn *pc = eng;
    if (pc->peer && !pc->closing)
        tor_swarm_peer_writable(pc->item->swarm, pc->peer);
}

const struct proto_ops torrent_peer_proto = {
    .name = "torrent",
    .create = pc_create,
    .start = pc_start,
    .refuse = pc_refuse,
    .feed = pc_feed,
    .busy = pc_busy,
    .closing = pc_closing,
    .timeout = pc_timeout,
    .shutdown = pc_timeout,
    .free = pc_free,
    .writable = pc_writable,
};

/* The swarm is going away: its connections lose their peer state now and close. */
void peer_close_item_conns(struct peer_svc *svc, struct tor_item *it)
{
    for (struct pconn *pc = svc->conns; pc; pc = pc->next) {
        if (pc->item != it)
            continue;
        if (pc->peer)
            tor_swarm_peer_gone(it->swarm, pc->peer);
        if (pc->mpeer)
            tor_mfetch_peer_gone(it->fetch, pc->mpeer);
        pc->peer = NULL;
        pc->mpeer = NULL;
        pc->item = NULL;
        pc->closing = true;
    }
    if (svc->reaper)
        event_active(svc->reaper, EV_TIMEOUT, 0);
}

/* ---- accepting and dialling ---- */

void peer_accept_cb(int fd, short what, void *vsvc)
{
    struct peer_svc *svc = vsvc;
    for (int k = 0; k < 16; k++) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        int cfd = accept4(fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0)
            return;
        svc->accepting_fd = cfd;
        conn_accept(&svc->w->host, &svc->in_l, cfd, (struct sockaddr *)&ss);
        svc->accepting_fd = -1;
    }
}

struct dial {
    struct dial *next;
    struct peer_svc *svc;
    uint64_t key;
    int fd;
    struct sockaddr_storage ss;
    struct event *ev;
};

static void on_dialled(int fd, short what, void *vd)
{
    struct dial *dl = vd;
    struct peer_svc *svc = dl->svc;
    int err = 0;
    socklen_t el = sizeof err;
    svc->outgoing_pending--;
    for (struct dial **pp = &svc->dials; *pp; pp = &(*pp)->next)
        if (*pp == dl) {
            *pp = dl->next;
            break;
        }
    struct tor_item *it = NULL;
    for (struct tor_item *i = svc->items; i; i = i->next)
        if (i->key == dl->key)
            it = i;
    if ((what & EV_TIMEOUT) || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err || !it ||
        !peer_item_room(it)) {
        close(fd);
    } else {
        svc->connecting_for = it;
        svc->connecting_port =
            ntohs(dl->ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&dl->ss)->sin6_port
                                               : ((struct sockaddr_in *)&dl->ss)->sin_port);
        svc->accepting_fd = fd;
        conn_accept(&svc->w->host, &svc->out_l, fd, (struct sockaddr *)&dl->ss);
        svc->connecting_for = NULL;
        svc->accepting_fd = -1;
    }
    event_free(dl->ev);
    free(dl);
}

void peer_connect(struct peer_svc *svc, struct tor_item *it, const struct tor_peer_addr *a)
{
    struct dial *dl = xcalloc(1, sizeof *dl);
    socklen_t len;
    if (a->family == AF_INET) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&dl->ss;
        s4->sin_family = AF_INET;
        memcpy(&s4->sin_addr, a->ip, 4);
        s4->sin_port = htons(a->port);
        len = sizeof *s4;
    } else {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&dl->ss;
        s6->sin6_family = AF_INET6;
        memcpy(&s6->sin6_addr, a->ip, 16);
        s6->sin6_port = htons(a->port);
        len = sizeof *s6;
    }
    int fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || (connect(fd, (struct sockaddr *)&dl->ss, len) < 0 && errno != EINPROGRESS)) {
        if (fd >= 0)
            close(fd);
        free(dl);
        return;
    }
    dl->svc = svc;
    dl->key = it->key;
    dl->fd = fd;
    dl->ev = event_new(svc->w->host.base, fd, EV_WRITE, on_dialled, dl);
    struct timeval tv = {10, 0};
    event_add(dl->ev, &tv);
    svc->outgoing_pending++;
    dl->next = svc->dials;
    svc->dials = dl;
}

bool peer_conn_to(const struct peer_svc *svc, const struct tor_item *it,
                  const struct tor_peer_addr *a)
{
    char text[64];
    if (!inet_ntop(a->family, a->ip, text, sizeof text))
        return false;
    for (const struct pconn *pc = svc->conns; pc; pc = pc->next)
        if (pc->item == it && !pc->closing && pc->port == a->port && strcmp(pc->addr, text) == 0)
            return true;
    return false;
}

void peer_dials_free(struct peer_svc *svc)
{
    while (svc->dials) {
        struct dial *dl = svc->dials;
        svc->dials = dl->next;
        event_free(dl->ev);
        close(dl->fd);
        free(dl);
    }
    svc->outgoing_pending = 0;
}
