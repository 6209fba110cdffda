/* torrent/picker — see picker.h. */
#include "torrent/picker.h"

#include "core/xmalloc.h"
#include "torrent/metainfo.h"

#include <stdlib.h>
#include <string.h>

#define BLK_GOT 255

static uint64_t next_rand(struct tor_picker *p)
{
    /* xorshift64*: only fairness between equal candidates depends on it */
    p->rng ^= p->rng >> 12;
    p->rng ^= p->rng << 25;
    p->rng ^= p->rng >> 27;
    return p->rng * 2685821657736338717ull;
}

void tor_picker_init(struct tor_picker *p, uint32_t npieces, uint64_t piece_len, uint64_t total,
                     uint64_t seed)
{
    memset(p, 0, sizeof *p);
    p->npieces = npieces;
    p->piece_len = piece_len;
    p->total = total;
    p->avail = xcalloc(npieces ? npieces : 1, sizeof *p->avail);
    p->state = xcalloc(npieces ? npieces : 1, 1);
    p->rng = seed ? seed : 0x9e3779b97f4a7c15ull;
    p->random_first = 4;
}

void tor_picker_clear(struct tor_picker *p)
{
    for (size_t i = 0; i < p->nactive; i++)
        free(p->active[i].blk);
    free(p->active);
    free(p->avail);
    free(p->state);
    memset(p, 0, sizeof *p);
}

static uint64_t piece_size(const struct tor_picker *p, uint32_t i)
{
    return i + 1 < p->npieces ? p->piece_len : p->total - (uint64_t)i * p->piece_len;
}

uint32_t tor_picker_block_len(const struct tor_picker *p, uint32_t piece, uint32_t begin)
{
    uint64_t left = piece_size(p, piece) - begin;
    return left < TOR_BLOCK ? (uint32_t)left : TOR_BLOCK;
}

void tor_picker_peer_have(struct tor_picker *p, uint32_t piece)
{
    if (piece < p->npieces)
        p->avail[piece]++;
}

void tor_picker_peer_bits(struct tor_picker *p, const uint8_t *bits, int delta)
{
    for (uint32_t i = 0; i < p->npieces; i++)
        if (tor_bit(bits, i)) {
            if (delta > 0)
                p->avail[i]++;
            else if (p->avail[i] > 0)
                p->avail[i]--;
        }
}

static struct tor_active *find_active(struct tor_picker *p, uint32_t piece)
{
    for (size_t i = 0; i < p->nactive; i++)
        if (p->active[i].piece == piece)
            return &p->active[i];
    return NULL;
}

static struct tor_active *start_piece(struct tor_picker *p, uint32_t piece)
{
    if (p->nactive == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 8;
        p->active = xrealloc(p->active, p->cap * sizeof *p->active);
    }
    struct tor_active *a = &p->active[p->nactive++];
    a->piece = piece;
    a->nblocks = (uint32_t)((piece_size(p, piece) + TOR_BLOCK - 1) / TOR_BLOCK);
    a->received = 0;
    a->blk = xcalloc(a->nblocks, 1);
    p->state[piece] = TOR_PIECE_ACTIVE;
    return a;
}

static void drop_active(struct tor_picker *p, uint32_t piece)
{
    for (size_t i = 0; i < p->nactive; i++)
        if (p->active[i].piece == piece) {
            free(p->active[i].blk);
            p->active[i] = p->active[--p->nactive];
            return;
        }
}

/* Blocks of a whose state is wanted (0: missing; else requested and not asked of this peer). */
static size_t take_blocks(struct tor_picker *p, struct tor_active *a, bool dup,
                          tor_picker_asked_fn asked, void *arg, struct tor_block *out, size_t max)
{
    size_t n = 0;
    for (uint32_t b = 0; b < a->nblocks && n < max; b++) {
        uint8_t s = a->blk[b];
        uint32_t begin = b * TOR_BLOCK;
        if (dup ? (s == 0 || s == BLK_GOT || s == BLK_GOT - 1 || (asked && asked(arg, a->piece, begin)))
                : s != 0)
            continue;
        a->blk[b] = (uint8_t)(s + 1);
        out[n++] = (struct tor_block){a->piece, begin, tor_picker_block_len(p, a->piece, begin)};
    }
    return n;
}

