/*
 * rr — resource record types, classes, opcodes and rcodes: numbers <-> names, the layout of
 * each known type's rdata, and rdata <-> presentation text (RFC 1035 §5, RFC 3597 §5).
 *
 * Rdata handled here is always uncompressed wire form (names inside it are plain names; the
 * wire parser decompresses them first). Unknown types are opaque bytes shown as "\# len hex".
 * Pure: no I/O, no globals except const tables. Text output appends to a caller's struct str.
 */
#ifndef PIGEON_DNS_RR_H
#define PIGEON_DNS_RR_H

#include "core/str.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum dns_type {
    DNS_TYPE_A = 1,
    DNS_TYPE_NS = 2,
    DNS_TYPE_MD = 3,
    DNS_TYPE_MF = 4,
    DNS_TYPE_CNAME = 5,
    DNS_TYPE_SOA = 6,
    DNS_TYPE_MB = 7,
    DNS_TYPE_MG = 8,
    DNS_TYPE_MR = 9,
    DNS_TYPE_NULL = 10,
    DNS_TYPE_WKS = 11,
    DNS_TYPE_PTR = 12,
    DNS_TYPE_HINFO = 13,
    DNS_TYPE_MINFO = 14,
    DNS_TYPE_MX = 15,
    DNS_TYPE_TXT = 16,
    DNS_TYPE_RP = 17,
    DNS_TYPE_AFSDB = 18,
    DNS_TYPE_RT = 21,
    DNS_TYPE_SIG = 24,
    DNS_TYPE_PX = 26,
    DNS_TYPE_AAAA = 28,
    DNS_TYPE_NXT = 30,
    DNS_TYPE_SRV = 33,
    DNS_TYPE_NAPTR = 35,
    DNS_TYPE_KX = 36,
    DNS_TYPE_DNAME = 39,
    DNS_TYPE_OPT = 41,
    DNS_TYPE_DS = 43,
    DNS_TYPE_SSHFP = 44,
    DNS_TYPE_RRSIG = 46,
    DNS_TYPE_NSEC = 47,
    DNS_TYPE_DNSKEY = 48,
    DNS_TYPE_NSEC3 = 50,
    DNS_TYPE_NSEC3PARAM = 51,
    DNS_TYPE_TLSA = 52,
    DNS_TYPE_CDS = 59,
    DNS_TYPE_CDNSKEY = 60,
    DNS_TYPE_SPF = 99,
    DNS_TYPE_TKEY = 249,
    DNS_TYPE_TSIG = 250,
    DNS_TYPE_IXFR = 251,
    DNS_TYPE_AXFR = 252,
    DNS_TYPE_MAILB = 253,
    DNS_TYPE_MAILA = 254,
    DNS_TYPE_ANY = 255,
    DNS_TYPE_CAA = 257,
};

enum dns_class {
    DNS_CLASS_IN = 1,
    DNS_CLASS_CH = 3,
    DNS_CLASS_HS = 4,
    DNS_CLASS_NONE = 254,
    DNS_CLASS_ANY = 255
};

enum dns_opcode {
    DNS_OPCODE_QUERY = 0,
    DNS_OPCODE_IQUERY = 1,
    DNS_OPCODE_STATUS = 2,
    DNS_OPCODE_NOTIFY = 4,
    DNS_OPCODE_UPDATE = 5
};

/* Header rcodes (0..15) and extended ones (OPT/TSIG: up to 4095). */
enum dns_rcode {
    DNS_RCODE_NOERROR = 0,
    DNS_RCODE_FORMERR = 1,
    DNS_RCODE_SERVFAIL = 2,
    DNS_RCODE_NXDOMAIN = 3,
    DNS_RCODE_NOTIMP = 4,
    DNS_RCODE_REFUSED = 5,
    DNS_RCODE_YXDOMAIN = 6,
    DNS_RCODE_YXRRSET = 7,
    DNS_RCODE_NXRRSET = 8,
    DNS_RCODE_NOTAUTH = 9,
    DNS_RCODE_NOTZONE = 10,
    DNS_RCODE_BADVERS = 16, /* RFC 6891 §6.1.3 (BADSIG for TSIG, RFC 8945) */
    DNS_RCODE_BADKEY = 17,
    DNS_RCODE_BADTIME = 18,
};

/* Flags of a type descriptor. */
enum dns_type_flags {
    DNS_TF_COMPRESS = 1 << 0,   /* names in rdata may be compressed on output (RFC 3597 §4) */
    DNS_TF_DECOMPRESS = 1 << 1, /* names in rdata are decompressed on input (RFC 3597 §4) */
    DNS_TF_SINGLETON = 1 << 2,  /* at most one RR per RRset (SOA, CNAME, DNAME) */
    DNS_TF_META = 1 << 3,       /* OPT, TSIG, TKEY: never stored in a zone */
    DNS_TF_QTYPE = 1 << 4,      /* AXFR, IXFR, ANY, MAILA, MAILB: only in questions */
    DNS_TF_NOTEXT = 1 << 5,     /* known, but presentation only as "\#" (WKS, NULL, ...) */
};

