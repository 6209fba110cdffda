/*
 * torrent/service/peer_items — the torrents of the peer service: adding one (its .torrent
 * kept under DATA/torrent/), checking what is already on disk (resume: every piece hashed
 * on the pool), the swarm while it runs, piece verification and writes on the pool, the
 * trackers (announces on a pool of their own, their interval honoured), seeding limits,
 * pause, remove.
 * Everything here runs on worker 0's loop; results from the pool come back by loop_post and
 * find their torrent by key (a removed torrent is freed only when nothing is out).
 */
#include "torrent/service/peer_int.h"

#include "core/file.h"
#include "core/log.h"
#include "core/loop_post.h"
#include "core/pool.h"
#include "core/xmalloc.h"
#include "torrent/service/announce.h"

#include <errno.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CHECK_BATCH 16

static struct tor_item *by_key(struct peer_svc *svc, uint64_t key)
{
    for (struct tor_item *it = svc->items; it; it = it->next)
        if (it->key == key)
            return it;
    return NULL;
}

struct tor_item *peer_item_find(struct peer_svc *svc, const uint8_t hash[20])
{
    for (struct tor_item *it = svc->items; it; it = it->next)
        if (!it->removing && tor_meta_hash_matches(&it->meta, hash))
            return it;
    return NULL;
}

struct tor_item *peer_item_find_hex(struct peer_svc *svc, const char *hex)
{
    size_t n = strlen(hex);
    for (struct tor_item *it = svc->items; it; it = it->next)
        if (!it->removing && n >= 6 && strncmp(it->hex, hex, n) == 0)
            return it;
    return NULL;
}

void peer_state_path(const struct tor_item *it, const char *ext, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s.%s", it->svc->state_dir, it->hex, ext);
}

