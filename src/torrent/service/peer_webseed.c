/*
 * torrent/service/peer_webseed — web seeds (BEP 19) of a downloading torrent: each URL of
 * its url-list (up to MAX_WSEEDS) joins the swarm as a peer (torrent/webseed.h) whose face
 * is a struct pconn without a connection; the requests the swarm writes to it are fetched as
 * HTTP byte ranges on the service's web seed pool (blocking GETs, one job per web seed at a
 * time) and the answers are fed back to the swarm as piece messages on worker 0. A failed
 * fetch chokes the web seed for a while (5 s, doubling to 5 minutes); a web seed the swarm
 * banned for bad data, or every web seed once the download is complete, is dropped at the
 * next housekeeping (never inside a swarm callback).
 */
#include "torrent/service/peer_int.h"

#include "core/log.h"
#include "core/loop_post.h"
#include "core/pool.h"
#include "core/xmalloc.h"
#include "torrent/service/http_get.h"
#include "torrent/webseed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_WSEEDS 4
#define MAX_BACKOFF 300

struct wseed {
    struct wseed *next;
    struct tor_item *it;
    uint64_t id;
    struct pconn pc;
    struct tor_webseed *ws;
    char url[1024];
    bool busy;
    unsigned failures;
    int64_t retry_at;
};

struct ws_fetch {
    struct peer_svc *svc;
    uint64_t key, id;
    struct tor_ws_job job;
    char urls[TOR_WS_MAX_RANGES][1400];
    struct str data;
    char why[200];
};

static void feed(struct wseed *w, const struct str *bytes)
{
    if (bytes->len && !w->pc.closing && w->it->swarm)
        tor_swarm_peer_feed(w->it->swarm, w->pc.peer, (const uint8_t *)bytes->ptr, bytes->len,
                            peer_now_ms());
}

static struct wseed *find(struct peer_svc *svc, uint64_t key, uint64_t id)
{
    for (struct tor_item *it = svc->items; it; it = it->next)
        if (it->key == key)
            for (struct wseed *w = it->wseeds; w; w = w->next)
                if (w->id == id)
                    return w;
    return NULL;
}

static void submit(struct wseed *w);

static void fetch_done(void *vf)
{
    struct ws_fetch *f = vf;
    struct wseed *w = find(f->svc, f->key, f->id);
    if (w && !w->pc.closing && w->it->swarm) {
        w->busy = false;
        struct str out = STR_INIT;
        if (f->why[0]) {
            w->failures++;
            unsigned wait = 5u << (w->failures < 7 ? w->failures - 1 : 6);
            w->retry_at = time(NULL) + (wait < MAX_BACKOFF ? wait : MAX_BACKOFF);
            log_info("torrent %.8s: web seed %s: %s; again in %us", w->it->hex, w->url, f->why,
                     wait < MAX_BACKOFF ? wait : MAX_BACKOFF);
            tor_webseed_choke(w->ws, &out);
        } else {
            w->failures = 0;
            tor_webseed_answer(&f->job, (const uint8_t *)f->data.ptr, &out);
        }
        feed(w, &out); /* may write requests back: submit() below picks them up */
        str_clear(&out);
        submit(w);
    }
    str_clear(&f->data);
    free(f);
}

static void fetch_work(void *tctx, void *vf)
{
    struct ws_fetch *f = vf;
    if (f->job.nr == 0)
        snprintf(f->why, sizeof f->why, "a block spread over too many files");
    for (size_t i = 0; i < f->job.nr && !f->why[0]; i++) {
        struct tor_url u;
        size_t before = f->data.len;
        const struct tor_ws_range *r = &f->job.r[i];
        if (r->pad) { /* BEP 47: the web seed has no such file */
            str_reserve(&f->data, (size_t)r->length + 1);
            memset(f->data.ptr + f->data.len, 0, (size_t)r->length + 1);
            f->data.len += (size_t)r->length;
            continue;
        }
        int st = tor_url_parse(f->urls[i], "http://", "80", &u) < 0
                     ? -2
                     : tor_http_get(&u, u.path, r->offset, r->length, TOR_WS_MAX_JOB, &f->data);
        bool whole = st == 200 && r->offset == 0 && f->data.len - before == r->length;
        if (st != 206 && !whole)
            snprintf(f->why, sizeof f->why, "%.100s: %s", f->urls[i],
                     st == -2  ? "not an http:// URL"
                     : st == 0 ? "no HTTP answer"
                     : st < 0  ? "wrong range or length in the answer"
                               : "no 206 (partial content) answer");
    }
    if (!f->why[0] && f->data.len != f->job.len)
        snprintf(f->why, sizeof f->why, "short answer");
    loop_post_send(f->svc->w->host.post, fetch_done, f);
}

