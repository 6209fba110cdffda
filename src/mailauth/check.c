/*
 * check — DKIM and ARC verification and DMARC policy discovery in parallel, then the DMARC
 * verdict.
 */
#include "mailauth/check.h"

#include "core/xmalloc.h"
#include "dns/resolver/stub.h"
#include "mailauth/psl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mailauth_check {
    struct dns_stub *stub;
    const struct psl *psl;
    struct mailauth_report r;
    char spf_result[16], spf_domain[256];
    unsigned pct_roll;
    const char *org;   /* into r.from_domain */
    bool at_org;
    int pending;       /* DKIM and ARC verifiers + DMARC look-up still running */
    bool in_start, cancelled;
    mailauth_check_cb cb;
    void *arg;
};

bool mailauth_dmarc_pick(const char *const *txt, const size_t *len, size_t n,
                         struct dmarc_record *rec)
{
    size_t found = 0, which = 0;
    for (size_t i = 0; i < n; i++)
        if (len[i] >= 8 && strncmp(txt[i], "v=DMARC1", 8) == 0 &&
            (len[i] == 8 || txt[i][8] == ';' || txt[i][8] == ' ' || txt[i][8] == '\t'))
            found++, which = i;
    const char *why;
    return found == 1 && dmarc_record_parse(txt[which], len[which], rec, &why) == 0;
}

static void evaluate(struct mailauth_check *c)
{
    struct mailauth_report *r = &c->r;
    if (!r->from_domain[0]) {
        r->dmarc = DMARC_PERMERROR;
        return;
    }
    if (r->dmarc == DMARC_TEMPERROR)
        return;
    struct dmarc_input in = {r->from_domain, strcmp(c->spf_result, "pass") == 0, c->spf_domain,
                             &r->dkim, c->pct_roll};
    dmarc_evaluate(c->psl, r->have_rec ? &r->rec : NULL, c->at_org, &in, &r->eval);
    r->dmarc = r->eval.result;
    if (r->dmarc == DMARC_FAIL && r->arc.result == ARC_CV_PASS && r->arc.trusted_by[0]) {
        r->arc_override = true; /* RFC 8617 §7.2, DMARCbis "trusted_forwarder" */
        r->eval.disposition = DMARC_POLICY_NONE;
    }
}

static void step_done(struct mailauth_check *c)
{
    if (--c->pending > 0 || c->in_start)
        return;
    if (!c->cancelled) {
        evaluate(c);
        c->cb(c->arg, &c->r);
    }
    free(c);
}

static void dkim_done(void *arg, const struct dkim_verify_result *r)
{
    struct mailauth_check *c = arg;
    c->r.dkim = *r;
    step_done(c);
}

static void arc_done(void *arg, const struct arc_verify_result *r)
{
    struct mailauth_check *c = arg;
    c->r.arc = *r;
    step_done(c);
}

static void dmarc_query(struct mailauth_check *c, const char *domain);

static void dmarc_done(void *arg, const struct dns_stub_txt_result *res)
{
    struct mailauth_check *c = arg;
    if (res->status == DNS_STUB_TEMPFAIL) {
        c->r.dmarc = DMARC_TEMPERROR;
    } else if (res->status == DNS_STUB_OK &&
               mailauth_dmarc_pick(res->txt, res->len, res->n, &c->r.rec)) {
        c->r.have_rec = true;
        snprintf(c->r.policy_domain, sizeof c->r.policy_domain, "%s",
                 c->at_org ? c->org : c->r.from_domain);
    } else if (!c->at_org && c->org && strcmp(c->org, c->r.from_domain) != 0) {
        c->at_org = true; /* §6.6.3: then the organisational domain */
        dmarc_query(c, c->org);
        return;
    }
    step_done(c);
}

static void dmarc_query(struct mailauth_check *c, const char *domain)
{
    char name[300];
    snprintf(name, sizeof name, "_dmarc.%s", domain);
    dns_stub_txt(c->stub, name, dmarc_done, c);
}

/* The domain SPF vouched for: MAIL FROM's, or HELO's for the null reverse-path. */
static void spf_domain(const struct mailauth_spf *spf, char *out, size_t cap)
{
    const char *at = spf->mailfrom ? strrchr(spf->mailfrom, '@') : NULL;
    snprintf(out, cap, "%s", at ? at + 1 : spf->helo ? spf->helo : "");
    ascii_lower(out, strlen(out));
}

struct mailauth_check *mailauth_check_start(struct dns_stub *stub, const struct psl *psl,
                                            const char *msg, size_t len, int64_t now,
                                            const struct mailauth_spf *spf, unsigned pct_roll,
                                            const char *arc_trusted, mailauth_check_cb cb,
                                            void *arg)
{
    struct mailauth_check *c = xcalloc(1, sizeof *c);
    c->stub = stub, c->psl = psl, c->cb = cb, c->arg = arg, c->pct_roll = pct_roll;
    snprintf(c->spf_result, sizeof c->spf_result, "%s", spf->result ? spf->result : "none");
    spf_domain(spf, c->spf_domain, sizeof c->spf_domain);
    c->in_start = true;
    c->pending = 1;
    struct mailauth_msg m;
    if (mailauth_msg_split(msg, len, &m) == 0) {
        if (dmarc_from_domain(&m, c->r.from_domain, sizeof c->r.from_domain) != 0)
            c->r.from_domain[0] = '\0';
        mailauth_msg_clear(&m);
    }
    if (c->r.from_domain[0]) {
        c->org = psl_org_domain(psl, c->r.from_domain);
        c->pending++;
        dmarc_query(c, c->r.from_domain);
    }
    c->pending++;
    dkim_verify_start(stub, msg, len, now, dkim_done, c);
    c->pending++;
    arc_verify_start(stub, msg, len, arc_trusted, arc_done, c);
    c->in_start = false;
    if (c->pending == 1) { /* everything finished inside this call */
        step_done(c);
        return NULL;
    }
    c->pending--;
    return c;
}

void mailauth_check_cancel(struct mailauth_check *c)
{
    c->cancelled = true;
}
