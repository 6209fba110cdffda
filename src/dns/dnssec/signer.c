/* signer — zone -> signed zone (DNSKEY, CDS/CDNSKEY, RRSIG, NSEC or NSEC3). See signer.h. */
#include "dns/dnssec/signer.h"

#include "core/err.h"
#include "core/xmalloc.h"
#include "dns/dnssec/denial.h"
#include "dns/name.h"
#include "dns/rr.h"

#include <stdlib.h>
#include <string.h>

int dnssec_key_init(struct dnssec_key *k, EVP_PKEY *pk, uint8_t alg, uint16_t flags)
{
    size_t pl;
    memset(k, 0, sizeof *k);
    if (dnssec_pubkey_wire(pk, alg, k->dnskey + 4, &pl) != 0)
        return ERR_PARSE;
    k->pkey = pk;
    k->alg = alg;
    k->flags = flags;
    k->dnskey[0] = (uint8_t)(flags >> 8);
    k->dnskey[1] = (uint8_t)flags;
    k->dnskey[2] = 3; /* RFC 4034 §2.1.2 */
    k->dnskey[3] = alg;
    k->dnskey_len = 4 + pl;
    k->tag = dnssec_key_tag(k->dnskey, k->dnskey_len);
    k->publish = k->active = k->cds = true;
    k->ksk = flags & DNSSEC_FLAG_SEP;
    k->zsk = !k->ksk;
    return 0;
}

bool dnssec_type_is_generated(uint16_t type)
{
    return type == DNS_TYPE_RRSIG || type == DNS_TYPE_NSEC || type == DNS_TYPE_NSEC3 ||
           type == DNS_TYPE_NSEC3PARAM || type == DNS_TYPE_DNSKEY || type == DNS_TYPE_CDS ||
           type == DNS_TYPE_CDNSKEY;
}

