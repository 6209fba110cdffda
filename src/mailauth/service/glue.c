/*
 * mailauth glue — DKIM signing on submission and DKIM/DMARC on the MX role (service.h), on
 * the engine in src/mailauth/ and the worker's DNS stub.
 */
#include "mailauth/service/service_int.h"

#include "core/err.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "mailauth/arc.h"
#include "mailauth/authres.h"
#include "mailauth/check.h"
#include "mailauth/dkim_rotate.h"
#include "mailauth/keystore.h"
#include "mailauth/requiretls.h"
#include "mailauth/service/dmarc_report.h"
#include "store/store.h"

#include <openssl/rand.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Seconds before a key that could not be loaded is tried again. */
#define SIGNER_RETRY 60

/* The key of domain/selector, or NULL (logged); made here when create and not on disk. */
static struct dkim_signer *load(const struct mailauth_glue *g, const char *domain,
                                const char *selector, bool create)
{
    struct dkim_signer *s = NULL;
    const char *why = NULL;
    if (dkim_keystore_load(g->cfg->key_dir, domain, selector, (enum dkim_alg)g->cfg->algorithm,
                           create, &s, &why))
        log_err("dkim: no signing key for %s: %s", domain, why);
    else
        log_info("dkim: signing mail of %s with selector %s", domain, selector);
    return s;
}

/* The signer of domain, loaded or made on first use, with the active selector of its list
 * (dkim_rotate.h). Called with g->mu held. */
static struct dkim_signer *signer_for(struct mailauth_glue *g, const char *domain)
{
    int64_t now = (int64_t)time(NULL);
    for (size_t i = 0; i < g->n; i++) {
        struct signer_entry *e = &g->e[i];
        if (strcmp(e->domain, domain) != 0)
            continue;
        if (!e->s && now >= e->retry_at) { /* a failed load is not for ever: a minute later */
            /* Only read: a key that could not be written is made again by the key thread
             * (keyprep.c) at its next round, never here on a worker's loop under g->mu. */
            e->s = load(g, domain, e->selector, false);
            e->retry_at = now + SIGNER_RETRY;
        }
        return e->s;
    }
    struct dkim_sels sels;
    const char *why = NULL;
    if (dkim_keystore_sels_load(g->cfg->key_dir, domain, g->cfg->selector, &sels, &why) != 0) {
        log_err("dkim: selectors of %s: %s (signing with %s)", domain, why, g->cfg->selector);
        dkim_sels_default(&sels, g->cfg->selector);
    }
    const char *sel = dkim_sels_active(&sels)->name;
    g->e = xrealloc(g->e, (g->n + 1) * sizeof *g->e);
    struct signer_entry *e = &g->e[g->n++];
    snprintf(e->domain, sizeof e->domain, "%s", domain);
    snprintf(e->selector, sizeof e->selector, "%s", sel);
    e->s = load(g, domain, sel, true);
    e->retry_at = now + SIGNER_RETRY;
    return e->s;
}

void mailauth_glue_follow(struct mailauth_glue *g, const char *domain, const char *selector)
{
    pthread_mutex_lock(&g->mu);
    for (size_t i = 0; i < g->n; i++) {
        struct signer_entry *e = &g->e[i];
        if (strcmp(e->domain, domain) != 0 || strcmp(e->selector, selector) == 0)
            continue;
        struct dkim_signer *s = load(g, domain, selector, true);
        if (!s)
            break; /* keep signing with the old key rather than not at all */
        g->old = xrealloc(g->old, (g->nold + 1) * sizeof *g->old);
        g->old[g->nold++] = e->s;
        e->s = s;
        snprintf(e->selector, sizeof e->selector, "%s", selector);
    }
    pthread_mutex_unlock(&g->mu);
}

struct dkim_signer *mailauth_glue_signer(struct mailauth_glue *g, const char *domain)
{
    pthread_mutex_lock(&g->mu);
    struct dkim_signer *s = signer_for(g, domain);
    pthread_mutex_unlock(&g->mu);
    return s;
}

bool mailauth_glue_sign(struct mailauth_glue *g, struct store *st, const char *msg, size_t len,
                        struct str *out)
{
    if (!g || !g->cfg->sign)
        return false;
    struct mailauth_msg m;
    char domain[254];
    if (mailauth_msg_split(msg, len, &m) != 0)
        return false;
    struct dkim_signer *s = NULL;
    if (dmarc_from_domain(&m, domain, sizeof domain) == 0 &&
        store_domain_exists(st, domain) == 1) /* else not a local domain's author */
        s = mailauth_glue_signer(g, domain);
    /* A signer is never freed before the state, so it is used outside the lock (EVP keys
     * may sign on several threads at once). The split is the signer's too: one pass over
     * the header. */
    size_t mark = out->len;
    bool ok = s && dkim_sign_msg(s, &m, (int64_t)time(NULL), out) == 0;
    mailauth_msg_clear(&m);
    if (!ok) {
        out->len = mark;
        return false;
    }
    str_append(out, msg, len); /* the signature on top */
    return true;
}

struct check_job {
    struct mailauth_glue *g;
    const char *msg;
    size_t len;
    struct mailauth_spf spf;
    char spf_result[16];
    char from[600], helo[256], ip[64];
    mailauth_glue_done cb;
    void *arg;
};

/* What the DMARC result does, with the reply for a refusal (RFC 7489 §10.3: a 5xx at end of
 * DATA, with the reason). */
