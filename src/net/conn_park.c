/*
 * conn_park — parking idle connections (see struct conn_park_ops in conn.h).
 *
 * A connection idle through a whole sweep interval is parked: its engine, bufferevent,
 * timers and struct conn are freed, and all that stays is a `struct parked` of 80 octets
 * (socket, engine's word, deadlines, id, peer address, the places it holds in the limits).
 * Its socket leaves libevent for one epoll set per loop (watched by one event), and its
 * deadline goes on a wheel of one-second slots (one timer per loop). Input, the deadline, a
 * shutdown or closing everything make the connection whole again (wake): a struct conn and an
 * engine (conn_park_ops.unpark) as before, the same id, peer and places.
 *
 * Parking and waking cost two epoll_ctl each (the socket moves between the two sets); a
 * connection in steady use is never parked (it must stay idle a whole sweep interval).
 */
#include "net/conn_int.h"

#include "core/metrics.h"
#include "core/xmalloc.h"
#include "net/tls_sock.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#define PARK_SWEEP_MS 100 /* a connection idle a whole interval of this is parked */
#define WHEEL 64          /* one-second slots: parked connections by when their time is up */
#define READY_BATCH 32    /* parked sockets woken per epoll_wait */
#define SLAB_BYTES (64 * 1024) /* records are cut from blocks of this, outside the heap */
#define PARK_AT_ONCE 512  /* open connections on a loop from which an idle one parks at once */
#define TRIM_AFTER 32     /* parked since the heap was last trimmed: trim it (a burst rests) */
#define TRIM_EVERY_MS 250 /* ... at most this often */

/* All that a parked connection keeps. */
struct parked {
    struct parked *prev, *next; /* in its slot of the wheel */
    const struct proto_ops *ops;
    const char *limit_name;     /* the listener's (a string literal): its place per address */
    uint64_t id;
    uint64_t due_ms;            /* CLOCK_MONOTONIC ms: the engine's idle time (or the session) ends */
    uint32_t end;               /* conn.deadline: the session_timeout's end, seconds */
    uint32_t idle_timeout;
    uint32_t state;             /* the engine's word (conn_park_ops.park) */
    int fd;
    unsigned char addr[16];     /* the peer (IPv4 as ::ffff:a.b.c.d) */
};

/* A block of records. */
struct slab {
    struct slab *next;
    struct parked rec[];
};

/* A loop's parked connections (h->parking while there are any). */
struct conn_parking {
    struct parked *wheel[WHEEL];
    unsigned n;
    struct slab *slabs;       /* where the records are cut from, all freed with this */
    struct parked *free;      /* records free again (linked by next) */
    struct parked *cut, *end; /* the newest slab's records not cut yet */
    uint64_t sec;        /* the wheel has been looked at up to this second */
    int epfd;            /* the parked sockets */
    struct event *ready; /* ... epfd is readable */
    struct event *tick;  /* every second: the parked connections whose time is up */
};

static struct metric parked_now = METRIC_GAUGE("pigeon_connections_parked",
                                               "Idle connections holding no buffers now");

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

size_t conn_parked_size(void)
{
    return sizeof(struct parked);
}

unsigned conn_parked_count(const struct conn_host *h)
{
    return h->parking ? h->parking->n : 0;
}

/* ---- the idle list: connections that may park at the next sweep ---- */

static bool may_park(struct conn *c);
static bool may_trim(struct conn *c);
static void trim(struct conn *c);
static void park(struct conn *c);
static void sweep_stop(struct conn_host *h);
static void idle_list(struct conn *c);

void conn_idle_unlink(struct conn *c)
{
    struct conn_host *h = c->h;
    if (!c->idle_listed)
        return sweep_stop(h);
    if (c->idle_prev)
        c->idle_prev->idle_next = c->idle_next;
    else
        h->idle = c->idle_next;
    if (c->idle_next)
        c->idle_next->idle_prev = c->idle_prev;
    c->idle_listed = false;
    sweep_stop(h);
}

/*
 * What many connections that parked gave back is mostly free chunks in malloc's heap that the
 * next connections reuse; after a burst (10,000 clients that connect and then rest) it is
 * the burst's peak, resident for good. Once TRIM_AFTER more connections are parked than
 * were (parks less wakes: a crowd that rests, not keep-alive churn), the free
 * pages go back to the system (malloc_trim: every arena, so at most every TRIM_EVERY_MS; the
 * sweep timer stays on until it is done).
 */
