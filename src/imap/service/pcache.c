/*
 * pcache — see pcache.h. A chained hash table of blob ids (FNV-1a) and a least-recently-used
 * list; the table doubles when it holds more entries than buckets.
 */
#include "imap/service/pcache.h"

#include "core/xmalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FIELDS 4

struct pentry {
    struct pentry *next_hash;
    struct pentry *prev, *next; /* LRU: head is the most recent */
    char blob[IMAP_BLOB_ID_MAX];
    char *f[FIELDS]; /* envelope, bodystructure, body, search headers (enum imap_cache_field) */
    size_t bytes;
};

struct imap_pcache {
    struct pentry **table;
    size_t nbuckets, n;
    struct pentry *head, *tail;
    size_t bytes, max_bytes;
};

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

struct imap_pcache *imap_pcache_new(size_t max_bytes)
{
    struct imap_pcache *c = xcalloc(1, sizeof *c);
    c->nbuckets = 1024;
    c->table = xcalloc(c->nbuckets, sizeof *c->table);
    c->max_bytes = max_bytes ? max_bytes : 64u << 20;
    return c;
}

static void entry_free(struct pentry *e)
{
    for (int i = 0; i < FIELDS; i++)
        free(e->f[i]);
    free(e);
}

void imap_pcache_free(struct imap_pcache *c)
{
    if (!c)
        return;
    for (struct pentry *e = c->head, *next; e; e = next) {
        next = e->next;
        entry_free(e);
    }
    free(c->table);
    free(c);
}

static struct pentry **slot(struct imap_pcache *c, const char *blob)
{
    struct pentry **p = &c->table[hash(blob) & (c->nbuckets - 1)];
    while (*p && strcmp((*p)->blob, blob) != 0)
        p = &(*p)->next_hash;
    return p;
}

static void lru_unlink(struct imap_pcache *c, struct pentry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        c->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        c->tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_front(struct imap_pcache *c, struct pentry *e)
{
    e->next = c->head;
    e->prev = NULL;
    if (c->head)
        c->head->prev = e;
    c->head = e;
    if (!c->tail)
        c->tail = e;
}

static void evict(struct imap_pcache *c)
{
    while (c->bytes > c->max_bytes && c->tail) {
        struct pentry *e = c->tail;
        *slot(c, e->blob) = e->next_hash;
        lru_unlink(c, e);
        c->bytes -= e->bytes;
        c->n--;
        entry_free(e);
    }
}

static void grow(struct imap_pcache *c)
{
    size_t nb = c->nbuckets * 2;
    struct pentry **t = xcalloc(nb, sizeof *t);
    for (size_t i = 0; i < c->nbuckets; i++)
        for (struct pentry *e = c->table[i], *next; e; e = next) {
            next = e->next_hash;
            struct pentry **p = &t[hash(e->blob) & (nb - 1)];
            e->next_hash = *p;
            *p = e;
        }
    free(c->table);
    c->table = t;
    c->nbuckets = nb;
}

bool imap_pcache_get(struct imap_pcache *c, const char *blob, unsigned fields,
                     struct imap_cache_entry *out)
{
    struct pentry *e = *slot(c, blob);
    if (!e)
        return false;
    for (int i = 0; i < FIELDS; i++)
        if ((fields & (1u << i)) && !e->f[i])
            return false;
    char **dst[FIELDS] = {&out->envelope, &out->bodystructure, &out->body, &out->search_headers};
    for (int i = 0; i < FIELDS; i++)
        *dst[i] = (fields & (1u << i)) ? xstrdup(e->f[i]) : NULL;
    lru_unlink(c, e);
    lru_front(c, e);
    return true;
}

void imap_pcache_put(struct imap_pcache *c, const char *blob, const struct imap_cache_entry *in)
{
    if (strlen(blob) >= IMAP_BLOB_ID_MAX)
        return;
    struct pentry **p = slot(c, blob), *e = *p;
    if (!e) {
        e = xcalloc(1, sizeof *e);
        memcpy(e->blob, blob, strlen(blob) + 1);
        *p = e;
        c->n++;
        lru_front(c, e);
    }
    const char *src[FIELDS] = {in->envelope, in->bodystructure, in->body, in->search_headers};
    for (int i = 0; i < FIELDS; i++) {
        if (!src[i] || e->f[i])
            continue;
        size_t n = strlen(src[i]);
        e->f[i] = xstrndup(src[i], n);
        e->bytes += n + 1;
        c->bytes += n + 1;
    }
    if (c->n > c->nbuckets)
        grow(c);
    evict(c);
}
