/*
 * dhcp/service/ping — the conflict check before an OFFER ([dhcp] ping_check, off by
 * default), as ISC dhcpd's ping-check: the address about to be offered is sent an ICMP echo
 * request, and the OFFER waits ping_timeout milliseconds. No reply: the OFFER goes out. A
 * reply from the address: a host nobody leased it to uses it, so it is quarantined for
 * [dhcp] probation (dhcp_engine_conflict, as a DECLINE) and the DISCOVER is decided again,
 * which offers another address (checked the same way, at most PING_TRIES addresses).
 *
 * One raw ICMP socket (opened at start, as root), filtered by the kernel to echo replies;
 * replies are matched by our identifier, the sequence number and the source address. A
 * retransmitted DISCOVER for an address already being checked replaces the waiting OFFER
 * (the newest xid) without a second echo. At most PING_MAX_JOBS checks wait; beyond that an
 * OFFER goes out unchecked (logged within the log budget).
 */
#include "dhcp/service/service_int.h"

#include "core/log.h"
#include "core/xmalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef ICMP_FILTER
#define ICMP_FILTER 1 /* linux/icmp.h (which clashes with netinet/ip_icmp.h): a raw ICMP
                       * socket's filter, a bit mask of the types it drops */
#endif

#define PING_MAX_JOBS 1024
#define PING_TRIES 3 /* addresses checked for one DISCOVER */

struct ping_job {
    struct ping_job *next;
    struct dhcp_ping *p;
    struct event *timer;
    struct dhcp_sock *sock;
    uint32_t addr; /* network order: the address offered */
    uint16_t seq;
    unsigned tries;
    struct dhcp_held held; /* the DISCOVER, to decide again */
    struct dhcp_reply reply;
};

struct dhcp_ping {
    struct dhcp_svc *svc;
    int fd;
    struct event *rd;
    uint16_t ident;
    uint16_t next_seq;
    struct ping_job *jobs;
    unsigned njobs;
};

static uint16_t checksum(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return htons((uint16_t)~sum);
}

static void job_free(struct ping_job *j)
{
    struct dhcp_ping *p = j->p;
    for (struct ping_job **pp = &p->jobs; *pp; pp = &(*pp)->next)
        if (*pp == j) {
            *pp = j->next;
            break;
        }
    p->njobs--;
    event_free(j->timer);
    free(j);
}

static bool send_echo(struct dhcp_ping *p, struct ping_job *j)
{
    struct {
        struct icmphdr h;
        uint8_t payload[8];
    } msg;
    memset(&msg, 0, sizeof msg);
    msg.h.type = ICMP_ECHO;
    msg.h.un.echo.id = htons(p->ident);
    msg.h.un.echo.sequence = htons(j->seq);
    memcpy(msg.payload, "pigeon-d", 8);
    msg.h.checksum = checksum(&msg, sizeof msg);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = j->addr};
    if (sendto(p->fd, &msg, sizeof msg, 0, (struct sockaddr *)&to, sizeof to) < 0) {
        log_warn("dhcp: ping %s: %s", inet_ntoa(to.sin_addr), strerror(errno));
        return false;
    }
    return true;
}

/* No answer in time: the address is free to offer. */
static void on_timeout(evutil_socket_t fd, short what, void *vj)
{
    struct ping_job *j = vj;
    dhcp_io_send(j->sock, &j->reply);
    job_free(j);
}

static void conflict(struct dhcp_ping *p, struct ping_job *j)
{
    struct dhcp_svc *svc = p->svc;
    char a[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &j->addr, a, sizeof a);
    log_warn("dhcp: %s answers ping: in use by a host without a lease; quarantined %u s, not "
             "offered", a, svc->cfg->engine.probation);
    dhcp_engine_conflict(svc->engine, ntohl(j->addr), (int64_t)time(NULL));
    struct dhcp_held held = j->held;
    struct dhcp_sock *sock = j->sock;
    unsigned tries = j->tries;
    job_free(j);
    dhcp_io_decide_again(sock, &held, tries + 1);
    dhcp_batch_submit(svc);
}

static void on_reply(evutil_socket_t fd, short what, void *vp)
{
    struct dhcp_ping *p = vp;
    uint8_t buf[1500];
    struct sockaddr_in from;
    for (;;) {
        socklen_t flen = sizeof from;
        ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen);
        if (n <= 0)
            return;
        size_t ihl = (size_t)(buf[0] & 0x0f) * 4;
        if ((size_t)n < ihl + sizeof(struct icmphdr))
            continue;
        struct icmphdr h;
        memcpy(&h, buf + ihl, sizeof h);
        if (h.type != ICMP_ECHOREPLY || ntohs(h.un.echo.id) != p->ident)
            continue;
        for (struct ping_job *j = p->jobs; j; j = j->next)
            if (j->seq == ntohs(h.un.echo.sequence) && j->addr == from.sin_addr.s_addr) {
                conflict(p, j);
                break;
            }
    }
}

bool dhcp_ping_offer(struct dhcp_ping *p, struct dhcp_sock *sock, const struct dhcp_held *held,
                     const struct dhcp_reply *r, unsigned tries)
{
    uint32_t addr;
    memcpy(&addr, r->buf + 16, 4); /* yiaddr */
    for (struct ping_job *j = p->jobs; j; j = j->next)
        if (j->addr == addr) { /* a retransmission: answer it, not the first, at the end */
            j->reply = *r;
            j->held = *held;
            return true;
        }
    if (tries >= PING_TRIES || p->njobs >= PING_MAX_JOBS)
        return false;
    struct ping_job *j = xcalloc(1, sizeof *j);
    j->p = p;
    j->sock = sock;
    j->addr = addr;
    j->seq = p->next_seq++;
    j->tries = tries;
    j->held = *held;
    j->reply = *r;
    j->timer = evtimer_new(p->svc->base, on_timeout, j);
    j->next = p->jobs;
    p->jobs = j;
    p->njobs++;
    if (!send_echo(p, j)) {
        job_free(j);
        return false;
    }
    unsigned ms = p->svc->cfg->ping_timeout;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(j->timer, &tv);
    return true;
}

struct dhcp_ping *dhcp_ping_new(struct dhcp_svc *svc)
{
    int fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
    if (fd < 0) {
        log_err("dhcp: ping_check needs a raw ICMP socket (root or CAP_NET_RAW): %s",
                strerror(errno));
        return NULL;
    }
    uint32_t drop = ~(1U << ICMP_ECHOREPLY);
    if (setsockopt(fd, SOL_RAW, ICMP_FILTER, &drop, sizeof drop) < 0)
        log_info("dhcp: ping: no ICMP filter (%s): every ICMP message is read", strerror(errno));
    struct dhcp_ping *p = xcalloc(1, sizeof *p);
    p->svc = svc;
    p->fd = fd;
    if (getrandom(&p->ident, sizeof p->ident, GRND_NONBLOCK) != sizeof p->ident)
        p->ident = (uint16_t)getpid();
    p->rd = event_new(svc->base, fd, EV_READ | EV_PERSIST, on_reply, p);
    event_add(p->rd, NULL);
    return p;
}

void dhcp_ping_free(struct dhcp_ping *p)
{
    if (!p)
        return;
    while (p->jobs)
        job_free(p->jobs);
    event_free(p->rd);
    close(p->fd);
    free(p);
}
