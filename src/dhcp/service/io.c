/*
 * dhcp/service/io — the sockets: one UDP socket per [dhcp] interface, bound to 0.0.0.0:67
 * with SO_BINDTODEVICE (so the server answers only there, and a broadcast reply leaves by
 * the interface the request came in on) and IP_PKTINFO (our address on it, and whether the
 * request was broadcast). A readable socket is drained in a batch: every datagram goes
 * through the rate limits and the engine; OFFERs and NAKs leave at once, and the batch's
 * leases and ACKs go to the commit thread (commit.c), which sends the ACKs after COMMIT.
 *
 * Replies to a client that has no address yet and did not ask for broadcast (RFC 2131 §4.1)
 * are unicast to yiaddr at chaddr: the kernel's ARP table gets the pair with SIOCSARP, as
 * dnsmasq does, instead of a packet socket. Without CAP_NET_ADMIN (after privileges are
 * dropped) or for a non-Ethernet chaddr the reply is broadcast instead, which every client
 * accepts.
 */
#include "dhcp/service/service_int.h"

#include "core/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int open_one(const char *ifname, unsigned port)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one) < 0 ||
        setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname) + 1) < 0 ||
        bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    /* Room for the datagrams that arrive while a batch's COMMIT waits for fsync: 4 MiB (as
     * root past rmem_max; else what rmem_max allows). */
    int rcv = 4 << 20;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof rcv) < 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
    return fd;
}

int dhcp_io_open(struct dhcp_svc *svc)
{
    for (unsigned i = 0; i < svc->cfg->nifaces; i++) {
        const char *name = svc->cfg->ifaces[i];
        int fd = open_one(name, svc->cfg->port);
        if (fd < 0) {
            log_err("dhcp: cannot listen on %s port %u: %s", name, svc->cfg->port,
                    strerror(errno));
            return -1;
        }
        struct dhcp_sock *s = &svc->socks[svc->nsocks++];
        s->fd = fd;
        s->svc = svc;
        snprintf(s->name, sizeof s->name, "%s", name);
        log_info("dhcp: listening on %s port %u", name, svc->cfg->port);
    }
    return 0;
}

void dhcp_io_close(struct dhcp_svc *svc)
{
    for (unsigned i = 0; i < svc->nsocks; i++) {
        if (svc->socks[i].ev)
            event_free(svc->socks[i].ev);
        close(svc->socks[i].fd);
    }
    svc->nsocks = 0;
}

bool dhcp_log_budget(struct dhcp_svc *svc, int64_t now)
{
    if (now != svc->log_second) {
        svc->log_second = now;
        svc->log_lines = 0;
    }
    return svc->log_lines++ < 20;
}

/* ---- sending ---- */

static bool arp_set(int fd, const char *ifname, uint32_t addr, const uint8_t *mac)
{
    struct arpreq req;
    memset(&req, 0, sizeof req);
    struct sockaddr_in *pa = (struct sockaddr_in *)&req.arp_pa;
    pa->sin_family = AF_INET;
    pa->sin_addr.s_addr = addr;
    req.arp_ha.sa_family = ARPHRD_ETHER;
    memcpy(req.arp_ha.sa_data, mac, 6);
    req.arp_flags = ATF_COM;
    snprintf(req.arp_dev, sizeof req.arp_dev, "%s", ifname);
    return ioctl(fd, SIOCSARP, &req) == 0;
}

void dhcp_io_send(struct dhcp_sock *s, const struct dhcp_reply *r)
{
    unsigned port = s->svc->cfg->port;
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)(port + 1))};
    switch (r->dest) {
    case DHCP_DEST_RELAY:
        to.sin_addr.s_addr = r->dest_addr;
        to.sin_port = htons((uint16_t)port);
        break;
    case DHCP_DEST_UNICAST:
        to.sin_addr.s_addr = r->dest_addr;
        break;
    case DHCP_DEST_HWADDR:
        if (r->hlen == 6 && arp_set(s->fd, s->name, r->dest_addr, r->chaddr)) {
            to.sin_addr.s_addr = r->dest_addr;
            break;
        }
        /* no ARP entry: the client hears it broadcast */
        __attribute__((fallthrough));
    case DHCP_DEST_BROADCAST:
        to.sin_addr.s_addr = htonl(INADDR_BROADCAST);
        break;
    }
    if (sendto(s->fd, r->buf, r->len, 0, (struct sockaddr *)&to, sizeof to) < 0)
        log_warn("dhcp: sending to %s on %s: %s", inet_ntoa(to.sin_addr), s->name,
                 strerror(errno));
}

