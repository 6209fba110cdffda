/* torrent/swarm_peer — one connection of a swarm: handshake, messages, requests both ways.
 * See swarm.h. */
#include "torrent/swarm_int.h"

#include "core/err.h"
#include "core/xmalloc.h"

#include <stdlib.h>
#include <string.h>

void swarm_update_interest(struct tor_swarm *s, struct tor_peer *p)
{
    bool want = false;
    if (p->handshaked && !tor_swarm_complete(s))
        for (uint32_t i = 0; i < s->m->npieces && !want; i++)
            want = tor_bit(p->bits, i) && !tor_bit(s->have, i);
    if (want == p->am_interested || p->closed)
        return;
    p->am_interested = want;
    struct str out = STR_INIT;
    tor_wire_put_simple(&out, want ? TOR_MSG_INTERESTED : TOR_MSG_NOT_INTERESTED);
    swarm_send(s, p, &out);
    str_clear(&out);
}

static bool asked(void *arg, uint32_t piece, uint32_t begin)
{
    const struct tor_peer *p = arg;
    for (size_t i = 0; i < p->nreq; i++)
        if (p->req[i].piece == piece && p->req[i].begin == begin)
            return true;
    return false;
}

void swarm_request_more(struct tor_swarm *s, struct tor_peer *p, uint64_t now)
{
    if (p->closed || !p->handshaked || p->peer_choking || !p->am_interested ||
        p->nreq >= TOR_PIPELINE)
        return;
    if (s->lim.download_rate && s->down_tokens <= 0)
        return;
    struct tor_block b[TOR_PIPELINE];
    size_t n = tor_picker_pick(&s->picker, p->bits, asked, p, b, TOR_PIPELINE - p->nreq);
    struct str out = STR_INIT;
    for (size_t i = 0; i < n; i++) {
        swarm_buf(s, b[i].piece, true);
        tor_wire_put_request(&out, TOR_MSG_REQUEST, b[i].piece, b[i].begin, b[i].length);
        p->req[p->nreq] = b[i];
        p->req_at[p->nreq++] = now;
        s->down_tokens -= b[i].length;
    }
    swarm_send(s, p, &out);
    str_clear(&out);
}

void swarm_serve(struct tor_swarm *s, struct tor_peer *p)
{
    uint8_t *block = NULL;
    while (p->ntheirs && !p->am_choking && !p->closed &&
           s->ops->pending(p->conn) < OUT_HIGH_WATER &&
           (s->lim.upload_rate == 0 || s->up_tokens > 0)) {
        if (p->cap && p->tokens <= 0) {
            p->held = true; /* its share is used up until the next tick */
            break;
        }
        struct tor_block r = p->theirs[0];
        memmove(p->theirs, p->theirs + 1, --p->ntheirs * sizeof *p->theirs);
        if (!block)
            block = xmalloc(TOR_BLOCK);
        /* past the torrent's end only in the last piece of a v2 torrent: implied padding */
        uint64_t size = tor_meta_piece_size(s->m, r.piece);
        uint32_t real = r.length;
        if ((uint64_t)r.begin + r.length > size)
            real = r.begin >= size ? 0 : (uint32_t)(size - r.begin);
        memset(block + real, 0, r.length - real);
        if (real && s->ops->read(s->ctx, r.piece, r.begin, real, block) < 0) {
            swarm_close(s, p, "cannot read a piece we have");
            break;
        }
        struct str out = STR_INIT;
        tor_wire_put_piece_head(&out, r.piece, r.begin, r.length);
        str_append(&out, block, r.length);
        swarm_send(s, p, &out);
        str_clear(&out);
        p->uploaded += r.length;
        p->up_win += r.length;
        s->up_win += r.length;
        s->total_up += r.length;
        s->up_tokens -= r.length;
        if (p->cap)
            p->tokens -= r.length;
    }
    free(block);
}

void tor_swarm_peer_writable(struct tor_swarm *s, struct tor_peer *p)
{
    swarm_serve(s, p);
}

