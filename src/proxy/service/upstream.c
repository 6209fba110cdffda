/*
 * proxy service upstream — one request to an origin server: a connection (a reused idle one
 * to the same scheme://host:port, or a new one: resolve, SSRF check, connect, TLS with
 * certificate and host name verification for https), the request written, the response head
 * parsed (http/response_parse.h, interim 1xx skipped) and the body decoded and handed on as
 * it arrives. A request that is idempotent and failed before any response octet (a reused
 * connection the origin had closed, a refused connect) is tried again on a new connection.
 * After a complete response on a keep-alive connection, the connection waits in the
 * worker's idle list.
 */
#include "proxy/service/service_int.h"

#include "core/log.h"
#include "core/xmalloc.h"
#include "host/host.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define MAX_IDLE 32
#define RESP_HEAD_MAX (64 * 1024)

enum up_state { UP_RESOLVING, UP_CONNECTING, UP_HEAD, UP_BODY, UP_IDLE, UP_DONE };

struct upstream {
    struct proxy_worker *pw;
    char key[300]; /* "s|host|port": what an idle connection can be reused for */
    struct proxy_url url;
    enum up_state state;
    struct bufferevent *bev;
    struct resolve_req *resolve;
    /* the request, kept for a retry */
    struct str req;
    struct str body;
    enum http_method method;
    bool idempotent;
    unsigned tries;
    bool reused, got_bytes, paused;
    /* the response */
    struct str head_buf;
    size_t scanned;
    struct http_resp_head head;
    struct http_body_reader reader;
    struct str chunk;
    const struct upstream_ops *ops;
    void *arg;
    struct upstream *next; /* idle list */
};

static void start(struct upstream *up);

static void up_free(struct upstream *up)
{
    upstream_resolve_cancel(up->resolve);
    if (up->bev)
        bufferevent_free(up->bev);
    str_clear(&up->req);
    str_clear(&up->body);
    str_clear(&up->head_buf);
    str_clear(&up->chunk);
    free(up);
}

/* The end of a request: the callbacks are told once, then the upstream is kept or freed. */
static void finish(struct upstream *up, bool ok, int status, const char *why)
{
    const struct upstream_ops *ops = up->ops;
    void *arg = up->arg;
    up->ops = NULL;
    bool keep = ok && up->head.keep_alive && up->bev && up->pw->nidle < MAX_IDLE &&
                evbuffer_get_length(bufferevent_get_input(up->bev)) == 0;
    if (keep) {
        up->state = UP_IDLE;
        str_reset(&up->head_buf);
        up->next = up->pw->idle;
        up->pw->idle = up;
        up->pw->nidle++;
        bufferevent_enable(up->bev, EV_READ);
        struct timeval tv = {30, 0}; /* an idle origin connection lives 30 s */
        bufferevent_set_timeouts(up->bev, &tv, NULL);
    } else {
        up->state = UP_DONE;
    }
    if (ops)
        ops->done(arg, ok, status, why);
    if (!keep)
        up_free(up);
}

static void idle_remove(struct upstream *up)
{
    struct upstream **pp = &up->pw->idle;
    while (*pp && *pp != up)
        pp = &(*pp)->next;
    if (*pp) {
        *pp = up->next;
        up->pw->nidle--;
    }
    up->next = NULL;
}

/* A failure before any response octet: a new connection when the request may be repeated. */
static void failed(struct upstream *up, int status, const char *why)
{
    if (!up->got_bytes && up->idempotent && (up->reused || up->tries <= up->pw->st->cfg->retries) &&
        up->ops) {
        if (up->bev)
            bufferevent_free(up->bev);
        up->bev = NULL;
        up->reused = false;
        str_reset(&up->head_buf);
        up->scanned = 0;
        start(up);
        return;
    }
    finish(up, false, status, why);
}

