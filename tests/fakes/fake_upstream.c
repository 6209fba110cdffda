/* fake_upstream — see fake_upstream.h. */
#include "fakes/fake_upstream.h"

#include "core/str.h"
#include "core/xmalloc.h"
#include "dns/arena.h"
#include "dns/auth/answer.h"
#include "dns/name.h"
#include "dns/rr.h"
#include "dns/wire.h"
#include "dns/zonefile.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct fake_pending {
    struct fake_upstream *f;
    struct fake_pending *prev, *next;
    struct event *ev;
    dns_io_cb cb;
    void *arg;
    enum fake_reply_kind kind;
    uint8_t *resp;
    size_t len;
    uint64_t wait_ms; /* what the clock moves when this one is delivered */
};

struct fake_upstream {
    struct event_base *base;
    struct fake_clock *clock;
    const struct fake_dns_entry *script;
    size_t n;
    struct dns_io_ops ops;
    struct fake_pending *pending;
    unsigned *used; /* per script entry */
    struct fake_dns_query *log;
    size_t nlog;
    unsigned unscripted;
    struct {
        char server[64];
        const struct dns_zoneset *zs;
    } served[FAKE_UPSTREAM_MAX_SERVED];
    unsigned nserved;
};

void fake_upstream_serve(struct fake_upstream *f, const char *server, const struct dns_zoneset *zs)
{
    if (f->nserved >= FAKE_UPSTREAM_MAX_SERVED)
        abort(); /* a broken test set-up */
    snprintf(f->served[f->nserved].server, sizeof f->served[0].server, "%s", server);
    f->served[f->nserved++].zs = zs;
}

/* The authoritative engine's reply when server serves zones, else 0. */
static size_t serve_from_zones(struct fake_upstream *f, const struct fake_dns_query *q,
                               const struct dns_msg *m, uint8_t *out)
{
    for (unsigned i = 0; i < f->nserved; i++) {
        if (strcmp(f->served[i].server, q->server) != 0)
            continue;
        struct dns_answer_opts ao = {true, 0}; /* as over TCP: no truncation */
        struct dns_answer_info info;
        return dns_answer_msg(f->served[i].zs, m, &ao, out, DNS_MSG_MAX, &info);
    }
    return 0;
}

/* ---- building a reply from an entry ---- */

struct section_ctx {
    struct dns_builder *b;
    enum dns_section sec;
};

static int add_rr(void *vctx, const struct dns_zonefile_rr *rr, const char **reason_out)
{
    struct section_ctx *c = vctx;
    if (dns_builder_rr(c->b, c->sec, rr->owner, rr->type, rr->rclass, rr->ttl, rr->rdata,
                       rr->rdlen) < 0) {
        *reason_out = "reply too large";
        return -1;
    }
    return 0;
}

static void add_section(struct dns_builder *b, enum dns_section sec, const char *text)
{
    if (!text || !*text)
        return;
    static const uint8_t root[1] = {0};
    struct section_ctx c = {b, sec};
    struct str err = STR_INIT;
    if (dns_zonefile_parse(text, strlen(text), "script", root, DNS_ZF_NO_INCLUDE, add_rr, &c,
                           &err) != 0) {
        fprintf(stderr, "fake_upstream: bad script text: %s\n%s\n", str_cstr(&err), text);
        abort(); /* a broken test script, not a resolver failure */
    }
    str_clear(&err);
}

static size_t build_reply(const struct fake_dns_entry *e, const struct dns_msg *q, uint8_t *out)
{
    struct dns_header h = {0};
    h.id = q->hdr.id;
    h.qr = true;
    h.aa = e->aa;
    h.rcode = (uint8_t)(e->rcode & 15);
    h.qdcount = 1;
    struct dns_builder b;
    dns_builder_init(&b, out, DNS_MSG_MAX, DNS_MSG_MAX, &h);
    dns_builder_question(&b, q->qd[0].qname, q->qd[0].qtype, q->qd[0].qclass);
    add_section(&b, DNS_SEC_ANSWER, e->answer);
    add_section(&b, DNS_SEC_AUTHORITY, e->authority);
    add_section(&b, DNS_SEC_ADDITIONAL, e->additional);
    if (q->edns.present)
        dns_builder_opt(&b, DNS_UDP_DEFAULT, 0, 0, false);
    return dns_builder_finish(&b);
}

/* ---- matching ---- */

static const struct fake_dns_entry *find(struct fake_upstream *f, const struct fake_dns_query *q)
{
    for (size_t i = 0; i < f->n; i++) {
        const struct fake_dns_entry *e = &f->script[i];
        if (strcmp(e->server, q->server) != 0)
            continue;
        if (strcmp(e->qname, "*") != 0 && strcasecmp(e->qname, q->qname) != 0)
            continue;
        if (e->qtype && e->qtype != q->qtype)
            continue;
        if (e->times && f->used[i] >= e->times)
            continue;
        f->used[i]++;
        return e;
    }
    return NULL;
}

static void log_query(struct fake_upstream *f, const struct sockaddr *sa, const struct dns_msg *m,
                      struct fake_dns_query *out)
{
    memset(out, 0, sizeof *out);
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out->server,
                  sizeof out->server);
    else
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out->server,
                  sizeof out->server);
    if (m->hdr.qdcount == 1) {
        dns_name_to_text(m->qd[0].qname, out->qname, sizeof out->qname);
        for (char *p = out->qname; *p; p++)
            *p = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
        out->qtype = m->qd[0].qtype;
    }
    f->log = xrealloc(f->log, (f->nlog + 1) * sizeof *f->log);
    f->log[f->nlog++] = *out;
}