/* ---- messages ---- */

static int bad(struct tor_swarm *s, struct tor_peer *p, const char *why)
{
    swarm_close(s, p, why);
    return -1;
}

static int on_bits(struct tor_swarm *s, struct tor_peer *p, const struct tor_msg *m)
{
    size_t nbytes = (s->m->npieces + 7) / 8;
    /* BEP 3 wants it first; some clients send have-none and then a bitfield, or allowed-fast
     * messages before it: each one replaces what the peer said it has so far */
    p->got_bits = true;
    tor_picker_peer_bits(&s->picker, p->bits, -1);
    if (m->id == TOR_MSG_BITFIELD) {
        if (m->data.len != nbytes)
            return bad(s, p, "bitfield of the wrong length");
        unsigned spare = nbytes * 8 - s->m->npieces;
        if (spare && ((uint8_t)m->data.p[nbytes - 1] & ((1u << spare) - 1)))
            return bad(s, p, "bitfield with spare bits set");
        memcpy(p->bits, m->data.p, nbytes);
    } else if (!p->fast) {
        return bad(s, p, "have all/none without the fast extension");
    } else if (m->id == TOR_MSG_HAVE_NONE) {
        memset(p->bits, 0, nbytes);
    } else if (m->id == TOR_MSG_HAVE_ALL) {
        memset(p->bits, 0, nbytes);
        for (uint32_t i = 0; i < s->m->npieces; i++)
            tor_bit_set(p->bits, i);
    }
    p->nbits = 0;
    for (uint32_t i = 0; i < s->m->npieces; i++)
        p->nbits += tor_bit(p->bits, i);
    tor_picker_peer_bits(&s->picker, p->bits, +1);
    if (p->nbits == s->m->npieces && tor_swarm_complete(s))
        return bad(s, p, "both seeding");
    return 0;
}

static int on_have(struct tor_swarm *s, struct tor_peer *p, uint32_t index)
{
    if (index >= s->m->npieces)
        return bad(s, p, "have: no such piece");
    if (!tor_bit(p->bits, index)) {
        tor_bit_set(p->bits, index);
        p->nbits++;
        tor_picker_peer_have(&s->picker, index);
    }
    return 0;
}

/* How far into piece i a peer may ask. BEP 52 aligns every file to a piece and leaves open
 * whether the last file is padded too: libtorrent pads it and asks for the whole last piece,
 * others do not. So for a v2 or hybrid torrent a request into that padding is answered with
 * zeros (swarm_serve) rather than refused. */
static uint64_t request_limit(const struct tor_meta *m, uint32_t i)
{
    return m->v2 ? m->piece_len : tor_meta_piece_size(m, i);
}

static int on_request(struct tor_swarm *s, struct tor_peer *p, const struct tor_msg *m)
{
    if (m->index >= s->m->npieces || m->length == 0 || m->length > TOR_BLOCK ||
        (uint64_t)m->begin + m->length > request_limit(s->m, m->index)) {
        swarm_log(s, p, "%s asked for piece %u, bytes %u+%u", p->addr, m->index, m->begin,
                  m->length);
        return bad(s, p, "request out of range");
    }
    if (!tor_bit(s->have, m->index))
        return bad(s, p, "request for a piece we do not have");
    if (p->am_choking || p->ntheirs == TOR_MAX_PEER_REQS) {
        if (!p->fast && !p->am_choking)
            return bad(s, p, "too many requests queued");
        if (p->fast) { /* BEP 6: every request gets an answer */
            struct str out = STR_INIT;
            tor_wire_put_request(&out, TOR_MSG_REJECT, m->index, m->begin, m->length);
            swarm_send(s, p, &out);
            str_clear(&out);
        }
        return 0;
    }
    p->theirs[p->ntheirs++] = (struct tor_block){m->index, m->begin, m->length};
    swarm_serve(s, p);
    return 0;
}

