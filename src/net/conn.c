/* conn — see conn.h: one client connection joined to one protocol engine. */
#include "net/conn.h"

#include "core/connlimit.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/xmalloc.h"
#include "net/deflate.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define OUTPUT_HIGH_WATER (256 * 1024) /* stop reading while this much output is unsent */
#define CLOSE_LINGER_SEC 10            /* a closing peer that will not read is dropped after this */

struct conn {
    struct conn_host *h;
    struct conn *prev, *next;
    struct bufferevent *bev;
    const struct proto_ops *ops;
    void *eng;
    struct event *lifetime;   /* session_timeout */
    struct event *login;      /* login_timeout, until conn_logged_in */
    struct event *drain;      /* closing over TLS: polls the socket buffer until it is sent */
    struct event *linger;     /* closing: hard deadline for the last replies to leave */
    char peer[INET6_ADDRSTRLEN];
    char limit_key[96];       /* "service|address": the service's per-address count */
    char ip_key[96];          /* "*|address": the count over all services */
    bool prelogin;            /* counted in counters->prelogin */
    uint64_t id;
    bool want_tls;            /* the engine answered STARTTLS */
    bool want_compress;       /* the engine answered COMPRESS (RFC 4978) */
    bool implicit_tls;        /* TLS from the first byte (POP3S, IMAPS) */
    bool flushing;            /* closing: waiting for output to drain */
    bool dead;                /* the peer is gone but an async call is outstanding */
};

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

/* ---- what engines call ---- */

void conn_write(void *vc, const char *p, size_t n)
{
    struct conn *c = vc;
    if (c->bev && !c->dead)
        bufferevent_write(c->bev, p, n);
}

/* Small ranges are copied at once (one write with the response head, no mmap under TLS). */
static bool write_file_copy(struct conn *c, int fd, uint64_t off, uint64_t len)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);
    struct evbuffer_iovec v;
    if (evbuffer_reserve_space(out, (ev_ssize_t)len, &v, 1) < 1 || v.iov_len < len)
        return false;
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(fd, (char *)v.iov_base + got, (size_t)len - got, (off_t)(off + got));
        if (n <= 0)
            return false; /* the file shrank under us: nothing is committed */
        got += (size_t)n;
    }
    v.iov_len = len;
    return evbuffer_commit_space(out, &v, 1) == 0;
}