/* A missing piece the peer has: random while few are complete, else the rarest. */
static long choose_new(struct tor_picker *p, const uint8_t *bits)
{
    bool random = p->nhave < p->random_first;
    long best = -1;
    uint32_t best_avail = UINT32_MAX, ties = 0;
    for (uint32_t i = 0; i < p->npieces; i++) {
        if (p->state[i] != TOR_PIECE_MISSING || !tor_bit(bits, i))
            continue;
        uint32_t av = random ? 0 : p->avail[i];
        if (av < best_avail) {
            best_avail = av;
            best = i;
            ties = 1;
        } else if (av == best_avail && next_rand(p) % ++ties == 0) {
            best = i; /* reservoir sampling among equals */
        }
    }
    return best;
}

size_t tor_picker_pick(struct tor_picker *p, const uint8_t *bits, tor_picker_asked_fn asked,
                       void *arg, struct tor_block *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < p->nactive && n < max; i++)
        if (tor_bit(bits, p->active[i].piece))
            n += take_blocks(p, &p->active[i], false, NULL, NULL, out + n, max - n);
    while (n < max && (p->max_active == 0 || p->nactive < p->max_active)) {
        long piece = choose_new(p, bits);
        if (piece < 0)
            break;
        n += take_blocks(p, start_piece(p, (uint32_t)piece), false, NULL, NULL, out + n, max - n);
    }
    if (n > 0)
        return n;
    if (p->max_active && p->nactive >= p->max_active)
        return 0; /* waiting for pieces in progress to finish, not an end game */
    /* End game only once nothing at all is left unrequested. */
    for (uint32_t i = 0; i < p->npieces; i++)
        if (p->state[i] == TOR_PIECE_MISSING)
            return 0;
    for (size_t i = 0; i < p->nactive && n < max; i++)
        if (tor_bit(bits, p->active[i].piece))
            n += take_blocks(p, &p->active[i], true, asked, arg, out + n, max - n);
    if (n)
        p->endgame = true;
    return n;
}

int tor_picker_received(struct tor_picker *p, uint32_t piece, uint32_t begin, uint32_t len)
{
    struct tor_active *a = piece < p->npieces ? find_active(p, piece) : NULL;
    if (!a || begin % TOR_BLOCK || begin / TOR_BLOCK >= a->nblocks)
        return -1;
    uint32_t b = begin / TOR_BLOCK;
    if (a->blk[b] == BLK_GOT || a->blk[b] == 0 || len != tor_picker_block_len(p, piece, begin))
        return -1;
    a->blk[b] = BLK_GOT;
    return ++a->received == a->nblocks ? 1 : 0;
}

void tor_picker_cancelled(struct tor_picker *p, uint32_t piece, uint32_t begin)
{
    struct tor_active *a = piece < p->npieces ? find_active(p, piece) : NULL;
    if (!a || begin % TOR_BLOCK || begin / TOR_BLOCK >= a->nblocks)
        return;
    uint8_t *s = &a->blk[begin / TOR_BLOCK];
    if (*s != 0 && *s != BLK_GOT)
        (*s)--;
}

void tor_picker_passed(struct tor_picker *p, uint32_t piece)
{
    if (piece >= p->npieces || p->state[piece] == TOR_PIECE_HAVE)
        return;
    drop_active(p, piece);
    p->state[piece] = TOR_PIECE_HAVE;
    p->nhave++;
}

void tor_picker_failed(struct tor_picker *p, uint32_t piece)
{
    if (piece >= p->npieces || p->state[piece] != TOR_PIECE_ACTIVE)
        return;
    drop_active(p, piece);
    p->state[piece] = TOR_PIECE_MISSING;
}
