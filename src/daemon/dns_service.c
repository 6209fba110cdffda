#include "daemon/dns_service.h"

#include "core/log.h"
#include "core/loop_post.h"
#include "core/xmalloc.h"
#include "daemon/conn.h"
#include "daemon/daemon.h"
#include "dns/auth/answer.h"
#include "dns/zone.h"
#include "dns/zoneset.h"

#include <errno.h>
#include <event2/event.h>
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define UDP_BATCH 32
#define UDP_BUF 4096

struct dns_worker {
    struct worker *w;
    struct dns_zoneset *zones;         /* this worker's reference */
    struct event **udp_ev;
    struct dns_arena arena;
    unsigned char arena_mem[16384];
    uint8_t in[UDP_BATCH][UDP_BUF];
    uint8_t out[UDP_BATCH][UDP_BUF];
    struct sockaddr_storage peer[UDP_BATCH];
    uint8_t tcp_out[DNS_MSG_MAX + 2];
};

struct dns_service {
    struct dns_zoneset *zones;         /* the main thread's reference to the current set */
    int *udp_fds;
    unsigned nudp;
    struct dns_worker **workers;
    unsigned nworkers;
};

/* ---- zones ---- */

/* Loads every [zone] into a new set. With `old`, a zone that fails keeps its old version. */
static struct dns_zoneset *zones_load(const struct config_dns *c, const struct dns_zoneset *old,
                                      bool *all_ok)
{
    struct dns_zoneset *zs = dns_zoneset_new();
    *all_ok = true;
    for (unsigned i = 0; i < c->nzones; i++) {
        const struct config_zone *cz = &c->zones[i];
        uint8_t origin[DNS_NAME_MAXLEN];
        size_t olen;
        const char *why = NULL;
        struct str err = STR_INIT;
        struct dns_zone *z = NULL;
        char text[300];
        snprintf(text, sizeof text, "%s%s", cz->name, strcmp(cz->name, ".") ? "." : "");
        if (dns_name_from_text(text, strlen(text), NULL, origin, &olen, &why) < 0)
            str_appendf(&err, "[zone %s]: bad zone name: %s", cz->name, why);
        else if (dns_zone_load(cz->file, origin, &z, &err) == 0)
            log_info("dns: zone %s loaded from %s, serial %u, %zu records", cz->name, cz->file,
                     dns_zone_serial(z), dns_zone_records(z));
        if (!z) {
            *all_ok = false;
            struct dns_zone *prev = old ? dns_zoneset_get(old, origin) : NULL;
            log_err("dns: zone %s not loaded: %s%s", cz->name, str_cstr(&err),
                    prev ? " (the previous version keeps serving)" : "");
            if (prev)
                z = dns_zone_ref(prev);
        }
        str_clear(&err);
        if (z) {
            dns_zoneset_add(zs, z);
            dns_zone_unref(z);
        }
    }
    return zs;
}

/* ---- UDP ---- */

static void on_udp(evutil_socket_t fd, short what, void *vdw)
{
    struct dns_worker *dw = vdw;
    struct mmsghdr msgs[UDP_BATCH], outs[UDP_BATCH];
    struct iovec iov[UDP_BATCH], oiov[UDP_BATCH];
    for (int i = 0; i < UDP_BATCH; i++) {
        iov[i] = (struct iovec){dw->in[i], UDP_BUF};
        msgs[i].msg_hdr = (struct msghdr){&dw->peer[i], sizeof dw->peer[i], &iov[i], 1, NULL, 0, 0};
    }
    int n = recvmmsg(fd, msgs, UDP_BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0)
        return; /* another worker took them, or an ICMP error surfaced: nothing to do */
    struct dns_answer_opts opts = {false, (uint16_t)dw->w->d->cfg.dns.udp_max};
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC)
            continue; /* a query over 4 KiB is not a query */
        size_t len = dns_answer_packet(dw->zones, dw->in[i], msgs[i].msg_len, &opts, &dw->arena,
                                       dw->out[k], UDP_BUF, NULL);
        dns_arena_reset(&dw->arena);
        if (len == 0)
            continue;
        oiov[k] = (struct iovec){dw->out[k], len};
        outs[k].msg_hdr = (struct msghdr){&dw->peer[i], msgs[i].msg_hdr.msg_namelen, &oiov[k], 1,
                                          NULL, 0, 0};
        k++;
    }
    if (k > 0 && sendmmsg(fd, outs, (unsigned)k, MSG_DONTWAIT) < 0)
        log_debug("dns: sendmmsg: %s", strerror(errno));
}

