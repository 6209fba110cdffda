/* canon — DNSSEC record views, canonical form, key tags and DS digests. See dnssec.h. */
#include "dns/dnssec/dnssec.h"

#include "core/err.h"
#include "core/xmalloc.h"
#include "dns/name.h"
#include "dns/rr.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int dnssec_dnskey_parse(const uint8_t *rd, size_t len, struct dnssec_dnskey *out)
{
    if (len < 4)
        return ERR_PARSE;
    out->flags = get16(rd);
    out->protocol = rd[2];
    out->alg = rd[3];
    out->key = rd + 4;
    out->keylen = len - 4;
    out->tag = dnssec_key_tag(rd, len);
    return 0;
}

int dnssec_rrsig_parse(const uint8_t *rd, size_t len, struct dnssec_rrsig *out)
{
    size_t nl;
    if (len < DNSSEC_RRSIG_FIXED + 1 ||
        dns_name_check(rd + DNSSEC_RRSIG_FIXED, len - DNSSEC_RRSIG_FIXED, &nl) != 0)
        return ERR_PARSE;
    out->covered = get16(rd);
    out->alg = rd[2];
    out->labels = rd[3];
    out->orig_ttl = get32(rd + 4);
    out->expiration = get32(rd + 8);
    out->inception = get32(rd + 12);
    out->tag = get16(rd + 16);
    out->signer = rd + DNSSEC_RRSIG_FIXED;
    out->sig = rd + DNSSEC_RRSIG_FIXED + nl;
    out->siglen = len - DNSSEC_RRSIG_FIXED - nl;
    out->rdata = rd;
    return 0;
}

int dnssec_ds_parse(const uint8_t *rd, size_t len, struct dnssec_ds *out)
{
    if (len < 4)
        return ERR_PARSE;
    out->tag = get16(rd);
    out->alg = rd[2];
    out->digest_type = rd[3];
    out->digest = rd + 4;
    out->digestlen = len - 4;
    return 0;
}

uint16_t dnssec_key_tag(const uint8_t *rd, size_t len)
{
    uint32_t ac = 0;
    for (size_t i = 0; i < len; i++)
        ac += (i & 1) ? rd[i] : (uint32_t)rd[i] << 8;
    ac += (ac >> 16) & 0xffff;
    return (uint16_t)(ac & 0xffff);
}

static void lower_at(void *ctx, size_t off)
{
    dns_name_lower((uint8_t *)ctx + off);
}

void dnssec_rdata_canon(uint16_t type, const uint8_t *rd, size_t len, uint8_t *out)
{
    memcpy(out, rd, len);
    const struct dns_type_desc *d = dns_type_desc(type);
    if (d && (d->flags & DNS_TF_DECOMPRESS) && dns_rdata_check(type, out, len) == 0)
        dns_rdata_names(type, out, len, lower_at, out);
}

struct canon_rd {
    uint8_t *p;
    uint16_t len;
};

static int canon_rd_cmp(const void *pa, const void *pb)
{
    const struct canon_rd *a = pa, *b = pb;
    size_t m = a->len < b->len ? a->len : b->len;
    int c = m ? memcmp(a->p, b->p, m) : 0;
    if (c)
        return c;
    return a->len == b->len ? 0 : (a->len < b->len ? -1 : 1);
}

/* The owner as signed: lower-cased, and "*." + the rightmost labels when the RRSIG's labels
 * field is smaller than the owner's label count (RFC 4035 §5.3.2). */
static int signed_owner(const uint8_t *owner, unsigned labels, uint8_t out[DNS_NAME_MAXLEN],
                        size_t *len_out)
{
    unsigned have = dns_name_labels(owner);
    if (dns_name_is_wild(owner))
        have--;
    if (labels > have)
        return ERR_PARSE;
    if (labels == have && !dns_name_is_wild(owner)) {
        *len_out = dns_name_copy(out, owner);
    } else {
        const uint8_t *rest = dns_name_skip(owner, dns_name_labels(owner) - labels);
        out[0] = 1;
        out[1] = '*';
        *len_out = 2 + dns_name_copy(out + 2, rest);
        if (*len_out > DNS_NAME_MAXLEN)
            return ERR_PARSE;
    }
    dns_name_lower(out);
    return 0;
}

