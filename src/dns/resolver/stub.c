/*
 * stub — the mail side's DNS API (stub.h) over one recursive server, through transport.c.
 * Answers are read from the answer section following the CNAME chain from the question name.
 */
#include "dns/resolver/stub.h"

#include "core/xmalloc.h"
#include "dns/resolver/resolver.h"
#include "dns/resolver/transport.h"
#include "dns/rr.h"
#include "dns/wire.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STUB_CNAME_MAX 8

struct stub_q;

struct dns_stub {
    struct event_base *base;
    struct sockaddr_storage server;
    socklen_t slen;
    struct dns_io_params params;
    struct dns_io_ops io;     /* the way to `server` (dns_io_network unless a test sets it) */
    struct dns_resolver *res; /* in-process backend, or NULL: ask `server` */
    struct stub_q *active; /* queries in flight, so dns_stub_free can cancel them */
};

/* What an upstream query's callback gets: its query, which of the two, and its type. Kept in
 * the query (not allocated), so a query freed with its I/O cancelled leaves nothing behind. */
struct io_slot {
    struct stub_q *q;
    int slot;
    uint16_t qtype;
};

/* One look-up; an address look-up for DNS_STUB_ANY runs an A and an AAAA query. */
struct stub_q {
    struct dns_stub *stub;
    struct stub_q *prev, *next;
    enum { Q_MX, Q_ADDR, Q_TXT, Q_RR } kind;
    uint16_t rrtype; /* Q_RR */
    bool ad;         /* Q_RR: the last answer had AD set */
    struct dns_stub_rdata *rrs;
    size_t nrr;
    char name[DNS_NAME_TEXT_MAX];
    uint8_t qname[DNS_NAME_MAXLEN];
    void *cb;
    void *arg;
    struct dns_query_io *io[2];
    struct dns_resolver_req *rreq[2];
    struct io_slot slots[2];
    int pending;
    int nq;                 /* queries asked (1, or 2 for A + AAAA) */
    enum dns_stub_status status[2];
    /* results */
    struct dns_stub_mx *mx;
    size_t nmx;
    bool null_mx;
    struct sockaddr_storage *addrs;
    size_t naddr;
    char **txt;
    size_t *txtlen;
    size_t ntxt;
};

struct dns_stub *dns_stub_new_server(struct event_base *base, const struct sockaddr *server,
                                     socklen_t slen)
{
    struct dns_stub *s = xcalloc(1, sizeof *s);
    s->base = base;
    memcpy(&s->server, server, slen < sizeof s->server ? slen : sizeof s->server);
    s->slen = slen;
    s->params = (struct dns_io_params){2000, 3, false, false};
    s->io = dns_io_network;
    return s;
}

void dns_stub_set_io(struct dns_stub *s, const struct dns_io_ops *io)
{
    s->io = *io;
}

struct dns_stub *dns_stub_new_internal(struct event_base *base, struct dns_resolver *res)
{
    struct dns_stub *s = xcalloc(1, sizeof *s);
    s->base = base;
    s->res = res;
    return s;
}

static void q_unlink(struct stub_q *q)
{
    if (q->prev)
        q->prev->next = q->next;
    else
        q->stub->active = q->next;
    if (q->next)
        q->next->prev = q->prev;
}

static void q_free(struct stub_q *q)
{
    for (int i = 0; i < 2; i++) {
        if (q->io[i])
            q->stub->io.cancel(q->stub->io.ctx, q->io[i]);
        dns_resolver_cancel(q->rreq[i]);
    }
    for (size_t i = 0; i < q->ntxt; i++)
        free(q->txt[i]);
    free(q->txt);
    free(q->txtlen);
    for (size_t i = 0; i < q->nrr; i++)
        free((void *)q->rrs[i].data);
    free(q->rrs);
    free(q->mx);
    free(q->addrs);
    free(q);
}

void dns_stub_free(struct dns_stub *s)
{
    if (!s)
        return;
    while (s->active) {
        struct stub_q *q = s->active;
        s->active = q->next;
        q_free(q);
    }
    free(s);
}

static struct stub_q *q_new(struct dns_stub *s, int kind, const char *name, void *cb, void *arg)
{
    struct stub_q *q = xcalloc(1, sizeof *q);
    q->stub = s;
    q->kind = kind;
    snprintf(q->name, sizeof q->name, "%s", name);
    q->cb = cb;
    q->arg = arg;
    q->next = s->active;
    if (s->active)
        s->active->prev = q;
    s->active = q;
    return q;
}

