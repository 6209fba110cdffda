/*
 * dkim_key — the key record published at SELECTOR._domainkey.DOMAIN (RFC 6376 §3.6.1,
 * RFC 8463 §4 for k=ed25519).
 */
#include "mailauth/dkim.h"

#include "core/err.h"
#include "mailauth/taglist.h"
#include "msg/base64.h"

#include <string.h>

static int fail(const char **err_out, const char *why)
{
    *err_out = why;
    return ERR_PARSE;
}

/* True when the colon-separated list v holds item (white space around items allowed). */
static bool list_has(struct slice v, const char *item)
{
    size_t i = 0;
    while (i <= v.len) {
        size_t j = i;
        while (j < v.len && v.p[j] != ':')
            j++;
        if (slice_eq(slice_trim(slice_make(v.p + i, j - i)), item))
            return true;
        i = j + 1;
    }
    return false;
}

static int parse_p(struct slice v, struct dkim_key *k, const char **err_out)
{
    struct str t = STR_INIT;
    taglist_strip_ws(v, &t);
    int rc = 0;
    k->pub_len = 0;
    if (t.len > 0) { /* empty p=: revoked (§3.6.1) */
        unsigned char tmp[sizeof k->pub + 8];
        if (t.len / 4 * 3 + 3 > sizeof tmp || base64_decode(t.ptr, t.len, tmp, &k->pub_len) ||
            k->pub_len > sizeof k->pub || k->pub_len == 0)
            rc = fail(err_out, "bad p= value");
        else
            memcpy(k->pub, tmp, k->pub_len);
    }
    str_clear(&t);
    return rc;
}

int dkim_key_parse(const char *txt, size_t len, struct dkim_key *out, const char **err_out)
{
    memset(out, 0, sizeof *out);
    struct taglist tl;
    if (taglist_parse(txt, len, &tl, err_out))
        return ERR_PARSE;
    const struct taglist_tag *t = taglist_get(&tl, "v");
    if (t && (t != &tl.t[0] || !slice_eq(t->value, "DKIM1")))
        return fail(err_out, "bad v= in key record");
    t = taglist_get(&tl, "k");
    if (!t || slice_eq(t->value, "rsa"))
        out->alg = DKIM_RSA_SHA256;
    else if (slice_eq(t->value, "ed25519"))
        out->alg = DKIM_ED25519_SHA256;
    else
        return fail(err_out, "unknown key type");
    if ((t = taglist_get(&tl, "h")) && !list_has(t->value, "sha256"))
        return fail(err_out, "key does not allow sha256");
    if ((t = taglist_get(&tl, "s")) && !list_has(t->value, "*") && !list_has(t->value, "email"))
        return fail(err_out, "key is not for email");
    if ((t = taglist_get(&tl, "t"))) {
        out->testing = list_has(t->value, "y");
        out->strict = list_has(t->value, "s");
    }
    if (!(t = taglist_get(&tl, "p")))
        return fail(err_out, "key record without p=");
    return parse_p(t->value, out, err_out);
}
