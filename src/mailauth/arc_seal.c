/*
 * arc_seal — adding an ARC set to a message Pigeon forwards (RFC 8617 §5.1): the
 * ARC-Authentication-Results of our checks, an ARC-Message-Signature (DKIM's signature over
 * the same fields Pigeon signs as DKIM, relaxed/relaxed, without v= and with i= the
 * instance), and the ARC-Seal over every set of the chain (only the new one when the chain
 * failed, §5.1.2).
 */
#include "mailauth/arc.h"

#include "core/err.h"
#include "core/xmalloc.h"
#include "mailauth/crypto.h"
#include "mailauth/dkim_int.h"

#include <stdio.h>
#include <string.h>

/* Signs in with s's key; on success appends the field f, its folded base64 signature and
 * the final CRLF to out (b= is blanked whole when verified, so where it folds does not
 * matter). Frees f and in. 0 or ERR_IO. */
static int sign_field(const struct dkim_signer *s, struct str *f, struct str *in,
                      struct str *out)
{
    struct str sig = STR_INIT;
    int rc = mailauth_sign(s->pk, s->alg, in->ptr, in->len, &sig);
    if (rc == 0) {
        str_append(out, f->ptr, f->len);
        for (size_t i = 0; i < sig.len; i += 64) {
            if (i)
                str_append(out, "\r\n\t", 3);
            str_append(out, sig.ptr + i, sig.len - i < 64 ? sig.len - i : 64);
        }
        str_append(out, "\r\n", 2);
    }
    str_clear(f);
    str_clear(in);
    str_clear(&sig);
    return rc;
}

static const char *alg_name(enum dkim_alg a)
{
    return a == DKIM_ED25519_SHA256 ? "ed25519-sha256" : "rsa-sha256";
}

/* The common tags d=, s=, t= folded onto f. */
static void common_tags(const struct dkim_signer *s, int64_t now, struct str *f, size_t *col)
{
    char tmp[300];
    snprintf(tmp, sizeof tmp, " d=%s;", s->domain);
    dkim_fold_append(f, col, tmp);
    snprintf(tmp, sizeof tmp, " s=%s;", s->selector);
    dkim_fold_append(f, col, tmp);
    snprintf(tmp, sizeof tmp, " t=%lld;", (long long)now);
    dkim_fold_append(f, col, tmp);
}

/* The ARC-Message-Signature of instance inst over m: the whole field, signed, into out. */
static int make_ams(const struct dkim_signer *s, const struct mailauth_msg *m, unsigned inst,
                    int64_t now, struct str *out)
{
    char(*names)[80] = xcalloc(DKIM_MAX_H, sizeof *names);
    size_t nn = dkim_pick_names(m, names);
    unsigned char bh[32];
    size_t blen;
    dkim_body_hash(DKIM_CANON_RELAXED, m, false, 0, bh, &blen);
    struct str f = STR_INIT, in = STR_INIT;
    str_appendf(&f, "ARC-Message-Signature: i=%u; a=%s; c=relaxed/relaxed;", inst,
                alg_name(s->alg));
    size_t col = f.len;
    common_tags(s, now, &f, &col);
    char tmp[100];
    for (size_t i = 0; i < nn; i++) {
        snprintf(tmp, sizeof tmp, "%s%s%s", i == 0 ? " h=" : "", names[i], i + 1 < nn ? ":" : ";");
        dkim_fold_append(&f, &col, tmp);
    }
    struct str b = STR_INIT;
    str_appends(&b, " bh=");
    mailauth_b64_append(bh, 32, &b);
    str_appendc(&b, ';');
    dkim_fold_append(&f, &col, b.ptr);
    str_clear(&b);
    dkim_fold_append(&f, &col, " b=");
    dkim_header_input(DKIM_CANON_RELAXED, (const char(*)[80])names, nn, m, m->nf, f.ptr, f.len,
                      &in);
    free(names);
    return sign_field(s, &f, &in, out);
}