static void on_cancel(struct tor_peer *p, const struct tor_msg *m)
{
    for (size_t i = 0; i < p->ntheirs; i++)
        if (p->theirs[i].piece == m->index && p->theirs[i].begin == m->begin) {
            memmove(p->theirs + i, p->theirs + i + 1, (p->ntheirs - i - 1) * sizeof *p->theirs);
            p->ntheirs--;
            return;
        }
}

static long find_req(const struct tor_peer *p, uint32_t piece, uint32_t begin)
{
    for (size_t i = 0; i < p->nreq; i++)
        if (p->req[i].piece == piece && p->req[i].begin == begin)
            return (long)i;
    return -1;
}

static void remove_req(struct tor_peer *p, long i)
{
    p->req[i] = p->req[p->nreq - 1];
    p->req_at[i] = p->req_at[--p->nreq];
}

/* End game: the block came; whoever else was asked for it is told not to bother. */
static void cancel_others(struct tor_swarm *s, struct tor_peer *from, uint32_t piece,
                          uint32_t begin, uint32_t len)
{
    for (struct tor_peer *q = s->peers; q; q = q->next) {
        long i = q == from ? -1 : find_req(q, piece, begin);
        if (i < 0)
            continue;
        remove_req(q, i);
        struct str out = STR_INIT;
        tor_wire_put_request(&out, TOR_MSG_CANCEL, piece, begin, len);
        swarm_send(s, q, &out);
        str_clear(&out);
    }
}

static int on_piece(struct tor_swarm *s, struct tor_peer *p, const struct tor_msg *m,
                    uint64_t now)
{
    long i = find_req(p, m->index, m->begin);
    if (i < 0 || p->req[i].length != m->length)
        return 0; /* not asked (a late answer to a cancel): dropped */
    remove_req(p, i);
    p->downloaded += m->length;
    p->down_win += m->length;
    s->down_win += m->length;
    s->total_down += m->length;
    int rc = tor_picker_received(&s->picker, m->index, m->begin, m->length);
    if (rc < 0)
        return 0;
    struct piece_buf *b = swarm_buf(s, m->index, true);
    memcpy(b->data + m->begin, m->data.p, m->length);
    bool known = false;
    for (unsigned k = 0; k < b->nsenders; k++)
        known |= b->senders[k] == p->id;
    if (!known && b->nsenders < MAX_SENDERS)
        b->senders[b->nsenders++] = p->id;
    if (s->picker.endgame)
        cancel_others(s, p, m->index, m->begin, m->length);
    if (rc == 1) {
        b->verifying = true;
        s->ops->verify(s->ctx, m->index, b->data, tor_meta_piece_size(s->m, m->index));
    }
    swarm_request_more(s, p, now);
    return 0;
}

static void on_reject(struct tor_swarm *s, struct tor_peer *p, const struct tor_msg *m)
{
    long i = find_req(p, m->index, m->begin);
    if (i < 0)
        return;
    tor_picker_cancelled(&s->picker, m->index, m->begin);
    remove_req(p, i);
}

