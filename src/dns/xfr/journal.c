/* journal — difference entries on disk and zone dumps. See journal.h. */
#include "dns/xfr/journal.h"

#include "core/err.h"
#include "core/xmalloc.h"
#include "dns/name.h"
#include "dns/print.h"
#include "dns/rr.h"
#include "dns/wire.h"
#include "dns/zone.h"

#include <stdlib.h>
#include <string.h>

static uint32_t fnv1a(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h;
}

static void put_u32(struct str *out, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    str_append(out, b, 4);
}

static void put_rr(struct str *out, const struct dns_xrr *r)
{
    str_append(out, r->owner, dns_name_len(r->owner));
    uint8_t b[8] = {(uint8_t)(r->type >> 8),  (uint8_t)r->type,       (uint8_t)(r->ttl >> 24),
                    (uint8_t)(r->ttl >> 16),  (uint8_t)(r->ttl >> 8), (uint8_t)r->ttl,
                    (uint8_t)(r->rdlen >> 8), (uint8_t)r->rdlen};
    str_append(out, b, 8);
    str_append(out, r->rdata, r->rdlen);
}

void dns_journal_header(struct str *out)
{
    str_append(out, DNS_JOURNAL_MAGIC, DNS_JOURNAL_MAGIC_LEN);
}

void dns_journal_encode(const struct dns_zdiff *d, struct str *out)
{
    size_t start = out->len;
    put_u32(out, 0); /* length and checksum, patched below */
    put_u32(out, 0);
    put_u32(out, d->from);
    put_u32(out, d->to);
    put_u32(out, (uint32_t)d->ndel);
    put_u32(out, (uint32_t)d->nadd);
    put_rr(out, &d->old_soa);
    for (size_t i = 0; i < d->ndel; i++)
        put_rr(out, &d->del[i]);
    put_rr(out, &d->new_soa);
    for (size_t i = 0; i < d->nadd; i++)
        put_rr(out, &d->add[i]);
    uint8_t *p = (uint8_t *)out->ptr + start;
    size_t body = out->len - start - 8;
    uint32_t sum = fnv1a(p + 8, body);
    uint32_t v[2] = {(uint32_t)body, sum};
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < 4; i++)
            p[4 * k + i] = (uint8_t)(v[k] >> (24 - 8 * i));
}

static int get_rr(struct dns_buf *b, struct dns_xrr *r)
{
    size_t nl;
    const uint8_t *at = b->data + b->pos;
    if (dns_name_check(at, dns_buf_left(b), &nl) != 0)
        return ERR_PARSE;
    r->owner = dns_buf_get_ptr(b, nl);
    r->type = dns_buf_get_u16(b);
    r->ttl = dns_buf_get_u32(b);
    r->rdlen = dns_buf_get_u16(b);
    r->rdata = dns_buf_get_ptr(b, r->rdlen);
    return b->err ? ERR_PARSE : 0;
}

/* One entry body into a new zdiff (copies), or NULL when malformed. */
static struct dns_zdiff *decode_body(const uint8_t *p, size_t n)
{
    struct dns_buf b;
    dns_buf_init_read(&b, p, n);
    uint32_t from = dns_buf_get_u32(&b), to = dns_buf_get_u32(&b);
    uint32_t ndel = dns_buf_get_u32(&b), nadd = dns_buf_get_u32(&b);
    if (b.err || (uint64_t)ndel + nadd > n / 11)
        return NULL;
    struct dns_zdiff *d = dns_zdiff_new();
    struct dns_xrr r;
    for (uint64_t i = 0; i < (uint64_t)ndel + nadd + 2; i++) {
        if (get_rr(&b, &r) != 0) {
            dns_zdiff_unref(d);
            return NULL;
        }
        int which = i == 0 ? 0 : i <= ndel ? 1 : i == ndel + 1 ? 2 : 3;
        dns_zdiff_put(d, which, &r);
    }
    if (dns_buf_left(&b) != 0 || d->from != from || d->to != to) {
        dns_zdiff_unref(d);
        return NULL;
    }
    return d;
}

int dns_journal_decode(const uint8_t *data, size_t len, struct dns_zdiff ***diffs_out,
                       size_t *n_out, size_t *valid_len)
{
    *diffs_out = NULL;
    *n_out = 0;
    *valid_len = 0;
    if (len == 0)
        return 0;
    if (len < DNS_JOURNAL_MAGIC_LEN || memcmp(data, DNS_JOURNAL_MAGIC, DNS_JOURNAL_MAGIC_LEN))
        return ERR_PARSE;
    size_t pos = DNS_JOURNAL_MAGIC_LEN;
    *valid_len = pos;
    while (len - pos >= 8) {
        const uint8_t *h = data + pos;
        size_t body = (size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];
        uint32_t sum = (uint32_t)h[4] << 24 | (uint32_t)h[5] << 16 | (uint32_t)h[6] << 8 | h[7];
        if (body > len - pos - 8 || fnv1a(h + 8, body) != sum)
            break;
        struct dns_zdiff *d = decode_body(h + 8, body);
        if (!d)
            break;
        *diffs_out = xrealloc(*diffs_out, (*n_out + 1) * sizeof **diffs_out);
        (*diffs_out)[(*n_out)++] = d;
        pos += 8 + body;
        *valid_len = pos;
    }
    return 0;
}

void dns_journal_free(struct dns_zdiff **diffs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dns_zdiff_unref(diffs[i]);
    free(diffs);
}

void dns_zone_dump(const struct dns_zone *z, struct str *out)
{
    char text[DNS_NAME_TEXT_MAX];
    dns_name_to_text(dns_zone_origin(z), text, sizeof text);
    str_appendf(out, "; zone %s serial %u, written by pigeond\n$ORIGIN %s\n", text,
                dns_zone_serial(z), text);
    size_t nn;
    const struct dns_node *nodes = dns_zone_nodes(z, &nn);
    /* The apex first with the SOA in front, then the rest in canonical order. */
    const struct dns_rrset *soa = dns_zone_soa(z);
    dns_print_rr(dns_zone_origin(z), DNS_TYPE_SOA, DNS_CLASS_IN, soa->ttl, soa->rdata[0].data,
                 soa->rdata[0].len, out);
    str_appendc(out, '\n');
    for (size_t i = 0; i < nn; i++)
        for (unsigned s = 0; s < nodes[i].nrrsets; s++) {
            const struct dns_rrset *rs = &nodes[i].rrsets[s];
            if (rs->type == DNS_TYPE_SOA && i == 0)
                continue;
            for (unsigned k = 0; k < rs->count; k++) {
                dns_print_rr(nodes[i].name, rs->type, DNS_CLASS_IN, rs->ttl, rs->rdata[k].data,
                             rs->rdata[k].len, out);
                str_appendc(out, '\n');
            }
        }
}
