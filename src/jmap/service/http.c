/*
 * jmap service — the HTTP side (RFC 8620 §2, §3.1, §6): routes, authentication, and the
 * hand-off of each request to the store pool, where the engine runs against the store.
 *
 *   GET  /.well-known/jmap                  the session resource
 *   POST /jmap/api/                         method calls (application/json)
 *   POST /jmap/upload/{accountId}/          a blob (any type) -> {accountId, blobId, type, size}
 *   GET  /jmap/download/{accountId}/{blobId}/{name}?accept={type}
 *   GET  /jmap/image?url=...                 a remote image fetched for the webmail (image.c)
 *   GET  /mail/...                          the webmail's files (webmail.c)
 *
 * Authentication: HTTP Basic with a Pigeon user's password (on the auth pool, throttled),
 * accepted over TLS or in clear text as the site's plaintext_auth allows; or the site's
 * login cookie (handler/login.c). A request authenticated by the cookie that changes
 * anything (POST) must carry X-CSRF-Token: the HMAC of the session id under a secret of
 * this process, which the session resource hands to the page that asked with the cookie; a
 * cross-site page can neither read it nor send the header without a CORS preflight that
 * Pigeon never grants. An Origin that is not this Host is refused as well.
 */
#include "jmap/service/service_int.h"
#include "jmap/service/service.h"

#include "core/log.h"
#include "core/loop_post.h"
#include "core/pool.h"
#include "core/xmalloc.h"
#include "host/host.h"
#include "http/cookie.h"
#include "http/handler.h"
#include "http/site.h"
#include "jmap/url.h"
#include "msg/base64.h"
#include "net/conn.h"
#include "queue/runner.h"
#include "store/store.h"

#include <openssl/crypto.h>
#include <jansson.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define USER_MAX 256

enum job_kind { JOB_API, JOB_SESSION, JOB_UPLOAD, JOB_DOWNLOAD, JOB_PUSH, JOB_WS };

struct job {
    struct http_exchange *x;
    struct conn *conn;
    struct jmap_service *svc;
    enum job_kind kind;
    char user[USER_MAX];
    char account[32];   /* "u<user id>" */
    char url_account[USER_MAX]; /* upload/download: the accountId the URL names */
    char base[300];
    char csrf[65];      /* given to a cookie session with the session resource */
    char blob[128];
    char type[128];     /* download: ?accept=; upload: Content-Type */
    char name[256];     /* download: file name */
    int status;
    struct str out;
    struct str out_type;
    struct jmap_api_result api; /* JOB_API: what the request changed */
    int64_t user_id;
    struct jmap_push_params push; /* JOB_PUSH: what the event source asked for */
};

static struct jmap_service *service_of(const struct http_exchange *x)
{
    return host_state(conn_worker(x->conn)->d, &jmap_service_def);
}

/* ---- answers ---- */

static void answer(struct http_exchange *x, int status, const char *type, const char *body,
                   size_t len)
{
    struct http_response r;
    http_response_init(&r, status);
    if (type)
        http_response_header(&r, "Content-Type", "%s", type);
    http_response_header(&r, "Cache-Control", "no-store");
    http_response_header(&r, "X-Content-Type-Options", "nosniff");
    if (len)
        http_response_body(&r, body, len);
    http_exchange_respond(x, &r);
}

static void problem(struct http_exchange *x, int status, const char *type, const char *detail)
{
    struct str s = STR_INIT;
    str_appendf(&s, "{\"type\":\"%s\",\"status\":%d,\"detail\":\"%s\"}", type, status, detail);
    answer(x, status, "application/problem+json", s.ptr, s.len);
    str_clear(&s);
}

static void unauthorized(struct http_exchange *x)
{
    struct http_response r;
    http_response_init(&r, 401);
    http_response_error(&r, 401, "Log in: HTTP Basic with a Pigeon user, or the login cookie.");
    http_response_header(&r, "WWW-Authenticate", "Basic realm=\"Pigeon JMAP\", charset=\"UTF-8\"");
    http_exchange_respond(x, &r);
}

/* ---- the job on the store pool ---- */

static void job_free(struct job *j)
{
    str_clear(&j->out);
    str_clear(&j->out_type);
    free(j);
}

