/*
 * proxy service tunnel — CONNECT (RFC 9110 §9.3.6): to port 443 only, to an origin the SSRF
 * rules allow; "200 Connection established", then octets both ways untouched until either
 * side closes. Never cached, never inspected. Back-pressure both ways: a side stops being
 * read while the other's output is over 256 KiB.
 */
#include "proxy/service/service_int.h"

#include "core/xmalloc.h"
#include "host/host.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdlib.h>

#define TUNNEL_HIGH (256 * 1024)

struct tunnel {
    struct pconn *pc;
    struct bufferevent *bev;
    struct resolve_req *resolve;
    bool open;
};

static void end_tunnel(struct tunnel *t)
{
    struct pconn *pc = t->pc;
    proxy_session_close(pc->s);
    conn_resume(pc->c);
}

static void origin_read(struct bufferevent *bev, void *vt)
{
    struct tunnel *t = vt;
    struct evbuffer *in = bufferevent_get_input(bev);
    struct evbuffer_iovec v[4];
    int n = evbuffer_peek(in, -1, NULL, v, 4);
    size_t total = 0;
    for (int i = 0; i < n && i < 4; i++) {
        conn_write(t->pc->c, v[i].iov_base, v[i].iov_len);
        total += v[i].iov_len;
    }
    evbuffer_drain(in, total);
    if (conn_output_pending(t->pc->c) > TUNNEL_HIGH)
        bufferevent_disable(bev, EV_READ); /* proxy_tunnel_writable... via conn's on_write */
}

/* The origin took what the client sent: read the client on. */
static void origin_write(struct bufferevent *bev, void *vt)
{
    struct tunnel *t = vt;
    if (t->open)
        conn_resume(t->pc->c);
}

static void origin_event(struct bufferevent *bev, short what, void *vt)
{
    struct tunnel *t = vt;
    if (what & BEV_EVENT_CONNECTED) {
        t->open = true;
        struct timeval idle = {300, 0};
        bufferevent_set_timeouts(bev, &idle, NULL);
        proxy_session_tunnel(t->pc->s);
        if (!t->pc->in_feed)
            conn_resume(t->pc->c); /* client octets sent early wait in the input */
        return;
    }
    if (!t->open) {
        struct str f = STR_INIT;
        str_appendf(&f, "Via: %s\r\n", t->pc->pw->st->via);
        proxy_session_error(t->pc->s, what & BEV_EVENT_TIMEOUT ? 504 : 502,
                            "The origin could not be reached.", slice_make(str_cstr(&f), f.len));
        str_clear(&f);
        bufferevent_free(t->bev);
        t->bev = NULL;
        conn_resume(t->pc->c);
        return;
    }
    origin_read(bev, vt); /* what is left, then the end */
    end_tunnel(t);
}

static void resolved(void *vt, const struct sockaddr *sa, int len, int status, const char *why)
{
    struct tunnel *t = vt;
    t->resolve = NULL;
    struct pconn *pc = t->pc;
    if (!sa) {
        struct str f = STR_INIT;
        str_appendf(&f, "Via: %s\r\n", pc->pw->st->via);
        proxy_session_error(pc->s, status, why, slice_make(str_cstr(&f), f.len));
        str_clear(&f);
        if (!pc->in_feed)
            conn_resume(pc->c);
        return;
    }
    t->bev = bufferevent_socket_new(pc->pw->w->host.base, -1, BEV_OPT_CLOSE_ON_FREE);
    bufferevent_setcb(t->bev, origin_read, origin_write, origin_event, t);
    struct timeval ct = {(time_t)pc->pw->st->cfg->connect_timeout, 0};
    bufferevent_set_timeouts(t->bev, &ct, &ct);
    bufferevent_enable(t->bev, EV_READ | EV_WRITE);
    if (bufferevent_socket_connect(t->bev, sa, len) != 0)
        origin_event(t->bev, BEV_EVENT_ERROR, t);
}

void proxy_tunnel_start(struct pconn *pc, const struct proxy_url *u)
{
    if (u->port != 443) {
        struct str f = STR_INIT;
        str_appendf(&f, "Via: %s\r\n", pc->pw->st->via);
        proxy_session_error(pc->s, 403, "CONNECT is only allowed to port 443.",
                            slice_make(str_cstr(&f), f.len));
        str_clear(&f);
        return;
    }
    struct tunnel *t = xcalloc(1, sizeof *t);
    t->pc = pc;
    pc->tunnel = t;
    t->resolve = upstream_resolve(pc->pw, u->host, u->port, false, resolved, t);
}

size_t proxy_tunnel_feed(struct pconn *pc, const char *p, size_t n)
{
    struct tunnel *t = pc->tunnel;
    if (!t || !t->bev)
        return n;
    struct evbuffer *out = bufferevent_get_output(t->bev);
    if (evbuffer_get_length(out) > TUNNEL_HIGH)
        return 0; /* the origin is slow: the client's octets wait in its socket */
    bufferevent_write(t->bev, p, n);
    return n;
}

void proxy_tunnel_writable(struct pconn *pc)
{
    if (pc->tunnel && pc->tunnel->bev && conn_output_pending(pc->c) < TUNNEL_HIGH / 2)
        bufferevent_enable(pc->tunnel->bev, EV_READ);
}

void proxy_tunnel_free(struct pconn *pc)
{
    struct tunnel *t = pc->tunnel;
    if (!t)
        return;
    upstream_resolve_cancel(t->resolve);
    if (t->bev)
        bufferevent_free(t->bev);
    free(t);
    pc->tunnel = NULL;
}
