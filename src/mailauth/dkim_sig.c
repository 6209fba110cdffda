/*
 * dkim_sig — the DKIM-Signature header field (RFC 6376 §3.5) parsed into struct dkim_sig.
 * Every limit of struct dkim_sig is checked here; anything over it is a permerror.
 */
#include "mailauth/dkim.h"

#include "mailauth/dkim_int.h"

#include "core/err.h"
#include "mailauth/taglist.h"
#include "msg/base64.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *dkim_result_name(enum dkim_result r)
{
    static const char *const names[] = {"none",    "pass",      "fail",     "policy",
                                        "neutral", "temperror", "permerror"};
    return names[r];
}

static int fail(const char **err_out, const char *why)
{
    *err_out = why;
    return ERR_PARSE;
}

int dkim_tag_b64(struct slice v, unsigned char *out, size_t cap, size_t *n)
{
    unsigned char tmp[DKIM_MAX_SIG_BYTES + 8];
    struct str t = STR_INIT;
    taglist_strip_ws(v, &t);
    int rc = ERR_PARSE;
    if (t.len > 0 && t.len / 4 * 3 + 3 <= sizeof tmp &&
        base64_decode(t.ptr, t.len, tmp, n) == 0 && *n <= cap) {
        memcpy(out, tmp, *n);
        rc = 0;
    }
    str_clear(&t);
    return rc;
}

int dkim_tag_name(struct slice v, char *out, size_t cap)
{
    if (v.len == 0 || v.len >= cap || memchr(v.p, ' ', v.len) || memchr(v.p, '\t', v.len) ||
        memchr(v.p, '\n', v.len))
        return ERR_PARSE;
    memcpy(out, v.p, v.len);
    out[v.len] = '\0';
    ascii_lower(out, v.len);
    return 0;
}

static int parse_canon(struct slice v, struct dkim_sig *s)
{
    const char *slash = memchr(v.p, '/', v.len);
    struct slice hc = slash ? slice_make(v.p, (size_t)(slash - v.p)) : v;
    struct slice bc = slash ? slice_make(slash + 1, v.len - hc.len - 1) : slice_cstr("simple");
    if (slice_eq(hc, "relaxed"))
        s->hcanon = DKIM_CANON_RELAXED;
    else if (!slice_eq(hc, "simple"))
        return ERR_PARSE;
    if (slice_eq(bc, "relaxed"))
        s->bcanon = DKIM_CANON_RELAXED;
    else if (!slice_eq(bc, "simple"))
        return ERR_PARSE;
    return 0;
}

/* h=: colon-separated names, folding white space allowed around them. */
static int parse_h(struct slice v, struct dkim_sig *s)
{
    size_t i = 0;
    s->nh = 0;
    while (i <= v.len) {
        size_t j = i;
        while (j < v.len && v.p[j] != ':')
            j++;
        struct slice name = slice_make(v.p + i, j - i);
        struct str t = STR_INIT;
        taglist_strip_ws(name, &t);
        int rc = s->nh == DKIM_MAX_H ? ERR_PARSE : dkim_tag_name(slice_make(t.ptr, t.len),
                                                               s->h[s->nh], sizeof s->h[0]);
        str_clear(&t);
        if (rc)
            return rc;
        s->nh++;
        i = j + 1;
    }
    return 0;
}

static int parse_num(struct slice v, unsigned long long max, unsigned long long *out)
{
    /* §3.5: at most 76 digits; more than fits a 64-bit value is refused here. */
    return slice_to_u64(v, max, out);
}

/* i=: [local-part] "@" domain, where domain is d= or below it (§3.5). */
static int parse_auid(struct slice v, struct dkim_sig *s)
{
    const char *at = v.len ? memrchr(v.p, '@', v.len) : NULL;
    if (!at || v.len >= sizeof s->auid)
        return ERR_PARSE;
    memcpy(s->auid, v.p, v.len);
    s->auid[v.len] = '\0';
    const char *dom = s->auid + (at - v.p) + 1;
    size_t dl = strlen(dom), ddl = strlen(s->domain);
    if (dl < ddl || strcasecmp(dom + dl - ddl, s->domain) != 0 ||
        (dl > ddl && dom[dl - ddl - 1] != '.'))
        return ERR_PARSE;
    return 0;
}

int dkim_tag_alg(struct slice v, enum dkim_alg *alg, const char **err_out)
{
    if (slice_eq(v, "rsa-sha256"))
        *alg = DKIM_RSA_SHA256;
    else if (slice_eq(v, "ed25519-sha256"))
        *alg = DKIM_ED25519_SHA256;
    else if (slice_eq(v, "rsa-sha1"))
        return fail(err_out, "rsa-sha1 is not accepted (RFC 8301)");
    else
        return fail(err_out, "unknown algorithm");
    return 0;
}