/* The next job of a web seed that is idle and has requests queued. */
static void submit(struct wseed *w)
{
    if (w->busy || w->pc.closing)
        return;
    struct ws_fetch *f = xcalloc(1, sizeof *f);
    if (!tor_webseed_next(w->ws, &f->job)) {
        free(f);
        return;
    }
    f->svc = w->it->svc;
    f->key = w->it->key;
    f->id = w->id;
    for (size_t i = 0; i < f->job.nr; i++) {
        struct str u = STR_INIT;
        tor_webseed_file_url(w->ws, f->job.r[i].file, &u);
        snprintf(f->urls[i], sizeof f->urls[i], "%s", str_cstr(&u));
        str_clear(&u);
    }
    w->busy = true;
    pool_submit(w->it->svc->ws_pool, fetch_work, f);
}

/* ops.send of the swarm, for a web seed: its requests. */
void peer_webseed_from_swarm(struct pconn *pc, const void *p, size_t n)
{
    struct wseed *w = pc->ws;
    if (tor_webseed_from_swarm(w->ws, p, n) < 0) {
        pc->closing = true;
        return;
    }
    submit(w);
}

void peer_webseeds_start(struct tor_item *it)
{
    if (!it->swarm || tor_swarm_complete(it->swarm))
        return;
    for (size_t i = 0; i < it->meta.nwebseeds && i < MAX_WSEEDS; i++) {
        if (strncmp(it->meta.webseeds[i], "http://", 7) != 0) {
            log_info("torrent %.8s: web seed %s skipped: only http:// is fetched", it->hex,
                     it->meta.webseeds[i]);
            continue;
        }
        struct wseed *w = xcalloc(1, sizeof *w);
        w->it = it;
        w->id = ++it->svc->next_key; /* unique among items and web seeds */
        snprintf(w->url, sizeof w->url, "%s", it->meta.webseeds[i]);
        w->ws = tor_webseed_new(&it->meta, w->url);
        w->pc.svc = it->svc;
        w->pc.item = it;
        w->pc.ws = w;
        snprintf(w->pc.addr, sizeof w->pc.addr, "web seed %zu", i);
        w->next = it->wseeds;
        it->wseeds = w;
        w->pc.peer = tor_swarm_peer_new(it->swarm, &w->pc, w->pc.addr, false, peer_now_ms());
        struct str hello = STR_INIT;
        tor_webseed_hello(w->ws, &hello);
        feed(w, &hello);
        str_clear(&hello);
        log_info("torrent %.8s: web seed %s joined", it->hex, w->url);
    }
}

static void drop(struct tor_item *it, struct wseed *w)
{
    for (struct wseed **pp = &it->wseeds; *pp; pp = &(*pp)->next)
        if (*pp == w) {
            *pp = w->next;
            break;
        }
    if (it->swarm)
        tor_swarm_peer_gone(it->swarm, w->pc.peer);
    tor_webseed_free(w->ws);
    free(w); /* a fetch still out finds no web seed by its id and is dropped */
}

void peer_webseeds_stop(struct tor_item *it)
{
    while (it->wseeds)
        drop(it, it->wseeds);
}

void peer_webseeds_house(struct tor_item *it, int64_t now)
{
    bool complete = it->swarm && tor_swarm_complete(it->swarm);
    for (struct wseed *w = it->wseeds, *next; w; w = next) {
        next = w->next;
        if (w->pc.closing || complete) {
            if (w->pc.closing)
                log_info("torrent %.8s: web seed %s dropped", it->hex, w->url);
            drop(it, w);
        } else if (tor_webseed_choked(w->ws) && now >= w->retry_at && !w->busy) {
            struct str out = STR_INIT;
            tor_webseed_unchoke(w->ws, &out);
            feed(w, &out);
            str_clear(&out);
            submit(w);
        }
    }
}