static void job_done(void *vj)
{
    struct job *j = vj;
    struct conn *c = j->conn;
    struct worker *w = conn_worker(c);
    struct jmap_service *svc = j->svc;
    pthread_mutex_lock(&svc->lock);
    for (unsigned i = 0; i < JMAP_MAX_USERS; i++)
        if (svc->busy[i].n && strcmp(svc->busy[i].user, j->user) == 0) {
            svc->busy[i].n--;
            break;
        }
    pthread_mutex_unlock(&svc->lock);
    jmap_api_finish(w, &j->api);
    const char *type = j->kind == JOB_DOWNLOAD ? str_cstr(&j->out_type)
                       : j->status == 200 || j->status == 201
                           ? "application/json; charset=utf-8"
                           : "application/problem+json";
    if ((j->kind == JOB_PUSH || j->kind == JOB_WS) && j->status == 200) {
        struct jmap_push_start_args a = {j->user, j->account, j->user_id, str_cstr(&j->out),
                                         j->push};
        if (j->kind == JOB_WS)
            jmap_ws_start(j->x, &a);
        else
            jmap_eventsource_start(j->x, &a);
    } else if (j->kind == JOB_PUSH || j->kind == JOB_WS) {
        http_exchange_error(j->x, 500, "The account's state could not be read.");
    } else if (j->kind == JOB_DOWNLOAD && j->status == 200) {
        struct http_response r;
        http_response_init(&r, 200);
        http_response_header(&r, "Content-Type", "%s", j->type[0] ? j->type : type);
        http_response_header(&r, "Cache-Control", "private, immutable, max-age=604800");
        http_response_header(&r, "X-Content-Type-Options", "nosniff");
        /* never rendered inline as this site's page (stored HTML would run as ours) */
        http_response_header(&r, "Content-Disposition", "attachment; filename=\"%s\"", j->name);
        http_response_header(&r, "Content-Security-Policy", "sandbox; default-src 'none'");
        http_response_body(&r, j->out.ptr ? j->out.ptr : "", j->out.len);
        http_exchange_respond(j->x, &r);
    } else if (j->kind == JOB_DOWNLOAD) {
        http_exchange_error(j->x, 404, "No such blob in this account.");
    } else {
        answer(j->x, j->status, type, j->out.ptr, j->out.len);
    }
    job_free(j);
    conn_resume(c);
}

void jmap_api_run(struct jmap_service *svc, struct store *st, const char *user,
                  const char *account, const char *body, size_t len, struct jmap_api_result *r)
{
    struct jmap_store_ctx ctx = {.svc = svc, .st = st, .user = user};
    struct jmap_ops ops;
    jmap_store_ops_init(&ops, &ctx);
    struct jmap_env env = {.ops = &ops, .lim = svc->cur, .user = user, .account_id = account,
                           .user_name = "", .now = (int64_t)time(NULL)};
    unsigned char rnd[8];
    RAND_bytes(rnd, sizeof rnd);
    for (int i = 0; i < 8; i++)
        snprintf(env.random + 2 * i, 3, "%02x", rnd[i]);
    r->status = jmap_api_process(&env, body ? body : "", len, &r->out);
    int64_t id;
    if (env.changed && r->nchanged < JMAP_CHANGED_MAX && store_user_lookup(st, user, &id) == 0)
        r->changed[r->nchanged++] = id;
    for (size_t i = 0; i < ctx.nchanged && r->nchanged < JMAP_CHANGED_MAX; i++)
        r->changed[r->nchanged++] = ctx.changed_users[i];
    r->kick_queue = ctx.submitted_remote;
}

void jmap_api_finish(struct worker *w, const struct jmap_api_result *r)
{
    if (r->nchanged) /* IMAP sessions and push listeners of these users see it at once */
        host_mailbox_changed(w, r->changed, r->nchanged, 0, 0);
    if (r->kick_queue && w->d->runner)
        queue_runner_kick(w->d->runner);
}

