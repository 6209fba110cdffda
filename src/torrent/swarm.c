/* torrent/swarm — the torrent's side: peers, pieces, choking, timers. See swarm.h. */
#include "torrent/swarm_int.h"

#include "core/xmalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tor_swarm *tor_swarm_new(const struct tor_meta *m, const uint8_t *have,
                                const uint8_t our_id[20], const struct tor_swarm_ops *ops,
                                void *ctx, const struct tor_swarm_limits *lim, uint64_t seed)
{
    struct tor_swarm *s = xcalloc(1, sizeof *s);
    s->m = m;
    s->ops = ops;
    s->ctx = ctx;
    memcpy(s->our_id, our_id, 20);
    tor_picker_init(&s->picker, m->npieces, m->piece_len, m->total, seed);
    s->have = xcalloc((m->npieces + 7) / 8, 1);
    for (uint32_t i = 0; have && i < m->npieces; i++)
        if (tor_bit(have, i)) {
            tor_bit_set(s->have, i);
            tor_picker_passed(&s->picker, i);
            s->nhave++;
            s->have_bytes += tor_meta_piece_size(m, i);
        }
    tor_choker_init(&s->choker, 4, TOR_SEED_SLOTS, seed ^ 0x5bd1e995);
    tor_share_init(&s->share);
    tor_swarm_set_limits(s, lim);
    s->next_id = 1;
    return s;
}

void tor_swarm_set_limits(struct tor_swarm *s, const struct tor_swarm_limits *lim)
{
    s->lim = *lim;
    size_t active = lim->max_active_bytes / (s->m->piece_len ? s->m->piece_len : 1);
    s->picker.max_active = active < 2 ? 2 : active;
    s->choker.slots = lim->slots ? lim->slots : 4;
    s->choker.seed_slots = lim->seed_slots ? lim->seed_slots : TOR_SEED_SLOTS;
}

void tor_swarm_free(struct tor_swarm *s)
{
    if (!s)
        return;
    while (s->peers)
        tor_swarm_peer_gone(s, s->peers);
    for (size_t i = 0; i < s->nbufs; i++)
        free(s->bufs[i].data);
    free(s->bufs);
    free(s->have);
    for (size_t i = 0; s->trees && i < s->m->nfiles; i++)
        free(s->trees[i]);
    free(s->trees);
    tor_picker_clear(&s->picker);
    free(s);
}

void swarm_log(struct tor_swarm *s, struct tor_peer *p, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    s->ops->log(s->ctx, p ? p->id : 0, line);
}

void swarm_send(struct tor_swarm *s, struct tor_peer *p, const struct str *out)
{
    if (p->closed || out->len == 0)
        return;
    s->ops->send(p->conn, out->ptr, out->len);
}

void swarm_close(struct tor_swarm *s, struct tor_peer *p, const char *why)
{
    if (p->closed)
        return;
    p->closed = true;
    swarm_log(s, p, "closing %s: %s", p->addr, why);
    s->ops->close(p->conn, why);
}

/* ---- peers ---- */

void swarm_send_handshake(struct tor_swarm *s, struct tor_peer *p)
{
    struct tor_handshake hs = {.reserved = {0, 0, 0, 0, 0, TOR_RESERVED_EXT, 0, TOR_RESERVED_FAST}};
    memcpy(hs.info_hash, p->v2 ? s->m->info_hash_v2 : s->m->info_hash, 20);
    if (s->m->v2 && !s->m->v2_only && !p->v2)
        hs.reserved[7] |= TOR_RESERVED_V2; /* BEP 52: a v1 handshake we may upgrade */
    memcpy(hs.peer_id, s->our_id, 20);
    struct str out = STR_INIT;
    tor_wire_put_handshake(&out, &hs);
    swarm_send(s, p, &out);
    str_clear(&out);
}

struct tor_peer *swarm_peer_alloc(struct tor_swarm *s, void *conn, const char *addr, bool outgoing,
                                  uint64_t now)
{
    struct tor_peer *p = xcalloc(1, sizeof *p);
    p->id = s->next_id++;
    p->conn = conn;
    snprintf(p->addr, sizeof p->addr, "%s", addr);
    p->outgoing = outgoing;
    p->am_choking = p->peer_choking = true;
    p->bits = xcalloc((s->m->npieces + 7) / 8, 1);
    p->theirs = xcalloc(TOR_MAX_PEER_REQS, sizeof *p->theirs);
    p->last_send = p->last_recv = now;
    p->next = s->peers;
    s->peers = p;
    s->npeers++;
    return p;
}