static void verdict(const struct mailauth_glue *g, const struct mailauth_report *r, char *reject,
                    size_t cap, bool *refuse, bool *junk)
{
    bool enforce = g->cfg->dmarc_enforce && r->dmarc == DMARC_FAIL;
    *refuse = enforce && r->eval.disposition == DMARC_POLICY_REJECT;
    *junk = enforce && r->eval.disposition == DMARC_POLICY_QUARANTINE;
    if (*refuse)
        snprintf(reject, cap,
                 "550 5.7.1 Rejected by the DMARC policy of %s (not aligned with SPF or DKIM)",
                 r->from_domain);
}

static void check_done(void *arg, const struct mailauth_report *r)
{
    struct check_job *j = arg;
    struct str stored = STR_INIT;
    char reject[400];
    bool refuse, junk;
    verdict(j->g, r, reject, sizeof reject, &refuse, &junk);
    log_info("dkim: %zu signature(s)%s%s, dmarc %s for %s%s", r->dkim.n,
             r->dkim.n ? ", first " : "", r->dkim.n ? dkim_result_name(r->dkim.sig[0].result) : "",
             dmarc_result_name(r->dmarc), r->from_domain[0] ? r->from_domain : "(no From)",
             refuse ? ": rejected"
             : junk ? ": to Junk"
                    : "");
    if (j->g->drep->record) { /* what was done: nothing under dmarc_enforce = no */
        struct mailauth_report *done = xmalloc(sizeof *done);
        *done = *r;
        if (!j->g->cfg->dmarc_enforce)
            done->eval.disposition = DMARC_POLICY_NONE;
        mailauth_dmarc_record(j->g->data_dir, done, &j->spf, j->ip, (int64_t)time(NULL));
        free(done);
    }
    struct str results = STR_INIT;
    mailauth_authres_payload(j->g->hostname, &j->spf, r, &results);
    if (!refuse) {
        str_appends(&stored, "Authentication-Results: ");
        str_append(&stored, results.ptr, results.len);
        str_appends(&stored, "\r\n");
        if (mailauth_authres_strip(j->msg, j->len, j->g->hostname, &stored) == 0)
            str_append(&stored, j->msg, j->len);
    }
    struct mailauth_verdict v = {refuse ? reject : NULL, &stored, junk, &results,
                                 r->arc.temperror ? ARC_CV_FAIL : (int)r->arc.result};
    j->cb(j->arg, &v);
    str_clear(&stored);
    str_clear(&results);
    free(j);
}

/* Our Received-SPF is the first field when SPF ran; its first word is the result. */
static void spf_from_trace(const char *msg, size_t len, char *out, size_t cap)
{
    static const char name[] = "Received-SPF: ";
    out[0] = '\0';
    if (len < sizeof name || strncmp(msg, name, sizeof name - 1) != 0)
        return;
    size_t i = sizeof name - 1, k = 0;
    while (i < len && k + 1 < cap && msg[i] >= 'a' && msg[i] <= 'z')
        out[k++] = msg[i++];
    out[k] = '\0';
}

bool mailauth_glue_check(struct mailauth_glue *g, struct dns_stub *stub, const char *msg,
                         size_t len, const char *from, const char *helo, const char *ip,
                         mailauth_glue_done cb, void *arg)
{
    if (!g || !g->cfg->verify || !stub)
        return false;
    struct check_job *j = xcalloc(1, sizeof *j);
    j->g = g, j->cb = cb, j->arg = arg, j->msg = msg, j->len = len;
    snprintf(j->from, sizeof j->from, "%s", from);
    snprintf(j->helo, sizeof j->helo, "%s", helo);
    snprintf(j->ip, sizeof j->ip, "%s", ip ? ip : "");
    spf_from_trace(msg, len, j->spf_result, sizeof j->spf_result);
    j->spf = (struct mailauth_spf){j->spf_result[0] ? j->spf_result : NULL, j->from, j->helo};
    uint32_t rnd = 0;
    RAND_bytes((unsigned char *)&rnd, sizeof rnd);
    mailauth_check_start(stub, g->psl, msg, len, (int64_t)time(NULL), &j->spf,
                         (unsigned)(rnd % 100), g->arc ? g->arc->trusted : NULL, check_done, j);
    return true;
}

bool mailauth_glue_seal(struct mailauth_glue *g, const char *prefix, size_t plen,
                        const char *body, size_t blen, const struct str *results, int cv,
                        struct str *out)
{
    const char *domain = g && g->arc && g->arc->seal ? g->arc->domain : NULL;
    if (!domain)
        return false;
    struct dkim_signer *s = mailauth_glue_signer(g, domain);
    if (!s)
        return false;
    struct str copy = STR_INIT;
    str_append(&copy, prefix, plen);
    str_append(&copy, body, blen);
    size_t mark = out->len;
    int rc = arc_seal(s, copy.ptr, copy.len, results->ptr ? results->ptr : "",
                      (enum arc_cv)cv, (int64_t)time(NULL), out);
    str_clear(&copy);
    if (rc != 0) {
        out->len = mark;
        if (out->ptr)
            out->ptr[mark] = '\0';
        if (rc != ERR_RANGE)
            log_warn("arc: cannot seal a forwarded message: %s", err_str(rc));
        return false;
    }
    str_append(out, prefix, plen);
    return true;
}

unsigned mailauth_requiretls_flags(bool requiretls, const char *msg, size_t len)
{
    if (requiretls)
        return STORE_QF_REQUIRETLS;
    return requiretls_header_no(msg, len) ? STORE_QF_TLS_OPTIONAL : 0;
}
