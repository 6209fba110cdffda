/*
 * torrent/service/peer_service — the [torrent] section and the peer service's lifecycle:
 * its listen sockets (watched by worker 0 only: every torrent and every peer connection
 * lives on that loop, so the swarm engine needs no lock), a pool of two threads for piece
 * hashing, writes and resume checks, another of two for tracker announces (a slow or dead
 * tracker never holds up verification), a 100 ms tick (the swarms' timers),
 * a 1 s housekeeping timer (trackers, dialling, seeding limits, the CLI's inbox, the watch
 * directory, the status file), and a second pool of two threads for web seed fetches
 * (BEP 19). With dht = yes a DHT node (BEP 5, peer_dht.c) finds peers too, for every
 * torrent that is not private (BEP 27).
 */
#include "torrent/service/service.h"

#include "torrent/service/peer_int.h"

#include "conf/config.h"
#include "core/listen.h"
#include "core/log.h"
#include "core/loop_post.h"
#include "core/pool.h"
#include "core/reload_report.h"
#include "core/xmalloc.h"
#include "host/confgen.h"

#include <errno.h>
#include <fcntl.h>
#include <event2/event.h>
#include <openssl/rand.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PC(f) offsetof(struct peer_config, f)
static const struct conf_key peer_keys[] = {
    {.name = "dir", .type = CONF_STR, .offset = PC(dir)},
    {.name = "watch_dir", .type = CONF_STR, .offset = PC(watch_dir)},
    {.name = "max_peers", .type = CONF_UINT, .offset = PC(max_peers), .min = 1, .max = 1000},
    {.name = "upload_rate",
     .type = CONF_SIZE,
     .offset = PC(upload_rate),
     .min = 0,
     .max = 1ull << 40},
    {.name = "download_rate",
     .type = CONF_SIZE,
     .offset = PC(download_rate),
     .min = 0,
     .max = 1ull << 40},
    {.name = "seed_ratio", .type = CONF_UINT, .offset = PC(seed_ratio), .min = 0, .max = 100000},
    {.name = "seed_slots", .type = CONF_UINT, .offset = PC(seed_slots), .min = 1, .max = 100},
    {.name = "seed_time", .type = CONF_UINT, .offset = PC(seed_time), .min = 0, .max = 365 * 86400},
    {.name = "memory", .type = CONF_SIZE, .offset = PC(memory), .min = 1u << 20, .max = 1ull << 34},
    {.name = "dht", .type = CONF_BOOL, .offset = PC(dht)},
    {.name = "pex", .type = CONF_BOOL, .offset = PC(pex)},
    {.name = "dht_bootstrap", .type = CONF_CUSTOM, .parse = peer_dht_parse_boot},
    {.name = NULL},
};

static void peer_defaults(void *sec)
{
    struct peer_config *c = sec;
    conf_service_defaults(&c->svc, 300);
    c->svc.session_timeout = 30 * 86400;
    c->max_peers = 50;
    c->memory = 64u << 20;
    c->seed_slots = TOR_SEED_SLOTS;
    c->pex = true;
}

/* What peer_reload applies: the limits of every swarm, the peer connections' timeouts, the
 * folders of torrents added from now on. */
static const char *const peer_reload_keys[] = {
    "dir",        "watch_dir", "max_peers", "upload_rate",  "download_rate",   "seed_ratio",
    "seed_slots", "seed_time", "memory",    "idle_timeout", "session_timeout", "pex", NULL,
};

static const struct conf_restart peer_restart_why[] = {
    {"max_connections_per_ip", "peers are counted per torrent instead (max_peers, which a "
                               "reload applies)"},
    {"dht", "the DHT node's UDP socket and id are made at start-up"},
    {"dht_bootstrap", "the DHT is joined once, at start-up (its routing table then keeps "
                      "itself)"},
    {NULL, NULL},
};

static const struct conf_section peer_sections[] = {
    {.name = "torrent",
     .size = sizeof(struct peer_config),
     .service_offset = offsetof(struct peer_config, svc),
     .keys = peer_keys,
     .defaults = peer_defaults,
     .reload_keys = peer_reload_keys,
     .restart_why = peer_restart_why},
    {.name = NULL},
};

