/*
 * arc — the ARC chain of a received message: its sets collected and checked for structure,
 * then the newest ARC-Message-Signature and every ARC-Seal verified (RFC 8617 §5.2).
 *
 * Hand-written on the DKIM pieces of src/mailauth/ (tag lists, canonicalisation, EVP): the
 * only Debian ARC library (OpenARC's libopenarc) is not packaged for Debian 12, and ARC is
 * DKIM's hashing over different field sets.
 */
#include "mailauth/arc.h"

#include "core/err.h"
#include "core/xmalloc.h"
#include "mailauth/crypto.h"
#include "mailauth/dkim_int.h"
#include "mailauth/taglist.h"

#include <stdio.h>
#include <string.h>

const char *arc_cv_name(enum arc_cv cv)
{
    static const char *const names[] = {"none", "pass", "fail"};
    return names[cv];
}

static int fail(const char **err_out, const char *why)
{
    *err_out = why;
    return ERR_PARSE;
}

int arc_seal_parse(const char *value, size_t len, struct arc_seal_sig *out, unsigned *instance,
                   const char **err_out)
{
    memset(out, 0, sizeof *out);
    struct taglist tl;
    if (taglist_parse(value, len, &tl, err_out))
        return ERR_PARSE;
    const struct taglist_tag *i = taglist_get(&tl, "i"), *a = taglist_get(&tl, "a"),
                             *b = taglist_get(&tl, "b"), *cv = taglist_get(&tl, "cv"),
                             *d = taglist_get(&tl, "d"), *s = taglist_get(&tl, "s");
    unsigned long long n;
    if (!i || !a || !b || !cv || !d || !s)
        return fail(err_out, "ARC-Seal lacks a required tag");
    if (taglist_get(&tl, "h")) /* §4.1.3 */
        return fail(err_out, "h= in an ARC-Seal");
    if (slice_to_u64(i->value, ARC_MAX_SETS, &n) || n < 1)
        return fail(err_out, "bad i= instance");
    *instance = (unsigned)n;
    if (slice_eq(cv->value, "none"))
        out->cv = ARC_CV_NONE;
    else if (slice_eq(cv->value, "pass"))
        out->cv = ARC_CV_PASS;
    else if (slice_eq(cv->value, "fail"))
        out->cv = ARC_CV_FAIL;
    else
        return fail(err_out, "bad cv= value");
    if (dkim_tag_alg(a->value, &out->alg, err_out))
        return ERR_PARSE;
    if (dkim_tag_b64(b->value, out->b, sizeof out->b, &out->b_len))
        return fail(err_out, "bad b= value");
    if (dkim_tag_name(d->value, out->domain, sizeof out->domain) ||
        dkim_tag_name(s->value, out->selector, sizeof out->selector))
        return fail(err_out, "bad d= or s= value");
    return 0;
}

/* The instance of an ARC-Authentication-Results value: "i=N;" first (§4.1.1). */
static int aar_instance(struct slice v, unsigned *instance)
{
    v = slice_trim(v);
    size_t k = 0;
    while (k < v.len && (v.p[k] == '\r' || v.p[k] == '\n' || v.p[k] == ' ' || v.p[k] == '\t'))
        k++;
    if (k + 2 > v.len || (v.p[k] != 'i' && v.p[k] != 'I'))
        return ERR_PARSE;
    k++;
    while (k < v.len && (v.p[k] == ' ' || v.p[k] == '\t'))
        k++;
    if (k >= v.len || v.p[k++] != '=')
        return ERR_PARSE;
    while (k < v.len && (v.p[k] == ' ' || v.p[k] == '\t'))
        k++;
    size_t start = k;
    while (k < v.len && v.p[k] >= '0' && v.p[k] <= '9')
        k++;
    unsigned long long n;
    if (slice_to_u64(slice_make(v.p + start, k - start), ARC_MAX_SETS, &n) || n < 1)
        return ERR_PARSE;
    while (k < v.len && (v.p[k] == ' ' || v.p[k] == '\t'))
        k++;
    if (k >= v.len || v.p[k] != ';')
        return ERR_PARSE;
    *instance = (unsigned)n;
    return 0;
}

enum arc_kind { ARC_AAR, ARC_AMS, ARC_AS };

