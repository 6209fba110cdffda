/* torrent/dht — the node's side: queries answered, tokens, stored peers, timers. See dht.h. */
#include "torrent/dht_int.h"

#include "core/err.h"
#include "core/xmalloc.h"

#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dht *dht_new(const uint8_t id[20], const uint8_t secret[20], const struct dht_ops *ops,
                    void *ctx, uint64_t now)
{
    struct dht *d = xcalloc(1, sizeof *d);
    memcpy(d->id, id, 20);
    memcpy(d->secret, secret, 20);
    memcpy(d->prev_secret, secret, 20);
    d->rotated_at = d->bucket_at = d->refreshed_at = now;
    d->qtokens = DHT_QUERIES_PER_S;
    d->ops = ops;
    d->ctx = ctx;
    dht_table_init(&d->table, id);
    return d;
}

void dht_free(struct dht *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->nstore; i++)
        free(d->store[i]);
    free(d->store);
    free(d);
}

void dht_logf(struct dht *d, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (d->ops->log)
        d->ops->log(d->ctx, line);
}

void dht_send(struct dht *d, const struct dht_addr *to, const struct str *out)
{
    d->ops->send(d->ctx, to, out->ptr, out->len);
}

/* ---- tokens ---- */

static void token_with(const uint8_t secret[20], const struct dht_addr *a, uint8_t out[8])
{
    uint8_t in[24], h[SHA_DIGEST_LENGTH];
    memcpy(in, secret, 20);
    memcpy(in + 20, a->ip, 4);
    SHA1(in, sizeof in, h);
    memcpy(out, h, 8);
}

void dht_token(const struct dht *d, const struct dht_addr *addr, uint8_t out[8])
{
    token_with(d->secret, addr, out);
}

static bool token_ok(const struct dht *d, const struct dht_addr *a, const uint8_t *t, size_t n)
{
    uint8_t want[8];
    if (n != 8)
        return false;
    token_with(d->secret, a, want);
    if (memcmp(want, t, 8) == 0)
        return true;
    token_with(d->prev_secret, a, want);
    return memcmp(want, t, 8) == 0;
}

/* The next secret is a hash of the current one: unpredictable without it, no RNG needed. */
static void rotate(struct dht *d, uint64_t now)
{
    memcpy(d->prev_secret, d->secret, 20);
    uint8_t in[24];
    memcpy(in, d->secret, 20);
    memcpy(in + 20, "next", 4);
    SHA1(in, sizeof in, d->secret);
    d->rotated_at = now;
}

/* ---- stored peers ---- */

const struct dht_stored *dht_stored_find(const struct dht *d, const uint8_t ih[20])
{
    for (size_t i = 0; i < d->nstore; i++)
        if (memcmp(d->store[i]->info_hash, ih, 20) == 0)
            return d->store[i];
    return NULL;
}

static int store_peer(struct dht *d, const uint8_t ih[20], const struct dht_addr *a, uint64_t now)
{
    struct dht_stored *s = (struct dht_stored *)dht_stored_find(d, ih);
    if (!s) {
        if (d->nstore == DHT_MAX_HASHES)
            return ERR_LIMIT;
        s = xcalloc(1, sizeof *s);
        memcpy(s->info_hash, ih, 20);
        d->store = xrealloc(d->store, (d->nstore + 1) * sizeof *d->store);
        d->store[d->nstore++] = s;
    }
    size_t at = s->n, oldest = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (memcmp(&s->p[i].a, a, sizeof *a) == 0)
            at = i;
        if (s->p[i].at < s->p[oldest].at)
            oldest = i;
    }
    if (at == s->n) {
        if (s->n == DHT_MAX_PEERS)
            at = oldest; /* the stalest gives way */
        else
            s->n++;
    }
    s->p[at].a = *a;
    s->p[at].at = now;
    return 0;
}

static void expire_store(struct dht *d, uint64_t now)
{
    for (size_t i = 0; i < d->nstore;) {
        struct dht_stored *s = d->store[i];
        for (size_t k = 0; k < s->n;) {
            if (now - s->p[k].at > DHT_PEER_TTL_MS)
                s->p[k] = s->p[--s->n];
            else
                k++;
        }
        if (s->n == 0) {
            free(s);
            d->store[i] = d->store[--d->nstore];
        } else {
            i++;
        }
    }
}

/* ---- queries from others ---- */

static void reply_error(struct dht *d, const struct dht_addr *to, const struct krpc_msg *m,
                        int code, const char *why)
{
    struct str out = STR_INIT;
    krpc_put_error(&out, m->tid, m->tidlen, code, why);
    dht_send(d, to, &out);
    str_clear(&out);
}

static void reply(struct dht *d, const struct dht_addr *to, const struct krpc_msg *m,
                  const struct krpc_reply *r)
{
    struct str out = STR_INIT;
    krpc_put_reply(&out, m->tid, m->tidlen, d->id, r);
    dht_send(d, to, &out);
    str_clear(&out);
}

static void on_get_peers(struct dht *d, const struct dht_addr *from, const struct krpc_msg *m)
{
    struct krpc_node nodes[DHT_K];
    struct dht_addr vals[DHT_MAX_VALUES];
    uint8_t tok[8];
    dht_token(d, from, tok);
    struct krpc_reply r = {.nodes = nodes, .token = tok, .toklen = 8, .values = vals};
    const struct dht_stored *s = dht_stored_find(d, m->info_hash);
    for (size_t i = 0; s && i < s->n && r.nvalues < DHT_MAX_VALUES; i++)
        vals[r.nvalues++] = s->p[i].a;
    /* BEP 5 gives nodes only when there are no values; sending both (as libtorrent does)
     * lets the asker go on towards the nodes that store more */
    r.nnodes = dht_table_closest(&d->table, m->info_hash, nodes, DHT_K);
    reply(d, from, m, &r);
}