static void run_upload(struct job *j, struct jmap_store_ctx *ctx, const struct jmap_ops *ops)
{
    char id[33];
    const struct http_request *q = j->x->req;
    if (ops->blob_put(ops->ctx, q->body ? q->body : "", q->body_len, id) != 0) {
        j->status = 500;
        str_appends(&j->out, "{\"type\":\"about:blank\",\"status\":500,\"detail\":\"The blob "
                             "could not be stored.\"}");
        return;
    }
    json_t *o = json_pack("{s:s, s:s, s:s, s:I}", "accountId", j->account, "blobId", "", "type",
                          j->type[0] ? j->type : "application/octet-stream", "size",
                          (json_int_t)q->body_len);
    char bid[40];
    snprintf(bid, sizeof bid, "b%s", id);
    json_object_set_new(o, "blobId", json_string(bid));
    char *text = json_dumps(o, JSON_COMPACT);
    str_appends(&j->out, text);
    free(text);
    json_decref(o);
    j->status = 201;
}

static void job_run(void *tctx, void *vj)
{
    struct job *j = vj;
    struct store *st = tctx;
    struct jmap_store_ctx ctx = {.svc = j->svc, .st = st, .user = j->user};
    struct jmap_ops ops;
    jmap_store_ops_init(&ops, &ctx);
    int64_t uid = 0;
    if (st && store_user_lookup(st, j->user, &uid) == 0)
        snprintf(j->account, sizeof j->account, "u%lld", (long long)uid);
    j->user_id = uid;
    bool url_ok = (j->kind != JOB_UPLOAD && j->kind != JOB_DOWNLOAD) ||
                  strcmp(j->url_account, j->account) == 0;
    if (!st || !j->account[0]) {
        j->status = 500;
    } else if (!url_ok) {
        j->status = 404;
        str_appends(&j->out, "{\"type\":\"urn:ietf:params:jmap:error:accountNotFound\","
                             "\"status\":404,\"detail\":\"No such account for this user.\"}");
    } else if (j->kind == JOB_API) {
        const struct http_request *q = j->x->req;
        j->api.out = j->out;
        jmap_api_run(j->svc, st, j->user, j->account, q->body, q->body_len, &j->api);
        j->out = j->api.out;
        j->api.out = (struct str)STR_INIT;
        j->status = j->api.status;
    } else if (j->kind == JOB_SESSION) {
        jmap_session_write(j->svc->cur, j->user, j->account, j->base, &j->out);
        if (j->csrf[0] && j->out.len && j->out.ptr[j->out.len - 1] == '}') {
            j->out.len--; /* one more member for the webmail: its CSRF token */
            str_appendf(&j->out, ",\"csrfToken\":\"%s\"}", j->csrf);
        }
        j->status = 200;
    } else if (j->kind == JOB_PUSH || j->kind == JOB_WS) {
        j->status = jmap_account_state(&ops, &j->out) == 0 ? 200 : 500;
    } else if (j->kind == JOB_UPLOAD) {
        run_upload(j, &ctx, &ops);
    } else {
        j->status = jmap_blob_read(&ops, j->blob, &j->out, &j->out_type) == 0 ? 200 : 404;
    }
    loop_post_send(conn_worker(j->conn)->host.post, job_done, j);
}

/* ---- routes ---- */

static bool path_is(const struct http_request *q, const char *a)
{
    return slice_eq(q->path, a);
}

static bool path_starts(const struct http_request *q, const char *prefix)
{
    size_t n = strlen(prefix);
    return q->path.len >= n && memcmp(q->path.p, prefix, n) == 0;
}

/* The next path segment of rest (up to '/'), percent-decoded into out; false when absent,
 * too long or not percent-encoded right (jmap/url.h). */
static bool segment(struct slice *rest, char *out, size_t cap)
{
    size_t n = 0;
    while (n < rest->len && rest->p[n] != '/')
        n++;
    if (n == 0 || jmap_url_decode(rest->p, n, out, cap) < 0)
        return false;
    rest->p += n;
    rest->len -= n;
    if (rest->len && rest->p[0] == '/')
        rest->p++, rest->len--;
    return true;
}

static void csrf_token(const struct jmap_service *svc, struct slice sid, char out[65])
{
    unsigned char mac[32];
    unsigned len = 0;
    HMAC(EVP_sha256(), svc->secret, sizeof svc->secret, (const unsigned char *)sid.p, sid.len, mac,
         &len);
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", mac[i]);
}

static bool type_safe(const char *t)
{
    for (; *t; t++)
        if ((unsigned char)*t < 0x20 || *t == '"' || *t == '\\' || (unsigned char)*t >= 0x7f)
            return false;
    return true;
}

