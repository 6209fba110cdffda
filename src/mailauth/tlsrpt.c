/*
 * tlsrpt — RFC 8460 records, reports and rua= (see tlsrpt.h). The history line is Pigeon's
 * own tab-separated format, versioned by its first field "1", ending with an end mark.
 */
#include "mailauth/tlsrpt.h"

#include "core/err.h"
#include "core/xmalloc.h"
#include "mailauth/histline.h"
#include "mailauth/mtasts.h"
#include "mailauth/taglist.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

const char *tlsrpt_result_name(enum tlsrpt_result r)
{
    static const char *const names[] = {
        "success",           "starttls-not-supported", "certificate-host-mismatch",
        "certificate-expired", "certificate-not-trusted", "validation-failure",
        "tlsa-invalid",      "dnssec-invalid",         "sts-policy-fetch-error",
        "sts-policy-invalid", "sts-webpki-invalid"};
    return names[r];
}

const char *tlsrpt_type_name(enum tlsrpt_type t)
{
    static const char *const names[] = {"no-policy-found", "sts", "tlsa"};
    return names[t];
}

void tlsrpt_sts_strings(const struct mtasts_policy *p, struct tlsrpt_rec *r)
{
    r->nstrings = 0;
    snprintf(r->strings[r->nstrings++], sizeof r->strings[0], "version: STSv1");
    snprintf(r->strings[r->nstrings++], sizeof r->strings[0], "mode: %s",
             mtasts_mode_name(p->mode));
    for (size_t i = 0; i < p->nmx && r->nstrings + 1 < TLSRPT_MAX_STRINGS; i++)
        snprintf(r->strings[r->nstrings++], sizeof r->strings[0], "mx: %s", p->mx[i]);
    snprintf(r->strings[r->nstrings++], sizeof r->strings[0], "max_age: %u",
             (unsigned)p->max_age);
}

/* ---- the history line ---- */


void tlsrpt_rec_format(const struct tlsrpt_rec *r, struct str *out)
{
    str_appendf(out, "1\t%lld\t%d\t%d", (long long)r->time, (int)r->type, (int)r->result);
    histline_field(out, r->domain);
    histline_field(out, r->mx_host);
    histline_field(out, r->sending_ip);
    histline_field(out, r->receiving_ip);
    str_appendf(out, "\t%zu", r->nstrings);
    for (size_t i = 0; i < r->nstrings; i++)
        histline_field(out, r->strings[i]);
    histline_end(out);
}


int tlsrpt_rec_parse(const char *line, size_t len, struct tlsrpt_rec *r)
{
    memset(r, 0, sizeof *r);
    if (len && line[len - 1] == '\n')
        len--;
    size_t pos = 0;
    char ver[4];
    long long t, type, result, n;
    if (histline_take(line, len, &pos, ver, sizeof ver) || strcmp(ver, "1") != 0 ||
        histline_take_num(line, len, &pos, INT64_MAX, &t) ||
        histline_take_num(line, len, &pos, TLSRPT_TLSA, &type) ||
        histline_take_num(line, len, &pos, TLSRPT_STS_WEBPKI_INVALID, &result) ||
        histline_take(line, len, &pos, r->domain, sizeof r->domain) ||
        histline_take(line, len, &pos, r->mx_host, sizeof r->mx_host) ||
        histline_take(line, len, &pos, r->sending_ip, sizeof r->sending_ip) ||
        histline_take(line, len, &pos, r->receiving_ip, sizeof r->receiving_ip) ||
        histline_take_num(line, len, &pos, TLSRPT_MAX_STRINGS, &n))
        return ERR_PARSE;
    r->time = t, r->type = (enum tlsrpt_type)type, r->result = (enum tlsrpt_result)result;
    r->nstrings = (size_t)n;
    for (size_t i = 0; i < r->nstrings; i++)
        if (histline_take(line, len, &pos, r->strings[i], sizeof r->strings[i]))
            return ERR_PARSE;
    if (histline_take_end(line, len, &pos))
        return ERR_PARSE;
    return r->domain[0] ? 0 : ERR_PARSE;
}

