/* resolver service — the recursive service's glue: who may ask (net/acl), UDP and TCP
 * through the iterator, zone sets. See service.h. */
#include "dns/resolver/service/service.h"

#include "dns/server/service/service.h"

#include "core/log.h"
#include "core/loop_post.h"
#include "core/xmalloc.h"
#include "net/conn.h"
#include "host/confgen.h"
#include "host/host.h"
#include "core/reload_report.h"
#include "dns/auth/answer.h"
#include "dns/resolver/anchor.h"
#include "dns/resolver/nta.h"
#include "dns/resolver/resolver.h"
#include "dns/resolver/service/autotrust_file.h"
#include "dns/resolver/service/nta.h"
#include "dns/rr.h"
#include "dns/service/tcp.h"
#include "dns/zone.h"
#include "dns/zoneset.h"
#include "net/acl.h"
#include "net/udp_batch.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct resolver_service {
    struct daemon *d;
    struct dns_resolver_shared *shared;
    struct dns_zoneset *zones; /* the main thread's reference */
    int *udp_fds;
    unsigned nudp;
    struct resolver_worker **workers;
    unsigned nworkers;
    struct autotrust_file *autotrust; /* RFC 5011 states, with a trust_anchor */
};

struct udp_pending;

struct resolver_worker {
    struct worker *w;
    struct resolver_service *s;
    struct dns_resolver *res;
    struct dns_zoneset *zones; /* this worker's reference */
    struct net_acl allow; /* who may ask for recursion ([resolver] allow, as reloaded) */
    struct udp_batch *udp; /* the shared UDP sockets, read in batches */
    struct udp_pending *pending; /* UDP questions being resolved */
    struct dns_arena arena;
    unsigned char arena_mem[16384];
    uint8_t tcp_out[DNS_MSG_MAX];
};

/* ---- who may ask ---- */

/* "127.0.0.0/8 ::1" (spaces or commas); NULL: loopback only. 0, or -1 (logged, and in the
 * reload's report r when there is one) with *acl untouched. */
static int allow_parse(const char *spec, struct net_acl *acl, struct reload_report *r)
{
    char bad[80];
    struct net_acl a;
    memset(&a, 0, sizeof a);
    if (net_acl_parse(spec ? spec : "127.0.0.0/8 ::1/128", &a, NULL, NULL, bad, sizeof bad) !=
        0) {
        net_acl_clear(&a);
        log_err("resolver: allow: bad prefix '%s'", bad);
        reload_report_add(r, true, "resolver: allow: bad prefix '%s', the previous list stays",
                          bad);
        return -1;
    }
    net_acl_clear(acl);
    *acl = a;
    return 0;
}

/* ---- start-up ---- */

/* The server's own zones, so their names resolve even offline (as BIND does). */
static struct dns_zoneset *zones_load(const struct config_dns *c)
{
    struct dns_zoneset *zs = dns_zoneset_new();
    for (unsigned i = 0; i < c->nzones; i++) {
        uint8_t origin[DNS_NAME_MAXLEN];
        size_t olen;
        const char *why = NULL;
        char text[300];
        struct str err = STR_INIT;
        struct dns_zone *z = NULL;
        snprintf(text, sizeof text, "%s.", c->zones[i].name);
        if (dns_name_from_text(text, strlen(text), NULL, origin, &olen, &why) == 0 &&
            dns_zone_load(c->zones[i].file, origin, &z, &err) == 0) {
            dns_zoneset_add(zs, z);
            dns_zone_unref(z);
        }
        str_clear(&err);
    }
    return zs;
}

static int add_config_nta(void *vsh, const uint8_t *name)
{
    return dns_resolver_nta_add(vsh, name, DNS_NTA_PERMANENT);
}

/* DNSSEC validation: [resolver] trust_anchor, and negative_trust_anchors as permanent NTAs.
 * 0 or -1. */
static int load_anchors(struct dns_resolver_shared *sh, const struct config_resolver *c)
{
    if (!c->trust_anchor)
        return 0;
    struct dns_anchors a = {0};
    struct str err = STR_INIT;
    if (dns_anchors_load_config(&a, c->trust_anchor, c->negative_trust_anchors, add_config_nta,
                                sh, &err) != 0) {
        log_err("resolver: trust_anchor: %s", str_cstr(&err));
        str_clear(&err);
        return -1;
    }
    log_info("resolver: DNSSEC validation with the trust anchors of %zu zone(s) from %s",
             a.n, c->trust_anchor);
    dns_resolver_shared_set_anchors(sh, &a);
    return 0;
}

