/* zone — the zone database: builder, checks, lookup. See zone.h. */
#include "dns/zone.h"

#include "core/err.h"
#include "core/xmalloc.h"
#include "dns/arena.h"
#include "dns/name.h"
#include "dns/rr.h"
#include "dns/zonefile.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dns_zone {
    atomic_uint refs;
    const uint8_t *origin;
    unsigned origin_labels;
    struct dns_node *nodes;
    uint32_t nnodes;
    uint32_t *hash; /* node index + 1; 0 = empty */
    uint32_t hmask;
    size_t nrecords;
    uint32_t serial;
    const struct dns_rrset *soa;
    struct dns_arena arena; /* owns names, rdata, nodes, rrsets, hash */
};

struct zb_rr {
    const uint8_t *owner; /* lower-cased, in the arena */
    const uint8_t *rdata; /* in the arena */
    const char *file;
    uint32_t ttl;
    uint32_t seq;
    unsigned line;
    uint16_t type;
    uint16_t rdlen;
};

struct dns_zone_builder {
    uint8_t origin[DNS_NAME_MAXLEN];
    struct dns_arena arena;
    struct zb_rr *rr;
    size_t n, cap;
    const char *file; /* default file for messages without a record */
};

/* ---- building ---- */

struct dns_zone_builder *dns_zone_builder_new(const uint8_t *origin)
{
    struct dns_zone_builder *zb = xcalloc(1, sizeof *zb);
    dns_name_copy(zb->origin, origin);
    dns_name_lower(zb->origin);
    dns_arena_init(&zb->arena, NULL, 0);
    return zb;
}

void dns_zone_builder_free(struct dns_zone_builder *zb)
{
    if (!zb)
        return;
    dns_arena_clear(&zb->arena);
    free(zb->rr);
    free(zb);
}

int dns_zone_builder_add(struct dns_zone_builder *zb, const uint8_t *owner, uint16_t type,
                         uint32_t ttl, const uint8_t *rdata, size_t rdlen, const char *file,
                         unsigned line, const char **reason_out)
{
    const char *dummy;
    if (!reason_out)
        reason_out = &dummy;
    if (!dns_name_is_sub(owner, zb->origin)) {
        *reason_out = "out-of-zone data";
        return ERR_PARSE;
    }
    const struct dns_type_desc *d = dns_type_desc(type);
    if (d && (d->flags & (DNS_TF_META | DNS_TF_QTYPE))) {
        *reason_out = "meta type in a zone";
        return ERR_PARSE;
    }
    if (rdlen > 65535 || dns_rdata_check(type, rdata, rdlen) != 0) {
        *reason_out = "rdata does not match its type";
        return ERR_PARSE;
    }
    if (type == DNS_TYPE_SOA && !dns_name_eq(owner, zb->origin)) {
        *reason_out = "SOA record not at top of zone";
        return ERR_PARSE;
    }
    if (zb->n == zb->cap) {
        zb->cap = zb->cap ? zb->cap * 2 : 64;
        zb->rr = xrealloc(zb->rr, zb->cap * sizeof *zb->rr);
    }
    struct zb_rr *r = &zb->rr[zb->n];
    uint8_t *o = dns_arena_dup(&zb->arena, owner, dns_name_len(owner));
    dns_name_lower(o);
    r->owner = o;
    r->rdata = dns_arena_dup(&zb->arena, rdata, rdlen);
    r->rdlen = (uint16_t)rdlen;
    r->type = type;
    r->ttl = ttl;
    r->seq = (uint32_t)zb->n;
    r->file = file;
    r->line = line;
    zb->n++;
    return 0;
}

static int rdata_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    size_t m = al < bl ? al : bl;
    int c = m ? memcmp(a, b, m) : 0;
    if (c)
        return c;
    return al == bl ? 0 : (al < bl ? -1 : 1);
}

