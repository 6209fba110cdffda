/*
 * dmarc_report — the history of DMARC results and the daily aggregate reports (see
 * dmarc_report.h).
 */
#include "mailauth/service/dmarc_report.h"

#include "core/err.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "dns/resolver/stub.h"
#include "mailauth/dkim.h"
#include "mailauth/dmarc_agg.h"
#include "queue/history.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* The record of one message (dmarc_agg.h) from what the checks found. */
static void rec_of(const struct mailauth_report *r, const struct mailauth_spf *spf,
                   const char *ip, int64_t now, struct dmarc_agg_rec *o)
{
    memset(o, 0, sizeof *o);
    o->time = now;
    snprintf(o->source_ip, sizeof o->source_ip, "%s", ip ? ip : "");
    snprintf(o->header_from, sizeof o->header_from, "%s", r->from_domain);
    snprintf(o->policy_domain, sizeof o->policy_domain, "%s", r->policy_domain);
    const char *at = spf->mailfrom && spf->mailfrom[0] ? strrchr(spf->mailfrom, '@') : NULL;
    snprintf(o->envelope_from, sizeof o->envelope_from, "%s",
             at ? at + 1 : spf->helo ? spf->helo : "");
    ascii_lower(o->envelope_from, strlen(o->envelope_from));
    snprintf(o->spf_scope, sizeof o->spf_scope, "%s", at ? "mfrom" : "helo");
    snprintf(o->spf_result, sizeof o->spf_result, "%s", spf->result ? spf->result : "none");
    o->dkim_aligned = r->eval.dkim_aligned;
    o->spf_aligned = r->eval.spf_aligned;
    snprintf(o->disposition, sizeof o->disposition, "%s",
             r->dmarc == DMARC_PASS ? "pass" : dmarc_policy_name(r->eval.disposition));
    if (r->arc_override) {
        snprintf(o->reason, sizeof o->reason, "trusted_forwarder");
        snprintf(o->reason_comment, sizeof o->reason_comment, "ARC chain sealed by %s",
                 r->arc.trusted_by);
    } else if (r->dmarc == DMARC_FAIL && r->eval.disposition != r->eval.policy) {
        /* RFC 7489's pct= sampling; DMARCbis replaced pct= by the t= test mode */
        snprintf(o->reason, sizeof o->reason, "policy_test_mode");
        snprintf(o->reason_comment, sizeof o->reason_comment, "pct=%u", r->rec.pct);
    }
    o->p = r->rec.p;
    o->sp = r->rec.has_sp ? r->rec.sp : r->rec.p;
    o->adkim_strict = r->rec.adkim_strict;
    o->aspf_strict = r->rec.aspf_strict;
    snprintf(o->rua, sizeof o->rua, "%s", r->rec.rua);
    for (size_t i = 0; i < r->dkim.n && o->ndkim < DKIM_MAX_SIGS; i++) {
        const struct dkim_sig_result *s = &r->dkim.sig[i];
        if (!s->domain[0])
            continue;
        snprintf(o->dkim[o->ndkim].domain, sizeof o->dkim[0].domain, "%s", s->domain);
        snprintf(o->dkim[o->ndkim].selector, sizeof o->dkim[0].selector, "%s", s->selector);
        snprintf(o->dkim[o->ndkim].result, sizeof o->dkim[0].result, "%s",
                 dkim_result_name(s->result));
        o->ndkim++;
    }
}

void mailauth_dmarc_record(const char *data_dir, const struct mailauth_report *r,
                           const struct mailauth_spf *spf, const char *ip, int64_t now)
{
    if (!r->have_rec || (r->dmarc != DMARC_PASS && r->dmarc != DMARC_FAIL))
        return;
    struct dmarc_agg_rec *rec = xmalloc(sizeof *rec);
    rec_of(r, spf, ip, now, rec);
    struct str line = STR_INIT;
    dmarc_agg_rec_format(rec, &line);
    history_append(data_dir, "dmarc", now, line.ptr, line.len);
    str_clear(&line);
    free(rec);
}

void mailauth_dmarc_mark_sent(const char *data_dir, const char *day)
{
    history_mark_sent(data_dir, "dmarc", day);
}

bool mailauth_dmarc_was_sent(const char *data_dir, const char *day)
{
    return history_was_sent(data_dir, "dmarc", day);
}

/* ---- a day's reports ---- */

struct day {
    struct dmarc_agg_report *reps;
    size_t n;
};

static void day_clear(struct day *d)
{
    for (size_t i = 0; i < d->n; i++)
        dmarc_agg_report_clear(&d->reps[i]);
    free(d->reps);
}

struct day_load {
    const struct dmarc_run_params *p;
    struct day *d;
    struct dmarc_agg_rec r;
};

static void day_line(void *ctx, const char *line, size_t len)
{
    struct day_load *l = ctx;
    struct dmarc_agg_rec *r = &l->r;
    struct day *d = l->d;
    if (dmarc_agg_rec_parse(line, len, r) != 0)
        return; /* a line cut by a crash mid-write */
    if (l->p->only_domain && strcasecmp(l->p->only_domain, r->policy_domain) != 0)
        return;
    size_t i = 0;
    while (i < d->n && strcmp(d->reps[i].policy_domain, r->policy_domain) != 0)
        i++;
    if (i == d->n) {
        d->reps = xrealloc(d->reps, (d->n + 1) * sizeof *d->reps);
        dmarc_agg_report_init(&d->reps[d->n++], r->policy_domain);
    }
    dmarc_agg_report_add(&d->reps[i], r);
}