static void on_announce(struct dht *d, const struct dht_addr *from, const struct krpc_msg *m,
                        uint64_t now)
{
    if (!m->has_info_hash || (!m->has_port && !m->implied_port)) {
        reply_error(d, from, m, KRPC_E_PROTOCOL, "announce_peer needs info_hash and port");
        return;
    }
    if (!token_ok(d, from, m->token, m->toklen)) {
        reply_error(d, from, m, KRPC_E_PROTOCOL, "bad token");
        return;
    }
    struct dht_addr peer = *from;
    if (!m->implied_port) /* BEP 5: implied_port means the packet's source port */
        peer.port = m->port;
    if (store_peer(d, m->info_hash, &peer, now) < 0) {
        reply_error(d, from, m, KRPC_E_SERVER, "too many torrents stored");
        return;
    }
    reply(d, from, m, NULL);
    d->ops->found(d->ctx, m->info_hash, &peer, 1); /* ours too, if we are in that swarm */
}

void dht_on_query(struct dht *d, const struct dht_addr *from, const struct krpc_msg *m,
                  uint64_t now)
{
    if (d->qtokens <= 0)
        return; /* flooded: silence costs nothing, an error reply would */
    d->qtokens--;
    if (!m->has_id) {
        reply_error(d, from, m, KRPC_E_PROTOCOL, "query without a 20-byte id");
        return;
    }
    if (!m->read_only)
        dht_table_seen(&d->table, m->id, from, false, now);
    struct krpc_node nodes[DHT_K];
    struct krpc_reply r = {.nodes = nodes};
    switch (m->method) {
    case KRPC_PING:
        reply(d, from, m, NULL);
        break;
    case KRPC_FIND_NODE:
        if (!m->has_target) {
            reply_error(d, from, m, KRPC_E_PROTOCOL, "find_node needs a target");
            return;
        }
        r.nnodes = dht_table_closest(&d->table, m->target, nodes, DHT_K);
        reply(d, from, m, &r);
        break;
    case KRPC_GET_PEERS:
        if (!m->has_info_hash) {
            reply_error(d, from, m, KRPC_E_PROTOCOL, "get_peers needs an info_hash");
            return;
        }
        on_get_peers(d, from, m);
        break;
    case KRPC_ANNOUNCE_PEER:
        on_announce(d, from, m, now);
        break;
    default:
        reply_error(d, from, m, KRPC_E_METHOD, "method unknown");
    }
}

void dht_input(struct dht *d, const struct dht_addr *from, const uint8_t *p, size_t n, uint64_t now)
{
    struct krpc_msg *m = xmalloc(sizeof *m);
    const char *why = NULL;
    if (krpc_parse(p, n, m, &why) < 0) {
        /* only a query is answered with an error: answering a broken answer could loop */
        if (m->typed && m->type == KRPC_QUERY && d->qtokens-- > 0)
            reply_error(d, from, m, KRPC_E_PROTOCOL, why);
    } else if (m->type == KRPC_QUERY) {
        dht_on_query(d, from, m, now);
    } else {
        dht_on_answer(d, from, m, now);
    }
    free(m);
}

/* ---- timers ---- */

/* One quiet node of the table (silent for DHT_REFRESH_MS, not asked lately) gets a ping:
 * an answer confirms it, silence counts as a failure and lets a newcomer replace it. */
static void ping_quiet(struct dht *d, uint64_t now)
{
    for (int k = 0; k < DHT_BUCKETS; k++)
        for (int i = 0; i < DHT_K; i++) {
            struct dht_node *x = &d->table.b[k][i];
            if (!x->used || now - x->last_seen < DHT_REFRESH_MS ||
                now - x->last_asked < DHT_REFRESH_MS || x->fails >= DHT_MAX_FAILS)
                continue;
            x->last_asked = now;
            dht_query(d, TX_PING, &x->addr, x->id, -1, NULL, 0, NULL, 0, now);
            return;
        }
}

void dht_tick(struct dht *d, uint64_t now)
{
    if (now - d->bucket_at >= 1000) {
        d->qtokens = DHT_QUERIES_PER_S;
        d->bucket_at = now;
    }
    if (now - d->rotated_at >= DHT_TOKEN_ROTATE_MS)
        rotate(d, now);
    expire_store(d, now);
    dht_lookups_tick(d, now);
    ping_quiet(d, now);
    if (now - d->refreshed_at >= DHT_REFRESH_MS && d->table.count) {
        d->refreshed_at = now;
        dht_lookup_start(d, false, d->id, 0, now);
    }
}

void dht_stats(const struct dht *d, size_t *nodes, size_t *hashes, size_t *peers, size_t *lookups)
{
    *nodes = d->table.count;
    *hashes = d->nstore;
    *peers = 0;
    for (size_t i = 0; i < d->nstore; i++)
        *peers += d->store[i]->n;
    *lookups = 0;
    for (int i = 0; i < DHT_MAX_LOOKUPS; i++)
        *lookups += d->lk[i].used;
}