static int make_shared(struct resolver_service *s, const struct config_resolver *c)
{
    struct dns_hints hints = {0};
    struct str err = STR_INIT;
    if (c->root_hints) {
        if (dns_hints_load(c->root_hints, &hints, &err) < 0) {
            log_err("resolver: %s", str_cstr(&err));
            str_clear(&err);
            dns_hints_clear(&hints);
            return -1;
        }
    } else {
        dns_hints_builtin(&hints);
    }
    log_info("resolver: %u root servers from %s", hints.n,
             c->root_hints ? c->root_hints : "the built-in hints");
    struct dns_resolver_config rc;
    dns_resolver_config_defaults(&rc);
    rc.qname_minimisation = c->qname_minimisation;
    rc.serve_stale = c->serve_stale;
    rc.case_randomization = c->case_randomization;
    rc.max_upstream = c->max_upstream_queries;
    rc.max_referrals = c->max_referrals;
    struct dns_cache_config cc = {(size_t)c->cache_size, c->min_ttl, c->max_ttl,
                                  c->max_negative_ttl, c->serve_stale ? 86400 : 0};
    s->shared = dns_resolver_shared_new(&rc, &cc, &hints);
    return load_anchors(s->shared, c);
}

static struct dns_resolver *worker_resolver(struct worker *w);
static const struct proto_ops resolver_tcp_proto;

static int resolver_open(struct daemon *d, void **state_out)
{
    const struct config_resolver *c = &d->cfg.resolver;
    if (!c->svc.enabled && !d->cfg.delivery.resolver_internal)
        return 0;
    struct resolver_service *s = xcalloc(1, sizeof *s);
    *state_out = s; /* close() frees it, also after a failed start */
    s->d = d;
    struct net_acl check;
    memset(&check, 0, sizeof check);
    int bad = allow_parse(c->allow, &check, NULL); /* each worker parses its own copy */
    net_acl_clear(&check);
    if (bad < 0 || make_shared(s, c) < 0)
        return -1;
    if (c->trust_anchor) { /* the NTAs `pigeon dnssec nta add` made, RFC 5011's states */
        resolver_nta_restore(s->shared, d->cfg.data_dir);
        s->autotrust = autotrust_file_start(s->shared, d->cfg.data_dir);
    }
    /* With a [dns] service the workers share its live set instead (resolver_attach). */
    s->zones = dns_service_running(d) ? dns_zoneset_new() : zones_load(&d->cfg.dns);
    if (host_bind_udp(&c->svc, "resolver", &s->udp_fds, &s->nudp) < 0 ||
        host_listen_tcp(d, "resolver", &resolver_tcp_proto, c, &c->svc, false) < 0)
        return -1;
    if (d->cfg.delivery.resolver_internal)
        host_set_internal_resolver(d, worker_resolver);
    return 0;
}

/* ---- UDP ---- */

struct udp_pending {
    struct resolver_worker *rw;
    struct udp_pending *prev, *next;
    struct dns_resolver_req *req;
    int fd;
    struct sockaddr_storage peer;
    socklen_t peerlen;
};

static void pending_unlink(struct udp_pending *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        p->rw->pending = p->next;
    if (p->next)
        p->next->prev = p->prev;
}

static void on_resolved_udp(void *vp, const uint8_t *resp, size_t len)
{
    struct udp_pending *p = vp;
    if (len && sendto(p->fd, resp, len, MSG_DONTWAIT, (struct sockaddr *)&p->peer, p->peerlen) < 0)
        log_debug("resolver: sendto: %s", strerror(errno));
    pending_unlink(p);
    free(p);
}

