/*
 * proxy service resolve — origin names to addresses, and the SSRF rules: an origin on a
 * loopback, private, link-local, unique-local, multicast or unspecified address, or on one
 * of the proxy's own ports, is refused unless allow_origins names its prefix (own ports are
 * refused on local addresses always).
 *
 * Names are resolved by the system's resolver (libevent's evdns: /etc/resolv.conf and
 * /etc/hosts), or with `resolver = pigeon` by Pigeon's own: the worker's DNS stub, the one the
 * mail side asks (the in-process recursive resolver with [delivery] resolver = internal, or
 * the server [delivery] resolver names), A and AAAA together; when it fails and
 * resolver_fallback is on, the system's resolver is asked after all. Address literals never
 * go to DNS.
 */
#include "proxy/service/service_int.h"

#include "core/xmalloc.h"
#include "dns/resolver/stub.h"
#include "host/host.h"

#include <arpa/inet.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct resolve_req {
    struct proxy_worker *pw;
    upstream_resolve_cb cb;
    void *arg;
    uint16_t port;
    bool trusted;
    bool cancelled;
    bool in_call;  /* inside evdns_getaddrinfo: an answer is delivered from the loop later */
    bool deferred; /* the answer waits for deliver() */
    bool stub;     /* Pigeon's resolver is asked: its answer frees r (no cancel there) */
    struct evdns_getaddrinfo_request *dns;
    char host[256];
    /* the answer */
    struct sockaddr_storage sa;
    int len, status;
    const char *why;
};

static bool v4_special(uint32_t a)
{
    return (a >> 24) == 127 || (a >> 24) == 10 || (a >> 24) == 0 || (a >> 20) == 0xac1 ||
           (a >> 16) == 0xc0a8 || (a >> 16) == 0xa9fe || (a >> 28) == 0xe || (a >> 22) == 0x191 ||
           a == 0xffffffff; /* also 100.64/10 (CGN) */
}

static bool local_address(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return v4_special(ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr));
    const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(a)) {
        uint32_t v4;
        memcpy(&v4, &a->s6_addr[12], 4);
        return v4_special(ntohl(v4));
    }
    return IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_UNSPECIFIED(a) || IN6_IS_ADDR_LINKLOCAL(a) ||
           IN6_IS_ADDR_MULTICAST(a) || (a->s6_addr[0] & 0xfe) == 0xfc;
}

static bool own_port(const struct proxy_state *st, uint16_t port)
{
    for (unsigned i = 0; i < st->n_own_ports; i++)
        if (st->own_ports[i] == port)
            return true;
    return false;
}

/* 0 when the origin may be asked, else why not. */
static const char *ssrf_check(const struct proxy_state *st, const struct sockaddr *sa,
                              uint16_t port)
{
    if (!local_address(sa))
        return NULL;
    if (own_port(st, port))
        return "the proxy does not fetch from itself";
    if (!net_acl_match(st->origins_now, sa))
        return "origins on local or private addresses are not allowed";
    return NULL;
}

