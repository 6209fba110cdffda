/* rr — type/class tables, rdata layout checks, serial arithmetic. Text forms: rr_text.c. */
#include "dns/rr.h"

#include "core/err.h"
#include "dns/name.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define C DNS_TF_COMPRESS
#define D DNS_TF_DECOMPRESS
#define S1 DNS_TF_SINGLETON

/* Sorted by type number (dns_type_desc does a binary search). */
static const struct dns_type_desc type_table[] = {
    {DNS_TYPE_A, "A", "a", 0},
    {DNS_TYPE_NS, "NS", "N", C | D},
    {DNS_TYPE_MD, "MD", "N", C | D},
    {DNS_TYPE_MF, "MF", "N", C | D},
    {DNS_TYPE_CNAME, "CNAME", "N", C | D | S1},
    {DNS_TYPE_SOA, "SOA", "NN4TTTT", C | D | S1},
    {DNS_TYPE_MB, "MB", "N", C | D},
    {DNS_TYPE_MG, "MG", "N", C | D},
    {DNS_TYPE_MR, "MR", "N", C | D},
    {DNS_TYPE_NULL, "NULL", "r", DNS_TF_NOTEXT},
    {DNS_TYPE_WKS, "WKS", "r", DNS_TF_NOTEXT},
    {DNS_TYPE_PTR, "PTR", "N", C | D},
    {DNS_TYPE_HINFO, "HINFO", "ss", 0},
    {DNS_TYPE_MINFO, "MINFO", "NN", C | D},
    {DNS_TYPE_MX, "MX", "2N", C | D},
    {DNS_TYPE_TXT, "TXT", "S", 0},
    {DNS_TYPE_RP, "RP", "NN", D},
    {DNS_TYPE_AFSDB, "AFSDB", "2N", D},
    {DNS_TYPE_RT, "RT", "2N", D},
    {DNS_TYPE_SIG, "SIG", "r", DNS_TF_NOTEXT},
    {DNS_TYPE_PX, "PX", "2NN", D},
    {DNS_TYPE_AAAA, "AAAA", "6", 0},
    {DNS_TYPE_NXT, "NXT", "r", DNS_TF_NOTEXT},
    {DNS_TYPE_SRV, "SRV", "222N", D},
    {DNS_TYPE_NAPTR, "NAPTR", "22sssN", D},
    {DNS_TYPE_KX, "KX", "2N", D},
    {DNS_TYPE_DNAME, "DNAME", "N", D | S1},
    {DNS_TYPE_OPT, "OPT", "r", DNS_TF_META | DNS_TF_NOTEXT},
    {DNS_TYPE_DS, "DS", "211x", 0},
    {DNS_TYPE_SSHFP, "SSHFP", "11x", 0},
    /* RFC 4034 §3.1.7, §4.1.1, RFC 6840 §5.1: the names in RRSIG and NSEC are never
     * compressed and keep their case in canonical form (no D flag). */
    {DNS_TYPE_RRSIG, "RRSIG", "y114ZZ2Nb", 0},
    {DNS_TYPE_NSEC, "NSEC", "Nm", 0},
    {DNS_TYPE_DNSKEY, "DNSKEY", "211b", 0},
    {DNS_TYPE_NSEC3, "NSEC3", "112hHm", 0},
    {DNS_TYPE_NSEC3PARAM, "NSEC3PARAM", "112h", 0},
    {DNS_TYPE_TLSA, "TLSA", "111x", 0},
    {DNS_TYPE_CDS, "CDS", "211x", 0},
    {DNS_TYPE_CDNSKEY, "CDNSKEY", "211b", 0},
    {DNS_TYPE_SPF, "SPF", "S", 0},
    {DNS_TYPE_TKEY, "TKEY", "r", DNS_TF_META | DNS_TF_NOTEXT},
    {DNS_TYPE_TSIG, "TSIG", "r", DNS_TF_META | DNS_TF_NOTEXT},
    {DNS_TYPE_IXFR, "IXFR", "r", DNS_TF_QTYPE | DNS_TF_NOTEXT},
    {DNS_TYPE_AXFR, "AXFR", "r", DNS_TF_QTYPE | DNS_TF_NOTEXT},
    {DNS_TYPE_MAILB, "MAILB", "r", DNS_TF_QTYPE | DNS_TF_NOTEXT},
    {DNS_TYPE_MAILA, "MAILA", "r", DNS_TF_QTYPE | DNS_TF_NOTEXT},
    {DNS_TYPE_ANY, "ANY", "r", DNS_TF_QTYPE | DNS_TF_NOTEXT},
    {DNS_TYPE_CAA, "CAA", "1tv", 0},
};

#undef C
#undef D
#undef S1

#define NTYPES (sizeof type_table / sizeof type_table[0])