struct tor_peer *tor_swarm_peer_new(struct tor_swarm *s, void *conn, const char *addr,
                                    bool outgoing, uint64_t now)
{
    struct tor_peer *p = swarm_peer_alloc(s, conn, addr, outgoing, now);
    if (outgoing)
        swarm_send_handshake(s, p);
    return p;
}

void swarm_drop_requests(struct tor_swarm *s, struct tor_peer *p)
{
    for (size_t i = 0; i < p->nreq; i++)
        tor_picker_cancelled(&s->picker, p->req[i].piece, p->req[i].begin);
    p->nreq = 0;
}

void tor_swarm_peer_gone(struct tor_swarm *s, struct tor_peer *p)
{
    for (struct tor_peer **pp = &s->peers; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    s->npeers--;
    swarm_pex_gone(s, p);
    swarm_drop_requests(s, p);
    if (p->handshaked)
        tor_picker_peer_bits(&s->picker, p->bits, -1);
    if (!p->am_choking)
        s->rechoke = true; /* a slot is free */
    free(p->bits);
    free(p->theirs);
    free(p);
}

void tor_swarm_peer_set_port(struct tor_peer *p, uint16_t port)
{
    p->listen_port = port;
}

size_t tor_swarm_npeers(const struct tor_swarm *s)
{
    return s->npeers;
}

const uint8_t *tor_swarm_info_hash(const struct tor_swarm *s)
{
    return s->m->info_hash;
}

bool tor_swarm_banned(const struct tor_swarm *s, const char *addr)
{
    for (unsigned i = 0; i < s->nbanned; i++)
        if (strcmp(s->banned[i], addr) == 0)
            return true;
    return false;
}

bool tor_swarm_has_peer_id(const struct tor_swarm *s, const uint8_t id[20],
                           const struct tor_peer *except)
{
    for (const struct tor_peer *p = s->peers; p; p = p->next)
        if (p != except && p->handshaked && !p->closed && memcmp(p->peer_id, id, 20) == 0)
            return true;
    return false;
}

void swarm_send_bitfield(struct tor_swarm *s, struct tor_peer *p)
{
    struct str out = STR_INIT;
    if (p->fast && s->nhave == s->m->npieces)
        tor_wire_put_simple(&out, TOR_MSG_HAVE_ALL);
    else if (p->fast && s->nhave == 0)
        tor_wire_put_simple(&out, TOR_MSG_HAVE_NONE);
    else if (s->nhave)
        tor_wire_put_bitfield(&out, s->have, (s->m->npieces + 7) / 8);
    swarm_send(s, p, &out);
    str_clear(&out);
}

/* ---- pieces ---- */

struct piece_buf *swarm_buf(struct tor_swarm *s, uint32_t piece, bool create)
{
    for (size_t i = 0; i < s->nbufs; i++)
        if (s->bufs[i].piece == piece)
            return &s->bufs[i];
    if (!create)
        return NULL;
    if (s->nbufs == s->capbufs) {
        s->capbufs = s->capbufs ? s->capbufs * 2 : 8;
        s->bufs = xrealloc(s->bufs, s->capbufs * sizeof *s->bufs);
    }
    struct piece_buf *b = &s->bufs[s->nbufs++];
    memset(b, 0, sizeof *b);
    b->piece = piece;
    b->data = xmalloc(tor_meta_piece_size(s->m, piece));
    return b;
}

static void buf_free(struct tor_swarm *s, uint32_t piece)
{
    for (size_t i = 0; i < s->nbufs; i++)
        if (s->bufs[i].piece == piece) {
            free(s->bufs[i].data);
            s->bufs[i] = s->bufs[--s->nbufs];
            return;
        }
}

static void strike(struct tor_swarm *s, uint64_t sender, uint32_t piece)
{
    for (struct tor_peer *p = s->peers; p; p = p->next) {
        if (p->id != sender)
            continue;
        p->strikes++;
        swarm_log(s, p, "piece %u from %s failed its hash check (strike %u)", piece, p->addr,
                  p->strikes);
        if (p->strikes >= TOR_BAN_STRIKES) {
            if (s->nbanned < MAX_BANNED && !tor_swarm_banned(s, p->addr))
                snprintf(s->banned[s->nbanned++], sizeof s->banned[0], "%s", p->addr);
            swarm_close(s, p, "banned: sent bad data");
        }
    }
}

void tor_swarm_piece_done(struct tor_swarm *s, uint32_t piece, bool ok, uint64_t now)
{
    struct piece_buf *b = swarm_buf(s, piece, false);
    if (!b)
        return;
    if (!ok) {
        for (unsigned i = 0; i < b->nsenders; i++)
            strike(s, b->senders[i], piece);
        tor_picker_failed(&s->picker, piece);
        buf_free(s, piece);
    } else {
        buf_free(s, piece);
        tor_picker_passed(&s->picker, piece);
        tor_bit_set(s->have, piece);
        s->nhave++;
        s->have_bytes += tor_meta_piece_size(s->m, piece);
        struct str out = STR_INIT;
        tor_wire_put_have(&out, TOR_MSG_HAVE, piece);
        for (struct tor_peer *p = s->peers; p; p = p->next)
            if (p->handshaked && !tor_bit(p->bits, piece))
                swarm_send(s, p, &out);
        str_clear(&out);
        if (tor_swarm_complete(s))
            swarm_log(s, NULL, "download complete: %u pieces verified", s->nhave);
    }
    for (struct tor_peer *p = s->peers; p; p = p->next) {
        swarm_update_interest(s, p);
        swarm_request_more(s, p, now);
    }
}

/* ---- timers ---- */

/* Seeding, once per choke interval: a slot more or less, from how often the unchoked peers
 * were idle (choker.h). */
static void adjust_seed_slots(struct tor_swarm *s, uint64_t now)
{
    if (!tor_swarm_complete(s) || now - s->last_slots < TOR_CHOKE_INTERVAL_MS)
        return;
    bool waiting = false;
    for (struct tor_peer *p = s->peers; p && !waiting; p = p->next)
        waiting = p->handshaked && !p->closed && p->am_choking && p->peer_interested;
    tor_choker_seed_idle(&s->choker, s->idle, s->idle_seen, waiting);
    s->idle = s->idle_seen = 0;
    s->last_slots = now;
}

static void run_choker(struct tor_swarm *s, uint64_t now)
{
    size_t n = 0;
    adjust_seed_slots(s, now);
    struct tor_choke_peer *cp = xcalloc(s->npeers ? s->npeers : 1, sizeof *cp);
    for (struct tor_peer *p = s->peers; p; p = p->next) {
        if (!p->handshaked || p->closed)
            continue;
        cp[n++] = (struct tor_choke_peer){.id = p->id,
                                          .interested = p->peer_interested,
                                          .down_rate = p->down_rate,
                                          .up_rate = p->up_rate,
                                          .regular = !p->am_choking && !p->optimistic,
                                          .turn_at = p->turn_at};
    }
    tor_choker_run(&s->choker, cp, n, now, tor_swarm_complete(s));
    for (size_t i = 0; i < n; i++) {
        for (struct tor_peer *p = s->peers; p; p = p->next) {
            if (p->id != cp[i].id)
                continue;
            p->optimistic = cp[i].optimistic;
            p->turn_at = cp[i].turn_at;
            if (p->am_choking == !cp[i].unchoke)
                break;
            p->am_choking = !cp[i].unchoke;
            p->cap = p->am_choking ? 0 : s->share.join_cap; /* until the next share (share.h) */
            p->tokens = 0;
            p->held = false;
            struct str out = STR_INIT;
            tor_wire_put_simple(&out, p->am_choking ? TOR_MSG_CHOKE : TOR_MSG_UNCHOKE);
            /* BEP 6: requests dropped by a choke are rejected one by one */
            for (size_t k = 0; p->am_choking && p->fast && k < p->ntheirs; k++)
                tor_wire_put_request(&out, TOR_MSG_REJECT, p->theirs[k].piece, p->theirs[k].begin,
                                     p->theirs[k].length);
            if (p->am_choking)
                p->ntheirs = 0;
            swarm_send(s, p, &out);
            str_clear(&out);
            break;
        }
    }
    free(cp);
    s->last_choke = now;
    s->rechoke = false;
}

/* ops.share_log: what a share window measured (before tor_share_run; NULL: no log) ... */
static struct tor_share_log_peer *share_log_begin(struct tor_swarm *s, struct tor_peer **who,
                                                  const struct tor_share_peer *sp, size_t n)
{
    if (!s->ops->share_log || n == 0)
        return NULL;
    struct tor_share_log_peer *lp = xcalloc(n, sizeof *lp);
    for (size_t i = 0; i < n; i++)
        lp[i] = (struct tor_share_log_peer){.id = who[i]->id, .conn = who[i]->conn,
                                            .sent = sp[i].sent, .cap = sp[i].cap,
                                            .unacked = who[i]->out_mark,
                                            .queued = who[i]->ntheirs, .held = sp[i].held,
                                            .idle = who[i]->idle};
    return lp;
}

/* ... and what it decided (the caps after it); frees lp. */
static void share_log_end(struct tor_swarm *s, struct tor_share_log_peer *lp,
                          const struct tor_share_peer *sp, size_t n, uint64_t dt)
{
    if (!lp)
        return;
    for (size_t i = 0; i < n; i++)
        lp[i].next = sp[i].cap;
    s->ops->share_log(s->ctx, &(struct tor_share_log){
                                  .dt_ms = dt,
                                  .capacity = s->share.capacity,
                                  .spare = s->share.spare,
                                  .join_cap = s->share.join_cap,
                                  .slots = s->choker.seed_slots + s->choker.seed_extra,
                                  .n = n,
                                  .p = lp,
                              });
    free(lp);
}

/* While seeding, the unchoked interested peers' caps for the next window (share.h), from
 * what each was sent in this one. */
static void share_upload(struct tor_swarm *s, uint64_t dt)
{
    if (!tor_swarm_complete(s)) {
        for (struct tor_peer *p = s->peers; p; p = p->next)
            p->cap = 0;
        tor_share_reset(&s->share);
        return;
    }
    size_t n = 0;
    struct tor_share_peer *sp = xcalloc(s->npeers ? s->npeers : 1, sizeof *sp);
    struct tor_peer **who = xcalloc(s->npeers ? s->npeers : 1, sizeof *who);
    for (struct tor_peer *p = s->peers; p; p = p->next) {
        /* what reached the peer (what left our buffer if that is all we can tell), not what
         * went into the buffers: at first they fill at once, and the kernel's may hold
         * seconds of a flow's data */
        size_t out = p->closed          ? 0
                     : s->ops->unacked ? s->ops->unacked(p->conn)
                                        : s->ops->pending(p->conn);
        uint64_t gone = p->up_win + p->out_mark > out ? p->up_win + p->out_mark - out : 0;
        if (p->handshaked && !p->closed && !p->am_choking && p->peer_interested &&
            n < TOR_SHARE_MAX) {
            sp[n] = (struct tor_share_peer){.sent = gone, .held = p->held, .cap = p->cap};
            who[n++] = p;
            p->idle = p->ntheirs == 0 &&
                      (s->ops->unsent ? s->ops->unsent(p->conn) : s->ops->pending(p->conn)) == 0;
            s->idle += p->idle;
            s->idle_seen++;
        } else {
            p->cap = 0; /* choked, or past the most shared among */
        }
        p->held = false;
        p->out_mark = out;
    }
    struct tor_share_log_peer *lp = share_log_begin(s, who, sp, n);
    tor_share_run(&s->share, sp, n, dt, s->lim.upload_rate);
    for (size_t i = 0; i < n; i++) {
        if (who[i]->cap == 0 && sp[i].cap)
            who[i]->tokens = 0;
        who[i]->cap = sp[i].cap;
    }
    share_log_end(s, lp, sp, n, dt);
    free(sp);
    free(who);
}

static void measure(struct tor_swarm *s, uint64_t now)
{
    uint64_t dt = now - s->last_rate;
    if (dt < 1000)
        return;
    share_upload(s, dt);
    for (struct tor_peer *p = s->peers; p; p = p->next) {
        /* a short moving average: the choker compares recent rates (about 20 s) */
        p->down_rate = (p->down_rate * 3 + p->down_win * 1000 / dt) / 4;
        p->up_rate = (p->up_rate * 3 + p->up_win * 1000 / dt) / 4;
        p->down_win = p->up_win = 0;
    }
    s->down_rate = (s->down_rate + s->down_win * 1000 / dt) / 2;
    s->up_rate = (s->up_rate + s->up_win * 1000 / dt) / 2;
    s->down_win = s->up_win = 0;
    s->last_rate = now;
}

static void refill(int64_t *tokens, uint64_t rate, uint64_t dt)
{
    if (rate == 0)
        return;
    *tokens += (int64_t)(rate * dt / 1000);
    if (*tokens > (int64_t)rate)
        *tokens = (int64_t)rate; /* one second of burst */
}

/* The cap's bucket holds at most an eighth of a second (two blocks at least), so a peer
 * whose requests paused does not burst past its share afterwards. */
static void refill_cap(struct tor_peer *p, uint64_t dt)
{
    if (p->cap == 0)
        return;
    int64_t most = (int64_t)(p->cap / 8 > 2 * TOR_BLOCK ? p->cap / 8 : 2 * TOR_BLOCK);
    p->tokens += (int64_t)(p->cap * dt / 1000);
    if (p->tokens > most)
        p->tokens = most;
}

static void peer_timers(struct tor_swarm *s, struct tor_peer *p, uint64_t now)
{
    for (size_t i = 0; i < p->nreq;) {
        if (now - p->req_at[i] > TOR_REQUEST_TIMEOUT_MS) {
            tor_picker_cancelled(&s->picker, p->req[i].piece, p->req[i].begin);
            p->req[i] = p->req[p->nreq - 1];
            p->req_at[i] = p->req_at[--p->nreq];
        } else {
            i++;
        }
    }
    if (now - p->last_send > 90000) {
        struct str out = STR_INIT;
        tor_wire_put_simple(&out, TOR_MSG_KEEPALIVE);
        swarm_send(s, p, &out);
        str_clear(&out);
        p->last_send = now;
    }
}

void tor_swarm_tick(struct tor_swarm *s, uint64_t now)
{
    if (s->last_bucket == 0)
        s->last_bucket = s->last_rate = s->last_choke = now;
    uint64_t dt = now - s->last_bucket;
    refill(&s->up_tokens, s->lim.upload_rate, dt);
    refill(&s->down_tokens, s->lim.download_rate, dt);
    s->last_bucket = now;
    measure(s, now);
    if (s->rechoke || now - s->last_choke >= TOR_CHOKE_INTERVAL_MS)
        run_choker(s, now);
    for (struct tor_peer *p = s->peers, *next; p; p = next) {
        next = p->next;
        if (!p->handshaked || p->closed)
            continue;
        peer_timers(s, p, now);
        refill_cap(p, dt);
        swarm_pex_tick(s, p, now);
        swarm_serve(s, p);
        swarm_request_more(s, p, now);
    }
}

/* ---- progress ---- */

uint32_t tor_swarm_have_count(const struct tor_swarm *s)
{
    return s->nhave;
}

bool tor_swarm_complete(const struct tor_swarm *s)
{
    return s->nhave == s->m->npieces;
}

const uint8_t *tor_swarm_bitfield(const struct tor_swarm *s)
{
    return s->have;
}

uint64_t tor_swarm_left(const struct tor_swarm *s)
{
    return s->m->total - s->have_bytes;
}

void tor_swarm_totals(const struct tor_swarm *s, uint64_t *down, uint64_t *up, uint64_t *down_rate,
                      uint64_t *up_rate)
{
    *down = s->total_down;
    *up = s->total_up;
    *down_rate = s->down_rate;
    *up_rate = s->up_rate;
}

size_t tor_swarm_peers(const struct tor_swarm *s, struct tor_peer_info *out, size_t max)
{
    size_t n = 0;
    for (const struct tor_peer *p = s->peers; p && n < max; p = p->next) {
        if (!p->handshaked)
            continue;
        struct tor_peer_info *o = &out[n++];
        o->id = p->id;
        snprintf(o->addr, sizeof o->addr, "%s", p->addr);
        memcpy(o->peer_id, p->peer_id, 20);
        o->am_choking = p->am_choking;
        o->am_interested = p->am_interested;
        o->peer_choking = p->peer_choking;
        o->peer_interested = p->peer_interested;
        o->optimistic = p->optimistic;
        o->seed = p->nbits == s->m->npieces;
        o->down_rate = p->down_rate;
        o->up_rate = p->up_rate;
        o->downloaded = p->downloaded;
        o->uploaded = p->uploaded;
    }
    return n;
}
