/* control — DATA/pigeond.ctl: one request per connection, answered when the reload is done. */
#include "host/control.h"
#include "host/control_proto.h"

#include "core/log.h"
#include "core/str.h"
#include "core/unixsock.h"
#include "core/xmalloc.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define CONTROL_REQUEST_TIMEOUT 10 /* seconds for the request line */

struct ctl_client {
    struct control *c;
    struct bufferevent *bev; /* NULL once the client went away */
    struct ctl_client *next, *prev;
    bool waiting; /* a reload report is in flight and points here */
};

struct control {
    struct evconnlistener *lev;
    struct loop_post *post;
    char *dir;
    control_reload_fn reload;
    control_service_fn service;
    void *ctx;
    struct ctl_client *clients;
};

static void client_free(struct ctl_client *cl)
{
    if (cl->bev)
        bufferevent_free(cl->bev);
    if (cl->prev)
        cl->prev->next = cl->next;
    else
        cl->c->clients = cl->next;
    if (cl->next)
        cl->next->prev = cl->prev;
    free(cl);
}

static void on_event(struct bufferevent *bev, short what, void *vcl);

/* The answer has left: end our side and wait for the client's end (on_event frees it then),
 * because closing with its input unread would reset the connection under the answer. */
static void on_drained(struct bufferevent *bev, void *vcl)
{
    if (evbuffer_get_length(bufferevent_get_output(bev)) != 0)
        return;
    bufferevent_disable(bev, EV_WRITE);
    shutdown(bufferevent_getfd(bev), SHUT_WR);
    struct timeval tv = {CONTROL_REQUEST_TIMEOUT, 0};
    bufferevent_set_timeouts(bev, &tv, NULL);
}

/* After the request: what else the client sends is read and dropped. */
static void on_discard(struct bufferevent *bev, void *vcl)
{
    struct evbuffer *in = bufferevent_get_input(bev);
    evbuffer_drain(in, evbuffer_get_length(in));
}

/* The answer is written; the connection ends once it has left the buffer. */
static void client_answer(struct ctl_client *cl, const char *text)
{
    bufferevent_write(cl->bev, text, strlen(text));
    bufferevent_setcb(cl->bev, on_discard, on_drained, on_event, cl);
    on_discard(cl->bev, cl);
    bufferevent_enable(cl->bev, EV_READ | EV_WRITE);
}

static void on_report(void *vcl, struct reload_report *r)
{
    struct ctl_client *cl = vcl;
    cl->waiting = false;
    if (!cl->bev) { /* the client did not wait for the answer */
        reload_report_free(r);
        client_free(cl);
        return;
    }
    struct str out = STR_INIT;
    control_answer_format(&out, r);
    size_t errors = reload_report_errors(r);
    log_info("control: reload answered: %s", errors ? "failed" : "ok");
    reload_report_free(r);
    client_answer(cl, str_cstr(&out));
    str_clear(&out);
}

static void client_reload(struct ctl_client *cl)
{
    bufferevent_setcb(cl->bev, on_discard, NULL, on_event, cl);
    bufferevent_set_timeouts(cl->bev, NULL, NULL);
    cl->waiting = true;
    struct reload_report *r = reload_report_new(cl->c->post, on_report, cl);
    cl->c->reload(cl->c->ctx, r);
    reload_report_release(r);
}

/* A service's request, answered at once. */
static void client_service(struct ctl_client *cl, const char *line)
{
    struct str out = STR_INIT;
    int failed = cl->c->service(cl->c->ctx, line, &out);
    if (failed < 0) {
        str_reset(&out);
        str_appends(&out, CONTROL_ANSWER_UNKNOWN);
    } else if (failed > 0) {
        str_appendf(&out, "failed %d\n", failed);
    } else {
        str_appends(&out, "ok\n");
    }
    log_info("control: %.40s answered: %s", line, failed ? "failed" : "ok");
    client_answer(cl, str_cstr(&out));
    str_clear(&out);
}

static void on_read(struct bufferevent *bev, void *vcl)
{
    struct ctl_client *cl = vcl;
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t len = evbuffer_get_length(in);
    const char *buf = (const char *)evbuffer_pullup(in, -1);
    enum control_request req;
    const char *answer;
    int rc = control_request_parse(buf, len, &req, &answer);
    if (rc == 0)
        return;
    if (rc < 0) {
        client_answer(cl, answer);
        return;
    }
    if (req == CONTROL_SERVICE) {
        char *line = xstrndup(buf, (size_t)rc - 1);
        evbuffer_drain(in, (size_t)rc);
        client_service(cl, line);
        free(line);
        return;
    }
    evbuffer_drain(in, (size_t)rc);
    client_reload(cl);
}

static void on_event(struct bufferevent *bev, short what, void *vcl)
{
    struct ctl_client *cl = vcl;
    bufferevent_free(cl->bev);
    cl->bev = NULL;
    if (!cl->waiting)
        client_free(cl); /* else on_report frees it */
}

static void on_accept(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
                      int len, void *vc)
{
    struct control *c = vc;
    struct ctl_client *cl = xcalloc(1, sizeof *cl);
    cl->c = c;
    cl->bev = bufferevent_socket_new(evconnlistener_get_base(lev), fd, BEV_OPT_CLOSE_ON_FREE);
    cl->next = c->clients;
    if (c->clients)
        c->clients->prev = cl;
    c->clients = cl;
    bufferevent_setcb(cl->bev, on_read, NULL, on_event, cl);
    struct timeval tv = {CONTROL_REQUEST_TIMEOUT, 0};
    bufferevent_set_timeouts(cl->bev, &tv, &tv);
    bufferevent_enable(cl->bev, EV_READ | EV_WRITE);
}

struct control *control_open(struct event_base *base, struct loop_post *post,
                             const char *data_dir, control_reload_fn reload,
                             control_service_fn service, void *ctx)
{
    struct str err = STR_INIT;
    int fd = unixsock_listen(data_dir, PIGEOND_CONTROL_SOCKET, &err);
    if (fd < 0) {
        log_err("control socket: %s (`pigeon reload` cannot get answers; SIGHUP still works)",
                str_cstr(&err));
        str_clear(&err);
        return NULL;
    }
    struct control *c = xcalloc(1, sizeof *c);
    c->post = post;
    c->dir = xstrdup(data_dir);
    c->reload = reload;
    c->service = service;
    c->ctx = ctx;
    c->lev = evconnlistener_new(base, on_accept, c, LEV_OPT_CLOSE_ON_FREE, -1, fd);
    return c;
}

void control_free(struct control *c)
{
    if (!c)
        return;
    while (c->clients)
        client_free(c->clients);
    evconnlistener_free(c->lev);
    unixsock_remove(c->dir, PIGEOND_CONTROL_SOCKET);
    free(c->dir);
    free(c);
}
