/*
 * proxy service fetch — one GET/HEAD (or unsafe) request through the cache: look-up by URL and
 * Vary, answer from the store when fresh (RFC 9111 §4), stale while revalidating in the
 * background (RFC 5861 §3), or after a conditional request whose 304 refreshes the stored head
 * (§4.3); a miss is fetched once however many clients ask at the same time (collapsing: the
 * others wait and are answered from the store), streamed to the client while it is written
 * to the store; a failing origin is answered with a stale copy where stale-if-error allows,
 * else 502/504. Unsafe methods pass through and invalidate what they change (§4.4).
 */
#include "proxy/service/service_int.h"

#include "http/response.h"
#include "http/static.h"

#include "core/log.h"
#include "core/loop_post.h"
#include "core/xmalloc.h"
#include "host/host.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define OUT_HIGH (1024 * 1024) /* pause the origin while this much waits for the client */

struct fetch {
    struct pconn *pc; /* NULL: a background revalidation (or the client left) */
    struct proxy_worker *pw;
    struct proxy_state *st;
    struct http_request *req; /* &own_req: the client's request may go before the fetch */
    struct http_request own_req;
    struct str own_head; /* what own_req points into */
    struct proxy_url url;
    struct str key;
    struct cache_obj *stale; /* the stored copy being revalidated */
    struct upstream *up;
    struct cache_writer *writer;
    bool leader, collapse, conditional, head_sent, answered, stored;
    time_t request_time, response_time;
    int status;
    struct cache_status cs;
    struct str also_invalid; /* Location / Content-Location keys on the same host, '\n' ends */
    struct inflight_waiter waiter;
};

static void fetch_origin(struct fetch *f);
static void lookup(struct fetch *f);

static const char *cs_name(const struct fetch *f)
{
    return f->st->name;
}

/* ---- the end of a fetch ---- */

static void fetch_free(struct fetch *f)
{
    cache_obj_unref(f->st->store, f->stale);
    cache_writer_abort(f->writer);
    str_clear(&f->key);
    str_clear(&f->own_head);
    str_clear(&f->also_invalid);
    free(f);
}

/* The request is answered: the client connection reads on. */
static void release_client(struct fetch *f)
{
    struct pconn *pc = f->pc;
    f->pc = NULL;
    if (!pc)
        return;
    pc->fetch = NULL;
    if (!pc->in_feed) /* an answer from a callback: read the requests waiting */
        conn_resume(pc->c);
}

static void field_cs(struct fetch *f, struct str *fields)
{
    str_appends(fields, "Cache-Status: ");
    cache_status_format(cs_name(f), &f->cs, fields);
    str_appends(fields, "\r\n");
}

static void answer_error(struct fetch *f, int status, const char *why)
{
    if (!f->pc || f->answered)
        return;
    f->answered = true;
    struct str fields = STR_INIT;
    str_appendf(&fields, "Via: %s\r\n", f->st->via);
    if (f->cs.fwd || f->cs.hit)
        field_cs(f, &fields);
    proxy_session_error(f->pc->s, status, why, slice_make(str_cstr(&fields), fields.len));
    str_clear(&fields);
}

/* ---- answering from the store ---- */

static time_t stored_date(struct slice fields, const char *name)
{
    struct slice v;
    time_t t;
    if (cache_fields_get(fields, name, &v) && http_date_parse(v, &t) == 0)
        return t;
    return (time_t)-1;
}

/* The stored head for the client: without its Age (a new one is computed), with Via. */
static void client_fields(struct fetch *f, struct slice stored, int64_t age, struct str *out)
{
    size_t pos = 0;
    struct slice n, v;
    while (cache_fields_next(stored, &pos, &n, &v))
        if (!slice_eq_ci(n, "Age"))
            str_appendf(out, "%.*s: %.*s\r\n", (int)n.len, n.p, (int)v.len, v.p);
    if (age >= 0)
        str_appendf(out, "Age: %lld\r\n", (long long)age);
    str_appendf(out, "Via: %s\r\n", f->st->via);
    field_cs(f, out);
}

