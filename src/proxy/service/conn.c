/*
 * proxy service conn — one client connection on the shared connection layer: the proxy's
 * session engine (proxy/session.h) joined to net/conn.c, who may use the proxy (an allowed
 * address, or Basic Proxy-Authorization against Pigeon users when `auth` is on; else 403 or
 * 407), requests the proxy answers itself (Max-Forwards: 0, PURGE, the statistics page), and
 * the hand-off to the cache (fetch.c) or the tunnel (tunnel.c).
 */
#include "proxy/service/service_int.h"

#include "core/log.h"
#include "core/xmalloc.h"
#include "host/host.h"
#include "host/login.h"
#include "msg/base64.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

static void reply(struct pconn *pc, int status, const char *type, const char *body,
                  const char *more_fields)
{
    struct str f = STR_INIT;
    str_appendf(&f, "Content-Type: %s\r\nVia: %s\r\nCache-Status: %s; fwd=bypass\r\n%s", type,
                pc->pw->st->via, pc->pw->st->name, more_fields ? more_fields : "");
    size_t n = strlen(body);
    proxy_session_head(pc->s, status, slice_make(f.ptr, f.len), (int64_t)n);
    proxy_session_body(pc->s, body, n);
    proxy_session_end(pc->s, true);
    str_clear(&f);
}

static void error(struct pconn *pc, int status, const char *why, const char *more_fields)
{
    struct str f = STR_INIT;
    str_appendf(&f, "Via: %s\r\nCache-Status: %s; fwd=bypass\r\n%s", pc->pw->st->via,
                pc->pw->st->name, more_fields ? more_fields : "");
    proxy_session_error(pc->s, status, why, slice_make(f.ptr, f.len));
    str_clear(&f);
}

/* RFC 9110 §7.6.2: OPTIONS or TRACE with Max-Forwards 0 is answered here. */
static void answer_max_forwards(struct pconn *pc, struct http_request *req)
{
    if (req->method == HTTP_OPTIONS) {
        reply(pc, 200, "text/plain", "",
              "Allow: GET, HEAD, POST, PUT, DELETE, OPTIONS, TRACE, CONNECT\r\n");
        return;
    }
    struct str echo = STR_INIT; /* TRACE: the request as received, without credentials */
    str_appendf(&echo, "%.*s %.*s HTTP/1.%d\r\n", (int)req->method_name.len, req->method_name.p,
                (int)req->target.len, req->target.p, req->version == 10 ? 0 : 1);
    for (unsigned i = 0; i < req->nheaders; i++) {
        const struct http_header *h = &req->headers[i];
        if (slice_eq_ci(h->name, "Proxy-Authorization") || slice_eq_ci(h->name, "Authorization") ||
            slice_eq_ci(h->name, "Cookie"))
            continue;
        str_appendf(&echo, "%.*s: %.*s\r\n", (int)h->name.len, h->name.p, (int)h->value.len,
                    h->value.p);
    }
    str_appends(&echo, "\r\n");
    reply(pc, 200, "message/http", str_cstr(&echo), NULL);
    str_clear(&echo);
}

static void answer_stats(struct pconn *pc)
{
    struct str body = STR_INIT;
    proxy_stats_text(pc->pw->st, "", &body);
    reply(pc, 200, "text/plain", str_cstr(&body), "Cache-Control: no-store\r\n");
    str_clear(&body);
}

/* PURGE URL (or URL* for a prefix), from loopback only. */
static void answer_purge(struct pconn *pc, struct http_request *req)
{
    if (!pc->loopback)
        return error(pc, 403, "PURGE is only accepted from loopback.", NULL);
    struct slice t = req->target;
    bool prefix = t.len && t.p[t.len - 1] == '*';
    if (prefix)
        t.len--;
    char *key = slice_dup(t);
    unsigned n = cache_store_purge(pc->pw->st->store, key, prefix);
    free(key);
    char body[64];
    snprintf(body, sizeof body, "purged %u\n", n);
    reply(pc, n ? 200 : 404, "text/plain", body, NULL);
}

