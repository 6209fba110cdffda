/*
 * proxy service fetch — one GET/HEAD (or unsafe) request through the cache: look-up by URL and
 * Vary, answer from the store when fresh (RFC 9111 §4), stale while revalidating in the
 * background (RFC 5861 §3), or after a conditional request whose 304 refreshes the stored head
 * (§4.3); a miss is fetched once however many clients ask at the same time (collapsing, see
 * collapse.c: the first streams it to its client and into the object's file, the others read
 * that file as it grows; the first's client too once it falls behind, so the origin is read
 * at its own pace and no client waits for another), a failing origin is answered with a stale
 * copy where stale-if-error allows, else 502/504; a reverse-proxied site with several origins
 * tries the next one.
 * Unsafe methods pass through and invalidate what they change (§4.4).
 *
 * The client is a struct fetch_client: a connection of the proxy's own listeners (conn.c) or
 * an exchange of the HTTP service (site.c).
 */
#include "proxy/service/service_int.h"

#include "http/response.h"
#include "http/static.h"

#include "core/log.h"
#include "core/metrics.h"
#include "core/loop_post.h"
#include "core/xmalloc.h"
#include "host/host.h"

#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A client with this much waiting for it is behind: a response going into the object's file
 * is then read from there at the client's pace, a stream nobody shares pauses the origin. */
#define OUT_HIGH (1024 * 1024)
#define READ_PIECE (256 * 1024) /* a collapsed reader passes on at most this at a time */

static struct metric m_hits = METRIC("pigeon_cache_hits_total", "Requests answered from the cache");
static struct metric m_misses =
    METRIC("pigeon_cache_misses_total", "Requests the cache had no usable response for");
static struct metric m_stale =
    METRIC("pigeon_cache_stale_total", "Stale responses served (stale-while-revalidate, "
                                       "stale-if-error)");
static struct metric m_revalidated =
    METRIC("pigeon_cache_revalidated_total", "Stored responses refreshed by a 304");
static struct metric m_collapsed =
    METRIC("pigeon_cache_collapsed_total", "Misses answered from another client's fetch");
static struct metric m_bytes_cache = METRIC("pigeon_cache_bytes_total{source=\"cache\"}",
                                            "Body octets sent to clients, by where they came from");
static struct metric m_bytes_origin =
    METRIC("pigeon_cache_bytes_total{source=\"origin\"}",
           "Body octets sent to clients, by where they came from");

struct fetch {
    struct fetch_client *cl; /* NULL: a background revalidation (or the client left) */
    struct proxy_worker *pw;
    struct proxy_state *st;
    struct http_request *req; /* &own_req: the client's request may go before the fetch */
    struct http_request own_req;
    struct str own_head;       /* what own_req points into */
    struct str body;           /* the request's body */
    struct proxy_origins *rev; /* a reverse proxy's origins, NULL: forward */
    unsigned origin, tries;    /* rev: the origin asked, and how many were */
    struct proxy_url url;
    struct str key;
    struct cache_obj *stale; /* the stored copy being revalidated */
    struct upstream *up;
    struct cache_writer *writer;
    struct inflight *flight; /* the collapsed fetch this one leads or reads */
    bool leader, reader, published, asleep, in_pump;
    bool collapse, conditional, head_sent, answered, stored;
    uint64_t sent; /* body octets passed on to the client */
    time_t request_time, response_time;
    int status;
    struct cache_status cs;
    struct str also_invalid; /* Location / Content-Location keys on the same host, '\n' ends */
    struct inflight_waiter waiter;
    struct fetch *wprev, *wnext; /* the worker's list (proxy_fetch_free_all) */
};

static void fetch_origin(struct fetch *f);
static void lookup(struct fetch *f);
static void reader_pump(struct fetch *f);
static void own_request(struct fetch *f, const struct http_request *req);
static struct fetch *fetch_new(struct proxy_worker *pw, struct fetch_client *cl,
                               struct proxy_origins *rev);

/* ---- the end of a fetch ---- */

