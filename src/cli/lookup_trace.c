/*
 * lookup_trace — `pigeon lookup NAME [TYPE] +trace [+hints=FILE] [+noqmin]`: the iterative
 * walk from the root hints down to the answer, done by Pigeon's own resolver in this process
 * and printed step by step like `dig +trace`: for each server asked, the question sent (QNAME
 * minimisation shows), the records it answered or referred with, its address and the time.
 * Root hints: +hints=FILE, else [resolver] root_hints of the configuration, else the built-in
 * copy. Blocks until the walk ends (at most the resolver's 10-second limit).
 *
 * `pigeon lookup DOMAIN +mail [+hints=FILE]` shows the MX hosts the outbound queue would
 * try, through the same stub API (stub.h) over this process's resolver: sorted by
 * preference, the RFC 5321 §5.1 fallback to the domain itself, null MX (RFC 7505).
 */
#include "cli/cli.h"

#include "dns/name.h"
#include "dns/print.h"
#include "dns/resolver/resolver.h"
#include "dns/resolver/scrub.h"
#include "dns/resolver/stub.h"
#include "dns/rr.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <stdio.h>
#include <string.h>

struct trace_ctx {
    struct event_base *base;
    int rc;
};

static const char *verdict_name(const struct dns_scrub *sc)
{
    static const char *const names[] = {"?",      "answer",   "CNAME", "NXDOMAIN",
                                        "NODATA", "referral", "lame",  "error"};
    return sc && sc->kind <= DNS_SCRUB_ERROR ? names[sc->kind] : "unusable";
}

static void print_section(const struct dns_msg *m, int sec, struct str *out)
{
    for (uint16_t i = 0; i < m->count[sec]; i++) {
        const struct dns_rr *rr = &m->rr[sec][i];
        dns_print_rr(rr->owner, rr->type, rr->rclass, rr->ttl, rr->rdata, rr->rdlen, out);
        str_appendc(out, '\n');
    }
}

static void on_step(void *arg, const struct dns_resolver_trace *t)
{
    char addr[INET6_ADDRSTRLEN] = "?", ns[DNS_NAME_TEXT_MAX] = "?", qn[DNS_NAME_TEXT_MAX],
         zone[DNS_NAME_TEXT_MAX], tb[16];
    const void *a = t->server->sa_family == AF_INET6
                        ? (const void *)&((const struct sockaddr_in6 *)t->server)->sin6_addr
                        : (const void *)&((const struct sockaddr_in *)t->server)->sin_addr;
    inet_ntop(t->server->sa_family, a, addr, sizeof addr);
    if (t->ns_name)
        dns_name_to_text(t->ns_name, ns, sizeof ns);
    dns_name_to_text(t->qname, qn, sizeof qn);
    dns_name_to_text(t->zone, zone, sizeof zone);
    struct str out = STR_INIT;
    str_appendf(&out, ";; zone %s: asking %s#53(%s) for %s %s\n", zone, addr, ns, qn,
                dns_type_name(t->qtype, tb));
    if (t->msg) {
        for (int sec = 0; sec < 3; sec++)
            print_section(t->msg, sec, &out);
        str_appendf(&out, ";; Received %zu bytes from %s#53(%s) in %u ms: %s\n\n", t->len, addr, ns,
                    t->rtt_ms, verdict_name(t->verdict));
    } else {
        str_appendf(&out, ";; no usable reply from %s#53(%s) after %u ms\n\n", addr, ns, t->rtt_ms);
    }
    fputs(str_cstr(&out), stdout);
    str_clear(&out);
}

static void on_done(void *arg, const uint8_t *resp, size_t len)
{
    struct trace_ctx *tc = arg;
    unsigned char mem[8192];
    struct dns_arena a;
    dns_arena_init(&a, mem, sizeof mem);
    struct dns_msg m;
    if (len && dns_msg_parse(resp, len, &m, &a) == 0) {
        struct str out = STR_INIT;
        str_appends(&out, ";; the resolver's reply:\n");
        dns_print_msg(&m, &out);
        fputs(str_cstr(&out), stdout);
        str_clear(&out);
        tc->rc = m.rcode == DNS_RCODE_SERVFAIL ? CLI_FAIL : CLI_OK;
    } else {
        tc->rc = cli_fail("no reply from the resolver");
    }
    dns_arena_clear(&a);
    event_base_loopexit(tc->base, NULL);
}

