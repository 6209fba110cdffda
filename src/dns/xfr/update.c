/* update — RFC 2136 dynamic UPDATE over an immutable zone. See update.h. */
#include "dns/xfr/update.h"

#include "core/err.h"
#include "dns/name.h"
#include "dns/rr.h"
#include "dns/zone.h"

#include <string.h>

/* ---- prerequisites (RFC 2136 §3.2) ---- */

struct uctx {
    const uint8_t *origin;
    struct dns_rrvec v;
    struct dns_arena arena; /* lower-cased owner copies */
    struct dns_update_result *res;
};

static unsigned ufault(struct uctx *u, unsigned rcode, const char *why)
{
    u->res->rcode = rcode;
    u->res->why = why;
    return rcode;
}

static bool name_in_use(const struct uctx *u, const uint8_t *name)
{
    size_t i = dns_rrvec_lower(&u->v, name, 0);
    return dns_rrvec_run(&u->v, i, name, 0) > 0;
}

static bool rrset_exists(const struct uctx *u, const uint8_t *name, uint16_t type)
{
    size_t i = dns_rrvec_lower(&u->v, name, type);
    return dns_rrvec_run(&u->v, i, name, type) > 0;
}

/* TYPE 0 is reserved (RFC 6895 §3.1), and the rrvec reads type 0 as "every type"
 * (dns_rrvec_lower/run): taken from the wire, "delete the TYPE0 RRset at the apex" removed
 * the SOA and the NS past the apex guards, and a TYPE0 prerequisite tested the whole name. */
static bool is_reserved_type(uint16_t t)
{
    return t == 0;
}

static bool is_qtype(uint16_t t)
{
    const struct dns_type_desc *d = dns_type_desc(t);
    return d && (d->flags & (DNS_TF_META | DNS_TF_QTYPE));
}

/* One value-independent prerequisite; value-dependent ones go to tmp. */
static unsigned prereq_one(struct uctx *u, const struct dns_rr *rr, struct dns_rrvec *tmp)
{
    if (rr->ttl != 0)
        return ufault(u, DNS_RCODE_FORMERR, "prerequisite with a TTL");
    if (!dns_name_is_sub(rr->owner, u->origin))
        return ufault(u, DNS_RCODE_NOTZONE, "prerequisite outside the zone");
    if (is_reserved_type(rr->type))
        return ufault(u, DNS_RCODE_FORMERR, "prerequisite of type 0");
    if (rr->rclass == DNS_CLASS_ANY || rr->rclass == DNS_CLASS_NONE) {
        bool any = rr->rclass == DNS_CLASS_ANY;
        if (rr->rdlen != 0)
            return ufault(u, DNS_RCODE_FORMERR, "prerequisite with rdata");
        bool there = rr->type == DNS_TYPE_ANY ? name_in_use(u, rr->owner)
                                              : rrset_exists(u, rr->owner, rr->type);
        if (any && !there)
            return rr->type == DNS_TYPE_ANY
                       ? ufault(u, DNS_RCODE_NXDOMAIN, "prerequisite: name not in use")
                       : ufault(u, DNS_RCODE_NXRRSET, "prerequisite: RRset does not exist");
        if (!any && there)
            return rr->type == DNS_TYPE_ANY
                       ? ufault(u, DNS_RCODE_YXDOMAIN, "prerequisite: name in use")
                       : ufault(u, DNS_RCODE_YXRRSET, "prerequisite: RRset exists");
        return DNS_RCODE_NOERROR;
    }
    if (rr->rclass != DNS_CLASS_IN || rr->type == DNS_TYPE_ANY || is_qtype(rr->type))
        return ufault(u, DNS_RCODE_FORMERR, "bad prerequisite class or type");
    struct dns_xrr r = {rr->owner, rr->rdata, 0, rr->type, rr->rdlen};
    dns_rrvec_push(tmp, &r);
    return DNS_RCODE_NOERROR;
}

/* RFC 2136 §3.2.3: each value-dependent RRset must match the zone's exactly. */
static unsigned prereq_values(struct uctx *u, struct dns_rrvec *tmp)
{
    dns_rrvec_sort(tmp);
    for (size_t i = 0; i < tmp->n;) {
        const struct dns_xrr *r = &tmp->v[i];
        size_t n = dns_rrvec_run(tmp, i, r->owner, r->type);
        size_t z = dns_rrvec_lower(&u->v, r->owner, r->type);
        size_t zn = dns_rrvec_run(&u->v, z, r->owner, r->type);
        if (zn != n)
            return ufault(u, DNS_RCODE_NXRRSET, "prerequisite: RRset differs");
        for (size_t k = 0; k < n; k++)
            if (dns_xrr_rdata_cmp(tmp->v[i + k].rdata, tmp->v[i + k].rdlen, u->v.v[z + k].rdata,
                                  u->v.v[z + k].rdlen) != 0)
                return ufault(u, DNS_RCODE_NXRRSET, "prerequisite: RRset differs");
        i += n;
    }
    return DNS_RCODE_NOERROR;
}

