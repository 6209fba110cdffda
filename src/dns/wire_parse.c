/* wire_parse — the sticky-error buffer and the message parser. See wire.h. */
#include "dns/wire.h"

#include "core/err.h"
#include "dns/rr.h"

#include <string.h>

/* ---- buffer ---- */

void dns_buf_init_read(struct dns_buf *b, const uint8_t *data, size_t len)
{
    b->data = data;
    b->out = NULL;
    b->pos = 0;
    b->lim = len;
    b->err = 0;
}

void dns_buf_init_write(struct dns_buf *b, uint8_t *out, size_t cap)
{
    b->data = out;
    b->out = out;
    b->pos = 0;
    b->lim = cap;
    b->err = 0;
}

static bool buf_need(struct dns_buf *b, size_t n)
{
    if (b->err || n > b->lim - b->pos) {
        b->err = ERR_RANGE;
        return false;
    }
    return true;
}

uint8_t dns_buf_get_u8(struct dns_buf *b)
{
    if (!buf_need(b, 1))
        return 0;
    return b->data[b->pos++];
}

uint16_t dns_buf_get_u16(struct dns_buf *b)
{
    if (!buf_need(b, 2))
        return 0;
    uint16_t v = (uint16_t)(b->data[b->pos] << 8 | b->data[b->pos + 1]);
    b->pos += 2;
    return v;
}