static void route(struct pconn *pc, struct http_request *req)
{
    if (req->method == HTTP_OTHER && slice_eq(req->method_name, "PURGE") && !pc->reverse)
        return answer_purge(pc, req);
    long mf = proxy_max_forwards(req);
    if (mf == 0)
        return answer_max_forwards(pc, req);
    if (pc->reverse) {
        if (req->method == HTTP_CONNECT)
            return error(pc, 405, "CONNECT is for the forward proxy.",
                         "Allow: GET, HEAD, POST\r\n");
        return proxy_fetch_start(pc->pw, &pc->cl, req, &pc->pw->st->reverse);
    }
    if (req->method == HTTP_CONNECT) {
        struct proxy_url u;
        const char *why;
        if (proxy_url_of(req, NULL, &u, &why) != 0)
            return error(pc, 400, why, NULL);
        return proxy_tunnel_start(pc, &u);
    }
    if (req->target.len && req->target.p[0] == '/') {
        if (slice_eq(req->path, "/.pigeon/cache-stats") && pc->loopback)
            return answer_stats(pc);
        return error(pc, 400, "This is a proxy: ask for an absolute URL (http://host/path).", NULL);
    }
    proxy_fetch_start(pc->pw, &pc->cl, req, NULL);
}

/* ---- access ---- */

struct auth_job {
    struct pconn *pc;
    struct http_request *req;
};

static void auth_done(void *vj, bool ok, const char *user)
{
    struct auth_job *j = vj;
    struct pconn *pc = j->pc;
    struct http_request *req = j->req;
    free(j);
    if (!ok) {
        error(pc, 407, "The proxy user name or password is wrong.",
              "Proxy-Authenticate: Basic realm=\"pigeon proxy\", charset=\"UTF-8\"\r\n");
        return; /* host_login resumes the connection */
    }
    pc->auth_ok = true;
    route(pc, req);
}

/* Proxy-Authorization: Basic (RFC 9110 §11.7.1, RFC 7617) against Pigeon users. */
static void check_auth(struct pconn *pc, struct http_request *req)
{
    const struct slice *v = http_request_header(req, "Proxy-Authorization");
    unsigned char dec[512];
    size_t n = 0;
    if (v && slice_starts_ci(*v, "Basic ") && v->len - 6 < 600 &&
        base64_decode(v->p + 6, v->len - 6, dec, &n) == 0 && n < sizeof dec) {
        dec[n] = '\0';
        char *colon = memchr(dec, ':', n);
        if (colon && !memchr(dec, '\0', n)) {
            *colon = '\0';
            struct auth_job *j = xmalloc(sizeof *j);
            *j = (struct auth_job){pc, req};
            host_login(pc->c, (const char *)dec, colon + 1, auth_done, j);
            return;
        }
    }
    error(pc, 407, "This proxy needs a Pigeon user name and password.",
          "Proxy-Authenticate: Basic realm=\"pigeon proxy\", charset=\"UTF-8\"\r\n");
}

/* ---- the session's glue ---- */

static void g_write(void *io, const char *p, size_t n)
{
    conn_write(((struct pconn *)io)->c, p, n);
}

static void g_write_file(void *io, int fd, uint64_t off, uint64_t len)
{
    conn_write_file(((struct pconn *)io)->c, fd, off, len);
}

static void g_request(void *io, struct http_request *req)
{
    struct pconn *pc = io;
    if (pc->allowed_by_addr || pc->auth_ok)
        return route(pc, req);
    if (!pc->pw->st->cfg->auth)
        return error(pc, 403, "This proxy does not serve your address.", NULL);
    check_auth(pc, req);
}

static size_t g_tunnel(void *io, const char *p, size_t n)
{
    return proxy_tunnel_feed(io, p, n);
}

static void g_done(void *io, const struct http_request *req, int status, uint64_t bytes)
{
    struct pconn *pc = io;
    if (req)
        log_info("proxy " LOG_ID " %s \"%.*s %.*s\" %d %llu", LOG_IDV(pc->id), pc->peer,
                 (int)req->method_name.len, req->method_name.p, (int)req->target.len, req->target.p,
                 status, (unsigned long long)bytes);
    else
        log_info("proxy " LOG_ID " %s bad request %d", LOG_IDV(pc->id), pc->peer, status);
}

const struct proxy_session_ops proxy_session_glue = {g_write, g_write_file, g_request, g_tunnel,
                                                     g_done};

/* ---- the fetch's client (struct fetch_client_ops) on the proxy session ---- */

static void fc_head(struct fetch_client *cl, int status, struct slice fields, int64_t length,
                    bool later)
{
    proxy_session_head(((struct pconn *)cl)->s, status, fields, length);
}