static int zb_rr_cmp(const void *pa, const void *pb)
{
    const struct zb_rr *a = pa, *b = pb;
    int c = a->owner == b->owner ? 0 : dns_name_cmp(a->owner, b->owner);
    if (c)
        return c;
    if (a->type != b->type)
        return a->type < b->type ? -1 : 1;
    c = rdata_cmp(a->rdata, a->rdlen, b->rdata, b->rdlen);
    if (c)
        return c;
    return a->seq < b->seq ? -1 : (a->seq > b->seq);
}

static int zb_error(struct str *err, const char *file, unsigned line, const char *fmt,
                    const uint8_t *name) __attribute__((format(printf, 4, 0)));

/* Appends "file:line: <fmt with the name's text>". */
static int zb_error(struct str *err, const char *file, unsigned line, const char *fmt,
                    const uint8_t *name)
{
    if (err) {
        char text[DNS_NAME_TEXT_MAX];
        dns_name_to_text(name, text, sizeof text);
        if (file)
            str_appendf(err, "%s:%u: ", file, line);
        str_appendf(err, fmt, text);
    }
    return ERR_PARSE;
}

/* Builds the RRsets of one owner from the sorted records [i, j); checks singleton types and
 * CNAME beside other data (RFC 1034 §3.6.2, RFC 2181 §10.1). */
static int zb_node_rrsets(struct dns_zone_builder *zb, struct dns_zone *z, size_t i, size_t j,
                          struct dns_node *node, struct str *err)
{
    const struct zb_rr *rr = zb->rr;
    size_t nsets = 0, nrec = 0;
    for (size_t k = i; k < j; k++)
        if (k == i || rr[k].type != rr[k - 1].type)
            nsets++;
    struct dns_rrset *sets = dns_arena_zalloc(&z->arena, nsets * sizeof *sets);
    struct dns_rdata *rd = dns_arena_alloc(&z->arena, (j - i) * sizeof *rd);
    size_t s = (size_t)-1;
    uint32_t first_seq = 0;
    const struct zb_rr *cname = NULL, *other = NULL;
    for (size_t k = i; k < j; k++) {
        if (k > i && rr[k].type == rr[k - 1].type &&
            rdata_cmp(rr[k].rdata, rr[k].rdlen, rr[k - 1].rdata, rr[k - 1].rdlen) == 0)
            continue; /* a duplicate */
        if (s == (size_t)-1 || sets[s].type != rr[k].type) {
            s++;
            sets[s].type = rr[k].type;
            sets[s].ttl = rr[k].ttl;
            sets[s].rdata = rd + nrec;
            first_seq = rr[k].seq;
        } else if (rr[k].seq < first_seq) {
            sets[s].ttl = rr[k].ttl; /* the first TTL read wins */
            first_seq = rr[k].seq;
        }
        const struct dns_type_desc *d = dns_type_desc(rr[k].type);
        if (sets[s].count == 1 && d && (d->flags & DNS_TF_SINGLETON))
            return zb_error(err, rr[k].file, rr[k].line, "%s: multiple RRs of singleton type",
                            rr[k].owner);
        rd[nrec].len = rr[k].rdlen;
        rd[nrec].data = rr[k].rdata;
        nrec++;
        sets[s].count++;
        if (rr[k].type == DNS_TYPE_CNAME)
            cname = &rr[k];
        else if (rr[k].type != DNS_TYPE_RRSIG && rr[k].type != DNS_TYPE_NSEC &&
                 (!other || rr[k].seq > other->seq))
            other = &rr[k];
    }
    if (cname && other) {
        const struct zb_rr *later = cname->seq > other->seq ? cname : other;
        return zb_error(err, later->file, later->line, "%s: CNAME and other data", later->owner);
    }
    node->rrsets = sets;
    node->nrrsets = (uint16_t)(s + 1);
    z->nrecords += nrec;
    return 0;
}

/* ---- hash table ---- */

static uint32_t hash_find(const struct dns_zone *z, const uint8_t *name)
{
    uint32_t h = dns_name_hash(name) & z->hmask;
    for (;;) {
        uint32_t v = z->hash[h];
        if (v == 0)
            return DNS_NODE_NONE;
        if (dns_name_eq(z->nodes[v - 1].name, name))
            return v - 1;
        h = (h + 1) & z->hmask;
    }
}

