/*
 * rua_show — a stored report (rua.h's normalised JSON) as the text the CLI prints: DMARC per
 * source IP (count, disposition, DKIM/SPF results, what the authentication said), TLS-RPT per
 * policy (success and failure counts, each failure type).
 */
#include "mailauth/rua.h"

#include "core/err.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* The string member key of o, or fallback when absent. */
static const char *s_of(const json_t *o, const char *key, const char *fallback)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s && *s ? s : fallback;
}

static long long n_of(const json_t *o, const char *key)
{
    return (long long)json_integer_value(json_object_get(o, key));
}

/* A time as "YYYY-MM-DD hh:mm", or "@SECONDS" for one gmtime cannot express. */
static void when(long long t, char *buf, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || strftime(buf, cap, "%Y-%m-%d %H:%M", &tm) == 0)
        snprintf(buf, cap, "@%lld", t);
}

static void period(struct str *out, const json_t *root)
{
    char b[40], e[40];
    when(n_of(root, "begin"), b, sizeof b);
    when(n_of(root, "end"), e, sizeof e);
    str_appendf(out, "  period %s to %s UTC\n", b, e);
}

/* One method's results of a record: "dkim example.com/sel pass" (extra "selector" between
 * "/" and "") or "spf example.com (mfrom) fail" (extra "scope" between " (" and ")"). */
static void auth_list(struct str *out, const json_t *rec, const char *method, const char *extra,
                      const char *open, const char *close, const char **sep)
{
    char key[16];
    snprintf(key, sizeof key, "auth_%s", method);
    size_t i;
    const json_t *a;
    json_array_foreach(json_object_get(rec, key), i, a)
    {
        str_appendf(out, "%s%s %s", *sep, method, s_of(a, "domain", "?"));
        if (json_object_get(a, extra))
            str_appendf(out, "%s%s%s", open, s_of(a, extra, ""), close);
        str_appendf(out, " %s", s_of(a, "result", "?"));
        *sep = ", ";
    }
}

/* "dkim example.com/sel pass, spf example.com (mfrom) fail" */
static void auth_text(struct str *out, const json_t *rec)
{
    const char *sep = "";
    auth_list(out, rec, "dkim", "selector", "/", "", &sep);
    auth_list(out, rec, "spf", "scope", " (", ")", &sep);
}

static void show_dmarc(const json_t *root, struct str *out)
{
    const json_t *pol = json_object_get(root, "policy");
    str_appendf(out, "DMARC report from %s", s_of(root, "org", "?"));
    if (json_object_get(root, "email"))
        str_appendf(out, " <%s>", s_of(root, "email", ""));
    str_appendf(out, ", id %s\n  domain %s: p=%s", s_of(root, "report_id", "?"),
                s_of(pol, "domain", "?"), s_of(pol, "p", "?"));
    static const char *const more[] = {"sp", "adkim", "aspf", "pct", "np"};
    for (size_t k = 0; k < sizeof more / sizeof more[0]; k++)
        if (json_object_get(pol, more[k]))
            str_appendf(out, " %s=%s", more[k], s_of(pol, more[k], ""));
    str_appendc(out, '\n');
    period(out, root);
    long long total = 0, pass = 0;
    size_t i;
    const json_t *r;
    json_array_foreach(json_object_get(root, "records"), i, r)
    {
        long long n = n_of(r, "count");
        const char *dkim = s_of(r, "dkim", "?"), *spf = s_of(r, "spf", "?");
        str_appendf(out, "  %-39s %7lld  %-10s dkim=%-4s spf=%-4s from=%s",
                    s_of(r, "source_ip", "?"), n, s_of(r, "disposition", "?"), dkim, spf,
                    s_of(r, "header_from", "?"));
        size_t k;
        const json_t *why;
        json_array_foreach(json_object_get(r, "reasons"), k, why)
            str_appendf(out, " reason=%s", s_of(why, "type", "?"));
        str_appends(out, "\n      ");
        auth_text(out, r);
        str_appendc(out, '\n');
        total += n;
        if (strcmp(dkim, "pass") == 0 || strcmp(spf, "pass") == 0)
            pass += n;
    }
    str_appendf(out, "  %lld message(s): %lld passed DMARC, %lld failed\n", total, pass,
                total - pass);
}

static void show_failures(const json_t *pol, struct str *out)
{
    size_t i;
    const json_t *f;
    json_array_foreach(json_object_get(pol, "failures"), i, f)
    {
        str_appendf(out, "    %s: %lld", s_of(f, "result", "?"), n_of(f, "count"));
        if (json_object_get(f, "mx"))
            str_appendf(out, " mx=%s", s_of(f, "mx", ""));
        if (json_object_get(f, "receiving_ip"))
            str_appendf(out, " ip=%s", s_of(f, "receiving_ip", ""));
        if (json_object_get(f, "sending_ip"))
            str_appendf(out, " from=%s", s_of(f, "sending_ip", ""));
        if (json_object_get(f, "reason_code"))
            str_appendf(out, " code=%s", s_of(f, "reason_code", ""));
        str_appendc(out, '\n');
    }
}

static void show_tlsrpt(const json_t *root, struct str *out)
{
    str_appendf(out, "TLS report from %s", s_of(root, "org", "?"));
    if (json_object_get(root, "contact"))
        str_appendf(out, " <%s>", s_of(root, "contact", ""));
    str_appendf(out, ", id %s\n", s_of(root, "report_id", "?"));
    period(out, root);
    size_t i;
    const json_t *p;
    json_array_foreach(json_object_get(root, "policies"), i, p)
    {
        str_appendf(out, "  policy %s for %s: %lld successful, %lld failed", s_of(p, "type", "?"),
                    s_of(p, "domain", "?"), n_of(p, "ok"), n_of(p, "failed"));
        size_t k;
        const json_t *mx;
        json_array_foreach(json_object_get(p, "mx"), k, mx) str_appendf(
            out, "%s%s", k ? " " : " (mx ", json_string_value(mx) ? json_string_value(mx) : "?");
        str_appends(out, json_array_size(json_object_get(p, "mx")) ? ")\n" : "\n");
        show_failures(p, out);
    }
}

int rua_show(enum rua_kind kind, const char *json, size_t len, struct str *out)
{
    json_error_t jerr;
    json_t *root = json_loadb(json, len, 0, &jerr);
    if (!json_is_object(root)) {
        json_decref(root);
        return ERR_PARSE;
    }
    if (kind == RUA_DMARC)
        show_dmarc(root, out);
    else
        show_tlsrpt(root, out);
    json_decref(root);
    return 0;
}
