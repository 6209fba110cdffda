/* http/response_parse — see response_parse.h: origin response heads and bodies. */
#include "http/response_parse.h"

#include "http/field.h"

#include <string.h>

/* "HTTP/1.x NNN reason" (RFC 9112 §4); the reason may be empty. */
static int status_line(struct slice l, struct http_resp_head *h, const char **why)
{
    if (l.len < 12 || memcmp(l.p, "HTTP/1.", 7) != 0 || (l.p[7] != '0' && l.p[7] != '1') ||
        l.p[8] != ' ')
        return *why = "malformed status line", -1;
    h->version = l.p[7] == '1' ? 11 : 10;
    int st = 0;
    for (int i = 9; i < 12; i++) {
        if (l.p[i] < '0' || l.p[i] > '9')
            return *why = "malformed status code", -1;
        st = st * 10 + (l.p[i] - '0');
    }
    if (st < 100 || (l.len > 12 && l.p[12] != ' '))
        return *why = "malformed status code", -1;
    h->status = st;
    h->reason = l.len > 13 ? slice_make(l.p + 13, l.len - 13) : slice_make(l.p + l.len, 0);
    if (!http_field_value_ok(h->reason))
        return *why = "control character in the reason phrase", -1;
    return 0;
}

/* One field line, lexed as request.c lexes the client's (http/field.h). */
static int field(struct slice l, struct http_resp_head *h, const char **why)
{
    struct http_header f;
    if (http_field_lex(l, &f, why) < 0)
        return -1;
    if (h->nheaders == HTTP_MAX_HEADERS)
        return *why = "too many header fields", -1;
    h->headers[h->nheaders++] = f;
    return 0;
}

const struct slice *http_resp_header(const struct http_resp_head *h, const char *name)
{
    for (unsigned i = 0; i < h->nheaders; i++)
        if (slice_eq_ci(h->headers[i].name, name))
            return &h->headers[i].value;
    return NULL;
}

/* RFC 9112 §6.3, strictly: one framing, stated once. */
static int framing(struct http_resp_head *h, enum http_method method, const char **why)
{
    unsigned lengths = 0, encodings = 0;
    struct slice te = {0}, conn = {0};
    uint64_t len = 0;
    for (unsigned i = 0; i < h->nheaders; i++) {
        struct http_header *f = &h->headers[i];
        if (slice_eq_ci(f->name, "Content-Length")) {
            uint64_t v;
            if (http_decimal_parse(f->value, &v) != 0)
                return *why = "bad Content-Length", -1;
            if (lengths++ && v != len)
                return *why = "two different Content-Lengths", -1;
            len = v;
        } else if (slice_eq_ci(f->name, "Transfer-Encoding")) {
            encodings++;
            te = f->value;
        } else if (slice_eq_ci(f->name, "Connection")) {
            conn = f->value;
        }
    }
    bool close = conn.p && http_list_has(conn, "close");
    h->keep_alive =
        h->version == 11 ? !close : conn.p && http_list_has(conn, "keep-alive") && !close;
    if (encodings && lengths)
        return *why = "both Content-Length and Transfer-Encoding", -1;
    if (encodings > 1 || (encodings && !slice_eq_ci(te, "chunked")))
        return *why = "transfer coding other than chunked", -1;
    if (method == HTTP_HEAD || h->status < 200 || h->status == 204 || h->status == 304) {
        h->framing = HTTP_FRAME_NONE;
        return 0;
    }
    if (encodings) {
        if (h->version == 10)
            return *why = "Transfer-Encoding in an HTTP/1.0 response", -1;
        h->framing = HTTP_FRAME_CHUNKED;
    } else if (lengths) {
        h->framing = HTTP_FRAME_LENGTH;
        h->content_length = len;
    } else {
        h->framing = HTTP_FRAME_CLOSE;
        h->keep_alive = false;
    }
    return 0;
}

int http_resp_parse(const char *p, size_t n, enum http_method method, struct http_resp_head *h,
                    const char **why_out)
{
    memset(h, 0, sizeof *h);
    const char *why = "malformed response head";
    const char *end = p + n;
    int rc = -1;
    for (bool first = true; p < end; first = false) {
        struct slice l;
        if (http_line_next(&p, end, &l, &why) < 0)
            break;
        if (l.len == 0) {
            rc = first ? -1 : framing(h, method, &why);
            break;
        }
        if ((first ? status_line(l, h, &why) : field(l, h, &why)) != 0)
            break;
    }
    *why_out = rc ? why : NULL;
    return rc;
}

void http_body_reader_init(struct http_body_reader *r, const struct http_resp_head *h)
{
    memset(r, 0, sizeof *r);
    r->framing = h->framing;
    r->remaining = h->content_length;
    http_chunked_init(&r->chunked);
}

int http_body_reader_feed(struct http_body_reader *r, const char *p, size_t n, bool eof,
                          struct str *out, size_t *used_out)
{
    *used_out = 0;
    switch (r->framing) {
    case HTTP_FRAME_NONE:
        return 1;
    case HTTP_FRAME_LENGTH: {
        size_t take = r->remaining < n ? (size_t)r->remaining : n;
        str_append(out, p, take);
        r->remaining -= take;
        *used_out = take;
        if (r->remaining == 0)
            return 1;
        return eof ? -1 : 0;
    }
    case HTTP_FRAME_CHUNKED: {
        int rc = http_chunked_feed(&r->chunked, p, n, UINT64_MAX, out, used_out);
        if (rc < 0)
            return -1;
        if (rc == 0 && eof && *used_out == n)
            return -1;
        return rc;
    }
    case HTTP_FRAME_CLOSE:
        str_append(out, p, n);
        *used_out = n;
        return eof ? 1 : 0;
    }
    return -1;
}
