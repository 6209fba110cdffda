/* wire_build — message builder with name compression and a size limit. See wire.h. */
#include "dns/wire.h"

#include "core/err.h"
#include "dns/rr.h"

#include <string.h>

static inline uint8_t lc(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

void dns_builder_init(struct dns_builder *bld, uint8_t *out, size_t cap, size_t max,
                      const struct dns_header *hdr)
{
    memset(bld, 0, sizeof *bld);
    if (max > cap)
        max = cap;
    if (max > DNS_MSG_MAX)
        max = DNS_MSG_MAX;
    bld->limit = max;
    bld->compress = true;
    dns_buf_init_write(&bld->b, out, max);
    struct dns_header h = *hdr;
    h.qdcount = h.ancount = h.nscount = h.arcount = 0;
    if (max >= DNS_HEADER_LEN) {
        dns_header_write(&h, out);
        bld->b.pos = DNS_HEADER_LEN;
    } else {
        bld->b.err = ERR_RANGE;
    }
}

void dns_builder_reserve(struct dns_builder *bld, size_t n)
{
    size_t full = bld->limit + bld->reserved;
    if (n > full - bld->b.pos)
        n = full - bld->b.pos;
    bld->reserved = n;
    bld->limit = full - n;
    bld->b.lim = bld->limit;
}

void dns_builder_mark(const struct dns_builder *bld, struct dns_builder_mark *m)
{
    m->pos = bld->b.pos;
    memcpy(m->count, bld->count, sizeof m->count);
    m->ncomp = bld->ncomp;
}

void dns_builder_rollback(struct dns_builder *bld, const struct dns_builder_mark *m)
{
    bld->b.pos = m->pos;
    bld->b.err = 0;
    memcpy(bld->count, m->count, sizeof bld->count);
    bld->ncomp = m->ncomp;
}

/* Compares the (possibly compressed) name at out[off] with name, case-insensitively. */
static bool name_at_eq(const uint8_t *out, size_t end, size_t off, const uint8_t *name)
{
    for (int guard = 0; guard < 256; guard++) {
        if (off >= end)
            return false;
        uint8_t l = out[off];
        if ((l & 0xc0) == 0xc0) {
            off = (size_t)(l & 0x3f) << 8 | out[off + 1];
            continue;
        }
        if (l != *name)
            return false;
        if (l == 0)
            return true;
        for (unsigned i = 1; i <= l; i++)
            if (lc(out[off + i]) != lc(name[i]))
                return false;
        off += 1u + l;
        name += 1u + l;
    }
    return false;
}

/* Writes name, compressed against earlier names when compress is true; registers the
 * suffixes it writes in full as targets for later names. */
static void builder_name(struct dns_builder *bld, const uint8_t *name, bool compress)
{
    struct dns_buf *b = &bld->b;
    size_t total = dns_name_len(name);
    size_t off = 0, ptr = 0;
    bool found = false;
    if (compress && bld->compress) {
        for (off = 0; name[off]; off += 1u + name[off]) {
            size_t slen = total - off;
            for (unsigned j = 0; j < bld->ncomp && !found; j++) {
                if (bld->comp_len[j] == slen &&
                    name_at_eq(b->out, b->pos, bld->comp_off[j], name + off)) {
                    found = true;
                    ptr = bld->comp_off[j];
                }
            }
            if (found)
                break;
        }
    } else {
        off = total - 1;
    }
    /* labels before the match (or all of them), then a pointer or the root */
    size_t start = b->pos;
    dns_buf_put_bytes(b, name, off);
    if (found)
        dns_buf_put_u16(b, (uint16_t)(0xc000 | ptr));
    else
        dns_buf_put_u8(b, 0);
    if (b->err || !compress)
        return;
    for (size_t k = 0; k < off && bld->ncomp < DNS_COMP_MAX; k += 1u + name[k]) {
        if (start + k >= 0x4000)
            break;
        bld->comp_off[bld->ncomp] = (uint16_t)(start + k);
        bld->comp_len[bld->ncomp] = (uint8_t)(total - k);
        bld->ncomp++;
    }
}

int dns_builder_question(struct dns_builder *bld, const uint8_t *qname, uint16_t qtype,
                         uint16_t qclass)
{
    struct dns_builder_mark m;
    dns_builder_mark(bld, &m);
    builder_name(bld, qname, true);
    dns_buf_put_u16(&bld->b, qtype);
    dns_buf_put_u16(&bld->b, qclass);
    if (bld->b.err) {
        dns_builder_rollback(bld, &m);
        return ERR_LIMIT;
    }
    bld->count[DNS_SEC_QUESTION]++;
    return 0;
}

/* Rdata of a type whose names may be compressed, written field by field. */
static void builder_rdata_compressed(struct dns_builder *bld, const char *layout, const uint8_t *rd,
                                     size_t len)
{
    size_t pos = 0;
    for (const char *f = layout; *f && pos <= len; f++) {
        size_t k;
        switch (*f) {
        case 'N':
            builder_name(bld, rd + pos, true);
            pos += dns_name_len(rd + pos);
            continue;
        case '1':
            k = 1;
            break;
        case '2':
            k = 2;
            break;
        case '4':
        case 'T':
            k = 4;
            break;
        default:
            k = len - pos;
            break;
        }
        dns_buf_put_bytes(&bld->b, rd + pos, k);
        pos += k;
    }
}

int dns_builder_rr(struct dns_builder *bld, enum dns_section sec, const uint8_t *owner,
                   uint16_t type, uint16_t rclass, uint32_t ttl, const uint8_t *rdata, size_t rdlen)
{
    struct dns_builder_mark m;
    dns_builder_mark(bld, &m);
    struct dns_buf *b = &bld->b;
    builder_name(bld, owner, true);
    dns_buf_put_u16(b, type);
    dns_buf_put_u16(b, rclass);
    dns_buf_put_u32(b, ttl);
    size_t lenpos = b->pos;
    dns_buf_put_u16(b, 0);
    const struct dns_type_desc *d = dns_type_desc(type);
    size_t start = b->pos;
    /* RFC 3597 §4: compress only the well-known types; only checked rdata is walked. */
    if (d && (d->flags & DNS_TF_COMPRESS) && dns_rdata_check(type, rdata, rdlen) == 0)
        builder_rdata_compressed(bld, d->layout, rdata, rdlen);
    else
        dns_buf_put_bytes(b, rdata, rdlen);
    if (b->err || b->pos - start > 65535) {
        dns_builder_rollback(bld, &m);
        return ERR_LIMIT;
    }
    dns_buf_patch_u16(b, lenpos, (uint16_t)(b->pos - start));
    bld->count[sec]++;
    return 0;
}

int dns_builder_opt(struct dns_builder *bld, uint16_t udp_size, uint8_t ext_rcode, uint8_t version,
                    bool do_bit)
{
    uint32_t ttl = (uint32_t)ext_rcode << 24 | (uint32_t)version << 16 | (do_bit ? 0x8000u : 0);
    bool c = bld->compress;
    bld->compress = false;
    int rc = dns_builder_rr(bld, DNS_SEC_ADDITIONAL, (const uint8_t *)"", DNS_TYPE_OPT, udp_size,
                            ttl, NULL, 0);
    bld->compress = c;
    return rc;
}

void dns_builder_set_tc(struct dns_builder *bld)
{
    bld->tc = true;
}

void dns_builder_set_rcode(struct dns_builder *bld, unsigned rcode)
{
    if (bld->b.out && bld->b.pos >= DNS_HEADER_LEN)
        bld->b.out[3] = (uint8_t)((bld->b.out[3] & 0xf0) | (rcode & 0x0f));
}

void dns_builder_set_aa(struct dns_builder *bld, bool aa)
{
    if (bld->b.out && bld->b.pos >= DNS_HEADER_LEN)
        bld->b.out[2] = (uint8_t)((bld->b.out[2] & ~0x04) | (aa ? 0x04 : 0));
}

size_t dns_builder_finish(struct dns_builder *bld)
{
    uint8_t *out = bld->b.out;
    if (!out || bld->b.pos < DNS_HEADER_LEN)
        return 0;
    for (int i = 0; i < 4; i++) {
        out[4 + 2 * i] = (uint8_t)(bld->count[i] >> 8);
        out[5 + 2 * i] = (uint8_t)bld->count[i];
    }
    if (bld->tc)
        out[2] |= 0x02;
    return bld->b.pos;
}