/*
 * The ARC-Seal of instance inst: prior is the relaxed canonical form of the earlier sets
 * (empty for cv=none and cv=fail), aar and ams the new set's fields.
 */
static int make_seal(const struct dkim_signer *s, unsigned inst, enum arc_cv cv, int64_t now,
                     const struct str *prior, const struct str *aar, const struct str *ams,
                     struct str *out)
{
    struct str f = STR_INIT, in = STR_INIT;
    str_appendf(&f, "ARC-Seal: i=%u; a=%s; cv=%s;", inst, alg_name(s->alg), arc_cv_name(cv));
    size_t col = f.len;
    common_tags(s, now, &f, &col);
    dkim_fold_append(&f, &col, " b=");
    str_append(&in, prior->ptr ? prior->ptr : "", prior->len);
    dkim_canon_header(DKIM_CANON_RELAXED, aar->ptr, aar->len, &in);
    dkim_canon_header(DKIM_CANON_RELAXED, ams->ptr, ams->len, &in);
    dkim_canon_header(DKIM_CANON_RELAXED, f.ptr, f.len, &in);
    in.len -= 2, in.ptr[in.len] = '\0'; /* the seal itself without its CRLF */
    return sign_field(s, &f, &in, out);
}

/* The earlier sets, canonicalised in order, for a seal that continues a passing chain. */
static void prior_sets(const struct mailauth_msg *m, const struct arc_chain *c, struct str *out)
{
    for (unsigned j = 0; j < c->n; j++) {
        const struct arc_set *s = &c->sets[j];
        dkim_canon_header(DKIM_CANON_RELAXED, m->f[s->aar].p, m->f[s->aar].len, out);
        dkim_canon_header(DKIM_CANON_RELAXED, m->f[s->ams].p, m->f[s->ams].len, out);
        dkim_canon_header(DKIM_CANON_RELAXED, m->f[s->as].p, m->f[s->as].len, out);
    }
}

/* The instance of the new set: one above the highest i= of any ARC field, 0 when the chain
 * may not be continued (50 sets, or its newest seal already failed it). */
static unsigned next_instance(const struct arc_chain *c)
{
    if (c->n == 0)
        return 1;
    return c->n >= ARC_MAX_SETS || c->ended ? 0 : c->n + 1;
}

int arc_seal(const struct dkim_signer *signer, const char *msg, size_t len, const char *results,
             enum arc_cv cv, int64_t now, struct str *out)
{
    struct mailauth_msg m;
    int rc = mailauth_msg_split(msg, len, &m);
    if (rc)
        return rc;
    struct arc_chain c;
    arc_chain_collect(&m, &c);
    unsigned inst = next_instance(&c);
    if (c.n == 0)
        cv = ARC_CV_NONE; /* §5.1.1: i=1 is always cv=none */
    else if (cv == ARC_CV_NONE)
        cv = ARC_CV_FAIL; /* a chain our verification did not see cannot pass */
    struct str aar = STR_INIT, ams = STR_INIT, prior = STR_INIT, seal = STR_INIT;
    rc = ERR_RANGE;
    if (inst > 0) {
        str_appendf(&aar, "ARC-Authentication-Results: i=%u; %s\r\n", inst, results);
        if (cv == ARC_CV_PASS)
            prior_sets(&m, &c, &prior);
        rc = make_ams(signer, &m, inst, now, &ams);
        if (rc == 0)
            rc = make_seal(signer, inst, cv, now, &prior, &aar, &ams, &seal);
    }
    if (rc == 0) {
        str_append(out, seal.ptr, seal.len);
        str_append(out, ams.ptr, ams.len);
        str_append(out, aar.ptr, aar.len);
    }
    str_clear(&aar);
    str_clear(&ams);
    str_clear(&prior);
    str_clear(&seal);
    arc_chain_clear(&c);
    mailauth_msg_clear(&m);
    return rc;
}
