/* denial — NSEC and NSEC3 proofs of non-existence. See denial.h. */
#include "dns/dnssec/denial.h"

#include "core/err.h"
#include "dns/name.h"
#include "dns/rr.h"

#include <openssl/evp.h>
#include <string.h>

/* ---- NSEC (RFC 4035 §5.4) ---- */

bool dnssec_nsec_covers(const uint8_t *owner, const uint8_t *next, const uint8_t *name)
{
    if (dns_name_cmp(owner, name) >= 0)
        return false;
    /* the last NSEC (next <= owner) covers everything after its owner */
    return dns_name_cmp(next, owner) <= 0 || dns_name_cmp(name, next) < 0;
}

struct nsec_view {
    const uint8_t *owner, *next, *bm;
    size_t bmlen;
};

static bool nsec_view(const struct dnssec_nsec_rr *r, struct nsec_view *o)
{
    size_t nl;
    if (r->type != DNS_TYPE_NSEC || dns_name_check(r->rdata, r->len, &nl) != 0)
        return false;
    o->owner = r->owner;
    o->next = r->rdata;
    o->bm = r->rdata + nl;
    o->bmlen = r->len - nl;
    return true;
}

/* An NSEC from above a zone cut (NS without SOA) or at a DNAME says nothing below it
 * (RFC 6840 §4.1). */
static bool nsec_says_below(const struct nsec_view *nv, const uint8_t *name)
{
    if (dns_name_eq(nv->owner, name) || !dns_name_is_sub(name, nv->owner))
        return true;
    bool cut = dnssec_bitmap_has(nv->bm, nv->bmlen, DNS_TYPE_NS) &&
               !dnssec_bitmap_has(nv->bm, nv->bmlen, DNS_TYPE_SOA);
    return !cut && !dnssec_bitmap_has(nv->bm, nv->bmlen, DNS_TYPE_DNAME);
}

static const struct dnssec_nsec_rr *nsec_covering(const struct dnssec_nsec_rr *v, size_t n,
                                                  const uint8_t *zone, const uint8_t *name,
                                                  struct nsec_view *nv)
{
    for (size_t i = 0; i < n; i++)
        if (nsec_view(&v[i], nv) && dns_name_is_sub(nv->owner, zone) &&
            dnssec_nsec_covers(nv->owner, nv->next, name) && nsec_says_below(nv, name))
            return &v[i];
    return NULL;
}

static const struct dnssec_nsec_rr *nsec_matching(const struct dnssec_nsec_rr *v, size_t n,
                                                  const uint8_t *name, struct nsec_view *nv)
{
    for (size_t i = 0; i < n; i++)
        if (nsec_view(&v[i], nv) && dns_name_eq(nv->owner, name))
            return &v[i];
    return NULL;
}

unsigned dnssec_common_labels(const uint8_t *a, const uint8_t *b)
{
    unsigned la = dns_name_labels(a), lb = dns_name_labels(b), k = 0;
    while (k < la && k < lb && dns_name_eq(dns_name_skip(a, la - k - 1), dns_name_skip(b, lb - k - 1)))
        k++;
    return k;
}

bool dnssec_wildcard_at(const uint8_t *name, unsigned labels, uint8_t out[DNS_NAME_MAXLEN])
{
    const uint8_t *ce = dns_name_skip(name, dns_name_labels(name) - labels);
    size_t cl = dns_name_len(ce);
    if (cl + 2 > DNS_NAME_MAXLEN)
        return false;
    out[0] = 1;
    out[1] = '*';
    memcpy(out + 2, ce, cl);
    return true;
}

static enum dnssec_proof nsec_nxdomain(const struct dnssec_nsec_rr *v, size_t n,
                                       const uint8_t *zone, const uint8_t *qname)
{
    struct nsec_view nv, wv;
    if (!nsec_covering(v, n, zone, qname, &nv))
        return DNSSEC_PROOF_NONE;
    /* RFC 4592 §4.1: the closest encloser is the longest ancestor shared with owner or next */
    unsigned a = dnssec_common_labels(qname, nv.owner), c = dnssec_common_labels(qname, nv.next);
    unsigned ce = a > c ? a : c;
    if (ce < dns_name_labels(zone))
        ce = dns_name_labels(zone);
    uint8_t wild[DNS_NAME_MAXLEN];
    if (!dnssec_wildcard_at(qname, ce, wild))
        return DNSSEC_PROOF_NONE;
    return nsec_covering(v, n, zone, wild, &wv) ? DNSSEC_PROOF_OK : DNSSEC_PROOF_NONE;
}

