/*
 * jmap/ws — the WebSocket protocol (RFC 6455) as JMAP over WebSocket (RFC 8887) needs it on
 * the server side: the handshake's accept value (§4.2.2), an incremental reader of client
 * frames (masked, §5.3) that reassembles fragmented messages and hands control frames out
 * between them, and the frame writer (unmasked, final). Hand-written: Debian has no small,
 * well-kept library for the server side of RFC 6455 framing alone (libwebsockets brings
 * its own event loop and HTTP server), and the framing is a few dozen lines of bounds
 * checks.
 *
 * Performs no I/O. The reader owns its buffers; what jmap_ws_next hands out is valid until
 * the next call.
 */
#ifndef PIGEON_JMAP_WS_H
#define PIGEON_JMAP_WS_H

#include "core/str.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum jmap_ws_op {
    JMAP_WS_CONT = 0x0,
    JMAP_WS_TEXT = 0x1,
    JMAP_WS_BINARY = 0x2,
    JMAP_WS_CLOSE = 0x8,
    JMAP_WS_PING = 0x9,
    JMAP_WS_PONG = 0xa,
};

/* Close codes (RFC 6455 §7.4.1) the reader fails with. */
#define JMAP_WS_PROTOCOL_ERROR 1002
#define JMAP_WS_INVALID_DATA 1007
#define JMAP_WS_TOO_BIG 1009

struct jmap_ws_reader {
    struct str in;      /* octets not yet parsed */
    size_t pos;         /* where parsing stopped in `in` */
    struct str msg;     /* the data message being reassembled */
    int msg_op;         /* its opcode (TEXT or BINARY), 0 while none is open */
    bool msg_ready;     /* msg was handed out whole: emptied at the next call */
    struct str ctl;     /* the last control frame's payload */
    uint64_t max_msg;   /* a data message larger than this fails with JMAP_WS_TOO_BIG */
};

/* One thing the reader found: a whole data message, or a control frame. */
struct jmap_ws_event {
    enum jmap_ws_op op;     /* TEXT, BINARY, CLOSE, PING or PONG */
    const char *data;
    size_t len;
    unsigned close_code;    /* CLOSE: the code the client gave (1005 when none) */
};

void jmap_ws_reader_init(struct jmap_ws_reader *r, uint64_t max_msg);
void jmap_ws_reader_clear(struct jmap_ws_reader *r);
/* Takes n octets of input. */
void jmap_ws_feed(struct jmap_ws_reader *r, const char *p, size_t n);
/* > 0: *ev filled; 0: more input needed; < 0: -(close code) — the connection must fail
 * (send a close frame with that code and close). */
int jmap_ws_next(struct jmap_ws_reader *r, struct jmap_ws_event *ev);

/* Appends one final, unmasked frame (a server's) with payload p[0..n). */
void jmap_ws_frame(struct str *out, enum jmap_ws_op op, const char *p, size_t n);
/* Appends a close frame with code and a short reason. */
void jmap_ws_close_frame(struct str *out, unsigned code, const char *reason);

/* Sec-WebSocket-Accept for the client's Sec-WebSocket-Key (§4.2.2): base64 of the SHA-1 of
 * the key and the protocol's GUID; out holds 29 octets with the NUL. false when the key is
 * not 16 octets in base64. */
bool jmap_ws_accept(const char *key, size_t len, char out[29]);

#endif
