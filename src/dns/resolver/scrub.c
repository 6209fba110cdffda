/* scrub — see scrub.h. Records are grouped into RRsets per section first, then picked. */
#include "dns/resolver/scrub.h"

#include "dns/name.h"
#include "dns/resolver/cache.h"
#include "dns/rr.h"

#include <string.h>

#define MAX_GROUPS 96

struct group {
    const uint8_t *owner;
    uint16_t type;
    uint8_t sec; /* 0 answer, 1 authority, 2 additional */
    bool used;
    uint16_t count;
    uint32_t ttl;
    struct dns_rdata *rd;
};

struct groups {
    struct group g[MAX_GROUPS];
    unsigned n;
};

static int group_find(const struct groups *gs, unsigned sec, const uint8_t *owner, uint16_t type)
{
    for (unsigned i = 0; i < gs->n; i++)
        if (gs->g[i].sec == sec && gs->g[i].type == type && dns_name_eq(gs->g[i].owner, owner))
            return (int)i;
    return -1;
}

/* Groups every IN record of the three sections into RRsets. */
static void group_all(const struct dns_msg *m, struct dns_arena *a, struct groups *gs,
                      unsigned *dropped)
{
    gs->n = 0;
    for (unsigned sec = 0; sec < 3; sec++) {
        for (uint16_t i = 0; i < m->count[sec]; i++) {
            const struct dns_rr *rr = &m->rr[sec][i];
            int k = rr->rclass == DNS_CLASS_IN ? group_find(gs, sec, rr->owner, rr->type) : -2;
            if (k == -1 && gs->n < MAX_GROUPS) {
                k = (int)gs->n++;
                gs->g[k] =
                    (struct group){rr->owner, rr->type, (uint8_t)sec, false, 0, rr->ttl, NULL};
            }
            if (k < 0) {
                (*dropped)++;
                continue;
            }
            struct group *g = &gs->g[k];
            struct dns_rdata *rd = dns_arena_alloc(a, (g->count + 1u) * sizeof *rd);
            if (g->count)
                memcpy(rd, g->rd, g->count * sizeof *rd);
            rd[g->count++] = (struct dns_rdata){rr->rdlen, rr->rdata};
            g->rd = rd;
            if (rr->ttl < g->ttl)
                g->ttl = rr->ttl;
        }
    }
}

static int keep(struct dns_scrub *out, struct group *g, uint8_t rank, uint8_t role)
{
    if (out->n >= DNS_SCRUB_MAX_RRSETS)
        return -1;
    g->used = true;
    /* RFC 2181 §8: a TTL with the top bit set is taken as zero */
    uint32_t ttl = g->ttl > 0x7fffffffu ? 0 : g->ttl;
    out->sets[out->n] =
        (struct dns_scrub_rrset){g->owner, g->type, g->count, ttl, rank, role, g->rd, 0, NULL};
    return (int)out->n++;
}

/* The RRSIGs beside kept set k: same section and owner, covering its type. */
static void attach_sigs(struct groups *gs, unsigned sec, struct dns_scrub_rrset *set,
                        struct dns_arena *a)
{
    int k = group_find(gs, sec, set->owner, DNS_TYPE_RRSIG);
    if (k < 0)
        return;
    struct group *g = &gs->g[k];
    struct dns_rdata *out = dns_arena_alloc(a, g->count * sizeof *out);
    uint16_t n = 0;
    for (uint16_t i = 0; i < g->count; i++)
        if (g->rd[i].len >= 2 && (g->rd[i].data[0] << 8 | g->rd[i].data[1]) == set->type)
            out[n++] = g->rd[i];
    if (n) {
        g->used = true;
        set->sigs = out;
        set->nsig = n;
    }
}

/* NSEC and NSEC3 sets of the authority section inside zone (denial and wildcard proofs). */
static void pick_proofs(struct groups *gs, const uint8_t *zone, bool aa, struct dns_scrub *out)
{
    for (unsigned i = 0; i < gs->n; i++) {
        struct group *g = &gs->g[i];
        if (g->sec == 1 && !g->used && (g->type == DNS_TYPE_NSEC || g->type == DNS_TYPE_NSEC3) &&
            dns_name_is_sub(g->owner, zone))
            keep(out, g, aa ? DNS_RANK_AUTH_AUTHORITY : DNS_RANK_REFERRAL, DNS_ROLE_PROOF);
    }
}

/* The CNAME chain from qname; sets out->end_name. Returns true when the qtype RRset was found,
 * *left_zone when the chain ends at a target outside zone. */
static bool pick_chain(struct groups *gs, const uint8_t *qname, uint16_t qtype, const uint8_t *zone,
                       bool aa, struct dns_scrub *out, bool *left_zone)
{
    const uint8_t *cur = qname;
    uint8_t rank = aa ? DNS_RANK_AUTH_ANSWER : DNS_RANK_ANSWER;
    *left_zone = false;
    for (unsigned hop = 0; hop < DNS_SCRUB_MAX_CHAIN; hop++) {
        out->end_name = cur;
        if (!dns_name_is_sub(cur, zone)) {
            *left_zone = true;
            return false;
        }
        int k = group_find(gs, 0, cur, qtype);
        if (k >= 0 && qtype != DNS_TYPE_CNAME) {
            int idx = keep(out, &gs->g[k], rank, DNS_ROLE_CHAIN);
            if (idx >= 0)
                out->chain[out->nchain++] = idx;
            return idx >= 0;
        }
        k = group_find(gs, 0, cur, DNS_TYPE_CNAME);
        if (k < 0 || gs->g[k].count != 1)
            return false;
        int idx = keep(out, &gs->g[k], rank, DNS_ROLE_CHAIN);
        if (idx < 0)
            return false;
        out->chain[out->nchain++] = idx;
        if (qtype == DNS_TYPE_CNAME)
            return true;
        cur = gs->g[k].rd[0].data;
    }
    return false;
}