static int parse_required(const struct taglist *tl, bool arc, struct dkim_sig *s,
                          const char **err_out)
{
    const struct taglist_tag *v = taglist_get(tl, "v"), *a = taglist_get(tl, "a"),
                             *b = taglist_get(tl, "b"), *bh = taglist_get(tl, "bh"),
                             *d = taglist_get(tl, "d"), *h = taglist_get(tl, "h"),
                             *sel = taglist_get(tl, "s");
    if ((!v && !arc) || !a || !b || !bh || !d || !h || !sel)
        return fail(err_out, "missing required tag");
    if (!arc && !slice_eq(v->value, "1"))
        return fail(err_out, "unsupported version");
    if (dkim_tag_alg(a->value, &s->alg, err_out))
        return ERR_PARSE;
    if (dkim_tag_b64(b->value, s->b, sizeof s->b, &s->b_len))
        return fail(err_out, "bad b= value");
    struct str bt = STR_INIT;
    taglist_strip_ws(b->value, &bt);
    snprintf(s->b_text, sizeof s->b_text, "%.8s", bt.ptr);
    str_clear(&bt);
    if (dkim_tag_b64(bh->value, s->bh, sizeof s->bh, &s->bh_len) || s->bh_len != 32)
        return fail(err_out, "bad bh= value");
    if (dkim_tag_name(d->value, s->domain, sizeof s->domain) ||
        dkim_tag_name(sel->value, s->selector, sizeof s->selector))
        return fail(err_out, "bad d= or s= value");
    if (parse_h(h->value, s))
        return fail(err_out, "bad h= value");
    bool from = false;
    for (size_t i = 0; i < s->nh; i++) {
        from |= strcmp(s->h[i], "from") == 0;
        if (arc && strcmp(s->h[i], "arc-seal") == 0) /* RFC 8617 §4.1.2 */
            return fail(err_out, "ARC-Seal is signed by an ARC-Message-Signature");
    }
    if (!from)
        return fail(err_out, "From is not signed"); /* §5.4 */
    return 0;
}

static int parse_optional(const struct taglist *tl, bool arc, struct dkim_sig *s,
                          const char **err_out)
{
    const struct taglist_tag *t;
    unsigned long long n;
    if ((t = taglist_get(tl, "c")) && parse_canon(t->value, s))
        return fail(err_out, "bad c= value");
    if ((t = taglist_get(tl, "q")) && !slice_starts_ci(t->value, "dns/txt"))
        return fail(err_out, "unsupported q= method");
    /* In an ARC-Message-Signature i= is the instance (read by the caller), never an AUID. */
    if ((t = arc ? NULL : taglist_get(tl, "i"))
            ? parse_auid(t->value, s) != 0
            : (snprintf(s->auid, sizeof s->auid, "@%s", s->domain), 0))
        return fail(err_out, "i= is not within d=");
    if ((t = taglist_get(tl, "l"))) {
        if (parse_num(t->value, UINT64_MAX, &n))
            return fail(err_out, "bad l= value");
        s->has_l = true, s->l = n;
    }
    if ((t = taglist_get(tl, "t"))) {
        if (parse_num(t->value, INT64_MAX, &n))
            return fail(err_out, "bad t= value");
        s->has_t = true, s->t = (int64_t)n;
    }
    if ((t = taglist_get(tl, "x"))) {
        if (parse_num(t->value, INT64_MAX, &n))
            return fail(err_out, "bad x= value");
        s->has_x = true, s->x = (int64_t)n;
        if (s->has_t && s->x < s->t)
            return fail(err_out, "x= is before t="); /* §3.5 */
    }
    return 0;
}

int dkim_sig_parse_any(const char *value, size_t len, bool arc, struct dkim_sig *out,
                       unsigned *instance, const char **err_out)
{
    memset(out, 0, sizeof *out);
    struct taglist tl;
    if (taglist_parse(value, len, &tl, err_out))
        return ERR_PARSE;
    if (arc) {
        const struct taglist_tag *i = taglist_get(&tl, "i");
        unsigned long long n;
        if (!i || slice_to_u64(i->value, 50, &n) || n < 1) /* RFC 8617 §4.2.1: 1..50 */
            return fail(err_out, "bad or missing i= instance");
        *instance = (unsigned)n;
    }
    if (parse_required(&tl, arc, out, err_out))
        return ERR_PARSE;
    return parse_optional(&tl, arc, out, err_out);
}

int dkim_sig_parse(const char *value, size_t len, struct dkim_sig *out, const char **err_out)
{
    return dkim_sig_parse_any(value, len, false, out, NULL, err_out);
}
