/*
 * dmarc — RFC 7489 records (§6.3), the author domain (§6.6.1), alignment (§3.1) and the
 * policy decision (§6.6.2-§6.6.4).
 */
#include "mailauth/dmarc.h"

#include "core/err.h"
#include "mailauth/psl.h"
#include "mailauth/taglist.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *dmarc_result_name(enum dmarc_result r)
{
    static const char *const names[] = {"none", "pass", "fail", "temperror", "permerror"};
    return names[r];
}

const char *dmarc_policy_name(enum dmarc_policy p)
{
    static const char *const names[] = {"none", "quarantine", "reject"};
    return names[p];
}

static int fail(const char **err_out, const char *why)
{
    *err_out = why;
    return ERR_PARSE;
}

static int policy(struct slice v, enum dmarc_policy *out)
{
    if (slice_eq_ci(v, "none"))
        *out = DMARC_POLICY_NONE;
    else if (slice_eq_ci(v, "quarantine"))
        *out = DMARC_POLICY_QUARANTINE;
    else if (slice_eq_ci(v, "reject"))
        *out = DMARC_POLICY_REJECT;
    else
        return ERR_PARSE;
    return 0;
}

static int mode(const struct taglist *tl, const char *name, bool *strict)
{
    const struct taglist_tag *t = taglist_get(tl, name);
    if (!t)
        return 0;
    if (slice_eq_ci(t->value, "s"))
        *strict = true;
    else if (!slice_eq_ci(t->value, "r"))
        return ERR_PARSE;
    return 0;
}

int dmarc_record_parse(const char *txt, size_t len, struct dmarc_record *out,
                       const char **err_out)
{
    memset(out, 0, sizeof *out);
    out->pct = 100;
    struct taglist tl;
    if (taglist_parse(txt, len, &tl, err_out))
        return ERR_PARSE;
    if (tl.n == 0 || !slice_eq(tl.t[0].name, "v") || !slice_eq(tl.t[0].value, "DMARC1"))
        return fail(err_out, "not a DMARC1 record");
    const struct taglist_tag *t = taglist_get(&tl, "rua");
    if (t)
        snprintf(out->rua, sizeof out->rua, "%.*s", (int)t->value.len, t->value.p);
    if ((t = taglist_get(&tl, "p"))) {
        if (policy(t->value, &out->p))
            return fail(err_out, "bad p= value");
    } else if (!out->rua[0]) {
        return fail(err_out, "no p= tag");
    }
    if ((t = taglist_get(&tl, "sp"))) {
        if (policy(t->value, &out->sp))
            return fail(err_out, "bad sp= value");
        out->has_sp = true;
    }
    if (mode(&tl, "adkim", &out->adkim_strict) || mode(&tl, "aspf", &out->aspf_strict))
        return fail(err_out, "bad adkim= or aspf= value");
    unsigned long long pct;
    if ((t = taglist_get(&tl, "pct"))) {
        if (slice_to_u64(t->value, 100, &pct))
            return fail(err_out, "bad pct= value");
        out->pct = (unsigned)pct;
    }
    return 0;
}

/* The domain of the one address in value, or ERR_PARSE. Comments and quoted strings are
 * skipped; a ',' outside them means a second address. */
static int one_address_domain(struct slice v, char *out, size_t cap)
{
    const char *at = NULL, *end = NULL;
    int depth = 0;
    bool quoted = false, angle = false;
    for (size_t i = 0; i < v.len; i++) {
        char c = v.p[i];
        if (quoted) {
            if (c == '\\')
                i++;
            else if (c == '"')
                quoted = false;
        } else if (depth > 0) {
            depth += c == '(' ? 1 : c == ')' ? -1 : 0;
        } else if (c == '"') {
            quoted = true;
        } else if (c == '(') {
            depth = 1;
        } else if (c == ',') {
            return ERR_PARSE;
        } else if (c == '<') {
            angle = true, at = NULL, end = NULL;
        } else if (c == '@') {
            at = v.p + i, end = NULL;
        } else if (at && !end && (c == '>' || c == ' ' || c == '\t' || c == '\r' || c == '\n')) {
            end = v.p + i;
            if (c == '>' && angle)
                break;
        }
    }
    if (!at)
        return ERR_PARSE;
    if (!end)
        end = v.p + v.len;
    size_t n = (size_t)(end - at - 1);
    if (n == 0 || n >= cap)
        return ERR_PARSE;
    memcpy(out, at + 1, n);
    out[n] = '\0';
    if (out[n - 1] == '.')
        out[--n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (!(out[i] == '.' || out[i] == '-' || (out[i] >= '0' && out[i] <= '9') ||
              ((out[i] | 0x20) >= 'a' && (out[i] | 0x20) <= 'z')))
            return ERR_PARSE;
    ascii_lower(out, n);
    return 0;
}

int dmarc_from_domain(const struct mailauth_msg *m, char *out, size_t cap)
{
    const struct mailauth_field *from = NULL;
    for (size_t i = 0; i < m->nf; i++) {
        if (!mailauth_field_is(&m->f[i], "From"))
            continue;
        if (from)
            return ERR_PARSE; /* §6.6.1: several From fields */
        from = &m->f[i];
    }
    if (!from)
        return ERR_PARSE;
    return one_address_domain(mailauth_field_value(from), out, cap);
}

bool dmarc_aligned(const struct psl *psl, const char *a, const char *b, bool strict)
{
    if (!a || !b || !a[0] || !b[0])
        return false;
    if (strcasecmp(a, b) == 0)
        return true;
    if (strict)
        return false;
    const char *oa = psl_org_domain(psl, a), *ob = psl_org_domain(psl, b);
    return oa && ob && strcasecmp(oa, ob) == 0;
}

static enum dmarc_policy downgrade(enum dmarc_policy p)
{
    return p == DMARC_POLICY_REJECT ? DMARC_POLICY_QUARANTINE : DMARC_POLICY_NONE;
}

void dmarc_evaluate(const struct psl *psl, const struct dmarc_record *rec, bool at_org,
                    const struct dmarc_input *in, struct dmarc_eval *out)
{
    memset(out, 0, sizeof *out);
    if (!rec) {
        out->result = DMARC_NONE;
        return;
    }
    out->policy = at_org && rec->has_sp ? rec->sp : rec->p;
    out->spf_aligned =
        in->spf_pass && dmarc_aligned(psl, in->spf_domain, in->from_domain, rec->aspf_strict);
    for (size_t i = 0; in->dkim && i < in->dkim->n && !out->dkim_aligned; i++)
        out->dkim_aligned = in->dkim->sig[i].result == DKIM_PASS &&
                            dmarc_aligned(psl, in->dkim->sig[i].domain, in->from_domain,
                                          rec->adkim_strict);
    out->result = out->spf_aligned || out->dkim_aligned ? DMARC_PASS : DMARC_FAIL;
    out->disposition = DMARC_POLICY_NONE;
    if (out->result == DMARC_FAIL) /* §6.6.4: pct= samples the failing messages */
        out->disposition = in->pct_roll < rec->pct ? out->policy : downgrade(out->policy);
}
