/* cache/policy — RFC 9111 decisions; see policy.h. */
#include "cache/policy.h"

#include "http/response.h"

#include <string.h>

void cache_cc_init(struct cache_cc *cc)
{
    memset(cc, 0, sizeof *cc);
    cc->max_age = cc->s_maxage = cc->max_stale = cc->min_fresh = CACHE_ABSENT;
    cc->stale_while_revalidate = cc->stale_if_error = CACHE_ABSENT;
}

/* RFC 9111 §1.2.1 delta-seconds; a value past 2^31 is 2^31; a malformed one is 0. */
static int64_t delta_seconds(struct slice v)
{
    if (v.len >= 2 && v.p[0] == '"' && v.p[v.len - 1] == '"')
        v = slice_make(v.p + 1, v.len - 2); /* tolerated quoted form (§5.2) */
    if (v.len == 0)
        return 0;
    int64_t n = 0;
    for (size_t i = 0; i < v.len; i++) {
        if (v.p[i] < '0' || v.p[i] > '9')
            return 0;
        if (n < 2147483648LL)
            n = n * 10 + (v.p[i] - '0');
    }
    return n > 2147483648LL ? 2147483648LL : n;
}

static void directive(struct cache_cc *cc, struct slice name, struct slice arg, bool has_arg)
{
    static const struct {
        const char *name;
        size_t off;
    } flags[] = {
        {"no-store", offsetof(struct cache_cc, no_store)},
        {"no-cache", offsetof(struct cache_cc, no_cache)},
        {"private", offsetof(struct cache_cc, private_)},
        {"public", offsetof(struct cache_cc, public_)},
        {"must-revalidate", offsetof(struct cache_cc, must_revalidate)},
        {"proxy-revalidate", offsetof(struct cache_cc, proxy_revalidate)},
        {"only-if-cached", offsetof(struct cache_cc, only_if_cached)},
        {"immutable", offsetof(struct cache_cc, immutable)},
    };
    static const struct {
        const char *name;
        size_t off;
    } deltas[] = {
        {"max-age", offsetof(struct cache_cc, max_age)},
        {"s-maxage", offsetof(struct cache_cc, s_maxage)},
        {"min-fresh", offsetof(struct cache_cc, min_fresh)},
        {"stale-while-revalidate", offsetof(struct cache_cc, stale_while_revalidate)},
        {"stale-if-error", offsetof(struct cache_cc, stale_if_error)},
    };
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if (slice_eq_ci(name, flags[i].name)) {
            /* "no-cache=field" and "private=field" are honoured as the whole directive
             * (RFC 9111 §5.2.2.4/§5.2.2.7 allow that for a cache that does not strip). */
            *(bool *)((char *)cc + flags[i].off) = true;
            return;
        }
    if (slice_eq_ci(name, "max-stale")) {
        if (has_arg)
            cc->max_stale = delta_seconds(arg);
        else
            cc->max_stale_any = true;
        return;
    }
    for (size_t i = 0; i < sizeof deltas / sizeof deltas[0]; i++)
        if (slice_eq_ci(name, deltas[i].name)) {
            int64_t *f = (int64_t *)((char *)cc + deltas[i].off);
            int64_t v = has_arg ? delta_seconds(arg) : 0;
            /* A directive given twice: the most restrictive (smallest) wins (§4.2.1). */
            if (*f == CACHE_ABSENT || v < *f)
                *f = v;
            return;
        }
}

void cache_cc_add(struct cache_cc *cc, struct slice value)
{
    const char *p = value.p, *end = value.p + value.len;
    while (p < end) {
        const char *q = p;
        bool quoted = false;
        while (q < end && (quoted || *q != ',')) {
            if (*q == '"')
                quoted = !quoted;
            q++;
        }
        struct slice item = slice_trim(slice_make(p, (size_t)(q - p)));
        const char *eq = memchr(item.p, '=', item.len);
        struct slice name = eq ? slice_trim(slice_make(item.p, (size_t)(eq - item.p))) : item;
        struct slice arg = eq ? slice_trim(slice_make(eq + 1, item.len - (size_t)(eq + 1 - item.p)))
                              : slice_make(item.p, 0);
        if (name.len)
            directive(cc, name, arg, eq != NULL);
        p = q < end ? q + 1 : end;
    }
}

