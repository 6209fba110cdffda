/*
 * proxy service site — `[http NAME] proxy_to = URL [URL ...]`: a site of the HTTP service
 * whose requests go through the proxy's cache to its origins (a reverse proxy). It hangs on
 * the HTTP service's `more` hook, chained like the tracker's and MTA-STS's handlers, so every
 * transport of the HTTP service serves it: HTTP/1.1, HTTP/2 (ALPN h2, or h2c on loopback),
 * TLS with the site's own certificate.
 *
 * The exchange is the fetch's client (struct fetch_client). An answer that is whole at once
 * (from the store, an error) becomes one http_response with memory or file segments; an
 * answer that comes later (the origin, a collapsed fetch) is sent at its head with a streamed
 * body (struct http_body_source) fed as the pieces arrive: the buffer it keeps is bounded by
 * the fetch's back-pressure (pending), and the transport is woken when there is more.
 */
#include "proxy/service/service_int.h"

#include "core/log.h"
#include "core/reload_report.h"
#include "core/xmalloc.h"
#include "host/host.h"
#include "http/handler.h"
#include "http/response.h"
#include "http/service/config.h"
#include "http/service/service.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct proxy_site {
    const struct http_site *site; /* compared, never read: its configuration may be gone */
    char *name;
    struct proxy_origins origins;
};

/* The proxy_to sites of one configuration (start or reload). */
struct proxy_site_set {
    struct proxy_site_set *older;
    struct proxy_site *sites;
    unsigned n;
};

/* One exchange answered through the cache. Owned by two: the fetch (until it releases or
 * detaches the client) and, for a streamed answer, the transport (until it frees the body
 * source). Freed when both have let go. */
struct site_client {
    struct fetch_client cl;
    struct http_exchange *x; /* until the answer is handed over */
    char peer[64];
    struct http_response resp; /* a whole answer being put together */
    bool fetch_gone, src_gone;
    /* a streamed answer */
    bool streaming, ended, cut, waiting;
    struct str buf; /* pieces not pulled yet, from pos */
    size_t pos;
    void (*wake)(void *);
    void *wake_arg;
    struct event *kick; /* wakes the transport, or the fetch, outside their calls */
};

#define LOW_WATER (512 * 1024) /* below this the fetch may send more (its high is twice) */

static void sc_maybe_free(struct site_client *sc)
{
    if (!sc->fetch_gone || !sc->src_gone)
        return;
    http_response_clear(&sc->resp);
    str_clear(&sc->buf);
    if (sc->kick)
        event_free(sc->kick);
    free(sc);
}

static size_t sc_buffered(const struct site_client *sc)
{
    return sc->buf.len - sc->pos;
}

/* ---- the streamed body ---- */

static void on_kick(evutil_socket_t fd, short what, void *vsc)
{
    struct site_client *sc = vsc;
    if (!sc->fetch_gone && sc->cl.fetch && sc_buffered(sc) < LOW_WATER)
        proxy_fetch_writable(&sc->cl); /* may feed the buffer; never frees sc (src alive) */
    if (sc->waiting && sc->wake && (sc_buffered(sc) || sc->ended)) {
        sc->waiting = false;
        sc->wake(sc->wake_arg); /* may free the source, and sc with it: nothing after */
    }
}

static void kick(struct site_client *sc)
{
    if (sc->kick)
        event_active(sc->kick, EV_TIMEOUT, 0);
}

static ssize_t src_read(void *arg, char *out, size_t cap)
{
    struct site_client *sc = arg;
    size_t have = sc_buffered(sc);
    if (have == 0) {
        if (sc->ended)
            return sc->cut ? -1 : 0;
        sc->waiting = true;
        kick(sc); /* the fetch may be paused on a full buffer */
        return HTTP_BODY_WAIT;
    }
    size_t n = have < cap ? have : cap;
    memcpy(out, sc->buf.ptr + sc->pos, n);
    sc->pos += n;
    if (sc->pos == sc->buf.len) {
        str_reset(&sc->buf);
        sc->pos = 0;
    } else if (sc->pos > sc->buf.len / 2) { /* the taken half goes: the buffer stays bounded */
        str_consume(&sc->buf, sc->pos);
        sc->pos = 0;
    }
    if (!sc->ended && sc_buffered(sc) < LOW_WATER)
        kick(sc);
    return (ssize_t)n;
}

static void src_free(void *arg)
{
    struct site_client *sc = arg;
    sc->src_gone = true;
    sc->wake = NULL;
    if (!sc->fetch_gone) { /* the client went first: the fetch answers nobody now */
        sc->fetch_gone = true;
        proxy_fetch_detach(&sc->cl);
    }
    sc_maybe_free(sc);
}

static void src_set_wake(void *arg, void (*wake)(void *), void *wake_arg)
{
    struct site_client *sc = arg;
    sc->wake = wake;
    sc->wake_arg = wake_arg;
}

/* ---- struct fetch_client_ops ---- */