static bool nsec_type_absent(const struct nsec_view *nv, uint16_t qtype)
{
    if (dnssec_bitmap_has(nv->bm, nv->bmlen, qtype) ||
        dnssec_bitmap_has(nv->bm, nv->bmlen, DNS_TYPE_CNAME))
        return false;
    /* RFC 6840 §4.1/4.4: at a cut (NS, no SOA) only DS may be denied by the parent's NSEC */
    bool cut = dnssec_bitmap_has(nv->bm, nv->bmlen, DNS_TYPE_NS) &&
               !dnssec_bitmap_has(nv->bm, nv->bmlen, DNS_TYPE_SOA);
    if (cut && qtype != DNS_TYPE_DS)
        return false;
    /* a DS question answered from the child's apex NSEC (SOA set) proves nothing */
    if (qtype == DNS_TYPE_DS && dnssec_bitmap_has(nv->bm, nv->bmlen, DNS_TYPE_SOA) &&
        nv->owner[0] != 0)
        return false;
    return true;
}

static enum dnssec_proof nsec_nodata(const struct dnssec_nsec_rr *v, size_t n,
                                     const uint8_t *zone, const uint8_t *qname, uint16_t qtype)
{
    struct nsec_view nv, wv;
    if (nsec_matching(v, n, qname, &nv))
        return nsec_type_absent(&nv, qtype) ? DNSSEC_PROOF_OK : DNSSEC_PROOF_NONE;
    if (!nsec_covering(v, n, zone, qname, &nv))
        return DNSSEC_PROOF_NONE;
    /* an empty non-terminal: the next name lies below qname (RFC 4035 §3.1.3.2) */
    if (dns_name_is_sub(nv.next, qname) && !dns_name_eq(nv.next, qname))
        return DNSSEC_PROOF_OK;
    /* RFC 4035 §3.1.3.4 wildcard NODATA: qname covered, *.closest-encloser matched */
    unsigned a = dnssec_common_labels(qname, nv.owner), c = dnssec_common_labels(qname, nv.next);
    uint8_t wild[DNS_NAME_MAXLEN];
    if (!dnssec_wildcard_at(qname, a > c ? a : c, wild) || !nsec_matching(v, n, wild, &wv))
        return DNSSEC_PROOF_NONE;
    return nsec_type_absent(&wv, qtype) ? DNSSEC_PROOF_OK : DNSSEC_PROOF_NONE;
}

/* ---- NSEC3 (RFC 5155 §8) ---- */

int dnssec_nsec3_hash(const uint8_t *name, uint8_t alg, unsigned iterations,
                      const uint8_t *salt, size_t saltlen, uint8_t out[DNSSEC_NSEC3_HASH_MAX])
{
    if (alg != 1)
        return ERR_PARSE;
    uint8_t lower[DNS_NAME_MAXLEN];
    size_t nl = dns_name_copy(lower, name);
    dns_name_lower(lower);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    const EVP_MD *md = EVP_sha1();
    int ok = ctx != NULL;
    const uint8_t *in = lower;
    size_t inl = nl;
    for (unsigned i = 0; ok && i <= iterations; i++) {
        ok = EVP_DigestInit_ex(ctx, md, NULL) && EVP_DigestUpdate(ctx, in, inl) &&
             EVP_DigestUpdate(ctx, salt, saltlen) && EVP_DigestFinal_ex(ctx, out, NULL);
        in = out;
        inl = DNSSEC_NSEC3_HASH_MAX;
    }
    EVP_MD_CTX_free(ctx);
    return ok ? 0 : ERR_PARSE;
}

int dnssec_nsec3_owner(const uint8_t h[DNSSEC_NSEC3_HASH_MAX], const uint8_t *zone,
                       uint8_t *out)
{
    static const char dig[] = "0123456789abcdefghijklmnopqrstuv";
    uint8_t label[33] = {32};
    for (unsigned k = 0; k < 32; k++) {
        unsigned v = 0;
        for (unsigned b = k * 5; b < k * 5 + 5; b++)
            v = v << 1 | ((h[b / 8] >> (7 - b % 8)) & 1);
        label[1 + k] = (uint8_t)dig[v];
    }
    size_t ol;
    return dns_name_concat(label, sizeof label, zone, out, &ol);
}

static int b32val(uint8_t c)
{
    c |= 0x20;
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'v')
        return c - 'a' + 10;
    return -1;
}

