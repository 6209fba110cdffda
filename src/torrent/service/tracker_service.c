/*
 * torrent/service/tracker_service — the [tracker] section and its lifecycle: one engine
 * (torrent/tracker.h) under one mutex, shared by the HTTP handler (announce and scrape on
 * every [http] site, chained in front of whatever other service filled the HTTP service's
 * `more` hook before) and the UDP sockets (BEP 15, watched by every worker); worker 0 runs
 * the expiry timer.
 */
#include "torrent/service/service.h"

#include "conf/config.h"
#include "conf/keys.h"
#include "core/log.h"
#include "core/reload_report.h"
#include "core/xmalloc.h"
#include "http/service/service.h"
#include "net/udp_batch.h"
#include "torrent/tracker.h"
#include "torrent/tracker_proto.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct tracker_config {
    struct conf_service svc; /* UDP listen addresses */
    bool http;               /* announce/scrape on the [http] sites */
    char *announce_path;
    unsigned interval, min_interval, expire, numwant, max_torrents, max_peers;
    unsigned flood_rate, flood_burst;
    char *allow_list; /* file of info-hashes (40 hex digits a line): private tracker */
};

struct tracker_svc {
    const struct tracker_config *cfg;
    struct tracker *t;
    pthread_mutex_t lock;
    uint8_t secret[32];
    int *udp_fds;
    unsigned nudp;
    char announce_path[256], scrape_path[256];
    bool (*next_more)(struct http_exchange *x); /* the hook's previous owner */
    uint64_t announces, udp_packets;
};

struct tracker_worker {
    struct tracker_svc *s;
    struct udp_batch *udp;
    struct event *expiry;
};

#define TC(f) offsetof(struct tracker_config, f)
static const struct conf_key tracker_keys[] = {
    {.name = "http", .type = CONF_BOOL, .offset = TC(http)},
    {.name = "announce_path", .type = CONF_STR, .offset = TC(announce_path)},
    {.name = "interval", .type = CONF_UINT, .offset = TC(interval), .min = 10, .max = 86400},
    {.name = "min_interval", .type = CONF_UINT, .offset = TC(min_interval), .min = 1, .max = 86400},
    {.name = "expire", .type = CONF_UINT, .offset = TC(expire), .min = 0, .max = 7 * 86400},
    {.name = "numwant",
     .type = CONF_UINT,
     .offset = TC(numwant),
     .min = 1,
     .max = TRACKER_MAX_NUMWANT},
    {.name = "max_torrents",
     .type = CONF_UINT,
     .offset = TC(max_torrents),
     .min = 1,
     .max = 10000000},
    {.name = "max_peers", .type = CONF_UINT, .offset = TC(max_peers), .min = 1, .max = 1000000},
    {.name = "flood_rate", .type = CONF_UINT, .offset = TC(flood_rate), .min = 0, .max = 1000000},
    {.name = "flood_burst", .type = CONF_UINT, .offset = TC(flood_burst), .min = 1, .max = 1000000},
    {.name = "allow_list", .type = CONF_STR, .offset = TC(allow_list)},
    {.name = NULL},
};

static void tracker_defaults(void *sec)
{
    struct tracker_config *c = sec;
    conf_service_defaults(&c->svc, 60);
    c->interval = 1800;
    c->min_interval = 900;
    c->numwant = 50;
    c->max_torrents = 100000;
    c->max_peers = 10000;
    c->flood_rate = 20;
    c->flood_burst = 200;
}

static int tracker_check(void *sec, const struct config *cfg, struct str *err)
{
    struct tracker_config *c = sec;
    const char *p = c->announce_path;
    if (p && (p[0] != '/' || !strstr(p, "announce") || strlen(p) >= 200)) {
        str_appendf(err,
                    "%s: [tracker] announce_path must start with / and contain "
                    "\"announce\" (BEP 48 derives the scrape path from it)",
                    cfg->path ? cfg->path : "config");
        return -1;
    }
    if (c->min_interval > c->interval) {
        str_appendf(err, "%s: [tracker] min_interval is longer than interval",
                    cfg->path ? cfg->path : "config");
        return -1;
    }
    return 0;
}

static void tracker_free_cfg(void *sec)
{
    (void)sec; /* CONF_STR fields are freed by the key table */
}

/* What tracker_reload applies; the allow_list file is read again on every reload (hashes
 * added to it are allowed; removing one, or the key itself, needs a restart). */
static const char *const tracker_reload_keys[] = {
    "interval",  "min_interval", "expire",      "numwant", "max_torrents",
    "max_peers", "flood_rate",   "flood_burst", NULL,
};