int dnssec_sigdata(const uint8_t *owner, uint16_t rclass, uint16_t type,
                   const uint8_t *rrsig_fixed, size_t fixed_len, const struct dns_rdata *rds,
                   size_t n, struct str *out)
{
    uint8_t name[DNS_NAME_MAXLEN + 2];
    size_t nlen;
    if (fixed_len < DNSSEC_RRSIG_FIXED + 1 || fixed_len > DNSSEC_RRSIG_FIXED + DNS_NAME_MAXLEN ||
        signed_owner(owner, rrsig_fixed[3], name, &nlen) != 0)
        return ERR_PARSE;
    uint8_t fixed[DNSSEC_RRSIG_FIXED + DNS_NAME_MAXLEN];
    memcpy(fixed, rrsig_fixed, fixed_len);
    dns_name_lower(fixed + DNSSEC_RRSIG_FIXED);
    str_append(out, fixed, fixed_len);

    struct canon_rd stackv[16];
    struct canon_rd *v = n <= 16 ? stackv : xmalloc(n * sizeof *v);
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += rds[i].len;
    uint8_t *buf = xmalloc(total ? total : 1);
    for (size_t i = 0, off = 0; i < n; off += rds[i].len, i++) {
        v[i].p = buf + off;
        v[i].len = rds[i].len;
        dnssec_rdata_canon(type, rds[i].data, rds[i].len, v[i].p);
    }
    qsort(v, n, sizeof *v, canon_rd_cmp);
    uint8_t hdr[10] = {(uint8_t)(type >> 8), (uint8_t)type, (uint8_t)(rclass >> 8),
                       (uint8_t)rclass};
    memcpy(hdr + 4, rrsig_fixed + 4, 4); /* the original TTL */
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && canon_rd_cmp(&v[i - 1], &v[i]) == 0)
            continue; /* RFC 4034 §6.3: duplicates are not part of the set */
        hdr[8] = (uint8_t)(v[i].len >> 8);
        hdr[9] = (uint8_t)v[i].len;
        str_append(out, name, nlen);
        str_append(out, hdr, 10);
        str_append(out, v[i].p, v[i].len);
    }
    free(buf);
    if (v != stackv)
        free(v);
    return 0;
}

int dnssec_ds_digest(const uint8_t *owner, const uint8_t *dnskey_rd, size_t len, uint8_t dtype,
                     uint8_t out[DNSSEC_DIGEST_MAX], size_t *len_out)
{
    const EVP_MD *md = dtype == DNSSEC_DIGEST_SHA1     ? EVP_sha1()
                       : dtype == DNSSEC_DIGEST_SHA256 ? EVP_sha256()
                       : dtype == DNSSEC_DIGEST_SHA384 ? EVP_sha384()
                                                       : NULL;
    if (!md)
        return ERR_PARSE;
    uint8_t name[DNS_NAME_MAXLEN];
    size_t nl = dns_name_copy(name, owner);
    dns_name_lower(name);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int outl = 0;
    int ok = ctx && EVP_DigestInit_ex(ctx, md, NULL) && EVP_DigestUpdate(ctx, name, nl) &&
             EVP_DigestUpdate(ctx, dnskey_rd, len) && EVP_DigestFinal_ex(ctx, out, &outl);
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return ERR_PARSE;
    *len_out = outl;
    return 0;
}

int dnssec_ds_make(const uint8_t *owner, const uint8_t *dnskey_rd, size_t len, uint8_t dtype,
                   uint8_t *out, size_t *len_out)
{
    struct dnssec_dnskey k;
    size_t dl;
    if (dnssec_dnskey_parse(dnskey_rd, len, &k) != 0 ||
        dnssec_ds_digest(owner, dnskey_rd, len, dtype, out + 4, &dl) != 0)
        return ERR_PARSE;
    out[0] = (uint8_t)(k.tag >> 8);
    out[1] = (uint8_t)k.tag;
    out[2] = k.alg;
    out[3] = dtype;
    *len_out = 4 + dl;
    return 0;
}

bool dnssec_bitmap_has(const uint8_t *bm, size_t len, uint16_t type)
{
    unsigned win = type >> 8, bit = type & 0xff;
    for (size_t pos = 0; pos + 2 <= len; pos += 2u + bm[pos + 1]) {
        size_t wl = bm[pos + 1];
        if (wl > len - pos - 2)
            return false;
        if (bm[pos] != win)
            continue;
        return bit / 8 < wl && (bm[pos + 2 + bit / 8] & (0x80 >> (bit % 8)));
    }
    return false;
}