static bool path_is_eventsource(const struct http_request *q)
{
    return path_is(q, "/jmap/eventsource") || path_is(q, "/jmap/eventsource/");
}

static bool path_is_ws(const struct http_request *q)
{
    return path_is(q, "/jmap/ws") || path_is(q, "/jmap/ws/");
}

static bool path_is_image(const struct http_request *q)
{
    return path_is(q, "/jmap/image");
}

static void start(struct http_exchange *x, const char *user, const char *csrf)
{
    struct jmap_service *svc = service_of(x);
    const struct http_request *q = x->req;
    struct job *j = xcalloc(1, sizeof *j);
    j->x = x;
    j->conn = x->conn;
    j->svc = svc;
    snprintf(j->user, sizeof j->user, "%s", user);
    if (csrf)
        snprintf(j->csrf, sizeof j->csrf, "%s", csrf);
    const struct slice *host = &q->host;
    snprintf(j->base, sizeof j->base, "%s://%.*s", x->tls ? "https" : "http",
             (int)(host->len < 256 ? host->len : 0), host->p);
    if (path_is_image(q)) {
        free(j);
        return jmap_image_start(svc, x);
    }
    if (path_is(q, "/.well-known/jmap")) {
        j->kind = JOB_SESSION;
    } else if (path_is_ws(q)) {
        j->kind = JOB_WS;
    } else if (path_is_eventsource(q)) {
        j->kind = JOB_PUSH;
        const char *why = NULL;
        jmap_push_params_parse(q->query.p, q->query.len, &j->push, &why); /* checked before */
    } else if (path_starts(q, "/jmap/api")) {
        j->kind = JOB_API;
    } else if (path_starts(q, "/jmap/upload/")) {
        j->kind = JOB_UPLOAD;
        struct slice rest = slice_make(q->path.p + 13, q->path.len - 13); /* "/jmap/upload/" */
        if (!segment(&rest, j->url_account, sizeof j->url_account)) {
            free(j);
            return http_exchange_error(x, 404, "No such account: the upload URL names none.");
        }
        const struct slice *ct = http_request_header(q, "Content-Type");
        if (ct && ct->len < sizeof j->type)
            snprintf(j->type, sizeof j->type, "%.*s", (int)ct->len, ct->p);
        if (!type_safe(j->type))
            j->type[0] = '\0';
    } else {
        j->kind = JOB_DOWNLOAD;
        struct slice rest = slice_make(q->path.p + 15, q->path.len - 15); /* "/jmap/download/" */
        if (!segment(&rest, j->url_account, sizeof j->url_account) ||
            !segment(&rest, j->blob, sizeof j->blob)) {
            free(j);
            return http_exchange_error(x, 404, "No such blob in this account.");
        }
        if ((rest.len && !segment(&rest, j->name, sizeof j->name)) ||
            jmap_url_param(q->query.p, q->query.len, "accept", j->type, sizeof j->type) < 0) {
            free(j);
            return http_exchange_error(x, 400, "The download URL is not percent-encoded right, "
                                               "or a part of it is too long.");
        }
        for (char *s = j->name; *s; s++)
            if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20)
                *s = '_';
        if (!type_safe(j->type) || !strchr(j->type, '/'))
            j->type[0] = '\0';
    }
    /* maxConcurrentRequests (RFC 8620 §2) per account */
    bool over = false;
    pthread_mutex_lock(&svc->lock);
    int free_slot = -1, mine = -1;
    for (int i = 0; i < JMAP_MAX_USERS; i++) {
        if (svc->busy[i].n && strcmp(svc->busy[i].user, user) == 0)
            mine = i;
        else if (!svc->busy[i].n && free_slot < 0)
            free_slot = i;
    }
    if (mine < 0 && free_slot >= 0) {
        mine = free_slot;
        snprintf(svc->busy[mine].user, sizeof svc->busy[mine].user, "%s", user);
    }
    if (mine < 0 || svc->busy[mine].n >= svc->cur->max_concurrent_requests)
        over = true;
    else
        svc->busy[mine].n++;
    pthread_mutex_unlock(&svc->lock);
    if (over) {
        free(j);
        return problem(x, 400, "urn:ietf:params:jmap:error:limit",
                       "Too many requests of this account at once (maxConcurrentRequests).");
    }
    pool_submit(svc->pool, job_run, j);
}

