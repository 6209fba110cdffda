/*
 * authres — RFC 8601 §2.2 syntax: "authserv-id; method=result [reason="..."] ptype.prop=value"
 * with one method per line, folded with CRLF TAB.
 */
#include "mailauth/authres.h"

#include <string.h>
#include <strings.h>

/* RFC 8601 pvalue: an address or domain as is; anything else in a quoted-string. */
static void pvalue(struct str *out, const char *v)
{
    bool plain = v[0] != '\0';
    for (const char *p = v; *p && plain; p++)
        plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                       ".!#$%&'*+/=?^_`{|}~@-",
                       *p) != NULL;
    if (plain) {
        str_appends(out, v);
        return;
    }
    str_appendc(out, '"');
    for (const char *p = v; *p; p++) {
        if (*p == '"' || *p == '\\')
            str_appendc(out, '\\');
        if ((unsigned char)*p >= 0x20)
            str_appendc(out, *p);
    }
    str_appendc(out, '"');
}

static void reason(struct str *out, const char *why)
{
    if (!why)
        return;
    str_appends(out, " reason=");
    pvalue(out, why);
}

static void dkim_entries(const struct dkim_verify_result *d, struct str *out)
{
    if (d->n == 0) {
        str_appends(out, ";\r\n\tdkim=none");
        return;
    }
    for (size_t i = 0; i < d->n; i++) {
        const struct dkim_sig_result *s = &d->sig[i];
        str_appendf(out, ";\r\n\tdkim=%s", dkim_result_name(s->result));
        reason(out, s->result == DKIM_PASS ? NULL : s->why);
        if (!s->domain[0])
            continue;
        str_appends(out, " header.d=");
        pvalue(out, s->domain);
        str_appends(out, " header.s=");
        pvalue(out, s->selector);
        str_appendf(out, " header.a=%s",
                    s->alg == DKIM_ED25519_SHA256 ? "ed25519-sha256" : "rsa-sha256");
        if (s->b_text[0]) { /* RFC 6008 */
            str_appends(out, " header.b=");
            pvalue(out, s->b_text);
        }
    }
}

/* RFC 8617 §10.1: "arc" with the chain's result; only when the message has ARC fields. */
static void arc_entry(const struct arc_verify_result *a, struct str *out)
{
    if (a->result == ARC_CV_NONE)
        return;
    str_appendf(out, ";\r\n\tarc=%s", a->temperror ? "temperror" : arc_cv_name(a->result));
    if (a->result == ARC_CV_FAIL)
        reason(out, a->why);
    else
        str_appendf(out, " (i=%u d=%s)", a->n, a->sealer);
}

void mailauth_authres_payload(const char *authserv_id, const struct mailauth_spf *spf,
                              const struct mailauth_report *r, struct str *out)
{
    str_appends(out, authserv_id);
    dkim_entries(&r->dkim, out);
    if (spf->result) {
        str_appendf(out, ";\r\n\tspf=%s", spf->result);
        if (spf->mailfrom && spf->mailfrom[0]) {
            str_appends(out, " smtp.mailfrom=");
            pvalue(out, spf->mailfrom);
        } else if (spf->helo && spf->helo[0]) {
            str_appends(out, " smtp.helo=");
            pvalue(out, spf->helo);
        }
    }
    arc_entry(&r->arc, out);
    str_appendf(out, ";\r\n\tdmarc=%s", dmarc_result_name(r->dmarc));
    if (r->have_rec && r->dmarc != DMARC_TEMPERROR)
        str_appendf(out, " (p=%s dis=%s%s%s)", dmarc_policy_name(r->eval.policy),
                    dmarc_policy_name(r->eval.disposition),
                    r->arc_override ? " arc-override=" : "",
                    r->arc_override ? r->arc.trusted_by : "");
    if (r->from_domain[0]) {
        str_appends(out, " header.from=");
        pvalue(out, r->from_domain);
    }
}

void mailauth_authres_write(const char *authserv_id, const struct mailauth_spf *spf,
                            const struct mailauth_report *r, struct str *out)
{
    str_appends(out, "Authentication-Results: ");
    mailauth_authres_payload(authserv_id, spf, r, out);
    str_appends(out, "\r\n");
}

/* True when the field's authserv-id (the first token of its value) is id. */
static bool names_us(const struct mailauth_field *f, const char *id)
{
    struct slice v = slice_trim(mailauth_field_value(f));
    size_t i = 0;
    while (i < v.len && v.p[i] != ';' && v.p[i] != ' ' && v.p[i] != '\t' && v.p[i] != '\r' &&
           v.p[i] != '\n')
        i++;
    return slice_eq_ci(slice_make(v.p, i), id);
}

size_t mailauth_authres_strip(const char *msg, size_t len, const char *authserv_id,
                              struct str *out)
{
    struct mailauth_msg m;
    if (mailauth_msg_split(msg, len, &m) != 0)
        return 0;
    size_t dropped = 0;
    for (size_t i = 0; i < m.nf; i++)
        dropped += mailauth_field_is(&m.f[i], "Authentication-Results") &&
                   names_us(&m.f[i], authserv_id);
    if (dropped) {
        const char *kept = msg; /* copy the runs between dropped fields */
        for (size_t i = 0; i < m.nf; i++) {
            if (!mailauth_field_is(&m.f[i], "Authentication-Results") ||
                !names_us(&m.f[i], authserv_id))
                continue;
            str_append(out, kept, (size_t)(m.f[i].p - kept));
            kept = m.f[i].p + m.f[i].len;
        }
        str_append(out, kept, (size_t)(msg + len - kept));
    }
    mailauth_msg_clear(&m);
    return dropped;
}