const struct dns_type_desc *dns_type_desc(uint16_t type)
{
    size_t lo = 0, hi = NTYPES;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (type_table[mid].type == type)
            return &type_table[mid];
        if (type_table[mid].type < type)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const char *dns_type_name(uint16_t type, char buf[16])
{
    const struct dns_type_desc *d = dns_type_desc(type);
    if (d)
        return d->name;
    snprintf(buf, 16, "TYPE%u", (unsigned)type);
    return buf;
}

/* Parses "<prefix>NNN" (RFC 3597 §5) into a u16. */
static int generic_number(const char *s, size_t len, const char *prefix, uint16_t *out)
{
    size_t pl = strlen(prefix);
    if (len <= pl || len > pl + 5 || strncasecmp(s, prefix, pl) != 0)
        return ERR_PARSE;
    unsigned v = 0;
    for (size_t i = pl; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return ERR_PARSE;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > 65535)
        return ERR_PARSE;
    *out = (uint16_t)v;
    return 0;
}

int dns_type_from_text(const char *s, size_t len, uint16_t *type_out)
{
    for (size_t i = 0; i < NTYPES; i++) {
        const char *n = type_table[i].name;
        if (strlen(n) == len && strncasecmp(s, n, len) == 0) {
            *type_out = type_table[i].type;
            return 0;
        }
    }
    return generic_number(s, len, "TYPE", type_out);
}

static const struct {
    uint16_t cls;
    const char *name;
} class_table[] = {
    {DNS_CLASS_IN, "IN"},     {DNS_CLASS_CH, "CH"},   {DNS_CLASS_HS, "HS"},
    {DNS_CLASS_NONE, "NONE"}, {DNS_CLASS_ANY, "ANY"},
};

const char *dns_class_name(uint16_t cls, char buf[16])
{
    for (size_t i = 0; i < sizeof class_table / sizeof class_table[0]; i++)
        if (class_table[i].cls == cls)
            return class_table[i].name;
    snprintf(buf, 16, "CLASS%u", (unsigned)cls);
    return buf;
}

int dns_class_from_text(const char *s, size_t len, uint16_t *class_out)
{
    for (size_t i = 0; i < sizeof class_table / sizeof class_table[0]; i++) {
        const char *n = class_table[i].name;
        if (strlen(n) == len && strncasecmp(s, n, len) == 0) {
            *class_out = class_table[i].cls;
            return 0;
        }
    }
    if (len == 5 && strncasecmp(s, "CHAOS", 5) == 0) {
        *class_out = DNS_CLASS_CH;
        return 0;
    }
    return generic_number(s, len, "CLASS", class_out);
}

static const char *const rcode_names[] = {
    "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",  "REFUSED", "YXDOMAIN",
    "YXRRSET", "NXRRSET", "NOTAUTH",  "NOTZONE",  NULL,      NULL,      NULL,
    NULL,      NULL,      "BADVERS",  "BADKEY",   "BADTIME",
};

const char *dns_rcode_name(unsigned rcode, char buf[16])
{
    if (rcode < sizeof rcode_names / sizeof rcode_names[0] && rcode_names[rcode])
        return rcode_names[rcode];
    snprintf(buf, 16, "RCODE%u", rcode);
    return buf;
}

const char *dns_opcode_name(unsigned opcode, char buf[16])
{
    static const char *const names[] = {"QUERY", "IQUERY", "STATUS", NULL, "NOTIFY", "UPDATE"};
    if (opcode < sizeof names / sizeof names[0] && names[opcode])
        return names[opcode];
    snprintf(buf, 16, "OPCODE%u", opcode);
    return buf;
}

static int ttl_unit(char c, uint64_t *mult)
{
    switch (c | 0x20) {
    case 'w':
        *mult = 604800;
        return 0;
    case 'd':
        *mult = 86400;
        return 0;
    case 'h':
        *mult = 3600;
        return 0;
    case 'm':
        *mult = 60;
        return 0;
    case 's':
        *mult = 1;
        return 0;
    default:
        return ERR_PARSE;
    }
}

int dns_ttl_from_text(const char *s, size_t len, uint32_t *ttl_out)
{
    if (len == 0 || s[0] < '0' || s[0] > '9')
        return ERR_PARSE;
    uint64_t total = 0, cur = 0;
    bool digits = false, units = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9') {
            cur = cur * 10 + (uint64_t)(c - '0');
            if (cur > 0xffffffffu)
                return ERR_RANGE;
            digits = true;
            continue;
        }
        uint64_t mult;
        if (!digits || ttl_unit(c, &mult) != 0)
            return ERR_PARSE;
        total += cur * mult;
        if (total > 0xffffffffu)
            return ERR_RANGE;
        cur = 0;
        digits = false;
        units = true;
    }
    if (digits) {
        if (units)
            return ERR_PARSE; /* "1h30": BIND wants a unit after every number once one is used */
        total += cur;
    }
    if (total > 0xffffffffu)
        return ERR_RANGE;
    *ttl_out = (uint32_t)total;
    return 0;
}

