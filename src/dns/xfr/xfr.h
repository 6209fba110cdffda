/*
 * xfr — zone transfers as pure message streams.
 *
 * Out (the primary's side): struct dns_xfrout turns a zone and its history of differences into
 * the messages of an AXFR (RFC 5936: SOA, every record, SOA) or an IXFR (RFC 1995 §4: the
 * differences from the client's serial, or the AXFR form when the history does not reach it,
 * or the SOA alone when the client is up to date). Each message is filled up to the size
 * given, with the question in the first one only.
 *
 * In (the secondary's side): struct dns_xfrin consumes parsed response messages of an AXFR or
 * IXFR, tells when the transfer is complete, and yields the new zone (built and checked
 * whole) plus, for an incremental transfer, the differences it applied.
 *
 * Also the small requests a secondary and a primary send: SOA query, AXFR/IXFR request, NOTIFY.
 *
 * Pure: no I/O, no clock. An xfrout holds references on the zone and history it streams.
 */
#ifndef PIGEON_DNS_XFR_XFR_H
#define PIGEON_DNS_XFR_XFR_H

#include "dns/name.h"
#include "dns/wire.h"
#include "dns/xfr/rrvec.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dns_zone;

/* ---- out ---- */

enum dns_xfrout_mode { DNS_XFROUT_AXFR, DNS_XFROUT_IXFR, DNS_XFROUT_UPTODATE };

struct dns_xfrout {
    struct dns_zone *zone;     /* reference */
    struct dns_xfr_hist *hist; /* reference, or NULL */
    enum dns_xfrout_mode mode;
    uint8_t qname[DNS_NAME_MAXLEN];
    uint16_t qtype, qclass, id;
    bool edns;
    int phase;
    size_t node, rrset, rdata; /* AXFR position */
    size_t diff, part, idx;    /* IXFR position */
    unsigned nmsg;             /* messages produced */
    size_t nrecords;           /* records produced */
    bool failed;               /* a record did not fit in an empty message */
};

/*
 * Starts the answer to the parsed request q (qtype AXFR or IXFR; an IXFR has the client's
 * SOA in its authority section) for zone z with history h (may be NULL). Takes references.
 * 0, or ERR_PARSE for an IXFR without the client's SOA (answer FORMERR).
 */
int dns_xfrout_init(struct dns_xfrout *x, const struct dns_msg *q, struct dns_zone *z,
                    struct dns_xfr_hist *h);
/*
 * Writes the next message into out[0..max) keeping `reserve` bytes free at the end (for a
 * TSIG record). Returns its length, or 0 when the transfer is complete (or x->failed).
 */
size_t dns_xfrout_next(struct dns_xfrout *x, uint8_t *out, size_t max, size_t reserve);
bool dns_xfrout_done(const struct dns_xfrout *x);
void dns_xfrout_clear(struct dns_xfrout *x);

/* ---- in ---- */

enum dns_xfrin_result { DNS_XFRIN_UPTODATE = 1, DNS_XFRIN_FULL, DNS_XFRIN_INCREMENTAL };

struct dns_xfrin {
    uint8_t origin[DNS_NAME_MAXLEN];
    uint16_t qtype;       /* DNS_TYPE_AXFR or DNS_TYPE_IXFR */
    uint32_t have_serial; /* IXFR: the serial we have */
    int state;
    uint32_t final_serial;
    size_t nrecords;
    struct dns_xrr first_soa;    /* copy in arena */
    struct dns_zone_builder *zb; /* full transfer being built */
    struct dns_zdiff **diffs;    /* incremental: differences received */
    size_t ndiffs;
    struct dns_zdiff *cur; /* the difference being received */
    struct dns_arena arena;
    const char *err; /* static reason after a failure */
};

/* Starts receiving the answer to an AXFR or IXFR (have_serial: our current serial). */
void dns_xfrin_init(struct dns_xfrin *x, const uint8_t *origin, uint16_t qtype,
                    uint32_t have_serial);
/*
 * One response message (already checked to answer our request). > 0 when the transfer is
 * complete, 0 when more messages must follow, < 0 on error (x->err says why).
 */
int dns_xfrin_feed(struct dns_xfrin *x, const struct dns_msg *m);
/*
 * After completion: builds the result. UPTODATE: nothing. FULL: *zone_out. INCREMENTAL:
 * *zone_out = cur with the differences applied, and *hist_io extended with them.
 * Returns the enum dns_xfrin_result, or < 0 with the reason in err.
 */
int dns_xfrin_finish(struct dns_xfrin *x, const struct dns_zone *cur, struct dns_zone **zone_out,
                     struct dns_xfr_hist **hist_io, size_t max_diffs, struct str *err);
/* The differences received (incremental), for the journal. Borrowed from x. */
struct dns_zdiff *const *dns_xfrin_diffs(const struct dns_xfrin *x, size_t *n_out);
void dns_xfrin_clear(struct dns_xfrin *x);

/* ---- requests ---- */

/*
 * Builds a query for (qname, qtype) with the given id into out[0..cap): a plain SOA query, an
 * AXFR, an IXFR (soa: our SOA rdata, put in the authority section, RFC 1995 §3), or a NOTIFY
 * (opcode 4, AA set, soa in the answer section when given, RFC 1996 §3.7). Returns the length
 * or 0 when it does not fit.
 */
size_t dns_xfr_build(uint8_t *out, size_t cap, uint16_t id, unsigned opcode, const uint8_t *qname,
                     uint16_t qtype, const uint8_t *soa, size_t soalen, uint32_t soa_ttl);

#endif