/* One datagram (net/udp_batch.h): the reply length written into out (0: none now). */
static size_t on_datagram(void *vrw, int fd, const uint8_t *pkt, size_t len,
                          const struct sockaddr *peer, socklen_t plen, uint8_t *out, size_t cap)
{
    struct resolver_worker *rw = vrw;
    struct dns_msg q;
    struct dns_resolver_qopts o = {false, net_acl_match(&rw->allow, peer)};
    size_t n = 0;
    if (dns_msg_parse(pkt, len, &q, &rw->arena) < 0 || q.hdr.qr) {
        if (q.hdr_ok && !q.hdr.qr) { /* answer FORMERR; drop what is not a query */
            struct dns_answer_opts ao = {false, DNS_UDP_DEFAULT};
            n = dns_answer_error(&q, DNS_RCODE_FORMERR, &ao, out, cap);
        }
    } else if ((n = dns_resolver_answer_now(rw->res, &q, &o, out, cap)) == 0) {
        struct udp_pending *p = xcalloc(1, sizeof *p);
        *p = (struct udp_pending){rw, NULL, rw->pending, NULL, fd, {0}, plen};
        memcpy(&p->peer, peer, plen);
        if (rw->pending)
            rw->pending->prev = p;
        rw->pending = p;
        p->req = dns_resolver_start(rw->res, &q, &o, on_resolved_udp, p);
    }
    dns_arena_reset(&rw->arena);
    return n;
}

/* ---- workers ---- */

/* The name server on this worker swapped in a new zone set (dns/server/service/service.h). */
static void zones_changed(void *vrw, struct dns_zoneset *zs)
{
    struct resolver_worker *rw = vrw;
    dns_zoneset_ref(zs);
    dns_resolver_set_zones(rw->res, zs);
    dns_zoneset_unref(rw->zones);
    rw->zones = zs;
}

static void *resolver_attach(struct worker *w, void *state)
{
    struct resolver_service *s = state;
    if (!s)
        return NULL;
    struct resolver_worker *rw = xcalloc(1, sizeof *rw);
    rw->w = w;
    rw->s = s;
    rw->res = dns_resolver_new(w->host.base, s->shared);
    allow_parse(host_config(w)->resolver.allow, &rw->allow, NULL); /* checked in open() */
    /* With a [dns] service, share its live zone set (UPDATEs and transfers included). */
    struct dns_zoneset *live = dns_service_worker_zones(w);
    rw->zones = dns_zoneset_ref(live ? live : s->zones);
    dns_service_on_zones_changed(w, zones_changed, rw);
    dns_resolver_set_zones(rw->res, rw->zones);
    dns_arena_init(&rw->arena, rw->arena_mem, sizeof rw->arena_mem);
    rw->udp = udp_batch_new(w->host.base, s->udp_fds, s->nudp, on_datagram, rw);
    s->workers = xrealloc(s->workers, (s->nworkers + 1) * sizeof *s->workers);
    s->workers[s->nworkers++] = rw;
    return rw;
}

static void resolver_detach(struct worker *w, void *wstate)
{
    struct resolver_worker *rw = wstate;
    if (!rw)
        return;
    struct resolver_service *s = rw->s;
    udp_batch_free(rw->udp);
    dns_resolver_free(rw->res); /* calls back every pending question with no reply */
    dns_zoneset_unref(rw->zones);
    dns_arena_clear(&rw->arena);
    net_acl_clear(&rw->allow);
    for (unsigned i = 0; i < s->nworkers; i++)
        if (s->workers[i] == rw)
            s->workers[i] = NULL;
    free(rw);
}

/* The mail side's stubs ask this worker's resolver ([delivery] resolver = internal). */
static struct dns_resolver *worker_resolver(struct worker *w)
{
    struct resolver_worker *rw = host_worker_state(w, &resolver_service_def);
    return rw ? rw->res : NULL;
}

struct swap {
    struct resolver_worker *rw;
    struct dns_zoneset *zones;
};

static void swap_zones(void *vs)
{
    struct swap *sw = vs;
    zones_changed(sw->rw, sw->zones);
    dns_zoneset_unref(sw->zones);
    free(sw);
}


/* [resolver] allow, checked here so the report says when the old list stays; each worker
 * then takes its own copy (resolver_reload_worker). */
static void resolver_reload(struct daemon *d, void *state, const struct config *next)
{
    struct resolver_service *s = state;
    if (s) {
        struct net_acl check;
        memset(&check, 0, sizeof check);
        allow_parse(next->resolver.allow, &check, d->reloading);
        net_acl_clear(&check);
    }
    if (!s || dns_service_running(d))
        return; /* with a [dns] service its new zone set reaches us by zones_changed */
    struct dns_zoneset *zs = zones_load(&d->cfg.dns);
    for (unsigned i = 0; i < s->nworkers; i++) {
        if (!s->workers[i])
            continue;
        struct swap *sw = xmalloc(sizeof *sw);
        *sw = (struct swap){s->workers[i], dns_zoneset_ref(zs)};
        loop_post_send(s->workers[i]->w->host.post, swap_zones, sw);
    }
    dns_zoneset_unref(s->zones);
    s->zones = zs;
}

