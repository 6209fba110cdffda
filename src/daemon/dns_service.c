/*
 * dns_service — the name server's worker side: UDP batches, TCP connections, and the dispatch
 * of every request to the plain answer engine or to transfers, UPDATE and NOTIFY (dns_xfr.c).
 * See dns_service.h and dns_int.h.
 */
#include "daemon/dns_service.h"

#include "core/err.h"
#include "core/log.h"
#include "core/loop_post.h"
#include "core/xmalloc.h"
#include "net/conn.h"
#include "host/host.h"
#include "daemon/dns_int.h"
#include "dns/auth/answer.h"
#include "dns/dnssec/crypto.h"
#include "dns/dnssec/dnssec.h"
#include "dns/rr.h"
#include "dns/server/rrl.h"
#include "dns/zone.h"
#include "dns/zoneset.h"
#include "msg/base64.h"
#include "net/udp_batch.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- time ---- */

uint64_t dns_now_sec(void)
{
    return (uint64_t)time(NULL);
}

uint64_t dns_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- configuration derived at start ---- */

static int keys_load(struct dns_service *s, const struct config_dns *c)
{
    s->keys = xcalloc(c->nkeys ? c->nkeys : 1, sizeof *s->keys);
    for (unsigned i = 0; i < c->nkeys; i++) {
        const struct config_tsig *k = &c->keys[i];
        unsigned char secret[DNS_TSIG_SECRET_MAX + 4];
        size_t n = 0;
        const char *why = "bad base64 secret";
        size_t sl = strlen(k->secret);
        if (sl / 4 * 3 > DNS_TSIG_SECRET_MAX || base64_decode(k->secret, sl, secret, &n) != 0 ||
            dns_tsig_key_init(&s->keys[i], k->name, k->algorithm, secret, n, &why) != 0) {
            log_err("dns: [tsig %s]: %s", k->name, why);
            return -1;
        }
        s->nkeys++;
    }
    return 0;
}

/* "192.0.2.1", "192.0.2.1:5353", "[2001:db8::1]:53", "2001:db8::1" (port 53 by default). */
static int remote_parse(const char *w, size_t len, struct dns_remote *r)
{
    char host[80], port[8] = "53";
    if (len == 0 || len >= sizeof host)
        return -1;
    memcpy(host, w, len);
    host[len] = '\0';
    snprintf(r->text, sizeof r->text, "%s", host);
    char *h = host, *colon = strrchr(host, ':');
    if (host[0] == '[') {
        char *close = strchr(host, ']');
        if (!close || (close[1] && close[1] != ':'))
            return -1;
        *close = '\0';
        h = host + 1;
        colon = close[1] == ':' ? close + 1 : NULL;
    } else if (colon && strchr(host, ':') != colon) {
        colon = NULL; /* a bare IPv6 address */
    }
    if (colon) {
        *colon = '\0';
        snprintf(port, sizeof port, "%s", colon + 1);
    }
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    hints.ai_socktype = SOCK_DGRAM;
    if (getaddrinfo(h, port, &hints, &ai) != 0)
        return -1;
    memcpy(&r->sa, ai->ai_addr, ai->ai_addrlen);
    r->len = ai->ai_addrlen;
    freeaddrinfo(ai);
    return 0;
}

static const struct dns_tsig_key *key_named(const struct dns_service *s, const char *name,
                                            size_t len)
{
    uint8_t wire[DNS_NAME_MAXLEN];
    size_t n;
    const char *why;
    char text[DNS_NAME_TEXT_MAX];
    if (len >= sizeof text)
        return NULL;
    memcpy(text, name, len);
    if (dns_name_from_text(text, len, (const uint8_t *)"", wire, &n, &why) != 0)
        return NULL;
    return dns_tsig_key_find(s->keys, s->nkeys, wire);
}

