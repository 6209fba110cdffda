/*
 * wire — DNS messages in wire form (RFC 1035 §4): a binary buffer with a sticky error, a
 * parser that turns a whole packet into a struct dns_msg, and a builder that writes a message
 * with name compression under a size limit.
 *
 * Parsing never trusts the packet: compression pointers must point backwards and may not loop,
 * labels are <= 63 bytes, names <= 255, counts may not run past the end, rdata of known types
 * must match its layout. Names in the parsed message (owners and names inside rdata of the
 * types RFC 3597 §4 lists) are decompressed copies, so callers never see a pointer.
 * The builder compresses owner names and names inside the rdata of the RFC 1035 types only
 * (NS, CNAME, SOA, PTR, MX, MB, MG, MR, MINFO, MD, MF), as RFC 3597 §4 requires.
 *
 * Pure: no I/O, no clock, no globals. Everything a parsed message points to is copied into the
 * caller's struct dns_arena, never into the packet: the packet may be freed right after parsing.
 * Return convention: 0 or a negative ERR_* code (core/err.h); builders return ERR_LIMIT when a
 * record does not fit and leave the message as it was before the call.
 */
#ifndef PIGEON_DNS_WIRE_H
#define PIGEON_DNS_WIRE_H

#include "dns/arena.h"
#include "dns/name.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_HEADER_LEN 12
#define DNS_UDP_MIN 512      /* RFC 1035 §4.2.1: the size without EDNS */
#define DNS_UDP_DEFAULT 1232 /* the DNS Flag Day 2020 EDNS buffer size */
#define DNS_MSG_MAX 65535

/* Why a packet was refused. A server answers FORMERR when msg->hdr_ok and QR=0, else drops. */
enum dns_fault {
    DNS_FAULT_NONE = 0,
    DNS_FAULT_HEADER = -100, /* shorter than the 12-byte header */
    DNS_FAULT_TRUNCATED,     /* a count, name or rdata runs past the end of the packet */
    DNS_FAULT_PTR_LOOP,      /* a compression pointer to itself or later (RFC 1035 §4.1.4) */
    DNS_FAULT_PTR_FORWARD,   /* a compression pointer past the current label */
    DNS_FAULT_LABEL_LONG,    /* length byte 64..191: a label over 63 bytes, or the extended
                                label types 0x40/0x80 RFC 6891 §5 retired */
    DNS_FAULT_NAME_LONG,     /* name over 255 bytes once decompressed */
    DNS_FAULT_RDATA,         /* rdata does not match its type's layout */
    DNS_FAULT_OPT,           /* OPT twice, not owned by the root, or outside additional */
    DNS_FAULT_TSIG,          /* TSIG not the last record of the additional section */
    DNS_FAULT_TRAILING,      /* bytes left after the last record */
};

/* ---- binary buffer with a sticky error ---- */

/*
 * A reader over data[0..lim) or a writer into out[0..lim). Any read or write past lim sets
 * err (ERR_RANGE) and leaves pos where it was; later calls do nothing. Check err once at the
 * end. A reader has out == NULL (writes then fail too).
 */
struct dns_buf {
    const uint8_t *data;
    uint8_t *out;
    size_t pos, lim;
    int err;
};

void dns_buf_init_read(struct dns_buf *b, const uint8_t *data, size_t len);
void dns_buf_init_write(struct dns_buf *b, uint8_t *out, size_t cap);
static inline size_t dns_buf_left(const struct dns_buf *b)
{
    return b->err ? 0 : b->lim - b->pos;
}
uint8_t dns_buf_get_u8(struct dns_buf *b);   /* 0 after an error */
uint16_t dns_buf_get_u16(struct dns_buf *b); /* network byte order */
uint32_t dns_buf_get_u32(struct dns_buf *b);
/* Pointer to the next n bytes (borrowed from data) and skips them; NULL on error. */
const uint8_t *dns_buf_get_ptr(struct dns_buf *b, size_t n);
void dns_buf_put_u8(struct dns_buf *b, uint8_t v);
void dns_buf_put_u16(struct dns_buf *b, uint16_t v);
void dns_buf_put_u32(struct dns_buf *b, uint32_t v);
void dns_buf_put_bytes(struct dns_buf *b, const void *p, size_t n);
/* Overwrites two bytes already written at off (no effect after an error). */
void dns_buf_patch_u16(struct dns_buf *b, size_t off, uint16_t v);

/*
 * Reads a possibly compressed name at b->pos from the whole packet data[0..lim), writes its
 * uncompressed form to out (DNS_NAME_MAXLEN bytes) and moves pos past the name's bytes in
 * place. Each pointer must point strictly before the start of the run of labels that holds
 * it, so targets strictly decrease and no loop can form. 0 with *len_out, or ERR_PARSE with
 * b->err set and *fault_out (may be NULL) saying why.
 */
int dns_buf_get_name(struct dns_buf *b, uint8_t *out, size_t *len_out, enum dns_fault *fault_out);

/* ---- header ---- */

struct dns_header {
    uint16_t id;
    bool qr, aa, tc, rd, ra, z, ad, cd;
    uint8_t opcode; /* 4 bits */
    uint8_t rcode;  /* low 4 bits; the extended rcode's upper 8 bits are in the OPT */
    uint16_t qdcount, ancount, nscount, arcount;
};

/* Reads 12 bytes; 0 or ERR_PARSE when fewer are there. */
int dns_header_read(const uint8_t *pkt, size_t len, struct dns_header *h);
/* Writes 12 bytes at out. */
void dns_header_write(const struct dns_header *h, uint8_t out[DNS_HEADER_LEN]);

