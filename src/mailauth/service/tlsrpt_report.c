/* tlsrpt_report — a day's TLS-RPT reports printed or mailed (see tlsrpt_report.h). */
#include "mailauth/service/tlsrpt_report.h"

#include "core/err.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "dns/resolver/stub.h"
#include "mailauth/dkim.h"
#include "mailauth/report_mail.h"
#include "mailauth/tlsrpt.h"
#include "queue/history.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct tday {
    struct tlsrpt_report *reps;
    size_t n;
};

static void tday_clear(struct tday *d)
{
    for (size_t i = 0; i < d->n; i++)
        tlsrpt_report_clear(&d->reps[i]);
    free(d->reps);
}

struct tday_load {
    const struct dmarc_run_params *p;
    struct tday *d;
    struct tlsrpt_rec r;
};

static void tday_line(void *ctx, const char *line, size_t len)
{
    struct tday_load *l = ctx;
    struct tlsrpt_rec *r = &l->r;
    struct tday *d = l->d;
    if (tlsrpt_rec_parse(line, len, r) != 0)
        return;
    if (l->p->only_domain && strcasecmp(l->p->only_domain, r->domain) != 0)
        return;
    size_t i = 0;
    while (i < d->n && strcmp(d->reps[i].domain, r->domain) != 0)
        i++;
    if (i == d->n) {
        d->reps = xrealloc(d->reps, (d->n + 1) * sizeof *d->reps);
        tlsrpt_report_init(&d->reps[d->n++], r->domain);
    }
    tlsrpt_report_add(&d->reps[i], r);
}

static int tday_load(const struct dmarc_run_params *p, struct tday *d)
{
    memset(d, 0, sizeof *d);
    struct tday_load *l = xmalloc(sizeof *l);
    l->p = p, l->d = d;
    int rc = history_each(p->data_dir, "tlsrpt", p->day, tday_line, l);
    free(l);
    return rc;
}

static void meta_of(const struct dmarc_run_params *p, struct tlsrpt_meta *m,
                    struct str *contact)
{
    str_appendf(contact, "mailto:%s", p->email);
    m->org_name = p->org_name;
    m->contact = contact->ptr;
    m->submitter = p->submitter;
    m->begin = history_day_start(p->day);
    m->end = m->begin + 86399;
}

int mailauth_tlsrpt_print(const struct dmarc_run_params *p, struct str *out)
{
    struct tday d;
    if (tday_load(p, &d) != 0)
        return ERR_NOTFOUND;
    struct tlsrpt_meta m;
    struct str contact = STR_INIT;
    meta_of(p, &m, &contact);
    for (size_t i = 0; i < d.n; i++)
        tlsrpt_json(&m, &d.reps[i], out);
    int n = (int)d.n;
    tday_clear(&d);
    str_clear(&contact);
    return n;
}

/* ---- mailing ---- */

#define TLSRPT_RUA_MAX 4

struct tsend;

struct tdom {
    struct tsend *run;
    size_t rep;
};

struct tsend {
    struct dmarc_run_params p;
    struct tday d;
    struct tdom *doms;
    size_t pending, queued, skipped;
    bool in_start;
};

/* The report mail of one domain to addr (§5.3). */
static void mail_to(struct tsend *r, size_t i, const struct str *gz, const char *addr)
{
    const struct dmarc_run_params *p = &r->p;
    const char *dom = r->d.reps[i].domain;
    struct tlsrpt_meta m;
    struct str contact = STR_INIT, id = STR_INIT, file = STR_INIT, hdr = STR_INIT,
               text = STR_INIT, msg = STR_INIT, sig = STR_INIT;
    meta_of(p, &m, &contact);
    tlsrpt_report_id(&m, dom, &id);
    tlsrpt_filename(&m, dom, &file);
    str_appendf(&hdr, "TLS-Report-Domain: %s\r\nTLS-Report-Submitter: %s\r\n", dom,
                p->submitter);
    str_appendf(&text, "SMTP TLS report for %s from %s, %s (UTC).", dom, p->submitter, p->day);
    struct report_mail rm = {p->email, addr, dom, p->submitter, id.ptr, hdr.ptr,
                             "report; report-type=\"tlsrpt\"", text.ptr,
                             "application/tlsrpt+gzip", file.ptr,
                             (const unsigned char *)gz->ptr, gz->len, p->now};
    mailauth_report_mail(&rm, &msg);
    if (p->signer && dkim_sign(p->signer, msg.ptr, msg.len, p->now, &sig) == 0) {
        str_append(&sig, msg.ptr, msg.len); /* §5.3: the report is DKIM-signed */
        p->queue(p->ctx, p->email, addr, &sig);
    } else {
        p->queue(p->ctx, p->email, addr, &msg);
    }
    r->queued++;
    log_info("tlsrpt: report for %s (%s) to %s", dom, p->day, addr);
    str_clear(&contact), str_clear(&id), str_clear(&file), str_clear(&hdr);
    str_clear(&text), str_clear(&msg), str_clear(&sig);
}

static void finish(struct tsend *r)
{
    r->p.done(r->p.ctx, r->queued, r->skipped);
    tday_clear(&r->d);
    free(r->doms);
    free(r);
}

static void rua_done(void *arg, const struct dns_stub_txt_result *res)
{
    struct tdom *td = arg;
    struct tsend *r = td->run;
    char addr[TLSRPT_RUA_MAX][320];
    size_t k = res->status == DNS_STUB_OK
                   ? tlsrpt_rua_pick(res->txt, res->len, res->n, addr, TLSRPT_RUA_MAX)
                   : 0;
    if (k == 0) {
        r->skipped++; /* no _smtp._tls record: the domain asked for no reports */
    } else {
        struct tlsrpt_meta m;
        struct str contact = STR_INIT, json = STR_INIT, gz = STR_INIT;
        meta_of(&r->p, &m, &contact);
        tlsrpt_json(&m, &r->d.reps[td->rep], &json);
        if (mailauth_gzip(json.ptr, json.len, &gz) == 0)
            for (size_t i = 0; i < k; i++)
                mail_to(r, td->rep, &gz, addr[i]);
        str_clear(&contact), str_clear(&json), str_clear(&gz);
    }
    if (--r->pending == 0 && !r->in_start)
        finish(r);
}

int mailauth_tlsrpt_send(const struct dmarc_run_params *p)
{
    struct tsend *r = xcalloc(1, sizeof *r);
    r->p = *p;
    if (tday_load(p, &r->d) != 0) {
        free(r);
        return ERR_NOTFOUND;
    }
    r->doms = xcalloc(r->d.n + 1, sizeof *r->doms);
    r->in_start = true;
    r->pending = 1;
    for (size_t i = 0; i < r->d.n; i++) {
        char name[300];
        r->doms[i] = (struct tdom){r, i};
        snprintf(name, sizeof name, "_smtp._tls.%s", r->d.reps[i].domain);
        r->pending++;
        dns_stub_txt(p->stub, name, rua_done, &r->doms[i]);
    }
    r->in_start = false;
    if (--r->pending == 0)
        finish(r);
    return 0;
}
