/* torrent/service/announce — see announce.h. */
#include "torrent/service/announce.h"

#include "core/str.h"

#include <errno.h>
#include <netdb.h>
#include <openssl/rand.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TIMEOUT_MS 15000
#define MAX_REPLY (256u << 10)

struct url {
    char host[256], port[8], path[1024];
};

static int parse_url(const char *u, const char *scheme, const char *defport, struct url *o)
{
    size_t sl = strlen(scheme);
    if (strncmp(u, scheme, sl) != 0)
        return -1;
    u += sl;
    size_t hl = strcspn(u, ":/?");
    if (hl == 0 || hl >= sizeof o->host)
        return -1;
    memcpy(o->host, u, hl);
    o->host[hl] = '\0';
    u += hl;
    snprintf(o->port, sizeof o->port, "%s", defport);
    if (*u == ':') {
        size_t pl = strspn(u + 1, "0123456789");
        if (pl == 0 || pl >= sizeof o->port)
            return -1;
        memcpy(o->port, u + 1, pl);
        o->port[pl] = '\0';
        u += 1 + pl;
    }
    snprintf(o->path, sizeof o->path, "%s", *u ? u : "/");
    return 0;
}

static int dial(const struct url *u, int socktype, int *family)
{
    struct addrinfo hints = {.ai_socktype = socktype}, *res = NULL;
    if (getaddrinfo(u->host, u->port, &hints, &res) != 0)
        return -1;
    int fd = -1;
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, socktype | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        struct timeval tv = {TIMEOUT_MS / 1000, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
            close(fd);
            fd = -1;
        } else {
            *family = a->ai_family;
        }
    }
    freeaddrinfo(res);
    return fd;
}

static void http_announce(const char *url, const struct tor_announce_req *q,
                          struct tor_announce_res *r)
{
    struct url u;
    int family;
    if (parse_url(url, "http://", "80", &u) < 0) {
        snprintf(r->failure, sizeof r->failure, "unusable tracker URL");
        return;
    }
    int fd = dial(&u, SOCK_STREAM, &family);
    if (fd < 0) {
        snprintf(r->failure, sizeof r->failure, "cannot connect to the tracker");
        return;
    }
    struct str req = STR_INIT, in = STR_INIT;
    str_appendf(&req, "GET %s%c", u.path, strchr(u.path, '?') ? '&' : '?');
    tor_announce_query(q, &req);
    str_appendf(&req, " HTTP/1.0\r\nHost: %s\r\nUser-Agent: Pigeon\r\nConnection: close\r\n\r\n",
                u.host);
    bool ok = send(fd, req.ptr, req.len, MSG_NOSIGNAL) == (ssize_t)req.len;
    char buf[8192];
    ssize_t n;
    while (ok && in.len < MAX_REPLY && (n = recv(fd, buf, sizeof buf, 0)) > 0)
        str_append(&in, buf, (size_t)n);
    close(fd);
    const char *body = in.ptr ? strstr(in.ptr, "\r\n\r\n") : NULL;
    if (!ok || !body || in.len < 12 || strncmp(in.ptr, "HTTP/1.", 7) != 0 ||
        strncmp(in.ptr + 9, "200", 3) != 0) {
        snprintf(r->failure, sizeof r->failure, "tracker answered no HTTP 200");
    } else {
        body += 4;
        tor_announce_parse_http(body, in.len - (size_t)(body - in.ptr), r);
    }
    str_clear(&req);
    str_clear(&in);
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
        if (poll(&p, 1, TIMEOUT_MS / 2) == 1) {
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
    struct url u;
    int family;
    uint8_t pkt[100], in[1500];
    uint32_t tid;
    if (parse_url(url, "udp://", "80", &u) < 0 || RAND_bytes((uint8_t *)&tid, 4) != 1) {
        snprintf(r->failure, sizeof r->failure, "unusable tracker URL");
        return;
    }
    int fd = dial(&u, SOCK_DGRAM, &family);
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
