/*
 * cmd_domain_check — `pigeon domain check DOMAIN [@SERVER[:PORT]]`: asks DNS (SERVER, else
 * [delivery] resolver, else /etc/resolv.conf) through the mail side's stub what is published
 * for DOMAIN and compares it with what `pigeon domain records` says it must be: the MX names
 * this server, an SPF record exists, the DKIM record holds this server's key, a DMARC record
 * parses. One line per record (ok / MISSING / WRONG); exit 1 when any is not ok. TLSA and SRV
 * are not checked (the stub has no query for them). Blocks on the network (seconds).
 */
#include "cli/cli.h"

#include "core/resolvconf.h"
#include "core/str.h"
#include "dns/resolver/stub.h"
#include "mailauth/check.h"
#include "mailauth/keystore.h"
#include "mailauth/service/service.h"

#include <event2/event.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

enum check_kind { CK_MX, CK_SPF, CK_DKIM, CK_DMARC, CK_N };

struct check_run {
    const char *hostname;
    char names[CK_N][300];
    struct dkim_key want_key; /* this server's DKIM key, as its record parses */
    const char *state[CK_N];  /* NULL until answered */
    char what[CK_N][300];
    int pending;
    int failed;
};

/* Keeps one answer; they are printed in a fixed order once all are in. */
static void report(struct check_run *r, enum check_kind k, const char *state, const char *what)
{
    r->state[k] = state;
    snprintf(r->what[k], sizeof r->what[k], "%s", what);
    r->failed |= strcmp(state, "ok") != 0;
    r->pending--;
}

static void print_all(const struct check_run *r)
{
    static const char *const kinds[] = {"MX", "SPF", "DKIM", "DMARC"};
    for (int k = 0; k < CK_N; k++)
        if (r->state[k])
            printf("%-6s %-40s %-7s %s\n", kinds[k], r->names[k], r->state[k], r->what[k]);
}

static void on_mx(void *arg, const struct dns_stub_mx_result *res)
{
    struct check_run *r = arg;
    for (size_t i = 0; res->status == DNS_STUB_OK && !res->implicit && i < res->n; i++)
        if (strcasecmp(res->hosts[i].host, r->hostname) == 0) {
            report(r, CK_MX, "ok", r->hostname);
            return;
        }
    report(r, CK_MX, res->status == DNS_STUB_TEMPFAIL ? "FAILED" : "MISSING",
           "no MX naming this server");
}

static void on_spf(void *arg, const struct dns_stub_txt_result *res)
{
    struct check_run *r = arg;
    for (size_t i = 0; res->status == DNS_STUB_OK && i < res->n; i++)
        if (strncasecmp(res->txt[i], "v=spf1", 6) == 0 &&
            (res->len[i] == 6 || res->txt[i][6] == ' ')) {
            report(r, CK_SPF, "ok", res->txt[i]);
            return;
        }
    report(r, CK_SPF, res->status == DNS_STUB_TEMPFAIL ? "FAILED" : "MISSING", "no v=spf1");
}

static void on_dkim(void *arg, const struct dns_stub_txt_result *res)
{
    struct check_run *r = arg;
    struct dkim_key k;
    const char *why = "no key record";
    for (size_t i = 0; res->status == DNS_STUB_OK && i < res->n; i++) {
        if (dkim_key_parse(res->txt[i], res->len[i], &k, &why) != 0)
            continue;
        bool same = k.alg == r->want_key.alg && k.pub_len == r->want_key.pub_len &&
                    memcmp(k.pub, r->want_key.pub, k.pub_len) == 0;
        report(r, CK_DKIM, same ? "ok" : "WRONG",
               same ? "this server's key" : "a different key than this server signs with");
        return;
    }
    report(r, CK_DKIM, res->status == DNS_STUB_TEMPFAIL ? "FAILED" : "MISSING", why);
}

static void on_dmarc(void *arg, const struct dns_stub_txt_result *res)
{
    struct check_run *r = arg;
    struct dmarc_record rec;
    if (res->status == DNS_STUB_OK && mailauth_dmarc_pick(res->txt, res->len, res->n, &rec))
        report(r, CK_DMARC, "ok", dmarc_policy_name(rec.p));
    else
        report(r, CK_DMARC, res->status == DNS_STUB_TEMPFAIL ? "FAILED" : "MISSING",
               "no single valid v=DMARC1 record");
}

/* "@host[:port]" or the configured resolver into ss. */
static int server_addr(struct cli_ctx *ctx, const char *arg, struct sockaddr_storage *ss,
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

/* This server's DKIM key for domain, parsed from its own record. */
static int own_key(struct cli_ctx *ctx, const char *domain, struct dkim_key *out)
{
    const struct config_dkim *k = mailauth_config(&ctx->cfg);
    struct dkim_signer *s;
    const char *why;
    if (dkim_keystore_load(k->key_dir, domain, k->selector, (enum dkim_alg)k->algorithm, false,
                           &s, &why) != 0)
        return cli_fail("no DKIM key for %s (%s): run pigeon domain records %s", domain, why,
                        domain);
    struct str rec = STR_INIT;
    dkim_signer_record(s, &rec);
    int rc = dkim_key_parse(rec.ptr, rec.len, out, &why);
    str_clear(&rec);
    dkim_signer_free(s);
    return rc == 0 ? 0 : cli_fail("own DKIM record does not parse: %s", why);
}

int cli_domain_check(struct cli_ctx *ctx, int argc, char **argv)
{
    char domain[256];
    if (cli_domain_name(argv[0], domain, sizeof domain) != 0 || cli_ctx_config(ctx) != 0)
        return CLI_FAIL;
    if (argc > 1 && argv[1][0] != '@')
        return cli_fail("the server is written @ADDRESS[:PORT]");
    struct check_run r = {.hostname = ctx->cfg.hostname, .pending = CK_N};
    struct sockaddr_storage ss;
    socklen_t sl = 0;
    if (own_key(ctx, domain, &r.want_key) != 0 ||
        server_addr(ctx, argc > 1 ? argv[1] : NULL, &ss, &sl) != 0)
        return CLI_FAIL;
    snprintf(r.names[CK_MX], sizeof r.names[0], "%s", domain);
    snprintf(r.names[CK_SPF], sizeof r.names[0], "%s", domain);
    snprintf(r.names[CK_DKIM], sizeof r.names[0], "%s._domainkey.%s", mailauth_config(&ctx->cfg)->selector,
             domain);
    snprintf(r.names[CK_DMARC], sizeof r.names[0], "_dmarc.%s", domain);
    struct event_base *base = event_base_new();
    struct dns_stub *stub = dns_stub_new_server(base, (struct sockaddr *)&ss, sl);
    dns_stub_mx(stub, domain, on_mx, &r);
    dns_stub_txt(stub, r.names[CK_SPF], on_spf, &r);
    dns_stub_txt(stub, r.names[CK_DKIM], on_dkim, &r);
    dns_stub_txt(stub, r.names[CK_DMARC], on_dmarc, &r);
    event_base_dispatch(base);
    dns_stub_free(stub);
    event_base_free(base);
    print_all(&r);
    if (r.pending != 0)
        return cli_fail("%d look-up(s) never answered", r.pending);
    return r.failed ? CLI_FAIL : CLI_OK;
}
