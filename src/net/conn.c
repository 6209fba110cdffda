/* conn — see conn.h: one client connection joined to one protocol engine. */
#include "net/conn_int.h"

#include "core/connlimit.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/xmalloc.h"
#include "net/deflate.h"
#include "net/tls_sock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define OUTPUT_HIGH_WATER (256 * 1024) /* stop reading while this much output is unsent */
#define SOCK_READ 4096                /* one read by conn.c itself (libevent's own size) */
/* Refused TLS connections given the handshake for an encrypted refusal at once, per loop:
 * they no longer count in the limits, so this bounds what one address can hold open. */
#define TLS_REFUSALS_MAX 64
#define CLOSE_LINGER_SEC 10            /* a closing peer that will not read is dropped after this */
#define TLS_GATHER (64 * 1024)         /* plaintext made contiguous before it is encrypted */

static struct metric accepted = METRIC("pigeon_connections_accepted_total",
                                       "TCP connections accepted (every service)");
static struct metric open_now = METRIC_GAUGE("pigeon_connections_open",
                                             "TCP connections open now (every service)");

static void conn_free(struct conn *c);
static void conn_pump(struct conn *c);
static size_t output_pending(struct conn *c);
static void on_read(struct bufferevent *bev, void *vc);
static void on_write(struct bufferevent *bev, void *vc);
static void on_event(struct bufferevent *bev, short what, void *vc);
static void on_lifetime(evutil_socket_t fd, short what, void *vc);
static void wire_wait(struct conn *c);

time_t conn_mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return ts.tv_sec;
}

void conn_lifetime_start(struct conn *c)
{
    time_t left = c->deadline - conn_mono_now();
    struct timeval tv = {left > 0 ? left : 0, 0};
    c->lifetime = evtimer_new(c->h->base, on_lifetime, c);
    evtimer_add(c->lifetime, &tv);
}

/*
 * Reading on or off. A plain socket in direct mode is read by conn.c itself (rd_ev, one recv
 * per readable event) rather than by its bufferevent, whose every read first asks the
 * kernel how much is waiting (ioctl FIONREAD): one system call per request fewer. rd_ev
 * carries the idle timeout, as the bufferevent's read timeout did.
 */
static void read_on(struct conn *c, bool on)
{
    if (!c->own_read) {
        if (on)
            bufferevent_enable(c->bev, EV_READ);
        else
            bufferevent_disable(c->bev, EV_READ);
        return;
    }
    if (on == c->rd_on)
        return;
    c->rd_on = on;
    if (on) {
        struct timeval tv = {(time_t)c->idle_timeout, 0};
        event_add(&c->rd_ev, &tv);
        if (c->ts && tls_sock_pending(c->ts))
            event_active(&c->rd_ev, EV_READ, 0); /* read before, held in OpenSSL */
    } else {
        event_del(&c->rd_ev);
    }
}

static bool read_is_on(const struct conn *c)
{
    return c->own_read ? c->rd_on : (bufferevent_get_enabled(c->bev) & EV_READ) != 0;
}

/* Direct mode on a plain socket (or one whose TLS conn.c runs): rd_ev reads; the socket's
 * bufferevent only holds the buffers (its write event on while the socket is full). */
void conn_own_read_start(struct conn *c)
{
    if (c->own_read)
        return;
    c->direct = true;
    c->own_read = true;
    event_assign(&c->rd_ev, c->h->base, bufferevent_getfd(c->bev), EV_READ | EV_PERSIST,
                 conn_sock_read, c);
    /* Added before the bufferevent's read event goes (if it was on): no epoll change. */
    c->rd_on = false;
    read_on(c, true);
    bufferevent_disable(c->bev, EV_READ | EV_WRITE);
}

/* The bufferevent reads again (STARTTLS: the TLS filter reads through it). */
static void own_read_stop(struct conn *c)
{
    if (!c->own_read)
        return;
    if (c->rd_on)
        bufferevent_enable(c->bev, EV_READ); /* before rd_ev goes: no epoll change */
    event_del(&c->rd_ev);
    c->own_read = c->rd_on = false;
}

/* Logs TLS error e (an OpenSSL error code; 0: none). */
static void tls_log_error(struct conn *c, unsigned long e)
{
    if (!e)
        return;
    char buf[200];
    ERR_error_string_n(e, buf, sizeof buf);
    log_info("%s " LOG_ID " tls error: %s", c->ops->name, LOG_IDV(c->id), buf);
}

/* ---- what engines call ---- */

/* Direct mode, written outside an engine call (an asynchronous result): the bufferevent
 * (under TLS, the socket's watcher) sends it on the loop's next turn, whether or not
 * conn_resume follows. Before the handshake is done, libevent still writes by itself. */
static void write_later(struct conn *c)
{
    if (!c->direct || c->in_call)
        return;
    if (!c->implicit_tls)
        bufferevent_enable(c->bev, EV_WRITE);
    else if (c->tls_up)
        wire_wait(c);
}

void conn_write(void *vc, const char *p, size_t n)
{
    struct conn *c = vc;
    if (c->bev && !c->dead) {
        bufferevent_write(c->bev, p, n);
        write_later(c);
    }
}