/* One address of the answer: taken when none is yet and the SSRF rules allow it. */
static void consider(struct resolve_req *r, const struct sockaddr *sa, int len)
{
    if (r->len || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
        return;
    const char *no = r->trusted ? NULL : ssrf_check(r->pw->st, sa, r->port);
    if (no) {
        r->why = no;
        r->status = 403;
        return;
    }
    memcpy(&r->sa, sa, (size_t)len);
    r->len = len;
    r->status = 0;
    r->why = NULL;
}

static void choose(struct resolve_req *r, struct evutil_addrinfo *ai, int err)
{
    r->len = 0;
    r->status = 502;
    r->why = err ? "the origin's name does not resolve" : "no address for the origin";
    for (struct evutil_addrinfo *p = ai; p; p = p->ai_next)
        consider(r, p->ai_addr, (int)p->ai_addrlen);
}

static void deliver(struct resolve_req *r)
{
    if (!r->cancelled)
        r->cb(r->arg, r->len ? (const struct sockaddr *)&r->sa : NULL, r->len, r->status, r->why);
    free(r);
}

static void on_deferred(evutil_socket_t fd, short what, void *vr)
{
    deliver(vr);
}

static void on_dns(int err, struct evutil_addrinfo *ai, void *vr)
{
    struct resolve_req *r = vr;
    r->dns = NULL;
    if (err != EVUTIL_EAI_CANCEL)
        choose(r, ai, err);
    else
        r->cancelled = true;
    if (ai)
        evutil_freeaddrinfo(ai);
    if (r->in_call) {
        r->deferred = true; /* never call back before upstream_resolve has returned */
        return;
    }
    deliver(r); /* the caller forgets its handle when its callback runs */
}

static void system_resolve(struct resolve_req *r);

static void on_stub(void *vr, const struct dns_stub_addr_result *a)
{
    struct resolve_req *r = vr;
    r->stub = false;
    if (r->cancelled)
        return free(r);
    r->len = 0;
    r->status = 502;
    r->why = a->status == DNS_STUB_NXDOMAIN ? "the origin's name does not exist"
                                            : "the origin's name does not resolve";
    for (size_t i = 0; i < a->n; i++) {
        struct sockaddr_storage ss = a->addrs[i];
        int len = ss.ss_family == AF_INET6 ? (int)sizeof(struct sockaddr_in6)
                                           : (int)sizeof(struct sockaddr_in);
        if (ss.ss_family == AF_INET6)
            ((struct sockaddr_in6 *)&ss)->sin6_port = htons(r->port);
        else
            ((struct sockaddr_in *)&ss)->sin_port = htons(r->port);
        consider(r, (const struct sockaddr *)&ss, len);
    }
    if (!r->len && r->status != 403 && r->pw->st->cfg->resolver_fallback)
        return system_resolve(r); /* Pigeon's resolver failed: the system's after all */
    deliver(r);
}

static bool literal(const char *host)
{
    struct in6_addr a;
    return inet_pton(AF_INET, host, &a) == 1 || inet_pton(AF_INET6, host, &a) == 1;
}

struct resolve_req *upstream_resolve(struct proxy_worker *pw, const char *host, uint16_t port,
                                     bool trusted, upstream_resolve_cb cb, void *arg)
{
    struct resolve_req *r = xcalloc(1, sizeof *r);
    r->pw = pw;
    r->cb = cb;
    r->arg = arg;
    r->port = port;
    r->trusted = trusted;
    snprintf(r->host, sizeof r->host, "%s", host);
    if (pw->st->cfg->resolver == PROXY_RESOLVER_PIGEON && pw->w->stub && !literal(host)) {
        r->stub = true;
        dns_stub_addr(pw->w->stub, host, DNS_STUB_ANY, on_stub, r); /* answers from the loop */
        return r;
    }
    system_resolve(r);
    return r;
}

static void system_resolve(struct resolve_req *r)
{
    struct proxy_worker *pw = r->pw;
    const char *host = r->host;
    uint16_t port = r->port;
    char ps[8];
    snprintf(ps, sizeof ps, "%u", (unsigned)port);
    struct evutil_addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    /* evdns answers numeric hosts and /etc/hosts names at once, inside this call. */
    r->in_call = true;
    struct evdns_getaddrinfo_request *q = evdns_getaddrinfo(pw->dns, host, ps, &hints, on_dns, r);
    r->in_call = false;
    if (r->deferred) {
        const struct timeval now = {0, 0};
        event_base_once(pw->w->host.base, -1, EV_TIMEOUT, on_deferred, r, &now);
        return;
    }
    r->dns = q;
}

void upstream_resolve_cancel(struct resolve_req *r)
{
    if (!r)
        return;
    r->cancelled = true;
    if (r->stub)
        return; /* on_stub frees it */
    if (r->dns)
        evdns_getaddrinfo_cancel(r->dns); /* on_dns runs with EVUTIL_EAI_CANCEL and frees */
    /* else a deferred answer is on its way: deliver() frees without calling back */
}