static void resolver_reload_worker(struct worker *w, void *wstate)
{
    struct resolver_worker *rw = wstate;
    allow_parse(host_config(w)->resolver.allow, &rw->allow, NULL); /* a bad list: kept */
}

static void resolver_close(struct daemon *d, void *state)
{
    struct resolver_service *s = state;
    if (!s)
        return;
    for (unsigned i = 0; i < s->nudp; i++)
        close(s->udp_fds[i]);
    free(s->udp_fds);
    free(s->workers);
    dns_zoneset_unref(s->zones);
    dns_resolver_shared_free(s->shared);
    autotrust_file_free(s->autotrust);
    free(s);
}

/* `pigeon dnssec nta ...` on the control socket: "nta add|remove|list ...". */
static int resolver_control(struct daemon *d, void *state, const char *line, struct str *answer)
{
    if (strncmp(line, "nta", 3) != 0 || (line[3] != ' ' && line[3] != '\0'))
        return -1;
    struct resolver_service *s = state;
    if (!s || !s->shared) {
        str_appends(answer, "error the resolver does not run (no [resolver] listen address)\n");
        return 1;
    }
    if (!d->cfg.resolver.trust_anchor) {
        str_appends(answer, "error the resolver does not validate (no [resolver] trust_anchor)\n");
        return 1;
    }
    return (int)resolver_nta_request(s->shared, d->cfg.data_dir, line[3] ? line + 4 : "", answer);
}

/* [resolver] stays in struct config (conf/config.c): `pigeon lookup` reads it too. */
const struct service_def resolver_service_def = {
    .name = "resolver",
    .open = resolver_open,
    .attach = resolver_attach,
    .detach = resolver_detach,
    .reload = resolver_reload,
    .reload_worker = resolver_reload_worker,
    .control = resolver_control,
    .close = resolver_close,
};

/* ---- TCP (RFC 7766, framing in dns/service/tcp.c): one question resolved at a time ---- */

struct res_tcp {
    struct dns_tcp_conn *m;
    struct resolver_worker *rw;
    bool allowed;
    struct dns_resolver_req *req; /* a question being resolved */
};

static void on_resolved_tcp(void *vt, const uint8_t *resp, size_t len)
{
    struct res_tcp *t = vt;
    t->req = NULL;
    if (len)
        dns_tcp_send(t->m, resp, len);
    else
        dns_tcp_close(t->m); /* the resolver is going away (shutdown) */
    dns_tcp_release(t->m);
}

static bool tcp_message(void *vt, struct dns_tcp_conn *m, const uint8_t *msg, size_t len)
{
    struct res_tcp *t = vt;
    struct resolver_worker *rw = t->rw;
    struct dns_msg q;
    struct dns_resolver_qopts o = {true, t->allowed};
    if (dns_msg_parse(msg, len, &q, &rw->arena) < 0 || q.hdr.qr) {
        dns_arena_reset(&rw->arena);
        return false; /* RFC 7766 §6.2.4 allows closing */
    }
    size_t n = dns_resolver_answer_now(rw->res, &q, &o, rw->tcp_out, DNS_MSG_MAX);
    if (n) {
        dns_tcp_send(m, rw->tcp_out, n);
    } else {
        dns_tcp_hold(m);
        t->req = dns_resolver_start(rw->res, &q, &o, on_resolved_tcp, t);
    }
    dns_arena_reset(&rw->arena);
    return true;
}

static void tcp_close(void *vt)
{
    struct res_tcp *t = vt;
    dns_resolver_cancel(t->req);
    free(t);
}

static const struct dns_tcp_ops tcp_ops = {tcp_message, NULL, tcp_close};

static void *tcp_create(struct conn *c, const struct listener *l, uint64_t id, const char *peer)
{
    struct res_tcp *t = xcalloc(1, sizeof *t);
    t->rw = host_worker_state(conn_worker(c), &resolver_service_def);
    t->allowed = net_acl_match_text(&t->rw->allow, peer);
    t->m = dns_tcp_new(c, &tcp_ops, t);
    return t->m;
}

static const struct proto_ops resolver_tcp_proto = {"resolver", tcp_create, DNS_TCP_PROTO_OPS};