char *conn_reserve(void *vc, size_t n)
{
    struct conn *c = vc;
    struct evbuffer_iovec v;
    if (!c->bev || c->dead ||
        evbuffer_reserve_space(bufferevent_get_output(c->bev), (ev_ssize_t)n, &v, 1) < 1 ||
        v.iov_len < n)
        return NULL;
    return v.iov_base;
}

void conn_commit(void *vc, char *p, size_t n)
{
    struct conn *c = vc;
    struct evbuffer_iovec v = {p, n};
    if (evbuffer_commit_space(bufferevent_get_output(c->bev), &v, 1) != 0)
        c->dead = true; /* (only if something was written since conn_reserve) */
    else
        write_later(c);
}

/* Small ranges are copied at once (one write with the response head, no mmap under TLS). */
static bool write_file_copy(struct conn *c, int fd, uint64_t off, uint64_t len)
{
    char *p = conn_reserve(c, (size_t)len);
    if (!p)
        return false;
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(fd, p + got, (size_t)len - got, (off_t)(off + got));
        if (n <= 0)
            return false; /* the file shrank under us: nothing is committed */
        got += (size_t)n;
    }
    conn_commit(c, p, (size_t)len);
    return true;
}

void conn_write_file(void *vc, int fd, uint64_t off, uint64_t len)
{
    struct conn *c = vc;
    if (!c->bev || c->dead)
        return;
    write_later(c);
    if (len <= 64 * 1024) {
        if (!write_file_copy(c, fd, off, len))
            c->dead = true;
        return;
    }
    /* A segment of its own descriptor: libevent sends it with sendfile on a plain socket
     * and maps it in pieces under a TLS filter; the caller keeps (and closes) fd. */
    int own = dup(fd);
    struct evbuffer_file_segment *seg =
        own < 0 ? NULL
                : evbuffer_file_segment_new(own, (ev_off_t)off, (ev_off_t)len,
                                            EVBUF_FS_CLOSE_ON_FREE);
    if (!seg) {
        if (own >= 0)
            close(own);
        c->dead = true; /* the response cannot be completed: drop the connection */
        return;
    }
    evbuffer_add_file_segment(bufferevent_get_output(c->bev), seg, 0, (ev_off_t)len);
    evbuffer_file_segment_free(seg);
}

size_t conn_output_pending(void *vc)
{
    struct conn *c = vc;
    return c->bev && !c->dead ? output_pending(c) : 0;
}

static SSL *conn_ssl(const struct conn *c)
{
    return c->ts ? tls_sock_ssl(c->ts) : c->bev ? bufferevent_openssl_get_ssl(c->bev) : NULL;
}

bool conn_alpn(const struct conn *c, const char *proto)
{
    SSL *ssl = conn_ssl(c);
    const unsigned char *p = NULL;
    unsigned n = 0;
    if (ssl)
        SSL_get0_alpn_selected(ssl, &p, &n);
    return p && n == strlen(proto) && memcmp(p, proto, n) == 0;
}

void conn_set_direct_write(struct conn *c)
{
    if (!c->bev || c->dead || c->ts)
        return; /* conn.c's own TLS is direct from the start */
    struct bufferevent *under = bufferevent_get_underlying(c->bev);
    if (c->implicit_tls && under && bufferevent_openssl_get_ssl(c->bev)) {
        /* The TLS filter encrypts into the socket's buffer as the engine writes; conn_after
         * writes that. The handshake is still libevent's to write (tls_established). */
        c->direct = true;
        if (c->tls_up) {
            bufferevent_disable(c->bev, EV_WRITE);
            bufferevent_disable(under, EV_WRITE);
        }
    } else if (!under && !bufferevent_openssl_get_ssl(c->bev)) {
        conn_own_read_start(c);
    }
}

void conn_set_max_write(struct conn *c, size_t n)
{
    c->max_write = n;
    if (!c->bev)
        return;
    bufferevent_set_max_single_write(c->bev, n);
    struct bufferevent *under = bufferevent_get_underlying(c->bev);
    if (under)
        bufferevent_set_max_single_write(under, n);
}

void conn_set_parking(struct conn *c)
{
    c->park_ops = c->ops->parking;
}

bool conn_tls(const struct conn *c)
{
    return conn_ssl(c) != NULL;
}

void conn_starttls(void *vc)
{
    ((struct conn *)vc)->want_tls = true;
}

void conn_compress(void *vc)
{
    ((struct conn *)vc)->want_compress = true;
}

void conn_close_hint(void *vc)
{
    (void)vc; /* acted upon in conn_after via ops->closing() */
}

/* ---- lifecycle ---- */

/* Output not yet handed to the kernel: a TLS filter's own buffer plus its socket's. */
static size_t output_pending(struct conn *c)
{
    size_t n = evbuffer_get_length(bufferevent_get_output(c->bev));
    struct bufferevent *under = bufferevent_get_underlying(c->bev);
    if (under)
        n += evbuffer_get_length(bufferevent_get_output(under));
    if (c->ts)
        n += evbuffer_get_length(tls_sock_wire(c->ts));
    return n;
}

static void on_drain(evutil_socket_t fd, short what, void *vc);