/* Files field i of m into its set; false (with c->why) on a parse error or a duplicate. */
static bool file_field(const struct mailauth_msg *m, size_t i, enum arc_kind kind,
                       struct arc_chain *c, size_t (*seen)[3])
{
    struct slice v = mailauth_field_value(&m->f[i]);
    unsigned inst = 0;
    struct arc_set tmp;
    const char *why = "bad ARC-Authentication-Results instance";
    int rc = kind == ARC_AAR   ? aar_instance(v, &inst)
             : kind == ARC_AMS ? dkim_sig_parse_any(v.p, v.len, true, &tmp.ams_sig, &inst, &why)
                               : arc_seal_parse(v.p, v.len, &tmp.seal, &inst, &why);
    if (rc) {
        c->why = why;
        return false;
    }
    struct arc_set *s = &c->sets[inst - 1];
    if (seen[inst - 1][kind]++) {
        c->why = "two ARC fields of one kind with the same instance";
        return false;
    }
    if (kind == ARC_AAR)
        s->aar = i;
    else if (kind == ARC_AMS)
        s->ams = i, s->ams_sig = tmp.ams_sig;
    else
        s->as = i, s->seal = tmp.seal;
    if (inst > c->n)
        c->n = inst;
    return true;
}

/* §5.2 step 4: every instance complete, cv=none only at i=1. */
static void check_sets(struct arc_chain *c, size_t (*seen)[3])
{
    for (unsigned k = 0; k < c->n; k++) {
        if (!seen[k][ARC_AAR] || !seen[k][ARC_AMS] || !seen[k][ARC_AS]) {
            c->result = ARC_CV_FAIL;
            c->why = "an ARC set is incomplete";
            return;
        }
        enum arc_cv want = k == 0 ? ARC_CV_NONE : ARC_CV_PASS;
        if (c->sets[k].seal.cv != want && !(k + 1 == c->n && c->sets[k].seal.cv == ARC_CV_FAIL)) {
            c->result = ARC_CV_FAIL;
            c->why = "an ARC-Seal has the wrong cv=";
            return;
        }
    }
    if (c->sets[c->n - 1].seal.cv == ARC_CV_FAIL) { /* §5.2 step 2 */
        c->result = ARC_CV_FAIL;
        c->ended = true;
        c->why = "the newest ARC-Seal says cv=fail";
        return;
    }
    c->result = ARC_CV_PASS;
}

void arc_chain_collect(const struct mailauth_msg *m, struct arc_chain *out)
{
    memset(out, 0, sizeof *out);
    size_t(*seen)[3] = NULL;
    for (size_t i = 0; i < m->nf; i++) {
        enum arc_kind kind;
        if (mailauth_field_is(&m->f[i], "ARC-Authentication-Results"))
            kind = ARC_AAR;
        else if (mailauth_field_is(&m->f[i], "ARC-Message-Signature"))
            kind = ARC_AMS;
        else if (mailauth_field_is(&m->f[i], "ARC-Seal"))
            kind = ARC_AS;
        else
            continue;
        if (!out->sets) {
            out->sets = xcalloc(ARC_MAX_SETS, sizeof *out->sets);
            seen = xcalloc(ARC_MAX_SETS, sizeof *seen);
        }
        if (!file_field(m, i, kind, out, seen)) {
            out->result = ARC_CV_FAIL;
            free(seen);
            return;
        }
    }
    if (out->sets)
        check_sets(out, seen);
    free(seen);
}

void arc_chain_clear(struct arc_chain *c)
{
    free(c->sets);
    memset(c, 0, sizeof *c);
}

/* Appends f relaxed-canonicalised (RFC 8617 §5.1.1: ARC-Seal always uses relaxed). */
static void canon_field(const struct mailauth_field *f, struct str *out)
{
    dkim_canon_header(DKIM_CANON_RELAXED, f->p, f->len, out);
}

/* §5.1.1 / §5.2 step 6: the seal input of instance k: AAR, AMS, AS of every set 1..k in
 * order, the AS of k itself with b= empty and without its final CRLF. */