static void respond(struct site_client *sc)
{
    struct http_exchange *x = sc->x;
    sc->x = NULL;
    if (x)
        http_exchange_respond(x, &sc->resp); /* may read the next request at once */
}

/* The fields for the HTTP service's response: without Date and Server, which its transports
 * write themselves (one of each, as nginx's proxy_pass does). */
static void copy_fields(struct str *out, struct slice fields)
{
    size_t pos = 0;
    struct slice n, v;
    while (cache_fields_next(fields, &pos, &n, &v))
        if (!slice_eq_ci(n, "Date") && !slice_eq_ci(n, "Server"))
            str_appendf(out, "%.*s: %.*s\r\n", (int)n.len, n.p, (int)v.len, v.p);
}

static void sc_head(struct fetch_client *cl, int status, struct slice fields, int64_t length,
                    bool later)
{
    struct site_client *sc = (struct site_client *)cl;
    if (!sc->x)
        return;
    http_response_init(&sc->resp, status);
    copy_fields(&sc->resp.fields, fields);
    if (!later)
        return; /* the body and the end follow before the fetch returns */
    sc->streaming = true;
    sc->src_gone = false;
    http_response_stream_waiting(&sc->resp, (struct http_body_source){src_read, src_free, sc},
                                 src_set_wake);
    if (length >= 0) /* the origin's length: Content-Length to the client, not chunked */
        http_response_stream_length(&sc->resp, (uint64_t)length);
    respond(sc);
}

static void sc_body(struct fetch_client *cl, const char *p, size_t n)
{
    struct site_client *sc = (struct site_client *)cl;
    if (!sc->streaming) {
        if (http_response_body(&sc->resp, p, n) < 0)
            sc->cut = true;
        return;
    }
    str_append(&sc->buf, p, n);
    if (sc->waiting)
        kick(sc);
}

static void sc_body_file(struct fetch_client *cl, int fd, uint64_t off, uint64_t len)
{
    struct site_client *sc = (struct site_client *)cl;
    if (!sc->streaming) {
        if (sc->resp.fd < 0)
            sc->resp.fd = dup(fd);
        if (sc->resp.fd < 0 || http_response_file(&sc->resp, off, len) < 0)
            sc->cut = true;
        return;
    }
    /* A piece of a collapsed fetch's file (at most what the fetch's pending allows). */
    size_t at = sc->buf.len;
    str_reserve(&sc->buf, (size_t)len);
    ssize_t got = pread(fd, sc->buf.ptr + at, (size_t)len, (off_t)off);
    if (got != (ssize_t)len) {
        sc->ended = sc->cut = true; /* the file is shorter than its writer said */
    } else {
        sc->buf.len += (size_t)len;
        sc->buf.ptr[sc->buf.len] = '\0';
    }
    if (sc->waiting)
        kick(sc);
}

static void sc_end(struct fetch_client *cl, bool complete)
{
    struct site_client *sc = (struct site_client *)cl;
    if (sc->streaming) {
        sc->ended = true;
        sc->cut = sc->cut || !complete;
        if (sc->waiting)
            kick(sc);
        return;
    }
    if (sc->cut || !complete) {
        http_response_clear(&sc->resp);
        http_response_error(&sc->resp, 502, "The stored response could not be read.");
    }
    respond(sc);
}

static void sc_error(struct fetch_client *cl, int status, const char *why, struct slice fields)
{
    struct site_client *sc = (struct site_client *)cl;
    if (!sc->x)
        return;
    http_response_clear(&sc->resp);
    http_response_error(&sc->resp, status, why);
    copy_fields(&sc->resp.fields, fields);
    respond(sc);
}

static size_t sc_pending(struct fetch_client *cl)
{
    return sc_buffered((struct site_client *)cl);
}

static void sc_release(struct fetch_client *cl)
{
    struct site_client *sc = (struct site_client *)cl;
    if (sc->x) /* the fetch ended without a word: never leave the exchange unanswered */
        sc_error(cl, 502, "The proxy could not answer.", slice_make("", 0));
    sc->fetch_gone = true;
    sc_maybe_free(sc);
}

static const struct fetch_client_ops site_client_ops = {
    sc_head, sc_body, sc_body_file, sc_end, sc_error, sc_pending, sc_release,
};

/* ---- the hook ---- */

/* By name: a reload of the HTTP sites (http/service/sites.c) makes new site structs; the
 * proxy's reload makes a new set with their origins. */
static struct proxy_site *find_site(const struct proxy_state *st, const struct http_site *s)
{
    struct proxy_site_set *set = st->siteset;
    for (unsigned i = 0; s && s->proxy_to && set && i < set->n; i++)
        if (set->sites[i].site == s || !strcmp(set->sites[i].name, s->name))
            return &set->sites[i];
    return NULL;
}