/* Decodes the owner's first label (base32hex) into h. */
static bool owner_hash(const uint8_t *owner, uint8_t *h, size_t *hl)
{
    unsigned len = owner[0], acc = 0, bits = 0;
    size_t n = 0;
    if (len != 32)
        return false; /* SHA-1: 20 bytes = 32 base32hex digits */
    for (unsigned i = 1; i <= len; i++) {
        int v = b32val(owner[i]);
        if (v < 0)
            return false;
        acc = (acc << 5 | (unsigned)v) & 0xffff;
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            h[n++] = (uint8_t)(acc >> bits);
        }
    }
    *hl = n;
    return n == DNSSEC_NSEC3_HASH_MAX;
}

bool dnssec_nsec3_view(const struct dnssec_nsec_rr *r, const uint8_t *zone,
                       struct dnssec_nsec3_view *o)
{
    const uint8_t *p = r->rdata;
    size_t len = r->len;
    if (r->type != DNS_TYPE_NSEC3 || len < 5 || dns_name_parent(r->owner) == NULL ||
        !dns_name_eq(dns_name_parent(r->owner), zone))
        return false;
    o->alg = p[0];
    o->flags = p[1];
    o->iterations = (uint16_t)(p[2] << 8 | p[3]);
    o->saltlen = p[4];
    if (5 + o->saltlen + 1 > len)
        return false;
    o->salt = p + 5;
    o->nextlen = p[5 + o->saltlen];
    if (6 + o->saltlen + o->nextlen > len || o->nextlen != DNSSEC_NSEC3_HASH_MAX)
        return false;
    o->next = p + 6 + o->saltlen;
    o->bm = o->next + o->nextlen;
    o->bmlen = len - 6 - o->saltlen - o->nextlen;
    return o->alg == 1 && owner_hash(r->owner, o->owner_hash, &o->owner_hashlen);
}

struct nsec3_ctx {
    const struct dnssec_nsec_rr *v;
    size_t n;
    const uint8_t *zone;
    struct dnssec_budget *b;
    struct dnssec_nsec3_view params; /* the parameters of the first usable NSEC3 */
    bool too_many_iter, out_of_budget;
};

static bool nsec3_ctx_init(struct nsec3_ctx *c)
{
    for (size_t i = 0; i < c->n; i++) {
        if (dnssec_nsec3_view(&c->v[i], c->zone, &c->params)) {
            c->too_many_iter = c->params.iterations > DNSSEC_MAX_NSEC3_ITER;
            return true;
        }
    }
    return false;
}

static bool nsec3_hash_name(struct nsec3_ctx *c, const uint8_t *name, uint8_t *h)
{
    if (c->b->nsec3_hashes == 0) {
        c->out_of_budget = true;
        c->b->limited = true;
        return false;
    }
    c->b->nsec3_hashes--;
    return dnssec_nsec3_hash(name, c->params.alg, c->params.iterations, c->params.salt,
                             c->params.saltlen, h) == 0;
}

static bool same_params(const struct dnssec_nsec3_view *a, const struct dnssec_nsec3_view *b)
{
    return a->alg == b->alg && a->iterations == b->iterations && a->saltlen == b->saltlen &&
           memcmp(a->salt, b->salt, a->saltlen) == 0;
}

/* The NSEC3 whose owner hash equals h (matches) or that covers h; its view in *out. */
static bool nsec3_find(struct nsec3_ctx *c, const uint8_t *h, bool cover, struct dnssec_nsec3_view *out)
{
    for (size_t i = 0; i < c->n; i++) {
        if (!dnssec_nsec3_view(&c->v[i], c->zone, out) || !same_params(out, &c->params))
            continue;
        int lo = memcmp(out->owner_hash, h, DNSSEC_NSEC3_HASH_MAX);
        if (!cover) {
            if (lo == 0)
                return true;
            continue;
        }
        int hi = memcmp(h, out->next, DNSSEC_NSEC3_HASH_MAX);
        bool last = memcmp(out->next, out->owner_hash, DNSSEC_NSEC3_HASH_MAX) <= 0;
        if (last ? (lo < 0 || hi < 0) : (lo < 0 && hi < 0))
            return true; /* the last NSEC3 wraps: above its owner or below the first hash */
    }
    return false;
}

/*
 * RFC 5155 §8.3 closest encloser proof: *ce_labels_out gets the closest encloser's label
 * count, *optout_out whether the next closer name's covering NSEC3 has opt-out.
 */