/*
 * Rdata layout, one character per field:
 *   N name            1 u8       2 u16        4 u32      T u32 that may use TTL units (1h)
 *   a IPv4 (4 bytes)  6 IPv6 (16 bytes)
 *   s one <character-string>      S one or more <character-string>s up to the end
 *   x hex up to the end (may be empty)   b base64 up to the end (may be empty)
 *   y u16 RR type (mnemonic in text)      Z u32 time (RFC 4034 §3.2: YYYYMMDDHHmmSS in text)
 *   h u8 length + bytes, hex in text ("-" when empty: the NSEC3 salt)
 *   H u8 length (>= 1) + bytes, base32hex in text (RFC 4648 §7: NSEC3's next hashed owner)
 *   m type bitmap up to the end (RFC 4034 §4.1.2; may be empty), type mnemonics in text
 *   t CAA tag (u8 length + bytes, unquoted in text)   v rest as one quoted string (CAA value)
 *   r raw bytes only in "\#" form (anything after is not parsed)
 */
struct dns_type_desc {
    uint16_t type;
    const char *name;
    const char *layout;
    unsigned flags;
};

/* ---- numbers <-> names ---- */

/* The descriptor of a known type, or NULL. Static. */
const struct dns_type_desc *dns_type_desc(uint16_t type);
/* "A", "CAA", or the RFC 3597 "TYPE123" form written into buf (>= 16 bytes). Returns buf or
 * a static string. */
const char *dns_type_name(uint16_t type, char buf[16]);
/* Parses a type mnemonic or TYPEnnn, case-insensitive. 0 or ERR_PARSE. */
int dns_type_from_text(const char *s, size_t len, uint16_t *type_out);
/* "IN", "CH", "HS", "NONE", "ANY", or "CLASS123" in buf. */
const char *dns_class_name(uint16_t cls, char buf[16]);
/* Parses IN/CH/HS/NONE/ANY or CLASSnnn. 0 or ERR_PARSE. */
int dns_class_from_text(const char *s, size_t len, uint16_t *class_out);
/* "NOERROR", "NXDOMAIN", ..., or "RCODE123" in buf. */
const char *dns_rcode_name(unsigned rcode, char buf[16]);
/* "QUERY", "NOTIFY", "UPDATE", ..., or "OPCODE7" in buf. */
const char *dns_opcode_name(unsigned opcode, char buf[16]);
/* Parses a TTL: decimal seconds, or BIND-style units ("1w2d3h4m5s", case-insensitive).
 * Values above 2^32-1 give ERR_RANGE; anything else wrong ERR_PARSE. */
int dns_ttl_from_text(const char *s, size_t len, uint32_t *ttl_out);

/* ---- rdata layout ---- */

/*
 * Checks that rdata[0..len) matches the type's layout (names valid, lengths exact). Unknown
 * and raw types always pass. 0 or ERR_PARSE.
 */
int dns_rdata_check(uint16_t type, const uint8_t *rdata, size_t len);
/* Calls fn for each name inside a known type's rdata (offset of the name in rdata). The rdata
 * must have passed dns_rdata_check. Returns how many names there were. */
unsigned dns_rdata_names(uint16_t type, const uint8_t *rdata, size_t len,
                         void (*fn)(void *ctx, size_t off), void *ctx);
/* The name at the given field of a known type (MX exchange, NS/CNAME/PTR target, SRV target,
 * SOA mname): a pointer into rdata, or NULL when the type has no such target. Borrowed. */
const uint8_t *dns_rdata_target(uint16_t type, const uint8_t *rdata, size_t len);

/* ---- presentation text ---- */

/* A token of presentation input: raw text with escapes still in it, quotes removed. */
struct dns_token {
    const char *p;
    size_t len;
    bool quoted;
};

/*
 * Appends the presentation form of rdata to out ("10 mail.example.com.", "\"v=spf1 -all\"").
 * Unknown, raw or malformed rdata is written as "\# len hex" (RFC 3597 §5). Never fails.
 */
void dns_rdata_to_text(uint16_t type, const uint8_t *rdata, size_t len, struct str *out);
/*
 * Parses the rdata tokens of one record (after the type) into out[0..cap) (cap >= 65535 is
 * always enough). Relative names get origin appended. Accepts "\# len hex" for every type.
 * Returns 0 with *len_out, or ERR_PARSE/ERR_RANGE with a static reason in *err_out.
 */
int dns_rdata_from_text(uint16_t type, const struct dns_token *tok, size_t ntok,
                        const uint8_t *origin, uint8_t *out, size_t cap, size_t *len_out,
                        const char **err_out);

/* RFC 4034 §3.2 signature times: writes YYYYMMDDHHmmSS (UTC) and a NUL into out. */
void dns_time_to_text(uint32_t t, char out[15]);
/* Parses YYYYMMDDHHmmSS, or 1..10 digits of plain seconds. 0, ERR_PARSE or ERR_RANGE. */
int dns_time_from_text(const char *p, size_t len, uint32_t *out);

/* ---- SOA serial arithmetic (RFC 1982, SERIAL_BITS = 32) ---- */

/* -1 if a < b, 0 if equal, 1 if a > b, 2 when undefined (a and b exactly 2^31 apart). */
int dns_serial_cmp(uint32_t a, uint32_t b);
/* a + n with 0 <= n <= 2^31-1 (RFC 1982 §3.1). */
uint32_t dns_serial_add(uint32_t a, uint32_t n);
/* The SOA's serial at offset (rdata must be a checked SOA). */
uint32_t dns_soa_serial(const uint8_t *rdata, size_t len);
/* The SOA's minimum field (the last u32). */
uint32_t dns_soa_minimum(const uint8_t *rdata, size_t len);

#endif
