/*
 * verify — the DKIM verifier: the pure prepare/finish halves and the asynchronous driver that
 * looks up SELECTOR._domainkey.DOMAIN for every signature in parallel.
 */
#include "mailauth/verify.h"

#include "core/xmalloc.h"
#include "dns/resolver/stub.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lookup {
    struct dkim_verify *v;
    size_t i;
};

struct dkim_verify {
    struct mailauth_msg m;
    struct dkim_sig sigs[DKIM_MAX_SIGS];
    size_t fields[DKIM_MAX_SIGS];
    struct lookup lk[DKIM_MAX_SIGS];
    struct dkim_verify_result r;
    size_t pending;
    bool cancelled;
    dkim_verify_cb cb;
    void *arg;
};

static void result_from_sig(const struct dkim_sig *s, struct dkim_sig_result *o)
{
    o->alg = s->alg;
    snprintf(o->domain, sizeof o->domain, "%s", s->domain);
    snprintf(o->selector, sizeof o->selector, "%s", s->selector);
    snprintf(o->auid, sizeof o->auid, "%s", s->auid);
    snprintf(o->b_text, sizeof o->b_text, "%s", s->b_text);
}

void dkim_verify_prepare(const struct mailauth_msg *m, int64_t now,
                         struct dkim_verify_result *r, struct dkim_sig *sigs, size_t *fields)
{
    memset(r, 0, sizeof *r);
    for (size_t i = 0; i < m->nf && r->n < DKIM_MAX_SIGS; i++) {
        if (!mailauth_field_is(&m->f[i], "DKIM-Signature"))
            continue;
        struct dkim_sig_result *o = &r->sig[r->n];
        struct dkim_sig *s = &sigs[r->n];
        fields[r->n++] = i;
        struct slice v = mailauth_field_value(&m->f[i]);
        if (dkim_sig_parse(v.p, v.len, s, &o->why)) {
            o->result = DKIM_PERMERROR;
            continue;
        }
        result_from_sig(s, o);
        if (s->has_x && now > s->x) {
            o->result = DKIM_PERMERROR;
            o->why = "signature expired";
            continue;
        }
        enum dkim_result b = dkim_check_body(s, m, &o->why);
        o->result = b == DKIM_FAIL ? DKIM_FAIL : DKIM_NONE;
    }
}

void dkim_verify_finish(const struct mailauth_msg *m, const struct dkim_sig *sig, size_t field,
                        int status, const char *const *txt, const size_t *txt_len, size_t n,
                        struct dkim_sig_result *out)
{
    if (status == DNS_STUB_TEMPFAIL) {
        out->result = DKIM_TEMPERROR;
        out->why = "key look-up failed";
        return;
    }
    struct dkim_key key;
    const char *why = "no key record";
    size_t k = 0;
    for (; k < n; k++)
        if (dkim_key_parse(txt[k], txt_len[k], &key, &why) == 0)
            break;
    if (k == n) {
        out->result = DKIM_PERMERROR;
        out->why = why;
        return;
    }
    const char *body_why;
    enum dkim_result body = dkim_check_body(sig, m, &body_why);
    out->result = dkim_check_header(sig, m, field, &key, &out->why);
    if (out->result == DKIM_PASS && body == DKIM_POLICY) {
        out->result = DKIM_POLICY;
        out->why = body_why;
    }
}

static void finish_job(struct dkim_verify *v)
{
    v->cb(v->arg, &v->r);
    mailauth_msg_clear(&v->m);
    free(v);
}

static void key_done(void *arg, const struct dns_stub_txt_result *res)
{
    struct lookup *lk = arg;
    struct dkim_verify *v = lk->v;
    if (!v->cancelled)
        dkim_verify_finish(&v->m, &v->sigs[lk->i], v->fields[lk->i], (int)res->status, res->txt,
                           res->len, res->status == DNS_STUB_OK ? res->n : 0, &v->r.sig[lk->i]);
    if (--v->pending > 0)
        return;
    if (v->cancelled) {
        mailauth_msg_clear(&v->m);
        free(v);
        return;
    }
    finish_job(v);
}

struct dkim_verify *dkim_verify_start(struct dns_stub *stub, const char *msg, size_t len,
                                      int64_t now, dkim_verify_cb cb, void *arg)
{
    struct dkim_verify *v = xcalloc(1, sizeof *v);
    v->cb = cb, v->arg = arg;
    if (mailauth_msg_split(msg, len, &v->m) == 0)
        dkim_verify_prepare(&v->m, now, &v->r, v->sigs, v->fields);
    size_t want = 0;
    for (size_t i = 0; i < v->r.n; i++)
        want += v->r.sig[i].result == DKIM_NONE;
    if (want == 0) {
        finish_job(v);
        return NULL;
    }
    v->pending = want;
    for (size_t i = 0; i < v->r.n; i++) {
        if (v->r.sig[i].result != DKIM_NONE)
            continue;
        char name[600];
        snprintf(name, sizeof name, "%s._domainkey.%s", v->sigs[i].selector, v->sigs[i].domain);
        v->lk[i] = (struct lookup){v, i};
        dns_stub_txt(stub, name, key_done, &v->lk[i]);
    }
    return v;
}

void dkim_verify_cancel(struct dkim_verify *v)
{
    v->cancelled = true;
}
