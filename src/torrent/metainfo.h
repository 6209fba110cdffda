/*
 * torrent/metainfo — a .torrent file (BEP 3, v1) read into a struct tor_meta: the info-hash
 * (SHA-1 over the raw bytes of the info dictionary), piece length and hashes, the files with
 * their offsets in the torrent's byte stream, the private flag (BEP 27), the trackers
 * (announce, announce-list of BEP 12, flattened tier by tier) and web seeds (url-list, BEP 19).
 *
 * Hybrid torrents (BEP 52, v1 and v2 in one info dictionary: "meta version" 2 and a "file
 * tree" beside "pieces") are read through their v1 half, which describes the same bytes: the
 * file tree must name the same files with the same lengths, in the same order, as the v1
 * file list without its padding files (BEP 47: "attr" with 'p', zeros that align each file
 * to a piece, never written to disk). Their v2 info-hash (SHA-256 of the info dictionary) is
 * kept: a v2 peer's handshake names the torrent by its first 20 bytes. v2-only torrents
 * (no "pieces") are read from their file tree: each file starts on a piece, the gap before
 * it being padding as in a hybrid; the info-hash is the SHA-256 truncated to 20 bytes; each
 * piece's expected hash is a SHA-256 merkle root (a file's "pieces root" when the file is a
 * piece or less, else its entry in the .torrent's "piece layers", which must fold up to the
 * pieces root). A bare v2-only info dictionary (BEP 9) has no piece layers: they are
 * fetched from peers (tor_meta_layers_wanted, metafetch.h) and the torrent is read from a
 * .torrent built around both (tor_meta_build). A hybrid's piece layers are kept when its
 * .torrent has them, to answer v2 peers' hash requests.
 *
 * File paths are checked component by component (no "..", ".", empty, '/' or NUL), so a
 * torrent can never name a file outside its download directory. Performs no I/O; every
 * pointer in a tor_meta is owned by it (tor_meta_clear).
 */
#ifndef PIGEON_TORRENT_METAINFO_H
#define PIGEON_TORRENT_METAINFO_H

#include "core/str.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOR_BLOCK 16384u             /* request size (BEP 3: 2^14) */
#define TOR_MAX_PIECE_LEN (64u << 20) /* larger pieces are refused */
#define TOR_MAX_FILES 100000u
#define TOR_MAX_TRACKERS 64u
/* v2 and hybrid torrents with more pieces are refused (libtorrent's max_pieces default): a
 * v2 piece's hash is not in the info dictionary, so the count comes from declared lengths
 * alone and would size the piece table (32 bytes a piece) without bound. */
#define TOR_MAX_PIECES 0x200000u

struct tor_file {
    char *path;      /* relative, components joined by '/' */
    uint64_t length;
    uint64_t offset; /* in the torrent's byte stream */
    bool pad;        /* BEP 47 padding: zeros, not stored */
    uint8_t root[32]; /* BEP 52: its pieces root (v2 and hybrid; zeros for padding, empty) */
};

struct tor_meta {
    uint8_t info_hash[20];
    bool v2;                  /* BEP 52 hybrid: info_hash_v2 is set */
    uint8_t info_hash_v2[32]; /* SHA-256 of the info dictionary */
    char *name;
    uint64_t piece_len;
    uint32_t npieces;
    uint8_t *pieces; /* SHA-1s, 20 * npieces; v2-only: merkle roots, 32 * npieces */
    bool v2_only;    /* BEP 52 without v1: info_hash is info_hash_v2 truncated */
    uint8_t *layers; /* hybrid: the piece layers (32 * npieces, as pieces of a v2-only one)
                        when the .torrent had them, else NULL */
    uint64_t total;
    struct tor_file *files;
    size_t nfiles;
    bool multi;      /* files live under the directory `name` */
    bool priv;       /* BEP 27: no DHT/PEX, only the torrent's own trackers */
    char **trackers;
    size_t ntrackers;
    char **webseeds;
    size_t nwebseeds;
    char *info;      /* the raw info dictionary (served to magnet peers, BEP 9) */
    size_t info_len;
};

/* Parses a whole .torrent file. 0, or ERR_PARSE/ERR_LIMIT with *why_out (static text). */
int tor_meta_parse(const char *p, size_t n, struct tor_meta *m, const char **why_out);
/* Parses a bare info dictionary received through BEP 9; its SHA-1 must be want_hash.
 * Trackers and web seeds are left for the caller (from the magnet link). */
int tor_meta_from_info(const char *p, size_t n, const uint8_t want_hash[20], struct tor_meta *m,
                       const char **why_out);
void tor_meta_clear(struct tor_meta *m);
/* A .torrent file around a raw info dictionary (one fetched through BEP 9): announce (the
 * first tracker), announce-list (one tracker per tier, in order), the piece layers (a
 * bencoded dictionary, BEP 52; NULL: none) and url-list, appended to out. */
void tor_meta_build(struct str *out, const char *info, size_t info_len, char *const *trackers,
                    size_t ntrackers, char *const *webseeds, size_t nwebseeds,
                    const char *layers, size_t layers_len);

/* BEP 52: a file's piece layer that a v2-only info dictionary leaves to be fetched. */
struct tor_layer_want {
    uint8_t root[32];  /* the file's pieces root */
    uint32_t npieces;  /* its pieces (2 or more) */
};
/* The piece layers a bare info dictionary needs before it can be used: their number
 * (*out malloc'd, NULL when 0) and *piece_len; -1 when it is not a valid v2-only one. */
long tor_meta_layers_wanted(const char *info, size_t n, struct tor_layer_want **out,
                            uint64_t *piece_len);
/* A file's piece layer (*n hashes of 32 bytes), or NULL: not a v2 file longer than a
 * piece, or a hybrid read without its layers. */
const uint8_t *tor_meta_layer(const struct tor_meta *m, size_t file, uint32_t *n);
/* The file whose pieces root is root, or -1. */
long tor_meta_file_by_root(const struct tor_meta *m, const uint8_t root[32]);

/* Whether a handshake's 20-byte info-hash names this torrent: its v1 hash, or for a hybrid
 * its v2 hash truncated (BEP 52). */
bool tor_meta_hash_matches(const struct tor_meta *m, const uint8_t hash[20]);

/* Whether data (piece i, len bytes, padding included) has the piece's hash. */
bool tor_meta_piece_ok(const struct tor_meta *m, uint32_t piece, const uint8_t *data, size_t len);

/* The length of piece i (the last one may be short). */
uint64_t tor_meta_piece_size(const struct tor_meta *m, uint32_t i);
/* 40 lower-case hex digits + NUL. */
void tor_hash_hex(const uint8_t hash[20], char out[41]);

#endif