bool cache_fields_next(struct slice fields, size_t *pos, struct slice *name, struct slice *value)
{
    while (*pos < fields.len) {
        const char *p = fields.p + *pos, *end = fields.p + fields.len;
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        *pos = (size_t)((nl ? nl + 1 : end) - fields.p);
        if (le > p && le[-1] == '\r')
            le--;
        const char *colon = memchr(p, ':', (size_t)(le - p));
        if (!colon)
            continue;
        *name = slice_make(p, (size_t)(colon - p));
        *value = slice_trim(slice_make(colon + 1, (size_t)(le - colon - 1)));
        return true;
    }
    return false;
}

bool cache_fields_get(struct slice fields, const char *name, struct slice *value_out)
{
    size_t pos = 0;
    struct slice n, v;
    while (cache_fields_next(fields, &pos, &n, &v))
        if (slice_eq_ci(n, name)) {
            *value_out = v;
            return true;
        }
    return false;
}

void cache_cc_of_fields(struct slice fields, struct cache_cc *cc)
{
    cache_cc_init(cc);
    size_t pos = 0;
    struct slice n, v;
    while (cache_fields_next(fields, &pos, &n, &v))
        if (slice_eq_ci(n, "Cache-Control"))
            cache_cc_add(cc, v);
}

void cache_cc_of_request(const struct http_request *req, struct cache_cc *cc)
{
    cache_cc_init(cc);
    bool any = false;
    for (unsigned i = 0; i < req->nheaders; i++)
        if (slice_eq_ci(req->headers[i].name, "Cache-Control")) {
            cache_cc_add(cc, req->headers[i].value);
            any = true;
        }
    const struct slice *pragma = http_request_header(req, "Pragma");
    if (!any && pragma && http_list_has(*pragma, "no-cache"))
        cc->no_cache = true;
}

/* ---- storing ---- */