/* HMAC(secret, user NUL password): the key of the credential cache. */
static void credential_mac(const struct jmap_service *svc, const char *user, const char *pass,
                           unsigned char mac[32])
{
    size_t ul = strlen(user), pl = strlen(pass);
    unsigned char *buf = xmalloc(ul + pl + 1);
    memcpy(buf, user, ul + 1);
    memcpy(buf + ul + 1, pass, pl);
    unsigned len = 0;
    HMAC(EVP_sha256(), svc->secret, sizeof svc->secret, buf, ul + pl + 1, mac, &len);
    OPENSSL_cleanse(buf, ul + pl + 1);
    free(buf);
}

/* The user a cached credential names, copied to out; false when not cached or stale. */
static bool credential_cached(struct jmap_service *svc, const unsigned char mac[32], time_t now,
                              char *out, size_t cap)
{
    bool hit = false;
    pthread_mutex_lock(&svc->lock);
    for (unsigned i = 0; i < JMAP_AUTH_CACHE && !hit; i++)
        if (svc->auth_cache[i].until > now && CRYPTO_memcmp(svc->auth_cache[i].mac, mac, 32) == 0) {
            snprintf(out, cap, "%s", svc->auth_cache[i].user);
            hit = true;
        }
    pthread_mutex_unlock(&svc->lock);
    return hit;
}

static void basic_done(struct http_exchange *x, bool ok, const char *user)
{
    if (!ok)
        return unauthorized(x);
    /* Remember the credential that passed: decoded again from the request, which is alive
     * until the answer. */
    struct jmap_service *svc = service_of(x);
    const struct slice *auth = http_request_header(x->req, "Authorization");
    unsigned char dec[768];
    size_t n = 0;
    struct slice b = auth ? slice_trim(slice_make(auth->p + 6, auth->len - 6)) : slice_make("", 0);
    if (auth && b.len <= 1000 && base64_decode(b.p, b.len, dec, &n) == 0 && n < sizeof dec) {
        dec[n] = '\0';
        char *colon = memchr(dec, ':', n);
        if (colon) {
            *colon = '\0';
            pthread_mutex_lock(&svc->lock);
            unsigned i = svc->auth_next++ % JMAP_AUTH_CACHE;
            pthread_mutex_unlock(&svc->lock);
            unsigned char mac[32];
            credential_mac(svc, (const char *)dec, colon + 1, mac);
            pthread_mutex_lock(&svc->lock);
            memcpy(svc->auth_cache[i].mac, mac, 32);
            snprintf(svc->auth_cache[i].user, sizeof svc->auth_cache[i].user, "%s", user);
            svc->auth_cache[i].until = x->now + JMAP_AUTH_TTL;
            pthread_mutex_unlock(&svc->lock);
        }
        OPENSSL_cleanse(dec, sizeof dec);
    }
    start(x, user, NULL);
}

/* Whether an Origin field names this very host (or is absent). */
static bool same_origin(const struct http_request *q)
{
    const struct slice *o = http_request_header(q, "Origin");
    if (!o)
        return true;
    const char *sep = memmem(o->p, o->len, "://", 3);
    if (!sep)
        return false;
    struct slice host = slice_make(sep + 3, o->len - (size_t)(sep + 3 - o->p));
    return host.len == q->host.len && strncasecmp(host.p, q->host.p, host.len) == 0;
}