/* "addr[:port] ... [key:NAME]": remotes, and the key that signs what we send them. */
static int remotes_parse(const struct dns_service *s, const char *text, struct dns_remote **out,
                         size_t *n, const struct dns_tsig_key **key, const char **bad)
{
    for (const char *p = text ? text : ""; *p;) {
        p += strspn(p, " ,\t");
        size_t len = strcspn(p, " ,\t");
        if (len == 0)
            break;
        *bad = p;
        if (len > 4 && !strncmp(p, "key:", 4)) {
            if (!(*key = key_named(s, p + 4, len - 4)))
                return -1;
        } else {
            *out = xrealloc(*out, (*n + 1) * sizeof **out);
            if (remote_parse(p, len, &(*out)[*n]) != 0)
                return -1;
            (*n)++;
        }
        p += len;
    }
    return 0;
}

/* [zone] dnssec keys: a primary zone's signing parameters. */
static int zconf_dnssec(struct dns_service *s, const struct config_zone *cz, struct dns_zconf *z)
{
    if (!cz->dnssec)
        return 0;
    if (cz->primary) {
        log_err("dns: [zone %s]: dnssec = on is for primary zones (a secondary serves what its "
                "primary signed)",
                cz->name);
        return -1;
    }
    z->dnssec = true;
    z->dnssec_nsec3 = cz->dnssec_nsec3;
    z->dnssec_alg = cz->dnssec_algorithm ? dnssec_alg_from_name(cz->dnssec_algorithm)
                                         : DNSSEC_ALG_ECDSAP256;
    EVP_PKEY *probe = z->dnssec_alg ? dnssec_key_generate(z->dnssec_alg) : NULL;
    if (!probe) {
        log_err("dns: [zone %s]: dnssec_algorithm %s cannot sign (ECDSAP256SHA256, "
                "ECDSAP384SHA384, ED25519, ED448, RSASHA256, RSASHA512)",
                cz->name, cz->dnssec_algorithm);
        return -1;
    }
    EVP_PKEY_free(probe);
    z->dnssec_validity = (cz->dnssec_validity ? cz->dnssec_validity : 14) * 86400u;
    struct str dir = STR_INIT;
    str_appendf(&dir, "%s/dnssec", s->d->cfg.data_dir);
    z->keydir = str_steal(&dir);
    return 0;
}

static int zconf_one(struct dns_service *s, const struct config_zone *cz, struct dns_zconf *z)
{
    char text[300], bad[100];
    size_t n;
    const char *why = NULL, *badp = NULL;
    z->name = cz->name;
    z->file = cz->file;
    snprintf(text, sizeof text, "%s.", cz->name);
    if (dns_name_from_text(text, strlen(text), NULL, z->origin, &n, &why) != 0) {
        log_err("dns: [zone %s]: bad zone name: %s", cz->name, why);
        return -1;
    }
    dns_name_lower(z->origin);
    struct str j = STR_INIT;
    str_appendf(&j, "%s.jnl", cz->file);
    z->jnl = str_steal(&j);
    const char *lists[2] = {cz->allow_transfer, cz->allow_update};
    struct dns_acl *acls[2] = {&z->xfr_acl, &z->upd_acl};
    for (int i = 0; i < 2; i++)
        if (dns_acl_parse(lists[i], acls[i], bad, sizeof bad) != 0) {
            log_err("dns: [zone %s]: bad address or key in %s: %s", cz->name,
                    i ? "allow_update" : "allow_transfer", bad);
            return -1;
        }
    if (remotes_parse(s, cz->notify, &z->notify, &z->nnotify, &z->notify_key, &badp) != 0) {
        log_err("dns: [zone %s]: bad notify entry (or unknown key) at: %s", cz->name, badp);
        return -1;
    }
    if (cz->primary) {
        struct dns_remote *prim = NULL;
        size_t np = 0;
        int rc = remotes_parse(s, cz->primary, &prim, &np, &z->primary_key, &badp);
        if (rc == 0 && np == 1)
            z->primary = prim[0];
        free(prim);
        if (rc != 0 || np != 1) {
            log_err("dns: [zone %s]: primary must be one address[:port] [key:NAME]", cz->name);
            return -1;
        }
        z->secondary = true;
    }
    return zconf_dnssec(s, cz, z);
}

