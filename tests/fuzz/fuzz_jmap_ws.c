/*
 * libFuzzer target for the WebSocket frame reader of JMAP over WebSocket (jmap/ws.c): the
 * input is what a client sends after the handshake, fed in two pieces split where its first
 * octet says. Whatever the frames claim (lengths, opcodes, fragments), the reader must hand
 * out events within what it was given, or fail with a close code, and never crash or leak.
 */
#include "jmap/ws.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t cut = data[0] % size;
    struct jmap_ws_reader r;
    jmap_ws_reader_init(&r, 4096);
    struct jmap_ws_event ev;
    int rc = 0;
    for (int piece = 0; piece < 2 && rc >= 0; piece++) {
        const uint8_t *p = piece ? data + cut : data + 1;
        size_t n = piece ? size - cut : (cut > 0 ? cut - 1 : 0);
        if (piece == 1 && cut == 0) {
            p = data + 1;
            n = size - 1;
        }
        jmap_ws_feed(&r, (const char *)p, n);
        while ((rc = jmap_ws_next(&r, &ev)) > 0) {
            assert(ev.len <= size);
            if (ev.op == JMAP_WS_TEXT || ev.op == JMAP_WS_BINARY)
                assert(ev.len <= 4096);
            else
                assert(ev.len <= 125);
        }
        assert(rc == 0 || rc == -JMAP_WS_PROTOCOL_ERROR || rc == -JMAP_WS_INVALID_DATA ||
               rc == -JMAP_WS_TOO_BIG);
    }
    jmap_ws_reader_clear(&r);
    return 0;
}