static void authenticate(struct http_exchange *x)
{
    struct jmap_service *svc = service_of(x);
    const struct http_request *q = x->req;
    const struct slice *auth = http_request_header(q, "Authorization");
    if (auth && auth->len > 6 && strncasecmp(auth->p, "Basic ", 6) == 0) {
        if (!http_plaintext_ok(x))
            return http_exchange_error(x, 403, "Use HTTPS: passwords are not accepted in clear "
                                               "text from this address.");
        unsigned char dec[768];
        size_t n = 0;
        struct slice b = slice_trim(slice_make(auth->p + 6, auth->len - 6));
        if (b.len > 1000 || base64_decode(b.p, b.len, dec, &n) != 0 || n >= sizeof dec)
            return unauthorized(x);
        dec[n] = '\0';
        char *colon = memchr(dec, ':', n);
        if (!colon || colon == (char *)dec)
            return unauthorized(x);
        *colon = '\0';
        unsigned char mac[32];
        char cached[USER_MAX];
        credential_mac(svc, (const char *)dec, colon + 1, mac);
        if (credential_cached(svc, mac, x->now, cached, sizeof cached)) {
            OPENSSL_cleanse(dec, sizeof dec);
            return start(x, cached, NULL);
        }
        x->host->auth(x, (const char *)dec, colon + 1, basic_done);
        OPENSSL_cleanse(dec, sizeof dec);
        return;
    }
    char user[USER_MAX];
    struct slice sid;
    bool has_cookie = http_cookie_get(q, HTTP_SESSION_COOKIE, &sid);
    if (!has_cookie || !http_login_user(x, user, sizeof user)) {
        /* A page's script (the webmail) gets 403, not a Basic challenge: browsers answer a
         * challenge with their own password dialog instead of letting the page log in. */
        if (has_cookie || http_request_header(q, "X-Requested-With"))
            return http_exchange_error(x, 403, "Not logged in, or the session has expired.");
        return unauthorized(x);
    }
    char token[65];
    csrf_token(svc, sid, token);
    /* A page of another site may open a WebSocket with our cookie (no CORS for it): only
     * this site's own pages may (RFC 6455 §10.2). */
    if (path_is_ws(q) && (!http_request_header(q, "Origin") || !same_origin(q)))
        return http_exchange_error(x, 403, "Cross-site WebSocket refused.");
    /* The image proxy fetches for whoever asks: a GET there needs the token as well, or
     * any site could make a logged-in browser use it (<img src=".../jmap/image?url=">). */
    if ((q->method != HTTP_GET && q->method != HTTP_HEAD) || path_is_image(q)) {
        const struct slice *t = http_request_header(q, "X-CSRF-Token");
        if (!same_origin(q) || !t || t->len != 64 || CRYPTO_memcmp(t->p, token, 64) != 0)
            return http_exchange_error(x, 403, "Cross-site request refused: the CSRF token is "
                                               "missing or wrong.");
    }
    start(x, user, token);
}

bool jmap_http_handle(struct http_exchange *x)
{
    struct jmap_service *svc = service_of(x);
    const struct http_request *q = x->req;
    if (!svc)
        return false;
    bool get = q->method == HTTP_GET || q->method == HTTP_HEAD;
    if (path_is(q, "/mail") || path_starts(q, "/mail/")) {
        if (svc->webmail_fd < 0)
            return false;
        if (!get)
            return http_exchange_error(x, 405, "The webmail's files are read-only."), true;
        jmap_webmail_serve(svc, x);
        return true;
    }
    bool session = path_is(q, "/.well-known/jmap");
    bool api = path_is(q, "/jmap/api") || path_is(q, "/jmap/api/");
    bool upload = path_starts(q, "/jmap/upload/");
    bool download = path_starts(q, "/jmap/download/");
    bool events = path_is_eventsource(q);
    bool ws = path_is_ws(q);
    bool image = path_is_image(q);
    if (!session && !api && !upload && !download && !events && !ws && !image)
        return false;
    if (image && (!get || !svc->image_pool))
        return http_exchange_error(x, !get ? 405 : 404, !get ? "Use GET here."
                                                             : "The image proxy is off."),
               true;
    if (ws && q->method != HTTP_GET)
        return http_exchange_error(x, 405, "Use GET here."), true;
    if (ws && !jmap_ws_handshake_ok(x))
        return true;
    if (events) {
        struct jmap_push_params p;
        const char *why = "";
        if (q->method != HTTP_GET)
            return http_exchange_error(x, 405, "Use GET here."), true;
        if (jmap_push_params_parse(q->query.p, q->query.len, &p, &why) < 0)
            return http_exchange_error(x, 400, why), true;
    }
    if ((session || download) && !get)
        return http_exchange_error(x, 405, "Use GET here."), true;
    if ((api || upload) && q->method != HTTP_POST)
        return http_exchange_error(x, 405, "Use POST here."), true;
    if (upload && q->body_len > svc->cur->max_size_upload) {
        problem(x, 413, "urn:ietf:params:jmap:error:limit",
                "The upload is larger than maxSizeUpload.");
        return true;
    }
    authenticate(x);
    return true;
}
