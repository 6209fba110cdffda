/*
 * udpannounce — a load generator for UDP trackers (BEP 15), for bench/torrent.sh: S sockets
 * on 127.0.0.1, each with its connection id (a connect first, again every 50 s), keep W
 * announces in flight (64 torrents, a random port each: a new peer or a re-announce, as a busy
 * tracker sees), for D seconds; prints announces answered per second. Transaction ids match
 * answers to requests; a lost datagram is given up after 1 s. Error replies are counted apart
 * and reported on stderr (each costs its socket a new connect).
 *
 * usage: udpannounce PORT SECONDS [SOCKETS [WINDOW]]
 */
#include <arpa/inet.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXS 64

struct sock {
    int fd;
    uint64_t cid;
    double cid_at;
    uint32_t tid;
    unsigned inflight;
    double last_send;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)(v >> 32));
    put32(p + 4, (uint32_t)v);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void send_connect(struct sock *s)
{
    uint8_t pkt[16];
    put64(pkt, 0x41727101980ull);
    put32(pkt + 8, 0);
    put32(pkt + 12, ++s->tid | 0x80000000u);
    send(s->fd, pkt, sizeof pkt, 0);
    s->last_send = now();
}

static void send_announce(struct sock *s)
{
    uint8_t pkt[98] = {0};
    int torrent = rand() % 64, port = 1024 + rand() % 64000;
    put64(pkt, s->cid);
    put32(pkt + 8, 1);
    put32(pkt + 12, ++s->tid & 0x7fffffffu);
    memset(pkt + 16, 0x11, 20);
    pkt[16] = (uint8_t)torrent;
    snprintf((char *)pkt + 36, 21, "-UB0001-%012d", port);
    put64(pkt + 64, (uint64_t)(port % 2)); /* left: half seeds, half leechers */
    put32(pkt + 92, 50);                   /* num_want */
    pkt[96] = (uint8_t)(port >> 8), pkt[97] = (uint8_t)port;
    send(s->fd, pkt, sizeof pkt, 0);
    s->inflight++;
    s->last_send = now();
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: udpannounce PORT SECONDS [SOCKETS [WINDOW]]\n");
        return 2;
    }
    int port = atoi(argv[1]), ns = argc > 3 ? atoi(argv[3]) : 8;
    double secs = atof(argv[2]);
    unsigned window = argc > 4 ? (unsigned)atoi(argv[4]) : 16;
    if (ns < 1 || ns > MAXS)
        ns = 8;
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    struct sock s[MAXS];
    struct pollfd pf[MAXS];
    srand((unsigned)time(NULL));
    for (int i = 0; i < ns; i++) {
        memset(&s[i], 0, sizeof s[i]);
        s[i].fd = socket(AF_INET, SOCK_DGRAM, 0);
        if (s[i].fd < 0 || connect(s[i].fd, (struct sockaddr *)&to, sizeof to) < 0) {
            perror("socket");
            return 1;
        }
        pf[i] = (struct pollfd){s[i].fd, POLLIN, 0};
        send_connect(&s[i]);
    }
    unsigned long answered = 0, errors = 0;
    char first_error[128] = "";
    double start = now(), end = start + secs;
    uint8_t in[2048];
    while (now() < end) {
        poll(pf, (nfds_t)ns, 10);
        double t = now();
        for (int i = 0; i < ns; i++) {
            struct sock *k = &s[i];
            ssize_t n;
            while ((n = recv(k->fd, in, sizeof in, MSG_DONTWAIT)) >= 8) {
                uint32_t action = get32(in), tid = get32(in + 4);
                if (action == 0 && n >= 16 && (tid & 0x80000000u)) {
                    k->cid = ((uint64_t)get32(in + 8) << 32) | get32(in + 12);
                    k->cid_at = t;
                    k->inflight = 0;
                } else if (action == 1 && k->inflight) {
                    k->inflight--;
                    answered++;
                } else if (action == 3) { /* an error (an old connection id): connect again */
                    if (!errors++)
                        snprintf(first_error, sizeof first_error, "%.*s", (int)(n - 8),
                                 (const char *)in + 8);
                    k->cid_at = 0;
                    k->inflight = 0;
                }
            }
            if (k->cid_at == 0 || t - k->cid_at > 50) {
                if (t - k->last_send > 0.2)
                    send_connect(k);
                continue;
            }
            if (k->inflight && t - k->last_send > 1.0)
                k->inflight = 0; /* lost: give up on them */
            while (k->inflight < window)
                send_announce(k);
        }
    }
    printf("%.0f\n", answered / (now() - start));
    if (errors) /* not announces served: the figure above is not the tracker's rate */
        fprintf(stderr, "udpannounce: %lu error replies, the first: %s\n", errors, first_error);
    return 0;
}
