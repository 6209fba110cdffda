/*
 * http/site — one `[http NAME]` site as the handlers see it: the names it answers to, its
 * document root (opened once; every file is opened beneath it with RESOLVE_BENEATH), and
 * the features it enables. Filled by the service's config section (service/config.c);
 * read-only while the server runs. Also the choice of a site by Host (virtual hosting).
 */
#ifndef PIGEON_HTTP_SITE_H
#define PIGEON_HTTP_SITE_H

#include "core/str.h"

#include <stdbool.h>
#include <stdint.h>

struct http_mime;

#define HTTP_SITE_MAX_NAMES 8
#define HTTP_SITE_MAX_CACHE 8

struct http_cache_rule {
    char *prefix;       /* request path prefix, e.g. "/images/" */
    unsigned max_age;   /* seconds for Cache-Control: max-age */
};

struct http_site {
    char *name;                          /* the section's NAME */
    char *names[HTTP_SITE_MAX_NAMES];    /* host names it answers to (lower case, no port) */
    unsigned nnames;
    bool is_default;                     /* answers a Host no site names */
    char *root;                          /* document root, as configured */
    int root_fd;                         /* O_PATH|O_DIRECTORY, opened at start; -1 if none */
    char *index;                         /* directory index file name; default index.html */
    bool autoindex;                      /* list directories without an index */
    char *upload;                        /* path prefix where PUT/DELETE work; NULL: none */
    uint64_t max_upload;                 /* largest PUT body */
    int plaintext_auth;                  /* 0 never, 1 from loopback, 2 always (Basic) */
    bool login;                          /* /login, /logout, /whoami with a session cookie */
    unsigned session_ttl;                /* seconds a login session lives */
    char *redirect;                      /* "https://host:port": every plain request goes there */
    char *tls_cert, *tls_key;            /* the site's own certificate, offered by SNI; NULL:
                                            [server]'s (or tls_dir's) */
    bool compress;                       /* gzip/br on the fly for compressible types */
    uint64_t compress_min;               /* ... of at least this many octets */
    struct http_cache_rule cache[HTTP_SITE_MAX_CACHE];
    unsigned ncache;
    const struct http_mime *mime;        /* shared media type table */
    char *proxy_to;                      /* "http://origin[:port] ...": a reverse proxy through
                                            the proxy service's cache (proxy/service/site.c);
                                            NULL: none */
    bool proxy_preserve_host;            /* send the client's Host to the origin */
};

/*
 * The site for a Host value (port and trailing dot ignored, case-insensitive): a site naming
 * it, else the default site (the one marked, else the first). NULL only when n == 0.
 */
const struct http_site *http_site_select(struct http_site *const *sites, unsigned n,
                                         struct slice host);

#endif