static void trim_heap(struct conn_host *h)
{
    if (h->parked_since_trim < TRIM_AFTER)
        return;
    uint64_t now = mono_ms();
    if (now - h->trimmed_ms < TRIM_EVERY_MS)
        return;
    malloc_trim(0);
    h->trimmed_ms = now;
    h->parked_since_trim = 0;
}

static void sweep_stop(struct conn_host *h)
{
    if (!h->idle && h->park_timer && (h->parked_since_trim < TRIM_AFTER || h->stopping)) {
        event_free(h->park_timer); /* nothing to sweep or trim: no timer, no wake-ups */
        h->park_timer = NULL;
    }
}

/*
 * Every PARK_SWEEP_MS while some connection may park: those that stayed idle through a
 * whole interval are parked. A connection in steady use (keep-alive under load) is never
 * parked and unparked between its requests; one that rests is within 200 ms.
 */
static void park_sweep(evutil_socket_t fd, short what, void *vh)
{
    struct conn_host *h = vh;
    uint32_t now = (uint32_t)mono_ms();
    trim_heap(h);
    for (struct conn *c = h->idle, *next; c; c = next) {
        next = c->idle_next;
        bool parks = may_park(c);
        if (!parks && !may_trim(c)) {
            conn_idle_unlink(c); /* listed again after its next call, if idle then */
        } else if (now - c->idle_ms >= PARK_SWEEP_MS) { /* idle a whole interval */
            conn_idle_unlink(c);
            if (parks)
                park(c);
            else
                trim(c);
        }
    }
    sweep_stop(h);
}

/*
 * Among PARK_AT_ONCE connections or more, an idle one parks at once (on the loop's next turn:
 * not under an engine that may be on the stack, conn_resume's caller), as nginx gives back an
 * idle keep-alive connection's buffers as soon as it has answered: a crowd that connects and
 * rests (10,000 clients within a few hundred ms) would otherwise hold all of its memory at
 * once, and that peak stays resident in malloc's heap. Only a connection never parked before:
 * a busy keep-alive client among a crowd is parked at most once that way (then, like any, only
 * when it rests a whole sweep interval), not between every two of its requests.
 */
void conn_park_later(struct conn *c)
{
    struct conn_host *h = c->h;
    if (!may_park(c) && !may_trim(c))
        return;
    bool at_once = h->nconns >= PARK_AT_ONCE && !c->woken && may_park(c);
    uint32_t now = (uint32_t)mono_ms();
    c->idle_ms = at_once ? now - PARK_SWEEP_MS : now; /* at once: the next sweep parks it */
    idle_list(c);
    /* Not EV_TIMEOUT: libevent schedules a persistent timer that ran for its timeout the
     * interval after when it was due (so later each time: a crowd of 10,000 put the next
     * sweep minutes away), one that ran for another reason the interval after now. A sweep
     * goes by how long each connection rested, not by how many sweeps ran (one per
     * newcomer, among a crowd). */
    if (at_once)
        event_active(h->park_timer, EV_READ, 1);
}

/* On the list the sweep looks at (its timer on). */
static void idle_list(struct conn *c)
{
    struct conn_host *h = c->h;
    if (c->idle_listed)
        return;
    c->idle_prev = NULL;
    c->idle_next = h->idle;
    if (h->idle)
        h->idle->idle_prev = c;
    h->idle = c;
    c->idle_listed = true;
    if (!h->park_timer) {
        h->park_timer = event_new(h->base, -1, EV_PERSIST, park_sweep, h);
        struct timeval tv = {0, PARK_SWEEP_MS * 1000};
        evtimer_add(h->park_timer, &tv);
    }
}

/* Nothing held, nothing unsent, nothing under way: a direct-mode connection waiting for its
 * client. */
static bool idle_now(struct conn *c)
{
    return c->direct && c->park_ops && !c->dead && !c->flushing && !c->want_tls && !c->login &&
           c->bev && evbuffer_get_length(bufferevent_get_input(c->bev)) == 0 &&
           evbuffer_get_length(bufferevent_get_output(c->bev)) == 0 &&
           c->own_read && c->rd_on && !(bufferevent_get_enabled(c->bev) & EV_WRITE) &&
           !c->ops->busy(c->eng) && !c->ops->closing(c->eng);
}

static bool may_park(struct conn *c)
{
    return !c->implicit_tls && idle_now(c);
}

/* conn.c's own TLS cannot park (the session stays); it is trimmed instead. */
static bool may_trim(struct conn *c)
{
    return c->ts && c->tls_up && evbuffer_get_length(tls_sock_wire(c->ts)) == 0 && idle_now(c);
}

/* An idle TLS connection gives back OpenSSL's record buffers and what its engine keeps
 * between requests; both come back with the next record. */
