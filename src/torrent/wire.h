/*
 * torrent/wire — the peer wire protocol (BEP 3) with the fast extension (BEP 6), the
 * extension protocol's envelope (BEP 10) and BEP 52's hash messages: the handshake,
 * length-prefixed messages parsed from a byte stream, and writers for every message.
 *
 * A message longer than the caller's limit (a 16 KiB block plus its header, or the bitfield
 * of the torrent) or of the wrong length for its id is an error: the connection is closed.
 * Unknown ids are returned as TOR_MSG_UNKNOWN and ignored by the caller (BEP 3). Performs no
 * I/O; parsed slices point into the input.
 */
#ifndef PIGEON_TORRENT_WIRE_H
#define PIGEON_TORRENT_WIRE_H

#include "core/str.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOR_HANDSHAKE_LEN 68
#define TOR_RESERVED_FAST 0x04 /* reserved[7] (BEP 6) */
#define TOR_RESERVED_EXT 0x10  /* reserved[5] (BEP 10) */
#define TOR_RESERVED_DHT 0x01  /* reserved[7] (BEP 5) */
#define TOR_RESERVED_V2 0x10   /* reserved[7] (BEP 52): a v1 handshake may be upgraded */

struct tor_handshake {
    uint8_t reserved[8];
    uint8_t info_hash[20];
    uint8_t peer_id[20];
};

enum tor_msg_id {
    TOR_MSG_CHOKE = 0,
    TOR_MSG_UNCHOKE = 1,
    TOR_MSG_INTERESTED = 2,
    TOR_MSG_NOT_INTERESTED = 3,
    TOR_MSG_HAVE = 4,
    TOR_MSG_BITFIELD = 5,
    TOR_MSG_REQUEST = 6,
    TOR_MSG_PIECE = 7,
    TOR_MSG_CANCEL = 8,
    TOR_MSG_PORT = 9,           /* DHT (BEP 5): parsed, ignored */
    TOR_MSG_SUGGEST = 13,       /* BEP 6 */
    TOR_MSG_HAVE_ALL = 14,
    TOR_MSG_HAVE_NONE = 15,
    TOR_MSG_REJECT = 16,
    TOR_MSG_ALLOWED_FAST = 17,
    TOR_MSG_EXTENDED = 20,      /* BEP 10 */
    TOR_MSG_HASH_REQUEST = 21,  /* BEP 52: data is the 48 bytes after the id */
    TOR_MSG_HASHES = 22,        /* BEP 52: data is the 48-byte head, then the hashes */
    TOR_MSG_HASH_REJECT = 23,   /* BEP 52: as a hash request */
    TOR_MSG_KEEPALIVE = 256,    /* a zero-length message */
    TOR_MSG_UNKNOWN = 257,
};

struct tor_msg {
    enum tor_msg_id id;
    uint32_t index, begin, length; /* have/request/piece/cancel/reject/suggest/allowed fast */
    struct slice data;             /* bitfield bits, a piece's block, an extended payload */
    uint8_t ext_id;                /* extended: 0 the handshake, else the sender's number */
    uint16_t port;
};

/* The largest message a peer may send for a torrent of npieces pieces: a block plus its
 * header, a BEP 52 hashes message of 512 hashes and their proof, or the bitfield,
 * whichever is larger. */
size_t tor_wire_max_msg(uint32_t npieces);

/* Parses the handshake from p[0..n): TOR_HANDSHAKE_LEN when complete, 0 when more is needed,
 * ERR_PARSE when it is not the BitTorrent protocol. */
int tor_wire_handshake_parse(const uint8_t *p, size_t n, struct tor_handshake *hs);
void tor_wire_put_handshake(struct str *out, const struct tor_handshake *hs);

/* Parses one message from p[0..n): the bytes it took (> 0), 0 when more is needed, or
 * ERR_LIMIT (longer than max_len) / ERR_PARSE (wrong length for its id). */
long tor_wire_msg_parse(const uint8_t *p, size_t n, size_t max_len, struct tor_msg *m);

/* Writers: one message each, appended to out. */
void tor_wire_put_simple(struct str *out, enum tor_msg_id id); /* choke..not interested,
                                                                  have all/none, keep-alive */
void tor_wire_put_have(struct str *out, enum tor_msg_id id, uint32_t index); /* have, suggest,
                                                                               allowed fast */
void tor_wire_put_bitfield(struct str *out, const uint8_t *bits, size_t nbytes);
void tor_wire_put_request(struct str *out, enum tor_msg_id id, uint32_t index, uint32_t begin,
                          uint32_t length); /* request, cancel, reject */
/* The header of a piece message for a block of len bytes; the caller appends the block. */
void tor_wire_put_piece_head(struct str *out, uint32_t index, uint32_t begin, uint32_t len);
/* BEP 52: a hash reject answering a hash request (its 48 bytes: pieces root, base layer,
 * index, length, proof layers). */
void tor_wire_put_hash_reject(struct str *out, const uint8_t head[48]);
/* BEP 52: a hash request or hash reject for count hashes of a file's tree (its pieces root)
 * at layer base from index, with proof layers of proof. */
void tor_wire_put_hash_request(struct str *out, enum tor_msg_id id, const uint8_t root[32],
                               uint32_t base, uint32_t index, uint32_t count, uint32_t proof);
/* BEP 52: the hashes answering the request of head (48 bytes): n hashes of 32 bytes. */
void tor_wire_put_hashes(struct str *out, const uint8_t head[48], const uint8_t *hashes,
                         size_t n);
void tor_wire_put_extended(struct str *out, uint8_t ext_id, const void *payload, size_t n,
                           const void *tail, size_t tail_n);

#endif