static int seal_input(const struct mailauth_msg *m, const struct arc_chain *c, unsigned k,
                      struct str *out)
{
    for (unsigned j = 0; j < k; j++) {
        const struct arc_set *s = &c->sets[j];
        canon_field(&m->f[s->aar], out);
        canon_field(&m->f[s->ams], out);
        if (j + 1 < k) {
            canon_field(&m->f[s->as], out);
            continue;
        }
        struct str blank = STR_INIT;
        int rc = dkim_blank_b(&m->f[s->as], &blank);
        if (rc == 0) {
            dkim_canon_header(DKIM_CANON_RELAXED, blank.ptr, blank.len, out);
            out->len -= 2, out->ptr[out->len] = '\0';
        }
        str_clear(&blank);
        return rc;
    }
    return 0;
}

/* The key of sel/dom as an EVP key for alg, or NULL with *why / *temp. */
static EVP_PKEY *key_for(arc_key_fn keys, void *ctx, const char *sel, const char *dom,
                         enum dkim_alg alg, bool *temp, const char **why)
{
    bool t = false;
    const struct dkim_key *k = keys(ctx, sel, dom, &t);
    if (!k) {
        *temp |= t;
        *why = t ? "key look-up failed" : "no key record";
        return NULL;
    }
    if (k->pub_len == 0) {
        *why = "key revoked";
        return NULL;
    }
    return mailauth_pubkey(k, alg, why);
}

static bool seal_ok(const struct mailauth_msg *m, const struct arc_chain *c, unsigned k,
                    arc_key_fn keys, void *ctx, bool *temp, const char **why)
{
    const struct arc_seal_sig *s = &c->sets[k - 1].seal;
    EVP_PKEY *pk = key_for(keys, ctx, s->selector, s->domain, s->alg, temp, why);
    if (!pk)
        return false;
    struct str in = STR_INIT;
    bool ok = seal_input(m, c, k, &in) == 0 &&
              mailauth_verify(pk, s->alg, in.ptr, in.len, s->b, s->b_len);
    EVP_PKEY_free(pk);
    str_clear(&in);
    if (!ok)
        *why = "an ARC-Seal did not verify";
    return ok;
}

enum arc_cv arc_chain_verify(const struct mailauth_msg *m, const struct arc_chain *c,
                             arc_key_fn keys, void *ctx, bool *temp, const char **why)
{
    *temp = false;
    if (c->result != ARC_CV_PASS) {
        *why = c->why;
        return c->result;
    }
    const struct arc_set *top = &c->sets[c->n - 1];
    const struct dkim_sig *ams = &top->ams_sig;
    const char *w = NULL;
    if (dkim_check_body(ams, m, &w) != DKIM_PASS) { /* §5.2 step 5; l= never passes */
        *why = "the newest ARC-Message-Signature's body hash did not verify";
        return ARC_CV_FAIL;
    }
    bool t = false;
    const struct dkim_key *k = keys(ctx, ams->selector, ams->domain, &t);
    if (!k) {
        *temp = t;
        *why = t ? "key look-up failed" : "no key record";
        return ARC_CV_FAIL;
    }
    if (dkim_check_header(ams, m, top->ams, k, &w) != DKIM_PASS) {
        *why = "the newest ARC-Message-Signature did not verify";
        return ARC_CV_FAIL;
    }
    for (unsigned i = c->n; i >= 1; i--) /* §5.2 step 6: newest first */
        if (!seal_ok(m, c, i, keys, ctx, temp, why))
            return ARC_CV_FAIL;
    *why = NULL;
    return ARC_CV_PASS;
}

bool arc_aar_dmarc_pass(struct slice v)
{
    size_t i = 0;
    while (i < v.len) { /* each ';'-separated resinfo: "dmarc=pass" at its start */
        size_t j = i;
        while (j < v.len && v.p[j] != ';')
            j++;
        struct slice r = slice_make(v.p + i, j - i);
        while (r.len && (r.p[0] == ' ' || r.p[0] == '\t' || r.p[0] == '\r' || r.p[0] == '\n'))
            r.p++, r.len--;
        if (slice_starts_ci(r, "dmarc=pass") &&
            (r.len == 10 || strchr(" \t\r\n(", r.p[10]) != NULL))
            return true;
        i = j + 1;
    }
    return false;
}