/* ---- reports ---- */

void tlsrpt_report_init(struct tlsrpt_report *rep, const char *domain)
{
    memset(rep, 0, sizeof *rep);
    snprintf(rep->domain, sizeof rep->domain, "%s", domain);
}

static bool same_policy(const struct tlsrpt_rec *a, const struct tlsrpt_rec *b)
{
    if (a->type != b->type || a->nstrings != b->nstrings)
        return false;
    for (size_t i = 0; i < a->nstrings; i++)
        if (strcmp(a->strings[i], b->strings[i]) != 0)
            return false;
    return true;
}

static void add_mx(struct tlsrpt_policy *p, const char *mx)
{
    for (size_t i = 0; i < p->nmx; i++)
        if (strcmp(p->mx[i], mx) == 0)
            return;
    p->mx = xrealloc(p->mx, (p->nmx + 1) * sizeof *p->mx);
    snprintf(p->mx[p->nmx++], sizeof p->mx[0], "%s", mx);
}

static void add_failure(struct tlsrpt_policy *p, const struct tlsrpt_rec *r)
{
    for (size_t i = 0; i < p->nf; i++) {
        struct tlsrpt_failure *f = &p->f[i];
        if (f->result == r->result && !strcmp(f->mx_host, r->mx_host) &&
            !strcmp(f->sending_ip, r->sending_ip) && !strcmp(f->receiving_ip, r->receiving_ip)) {
            f->count++;
            return;
        }
    }
    p->f = xrealloc(p->f, (p->nf + 1) * sizeof *p->f);
    struct tlsrpt_failure *f = &p->f[p->nf++];
    memset(f, 0, sizeof *f);
    f->result = r->result;
    snprintf(f->mx_host, sizeof f->mx_host, "%s", r->mx_host);
    snprintf(f->sending_ip, sizeof f->sending_ip, "%s", r->sending_ip);
    snprintf(f->receiving_ip, sizeof f->receiving_ip, "%s", r->receiving_ip);
    f->count = 1;
}

void tlsrpt_report_add(struct tlsrpt_report *rep, const struct tlsrpt_rec *r)
{
    size_t i = 0;
    while (i < rep->n && !same_policy(&rep->p[i].first, r))
        i++;
    if (i == rep->n) {
        rep->p = xrealloc(rep->p, (rep->n + 1) * sizeof *rep->p);
        memset(&rep->p[rep->n], 0, sizeof rep->p[0]);
        rep->p[rep->n++].first = *r;
    }
    struct tlsrpt_policy *p = &rep->p[i];
    if (r->mx_host[0])
        add_mx(p, r->mx_host);
    if (r->result == TLSRPT_SUCCESS) {
        p->ok++;
        return;
    }
    p->failed++;
    add_failure(p, r);
}

void tlsrpt_report_clear(struct tlsrpt_report *rep)
{
    for (size_t i = 0; i < rep->n; i++) {
        free(rep->p[i].mx);
        free(rep->p[i].f);
    }
    free(rep->p);
    memset(rep, 0, sizeof *rep);
}

/* ---- JSON ---- */

static json_t *iso_time(int64_t t)
{
    char buf[32];
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_string(buf);
}

