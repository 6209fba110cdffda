/*
 * anchor — the validator's trust anchors and negative trust anchors.
 *
 * Trust anchors come from a file in the master-file form Unbound's `trust-anchor-file` reads
 * (Debian's /usr/share/dns/root.key, unbound-anchor's root.key): DS and DNSKEY records with
 * comments; a DNSKEY (zone flag set, not revoked) is kept as its SHA-256 DS, so every anchor
 * is a DS set for its zone. Any zone may have an anchor (a simulated root, a test zone).
 *
 * Negative trust anchors are in nta.h.
 *
 * Built once before the resolvers start, read-only afterwards. Pure except dns_anchors_load.
 */
#ifndef PIGEON_DNS_RESOLVER_ANCHOR_H
#define PIGEON_DNS_RESOLVER_ANCHOR_H

#include "core/str.h"
#include "dns/name.h"
#include "dns/zone.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_ANCHORS_MAX 64   /* zones with an anchor */
#define DNS_ANCHOR_DS_MAX 16 /* DS records per anchored zone */
#define DNS_ANCHOR_DS_LEN 52 /* 4 + SHA-384 */

struct dns_anchor {
    uint8_t name[DNS_NAME_MAXLEN]; /* lower case */
    struct dns_rdata ds[DNS_ANCHOR_DS_MAX];
    uint8_t ds_buf[DNS_ANCHOR_DS_MAX][DNS_ANCHOR_DS_LEN];
    size_t nds;
};

struct dns_anchors {
    struct dns_anchor *v; /* heap array */
    size_t n;
};

/* Adds the DS/DNSKEY records of master-file text[0..len) (fname for messages). Other types
 * are an error. 0, or an ERR_* code with "file:line: reason" in err. */
int dns_anchors_parse(struct dns_anchors *a, const char *text, size_t len, const char *fname,
                      struct str *err);
/* Reads the file at path (blocks). Same contract. */
int dns_anchors_load(struct dns_anchors *a, const char *path, struct str *err);
/*
 * [resolver] trust_anchor and negative_trust_anchors as pigeond reads them at start, shared
 * with --check-config: the anchors of the file at path into *a (at least one zone, else an
 * error), then each name of ntas (space- or comma-separated; may be NULL) in wire form to
 * nta(ctx, name) when nta is not NULL (a non-zero return stops with that code). 0, or an
 * ERR_* code with the reason ("file:line: ...") in err. Blocks on the file read.
 */
int dns_anchors_load_config(struct dns_anchors *a, const char *path, const char *ntas,
                            int (*nta)(void *ctx, const uint8_t *name), void *ctx,
                            struct str *err);
/* The anchor of the deepest anchored zone at or above name (wire, any case), or NULL. */
const struct dns_anchor *dns_anchors_find(const struct dns_anchors *a, const uint8_t *name);
void dns_anchors_clear(struct dns_anchors *a);

#endif