static int bind_udp(const struct config_listen *a)
{
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    if (getaddrinfo(a->host, a->port, &hints, &ai) != 0)
        return -1;
    int fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0 && ai->ai_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (fd >= 0 && bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

int dns_service_open(struct daemon *d)
{
    const struct config_dns *c = &d->cfg.dns;
    if (!c->svc.enabled)
        return 0;
    struct dns_service *s = xcalloc(1, sizeof *s);
    d->dns = s;
    bool ok;
    s->zones = zones_load(c, NULL, &ok);
    if (!ok)
        return -1;
    for (unsigned i = 0; i < c->svc.n_listen; i++) {
        int fd = bind_udp(&c->svc.listen[i]);
        if (fd < 0) {
            log_err("dns: listen %s (udp): %s", c->svc.listen[i].text, strerror(errno));
            return -1;
        }
        s->udp_fds = xrealloc(s->udp_fds, (s->nudp + 1) * sizeof *s->udp_fds);
        s->udp_fds[s->nudp++] = fd;
        log_info("listening on %s (dns udp)", c->svc.listen[i].text);
    }
    return 0;
}

void dns_service_attach(struct worker *w)
{
    struct dns_service *s = w->d->dns;
    if (!s)
        return;
    struct dns_worker *dw = xcalloc(1, sizeof *dw);
    dw->w = w;
    dw->zones = dns_zoneset_ref(s->zones);
    dns_arena_init(&dw->arena, dw->arena_mem, sizeof dw->arena_mem);
    dw->udp_ev = xcalloc(s->nudp ? s->nudp : 1, sizeof *dw->udp_ev);
    for (unsigned i = 0; i < s->nudp; i++) {
        dw->udp_ev[i] = event_new(w->base, s->udp_fds[i], EV_READ | EV_PERSIST, on_udp, dw);
        event_add(dw->udp_ev[i], NULL);
    }
    s->workers = xrealloc(s->workers, (s->nworkers + 1) * sizeof *s->workers);
    s->workers[s->nworkers++] = dw;
    w->dns = dw;
}

void dns_service_detach(struct worker *w)
{
    struct dns_worker *dw = w->dns;
    if (!dw)
        return;
    for (unsigned i = 0; i < w->d->dns->nudp; i++)
        event_free(dw->udp_ev[i]);
    free(dw->udp_ev);
    dns_zoneset_unref(dw->zones);
    dns_arena_clear(&dw->arena);
    w->dns = NULL;
    struct dns_service *s = w->d->dns;
    for (unsigned i = 0; i < s->nworkers; i++)
        if (s->workers[i] == dw)
            s->workers[i] = NULL;
    free(dw);
}

struct swap {
    struct dns_worker *dw;
    struct dns_zoneset *zones;
};

/* On the worker, between two queries. */
static void swap_zones(void *vs)
{
    struct swap *sw = vs;
    dns_zoneset_unref(sw->dw->zones);
    sw->dw->zones = sw->zones;
    free(sw);
}

void dns_service_reload(struct daemon *d)
{
    struct dns_service *s = d->dns;
    if (!s)
        return;
    bool ok;
    struct dns_zoneset *zs = zones_load(&d->cfg.dns, s->zones, &ok);
    log_info("dns: reload %s (%zu zones)", ok ? "complete" : "with errors", dns_zoneset_count(zs));
    for (unsigned i = 0; i < s->nworkers; i++) {
        if (!s->workers[i])
            continue;
        struct swap *sw = xmalloc(sizeof *sw);
        *sw = (struct swap){s->workers[i], dns_zoneset_ref(zs)};
        loop_post_send(s->workers[i]->w->post, swap_zones, sw);
    }
    dns_zoneset_unref(s->zones);
    s->zones = zs;
}

void dns_service_close(struct daemon *d)
{
    struct dns_service *s = d->dns;
    if (!s)
        return;
    for (unsigned i = 0; i < s->nudp; i++)
        close(s->udp_fds[i]);
    free(s->udp_fds);
    free(s->workers);
    dns_zoneset_unref(s->zones);
    free(s);
    d->dns = NULL;
}

/* ---- TCP (RFC 7766): length-prefixed messages, several per connection, answered in order ---- */

struct dns_tcp {
    struct conn *c;
    struct dns_worker *dw;
    struct str in;
    bool closing;
};

static void *tcp_create(struct conn *c, const struct listener *l, uint64_t id, const char *peer)
{
    struct dns_tcp *t = xcalloc(1, sizeof *t);
    t->c = c;
    t->dw = conn_worker(c)->dns;
    return t;
}

static void tcp_start(void *e)
{
    (void)e;
}

static void tcp_refuse(void *e, enum conn_refusal why)
{
    ((struct dns_tcp *)e)->closing = true;
}

static size_t tcp_feed(void *e, const char *p, size_t n)
{
    struct dns_tcp *t = e;
    str_append(&t->in, p, n);
    while (!t->closing && t->in.len >= 2) {
        const uint8_t *b = (const uint8_t *)t->in.ptr;
        size_t len = (size_t)b[0] << 8 | b[1];
        if (t->in.len < len + 2)
            break;
        struct dns_answer_opts opts = {true, (uint16_t)t->dw->w->d->cfg.dns.udp_max};
        size_t out = dns_answer_packet(t->dw->zones, b + 2, len, &opts, &t->dw->arena,
                                       t->dw->tcp_out + 2, DNS_MSG_MAX, NULL);
        dns_arena_reset(&t->dw->arena);
        str_consume(&t->in, len + 2);
        if (out == 0) { /* not a query we can answer: RFC 7766 §6.2.4 allows closing */
            t->closing = true;
            break;
        }
        t->dw->tcp_out[0] = (uint8_t)(out >> 8);
        t->dw->tcp_out[1] = (uint8_t)out;
        conn_write(t->c, (const char *)t->dw->tcp_out, out + 2);
    }
    return n;
}

static bool tcp_busy(const void *e)
{
    return false;
}

static bool tcp_closing(const void *e)
{
    return ((const struct dns_tcp *)e)->closing;
}

static void tcp_tls(void *e, const char *v, const char *c)
{
}

static void tcp_close(void *e)
{
    ((struct dns_tcp *)e)->closing = true;
}

static void tcp_free(void *e)
{
    struct dns_tcp *t = e;
    str_clear(&t->in);
    free(t);
}

const struct proto_ops dns_tcp_proto = {
    "dns", tcp_create, tcp_start, tcp_refuse, tcp_feed, tcp_busy, tcp_closing,
    tcp_tls, tcp_close, tcp_close, tcp_free, NULL,
};
