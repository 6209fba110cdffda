/* torrent/service/announce — see announce.h. */
#include "torrent/service/announce.h"

#include "core/str.h"
#include "torrent/service/http_get.h"

#include <errno.h>
#include <netdb.h>
#include <openssl/rand.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_REPLY (256u << 10)

static void http_announce(const char *url, const struct tor_announce_req *q,
                          struct tor_announce_res *r)
{
    struct tor_url u;
    if (tor_url_parse(url, "http://", "80", &u) < 0) {
        snprintf(r->failure, sizeof r->failure, "unusable tracker URL");
        return;
    }
    struct str path = STR_INIT, body = STR_INIT;
    str_appendf(&path, "%s%c", u.path, strchr(u.path, '?') ? '&' : '?');
    tor_announce_query(q, &path);
    int status = tor_http_get(&u, path.ptr, 0, 0, MAX_REPLY, &body);
    if (status == 0)
        snprintf(r->failure, sizeof r->failure, "cannot reach the tracker");
    else if (status != 200)
        snprintf(r->failure, sizeof r->failure, "tracker answered no HTTP 200");
    else
        tor_announce_parse_http(body.ptr ? body.ptr : "", body.len, r);
    str_clear(&path);
    str_clear(&body);
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    return p + 4;
}

static uint8_t *put64(uint8_t *p, uint64_t v)
{
    return put32(put32(p, (uint32_t)(v >> 32)), (uint32_t)v);
}

/* Sends pkt and waits for an answer with the same transaction id (two tries). */
static ssize_t exchange(int fd, const uint8_t *pkt, size_t n, uint8_t *out, size_t cap)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (send(fd, pkt, n, 0) != (ssize_t)n)
            return -1;
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, TOR_HTTP_TIMEOUT_MS / 2) == 1) {
            ssize_t got = recv(fd, out, cap, 0);
            if (got >= 8 && memcmp(out + 4, pkt + 12, 4) == 0)
                return got;
        }
    }
    return -1;
}

static void udp_announce(const char *url, const struct tor_announce_req *q,
                         struct tor_announce_res *r)
{
    struct tor_url u;
    int family;
    uint8_t pkt[100], in[1500];
    uint32_t tid;
    if (tor_url_parse(url, "udp://", "80", &u) < 0 || RAND_bytes((uint8_t *)&tid, 4) != 1) {
        snprintf(r->failure, sizeof r->failure, "unusable tracker URL");
        return;
    }
    int fd = tor_url_dial(&u, SOCK_DGRAM, &family);
    if (fd < 0) {
        snprintf(r->failure, sizeof r->failure, "cannot reach the tracker");
        return;
    }
    put32(put32(put64(pkt, 0x41727101980ull), 0), tid);
    ssize_t n = exchange(fd, pkt, 16, in, sizeof in);
    if (n < 16 || in[3] != 0) {
        close(fd);
        snprintf(r->failure, sizeof r->failure, "UDP tracker: no connection id");
        return;
    }
    uint8_t *p = pkt;
    memcpy(p, in + 8, 8); /* the connection id */
    p = put32(put32(p + 8, 1), tid);
    memcpy(p, q->info_hash, 20);
    memcpy(p + 20, q->peer_id, 20);
    p = put64(put64(put64(p + 40, q->downloaded), q->left), q->uploaded);
    p = put32(put32(put32(put32(p, q->event), 0), tid ^ 0x5a5a5a5a), 50);
    p[0] = (uint8_t)(q->port >> 8), p[1] = (uint8_t)q->port;
    n = exchange(fd, pkt, 98, in, sizeof in);
    close(fd);
    if (n < 0)
        snprintf(r->failure, sizeof r->failure, "UDP tracker: no answer");
    else
        tor_announce_parse_udp(in, (size_t)n, tid, family, r);
}

void tor_announce_blocking(const char *url, const struct tor_announce_req *q,
                           struct tor_announce_res *r)
{
    memset(r, 0, sizeof *r);
    if (strncmp(url, "http://", 7) == 0)
        http_announce(url, q, r);
    else if (strncmp(url, "udp://", 6) == 0)
        udp_announce(url, q, r);
    else
        snprintf(r->failure, sizeof r->failure, "tracker scheme not supported (http, udp)");
}
