/* http/request — see request.h: the strict RFC 9112 request head parser. */
#include "http/request.h"

#include <string.h>

/* Lines are found with memchr (the '\n', then a '\r' before it), not octet by octet. */
long http_head_find(const char *p, size_t n, size_t *scanned, const struct http_limits *lim)
{
    size_t line = *scanned; /* always the start of a line */
    while (line < n) {
        const char *nl = memchr(p + line, '\n', n - line);
        size_t i = nl ? (size_t)(nl - p) : n; /* the line's LF, or the end of the input */
        /* A CR anywhere but right before the LF (or at the very end, its LF still to come)
         * is bare (RFC 9112 §2.2). */
        const char *cr = memchr(p + line, '\r', i - line);
        if (cr && (size_t)(cr - p) + 1 < i)
            return -400;
        if (!nl)
            break;
        if (i == line || p[i - 1] != '\r')
            return -400; /* bare LF: refused, not guessed at */
        size_t len = i - 1 - line;
        if (line == 0 && len > lim->max_request_line)
            return -414;
        if (i + 1 > lim->max_head)
            return line == 0 ? -414 : -431;
        if (len == 0)
            return line == 0 ? -400 : (long)(i + 1);
        line = i + 1;
    }
    *scanned = line;
    if (line == 0 && n > lim->max_request_line + 1)
        return -414;
    if (n > lim->max_head)
        return line == 0 ? -414 : -431;
    return 0;
}

bool http_list_has(struct slice list, const char *token)
{
    size_t i = 0;
    while (i <= list.len) {
        size_t j = i;
        while (j < list.len && list.p[j] != ',')
            j++;
        if (slice_eq_ci(slice_trim(slice_make(list.p + i, j - i)), token))
            return true;
        i = j + 1;
    }
    return false;
}

/* Case-insensitive equality of a slice and a name of known length n. */
static bool name_is(struct slice a, const char *name, size_t n)
{
    if (a.len != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)a.p[i], d = (unsigned char)name[i], l = c | 0x20;
        /* Octets that differ must be one letter in two cases ('@' is not '`'). */
        if (c != d && !(l == (d | 0x20) && l >= 'a' && l <= 'z'))
            return false;
    }
    return true;
}

const struct slice *http_request_header(const struct http_request *req, const char *name)
{
    size_t n = strlen(name);
    for (unsigned i = 0; i < req->nheaders; i++)
        if (name_is(req->headers[i].name, name, n))
            return &req->headers[i].value;
    return NULL;
}

/* ---- request line ---- */

static const struct {
    const char *name;
    enum http_method m;
} methods[] = {
    {"GET", HTTP_GET},         {"HEAD", HTTP_HEAD},         {"POST", HTTP_POST},
    {"PUT", HTTP_PUT},         {"DELETE", HTTP_DELETE},     {"OPTIONS", HTTP_OPTIONS},
    {"TRACE", HTTP_TRACE},     {"CONNECT", HTTP_CONNECT},
};

const char *http_method_name(enum http_method m)
{
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (methods[i].m == m)
            return methods[i].name;
    return "OTHER";
}

static bool is_target_char(unsigned char c)
{
    return c >= 0x21 && c <= 0x7e && c != '#'; /* no fragment in a request (RFC 9112 §3.2) */
}

/* origin-form, absolute-form, authority-form (CONNECT) or asterisk-form (RFC 9112 §3.2). */
static int parse_target(struct http_request *req, const char **why)
{
    struct slice t = req->target;
    for (size_t i = 0; i < t.len; i++)
        if (!is_target_char((unsigned char)t.p[i]))
            return *why = "bad character in the request target", 400;
    if (req->method == HTTP_CONNECT) {
        req->host = t;
        req->path = slice_make(t.p, 0);
        return 0;
    }
    if (slice_eq(t, "*")) {
        if (req->method != HTTP_OPTIONS)
            return *why = "'*' is only for OPTIONS", 400;
        req->path = t;
        return 0;
    }
    struct slice rest = t;
    if (slice_starts_ci(t, "http://") || slice_starts_ci(t, "https://")) {
        size_t skip = t.p[4] == ':' ? 7 : 8;
        const char *a = t.p + skip, *end = t.p + t.len;
        const char *slash = memchr(a, '/', (size_t)(end - a));
        const char *q = memchr(a, '?', (size_t)(end - a));
        const char *stop = slash && (!q || slash < q) ? slash : q ? q : end;
        req->host = slice_make(a, (size_t)(stop - a));
        if (req->host.len == 0 || memchr(a, '@', (size_t)(stop - a)))
            return *why = "bad authority in the request target", 400;
        rest = slice_make(stop, (size_t)(end - stop));
        if (rest.len == 0 || rest.p[0] == '?') {
            req->path = slice_make("/", 1);
            req->query = rest.len ? slice_make(rest.p + 1, rest.len - 1) : slice_make(rest.p, 0);
            return 0;
        }
    } else if (t.p[0] != '/') {
        return *why = "request target is not a path", 400;
    }
    const char *q = memchr(rest.p, '?', rest.len);
    req->path = slice_make(rest.p, q ? (size_t)(q - rest.p) : rest.len);
    req->query = q ? slice_make(q + 1, rest.len - req->path.len - 1) : slice_make(rest.p, 0);
    return 0;
}