/* RFC 9110 §13.2.2 for the client's own conditions against the stored validators. */
static enum http_cond client_condition(const struct http_request *req, struct slice fields)
{
    struct slice etag;
    char tag[256] = "";
    if (cache_fields_get(fields, "ETag", &etag) && etag.len < sizeof tag)
        memcpy(tag, etag.p, etag.len), tag[etag.len] = '\0';
    time_t lm = stored_date(fields, "Last-Modified");
    if (!tag[0] && lm == (time_t)-1)
        return HTTP_COND_PASS;
    if (!tag[0] && http_request_header(req, "If-None-Match"))
        return HTTP_COND_PASS;
    return http_conditional(req, tag, lm == (time_t)-1 ? (time_t)LLONG_MAX : lm);
}

/* A single byte range of the stored body (RFC 9110 §14): 1 with *r set, 0 for the whole
 * body, -416. */
static int client_range(const struct http_request *req, const struct cache_obj *o,
                        struct http_range *r)
{
    const struct slice *range = http_request_header(req, "Range");
    if (!range || req->method != HTTP_GET || o->status != 200)
        return 0;
    struct slice etag;
    char tag[256] = "";
    if (cache_fields_get(o->fields, "ETag", &etag) && etag.len < sizeof tag)
        memcpy(tag, etag.p, etag.len), tag[etag.len] = '\0';
    if (!http_if_range(req, tag, stored_date(o->fields, "Last-Modified")))
        return 0;
    struct http_range rs[HTTP_MAX_RANGES];
    int n = http_range_parse(*range, o->body_len, rs);
    if (n == 1)
        *r = rs[0];
    return n == 1 ? 1 : n < 0 ? -416 : 0;
}

/* Answers the client from o. false when o's body is gone (purged meanwhile). */
static bool serve_stored(struct fetch *f, struct cache_obj *o)
{
    struct pconn *pc = f->pc;
    if (!pc || f->answered)
        return true;
    int64_t life;
    bool heur;
    life = cache_lifetime(o->fields, o->status, &f->st->rules, &heur);
    int64_t age = cache_age(o->fields, o->request_time, o->response_time, time(NULL));
    f->cs.ttl = life - age;
    const char *mem = NULL;
    int fd = -1;
    if (f->req->method == HTTP_GET) {
        fd = cache_obj_body(f->st->store, o, &mem);
        if (fd < 0 && !mem && o->body_len)
            return false;
    }
    struct str fields = STR_INIT;
    int status = o->status;
    uint64_t off = 0, len = o->body_len;
    enum http_cond c = o->status == 200 ? client_condition(f->req, o->fields) : HTTP_COND_PASS;
    struct http_range r;
    int rr = c == HTTP_COND_PASS ? client_range(f->req, o, &r) : 0;
    if (c == HTTP_COND_NOT_MODIFIED) {
        status = 304;
        len = 0;
    } else if (c == HTTP_COND_FAILED) {
        status = 412;
        len = 0;
    } else if (rr == 1) {
        status = 206;
        off = r.first;
        len = r.last - r.first + 1;
        str_appendf(&fields, "Content-Range: bytes %llu-%llu/%llu\r\n", (unsigned long long)r.first,
                    (unsigned long long)r.last, (unsigned long long)o->body_len);
    } else if (rr == -416) {
        status = 416;
        len = 0;
        str_appendf(&fields, "Content-Range: bytes */%llu\r\n", (unsigned long long)o->body_len);
    }
    client_fields(f, o->fields, age, &fields);
    f->answered = true;
    proxy_session_head(pc->s, status, slice_make(str_cstr(&fields), fields.len), (int64_t)len);
    if (len && mem)
        proxy_session_body(pc->s, mem + off, (size_t)len);
    else if (len && fd >= 0)
        proxy_session_body_file(pc->s, fd, o->body_off + off, len);
    if (fd >= 0)
        close(fd);
    proxy_session_end(pc->s, true);
    str_clear(&fields);
    return true;
}