/* Builds "RD=1, one question, EDNS0 1232" into out; returns the length or 0. */
static size_t build_query(const uint8_t *qname, uint16_t qtype, bool ad, uint8_t *out,
                          size_t cap)
{
    struct dns_header h = {0};
    h.rd = true;
    h.ad = ad;
    h.qdcount = 1;
    struct dns_builder b;
    dns_builder_init(&b, out, cap, cap, &h);
    if (dns_builder_question(&b, qname, qtype, DNS_CLASS_IN) < 0 ||
        dns_builder_opt(&b, DNS_UDP_DEFAULT, 0, 0, false) < 0)
        return 0;
    return dns_builder_finish(&b);
}

/* ---- answers ---- */

typedef void (*rr_fn)(struct stub_q *q, const struct dns_rr *rr);

/* Maps the response to a status and hands each record of qtype at the end of the CNAME
 * chain starting at qname to fn. */
static enum dns_stub_status read_answer(const uint8_t *resp, size_t len, const uint8_t *qname,
                                        uint16_t qtype, rr_fn fn, struct stub_q *q)
{
    unsigned char mem[8192];
    struct dns_arena a;
    dns_arena_init(&a, mem, sizeof mem);
    struct dns_msg m;
    enum dns_stub_status st = DNS_STUB_TEMPFAIL;
    if (dns_msg_parse(resp, len, &m, &a) < 0)
        goto out;
    if (m.rcode == DNS_RCODE_NXDOMAIN) {
        st = DNS_STUB_NXDOMAIN;
        goto out;
    }
    if (m.rcode != DNS_RCODE_NOERROR)
        goto out;
    q->ad = m.hdr.ad;
    const uint8_t *cur = qname;
    st = DNS_STUB_NODATA;
    for (int hops = 0; hops <= STUB_CNAME_MAX; hops++) {
        const uint8_t *next = NULL;
        for (uint16_t i = 0; i < m.count[0]; i++) {
            const struct dns_rr *rr = &m.rr[0][i];
            if (!dns_name_eq(rr->owner, cur))
                continue;
            if (rr->type == qtype) {
                fn(q, rr);
                st = DNS_STUB_OK;
            } else if (rr->type == DNS_TYPE_CNAME) {
                next = rr->rdata;
            }
        }
        if (st == DNS_STUB_OK || !next)
            break;
        cur = next;
    }
out:
    dns_arena_clear(&a);
    return st;
}

static void take_mx(struct stub_q *q, const struct dns_rr *rr)
{
    if (rr->rdlen < 3)
        return;
    q->mx = xrealloc(q->mx, (q->nmx + 1) * sizeof *q->mx);
    struct dns_stub_mx *m = &q->mx[q->nmx++];
    m->preference = (uint16_t)(rr->rdata[0] << 8 | rr->rdata[1]);
    char text[DNS_NAME_TEXT_MAX];
    size_t n = dns_name_to_text(rr->rdata + 2, text, sizeof text);
    if (n > 1 && text[n - 1] == '.')
        text[n - 1] = '\0'; /* "mail.example." -> "mail.example"; the root stays "." */
    size_t tl = strnlen(text, sizeof m->host - 1);
    memcpy(m->host, text, tl);
    m->host[tl] = '\0';
}

static void take_addr(struct stub_q *q, const struct dns_rr *rr)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    if (rr->type == DNS_TYPE_A && rr->rdlen == 4) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        memcpy(&s4->sin_addr, rr->rdata, 4);
    } else if (rr->type == DNS_TYPE_AAAA && rr->rdlen == 16) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        memcpy(&s6->sin6_addr, rr->rdata, 16);
    } else {
        return;
    }
    q->addrs = xrealloc(q->addrs, (q->naddr + 1) * sizeof *q->addrs);
    q->addrs[q->naddr++] = ss;
}

/* TXT: the record's character-strings joined (RFC 7208 §3.3); PTR: the name as text. */
static void take_txt(struct stub_q *q, const struct dns_rr *rr)
{
    struct str s = STR_INIT;
    if (rr->type == DNS_TYPE_PTR) {
        char text[DNS_NAME_TEXT_MAX];
        size_t n = dns_name_to_text(rr->rdata, text, sizeof text);
        str_append(&s, text, n > 1 && text[n - 1] == '.' ? n - 1 : n);
    } else {
        for (size_t i = 0; i < rr->rdlen;) {
            size_t l = rr->rdata[i];
            if (i + 1 + l > rr->rdlen)
                break;
            str_append(&s, rr->rdata + i + 1, l);
            i += 1 + l;
        }
    }
    q->txt = xrealloc(q->txt, (q->ntxt + 1) * sizeof *q->txt);
    q->txtlen = xrealloc(q->txtlen, (q->ntxt + 1) * sizeof *q->txtlen);
    q->txtlen[q->ntxt] = s.len;
    q->txt[q->ntxt++] = str_steal(&s);
}