/* Closing: free once every reply is on the wire (checked again by on_write or a timer). */
static void flush_then_free(struct conn *c)
{
    if (!c->bev || output_pending(c) == 0)
        return conn_free(c);
    if (!c->ts && evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
        /* (conn.c's own TLS: on_wire writes the rest, then comes back here) */
        struct timeval tv = {0, 10000};
        if (!c->drain)
            c->drain = evtimer_new(c->h->base, on_drain, c);
        evtimer_add(c->drain, &tv);
    }
}

static void on_drain(evutil_socket_t fd, short what, void *vc)
{
    flush_then_free(vc);
}

static void on_linger(evutil_socket_t fd, short what, void *vc)
{
    conn_free(vc);
}

/* A server-side TLS filter over the socket's bufferevent plain (freed with it). */
static struct bufferevent *tls_filter_new(struct conn *c, struct bufferevent *plain)
{
    SSL *ssl = SSL_new(c->h->tls);
    struct bufferevent *tls =
        ssl ? bufferevent_openssl_filter_new(c->h->base, plain, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                             BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS)
            : NULL;
    if (!tls) {
        SSL_free(ssl);
        return NULL;
    }
    /* The TLS filter stops encrypting while this much is unsent below it, so output
     * back-pressure (and engines writing in bursts) still works under TLS. */
    bufferevent_setwatermark(plain, EV_WRITE, 0, OUTPUT_HIGH_WATER);
    return tls;
}