static void trim(struct conn *c)
{
    if (!may_trim(c))
        return;
    tls_sock_trim(c->ts);
    if (c->park_ops->trim)
        c->park_ops->trim(c->eng);
}

/* ---- the parked connections: an epoll set and a wheel ---- */

static void on_ready(evutil_socket_t epfd, short what, void *vh);
static void on_tick(evutil_socket_t fd, short what, void *vh);

static struct conn_parking *parking_get(struct conn_host *h)
{
    if (h->parking)
        return h->parking;
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0)
        return NULL;
    struct conn_parking *p = xcalloc(1, sizeof *p);
    p->epfd = epfd;
    p->sec = mono_ms() / 1000;
    p->ready = event_new(h->base, epfd, EV_READ | EV_PERSIST, on_ready, h);
    p->tick = event_new(h->base, -1, EV_PERSIST, on_tick, h);
    struct timeval second = {1, 0};
    event_add(p->ready, NULL);
    evtimer_add(p->tick, &second);
    h->parking = p;
    return p;
}

/* No connection parked any more: the set, its event and the timer go (no wake-ups). */
static void parking_put(struct conn_host *h)
{
    struct conn_parking *p = h->parking;
    if (!p || p->n)
        return;
    event_free(p->ready);
    event_free(p->tick);
    close(p->epfd);
    for (struct slab *b = p->slabs, *next; b; b = next) {
        next = b->next;
        munmap(b, SLAB_BYTES);
    }
    free(p);
    h->parking = NULL;
}

/* Its slot: the second by whose end its time is up. */
static struct parked **slot_of(struct conn_parking *p, const struct parked *r)
{
    return &p->wheel[(r->due_ms + 999) / 1000 % WHEEL];
}

static void wheel_insert(struct conn_parking *p, struct parked *r)
{
    struct parked **slot = slot_of(p, r);
    r->prev = NULL;
    r->next = *slot;
    if (*slot)
        (*slot)->prev = r;
    *slot = r;
}

static void wheel_remove(struct conn_parking *p, struct parked *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        *slot_of(p, r) = r->next;
    if (r->next)
        r->next->prev = r->prev;
}

/*
 * Records come from blocks mapped apart from malloc's heap, cut as needed, so that 10,000 of
 * them take 10,000 times their size: among the heap's chunks they would sit in the holes the
 * connections' buffers left, one in every page, and keep each page resident (see
 * trim_heap). NULL: no memory.
 */
static struct parked *record_new(struct conn_parking *p)
{
    struct parked *r = p->free;
    if (r) {
        p->free = r->next;
        return r;
    }
    if (p->cut == p->end) {
        struct slab *b = mmap(NULL, SLAB_BYTES, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (b == MAP_FAILED)
            return NULL;
        b->next = p->slabs;
        p->slabs = b;
        p->cut = b->rec;
        p->end = b->rec + (SLAB_BYTES - sizeof *b) / sizeof *b->rec;
    }
    return p->cut++;
}

static void record_free(struct conn_parking *p, struct parked *r)
{
    r->next = p->free;
    p->free = r;
}

/* The peer's text address (conn.peer) as 16 octets; false: not an IP address. */
static bool addr_bytes(const char *text, unsigned char out[16])
{
    struct in_addr a4;
    if (inet_pton(AF_INET, text, &a4) == 1) {
        memset(out, 0, 10);
        out[10] = out[11] = 0xff;
        memcpy(out + 12, &a4, 4);
        return true;
    }
    return inet_pton(AF_INET6, text, out) == 1;
}

/*
 * The engine says until when it may rest and what it is made again from; the socket moves
 * to the parking set (before anything is freed: a failure leaves the connection as it was);
 * then the engine, the bufferevent (not the socket), the timers and the struct conn go. A
 * connection kept (park said 0, HTTP/2 in clear) gives back what it keeps for speed.
 */
static void park(struct conn *c)
{
    if (!may_park(c))
        return;
    struct conn_host *h = c->h;
    unsigned char addr[16];
    uint32_t state = 0;
    uint64_t due = 0;
    /* (A parked connection always holds its places: one that gave them back is closing.) */
    uint64_t now = mono_ms(), end = (uint64_t)c->deadline * 1000;
    if (c->limit_name && c->ip_held && !c->prelogin && addr_bytes(c->peer, addr))
        due = c->park_ops->park(c->eng, now, &state);
    if (end < due)
        due = end;
    if (due <= now)
        due = 0; /* the session's time is up: its timer closes it as it is (not a wheel turn late) */
    struct conn_parking *p = due ? parking_get(h) : NULL;
    int fd = event_get_fd(&c->rd_ev);
    struct parked *r = p ? record_new(p) : NULL;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = r};
    if (r && epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        record_free(p, r);
        r = NULL;
    }
    if (!r)
        parking_put(h);
    if (!r) {
        if (c->park_ops->trim)
            c->park_ops->trim(c->eng);
        return;
    }
    *r = (struct parked){.ops = c->ops, .limit_name = c->limit_name, .id = c->id,
                         .due_ms = due, .end = (uint32_t)c->deadline,
                         .idle_timeout = c->idle_timeout, .state = state, .fd = fd};
    memcpy(r->addr, addr, sizeof r->addr);
    wheel_insert(p, r);
    p->n++;
    metric_inc(&parked_now);
    event_del(&c->rd_ev);
    bufferevent_setfd(c->bev, -1); /* the socket stays open */
    bufferevent_free(c->bev);
    if (c->lifetime)
        event_free(c->lifetime);
    c->ops->free(c->eng);
    conn_unlink(c);
    free(c);
    h->parked_since_trim++;
}