static bool nsec3_closest_encloser(struct nsec3_ctx *c, const uint8_t *qname,
                                   unsigned *ce_labels_out, bool *optout_out)
{
    unsigned ql = dns_name_labels(qname), zl = dns_name_labels(c->zone);
    uint8_t h[DNSSEC_NSEC3_HASH_MAX];
    struct dnssec_nsec3_view m;
    for (unsigned l = ql; l >= zl && l > 0; l--) {
        const uint8_t *anc = dns_name_skip(qname, ql - l);
        if (!nsec3_hash_name(c, anc, h))
            return false;
        if (!nsec3_find(c, h, false, &m))
            continue;
        if (l == ql)
            return false; /* qname itself exists: not a closest-encloser case */
        /* RFC 5155 §8.3: a cut (NS without SOA) or DNAME at ce from the parent side proves
         * nothing below it */
        if ((dnssec_bitmap_has(m.bm, m.bmlen, DNS_TYPE_NS) &&
             !dnssec_bitmap_has(m.bm, m.bmlen, DNS_TYPE_SOA)) ||
            dnssec_bitmap_has(m.bm, m.bmlen, DNS_TYPE_DNAME))
            return false;
        const uint8_t *next_closer = dns_name_skip(qname, ql - l - 1);
        struct dnssec_nsec3_view cv;
        if (!nsec3_hash_name(c, next_closer, h) || !nsec3_find(c, h, true, &cv))
            return false;
        *ce_labels_out = l;
        *optout_out = cv.flags & 1;
        return true;
    }
    return false;
}

static enum dnssec_proof nsec3_result(struct nsec3_ctx *c, bool ok)
{
    if (c->out_of_budget)
        return DNSSEC_PROOF_BUDGET;
    return ok ? DNSSEC_PROOF_OK : DNSSEC_PROOF_NONE;
}

static enum dnssec_proof nsec3_nxdomain(struct nsec3_ctx *c, const uint8_t *qname)
{
    unsigned ce;
    bool optout;
    if (!nsec3_closest_encloser(c, qname, &ce, &optout))
        return nsec3_result(c, false);
    uint8_t wild[DNS_NAME_MAXLEN], h[DNSSEC_NSEC3_HASH_MAX];
    struct dnssec_nsec3_view wv;
    bool ok = dnssec_wildcard_at(qname, ce, wild) && nsec3_hash_name(c, wild, h) &&
              nsec3_find(c, h, true, &wv);
    if (ok && optout)
        return DNSSEC_PROOF_INSECURE; /* RFC 5155 §8.4: the name may be an unsigned delegation */
    return nsec3_result(c, ok);
}

static bool nsec3_type_absent(const struct dnssec_nsec3_view *m, uint16_t qtype)
{
    if (dnssec_bitmap_has(m->bm, m->bmlen, qtype) ||
        dnssec_bitmap_has(m->bm, m->bmlen, DNS_TYPE_CNAME))
        return false;
    bool cut = dnssec_bitmap_has(m->bm, m->bmlen, DNS_TYPE_NS) &&
               !dnssec_bitmap_has(m->bm, m->bmlen, DNS_TYPE_SOA);
    return !(cut && qtype != DNS_TYPE_DS);
}

static enum dnssec_proof nsec3_nodata(struct nsec3_ctx *c, const uint8_t *qname, uint16_t qtype)
{
    uint8_t h[DNSSEC_NSEC3_HASH_MAX];
    struct dnssec_nsec3_view m;
    if (!nsec3_hash_name(c, qname, h))
        return nsec3_result(c, false);
    if (nsec3_find(c, h, false, &m)) /* RFC 5155 §8.5 / §8.6 */
        return nsec3_result(c, nsec3_type_absent(&m, qtype));
    unsigned ce;
    bool optout;
    if (!nsec3_closest_encloser(c, qname, &ce, &optout))
        return nsec3_result(c, false);
    if (qtype == DNS_TYPE_DS && optout)
        return DNSSEC_PROOF_INSECURE; /* RFC 5155 §8.6: an opt-out span */
    uint8_t wild[DNS_NAME_MAXLEN]; /* RFC 5155 §8.7: wildcard NODATA */
    bool ok = dnssec_wildcard_at(qname, ce, wild) && nsec3_hash_name(c, wild, h) &&
              nsec3_find(c, h, false, &m) && nsec3_type_absent(&m, qtype);
    return nsec3_result(c, ok);
}