static void start_tls(struct conn *c)
{
    c->want_tls = false;
    if (c->direct) { /* from now on the TLS filter writes, through the socket's bufferevent */
        c->direct = false;
        own_read_stop(c);
        bufferevent_enable(c->bev, EV_WRITE);
    }
    /* RFC 3207 §6: anything the client sent after STARTTLS was sent in clear; drop it. */
    struct evbuffer *in = bufferevent_get_input(c->bev);
    evbuffer_drain(in, evbuffer_get_length(in));
    struct bufferevent *tls = tls_filter_new(c, c->bev);
    if (!tls) {
        log_err("%s " LOG_ID " cannot start TLS", c->ops->name, LOG_IDV(c->id));
        c->dead = true;
        return;
    }
    c->bev = tls;
    bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

/* COMPRESS=DEFLATE: everything after the engine's OK goes through net/deflate.h, on top of
 * TLS when it is on; what the client sent after COMPRESS is already compressed, so the
 * filter reads it from the buffer below once it is in place. */
static void start_compress(struct conn *c)
{
    c->want_compress = false;
    struct bufferevent *under = c->bev, *z = net_deflate_filter(under);
    if (!z) {
        log_err("%s " LOG_ID " cannot start compression", c->ops->name, LOG_IDV(c->id));
        c->dead = true;
        return;
    }
    bufferevent_setwatermark(under, EV_WRITE, 0, OUTPUT_HIGH_WATER);
    c->bev = z;
    bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    if (evbuffer_get_length(bufferevent_get_input(under)))
        bufferevent_trigger(under, EV_READ, BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
}

void conn_logged_in(struct conn *c)
{
    if (c->prelogin)
        atomic_fetch_sub(&c->h->counters->prelogin, 1);
    c->prelogin = false;
    if (c->login) {
        event_free(c->login);
        c->login = NULL;
    }
}

/* "service|address" (akey: connlimit_addr_key's): a key of the shared limit table. The keys
 * are made again when the places are given back, not kept with every connection; four per
 * connection, so without snprintf. */
static void limit_key(const char *akey, const char *service, char *out, size_t cap)
{
    size_t s = strnlen(service, cap - 2), a = strnlen(akey, cap - 2 - s);
    memcpy(out, service, s);
    out[s] = '|';
    memcpy(out + s + 1, akey, a);
    out[s + 1 + a] = '\0';
}

/*
 * Gives back the connection's places in the limits (per address, per service, pre-login) as
 * soon as it is closing: a client that reconnects the moment it has our last reply (QUIT's
 * 221) must find its place free, not held while that reply drains. Idempotent.
 */
static void conn_release_limits(struct conn *c)
{
    char key[96], akey[INET6_ADDRSTRLEN + 4];
    if (c->limit_name || c->ip_held)
        connlimit_addr_key(c->peer, akey, sizeof akey);
    if (c->limit_name) {
        limit_key(akey, c->limit_name, key, sizeof key);
        connlimit_release(c->h->connlimit, key);
    }
    if (c->ip_held) {
        limit_key(akey, "*", key, sizeof key);
        connlimit_release(c->h->connlimit, key);
    }
    c->limit_name = NULL;
    c->ip_held = false;
    conn_logged_in(c);
}

/* Writes out to socket fd while the socket takes it (a few writes at most). false: the peer
 * is gone (EPIPE, ECONNRESET). */
static bool write_buf(struct evbuffer *out, evutil_socket_t fd)
{
    for (int i = 0; i < 4 && evbuffer_get_length(out); i++) {
        errno = 0;
        int n = evbuffer_write(out, fd);
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            return false;
        if (n <= 0)
            break;
    }
    return true;
}

/* The output of socket bufferevent b, as write_buf. */
static bool write_out(struct bufferevent *b)
{
    struct evbuffer *out = bufferevent_get_output(b);
    /* A socket bufferevent keeps its output's start frozen: only its own writer drains it. */
    evbuffer_unfreeze(out, 1);
    bool ok = write_buf(out, bufferevent_getfd(b));
    evbuffer_freeze(out, 1);
    return ok;
}

/* Output has gone, or a reader waits for room (back-pressure): the engine hears of it through
 * on_write on a fresh stack, as from libevent. */
static void wrote_all(struct conn *c)
{
    bool wants = c->ops->writable && (!c->park_ops || !c->park_ops->wants_writable ||
                                      c->park_ops->wants_writable(c->eng));
    /* Input held while the engine was busy (an asynchronous answer just went out) is fed
     * from on_write too. */
    if (wants || !read_is_on(c) || evbuffer_get_length(bufferevent_get_input(c->bev)))
        bufferevent_trigger(c->bev, EV_WRITE, BEV_TRIG_DEFER_CALLBACKS);
}

/* Direct TLS: the filter encrypts what is waiting (up to OUTPUT_HIGH_WATER below it). Its
 * own writing is off between these calls, so the replies of one call are encrypted together:
 * the filter writes each piece of its buffer with its own SSL_write, so the first TLS_GATHER
 * octets are made one piece first — full 16 KiB records (a small response's head and body in
 * one record, HTTP/2's many small frames in a few), not a record per conn_write. */
static void tls_encrypt(struct conn *c)
{
    struct evbuffer *plain = bufferevent_get_output(c->bev);
    size_t n = evbuffer_get_length(plain);
    if (n == 0)
        return;
    evbuffer_pullup(plain, (ev_ssize_t)(n < TLS_GATHER ? n : TLS_GATHER));
    bufferevent_enable(c->bev, EV_WRITE); /* the filter encrypts as it is enabled */
    bufferevent_disable(c->bev, EV_WRITE);
}

/*
 * Direct mode under TLS: the filter (c->bev) encrypts what the engine wrote into the socket's
 * bufferevent below it, whose own write event stays off; the records go out here in one
 * writev. When the socket is full, wire_ev waits for room (the filter's write callback
 * would only say that its plaintext was taken, not that the socket took the records), and
 * the filter is asked for more as the socket takes it.
 */
static void tls_flush(struct conn *c)
{
    if (c->wire_ev && event_pending(c->wire_ev, EV_WRITE, NULL))
        return; /* the socket is full: on_wire writes when it has room */
    struct bufferevent *w = bufferevent_get_underlying(c->bev);
    struct evbuffer *plain = bufferevent_get_output(c->bev), *out = bufferevent_get_output(w);
    if (evbuffer_get_length(out) == 0 && evbuffer_get_length(plain) == 0)
        return;
    bool more = true; /* the socket took everything so far, and more may be encrypted */
    for (int i = 0; i < 8 && more; i++) {
        if (evbuffer_get_length(out) < OUTPUT_HIGH_WATER)
            tls_encrypt(c);
        if (evbuffer_get_length(out) == 0) {
            more = false; /* nothing more, or the filter waits for input (its reader writes) */
            break;
        }
        if (!write_out(w)) {
            c->dead = true;
            return;
        }
        more = evbuffer_get_length(out) == 0;
    }
    if (evbuffer_get_length(out) || (more && evbuffer_get_length(plain)))
        wire_wait(c); /* full, or a large answer goes on next turn */
    else if (evbuffer_get_length(plain) == 0)
        wrote_all(c);
}

/*
 * Direct mode under conn.c's own TLS (tls_sock): the engine's plaintext, in the socket
 * bufferevent's output, is encrypted into the wire (up to OUTPUT_HIGH_WATER of records
 * unsent), and the wire goes to the socket in one writev; while the socket takes it all, a
 * large answer is encrypted on. Before the handshake is done only its records go out.
 */
static void own_tls_flush(struct conn *c)
{
    if (c->wire_ev && event_pending(c->wire_ev, EV_WRITE, NULL))
        return; /* the socket is full: on_wire writes when it has room */
    struct evbuffer *plain = bufferevent_get_output(c->bev), *wire = tls_sock_wire(c->ts);
    evutil_socket_t fd = bufferevent_getfd(c->bev);
    for (int i = 0; i < 8; i++) {
        size_t unsent = evbuffer_get_length(wire);
        if (c->tls_up && unsent < OUTPUT_HIGH_WATER && evbuffer_get_length(plain)) {
            evbuffer_unfreeze(plain, 1);
            int rc = tls_sock_encrypt(c->ts, plain, OUTPUT_HIGH_WATER - unsent);
            evbuffer_freeze(plain, 1);
            if (rc < 0) {
                tls_log_error(c, ERR_get_error());
                ERR_clear_error();
                c->dead = true;
                return;
            }
        }
        if (evbuffer_get_length(wire) == 0)
            break;
        if (!write_buf(wire, fd)) {
            c->dead = true;
            return;
        }
        if (evbuffer_get_length(wire))
            break; /* the socket is full */
    }
    if (evbuffer_get_length(wire) || (c->tls_up && evbuffer_get_length(plain)))
        wire_wait(c);
    else if (c->tls_up)
        wrote_all(c);
}

static void on_wire(evutil_socket_t fd, short what, void *vc)
{
    struct conn *c = vc;
    if (what & EV_TIMEOUT)
        c->dead = true; /* the peer has read nothing for the whole idle time */
    else if (c->ts)
        own_tls_flush(c);
    else
        tls_flush(c);
    if (c->dead) {
        c->in_call = true;
        conn_after(c);
    } else if (c->flushing && c->ts) {
        flush_then_free(c);
    }
}

/* The socket below a direct TLS filter is full: write the rest when it has room, or give the
 * peer up after the idle time. */
static void wire_wait(struct conn *c)
{
    if (!c->wire_ev) {
        evutil_socket_t fd =
            bufferevent_getfd(c->ts ? c->bev : bufferevent_get_underlying(c->bev));
        c->wire_ev = event_new(c->h->base, fd, EV_WRITE, on_wire, c);
    }
    struct timeval tv = {(time_t)c->idle_timeout, 0};
    event_add(c->wire_ev, &tv);
}

/*
 * Direct mode: what the engine wrote during its call goes out now, in one writev (then
 * sendfile for a file segment), instead of a loop turn later after the write event has been
 * added to and removed from epoll. The bufferevent's write event is enabled only while the
 * socket is full; on_write disables it again once everything is out. When a direct write
 * empties the buffer, on_write still runs (deferred, on a fresh stack) for engines that send
 * in bursts and for reads paused by back-pressure.
 */
static void direct_flush(struct conn *c)
{
    if (!c->direct || c->dead || !c->bev)
        return;
    if (c->ts)
        return own_tls_flush(c);
    if (c->implicit_tls) {
        if (c->tls_up)
            tls_flush(c);
        return;
    }
    if (bufferevent_get_enabled(c->bev) & EV_WRITE)
        return;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    if (evbuffer_get_length(out) == 0)
        return;
    if (!write_out(c->bev))
        c->dead = true;
    if (c->dead)
        return;
    if (evbuffer_get_length(out))
        bufferevent_enable(c->bev, EV_WRITE); /* the rest as the socket takes it */
    else
        wrote_all(c);
}

/* Acts on what the engine asked for during the last call: TLS, close, back-pressure. */
void conn_after(struct conn *c)
{
    c->in_call = false;
    direct_flush(c);
    if (c->dead) {
        conn_release_limits(c);
        if (!c->ops->busy(c->eng))
            conn_free(c);
        return;
    }
    if (c->want_tls) {
        start_tls(c);
        if (c->dead)
            return conn_free(c);
    }
    if (c->want_compress) {
        start_compress(c);
        if (c->dead)
            return conn_free(c);
    }
    if (c->ops->closing(c->eng) && !c->flushing) {
        if (output_pending(c) == 0)
            return conn_free(c); /* all sent already: no linger timer to make and free */
        c->flushing = true;
        conn_release_limits(c);
        if (!c->ts || c->tls_up) /* (a refusal waits for the handshake it is sent over) */
            read_on(c, false);
        bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
        struct timeval tv = {CLOSE_LINGER_SEC, 0};
        c->linger = evtimer_new(c->h->base, on_linger, c);
        evtimer_add(c->linger, &tv);
        return flush_then_free(c);
    }
    if (c->flushing)
        return;
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) > OUTPUT_HIGH_WATER)
        read_on(c, false); /* on_write re-enables once drained */
    else
        conn_park_later(c);
}