static unsigned prereqs(struct uctx *u, const struct dns_msg *m)
{
    struct dns_rrvec tmp;
    dns_rrvec_init(&tmp);
    unsigned rc = DNS_RCODE_NOERROR;
    for (unsigned i = 0; i < m->count[0] && rc == DNS_RCODE_NOERROR; i++)
        rc = prereq_one(u, &m->rr[0][i], &tmp);
    if (rc == DNS_RCODE_NOERROR)
        rc = prereq_values(u, &tmp);
    dns_rrvec_clear(&tmp);
    return rc;
}

/* ---- update section (RFC 2136 §3.4) ---- */

static unsigned prescan(struct uctx *u, const struct dns_msg *m)
{
    for (unsigned i = 0; i < m->count[1]; i++) {
        const struct dns_rr *rr = &m->rr[1][i];
        if (!dns_name_is_sub(rr->owner, u->origin))
            return ufault(u, DNS_RCODE_NOTZONE, "update outside the zone");
        bool bad;
        switch (rr->rclass) {
        case DNS_CLASS_IN:
            bad = rr->type == DNS_TYPE_ANY || is_qtype(rr->type);
            break;
        case DNS_CLASS_ANY:
            bad =
                rr->ttl != 0 || rr->rdlen != 0 || (rr->type != DNS_TYPE_ANY && is_qtype(rr->type));
            break;
        case DNS_CLASS_NONE:
            bad = rr->ttl != 0 || is_qtype(rr->type);
            break;
        default:
            bad = true;
            break;
        }
        if (is_reserved_type(rr->type))
            bad = true;
        if (!bad && rr->rclass == DNS_CLASS_IN &&
            dns_rdata_check(rr->type, rr->rdata, rr->rdlen) != 0)
            bad = true;
        if (bad)
            return ufault(u, DNS_RCODE_FORMERR, "malformed update record");
    }
    return DNS_RCODE_NOERROR;
}

static bool is_apex(const struct uctx *u, const uint8_t *name)
{
    return dns_name_eq(name, u->origin);
}

/* §3.4.2.2: adds, with the SOA serial and CNAME rules. */
static void upd_add(struct uctx *u, const struct dns_xrr *r)
{
    size_t i = dns_rrvec_lower(&u->v, r->owner, 0);
    size_t n = dns_rrvec_run(&u->v, i, r->owner, 0);
    bool has_cname = false, has_other = false;
    for (size_t k = i; k < i + n; k++) {
        uint16_t t = u->v.v[k].type;
        if (t == DNS_TYPE_CNAME)
            has_cname = true;
        else if (t != DNS_TYPE_RRSIG && t != DNS_TYPE_NSEC)
            has_other = true;
    }
    if (r->type == DNS_TYPE_SOA) {
        const struct dns_xrr *soa = dns_rrvec_soa(&u->v, u->origin);
        if (!is_apex(u, r->owner) || !soa ||
            dns_serial_cmp(dns_soa_serial(r->rdata, r->rdlen),
                           dns_soa_serial(soa->rdata, soa->rdlen)) != 1)
            return; /* a SOA elsewhere, or not newer: silently ignored */
        dns_rrvec_remove_at(&u->v, (size_t)(soa - u->v.v), 1);
        dns_rrvec_insert(&u->v, r);
        return;
    }
    if (r->type == DNS_TYPE_CNAME) {
        if (has_other)
            return;
        size_t c = dns_rrvec_lower(&u->v, r->owner, DNS_TYPE_CNAME);
        dns_rrvec_remove_at(&u->v, c, dns_rrvec_run(&u->v, c, r->owner, DNS_TYPE_CNAME));
    } else if (has_cname && r->type != DNS_TYPE_RRSIG && r->type != DNS_TYPE_NSEC) {
        return;
    }
    dns_rrvec_insert(&u->v, r);
    dns_rrvec_set_ttl(&u->v, r->owner, r->type, r->ttl);
}

/* §3.4.2.3: delete an RRset (type) or all RRsets at a name (type ANY). */
static void upd_del_rrset(struct uctx *u, const uint8_t *name, uint16_t type)
{
    bool apex = is_apex(u, name);
    if (type != DNS_TYPE_ANY) {
        if (apex && (type == DNS_TYPE_SOA || type == DNS_TYPE_NS))
            return;
        size_t i = dns_rrvec_lower(&u->v, name, type);
        dns_rrvec_remove_at(&u->v, i, dns_rrvec_run(&u->v, i, name, type));
        return;
    }
    size_t i = dns_rrvec_lower(&u->v, name, 0);
    size_t n = dns_rrvec_run(&u->v, i, name, 0);
    for (size_t k = i + n; k-- > i;) {
        uint16_t t = u->v.v[k].type;
        if (!apex || (t != DNS_TYPE_SOA && t != DNS_TYPE_NS))
            dns_rrvec_remove_at(&u->v, k, 1);
    }
}

