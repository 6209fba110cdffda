/* torrent/swarm_ext — the extension protocol (BEP 10) on a swarm's connections: our
 * handshake (ut_metadata, ut_pex unless the torrent is private or PEX is off, the info
 * dictionary's size, our listen port), the metadata exchange's serving side (BEP 9: a peer that joined from a
 * magnet link asks for the info dictionary in 16 KiB pieces) and peer exchange (BEP 11: at
 * most once a minute each peer hears which peers joined and left since the last message;
 * the addresses a peer tells go to ops.found). See swarm.h. */
#include "torrent/swarm_int.h"

#include "core/err.h"
#include "torrent/ext.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

/* BEP 27: never on a private torrent; [torrent] pex = no: on none. */
bool swarm_pex_on(const struct tor_swarm *s)
{
    return !s->m->priv && !s->lim.no_pex;
}

void swarm_ext_hello(struct tor_swarm *s, struct tor_peer *p)
{
    if (!p->ext)
        return;
    struct str out = STR_INIT;
    tor_ext_put_hs(&out, s->m->info ? (int64_t)s->m->info_len : 0, s->lim.listen_port,
                   swarm_pex_on(s));
    swarm_send(s, p, &out);
    str_clear(&out);
}

static int ext_bad(struct tor_swarm *s, struct tor_peer *p, const char *why)
{
    swarm_close(s, p, why);
    return -1;
}

/* BEP 9: a request for one piece of the info dictionary gets that piece, or a reject when
 * there is no such piece or the connection is already backed up with data. */
static void serve_metadata(struct tor_swarm *s, struct tor_peer *p, const struct tor_utm *u)
{
    struct str out = STR_INIT;
    uint32_t n = s->m->info ? tor_utm_npieces((int64_t)s->m->info_len) : 0;
    if (u->piece >= n || s->ops->pending(p->conn) >= OUT_HIGH_WATER) {
        tor_utm_put(&out, p->ut_metadata, TOR_UTM_REJECT, u->piece, 0, NULL, 0);
    } else {
        size_t off = (size_t)u->piece * TOR_META_PIECE;
        size_t len = s->m->info_len - off < TOR_META_PIECE ? s->m->info_len - off : TOR_META_PIECE;
        tor_utm_put(&out, p->ut_metadata, TOR_UTM_DATA, u->piece, (int64_t)s->m->info_len,
                    s->m->info + off, len);
        swarm_log(s, p, "sent metadata piece %u of %u to %s", u->piece, n, p->addr);
    }
    swarm_send(s, p, &out);
    str_clear(&out);
}

/* ---- PEX (BEP 11) ---- */

/* The address a peer accepts connections on, when it is known. */
static bool listen_addr(const struct tor_peer *p, struct tor_pex_addr *a)
{
    memset(a, 0, sizeof *a);
    if (!p->listen_port)
        return false;
    a->port = p->listen_port;
    if (inet_pton(AF_INET, p->addr, a->ip) == 1)
        a->family = AF_INET;
    else if (inet_pton(AF_INET6, p->addr, a->ip) == 1)
        a->family = AF_INET6;
    return a->family != 0;
}

void swarm_pex_gone(struct tor_swarm *s, struct tor_peer *p)
{
    struct tor_pex_addr a;
    if (!p->handshaked || !listen_addr(p, &a))
        return;
    unsigned i = s->ndropped_next++ % MAX_DROPPED;
    s->dropped[i].a = a;
    s->dropped[i].gen = ++s->pex_gen;
}

void swarm_pex_tick(struct tor_swarm *s, struct tor_peer *p, uint64_t now)
{
    if (!p->ut_pex || !swarm_pex_on(s) || p->pex_sent == s->pex_gen ||
        (p->last_pex && now - p->last_pex < TOR_PEX_INTERVAL_MS))
        return;
    struct tor_pex_addr added[TOR_PEX_MAX], dropped[TOR_PEX_MAX];
    size_t na = 0, nd = 0;
    for (struct tor_peer *q = s->peers; q && na < TOR_PEX_MAX; q = q->next)
        if (q != p && q->handshaked && !q->closed && q->joined > p->pex_sent &&
            listen_addr(q, &added[na]))
            na++;
    for (unsigned i = 0; i < MAX_DROPPED && nd < TOR_PEX_MAX; i++)
        if (s->dropped[i].gen > p->pex_sent && s->dropped[i].gen)
            dropped[nd++] = s->dropped[i].a;
    p->pex_sent = s->pex_gen;
    if (na + nd == 0)
        return;
    p->last_pex = now;
    struct str out = STR_INIT;
    tor_pex_put(&out, p->ut_pex, added, na, dropped, nd);
    swarm_send(s, p, &out);
    str_clear(&out);
}

static int on_pex(struct tor_swarm *s, struct tor_peer *p, const uint8_t *d, size_t n, uint64_t now)
{
    struct tor_pex_addr a[TOR_PEX_MAX];
    int got = tor_pex_parse(d, n, a, TOR_PEX_MAX);
    if (got < 0)
        return ext_bad(s, p, "malformed PEX message");
    /* BEP 11: one a minute; more often is ignored rather than obeyed */
    if (p->last_pex_in && now - p->last_pex_in < TOR_PEX_INTERVAL_MS / 2)
        return 0;
    p->last_pex_in = now;
    if (got > 0 && s->ops->found) {
        swarm_log(s, p, "PEX: %d address(es) from %s", got, p->addr);
        s->ops->found(s->ctx, a, (size_t)got);
    }
    return 0;
}

int swarm_ext_message(struct tor_swarm *s, struct tor_peer *p, const struct tor_msg *m,
                      uint64_t now)
{
    if (!p->ext)
        return ext_bad(s, p, "extended message without the extension protocol");
    const uint8_t *d = (const uint8_t *)m->data.p;
    if (m->ext_id == 0) {
        struct tor_ext_hs h;
        if (tor_ext_hs_parse(d, m->data.len, &h) < 0)
            return ext_bad(s, p, "malformed extension handshake");
        p->ut_metadata = h.ut_metadata;
        p->ut_pex = swarm_pex_on(s) ? h.ut_pex : 0; /* BEP 27: no PEX on a private torrent */
        if (h.port && !p->outgoing)
            p->listen_port = h.port;
        return 0;
    }
    if (m->ext_id == TOR_EXT_UT_PEX && swarm_pex_on(s))
        return on_pex(s, p, d, m->data.len, now);
    if (m->ext_id == TOR_EXT_UT_METADATA) {
        struct tor_utm u;
        if (tor_utm_parse(d, m->data.len, &u) < 0)
            return ext_bad(s, p, "malformed metadata message");
        if (u.type == TOR_UTM_REQUEST) {
            if (!p->ut_metadata)
                return ext_bad(s, p, "metadata request before the extension handshake");
            serve_metadata(s, p, &u);
        }
        return 0; /* data or reject we never asked for: ignored */
    }
    return 0; /* an extension we did not offer (BEP 10: ignore) */
}