static const struct conf_section tracker_sections[] = {
    {.name = "tracker",
     .size = sizeof(struct tracker_config),
     .service_offset = offsetof(struct tracker_config, svc),
     .keys = tracker_keys,
     .defaults = tracker_defaults,
     .check = tracker_check,
     .free = tracker_free_cfg,
     .reload_keys = tracker_reload_keys},
    {.name = NULL},
};

static void limits_of(const struct tracker_config *c, struct tracker_limits *l)
{
    *l = (struct tracker_limits){
        .interval = c->interval,
        .min_interval = c->min_interval,
        .expire = c->expire ? c->expire : 2 * c->interval + 60, /* two missed announces */
        .numwant_default = c->numwant,
        .max_torrents = c->max_torrents,
        .max_peers = c->max_peers,
        .flood_rate = c->flood_rate,
        .flood_burst = c->flood_burst,
        .allow_list = c->allow_list != NULL,
    };
}

/* The allow-list file: one info-hash (40 hex digits) a line; '#' starts a comment. */
static int load_allow_list(struct tracker_svc *s, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        log_err("tracker: allow_list %s: %s", path, strerror(errno));
        return -1;
    }
    char line[256];
    unsigned lineno = 0, n = 0;
    int rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *hash = line + strspn(line, " \t");
        if (*hash == '#' || *hash == '\n' || *hash == '\0')
            continue;
        uint8_t h[20];
        bool ok = strspn(hash, "0123456789abcdefABCDEF") == 40;
        for (int i = 0; ok && i < 20; i++)
            h[i] = (uint8_t)(hex_digit_value(hash[2 * i]) << 4 | hex_digit_value(hash[2 * i + 1]));
        if (!ok) {
            log_err("tracker: %s:%u: not an info-hash (40 hex digits)", path, lineno);
            rc = -1;
            break;
        }
        tracker_allow(s->t, h);
        n++;
    }
    fclose(f);
    if (rc == 0)
        log_info("tracker: %u info-hashes allowed (%s)", n, path);
    return rc;
}

/* ---- HTTP: announce and scrape ---- */

static bool path_is(const struct http_request *q, const char *p)
{
    return q->path.len == strlen(p) && memcmp(q->path.p, p, q->path.len) == 0;
}

static bool tracker_http_handle(struct http_exchange *x)
{
    struct tracker_svc *s = host_state(conn_worker(x->conn)->d, &tracker_service_def);
    const struct http_request *q = x->req;
    bool ann = s && path_is(q, s->announce_path);
    bool scr = s && path_is(q, s->scrape_path);
    if (!ann && !scr)
        return s && s->next_more ? s->next_more(x) : false;
    if (q->method != HTTP_GET && q->method != HTTP_HEAD) {
        http_exchange_error(x, 405, "The tracker answers GET.");
        return true;
    }
    struct tracker_addr a;
    struct str body = STR_INIT;
    if (!tracker_addr_parse(x->peer, &a)) {
        tracker_http_failure(&body, "unusable source address");
    } else {
        pthread_mutex_lock(&s->lock);
        if (ann)
            tracker_http_announce(s->t, q->query, &a, x->now, &body);
        else
            tracker_http_scrape(s->t, q->query, &a, x->now, &body);
        s->announces++;
        pthread_mutex_unlock(&s->lock);
    }
    struct http_response r;
    http_response_init(&r, 200);
    http_response_header(&r, "Content-Type", "text/plain");
    http_response_header(&r, "Cache-Control", "no-store");
    http_response_body(&r, body.ptr ? body.ptr : "", body.len);
    str_clear(&body);
    http_exchange_respond(x, &r);
    return true;
}

/* ---- UDP (BEP 15) ---- */

static size_t on_datagram(void *vtw, int fd, const uint8_t *pkt, size_t len,
                          const struct sockaddr *peer, socklen_t plen, uint8_t *out, size_t cap)
{
    struct tracker_worker *tw = vtw;
    struct tracker_addr a;
    if (cap < TRACKER_UDP_MAX || (peer->sa_family != AF_INET && peer->sa_family != AF_INET6))
        return 0;
    if (peer->sa_family == AF_INET6)
        tracker_addr_set(&a, ((const struct sockaddr_in6 *)peer)->sin6_addr.s6_addr, true);
    else
        tracker_addr_set(&a, (const uint8_t *)&((const struct sockaddr_in *)peer)->sin_addr, false);
    pthread_mutex_lock(&tw->s->lock);
    size_t n = tracker_udp_process(tw->s->t, tw->s->secret, pkt, len, &a, time(NULL), out);
    tw->s->udp_packets++;
    pthread_mutex_unlock(&tw->s->lock);
    return n;
}

