/*
 * dmarc_agg — DMARC aggregate reports: the history line, rows, XML, rua= and the report mail.
 * The history line is Pigeon's own format (tab-separated, versioned by its first field "1").
 */
#include "mailauth/dmarc_agg.h"

#include "core/err.h"
#include "core/xmalloc.h"
#include "mailauth/histline.h"
#include "mailauth/psl.h"
#include "mailauth/report_mail.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- the history line ---- */


void dmarc_agg_rec_format(const struct dmarc_agg_rec *r, struct str *out)
{
    str_appendf(out, "1\t%lld", (long long)r->time);
    const char *const text[] = {r->source_ip,  r->header_from, r->policy_domain, r->envelope_from,
                                r->spf_scope,  r->spf_result,  r->disposition,   r->reason,
                                r->reason_comment, r->rua};
    for (size_t i = 0; i < sizeof text / sizeof text[0]; i++)
        histline_field(out, text[i]);
    str_appendf(out, "\t%d\t%d\t%d\t%d\t%d\t%d\t%zu", r->dkim_aligned, r->spf_aligned, (int)r->p,
                (int)r->sp, r->adkim_strict, r->aspf_strict, r->ndkim);
    for (size_t i = 0; i < r->ndkim; i++) {
        histline_field(out, r->dkim[i].domain);
        histline_field(out, r->dkim[i].selector);
        histline_field(out, r->dkim[i].result);
    }
    histline_end(out);
}

/* The next tab-separated field of line[*pos..len) copied into out[0..cap). */

int dmarc_agg_rec_parse(const char *line, size_t len, struct dmarc_agg_rec *r)
{
    memset(r, 0, sizeof *r);
    if (len && line[len - 1] == '\n')
        len--;
    size_t pos = 0;
    char ver[4];
    long long v[8];
    if (histline_take(line, len, &pos, ver, sizeof ver) || strcmp(ver, "1") != 0 ||
        histline_take_num(line, len, &pos, INT64_MAX, &v[0]))
        return ERR_PARSE;
    r->time = v[0];
    struct {
        char *p;
        size_t cap;
    } text[] = {{r->source_ip, sizeof r->source_ip},       {r->header_from, sizeof r->header_from},
                {r->policy_domain, sizeof r->policy_domain},
                {r->envelope_from, sizeof r->envelope_from}, {r->spf_scope, sizeof r->spf_scope},
                {r->spf_result, sizeof r->spf_result},     {r->disposition, sizeof r->disposition},
                {r->reason, sizeof r->reason}, {r->reason_comment, sizeof r->reason_comment},
                {r->rua, sizeof r->rua}};
    for (size_t i = 0; i < sizeof text / sizeof text[0]; i++)
        if (histline_take(line, len, &pos, text[i].p, text[i].cap))
            return ERR_PARSE;
    const long long max[7] = {1, 1, 2, 2, 1, 1, DKIM_MAX_SIGS};
    for (size_t i = 0; i < 7; i++)
        if (histline_take_num(line, len, &pos, max[i], &v[i]))
            return ERR_PARSE;
    r->dkim_aligned = v[0], r->spf_aligned = v[1];
    r->p = (enum dmarc_policy)v[2], r->sp = (enum dmarc_policy)v[3];
    r->adkim_strict = v[4], r->aspf_strict = v[5];
    r->ndkim = (size_t)v[6];
    for (size_t i = 0; i < r->ndkim; i++)
        if (histline_take(line, len, &pos, r->dkim[i].domain, sizeof r->dkim[i].domain) ||
            histline_take(line, len, &pos, r->dkim[i].selector, sizeof r->dkim[i].selector) ||
            histline_take(line, len, &pos, r->dkim[i].result, sizeof r->dkim[i].result))
            return ERR_PARSE;
    if (histline_take_end(line, len, &pos))
        return ERR_PARSE;
    return r->header_from[0] && r->policy_domain[0] ? 0 : ERR_PARSE;
}

/* ---- rows ---- */

void dmarc_agg_report_init(struct dmarc_agg_report *rep, const char *policy_domain)
{
    memset(rep, 0, sizeof *rep);
    snprintf(rep->policy_domain, sizeof rep->policy_domain, "%s", policy_domain);
}

/* Two records are one row when everything but the time and the published policy is equal. */
static bool same_row(const struct dmarc_agg_rec *a, const struct dmarc_agg_rec *b)
{
    if (strcmp(a->source_ip, b->source_ip) || strcmp(a->header_from, b->header_from) ||
        strcmp(a->envelope_from, b->envelope_from) || strcmp(a->spf_scope, b->spf_scope) ||
        strcmp(a->spf_result, b->spf_result) || strcmp(a->disposition, b->disposition) ||
        strcmp(a->reason, b->reason) || strcmp(a->reason_comment, b->reason_comment) ||
        a->dkim_aligned != b->dkim_aligned || a->spf_aligned != b->spf_aligned ||
        a->ndkim != b->ndkim)
        return false;
    for (size_t i = 0; i < a->ndkim; i++)
        if (strcmp(a->dkim[i].domain, b->dkim[i].domain) ||
            strcmp(a->dkim[i].selector, b->dkim[i].selector) ||
            strcmp(a->dkim[i].result, b->dkim[i].result))
            return false;
    return true;
}

