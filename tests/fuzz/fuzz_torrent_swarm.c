/*
 * libFuzzer target for the peer engines (torrent/swarm.h, torrent/metafetch.h): one remote
 * peer's bytes after a correct handshake, fed in chunks as a connection would deliver them,
 * with the timers run between chunks. The first byte chooses the engine (a seeding swarm, a
 * downloading swarm, a magnet link's metadata fetcher) and the peer's reserved bits (fast
 * extension, extension protocol); the second the chunk size. Pieces handed out for
 * verification are answered (alternately good and bad) after each chunk, as the pool would;
 * addresses from PEX must be at most TOR_PEX_MAX, each IPv4 or IPv6.
 * The engines must never call out for a closed connection, and must account for their peer.
 */
#include "torrent/bencode.h"
#include "torrent/metafetch.h"
#include "torrent/metainfo.h"
#include "torrent/swarm.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define PLEN 16384
#define NPIECES 5

static struct tor_meta meta;
static bool closed;
static uint32_t pending[64];
static unsigned npending;

static void f_send(void *conn, const void *p, size_t n)
{
    (void)conn, (void)p, (void)n;
    if (closed)
        abort(); /* nothing goes out after a close */
}

static void f_close(void *conn, const char *why)
{
    (void)conn, (void)why;
    closed = true;
}

static size_t f_pending(void *conn)
{
    (void)conn;
    return 0;
}

static int f_read(void *ctx, uint32_t piece, uint32_t begin, uint32_t len, uint8_t *out)
{
    (void)ctx;
    if (piece >= meta.npieces || (uint64_t)begin + len > tor_meta_piece_size(&meta, piece))
        abort(); /* the engine checked the request's range */
    memset(out, 0x5a, len);
    return 0;
}

static void f_verify(void *ctx, uint32_t piece, const uint8_t *data, size_t len)
{
    (void)ctx, (void)data;
    if (piece >= meta.npieces || len != tor_meta_piece_size(&meta, piece) || npending == 64)
        abort();
    pending[npending++] = piece;
}

static void f_log(void *ctx, uint64_t peer, const char *what)
{
    (void)ctx, (void)peer, (void)what;
}

static void f_found(void *ctx, const struct tor_pex_addr *a, size_t n)
{
    (void)ctx;
    if (n == 0 || n > TOR_PEX_MAX)
        abort();
    for (size_t i = 0; i < n; i++)
        if (a[i].family != AF_INET && a[i].family != AF_INET6)
            abort();
}

static void m_log(void *ctx, const char *what)
{
    (void)ctx, (void)what;
}

static const struct tor_swarm_ops sops = {f_send,   f_close, f_pending, f_read,
                                          f_verify, f_log,   f_found, NULL, NULL, NULL};
static const struct tor_mfetch_ops mops = {f_send, f_close, m_log};

static void init_meta(void)
{
    if (meta.npieces)
        return;
    struct str t = STR_INIT;
    benc_open_dict(&t);
    benc_put_cstr(&t, "info");
    benc_open_dict(&t);
    benc_put_cstr(&t, "length");
    benc_put_int(&t, (NPIECES - 1) * PLEN + 1000);
    benc_put_cstr(&t, "name");
    benc_put_cstr(&t, "f.bin");
    benc_put_cstr(&t, "piece length");
    benc_put_int(&t, PLEN);
    benc_put_cstr(&t, "pieces");
    str_appendf(&t, "%d:", NPIECES * 20);
    for (int i = 0; i < NPIECES * 20; i++)
        str_appendc(&t, (char)i);
    benc_close(&t);
    benc_close(&t);
    const char *why;
    if (tor_meta_parse(t.ptr, t.len, &meta, &why) < 0)
        abort();
    str_clear(&t);
}

struct engine {
    struct tor_swarm *s;
    struct tor_peer *p;
    struct tor_mfetch *f;
    struct tor_mpeer *mp;
};

static size_t feed(struct engine *e, const uint8_t *p, size_t n, uint64_t now)
{
    size_t used = e->s ? tor_swarm_peer_feed(e->s, e->p, p, n, now)
                       : tor_mfetch_peer_feed(e->f, e->mp, p, n, now);
    if (used > n)
        abort();
    return used;
}

static void timers(struct engine *e, uint64_t now)
{
    if (e->s) {
        for (unsigned i = 0; i < npending && !closed; i++)
            tor_swarm_piece_done(e->s, pending[i], (pending[i] + i) & 1, now);
        npending = 0;
        if (!closed)
            tor_swarm_tick(e->s, now);
    } else if (!closed) {
        tor_mfetch_tick(e->f, now);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    init_meta();
    closed = false;
    npending = 0;
    unsigned mode = data[0] % 3;
    struct tor_swarm_limits lim = {.max_peers = 4, .max_active_bytes = 2 * PLEN, .slots = 4};
    uint8_t all[1] = {0xf8}, our[20] = "-PG0001-fuzzfuzzfuzz";
    struct engine e = {0};
    if (mode < 2) {
        e.s = tor_swarm_new(&meta, mode == 0 ? all : NULL, our, &sops, NULL, &lim, 7);
        e.p = tor_swarm_peer_new(e.s, NULL, "192.0.2.1", false, 0);
    } else {
        e.f = tor_mfetch_new(meta.info_hash, our, &mops, NULL);
        e.mp = tor_mfetch_peer_new(e.f, NULL, "192.0.2.1", false, 0);
    }
    struct tor_handshake hs = {.reserved = {0, 0, 0, 0, 0, data[0] & 0x10, 0, data[0] & 0x04}};
    memcpy(hs.info_hash, meta.info_hash, 20);
    memcpy(hs.peer_id, "-XX0001-remoteremote", 20);
    struct str in = STR_INIT;
    tor_wire_put_handshake(&in, &hs);
    size_t chunk = 1 + data[1] * 64u, pos = 2;
    uint64_t now = 0;
    while (!closed) {
        size_t take = size - pos < chunk ? size - pos : chunk;
        str_append(&in, data + pos, take);
        pos += take;
        str_consume(&in, feed(&e, (const uint8_t *)in.ptr, in.len, now));
        now += 1500;
        timers(&e, now);
        if (pos == size)
            break;
    }
    if (e.s) {
        tor_swarm_peer_gone(e.s, e.p);
        if (tor_swarm_npeers(e.s) != 0)
            abort();
        tor_swarm_free(e.s);
    } else {
        tor_mfetch_peer_gone(e.f, e.mp);
        if (tor_mfetch_npeers(e.f) != 0)
            abort();
        tor_mfetch_free(e.f);
    }
    str_clear(&in);
    return 0;
}