static void hash_insert(struct dns_zone *z, uint32_t idx)
{
    uint32_t h = dns_name_hash(z->nodes[idx].name) & z->hmask;
    while (z->hash[h])
        h = (h + 1) & z->hmask;
    z->hash[h] = idx + 1;
}

static void hash_build(struct dns_zone *z, uint32_t cap_nodes)
{
    uint32_t size = 16;
    while (size < 2 * (uint64_t)cap_nodes)
        size *= 2;
    z->hash = xcalloc(size, sizeof *z->hash);
    z->hmask = size - 1;
    for (uint32_t i = 0; i < z->nnodes; i++)
        hash_insert(z, i);
}

static int node_cmp(const void *pa, const void *pb)
{
    const struct dns_node *a = pa, *b = pb;
    return dns_name_cmp(a->name, b->name);
}

/* Adds a node for every empty non-terminal between an owner and the apex. nodes has room
 * for the worst case; the hash (sized for it) already holds the owners. */
static void zone_add_ents(struct dns_zone *z)
{
    uint32_t owners = z->nnodes;
    for (uint32_t i = 0; i < owners; i++) {
        const uint8_t *name = z->nodes[i].name;
        unsigned extra = dns_name_labels(name) - z->origin_labels;
        for (unsigned k = 1; k < extra; k++) {
            const uint8_t *anc = dns_name_skip(name, k);
            if (hash_find(z, anc) != DNS_NODE_NONE)
                break; /* its ancestors were added with it */
            struct dns_node *n = &z->nodes[z->nnodes];
            memset(n, 0, sizeof *n);
            n->name = anc;
            hash_insert(z, z->nnodes++);
        }
    }
}

/* Parent, cut and wildcard links; canonical order puts every parent before its children. */
static void zone_link(struct dns_zone *z)
{
    for (uint32_t i = 0; i < z->nnodes; i++) {
        struct dns_node *n = &z->nodes[i];
        n->wild = DNS_NODE_NONE;
        n->cut = DNS_NODE_NONE;
        if (i == 0) {
            n->parent = DNS_NODE_NONE;
            n->flags = DNS_NODE_APEX;
            continue;
        }
        n->parent = hash_find(z, dns_name_parent(n->name));
        const struct dns_node *p = &z->nodes[n->parent];
        n->flags = 0;
        if (p->cut != DNS_NODE_NONE) {
            n->cut = p->cut;
            n->flags |= DNS_NODE_OCCLUDED;
        } else if (dns_node_rrset(n, DNS_TYPE_NS)) {
            n->cut = i;
            n->flags |= DNS_NODE_DELEG;
        }
        if (dns_name_is_wild(n->name)) {
            n->flags |= DNS_NODE_WILD;
            z->nodes[n->parent].wild = i;
        }
    }
}

/* Groups the sorted records into owner nodes. */
static int zone_fill_nodes(struct dns_zone_builder *zb, struct dns_zone *z, struct str *err)
{
    size_t cap;
    /* worst case: every owner brings its own chain of empty non-terminals */
    cap = 0;
    for (size_t k = 0; k < zb->n; k++)
        if (k == 0 || !dns_name_eq(zb->rr[k].owner, zb->rr[k - 1].owner))
            cap += dns_name_labels(zb->rr[k].owner) - z->origin_labels + 1;
    z->nodes = xcalloc(cap ? cap : 1, sizeof *z->nodes);
    z->nnodes = 0;
    for (size_t i = 0, j; i < zb->n; i = j) {
        for (j = i + 1; j < zb->n && dns_name_eq(zb->rr[j].owner, zb->rr[i].owner); j++)
            ;
        struct dns_node *n = &z->nodes[z->nnodes++];
        n->name = zb->rr[i].owner;
        int rc = zb_node_rrsets(zb, z, i, j, n, err);
        if (rc)
            return rc;
    }
    hash_build(z, (uint32_t)cap);
    return 0;
}