void dmarc_agg_report_add(struct dmarc_agg_report *rep, const struct dmarc_agg_rec *r)
{
    if (r->time >= rep->last.time)
        rep->last = *r;
    for (size_t i = 0; i < rep->n; i++)
        if (same_row(&rep->rows[i], r)) {
            rep->count[i]++;
            return;
        }
    if (rep->n == rep->cap) {
        rep->cap = rep->cap ? rep->cap * 2 : 8;
        rep->rows = xrealloc(rep->rows, rep->cap * sizeof *rep->rows);
        rep->count = xrealloc(rep->count, rep->cap * sizeof *rep->count);
    }
    rep->rows[rep->n] = *r;
    rep->count[rep->n++] = 1;
}

void dmarc_agg_report_clear(struct dmarc_agg_report *rep)
{
    free(rep->rows);
    free(rep->count);
    memset(rep, 0, sizeof *rep);
}

/* ---- XML ---- */

static void esc(struct str *out, const char *v)
{
    for (const char *p = v; *p; p++) {
        switch (*p) {
        case '<': str_appends(out, "&lt;"); break;
        case '>': str_appends(out, "&gt;"); break;
        case '&': str_appends(out, "&amp;"); break;
        case '"': str_appends(out, "&quot;"); break;
        default:
            if ((unsigned char)*p >= 0x20 || *p == '\t')
                str_appendc(out, *p);
        }
    }
}

static void el(struct str *out, const char *indent, const char *name, const char *v)
{
    str_appendf(out, "%s<%s>", indent, name);
    esc(out, v);
    str_appendf(out, "</%s>\n", name);
}

static void metadata(const struct dmarc_agg_meta *m, const char *domain, struct str *out)
{
    struct str id = STR_INIT;
    dmarc_agg_report_id(m, domain, &id);
    str_appends(out, "  <report_metadata>\n");
    el(out, "    ", "org_name", m->org_name);
    el(out, "    ", "email", m->email);
    el(out, "    ", "report_id", id.ptr);
    str_appendf(out, "    <date_range>\n      <begin>%lld</begin>\n      <end>%lld</end>\n"
                     "    </date_range>\n",
                (long long)m->begin, (long long)m->end);
    el(out, "    ", "generator", "Pigeon");
    str_appends(out, "  </report_metadata>\n");
    str_clear(&id);
}

static void policy(const struct dmarc_agg_report *rep, struct str *out)
{
    const struct dmarc_agg_rec *r = &rep->last;
    str_appends(out, "  <policy_published>\n");
    el(out, "    ", "domain", rep->policy_domain);
    el(out, "    ", "discovery_method", "psl");
    el(out, "    ", "p", dmarc_policy_name(r->p));
    el(out, "    ", "sp", dmarc_policy_name(r->sp));
    el(out, "    ", "adkim", r->adkim_strict ? "s" : "r");
    el(out, "    ", "aspf", r->aspf_strict ? "s" : "r");
    el(out, "    ", "testing", "n");
    str_appends(out, "  </policy_published>\n");
}

static void record(const struct dmarc_agg_rec *r, uint64_t count, struct str *out)
{
    str_appends(out, "  <record>\n    <row>\n");
    el(out, "      ", "source_ip", r->source_ip);
    str_appendf(out, "      <count>%" PRIu64 "</count>\n      <policy_evaluated>\n", count);
    el(out, "        ", "disposition", r->disposition);
    el(out, "        ", "dkim", r->dkim_aligned ? "pass" : "fail");
    el(out, "        ", "spf", r->spf_aligned ? "pass" : "fail");
    if (r->reason[0]) {
        str_appends(out, "        <reason>\n");
        el(out, "          ", "type", r->reason);
        if (r->reason_comment[0])
            el(out, "          ", "comment", r->reason_comment);
        str_appends(out, "        </reason>\n");
    }
    str_appends(out, "      </policy_evaluated>\n    </row>\n    <identifiers>\n");
    el(out, "      ", "header_from", r->header_from);
    /* DMARCbis: empty for the null reverse-path; SPF then checked postmaster@HELO, which is
     * still the "mfrom" identity (RFC 7208 §2.4) */
    el(out, "      ", "envelope_from", strcmp(r->spf_scope, "helo") ? r->envelope_from : "");
    str_appends(out, "    </identifiers>\n    <auth_results>\n");
    for (size_t i = 0; i < r->ndkim; i++) {
        str_appends(out, "      <dkim>\n");
        el(out, "        ", "domain", r->dkim[i].domain);
        el(out, "        ", "selector", r->dkim[i].selector);
        el(out, "        ", "result", r->dkim[i].result);
        str_appends(out, "      </dkim>\n");
    }
    str_appends(out, "      <spf>\n");
    el(out, "        ", "domain", r->envelope_from);
    el(out, "        ", "scope", "mfrom");
    el(out, "        ", "result", r->spf_result);
    str_appends(out, "      </spf>\n    </auth_results>\n  </record>\n");
}

