/* torrent/metafetch — see metafetch.h. */
#include "torrent/metafetch.h"

#include "core/err.h"
#include "core/str.h"
#include "core/xmalloc.h"
#include "torrent/ext.h"
#include "torrent/layerfetch.h"
#include "torrent/metainfo.h"
#include "torrent/wire.h"

#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The largest message before the dictionary is known: a metadata piece with its header, or
 * the bitfield of the largest torrent whose info dictionary we would accept. */
#define MAX_MSG (1 + (TOR_MAX_METADATA / 20 + 7) / 8)
#define MAX_REJECTS 3 /* a peer that rejects this often has no metadata (or hashes) to give */

enum piece_state { P_MISSING, P_ASKED, P_GOT };

struct tor_mpeer {
    struct tor_mpeer *next;
    uint64_t id;
    void *conn;
    char addr[64];
    bool outgoing, handshaked, closed;
    uint8_t ut_metadata;
    int64_t msize; /* the size it told, 0: none */
    unsigned rejects, hash_rejects;
    uint32_t req[TOR_MFETCH_PIPELINE];
    size_t nreq;
    uint64_t last_send;
    /* recorded for the swarm (tor_mfetch_peer_state) */
    uint8_t peer_id[20];
    uint8_t ut_pex;
    uint16_t port;
    bool ext_seen, peer_choking, peer_interested, got_bits;
    struct str bits, haves;
};

struct tor_mfetch {
    uint8_t info_hash[20], our_id[20];
    const struct tor_mfetch_ops *ops;
    void *ctx;
    struct tor_mpeer *peers;
    size_t npeers;
    uint64_t next_id;
    int64_t size; /* 0: not known yet */
    uint32_t npieces, ngot;
    char *buf;
    uint8_t *state; /* enum piece_state per piece */
    uint64_t *asked_at;
    uint64_t *from; /* the peer each piece came from */
    bool have_v2;   /* the dictionary must hash to v2 (SHA-256, BEP 52) */
    uint8_t v2[32];
    struct tor_lfetch *layers; /* v2-only: its piece layers, once the dictionary is in */
    bool done;
};

