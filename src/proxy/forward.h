/*
 * proxy/forward — what a proxy changes in the messages it passes on, as pure functions: the
 * request target as a URL (scheme, host, port, path; the cache's primary key), the request
 * sent to the origin (origin-form, hop-by-hop fields and Proxy-Authorization removed, Via,
 * X-Forwarded-For and Forwarded added, Max-Forwards decremented), and the response head sent
 * to the client (hop-by-hop fields removed, Via added). RFC 9110 §7.6, §7.6.2, §7.6.3;
 * RFC 7239. No I/O; output is appended to the caller's struct str.
 */
#ifndef PIGEON_PROXY_FORWARD_H
#define PIGEON_PROXY_FORWARD_H

#include "core/str.h"
#include "http/request.h"

#include <stdbool.h>
#include <stdint.h>

struct proxy_url {
    bool https;
    char host[256]; /* lower-cased; an IPv6 literal without its brackets */
    uint16_t port;
    struct slice path_query; /* "/path?query", points into the request (or a static "/") */
    bool configured;         /* named by the administrator (a reverse proxy's origin) */
};

/*
 * The URL a request asks for: its absolute-form target (forward proxy), or origin (reverse
 * proxy: "http://host:port" the site forwards to) plus its origin-form target. Returns 0, or
 * -1 with *why_out for a target the proxy does not serve (no scheme it speaks, bad port,
 * bad host).
 */
int proxy_url_of(const struct http_request *req, const struct proxy_url *origin,
                 struct proxy_url *out, const char **why_out);
/* Parses "http://host[:port]" or "https://..." (a configured origin). 0 or -1. */
int proxy_url_parse_origin(const char *text, struct proxy_url *out);
/* The cache key: "scheme://host[:port]/path?query" with the default port left out. */
void proxy_url_key(const struct proxy_url *u, struct str *out);
/* out = base with the host and port of a Host field value (same scheme): the cache key of a
 * reverse proxy that passes the client's Host on. 0, or -1 for a malformed value. */
int proxy_url_with_host(const struct proxy_url *base, struct slice host, struct proxy_url *out);
/* "host" or "host:port" (brackets around IPv6) as a Host field value. */
void proxy_url_authority(const struct proxy_url *u, struct str *out);

struct proxy_forward {
    const char *via;        /* this proxy's Via entry: "1.1 pigeon" */
    const char *client;     /* the client's address, text */
    bool tls;               /* the client spoke TLS to us */
    struct slice extra;     /* more fields ("If-None-Match: ...\r\n") or empty */
    bool drop_conditionals; /* the cache makes its own conditional request */
    /* A reverse proxy: X-Forwarded-Host and X-Forwarded-Proto too, and host= in Forwarded
     * (the Host the client asked for); keep_host: that Host goes to the origin as well,
     * instead of the origin's own name. */
    bool reverse;
    bool keep_host;
};

/* Appends the request head for the origin ("GET /p HTTP/1.1\r\n...\r\n\r\n"), without a
 * body framing field when the request has no body; with Content-Length of the buffered body
 * when it has one. */
void proxy_request_head(const struct http_request *req, const struct proxy_url *u,
                        const struct proxy_forward *f, struct str *out);

/*
 * Copies the origin's fields to out ("Name: value\r\n" lines), without the hop-by-hop ones
 * (the fixed list and those named by Connection) and without Content-Length (the proxy frames
 * the body itself), then a Via line when via is not NULL (the stored copy has none).
 */
void proxy_response_fields(const struct http_header *h, unsigned n, const char *via,
                           struct str *out);

/* Max-Forwards of an OPTIONS or TRACE request (RFC 9110 §7.6.2): -1 when absent or another
 * method, else its value (a malformed one counts as 0). */
long proxy_max_forwards(const struct http_request *req);

#endif
