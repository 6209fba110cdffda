/* torrent/dht_lookup — our queries: transactions, lookups towards an id, their answers.
 * See dht.h. */
#include "torrent/dht_int.h"

#include "core/err.h"

#include <string.h>

/* ---- transactions ---- */

/* The transaction id: the slot (2 bytes) and a sequence number (2 bytes), so a late answer
 * to a reused slot is recognised as stale. */
static void tid_of(const struct dht *d, unsigned slot, uint8_t out[4])
{
    out[0] = (uint8_t)(slot >> 8), out[1] = (uint8_t)slot;
    out[2] = (uint8_t)(d->tx[slot].seq >> 8), out[3] = (uint8_t)d->tx[slot].seq;
}

static struct dht_tx *tx_of(struct dht *d, const struct krpc_msg *m, const struct dht_addr *from)
{
    if (m->tidlen != 4)
        return NULL;
    unsigned slot = (unsigned)m->tid[0] << 8 | m->tid[1];
    uint16_t seq = (uint16_t)(m->tid[2] << 8 | m->tid[3]);
    if (slot >= DHT_MAX_TX || !d->tx[slot].used || d->tx[slot].seq != seq)
        return NULL;
    struct dht_tx *t = &d->tx[slot];
    /* an answer must come from where the query went (else anyone could inject nodes) */
    if (memcmp(t->to.ip, from->ip, 4) != 0 || t->to.port != from->port)
        return NULL;
    return t;
}

bool dht_query(struct dht *d, enum tx_kind kind, const struct dht_addr *to, const uint8_t *id,
               int li, const uint8_t target[20], uint16_t port, const uint8_t *token, size_t toklen,
               uint64_t now)
{
    unsigned slot = DHT_MAX_TX;
    for (unsigned k = 0; k < DHT_MAX_TX; k++) {
        unsigned i = (d->tx_next + k) % DHT_MAX_TX;
        if (!d->tx[i].used) {
            slot = i;
            break;
        }
    }
    if (slot == DHT_MAX_TX)
        return false;
    d->tx_next = (slot + 1) % DHT_MAX_TX;
    struct dht_tx *t = &d->tx[slot];
    *t = (struct dht_tx){.used = true,
                         .seq = ++d->next_seq,
                         .kind = kind,
                         .to = *to,
                         .has_id = id != NULL,
                         .sent_at = now,
                         .lookup = li};
    if (id)
        memcpy(t->id, id, 20);
    if (li >= 0)
        t->lookup_gen = d->lk[li].gen;
    uint8_t tid[4];
    tid_of(d, slot, tid);
    struct str out = STR_INIT;
    switch (kind) {
    case TX_PING:
        krpc_put_ping(&out, tid, 4, d->id);
        break;
    case TX_BOOT:
        krpc_put_find_node(&out, tid, 4, d->id, d->id);
        break;
    case TX_FIND:
        krpc_put_find_node(&out, tid, 4, d->id, target);
        break;
    case TX_GET_PEERS:
        krpc_put_get_peers(&out, tid, 4, d->id, target);
        break;
    case TX_ANNOUNCE:
        krpc_put_announce(&out, tid, 4, d->id, target, port, token, toklen);
        break;
    }
    dht_send(d, to, &out);
    str_clear(&out);
    return true;
}

/* ---- lookups ---- */

static struct dht_lookup *lookup_of(struct dht *d, const struct dht_tx *t)
{
    if (t->lookup < 0 || !d->lk[t->lookup].used || d->lk[t->lookup].gen != t->lookup_gen)
        return NULL;
    return &d->lk[t->lookup];
}

static struct dht_cand *cand_find(struct dht_lookup *l, const uint8_t id[20])
{
    for (size_t i = 0; i < l->nc; i++)
        if (memcmp(l->c[i].id, id, 20) == 0)
            return &l->c[i];
    return NULL;
}

