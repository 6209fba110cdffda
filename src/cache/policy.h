/*
 * cache/policy — the decisions of an HTTP shared cache (RFC 9111), as pure functions: which
 * responses may be stored, how long they stay fresh, how old a stored response is, whether a
 * request may be answered from it (fresh, stale while revalidating, or only after a
 * conditional request), the conditional request's fields, merging a 304 into the stored head,
 * the Vary secondary key, invalidation by unsafe methods and the Cache-Status field (RFC 9211).
 *
 * A stored head is a block of "Name: value\r\n" lines (struct slice), as the store keeps it.
 * No I/O, no clock (times are passed in), no globals; nothing returned needs freeing except
 * what is appended to a caller's struct str.
 */
#ifndef PIGEON_CACHE_POLICY_H
#define PIGEON_CACHE_POLICY_H

#include "core/str.h"
#include "http/request.h"

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define CACHE_ABSENT (-1) /* a delta-seconds directive that was not given */

/* Cache-Control directives (RFC 9111 §5.2), request or response. */
struct cache_cc {
    bool no_store, no_cache, private_, public_, must_revalidate, proxy_revalidate;
    bool only_if_cached, immutable, max_stale_any;
    int64_t max_age, s_maxage, max_stale, min_fresh; /* CACHE_ABSENT when not given */
    int64_t stale_while_revalidate, stale_if_error;  /* RFC 5861 */
};

/* How a cache is tuned where the RFC leaves it open. */
struct cache_rules {
    unsigned heuristic_percent; /* of (Date - Last-Modified), RFC 9111 §4.2.2 (10) */
    int64_t heuristic_max;      /* seconds, cap of a heuristic lifetime (86400) */
};

void cache_cc_init(struct cache_cc *cc);
/* Adds the directives of one Cache-Control field value. Unknown directives are ignored;
 * a malformed delta-seconds counts as 0 (RFC 9111 §1.2.2: treat as stale). */
void cache_cc_add(struct cache_cc *cc, struct slice value);
/* The Cache-Control of a stored head (every Cache-Control line). */
void cache_cc_of_fields(struct slice fields, struct cache_cc *cc);
/* The Cache-Control of a request, with "Pragma: no-cache" as no-cache when no Cache-Control
 * is present (RFC 9111 §5.4). */
void cache_cc_of_request(const struct http_request *req, struct cache_cc *cc);

/* ---- a head as a block of lines ---- */

/* Walks the lines of fields: *pos starts at 0. Returns false at the end. */
bool cache_fields_next(struct slice fields, size_t *pos, struct slice *name, struct slice *value);
/* The first value of name, or false. */
bool cache_fields_get(struct slice fields, const char *name, struct slice *value_out);

/* ---- storing ---- */

/*
 * Whether a response to req may be stored by a shared cache (RFC 9111 §3, §3.5): GET, a final
 * status other than 206 and 304, no no-store on either side, not private, no Set-Cookie (the
 * cookie belongs to one user), no "Vary: *", a request with Authorization only when the
 * response says public, must-revalidate or s-maxage, and something that makes it reusable
 * (explicit freshness, public, or a heuristically cacheable status with a validator).
 * *why_out names the reason when not (static text).
 */
bool cache_storable(const struct http_request *req, int status, struct slice fields,
                    const char **why_out);

/* ---- freshness and age ---- */

/*
 * The freshness lifetime in seconds (RFC 9111 §4.2.1): s-maxage, max-age, Expires - Date;
 * else a heuristic (§4.2.2) only for heuristically cacheable statuses with Last-Modified.
 * *heuristic_out says which. Never negative.
 */
int64_t cache_lifetime(struct slice fields, int status, const struct cache_rules *rules,
                       bool *heuristic_out);

/* The current age (RFC 9111 §4.2.3) of a response requested at request_time, received at
 * response_time, at now. */
int64_t cache_age(struct slice fields, time_t request_time, time_t response_time, time_t now);

enum cache_use {
    CACHE_USE_FRESH,            /* answer from the store */
    CACHE_USE_STALE_REVALIDATE, /* answer stale now and revalidate in the background */
    CACHE_USE_VALIDATE,         /* ask the origin (conditional) before answering */
};

/* How req may use a stored response of this lifetime and age (RFC 9111 §4, RFC 5861 §3). */
enum cache_use cache_decide(const struct cache_cc *req_cc, struct slice fields, int64_t lifetime,
                            int64_t age);

/* Whether a stale response may answer when the origin failed (RFC 5861 §4). */
bool cache_stale_if_error(const struct cache_cc *req_cc, struct slice fields, int64_t lifetime,
                          int64_t age);

/* ---- validation ---- */

/* Appends the conditional request fields for a stored head (RFC 9111 §4.3.1): If-None-Match
 * from ETag, If-Modified-Since from Last-Modified. Returns false when it has no validator. */
bool cache_conditional(struct slice fields, struct str *out);

/* Whether a 304 applies to the stored response (RFC 9111 §4.3.4): its strong ETag, if any,
 * must be the stored one. */
bool cache_304_matches(struct slice stored, struct slice fresh);

/* Appends the stored head updated by a 304's fields (RFC 9111 §3.2): each field the 304
 * carries replaces the stored ones of that name, except Content-Length and hop-by-hop ones. */
void cache_merge_304(struct slice stored, struct slice fresh, struct str *out);

/* ---- keys ---- */

/*
 * The secondary key of req for a response's Vary (RFC 9111 §4.1): "name: value\n" for each
 * field named (lower-cased names, values of repeated fields joined by ", "). Returns 0, or
 * -1 for "Vary: *" (never matches).
 */
int cache_vary_key(struct slice fields, const struct http_request *req, struct str *out);

/* Whether a response of status to a request with this method invalidates the stored
 * responses of its target (RFC 9111 §4.4: unsafe method, non-error status). */
bool cache_invalidates(enum http_method m, struct slice method_name, int status);

/* Whether a field is hop-by-hop (RFC 9110 §7.6.1): the fixed list, or named by connection
 * (the Connection field's value, may be empty). */
bool cache_hop_by_hop(struct slice name, struct slice connection);

/* ---- Cache-Status (RFC 9211) ---- */

struct cache_status {
    bool hit;
    const char *fwd; /* "uri-miss", "vary-miss", "stale", "request", "bypass", or NULL */
    int fwd_status;  /* the origin's status, 0 when none */
    bool stored;
    bool collapsed;
    int64_t ttl;        /* CACHE_ABSENT when not known */
    const char *detail; /* or NULL */
};

/* Appends the field value "NAME; hit; ttl=..." for st. */
void cache_status_format(const char *name, const struct cache_status *st, struct str *out);

#endif
