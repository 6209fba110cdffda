/*
 * torrent/ext — the messages carried inside the extension protocol (BEP 10): its handshake
 * (which extensions a peer speaks, under which message ids, and the size of the info
 * dictionary) and the metadata exchange of BEP 9 (ut_metadata: request, data, reject of one
 * 16 KiB piece of the info dictionary). Writers produce whole wire messages (length prefix
 * and id 20 included); parsers read the payload of an extended message (after its ext id).
 * Performs no I/O; parsed slices point into the input.
 */
#ifndef PIGEON_TORRENT_EXT_H
#define PIGEON_TORRENT_EXT_H

#include "core/str.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The ids peers use to send each extension to us (our side of the BEP 10 'm' dictionary). */
#define TOR_EXT_UT_METADATA 1
#define TOR_EXT_UT_PEX 2

#define TOR_META_PIECE 16384u        /* BEP 9: metadata travels in 16 KiB pieces */
#define TOR_MAX_METADATA (16u << 20) /* a larger info dictionary is refused (as a .torrent) */

struct tor_ext_hs {
    uint8_t ut_metadata;   /* the peer's id for ut_metadata, 0: it does not speak it */
    uint8_t ut_pex;        /* likewise for ut_pex (BEP 11) */
    int64_t metadata_size; /* 0: not told */
    uint16_t port;         /* its listen port ('p'), 0: not told */
};

/* Parses an extension handshake's dictionary: 0, or ERR_PARSE (not a dictionary, or a
 * message id or size out of range). */
int tor_ext_hs_parse(const uint8_t *p, size_t n, struct tor_ext_hs *h);
/* Our extension handshake: ut_metadata (and ut_pex when pex), metadata_size when > 0,
 * our listen port when not 0. */
void tor_ext_put_hs(struct str *out, int64_t metadata_size, uint16_t port, bool pex);

enum tor_utm_type { TOR_UTM_REQUEST = 0, TOR_UTM_DATA = 1, TOR_UTM_REJECT = 2 };

struct tor_utm {
    enum tor_utm_type type;
    uint32_t piece;
    int64_t total_size; /* data only */
    struct slice data;  /* data only: the bytes after the dictionary */
};

/* Parses a ut_metadata message: 0, or ERR_PARSE (unknown type, missing piece, a data
 * message without total_size, bytes after the dictionary of a request or reject). */
int tor_utm_parse(const uint8_t *p, size_t n, struct tor_utm *m);
/* A ut_metadata message to a peer whose id for it is ext_id; data/n only for TOR_UTM_DATA. */
void tor_utm_put(struct str *out, uint8_t ext_id, enum tor_utm_type type, uint32_t piece,
                 int64_t total_size, const void *data, size_t n);

/* BEP 11 (ut_pex): peers a peer is connected to, as compact addresses (4 or 16 bytes of
 * address and 2 of port). At most TOR_PEX_MAX of each list are written or read. */
#define TOR_PEX_MAX 50
#define TOR_PEX_INTERVAL_MS 60000 /* BEP 11: at most one message a minute to a peer */

struct tor_pex_addr {
    uint8_t ip[16];
    int family; /* AF_INET or AF_INET6 */
    uint16_t port;
};

/* The added peers (added and added6) of a ut_pex message into out (room for max): how many,
 * or ERR_PARSE (not a dictionary, a compact list of the wrong length). */
int tor_pex_parse(const uint8_t *p, size_t n, struct tor_pex_addr *out, size_t max);
void tor_pex_put(struct str *out, uint8_t ext_id, const struct tor_pex_addr *added, size_t nadded,
                 const struct tor_pex_addr *dropped, size_t ndropped);

/* The number of metadata pieces of an info dictionary of size bytes. */
static inline uint32_t tor_utm_npieces(int64_t size)
{
    return (uint32_t)(((uint64_t)size + TOR_META_PIECE - 1) / TOR_META_PIECE);
}

#endif
