/*
 * jmap service — the last message rows read for a few accounts, so a request that finds the
 * account unchanged does not read every row again (bench/jmap_callgrind.sh: half of a round
 * was that read). The key is what the state string is made of: every mailbox's id, highest
 * modseq and next uid, as the mailboxes read just before gave them. Every writer bumps a
 * mailbox's modseq or next uid (store/imap.h, RFC 7162), so rows cached under a key are the
 * rows of any later read that sees the same key. Only rows all placed in their threads are
 * kept (threads.c), and the entries are shared by the store pool's threads under one lock.
 */
#include "jmap/service/service_int.h"

#include "core/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cached_row {
    struct jmap_msg m; /* flags: owned; blob_id: set to blob when replayed */
    char blob[33];
};

struct jmap_snap_entry {
    char user[256];
    char *key;
    struct cached_row *rows;
    size_t n;
    uint64_t used;
};

void jmap_snapcache_init(struct jmap_snapcache *c)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->lock, NULL);
}

static void entry_free(struct jmap_snap_entry *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->n; i++)
        free((char *)e->rows[i].m.flags);
    free(e->rows);
    free(e->key);
    free(e);
}

void jmap_snapcache_clear(struct jmap_snapcache *c)
{
    for (size_t i = 0; i < JMAP_SNAP_CACHE; i++)
        entry_free(c->e[i]);
    pthread_mutex_destroy(&c->lock);
}

bool jmap_snapcache_replay(struct jmap_snapcache *c, const char *user, const char *key,
                           jmap_msg_cb cb, void *arg)
{
    bool hit = false;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < JMAP_SNAP_CACHE && !hit; i++) {
        struct jmap_snap_entry *e = c->e[i];
        if (!e || strcmp(e->user, user) != 0 || strcmp(e->key, key) != 0)
            continue;
        hit = true;
        e->used = ++c->clock;
        for (size_t k = 0; k < e->n; k++) {
            e->rows[k].m.blob_id = e->rows[k].blob;
            cb(arg, &e->rows[k].m);
        }
    }
    pthread_mutex_unlock(&c->lock);
    return hit;
}

void jmap_snap_rows_add(struct jmap_snap_rows *r, const struct jmap_msg *m)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 256;
        r->rows = xrealloc(r->rows, r->cap * sizeof *r->rows);
    }
    struct cached_row *row = &r->rows[r->n++];
    row->m = *m;
    row->m.flags = xstrdup(m->flags ? m->flags : "");
    snprintf(row->blob, sizeof row->blob, "%s", m->blob_id ? m->blob_id : "");
}

void jmap_snap_rows_clear(struct jmap_snap_rows *r)
{
    for (size_t i = 0; i < r->n; i++)
        free((char *)r->rows[i].m.flags);
    free(r->rows);
    memset(r, 0, sizeof *r);
}

void jmap_snapcache_put(struct jmap_snapcache *c, const char *user, const char *key,
                        struct jmap_snap_rows *r)
{
    struct jmap_snap_entry *e = xcalloc(1, sizeof *e);
    snprintf(e->user, sizeof e->user, "%s", user);
    e->key = xstrdup(key);
    e->rows = r->rows;
    e->n = r->n;
    memset(r, 0, sizeof *r);
    pthread_mutex_lock(&c->lock);
    e->used = ++c->clock;
    size_t slot = 0; /* the account's own entry, else a free one, else the least used */
    for (size_t i = 0; i < JMAP_SNAP_CACHE; i++) {
        if (c->e[i] && strcmp(c->e[i]->user, user) == 0) {
            slot = i;
            break;
        }
        if (!c->e[i] || (c->e[slot] && c->e[i]->used < c->e[slot]->used))
            slot = i;
    }
    struct jmap_snap_entry *old = c->e[slot];
    c->e[slot] = e;
    pthread_mutex_unlock(&c->lock);
    entry_free(old);
}
