/*
 * libFuzzer target for torrent/wire: the input as a handshake followed by a stream of peer
 * messages, parsed as a connection would (each message's slices inside the input, lengths
 * within the limit, every message written back by the writers and parsed again equal).
 */
#include "core/err.h"
#include "torrent/wire.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void rewrite(const struct tor_msg *m, size_t max)
{
    struct str o = STR_INIT;
    switch (m->id) {
    case TOR_MSG_HAVE:
    case TOR_MSG_SUGGEST:
    case TOR_MSG_ALLOWED_FAST:
        tor_wire_put_have(&o, m->id, m->index);
        break;
    case TOR_MSG_REQUEST:
    case TOR_MSG_CANCEL:
    case TOR_MSG_REJECT:
        tor_wire_put_request(&o, m->id, m->index, m->begin, m->length);
        break;
    case TOR_MSG_PIECE:
        tor_wire_put_piece_head(&o, m->index, m->begin, (uint32_t)m->data.len);
        str_append(&o, m->data.p, m->data.len);
        break;
    case TOR_MSG_BITFIELD:
        tor_wire_put_bitfield(&o, (const uint8_t *)m->data.p, m->data.len);
        break;
    case TOR_MSG_HASH_REJECT:
        tor_wire_put_hash_reject(&o, (const uint8_t *)m->data.p);
        break;
    default:
        break;
    }
    if (o.len) {
        struct tor_msg again;
        long n = tor_wire_msg_parse((const uint8_t *)o.ptr, o.len, max, &again);
        if (n != (long)o.len || again.id != m->id || again.index != m->index ||
            again.begin != m->begin || again.data.len != m->data.len)
            abort();
    }
    str_clear(&o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tor_handshake hs;
    size_t pos = 0;
    int h = tor_wire_handshake_parse(data, size, &hs);
    if (h > 0)
        pos = (size_t)h;
    size_t max = tor_wire_max_msg(size > 2 ? (uint32_t)data[0] << 10 | data[1] : 8);
    while (pos < size) {
        struct tor_msg m;
        long n = tor_wire_msg_parse(data + pos, size - pos, max, &m);
        if (n <= 0)
            break;
        if ((size_t)n > size - pos || (size_t)n > max + 4)
            abort();
        if (m.data.len && ((const uint8_t *)m.data.p < data + pos ||
                           (const uint8_t *)m.data.p + m.data.len > data + pos + (size_t)n))
            abort();
        rewrite(&m, max);
        pos += (size_t)n;
    }
    return 0;
}
