/* proxy/forward — see forward.h. */
#include "proxy/forward.h"

#include "cache/policy.h"

#include <stdio.h>
#include <string.h>

static int parse_authority(struct slice a, bool https, struct proxy_url *out)
{
    struct slice host = a;
    struct slice port = slice_make(NULL, 0);
    if (a.len && a.p[0] == '[') {
        const char *rb = memchr(a.p, ']', a.len);
        if (!rb)
            return -1;
        host = slice_make(a.p + 1, (size_t)(rb - a.p - 1));
        size_t rest = a.len - (size_t)(rb + 1 - a.p);
        if (rest) {
            if (rb[1] != ':')
                return -1;
            port = slice_make(rb + 2, rest - 1);
        }
    } else {
        const char *colon = memchr(a.p, ':', a.len);
        if (colon) {
            host = slice_make(a.p, (size_t)(colon - a.p));
            port = slice_make(colon + 1, a.len - host.len - 1);
        }
    }
    if (host.len == 0 || host.len >= sizeof out->host)
        return -1;
    for (size_t i = 0; i < host.len; i++) {
        char c = host.p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == ':' || c == '_'))
            return -1;
    }
    memcpy(out->host, host.p, host.len);
    out->host[host.len] = '\0';
    ascii_lower(out->host, host.len);
    out->https = https;
    out->port = https ? 443 : 80;
    if (port.p) {
        unsigned long long v;
        if (slice_to_u64(port, 65535, &v) != 0 || v == 0)
            return -1;
        out->port = (uint16_t)v;
    }
    return 0;
}

int proxy_url_parse_origin(const char *text, struct proxy_url *out)
{
    struct slice t = slice_cstr(text);
    bool https = slice_starts_ci(t, "https://");
    if (!https && !slice_starts_ci(t, "http://"))
        return -1;
    size_t skip = https ? 8 : 7;
    struct slice a = slice_make(t.p + skip, t.len - skip);
    if (a.len && a.p[a.len - 1] == '/')
        a.len--;
    out->path_query = slice_make("/", 1);
    return parse_authority(a, https, out);
}

int proxy_url_of(const struct http_request *req, const struct proxy_url *origin,
                 struct proxy_url *out, const char **why_out)
{
    struct slice t = req->target;
    memset(out, 0, sizeof *out);
    if (req->method == HTTP_CONNECT) {
        if (parse_authority(t, true, out) != 0 || !memchr(t.p, ':', t.len))
            return *why_out = "CONNECT needs host:port", -1;
        return 0;
    }
    if (origin) {
        if (t.len == 0 || t.p[0] != '/')
            return *why_out = "this site only takes origin-form targets", -1;
        *out = *origin;
        out->path_query = t;
        return 0;
    }
    bool https = slice_starts_ci(t, "https://");
    if (!https && !slice_starts_ci(t, "http://"))
        return *why_out = "a proxy request needs an absolute URL (http:// or https://)", -1;
    if (parse_authority(req->host, https, out) != 0)
        return *why_out = "bad host in the URL", -1;
    /* The path and query as sent: everything after the authority. */
    const char *a = t.p + (https ? 8 : 7);
    const char *end = t.p + t.len;
    const char *p = a;
    while (p < end && *p != '/' && *p != '?')
        p++;
    out->path_query = p < end && *p == '/' ? slice_make(p, (size_t)(end - p)) : slice_make("/", 1);
    if (p < end && *p == '?')
        out->path_query = slice_make(p, (size_t)(end - p)); /* "?q": fixed up by the key */
    return 0;
}

int proxy_url_with_host(const struct proxy_url *base, struct slice host, struct proxy_url *out)
{
    *out = *base;
    if (parse_authority(host, base->https, out) != 0)
        return -1;
    out->path_query = base->path_query;
    out->configured = base->configured;
    return 0;
}

void proxy_url_authority(const struct proxy_url *u, struct str *out)
{
    bool v6 = strchr(u->host, ':') != NULL;
    str_appendf(out, v6 ? "[%s]" : "%s", u->host);
    if (u->port != (u->https ? 443 : 80))
        str_appendf(out, ":%u", (unsigned)u->port);
}

void proxy_url_key(const struct proxy_url *u, struct str *out)
{
    str_appends(out, u->https ? "https://" : "http://");
    proxy_url_authority(u, out);
    if (u->path_query.len == 0 || u->path_query.p[0] != '/')
        str_appendc(out, '/');
    str_append(out, u->path_query.p, u->path_query.len);
}

static bool conditional_field(struct slice name)
{
    return slice_eq_ci(name, "If-None-Match") || slice_eq_ci(name, "If-Modified-Since") ||
           slice_eq_ci(name, "If-Match") || slice_eq_ci(name, "If-Unmodified-Since") ||
           slice_eq_ci(name, "If-Range") || slice_eq_ci(name, "Range");
}