uint32_t dns_buf_get_u32(struct dns_buf *b)
{
    if (!buf_need(b, 4))
        return 0;
    const uint8_t *p = b->data + b->pos;
    b->pos += 4;
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

const uint8_t *dns_buf_get_ptr(struct dns_buf *b, size_t n)
{
    if (!buf_need(b, n))
        return NULL;
    const uint8_t *p = b->data + b->pos;
    b->pos += n;
    return p;
}

static bool buf_wneed(struct dns_buf *b, size_t n)
{
    if (!b->out) {
        b->err = ERR_RANGE;
        return false;
    }
    return buf_need(b, n);
}

void dns_buf_put_u8(struct dns_buf *b, uint8_t v)
{
    if (buf_wneed(b, 1))
        b->out[b->pos++] = v;
}

void dns_buf_put_u16(struct dns_buf *b, uint16_t v)
{
    if (!buf_wneed(b, 2))
        return;
    b->out[b->pos] = (uint8_t)(v >> 8);
    b->out[b->pos + 1] = (uint8_t)v;
    b->pos += 2;
}

void dns_buf_put_u32(struct dns_buf *b, uint32_t v)
{
    if (!buf_wneed(b, 4))
        return;
    uint8_t *p = b->out + b->pos;
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    b->pos += 4;
}

void dns_buf_put_bytes(struct dns_buf *b, const void *p, size_t n)
{
    if (n && buf_wneed(b, n)) {
        memcpy(b->out + b->pos, p, n);
        b->pos += n;
    }
}

void dns_buf_patch_u16(struct dns_buf *b, size_t off, uint16_t v)
{
    if (b->err || !b->out || off + 2 > b->pos)
        return;
    b->out[off] = (uint8_t)(v >> 8);
    b->out[off + 1] = (uint8_t)v;
}

static int name_fail(struct dns_buf *b, enum dns_fault f, enum dns_fault *fault_out)
{
    b->err = ERR_PARSE;
    if (fault_out)
        *fault_out = f;
    return ERR_PARSE;
}

int dns_buf_get_name(struct dns_buf *b, uint8_t *out, size_t *len_out, enum dns_fault *fault_out)
{
    if (b->err)
        return name_fail(b, DNS_FAULT_TRUNCATED, fault_out);
    size_t run_start = b->pos; /* start of the current run of labels */
    size_t pos = run_start;    /* read position in the packet */
    size_t end = 0;            /* where the name ends in place (set at the first pointer) */
    size_t n = 0;              /* bytes written to out */
    for (;;) {
        if (pos >= b->lim)
            return name_fail(b, DNS_FAULT_TRUNCATED, fault_out);
        uint8_t l = b->data[pos];
        if ((l & 0xc0) == 0xc0) {
            if (pos + 1 >= b->lim)
                return name_fail(b, DNS_FAULT_TRUNCATED, fault_out);
            size_t target = (size_t)(l & 0x3f) << 8 | b->data[pos + 1];
            /* RFC 1035 §4.1.4 points to a prior occurrence: require strictly decreasing
             * targets, which rules out every loop. */
            if (target >= run_start)
                return name_fail(b, target > pos ? DNS_FAULT_PTR_FORWARD : DNS_FAULT_PTR_LOOP,
                                 fault_out);
            if (!end)
                end = pos + 2;
            pos = run_start = target;
            continue;
        }
        if (l > DNS_LABEL_MAXLEN)
            return name_fail(b, DNS_FAULT_LABEL_LONG, fault_out);
        if (n + 1u + l > DNS_NAME_MAXLEN)
            return name_fail(b, DNS_FAULT_NAME_LONG, fault_out);
        if (l >= b->lim - pos)
            return name_fail(b, DNS_FAULT_TRUNCATED, fault_out);
        memcpy(out + n, b->data + pos, 1u + l);
        n += 1u + l;
        pos += 1u + l;
        if (l == 0)
            break;
    }
    b->pos = end ? end : pos;
    *len_out = n;
    return 0;
}

/* ---- header ---- */

int dns_header_read(const uint8_t *pkt, size_t len, struct dns_header *h)
{
    if (len < DNS_HEADER_LEN)
        return ERR_PARSE;
    h->id = (uint16_t)(pkt[0] << 8 | pkt[1]);
    h->qr = pkt[2] & 0x80;
    h->opcode = (pkt[2] >> 3) & 0x0f;
    h->aa = pkt[2] & 0x04;
    h->tc = pkt[2] & 0x02;
    h->rd = pkt[2] & 0x01;
    h->ra = pkt[3] & 0x80;
    h->z = pkt[3] & 0x40;
    h->ad = pkt[3] & 0x20;
    h->cd = pkt[3] & 0x10;
    h->rcode = pkt[3] & 0x0f;
    h->qdcount = (uint16_t)(pkt[4] << 8 | pkt[5]);
    h->ancount = (uint16_t)(pkt[6] << 8 | pkt[7]);
    h->nscount = (uint16_t)(pkt[8] << 8 | pkt[9]);
    h->arcount = (uint16_t)(pkt[10] << 8 | pkt[11]);
    return 0;
}

void dns_header_write(const struct dns_header *h, uint8_t out[DNS_HEADER_LEN])
{
    out[0] = (uint8_t)(h->id >> 8);
    out[1] = (uint8_t)h->id;
    out[2] = (uint8_t)((h->qr ? 0x80 : 0) | (h->opcode & 0x0f) << 3 | (h->aa ? 0x04 : 0) |
                       (h->tc ? 0x02 : 0) | (h->rd ? 0x01 : 0));
    out[3] = (uint8_t)((h->ra ? 0x80 : 0) | (h->z ? 0x40 : 0) | (h->ad ? 0x20 : 0) |
                       (h->cd ? 0x10 : 0) | (h->rcode & 0x0f));
    uint16_t c[4] = {h->qdcount, h->ancount, h->nscount, h->arcount};
    for (int i = 0; i < 4; i++) {
        out[4 + 2 * i] = (uint8_t)(c[i] >> 8);
        out[5 + 2 * i] = (uint8_t)c[i];
    }
}

/* ---- message ---- */

const char *dns_fault_str(int fault)
{
    switch (fault) {
    case DNS_FAULT_NONE:
        return "no error";
    case DNS_FAULT_HEADER:
        return "packet shorter than the header";
    case DNS_FAULT_TRUNCATED:
        return "record runs past the end of the packet";
    case DNS_FAULT_PTR_LOOP:
        return "compression pointer loop";
    case DNS_FAULT_PTR_FORWARD:
        return "forward compression pointer";
    case DNS_FAULT_LABEL_LONG:
        return "label longer than 63 bytes";
    case DNS_FAULT_NAME_LONG:
        return "name longer than 255 bytes";
    case DNS_FAULT_RDATA:
        return "rdata does not match its type";
    case DNS_FAULT_OPT:
        return "misplaced or malformed OPT record";
    case DNS_FAULT_TSIG:
        return "TSIG record not last";
    case DNS_FAULT_TRAILING:
        return "bytes after the last record";
    default:
        return "malformed packet";
    }
}

struct parse_ctx {
    struct dns_buf b;
    struct dns_msg *msg;
    struct dns_arena *arena;
    enum dns_fault fault;
};

static int parse_fail(struct parse_ctx *pc, enum dns_fault f)
{
    if (pc->fault == DNS_FAULT_NONE)
        pc->fault = f;
    return ERR_PARSE;
}

static int parse_name(struct parse_ctx *pc, const uint8_t **name_out)
{
    uint8_t tmp[DNS_NAME_MAXLEN];
    size_t n;
    enum dns_fault f = DNS_FAULT_TRUNCATED;
    if (dns_buf_get_name(&pc->b, tmp, &n, &f) != 0)
        return parse_fail(pc, f);
    *name_out = dns_arena_dup(pc->arena, tmp, n);
    return 0;
}

/* Copies rdata of a type with compressible names, decompressing them along its layout. */
static int parse_rdata_names(struct parse_ctx *pc, const char *layout, size_t end,
                             struct dns_rr *rr)
{
    /* Decompression can only grow names to 255 bytes each; layouts hold at most 2 names. */
    uint8_t out[2 * DNS_NAME_MAXLEN + 1024];
    size_t n = 0;
    struct dns_buf *b = &pc->b;
    struct dns_buf lim = *b;
    lim.lim = end; /* fixed fields may not run past the rdata */
    for (const char *f = layout; *f; f++) {
        size_t k = 0;
        if (*f == 'N') {
            size_t nl;
            enum dns_fault fault = DNS_FAULT_RDATA;
            if (dns_buf_get_name(&lim, out + n, &nl, &fault) != 0)
                return parse_fail(pc, fault == DNS_FAULT_TRUNCATED ? DNS_FAULT_RDATA : fault);
            n += nl;
            continue;
        }
        switch (*f) {
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
        case 's':
            k = lim.pos < end ? 1u + lim.data[lim.pos] : 1;
            break;
        default:
            return parse_fail(pc, DNS_FAULT_RDATA);
        }
        const uint8_t *p = dns_buf_get_ptr(&lim, k);
        if (!p || n + k > sizeof out)
            return parse_fail(pc, DNS_FAULT_RDATA);
        memcpy(out + n, p, k);
        n += k;
    }
    if (lim.pos != end)
        return parse_fail(pc, DNS_FAULT_RDATA);
    if (n > 65535)
        return parse_fail(pc, DNS_FAULT_RDATA);
    b->pos = end;
    rr->rdlen = (uint16_t)n;
    rr->rdata = dns_arena_dup(pc->arena, out, n);
    return 0;
}

static int parse_rdata(struct parse_ctx *pc, struct dns_rr *rr, uint16_t rdlen)
{
    if (rdlen > dns_buf_left(&pc->b))
        return parse_fail(pc, DNS_FAULT_TRUNCATED);
    if (rdlen == 0 && pc->msg->hdr.opcode == DNS_OPCODE_UPDATE) {
        /* RFC 2136 §2.4-2.5: class ANY/NONE prerequisites and deletions carry no rdata, of
         * any type; dns_update_apply decides which empty records make sense. */
        rr->rdlen = 0;
        rr->rdata = (const uint8_t *)"";
        return 0;
    }
    const struct dns_type_desc *d = dns_type_desc(rr->type);
    if (d && (d->flags & DNS_TF_DECOMPRESS))
        return parse_rdata_names(pc, d->layout, pc->b.pos + rdlen, rr);
    const uint8_t *p = dns_buf_get_ptr(&pc->b, rdlen);
    if (!p)
        return parse_fail(pc, DNS_FAULT_TRUNCATED);
    /* RFC 6891 §6.1.1 says OPT's class is the UDP size: no layout check for meta types. */
    if (d && !(d->flags & (DNS_TF_META | DNS_TF_QTYPE)) && dns_rdata_check(rr->type, p, rdlen))
        return parse_fail(pc, DNS_FAULT_RDATA);
    rr->rdlen = rdlen;
    rr->rdata = dns_arena_dup(pc->arena, p, rdlen);
    return 0;
}

/* RFC 6891 §6.1.2: one OPT, owned by the root, options well framed. */
static int parse_opt(struct parse_ctx *pc, const struct dns_rr *rr)
{
    struct dns_edns *e = &pc->msg->edns;
    if (e->present || rr->owner[0] != 0)
        return parse_fail(pc, DNS_FAULT_OPT);
    for (size_t p = 0; p < rr->rdlen;) {
        if (rr->rdlen - p < 4)
            return parse_fail(pc, DNS_FAULT_OPT);
        size_t olen = (size_t)(rr->rdata[p + 2] << 8 | rr->rdata[p + 3]);
        if (olen > rr->rdlen - p - 4)
            return parse_fail(pc, DNS_FAULT_OPT);
        p += 4 + olen;
    }
    e->present = true;
    e->udp_size = rr->rclass;
    e->ext_rcode = (uint8_t)(rr->ttl >> 24);
    e->version = (uint8_t)(rr->ttl >> 16);
    e->flags = (uint16_t)rr->ttl;
    e->do_bit = rr->ttl & 0x8000;
    e->opts = rr->rdata;
    e->opts_len = rr->rdlen;
    return 0;
}

/* Parses one record of section sec (index i of count); OPT and TSIG go aside. */
static int parse_rr(struct parse_ctx *pc, int sec, unsigned i, unsigned count)
{
    struct dns_msg *msg = pc->msg;
    struct dns_rr rr;
    size_t start = pc->b.pos;
    if (parse_name(pc, &rr.owner) != 0)
        return ERR_PARSE;
    rr.type = dns_buf_get_u16(&pc->b);
    rr.rclass = dns_buf_get_u16(&pc->b);
    rr.ttl = dns_buf_get_u32(&pc->b);
    uint16_t rdlen = dns_buf_get_u16(&pc->b);
    if (pc->b.err)
        return parse_fail(pc, DNS_FAULT_TRUNCATED);
    if (parse_rdata(pc, &rr, rdlen) != 0)
        return ERR_PARSE;
    if (rr.type == DNS_TYPE_OPT) {
        if (sec != DNS_SEC_ADDITIONAL)
            return parse_fail(pc, DNS_FAULT_OPT);
        return parse_opt(pc, &rr);
    }
    if (rr.type == DNS_TYPE_TSIG) {
        /* RFC 8945 §5.1: the TSIG record is the last one of the additional section. */
        if (sec != DNS_SEC_ADDITIONAL || i + 1 != count || msg->tsig)
            return parse_fail(pc, DNS_FAULT_TSIG);
        struct dns_rr *t = dns_arena_dup(pc->arena, &rr, sizeof rr);
        msg->tsig = t;
        msg->tsig_off = start;
        return 0;
    }
    int k = sec - 1;
    msg->rr[k][msg->count[k]++] = rr;
    return 0;
}

static int parse_question(struct parse_ctx *pc)
{
    struct dns_msg *msg = pc->msg;
    for (unsigned i = 0; i < msg->hdr.qdcount; i++) {
        struct dns_question *q = &msg->qd[i];
        if (parse_name(pc, &q->qname) != 0)
            return ERR_PARSE;
        q->qtype = dns_buf_get_u16(&pc->b);
        q->qclass = dns_buf_get_u16(&pc->b);
        if (pc->b.err)
            return parse_fail(pc, DNS_FAULT_TRUNCATED);
    }
    msg->question_end = pc->b.pos;
    return 0;
}

int dns_msg_parse(const uint8_t *pkt, size_t len, struct dns_msg *msg, struct dns_arena *arena)
{
    memset(msg, 0, sizeof *msg);
    if (dns_header_read(pkt, len, &msg->hdr) != 0) {
        msg->fault = DNS_FAULT_HEADER;
        return ERR_PARSE;
    }
    msg->hdr_ok = true;
    msg->rcode = msg->hdr.rcode;
    struct parse_ctx pc = {.msg = msg, .arena = arena, .fault = DNS_FAULT_NONE};
    dns_buf_init_read(&pc.b, pkt, len);
    pc.b.pos = DNS_HEADER_LEN;
    const struct dns_header *h = &msg->hdr;
    /* A question takes >= 5 bytes, a record >= 11: refuse impossible counts before
     * allocating for them. */
    size_t need = (size_t)h->qdcount * 5 + ((size_t)h->ancount + h->nscount + h->arcount) * 11;
    if (need > len - DNS_HEADER_LEN) {
        msg->fault = DNS_FAULT_TRUNCATED;
        return ERR_PARSE;
    }
    msg->qd = dns_arena_alloc(arena, (size_t)h->qdcount * sizeof *msg->qd);
    uint16_t counts[3] = {h->ancount, h->nscount, h->arcount};
    for (int k = 0; k < 3; k++)
        msg->rr[k] = dns_arena_alloc(arena, (size_t)counts[k] * sizeof *msg->rr[k]);
    int rc = parse_question(&pc);
    for (int k = 0; k < 3 && rc == 0; k++)
        for (unsigned i = 0; i < counts[k] && rc == 0; i++)
            rc = parse_rr(&pc, k + 1, i, counts[k]);
    if (rc == 0 && pc.b.pos != len)
        rc = parse_fail(&pc, DNS_FAULT_TRAILING);
    if (rc != 0) {
        msg->fault = pc.fault;
        return ERR_PARSE;
    }
    msg->rcode = (unsigned)msg->hdr.rcode | (unsigned)msg->edns.ext_rcode << 4;
    return 0;
}
