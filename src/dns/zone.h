/*
 * zone — one authoritative zone as an immutable, reference-counted database built for fast
 * lookups by the answer engine.
 *
 * Layout: every owner name, plus every empty non-terminal between an owner and the apex, is a
 * node. Nodes sit in one array in RFC 4034 §6.1 canonical order (the order AXFR and a future
 * NSEC need) and in an open-addressing hash table keyed by the lower-cased name. Each node
 * holds its RRsets sorted by type, and precomputed links: its parent node, the zone cut
 * (delegation) at or above it, and its wildcard child "*.<node>" if any. So a lookup is:
 * hash the name and its ancestors until a node is found (the closest encloser), then follow
 * the links -- no tree walk and no allocation.
 *
 * A zone is built once (from a master file, a transfer or an update) through a builder that
 * checks it whole: exactly one SOA, at the apex; NS at the apex; no CNAME beside other data;
 * no data outside the zone; at most one CNAME/DNAME per name. A zone that fails is never
 * created, so a server keeps serving the previous version.
 *
 * After dns_zone_builder_finish the zone is read-only and may be shared between threads;
 * dns_zone_ref/unref are atomic. Lookup functions perform no I/O and no allocation;
 * dns_zone_load reads files (blocking).
 */
#ifndef PIGEON_DNS_ZONE_H
#define PIGEON_DNS_ZONE_H

#include "core/str.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_NODE_NONE UINT32_MAX

struct dns_rdata {
    uint16_t len;
    const uint8_t *data; /* uncompressed wire rdata */
};

/* All records of one owner and type. Rdata are unique and in canonical (byte) order. */
struct dns_rrset {
    uint16_t type;
    uint16_t count;
    uint32_t ttl;
    const struct dns_rdata *rdata; /* count entries */
};

enum dns_node_flags {
    DNS_NODE_APEX = 1 << 0,     /* the zone's origin */
    DNS_NODE_DELEG = 1 << 1,    /* a zone cut: NS here and not the apex */
    DNS_NODE_OCCLUDED = 1 << 2, /* strictly below a zone cut: glue or hidden data */
    DNS_NODE_WILD = 1 << 3,     /* the name is a wildcard "*.<parent>" */
};

struct dns_node {
    const uint8_t *name;            /* wire form, lower-cased */
    const struct dns_rrset *rrsets; /* sorted by type; none for an empty non-terminal */
    uint16_t nrrsets;
    uint16_t flags;  /* enum dns_node_flags */
    uint32_t parent; /* index of the parent node, DNS_NODE_NONE for the apex */
    uint32_t cut;    /* index of the highest DNS_NODE_DELEG node at or above this one (the
                        cut a referral must point to), or DNS_NODE_NONE when authoritative */
    uint32_t wild;   /* index of the "*.<name>" node, or NONE */
};

struct dns_zone;
struct dns_zone_builder;

/* ---- building ---- */

/* A builder for the zone at origin (wire form; copied). Free with dns_zone_builder_free or
 * consume with dns_zone_builder_finish. */
struct dns_zone_builder *dns_zone_builder_new(const uint8_t *origin);
/*
 * Adds one record (class IN). file/line (file borrowed until finish; may be NULL) locate the
 * record in messages. Duplicates are dropped silently (as BIND does); within an RRset the
 * first TTL read wins. Returns 0, or ERR_PARSE with *reason_out (static) for data outside
 * the zone, a meta type, or rdata that does not match its type.
 */
int dns_zone_builder_add(struct dns_zone_builder *zb, const uint8_t *owner, uint16_t type,
                         uint32_t ttl, const uint8_t *rdata, size_t rdlen, const char *file,
                         unsigned line, const char **reason_out);
/*
 * Checks the zone as a whole and freezes it. Always consumes zb. Returns 0 with *zone_out
 * (one reference, owned by the caller), or ERR_PARSE with "file:line: reason" appended to
 * err_out (the line of the offending record; the first record for a missing SOA).
 */
int dns_zone_builder_finish(struct dns_zone_builder *zb, struct dns_zone **zone_out,
                            struct str *err_out);
void dns_zone_builder_free(struct dns_zone_builder *zb);

/*
 * Reads and builds the zone in master file path. Returns 0 with *zone_out (one reference),
 * or an ERR_* code with "file:line: reason" in err_out. Blocks on file reads.
 */
int dns_zone_load(const char *path, const uint8_t *origin, struct dns_zone **zone_out,
                  struct str *err_out);

/*
 * Builds the zone from master-file text[0..len) named fname (for messages and $INCLUDE
 * paths); flags are enum dns_zonefile_flags. Same return convention as dns_zone_load; no
 * I/O unless the text has $INCLUDE.
 */
int dns_zone_from_text(const char *text, size_t len, const char *fname, const uint8_t *origin,
                       unsigned flags, struct dns_zone **zone_out, struct str *err_out);

/* ---- lifetime ---- */

/* Takes one more reference (thread-safe); returns z. */
struct dns_zone *dns_zone_ref(struct dns_zone *z);
/* Drops one reference; the last one frees the zone. NULL is fine. Thread-safe. */
void dns_zone_unref(struct dns_zone *z);

/* ---- queries (no I/O, no allocation; pointers live as long as the zone) ---- */

const uint8_t *dns_zone_origin(const struct dns_zone *z);
unsigned dns_zone_origin_labels(const struct dns_zone *z);
uint32_t dns_zone_serial(const struct dns_zone *z);
/* Number of records (RRs, not RRsets) in the zone. */
size_t dns_zone_records(const struct dns_zone *z);
const struct dns_rrset *dns_zone_soa(const struct dns_zone *z);
/* The nodes in canonical order; index 0 is the apex. *count_out gets the number. */
const struct dns_node *dns_zone_nodes(const struct dns_zone *z, size_t *count_out);
const struct dns_node *dns_zone_node(const struct dns_zone *z, uint32_t index);
/*
 * Looks name (any case; must be at or below the origin) up. Returns the node with exactly
 * that name, or NULL; *encloser_out (may be NULL) gets the closest existing node at or above
 * name (the "closest encloser" of RFC 4592 / 5155), never NULL for an in-zone name.
 */
const struct dns_node *dns_zone_find(const struct dns_zone *z, const uint8_t *name,
                                     const struct dns_node **encloser_out);
/* The RRset of the given type at node, or NULL. */
const struct dns_rrset *dns_node_rrset(const struct dns_node *n, uint16_t type);
/* Whether a and b hold the same records (rdata in the zone's order; TTLs not compared). */
bool dns_rrset_same_rdata(const struct dns_rrset *a, const struct dns_rrset *b);

#endif