/* ---- the origin's answer ---- */

/* RFC 9111 §4.4: an unsafe method's Location and Content-Location are invalidated too, when
 * they are on the same host (absolute URLs as given, or paths on the request's origin). */
static void note_locations(struct fetch *f, const struct http_resp_head *h)
{
    if (f->req->method == HTTP_GET || f->req->method == HTTP_HEAD)
        return;
    const char *names[] = {"Location", "Content-Location"};
    for (int i = 0; i < 2; i++) {
        const struct slice *v = http_resp_header(h, names[i]);
        if (!v || v->len == 0 || memchr(v->p, '\n', v->len))
            continue;
        struct proxy_url u = f->url;
        u.path_query = *v;
        struct str key = STR_INIT;
        if (v->p[0] == '/') {
            proxy_url_key(&u, &key);
        } else {
            struct str same = STR_INIT;
            u.path_query = slice_make("/", 1);
            proxy_url_key(&u, &same); /* "scheme://host[:port]/" */
            size_t n = same.len - 1;  /* without the '/' */
            if (v->len >= n && !strncasecmp(v->p, same.ptr, n) &&
                (v->len == n || v->p[n] == '/' || v->p[n] == '?'))
                str_append(&key, v->p, v->len);
            str_clear(&same);
        }
        if (key.len)
            str_appendf(&f->also_invalid, "%s\n", str_cstr(&key));
        str_clear(&key);
    }
}

static void up_head(void *vf, const struct http_resp_head *h)
{
    struct fetch *f = vf;
    f->response_time = time(NULL);
    f->status = h->status;
    f->cs.fwd_status = h->status;
    note_locations(f, h);
    struct str fields = STR_INIT;
    proxy_response_fields(h->headers, h->nheaders, NULL, &fields);
    struct slice fs = slice_make(str_cstr(&fields), fields.len);
    if (f->conditional && f->stale && h->status == 304 && cache_304_matches(f->stale->fields, fs)) {
        struct str merged = STR_INIT;
        cache_merge_304(f->stale->fields, fs, &merged);
        struct cache_obj *n =
            cache_store_refresh(f->st->store, f->stale, slice_make(str_cstr(&merged), merged.len),
                                f->request_time, f->response_time);
        f->stored = n != NULL;
        if (!serve_stored(f, n ? n : f->stale))
            answer_error(f, 503, "The stored response vanished; please retry.");
        cache_obj_unref(f->st->store, n);
        str_clear(&merged);
        str_clear(&fields);
        release_client(f);
        return;
    }
    if (f->stale && h->status >= 500) {
        int64_t age = cache_age(f->stale->fields, f->stale->request_time, f->stale->response_time,
                                time(NULL));
        bool heur;
        int64_t life = cache_lifetime(f->stale->fields, f->stale->status, &f->st->rules, &heur);
        struct cache_cc cc;
        cache_cc_of_request(f->req, &cc);
        if (cache_stale_if_error(&cc, f->stale->fields, life, age)) {
            f->cs.detail = "stale-if-error";
            if (serve_stored(f, f->stale)) {
                str_clear(&fields);
                release_client(f); /* the origin's error body is read and dropped */
                return;
            }
        }
    }
    const char *why = NULL;
    struct str vary = STR_INIT;
    if (f->collapse && f->req->method == HTTP_GET && cache_storable(f->req, h->status, fs, &why) &&
        cache_vary_key(fs, f->req, &vary) == 0)
        f->writer = cache_writer_new(f->st->store, str_cstr(&f->key), str_cstr(&vary), h->status,
                                     fs, f->request_time, f->response_time);
    str_clear(&vary);
    f->cs.stored = f->writer != NULL;
    if (f->pc && !f->answered) {
        int64_t len = h->framing == HTTP_FRAME_LENGTH ? (int64_t)h->content_length
                      : h->framing == HTTP_FRAME_NONE ? 0
                                                      : -1;
        const struct slice *cl = http_resp_header(h, "Content-Length");
        unsigned long long v;
        if (f->req->method == HTTP_HEAD && cl && slice_to_u64(*cl, ~0ULL >> 1, &v) == 0)
            len = (int64_t)v;
        struct str out = STR_INIT;
        str_append(&out, fields.ptr, fields.len);
        str_appendf(&out, "Via: %s\r\n", f->st->via);
        field_cs(f, &out);
        proxy_session_head(f->pc->s, h->status, slice_make(out.ptr, out.len), len);
        f->head_sent = true;
        str_clear(&out);
    }
    str_clear(&fields);
}