/* Keeps the DHT_LOOKUP_WIDTH candidates nearest the target, sorted. */
static void cand_add(struct dht *d, struct dht_lookup *l, const struct krpc_node *n)
{
    if (memcmp(n->id, d->id, 20) == 0 || n->addr.port == 0 || cand_find(l, n->id))
        return;
    size_t at = l->nc;
    while (at > 0 && dht_nearer(l->target, n->id, l->c[at - 1].id))
        at--;
    if (at >= DHT_LOOKUP_WIDTH)
        return;
    size_t last = l->nc < DHT_LOOKUP_WIDTH ? l->nc : DHT_LOOKUP_WIDTH - 1;
    memmove(l->c + at + 1, l->c + at, (last - at) * sizeof *l->c);
    l->c[at] = (struct dht_cand){.addr = n->addr, .state = C_NEW};
    memcpy(l->c[at].id, n->id, 20);
    if (l->nc < DHT_LOOKUP_WIDTH)
        l->nc++;
}

/* The lookup is over: a get_peers lookup with a port announces to the DHT_K nearest nodes
 * that answered (with the token each gave). */
static void lookup_finish(struct dht *d, struct dht_lookup *l, uint64_t now)
{
    unsigned told = 0, replied = 0;
    for (size_t i = 0; i < l->nc && replied < DHT_K; i++) {
        struct dht_cand *c = &l->c[i];
        if (c->state != C_REPLIED)
            continue;
        replied++;
        if (l->get_peers && l->port && c->toklen &&
            dht_query(d, TX_ANNOUNCE, &c->addr, c->id, -1, l->target, l->port, c->token, c->toklen,
                      now))
            told++;
    }
    if (l->get_peers)
        dht_logf(d, "lookup of %02x%02x%02x%02x done: %u node(s) answered, announced to %u",
                 l->target[0], l->target[1], l->target[2], l->target[3], replied, told);
    l->used = false;
}

/* Sends queries while fewer than DHT_ALPHA are out, to the nearest not yet asked among the
 * DHT_K nearest still standing; finishes when none of those is left to ask or waiting. */
static void lookup_step(struct dht *d, struct dht_lookup *l, uint64_t now)
{
    unsigned considered = 0;
    bool waiting = false;
    for (size_t i = 0; i < l->nc && considered < DHT_K; i++) {
        struct dht_cand *c = &l->c[i];
        if (c->state == C_FAILED)
            continue;
        considered++;
        if (c->state == C_NEW && l->inflight < DHT_ALPHA &&
            dht_query(d, l->get_peers ? TX_GET_PEERS : TX_FIND, &c->addr, c->id, (int)(l - d->lk),
                      l->target, 0, NULL, 0, now)) {
            c->state = C_ASKED;
            l->inflight++;
        }
        if (c->state == C_NEW || c->state == C_ASKED)
            waiting = true;
    }
    if (!waiting && l->inflight == 0)
        lookup_finish(d, l, now);
}

int dht_lookup_start(struct dht *d, bool get_peers, const uint8_t target[20], uint16_t port,
                     uint64_t now)
{
    struct dht_lookup *l = NULL;
    for (int i = 0; i < DHT_MAX_LOOKUPS && !l; i++)
        if (!d->lk[i].used)
            l = &d->lk[i];
    if (!l)
        return ERR_LIMIT;
    *l = (struct dht_lookup){
        .used = true, .gen = ++d->lookup_gen, .get_peers = get_peers, .port = port};
    memcpy(l->target, target, 20);
    struct krpc_node near[DHT_LOOKUP_WIDTH];
    size_t n = dht_table_closest(&d->table, target, near, DHT_LOOKUP_WIDTH);
    for (size_t i = 0; i < n; i++)
        cand_add(d, l, &near[i]);
    lookup_step(d, l, now);
    return 0;
}