static int zone_check_apex(struct dns_zone_builder *zb, struct dns_zone *z, struct str *err)
{
    const char *file = zb->n ? zb->rr[0].file : zb->file;
    unsigned line = zb->n ? zb->rr[0].line : 0;
    for (size_t k = 0; k < zb->n; k++)
        if (zb->rr[k].seq == 0) {
            file = zb->rr[k].file;
            line = zb->rr[k].line;
        }
    if (z->nnodes == 0 || !dns_name_eq(z->nodes[0].name, z->origin) ||
        !dns_node_rrset(&z->nodes[0], DNS_TYPE_SOA))
        return zb_error(err, file, line ? line : 1, "%s: no SOA record at the zone apex",
                        z->origin);
    z->soa = dns_node_rrset(&z->nodes[0], DNS_TYPE_SOA);
    if (!dns_node_rrset(&z->nodes[0], DNS_TYPE_NS))
        return zb_error(err, file, line ? line : 1, "%s: no NS records at the zone apex",
                        z->origin);
    z->serial = dns_soa_serial(z->soa->rdata[0].data, z->soa->rdata[0].len);
    return 0;
}

static void zone_free(struct dns_zone *z)
{
    free(z->nodes);
    free(z->hash);
    dns_arena_clear(&z->arena);
    free(z);
}

int dns_zone_builder_finish(struct dns_zone_builder *zb, struct dns_zone **zone_out,
                            struct str *err_out)
{
    struct dns_zone *z = xcalloc(1, sizeof *z);
    atomic_init(&z->refs, 1);
    z->arena = zb->arena; /* the records' bytes move to the zone */
    dns_arena_init(&zb->arena, NULL, 0);
    z->origin = dns_arena_dup(&z->arena, zb->origin, dns_name_len(zb->origin));
    z->origin_labels = dns_name_labels(z->origin);
    if (zb->n)
        qsort(zb->rr, zb->n, sizeof *zb->rr, zb_rr_cmp);
    int rc = zone_fill_nodes(zb, z, err_out);
    if (rc == 0) {
        zone_add_ents(z);
        qsort(z->nodes, z->nnodes, sizeof *z->nodes, node_cmp);
        memset(z->hash, 0, (z->hmask + 1) * sizeof *z->hash);
        for (uint32_t i = 0; i < z->nnodes; i++)
            hash_insert(z, i);
        rc = zone_check_apex(zb, z, err_out);
    }
    if (rc == 0)
        zone_link(z);
    dns_zone_builder_free(zb);
    if (rc) {
        zone_free(z);
        return rc;
    }
    *zone_out = z;
    return 0;
}

/* ---- loading ---- */

/* The file names of records must outlive the reader: keep them in the builder's arena. */
struct load_ctx {
    struct dns_zone_builder *zb;
    const char *kept_file; /* arena copy of the last file name seen */
    char why[DNS_NAME_TEXT_MAX + 32];
};

static int zone_load_cb(void *ctx, const struct dns_zonefile_rr *rr, const char **reason_out)
{
    struct load_ctx *lc = ctx;
    /* compare the text: an included file's name is freed when the include ends */
    if (!lc->kept_file || strcmp(rr->file, lc->kept_file) != 0) {
        lc->kept_file = dns_arena_dup(&lc->zb->arena, rr->file, strlen(rr->file) + 1);
    }
    int rc = dns_zone_builder_add(lc->zb, rr->owner, rr->type, rr->ttl, rr->rdata, rr->rdlen,
                                  lc->kept_file, rr->line, reason_out);
    if (rc && !dns_name_is_sub(rr->owner, lc->zb->origin)) {
        char name[DNS_NAME_TEXT_MAX];
        dns_name_to_text(rr->owner, name, sizeof name);
        snprintf(lc->why, sizeof lc->why, "out-of-zone data (%s)", name);
        *reason_out = lc->why;
    }
    return rc;
}

