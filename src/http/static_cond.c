/* http/static — conditional requests (RFC 9110 §13) and byte ranges (RFC 9110 §14). */
#include "http/static.h"

#include "http/response.h"

#include <stdint.h>
#include <string.h>

/* Walks an entity-tag list ("*" or 1#entity-tag). Returns true when one matches etag; weak
 * comparison ignores W/ on either side, strong comparison never matches a weak tag. */
static bool etag_list_match(struct slice list, const char *etag, bool weak)
{
    size_t elen = strlen(etag);
    size_t i = 0;
    while (i < list.len) {
        while (i < list.len && (list.p[i] == ' ' || list.p[i] == '\t' || list.p[i] == ','))
            i++;
        if (i >= list.len)
            break;
        if (list.p[i] == '*')
            return true;
        bool is_weak = false;
        if (i + 1 < list.len && list.p[i] == 'W' && list.p[i + 1] == '/') {
            is_weak = true;
            i += 2;
        }
        if (i >= list.len || list.p[i] != '"')
            return false; /* malformed: no match */
        const char *close = memchr(list.p + i + 1, '"', list.len - i - 1);
        if (!close)
            return false;
        size_t tlen = (size_t)(close - (list.p + i)) + 1;
        if ((weak || !is_weak) && tlen == elen && memcmp(list.p + i, etag, elen) == 0)
            return true;
        i += tlen;
    }
    return false;
}

/* Every field line named name is one list (RFC 9110 §5.3: lines of a list field combine):
 * -1 when there is none, else whether a tag on any of them matches etag. */
static int etag_fields_match(const struct http_request *req, const char *name,
                             const char *etag, bool weak)
{
    int seen = -1;
    for (unsigned i = 0; i < req->nheaders; i++) {
        if (!slice_eq_ci(req->headers[i].name, name))
            continue;
        if (etag_list_match(req->headers[i].value, etag, weak))
            return 1;
        seen = 0;
    }
    return seen;
}

static bool date_field(const struct http_request *req, const char *name, time_t *out)
{
    const struct slice *v = http_request_header(req, name);
    return v && http_date_parse(*v, out) == 0;
}

enum http_cond http_conditional(const struct http_request *req, const char *etag,
                                time_t last_modified)
{
    int im = etag_fields_match(req, "If-Match", etag, false);
    time_t t;
    if (im >= 0) {
        if (!im)
            return HTTP_COND_FAILED;
    } else if (date_field(req, "If-Unmodified-Since", &t) && last_modified > t) {
        return HTTP_COND_FAILED;
    }
    bool safe = req->method == HTTP_GET || req->method == HTTP_HEAD;
    int inm = etag_fields_match(req, "If-None-Match", etag, true);
    if (inm >= 0) {
        if (inm)
            return safe ? HTTP_COND_NOT_MODIFIED : HTTP_COND_FAILED;
    } else if (safe && date_field(req, "If-Modified-Since", &t) && last_modified <= t) {
        return HTTP_COND_NOT_MODIFIED;
    }
    return HTTP_COND_PASS;
}

bool http_if_range(const struct http_request *req, const char *etag, time_t last_modified)
{
    const struct slice *v = http_request_header(req, "If-Range");
    if (!v)
        return true;
    if (v->len && (v->p[0] == '"' || v->p[0] == 'W')) {
        /* Strong comparison: a weak tag never validates a range. */
        return v->len == strlen(etag) && memcmp(v->p, etag, v->len) == 0;
    }
    time_t t;
    return http_date_parse(*v, &t) == 0 && t == last_modified;
}

/* One range-spec: "a-b", "a-" or "-n". Returns 1 satisfiable (filled), 0 unsatisfiable,
 * -1 malformed. */
static int one_range(struct slice s, uint64_t size, struct http_range *r)
{
    const char *dash = memchr(s.p, '-', s.len);
    if (!dash)
        return -1;
    struct slice a = slice_trim(slice_make(s.p, (size_t)(dash - s.p)));
    struct slice b = slice_trim(slice_make(dash + 1, (size_t)(s.p + s.len - dash - 1)));
    unsigned long long x = 0, y = 0;
    if (a.len && slice_to_u64(a, UINT64_MAX, &x) != 0)
        return -1;
    if (b.len && slice_to_u64(b, UINT64_MAX, &y) != 0)
        return -1;
    if (!a.len) { /* suffix: the last y octets */
        if (!b.len)
            return -1;
        if (y == 0 || size == 0)
            return 0;
        r->first = y >= size ? 0 : size - y;
        r->last = size - 1;
        return 1;
    }
    if (b.len && y < x)
        return -1;
    if (x >= size)
        return 0;
    r->first = x;
    r->last = !b.len || y >= size ? size - 1 : y;
    return 1;
}

int http_range_parse(struct slice field, uint64_t size, struct http_range *out)
{
    struct slice f = slice_trim(field);
    /* An empty representation: the whole of it (200), as nginx — RFC 9110 §14.1.1 holds a
     * suffix range of it satisfiable, but no 206 can carry a part of nothing. */
    if (!slice_starts_ci(f, "bytes=") || size == 0)
        return 0;
    int n = 0;
    bool any = false;
    size_t i = 6;
    while (i <= f.len) {
        size_t j = i;
        while (j < f.len && f.p[j] != ',')
            j++;
        struct slice spec = slice_trim(slice_make(f.p + i, j - i));
        i = j + 1;
        if (spec.len == 0)
            continue;
        any = true;
        struct http_range r;
        int rc = one_range(spec, size, &r);
        if (rc < 0)
            return 0;
        if (rc == 0)
            continue;
        if (n == HTTP_MAX_RANGES)
            return 0; /* too many parts: answer the whole representation */
        out[n++] = r;
    }
    if (!any)
        return 0;
    return n ? n : -416;
}
