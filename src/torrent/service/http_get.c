/* torrent/service/http_get — see http_get.h. */
#include "torrent/service/http_get.h"

#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int tor_url_parse(const char *u, const char *scheme, const char *defport, struct tor_url *o)
{
    size_t sl = strlen(scheme);
    if (strncmp(u, scheme, sl) != 0)
        return -1;
    u += sl;
    bool v6 = *u == '['; /* an IPv6 literal: [::1]:6969 (RFC 3986 section 3.2.2) */
    size_t hl = v6 ? strcspn(u + 1, "]") : strcspn(u, ":/?");
    if (hl == 0 || hl >= sizeof o->host || (v6 && u[1 + hl] != ']'))
        return -1;
    memcpy(o->host, u + v6, hl);
    o->host[hl] = '\0';
    u += hl + 2 * v6;
    snprintf(o->port, sizeof o->port, "%s", defport);
    if (*u == ':') {
        size_t pl = strspn(u + 1, "0123456789");
        if (pl == 0 || pl >= sizeof o->port)
            return -1;
        memcpy(o->port, u + 1, pl);
        o->port[pl] = '\0';
        u += 1 + pl;
    }
    if (strlen(u) >= sizeof o->path)
        return -1;
    snprintf(o->path, sizeof o->path, "%s", *u ? u : "/");
    return 0;
}

int tor_url_dial(const struct tor_url *u, int socktype, int *family)
{
    struct addrinfo hints = {.ai_socktype = socktype}, *res = NULL;
    if (getaddrinfo(u->host, u->port, &hints, &res) != 0)
        return -1;
    int fd = -1;
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, socktype | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        struct timeval tv = {TOR_HTTP_TIMEOUT_MS / 1000, 0};
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

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The value of header name in the head (lines after the status line), or NULL. */
static const char *header(const char *head, const char *name)
{
    size_t n = strlen(name);
    for (const char *l = strstr(head, "\r\n"); l; l = strstr(l + 2, "\r\n"))
        if (strncasecmp(l + 2, name, n) == 0 && l[2 + n] == ':')
            return l + 3 + n + strspn(l + 3 + n, " \t");
    return NULL;
}

/* RFC 9110 section 14.4: "bytes first-last/complete" must be the range asked for. */
static bool range_is(const char *v, uint64_t off, uint64_t len)
{
    uint64_t first, last;
    return v && sscanf(v, "bytes %" SCNu64 "-%" SCNu64, &first, &last) == 2 && first == off &&
           last == off + len - 1;
}

int tor_http_get(const struct tor_url *u, const char *path_and_query, uint64_t off, uint64_t len,
                 size_t max, struct str *body)
{
    int family;
    int fd = tor_url_dial(u, SOCK_STREAM, &family);
    if (fd < 0)
        return 0;
    struct str req = STR_INIT, in = STR_INIT;
    str_appendf(&req, "GET %s HTTP/1.0\r\nHost: %s%s%s:%s\r\nUser-Agent: Pigeon\r\n",
                path_and_query, strchr(u->host, ':') ? "[" : "", u->host,
                strchr(u->host, ':') ? "]" : "", u->port);
    if (len)
        str_appendf(&req, "Range: bytes=%" PRIu64 "-%" PRIu64 "\r\n", off, off + len - 1);
    str_appendf(&req, "Connection: close\r\n\r\n");
    bool ok = send(fd, req.ptr, req.len, MSG_NOSIGNAL) == (ssize_t)req.len;
    char buf[16384];
    size_t cap = max + 16384; /* the body and its head */
    /* One deadline for the whole answer, not 15 s per recv: a server that sends an octet at a
     * time would hold the pool thread for hours. A range has 16 KiB/s more on top. */
    int64_t deadline = now_ms() + TOR_HTTP_TIMEOUT_MS + (int64_t)(len / 16);
    while (ok && in.len <= cap) {
        int64_t left = deadline - now_ms();
        struct pollfd p = {fd, POLLIN, 0};
        if (left <= 0 || poll(&p, 1, (int)left) != 1) {
            ok = false; /* too slow: no answer */
            break;
        }
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0)
            break;
        str_append(&in, buf, (size_t)n);
    }
    close(fd);
    str_clear(&req);
    int status = 0;
    const char *end = in.ptr ? strstr(in.ptr, "\r\n\r\n") : NULL;
    if (ok && end && in.len >= 12 && strncmp(in.ptr, "HTTP/1.", 7) == 0)
        status = atoi(in.ptr + 9);
    if (status) {
        size_t head = (size_t)(end - in.ptr) + 4, blen = in.len - head;
        in.ptr[head - 2] = '\0'; /* the head as a string, for header() */
        if (blen > max || (status == 206 &&
                           (!range_is(header(in.ptr, "Content-Range"), off, len) || blen != len)))
            status = -1;
        else
            str_append(body, in.ptr + head, blen);
    }
    str_clear(&in);
    return status;
}
