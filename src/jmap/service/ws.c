/*
 * jmap service, WebSocket — JMAP over WebSocket (RFC 8887) at /jmap/ws/: the handshake
 * (RFC 6455 §4.2, subprotocol "jmap"), then on the taken-over connection:
 *
 *   {"@type":"Request","id":...,"using":...,"methodCalls":...}
 *        → the API on the store pool → {"@type":"Response","requestId":...,...} or a
 *          RequestError (problem details with "@type" and "requestId")
 *   {"@type":"WebSocketPushEnable","dataTypes":[...]|null,"pushState":...}
 *        → StateChange objects with "pushState" whenever the account's state moves (push.c);
 *          a pushState other than the state now gets one at once
 *   {"@type":"WebSocketPushDisable"}
 *
 * Responses may come back out of order (each request runs on its own pool job), as §4.3.4
 * allows. Control frames are answered (ping → pong, close → close); an idle connection is
 * pinged at the listener's idle timeout and closed at the next one without input. The
 * connection's struct stays until it is gone and no request of it is on the pool.
 */
#include "jmap/service/service_int.h"
#include "jmap/service/service.h"

#include "core/log.h"
#include "core/loop_post.h"
#include "core/pool.h"
#include "core/xmalloc.h"
#include "host/host.h"
#include "http/handler.h"
#include "jmap/ws.h"
#include "net/conn.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct wsc {
    struct jmap_service *svc;
    struct conn *conn;
    struct worker *w;
    char user[256];
    char account[32];
    int64_t user_id;
    struct str state;         /* the state at the handshake: the baseline without pushState */
    struct jmap_ws_reader rd;
    struct jmap_push *push;   /* push enabled: the listener */
    unsigned push_types;
    unsigned inflight;        /* requests on the pool */
    bool gone;                /* the connection is gone: free when inflight is 0 */
    bool closing;             /* a close frame went out: close once it has */
    bool pinged;              /* idle: a ping went out, no input since */
};

struct ws_job {
    struct wsc *ws;
    char *body;
    size_t len;
    json_t *request_id;       /* the Request's "id", or NULL */
    struct jmap_api_result api;
    struct str frame;         /* the answer, framed */
};

static void ws_send(struct wsc *ws, const char *text, size_t n)
{
    struct str f = STR_INIT;
    jmap_ws_frame(&f, JMAP_WS_TEXT, text, n);
    conn_write(ws->conn, f.ptr, f.len);
    str_clear(&f);
}

static void ws_close(struct wsc *ws, unsigned code, const char *reason)
{
    if (ws->closing)
        return;
    struct str f = STR_INIT;
    jmap_ws_close_frame(&f, code, reason);
    conn_write(ws->conn, f.ptr, f.len);
    str_clear(&f);
    ws->closing = true;
}

static void ws_free_now(struct wsc *ws)
{
    if (ws->push)
        jmap_push_remove(ws->push);
    jmap_ws_reader_clear(&ws->rd);
    str_clear(&ws->state);
    free(ws);
}

