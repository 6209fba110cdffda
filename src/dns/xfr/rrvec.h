/*
 * rrvec — a zone's records as one sorted, editable array, and zone differences.
 *
 * The zone database (dns/zone.h) is immutable; a change (UPDATE, IXFR, reload) is made by
 * turning the zone into an rrvec, editing it, and building a new zone from it. Records are
 * kept in the zone's own order (owner in RFC 4034 §6.1 canonical order, then type, then rdata
 * bytes), so the vector of an existing zone needs no sort, lookups are binary searches and two
 * versions can be compared by one merge (dns_rrvec_diff: the IXFR difference of RFC 1995).
 *
 * A struct dns_zdiff is one such difference (old SOA, deleted records, new SOA, added ones),
 * immutable and reference-counted once built, so worker threads can stream it in IXFR answers
 * while the control thread makes the next one. struct dns_xfr_hist is a zone's list of them.
 *
 * Memory: an rrvec holds pointers only; the caller keeps the zone or arena they point into
 * alive. A zdiff owns copies of everything in its own arena. Pure: no I/O, no globals.
 */
#ifndef PIGEON_DNS_XFR_RRVEC_H
#define PIGEON_DNS_XFR_RRVEC_H

#include "core/str.h"
#include "dns/arena.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dns_zone;

/* One record; owner is lower-cased wire form. */
struct dns_xrr {
    const uint8_t *owner;
    const uint8_t *rdata;
    uint32_t ttl;
    uint16_t type;
    uint16_t rdlen;
};

struct dns_rrvec {
    struct dns_xrr *v;
    size_t n, cap;
};

/* ---- records ---- */

/* Order of (owner, type, rdata); the TTL is not part of a record's identity. */
int dns_xrr_cmp(const struct dns_xrr *a, const struct dns_xrr *b);
/* rdata order used by the zone: bytes, then the shorter first. */
int dns_xrr_rdata_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl);

/* ---- vectors ---- */

void dns_rrvec_init(struct dns_rrvec *v);
void dns_rrvec_clear(struct dns_rrvec *v);
/* Appends r at the end (no order kept: call dns_rrvec_sort after a series of pushes). */
void dns_rrvec_push(struct dns_rrvec *v, const struct dns_xrr *r);
/* Sorts and drops exact duplicates (the first TTL wins). */
void dns_rrvec_sort(struct dns_rrvec *v);
/* Every record of z in order, pointing into z (keep a reference while v is used). */
void dns_rrvec_from_zone(struct dns_rrvec *v, const struct dns_zone *z);
/* Index of the first record with (owner, type) >= the given pair (type 0: the first record
 * of owner). */
size_t dns_rrvec_lower(const struct dns_rrvec *v, const uint8_t *owner, uint16_t type);
/* Number of records at [i..) with this owner and type (type 0: any type). */
size_t dns_rrvec_run(const struct dns_rrvec *v, size_t i, const uint8_t *owner, uint16_t type);
/* Inserts r in order. An identical record (same owner, type and rdata) only gets r's TTL.
 * Returns true when a record was added. */
bool dns_rrvec_insert(struct dns_rrvec *v, const struct dns_xrr *r);
/* Removes the record identical to r. Returns true when there was one. */
bool dns_rrvec_remove(struct dns_rrvec *v, const struct dns_xrr *r);
/* Removes n records at [i, i+n). */
void dns_rrvec_remove_at(struct dns_rrvec *v, size_t i, size_t n);
/* Sets the TTL of every record of (owner, type) to ttl (RFC 2181 §5.2: one TTL per RRset). */
void dns_rrvec_set_ttl(struct dns_rrvec *v, const uint8_t *owner, uint16_t type, uint32_t ttl);
/* The SOA record (at origin), or NULL. */
const struct dns_xrr *dns_rrvec_soa(const struct dns_rrvec *v, const uint8_t *origin);
/*
 * Builds a zone at origin from v (checked as a whole, dns_zone_builder_finish). 0 with
 * *zone_out (one reference), or ERR_PARSE with the reason appended to err.
 */
int dns_rrvec_to_zone(const struct dns_rrvec *v, const uint8_t *origin, struct dns_zone **zone_out,
                      struct str *err);

/* ---- differences ---- */

struct dns_zdiff {
    atomic_uint refs;
    uint32_t from, to; /* SOA serials before and after */
    struct dns_xrr old_soa, new_soa;
    struct dns_xrr *del; /* records removed (no SOA), in order */
    struct dns_xrr *add; /* records added (no SOA), in order */
    size_t ndel, nadd;
    struct dns_arena arena; /* owns every byte above */
};

/*
 * The difference from old to new (both sorted; each must hold its SOA at origin). A record
 * whose TTL changed is deleted and added again. Returns a new zdiff (one reference), or
 * NULL when either vector lacks its SOA.
 */
struct dns_zdiff *dns_zdiff_make(const struct dns_rrvec *old, const struct dns_rrvec *new_,
                                 const uint8_t *origin);
/* The difference between two versions of one zone (as dns_zdiff_make; NULL when either
 * lacks its SOA). */
struct dns_zdiff *dns_zdiff_of_zones(const struct dns_zone *old, const struct dns_zone *new_);
/* An empty zdiff to fill by hand (dns_zdiff_set_soa, dns_zdiff_add_rr), then freeze. */
struct dns_zdiff *dns_zdiff_new(void);
/* Copies r into d: which = 0 old SOA, 1 deleted, 2 new SOA, 3 added. */
void dns_zdiff_put(struct dns_zdiff *d, int which, const struct dns_xrr *r);
struct dns_zdiff *dns_zdiff_ref(struct dns_zdiff *d);
void dns_zdiff_unref(struct dns_zdiff *d);
/*
 * Applies d to v (RFC 1995 §5: deletions, then additions; the SOA replaced). v's SOA serial
 * must be d->from. v then points into d: keep d alive while v is used. 0, or ERR_PARSE when
 * the SOA does not match or a record to delete is missing (v is then partly changed).
 */
int dns_zdiff_apply(const struct dns_zdiff *d, struct dns_rrvec *v, const uint8_t *origin);

/* A zone's history of differences, oldest first, each d[i].to == d[i+1].from. Immutable. */
struct dns_xfr_hist {
    atomic_uint refs;
    size_t n;
    struct dns_zdiff **d;
};

/*
 * A new history: old's differences (may be NULL) followed by d (may be NULL), keeping at most
 * max_diffs of the newest, and dropping old's when d->from does not continue them.
 * Takes its own references. Returns one reference.
 */
struct dns_xfr_hist *dns_xfr_hist_append(const struct dns_xfr_hist *old, struct dns_zdiff *d,
                                         size_t max_diffs);
struct dns_xfr_hist *dns_xfr_hist_ref(struct dns_xfr_hist *h);
void dns_xfr_hist_unref(struct dns_xfr_hist *h);
/* Index of the difference that starts at serial (the chain from there reaches the newest),
 * or -1. */
long dns_xfr_hist_find(const struct dns_xfr_hist *h, uint32_t serial);

#endif