static int zconf_load(struct dns_service *s, const struct config_dns *c)
{
    s->zc = xcalloc(c->nzones ? c->nzones : 1, sizeof *s->zc);
    for (unsigned i = 0; i < c->nzones; i++, s->nzones++)
        if (zconf_one(s, &c->zones[i], &s->zc[i]) != 0) {
            s->nzones++;
            return -1;
        }
    return 0;
}

/* ---- dispatch: the engine, then the job it asks for ---- */

struct dns_req {
    const uint8_t *pkt;
    size_t len;
    const struct sockaddr *peer;
    socklen_t peer_len;
    struct dns_tcp *t; /* NULL over UDP */
    int fd;
};

/* An UPDATE for the control thread: the request copied, its reply comes back in the job. */
static void update_queue(struct dns_worker *dw, const struct dns_req *r,
                         const struct dns_server_job_out *jo)
{
    struct dns_job *job = xcalloc(1, sizeof *job);
    *job = (struct dns_job){.dw = dw,
                            .tcp = r->t != NULL,
                            .t = r->t,
                            .fd = r->fd,
                            .peer_len = r->peer_len,
                            .len = r->len,
                            .zi = jo->zi,
                            .tsig = jo->tsig};
    memcpy(&job->peer, r->peer, r->peer_len);
    job->pkt = xmemdup(r->pkt, r->len);
    if (r->t)
        r->t->busy = true;
    dns_ctl_update(dw->s->ctl, job);
}

/* Answers one request: the length of an answer in out, or 0 (nothing now: dropped, handed to
 * the control thread, or a transfer started on r->t). */
static size_t dispatch(struct dns_worker *dw, const struct dns_req *r, uint8_t *out, size_t cap)
{
    struct dns_server_req req = {r->pkt, r->len, r->peer, r->t != NULL, dns_now_sec()};
    struct dns_server_job_out jo;
    size_t len = dns_server_process(&dw->s->srv, dw->view, &req, &dw->arena, out, cap, &jo);
    switch (jo.kind) {
    case DNS_JOB_NONE:
        break;
    case DNS_JOB_XFR:
        dns_xfr_start(r->t, jo.xfr);
        break;
    case DNS_JOB_UPDATE:
        update_queue(dw, r, &jo);
        break;
    case DNS_JOB_REFRESH:
        dns_ctl_notified(dw->s->ctl, jo.zi);
        break;
    }
    return len;
}

/* ---- UDP ---- */

/* Applies response rate limiting to one UDP answer; returns the length to send (0: drop). */
static size_t rrl_apply(struct dns_service *s, const struct sockaddr *peer, uint8_t *out,
                        size_t len, uint64_t now)
{
    pthread_mutex_lock(&s->rrl_lock);
    len = dns_rrl_apply(s->rrl, peer, out, len, now);
    pthread_mutex_unlock(&s->rrl_lock);
    return len;
}

/* One datagram (net/udp_batch.h). */
static size_t on_datagram(void *vdw, int fd, const uint8_t *pkt, size_t len,
                          const struct sockaddr *peer, socklen_t peer_len, uint8_t *out,
                          size_t cap)
{
    struct dns_worker *dw = vdw;
    struct dns_req r = {pkt, len, peer, peer_len, NULL, fd};
    size_t n = dispatch(dw, &r, out, cap);
    dns_arena_reset(&dw->arena);
    if (n && dw->s->rrl)
        n = rrl_apply(dw->s, peer, out, n, dns_now_ms());
    return n;
}

/* ---- life cycle ---- */

