/*
 * torrent/wire — see wire.h. Hand-written: the messages are fixed layouts of big-endian
 * integers (BEP 3), no library in Debian covers them in C.
 */
#include "torrent/wire.h"

#include "core/err.h"
#include "torrent/merkle.h"
#include "torrent/metainfo.h"

#include <string.h>

static const char proto[] = "\x13" "BitTorrent protocol";

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(struct str *out, uint32_t v)
{
    char b[4] = {(char)(v >> 24), (char)(v >> 16), (char)(v >> 8), (char)v};
    str_append(out, b, 4);
}

size_t tor_wire_max_msg(uint32_t npieces)
{
    size_t block = TOR_BLOCK + 9 + 1024; /* BEP 9 data: its dictionary before the 16 KiB */
    size_t hashes = 49 + 32 * (TOR_MERKLE_MAX_COUNT + 32); /* BEP 52: hashes and uncles */
    if (hashes > block)
        block = hashes;
    size_t bits = 1 + ((size_t)npieces + 7) / 8;
    return bits > block ? bits : block;
}

int tor_wire_handshake_parse(const uint8_t *p, size_t n, struct tor_handshake *hs)
{
    size_t cmp = n < 20 ? n : 20;
    if (memcmp(p, proto, cmp) != 0)
        return ERR_PARSE;
    if (n < TOR_HANDSHAKE_LEN)
        return 0;
    memcpy(hs->reserved, p + 20, 8);
    memcpy(hs->info_hash, p + 28, 20);
    memcpy(hs->peer_id, p + 48, 20);
    return TOR_HANDSHAKE_LEN;
}

void tor_wire_put_handshake(struct str *out, const struct tor_handshake *hs)
{
    str_append(out, proto, 20);
    str_append(out, hs->reserved, 8);
    str_append(out, hs->info_hash, 20);
    str_append(out, hs->peer_id, 20);
}

/* The exact payload length (after the id) of fixed-size messages; -1: variable. */
static long fixed_len(unsigned id)
{
    switch (id) {
    case TOR_MSG_CHOKE:
    case TOR_MSG_UNCHOKE:
    case TOR_MSG_INTERESTED:
    case TOR_MSG_NOT_INTERESTED:
    case TOR_MSG_HAVE_ALL:
    case TOR_MSG_HAVE_NONE:
        return 0;
    case TOR_MSG_HAVE:
    case TOR_MSG_SUGGEST:
    case TOR_MSG_ALLOWED_FAST:
        return 4;
    case TOR_MSG_REQUEST:
    case TOR_MSG_CANCEL:
    case TOR_MSG_REJECT:
        return 12;
    case TOR_MSG_PORT:
        return 2;
    case TOR_MSG_HASH_REQUEST:
    case TOR_MSG_HASH_REJECT:
        return 48;
    default:
        return -1;
    }
}

static int decode(unsigned id, const uint8_t *b, size_t n, struct tor_msg *m)
{
    long fixed = fixed_len(id);
    if (fixed >= 0 && (size_t)fixed != n)
        return ERR_PARSE;
    m->id = (enum tor_msg_id)id;
    switch (id) {
    case TOR_MSG_HAVE:
    case TOR_MSG_SUGGEST:
    case TOR_MSG_ALLOWED_FAST:
        m->index = get32(b);
        break;
    case TOR_MSG_REQUEST:
    case TOR_MSG_CANCEL:
    case TOR_MSG_REJECT:
        m->index = get32(b), m->begin = get32(b + 4), m->length = get32(b + 8);
        break;
    case TOR_MSG_PIECE:
        if (n < 8)
            return ERR_PARSE;
        m->index = get32(b), m->begin = get32(b + 4);
        m->data = slice_make((const char *)b + 8, n - 8);
        m->length = (uint32_t)(n - 8);
        break;
    case TOR_MSG_BITFIELD:
        m->data = slice_make((const char *)b, n);
        break;
    case TOR_MSG_PORT:
        m->port = (uint16_t)(b[0] << 8 | b[1]);
        break;
    case TOR_MSG_HASH_REQUEST:
    case TOR_MSG_HASH_REJECT:
    case TOR_MSG_HASHES:
        if (n < 48)
            return ERR_PARSE;
        m->data = slice_make((const char *)b, n);
        break;
    case TOR_MSG_EXTENDED:
        if (n < 1)
            return ERR_PARSE;
        m->ext_id = b[0];
        m->data = slice_make((const char *)b + 1, n - 1);
        break;
    default:
        if (fixed < 0)
            m->id = TOR_MSG_UNKNOWN;
    }
    return 0;
}