static void fetch_free(struct fetch *f)
{
    if (f->wprev)
        f->wprev->wnext = f->wnext;
    else
        f->pw->fetches = f->wnext;
    if (f->wnext)
        f->wnext->wprev = f->wprev;
    if (f->flight && f->leader)
        proxy_inflight_done(f->st, f->flight, f->published ? INFLIGHT_CUT : INFLIGHT_OWN);
    else if (f->flight)
        proxy_inflight_unref(f->st, f->flight);
    cache_obj_unref(f->st->store, f->stale);
    cache_writer_abort(f->writer);
    str_clear(&f->key);
    str_clear(&f->own_head);
    str_clear(&f->body);
    str_clear(&f->also_invalid);
    free(f);
}

/* The request is answered: the client reads on. */
static void release_client(struct fetch *f)
{
    struct fetch_client *cl = f->cl;
    f->cl = NULL;
    if (!cl)
        return;
    cl->fetch = NULL;
    cl->ops->release(cl);
}

static void field_cs(struct fetch *f, struct str *fields)
{
    str_appends(fields, "Cache-Status: ");
    cache_status_format(f->st->name, &f->cs, fields);
    str_appends(fields, "\r\n");
}

static void answer_error(struct fetch *f, int status, const char *why)
{
    if (!f->cl || f->answered)
        return;
    f->answered = true;
    struct str fields = STR_INIT;
    str_appendf(&fields, "Via: %s\r\n", f->st->via);
    if (f->cs.fwd || f->cs.hit)
        field_cs(f, &fields);
    f->cl->ops->error(f->cl, status, why, slice_make(str_cstr(&fields), fields.len));
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

/* The status, extra fields and body part for the client's conditions and Range. */
static int stored_status(struct fetch *f, struct cache_obj *o, struct str *fields, uint64_t *off,
                         uint64_t *len)
{
    enum http_cond c = o->status == 200 ? client_condition(f->req, o->fields) : HTTP_COND_PASS;
    struct http_range r;
    int rr = c == HTTP_COND_PASS ? client_range(f->req, o, &r) : 0;
    *off = 0;
    *len = o->body_len;
    if (c == HTTP_COND_NOT_MODIFIED || c == HTTP_COND_FAILED) {
        *len = 0;
        return c == HTTP_COND_NOT_MODIFIED ? 304 : 412;
    }
    if (rr == 1) {
        *off = r.first;
        *len = r.last - r.first + 1;
        str_appendf(fields, "Content-Range: bytes %llu-%llu/%llu\r\n", (unsigned long long)r.first,
                    (unsigned long long)r.last, (unsigned long long)o->body_len);
        return 206;
    }
    if (rr == -416) {
        *len = 0;
        str_appendf(fields, "Content-Range: bytes */%llu\r\n", (unsigned long long)o->body_len);
        return 416;
    }
    return o->status;
}

/* Answers the client from o. false when o's body is gone (purged meanwhile). */
static bool serve_stored(struct fetch *f, struct cache_obj *o)
{
    struct fetch_client *cl = f->cl;
    if (!cl || f->answered)
        return true;
    bool heur;
    int64_t life = cache_lifetime(o->fields, o->status, &f->st->rules, &heur);
    int64_t age = cache_age(o->fields, o->request_time, o->response_time, time(NULL));
    f->cs.ttl = life - age;
    const char *mem = NULL;
    int fd = -1;
    if (o->body_len) { /* HEAD too: an HTTP-service client takes the length from the body */
        fd = cache_obj_body(f->st->store, o, &mem);
        if (fd < 0 && !mem)
            return false;
    }
    struct str fields = STR_INIT;
    uint64_t off, len;
    int status = stored_status(f, o, &fields, &off, &len);
    client_fields(f, o->fields, age, &fields);
    f->answered = true;
    cl->ops->head(cl, status, slice_make(str_cstr(&fields), fields.len), (int64_t)len, false);
    if (len && mem)
        cl->ops->body(cl, mem + off, (size_t)len);
    else if (len && fd >= 0)
        cl->ops->body_file(cl, fd, o->body_off + off, len);
    if (fd >= 0)
        close(fd);
    cl->ops->end(cl, true);
    if (f->req->method == HTTP_GET)
        metric_add(&m_bytes_cache, len);
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

/* A 304 to our conditional request: the stored response refreshed and served. */
static void merge_304(struct fetch *f, struct slice fs)
{
    struct str merged = STR_INIT;
    cache_merge_304(f->stale->fields, fs, &merged);
    struct cache_obj *n =
        cache_store_refresh(f->st->store, f->stale, slice_make(str_cstr(&merged), merged.len),
                            f->request_time, f->response_time);
    f->stored = n != NULL;
    metric_inc(&m_revalidated);
    if (!serve_stored(f, n ? n : f->stale))
        answer_error(f, 503, "The stored response vanished; please retry.");
    cache_obj_unref(f->st->store, n);
    str_clear(&merged);
    release_client(f);
}

/* A 5xx while a stale copy is held: the copy, when stale-if-error allows (RFC 5861 §4). */
static bool serve_stale_on_error(struct fetch *f)
{
    if (!f->stale)
        return false;
    int64_t age =
        cache_age(f->stale->fields, f->stale->request_time, f->stale->response_time, time(NULL));
    bool heur;
    int64_t life = cache_lifetime(f->stale->fields, f->stale->status, &f->st->rules, &heur);
    struct cache_cc cc;
    cache_cc_of_request(f->req, &cc);
    if (!cache_stale_if_error(&cc, f->stale->fields, life, age))
        return false;
    f->cs.detail = "stale-if-error";
    if (!serve_stored(f, f->stale))
        return false;
    metric_inc(&m_stale);
    return true;
}

/* The leader's response goes into the store, and to the clients collapsed behind it. */
static void start_storing(struct fetch *f, const struct http_resp_head *h, struct slice fs)
{
    const char *why = NULL;
    struct str vary = STR_INIT;
    bool too_long = h->framing == HTTP_FRAME_LENGTH &&
                    h->content_length > cache_store_spool_limit(f->st->store);
    if (f->collapse && f->req->method == HTTP_GET && !too_long &&
        cache_storable(f->req, h->status, fs, &why) && cache_vary_key(fs, f->req, &vary) == 0)
        f->writer = cache_writer_new(f->st->store, str_cstr(&f->key), str_cstr(&vary), h->status,
                                     fs, f->request_time, f->response_time);
    f->cs.stored = f->writer != NULL;
    if (f->flight && f->leader) {
        uint64_t body_off;
        int fd = f->writer ? cache_writer_reader(f->writer, &body_off) : -1;
        int64_t len = h->framing == HTTP_FRAME_LENGTH ? (int64_t)h->content_length
                      : h->framing == HTTP_FRAME_NONE ? 0
                                                      : -1;
        if (fd >= 0) {
            proxy_inflight_stream(f->st, f->flight, h->status, fs, str_cstr(&vary), len,
                                  f->request_time, f->response_time, fd, body_off);
            f->published = true;
        } else { /* nothing to share: the others ask for their own now */
            proxy_inflight_done(f->st, f->flight, INFLIGHT_OWN);
            f->flight = NULL;
            f->leader = false;
        }
    }
    str_clear(&vary);
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
        merge_304(f, fs);
        str_clear(&fields);
        return;
    }
    if (h->status >= 500 && serve_stale_on_error(f)) {
        str_clear(&fields);
        release_client(f); /* the origin's error body is read and dropped */
        return;
    }
    start_storing(f, h, fs);
    if (f->cl && !f->answered) {
        int64_t len = h->framing == HTTP_FRAME_LENGTH ? (int64_t)h->content_length
                      : h->framing == HTTP_FRAME_NONE ? 0
                                                      : -1;
        if (f->req->method == HTTP_HEAD) { /* the origin's length, or none (RFC 9110 §8.6) */
            const struct slice *cl = http_resp_header(h, "Content-Length");
            unsigned long long v;
            len = cl && slice_to_u64(*cl, ~0ULL >> 1, &v) == 0 ? (int64_t)v : -1;
        }
        struct str out = STR_INIT;
        str_append(&out, fields.ptr, fields.len);
        str_appendf(&out, "Via: %s\r\n", f->st->via);
        field_cs(f, &out);
        f->cl->ops->head(f->cl, h->status, slice_make(out.ptr, out.len), len, true);
        f->head_sent = true;
        str_clear(&out);
    }
    str_clear(&fields);
}

/* The leader's client falls behind while the response goes into the object's file: it reads
 * on from that file at its own pace, like a collapsed client, from where it is; the leader
 * goes on filling the object at the origin's pace, so the clients collapsed behind it are
 * held to nobody's speed but their own. */
static void hand_to_reader(struct fetch *f)
{
    struct fetch *r = fetch_new(f->pw, f->cl, f->rev);
    own_request(r, f->req);
    str_append(&r->key, f->key.ptr, f->key.len);
    r->cs = f->cs;
    r->flight = f->flight;
    proxy_inflight_ref(f->st, f->flight);
    r->reader = r->head_sent = true;
    r->sent = f->sent;
    f->cl->fetch = r;
    f->cl = NULL; /* handed over, not released */
    reader_pump(r);
}

static void up_body(void *vf, const char *p, size_t n)
{
    struct fetch *f = vf;
    if (f->writer && cache_writer_write(f->writer, p, n) != 0) {
        cache_writer_abort(f->writer); /* too large or a disk error: pass it on unstored */
        f->writer = NULL;
        if (f->flight && f->leader) { /* the readers cannot have the rest */
            proxy_inflight_done(f->st, f->flight, INFLIGHT_CUT);
            f->flight = NULL;
            f->leader = false;
        }
    } else if (f->writer && f->flight && f->leader) {
        proxy_inflight_wrote(f->st, f->flight, cache_writer_body_len(f->writer));
    }
    if (!f->cl || !f->head_sent)
        return;
    f->cl->ops->body(f->cl, p, n);
    f->sent += n;
    metric_add(&m_bytes_origin, n);
    if (f->cl->ops->pending(f->cl) <= OUT_HIGH)
        return;
    if (f->flight && f->leader && f->published && f->writer)
        hand_to_reader(f); /* the object's file holds it all: the origin need not wait */
    else
        upstream_pause(f->up, true); /* a stream nobody shares: proxy_fetch_writable resumes */
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

/* The first origin of a reverse-proxied site that is not resting after a failure. */
static unsigned pick_origin(const struct proxy_origins *o, unsigned from)
{
    long long now = (long long)time(NULL);
    for (unsigned i = 0; i < o->n; i++) {
        unsigned k = (from + i) % o->n;
        if (atomic_load_explicit(&o->down_until[k], memory_order_relaxed) <= now)
            return k;
    }
    return from % o->n; /* all resting: try anyway */
}

/* A reverse proxy's origin failed before answering: rest it, and ask the next one when the
 * request may be repeated. True when the fetch goes on. */
static bool fail_over(struct fetch *f)
{
    struct proxy_origins *o = f->rev;
    if (!o || f->status || f->head_sent || f->answered)
        return false; /* after a response head: that answer stands */
    atomic_store_explicit(&o->down_until[f->origin], (long long)time(NULL) + PROXY_ORIGIN_DOWN,
                          memory_order_relaxed);
    bool idem = f->req->method == HTTP_GET || f->req->method == HTTP_HEAD ||
                f->req->method == HTTP_OPTIONS || f->req->method == HTTP_PUT ||
                f->req->method == HTTP_DELETE;
    if (o->n < 2 || f->tries >= o->n || !idem)
        return false;
    log_info("proxy " LOG_ID " origin %s:%u failed, trying the next",
             LOG_IDV(f->cl ? f->cl->id : 0), f->url.host, (unsigned)f->url.port);
    unsigned next = pick_origin(o, f->origin + 1);
    struct slice pq = f->url.path_query;
    f->url = o->url[next];
    f->url.path_query = pq;
    f->origin = next;
    fetch_origin(f);
    return true;
}

static void up_done(void *vf, bool ok, int status, const char *why)
{
    struct fetch *f = vf;
    f->up = NULL;
    if (!ok && (status == 502 || status == 504) && fail_over(f))
        return;
    if (f->writer) {
        struct cache_obj *o = ok ? cache_writer_commit(f->writer) : NULL;
        if (!ok)
            cache_writer_abort(f->writer);
        f->writer = NULL;
        f->stored = o != NULL;
        cache_obj_unref(f->st->store, o);
    }
    if (f->flight && f->leader) {
        proxy_inflight_done(f->st, f->flight,
                            !f->published ? INFLIGHT_OWN
                            : ok          ? INFLIGHT_COMPLETE
                                          : INFLIGHT_CUT);
        f->flight = NULL;
        f->leader = false;
    }
    if (ok && cache_invalidates(f->req->method, f->req->method_name, f->status))
        invalidate(f);
    if (!f->answered && f->head_sent) {
        f->answered = true;
        if (f->cl)
            f->cl->ops->end(f->cl, ok);
    } else if (!f->answered && !serve_stale_on_error(f)) {
        f->cs.detail = status == 504 ? "timeout" : status == 403 ? "refused" : "error";
        log_info("proxy " LOG_ID " %s: %s", LOG_IDV(f->cl ? f->cl->id : 0), str_cstr(&f->key),
                 why ? why : "failed");
        answer_error(f, status ? status : 502, why);
    }
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
        .client = f->cl ? f->cl->peer : "unknown",
        .tls = f->cl && f->cl->tls,
        .extra = slice_make(str_cstr(&extra), extra.len),
        .drop_conditionals = f->collapse, /* the cache wants a whole response to store */
        .reverse = f->rev != NULL,
        .keep_host = f->rev && f->rev->preserve_host,
    };
    struct str head = STR_INIT;
    proxy_request_head(f->req, &f->url, &fw, &head);
    str_clear(&extra);
    f->request_time = time(NULL);
    f->tries++;
    bool idem = f->req->method == HTTP_GET || f->req->method == HTTP_HEAD ||
                f->req->method == HTTP_OPTIONS || f->req->method == HTTP_PUT ||
                f->req->method == HTTP_DELETE || f->req->method == HTTP_TRACE;
    if (!f->cs.fwd)
        f->cs.fwd = f->stale ? "stale" : "uri-miss";
    upstream_request(f->pw, &f->url, f->req->method, idem, &head, f->body.ptr, f->body.len, &up_ops,
                     f, &f->up);
    str_clear(&head);
}

/* ---- reading a collapsed fetch ---- */

static void reader_finish(struct fetch *f, bool complete)
{
    if (f->cl && !f->answered) {
        f->answered = true;
        f->cl->ops->end(f->cl, complete);
    }
    release_client(f);
    fetch_free(f);
}

static void reader_wake(void *vf)
{
    struct fetch *f = vf;
    f->asleep = false;
    reader_pump(f);
}

/* The shared head, or false when this client cannot share the response (another variant,
 * nothing to share): then it asks the origin itself. */
static bool reader_head(struct fetch *f, const struct inflight_view *v)
{
    struct str vary = STR_INIT;
    bool same = v->state != INFLIGHT_OWN && !(v->state == INFLIGHT_CUT && v->written == 0) &&
                cache_vary_key(v->fields, f->req, &vary) == 0 && !strcmp(str_cstr(&vary), v->vary);
    str_clear(&vary);
    if (!same)
        return false;
    metric_inc(&m_collapsed);
    f->cs.fwd_status = v->status;
    struct str fields = STR_INIT;
    client_fields(f, v->fields, cache_age(v->fields, v->request_time, v->response_time, time(NULL)),
                  &fields);
    f->cl->ops->head(f->cl, v->status, slice_make(str_cstr(&fields), fields.len), v->length, true);
    f->head_sent = true;
    str_clear(&fields);
    return true;
}

/* Passes on what the leader has written, while the client takes it; sleeps until more.
 * A client op may detach the client (f->cl NULL): the loop's top then ends the fetch. */
static void reader_pump(struct fetch *f)
{
    for (;;) {
        if (!f->cl)
            return reader_finish(f, false);
        f->in_pump = true;
        struct inflight_view v;
        proxy_inflight_view(f->st, f->flight, &v);
        if (!f->head_sent && v.state != INFLIGHT_FETCHING && !reader_head(f, &v)) {
            proxy_inflight_unref(f->st, f->flight);
            f->flight = NULL;
            f->reader = f->in_pump = false;
            f->cs.collapsed = false;
            return fetch_origin(f);
        }
        while (f->cl && f->head_sent && f->sent < v.written &&
               f->cl->ops->pending(f->cl) < OUT_HIGH) {
            uint64_t n = v.written - f->sent < READ_PIECE ? v.written - f->sent : READ_PIECE;
            f->cl->ops->body_file(f->cl, v.fd, v.body_off + f->sent, n);
            f->sent += n;
            if (f->req->method == HTTP_GET)
                metric_add(&m_bytes_cache, n);
        }
        if (!f->cl)
            continue;
        f->in_pump = false;
        if (f->sent < v.written)
            return; /* proxy_fetch_writable pumps again */
        if (f->head_sent && (v.state == INFLIGHT_COMPLETE || v.state == INFLIGHT_CUT))
            return reader_finish(f, v.state == INFLIGHT_COMPLETE);
        if (proxy_inflight_wait(f->st, f->flight, &f->waiter, f->head_sent ? f->sent : 0)) {
            f->asleep = true;
            return;
        }
    }
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

/* A copy of the request that the fetch can keep after the client moved on. */
static void own_request(struct fetch *f, const struct http_request *req)
{
    struct str *h = &f->own_head;
    str_appendf(h, "%.*s %.*s HTTP/1.1\r\n", (int)req->method_name.len, req->method_name.p,
                (int)req->target.len, req->target.p);
    if (req->host.len && !http_request_header(req, "Host")) /* HTTP/2: :authority */
        str_appendf(h, "Host: %.*s\r\n", (int)req->host.len, req->host.p);
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
    if (req->body_len)
        str_append(&f->body, req->body, req->body_len);
    f->own_req.body = f->body.ptr;
    f->own_req.body_len = f->body.len;
    f->own_req.has_length = req->has_length;
    f->own_req.chunked = req->chunked;
}

/* The URL asked for and the cache key. 0, or -1 with *why_out. */
static int target(struct fetch *f, const char **why_out)
{
    if (!f->rev) {
        if (proxy_url_of(f->req, NULL, &f->url, why_out) != 0)
            return -1;
        proxy_url_key(&f->url, &f->key);
        return 0;
    }
    f->origin = pick_origin(f->rev, 0);
    if (proxy_url_of(f->req, &f->rev->url[f->origin], &f->url, why_out) != 0)
        return -1;
    /* The key does not depend on which origin answers; with the client's Host passed on,
     * each Host is a site of its own. */
    struct proxy_url k = f->rev->url[0];
    if (f->rev->preserve_host && proxy_url_with_host(&f->rev->url[0], f->req->host, &k) != 0)
        return *why_out = "bad Host", -1;
    k.path_query = f->url.path_query;
    proxy_url_key(&k, &f->key);
    return 0;
}

static struct fetch *fetch_new(struct proxy_worker *pw, struct fetch_client *cl,
                               struct proxy_origins *rev)
{
    struct fetch *f = xcalloc(1, sizeof *f);
    f->cl = cl;
    f->pw = pw;
    f->st = pw->st;
    f->rev = rev;
    f->cs.ttl = CACHE_ABSENT;
    f->waiter = (struct inflight_waiter){pw->w->host.post, reader_wake, f, NULL};
    f->wnext = pw->fetches;
    if (pw->fetches)
        pw->fetches->wprev = f;
    pw->fetches = f;
    return f;
}

/* stale-while-revalidate: a fetch of our own, with no client, unless one is in flight. */
static void revalidate_later(struct fetch *f, struct cache_obj *o)
{
    struct inflight *fl;
    if (proxy_inflight_join(f->st, str_cstr(&f->key), NULL, &fl) != INFLIGHT_LEAD)
        return;
    struct fetch *b = fetch_new(f->pw, NULL, f->rev);
    b->flight = fl;
    b->leader = true;
    own_request(b, f->req);
    const char *why;
    if (b->req != &b->own_req || target(b, &why) != 0)
        return fetch_free(b);
    b->collapse = true;
    b->answered = true; /* nobody to answer */
    b->stale = o;
    o->refs++; /* cannot race: the caller holds a reference */
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
                metric_inc(&m_stale);
                revalidate_later(f, o);
            }
            bool ok = serve_stored(f, o);
            cache_obj_unref(f->st->store, o);
            if (ok) {
                metric_inc(&m_hits);
                release_client(f);
                return fetch_free(f);
            }
            f->cs.hit = false;
            f->cs.detail = NULL;
            metric_inc(&m_misses);
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
        metric_inc(&m_misses);
        return fetch_origin(f);
    }
    if (cc.only_if_cached) {
        answer_error(f, 504, "Only a cached response was acceptable, and there is none.");
        release_client(f);
        return fetch_free(f);
    }
    metric_inc(&m_misses);
    f->cs.fwd = cache_store_has(f->st->store, str_cstr(&f->key)) ? "vary-miss" : "uri-miss";
    /* A range that misses goes to the origin as asked and its 206 to this client alone,
     * nothing stored (Squid's range_offset_limit 0): a resuming client (curl -C -, wget -c)
     * gets its range instead of the whole body from octet 0. */
    if (http_request_header(f->req, "Range"))
        f->collapse = false;
    if (!f->collapse)
        return fetch_origin(f);
    switch (proxy_inflight_join(f->st, str_cstr(&f->key), &f->waiter, &f->flight)) {
    case INFLIGHT_LEAD:
        f->leader = true;
        return fetch_origin(f);
    case INFLIGHT_QUEUED:
        f->reader = f->asleep = f->cs.collapsed = true;
        return; /* reader_wake */
    case INFLIGHT_READ:
        f->reader = f->cs.collapsed = true;
        return reader_pump(f);
    }
}

