/* torrent/dht_table — see dht_table.h. */
#include "torrent/dht_table.h"

#include <string.h>

void dht_table_init(struct dht_table *t, const uint8_t self[20])
{
    memset(t, 0, sizeof *t);
    memcpy(t->self, self, 20);
}

int dht_bucket_of(const uint8_t self[20], const uint8_t id[20])
{
    for (int i = 0; i < 20; i++) {
        uint8_t x = self[i] ^ id[i];
        if (x == 0)
            continue;
        int bit = 0;
        while (!(x & 0x80)) {
            x = (uint8_t)(x << 1);
            bit++;
        }
        return i * 8 + bit;
    }
    return -1;
}

bool dht_nearer(const uint8_t target[20], const uint8_t a[20], const uint8_t b[20])
{
    for (int i = 0; i < 20; i++) {
        uint8_t da = a[i] ^ target[i], db = b[i] ^ target[i];
        if (da != db)
            return da < db;
    }
    return false;
}

struct dht_node *dht_table_find(struct dht_table *t, const uint8_t id[20])
{
    int k = dht_bucket_of(t->self, id);
    if (k < 0)
        return NULL;
    for (int i = 0; i < DHT_K; i++)
        if (t->b[k][i].used && memcmp(t->b[k][i].id, id, 20) == 0)
            return &t->b[k][i];
    return NULL;
}

struct dht_node *dht_table_seen(struct dht_table *t, const uint8_t id[20], const struct dht_addr *a,
                                bool replied, uint64_t now)
{
    int k = dht_bucket_of(t->self, id);
    if (k < 0 || a->port == 0)
        return NULL;
    struct dht_node *n = dht_table_find(t, id);
    if (!n) {
        struct dht_node *spare = NULL;
        for (int i = 0; i < DHT_K && !spare; i++)
            if (!t->b[k][i].used)
                spare = &t->b[k][i];
        for (int i = 0; i < DHT_K && !spare; i++)
            if (t->b[k][i].fails >= DHT_MAX_FAILS)
                spare = &t->b[k][i];
        if (!spare)
            return NULL;
        if (!spare->used)
            t->count++;
        memset(spare, 0, sizeof *spare);
        spare->used = true;
        memcpy(spare->id, id, 20);
        n = spare;
    }
    n->addr = *a;
    n->last_seen = now;
    if (replied) {
        n->confirmed = true;
        n->fails = 0;
    }
    return n;
}

void dht_table_failed(struct dht_table *t, const uint8_t id[20])
{
    struct dht_node *n = dht_table_find(t, id);
    if (n)
        n->fails++;
}

size_t dht_table_closest(const struct dht_table *t, const uint8_t target[20], struct krpc_node *out,
                         size_t max)
{
    size_t n = 0;
    for (int k = 0; k < DHT_BUCKETS; k++)
        for (int i = 0; i < DHT_K; i++) {
            const struct dht_node *x = &t->b[k][i];
            if (!x->used || x->fails >= DHT_MAX_FAILS)
                continue;
            /* insertion into the sorted out[0..n) (max is small) */
            size_t at = n;
            while (at > 0 && dht_nearer(target, x->id, out[at - 1].id))
                at--;
            if (at >= max)
                continue;
            size_t last = n < max ? n : max - 1;
            memmove(out + at + 1, out + at, (last - at) * sizeof *out);
            memcpy(out[at].id, x->id, 20);
            out[at].addr = x->addr;
            if (n < max)
                n++;
        }
    return n;
}