static json_t *policy_json(const char *domain, const struct tlsrpt_policy *p)
{
    json_t *pol = json_object(), *strings = json_array(), *mx = json_array();
    json_object_set_new(pol, "policy-type", json_string(tlsrpt_type_name(p->first.type)));
    for (size_t i = 0; i < p->first.nstrings; i++)
        json_array_append_new(strings, json_string(p->first.strings[i]));
    if (p->first.type != TLSRPT_NO_POLICY)
        json_object_set_new(pol, "policy-string", strings);
    else
        json_decref(strings);
    json_object_set_new(pol, "policy-domain", json_string(domain));
    for (size_t i = 0; i < p->nmx; i++)
        json_array_append_new(mx, json_string(p->mx[i]));
    json_object_set_new(pol, "mx-host", mx);
    json_t *o = json_object(), *details = json_array();
    json_object_set_new(o, "policy", pol);
    json_object_set_new(o, "summary",
                        json_pack("{s:I,s:I}", "total-successful-session-count",
                                  (json_int_t)p->ok, "total-failure-session-count",
                                  (json_int_t)p->failed));
    for (size_t i = 0; i < p->nf; i++) {
        const struct tlsrpt_failure *f = &p->f[i];
        json_t *d = json_pack("{s:s,s:I}", "result-type", tlsrpt_result_name(f->result),
                              "failed-session-count", (json_int_t)f->count);
        if (f->sending_ip[0])
            json_object_set_new(d, "sending-mta-ip", json_string(f->sending_ip));
        if (f->mx_host[0])
            json_object_set_new(d, "receiving-mx-hostname", json_string(f->mx_host));
        if (f->receiving_ip[0])
            json_object_set_new(d, "receiving-ip", json_string(f->receiving_ip));
        json_array_append_new(details, d);
    }
    if (p->nf)
        json_object_set_new(o, "failure-details", details);
    else
        json_decref(details);
    return o;
}

void tlsrpt_json(const struct tlsrpt_meta *m, const struct tlsrpt_report *rep, struct str *out)
{
    struct str id = STR_INIT;
    tlsrpt_report_id(m, rep->domain, &id);
    json_t *root = json_object(), *policies = json_array();
    json_object_set_new(root, "organization-name", json_string(m->org_name));
    json_object_set_new(root, "date-range", json_pack("{s:o,s:o}", "start-datetime",
                                                      iso_time(m->begin), "end-datetime",
                                                      iso_time(m->end)));
    json_object_set_new(root, "contact-info", json_string(m->contact));
    json_object_set_new(root, "report-id", json_string(id.ptr));
    for (size_t i = 0; i < rep->n; i++)
        json_array_append_new(policies, policy_json(rep->domain, &rep->p[i]));
    json_object_set_new(root, "policies", policies);
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (text) {
        str_appends(out, text);
        str_appendc(out, '\n');
        free(text);
    }
    json_decref(root);
    str_clear(&id);
}

void tlsrpt_report_id(const struct tlsrpt_meta *m, const char *domain, struct str *out)
{
    str_appendf(out, "%lld.%s@%s", (long long)m->begin, domain, m->submitter);
}

void tlsrpt_filename(const struct tlsrpt_meta *m, const char *domain, struct str *out)
{
    str_appendf(out, "%s!%s!%lld!%lld.json.gz", m->submitter, domain, (long long)m->begin,
                (long long)m->end);
}

/* ---- rua= ---- */

size_t tlsrpt_rua_pick(const char *const *txt, const size_t *len, size_t n, char (*addr)[320],
                       size_t max)
{
    size_t found = 0, which = 0;
    for (size_t i = 0; i < n; i++)
        if (len[i] >= 10 && strncmp(txt[i], "v=TLSRPTv1", 10) == 0 &&
            (len[i] == 10 || strchr("; \t", txt[i][10])))
            found++, which = i;
    struct taglist tl;
    const char *why;
    if (found != 1 || taglist_parse(txt[which], len[which], &tl, &why) != 0)
        return 0;
    const struct taglist_tag *rua = taglist_get(&tl, "rua");
    if (!rua)
        return 0;
    size_t k = 0;
    for (size_t i = 0; i < rua->value.len && k < max;) {
        size_t e = i;
        while (e < rua->value.len && rua->value.p[e] != ',')
            e++;
        struct slice u = slice_trim(slice_make(rua->value.p + i, e - i));
        i = e + 1;
        if (!slice_starts_ci(u, "mailto:") || u.len - 7 >= sizeof addr[0] ||
            !memchr(u.p + 7, '@', u.len - 7) || memchr(u.p, '%', u.len))
            continue; /* https: reports are not sent; percent-encoded addresses neither */
        memcpy(addr[k], u.p + 7, u.len - 7);
        addr[k][u.len - 7] = '\0';
        k++;
    }
    return k;
}