void dmarc_agg_xml(const struct dmarc_agg_meta *m, const struct dmarc_agg_report *rep,
                   struct str *out)
{
    str_appends(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                     "<feedback xmlns=\"urn:ietf:params:xml:ns:dmarc-2.0\">\n"
                     "  <version>1.0</version>\n");
    metadata(m, rep->policy_domain, out);
    policy(rep, out);
    for (size_t i = 0; i < rep->n; i++)
        record(&rep->rows[i], rep->count[i], out);
    str_appends(out, "</feedback>\n");
}

void dmarc_agg_report_id(const struct dmarc_agg_meta *m, const char *domain, struct str *out)
{
    str_appendf(out, "%lld.%s@%s", (long long)m->begin, domain, m->submitter);
}

void dmarc_agg_filename(const struct dmarc_agg_meta *m, const char *domain, struct str *out)
{
    str_appendf(out, "%s!%s!%lld!%lld.xml.gz", m->submitter, domain, (long long)m->begin,
                (long long)m->end);
}

/* ---- rua= ---- */

/* "!10m": a size with an optional k/m/g/t unit (RFC 7489 §6.2). */
static uint64_t size_limit(const char *p)
{
    char *end;
    unsigned long long n = strtoull(p, &end, 10);
    unsigned shift = 0;
    switch (*end | 0x20) {
    case 'k': shift = 10; break;
    case 'm': shift = 20; break;
    case 'g': shift = 30; break;
    case 't': shift = 40; break;
    default: break;
    }
    return end == p || n > (UINT64_MAX >> shift) ? 0 : (uint64_t)n << shift;
}

size_t dmarc_rua_parse(const char *rua, struct dmarc_rua *out, size_t max)
{
    size_t n = 0;
    for (const char *p = rua; *p && n < max;) {
        size_t len = strcspn(p, ",");
        char uri[600];
        struct slice s = slice_trim(slice_make(p, len));
        p += len + (p[len] == ',');
        if (s.len >= sizeof uri || !slice_starts_ci(s, "mailto:"))
            continue;
        memcpy(uri, s.p + 7, s.len - 7);
        uri[s.len - 7] = '\0';
        char *bang = strchr(uri, '!');
        uint64_t limit = bang ? size_limit(bang + 1) : 0;
        if (bang)
            *bang = '\0';
        char *at = strrchr(uri, '@');
        if (!at || at == uri || !at[1] || strlen(uri) >= sizeof out->addr ||
            strpbrk(uri, " \t<>\"()[]\\,;:"))
            continue;
        ascii_lower(at + 1, strlen(at + 1));
        struct dmarc_rua *r = &out[n++];
        size_t alen = strlen(uri), dlen = strlen(at + 1);
        memcpy(r->addr, uri, alen + 1); /* alen < sizeof r->addr: checked above */
        if (dlen >= sizeof r->domain) {
            n--;
            continue;
        }
        memcpy(r->domain, at + 1, dlen + 1);
        r->limit = limit;
    }
    return n;
}

bool dmarc_rua_external(const struct psl *psl, const char *policy_domain,
                        const char *dest_domain, char *name, size_t cap, bool *unusable)
{
    *unusable = false;
    const char *a = psl_org_domain(psl, policy_domain), *b = psl_org_domain(psl, dest_domain);
    if (a && b && strcasecmp(a, b) == 0)
        return false;
    int n = snprintf(name, cap, "%s._report._dmarc.%s", policy_domain, dest_domain);
    if (n < 0 || (size_t)n >= cap || n > 253) { /* §7.1 step 4 */
        *unusable = true;
        return false;
    }
    return true;
}

bool dmarc_rua_consents(const char *const *txt, const size_t *len, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (len[i] >= 8 && strncmp(txt[i], "v=DMARC1", 8) == 0 &&
            (len[i] == 8 || strchr("; \t", txt[i][8])))
            return true;
    return false;
}

/* ---- the mail ---- */

void dmarc_agg_mail(const struct dmarc_agg_meta *m, const char *domain, const char *from,
                    const char *to, const unsigned char *gz, size_t gz_len, int64_t now,
                    struct str *out)
{
    struct str id = STR_INIT, file = STR_INIT, text = STR_INIT;
    dmarc_agg_report_id(m, domain, &id);
    dmarc_agg_filename(m, domain, &file);
    str_appendf(&text, "DMARC aggregate report for %s from %s, %lld to %lld (seconds since 1970).",
                domain, m->submitter, (long long)m->begin, (long long)m->end);
    struct report_mail rm = {from, to, domain, m->submitter, id.ptr, NULL, "mixed", text.ptr,
                             "application/gzip", file.ptr, gz, gz_len, now};
    mailauth_report_mail(&rm, out);
    str_clear(&id);
    str_clear(&file);
    str_clear(&text);
}
