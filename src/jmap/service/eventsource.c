/*
 * jmap service, event source — GET /jmap/eventsource/?types=&closeafter=&ping= (RFC 8620
 * §7.3): a text/event-stream response on the HTTP service's streamed bodies. The body is a
 * push listener (push.c) that answers HTTP_BODY_WAIT until it has an event; a state event
 * or a ping is queued and the transport woken (http_body_set_wake) to pull it. It has no
 * end of its own (open_ended): a shutdown ends it.
 */
#include "jmap/service/service_int.h"

#include "core/xmalloc.h"
#include "host/host.h"
#include "http/handler.h"
#include "net/conn.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct event_source {
    struct jmap_push *push;
    struct conn *conn;
    char account[32];
    struct jmap_push_params params;
    struct str out;     /* events not yet pulled by the transport */
    size_t out_pos;
    bool ended;         /* closeafter=state: the event is out, the body ends */
    bool waiting;       /* the last read said HTTP_BODY_WAIT: wake the transport */
    void (*wake)(void *wake_arg);
    void *wake_arg;
    struct event *ping;
};

static ssize_t es_read(void *arg, char *buf, size_t cap)
{
    struct event_source *es = arg;
    size_t left = es->out.len - es->out_pos;
    if (left) {
        size_t n = left < cap ? left : cap;
        memcpy(buf, es->out.ptr + es->out_pos, n);
        es->out_pos += n;
        if (es->out_pos == es->out.len) {
            str_reset(&es->out);
            es->out_pos = 0;
        }
        return (ssize_t)n;
    }
    if (es->ended)
        return 0;
    es->waiting = true;
    return HTTP_BODY_WAIT;
}

static void es_set_wake(void *arg, void (*wake)(void *wake_arg), void *wake_arg)
{
    struct event_source *es = arg;
    es->wake = wake;
    es->wake_arg = wake_arg;
}

/* More to pull (or the end): wakes the transport if it waits. May free es. */
static void es_wake(struct event_source *es)
{
    if (!es->waiting || !es->wake)
        return;
    es->waiting = false;
    es->wake(es->wake_arg);
}

static void es_free(void *arg)
{
    struct event_source *es = arg;
    if (es->push)
        jmap_push_remove(es->push);
    if (es->ping)
        event_free(es->ping);
    str_clear(&es->out);
    free(es);
}

static void ping_again(struct event_source *es)
{
    struct timeval tv = {(time_t)es->params.ping, 0};
    evtimer_add(es->ping, &tv); /* counted from the last event sent */
}

static void es_moved(void *arg, const char *old_state, const char *new_state)
{
    struct event_source *es = arg;
    struct str change = STR_INIT;
    if (es->ended || !jmap_push_state_change(es->account, es->params.types, old_state,
                                             new_state, NULL, &change)) {
        str_clear(&change);
        return;
    }
    jmap_push_sse_event(&es->out, "state", str_cstr(&change));
    str_clear(&change);
    if (es->params.close_after) {
        es->ended = true;
        jmap_push_remove(es->push); /* no more state reads for it */
        es->push = NULL;
    }
    if (es->ping && !es->ended)
        ping_again(es);
    es_wake(es); /* may free es */
}

static const struct jmap_push_sink es_sink = {es_moved};

static void on_ping(evutil_socket_t fd, short what, void *arg)
{
    struct event_source *es = arg;
    if (es->ended)
        return;
    jmap_push_sse_ping(&es->out, es->params.ping);
    ping_again(es);
    es_wake(es); /* may free es */
}

void jmap_eventsource_start(struct http_exchange *x, const struct jmap_push_start_args *a)
{
    struct worker *w = conn_worker(x->conn);
    struct event_source *es = xcalloc(1, sizeof *es);
    es->push = jmap_push_add(w, a->user, a->user_id, a->state, &es_sink, es);
    if (!es->push) {
        free(es);
        return http_exchange_error(x, 503, "Too many push connections: try later.");
    }
    es->conn = x->conn;
    snprintf(es->account, sizeof es->account, "%s", a->account);
    es->params = a->params;
    /* A comment first: the client knows the stream is open (and its baseline taken). */
    str_appends(&es->out, ": pigeon event source\n\n");
    if (es->params.ping) {
        es->ping = evtimer_new(w->host.base, on_ping, es);
        ping_again(es);
    }
    struct http_response r;
    http_response_init(&r, 200);
    http_response_header(&r, "Content-Type", "text/event-stream; charset=utf-8");
    http_response_header(&r, "Cache-Control", "no-store");
    http_response_header(&r, "X-Content-Type-Options", "nosniff");
    http_response_stream_waiting(&r, (struct http_body_source){es_read, es_free, es},
                                 es_set_wake);
    r.open_ended = true;
    http_exchange_respond(x, &r);
}