/* The handshake of conn.c's own TLS is done: the engine hears of it. */
static void own_tls_up(struct conn *c)
{
    SSL *ssl = tls_sock_ssl(c->ts);
    c->tls_up = true;
    if (c->flushing)
        read_on(c, false); /* a refusal: it goes now, then the connection closes */
    c->ops->tls_started(c->eng, SSL_get_version(ssl), SSL_get_cipher_name(ssl));
}

/* rd_ev under conn.c's own TLS: the handshake goes on, or records are decrypted into the
 * input buffer (from which conn_pump feeds the engine, as for a plain socket). */
static void own_tls_readable(struct conn *c)
{
    if (!c->tls_up) {
        int rc = tls_sock_handshake(c->ts);
        if (rc < 0) {
            tls_log_error(c, ERR_get_error());
            ERR_clear_error();
            c->dead = true;
        }
        if (rc <= 0)
            return conn_after(c); /* (the handshake's records go out there) */
        own_tls_up(c);
        if (c->flushing || !SSL_has_pending(tls_sock_ssl(c->ts)))
            return conn_pump(c); /* nothing behind the handshake yet: no read to EAGAIN */
    }
    struct evbuffer *in = bufferevent_get_input(c->bev);
    evbuffer_unfreeze(in, 0); /* its end is frozen: only the bufferevent's reader adds */
    int n = tls_sock_read(c->ts, in);
    evbuffer_freeze(in, 0);
    if (n < 0) {
        if (n == TLS_SOCK_FAILED)
            tls_log_error(c, ERR_get_error());
        ERR_clear_error();
        c->dead = true;
        return conn_after(c);
    }
    /* Stopped at its cap with records held in OpenSSL: the socket may never be readable
     * again, so the rest is read on the next loop turn (or when reading is on again). */
    if (c->rd_on && tls_sock_pending(c->ts))
        event_active(&c->rd_ev, EV_READ, 0);
    conn_pump(c);
}