static void take_rr(struct stub_q *q, const struct dns_rr *rr)
{
    uint8_t *copy = xmalloc(rr->rdlen ? rr->rdlen : 1);
    memcpy(copy, rr->rdata, rr->rdlen);
    q->rrs = xrealloc(q->rrs, (q->nrr + 1) * sizeof *q->rrs);
    q->rrs[q->nrr++] = (struct dns_stub_rdata){copy, rr->rdlen};
}

static int mx_cmp(const void *a, const void *b)
{
    const struct dns_stub_mx *x = a, *y = b;
    return (int)x->preference - (int)y->preference;
}

/* RFC 5321 §5.1: hosts of equal preference are tried in random order. */
static void mx_sort(struct stub_q *q)
{
    qsort(q->mx, q->nmx, sizeof *q->mx, mx_cmp);
    for (size_t i = 0; i < q->nmx;) {
        size_t e = i;
        while (e < q->nmx && q->mx[e].preference == q->mx[i].preference)
            e++;
        for (size_t k = e - 1; k > i; k--) {
            uint32_t r;
            RAND_bytes((unsigned char *)&r, sizeof r);
            size_t m = i + r % (k - i + 1);
            struct dns_stub_mx t = q->mx[k];
            q->mx[k] = q->mx[m];
            q->mx[m] = t;
        }
        i = e;
    }
}

/* ---- completion ---- */

static void complete_mx(struct stub_q *q)
{
    struct dns_stub_mx_result r = {q->status[0], false, false, q->ad, NULL, 0};
    struct dns_stub_mx self;
    if (r.status == DNS_STUB_OK) {
        mx_sort(q);
        /* RFC 7505 §3: a single MX with an empty target (the root) means no mail at all. */
        r.null_mx = q->nmx == 1 && strcmp(q->mx[0].host, ".") == 0;
        r.hosts = r.null_mx ? NULL : q->mx;
        r.n = r.null_mx ? 0 : q->nmx;
    } else if (r.status == DNS_STUB_NODATA) {
        /* RFC 5321 §5.1: no MX — the domain itself is the implicit MX, preference 0. */
        size_t n = strnlen(q->name, sizeof self.host - 1);
        memcpy(self.host, q->name, n);
        self.host[n] = '\0';
        self.preference = 0;
        r.status = DNS_STUB_OK;
        r.implicit = true;
        r.hosts = &self;
        r.n = 1;
    }
    ((dns_stub_mx_cb)q->cb)(q->arg, &r);
}

static void complete_addr(struct stub_q *q)
{
    struct dns_stub_addr_result r = {DNS_STUB_OK, q->addrs, q->naddr};
    if (q->naddr == 0) {
        enum dns_stub_status a = q->status[0], b = q->nq == 2 ? q->status[1] : a;
        r.status = (a == DNS_STUB_NXDOMAIN || b == DNS_STUB_NXDOMAIN) ? DNS_STUB_NXDOMAIN
                   : (a == DNS_STUB_TEMPFAIL || b == DNS_STUB_TEMPFAIL) ? DNS_STUB_TEMPFAIL
                                                                         : DNS_STUB_NODATA;
    }
    ((dns_stub_addr_cb)q->cb)(q->arg, &r);
}

static void complete_txt(struct stub_q *q)
{
    struct dns_stub_txt_result r = {q->status[0], (const char *const *)q->txt, q->txtlen, q->ntxt};
    ((dns_stub_txt_cb)q->cb)(q->arg, &r);
}

static void complete_rr(struct stub_q *q)
{
    struct dns_stub_rr_result r = {q->status[0], q->status[0] == DNS_STUB_OK && q->ad, q->rrs,
                                   q->nrr};
    ((dns_stub_rr_cb)q->cb)(q->arg, &r);
}

static void complete(struct stub_q *q)
{
    q_unlink(q);
    if (q->kind == Q_RR)
        complete_rr(q);
    else if (q->kind == Q_MX)
        complete_mx(q);
    else if (q->kind == Q_ADDR)
        complete_addr(q);
    else
        complete_txt(q);
    q->io[0] = q->io[1] = NULL; /* finished: nothing to cancel */
    q->rreq[0] = q->rreq[1] = NULL;
    q_free(q);
}

static void on_io(void *vs, enum dns_io_status st, const uint8_t *resp, size_t len)
{
    struct io_slot *slot = vs;
    struct stub_q *q = slot->q;
    int i = slot->slot;
    uint16_t qtype = slot->qtype;
    q->io[i] = NULL;
    if (st != DNS_IO_OK) {
        q->status[i] = DNS_STUB_TEMPFAIL;
    } else {
        rr_fn fn = q->kind == Q_MX     ? take_mx
                   : q->kind == Q_ADDR ? take_addr
                   : q->kind == Q_RR   ? take_rr
                                       : take_txt;
        q->status[i] = read_answer(resp, len, q->qname, qtype, fn, q);
    }
    if (--q->pending == 0)
        complete(q);
}