int dns_zone_load(const char *path, const uint8_t *origin, struct dns_zone **zone_out,
                  struct str *err_out)
{
    struct dns_zone_builder *zb = dns_zone_builder_new(origin);
    zb->file = dns_arena_dup(&zb->arena, path, strlen(path) + 1);
    struct load_ctx lc = {.zb = zb};
    int rc = dns_zonefile_read(path, origin, 0, zone_load_cb, &lc, err_out);
    if (rc) {
        dns_zone_builder_free(zb);
        return rc;
    }
    return dns_zone_builder_finish(zb, zone_out, err_out);
}

int dns_zone_from_text(const char *text, size_t len, const char *fname, const uint8_t *origin,
                       unsigned flags, struct dns_zone **zone_out, struct str *err_out)
{
    struct dns_zone_builder *zb = dns_zone_builder_new(origin);
    zb->file = dns_arena_dup(&zb->arena, fname, strlen(fname) + 1);
    struct load_ctx lc = {.zb = zb};
    int rc = dns_zonefile_parse(text, len, fname, origin, flags, zone_load_cb, &lc, err_out);
    if (rc) {
        dns_zone_builder_free(zb);
        return rc;
    }
    return dns_zone_builder_finish(zb, zone_out, err_out);
}

/* ---- lifetime ---- */

struct dns_zone *dns_zone_ref(struct dns_zone *z)
{
    atomic_fetch_add_explicit(&z->refs, 1, memory_order_relaxed);
    return z;
}

void dns_zone_unref(struct dns_zone *z)
{
    if (z && atomic_fetch_sub_explicit(&z->refs, 1, memory_order_acq_rel) == 1)
        zone_free(z);
}

/* ---- queries ---- */

const uint8_t *dns_zone_origin(const struct dns_zone *z)
{
    return z->origin;
}

unsigned dns_zone_origin_labels(const struct dns_zone *z)
{
    return z->origin_labels;
}

uint32_t dns_zone_serial(const struct dns_zone *z)
{
    return z->serial;
}

size_t dns_zone_records(const struct dns_zone *z)
{
    return z->nrecords;
}

const struct dns_rrset *dns_zone_soa(const struct dns_zone *z)
{
    return z->soa;
}

const struct dns_node *dns_zone_nodes(const struct dns_zone *z, size_t *count_out)
{
    *count_out = z->nnodes;
    return z->nodes;
}

const struct dns_node *dns_zone_node(const struct dns_zone *z, uint32_t index)
{
    return index < z->nnodes ? &z->nodes[index] : NULL;
}

const struct dns_node *dns_zone_find(const struct dns_zone *z, const uint8_t *name,
                                     const struct dns_node **encloser_out)
{
    unsigned labels = dns_name_labels(name);
    if (encloser_out)
        *encloser_out = NULL;
    if (labels < z->origin_labels)
        return NULL;
    for (unsigned k = 0; k <= labels - z->origin_labels; k++) {
        uint32_t idx = hash_find(z, dns_name_skip(name, k));
        if (idx != DNS_NODE_NONE) {
            if (encloser_out)
                *encloser_out = &z->nodes[idx];
            return k == 0 ? &z->nodes[idx] : NULL;
        }
    }
    return NULL;
}

const struct dns_rrset *dns_node_rrset(const struct dns_node *n, uint16_t type)
{
    for (uint16_t i = 0; i < n->nrrsets; i++) {
        if (n->rrsets[i].type == type)
            return &n->rrsets[i];
        if (n->rrsets[i].type > type)
            break;
    }
    return NULL;
}

bool dns_rrset_same_rdata(const struct dns_rrset *a, const struct dns_rrset *b)
{
    if (a->count != b->count)
        return false;
    for (unsigned i = 0; i < a->count; i++)
        if (a->rdata[i].len != b->rdata[i].len ||
            memcmp(a->rdata[i].data, b->rdata[i].data, a->rdata[i].len) != 0)
            return false;
    return true;
}
