/*
 * dkim_check — verifying one DKIM signature against its key record (RFC 6376 §6.1.2-§6.1.3),
 * once the record has been looked up.
 */
#include "mailauth/dkim.h"

#include "mailauth/crypto.h"
#include "mailauth/dkim_int.h"
#include "mailauth/taglist.h"

#include <string.h>
#include <strings.h>

enum dkim_result dkim_check_body(const struct dkim_sig *sig, const struct mailauth_msg *m,
                                 const char **why)
{
    unsigned char h[32];
    size_t n;
    dkim_body_hash(sig->bcanon, m, sig->has_l, sig->l, h, &n);
    if (sig->has_l && sig->l > n) {
        *why = "l= is longer than the body";
        return DKIM_FAIL;
    }
    if (memcmp(h, sig->bh, 32) != 0) {
        *why = "body hash did not verify";
        return DKIM_FAIL;
    }
    if (sig->has_l && sig->l < n) {
        *why = "l= leaves part of the body unsigned";
        return DKIM_POLICY;
    }
    *why = NULL;
    return DKIM_PASS;
}

int dkim_blank_b(const struct mailauth_field *f, struct str *out)
{
    struct slice v = mailauth_field_value(f);
    struct taglist tl;
    const char *err;
    if (taglist_parse(v.p, v.len, &tl, &err))
        return -1;
    const struct taglist_tag *b = taglist_get(&tl, "b");
    if (!b)
        return -1;
    size_t head = (size_t)(v.p - f->p) + b->raw_start;
    str_append(out, f->p, head);
    size_t tail = (size_t)(v.p - f->p) + b->raw_end;
    str_append(out, f->p + tail, f->len - tail);
    return 0;
}

static bool strict_ok(const struct dkim_sig *sig)
{
    const char *at = strrchr(sig->auid, '@');
    return at && strcasecmp(at + 1, sig->domain) == 0;
}

enum dkim_result dkim_check_header(const struct dkim_sig *sig, const struct mailauth_msg *m,
                                   size_t sig_field, const struct dkim_key *key,
                                   const char **why)
{
    if (key->pub_len == 0) {
        *why = "key revoked";
        return DKIM_PERMERROR;
    }
    if (key->strict && !strict_ok(sig)) {
        *why = "key is t=s but i= is a subdomain of d=";
        return DKIM_PERMERROR;
    }
    EVP_PKEY *pk = mailauth_pubkey(key, sig->alg, why);
    if (!pk)
        return DKIM_PERMERROR;
    struct str raw = STR_INIT, in = STR_INIT;
    enum dkim_result r = DKIM_PERMERROR;
    *why = "signature field cannot be parsed";
    if (dkim_blank_b(&m->f[sig_field], &raw) == 0) {
        dkim_header_input(sig->hcanon, sig->h, sig->nh, m, sig_field, raw.ptr, raw.len, &in);
        bool ok = mailauth_verify(pk, sig->alg, in.ptr, in.len, sig->b, sig->b_len);
        r = ok ? DKIM_PASS : DKIM_FAIL;
        *why = ok ? NULL : "signature did not verify";
    }
    str_clear(&raw);
    str_clear(&in);
    EVP_PKEY_free(pk);
    return r;
}