long tor_wire_msg_parse(const uint8_t *p, size_t n, size_t max_len, struct tor_msg *m)
{
    memset(m, 0, sizeof *m);
    if (n < 4)
        return 0;
    uint32_t len = get32(p);
    if (len > max_len)
        return ERR_LIMIT;
    if (n - 4 < len)
        return 0;
    if (len == 0) {
        m->id = TOR_MSG_KEEPALIVE;
        return 4;
    }
    int rc = decode(p[4], p + 5, len - 1, m);
    return rc < 0 ? rc : (long)len + 4;
}

void tor_wire_put_simple(struct str *out, enum tor_msg_id id)
{
    if (id == TOR_MSG_KEEPALIVE) {
        put32(out, 0);
        return;
    }
    put32(out, 1);
    str_appendc(out, (char)id);
}

void tor_wire_put_have(struct str *out, enum tor_msg_id id, uint32_t index)
{
    put32(out, 5);
    str_appendc(out, (char)id);
    put32(out, index);
}

void tor_wire_put_bitfield(struct str *out, const uint8_t *bits, size_t nbytes)
{
    put32(out, (uint32_t)(1 + nbytes));
    str_appendc(out, TOR_MSG_BITFIELD);
    str_append(out, bits, nbytes);
}

void tor_wire_put_request(struct str *out, enum tor_msg_id id, uint32_t index, uint32_t begin,
                          uint32_t length)
{
    put32(out, 13);
    str_appendc(out, (char)id);
    put32(out, index);
    put32(out, begin);
    put32(out, length);
}

void tor_wire_put_piece_head(struct str *out, uint32_t index, uint32_t begin, uint32_t len)
{
    put32(out, 9 + len);
    str_appendc(out, TOR_MSG_PIECE);
    put32(out, index);
    put32(out, begin);
}

void tor_wire_put_hash_reject(struct str *out, const uint8_t head[48])
{
    put32(out, 49);
    str_appendc(out, TOR_MSG_HASH_REJECT);
    str_append(out, head, 48);
}

void tor_wire_put_hash_request(struct str *out, enum tor_msg_id id, const uint8_t root[32],
                               uint32_t base, uint32_t index, uint32_t count, uint32_t proof)
{
    put32(out, 49);
    str_appendc(out, (char)id);
    str_append(out, root, 32);
    put32(out, base);
    put32(out, index);
    put32(out, count);
    put32(out, proof);
}

void tor_wire_put_hashes(struct str *out, const uint8_t head[48], const uint8_t *hashes,
                         size_t n)
{
    put32(out, (uint32_t)(49 + 32 * n));
    str_appendc(out, TOR_MSG_HASHES);
    str_append(out, head, 48);
    str_append(out, hashes, 32 * n);
}

void tor_wire_put_extended(struct str *out, uint8_t ext_id, const void *payload, size_t n,
                           const void *tail, size_t tail_n)
{
    put32(out, (uint32_t)(2 + n + tail_n));
    str_appendc(out, TOR_MSG_EXTENDED);
    str_appendc(out, (char)ext_id);
    str_append(out, payload, n);
    if (tail_n)
        str_append(out, tail, tail_n);
}