/*
 * Makes a parked connection whole: a struct conn on its socket, reading directly as before,
 * its session_timeout timer for what is left, and its engine made again. Not within a call
 * (c->in_call is false). A connection that cannot be made again is dead (its socket closed).
 */
static struct conn *wake(struct conn_host *h, struct parked *r)
{
    struct conn_parking *p = h->parking;
    wheel_remove(p, r);
    epoll_ctl(p->epfd, EPOLL_CTL_DEL, r->fd, NULL);
    p->n--;
    if (h->parked_since_trim)
        h->parked_since_trim--; /* parked and woken again: nothing more to give back */
    metric_sub(&parked_now, 1);
    struct sockaddr_in6 sa = {.sin6_family = AF_INET6};
    memcpy(&sa.sin6_addr, r->addr, sizeof r->addr);
    struct conn *c = conn_make(h, r->ops, false, r->idle_timeout, r->fd, r->id,
                               (const struct sockaddr *)&sa);
    c->limit_name = r->limit_name;
    c->ip_held = true;
    c->deadline = r->end;
    c->woken = true;
    c->park_ops = r->ops->parking;
    if (c->bev) {
        conn_own_read_start(c);
        conn_lifetime_start(c);
    } else {
        c->dead = true;
    }
    c->eng = c->park_ops->unpark(c, c->id, c->peer, r->state, r->due_ms);
    record_free(p, r);
    return c;
}

/*
 * Parked sockets with input (or closed by their peers): each connection is made whole and
 * reads as it would have. (A batch's records stay valid while it is served: only these
 * callbacks and conn_park_wake_all, never called from within a connection, free them.)
 */
static void on_ready(evutil_socket_t epfd, short what, void *vh)
{
    struct conn_host *h = vh;
    struct epoll_event evs[READY_BATCH];
    int n = epoll_wait(epfd, evs, READY_BATCH, 0);
    for (int i = 0; i < n; i++) {
        struct parked *r = evs[i].data.ptr;
        int fd = r->fd;
        struct conn *c = wake(h, r);
        if (c->dead) {
            c->in_call = true;
            conn_after(c);
        } else {
            conn_sock_read(fd, EV_READ, c);
        }
    }
    parking_put(h);
}

/* Every second: the parked connections whose time is up are made whole and time out. */
static void on_tick(evutil_socket_t fd, short what, void *vh)
{
    struct conn_host *h = vh;
    struct conn_parking *p = h->parking;
    uint64_t now = mono_ms(), sec = now / 1000;
    for (unsigned k = 0; p->sec < sec && k < WHEEL; k++) {
        p->sec++;
        for (struct parked *r = p->wheel[p->sec % WHEEL], *next; r; r = next) {
            next = r->next;
            if (r->due_ms > now)
                continue; /* a later turn of the wheel */
            struct conn *c = wake(h, r);
            c->in_call = true;
            if (!c->dead)
                c->ops->timeout(c->eng);
            conn_after(c);
        }
    }
    if (p->sec < sec)
        p->sec = sec; /* behind by a whole turn: every slot has been looked at */
    parking_put(h);
}

void conn_park_wake_all(struct conn_host *h)
{
    struct conn_parking *p = h->parking;
    for (unsigned i = 0; p && i < WHEEL; i++) {
        while (p->wheel[i]) {
            struct conn *c = wake(h, p->wheel[i]);
            if (c->dead) {
                c->in_call = true;
                conn_after(c); /* freed */
            }
        }
    }
    parking_put(h);
}