static int make_dirs(struct peer_svc *svc)
{
    snprintf(svc->state_dir, sizeof svc->state_dir, "%.900s/torrent", svc->d->cfg.data_dir);
    snprintf(svc->inbox, sizeof svc->inbox, "%.900s/torrent/inbox", svc->d->cfg.data_dir);
    char dl[1100];
    snprintf(dl, sizeof dl, "%s/downloads", svc->state_dir);
    const char *dirs[] = {svc->state_dir, svc->inbox, svc->cfg->dir ? svc->cfg->dir : dl,
                          svc->cfg->watch_dir};
    for (size_t i = 0; i < 4; i++)
        if (dirs[i] && mkdir(dirs[i], 0750) < 0 && errno != EEXIST) {
            log_err("torrent: %s: %s", dirs[i], strerror(errno));
            return -1;
        }
    return 0;
}

static int bind_listeners(struct peer_svc *svc)
{
    const struct conf_service *s = &svc->cfg->svc;
    svc->listen_fds = xcalloc(s->n_listen, sizeof *svc->listen_fds);
    for (unsigned i = 0; i < s->n_listen; i++) {
        struct str err = STR_INIT;
        int fd = listen_bind(s->listen[i].host, s->listen[i].port, SOCK_STREAM, "torrent", &err);
        if (fd < 0) {
            log_err("%s", str_cstr(&err));
            str_clear(&err);
            return -1;
        }
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); /* accept4 until EAGAIN */
        svc->listen_fds[svc->nlisten++] = fd;
        if (!svc->port)
            svc->port = (uint16_t)atoi(s->listen[i].port);
        log_info("listening on %s (torrent peers)", s->listen[i].text);
    }
    return 0;
}

static void set_limits(struct peer_svc *svc, struct listener *l)
{
    l->limits.max_per_ip = svc->cfg->max_peers;
    l->limits.idle_timeout = svc->cfg->svc.idle_timeout ? svc->cfg->svc.idle_timeout : 300;
    l->limits.session_timeout = svc->cfg->svc.session_timeout;
}

static void set_listener(struct peer_svc *svc, struct listener *l, const char *text)
{
    *l = (struct listener){.name = "torrent",
                           .proto = &torrent_peer_proto,
                           .svc_cfg = svc,
                           .addr_text = text,
                           .fd = -1};
    set_limits(svc, l);
}

static int peer_open(struct daemon *d, void **state_out)
{
    const struct peer_config *c = config_section(&d->cfg, "torrent");
    if (!c || !c->svc.enabled)
        return 0;
    struct peer_svc *svc = xcalloc(1, sizeof *svc);
    svc->accepting_fd = -1;
    *state_out = svc;
    svc->dht_fd = -1;
    svc->d = d;
    svc->cfg = c;
    /* Azureus-style peer id: -PG0001- and 12 random bytes */
    memcpy(svc->peer_id, "-PG0001-", 8);
    if (RAND_bytes(svc->peer_id + 8, 12) != 1)
        return -1;
    if (make_dirs(svc) < 0 || bind_listeners(svc) < 0 || peer_dht_open(svc) < 0)
        return -1;
    set_listener(svc, &svc->in_l, c->svc.listen[0].text);
    set_listener(svc, &svc->out_l, "outgoing");
    svc->pool = pool_new(2, NULL, NULL, NULL);
    svc->net_pool = pool_new(2, NULL, NULL, NULL);
    svc->ws_pool = pool_new(2, NULL, NULL, NULL);
    return 0;
}

static void on_tick(int fd, short what, void *vsvc)
{
    peer_items_tick(vsvc, peer_now_ms());
}

static void on_house(int fd, short what, void *vsvc)
{
    struct peer_svc *svc = vsvc;
    peer_ctl_scan(svc);
    peer_items_house(svc, time(NULL));
    peer_dht_house(svc, peer_now_ms());
    peer_ctl_status(svc);
}

