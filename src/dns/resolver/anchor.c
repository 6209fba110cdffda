/* anchor — see anchor.h. */
#include "dns/resolver/anchor.h"

#include "core/err.h"
#include "core/xmalloc.h"
#include "dns/dnssec/dnssec.h"
#include "dns/name.h"
#include "dns/rr.h"
#include "dns/zonefile.h"

#include <stdlib.h>
#include <string.h>

static struct dns_anchor *anchor_for(struct dns_anchors *a, const uint8_t *name)
{
    for (size_t i = 0; i < a->n; i++)
        if (dns_name_eq(a->v[i].name, name))
            return &a->v[i];
    if (a->n >= DNS_ANCHORS_MAX)
        return NULL;
    a->v = xrealloc(a->v, (a->n + 1) * sizeof *a->v);
    struct dns_anchor *an = &a->v[a->n++];
    memset(an, 0, sizeof *an);
    dns_name_copy(an->name, name);
    dns_name_lower(an->name);
    return an;
}

static int add_ds(struct dns_anchor *an, const uint8_t *rd, size_t len, const char **why)
{
    struct dnssec_ds ds;
    if (dnssec_ds_parse(rd, len, &ds) < 0 || len > DNS_ANCHOR_DS_LEN) {
        *why = "bad DS record";
        return ERR_PARSE;
    }
    for (size_t i = 0; i < an->nds; i++)
        if (an->ds[i].len == len && memcmp(an->ds[i].data, rd, len) == 0)
            return 0;
    if (an->nds >= DNS_ANCHOR_DS_MAX) {
        *why = "too many trust anchors for one zone";
        return ERR_LIMIT;
    }
    memcpy(an->ds_buf[an->nds], rd, len);
    an->ds[an->nds] = (struct dns_rdata){(uint16_t)len, an->ds_buf[an->nds]};
    an->nds++;
    return 0;
}

static int on_rr(void *ctx, const struct dns_zonefile_rr *rr, const char **why)
{
    struct dns_anchors *a = ctx;
    if (rr->type != DNS_TYPE_DS && rr->type != DNS_TYPE_DNSKEY) {
        *why = "a trust anchor is a DS or DNSKEY record";
        return ERR_PARSE;
    }
    struct dns_anchor *an = anchor_for(a, rr->owner);
    if (!an) {
        *why = "too many zones with trust anchors";
        return ERR_LIMIT;
    }
    if (rr->type == DNS_TYPE_DS)
        return add_ds(an, rr->rdata, rr->rdlen, why);
    struct dnssec_dnskey k;
    if (dnssec_dnskey_parse(rr->rdata, rr->rdlen, &k) < 0) {
        *why = "bad DNSKEY record";
        return ERR_PARSE;
    }
    if (!(k.flags & DNSSEC_FLAG_ZONE) || (k.flags & DNSSEC_FLAG_REVOKE))
        return 0; /* not usable as an anchor (RFC 4034 §2.1.1, RFC 5011 §3) */
    uint8_t ds[4 + DNSSEC_DIGEST_MAX];
    size_t dslen;
    if (dnssec_ds_make(an->name, rr->rdata, rr->rdlen, DNSSEC_DIGEST_SHA256, ds, &dslen) < 0) {
        *why = "cannot digest the DNSKEY";
        return ERR_PARSE;
    }
    return add_ds(an, ds, dslen, why);
}

int dns_anchors_parse(struct dns_anchors *a, const char *text, size_t len, const char *fname,
                      struct str *err)
{
    static const uint8_t root[1] = {0};
    return dns_zonefile_parse(text, len, fname, root, DNS_ZF_NO_INCLUDE | DNS_ZF_TTL_OPTIONAL,
                              on_rr, a, err);
}

int dns_anchors_load(struct dns_anchors *a, const char *path, struct str *err)
{
    static const uint8_t root[1] = {0};
    return dns_zonefile_read(path, root, DNS_ZF_NO_INCLUDE | DNS_ZF_TTL_OPTIONAL, on_rr, a,
                             err);
}

/* The names of ntas, each to nta (or only checked). */
static int ntas_parse(const char *ntas, int (*nta)(void *ctx, const uint8_t *name), void *ctx,
                      struct str *err)
{
    char *copy = xstrdup(ntas ? ntas : ""), *save = NULL;
    int rc = 0;
    for (char *t = strtok_r(copy, " \t,", &save); t && rc == 0; t = strtok_r(NULL, " \t,", &save)) {
        uint8_t wire[DNS_NAME_MAXLEN];
        size_t wl;
        const char *why;
        if (dns_name_from_text(t, strlen(t), NULL, wire, &wl, &why) < 0) {
            str_appendf(err, "negative trust anchor '%s': %s", t, why);
            rc = ERR_PARSE;
        } else if (nta && (rc = nta(ctx, wire)) != 0) {
            str_appendf(err, "negative trust anchor '%s': %s", t, err_str(rc));
        }
    }
    free(copy);
    return rc;
}

int dns_anchors_load_config(struct dns_anchors *a, const char *path, const char *ntas,
                            int (*nta)(void *ctx, const uint8_t *name), void *ctx,
                            struct str *err)
{
    int rc = dns_anchors_load(a, path, err);
    if (rc == 0 && a->n == 0) {
        str_appendf(err, "%s: no DS or DNSKEY record", path);
        rc = ERR_PARSE;
    }
    if (rc == 0)
        rc = ntas_parse(ntas, nta, ctx, err);
    if (rc != 0)
        dns_anchors_clear(a);
    return rc;
}

const struct dns_anchor *dns_anchors_find(const struct dns_anchors *a, const uint8_t *name)
{
    const struct dns_anchor *best = NULL;
    for (size_t i = 0; i < a->n; i++)
        if (a->v[i].nds && dns_name_is_sub(name, a->v[i].name) &&
            (!best || dns_name_labels(a->v[i].name) > dns_name_labels(best->name)))
            best = &a->v[i];
    return best;
}

void dns_anchors_clear(struct dns_anchors *a)
{
    free(a->v);
    memset(a, 0, sizeof *a);
}
