/*
 * cmd_domain_check — `pigeon domain check DOMAIN [@SERVER[:PORT]]`: asks DNS (SERVER, else
 * [delivery] resolver, else /etc/resolv.conf) through the mail side's stub for every record
 * `pigeon domain records` prints (mailauth/service/records.h) and compares (mailrec_judge):
 * one line per RRset — ok, MISSING, WRONG (present but not this server's: another MX host,
 * another DKIM key, an old MTA-STS id, a TLSA digest that is not the certificate's), or
 * FAILED (no answer). An SPF, DMARC, TLS-RPT or SRV record that differs from Pigeon's
 * suggestion is the administrator's choice: "ok (own)". The optional records (MTA-STS,
 * TLS-RPT, TLSA, SRV) may be "missing" without failing; exit 1 when anything else is not ok.
 * No key or certificate is made here. Blocks on the network (seconds).
 */
#include "cli/cli.h"

#include "core/resolvconf.h"
#include "core/str.h"
#include "dns/resolver/stub.h"
#include "dns/rr.h"
#include "dns/zone.h"
#include "mailauth/mailrec.h"
#include "mailauth/service/records.h"

#include <event2/event.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct check_run;

struct check_one {
    struct check_run *run;
    const struct mailrec *r; /* the RRset's first record */
    size_t n;
    const char *state; /* NULL until answered */
    char what[120];
};

struct check_run {
    struct check_one *c;
    size_t n;
    int pending;
    bool failed;
};

static bool optional(const struct mailrec *r)
{
    return r->type == DNS_TYPE_TLSA || r->type == DNS_TYPE_SRV || !strcmp(r->what, "MTA-STS") ||
           !strcmp(r->what, "TLS-RPT");
}

/* The verdict for one RRset. */
static void judge(struct check_one *c, const struct dns_stub_rr_result *res)
{
    const struct mailrec *r = c->r;
    if (res->status == DNS_STUB_TEMPFAIL || res->status == DNS_STUB_BADNAME) {
        c->state = "FAILED";
        snprintf(c->what, sizeof c->what, "no answer");
        return;
    }
    struct dns_rdata *have = calloc(res->n ? res->n : 1, sizeof *have);
    for (size_t i = 0; i < res->n; i++)
        have[i] = (struct dns_rdata){res->rr[i].len, res->rr[i].data};
    enum mailrec_state st = mailrec_judge(r, c->n, have, res->n);
    free(have);
    bool admins = r->mode == MAILREC_IF_ABSENT || r->mode == MAILREC_TXT_PREFIX;
    if (st == MAILREC_OK)
        c->state = "ok";
    else if (st == MAILREC_DIFFERENT && admins && r->type != DNS_TYPE_MX)
        c->state = "ok", snprintf(c->what, sizeof c->what, "(own: differs from Pigeon's)");
    else if (st == MAILREC_MISSING && r->mode == MAILREC_WITHDRAW)
        c->state = "WRONG", snprintf(c->what, sizeof c->what, "a retired selector is published");
    else if (st == MAILREC_MISSING)
        c->state = optional(r) ? "missing" : "MISSING";
    else
        c->state = "WRONG", snprintf(c->what, sizeof c->what, "not this server's");
    if (res->ad)
        snprintf(c->what + strlen(c->what), sizeof c->what - strlen(c->what), "%s(validated)",
                 c->what[0] ? " " : "");
}

static void on_rr(void *arg, const struct dns_stub_rr_result *res)
{
    struct check_one *c = arg;
    judge(c, res);
    struct check_run *run = c->run;
    run->failed |= strcmp(c->state, "ok") != 0 && strcmp(c->state, "missing") != 0;
    run->pending--;
}

int cli_resolver_addr(struct cli_ctx *ctx, const char *arg, struct sockaddr_storage *ss,
                      socklen_t *len)
{
    char host[64] = "", port[8] = "53";
    const struct config_delivery *d = &ctx->cfg.delivery;
    if (arg) {
        const char *colon = strrchr(arg + 1, ':');
        snprintf(host, sizeof host, "%.*s", colon ? (int)(colon - arg - 1) : 63, arg + 1);
        if (colon)
            snprintf(port, sizeof port, "%s", colon + 1);
    } else if (d->resolver_set) {
        snprintf(host, sizeof host, "%s", d->resolver.host);
        snprintf(port, sizeof port, "%s", d->resolver.port);
    } else {
        char ns[1][64];
        if (resolvconf_nameservers(RESOLVCONF_PATH, ns, 1) == 1)
            snprintf(host, sizeof host, "%s", ns[0]);
    }
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    hints.ai_socktype = SOCK_DGRAM;
    if (getaddrinfo(host, port, &hints, &ai) != 0)
        return cli_fail("not a numeric address and port: %s:%s", host, port);
    memcpy(ss, ai->ai_addr, ai->ai_addrlen);
    *len = ai->ai_addrlen;
    freeaddrinfo(ai);
    return 0;
}

static void ask_all(const struct mailrec_set *set, struct check_run *run,
                    const struct sockaddr_storage *ss, socklen_t sl)
{
    struct event_base *base = event_base_new();
    struct dns_stub *stub = dns_stub_new_server(base, (const struct sockaddr *)ss, sl);
    for (size_t i = 0; i < set->n; i += mailrec_run(set, i)) {
        struct check_one *c = &run->c[run->n++];
        *c = (struct check_one){.run = run, .r = &set->r[i], .n = mailrec_run(set, i)};
        run->pending++;
        dns_stub_rr(stub, c->r->owner, c->r->type, on_rr, c);
    }
    event_base_dispatch(base);
    dns_stub_free(stub);
    event_base_free(base);
}

int cli_domain_check(struct cli_ctx *ctx, int argc, char **argv)
{
    char domain[256];
    if (cli_domain_name(argv[0], domain, sizeof domain) != 0 || cli_ctx_config(ctx) != 0)
        return CLI_FAIL;
    if (argc > 1 && argv[1][0] != '@')
        return cli_fail("the server is written @ADDRESS[:PORT]");
    struct sockaddr_storage ss;
    socklen_t sl = 0;
    if (cli_resolver_addr(ctx, argc > 1 ? argv[1] : NULL, &ss, &sl) != 0)
        return CLI_FAIL;
    struct mailrec_set set;
    const char *why = NULL;
    mailrec_set_init(&set);
    if (mailauth_records(&ctx->cfg, domain, false, true, &set, &why) != 0) {
        mailrec_set_clear(&set);
        return cli_fail("%s: %s (run pigeon domain records %s)", domain, why ? why : "?",
                        domain);
    }
    struct check_run run = {.c = calloc(set.n ? set.n : 1, sizeof *run.c)};
    ask_all(&set, &run, &ss, sl);
    for (size_t i = 0; i < run.n; i++) {
        const struct check_one *c = &run.c[i];
        printf("%-7s %-40s %-7s %s\n", c->r->what, c->r->owner, c->state ? c->state : "FAILED",
               c->what);
    }
    int pending = run.pending;
    bool failed = run.failed;
    free(run.c);
    mailrec_set_clear(&set);
    if (pending != 0)
        return cli_fail("%d look-up(s) never answered", pending);
    return failed ? CLI_FAIL : CLI_OK;
}