void peer_item_save(struct tor_item *it)
{
    char path[1200], tmp[1210];
    peer_state_path(it, "conf", path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return;
    fprintf(f, "dir=%s\npaused=%d\ndone=%d\n", it->dir, it->state == ITEM_PAUSED,
            it->state == ITEM_DONE);
    if (fclose(f) == 0)
        rename(tmp, path);
}

void peer_write_atomic(const char *path, const void *p, size_t n)
{
    char tmp[1210];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return;
    bool ok = fwrite(p, 1, n, f) == n;
    if (fclose(f) == 0 && ok)
        rename(tmp, path);
    else
        unlink(tmp);
}

/* ---- the pool's work ---- */

struct job {
    struct peer_svc *svc;
    uint64_t key;
    struct tor_item *it; /* read only on the pool: the item outlives the job */
    uint32_t first, count, piece;
    const uint8_t *data;
    size_t len;
    bool ok;
    uint8_t good[CHECK_BATCH];
    char url[1024];
    struct tor_announce_req req;
    struct tor_announce_res res;
    bool hybrid;        /* announce under v2_hash as well (BEP 52) */
    uint8_t v2_hash[20];
};

static void maybe_free(struct peer_svc *svc, struct tor_item *it)
{
    if (!it->removing || it->check_inflight || it->verifying || it->announcing)
        return;
    for (struct tor_item **pp = &svc->items; *pp; pp = &(*pp)->next)
        if (*pp == it) {
            *pp = it->next;
            break;
        }
    peer_item_free(it);
}

static void start_swarm(struct tor_item *it);

static void check_done(void *vj)
{
    struct job *j = vj;
    struct tor_item *it = by_key(j->svc, j->key);
    if (it) {
        it->check_inflight--;
        for (uint32_t k = 0; k < j->count; k++)
            if (j->good[k])
                tor_bit_set(it->checked, j->first + k);
        if (!it->removing && it->check_next >= it->meta.npieces && it->check_inflight == 0)
            start_swarm(it);
        maybe_free(j->svc, it);
    }
    free(j);
}

static void check_work(void *tctx, void *vj)
{
    struct job *j = vj;
    uint8_t *buf = xmalloc(j->it->meta.piece_len);
    for (uint32_t k = 0; k < j->count; k++)
        j->good[k] = tor_storage_check(&j->it->st, j->first + k, buf);
    free(buf);
    loop_post_send(j->svc->w->host.post, check_done, j);
}

static void check_more(struct tor_item *it)
{
    while (it->check_inflight < 2 && it->check_next < it->meta.npieces) {
        struct job *j = xcalloc(1, sizeof *j);
        j->svc = it->svc;
        j->key = it->key;
        j->it = it;
        j->first = it->check_next;
        j->count =
            it->meta.npieces - j->first < CHECK_BATCH ? it->meta.npieces - j->first : CHECK_BATCH;
        it->check_next += j->count;
        it->check_inflight++;
        pool_submit(it->svc->pool, check_work, j);
    }
}

static void verify_done(void *vj)
{
    struct job *j = vj;
    struct tor_item *it = by_key(j->svc, j->key);
    if (it) {
        it->verifying--;
        if (it->swarm)
            tor_swarm_piece_done(it->swarm, j->piece, j->ok, peer_now_ms());
        if (!j->ok)
            log_warn("torrent %.8s: piece %u failed its SHA-1 check: discarded", it->hex, j->piece);
        maybe_free(j->svc, it);
    }
    free(j);
}

static void verify_work(void *tctx, void *vj)
{
    struct job *j = vj;
    j->ok = tor_storage_hash_ok(&j->it->meta, j->piece, j->data, j->len) &&
            tor_storage_write(&j->it->st, j->piece, j->data, j->len) == 0;
    loop_post_send(j->svc->w->host.post, verify_done, j);
}

/* ops.verify of the swarm: the piece goes to the pool to be hashed and written. */
void peer_verify(void *vit, uint32_t piece, const uint8_t *data, size_t len)
{
    struct tor_item *it = vit;
    struct job *j = xcalloc(1, sizeof *j);
    *j = (struct job){
        .svc = it->svc, .key = it->key, .it = it, .piece = piece, .data = data, .len = len};
    it->verifying++;
    pool_submit(it->svc->pool, verify_work, j);
}

/* ---- trackers ---- */

static void announce_done(void *vj)
{
    struct job *j = vj;
    struct tor_item *it = by_key(j->svc, j->key);
    if (it) {
        it->announcing = false;
        int64_t now = time(NULL);
        if (j->res.failure[0]) {
            snprintf(it->tracker_status, sizeof it->tracker_status, "%s: %s", j->url,
                     j->res.failure);
            log_info("torrent %.8s: announce to %s: %s", it->hex, j->url, j->res.failure);
            it->tracker = (it->tracker + 1) % (it->meta.ntrackers ? it->meta.ntrackers : 1);
            it->next_announce = now + 30;
        } else {
            if (j->req.event == TOR_EV_STARTED)
                it->sent_started = true;
            if (j->req.event == TOR_EV_COMPLETED)
                it->sent_completed = true;
            if (it->pending_event == j->req.event)
                it->pending_event = TOR_EV_NONE;
            /* the tracker's interval; while downloading with no peer known, its min
             * interval (as often as it allows) */
            uint32_t iv = j->res.interval ? j->res.interval : 1800;
            bool starving =
                j->res.npeers == 0 && ((it->swarm && !tor_swarm_complete(it->swarm) &&
                                        tor_swarm_npeers(it->swarm) == 0) ||
                                       (it->fetch && tor_mfetch_npeers(it->fetch) == 0));
            if (starving && j->res.min_interval && j->res.min_interval < iv)
                iv = j->res.min_interval;
            if (j->res.min_interval > iv)
                iv = j->res.min_interval;
            it->interval = iv;
            it->next_announce = now + iv;
            snprintf(it->tracker_status, sizeof it->tracker_status, "%s: %zu peers, next in %us",
                     j->url, j->res.npeers, iv);
            memcpy(it->cand, j->res.peers, j->res.npeers * sizeof *it->cand);
            it->ncand = j->res.npeers;
            it->cand_next = 0;
        }
        maybe_free(j->svc, it);
    }
    free(j);
}

/* The peers of more not already in r, appended while there is room. */
static void merge_peers(struct tor_announce_res *r, const struct tor_announce_res *more)
{
    for (size_t i = 0; i < more->npeers && r->npeers < TOR_ANNOUNCE_MAX_PEERS; i++) {
        bool known = false;
        for (size_t k = 0; k < r->npeers && !known; k++)
            known = r->peers[k].family == more->peers[i].family &&
                    r->peers[k].port == more->peers[i].port &&
                    memcmp(r->peers[k].ip, more->peers[i].ip, 16) == 0;
        if (!known)
            r->peers[r->npeers++] = more->peers[i];
    }
}

static void announce_work(void *tctx, void *vj)
{
    struct job *j = vj;
    tor_announce_blocking(j->url, &j->req, &j->res);
    /* BEP 52: a hybrid is announced under its v2 info-hash (truncated) too, where peers that
     * speak only v2 look for it; their peers join ours */
    if (j->hybrid && !j->res.failure[0]) {
        struct tor_announce_res *more = xcalloc(1, sizeof *more);
        memcpy(j->req.info_hash, j->v2_hash, 20);
        tor_announce_blocking(j->url, &j->req, more);
        if (!more->failure[0])
            merge_peers(&j->res, more);
        free(more);
    }
    loop_post_send(j->svc->w->host.post, announce_done, j);
}

void peer_item_announce(struct tor_item *it, enum tor_event ev)
{
    if (it->meta.ntrackers == 0 || it->announcing)
        return;
    struct job *j = xcalloc(1, sizeof *j);
    j->svc = it->svc;
    j->key = it->key;
    snprintf(j->url, sizeof j->url, "%s", it->meta.trackers[it->tracker % it->meta.ntrackers]);
    memcpy(j->req.info_hash, it->meta.info_hash, 20);
    j->hybrid = it->meta.v2 && !it->meta.v2_only;
    memcpy(j->v2_hash, it->meta.info_hash_v2, 20);
    memcpy(j->req.peer_id, it->svc->peer_id, 20);
    j->req.port = it->svc->port;
    j->req.event = ev;
    j->req.left = it->swarm ? tor_swarm_left(it->swarm) : it->meta.total;
    if (it->magnet)
        j->req.left = 1; /* size unknown (BEP 9): 0 would make us a seed to the tracker */
    if (it->swarm) {
        uint64_t dr, ur;
        tor_swarm_totals(it->swarm, &j->req.downloaded, &j->req.uploaded, &dr, &ur);
    }
    it->announcing = true;
    pool_submit(it->svc->net_pool, announce_work, j);
}

/* ---- life of a torrent ---- */

static void limits_of(const struct peer_config *c, struct tor_swarm_limits *l)
{
    *l = (struct tor_swarm_limits){.max_peers = c->max_peers,
                                   .upload_rate = c->upload_rate,
                                   .download_rate = c->download_rate,
                                   .max_active_bytes = c->memory,
                                   .slots = 4,
                                   .seed_slots = c->seed_slots,
                                   .no_pex = !c->pex};
}

void peer_items_set_limits(struct peer_svc *svc)
{
    struct tor_swarm_limits l;
    limits_of(svc->cfg, &l);
    for (struct tor_item *it = svc->items; it; it = it->next)
        if (it->swarm)
            tor_swarm_set_limits(it->swarm, &l);
}

static void start_swarm(struct tor_item *it)
{
    struct tor_swarm_limits l;
    limits_of(it->svc->cfg, &l);
    l.listen_port = it->svc->port;
    uint64_t seed;
    RAND_bytes((uint8_t *)&seed, sizeof seed);
    it->swarm =
        tor_swarm_new(&it->meta, it->checked, it->svc->peer_id, &torrent_swarm_ops, it, &l, seed);
    uint32_t have = tor_swarm_have_count(it->swarm);
    log_info("torrent %.8s %s: %u of %u pieces on disk%s", it->hex, it->meta.name, have,
             it->meta.npieces, it->meta.priv ? " (private: trackers only)" : "");
    it->state = ITEM_ACTIVE;
    it->sent_completed = tor_swarm_complete(it->swarm); /* nothing to report: it was there */
    it->pending_event = TOR_EV_STARTED;
    it->next_announce = 0;
    if (tor_swarm_complete(it->swarm))
        it->seed_since = time(NULL);
    if (it->fetch)
        peer_magnet_handover(it);
    peer_webseeds_start(it);
}

void peer_item_begin(struct tor_item *it)
{
    it->state = ITEM_CHECKING;
    it->check_next = 0;
    memset(it->checked, 0, (it->meta.npieces + 7) / 8);
    check_more(it);
}

struct tor_item *peer_item_add(struct peer_svc *svc, const char *torrent_path, const char *dir,
                               bool paused, const char **why)
{
    struct str raw = STR_INIT;
    if (file_read_all(torrent_path, 16u << 20, &raw) < 0) {
        *why = "cannot read the .torrent file";
        str_clear(&raw);
        return NULL;
    }
    struct tor_item *it = xcalloc(1, sizeof *it);
    if (tor_meta_parse(raw.ptr, raw.len, &it->meta, why) < 0) {
        str_clear(&raw);
        free(it);
        return NULL;
    }
    tor_hash_hex(it->meta.info_hash, it->hex);
    if (peer_item_find(svc, it->meta.info_hash)) {
        *why = "already added";
        tor_meta_clear(&it->meta);
        str_clear(&raw);
        free(it);
        return NULL;
    }
    it->svc = svc;
    it->key = ++svc->next_key;
    snprintf(it->dir, sizeof it->dir, "%s", dir);
    char keep[1200];
    peer_state_path(it, "torrent", keep, sizeof keep);
    if (strcmp(keep, torrent_path) != 0)
        peer_write_atomic(keep, raw.ptr, raw.len);
    str_clear(&raw);
    if (tor_storage_open(&it->st, &it->meta, it->dir, why) < 0) {
        tor_meta_clear(&it->meta);
        free(it);
        return NULL;
    }
    it->checked = xcalloc((it->meta.npieces + 7) / 8, 1);
    it->next = svc->items;
    svc->items = it;
    if (paused) {
        it->state = ITEM_PAUSED;
    } else {
        peer_item_begin(it);
    }
    peer_item_save(it);
    log_info("torrent %.8s: added %s (%llu bytes, %u pieces) into %s", it->hex, it->meta.name,
             (unsigned long long)it->meta.total, it->meta.npieces, it->dir);
    return it;
}

static void stop_swarm(struct tor_item *it, bool tell_tracker)
{
    if (!it->swarm && !it->fetch)
        return;
    if (tell_tracker && it->sent_started) {
        it->announcing = false;
        peer_item_announce(it, TOR_EV_STOPPED);
    }
    if (it->fetch) {
        peer_magnet_stop(it);
        return;
    }
    peer_webseeds_stop(it);
    peer_close_item_conns(it->svc, it);
    tor_swarm_free(it->swarm);
    it->swarm = NULL;
}

void peer_item_pause(struct peer_svc *svc, struct tor_item *it, bool pause)
{
    if (pause && it->state != ITEM_PAUSED) {
        if (it->verifying) {
            log_info("torrent %.8s: pieces are being verified; pause again shortly", it->hex);
            return;
        }
        stop_swarm(it, true);
        it->state = ITEM_PAUSED;
        log_info("torrent %.8s: paused", it->hex);
    } else if (!pause && (it->state == ITEM_PAUSED || it->state == ITEM_DONE)) {
        if (it->magnet)
            peer_magnet_start(it);
        else
            peer_item_begin(it);
        log_info("torrent %.8s: resumed", it->hex);
    }
    peer_item_save(it);
}

void peer_item_remove(struct peer_svc *svc, struct tor_item *it)
{
    if (!it->verifying)
        stop_swarm(it, true);
    it->removing = true;
    char path[1200];
    peer_state_path(it, "torrent", path, sizeof path);
    unlink(path);
    peer_state_path(it, "conf", path, sizeof path);
    unlink(path);
    peer_state_path(it, "magnet", path, sizeof path);
    unlink(path);
    log_info("torrent %.8s: removed (downloaded files kept in %s)", it->hex, it->dir);
    maybe_free(svc, it);
}

void peer_item_free(struct tor_item *it)
{
    if (it->swarm) {
        peer_webseeds_stop(it);
        peer_close_item_conns(it->svc, it);
        tor_swarm_free(it->swarm);
    }
    if (it->fetch)
        peer_magnet_stop(it);
    tor_storage_close(&it->st);
    tor_meta_clear(&it->meta);
    free(it->magnet);
    free(it->checked);
    free(it);
}

/* ---- timers ---- */

void peer_items_tick(struct peer_svc *svc, uint64_t now_ms)
{
    for (struct tor_item *it = svc->items; it; it = it->next)
        if (it->swarm && it->state == ITEM_ACTIVE)
            tor_swarm_tick(it->swarm, now_ms);
        else if (it->fetch && it->state == ITEM_METADATA)
            peer_magnet_tick(it, now_ms);
}

bool peer_item_room(const struct tor_item *it)
{
    unsigned max = it->svc->cfg->max_peers;
    if (it->state == ITEM_ACTIVE && it->swarm)
        return tor_swarm_npeers(it->swarm) < max;
    return it->state == ITEM_METADATA && it->fetch && tor_mfetch_npeers(it->fetch) < max;
}

/* Addresses from the tracker are dialled while there is room (a few each second). */
static void dial_some(struct peer_svc *svc, struct tor_item *it, size_t npeers)
{
    for (int k = 0;
         k < 8 && it->cand_next < it->ncand && npeers + svc->outgoing_pending < svc->cfg->max_peers;
         k++) {
        const struct tor_peer_addr *a = &it->cand[it->cand_next++];
        if (!peer_conn_to(svc, it, a)) /* e.g. handed over from the metadata fetch */
            peer_connect(svc, it, a);
    }
}

static bool seeding_over(const struct peer_config *c, struct tor_item *it, int64_t now)
{
    uint64_t down, up, dr, ur;
    tor_swarm_totals(it->swarm, &down, &up, &dr, &ur);
    if (c->seed_ratio && up * 100 >= (uint64_t)c->seed_ratio * it->meta.total)
        return true;
    return c->seed_time && now - it->seed_since >= (int64_t)c->seed_time;
}

static void house_one(struct peer_svc *svc, struct tor_item *it, int64_t now)
{
    if (tor_swarm_complete(it->swarm)) {
        if (!it->seed_since)
            it->seed_since = now;
        if (!it->sent_completed && it->pending_event == TOR_EV_NONE) {
            it->pending_event = TOR_EV_COMPLETED;
            it->next_announce = 0;
        }
        if (it->verifying == 0 && seeding_over(svc->cfg, it, now)) {
            log_info("torrent %.8s: seeding limit reached: stopped", it->hex);
            stop_swarm(it, true);
            it->state = ITEM_DONE;
            peer_item_save(it);
            return;
        }
    }
    if (now >= it->next_announce && !it->announcing)
        peer_item_announce(it, it->pending_event);
    peer_webseeds_house(it, now);
    if (!tor_swarm_complete(it->swarm))
        dial_some(svc, it, tor_swarm_npeers(it->swarm));
}

void peer_items_house(struct peer_svc *svc, int64_t now)
{
    for (struct tor_item *it = svc->items; it; it = it->next) {
        if (it->state == ITEM_CHECKING)
            check_more(it);
        else if (it->state == ITEM_ACTIVE && it->swarm)
            house_one(svc, it, now);
        else if (it->state == ITEM_METADATA && it->fetch) {
            if (now >= it->next_announce && !it->announcing)
                peer_item_announce(it, it->pending_event);
            dial_some(svc, it, tor_mfetch_npeers(it->fetch));
        }
    }
}