static int set_method(struct http_request *req, struct slice name, const char **why)
{
    req->method_name = name;
    if (!http_token_ok(name))
        return *why = "bad method", 400;
    req->method = HTTP_OTHER;
    if (name.len == 3 && memcmp(name.p, "GET", 3) == 0) {
        req->method = HTTP_GET; /* most requests: no walk through the table */
        return 0;
    }
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (slice_eq(name, methods[i].name))
            req->method = methods[i].m;
    return 0;
}

int http_request_set_line(struct http_request *req, struct slice method, struct slice target,
                          const char **why_out)
{
    const char *why = NULL;
    int st = set_method(req, method, &why);
    if (!st && target.len == 0) {
        st = 400;
        why = "empty request target";
    }
    if (!st) {
        req->target = target;
        st = parse_target(req, &why);
    }
    *why_out = why;
    return st;
}

static int parse_request_line(struct slice line, struct http_request *req, const char **why)
{
    const char *sp1 = memchr(line.p, ' ', line.len);
    if (!sp1)
        return *why = "malformed request line", 400;
    int st = set_method(req, slice_make(line.p, (size_t)(sp1 - line.p)), why);
    if (st)
        return st;
    const char *t = sp1 + 1, *end = line.p + line.len;
    const char *sp2 = memchr(t, ' ', (size_t)(end - t));
    if (!sp2 || sp2 == t)
        return *why = "malformed request line", 400;
    req->target = slice_make(t, (size_t)(sp2 - t));
    struct slice v = slice_make(sp2 + 1, (size_t)(end - sp2 - 1));
    if (v.len != 8 || memcmp(v.p, "HTTP/", 5) != 0 || v.p[6] != '.' || v.p[5] < '0' ||
        v.p[5] > '9' || v.p[7] < '0' || v.p[7] > '9')
        return *why = "malformed HTTP version", 400;
    if (v.p[5] != '1')
        return *why = "only HTTP/1.x is spoken on this connection", 505;
    req->version = v.p[7] == '0' ? 10 : 11; /* a higher minor version is answered as 1.1 */
    return parse_target(req, why);
}

/* ---- fields ---- */

struct field_state {
    unsigned hosts, lengths, encodings;
    struct slice connection, te, expect, upgrade;
    bool settings;
};

static int parse_length(struct slice v, const struct http_limits *lim, struct http_request *req,
                        const char **why)
{
    uint64_t n;
    if (http_decimal_parse(v, &n) != 0)
        return *why = "bad Content-Length", 400;
    req->has_length = true;
    req->content_length = n;
    if (n > lim->max_body)
        return *why = "request body too large", 413;
    return 0;
}

static bool host_ok(struct slice h)
{
    for (size_t i = 0; i < h.len; i++) {
        unsigned char c = (unsigned char)h.p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr("-._:[]~%!$&'()*+,;=", c)))
            return false;
    }
    return true;
}

#define NAME_IS(a, lit) name_is((a), (lit), sizeof(lit) - 1)