/* The NS (referral or the zone's own) and SOA of the authority section about name. */
static void pick_authority(struct groups *gs, const uint8_t *name, const uint8_t *zone, bool aa,
                           struct dns_scrub *out)
{
    for (unsigned i = 0; i < gs->n; i++) {
        struct group *g = &gs->g[i];
        if (g->sec != 1 || g->used || !dns_name_is_sub(g->owner, zone) ||
            !dns_name_is_sub(name, g->owner))
            continue;
        if (g->type == DNS_TYPE_SOA && out->soa < 0 && g->count == 1)
            out->soa = keep(out, g, aa ? DNS_RANK_AUTH_AUTHORITY : DNS_RANK_REFERRAL, DNS_ROLE_SOA);
        else if (g->type == DNS_TYPE_NS && out->ns < 0)
            out->ns = keep(out, g,
                           aa && dns_name_eq(g->owner, zone) ? DNS_RANK_AUTH_AUTHORITY
                                                             : DNS_RANK_REFERRAL,
                           DNS_ROLE_NS);
    }
}

/* A/AAAA of the kept NS names, inside the zone (glue). */
static void pick_glue(struct groups *gs, const uint8_t *zone, struct dns_scrub *out)
{
    if (out->ns < 0)
        return;
    const struct dns_scrub_rrset *ns = &out->sets[out->ns];
    for (unsigned i = 0; i < gs->n; i++) {
        struct group *g = &gs->g[i];
        if (g->sec != 2 || g->used || (g->type != DNS_TYPE_A && g->type != DNS_TYPE_AAAA) ||
            !dns_name_is_sub(g->owner, zone))
            continue;
        for (uint16_t k = 0; k < ns->count; k++)
            if (dns_name_eq(ns->rdata[k].data, g->owner)) {
                keep(out, g, DNS_RANK_ADDITIONAL, DNS_ROLE_GLUE);
                break;
            }
    }
}

static enum dns_scrub_kind classify(const struct dns_msg *m, const uint8_t *zone, bool found,
                                    bool left_zone, const struct dns_scrub *out)
{
    if (found)
        return DNS_SCRUB_ANSWER;
    if (left_zone || (out->nchain > 0 && m->rcode == DNS_RCODE_NOERROR))
        return DNS_SCRUB_CNAME;
    if (m->rcode == DNS_RCODE_NXDOMAIN)
        return m->hdr.aa || out->soa >= 0 ? DNS_SCRUB_NXDOMAIN : DNS_SCRUB_LAME;
    bool below = out->ns >= 0 && !dns_name_eq(out->sets[out->ns].owner, zone);
    if (below && out->soa < 0)
        return DNS_SCRUB_REFERRAL;
    if (m->hdr.aa || out->soa >= 0)
        return DNS_SCRUB_NODATA;
    return DNS_SCRUB_LAME;
}

void dns_scrub(const struct dns_msg *msg, const uint8_t *qname, uint16_t qtype, const uint8_t *zone,
               struct dns_arena *arena, struct dns_scrub *out)
{
    memset(out, 0, sizeof *out);
    out->ns = out->soa = -1;
    out->rcode = msg->rcode;
    out->end_name = qname;
    if (msg->rcode != DNS_RCODE_NOERROR && msg->rcode != DNS_RCODE_NXDOMAIN) {
        out->kind = DNS_SCRUB_ERROR;
        return;
    }
    if (!dns_name_is_sub(qname, zone)) { /* not a question for this zone's servers */
        out->kind = DNS_SCRUB_LAME;
        return;
    }
    struct groups *gs = dns_arena_alloc(arena, sizeof *gs);
    group_all(msg, arena, gs, &out->dropped);
    bool left = false;
    bool found = pick_chain(gs, qname, qtype, zone, msg->hdr.aa, out, &left);
    if (!left)
        pick_authority(gs, out->end_name, zone, msg->hdr.aa, out);
    out->kind = classify(msg, zone, found, left, out);
    if (out->kind == DNS_SCRUB_REFERRAL || out->kind == DNS_SCRUB_ANSWER)
        pick_glue(gs, zone, out);
    if (out->kind != DNS_SCRUB_REFERRAL && !left)
        pick_proofs(gs, zone, msg->hdr.aa, out);
    for (unsigned i = 0; i < out->n; i++) {
        struct dns_scrub_rrset *set = &out->sets[i];
        unsigned sec = set->role == DNS_ROLE_CHAIN ? 0 : set->role == DNS_ROLE_GLUE ? 2 : 1;
        attach_sigs(gs, sec, set, arena);
    }
    if (out->kind == DNS_SCRUB_REFERRAL && out->sets[out->ns].rank > DNS_RANK_REFERRAL)
        out->sets[out->ns].rank = DNS_RANK_REFERRAL;
    for (unsigned i = 0; i < gs->n; i++)
        if (!gs->g[i].used)
            out->dropped += gs->g[i].count;
}