static int read_head(struct upstream *up, struct evbuffer *in)
{
    for (;;) {
        size_t n = evbuffer_get_length(in);
        if (n == 0)
            return 0;
        size_t before = up->head_buf.len;
        size_t take = n < RESP_HEAD_MAX ? n : RESP_HEAD_MAX;
        str_reserve(&up->head_buf, take);
        evbuffer_copyout(in, up->head_buf.ptr + before, take);
        up->head_buf.len += take;
        up->head_buf.ptr[up->head_buf.len] = '\0';
        const struct http_limits lim = {RESP_HEAD_MAX, RESP_HEAD_MAX, 0};
        long len = http_head_find(up->head_buf.ptr, up->head_buf.len, &up->scanned, &lim);
        if (len < 0) {
            finish(up, false, 502, "the origin's response head is malformed");
            return -1;
        }
        if (len == 0) {
            evbuffer_drain(in, take);
            return 0;
        }
        evbuffer_drain(in, (size_t)len - before);
        const char *why;
        if (http_resp_parse(up->head_buf.ptr, (size_t)len, up->method, &up->head, &why) != 0) {
            log_info("proxy: origin %s: %s", up->url.host, why);
            finish(up, false, 502, "the origin's response is malformed");
            return -1;
        }
        if (up->head.status >= 100 && up->head.status < 200) { /* interim: skip */
            str_reset(&up->head_buf);
            up->scanned = 0;
            continue;
        }
        up->state = UP_BODY;
        http_body_reader_init(&up->reader, &up->head);
        up->ops->head(up->arg, &up->head);
        return up->ops ? 1 : -1;
    }
}

static void read_body(struct upstream *up, struct evbuffer *in, bool eof)
{
    while (up->ops && !up->paused) {
        struct evbuffer_iovec v;
        size_t n = evbuffer_peek(in, -1, NULL, &v, 1) >= 1 ? v.iov_len : 0;
        if (n == 0 && !eof && up->reader.framing != HTTP_FRAME_NONE)
            return;
        str_reset(&up->chunk);
        size_t used = 0;
        int rc = http_body_reader_feed(&up->reader, n ? v.iov_base : "", n, eof && n == 0,
                                       &up->chunk, &used);
        evbuffer_drain(in, used);
        if (up->chunk.len)
            up->ops->body(up->arg, up->chunk.ptr, up->chunk.len);
        if (!up->ops)
            return;
        if (rc == 1)
            return finish(up, true, up->head.status, NULL);
        if (rc < 0)
            return finish(up, false, 502, "the origin's body framing is broken");
        if (used == 0 && n == 0)
            return;
    }
}

static void on_read(struct bufferevent *bev, void *vu)
{
    struct upstream *up = vu;
    struct evbuffer *in = bufferevent_get_input(bev);
    if (up->state == UP_IDLE) { /* an idle origin must not talk: drop the connection */
        idle_remove(up);
        return up_free(up);
    }
    if (evbuffer_get_length(in))
        up->got_bytes = true;
    if (up->state == UP_HEAD && read_head(up, in) <= 0)
        return;
    if (up->state == UP_BODY)
        read_body(up, in, false);
}

static void on_event(struct bufferevent *bev, short what, void *vu)
{
    struct upstream *up = vu;
    if (up->state == UP_IDLE) {
        idle_remove(up);
        return up_free(up);
    }
    if (what & BEV_EVENT_CONNECTED) {
        up->state = UP_HEAD;
        return;
    }
    if (what & BEV_EVENT_TIMEOUT)
        return finish(up, false, 504, "the origin did not answer in time");
    if ((what & BEV_EVENT_ERROR) && up->url.https) {
        unsigned long e = bufferevent_get_openssl_error(bev);
        if (e) {
            char buf[200];
            ERR_error_string_n(e, buf, sizeof buf);
            log_info("proxy: origin %s: TLS: %s", up->url.host, buf);
            return finish(up, false, 502, "the origin's certificate could not be verified");
        }
    }
    if (up->state == UP_BODY) { /* EOF: the end of a close-delimited body, or a cut */
        read_body(up, bufferevent_get_input(bev), true);
        return;
    }
    if (up->state == UP_HEAD && evbuffer_get_length(bufferevent_get_input(bev)) == 0 &&
        !up->got_bytes)
        return failed(up, 502, "the origin closed the connection without answering");
    finish(up, false, 502, "the origin closed the connection");
}

static void send_request(struct upstream *up)
{
    struct timeval rt = {(time_t)up->pw->st->cfg->read_timeout, 0};
    bufferevent_set_timeouts(up->bev, &rt, &rt);
    bufferevent_setcb(up->bev, on_read, NULL, on_event, up);
    bufferevent_write(up->bev, up->req.ptr, up->req.len);
    if (up->body.len)
        bufferevent_write(up->bev, up->body.ptr, up->body.len);
    bufferevent_enable(up->bev, EV_READ | EV_WRITE);
}