static int load_hints(struct cli_ctx *ctx, const char *path, struct dns_hints *h)
{
    if (!path && ctx->conf_path && cli_ctx_config(ctx) == 0)
        path = ctx->cfg.resolver.root_hints;
    if (!path) {
        dns_hints_builtin(h);
        return 0;
    }
    struct str err = STR_INIT;
    int rc = dns_hints_load(path, h, &err);
    if (rc < 0)
        cli_fail("%s", str_cstr(&err));
    str_clear(&err);
    return rc < 0 ? CLI_FAIL : 0;
}

int cli_lookup_trace(struct cli_ctx *ctx, const uint8_t *qname, uint16_t qtype,
                     const char *hints_path, bool qmin)
{
    struct dns_hints hints = {0};
    if (load_hints(ctx, hints_path, &hints) != 0) {
        dns_hints_clear(&hints);
        return CLI_FAIL;
    }
    struct dns_resolver_config rc;
    dns_resolver_config_defaults(&rc);
    rc.qname_minimisation = qmin;
    struct dns_cache_config cc = {4u << 20, 0, 86400, 3600, 0};
    struct dns_resolver_shared *sh = dns_resolver_shared_new(&rc, &cc, &hints);
    struct trace_ctx tc = {event_base_new(), CLI_FAIL};
    struct dns_resolver *r = dns_resolver_new(tc.base, sh);
    dns_resolver_set_trace(r, on_step, &tc);
    uint8_t pkt[DNS_NAME_MAXLEN + 64];
    struct dns_header h = {.id = 1, .rd = true, .qdcount = 1};
    struct dns_builder b;
    dns_builder_init(&b, pkt, sizeof pkt, sizeof pkt, &h);
    dns_builder_question(&b, qname, qtype, DNS_CLASS_IN);
    size_t n = dns_builder_finish(&b);
    dns_resolver_query_packet(r, pkt, n, on_done, &tc);
    event_base_dispatch(tc.base);
    dns_resolver_free(r);
    dns_resolver_shared_free(sh);
    event_base_free(tc.base);
    return tc.rc;
}

/* ---- +mail: the MX hosts as the outbound queue sees them (stub.h over this resolver) ---- */

struct mail_ctx {
    struct event_base *base;
    int rc;
};

static const char *stub_status(enum dns_stub_status st)
{
    static const char *const names[] = {"ok", "NXDOMAIN", "no data", "temporary failure",
                                        "bad name"};
    return st <= DNS_STUB_BADNAME ? names[st] : "?";
}

static void on_mx(void *arg, const struct dns_stub_mx_result *r)
{
    struct mail_ctx *mc = arg;
    if (r->status != DNS_STUB_OK)
        printf("MX: %s\n", stub_status(r->status));
    else if (r->null_mx)
        printf("MX: null MX (RFC 7505): the domain accepts no mail\n");
    for (size_t i = 0; r->status == DNS_STUB_OK && i < r->n; i++)
        printf("MX %u %s%s\n", r->hosts[i].preference, r->hosts[i].host,
               r->implicit ? " (no MX: the domain itself, RFC 5321 §5.1)" : "");
    mc->rc = r->status == DNS_STUB_OK || r->status == DNS_STUB_NXDOMAIN ? CLI_OK : CLI_FAIL;
    event_base_loopexit(mc->base, NULL);
}

int cli_lookup_mail(struct cli_ctx *ctx, const char *domain, const char *hints_path)
{
    struct dns_hints hints = {0};
    if (load_hints(ctx, hints_path, &hints) != 0) {
        dns_hints_clear(&hints);
        return CLI_FAIL;
    }
    struct dns_resolver_config rc;
    dns_resolver_config_defaults(&rc);
    struct dns_cache_config cc = {4u << 20, 0, 86400, 3600, 0};
    struct dns_resolver_shared *sh = dns_resolver_shared_new(&rc, &cc, &hints);
    struct mail_ctx mc = {event_base_new(), CLI_FAIL};
    struct dns_resolver *r = dns_resolver_new(mc.base, sh);
    struct dns_stub *stub = dns_stub_new_internal(mc.base, r);
    dns_stub_mx(stub, domain, on_mx, &mc);
    event_base_dispatch(mc.base);
    dns_stub_free(stub);
    dns_resolver_free(r);
    dns_resolver_shared_free(sh);
    event_base_free(mc.base);
    return mc.rc;
}