/* Reads the day's history into one report per policy domain. 0 or ERR_NOTFOUND. */
static int day_load(const struct dmarc_run_params *p, struct day *d)
{
    memset(d, 0, sizeof *d);
    struct day_load *l = xmalloc(sizeof *l);
    l->p = p, l->d = d;
    int rc = history_each(p->data_dir, "dmarc", p->day, day_line, l);
    free(l);
    return rc;
}

static void meta_of(const struct dmarc_run_params *p, struct dmarc_agg_meta *m)
{
    m->org_name = p->org_name;
    m->email = p->email;
    m->submitter = p->submitter;
    m->begin = history_day_start(p->day);
    m->end = m->begin + 86399;
}

int mailauth_dmarc_print(const struct dmarc_run_params *p, struct str *out)
{
    struct day d;
    if (day_load(p, &d) != 0)
        return ERR_NOTFOUND;
    struct dmarc_agg_meta m;
    meta_of(p, &m);
    for (size_t i = 0; i < d.n; i++)
        dmarc_agg_xml(&m, &d.reps[i], out);
    int n = (int)d.n;
    day_clear(&d);
    return n;
}

/* ---- mailing them ---- */

struct dest {
    struct send_run *run;
    size_t rep;
    struct dmarc_rua rua;
    bool ok; /* same organisation, or the destination consented */
};

struct send_run {
    struct dmarc_run_params p;
    struct day d;
    struct dest *dests;
    size_t n, pending, queued, skipped;
    bool in_start;
};

static void run_free(struct send_run *r)
{
    day_clear(&r->d);
    free(r->dests);
    free(r);
}

static void mail_one(struct send_run *r, const struct dest *ds, const struct str *gz)
{
    const struct dmarc_run_params *p = &r->p;
    struct dmarc_agg_meta m;
    meta_of(p, &m);
    const char *dom = r->d.reps[ds->rep].policy_domain;
    if (ds->rua.limit && gz->len > ds->rua.limit) { /* DMARCbis: a URI whose limit the report
                                                     * exceeds is not used */
        log_warn("dmarc: report for %s is over the %llu-byte limit of %s", dom,
                 (unsigned long long)ds->rua.limit, ds->rua.addr);
        r->skipped++;
        return;
    }
    struct str msg = STR_INIT, sig = STR_INIT;
    dmarc_agg_mail(&m, dom, p->email, ds->rua.addr, (const unsigned char *)gz->ptr, gz->len,
                   p->now, &msg);
    if (p->signer && dkim_sign(p->signer, msg.ptr, msg.len, p->now, &sig) == 0) {
        str_append(&sig, msg.ptr, msg.len);
        str_clear(&msg);
        msg = sig;
    } else {
        str_clear(&sig);
    }
    p->queue(p->ctx, p->email, ds->rua.addr, &msg);
    str_clear(&msg);
    r->queued++;
    log_info("dmarc: aggregate report for %s (%s) to %s", dom, p->day, ds->rua.addr);
}

static void finish(struct send_run *r)
{
    struct dmarc_agg_meta m;
    meta_of(&r->p, &m);
    for (size_t i = 0; i < r->d.n; i++) {
        struct str xml = STR_INIT, gz = STR_INIT;
        dmarc_agg_xml(&m, &r->d.reps[i], &xml);
        if (mailauth_gzip(xml.ptr, xml.len, &gz) == 0)
            for (size_t k = 0; k < r->n; k++)
                if (r->dests[k].rep == i) {
                    if (r->dests[k].ok)
                        mail_one(r, &r->dests[k], &gz);
                    else
                        r->skipped++;
                }
        str_clear(&xml);
        str_clear(&gz);
    }
    r->p.done(r->p.ctx, r->queued, r->skipped);
    run_free(r);
}

static void consent_done(void *arg, const struct dns_stub_txt_result *res)
{
    struct dest *ds = arg;
    struct send_run *r = ds->run;
    ds->ok = res->status == DNS_STUB_OK && dmarc_rua_consents(res->txt, res->len, res->n);
    if (!ds->ok)
        log_warn("dmarc: %s did not agree to receive reports for %s (RFC 7489 §7.1)",
                 ds->rua.domain, r->d.reps[ds->rep].policy_domain);
    if (--r->pending == 0 && !r->in_start)
        finish(r);
}

int mailauth_dmarc_send(const struct dmarc_run_params *p)
{
    struct send_run *r = xcalloc(1, sizeof *r);
    r->p = *p;
    if (day_load(p, &r->d) != 0) {
        free(r);
        return ERR_NOTFOUND;
    }
    r->dests = xcalloc(r->d.n * DMARC_RUA_MAX + 1, sizeof *r->dests);
    for (size_t i = 0; i < r->d.n; i++) {
        struct dmarc_rua rua[DMARC_RUA_MAX];
        size_t k = dmarc_rua_parse(r->d.reps[i].last.rua, rua, DMARC_RUA_MAX);
        for (size_t j = 0; j < k; j++)
            r->dests[r->n++] = (struct dest){r, i, rua[j], true};
    }
    r->in_start = true;
    r->pending = 1;
    for (size_t k = 0; k < r->n; k++) {
        struct dest *ds = &r->dests[k];
        char name[600];
        bool unusable;
        if (!dmarc_rua_external(p->psl, r->d.reps[ds->rep].policy_domain, ds->rua.domain, name,
                                sizeof name, &unusable)) {
            ds->ok = !unusable;
            continue;
        }
        r->pending++;
        dns_stub_txt(p->stub, name, consent_done, ds);
    }
    r->in_start = false;
    if (--r->pending == 0)
        finish(r);
    return 0;
}