static void on_expiry(evutil_socket_t fd, short what, void *vtw)
{
    struct tracker_worker *tw = vtw;
    pthread_mutex_lock(&tw->s->lock);
    size_t dropped = tracker_expire(tw->s->t, time(NULL)), torrents, peers;
    tracker_stats(tw->s->t, &torrents, &peers);
    pthread_mutex_unlock(&tw->s->lock);
    if (dropped)
        log_info("tracker: %zu silent peers expired; %zu torrents, %zu peers", dropped, torrents,
                 peers);
}

/* ---- lifecycle ---- */

static int tracker_open(struct daemon *d, void **state_out)
{
    const struct tracker_config *c = config_section(&d->cfg, "tracker");
    if (!c || (!c->http && !c->svc.enabled))
        return 0;
    struct tracker_svc *s = xcalloc(1, sizeof *s);
    *state_out = s;
    s->cfg = c;
    pthread_mutex_init(&s->lock, NULL);
    struct tracker_limits lim;
    limits_of(c, &lim);
    uint64_t seed;
    if (RAND_bytes(s->secret, sizeof s->secret) != 1 ||
        RAND_bytes((unsigned char *)&seed, sizeof seed) != 1) {
        log_err("tracker: no randomness");
        return -1;
    }
    s->t = tracker_new(&lim, seed);
    if (c->allow_list && load_allow_list(s, c->allow_list) < 0)
        return -1;
    const char *ann = c->announce_path ? c->announce_path : "/announce";
    snprintf(s->announce_path, sizeof s->announce_path, "%s", ann);
    const char *at = strstr(ann, "announce");
    snprintf(s->scrape_path, sizeof s->scrape_path, "%.*sscrape%s", (int)(at - ann), ann,
             at + strlen("announce"));
    if (c->http) {
        struct http_service *hs = host_state(d, &http_service_def);
        if (!hs) {
            log_warn("tracker: [tracker] http = yes but no [http] site listens");
        } else {
            s->next_more = hs->host.more;
            hs->host.more = tracker_http_handle;
            log_info("tracker: announce at %s, scrape at %s on every [http] site", ann,
                     s->scrape_path);
        }
    }
    if (c->svc.enabled && host_bind_udp(&c->svc, "tracker", &s->udp_fds, &s->nudp) < 0)
        return -1;
    return 0;
}

/* Reload: the tracker's limits (intervals, numwant, caps, flood control) for the next
 * announce; the allow list file read again. Swarms are kept. */
static void tracker_reload(struct daemon *d, void *state, const struct config *next)
{
    struct tracker_svc *s = state;
    const struct tracker_config *c = config_section(next, "tracker");
    if (!s || !c)
        return;
    struct tracker_limits lim;
    limits_of(c, &lim);
    lim.allow_list = s->cfg->allow_list != NULL; /* as started: the list is not dropped */
    pthread_mutex_lock(&s->lock);
    tracker_set_limits(s->t, &lim);
    int rc = s->cfg->allow_list ? load_allow_list(s, s->cfg->allow_list) : 0;
    pthread_mutex_unlock(&s->lock);
    if (rc < 0)
        reload_report_add(d->reloading, true,
                          "tracker: allow_list %s not read again (see the "
                          "log)",
                          s->cfg->allow_list);
}

static void *tracker_attach(struct worker *w, void *state)
{
    struct tracker_svc *s = state;
    if (!s)
        return NULL;
    struct tracker_worker *tw = xcalloc(1, sizeof *tw);
    tw->s = s;
    if (s->nudp)
        tw->udp = udp_batch_new(w->host.base, s->udp_fds, s->nudp, on_datagram, tw);
    if (w->index == 0) {
        tw->expiry = event_new(w->host.base, -1, EV_PERSIST, on_expiry, tw);
        struct timeval tv = {60, 0};
        event_add(tw->expiry, &tv);
    }
    return tw;
}

static void tracker_detach(struct worker *w, void *wstate)
{
    struct tracker_worker *tw = wstate;
    if (!tw)
        return;
    udp_batch_free(tw->udp);
    if (tw->expiry)
        event_free(tw->expiry);
    free(tw);
}

static void tracker_close(struct daemon *d, void *state)
{
    struct tracker_svc *s = state;
    if (!s)
        return;
    for (unsigned i = 0; i < s->nudp; i++)
        close(s->udp_fds[i]);
    free(s->udp_fds);
    tracker_free(s->t);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

const struct service_def tracker_service_def = {
    .name = "tracker",
    .sections = tracker_sections,
    .open = tracker_open,
    .reload = tracker_reload,
    .attach = tracker_attach,
    .detach = tracker_detach,
    .close = tracker_close,
};