/* RFC 4034 §4.1.2: windows in increasing order, each 1..32 octets, no trailing zero octet.
 * 0 or -1. */
static int bitmap_check(const uint8_t *p, size_t len)
{
    int last = -1;
    size_t pos = 0;
    while (pos < len) {
        if (len - pos < 2 || (int)p[pos] <= last || p[pos + 1] == 0 || p[pos + 1] > 32 ||
            p[pos + 1] > len - pos - 2 || p[pos + 1 + p[pos + 1]] == 0)
            return -1;
        last = p[pos];
        pos += 2u + p[pos + 1];
    }
    return 0;
}

/* Walks rdata along the type's layout. fn (may be NULL) sees each name's offset.
 * Returns the number of names, or -1 when the rdata does not match. */
static int rdata_walk(const char *layout, const uint8_t *rd, size_t len,
                      void (*fn)(void *ctx, size_t off), void *ctx)
{
    size_t pos = 0;
    int names = 0;
    for (const char *f = layout; *f; f++) {
        size_t n = 0;
        switch (*f) {
        case 'N':
            if (dns_name_check(rd + pos, len - pos, &n) != 0)
                return -1;
            if (fn)
                fn(ctx, pos);
            names++;
            break;
        case '1':
            n = 1;
            break;
        case '2':
        case 'y':
            n = 2;
            break;
        case '4':
        case 'T':
        case 'Z':
        case 'a':
            n = 4;
            break;
        case '6':
            n = 16;
            break;
        case 's':
        case 't':
        case 'h':
        case 'H':
            if (pos >= len)
                return -1;
            n = 1u + rd[pos];
            if ((*f == 't' || *f == 'H') && n == 1)
                return -1; /* RFC 8659 §4.1: the tag is not empty; RFC 5155 §3.2: nor the hash */
            break;
        case 'm':
            if (bitmap_check(rd + pos, len - pos) != 0)
                return -1;
            pos = len;
            break;
        case 'S':
            if (pos >= len)
                return -1; /* at least one string */
            while (pos < len) {
                if (pos + 1u + rd[pos] > len)
                    return -1;
                pos += 1u + rd[pos];
            }
            break;
        case 'x':
        case 'v':
        case 'r':
        case 'b':
            pos = len;
            break;
        default:
            return -1;
        }
        if (n > len - pos)
            return -1;
        pos += n;
    }
    return pos == len ? names : -1;
}

int dns_rdata_check(uint16_t type, const uint8_t *rdata, size_t len)
{
    const struct dns_type_desc *d = dns_type_desc(type);
    if (!d)
        return 0;
    return rdata_walk(d->layout, rdata, len, NULL, NULL) < 0 ? ERR_PARSE : 0;
}

unsigned dns_rdata_names(uint16_t type, const uint8_t *rdata, size_t len,
                         void (*fn)(void *ctx, size_t off), void *ctx)
{
    const struct dns_type_desc *d = dns_type_desc(type);
    if (!d || !strchr(d->layout, 'N'))
        return 0;
    int n = rdata_walk(d->layout, rdata, len, fn, ctx);
    return n < 0 ? 0 : (unsigned)n;
}

const uint8_t *dns_rdata_target(uint16_t type, const uint8_t *rdata, size_t len)
{
    switch (type) {
    case DNS_TYPE_NS:
    case DNS_TYPE_CNAME:
    case DNS_TYPE_PTR:
    case DNS_TYPE_SOA:
    case DNS_TYPE_DNAME:
        return len >= 1 ? rdata : NULL;
    case DNS_TYPE_MX:
    case DNS_TYPE_KX:
    case DNS_TYPE_AFSDB:
    case DNS_TYPE_RT:
        return len >= 3 ? rdata + 2 : NULL;
    case DNS_TYPE_SRV:
        return len >= 7 ? rdata + 6 : NULL;
    default:
        return NULL;
    }
}

int dns_serial_cmp(uint32_t a, uint32_t b)
{
    if (a == b)
        return 0;
    uint32_t d = b - a; /* modulo 2^32 */
    if (d == 0x80000000u)
        return 2;
    return d < 0x80000000u ? -1 : 1;
}

uint32_t dns_serial_add(uint32_t a, uint32_t n)
{
    return a + (n & 0x7fffffffu);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

uint32_t dns_soa_serial(const uint8_t *rdata, size_t len)
{
    return len >= 20 ? get32(rdata + len - 20) : 0;
}

uint32_t dns_soa_minimum(const uint8_t *rdata, size_t len)
{
    return len >= 20 ? get32(rdata + len - 4) : 0;
}