static void up_body(void *vf, const char *p, size_t n)
{
    struct fetch *f = vf;
    if (f->writer && cache_writer_write(f->writer, p, n) != 0) {
        cache_writer_abort(f->writer); /* too large or a disk error: pass it on unstored */
        f->writer = NULL;
    }
    if (!f->pc || !f->head_sent)
        return;
    proxy_session_body(f->pc->s, p, n);
    if (conn_output_pending(f->pc->c) > OUT_HIGH)
        upstream_pause(f->up, true); /* proxy_fetch_writable resumes */
}

/* Unsafe methods invalidate the target URI (RFC 9111 §4.4). */
static void invalidate(struct fetch *f)
{
    cache_store_purge(f->st->store, str_cstr(&f->key), false);
    char *p = f->also_invalid.ptr;
    for (char *nl; p && (nl = strchr(p, '\n')); p = nl + 1) {
        *nl = '\0';
        cache_store_purge(f->st->store, p, false);
    }
}

static void up_done(void *vf, bool ok, int status, const char *why)
{
    struct fetch *f = vf;
    f->up = NULL;
    if (f->writer) {
        struct cache_obj *o = ok ? cache_writer_commit(f->writer) : NULL;
        if (!ok)
            cache_writer_abort(f->writer);
        f->writer = NULL;
        f->stored = o != NULL;
        cache_obj_unref(f->st->store, o);
    }
    if (ok && cache_invalidates(f->req->method, f->req->method_name, f->status))
        invalidate(f);
    if (!f->answered && f->head_sent) {
        f->answered = true;
        if (f->pc)
            proxy_session_end(f->pc->s, ok);
    } else if (!f->answered) {
        bool served = false;
        if (f->stale) {
            struct cache_cc cc;
            cache_cc_of_request(f->req, &cc);
            bool heur;
            int64_t life = cache_lifetime(f->stale->fields, f->stale->status, &f->st->rules, &heur);
            int64_t age = cache_age(f->stale->fields, f->stale->request_time,
                                    f->stale->response_time, time(NULL));
            if (cache_stale_if_error(&cc, f->stale->fields, life, age)) {
                f->cs.detail = "stale-if-error";
                served = serve_stored(f, f->stale);
            }
        }
        if (!served) {
            f->cs.detail = status == 504 ? "timeout" : status == 403 ? "refused" : "error";
            log_info("proxy " LOG_ID " %s: %s", LOG_IDV(f->pc ? f->pc->id : 0), str_cstr(&f->key),
                     why ? why : "failed");
            answer_error(f, status ? status : 502, why);
        }
    }
    if (f->leader)
        proxy_inflight_done(f->st, str_cstr(&f->key), f->stored);
    release_client(f);
    fetch_free(f);
}

static const struct upstream_ops up_ops = {up_head, up_body, up_done};

