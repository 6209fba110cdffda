/*
 * cmd_dmarc — `pigeon dmarc report` and `pigeon tlsrpt report`, both
 * `[--domain D] [--date YYYY-MM-DD] [--send | --received]`: the DMARC aggregate reports
 * (mailauth/service/dmarc_report.h) or the TLS-RPT reports (tlsrpt_report.h) of one day's
 * history printed (XML, JSON), or mailed: each report message is written into the store's
 * outgoing queue (blob + rows, as pigeond's committer does), where pigeond's queue runner
 * picks it up. Blocks on file I/O and DNS (the RFC 7489 §7.1 check, the _smtp._tls records,
 * over the configured resolver). With --received: the reports other organisations sent to
 * our rua= addresses, as pigeond kept them (store/reports.h), shown by mailauth/rua.h.
 */
#include "cli/cli.h"

#include "core/err.h"
#include "dns/resolver/stub.h"
#include "mailauth/keystore.h"
#include "mailauth/psl.h"
#include "mailauth/rua.h"
#include "mailauth/service/dmarc_report.h"
#include "queue/history.h"
#include "mailauth/service/service.h"
#include "mailauth/service/tlsrpt_report.h"
#include "store/reports.h"
#include "store/store.h"

#include <event2/event.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

struct cli_send {
    struct cli_ctx *ctx;
    struct store *st;
    int failed;
    bool done;
    size_t queued, skipped;
};

static void queue_one(void *arg, const char *from, const char *to, struct str *msg)
{
    struct cli_send *s = arg;
    const char *rcpts[1] = {to};
    struct store_msg m = {.sender = from, .body = msg->ptr, .body_len = msg->len,
                          .remote_rcpts = rcpts, .n_remote = 1,
                          .received_at = (int64_t)time(NULL)};
    const char *dir = s->ctx->cfg.data_dir;
    int rc = store_blob_write(dir, &m);
    if (rc == 0)
        rc = store_blobs_sync(dir);
    if (rc == 0)
        rc = store_commit_batch(s->st, &m, 1);
    if (rc != 0 || m.result != 0) {
        fprintf(stderr, "pigeon: the report to %s was not queued: %s\n", to,
                err_str(rc ? rc : m.result));
        s->failed++;
        return;
    }
    printf("queued %s to %s\n", m.id, to);
}

static void send_done(void *arg, size_t queued, size_t skipped)
{
    struct cli_send *s = arg;
    s->done = true;
    s->queued = queued;
    s->skipped = skipped;
}

/* The [dmarc_report] email's domain key (made when missing, as pigeond would), or NULL: the
 * reports then go unsigned, which is said. */
static struct dkim_signer *signer_of(const struct config *cfg, const char *email)
{
    const struct config_dkim *k = mailauth_config(cfg);
    const char *at = strrchr(email, '@');
    struct dkim_signer *s = NULL;
    const char *why = NULL;
    if (!at || dkim_keystore_load(k->key_dir, at + 1, k->selector, (enum dkim_alg)k->algorithm,
                                  true, &s, &why) != 0)
        fprintf(stderr, "pigeon: no DKIM key for %s: the reports go unsigned\n", at ? at + 1
                                                                                     : email);
    return s;
}

/* What differs between the two kinds of report. */
struct report_kind {
    const char *name; /* history folder */
    int (*print)(const struct dmarc_run_params *p, struct str *out);
    int (*send)(const struct dmarc_run_params *p);
};

static const struct report_kind dmarc_kind = {"dmarc", mailauth_dmarc_print, mailauth_dmarc_send};
static const struct report_kind tlsrpt_kind = {"tlsrpt", mailauth_tlsrpt_print,
                                               mailauth_tlsrpt_send};

static int send_all(struct cli_ctx *ctx, const struct report_kind *k, struct dmarc_run_params *p)
{
    struct cli_send s = {.ctx = ctx};
    struct sockaddr_storage ss;
    socklen_t sl = 0;
    if (cli_ctx_store(ctx, &s.st) != 0 || cli_resolver_addr(ctx, NULL, &ss, &sl) != 0)
        return CLI_FAIL;
    struct event_base *base = event_base_new();
    struct dns_stub *stub = dns_stub_new_server(base, (const struct sockaddr *)&ss, sl);
    struct dkim_signer *signer = signer_of(&ctx->cfg, p->email);
    p->stub = stub, p->signer = signer;
    p->queue = queue_one, p->done = send_done, p->ctx = &s;
    int rc = k->send(p);
    if (rc == 0 && !s.done)
        event_base_dispatch(base);
    dns_stub_free(stub);
    event_base_free(base);
    dkim_signer_free(signer);
    if (rc == ERR_NOTFOUND)
        return cli_fail("no %s history for %s", k->name, p->day);
    if (!s.done)
        return cli_fail("DNS look-ups never answered");
    history_mark_sent(ctx->cfg.data_dir, k->name, p->day);
    printf("%zu report(s) queued, %zu destination(s) skipped\n", s.queued, s.skipped);
    return s.failed ? CLI_FAIL : CLI_OK;
}