size_t dnssec_bitmap_build(const uint16_t *types, size_t n, uint8_t *out)
{
    size_t len = 0, i = 0;
    while (i < n) {
        unsigned win = types[i] >> 8;
        uint8_t *w = out + len;
        memset(w, 0, 34);
        w[0] = (uint8_t)win;
        unsigned used = 0;
        for (; i < n && (types[i] >> 8) == win; i++) {
            unsigned bit = types[i] & 0xff;
            w[2 + bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
            used = bit / 8 + 1;
        }
        w[1] = (uint8_t)used;
        len += 2 + used;
    }
    return len;
}

struct signer {
    const struct dnssec_key *keys;
    size_t nkeys;
    const struct dnssec_sign_params *p;
    const uint8_t *origin;
    struct dns_zone_builder *zb;
    struct str data; /* scratch: the data to sign */
    uint32_t nsec_ttl;
    bool *key_in_prev; /* per key: its DNSKEY is in p->prev's DNSKEY set */
    struct dnssec_sign_stats stats;
    int err;
    const char *why;
};

static void add(struct signer *s, const uint8_t *owner, uint16_t type, uint32_t ttl,
                const uint8_t *rd, size_t len)
{
    const char *why = NULL;
    if (s->err == 0 && dns_zone_builder_add(s->zb, owner, type, ttl, rd, len, NULL, 0, &why)) {
        s->err = ERR_PARSE;
        s->why = why;
    }
}

/* The previous version's RRSIG set at owner when the RRset there is the same as set. */
static const struct dns_rrset *prev_sigs(const struct signer *s, const uint8_t *owner,
                                         const struct dns_rrset *set)
{
    if (!s->key_in_prev)
        return NULL;
    const struct dns_node *n = dns_zone_find(s->p->prev, owner, NULL);
    const struct dns_rrset *old = n ? dns_node_rrset(n, set->type) : NULL;
    return old && old->ttl == set->ttl && dns_rrset_same_rdata(old, set)
               ? dns_node_rrset(n, DNS_TYPE_RRSIG)
               : NULL;
}

/* Key ki's signature over set->type among sigs, when it holds for more than p->refresh
 * seconds from now (RFC 1982 arithmetic on the 32-bit times of RFC 4034 §3.1.5). */
static const struct dns_rdata *sig_to_keep(const struct signer *s, const struct dns_rrset *sigs,
                                           const struct dns_rrset *set, size_t ki,
                                           unsigned labels)
{
    const struct dnssec_key *k = &s->keys[ki];
    if (!sigs || !s->key_in_prev[ki])
        return NULL;
    for (unsigned i = 0; i < sigs->count; i++) {
        struct dnssec_rrsig g;
        if (dnssec_rrsig_parse(sigs->rdata[i].data, sigs->rdata[i].len, &g) != 0 ||
            g.covered != set->type || g.alg != k->alg || g.tag != k->tag ||
            g.labels != labels || g.orig_ttl != set->ttl || !dns_name_eq(g.signer, s->origin))
            continue;
        if ((int32_t)(g.expiration - s->p->now) > (int32_t)s->p->refresh &&
            (int32_t)(s->p->now - g.inception) >= 0)
            return &sigs->rdata[i];
    }
    return NULL;
}

static void note_expiry(struct signer *s, uint32_t exp)
{
    if (s->stats.made + s->stats.kept == 0 || (int32_t)(exp - s->stats.first_expiry) < 0)
        s->stats.first_expiry = exp;
}

/* Signs one RRset with every active key of the role and adds the RRSIGs (kept from the
 * previous version where they still hold). */
static void sign_rrset(struct signer *s, const uint8_t *owner, const struct dns_rrset *set)
{
    bool keyset = set->type == DNS_TYPE_DNSKEY || set->type == DNS_TYPE_CDS ||
                  set->type == DNS_TYPE_CDNSKEY;
    uint8_t rd[DNSSEC_RRSIG_FIXED + DNS_NAME_MAXLEN + DNSSEC_SIG_MAX];
    unsigned labels = dns_name_labels(owner) - (dns_name_is_wild(owner) ? 1 : 0);
    uint32_t inc = s->p->now - s->p->inception_ago, exp = s->p->now + s->p->validity;
    const struct dns_rrset *old = prev_sigs(s, owner, set);
    for (size_t i = 0; i < s->nkeys && s->err == 0; i++) {
        const struct dnssec_key *k = &s->keys[i];
        if (!k->active || !(keyset ? k->ksk : k->zsk))
            continue;
        const struct dns_rdata *keep = sig_to_keep(s, old, set, i, labels);
        if (keep) {
            struct dnssec_rrsig g;
            dnssec_rrsig_parse(keep->data, keep->len, &g);
            note_expiry(s, g.expiration);
            s->stats.kept++;
            add(s, owner, DNS_TYPE_RRSIG, set->ttl, keep->data, keep->len);
            continue;
        }
        uint8_t fixed[DNSSEC_RRSIG_FIXED] = {
            (uint8_t)(set->type >> 8), (uint8_t)set->type, k->alg, (uint8_t)labels,
            (uint8_t)(set->ttl >> 24), (uint8_t)(set->ttl >> 16), (uint8_t)(set->ttl >> 8),
            (uint8_t)set->ttl, (uint8_t)(exp >> 24), (uint8_t)(exp >> 16), (uint8_t)(exp >> 8),
            (uint8_t)exp, (uint8_t)(inc >> 24), (uint8_t)(inc >> 16), (uint8_t)(inc >> 8),
            (uint8_t)inc, (uint8_t)(k->tag >> 8), (uint8_t)k->tag};
        memcpy(rd, fixed, sizeof fixed);
        size_t fl = DNSSEC_RRSIG_FIXED + dns_name_copy(rd + DNSSEC_RRSIG_FIXED, s->origin), sl;
        str_reset(&s->data);
        if (dnssec_sigdata(owner, DNS_CLASS_IN, set->type, rd, fl, set->rdata, set->count,
                           &s->data) != 0 ||
            dnssec_sig_make(k->pkey, k->alg, (const uint8_t *)s->data.ptr, s->data.len, rd + fl,
                            &sl) != 0) {
            s->err = ERR_PARSE;
            s->why = "signing failed";
            return;
        }
        note_expiry(s, exp);
        s->stats.made++;
        add(s, owner, DNS_TYPE_RRSIG, set->ttl, rd, fl + sl);
    }
}

/* Which keys signed p->prev with the same DNSKEY (a key tag alone may collide). */
static void prev_keys(struct signer *s)
{
    const struct dns_zone *prev = s->p->prev;
    if (!prev || !dns_name_eq(dns_zone_origin(prev), s->origin))
        return;
    size_t nn;
    const struct dns_rrset *dk = dns_node_rrset(&dns_zone_nodes(prev, &nn)[0], DNS_TYPE_DNSKEY);
    s->key_in_prev = xcalloc(s->nkeys ? s->nkeys : 1, sizeof *s->key_in_prev);
    for (size_t i = 0; i < s->nkeys; i++)
        for (unsigned j = 0; dk && j < dk->count; j++)
            if (dk->rdata[j].len == s->keys[i].dnskey_len &&
                memcmp(dk->rdata[j].data, s->keys[i].dnskey, dk->rdata[j].len) == 0)
                s->key_in_prev[i] = true;
}

/* Pass 1: the unsigned data (new serial) plus DNSKEY, CDS, CDNSKEY and NSEC3PARAM. */
static void pass_keys(struct signer *s, const struct dns_zone *z)
{
    size_t nn;
    const struct dns_node *nodes = dns_zone_nodes(z, &nn);
    const struct dns_rrset *soa = dns_zone_soa(z);
    for (size_t i = 0; i < nn; i++)
        for (unsigned r = 0; r < nodes[i].nrrsets; r++) {
            const struct dns_rrset *set = &nodes[i].rrsets[r];
            if (dnssec_type_is_generated(set->type))
                continue;
            for (unsigned j = 0; j < set->count; j++) {
                const struct dns_rdata *d = &set->rdata[j];
                uint8_t soa_rd[2 * DNS_NAME_MAXLEN + 20];
                if (set->type == DNS_TYPE_SOA && s->p->set_serial && d->len <= sizeof soa_rd) {
                    memcpy(soa_rd, d->data, d->len);
                    uint32_t v = s->p->serial;
                    uint8_t *sp = soa_rd + d->len - 20;
                    sp[0] = (uint8_t)(v >> 24), sp[1] = (uint8_t)(v >> 16);
                    sp[2] = (uint8_t)(v >> 8), sp[3] = (uint8_t)v;
                    add(s, nodes[i].name, set->type, set->ttl, soa_rd, d->len);
                } else {
                    add(s, nodes[i].name, set->type, set->ttl, d->data, d->len);
                }
            }
        }
    uint32_t ttl = s->p->dnskey_ttl ? s->p->dnskey_ttl : soa->ttl;
    for (size_t i = 0; i < s->nkeys; i++) {
        const struct dnssec_key *k = &s->keys[i];
        if (!k->publish)
            continue;
        add(s, s->origin, DNS_TYPE_DNSKEY, ttl, k->dnskey, k->dnskey_len);
        if (!k->ksk || !k->cds)
            continue;
        /* RFC 7344 §4 / RFC 8078: what the parent should publish, always present */
        uint8_t ds[4 + DNSSEC_DIGEST_MAX];
        size_t dl;
        add(s, s->origin, DNS_TYPE_CDNSKEY, ttl, k->dnskey, k->dnskey_len);
        if (dnssec_ds_make(s->origin, k->dnskey, k->dnskey_len, DNSSEC_DIGEST_SHA256, ds, &dl) ==
            0)
            add(s, s->origin, DNS_TYPE_CDS, ttl, ds, dl);
    }
    if (s->p->nsec3) {
        static const uint8_t param[5] = {1, 0, 0, 0, 0}; /* RFC 9276 §3.1 */
        add(s, s->origin, DNS_TYPE_NSEC3PARAM, 0, param, sizeof param);
    }
}

static bool node_is_auth(const struct dns_node *n)
{
    return !(n->flags & DNS_NODE_OCCLUDED);
}

size_t dnssec_node_bitmap(const struct dns_node *n, bool nsec, uint8_t *out)
{
    uint16_t stackv[64];
    uint16_t *types = n->nrrsets + 2u <= 64 ? stackv : xmalloc((n->nrrsets + 2u) * sizeof *types);
    size_t k = 0;
    bool cut = n->flags & DNS_NODE_DELEG, signed_any = false;
    for (unsigned r = 0; r < n->nrrsets; r++) {
        uint16_t t = n->rrsets[r].type;
        if (t == DNS_TYPE_RRSIG || t == DNS_TYPE_NSEC || t == DNS_TYPE_NSEC3 ||
            (cut && t != DNS_TYPE_NS && t != DNS_TYPE_DS))
            continue;
        types[k++] = t;
        signed_any |= !cut || t == DNS_TYPE_DS;
    }
    /* an NSEC is itself signed; an NSEC3 lists RRSIG only when the name has signed data */
    if (nsec || signed_any)
        types[k++] = DNS_TYPE_RRSIG;
    if (nsec)
        types[k++] = DNS_TYPE_NSEC;
    for (size_t i = 1; i < k; i++) /* RRSIG (46) and NSEC (47) into their places */
        for (size_t j = i; j > 0 && types[j - 1] > types[j]; j--) {
            uint16_t t = types[j];
            types[j] = types[j - 1];
            types[j - 1] = t;
        }
    size_t len = dnssec_bitmap_build(types, k, out);
    if (types != stackv)
        free(types);
    return len;
}

/* Pass 2, per node: copy every record; sign the authoritative sets. */
static void pass_node(struct signer *s, const struct dns_node *n)
{
    for (unsigned r = 0; r < n->nrrsets; r++) {
        const struct dns_rrset *set = &n->rrsets[r];
        for (unsigned j = 0; j < set->count; j++)
            add(s, n->name, set->type, set->ttl, set->rdata[j].data, set->rdata[j].len);
        if (!node_is_auth(n))
            continue;
        if ((n->flags & DNS_NODE_DELEG) && set->type != DNS_TYPE_DS)
            continue; /* RFC 4035 §2.2: the NS of a cut and glue are not signed */
        sign_rrset(s, n->name, set);
    }
}

static void add_signed(struct signer *s, const uint8_t *owner, uint16_t type, uint32_t ttl,
                       const uint8_t *rd, size_t len)
{
    add(s, owner, type, ttl, rd, len);
    struct dns_rdata d = {(uint16_t)len, rd};
    struct dns_rrset set = {type, 1, ttl, &d};
    sign_rrset(s, owner, &set);
}

static void pass_nsec(struct signer *s, const struct dns_node *nodes, size_t nn)
{
    uint8_t *rd = xmalloc(DNS_NAME_MAXLEN + 8704);
    for (size_t i = 0; i < nn && s->err == 0; i++) {
        if (!node_is_auth(&nodes[i]) || nodes[i].nrrsets == 0)
            continue; /* RFC 4035 §2.3: empty non-terminals have no NSEC */
        size_t j = i + 1;
        while (j < nn && (!node_is_auth(&nodes[j]) || nodes[j].nrrsets == 0))
            j++;
        const uint8_t *next = j < nn ? nodes[j].name : s->origin;
        size_t nl = dns_name_copy(rd, next);
        size_t bl = dnssec_node_bitmap(&nodes[i], true, rd + nl);
        add_signed(s, nodes[i].name, DNS_TYPE_NSEC, s->nsec_ttl, rd, nl + bl);
    }
    free(rd);
}

struct hashed {
    uint8_t h[DNSSEC_NSEC3_HASH_MAX];
    uint32_t node;
};

static int hashed_cmp(const void *a, const void *b)
{
    return memcmp(((const struct hashed *)a)->h, ((const struct hashed *)b)->h,
                  DNSSEC_NSEC3_HASH_MAX);
}

static void pass_nsec3(struct signer *s, const struct dns_node *nodes, size_t nn)
{
    struct hashed *hv = xmalloc((nn ? nn : 1) * sizeof *hv);
    size_t k = 0;
    for (size_t i = 0; i < nn; i++) {
        if (!node_is_auth(&nodes[i]))
            continue; /* RFC 5155 §7.1: every authoritative name and empty non-terminal */
        if (dnssec_nsec3_hash(nodes[i].name, 1, 0, NULL, 0, hv[k].h) != 0)
            continue;
        hv[k++].node = (uint32_t)i;
    }
    qsort(hv, k, sizeof *hv, hashed_cmp);
    uint8_t *rd = xmalloc(6 + DNSSEC_NSEC3_HASH_MAX + 8704);
    uint8_t owner[DNS_NAME_MAXLEN];
    for (size_t i = 0; i < k && s->err == 0; i++) {
        if (i > 0 && memcmp(hv[i].h, hv[i - 1].h, DNSSEC_NSEC3_HASH_MAX) == 0)
            continue; /* a SHA-1 collision: nothing to do but keep the chain well-formed */
        const uint8_t *next = hv[(i + 1) % k].h;
        rd[0] = 1, rd[1] = 0, rd[2] = 0, rd[3] = 0, rd[4] = 0; /* SHA-1, no opt-out, 0, - */
        rd[5] = DNSSEC_NSEC3_HASH_MAX;
        memcpy(rd + 6, next, DNSSEC_NSEC3_HASH_MAX);
        size_t bl = dnssec_node_bitmap(&nodes[hv[i].node], false, rd + 6 + DNSSEC_NSEC3_HASH_MAX);
        if (dnssec_nsec3_owner(hv[i].h, s->origin, owner) != 0) {
            s->err = ERR_PARSE;
            s->why = "NSEC3 owner name too long";
            break;
        }
        add_signed(s, owner, DNS_TYPE_NSEC3, s->nsec_ttl, rd,
                   6 + DNSSEC_NSEC3_HASH_MAX + bl);
    }
    free(rd);
    free(hv);
}

static void signer_clear(struct signer *s)
{
    str_clear(&s->data);
    free(s->key_in_prev);
    s->key_in_prev = NULL;
}

static int signer_fail(struct signer *s, struct str *err_out)
{
    str_appendf(err_out, "dnssec: %s", s->why ? s->why : "signing failed");
    dns_zone_builder_free(s->zb);
    signer_clear(s);
    return ERR_PARSE;
}

int dnssec_sign_zone(const struct dns_zone *z, const struct dnssec_key *keys, size_t nkeys,
                     const struct dnssec_sign_params *p, struct dns_zone **out,
                     struct str *err_out)
{
    struct signer s = {.keys = keys, .nkeys = nkeys, .p = p, .origin = dns_zone_origin(z)};
    bool have_ksk = false, have_zsk = false;
    for (size_t i = 0; i < nkeys; i++) {
        have_ksk |= keys[i].active && keys[i].ksk;
        have_zsk |= keys[i].active && keys[i].zsk;
    }
    if (!have_ksk || !have_zsk) {
        str_appends(err_out, "dnssec: no active key to sign the DNSKEY set or the zone");
        return ERR_PARSE;
    }
    const struct dns_rrset *soa = dns_zone_soa(z);
    uint32_t minimum = dns_soa_minimum(soa->rdata[0].data, soa->rdata[0].len);
    s.nsec_ttl = soa->ttl < minimum ? soa->ttl : minimum; /* RFC 9077 §3 */

    s.zb = dns_zone_builder_new(s.origin);
    pass_keys(&s, z);
    if (s.err)
        return signer_fail(&s, err_out);
    struct dns_zone *z1;
    if (dns_zone_builder_finish(s.zb, &z1, err_out) != 0) {
        signer_clear(&s);
        return ERR_PARSE;
    }
    prev_keys(&s);
    size_t nn;
    const struct dns_node *nodes = dns_zone_nodes(z1, &nn);
    s.zb = dns_zone_builder_new(s.origin);
    for (size_t i = 0; i < nn && s.err == 0; i++)
        pass_node(&s, &nodes[i]);
    if (p->nsec3)
        pass_nsec3(&s, nodes, nn);
    else
        pass_nsec(&s, nodes, nn);
    dns_zone_unref(z1);
    if (s.err)
        return signer_fail(&s, err_out);
    signer_clear(&s);
    if (p->stats)
        *p->stats = s.stats;
    return dns_zone_builder_finish(s.zb, out, err_out) == 0 ? 0 : ERR_PARSE;
}