/* A RequestError (RFC 8887 §4.3.2) as text. */
static char *request_error(json_t *id, const char *type, const char *detail)
{
    json_t *o = json_pack("{s:s, s:s, s:i, s:s}", "@type", "RequestError", "type", type, "status",
                          400, "detail", detail);
    if (id)
        json_object_set(o, "requestId", id);
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

/* ---- requests, on the pool ---- */

static void job_done(void *vj)
{
    struct ws_job *j = vj;
    struct wsc *ws = j->ws;
    ws->inflight--;
    if (ws->gone) {
        if (ws->inflight == 0)
            ws_free_now(ws);
    } else {
        jmap_api_finish(ws->w, &j->api);
        if (!ws->closing)
            conn_write(ws->conn, j->frame.ptr, j->frame.len);
        conn_resume(ws->conn); /* may free the connection (and ws, not in flight now) */
    }
    str_clear(&j->api.out);
    str_clear(&j->frame);
    json_decref(j->request_id);
    free(j->body);
    free(j);
}

/* The engine's answer with the RFC 8887 members added. */
static void frame_answer(struct ws_job *j)
{
    json_t *o = json_loadb(j->api.out.ptr ? j->api.out.ptr : "", j->api.out.len, 0, NULL);
    char *text;
    if (!json_is_object(o)) {
        text = request_error(j->request_id, "about:blank", "The request could not be answered.");
    } else {
        json_object_set_new(o, "@type",
                            json_string(j->api.status == 200 ? "Response" : "RequestError"));
        if (j->request_id)
            json_object_set(o, "requestId", j->request_id);
        text = json_dumps(o, JSON_COMPACT);
    }
    json_decref(o);
    jmap_ws_frame(&j->frame, JMAP_WS_TEXT, text, strlen(text));
    free(text);
}

static void job_run(void *tctx, void *vj)
{
    struct ws_job *j = vj;
    struct store *st = tctx;
    struct wsc *ws = j->ws;
    if (st) {
        jmap_api_run(ws->svc, st, ws->user, ws->account, j->body, j->len, &j->api);
        frame_answer(j);
    } else {
        char *text = request_error(j->request_id, "about:blank", "The store is not available.");
        jmap_ws_frame(&j->frame, JMAP_WS_TEXT, text, strlen(text));
        free(text);
    }
    loop_post_send(ws->w->host.post, job_done, j);
}

/* A Request without its RFC 8887 members, as the engine takes it. */
static void request(struct wsc *ws, json_t *o)
{
    json_t *id = json_object_get(o, "id");
    if (id && !json_is_string(id)) {
        char *t = request_error(NULL, "urn:ietf:params:jmap:error:notRequest",
                                "The request's id must be a string.");
        ws_send(ws, t, strlen(t));
        return free(t);
    }
    if (ws->inflight >= ws->svc->cur->max_concurrent_requests) {
        char *t = request_error(id, "urn:ietf:params:jmap:error:limit",
                                "Too many requests at once (maxConcurrentRequests).");
        ws_send(ws, t, strlen(t));
        return free(t);
    }
    struct ws_job *j = xcalloc(1, sizeof *j);
    j->ws = ws;
    j->request_id = id ? json_incref(id) : NULL;
    json_object_del(o, "@type");
    json_object_del(o, "id");
    j->body = json_dumps(o, JSON_COMPACT);
    j->len = strlen(j->body);
    ws->inflight++;
    pool_submit(ws->svc->pool, job_run, j);
}

/* ---- push ---- */

static void ws_moved(void *arg, const char *old_state, const char *new_state)
{
    struct wsc *ws = arg;
    struct str change = STR_INIT;
    if (!ws->closing && jmap_push_state_change(ws->account, ws->push_types, old_state,
                                               new_state, new_state, &change))
        ws_send(ws, change.ptr, change.len);
    str_clear(&change);
}

static const struct jmap_push_sink ws_sink = {ws_moved};

static void push_enable(struct wsc *ws, json_t *o)
{
    json_t *types = json_object_get(o, "dataTypes");
    json_t *ps = json_object_get(o, "pushState");
    ws->push_types = json_is_array(types) ? 0 : JMAP_PUSH_ALL;
    size_t i;
    json_t *t;
    json_array_foreach(types, i, t)
        if (json_is_string(t))
            ws->push_types |= jmap_push_type(json_string_value(t), json_string_length(t));
    const char *base = json_is_string(ps) ? json_string_value(ps) : str_cstr(&ws->state);
    if (!ws->push)
        ws->push = jmap_push_add(ws->w, ws->user, ws->user_id, base, &ws_sink, ws);
    else
        jmap_push_set_state(ws->push, base);
    if (!ws->push)
        return ws_close(ws, 1013, "Too many push connections: try later.");
    jmap_push_check(ws->push); /* a stale pushState hears of the change at once */
}

static void message(struct wsc *ws, const char *p, size_t n)
{
    json_error_t err;
    json_t *o = json_loadb(p, n, 0, &err);
    const char *type = json_string_value(json_object_get(o, "@type"));
    if (!json_is_object(o) || !type) {
        char *t = request_error(NULL, json_is_object(o) ? "urn:ietf:params:jmap:error:notRequest"
                                                        : "urn:ietf:params:jmap:error:notJSON",
                                "Send a Request, WebSocketPushEnable or WebSocketPushDisable.");
        ws_send(ws, t, strlen(t));
        free(t);
    } else if (strcmp(type, "Request") == 0) {
        request(ws, o);
    } else if (strcmp(type, "WebSocketPushEnable") == 0) {
        push_enable(ws, o);
    } else if (strcmp(type, "WebSocketPushDisable") == 0) {
        if (ws->push)
            jmap_push_remove(ws->push);
        ws->push = NULL;
    } else {
        char *t = request_error(json_object_get(o, "id"), "urn:ietf:params:jmap:error:notRequest",
                                "Unknown @type.");
        ws_send(ws, t, strlen(t));
        free(t);
    }
    json_decref(o);
}

/* ---- the taken-over connection ---- */

static size_t ws_feed(void *arg, const char *p, size_t n)
{
    struct wsc *ws = arg;
    ws->pinged = false;
    if (ws->closing)
        return n;
    jmap_ws_feed(&ws->rd, p, n);
    struct jmap_ws_event ev;
    int rc;
    while (!ws->closing && (rc = jmap_ws_next(&ws->rd, &ev)) != 0) {
        if (rc < 0) {
            ws_close(ws, (unsigned)-rc, rc == -JMAP_WS_TOO_BIG ? "Message too big."
                                                               : "Protocol error.");
        } else if (ev.op == JMAP_WS_TEXT) {
            message(ws, ev.data, ev.len);
        } else if (ev.op == JMAP_WS_BINARY) {
            ws_close(ws, 1003, "JMAP messages are text.");
        } else if (ev.op == JMAP_WS_PING) {
            struct str f = STR_INIT;
            jmap_ws_frame(&f, JMAP_WS_PONG, ev.data, ev.len);
            conn_write(ws->conn, f.ptr, f.len);
            str_clear(&f);
        } else if (ev.op == JMAP_WS_CLOSE) {
            ws_close(ws, ev.close_code == 1005 ? 1000 : ev.close_code, "");
        }
    }
    return n;
}

static bool ws_closing(void *arg)
{
    return ((struct wsc *)arg)->closing;
}

static void ws_writable(void *arg)
{
}

static void ws_timeout(void *arg)
{
    struct wsc *ws = arg;
    if (ws->pinged)
        return ws_close(ws, 1001, "Idle.");
    struct str f = STR_INIT;
    jmap_ws_frame(&f, JMAP_WS_PING, "", 0);
    conn_write(ws->conn, f.ptr, f.len);
    str_clear(&f);
    ws->pinged = true;
}

static void ws_shutdown(void *arg)
{
    ws_close(arg, 1001, "The server is stopping.");
}

static void ws_conn_free(void *arg)
{
    struct wsc *ws = arg;
    if (ws->push)
        jmap_push_remove(ws->push);
    ws->push = NULL;
    ws->gone = true;
    if (ws->inflight == 0)
        ws_free_now(ws);
}

/* ---- the handshake ---- */

static bool header_has(const struct http_request *q, const char *name, const char *token)
{
    const struct slice *v = http_request_header(q, name);
    return v && http_list_has(*v, token);
}

bool jmap_ws_handshake_ok(struct http_exchange *x)
{
    const struct http_request *q = x->req;
    const struct slice *key = http_request_header(q, "Sec-WebSocket-Key");
    const struct slice *ver = http_request_header(q, "Sec-WebSocket-Version");
    char accept[29];
    if (!x->takeover) {
        http_exchange_error(x, 400, "JMAP over WebSocket is served over HTTP/1.1.");
        return false;
    }
    if (!header_has(q, "Upgrade", "websocket") || !header_has(q, "Connection", "upgrade")) {
        http_exchange_error(x, 400, "This is the WebSocket endpoint: send Upgrade: websocket.");
        return false;
    }
    if (!ver || !slice_eq(*ver, "13")) {
        struct http_response r;
        http_response_init(&r, 426);
        http_response_error(&r, 426, "WebSocket version 13 (RFC 6455) only.");
        http_response_header(&r, "Sec-WebSocket-Version", "13");
        http_exchange_respond(x, &r);
        return false;
    }
    if (!key || !jmap_ws_accept(key->p, key->len, accept)) {
        http_exchange_error(x, 400, "The Sec-WebSocket-Key is not 16 octets in base64.");
        return false;
    }
    if (!header_has(q, "Sec-WebSocket-Protocol", "jmap")) {
        http_exchange_error(x, 400, "Ask for the \"jmap\" subprotocol (RFC 8887 §4.2).");
        return false;
    }
    return true;
}

void jmap_ws_start(struct http_exchange *x, const struct jmap_push_start_args *a)
{
    const struct slice *key = http_request_header(x->req, "Sec-WebSocket-Key");
    char accept[29];
    if (!key || !jmap_ws_accept(key->p, key->len, accept))
        return http_exchange_error(x, 400, "The Sec-WebSocket-Key is not 16 octets in base64.");
    struct wsc *ws = xcalloc(1, sizeof *ws);
    ws->w = conn_worker(x->conn);
    ws->svc = host_state(ws->w->d, &jmap_service_def);
    ws->conn = x->conn;
    snprintf(ws->user, sizeof ws->user, "%s", a->user);
    snprintf(ws->account, sizeof ws->account, "%s", a->account);
    ws->user_id = a->user_id;
    str_appends(&ws->state, a->state);
    jmap_ws_reader_init(&ws->rd, ws->svc->cur->max_size_request);
    struct http_response r;
    http_response_init(&r, 101);
    http_response_header(&r, "Upgrade", "websocket");
    http_response_header(&r, "Connection", "Upgrade");
    http_response_header(&r, "Sec-WebSocket-Accept", "%s", accept);
    http_response_header(&r, "Sec-WebSocket-Protocol", "jmap");
    struct http_takeover t = {ws_feed,    ws_closing,  ws_writable, ws_timeout,
                              ws_shutdown, ws_conn_free, ws};
    x->takeover(x, &r, &t);
}