static void *peer_attach(struct worker *w, void *state)
{
    struct peer_svc *svc = state;
    if (!svc || w->index != 0)
        return NULL;
    svc->w = w;
    svc->accept_ev = xcalloc(svc->nlisten, sizeof *svc->accept_ev);
    for (unsigned i = 0; i < svc->nlisten; i++) {
        svc->accept_ev[i] =
            event_new(w->host.base, svc->listen_fds[i], EV_READ | EV_PERSIST, peer_accept_cb, svc);
        event_add(svc->accept_ev[i], NULL);
    }
    svc->tick = event_new(w->host.base, -1, EV_PERSIST, on_tick, svc);
    svc->house = event_new(w->host.base, -1, EV_PERSIST, on_house, svc);
    svc->reaper = event_new(w->host.base, -1, 0, peer_reap, svc);
    struct timeval t100 = {0, 100000}, t1 = {1, 0};
    event_add(svc->tick, &t100);
    event_add(svc->house, &t1);
    peer_dht_attach(svc);
    peer_ctl_load(svc);
    peer_ctl_status(svc); /* before "ready": never a previous run's status */
    return svc;
}

static void peer_detach(struct worker *w, void *wstate)
{
    struct peer_svc *svc = wstate;
    if (!svc)
        return;
    for (unsigned i = 0; i < svc->nlisten; i++)
        event_free(svc->accept_ev[i]);
    free(svc->accept_ev);
    svc->accept_ev = NULL;
    event_free(svc->tick);
    event_free(svc->house);
    event_free(svc->reaper);
    svc->reaper = NULL; /* the connections are gone: nothing more to reap */
    peer_dials_free(svc);
    peer_dht_detach(svc);
}

static void peer_stop(struct daemon *d, void *state)
{
    struct peer_svc *svc = state;
    if (!svc)
        return;
    pool_free(svc->pool); /* finishes what is queued; its results wait in worker 0's post */
    svc->pool = NULL;
    pool_free(svc->net_pool);
    svc->net_pool = NULL;
    pool_free(svc->ws_pool);
    svc->ws_pool = NULL;
}

/* ---- reload ---- */

struct peer_reload {
    struct peer_svc *svc;
    const struct peer_config *cfg; /* in gen */
    struct host_confgen *gen;
};

/* On worker 0, where every torrent lives: the new limits for the swarms and for connections
 * accepted or dialled from now on. */
static void reload_on_worker(void *arg)
{
    struct peer_reload *r = arg;
    struct peer_svc *svc = r->svc;
    struct host_confgen *old = svc->gen;
    svc->cfg = r->cfg;
    svc->gen = r->gen;
    set_limits(svc, &svc->in_l);
    set_limits(svc, &svc->out_l);
    peer_items_set_limits(svc);
    log_info("torrent: %u peers per torrent, upload %llu B/s, download %llu B/s (0: no limit)",
             svc->cfg->max_peers, (unsigned long long)svc->cfg->upload_rate,
             (unsigned long long)svc->cfg->download_rate);
    host_confgen_drop(old);
    free(r);
}

static void peer_reload(struct daemon *d, void *state, const struct config *next)
{
    struct peer_svc *svc = state;
    const struct peer_config *c = config_section(next, "torrent");
    if (!svc || !svc->w || !c)
        return;
    const char *dirs[] = {c->dir, c->watch_dir};
    for (size_t i = 0; i < 2; i++)
        if (dirs[i] && mkdir(dirs[i], 0750) < 0 && errno != EEXIST) {
            log_err("torrent: reload: %s: %s", dirs[i], strerror(errno));
            reload_report_add(d->reloading, true, "torrent: %s: %s; the running settings stay",
                              dirs[i], strerror(errno));
            return;
        }
    struct peer_reload *r = xmalloc(sizeof *r);
    *r = (struct peer_reload){svc, c, host_confgen_hold(d)};
    loop_post_send(svc->w->host.post, reload_on_worker, r);
}

static void peer_close(struct daemon *d, void *state)
{
    struct peer_svc *svc = state;
    if (!svc)
        return;
    while (svc->items) {
        struct tor_item *it = svc->items;
        svc->items = it->next;
        peer_item_free(it);
    }
    if (svc->pool)
        pool_free(svc->pool);
    if (svc->net_pool)
        pool_free(svc->net_pool);
    if (svc->ws_pool)
        pool_free(svc->ws_pool);
    for (unsigned i = 0; i < svc->nlisten; i++)
        close(svc->listen_fds[i]);
    free(svc->listen_fds);
    peer_dht_close(svc);
    host_confgen_drop(svc->gen);
    free(svc);
}

const struct service_def torrent_service_def = {
    .name = "torrent",
    .sections = peer_sections,
    .open = peer_open,
    .reload = peer_reload,
    .attach = peer_attach,
    .detach = peer_detach,
    .stop = peer_stop,
    .close = peer_close,
};