static bool site_handle(struct http_exchange *x)
{
    struct worker *w = conn_worker(x->conn);
    struct proxy_state *st = host_state(w->d, &proxy_service);
    struct proxy_worker *pw = host_worker_state(w, &proxy_service);
    struct proxy_site *ps = st && pw ? find_site(st, x->site) : NULL;
    if (!ps)
        return st && st->next_more ? st->next_more(x) : false;
    struct site_client *sc = xcalloc(1, sizeof *sc);
    http_response_init(&sc->resp, 500);
    snprintf(sc->peer, sizeof sc->peer, "%s", x->peer);
    sc->cl = (struct fetch_client){&site_client_ops, NULL, sc->peer, x->id, x->tls};
    sc->x = x;
    sc->src_gone = true; /* until a streamed answer hands the transport a source */
    sc->kick = event_new(w->host.base, -1, 0, on_kick, sc);
    proxy_fetch_start(pw, &sc->cl, x->req, &ps->origins);
    return true;
}

/* ---- configuration ---- */

int proxy_origins_parse(const char *text, struct proxy_origins *o, const char **why_out)
{
    memset(o, 0, sizeof *o);
    char *copy = xstrdup(text), *save = NULL;
    int rc = 0;
    for (char *t = strtok_r(copy, " \t,", &save); t && rc == 0; t = strtok_r(NULL, " \t,", &save)) {
        if (o->n == PROXY_MAX_ORIGINS) {
            *why_out = "at most 8 origins";
            rc = -1;
        } else if (proxy_url_parse_origin(t, &o->url[o->n]) != 0) {
            *why_out = "an origin must be http://host[:port] or https://host[:port]";
            rc = -1;
        } else {
            o->url[o->n++].configured = true; /* named by the administrator: no SSRF rule */
        }
    }
    free(copy);
    if (rc == 0 && o->n == 0) {
        *why_out = "no origin given";
        rc = -1;
    }
    return rc;
}

static const struct http_config *http_cfg(const struct config *cfg)
{
    struct http_config *const *hc = config_section(cfg, "http");
    return hc ? *hc : NULL;
}

bool proxy_sites_configured(const struct config *cfg)
{
    const struct http_config *hc = http_cfg(cfg);
    for (unsigned i = 0; hc && i < hc->nsites; i++)
        if (hc->sites[i]->proxy_to)
            return true;
    return false;
}

int proxy_sites_check(const struct config *cfg, struct str *err)
{
    const struct http_config *hc = http_cfg(cfg);
    for (unsigned i = 0; hc && i < hc->nsites; i++) {
        struct proxy_origins o;
        const char *why;
        const struct http_site *s = hc->sites[i];
        if (s->proxy_to && proxy_origins_parse(s->proxy_to, &o, &why) != 0) {
            str_appendf(err, "[http %s] proxy_to: %s", s->name, why);
            return -1;
        }
        if (s->proxy_to && s->root) {
            str_appendf(err, "[http %s] has both root and proxy_to", s->name);
            return -1;
        }
    }
    return 0;
}

/* The proxy_to sites of hc (each checked by proxy_check). */
static struct proxy_site_set *site_set_make(const struct http_config *hc)
{
    struct proxy_site_set *set = xcalloc(1, sizeof *set);
    for (unsigned i = 0; hc && i < hc->nsites; i++) {
        const struct http_site *s = hc->sites[i];
        if (!s->proxy_to)
            continue;
        set->sites = xrealloc(set->sites, (set->n + 1) * sizeof *set->sites);
        struct proxy_site *ps = &set->sites[set->n++];
        memset(ps, 0, sizeof *ps);
        ps->site = s;
        ps->name = xstrdup(s->name);
        const char *why;
        proxy_origins_parse(s->proxy_to, &ps->origins, &why);
        ps->origins.preserve_host = s->proxy_preserve_host;
        log_info("proxy: site %s through the cache to %s", s->name, s->proxy_to);
    }
    return set;
}

static void site_set_free(struct proxy_site_set *set)
{
    for (unsigned i = 0; i < set->n; i++)
        free(set->sites[i].name);
    free(set->sites);
    free(set);
}

int proxy_sites_open(struct daemon *d, struct proxy_state *st)
{
    struct http_service *hs = host_state(d, &http_service_def);
    const struct http_config *hc = http_cfg(&d->cfg);
    if (!hs || !hc)
        return 0;
    struct proxy_site_set *set = site_set_make(hc);
    st->siteset = set;
    if (set->n) {
        st->next_more = hs->host.more;
        hs->host.more = site_handle;
        st->sites_hooked = true;
    }
    return 0;
}

void proxy_sites_reload(struct proxy_state *st, const struct config *next,
                        struct reload_report *r)
{
    struct proxy_site_set *set = site_set_make(http_cfg(next));
    if (set->n && !st->sites_hooked) {
        reload_report_add(r, true, "proxy: [http %s] proxy_to needs a restart: no site was "
                                   "reverse-proxied when pigeond started",
                          set->sites[0].name);
        site_set_free(set);
        return;
    }
    set->older = st->siteset;
    st->siteset = set;
}

void proxy_sites_free(struct proxy_state *st)
{
    struct proxy_site_set *set = st->siteset;
    while (set) {
        struct proxy_site_set *older = set->older;
        site_set_free(set);
        set = older;
    }
    st->siteset = NULL;
}