/* RFC 9110 §15.1: statuses cacheable by default (heuristic freshness allowed). */
static bool heuristic_status(int status)
{
    static const int ok[] = {200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (ok[i] == status)
            return true;
    return false;
}

/* The statuses this cache understands well enough to store (RFC 9111 §3 item 2). */
static bool understood_status(int status)
{
    static const int ok[] = {200, 203, 204, 300, 301, 302, 307, 308, 404, 405, 410, 414, 501};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (ok[i] == status)
            return true;
    return false;
}

static bool has_field(struct slice fields, const char *name)
{
    struct slice v;
    return cache_fields_get(fields, name, &v);
}

static bool vary_star(struct slice fields)
{
    size_t pos = 0;
    struct slice n, v;
    while (cache_fields_next(fields, &pos, &n, &v))
        if (slice_eq_ci(n, "Vary") && http_list_has(v, "*"))
            return true;
    return false;
}

bool cache_storable(const struct http_request *req, int status, struct slice fields,
                    const char **why_out)
{
    struct cache_cc rq, rs;
    cache_cc_of_request(req, &rq);
    cache_cc_of_fields(fields, &rs);
    const char *why = NULL;
    if (req->method != HTTP_GET)
        why = "method not cached";
    else if (!understood_status(status))
        why = "status not cached";
    else if (rq.no_store || rs.no_store)
        why = "no-store";
    else if (rs.private_)
        why = "private";
    else if (has_field(fields, "Set-Cookie"))
        why = "Set-Cookie";
    else if (vary_star(fields))
        why = "Vary: *";
    else if (http_request_header(req, "Authorization") && !rs.public_ && !rs.must_revalidate &&
             rs.s_maxage == CACHE_ABSENT)
        why = "Authorization";
    else if (rs.max_age == CACHE_ABSENT && rs.s_maxage == CACHE_ABSENT &&
             !has_field(fields, "Expires") && !rs.public_ &&
             !(heuristic_status(status) &&
               (has_field(fields, "Last-Modified") || has_field(fields, "ETag"))))
        why = "no freshness information";
    if (why_out)
        *why_out = why;
    return why == NULL;
}

/* ---- freshness and age ---- */

static bool date_field(struct slice fields, const char *name, time_t *out)
{
    struct slice v;
    return cache_fields_get(fields, name, &v) && http_date_parse(v, out) == 0;
}

int64_t cache_lifetime(struct slice fields, int status, const struct cache_rules *rules,
                       bool *heuristic_out)
{
    struct cache_cc cc;
    cache_cc_of_fields(fields, &cc);
    *heuristic_out = false;
    if (cc.s_maxage != CACHE_ABSENT) /* a shared cache (§5.2.2.10) */
        return cc.s_maxage;
    if (cc.max_age != CACHE_ABSENT)
        return cc.max_age;
    struct slice ev;
    if (cache_fields_get(fields, "Expires", &ev)) {
        time_t expires, date;
        if (http_date_parse(ev, &expires) != 0)
            return 0; /* an invalid Expires means "already expired" (§5.3) */
        if (!date_field(fields, "Date", &date))
            return 0;
        return expires > date ? (int64_t)(expires - date) : 0;
    }
    time_t lm, date;
    if ((heuristic_status(status) || cc.public_) && date_field(fields, "Last-Modified", &lm) &&
        date_field(fields, "Date", &date) && date > lm) {
        *heuristic_out = true;
        int64_t h = (int64_t)(date - lm) * rules->heuristic_percent / 100;
        return h > rules->heuristic_max ? rules->heuristic_max : h;
    }
    return 0;
}

int64_t cache_age(struct slice fields, time_t request_time, time_t response_time, time_t now)
{
    time_t date;
    int64_t apparent = 0, age_value = 0;
    if (date_field(fields, "Date", &date) && response_time > date)
        apparent = (int64_t)(response_time - date);
    struct slice av;
    if (cache_fields_get(fields, "Age", &av))
        age_value = delta_seconds(av);
    int64_t delay = response_time > request_time ? (int64_t)(response_time - request_time) : 0;
    int64_t corrected_age = age_value + delay;
    int64_t initial = apparent > corrected_age ? apparent : corrected_age;
    int64_t resident = now > response_time ? (int64_t)(now - response_time) : 0;
    return initial + resident;
}

enum cache_use cache_decide(const struct cache_cc *req_cc, struct slice fields, int64_t lifetime,
                            int64_t age)
{
    struct cache_cc rs;
    cache_cc_of_fields(fields, &rs);
    if (req_cc->no_cache || rs.no_cache)
        return CACHE_USE_VALIDATE; /* §5.2.1.4, §5.2.2.4 */
    if (req_cc->max_age != CACHE_ABSENT && age > req_cc->max_age)
        return CACHE_USE_VALIDATE; /* §5.2.1.1 */
    if (req_cc->min_fresh != CACHE_ABSENT && lifetime - age < req_cc->min_fresh)
        return CACHE_USE_VALIDATE; /* §5.2.1.3 */
    if (lifetime > age)
        return CACHE_USE_FRESH;
    /* Stale. §5.2.2.2, §5.2.2.8, §5.2.2.10: these forbid serving it unvalidated. */
    if (rs.must_revalidate || rs.proxy_revalidate || rs.s_maxage != CACHE_ABSENT)
        return CACHE_USE_VALIDATE;
    int64_t staleness = age - lifetime;
    if (req_cc->max_stale_any ||
        (req_cc->max_stale != CACHE_ABSENT && staleness <= req_cc->max_stale))
        return CACHE_USE_FRESH; /* §5.2.1.2: the client accepts it */
    if (rs.stale_while_revalidate != CACHE_ABSENT && staleness <= rs.stale_while_revalidate)
        return CACHE_USE_STALE_REVALIDATE;
    return CACHE_USE_VALIDATE;
}

bool cache_stale_if_error(const struct cache_cc *req_cc, struct slice fields, int64_t lifetime,
                          int64_t age)
{
    struct cache_cc rs;
    cache_cc_of_fields(fields, &rs);
    if (rs.must_revalidate || rs.proxy_revalidate || rs.s_maxage != CACHE_ABSENT || rs.no_cache)
        return false;
    int64_t staleness = age > lifetime ? age - lifetime : 0;
    int64_t allow = rs.stale_if_error;
    if (req_cc->stale_if_error != CACHE_ABSENT)
        allow = req_cc->stale_if_error; /* RFC 5861 §4: the request's own wish */
    return allow != CACHE_ABSENT && staleness <= allow;
}

/* ---- validation ---- */

bool cache_conditional(struct slice fields, struct str *out)
{
    struct slice etag, lm;
    bool any = false;
    if (cache_fields_get(fields, "ETag", &etag) && etag.len) {
        str_appendf(out, "If-None-Match: %.*s\r\n", (int)etag.len, etag.p);
        any = true;
    }
    if (cache_fields_get(fields, "Last-Modified", &lm) && lm.len) {
        str_appendf(out, "If-Modified-Since: %.*s\r\n", (int)lm.len, lm.p);
        any = true;
    }
    return any;
}

bool cache_304_matches(struct slice stored, struct slice fresh)
{
    struct slice a, b;
    if (!cache_fields_get(fresh, "ETag", &b) || !cache_fields_get(stored, "ETag", &a))
        return true;
    if (slice_starts_ci(a, "W/") || slice_starts_ci(b, "W/"))
        return true; /* weak validators: If-None-Match compared them weakly already */
    return a.len == b.len && memcmp(a.p, b.p, a.len) == 0;
}

static bool in_fields(struct slice fields, struct slice name)
{
    size_t pos = 0;
    struct slice n, v;
    while (cache_fields_next(fields, &pos, &n, &v))
        if (n.len == name.len && !strncasecmp(n.p, name.p, n.len))
            return true;
    return false;
}

static bool keep_from_304(struct slice name, struct slice connection)
{
    return !slice_eq_ci(name, "Content-Length") && !cache_hop_by_hop(name, connection);
}

void cache_merge_304(struct slice stored, struct slice fresh, struct str *out)
{
    struct slice conn = slice_make("", 0);
    cache_fields_get(fresh, "Connection", &conn);
    size_t pos = 0;
    struct slice n, v;
    while (cache_fields_next(stored, &pos, &n, &v))
        if (!(in_fields(fresh, n) && keep_from_304(n, conn)))
            str_appendf(out, "%.*s: %.*s\r\n", (int)n.len, n.p, (int)v.len, v.p);
    pos = 0;
    while (cache_fields_next(fresh, &pos, &n, &v))
        if (keep_from_304(n, conn))
            str_appendf(out, "%.*s: %.*s\r\n", (int)n.len, n.p, (int)v.len, v.p);
}

/* ---- keys ---- */

static void vary_one(const struct http_request *req, struct slice name, struct str *out)
{
    size_t start = out->len;
    str_append(out, name.p, name.len);
    ascii_lower(out->ptr + start, name.len);
    str_appends(out, ":");
    bool first = true;
    for (unsigned i = 0; i < req->nheaders; i++) {
        const struct http_header *h = &req->headers[i];
        if (h->name.len != name.len || strncasecmp(h->name.p, name.p, name.len))
            continue;
        if (!first)
            str_appends(out, ", ");
        str_append(out, h->value.p, h->value.len);
        first = false;
    }
    str_appends(out, "\n");
}

int cache_vary_key(struct slice fields, const struct http_request *req, struct str *out)
{
    size_t pos = 0;
    struct slice n, v;
    while (cache_fields_next(fields, &pos, &n, &v)) {
        if (!slice_eq_ci(n, "Vary"))
            continue;
        const char *p = v.p, *end = v.p + v.len;
        while (p < end) {
            const char *c = memchr(p, ',', (size_t)(end - p));
            const char *e = c ? c : end;
            struct slice item = slice_trim(slice_make(p, (size_t)(e - p)));
            if (slice_eq(item, "*"))
                return -1;
            if (item.len)
                vary_one(req, item, out);
            p = c ? c + 1 : end;
        }
    }
    return 0;
}

bool cache_invalidates(enum http_method m, struct slice method_name, int status)
{
    if (m == HTTP_GET || m == HTTP_HEAD || m == HTTP_OPTIONS || m == HTTP_TRACE)
        return false; /* safe methods (RFC 9110 §9.2.1) */
    if (m == HTTP_OTHER && (slice_eq(method_name, "PROPFIND") || slice_eq(method_name, "SEARCH")))
        return false;
    return status >= 200 && status < 400;
}

bool cache_hop_by_hop(struct slice name, struct slice connection)
{
    static const char *const fixed[] = {"Connection",
                                        "Keep-Alive",
                                        "Proxy-Connection",
                                        "TE",
                                        "Trailer",
                                        "Transfer-Encoding",
                                        "Upgrade",
                                        "Proxy-Authenticate",
                                        "Proxy-Authorization"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (slice_eq_ci(name, fixed[i]))
            return true;
    const char *p = connection.p, *end = connection.p + connection.len;
    while (p && p < end) {
        const char *c = memchr(p, ',', (size_t)(end - p));
        const char *e = c ? c : end;
        struct slice item = slice_trim(slice_make(p, (size_t)(e - p)));
        if (item.len == name.len && !strncasecmp(item.p, name.p, name.len))
            return true;
        p = c ? c + 1 : end;
    }
    return false;
}

/* ---- Cache-Status ---- */

void cache_status_format(const char *name, const struct cache_status *st, struct str *out)
{
    str_appends(out, name);
    if (st->hit)
        str_appends(out, "; hit");
    if (st->fwd)
        str_appendf(out, "; fwd=%s", st->fwd);
    if (st->fwd_status)
        str_appendf(out, "; fwd-status=%d", st->fwd_status);
    if (st->stored)
        str_appends(out, "; stored");
    if (st->collapsed)
        str_appends(out, "; collapsed");
    if (st->ttl != CACHE_ABSENT)
        str_appendf(out, "; ttl=%lld", (long long)st->ttl);
    if (st->detail)
        str_appendf(out, "; detail=%s", st->detail);
}