int swarm_peer_message(struct tor_swarm *s, struct tor_peer *p, const struct tor_msg *m,
                       uint64_t now)
{
    int rc = 0;
    bool first = !p->got_first;
    switch (m->id) {
    case TOR_MSG_CHOKE:
        p->peer_choking = true;
        if (!p->fast)
            swarm_drop_requests(s, p); /* BEP 3: they are discarded; BEP 6 rejects them */
        break;
    case TOR_MSG_UNCHOKE:
        p->peer_choking = false;
        break;
    case TOR_MSG_INTERESTED:
    case TOR_MSG_NOT_INTERESTED:
        /* a free slot is filled at once rather than at the next 10 s round (a repeated
         * message changes nothing) */
        if (p->peer_interested != (m->id == TOR_MSG_INTERESTED))
            s->rechoke = true;
        p->peer_interested = m->id == TOR_MSG_INTERESTED;
        break;
    case TOR_MSG_HAVE:
        rc = on_have(s, p, m->index);
        break;
    case TOR_MSG_BITFIELD:
    case TOR_MSG_HAVE_ALL:
    case TOR_MSG_HAVE_NONE:
        rc = on_bits(s, p, m);
        break;
    case TOR_MSG_REQUEST:
        rc = on_request(s, p, m);
        break;
    case TOR_MSG_PIECE:
        rc = on_piece(s, p, m, now);
        break;
    case TOR_MSG_CANCEL:
        on_cancel(p, m);
        break;
    case TOR_MSG_REJECT:
        if (!p->fast)
            return bad(s, p, "reject without the fast extension");
        on_reject(s, p, m);
        break;
    case TOR_MSG_EXTENDED:
        rc = swarm_ext_message(s, p, m, now);
        break;
    case TOR_MSG_HASH_REQUEST: /* BEP 52 */
        swarm_hash_request(s, p, m);
        break;
    default: /* keep-alive, port, suggest, allowed fast, unknown: nothing to do */
        break;
    }
    if (m->id != TOR_MSG_KEEPALIVE)
        p->got_first = true;
    if (rc == 0 && (first || m->id == TOR_MSG_HAVE || m->id == TOR_MSG_UNCHOKE)) {
        swarm_update_interest(s, p);
        swarm_request_more(s, p, now);
    }
    return rc;
}

static int on_handshake(struct tor_swarm *s, struct tor_peer *p, const struct tor_handshake *hs)
{
    if (!tor_meta_hash_matches(s->m, hs->info_hash))
        return bad(s, p, "handshake for another torrent");
    /* BEP 52: a hybrid's connection is v2 when the peer named it by its v2 hash (it gets that
     * back), when we dialled with the v1 hash and it answered with the v2 one (it upgraded),
     * or when it dialled with the v1 hash and the upgrade bit (we answer with the v2 one) */
    bool hybrid = s->m->v2 && !s->m->v2_only;
    p->v2 = hybrid && (memcmp(hs->info_hash, s->m->info_hash, 20) != 0 ||
                       (!p->outgoing && (hs->reserved[7] & TOR_RESERVED_V2)));
    if (memcmp(hs->peer_id, s->our_id, 20) == 0)
        return bad(s, p, "connected to ourselves");
    if (tor_swarm_has_peer_id(s, hs->peer_id, p))
        return bad(s, p, "already connected to that peer");
    memcpy(p->peer_id, hs->peer_id, 20);
    p->fast = hs->reserved[7] & TOR_RESERVED_FAST;
    p->ext = hs->reserved[5] & TOR_RESERVED_EXT;
    p->handshaked = true;
    p->joined = ++s->pex_gen;
    if (!p->outgoing)
        swarm_send_handshake(s, p);
    swarm_send_bitfield(s, p);
    swarm_ext_hello(s, p);
    return 0;
}

size_t tor_swarm_peer_feed(struct tor_swarm *s, struct tor_peer *p, const uint8_t *data,
                           size_t n, uint64_t now)
{
    size_t pos = 0;
    p->last_recv = now;
    if (!p->handshaked) {
        struct tor_handshake hs;
        int rc = tor_wire_handshake_parse(data, n, &hs);
        if (rc == 0)
            return 0;
        if (rc < 0 || on_handshake(s, p, &hs) < 0) {
            if (rc < 0)
                bad(s, p, "not the BitTorrent protocol");
            return n;
        }
        pos = TOR_HANDSHAKE_LEN;
    }
    size_t max = tor_wire_max_msg(s->m->npieces);
    while (pos < n && !p->closed) {
        struct tor_msg m;
        long used = tor_wire_msg_parse(data + pos, n - pos, max, &m);
        if (used == 0)
            break;
        if (used < 0) {
            bad(s, p, used == ERR_LIMIT ? "message longer than a block" : "malformed message");
            return n;
        }
        pos += (size_t)used;
        if (swarm_peer_message(s, p, &m, now) < 0)
            return n;
    }
    return p->closed ? n : pos;
}
