/*
 * torrent/service/http_get — the peer's blocking HTTP/1.0 client, run on its pools: a URL
 * split into host, port and path (IPv6 literals in brackets), a dialled socket with a
 * time limit, and one GET (optionally of a byte range, RFC 9110 section 14) read to the end
 * of the connection. Used for HTTP tracker announces and web seeds (BEP 19).
 */
#ifndef PIGEON_TORRENT_SERVICE_HTTP_GET_H
#define PIGEON_TORRENT_SERVICE_HTTP_GET_H

#include "core/str.h"

#include <stddef.h>
#include <stdint.h>

#define TOR_HTTP_TIMEOUT_MS 15000

struct tor_url {
    char host[256], port[8], path[1024];
};

/* 0, or -1 when url does not start with scheme ("http://", "udp://") or is malformed. */
int tor_url_parse(const char *url, const char *scheme, const char *defport, struct tor_url *o);
/* A connected socket (socktype SOCK_STREAM or SOCK_DGRAM) with send/receive time limits, its
 * family in *family; -1 when it cannot be reached. */
int tor_url_dial(const struct tor_url *u, int socktype, int *family);

/*
 * GET path_and_query on u (HTTP/1.0, Connection: close). With len > 0 only bytes
 * [off, off + len) are asked for. Returns the status code (0 when no HTTP answer came) with
 * the body in *body (at most max bytes: a longer one is an error, -1); status 206 is checked
 * to carry exactly that range.
 */
int tor_http_get(const struct tor_url *u, const char *path_and_query, uint64_t off, uint64_t len,
                 size_t max, struct str *body);

#endif
