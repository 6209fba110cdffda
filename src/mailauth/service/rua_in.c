/*
 * rua_in — aggregate reports received for Pigeon's domains: a message whose recipients include
 * one of the report addresses Pigeon publishes (the mailto: URIs of [mail_dns] dmarc's rua=,
 * and of tlsrpt_rua, by default postmaster@DOMAIN) is searched for DMARC and TLS-RPT reports
 * (mailauth/rua.h); what parses becomes store rows written in the message's own commit
 * (store_msg.reports). The message itself is delivered as any other. Runs on the worker: the
 * parse is bounded by rua.h's limits (a report of 16 MiB at most, decompressed).
 */
#include "mailauth/service/service.h"

#include "core/log.h"
#include "core/xmalloc.h"
#include "mailauth/dmarc_agg.h"
#include "mailauth/rua.h"
#include "mailauth/taglist.h"
#include "store/reports.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct mailauth_reports {
    struct rua_report r[RUA_MAX_PER_MSG];
    struct store_report s[RUA_MAX_PER_MSG];
    size_t n;
};

/* True when addr is one of the mailto: URIs of a rua= value. */
static bool in_rua(const char *rua, const char *addr)
{
    struct dmarc_rua uris[8];
    size_t n = dmarc_rua_parse(rua, uris, 8);
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(uris[i].addr, addr) == 0)
            return true;
    return false;
}

/* addr ("local@domain", a local domain's) is a report address Pigeon publishes. */
static bool report_address(const struct config *cfg, const char *addr)
{
    const struct config_mail_dns *m = mailauth_dns_config(cfg);
    const char *at = strrchr(addr, '@');
    if (!at)
        return false;
    if (m->tlsrpt_rua ? in_rua(m->tlsrpt_rua, addr)
                      : (size_t)(at - addr) == 10 && strncasecmp(addr, "postmaster", 10) == 0)
        return true;
    struct taglist tl;
    const char *why;
    if (!m->dmarc || taglist_parse(m->dmarc, strlen(m->dmarc), &tl, &why) != 0)
        return false;
    const struct taglist_tag *rua = taglist_get(&tl, "rua");
    if (!rua)
        return false;
    char *v = slice_dup(rua->value);
    bool yes = in_rua(v, addr);
    free(v);
    return yes;
}

static void keep(struct mailauth_reports *out, unsigned long long id)
{
    for (size_t i = 0; i < out->n; i++) {
        const struct rua_report *r = &out->r[i];
        out->s[i] = (struct store_report){.kind = rua_kind_name(r->kind),
                                          .org = r->org,
                                          .report_id = r->report_id,
                                          .domain = r->domain,
                                          .begin = r->begin,
                                          .end = r->end,
                                          .data = r->json};
        log_info("mailauth " LOG_ID " %s report received from %s for %s (id %s)", LOG_IDV(id),
                 rua_kind_name(r->kind), r->org, r->domain, r->report_id);
    }
}

struct mailauth_reports *mailauth_glue_reports(const struct config *cfg, const char *const *rcpts,
                                               size_t nrcpt, const char *msg, size_t len,
                                               unsigned long long id)
{
    size_t i = 0;
    while (i < nrcpt && !report_address(cfg, rcpts[i]))
        i++;
    if (i == nrcpt)
        return NULL;
    struct mailauth_reports *out = xcalloc(1, sizeof *out);
    size_t refused = 0;
    const char *why = NULL;
    out->n = rua_parse_message(msg, len, out->r, RUA_MAX_PER_MSG, &refused, &why);
    if (refused)
        log_warn("mailauth " LOG_ID " a report to %s could not be read: %s (%zu part(s))",
                 LOG_IDV(id), rcpts[i], why ? why : "?", refused);
    if (out->n == 0) {
        free(out);
        return NULL;
    }
    keep(out, id);
    return out;
}

const struct store_report *mailauth_reports_rows(const struct mailauth_reports *r, size_t *n_out)
{
    *n_out = r ? r->n : 0;
    return r ? r->s : NULL;
}

void mailauth_reports_free(struct mailauth_reports *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        rua_report_clear(&r->r[i]);
    free(r);
}