void conn_write_file(void *vc, int fd, uint64_t off, uint64_t len)
{
    struct conn *c = vc;
    if (!c->bev || c->dead)
        return;
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

bool conn_alpn(const struct conn *c, const char *proto)
{
    SSL *ssl = c->bev ? bufferevent_openssl_get_ssl(c->bev) : NULL;
    const unsigned char *p = NULL;
    unsigned n = 0;
    if (ssl)
        SSL_get0_alpn_selected(ssl, &p, &n);
    return p && n == strlen(proto) && memcmp(p, proto, n) == 0;
}

void conn_set_nodelay(struct conn *c)
{
    struct bufferevent *b = c->bev ? bufferevent_get_underlying(c->bev) : NULL;
    evutil_socket_t fd = bufferevent_getfd(b ? b : c->bev);
    int one = 1;
    if (fd >= 0)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

bool conn_tls(const struct conn *c)
{
    return c->bev && bufferevent_openssl_get_ssl(c->bev) != NULL;
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
    return n;
}

static void on_drain(evutil_socket_t fd, short what, void *vc);

/* Closing: free once every reply is on the wire (checked again by on_write or a timer). */
static void flush_then_free(struct conn *c)
{
    if (!c->bev || output_pending(c) == 0)
        return conn_free(c);
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
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

static void start_tls(struct conn *c)
{
    c->want_tls = false;
    /* RFC 3207 §6: anything the client sent after STARTTLS was sent in clear; drop it. */
    struct evbuffer *in = bufferevent_get_input(c->bev);
    evbuffer_drain(in, evbuffer_get_length(in));
    SSL *ssl = SSL_new(c->h->tls);
    struct bufferevent *tls = bufferevent_openssl_filter_new(
        c->h->base, c->bev, ssl, BUFFEREVENT_SSL_ACCEPTING,
        BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
    if (!tls) {
        SSL_free(ssl);
        log_err("%s " LOG_ID " cannot start TLS", c->ops->name, LOG_IDV(c->id));
        c->dead = true;
        return;
    }
    /* The TLS filter stops encrypting while this much is unsent below it, so output
     * back-pressure (and engines writing in bursts) still works after STARTTLS/STLS. */
    bufferevent_setwatermark(c->bev, EV_WRITE, 0, OUTPUT_HIGH_WATER);
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

/*
 * Gives back the connection's places in the limits (per address, per service, pre-login) as
 * soon as it is closing: a client that reconnects the moment it has our last reply (QUIT's
 * 221) must find its place free, not held while that reply drains. Idempotent.
 */
static void conn_release_limits(struct conn *c)
{
    if (c->limit_key[0])
        connlimit_release(c->h->connlimit, c->limit_key);
    if (c->ip_key[0])
        connlimit_release(c->h->connlimit, c->ip_key);
    c->limit_key[0] = c->ip_key[0] = '\0';
    conn_logged_in(c);
}

/* Acts on what the engine asked for during the last call: TLS, close, back-pressure. */
static void conn_after(struct conn *c)
{
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
        c->flushing = true;
        conn_release_limits(c);
        bufferevent_disable(c->bev, EV_READ);
        bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
        struct timeval tv = {CLOSE_LINGER_SEC, 0};
        c->linger = evtimer_new(c->h->base, on_linger, c);
        evtimer_add(c->linger, &tv);
        return flush_then_free(c);
    }
    if (c->flushing)
        return;
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) > OUTPUT_HIGH_WATER)
        bufferevent_disable(c->bev, EV_READ); /* on_write re-enables once drained */
}

static void conn_pump(struct conn *c)
{
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
    if (c->flushing)
        return flush_then_free(c);
    if (c->ops->writable && !c->dead) {
        c->ops->writable(c->eng);
        if (c->ops->closing(c->eng))
            return conn_after(c);
    }
    if (evbuffer_get_length(bufferevent_get_output(bev)) < OUTPUT_HIGH_WATER / 2) {
        bufferevent_enable(bev, EV_READ);
        conn_pump(c);
    }
}

static void tls_established(struct conn *c)
{
    SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
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
        c->ops->timeout(c->eng);
        return conn_after(c);
    }
    /* EOF or error: the peer is gone. */
    if ((what & BEV_EVENT_ERROR) && bufferevent_openssl_get_ssl(bev)) {
        unsigned long e = bufferevent_get_openssl_error(bev);
        if (e) {
            char buf[200];
            ERR_error_string_n(e, buf, sizeof buf);
            log_info("%s " LOG_ID " tls error: %s", c->ops->name, LOG_IDV(c->id), buf);
        }
    }
    c->dead = true;
    conn_after(c);
}

static void on_lifetime(evutil_socket_t fd, short what, void *vc)
{
    struct conn *c = vc;
    c->ops->timeout(c->eng);
    conn_after(c);
}

static void conn_free(struct conn *c)
{
    struct conn_host *h = c->h;
    if (c->ops->busy(c->eng)) { /* an async result will come back: free then */
        c->dead = true;
        if (c->bev) {
            bufferevent_free(c->bev);
            c->bev = NULL;
        }
        return;
    }
    log_info("%s " LOG_ID " disconnect from %s", c->ops->name, LOG_IDV(c->id), c->peer);
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
    if (c->prev)
        c->prev->next = c->next;
    else
        h->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    h->nconns--;
    free(c);
    if (h->stopping && h->nconns == 0)
        event_base_loopexit(h->base, NULL);
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

void conn_resume(struct conn *c)
{
    if (c->dead || !c->bev)
        return conn_after(c);
    conn_pump(c);
}

static void peer_text(const struct sockaddr *sa, char *out, size_t cap)
{
    const void *a = sa->sa_family == AF_INET6
                        ? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
                        : (const void *)&((const struct sockaddr_in *)sa)->sin_addr;
    if (!inet_ntop(sa->sa_family, a, out, (socklen_t)cap))
        snprintf(out, cap, "unknown");
    if (strncmp(out, "::ffff:", 7) == 0 && strchr(out, '.'))
        memmove(out, out + 7, strlen(out + 7) + 1);
}

static struct bufferevent *conn_bev_new(struct conn *c, int fd)
{
    if (!c->implicit_tls)
        return bufferevent_socket_new(c->h->base, fd, BEV_OPT_CLOSE_ON_FREE);
    SSL *ssl = SSL_new(c->h->tls);
    struct bufferevent *bev = bufferevent_openssl_socket_new(
        c->h->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
        BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
    if (!bev) {
        SSL_free(ssl);
        close(fd);
    }
    return bev;
}

static struct conn *conn_new(struct conn_host *h, const struct listener *l, int fd,
                             const struct sockaddr *sa)
{
    struct conn *c = xcalloc(1, sizeof *c);
    c->h = h;
    c->ops = l->proto;
    c->implicit_tls = l->implicit_tls;
    c->id = atomic_fetch_add(&h->counters->next_id, 1);
    peer_text(sa, c->peer, sizeof c->peer);
    c->bev = conn_bev_new(c, fd);
    if (!c->bev) {
        free(c);
        return NULL;
    }
    bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
    struct timeval idle = {(time_t)l->limits.idle_timeout, 0};
    bufferevent_set_timeouts(c->bev, &idle, &idle);
    c->next = h->conns;
    if (h->conns)
        h->conns->prev = c;
    h->conns = c;
    h->nconns++;
    atomic_fetch_add(&h->counters->open, 1);
    metric_inc(&accepted);
    metric_inc(&open_now);
    return c;
}

static void on_login_timeout(evutil_socket_t fd, short what, void *vc)
{
    struct conn *c = vc;
    log_info("%s " LOG_ID " no login from %s within %u s", c->ops->name, LOG_IDV(c->id), c->peer,
             c->h->counters->login_timeout);
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
    char akey[INET6_ADDRSTRLEN + 4];
    connlimit_addr_key(c->peer, akey, sizeof akey);
    *why = CONN_REFUSE_TOTAL;
    if (atomic_load(&k->open) > k->max_open)
        return false;
    if (l->limits.login) {
        c->prelogin = true;
        if (atomic_fetch_add(&k->prelogin, 1) >= k->max_prelogin)
            return false;
    }
    *why = CONN_REFUSE_PER_IP;
    char key[sizeof c->limit_key];
    snprintf(key, sizeof key, "*|%s", akey);
    if (!connlimit_acquire(c->h->connlimit, key, all_ip))
        return false;
    memcpy(c->ip_key, key, sizeof c->ip_key);
    snprintf(key, sizeof key, "%s|%s", l->name, akey);
    if (!connlimit_acquire(c->h->connlimit, key, per_ip))
        return false;
    memcpy(c->limit_key, key, sizeof c->limit_key);
    return true;
}

void conn_accept(struct conn_host *h, const struct listener *l, int fd, const struct sockaddr *sa)
{
    struct conn *c = conn_new(h, l, fd, sa);
    if (!c)
        return;
    c->eng = c->ops->create(c, l, c->id, c->peer);
    enum conn_refusal why;
    if (!conn_acquire_limits(c, l, &why)) {
        conn_release_limits(c);
        c->ops->refuse(c->eng, why);
        return conn_after(c);
    }
    if (l->limits.login) {
        struct timeval tv = {(time_t)h->counters->login_timeout, 0};
        c->login = evtimer_new(h->base, on_login_timeout, c);
        evtimer_add(c->login, &tv);
    }
    struct timeval life = {(time_t)l->limits.session_timeout, 0};
    c->lifetime = evtimer_new(h->base, on_lifetime, c);
    evtimer_add(c->lifetime, &life);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    c->ops->start(c->eng);
    if (h->stopping)
        c->ops->shutdown(c->eng);
    conn_after(c);
}

void conn_shutdown_all(struct conn_host *h)
{
    for (struct conn *c = h->conns, *next; c; c = next) {
        next = c->next;
        c->ops->shutdown(c->eng);
        conn_after(c);
    }
}

void conn_close_all(struct conn_host *h)
{
    for (struct conn *c = h->conns, *next; c; c = next) {
        next = c->next;
        /* A result in flight still comes back; conn_free keeps such a connection (without
         * its socket) until then. */
        conn_free(c);
    }
}