static void fc_body(struct fetch_client *cl, const char *p, size_t n)
{
    proxy_session_body(((struct pconn *)cl)->s, p, n);
}

static void fc_body_file(struct fetch_client *cl, int fd, uint64_t off, uint64_t len)
{
    proxy_session_body_file(((struct pconn *)cl)->s, fd, off, len);
}

static void fc_end(struct fetch_client *cl, bool complete)
{
    proxy_session_end(((struct pconn *)cl)->s, complete);
}

static void fc_error(struct fetch_client *cl, int status, const char *why, struct slice fields)
{
    proxy_session_error(((struct pconn *)cl)->s, status, why, fields);
}

static size_t fc_pending(struct fetch_client *cl)
{
    return conn_output_pending(((struct pconn *)cl)->c);
}

static void fc_release(struct fetch_client *cl)
{
    struct pconn *pc = (struct pconn *)cl;
    if (!pc->in_feed) /* an answer from a callback: read the requests waiting */
        conn_resume(pc->c);
}

static const struct fetch_client_ops pconn_client_ops = {
    fc_head, fc_body, fc_body_file, fc_end, fc_error, fc_pending, fc_release,
};

/* ---- proto_ops ---- */

static void *pc_create(struct conn *c, const struct listener *l, uint64_t id, const char *peer)
{
    struct pconn *pc = xcalloc(1, sizeof *pc);
    pc->c = c;
    pc->pw = proxy_worker_of(c);
    pc->id = id;
    snprintf(pc->peer, sizeof pc->peer, "%s", peer);
    pc->cl = (struct fetch_client){&pconn_client_ops, NULL, pc->peer, id, false};
    pc->loopback = !strncmp(peer, "127.", 4) || !strcmp(peer, "::1");
    const struct proxy_state *st = pc->pw->st;
    pc->reverse = st->rcfg && l->svc_cfg == st->rcfg;
    if (pc->reverse)
        pc->allowed_by_addr =
            st->reverse_clients.n == 0 || net_acl_match_text(&st->reverse_clients, peer);
    else
        pc->allowed_by_addr = net_acl_match_text(st->clients_now, peer);
    pc->s = proxy_session_new(&proxy_session_glue, pc, &pc->pw->st->lim);
    return pc;
}

static void pc_refuse(void *v, enum conn_refusal why)
{
    struct pconn *pc = v;
    static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                               "Retry-After: 5\r\nConnection: close\r\n\r\n";
    conn_write(pc->c, busy, sizeof busy - 1);
    proxy_session_close(pc->s);
}

static size_t pc_feed(void *v, const char *p, size_t n)
{
    struct pconn *pc = v;
    pc->in_feed = true;
    size_t used = proxy_session_feed(pc->s, p, n);
    pc->in_feed = false;
    return used;
}

static bool pc_busy(const void *v)
{
    const struct pconn *pc = v;
    return proxy_session_busy(pc->s);
}

static bool pc_closing(const void *v)
{
    const struct pconn *pc = v;
    return proxy_session_closing(pc->s);
}

static void pc_tls_started(void *v, const char *version, const char *cipher)
{
}

static void pc_timeout(void *v)
{
    struct pconn *pc = v;
    proxy_session_timeout(pc->s);
}

static void pc_shutdown(void *v)
{
    struct pconn *pc = v;
    proxy_worker_stopping(pc->pw);
    proxy_session_close(pc->s);
}

static void pc_free(void *v)
{
    struct pconn *pc = v;
    proxy_fetch_detach(&pc->cl);
    proxy_tunnel_free(pc);
    proxy_session_free(pc->s);
    free(pc);
}

static void pc_writable(void *v)
{
    struct pconn *pc = v;
    proxy_fetch_writable(&pc->cl);
    proxy_tunnel_writable(pc);
}

const struct proto_ops proxy_proto = {
    .name = "proxy",
    .create = pc_create,
    .refuse = pc_refuse,
    .feed = pc_feed,
    .busy = pc_busy,
    .closing = pc_closing,
    .tls_started = pc_tls_started,
    .timeout = pc_timeout,
    .shutdown = pc_shutdown,
    .free = pc_free,
    .writable = pc_writable,
    .nodelay = true, /* a response head and its body never wait for an ACK */
};