void proxy_request_head(const struct http_request *req, const struct proxy_url *u,
                        const struct proxy_forward *f, struct str *out)
{
    str_append(out, req->method_name.p, req->method_name.len);
    str_appends(out, " ");
    if (u->path_query.len == 0 || u->path_query.p[0] != '/')
        str_appendc(out, '/');
    str_append(out, u->path_query.p, u->path_query.len);
    str_appends(out, " HTTP/1.1\r\nHost: ");
    if (f->keep_host && req->host.len)
        str_append(out, req->host.p, req->host.len);
    else
        proxy_url_authority(u, out);
    str_appends(out, "\r\n");
    const struct slice *conn = http_request_header(req, "Connection");
    struct slice cv = conn ? *conn : slice_make("", 0);
    struct str via = STR_INIT, xff = STR_INIT;
    for (unsigned i = 0; i < req->nheaders; i++) {
        const struct http_header *h = &req->headers[i];
        if (cache_hop_by_hop(h->name, cv) || slice_eq_ci(h->name, "Host") ||
            slice_eq_ci(h->name, "Content-Length") ||
            (f->drop_conditionals && conditional_field(h->name)))
            continue;
        if (slice_eq_ci(h->name, "Via")) {
            str_appendf(&via, "%.*s, ", (int)h->value.len, h->value.p);
            continue;
        }
        if (slice_eq_ci(h->name, "X-Forwarded-For")) {
            str_appendf(&xff, "%.*s, ", (int)h->value.len, h->value.p);
            continue;
        }
        if (f->reverse &&
            (slice_eq_ci(h->name, "X-Forwarded-Host") || slice_eq_ci(h->name, "X-Forwarded-Proto")))
            continue; /* ours replace what a client claims */
        if (slice_eq_ci(h->name, "Max-Forwards") &&
            (req->method == HTTP_OPTIONS || req->method == HTTP_TRACE)) {
            long mf = proxy_max_forwards(req);
            str_appendf(out, "Max-Forwards: %ld\r\n", mf > 0 ? mf - 1 : 0);
            continue;
        }
        str_appendf(out, "%.*s: %.*s\r\n", (int)h->name.len, h->name.p, (int)h->value.len,
                    h->value.p);
    }
    str_appendf(out, "Via: %s%s\r\n", str_cstr(&via), f->via);
    str_appendf(out, "X-Forwarded-For: %s%s\r\n", str_cstr(&xff), f->client);
    bool v6 = strchr(f->client, ':') != NULL;
    const char *proto = f->tls ? "https" : "http";
    str_appendf(out, v6 ? "Forwarded: for=\"[%s]\";proto=%s" : "Forwarded: for=%s;proto=%s",
                f->client, proto);
    if (f->reverse && req->host.len) /* RFC 7239 §5.3: a quoted-string when it has a ':' */
        str_appendf(out, ";host=\"%.*s\"", (int)req->host.len, req->host.p);
    str_appends(out, "\r\n");
    if (f->reverse) {
        if (req->host.len)
            str_appendf(out, "X-Forwarded-Host: %.*s\r\n", (int)req->host.len, req->host.p);
        str_appendf(out, "X-Forwarded-Proto: %s\r\n", proto);
    }
    str_append(out, f->extra.p, f->extra.len);
    if (req->body_len || req->has_length || req->chunked)
        str_appendf(out, "Content-Length: %zu\r\n", req->body_len);
    str_appends(out, "\r\n");
    str_clear(&via);
    str_clear(&xff);
}

void proxy_response_fields(const struct http_header *h, unsigned n, const char *via,
                           struct str *out)
{
    struct slice conn = slice_make("", 0);
    for (unsigned i = 0; i < n; i++)
        if (slice_eq_ci(h[i].name, "Connection"))
            conn = h[i].value;
    for (unsigned i = 0; i < n; i++) {
        if (cache_hop_by_hop(h[i].name, conn) || slice_eq_ci(h[i].name, "Content-Length"))
            continue;
        str_appendf(out, "%.*s: %.*s\r\n", (int)h[i].name.len, h[i].name.p, (int)h[i].value.len,
                    h[i].value.p);
    }
    if (via) /* a field line of its own: the same as appending to the list (RFC 9110 §5.3) */
        str_appendf(out, "Via: %s\r\n", via);
}

long proxy_max_forwards(const struct http_request *req)
{
    if (req->method != HTTP_OPTIONS && req->method != HTTP_TRACE)
        return -1;
    const struct slice *v = http_request_header(req, "Max-Forwards");
    if (!v)
        return -1;
    unsigned long long n;
    if (slice_to_u64(*v, 1000000, &n) != 0)
        return 0;
    return (long)n;
}