int dns_service_open(struct daemon *d)
{
    const struct config_dns *c = &d->cfg.dns;
    if (!c->svc.enabled)
        return 0;
    struct dns_service *s = xcalloc(1, sizeof *s);
    d->dns = s;
    s->d = d;
    pthread_mutex_init(&s->rrl_lock, NULL);
    if (c->rrl_rate)
        s->rrl = dns_rrl_new(c->rrl_rate, c->rrl_slip, 0);
    if (keys_load(s, c) != 0 || zconf_load(s, c) != 0)
        return -1;
    s->srv = (struct dns_server){s->zc, s->nzones, s->keys, s->nkeys, (uint16_t)c->udp_max};
    bool ok;
    s->ctl = dns_ctl_new(s, &s->view0, &ok);
    if (!ok)
        return -1;
    if (host_bind_udp(&c->svc, "dns", &s->udp_fds, &s->nudp) < 0)
        return -1;
    return 0;
}

void dns_service_attach(struct worker *w)
{
    struct dns_service *s = w->d->dns;
    if (!s)
        return;
    struct dns_worker *dw = xcalloc(1, sizeof *dw);
    dw->w = w;
    dw->s = s;
    dw->view = dns_view_ref(s->view0);
    dns_arena_init(&dw->arena, dw->arena_mem, sizeof dw->arena_mem);
    dw->udp = udp_batch_new(w->host.base, s->udp_fds, s->nudp, on_datagram, dw);
    s->workers = xrealloc(s->workers, (s->nworkers + 1) * sizeof *s->workers);
    s->workers[s->nworkers++] = dw;
    w->dns = dw;
    /* The control thread publishes to every worker: start it once they all exist. */
    if (s->nworkers == w->d->nworkers)
        dns_ctl_start(s->ctl);
}

void dns_service_detach(struct worker *w)
{
    struct dns_worker *dw = w->dns;
    if (!dw)
        return;
    udp_batch_free(dw->udp);
    dns_view_unref(dw->view);
    dns_arena_clear(&dw->arena);
    w->dns = NULL;
    struct dns_service *s = w->d->dns;
    for (unsigned i = 0; i < s->nworkers; i++)
        if (s->workers[i] == dw)
            s->workers[i] = NULL;
    free(dw);
}

void dns_service_reload(struct daemon *d)
{
    if (d->dns)
        dns_ctl_reload(d->dns->ctl);
}

void dns_service_stop(struct daemon *d)
{
    if (d->dns && d->dns->ctl)
        dns_ctl_stop(d->dns->ctl);
}

void dns_service_close(struct daemon *d)
{
    struct dns_service *s = d->dns;
    if (!s)
        return;
    if (s->ctl) {
        dns_ctl_stop(s->ctl);
        dns_ctl_free(s->ctl);
    }
    for (unsigned i = 0; i < s->nudp; i++)
        close(s->udp_fds[i]);
    free(s->udp_fds);
    free(s->workers);
    dns_view_unref(s->view0);
    for (size_t i = 0; i < s->nzones; i++) {
        dns_acl_clear(&s->zc[i].xfr_acl);
        dns_acl_clear(&s->zc[i].upd_acl);
        free(s->zc[i].notify);
        free(s->zc[i].jnl);
        free(s->zc[i].keydir);
    }
    free(s->zc);
    free(s->keys);
    dns_rrl_free(s->rrl);
    pthread_mutex_destroy(&s->rrl_lock);
    free(s);
    d->dns = NULL;
}

/* ---- TCP (RFC 7766): length-prefixed messages, several per connection, answered in order ---- */