/* ---- reports received (pigeond keeps them: mailauth/service/rua_in.c) ---- */

struct shown {
    enum rua_kind kind;
    int64_t day_end; /* only reports whose period starts before it; 0: all */
    size_t n, bad;
};

static void show_one(void *arg, const struct store_report *r)
{
    struct shown *sh = arg;
    if (sh->day_end && r->begin >= sh->day_end)
        return;
    struct str out = STR_INIT;
    if (rua_show(sh->kind, r->data, strlen(r->data), &out) != 0) {
        sh->bad++;
        str_clear(&out);
        return;
    }
    char when[32];
    time_t t = (time_t)r->received_at;
    struct tm tm;
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", gmtime_r(&t, &tm));
    str_appendf(&out, "  received %s UTC in message %s\n\n", when, r->msg_id);
    fwrite(out.ptr, 1, out.len, stdout);
    str_clear(&out);
    sh->n++;
}

static int received_cmd(struct cli_ctx *ctx, const struct report_kind *k, const char *domain,
                        const struct tm *date)
{
    struct store *st;
    if (cli_ctx_store(ctx, &st) != 0)
        return CLI_FAIL;
    struct shown sh = {.kind = strcmp(k->name, "dmarc") == 0 ? RUA_DMARC : RUA_TLSRPT};
    int64_t since = 0;
    if (date) {
        struct tm tm = *date;
        since = (int64_t)timegm(&tm);
        sh.day_end = since + 86400;
    }
    int rc = store_report_list(st, k->name, domain, since, show_one, &sh);
    if (rc != 0)
        return cli_fail("the reports could not be read: %s", err_str(rc));
    if (sh.bad)
        fprintf(stderr, "pigeon: %zu stored report(s) could not be shown\n", sh.bad);
    if (sh.n == 0)
        return cli_fail("no %s report received%s%s", k->name, domain ? " for " : "",
                        domain ? domain : "");
    return CLI_OK;
}

static int report_cmd(struct cli_ctx *ctx, const struct report_kind *k, int argc, char **argv)
{
    const char *domain = NULL, *date = NULL;
    bool send = false, received = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--send") == 0)
            send = true;
        else if (strcmp(argv[i], "--received") == 0)
            received = true;
        else if (strcmp(argv[i], "--domain") == 0 && i + 1 < argc)
            domain = argv[++i];
        else if (strcmp(argv[i], "--date") == 0 && i + 1 < argc)
            date = argv[++i];
        else
            return cli_fail("unknown argument %s (see pigeon help dmarc)", argv[i]);
    }
    struct tm tm = {0};
    if (date && (strlen(date) != 10 || !strptime(date, "%Y-%m-%d", &tm)))
        return cli_fail("the date is written YYYY-MM-DD");
    if (send && received)
        return cli_fail("--send and --received do not go together");
    if (cli_ctx_config(ctx) != 0)
        return CLI_FAIL;
    if (received)
        return received_cmd(ctx, k, domain, date ? &tm : NULL);
    const struct config_dmarc_report *c = mailauth_dmarc_config(&ctx->cfg);
    char day[11];
    int64_t begin;
    history_day((int64_t)time(NULL) - 86400, day, &begin);
    const char *why = NULL;
    struct psl *psl = psl_load(mailauth_config(&ctx->cfg)->psl_file, &why);
    if (!psl)
        psl = psl_parse("", 0);
    struct dmarc_run_params p = {.data_dir = ctx->cfg.data_dir, .day = date ? date : day,
                                 .only_domain = domain, .psl = psl, .org_name = c->org_name,
                                 .email = c->email, .submitter = ctx->cfg.hostname,
                                 .now = (int64_t)time(NULL)};
    int rc;
    if (send) {
        rc = send_all(ctx, k, &p);
    } else {
        struct str out = STR_INIT;
        int n = k->print(&p, &out);
        fwrite(out.ptr ? out.ptr : "", 1, out.len, stdout);
        str_clear(&out);
        rc = n == ERR_NOTFOUND ? cli_fail("no %s history for %s", k->name, p.day)
             : n == 0          ? cli_fail("no report for %s on %s", domain ? domain : "any domain",
                                          p.day)
                               : CLI_OK;
    }
    psl_free(psl);
    return rc;
}

int cli_dmarc_report(struct cli_ctx *ctx, int argc, char **argv)
{
    return report_cmd(ctx, &dmarc_kind, argc, argv);
}

int cli_tlsrpt_report(struct cli_ctx *ctx, int argc, char **argv)
{
    return report_cmd(ctx, &tlsrpt_kind, argc, argv);
}