static void mf_log(struct tor_mfetch *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void mf_log(struct tor_mfetch *f, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    f->ops->log(f->ctx, line);
}

static uint32_t get32be(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

struct tor_mfetch *tor_mfetch_new(const uint8_t info_hash[20], const uint8_t our_id[20],
                                  const struct tor_mfetch_ops *ops, void *ctx)
{
    struct tor_mfetch *f = xcalloc(1, sizeof *f);
    memcpy(f->info_hash, info_hash, 20);
    memcpy(f->our_id, our_id, 20);
    f->ops = ops;
    f->ctx = ctx;
    f->next_id = 1;
    return f;
}

static void forget_size(struct tor_mfetch *f)
{
    free(f->buf);
    free(f->state);
    free(f->asked_at);
    free(f->from);
    f->buf = NULL, f->state = NULL, f->asked_at = NULL, f->from = NULL;
    f->size = 0, f->npieces = 0, f->ngot = 0;
}

void tor_mfetch_free(struct tor_mfetch *f)
{
    if (!f)
        return;
    while (f->peers)
        tor_mfetch_peer_gone(f, f->peers);
    forget_size(f);
    tor_lfetch_free(f->layers);
    free(f);
}

static void send_out(struct tor_mfetch *f, struct tor_mpeer *p, struct str *out, uint64_t now)
{
    if (!p->closed && out->len)
        f->ops->send(p->conn, out->ptr, out->len);
    p->last_send = now;
    str_clear(out);
}

static void close_peer(struct tor_mfetch *f, struct tor_mpeer *p, const char *why)
{
    if (p->closed)
        return;
    p->closed = true;
    mf_log(f, "closing %s: %s", p->addr, why);
    f->ops->close(p->conn, why);
}

static void send_handshake(struct tor_mfetch *f, struct tor_mpeer *p, uint64_t now)
{
    struct tor_handshake hs = {.reserved = {0, 0, 0, 0, 0, TOR_RESERVED_EXT, 0, 0}};
    memcpy(hs.info_hash, f->info_hash, 20);
    memcpy(hs.peer_id, f->our_id, 20);
    struct str out = STR_INIT;
    tor_wire_put_handshake(&out, &hs);
    send_out(f, p, &out, now);
}

struct tor_mpeer *tor_mfetch_peer_new(struct tor_mfetch *f, void *conn, const char *addr,
                                      bool outgoing, uint64_t now)
{
    struct tor_mpeer *p = xcalloc(1, sizeof *p);
    p->id = f->next_id++;
    p->conn = conn;
    snprintf(p->addr, sizeof p->addr, "%s", addr);
    p->outgoing = outgoing;
    p->peer_choking = true;
    p->next = f->peers;
    f->peers = p;
    f->npeers++;
    if (outgoing)
        send_handshake(f, p, now);
    return p;
}

static void give_back(struct tor_mfetch *f, struct tor_mpeer *p, size_t i)
{
    uint32_t piece = p->req[i];
    if (piece < f->npieces && f->state[piece] == P_ASKED)
        f->state[piece] = P_MISSING;
    p->req[i] = p->req[--p->nreq];
}

void tor_mfetch_peer_gone(struct tor_mfetch *f, struct tor_mpeer *p)
{
    for (struct tor_mpeer **pp = &f->peers; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    f->npeers--;
    while (p->nreq)
        give_back(f, p, 0);
    if (f->layers)
        tor_lfetch_peer_gone(f->layers, p->id);
    str_clear(&p->bits);
    str_clear(&p->haves);
    free(p);
}

/* ---- requests ---- */

static void adopt_size(struct tor_mfetch *f, struct tor_mpeer *p)
{
    f->size = p->msize;
    f->npieces = tor_utm_npieces(f->size);
    f->buf = xmalloc((size_t)f->size);
    f->state = xcalloc(f->npieces, 1);
    f->asked_at = xcalloc(f->npieces, sizeof *f->asked_at);
    f->from = xcalloc(f->npieces, sizeof *f->from);
    mf_log(f, "%s: the info dictionary is %lld bytes (%u pieces)", p->addr, (long long)f->size,
           f->npieces);
}

static void request_more(struct tor_mfetch *f, struct tor_mpeer *p, uint64_t now)
{
    if (f->done || f->layers || p->closed || !p->ut_metadata || !p->msize ||
        p->rejects >= MAX_REJECTS)
        return;
    if (!f->size)
        adopt_size(f, p); /* the first peer to tell the size; a wrong one fails the hash */
    if (p->msize != f->size)
        return;
    struct str out = STR_INIT;
    for (uint32_t i = 0; i < f->npieces && p->nreq < TOR_MFETCH_PIPELINE; i++) {
        if (f->state[i] != P_MISSING)
            continue;
        f->state[i] = P_ASKED;
        f->asked_at[i] = now;
        p->req[p->nreq++] = i;
        tor_utm_put(&out, p->ut_metadata, TOR_UTM_REQUEST, i, 0, NULL, 0);
    }
    if (out.len)
        send_out(f, p, &out, now);
    str_clear(&out);
}

void tor_mfetch_set_v2(struct tor_mfetch *f, const uint8_t v2[32])
{
    f->have_v2 = true;
    memcpy(f->v2, v2, 32);
}

/* Whether the dictionary is the one the link names: its SHA-256 the v2 hash if one was
 * given, its SHA-1 the info-hash unless that is the v2 hash truncated (a btmh-only link). */
static bool hash_ok(const struct tor_mfetch *f)
{
    uint8_t h[32];
    bool ok = true;
    if (f->have_v2) {
        SHA256((const unsigned char *)f->buf, (size_t)f->size, h);
        ok = memcmp(h, f->v2, 32) == 0;
    }
    if (!f->have_v2 || memcmp(f->info_hash, f->v2, 20) != 0) {
        SHA1((const unsigned char *)f->buf, (size_t)f->size, h);
        ok = ok && memcmp(h, f->info_hash, 20) == 0;
    }
    return ok;
}

/* The dictionary is in and matches: a v2-only one still wants its files' piece layers
 * (layerfetch.h) before the torrent can start. */
static void got_dictionary(struct tor_mfetch *f)
{
    struct tor_layer_want *wants;
    uint64_t plen;
    long n = tor_meta_layers_wanted(f->buf, (size_t)f->size, &wants, &plen);
    if (n > 0) {
        f->layers = tor_lfetch_new(wants, (size_t)n, plen);
        free(wants);
        mf_log(f,
               "metadata complete: %lld bytes, v2-only; asking peers for the piece layers of "
               "%ld file(s) (BEP 52)",
               (long long)f->size, n);
        return;
    }
    f->done = true;
    mf_log(f, "metadata complete: %lld bytes, %s", (long long)f->size,
           f->have_v2 ? "SHA-256 matches the link's v2 hash" : "SHA-1 matches the info-hash");
}

/* Every piece is in: accepted if it hashes to what the link names; otherwise whoever sent
 * any of it is closed and the fetch starts over. */
static void check_whole(struct tor_mfetch *f)
{
    if (hash_ok(f)) {
        got_dictionary(f);
        return;
    }
    mf_log(f, "metadata does not match the info-hash: discarded");
    for (struct tor_mpeer *p = f->peers; p; p = p->next)
        for (uint32_t i = 0; i < f->npieces; i++)
            if (f->from[i] == p->id) {
                close_peer(f, p, "sent metadata that does not match the info-hash");
                break;
            }
    for (struct tor_mpeer *p = f->peers; p; p = p->next)
        p->nreq = 0;
    forget_size(f);
}

/* ---- piece layers (BEP 52) ---- */

static void ask_hashes(struct tor_mfetch *f, struct tor_mpeer *p, uint64_t now)
{
    uint8_t head[48];
    if (!f->layers || f->done || p->closed || !p->handshaked || p->hash_rejects >= MAX_REJECTS)
        return;
    struct str out = STR_INIT;
    while (tor_lfetch_next(f->layers, p->id, now, head))
        tor_wire_put_hash_request(&out, TOR_MSG_HASH_REQUEST, head, get32be(head + 32),
                                  get32be(head + 36), get32be(head + 40), get32be(head + 44));
    if (out.len)
        send_out(f, p, &out, now);
    str_clear(&out);
}

static int on_hash_msg(struct tor_mfetch *f, struct tor_mpeer *p, const struct tor_msg *m,
                       uint64_t now)
{
    const uint8_t *d = (const uint8_t *)m->data.p;
    if (m->id == TOR_MSG_HASH_REQUEST) { /* nothing to give yet */
        struct str out = STR_INIT;
        tor_wire_put_hash_reject(&out, d);
        send_out(f, p, &out, now);
        return 0;
    }
    if (!f->layers || f->done)
        return 0;
    if (m->id == TOR_MSG_HASH_REJECT) {
        p->hash_rejects++;
        tor_lfetch_reject(f->layers, p->id, d);
    } else if (tor_lfetch_hashes(f->layers, p->id, d, m->data.len) < 0) {
        close_peer(f, p, "sent hashes that do not lead to the pieces root (BEP 52)");
        return -1;
    }
    if (tor_lfetch_done(f->layers)) {
        f->done = true;
        mf_log(f, "piece layers complete: every chunk leads to its file's pieces root");
        return 0;
    }
    for (struct tor_mpeer *q = f->peers; q; q = q->next)
        ask_hashes(f, q, now);
    return 0;
}

static int on_data(struct tor_mfetch *f, struct tor_mpeer *p, const struct tor_utm *u, uint64_t now)
{
    size_t i = 0;
    while (i < p->nreq && p->req[i] != u->piece)
        i++;
    if (i == p->nreq)
        return 0; /* not asked of this peer (or asked again elsewhere): dropped */
    size_t off = (size_t)u->piece * TOR_META_PIECE;
    size_t want = (size_t)f->size - off < TOR_META_PIECE ? (size_t)f->size - off : TOR_META_PIECE;
    if (u->total_size != f->size || u->data.len != want) {
        close_peer(f, p, "metadata piece of the wrong size");
        return -1;
    }
    p->req[i] = p->req[--p->nreq];
    if (f->state[u->piece] != P_GOT) {
        memcpy(f->buf + off, u->data.p, want);
        f->state[u->piece] = P_GOT;
        f->from[u->piece] = p->id;
        if (++f->ngot == f->npieces)
            check_whole(f);
    }
    return 0;
}

static int on_utm(struct tor_mfetch *f, struct tor_mpeer *p, const uint8_t *d, size_t n,
                  uint64_t now)
{
    struct tor_utm u;
    if (tor_utm_parse(d, n, &u) < 0) {
        close_peer(f, p, "malformed metadata message");
        return -1;
    }
    if (u.type == TOR_UTM_REQUEST) { /* we have nothing to give yet */
        struct str out = STR_INIT;
        if (p->ut_metadata)
            tor_utm_put(&out, p->ut_metadata, TOR_UTM_REJECT, u.piece, 0, NULL, 0);
        send_out(f, p, &out, now);
        return 0;
    }
    if (!f->size || f->done)
        return 0;
    if (u.type == TOR_UTM_DATA)
        return on_data(f, p, &u, now);
    for (size_t i = 0; i < p->nreq; i++) /* a reject */
        if (p->req[i] == u.piece) {
            give_back(f, p, i);
            p->rejects++;
            break;
        }
    return 0;
}

static int on_extended(struct tor_mfetch *f, struct tor_mpeer *p, const struct tor_msg *m,
                       uint64_t now)
{
    const uint8_t *d = (const uint8_t *)m->data.p;
    if (m->ext_id == TOR_EXT_UT_METADATA)
        return on_utm(f, p, d, m->data.len, now);
    if (m->ext_id != 0)
        return 0; /* an extension we did not offer */
    struct tor_ext_hs h;
    if (tor_ext_hs_parse(d, m->data.len, &h) < 0) {
        close_peer(f, p, "malformed extension handshake");
        return -1;
    }
    p->ut_metadata = h.ut_metadata;
    p->ut_pex = h.ut_pex;
    p->port = h.port;
    p->ext_seen = true;
    p->msize = h.metadata_size; /* BEP 9: a peer without the metadata leaves it out */
    if (!p->ut_metadata) {
        close_peer(f, p, "it does not offer the metadata exchange (BEP 9)");
        return -1;
    }
    for (struct tor_mpeer *q = f->peers; q; q = q->next)
        request_more(f, q, now);
    return 0;
}

/* ---- bytes in ---- */

/* The wire messages the swarm will want to know about, kept as they came: checked against
 * the info dictionary when it hands the connection over (tor_swarm_peer_adopt). */
static int record(struct tor_mfetch *f, struct tor_mpeer *p, const struct tor_msg *m)
{
    switch (m->id) {
    case TOR_MSG_CHOKE:
    case TOR_MSG_UNCHOKE:
        p->peer_choking = m->id == TOR_MSG_CHOKE;
        break;
    case TOR_MSG_INTERESTED:
    case TOR_MSG_NOT_INTERESTED:
        p->peer_interested = m->id == TOR_MSG_INTERESTED;
        break;
    case TOR_MSG_BITFIELD: /* what it has: replaces what it said so far */
        str_clear(&p->bits);
        str_clear(&p->haves);
        str_append(&p->bits, m->data.p, m->data.len);
        p->got_bits = true;
        break;
    case TOR_MSG_HAVE: {
        size_t byte = m->index / 8;
        if (byte >= MAX_MSG) { /* past the largest torrent we would accept */
            close_peer(f, p, "have: no such piece");
            return -1;
        }
        while (p->haves.len <= byte)
            str_appendc(&p->haves, 0);
        p->haves.ptr[byte] = (char)((uint8_t)p->haves.ptr[byte] | (0x80 >> (m->index & 7)));
        break;
    }
    default:
        break;
    }
    return 0;
}

static int on_handshake(struct tor_mfetch *f, struct tor_mpeer *p, const struct tor_handshake *hs,
                        uint64_t now)
{
    if (memcmp(hs->info_hash, f->info_hash, 20) != 0) {
        close_peer(f, p, "handshake for another torrent");
        return -1;
    }
    if (memcmp(hs->peer_id, f->our_id, 20) == 0) {
        close_peer(f, p, "connected to ourselves");
        return -1;
    }
    if (!(hs->reserved[5] & TOR_RESERVED_EXT)) {
        close_peer(f, p, "no extension protocol (BEP 10): it cannot give the metadata");
        return -1;
    }
    p->handshaked = true;
    memcpy(p->peer_id, hs->peer_id, 20);
    if (!p->outgoing)
        send_handshake(f, p, now);
    struct str out = STR_INIT;
    tor_ext_put_hs(&out, 0, 0, false);
    send_out(f, p, &out, now);
    return 0;
}

size_t tor_mfetch_peer_feed(struct tor_mfetch *f, struct tor_mpeer *p, const uint8_t *data,
                            size_t n, uint64_t now)
{
    size_t pos = 0;
    if (p->closed)
        return n;
    if (!p->handshaked) {
        struct tor_handshake hs;
        int rc = tor_wire_handshake_parse(data, n, &hs);
        if (rc == 0)
            return 0;
        if (rc < 0) {
            close_peer(f, p, "not the BitTorrent protocol");
            return n;
        }
        if (on_handshake(f, p, &hs, now) < 0)
            return n;
        pos = TOR_HANDSHAKE_LEN;
    }
    while (pos < n && !p->closed) {
        struct tor_msg m;
        long used = tor_wire_msg_parse(data + pos, n - pos, MAX_MSG, &m);
        if (used == 0)
            break;
        if (used < 0) {
            close_peer(f, p, used == ERR_LIMIT ? "message too long" : "malformed message");
            return n;
        }
        pos += (size_t)used;
        int rc =
            m.id == TOR_MSG_EXTENDED ? on_extended(f, p, &m, now)
            : m.id == TOR_MSG_HASH_REQUEST || m.id == TOR_MSG_HASHES || m.id == TOR_MSG_HASH_REJECT
                ? on_hash_msg(f, p, &m, now)
                : record(f, p, &m);
        if (rc < 0)
            return n;
    }
    return p->closed ? n : pos;
}

/* The size came from peers that are all gone or rejecting: another peer may tell another. */
static void maybe_forget_size(struct tor_mfetch *f)
{
    if (!f->size || f->done || f->layers)
        return;
    for (struct tor_mpeer *p = f->peers; p; p = p->next)
        if (!p->closed && p->msize == f->size && p->rejects < MAX_REJECTS)
            return;
    for (struct tor_mpeer *p = f->peers; p; p = p->next)
        p->nreq = 0;
    forget_size(f);
}

void tor_mfetch_tick(struct tor_mfetch *f, uint64_t now)
{
    maybe_forget_size(f);
    for (struct tor_mpeer *p = f->peers; p; p = p->next) {
        if (p->closed || !p->handshaked)
            continue;
        for (size_t i = 0; i < p->nreq;) {
            if (now - f->asked_at[p->req[i]] > TOR_MFETCH_TIMEOUT_MS)
                give_back(f, p, i);
            else
                i++;
        }
        if (now - p->last_send > 90000) {
            struct str out = STR_INIT;
            tor_wire_put_simple(&out, TOR_MSG_KEEPALIVE);
            send_out(f, p, &out, now);
        }
    }
    if (f->layers)
        tor_lfetch_tick(f->layers, now);
    for (struct tor_mpeer *p = f->peers; p; p = p->next) {
        request_more(f, p, now);
        ask_hashes(f, p, now);
    }
}

const char *tor_mfetch_result(const struct tor_mfetch *f, size_t *len_out)
{
    if (!f->done)
        return NULL;
    *len_out = (size_t)f->size;
    return f->buf;
}

void tor_mfetch_layers(const struct tor_mfetch *f, struct str *out)
{
    if (f->done && f->layers)
        tor_lfetch_encode(f->layers, out);
}

bool tor_mfetch_peer_state(const struct tor_mpeer *p, struct tor_mpeer_state *out)
{
    if (p->closed || !p->handshaked || !p->ext_seen)
        return false;
    memset(out, 0, sizeof *out);
    snprintf(out->addr, sizeof out->addr, "%s", p->addr);
    out->outgoing = p->outgoing;
    memcpy(out->peer_id, p->peer_id, 20);
    out->ut_metadata = p->ut_metadata;
    out->ut_pex = p->ut_pex;
    out->port = p->port;
    out->peer_choking = p->peer_choking;
    out->peer_interested = p->peer_interested;
    out->got_bits = p->got_bits;
    out->bits = (const uint8_t *)p->bits.ptr;
    out->nbits = p->bits.len;
    out->haves = (const uint8_t *)p->haves.ptr;
    out->nhaves = p->haves.len;
    return true;
}

void *tor_mfetch_peer_conn(const struct tor_mpeer *p)
{
    return p->conn;
}

size_t tor_mfetch_npeers(const struct tor_mfetch *f)
{
    return f->npeers;
}

void tor_mfetch_progress(const struct tor_mfetch *f, uint32_t *got, uint32_t *total)
{
    *got = f->ngot;
    *total = f->npieces;
}