static void *tcp_create(struct conn *c, const struct listener *l, uint64_t id, const char *peer)
{
    struct dns_tcp *t = xcalloc(1, sizeof *t);
    t->c = c;
    t->dw = conn_worker(c)->dns;
    snprintf(t->peer_text, sizeof t->peer_text, "%s", peer);
    struct sockaddr_in *s4 = (struct sockaddr_in *)&t->peer;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&t->peer;
    if (inet_pton(AF_INET, peer, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        t->peer_len = sizeof *s4;
    } else if (inet_pton(AF_INET6, peer, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        t->peer_len = sizeof *s6;
    }
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

void dns_tcp_send(struct dns_tcp *t, const uint8_t *msg, size_t len)
{
    t->nsent++;
    uint8_t *own = t->dw->tcp_out;
    if (msg == own + 2) { /* built in place: prefix and message in one write */
        own[0] = (uint8_t)(len >> 8);
        own[1] = (uint8_t)len;
        conn_write(t->c, (const char *)own, len + 2);
        return;
    }
    uint8_t pfx[2] = {(uint8_t)(len >> 8), (uint8_t)len};
    conn_write(t->c, (const char *)pfx, 2);
    conn_write(t->c, (const char *)msg, len);
}

/* Answers the complete messages in p[0..n), in order, until one must wait (an UPDATE with
 * the control thread, a transfer being streamed). Returns the bytes used. */
static size_t tcp_answer(struct dns_tcp *t, const uint8_t *p, size_t n)
{
    struct dns_worker *dw = t->dw;
    size_t used = 0;
    while (!t->closing && !t->busy && !t->xfr && n - used >= 2) {
        size_t len = (size_t)p[used] << 8 | p[used + 1];
        if (n - used - 2 < len)
            break;
        struct dns_req r = {p + used + 2, len, (struct sockaddr *)&t->peer, t->peer_len, t, -1};
        unsigned sent = t->nsent;
        size_t out = dispatch(dw, &r, dw->tcp_out + 2, DNS_MSG_MAX);
        dns_arena_reset(&dw->arena);
        used += len + 2;
        if (out)
            dns_tcp_send(t, dw->tcp_out + 2, out);
        else if (!t->busy && t->nsent == sent) /* nothing to answer: RFC 7766 §6.2.4 */
            t->closing = true;
    }
    return used;
}

/* The messages buffered in t->in. */
static void tcp_process(struct dns_tcp *t)
{
    str_consume(&t->in, tcp_answer(t, (const uint8_t *)t->in.ptr, t->in.len));
}

static size_t tcp_feed(void *e, const char *p, size_t n)
{
    struct dns_tcp *t = e;
    if (t->busy || t->xfr)
        return 0;         /* answered in order: the rest waits in the connection's buffer */
    if (t->in.len == 0) { /* the usual case: answer straight from the input, copy nothing */
        size_t used = tcp_answer(t, (const uint8_t *)p, n);
        if (t->busy || t->xfr || t->closing)
            return used;
        p += used;
        n -= used;
        str_append(&t->in, p, n); /* the start of a message still arriving */
        return used + n;
    }
    str_append(&t->in, p, n);
    tcp_process(t);
    return n;
}

static void tcp_writable(void *e)
{
    struct dns_tcp *t = e;
    if (t->xfr && !dns_xfr_pump(t))
        tcp_process(t);
}

void dns_job_done(void *vjob)
{
    struct dns_job *job = vjob;
    if (job->tcp) {
        struct dns_tcp *t = job->t;
        if (job->reply_len)
            dns_tcp_send(t, job->reply, job->reply_len);
        t->busy = false;
        tcp_process(t);
        conn_resume(t->c);
    } else if (job->reply_len) {
        sendto(job->fd, job->reply, job->reply_len, MSG_DONTWAIT, (struct sockaddr *)&job->peer,
               job->peer_len);
    }
    free(job->pkt);
    free(job->reply);
    free(job);
}

static bool tcp_busy(const void *e)
{
    return ((const struct dns_tcp *)e)->busy;
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
    if (t->xfr)
        dns_xfr_abort(t);
    str_clear(&t->in);
    free(t);
}

const struct proto_ops dns_tcp_proto = {
    "dns",       tcp_create, tcp_start, tcp_refuse, tcp_feed, tcp_busy,
    tcp_closing, tcp_tls,    tcp_close, tcp_close,  tcp_free, tcp_writable,
};

void dns_service_on_zones_changed(struct worker *w, dns_zones_changed_fn fn, void *ctx)
{
    if (w->dns) {
        w->dns->zones_changed = fn;
        w->dns->zones_changed_ctx = ctx;
    }
}

struct dns_zoneset *dns_service_worker_zones(struct worker *w)
{
    return w->dns && w->dns->view ? w->dns->view->zs : NULL;
}