static int note_field(struct http_header *h, struct field_state *fs, struct http_request *req,
                      const struct http_limits *lim, const char **why)
{
    /* Most fields are none of these: their length alone says so. */
    switch (h->name.len) {
    case 4: case 6: case 7: case 10: case 14: case 17:
        break;
    default:
        return 0;
    }
    if (NAME_IS(h->name, "Host")) {
        if (++fs->hosts > 1)
            return *why = "more than one Host", 400;
        if (!host_ok(h->value))
            return *why = "bad Host", 400;
        if (!req->host.p)
            req->host = h->value; /* an absolute-form target's authority wins (§3.2.2) */
    } else if (NAME_IS(h->name, "Content-Length")) {
        if (++fs->lengths > 1)
            return *why = "more than one Content-Length", 400;
        return parse_length(h->value, lim, req, why);
    } else if (NAME_IS(h->name, "Transfer-Encoding")) {
        if (++fs->encodings > 1)
            return *why = "more than one Transfer-Encoding", 400;
        fs->te = h->value;
    } else if (NAME_IS(h->name, "Connection")) {
        fs->connection = h->value;
    } else if (NAME_IS(h->name, "Expect")) {
        fs->expect = h->value;
    } else if (NAME_IS(h->name, "Upgrade")) {
        fs->upgrade = h->value;
    } else if (NAME_IS(h->name, "HTTP2-Settings")) {
        fs->settings = true;
    }
    return 0;
}

static int parse_field(struct slice line, struct http_request *req, struct field_state *fs,
                       const struct http_limits *lim, const char **why)
{
    struct http_header h;
    if (http_field_lex(line, &h, why) < 0)
        return 400;
    if (req->nheaders == HTTP_MAX_HEADERS)
        return *why = "too many header fields", 431;
    req->headers[req->nheaders++] = h;
    return note_field(&req->headers[req->nheaders - 1], fs, req, lim, why);
}

/* RFC 9112 §6.1: only "chunked", last and alone; anything else is refused, never guessed. */
static int check_framing(struct http_request *req, struct field_state *fs, const char **why)
{
    if (fs->encodings) {
        if (req->version == 10)
            return *why = "Transfer-Encoding in an HTTP/1.0 request", 400;
        if (fs->lengths)
            return *why = "both Content-Length and Transfer-Encoding", 400;
        if (!slice_eq_ci(fs->te, "chunked")) {
            /* "gzip, chunked" is well-formed but not implemented; "chunked, x", "xchunked",
             * "chunked;q" and "" are malformed. */
            const char *comma = memrchr(fs->te.p, ',', fs->te.len);
            struct slice last = comma ? slice_trim(slice_make(comma + 1, fs->te.len -
                                                            (size_t)(comma + 1 - fs->te.p)))
                                      : fs->te;
            if (comma && slice_eq_ci(last, "chunked"))
                return *why = "transfer coding not implemented", 501;
            return *why = "bad Transfer-Encoding", 400;
        }
        req->chunked = true;
    }
    return 0;
}

static int finish(struct http_request *req, struct field_state *fs, const char **why)
{
    if (req->version == 11 && fs->hosts == 0)
        return *why = "missing Host", 400;
    int st = check_framing(req, fs, why);
    if (st)
        return st;
    bool close = fs->connection.p && http_list_has(fs->connection, "close");
    req->keep_alive = req->version == 11
                          ? !close
                          : fs->connection.p && http_list_has(fs->connection, "keep-alive") &&
                                !close;
    if (fs->expect.p) {
        if (!slice_eq_ci(fs->expect, "100-continue"))
            return *why = "unsupported expectation", 417;
        req->expect_continue = req->version == 11;
    }
    req->upgrade_h2c = req->version == 11 && fs->upgrade.p && slice_eq_ci(fs->upgrade, "h2c") &&
                       fs->settings && fs->connection.p &&
                       http_list_has(fs->connection, "upgrade") &&
                       http_list_has(fs->connection, "http2-settings");
    return 0;
}

int http_request_parse(const char *p, size_t n, const struct http_limits *lim,
                       struct http_request *req, const char **why_out)
{
    http_request_reset(req);
    const char *why = "bad request";
    struct field_state fs = {0};
    const char *end = p + n;
    int st = 0;
    bool ended = false;
    for (bool first = true; p < end && !ended; first = false) {
        struct slice line;
        if (http_line_next(&p, end, &line, &why) < 0) {
            st = 400;
            break;
        }
        if (line.len == 0) {
            if (first) {
                st = 400;
                why = "empty request line";
            }
            ended = true;
            break;
        }
        st = first ? parse_request_line(line, req, &why) : parse_field(line, req, &fs, lim, &why);
        if (st)
            break;
    }
    if (!st && !ended) {
        st = 400;
        why = "incomplete request head";
    }
    if (!st)
        st = finish(req, &fs, &why);
    *why_out = st ? why : NULL;
    return st;
}