static SSL *new_ssl(struct upstream *up)
{
    SSL *ssl = SSL_new(up->pw->st->client_tls);
    if (!ssl)
        return NULL;
    struct in6_addr tmp;
    bool literal =
        inet_pton(AF_INET, up->url.host, &tmp) == 1 || inet_pton(AF_INET6, up->url.host, &tmp) == 1;
    X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
    if (literal) {
        X509_VERIFY_PARAM_set1_ip_asc(vp, up->url.host);
    } else {
        SSL_set_tlsext_host_name(ssl, up->url.host);
        SSL_set1_host(ssl, up->url.host);
    }
    SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
    return ssl;
}

static void on_resolved(void *vu, const struct sockaddr *sa, int len, int status, const char *why)
{
    struct upstream *up = vu;
    up->resolve = NULL;
    if (!sa)
        return finish(up, false, status, why);
    up->tries++;
    struct event_base *base = up->pw->w->host.base;
    struct bufferevent *plain = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!plain)
        return finish(up, false, 502, "no socket for the origin");
    if (up->url.https) {
        SSL *ssl = new_ssl(up);
        struct bufferevent *tls =
            ssl ? bufferevent_openssl_filter_new(base, plain, ssl, BUFFEREVENT_SSL_CONNECTING,
                                                 BEV_OPT_CLOSE_ON_FREE)
                : NULL;
        if (!tls) {
            if (ssl)
                SSL_free(ssl);
            bufferevent_free(plain);
            return finish(up, false, 502, "TLS towards the origin failed");
        }
        up->bev = tls;
    } else {
        up->bev = plain;
    }
    up->state = UP_CONNECTING;
    struct timeval ct = {(time_t)up->pw->st->cfg->connect_timeout, 0};
    bufferevent_set_timeouts(plain, &ct, &ct);
    send_request(up); /* written once connected (and after the handshake) */
    bufferevent_set_timeouts(up->bev, &ct, &ct);
    if (bufferevent_socket_connect(plain, sa, len) != 0)
        return failed(up, 502, "the origin refused the connection");
    if (!up->url.https)
        up->state = UP_HEAD;
}

/* Takes an idle connection to the same origin, if one is left. */
static bool reuse(struct upstream *up)
{
    for (struct upstream **pp = &up->pw->idle; *pp; pp = &(*pp)->next) {
        struct upstream *idle = *pp;
        if (strcmp(idle->key, up->key) != 0)
            continue;
        *pp = idle->next;
        up->pw->nidle--;
        up->bev = idle->bev;
        idle->bev = NULL;
        up_free(idle);
        up->reused = true;
        up->state = UP_HEAD;
        send_request(up);
        return true;
    }
    return false;
}

static void start(struct upstream *up)
{
    up->got_bytes = false;
    memset(&up->head, 0, sizeof up->head);
    if (reuse(up))
        return;
    up->state = UP_RESOLVING;
    up->resolve =
        upstream_resolve(up->pw, up->url.host, up->url.port, up->url.configured, on_resolved, up);
}

void upstream_request(struct proxy_worker *pw, const struct proxy_url *u, enum http_method method,
                      bool idempotent, struct str *head, const char *body, size_t body_len,
                      const struct upstream_ops *ops, void *arg, struct upstream **handle_out)
{
    struct upstream *up = xcalloc(1, sizeof *up);
    up->pw = pw;
    up->url = *u;
    up->url.path_query = slice_make("/", 1); /* not needed after the head is built */
    snprintf(up->key, sizeof up->key, "%c|%s|%u", u->https ? 's' : 'p', u->host, (unsigned)u->port);
    up->method = method;
    up->idempotent = idempotent;
    up->req = *head;
    *head = (struct str)STR_INIT;
    if (body_len)
        str_append(&up->body, body, body_len);
    up->ops = ops;
    up->arg = arg;
    *handle_out = up; /* before start: ops->done (maybe at once) clears it */
    start(up);
}

void upstream_pause(struct upstream *up, bool pause)
{
    if (!up || !up->bev || up->paused == pause)
        return;
    up->paused = pause;
    if (pause) {
        bufferevent_disable(up->bev, EV_READ);
        return;
    }
    bufferevent_enable(up->bev, EV_READ);
    if (up->state == UP_BODY)
        read_body(up, bufferevent_get_input(up->bev), false);
}

void upstream_cancel(struct upstream *up)
{
    if (!up)
        return;
    up->ops = NULL;
    up_free(up);
}

void upstream_idle_free_all(struct proxy_worker *pw)
{
    while (pw->idle) {
        struct upstream *up = pw->idle;
        pw->idle = up->next;
        up_free(up);
    }
    pw->nidle = 0;
}