/* ---- delivery from the loop ---- */

static void unlink_pending(struct fake_pending *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        p->f->pending = p->next;
    if (p->next)
        p->next->prev = p->prev;
}

static void pending_free(struct fake_pending *p)
{
    event_free(p->ev);
    free(p->resp);
    free(p);
}

static void on_deliver(evutil_socket_t fd, short what, void *vp)
{
    struct fake_pending *p = vp;
    unlink_pending(p);
    fake_clock_advance(p->f->clock, p->wait_ms);
    if (p->kind == FAKE_TIMEOUT)
        p->cb(p->arg, DNS_IO_TIMEOUT, NULL, 0);
    else
        p->cb(p->arg, DNS_IO_OK, p->resp, p->len);
    pending_free(p);
}

static struct dns_query_io *fake_start(void *ctx, struct event_base *base,
                                       const struct sockaddr *server, socklen_t slen,
                                       const uint8_t *query, size_t qlen,
                                       const struct dns_io_params *params, dns_io_cb cb, void *arg)
{
    struct fake_upstream *f = ctx;
    unsigned char mem[4096];
    struct dns_arena a;
    dns_arena_init(&a, mem, sizeof mem);
    struct dns_msg m;
    struct fake_dns_query q;
    struct fake_pending *p = xcalloc(1, sizeof *p);
    *p = (struct fake_pending){f, NULL, f->pending, NULL, cb, arg, FAKE_TIMEOUT, NULL, 0, 0};
    if (dns_msg_parse(query, qlen, &m, &a) == 0) {
        log_query(f, server, &m, &q);
        uint8_t *zr = xmalloc(DNS_MSG_MAX);
        size_t zn = serve_from_zones(f, &q, &m, zr);
        const struct fake_dns_entry *e = zn ? NULL : find(f, &q);
        f->unscripted += e == NULL && zn == 0;
        p->kind = e ? e->kind : FAKE_TIMEOUT;
        if (zn) {
            p->kind = FAKE_REPLY;
            p->resp = zr;
            p->len = zn;
            zr = NULL;
        } else if (p->kind == FAKE_REPLY) {
            p->resp = xmalloc(DNS_MSG_MAX);
            p->len = build_reply(e, &m, p->resp);
        } else if (p->kind == FAKE_GARBAGE) {
            p->resp = (uint8_t *)xstrdup("not a DNS message");
            p->len = 5;
        }
        free(zr);
    }
    p->wait_ms = p->kind == FAKE_TIMEOUT
                     ? (uint64_t)params->timeout_ms * (params->tries ? params->tries : 1)
                     : FAKE_UPSTREAM_RTT_MS;
    dns_arena_clear(&a);
    if (f->pending)
        f->pending->prev = p;
    f->pending = p;
    p->ev = evtimer_new(f->base, on_deliver, p);
    struct timeval now = {0, 0};
    evtimer_add(p->ev, &now);
    return (struct dns_query_io *)p;
}

static void fake_cancel(void *ctx, struct dns_query_io *q)
{
    struct fake_pending *p = (struct fake_pending *)q;
    if (!p)
        return;
    unlink_pending(p);
    pending_free(p);
}

/* ---- lifecycle and questions ---- */

static uint64_t fake_now_ms(void *ctx)
{
    return fake_clock_now_ms(((struct fake_upstream *)ctx)->clock);
}

struct fake_upstream *fake_upstream_new(struct event_base *base, struct fake_clock *clock,
                                        const struct fake_dns_entry *script, size_t n)
{
    struct fake_upstream *f = xcalloc(1, sizeof *f);
    f->base = base;
    f->clock = clock;
    f->script = script;
    f->n = n;
    f->used = xcalloc(n ? n : 1, sizeof *f->used);
    f->ops = (struct dns_io_ops){fake_start, fake_cancel, fake_now_ms, f};
    return f;
}

void fake_upstream_free(struct fake_upstream *f)
{
    if (!f)
        return;
    while (f->pending) {
        struct fake_pending *p = f->pending;
        unlink_pending(p);
        pending_free(p);
    }
    free(f->log);
    free(f->used);
    free(f);
}

const struct dns_io_ops *fake_upstream_ops(struct fake_upstream *f)
{
    return &f->ops;
}

unsigned fake_upstream_count(const struct fake_upstream *f, const char *server, const char *qname,
                             uint16_t qtype)
{
    unsigned n = 0;
    for (size_t i = 0; i < f->nlog; i++) {
        const struct fake_dns_query *q = &f->log[i];
        n += (!server || strcmp(server, q->server) == 0) &&
             (!qname || strcasecmp(qname, q->qname) == 0) && (!qtype || qtype == q->qtype);
    }
    return n;
}

unsigned fake_upstream_unscripted(const struct fake_upstream *f)
{
    return f->unscripted;
}

unsigned fake_upstream_pending(const struct fake_upstream *f)
{
    unsigned n = 0;
    for (const struct fake_pending *p = f->pending; p; p = p->next)
        n++;
    return n;
}

const struct fake_dns_query *fake_upstream_log(const struct fake_upstream *f, size_t *n_out)
{
    *n_out = f->nlog;
    return f->log;
}