/* rd_ev: the socket is readable, or has been idle for the idle time. */
void conn_sock_read(evutil_socket_t fd, short what, void *vc)
{
    struct conn *c = vc;
    c->in_call = true;
    if (what & EV_TIMEOUT) {
        c->ops->timeout(c->eng); /* rd_ev stays: an engine that lives on reads on */
        return conn_after(c);
    }
    if (c->ts)
        return own_tls_readable(c);
    /* One recv, without asking how much is waiting first; into the stack, then the input
     * buffer: reserving SOCK_READ there would allocate a chunk of 8 KiB per request (an
     * emptied evbuffer keeps no chain), a small request's own size a small one. */
    struct evbuffer *in = bufferevent_get_input(c->bev);
    char buf[SOCK_READ];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
        evbuffer_unfreeze(in, 0); /* its end is frozen: only the bufferevent's reader adds */
        if (evbuffer_add(in, buf, (size_t)n) != 0) {
            n = -1;
            errno = ENOMEM; /* no room: given up as if reset, never watched again unread */
        }
        evbuffer_freeze(in, 0);
    }
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        c->dead = true; /* closed (or reset) by the peer */
        return conn_after(c);
    }
    conn_pump(c);
}

static void conn_pump(struct conn *c)
{
    c->in_call = true;
    struct evbuffer *in = bufferevent_get_input(c->bev);
    while (!c->dead && !c->flushing && !c->want_tls && !c->want_compress && !c->ops->busy(c->eng) &&
           !c->ops->closing(c->eng)) {
        struct evbuffer_iovec v;
        if (evbuffer_peek(in, -1, NULL, &v, 1) < 1 || v.iov_len == 0)
            break;
        size_t used = c->ops->feed(c->eng, v.iov_base, v.iov_len);
        evbuffer_drain(in, used);
        if (used < v.iov_len)
            break;
    }
    conn_after(c);
}

static void on_read(struct bufferevent *bev, void *vc)
{
    conn_pump(vc);
}