/* ---- receiving ---- */

static const char *type_name(int t)
{
    static const char *const n[] = {"?", "DISCOVER", "OFFER", "REQUEST", "DECLINE",
                                    "ACK", "NAK", "RELEASE", "INFORM"};
    if (t == DHCP_BOOTP_REPLY)
        return "BOOTREPLY";
    return t >= 1 && t <= 8 ? n[t] : "?";
}

static void mac_text(const uint8_t *chaddr, unsigned hlen, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (unsigned i = 0; i < hlen && i < 16 && n + 4 <= cap; i++)
        n += (size_t)snprintf(out + n, cap - n, i ? ":%02x" : "%02x", chaddr[i]);
}

static void mac_text(const uint8_t *chaddr, unsigned hlen, char *out, size_t cap);

/* Rate limits before any parsing: per relay (giaddr), then per client MAC. NULL when the
 * message may go on, else which limit it ran into, as text for the log line (into buf). */
static const char *limited(struct dhcp_svc *svc, const uint8_t *pkt, size_t len,
                           int64_t now_ms, char *buf, size_t cap)
{
    if (len < 44)
        return NULL; /* the engine drops it as short */
    unsigned hlen = pkt[2] > 16 ? 16 : pkt[2];
    struct in_addr giaddr;
    memcpy(&giaddr, pkt + 24, 4);
    if (giaddr.s_addr && !dhcp_ratelimit_allow(svc->rl_relay, pkt + 24, 4, now_ms)) {
        snprintf(buf, cap, "relay %s", inet_ntoa(giaddr));
        return buf;
    }
    if (dhcp_ratelimit_allow(svc->rl_mac, pkt + 28, hlen, now_ms))
        return NULL;
    char mac[64];
    mac_text(pkt + 28, hlen, mac, sizeof mac);
    snprintf(buf, cap, "client %s", mac);
    return buf;
}

static void log_outcome(struct dhcp_svc *svc, struct dhcp_sock *s, int rc, const char *why,
                        const uint8_t *pkt, size_t len, const struct sockaddr_in *peer,
                        const struct dhcp_reply *r, int64_t now)
{
    char mac[64] = "?", a[INET_ADDRSTRLEN];
    if (len >= 44)
        mac_text(pkt + 28, pkt[2], mac, sizeof mac);
    if (rc == DHCP_OUT_REPLY) {
        struct in_addr y;
        memcpy(&y, r->buf + 16, 4);
        if (r->type == DHCP_OFFER)
            log_debug("dhcp: OFFER %s to %s on %s", inet_ntoa(y), mac, s->name);
        else if (r->type == DHCP_NAK)
            log_info("dhcp: NAK to %s on %s", mac, s->name);
        else
            log_info("dhcp: %s %s to %s on %s%s%s%s", type_name(r->type),
                     inet_ntop(AF_INET, &y, a, sizeof a), mac, s->name, r->state[0] ? " (" : "",
                     r->state, r->state[0] ? ")" : "");
        return;
    }
    if (!dhcp_log_budget(svc, now))
        return;
    inet_ntop(AF_INET, &peer->sin_addr, a, sizeof a);
    if (rc == DHCP_OUT_MALFORMED)
        log_info("dhcp: dropped %zu bytes from %s (%s) on %s: %s", len, a, mac, s->name, why);
    else if (rc == DHCP_OUT_NO_SUBNET)
        log_info("dhcp: no subnet for %s (%s) on %s", mac, a, s->name);
    else if (rc == DHCP_OUT_NO_ADDRESS)
        log_warn("dhcp: pool exhausted: no address for %s on %s", mac, s->name);
    else if (rc == DHCP_OUT_STORE)
        log_err("dhcp: lease of %s not saved: no ACK", mac);
}

/* Decides one datagram and sends its reply on its way: an ACK into the batch (out after the
 * COMMIT, commit.c), an OFFER through the ICMP check when ping_check is on (ping.c), an
 * OFFER or NAK otherwise at once (they promise nothing durable). tries: addresses already
 * found in use for this DISCOVER. */