static void fetch_origin(struct fetch *f)
{
    struct str extra = STR_INIT;
    f->conditional = f->stale && cache_conditional(f->stale->fields, &extra);
    struct proxy_forward fw = {
        .via = f->st->via,
        .client = f->pc ? f->pc->peer : "unknown",
        .tls = false,
        .extra = slice_make(str_cstr(&extra), extra.len),
        .drop_conditionals = f->collapse, /* the cache wants a whole response to store */
    };
    struct str head = STR_INIT;
    proxy_request_head(f->req, &f->url, &fw, &head);
    str_clear(&extra);
    f->request_time = time(NULL);
    bool idem = f->req->method == HTTP_GET || f->req->method == HTTP_HEAD ||
                f->req->method == HTTP_OPTIONS || f->req->method == HTTP_PUT ||
                f->req->method == HTTP_DELETE || f->req->method == HTTP_TRACE;
    if (!f->cs.fwd)
        f->cs.fwd = f->stale ? "stale" : "uri-miss";
    upstream_request(f->pw, &f->url, f->req->method, idem, &head, f->req->body, f->req->body_len,
                     &up_ops, f, &f->up);
    str_clear(&head);
}

/* ---- collapsing ---- */

static void woken(void *vf, bool stored)
{
    struct fetch *f = vf;
    f->cs.collapsed = true;
    if (!stored) {
        f->cs.fwd = "uri-miss";
        return fetch_origin(f); /* the first answer was not storable: ask for our own */
    }
    lookup(f);
}

/* ---- the look-up ---- */

struct vary_match {
    const struct http_request *req;
    struct str key;
};

static bool match_vary(const struct cache_obj *o, void *arg)
{
    struct vary_match *m = arg;
    str_reset(&m->key);
    if (cache_vary_key(o->fields, m->req, &m->key) != 0)
        return false;
    return !strcmp(str_cstr(&m->key), o->vary);
}

/* A copy of the request a background revalidation can keep after the client moved on. */
static void own_request(struct fetch *f, const struct http_request *req)
{
    struct str *h = &f->own_head;
    str_appendf(h, "%.*s %.*s HTTP/1.1\r\n", (int)req->method_name.len, req->method_name.p,
                (int)req->target.len, req->target.p);
    for (unsigned i = 0; i < req->nheaders; i++)
        if (!slice_eq_ci(req->headers[i].name, "Content-Length") &&
            !slice_eq_ci(req->headers[i].name, "Transfer-Encoding"))
            str_appendf(h, "%.*s: %.*s\r\n", (int)req->headers[i].name.len, req->headers[i].name.p,
                        (int)req->headers[i].value.len, req->headers[i].value.p);
    str_appends(h, "\r\n");
    const struct http_limits lim = {1 << 20, 1 << 20, 0};
    const char *why;
    if (http_request_parse(h->ptr, h->len, &lim, &f->own_req, &why) == 0)
        f->req = &f->own_req;
}

/* stale-while-revalidate: a fetch of our own, with no client, unless one is in flight. */
static void revalidate_later(struct fetch *f, struct cache_obj *o)
{
    if (!proxy_inflight_join(f->st, str_cstr(&f->key), NULL))
        return;
    struct fetch *b = xcalloc(1, sizeof *b);
    b->pw = f->pw;
    b->st = f->st;
    b->url = f->url;
    own_request(b, f->req);
    if (b->req != &b->own_req) {
        proxy_inflight_done(f->st, str_cstr(&f->key), false);
        return fetch_free(b);
    }
    str_append(&b->key, f->key.ptr, f->key.len);
    b->leader = b->collapse = true;
    b->answered = true; /* nobody to answer */
    b->stale = o;
    o->refs++; /* cannot race: the caller holds a reference */
    b->cs.ttl = CACHE_ABSENT;
    /* The path must outlive the client's request: take it from the key. */
    const char *pq = strchr(str_cstr(&b->key) + 8, '/');
    b->url.path_query = slice_cstr(pq ? pq : "/");
    fetch_origin(b);
}