/* The in-process resolver's reply (len 0: no reply). */
static void on_res(void *vs, const uint8_t *resp, size_t len)
{
    struct io_slot *slot = vs;
    slot->q->rreq[slot->slot] = NULL;
    on_io(vs, len ? DNS_IO_OK : DNS_IO_NETWORK, resp, len);
}

static void ask(struct stub_q *q, int i, uint16_t qtype)
{
    uint8_t pkt[512];
    /* AD=1 on every query: a validating resolver then says whether it validated the answer
     * (RFC 6840 §5.7), which DANE needs for the MX and TLSA records (RFC 7672 §2.2). */
    size_t n = build_query(q->qname, qtype, true, pkt, sizeof pkt);
    struct io_slot *slot = &q->slots[i];
    *slot = (struct io_slot){q, i, qtype};
    q->pending++;
    q->nq++;
    if (q->stub->res) {
        q->rreq[i] = dns_resolver_query_packet(q->stub->res, pkt, n, on_res, slot);
        return;
    }
    const struct dns_io_ops *io = &q->stub->io;
    q->io[i] = io->start(io->ctx, q->stub->base, (struct sockaddr *)&q->stub->server,
                         q->stub->slen, pkt, n, &q->stub->params, on_io, slot);
}

static void fail_later(evutil_socket_t fd, short what, void *vq)
{
    struct stub_q *q = vq;
    q->status[0] = q->status[1] = DNS_STUB_BADNAME;
    q->pending = -1;
    complete(q);
}

/* Parses the name; on failure the callback reports DNS_STUB_BADNAME from the loop. */
static bool q_name(struct stub_q *q)
{
    size_t len;
    const char *why;
    size_t tl = strlen(q->name);
    if (tl && q->name[tl - 1] != '.' && tl + 1 < sizeof q->name) {
        q->name[tl] = '.'; /* names from mail are absolute */
        q->name[tl + 1] = '\0';
    }
    bool ok = dns_name_from_text(q->name, strlen(q->name), NULL, q->qname, &len, &why) == 0;
    q->name[tl] = '\0';
    if (!ok)
        event_base_once(q->stub->base, -1, EV_TIMEOUT, fail_later, q, NULL);
    return ok;
}

void dns_stub_mx(struct dns_stub *s, const char *domain, dns_stub_mx_cb cb, void *arg)
{
    struct stub_q *q = q_new(s, Q_MX, domain, (void *)cb, arg);
    if (q_name(q))
        ask(q, 0, DNS_TYPE_MX);
}

void dns_stub_addr(struct dns_stub *s, const char *name, enum dns_stub_family fam,
                   dns_stub_addr_cb cb, void *arg)
{
    struct stub_q *q = q_new(s, Q_ADDR, name, (void *)cb, arg);
    if (!q_name(q))
        return;
    /* Both families at once; A first in the result, as most mail hosts are IPv4-reachable. */
    if (fam & DNS_STUB_INET)
        ask(q, 0, DNS_TYPE_A);
    if (fam & DNS_STUB_INET6)
        ask(q, q->nq, DNS_TYPE_AAAA);
}

void dns_stub_txt(struct dns_stub *s, const char *name, dns_stub_txt_cb cb, void *arg)
{
    struct stub_q *q = q_new(s, Q_TXT, name, (void *)cb, arg);
    if (q_name(q))
        ask(q, 0, DNS_TYPE_TXT);
}

void dns_stub_rr(struct dns_stub *s, const char *name, uint16_t type, dns_stub_rr_cb cb,
                 void *arg)
{
    struct stub_q *q = q_new(s, Q_RR, name, (void *)cb, arg);
    q->rrtype = type;
    if (q_name(q))
        ask(q, 0, type);
}

void dns_stub_ptr(struct dns_stub *s, const struct sockaddr *sa, dns_stub_txt_cb cb, void *arg)
{
    char name[128] = "";
    size_t n = 0;
    if (sa->sa_family == AF_INET) {
        const uint8_t *b = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
        snprintf(name, sizeof name, "%u.%u.%u.%u.in-addr.arpa", b[3], b[2], b[1], b[0]);
    } else if (sa->sa_family == AF_INET6) {
        const uint8_t *b = (const uint8_t *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
        for (int i = 15; i >= 0; i--)
            n += (size_t)snprintf(name + n, sizeof name - n, "%x.%x.", b[i] & 15, b[i] >> 4);
        snprintf(name + n, sizeof name - n, "ip6.arpa");
    }
    struct stub_q *q = q_new(s, Q_TXT, name, (void *)cb, arg);
    if (q_name(q))
        ask(q, 0, DNS_TYPE_PTR);
}