/* ---- parsed message ---- */

enum dns_section { DNS_SEC_QUESTION = 0, DNS_SEC_ANSWER, DNS_SEC_AUTHORITY, DNS_SEC_ADDITIONAL };

struct dns_question {
    const uint8_t *qname; /* as received (case kept, RFC 4343 / 0x20), decompressed */
    uint16_t qtype, qclass;
};

struct dns_rr {
    const uint8_t *owner; /* decompressed, case kept */
    uint16_t type, rclass;
    uint32_t ttl;
    uint16_t rdlen;
    const uint8_t *rdata; /* names inside decompressed for RFC 3597 §4 types */
};

/* RFC 6891 §6.1: the OPT pseudo-RR. */
struct dns_edns {
    bool present;
    uint16_t udp_size; /* as sent; callers treat values < 512 as 512 */
    uint8_t ext_rcode; /* upper 8 bits of the 12-bit rcode */
    uint8_t version;
    bool do_bit;    /* RFC 3225 */
    uint16_t flags; /* the whole 16-bit flags field */
    uint16_t opts_len;
    const uint8_t *opts; /* raw options (code, length, data)*, in the arena */
};

struct dns_msg {
    struct dns_header hdr;
    bool hdr_ok;             /* the header was read (a FORMERR reply is possible) */
    enum dns_fault fault;    /* DNS_FAULT_NONE after a successful parse */
    struct dns_question *qd; /* hdr.qdcount entries */
    struct dns_rr *rr[3];    /* answer, authority, additional (OPT and TSIG left out) */
    uint16_t count[3];       /* entries in rr[i] */
    struct dns_edns edns;
    const struct dns_rr *tsig; /* the TSIG record (RFC 8945), or NULL */
    size_t tsig_off;           /* offset of the TSIG record's owner in the packet */
    size_t question_end;       /* offset just past the question section */
    unsigned rcode;            /* hdr.rcode | ext_rcode << 4 */
};

/*
 * Parses the whole packet pkt[0..len) into msg. Every pointer in msg lives in arena (reset it
 * after the reply). Returns 0, or ERR_PARSE with msg->fault saying why and msg->hdr/hdr_ok
 * filled as far as they could be read. Never reads outside pkt.
 */
int dns_msg_parse(const uint8_t *pkt, size_t len, struct dns_msg *msg, struct dns_arena *arena);
/* Static text for a fault ("compression loop", ...). */
const char *dns_fault_str(int fault);

/* ---- building ---- */

#define DNS_COMP_MAX 96 /* remembered name positions for compression */

struct dns_builder {
    struct dns_buf b;
    size_t limit;      /* current size limit (cap minus reserved space) */
    size_t reserved;   /* bytes kept back for a final OPT/TSIG (dns_builder_reserve) */
    uint16_t count[4]; /* records per section, written at finish */
    uint16_t ncomp;
    uint16_t comp_off[DNS_COMP_MAX]; /* positions of suffixes written uncompressed */
    uint8_t comp_len[DNS_COMP_MAX];  /* their decompressed length (a cheap filter) */
    bool tc;
    bool compress;
};

/* A saved state: dns_builder_rollback returns to it (to drop a partial RRset). */
struct dns_builder_mark {
    size_t pos;
    uint16_t count[4];
    uint16_t ncomp;
};

/* Starts a message in out[0..cap) limited to max bytes (max <= cap, both <= 65535): writes
 * hdr with zero counts (counts are filled at finish). Space reserved: none. */
void dns_builder_init(struct dns_builder *bld, uint8_t *out, size_t cap, size_t max,
                      const struct dns_header *hdr);
/* Keeps n bytes back from the limit (for an OPT or TSIG added last); n = 0 releases. */
void dns_builder_reserve(struct dns_builder *bld, size_t n);
/* Appends a question. 0, or ERR_LIMIT when it does not fit (nothing written). */
int dns_builder_question(struct dns_builder *bld, const uint8_t *qname, uint16_t qtype,
                         uint16_t qclass);
/*
 * Appends one record to a section (they must be added in section order). Names inside rdata
 * of RFC 1035 types are compressed. 0, or ERR_LIMIT when it does not fit (nothing written).
 */
int dns_builder_rr(struct dns_builder *bld, enum dns_section sec, const uint8_t *owner,
                   uint16_t type, uint16_t rclass, uint32_t ttl, const uint8_t *rdata,
                   size_t rdlen);
/* Appends the OPT record (RFC 6891 §6.1.2) in additional, with no options. Call after
 * releasing the reservation made for it. 0 or ERR_LIMIT. */
int dns_builder_opt(struct dns_builder *bld, uint16_t udp_size, uint8_t ext_rcode, uint8_t version,
                    bool do_bit);
void dns_builder_mark(const struct dns_builder *bld, struct dns_builder_mark *m);
void dns_builder_rollback(struct dns_builder *bld, const struct dns_builder_mark *m);
/* Sets TC in the header at finish. */
void dns_builder_set_tc(struct dns_builder *bld);
/* Sets the header's rcode bits (low 4 bits of rcode) in place. */
void dns_builder_set_rcode(struct dns_builder *bld, unsigned rcode);
/* Sets or clears AA in place. */
void dns_builder_set_aa(struct dns_builder *bld, bool aa);
/* Writes the section counts and returns the message length. */
size_t dns_builder_finish(struct dns_builder *bld);

#endif