/* ---- entry points ---- */

void proxy_fetch_start(struct proxy_worker *pw, struct fetch_client *cl,
                       const struct http_request *req, struct proxy_origins *rev)
{
    struct fetch *f = fetch_new(pw, cl, rev);
    cl->fetch = f;
    own_request(f, req);
    const char *why = "The request could not be copied.";
    if (f->req != &f->own_req || target(f, &why) != 0) {
        answer_error(f, 400, why);
        release_client(f);
        return fetch_free(f);
    }
    if (f->req->method == HTTP_GET || f->req->method == HTTP_HEAD) {
        f->collapse = f->req->method == HTTP_GET && !f->req->body_len;
        return lookup(f);
    }
    f->cs.fwd = "method";
    fetch_origin(f);
}

void proxy_fetch_writable(struct fetch_client *cl)
{
    struct fetch *f = cl->fetch;
    if (!f || cl->ops->pending(cl) >= OUT_HIGH / 2)
        return;
    if (f->reader && !f->asleep)
        reader_pump(f);
    else if (f->up)
        upstream_pause(f->up, false);
}

void proxy_fetch_cut_all(struct proxy_worker *pw)
{
    for (;;) { /* a client op may end other fetches: look from the start each time */
        struct fetch *f = pw->fetches;
        while (f && !f->cl)
            f = f->wnext;
        if (!f)
            return;
        upstream_cancel(f->up);
        f->up = NULL;
        if (f->asleep && f->flight)
            proxy_inflight_forget(f->st, f->flight, &f->waiter);
        f->asleep = false;
        if (f->head_sent && !f->answered) {
            f->answered = true;
            f->cl->ops->end(f->cl, false);
        } else {
            answer_error(f, 503, "The server is shutting down.");
        }
        release_client(f);
        fetch_free(f);
    }
}

void proxy_fetch_free_all(struct proxy_worker *pw)
{
    while (pw->fetches) {
        struct fetch *f = pw->fetches;
        upstream_cancel(f->up);
        f->up = NULL;
        if (f->asleep && f->flight)
            proxy_inflight_forget(f->st, f->flight, &f->waiter);
        if (f->cl) /* its connection is gone with the loop: nobody to answer */
            f->cl->fetch = NULL;
        f->cl = NULL;
        fetch_free(f);
    }
}

void proxy_fetch_detach(struct fetch_client *cl)
{
    struct fetch *f = cl->fetch;
    if (!f)
        return;
    cl->fetch = NULL;
    f->cl = NULL;
    if (f->reader && !f->asleep && !f->in_pump) /* nothing will wake it: it is done */
        return fetch_free(f);
    upstream_pause(f->up, false); /* nobody to wait for: fill the store */
}