static void on_write(struct bufferevent *bev, void *vc)
{
    struct conn *c = vc;
    if (c->direct && !c->implicit_tls && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
        bufferevent_disable(bev, EV_WRITE); /* written from conn_after again */
    if (c->flushing)
        return flush_then_free(c);
    c->in_call = true;
    if (c->ops->writable && !c->dead) {
        c->ops->writable(c->eng);
        if (c->ops->closing(c->eng))
            return conn_after(c);
    }
    if (evbuffer_get_length(bufferevent_get_output(bev)) < OUTPUT_HIGH_WATER / 2) {
        read_on(c, true);
        conn_pump(c);
    } else if (c->direct) {
        conn_after(c); /* what writable wrote goes out now */
    } else {
        c->in_call = false;
    }
}

static void tls_established(struct conn *c)
{
    SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
    struct bufferevent *under = bufferevent_get_underlying(c->bev);
    if (c->implicit_tls && under) {
        c->tls_up = true;
        if (c->direct) { /* the handshake is out (or goes in conn_after): direct from now on */
            bufferevent_disable(c->bev, EV_WRITE);
            bufferevent_disable(under, EV_WRITE);
        }
    }
    c->ops->tls_started(c->eng, ssl ? SSL_get_version(ssl) : "TLS",
                        ssl ? SSL_get_cipher_name(ssl) : "unknown");
    conn_pump(c);
}

static void on_event(struct bufferevent *bev, short what, void *vc)
{
    struct conn *c = vc;
    if (what & BEV_EVENT_CONNECTED)
        return tls_established(c);
    if (what & BEV_EVENT_TIMEOUT) {
        c->in_call = true;
        c->ops->timeout(c->eng);
        /* libevent stopped reading when the timeout fired: an engine that lives on (an
         * event stream, a WebSocket that pinged) must still see its peer's input and EOF. */
        if ((what & BEV_EVENT_READING) && !c->dead && !c->ops->closing(c->eng))
            bufferevent_enable(bev, EV_READ);
        return conn_after(c);
    }
    /* EOF or error: the peer is gone. */
    if ((what & BEV_EVENT_ERROR) && bufferevent_openssl_get_ssl(bev))
        tls_log_error(c, bufferevent_get_openssl_error(bev));
    c->dead = true;
    conn_after(c);
}

static void on_lifetime(evutil_socket_t fd, short what, void *vc)
{
    struct conn *c = vc;
    c->in_call = true;
    c->ops->timeout(c->eng);
    conn_after(c);
}

static void conn_free(struct conn *c)
{
    struct conn_host *h = c->h;
    if (c->ops->busy(c->eng)) { /* an async result will come back: free then */
        c->dead = true;
        if (c->own_read && c->rd_on) {
            event_del(&c->rd_ev); /* its socket goes with the bufferevent */
            c->rd_on = false;
        }
        if (c->wire_ev)
            event_del(c->wire_ev);
        tls_sock_free(c->ts);
        c->ts = NULL;
        if (c->bev) {
            bufferevent_free(c->bev);
            c->bev = NULL;
        }
        return;
    }
    log_info("%s " LOG_ID " disconnect from %s", c->ops->name, LOG_IDV(c->id), c->peer);
    if (c->tls_refusal)
        c->h->tls_refusals--;
    conn_idle_unlink(c);
    if (c->own_read)
        event_del(&c->rd_ev); /* before the socket is closed (with the bufferevent) */
    if (c->wire_ev)
        event_free(c->wire_ev);
    if (c->ts) {
        if (c->tls_up && !c->dead && c->bev) { /* RFC 8446 §6.1; sent if the socket takes it */
            tls_sock_close_notify(c->ts);
            write_buf(tls_sock_wire(c->ts), bufferevent_getfd(c->bev));
        }
        tls_sock_free(c->ts);
    }
    if (c->bev)
        bufferevent_free(c->bev);
    if (c->lifetime)
        event_free(c->lifetime);
    if (c->drain)
        event_free(c->drain);
    if (c->linger)
        event_free(c->linger);
    c->ops->free(c->eng);
    conn_release_limits(c);
    atomic_fetch_sub(&h->counters->open, 1);
    metric_sub(&open_now, 1);
    conn_unlink(c);
    h->nconns--;
    free(c);
    if (h->stopping && h->nconns == 0)
        event_base_loopexit(h->base, NULL);
}

void conn_unlink(struct conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        c->h->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
}

/* ---- entry points ---- */

struct conn_host *conn_get_host(const struct conn *c)
{
    return c->h;
}

const char *conn_peer(const struct conn *c)
{
    return c->peer;
}

int conn_local_addr(const struct conn *c, char *out, size_t cap)
{
    struct bufferevent *b = c->bev ? bufferevent_get_underlying(c->bev) : NULL;
    evutil_socket_t fd = c->bev ? bufferevent_getfd(b ? b : c->bev) : -1;
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (fd < 0 || getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return -1;
    conn_addr_text((const struct sockaddr *)&ss, out, cap);
    return 0;
}

void conn_keep_reading(struct conn *c)
{
    if (c->bev && !c->dead && !c->flushing)
        read_on(c, true);
}

void conn_resume(struct conn *c)
{
    if (c->dead || !c->bev)
        return conn_after(c);
    conn_pump(c);
}

/* a.b.c.d without inet_ntop, whose sprintf per octet is most of an accept's own cost. */
static void ipv4_text(const unsigned char *b, char *out, size_t cap)
{
    char t[16];
    size_t n = 0;
    for (int i = 0; i < 4; i++) {
        unsigned v = b[i];
        if (v >= 100)
            t[n++] = (char)('0' + v / 100);
        if (v >= 10)
            t[n++] = (char)('0' + v / 10 % 10);
        t[n++] = (char)('0' + v % 10);
        t[n++] = i < 3 ? '.' : '\0';
    }
    if (cap >= n)
        memcpy(out, t, n);
    else if (cap)
        out[0] = '\0';
}

void conn_addr_text(const struct sockaddr *sa, char *out, size_t cap)
{
    if (sa->sa_family == AF_INET)
        return ipv4_text((const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr, out,
                         cap);
    const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
    if (sa->sa_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(a6))
        return ipv4_text(a6->s6_addr + 12, out, cap); /* ::ffff:a.b.c.d is a.b.c.d */
    if (sa->sa_family != AF_INET6 || !inet_ntop(AF_INET6, a6, out, (socklen_t)cap))
        snprintf(out, cap, "unknown");
}

/* The connection's bufferevent. Implicit TLS is conn.c's own (tls_sock) for an engine that
 * asks for it, else a filter over the socket's (as after STARTTLS), so that direct mode can
 * write the records itself. */
static struct bufferevent *conn_bev_new(struct conn *c, int fd)
{
    struct bufferevent *plain = bufferevent_socket_new(c->h->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!plain) {
        close(fd);
        return NULL;
    }
    if (!c->implicit_tls)
        return plain;
    if (c->ops->direct_tls) {
        c->ts = tls_sock_new(c->h->tls, fd);
        if (!c->ts) {
            bufferevent_free(plain);
            return NULL;
        }
        /* The plaintext's buffer: a file segment in it is mapped, to be encrypted, not sent
         * with sendfile. */
        evbuffer_clear_flags(bufferevent_get_output(plain), EVBUFFER_FLAG_DRAINS_TO_FD);
        return plain;
    }
    struct bufferevent *tls = tls_filter_new(c, plain);
    if (!tls)
        bufferevent_free(plain);
    return tls;
}

struct conn *conn_make(struct conn_host *h, const struct proto_ops *ops, bool implicit_tls,
                       unsigned idle_timeout, int fd, uint64_t id, const struct sockaddr *sa)
{
    struct conn *c = xcalloc(1, sizeof *c);
    c->h = h;
    c->ops = ops;
    c->implicit_tls = implicit_tls;
    c->id = id;
    conn_addr_text(sa, c->peer, sizeof c->peer);
    c->next = h->conns;
    if (h->conns)
        h->conns->prev = c;
    h->conns = c;
    c->bev = conn_bev_new(c, fd);
    if (!c->bev)
        return c;
    bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
    c->idle_timeout = idle_timeout;
    struct timeval idle = {(time_t)c->idle_timeout, 0};
    struct bufferevent *under = bufferevent_get_underlying(c->bev);
    if (under) {
        /* TLS: no input for the idle time is the filter's timeout (re-enabled on it when an
         * engine lives on); a peer that takes no output that long, the socket's (the filter
         * would time out for a write it had long passed on). Direct mode has wire_ev's. */
        bufferevent_set_timeouts(c->bev, &idle, NULL);
        bufferevent_set_timeouts(under, NULL, &idle);
    } else {
        bufferevent_set_timeouts(c->bev, &idle, &idle);
    }
    return c;
}

static void on_login_timeout(evutil_socket_t fd, short what, void *vc)
{
    struct conn *c = vc;
    if (c->ops->busy(c->eng)) { /* a password check is out: the client waits on us */
        struct timeval again = {1, 0};
        evtimer_add(c->login, &again);
        return;
    }
    log_info("%s " LOG_ID " no login from %s within %u s", c->ops->name, LOG_IDV(c->id), c->peer,
             c->h->counters->login_timeout);
    c->in_call = true;
    c->ops->timeout(c->eng);
    conn_after(c);
}

/*
 * Takes the connection's places: the total, for a listener that needs a login a pre-login
 * place, the address over all services (never below the service's own per-address limit)
 * and the service's per-address count; addresses count by connlimit_addr_key (IPv6 by its
 * /64). Returns false (with why) when one is full; what was taken is given back by
 * conn_release_limits.
 */
static bool conn_acquire_limits(struct conn *c, const struct listener *l, enum conn_refusal *why)
{
    struct conn_counters *k = c->h->counters;
    unsigned per_ip = l->limits.max_per_ip;
    unsigned all_ip = k->max_per_ip > per_ip ? k->max_per_ip : per_ip;
    *why = CONN_REFUSE_TOTAL;
    if (atomic_load(&k->open) > k->max_open)
        return false;
    if (l->limits.login) {
        c->prelogin = true;
        if (atomic_fetch_add(&k->prelogin, 1) >= k->max_prelogin)
            return false;
    }
    *why = CONN_REFUSE_PER_IP;
    char key[96], akey[INET6_ADDRSTRLEN + 4];
    connlimit_addr_key(c->peer, akey, sizeof akey);
    limit_key(akey, "*", key, sizeof key);
    if (!connlimit_acquire(c->h->connlimit, key, all_ip))
        return false;
    c->ip_held = true;
    limit_key(akey, l->name, key, sizeof key);
    if (!connlimit_acquire(c->h->connlimit, key, per_ip))
        return false;
    c->limit_name = l->name; /* a service's string literal: lives as long as the process */
    return true;
}

void conn_accept(struct conn_host *h, const struct listener *l, int fd, const struct sockaddr *sa)
{
    struct conn *c = conn_make(h, l->proto, l->implicit_tls, l->limits.idle_timeout, fd,
                               atomic_fetch_add(&h->counters->next_id, 1), sa);
    if (!c->bev) {
        conn_unlink(c);
        free(c);
        return;
    }
    h->nconns++;
    atomic_fetch_add(&h->counters->open, 1);
    metric_inc(&accepted);
    metric_inc(&open_now);
    c->in_call = true;
    c->eng = c->ops->create(c, l, c->id, c->peer);
    enum conn_refusal why;
    if (!conn_acquire_limits(c, l, &why)) {
        conn_release_limits(c);
        if (c->ts && h->tls_refusals >= TLS_REFUSALS_MAX) {
            c->dead = true; /* no handshake for it: counted, logged, closed without a word */
        } else if (c->ts) {
            c->tls_refusal = true;
            h->tls_refusals++;
            conn_own_read_start(c); /* the refusal goes out encrypted, after the handshake */
        }
        c->ops->refuse(c->eng, why);
        return conn_after(c);
    }
    if (l->limits.login) {
        struct timeval tv = {(time_t)h->counters->login_timeout, 0};
        c->login = evtimer_new(h->base, on_login_timeout, c);
        evtimer_add(c->login, &tv);
    }
    c->deadline = conn_mono_now() + (time_t)l->limits.session_timeout;
    conn_lifetime_start(c);
    /* The engine first: a plain socket in direct mode is read by conn.c and written only
     * when full, so its bufferevent's events are never added (one epoll_ctl, not three). */
    if (c->ts)
        conn_own_read_start(c); /* the handshake is read by conn.c (the engine writes directly) */
    if (c->ops->start)
        c->ops->start(c->eng);
    if (!c->own_read)
        bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    if (h->stopping)
        c->ops->shutdown(c->eng);
    conn_after(c);
}

void conn_shutdown_all(struct conn_host *h)
{
    conn_park_wake_all(h);
    for (struct conn *c = h->conns, *next; c; c = next) {
        next = c->next;
        c->in_call = true;
        c->ops->shutdown(c->eng);
        conn_after(c);
    }
}

void conn_close_all(struct conn_host *h)
{
    conn_park_wake_all(h);
    for (struct conn *c = h->conns, *next; c; c = next) {
        next = c->next;
        /* A result in flight still comes back; conn_free keeps such a connection (without
         * its socket) until then. */
        conn_free(c);
    }
}