static void lookup(struct fetch *f)
{
    struct cache_cc cc;
    cache_cc_of_request(f->req, &cc);
    struct vary_match m = {f->req, STR_INIT};
    struct cache_obj *o = cache_store_lookup(f->st->store, str_cstr(&f->key), match_vary, &m);
    str_clear(&m.key);
    if (o) {
        bool heur;
        int64_t life = cache_lifetime(o->fields, o->status, &f->st->rules, &heur);
        int64_t age = cache_age(o->fields, o->request_time, o->response_time, time(NULL));
        enum cache_use use = cache_decide(&cc, o->fields, life, age);
        if (use != CACHE_USE_VALIDATE) {
            f->cs.hit = true;
            if (use == CACHE_USE_STALE_REVALIDATE) {
                f->cs.detail = "stale-while-revalidate";
                revalidate_later(f, o);
            }
            bool ok = serve_stored(f, o);
            cache_obj_unref(f->st->store, o);
            if (ok) {
                release_client(f);
                return fetch_free(f);
            }
            f->cs.hit = false;
            f->cs.detail = NULL;
            return fetch_origin(f);
        }
        if (cc.only_if_cached) {
            cache_obj_unref(f->st->store, o);
            answer_error(f, 504, "Only a cached response was acceptable, and it is stale.");
            release_client(f);
            return fetch_free(f);
        }
        f->stale = o;
        f->cs.fwd = cc.no_cache ? "request" : "stale";
        return fetch_origin(f);
    }
    if (cc.only_if_cached) {
        answer_error(f, 504, "Only a cached response was acceptable, and there is none.");
        release_client(f);
        return fetch_free(f);
    }
    f->cs.fwd = cache_store_has(f->st->store, str_cstr(&f->key)) ? "vary-miss" : "uri-miss";
    if (!f->cs.collapsed) {
        f->waiter = (struct inflight_waiter){f->pw->w->host.post, woken, f, NULL};
        if (!proxy_inflight_join(f->st, str_cstr(&f->key), &f->waiter))
            return; /* woken when the fetch in flight is done */
        f->leader = true;
    }
    fetch_origin(f);
}

/* ---- entry points ---- */

void proxy_fetch_start(struct pconn *pc, struct http_request *req)
{
    struct fetch *f = xcalloc(1, sizeof *f);
    f->pc = pc;
    f->pw = pc->pw;
    f->st = pc->pw->st;
    f->cs.ttl = CACHE_ABSENT;
    pc->fetch = f;
    own_request(f, req);
    if (f->req != &f->own_req) {
        answer_error(f, 400, "The request could not be copied.");
        release_client(f);
        return fetch_free(f);
    }
    /* The body is sent when the fetch starts, which for a request with a body is now. */
    f->own_req.body = req->body;
    f->own_req.body_len = req->body_len;
    const char *why;
    if (proxy_url_of(f->req, pc->reverse ? &f->st->reverse : NULL, &f->url, &why) != 0) {
        answer_error(f, 400, why);
        release_client(f);
        return fetch_free(f);
    }
    proxy_url_key(&f->url, &f->key);
    if (f->req->method == HTTP_GET || f->req->method == HTTP_HEAD) {
        f->collapse = f->req->method == HTTP_GET && !f->req->body_len;
        return lookup(f);
    }
    f->cs.fwd = "method";
    fetch_origin(f);
}

void proxy_fetch_writable(struct pconn *pc)
{
    if (pc->fetch && pc->fetch->up && conn_output_pending(pc->c) < OUT_HIGH / 2)
        upstream_pause(pc->fetch->up, false);
}

void proxy_fetch_detach(struct pconn *pc)
{
    if (!pc->fetch)
        return;
    pc->fetch->pc = NULL;
    upstream_pause(pc->fetch->up, false); /* nobody to wait for: fill the store */
    pc->fetch = NULL;
}
