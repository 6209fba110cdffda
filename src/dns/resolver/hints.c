/* hints — see hints.h. Two passes over the records: NS names first, then their addresses. */
#include "dns/resolver/hints.h"

#include "core/err.h"
#include "core/xmalloc.h"
#include "dns/rr.h"
#include "dns/zonefile.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char builtin_hints[] =
    ". 3600000 NS A.ROOT-SERVERS.NET.\nA.ROOT-SERVERS.NET. 3600000 A 198.41.0.4\n"
    "A.ROOT-SERVERS.NET. 3600000 AAAA 2001:503:ba3e::2:30\n"
    ". 3600000 NS B.ROOT-SERVERS.NET.\nB.ROOT-SERVERS.NET. 3600000 A 170.247.170.2\n"
    "B.ROOT-SERVERS.NET. 3600000 AAAA 2801:1b8:10::b\n"
    ". 3600000 NS C.ROOT-SERVERS.NET.\nC.ROOT-SERVERS.NET. 3600000 A 192.33.4.12\n"
    "C.ROOT-SERVERS.NET. 3600000 AAAA 2001:500:2::c\n"
    ". 3600000 NS D.ROOT-SERVERS.NET.\nD.ROOT-SERVERS.NET. 3600000 A 199.7.91.13\n"
    "D.ROOT-SERVERS.NET. 3600000 AAAA 2001:500:2d::d\n"
    ". 3600000 NS E.ROOT-SERVERS.NET.\nE.ROOT-SERVERS.NET. 3600000 A 192.203.230.10\n"
    "E.ROOT-SERVERS.NET. 3600000 AAAA 2001:500:a8::e\n"
    ". 3600000 NS F.ROOT-SERVERS.NET.\nF.ROOT-SERVERS.NET. 3600000 A 192.5.5.241\n"
    "F.ROOT-SERVERS.NET. 3600000 AAAA 2001:500:2f::f\n"
    ". 3600000 NS G.ROOT-SERVERS.NET.\nG.ROOT-SERVERS.NET. 3600000 A 192.112.36.4\n"
    "G.ROOT-SERVERS.NET. 3600000 AAAA 2001:500:12::d0d\n"
    ". 3600000 NS H.ROOT-SERVERS.NET.\nH.ROOT-SERVERS.NET. 3600000 A 198.97.190.53\n"
    "H.ROOT-SERVERS.NET. 3600000 AAAA 2001:500:1::53\n"
    ". 3600000 NS I.ROOT-SERVERS.NET.\nI.ROOT-SERVERS.NET. 3600000 A 192.36.148.17\n"
    "I.ROOT-SERVERS.NET. 3600000 AAAA 2001:7fe::53\n"
    ". 3600000 NS J.ROOT-SERVERS.NET.\nJ.ROOT-SERVERS.NET. 3600000 A 192.58.128.30\n"
    "J.ROOT-SERVERS.NET. 3600000 AAAA 2001:503:c27::2:30\n"
    ". 3600000 NS K.ROOT-SERVERS.NET.\nK.ROOT-SERVERS.NET. 3600000 A 193.0.14.129\n"
    "K.ROOT-SERVERS.NET. 3600000 AAAA 2001:7fd::1\n"
    ". 3600000 NS L.ROOT-SERVERS.NET.\nL.ROOT-SERVERS.NET. 3600000 A 199.7.83.42\n"
    "L.ROOT-SERVERS.NET. 3600000 AAAA 2001:500:9f::42\n"
    ". 3600000 NS M.ROOT-SERVERS.NET.\nM.ROOT-SERVERS.NET. 3600000 A 202.12.27.33\n"
    "M.ROOT-SERVERS.NET. 3600000 AAAA 2001:dc3::35\n";

struct pass {
    struct dns_hints *h;
    int round; /* 0: NS names, 1: addresses */
};

static int add_ns(struct dns_hints *h, const uint8_t *name)
{
    for (unsigned i = 0; i < h->n; i++)
        if (dns_name_eq(h->servers[i].name, name))
            return 0;
    if (h->n >= 64)
        return ERR_LIMIT;
    h->servers = xrealloc(h->servers, (h->n + 1) * sizeof *h->servers);
    struct dns_hints_server *s = &h->servers[h->n++];
    memset(s, 0, sizeof *s);
    dns_name_copy(s->name, name);
    return 0;
}

static void add_addr(struct dns_hints_server *s, const struct dns_zonefile_rr *rr)
{
    if (s->naddr >= DNS_HINTS_MAX_ADDRS)
        return;
    struct sockaddr_storage *ss = &s->addr[s->naddr];
    memset(ss, 0, sizeof *ss);
    if (rr->type == DNS_TYPE_A && rr->rdlen == 4) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons(53);
        memcpy(&s4->sin_addr, rr->rdata, 4);
        s->addrlen[s->naddr++] = sizeof *s4;
    } else if (rr->type == DNS_TYPE_AAAA && rr->rdlen == 16) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(53);
        memcpy(&s6->sin6_addr, rr->rdata, 16);
        s->addrlen[s->naddr++] = sizeof *s6;
    }
}

static int on_rr(void *vctx, const struct dns_zonefile_rr *rr, const char **reason_out)
{
    struct pass *p = vctx;
    if (p->round == 0) {
        if (rr->type == DNS_TYPE_NS && dns_name_labels(rr->owner) == 0 &&
            add_ns(p->h, rr->rdata) < 0) {
            *reason_out = "too many root servers";
            return ERR_LIMIT;
        }
        return 0;
    }
    for (unsigned i = 0; i < p->h->n; i++)
        if (dns_name_eq(p->h->servers[i].name, rr->owner))
            add_addr(&p->h->servers[i], rr);
    return 0;
}

int dns_hints_parse(const char *text, size_t len, const char *fname, struct dns_hints *out,
                    struct str *err)
{
    static const uint8_t root[1] = {0};
    struct pass p = {out, 0};
    for (p.round = 0; p.round < 2; p.round++) {
        int rc = dns_zonefile_parse(text, len, fname, root, DNS_ZF_NO_INCLUDE, on_rr, &p, err);
        if (rc < 0)
            return rc;
    }
    unsigned k = 0;
    for (unsigned i = 0; i < out->n; i++)
        if (out->servers[i].naddr)
            out->servers[k++] = out->servers[i];
    out->n = k;
    if (k == 0) {
        str_appendf(err, "%s: no root server with an address", fname);
        return ERR_PARSE;
    }
    return 0;
}

int dns_hints_load(const char *path, struct dns_hints *out, struct str *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        str_appendf(err, "%s: cannot open root hints", path);
        return ERR_IO;
    }
    struct str text = STR_INIT;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        str_append(&text, buf, n);
    fclose(f);
    int rc = dns_hints_parse(text.ptr ? text.ptr : "", text.len, path, out, err);
    str_clear(&text);
    return rc;
}

void dns_hints_builtin(struct dns_hints *out)
{
    struct str err = STR_INIT;
    int rc = dns_hints_parse(builtin_hints, sizeof builtin_hints - 1, "(built-in)", out, &err);
    (void)rc;
    str_clear(&err);
}

void dns_hints_clear(struct dns_hints *h)
{
    free(h->servers);
    h->servers = NULL;
    h->n = 0;
}
