/* torrent/swarm_adopt — a metadata fetch's connection joins the swarm (magnet links, BEP 9):
 * see tor_swarm_peer_adopt in swarm.h. */
#include "torrent/swarm_int.h"

#include <string.h>

static struct tor_peer *refuse(struct tor_swarm *s, struct tor_peer *p, const char *why)
{
    swarm_close(s, p, why);
    return p;
}

/* Its bitfield, then its have messages, checked against the torrent now known. */
static const char *take_pieces(struct tor_swarm *s, struct tor_peer *p,
                               const struct tor_mpeer_state *st)
{
    size_t nbytes = (s->m->npieces + 7) / 8;
    if (st->got_bits) {
        if (st->nbits != nbytes)
            return "bitfield of the wrong length";
        unsigned spare = (unsigned)(nbytes * 8 - s->m->npieces);
        if (spare && (st->bits[nbytes - 1] & ((1u << spare) - 1)))
            return "bitfield with spare bits set";
        memcpy(p->bits, st->bits, nbytes);
    }
    for (size_t i = 0; i < st->nhaves; i++)
        for (unsigned b = 0; b < 8; b++) {
            if (!(st->haves[i] & (0x80 >> b)))
                continue;
            uint64_t piece = (uint64_t)i * 8 + b;
            if (piece >= s->m->npieces)
                return "have: no such piece";
            tor_bit_set(p->bits, (uint32_t)piece);
        }
    p->got_bits = st->got_bits || st->nhaves;
    p->nbits = 0;
    for (uint32_t i = 0; i < s->m->npieces; i++)
        p->nbits += tor_bit(p->bits, i);
    return NULL;
}

/* Our pieces, one have message each (we sent no bitfield, and now it would come too late). */
static void tell_ours(struct tor_swarm *s, struct tor_peer *p)
{
    if (s->nhave == 0)
        return;
    struct str out = STR_INIT;
    for (uint32_t i = 0; i < s->m->npieces; i++)
        if (tor_bit(s->have, i))
            tor_wire_put_have(&out, TOR_MSG_HAVE, i);
    swarm_send(s, p, &out);
    str_clear(&out);
}

struct tor_peer *tor_swarm_peer_adopt(struct tor_swarm *s, void *conn,
                                      const struct tor_mpeer_state *st, uint64_t now)
{
    struct tor_peer *p = swarm_peer_alloc(s, conn, st->addr, st->outgoing, now);
    if (tor_swarm_has_peer_id(s, st->peer_id, p))
        return refuse(s, p, "already connected to that peer");
    memcpy(p->peer_id, st->peer_id, 20);
    p->ext = true;
    p->fast = false;
    p->ut_metadata = st->ut_metadata;
    p->ut_pex = swarm_pex_on(s) ? st->ut_pex : 0;
    if (st->port)
        p->listen_port = st->port;
    p->peer_choking = st->peer_choking;
    p->peer_interested = st->peer_interested;
    p->got_first = true;
    const char *why = take_pieces(s, p, st);
    if (why) {
        memset(p->bits, 0, (s->m->npieces + 7) / 8);
        return refuse(s, p, why);
    }
    p->handshaked = true;
    p->joined = ++s->pex_gen;
    tor_picker_peer_bits(&s->picker, p->bits, +1);
    if (p->nbits == s->m->npieces && tor_swarm_complete(s))
        return refuse(s, p, "both seeding");
    swarm_log(s, p, "took over %s from the metadata fetch (%u pieces)", p->addr, p->nbits);
    tell_ours(s, p);
    swarm_ext_hello(s, p);
    if (p->peer_interested)
        s->rechoke = true;
    swarm_update_interest(s, p);
    swarm_request_more(s, p, now);
    return p;
}