static enum dnssec_proof nsec3_wildcard(struct nsec3_ctx *c, const uint8_t *qname,
                                        unsigned labels)
{
    unsigned ql = dns_name_labels(qname);
    if (labels >= ql)
        return DNSSEC_PROOF_NONE;
    const uint8_t *next_closer = dns_name_skip(qname, ql - labels - 1);
    uint8_t h[DNSSEC_NSEC3_HASH_MAX];
    struct dnssec_nsec3_view cv;
    bool ok = nsec3_hash_name(c, next_closer, h) && nsec3_find(c, h, true, &cv);
    if (ok && (cv.flags & 1))
        return DNSSEC_PROOF_INSECURE;
    return nsec3_result(c, ok); /* RFC 5155 §8.8 */
}

/* ---- dispatch ---- */

static bool has_type(const struct dnssec_nsec_rr *v, size_t n, uint16_t t)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].type == t)
            return true;
    return false;
}

/* Sets up an NSEC3 context; false (with *res) when the chain is unusable or over limits. */
static bool nsec3_begin(struct nsec3_ctx *c, const struct dnssec_nsec_rr *v, size_t n,
                        const uint8_t *zone, struct dnssec_budget *b, enum dnssec_proof *res)
{
    memset(c, 0, sizeof *c);
    c->v = v;
    c->n = n;
    c->zone = zone;
    c->b = b;
    if (!nsec3_ctx_init(c)) {
        *res = DNSSEC_PROOF_NONE;
        return false;
    }
    if (c->too_many_iter) {
        *res = DNSSEC_PROOF_INSECURE;
        return false;
    }
    return true;
}

enum dnssec_proof dnssec_prove_nxdomain(const struct dnssec_nsec_rr *v, size_t n,
                                        const uint8_t *zone, const uint8_t *qname,
                                        struct dnssec_budget *b)
{
    if (has_type(v, n, DNS_TYPE_NSEC))
        return nsec_nxdomain(v, n, zone, qname);
    struct nsec3_ctx c;
    enum dnssec_proof r;
    return nsec3_begin(&c, v, n, zone, b, &r) ? nsec3_nxdomain(&c, qname) : r;
}

enum dnssec_proof dnssec_prove_nodata(const struct dnssec_nsec_rr *v, size_t n,
                                      const uint8_t *zone, const uint8_t *qname, uint16_t qtype,
                                      struct dnssec_budget *b)
{
    if (has_type(v, n, DNS_TYPE_NSEC))
        return nsec_nodata(v, n, zone, qname, qtype);
    struct nsec3_ctx c;
    enum dnssec_proof r;
    return nsec3_begin(&c, v, n, zone, b, &r) ? nsec3_nodata(&c, qname, qtype) : r;
}

enum dnssec_proof dnssec_prove_wildcard(const struct dnssec_nsec_rr *v, size_t n,
                                        const uint8_t *zone, const uint8_t *qname,
                                        unsigned labels, struct dnssec_budget *b)
{
    if (has_type(v, n, DNS_TYPE_NSEC)) {
        struct nsec_view nv;
        /* RFC 4035 §5.3.4: an NSEC must show qname does not exist */
        return nsec_covering(v, n, zone, qname, &nv) ? DNSSEC_PROOF_OK : DNSSEC_PROOF_NONE;
    }
    struct nsec3_ctx c;
    enum dnssec_proof r;
    return nsec3_begin(&c, v, n, zone, b, &r) ? nsec3_wildcard(&c, qname, labels) : r;
}

static bool bitmap_cut(const uint8_t *bm, size_t len)
{
    return dnssec_bitmap_has(bm, len, DNS_TYPE_NS) && !dnssec_bitmap_has(bm, len, DNS_TYPE_SOA);
}

bool dnssec_denial_is_cut(const struct dnssec_nsec_rr *v, size_t n, const uint8_t *zone,
                          const uint8_t *qname, struct dnssec_budget *b)
{
    if (has_type(v, n, DNS_TYPE_NSEC)) {
        struct nsec_view nv;
        return nsec_matching(v, n, qname, &nv) && bitmap_cut(nv.bm, nv.bmlen);
    }
    struct nsec3_ctx c;
    enum dnssec_proof r;
    uint8_t h[DNSSEC_NSEC3_HASH_MAX];
    struct dnssec_nsec3_view m;
    return nsec3_begin(&c, v, n, zone, b, &r) && nsec3_hash_name(&c, qname, h) &&
           nsec3_find(&c, h, false, &m) && bitmap_cut(m.bm, m.bmlen);
}