static void decide(struct dhcp_sock *s, const struct dhcp_held *in, int64_t now, unsigned tries)
{
    struct dhcp_svc *svc = s->svc;
    static __thread struct dhcp_reply reply;
    struct dhcp_rx rx = {s->name, in->local_addr, in->to_broadcast};
    const char *why = NULL;
    int rc = dhcp_engine_handle(svc->engine, &rx, in->pkt, in->len, now, &reply, &why);
    log_outcome(svc, s, rc, why, in->pkt, in->len, &in->peer, &reply, now);
    if (rc != DHCP_OUT_REPLY)
        return;
    if (reply.cached && !svc->failed_from && reply.saved_in <= svc->committed_seq)
        dhcp_io_send(s, &reply); /* its lease as it stands, and that is on disk */
    else if (reply.type == DHCP_ACK || reply.type == DHCP_BOOTP_REPLY)
        dhcp_batch_ack(svc, s, &reply, in->arrived);
    else if (reply.type != DHCP_OFFER || !svc->ping ||
             !dhcp_ping_offer(svc->ping, s, in, &reply, tries))
        dhcp_io_send(s, &reply);
}

void dhcp_io_decide_again(struct dhcp_sock *s, const struct dhcp_held *in, unsigned tries)
{
    decide(s, in, (int64_t)time(NULL), tries);
}

/* The clocks when a batch is read: the kernel stamps a datagram on CLOCK_REALTIME
 * (SO_TIMESTAMPNS), the pacer counts on CLOCK_MONOTONIC. */
struct read_clock {
    struct timespec real;
    int64_t mono_us;
};

/* When a datagram stamped `ts` came in, on CLOCK_MONOTONIC: now less its age (0 to 10 s: a
 * clock stepped meanwhile must not put it in the future or far back). */
static int64_t arrival(const struct read_clock *c, const struct timespec *ts)
{
    int64_t age = ((int64_t)c->real.tv_sec - ts->tv_sec) * 1000000 +
                  ((int64_t)c->real.tv_nsec - ts->tv_nsec) / 1000;
    if (age < 0)
        age = 0;
    if (age > 10000000)
        age = 10000000;
    return c->mono_us - age;
}

/* Reads one datagram; its length, 0 when none is left, -1 for one to skip. */
static ssize_t read_one(int fd, struct dhcp_held *in, const struct read_clock *clk,
                        struct in_pktinfo *pi, bool *have_pi)
{
    union {
        char buf[CMSG_SPACE(sizeof(struct in_pktinfo)) + CMSG_SPACE(sizeof(struct timespec))];
        struct cmsghdr align;
    } ctl;
    struct iovec iov = {in->pkt, sizeof in->pkt};
    struct msghdr mh = {.msg_name = &in->peer, .msg_namelen = sizeof in->peer, .msg_iov = &iov,
                        .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
    ssize_t n = recvmsg(fd, &mh, 0);
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    if (mh.msg_flags & MSG_TRUNC)
        return -1; /* over DHCP_MAX_LEN: not ours to read */
    *have_pi = false;
    in->arrived = clk->mono_us;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            memcpy(pi, CMSG_DATA(c), sizeof *pi);
            *have_pi = true;
        } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
            struct timespec ts;
            memcpy(&ts, CMSG_DATA(c), sizeof ts);
            in->arrived = arrival(clk, &ts);
        }
    return n == 0 ? -1 : n;
}

void dhcp_io_readable(int fd, short what, void *vsock)
{
    struct dhcp_sock *s = vsock;
    struct dhcp_svc *svc = s->svc;
    static __thread struct dhcp_held in;
    struct read_clock clk;
    struct timespec mono;
    clock_gettime(CLOCK_REALTIME, &clk.real);
    clock_gettime(CLOCK_MONOTONIC, &mono);
    clk.mono_us = (int64_t)mono.tv_sec * 1000000 + mono.tv_nsec / 1000;
    int64_t now = clk.real.tv_sec;
    int64_t now_ms = (int64_t)clk.real.tv_sec * 1000 + clk.real.tv_nsec / 1000000;
    for (unsigned i = 0; i < DHCP_BATCH; i++) {
        struct in_pktinfo pi;
        bool have_pi;
        ssize_t n = read_one(fd, &in, &clk, &pi, &have_pi);
        if (n == 0)
            break;
        if (n < 0)
            continue;
        in.len = (size_t)n;
        char who[80];
        const char *limit = limited(svc, in.pkt, in.len, now_ms, who, sizeof who);
        if (limit) {
            if (dhcp_log_budget(svc, now))
                log_info("dhcp: rate limit of %s: dropped a message from %s on %s", limit,
                         inet_ntoa(in.peer.sin_addr), s->name);
            continue;
        }
        in.local_addr = have_pi ? pi.ipi_spec_dst.s_addr : 0;
        in.to_broadcast = have_pi ? pi.ipi_addr.s_addr == htonl(INADDR_BROADCAST) : true;
        decide(s, &in, now, 0);
    }
    dhcp_batch_submit(svc);
}
