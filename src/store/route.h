/*
 * route — where mail for a local address goes: aliases (one address to local users and/or
 * remote addresses), per-user forwarding (an alias on the user's own address; a target equal
 * to the address itself keeps a copy), catch-alls ("@domain"), subaddresses and the RFC 2142
 * role addresses. Rows live in the `aliases` table (address, target), lower-cased.
 *
 * Resolution order for "local@domain" (Postfix virtual-alias semantics):
 *   1. alias rows of the address: each target is resolved in turn (a target equal to the
 *      address itself is the user's own mailbox);
 *   2. a user of that address;
 *   3. with a subaddress ("bob+tag" and delim '+'): 1-2 for "bob@domain";
 *   4. an RFC 2142 role (postmaster, abuse, hostmaster, webmaster, security) with no alias or
 *      user of its own: the configured postmaster;
 *   5. the domain's catch-all alias "@domain".
 * Targets in local domains are resolved again (at most STORE_ROUTE_DEPTH levels; an address
 * seen before in the same expansion is not expanded twice, so alias cycles end). Targets in
 * other domains are remote recipients, each with the local address it was reached through
 * (for SRS and Delivered-To). Blocks on SQLite reads; no writes.
 */
#ifndef PIGEON_STORE_ROUTE_H
#define PIGEON_STORE_ROUTE_H

#include <stddef.h>
#include <stdint.h>

struct store;

#define STORE_ROUTE_DEPTH 10     /* alias levels followed */
#define STORE_ROUTE_TARGETS 1000 /* users + remote recipients one address may expand to */

/* Adds one row; ERR_PARSE for a malformed address/target, ERR_EXISTS when present. address
 * may be "@domain" (catch-all); its domain must be local (ERR_NOTFOUND otherwise). */
int store_alias_add(struct store *st, const char *address, const char *target);
/* Removes one row (target != NULL) or every row of address. ERR_NOTFOUND when none matched. */
int store_alias_del(struct store *st, const char *address, const char *target);
/* Calls cb for every row (of one address when address != NULL), ordered by address. */
int store_alias_list(struct store *st, const char *address,
                     void (*cb)(void *ctx, const char *address, const char *target), void *ctx);

struct store_route_remote {
    char *addr; /* remote recipient */
    char *via;  /* the local address whose alias or forward led there */
};

struct store_route {
    int64_t *users; /* distinct user ids (INBOX delivery) */
    size_t n_users;
    struct store_route_remote *remotes; /* distinct remote recipients */
    size_t n_remotes;
    int depth_hit; /* an alias chain was cut at STORE_ROUTE_DEPTH */
};

struct store_route_opts {
    char delim;             /* subaddress delimiter, '\0' for none */
    const char *postmaster; /* the address RFC 2142 roles reach, NULL for none */
};

/*
 * Resolves address (lower-cased "local@domain" in a local domain) into out (zeroed first;
 * free with store_route_clear). 0 with at least one target, ERR_NOTFOUND when nothing
 * matched, ERR_LIMIT past STORE_ROUTE_TARGETS, or a database error.
 */
int store_route_resolve(struct store *st, const char *address, const struct store_route_opts *o,
                        struct store_route *out);
void store_route_clear(struct store_route *r);

#endif