/* §3.4.2.4: delete one record; never the SOA, never the last apex NS. */
static void upd_del_rr(struct uctx *u, const struct dns_xrr *r)
{
    if (r->type == DNS_TYPE_SOA)
        return;
    if (r->type == DNS_TYPE_NS && is_apex(u, r->owner)) {
        size_t i = dns_rrvec_lower(&u->v, r->owner, DNS_TYPE_NS);
        if (dns_rrvec_run(&u->v, i, r->owner, DNS_TYPE_NS) <= 1)
            return;
    }
    dns_rrvec_remove(&u->v, r);
}

static void apply_updates(struct uctx *u, const struct dns_msg *m)
{
    for (unsigned i = 0; i < m->count[1]; i++) {
        const struct dns_rr *rr = &m->rr[1][i];
        uint8_t *owner = dns_arena_dup(&u->arena, rr->owner, dns_name_len(rr->owner));
        dns_name_lower(owner);
        struct dns_xrr r = {owner, rr->rdata, rr->ttl, rr->type, rr->rdlen};
        if (rr->rclass == DNS_CLASS_IN)
            upd_add(u, &r);
        else if (rr->rclass == DNS_CLASS_ANY)
            upd_del_rrset(u, owner, rr->type);
        else
            upd_del_rr(u, &r);
    }
}

/* §3.6: the serial goes up by one unless the update itself raised it. */
static void bump_serial(struct uctx *u, uint32_t old_serial)
{
    const struct dns_xrr *soa = dns_rrvec_soa(&u->v, u->origin);
    if (dns_serial_cmp(dns_soa_serial(soa->rdata, soa->rdlen), old_serial) == 1)
        return;
    struct dns_xrr r = *soa;
    uint8_t *rd = dns_arena_dup(&u->arena, soa->rdata, soa->rdlen);
    size_t off = dns_name_len(rd);
    off += dns_name_len(rd + off);
    uint32_t s = dns_serial_add(old_serial, 1);
    rd[off] = (uint8_t)(s >> 24);
    rd[off + 1] = (uint8_t)(s >> 16);
    rd[off + 2] = (uint8_t)(s >> 8);
    rd[off + 3] = (uint8_t)s;
    r.rdata = rd;
    dns_rrvec_remove_at(&u->v, (size_t)(soa - u->v.v), 1);
    dns_rrvec_insert(&u->v, &r);
}

/* Builds the new zone and difference when the update changed anything. */
static void commit(struct uctx *u, const struct dns_zone *z)
{
    struct dns_rrvec old;
    dns_rrvec_init(&old);
    dns_rrvec_from_zone(&old, z);
    struct dns_zdiff *d = dns_zdiff_make(&old, &u->v, u->origin);
    bool soa_same = d && d->old_soa.ttl == d->new_soa.ttl &&
                    dns_xrr_rdata_cmp(d->old_soa.rdata, d->old_soa.rdlen, d->new_soa.rdata,
                                      d->new_soa.rdlen) == 0;
    if (d && d->ndel + d->nadd == 0 && soa_same) {
        dns_zdiff_unref(d); /* nothing changed (RFC 2136 §3.4.2.7: no serial bump either) */
        dns_rrvec_clear(&old);
        return;
    }
    dns_zdiff_unref(d);
    /* A last guard: prescan refuses TYPE0, the one way fuzz_dns_server found to get here. */
    if (!dns_rrvec_soa(&u->v, u->origin)) {
        ufault(u, DNS_RCODE_REFUSED, "the update would leave the zone without its SOA");
        dns_rrvec_clear(&old);
        return;
    }
    bump_serial(u, dns_zone_serial(z));
    struct str err = STR_INIT;
    if (dns_rrvec_to_zone(&u->v, u->origin, &u->res->zone, &err) != 0) {
        ufault(u, DNS_RCODE_REFUSED, "the updated zone would be invalid");
        u->res->zone = NULL;
    } else {
        u->res->diff = dns_zdiff_make(&old, &u->v, u->origin);
    }
    str_clear(&err);
    dns_rrvec_clear(&old);
}

void dns_update_apply(const struct dns_zone *z, const struct dns_msg *m,
                      struct dns_update_result *res)
{
    memset(res, 0, sizeof *res);
    struct uctx u = {.origin = dns_zone_origin(z), .res = res};
    dns_rrvec_init(&u.v);
    dns_arena_init(&u.arena, NULL, 0);
    dns_rrvec_from_zone(&u.v, z);
    if (prereqs(&u, m) == DNS_RCODE_NOERROR && prescan(&u, m) == DNS_RCODE_NOERROR) {
        apply_updates(&u, m);
        commit(&u, z);
    }
    dns_rrvec_clear(&u.v);
    dns_arena_clear(&u.arena);
}