int dht_get_peers(struct dht *d, const uint8_t info_hash[20], uint16_t port, uint64_t now)
{
    const struct dht_stored *s = dht_stored_find(d, info_hash);
    if (s && s->n) { /* peers announced to this node itself count too */
        struct dht_addr a[DHT_MAX_PEERS];
        for (size_t i = 0; i < s->n; i++)
            a[i] = s->p[i].a;
        d->ops->found(d->ctx, info_hash, a, s->n);
    }
    return dht_lookup_start(d, true, info_hash, port, now);
}

void dht_bootstrap(struct dht *d, const struct dht_addr *a, uint64_t now)
{
    dht_query(d, TX_BOOT, a, NULL, -1, NULL, 0, NULL, 0, now);
}

/* ---- answers ---- */

/* A lookup's query was answered (an error, or a node other than the one asked for, counts
 * as a failure of that candidate). */
static void answered(struct dht *d, struct dht_tx *t, const struct krpc_msg *m, bool same,
                     uint64_t now)
{
    struct dht_lookup *l = lookup_of(d, t);
    if (!l)
        return;
    l->inflight--;
    bool ok = same && m->type == KRPC_RESPONSE;
    struct dht_cand *c = cand_find(l, t->id);
    if (c) {
        c->state = ok ? C_REPLIED : C_FAILED;
        if (ok && m->toklen) {
            memcpy(c->token, m->token, m->toklen);
            c->toklen = m->toklen;
        }
    }
    if (ok) {
        for (size_t i = 0; i < m->nnodes; i++)
            cand_add(d, l, &m->nodes[i]);
        if (l->get_peers && m->nvalues)
            d->ops->found(d->ctx, l->target, m->values, m->nvalues);
    }
    lookup_step(d, l, now);
}

/* A bootstrap node answered: a lookup of our own id starts from it and the nodes it gave. */
static void booted(struct dht *d, const struct krpc_msg *m, uint64_t now)
{
    if (dht_lookup_start(d, false, d->id, 0, now) < 0)
        return;
    struct dht_lookup *l = NULL;
    for (int i = 0; i < DHT_MAX_LOOKUPS; i++)
        if (d->lk[i].used && d->lk[i].gen == d->lookup_gen)
            l = &d->lk[i];
    if (!l)
        return; /* already over */
    for (size_t i = 0; i < m->nnodes; i++)
        cand_add(d, l, &m->nodes[i]);
    lookup_step(d, l, now);
}

void dht_on_answer(struct dht *d, const struct dht_addr *from, const struct krpc_msg *m,
                   uint64_t now)
{
    struct dht_tx *t = tx_of(d, m, from);
    if (!t)
        return; /* not ours, stale, or from elsewhere: ignored */
    t->used = false;
    if (m->type == KRPC_ERROR)
        dht_logf(d, "error %lld from a node: %s", (long long)m->ecode, m->emsg);
    /* another id at that address: the node we knew is gone (its entry takes the failure) */
    bool same = m->type != KRPC_RESPONSE || !t->has_id || memcmp(t->id, m->id, 20) == 0;
    if (!same)
        dht_table_failed(&d->table, t->id);
    if (m->type == KRPC_RESPONSE && !m->read_only)
        dht_table_seen(&d->table, m->id, from, true, now);
    if (t->kind == TX_BOOT && m->type == KRPC_RESPONSE)
        booted(d, m, now);
    else if (t->lookup >= 0)
        answered(d, t, m, same, now);
}

void dht_lookups_tick(struct dht *d, uint64_t now)
{
    for (unsigned i = 0; i < DHT_MAX_TX; i++) {
        struct dht_tx *t = &d->tx[i];
        if (!t->used || now - t->sent_at < DHT_QUERY_TIMEOUT_MS)
            continue;
        t->used = false;
        if (t->has_id)
            dht_table_failed(&d->table, t->id);
        struct dht_lookup *l = lookup_of(d, t);
        if (!l)
            continue;
        l->inflight--;
        struct dht_cand *c = cand_find(l, t->id);
        if (c)
            c->state = C_FAILED;
        lookup_step(d, l, now);
    }
}
