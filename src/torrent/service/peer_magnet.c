/*
 * torrent/service/peer_magnet — torrents added from a magnet link (BEP 9). Until its info
 * dictionary is known a torrent is ITEM_METADATA: its trackers (from the link) are announced
 * to, the peers they name are dialled, and the connections (incoming ones too) are given to
 * the metadata fetcher (torrent/metafetch.h) instead of a swarm. When the dictionary came and
 * its hash is the link's (SHA-1 for btih, SHA-256 for a BEP 52 btmh), and for a v2-only one
 * its piece layers came too, a .torrent file is written around it (the link's trackers and
 * web seeds, the piece layers), the link is forgotten, and the torrent goes on as one added from
 * that file: its files are checked, the swarm starts, and the fetch's connections are handed to it
 * (tor_swarm_peer_adopt checks what each peer said meanwhile), so no peer is dialled twice;
 * peers the fetch had closed (those without BEP 9) are dialled again by the swarm.
 *
 * The link is kept as DATA/torrent/HASH.magnet until then, so a restart fetches again.
 */
#include "torrent/service/peer_int.h"

#include "core/log.h"
#include "core/xmalloc.h"
#include "torrent/magnet.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A display name from the link: control characters would break the status file's lines. */
static char *display_name(char *dn, const char *hex)
{
    if (!dn)
        return xstrdup(hex);
    for (char *c = dn; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '_';
    return dn;
}

struct tor_item *peer_magnet_add(struct peer_svc *svc, const char *uri, const char *dir,
                                 bool paused, const char **why)
{
    struct tor_magnet mg;
    if (tor_magnet_parse(uri, strlen(uri), &mg, why) < 0)
        return NULL;
    if (peer_item_find(svc, mg.info_hash)) {
        *why = "already added";
        tor_magnet_clear(&mg);
        return NULL;
    }
    struct tor_item *it = xcalloc(1, sizeof *it);
    it->svc = svc;
    it->key = ++svc->next_key;
    memcpy(it->meta.info_hash, mg.info_hash, 20);
    it->meta.v2 = mg.v2; /* BEP 52: a btmh hash; v2-only without a btih one */
    it->meta.v2_only = mg.v2_only;
    memcpy(it->meta.info_hash_v2, mg.info_hash_v2, 32);
    tor_hash_hex(it->meta.info_hash, it->hex);
    it->meta.name = display_name(mg.name, it->hex);
    it->meta.trackers = mg.trackers, it->meta.ntrackers = mg.ntrackers;
    it->meta.webseeds = mg.webseeds, it->meta.nwebseeds = mg.nwebseeds;
    mg = (struct tor_magnet){0}; /* all of it now owned by it->meta */
    it->magnet = xstrdup(uri);
    snprintf(it->dir, sizeof it->dir, "%s", dir);
    char keep[1200];
    peer_state_path(it, "magnet", keep, sizeof keep);
    peer_write_atomic(keep, uri, strlen(uri));
    it->next = svc->items;
    svc->items = it;
    if (paused)
        it->state = ITEM_PAUSED;
    else
        peer_magnet_start(it);
    peer_item_save(it);
    log_info("torrent %.8s: added from a magnet link (%s), %zu tracker(s)%s", it->hex,
             it->meta.name, it->meta.ntrackers,
             it->meta.ntrackers ? ""
             : svc->dht         ? ": peers come from the DHT"
                                : ": only peers that connect to us can give the metadata");
    return it;
}

void peer_magnet_start(struct tor_item *it)
{
    it->fetch = tor_mfetch_new(it->meta.info_hash, it->svc->peer_id, &torrent_mfetch_ops, it);
    if (it->meta.v2)
        tor_mfetch_set_v2(it->fetch, it->meta.info_hash_v2);
    it->state = ITEM_METADATA;
    it->pending_event = TOR_EV_STARTED;
    it->sent_started = false;
    it->next_announce = 0;
    it->cand_next = 0;
}

void peer_magnet_stop(struct tor_item *it)
{
    peer_close_item_conns(it->svc, it);
    tor_mfetch_free(it->fetch);
    it->fetch = NULL;
}

static void fail(struct tor_item *it, const char *why)
{
    log_warn("torrent %.8s: the metadata from the magnet link is unusable: %s", it->hex, why);
    snprintf(it->error, sizeof it->error, "metadata: %s", why);
    peer_magnet_stop(it);
    it->state = ITEM_ERROR;
}

/* The verified info dictionary (and the piece layers of a v2-only one): the torrent becomes
 * one added from a .torrent file. */
static void metadata_done(struct tor_item *it, const char *info, size_t len,
                          const struct str *layers)
{
    struct str t = STR_INIT;
    tor_meta_build(&t, info, len, it->meta.trackers, it->meta.ntrackers, it->meta.webseeds,
                   it->meta.nwebseeds, layers->len ? layers->ptr : NULL, layers->len);
    struct tor_meta m;
    const char *why = NULL;
    if (tor_meta_parse(t.ptr, t.len, &m, &why) < 0) {
        str_clear(&t);
        fail(it, why);
        return;
    }
    char path[1200];
    peer_state_path(it, "torrent", path, sizeof path);
    peer_write_atomic(path, t.ptr, t.len);
    str_clear(&t);
    tor_meta_clear(&it->meta); /* the fetch and its connections stay, for the swarm */
    it->meta = m;
    if (tor_storage_open(&it->st, &it->meta, it->dir, &why) < 0) {
        fail(it, why);
        return;
    }
    peer_state_path(it, "magnet", path, sizeof path);
    unlink(path);
    free(it->magnet);
    it->magnet = NULL;
    it->checked = xcalloc((it->meta.npieces + 7) / 8, 1);
    log_info("torrent %.8s: metadata of %s: %llu bytes in %u pieces; starting the download",
             it->hex, it->meta.name, (unsigned long long)it->meta.total, it->meta.npieces);
    it->cand_next = 0; /* known peers not connected now are dialled again, by the swarm */
    peer_item_begin(it);
    peer_item_save(it);
}

void peer_magnet_handover(struct tor_item *it)
{
    struct peer_svc *svc = it->svc;
    unsigned moved = 0, dropped = 0;
    uint64_t now = peer_now_ms();
    for (struct pconn *pc = svc->conns; pc; pc = pc->next) {
        if (pc->item != it || !pc->mpeer)
            continue;
        struct tor_mpeer_state st;
        if (!pc->closing && tor_mfetch_peer_state(pc->mpeer, &st)) {
            pc->peer = tor_swarm_peer_adopt(it->swarm, pc, &st, now);
            if (pc->port)
                tor_swarm_peer_set_port(pc->peer, pc->port);
            moved++;
        } else {
            pc->closing = true;
            dropped++;
        }
        tor_mfetch_peer_gone(it->fetch, pc->mpeer);
        pc->mpeer = NULL;
    }
    tor_mfetch_free(it->fetch);
    it->fetch = NULL;
    if (dropped && svc->reaper)
        event_active(svc->reaper, EV_TIMEOUT, 0);
    log_info("torrent %.8s: %u connection(s) of the metadata fetch handed to the swarm", it->hex,
             moved);
}

void peer_magnet_tick(struct tor_item *it, uint64_t now_ms)
{
    tor_mfetch_tick(it->fetch, now_ms);
    size_t len;
    const char *info = tor_mfetch_result(it->fetch, &len);
    if (info) {
        char *copy = xmalloc(len);
        memcpy(copy, info, len); /* the fetcher is freed on the way */
        struct str layers = STR_INIT;
        tor_mfetch_layers(it->fetch, &layers);
        metadata_done(it, copy, len, &layers);
        str_clear(&layers);
        free(copy);
    }
}
