/*
 * rua_tlsrpt — a received SMTP TLS report (RFC 8460 §4.4) read with jansson into the
 * normalised JSON of rua.h:
 *
 *   {"org", "contact", "report_id", "begin", "end",
 *    "policies": [{"type", "domain", "strings": [..], "mx": [..], "ok", "failed",
 *                  "failures": [{"result", "count", "sending_ip", "mx", "receiving_ip",
 *                                "reason_code", "info"}]}]}
 *
 * The members §4.4 requires (organization-name, date-range, report-id, policies with their
 * policy-type, policy-domain and summary) must be there; others are kept when present.
 */
#include "mailauth/rua.h"

#include "core/err.h"
#include "core/xmalloc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* RFC 3339 date-time (§4.4 "date-time"): "2016-04-01T00:00:00Z", with optional fractional
 * seconds and a numeric offset. false when it is not one. */
static bool rfc3339(const char *s, int64_t *out)
{
    struct tm tm = {0};
    const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p)
        return false;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            ;
    long off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
        int hh, mm;
        if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2 || hh > 23 || mm > 59)
            return false;
        off = (hh * 60L + mm) * 60L * (*p == '+' ? 1 : -1);
        p += 6;
    } else {
        return false;
    }
    if (*p)
        return false;
    *out = (int64_t)timegm(&tm) - off;
    return true;
}

/* A string member cut to RUA_MAX_FIELD octets, or NULL when absent or not a string. */
static json_t *str_member(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_string(v))
        return NULL;
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    if (n < RUA_MAX_FIELD)
        return json_stringn(s, n);
    n = RUA_MAX_FIELD - 1;
    while (n && ((unsigned char)s[n] & 0xc0) == 0x80) /* not inside a character */
        n--;
    return json_stringn(s, n);
}

static void copy_str(json_t *to, const char *key, const json_t *from, const char *from_key)
{
    json_t *v = str_member(from, from_key);
    if (v)
        json_object_set_new(to, key, v);
}

/* An array of strings (at most max), the others skipped. */
static json_t *str_array(const json_t *arr, size_t max)
{
    json_t *out = json_array();
    size_t i;
    const json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (json_array_size(out) >= max)
            break;
        if (json_is_string(v) && json_string_length(v) < RUA_MAX_FIELD)
            json_array_append_new(out, json_stringn(json_string_value(v), json_string_length(v)));
    }
    return out;
}

static bool count_of(const json_t *o, const char *key, json_int_t *out)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return false;
    *out = json_integer_value(v);
    return true;
}

static json_t *failure_json(const json_t *d)
{
    json_int_t n;
    if (!json_is_string(json_object_get(d, "result-type")) ||
        !count_of(d, "failed-session-count", &n))
        return NULL;
    json_t *f = json_object();
    copy_str(f, "result", d, "result-type");
    json_object_set_new(f, "count", json_integer(n));
    copy_str(f, "sending_ip", d, "sending-mta-ip");
    copy_str(f, "mx", d, "receiving-mx-hostname");
    copy_str(f, "receiving_ip", d, "receiving-ip");
    copy_str(f, "reason_code", d, "failure-reason-code");
    copy_str(f, "info", d, "additional-information");
    return f;
}

/* One policies[] entry; NULL with *err_out when a required member is missing. */
static json_t *policy_json(const json_t *e, size_t *budget, const char **err_out)
{
    const json_t *pol = json_object_get(e, "policy"), *sum = json_object_get(e, "summary");
    json_int_t ok, failed;
    if (!json_is_string(json_object_get(pol, "policy-type")) ||
        !json_is_string(json_object_get(pol, "policy-domain")))
        return *err_out = "a policy without policy-type or policy-domain", NULL;
    if (!count_of(sum, "total-successful-session-count", &ok) ||
        !count_of(sum, "total-failure-session-count", &failed))
        return *err_out = "a policy without its summary counts", NULL;
    json_t *p = json_object(), *fails = json_array();
    copy_str(p, "type", pol, "policy-type");
    copy_str(p, "domain", pol, "policy-domain");
    json_object_set_new(p, "strings", str_array(json_object_get(pol, "policy-string"), 64));
    json_object_set_new(p, "mx", str_array(json_object_get(pol, "mx-host"), 64));
    json_object_set_new(p, "ok", json_integer(ok));
    json_object_set_new(p, "failed", json_integer(failed));
    size_t i;
    const json_t *d;
    json_array_foreach(json_object_get(e, "failure-details"), i, d)
    {
        json_t *f = *budget ? failure_json(d) : NULL;
        if (f) {
            json_array_append_new(fails, f);
            (*budget)--;
        }
    }
    json_object_set_new(p, "failures", fails);
    return p;
}

static int read_report(const json_t *in, json_t *root, struct rua_report *out, const char **err_out)
{
    const json_t *org = json_object_get(in, "organization-name");
    const json_t *id = json_object_get(in, "report-id"), *dr = json_object_get(in, "date-range");
    const json_t *pols = json_object_get(in, "policies");
    int64_t begin, end;
    if (!json_is_string(org) || !json_is_string(id))
        return *err_out = "no organization-name or report-id", ERR_PARSE;
    if (!json_is_string(json_object_get(dr, "start-datetime")) ||
        !json_is_string(json_object_get(dr, "end-datetime")) ||
        !rfc3339(json_string_value(json_object_get(dr, "start-datetime")), &begin) ||
        !rfc3339(json_string_value(json_object_get(dr, "end-datetime")), &end))
        return *err_out = "no date-range of two RFC 3339 date-times", ERR_PARSE;
    if (!json_is_array(pols))
        return *err_out = "no policies array", ERR_PARSE;
    json_object_set_new(root, "org", str_member(in, "organization-name"));
    copy_str(root, "contact", in, "contact-info");
    json_object_set_new(root, "report_id", str_member(in, "report-id"));
    json_object_set_new(root, "begin", json_integer(begin));
    json_object_set_new(root, "end", json_integer(end));
    json_t *arr = json_array();
    json_object_set_new(root, "policies", arr);
    size_t i, budget = RUA_MAX_RECORDS;
    const json_t *e;
    json_array_foreach(pols, i, e)
    {
        if (budget == 0)
            return *err_out = "more than 100000 policies and failure details", ERR_LIMIT;
        json_t *p = policy_json(e, &budget, err_out);
        if (!p)
            return ERR_PARSE;
        json_array_append_new(arr, p);
        budget--;
    }
    out->org = xstrdup(json_string_value(json_object_get(root, "org")));
    out->report_id = xstrdup(json_string_value(json_object_get(root, "report_id")));
    const json_t *first = json_array_get(arr, 0);
    out->domain = xstrdup(first ? json_string_value(json_object_get(first, "domain")) : "");
    out->begin = begin, out->end = end;
    return 0;
}

int rua_parse_tlsrpt(const char *text, size_t len, struct rua_report *out, const char **err_out)
{
    memset(out, 0, sizeof *out);
    out->kind = RUA_TLSRPT;
    if (len > RUA_MAX_SIZE)
        return *err_out = "the report is larger than 8 MiB", ERR_LIMIT;
    json_error_t jerr;
    json_t *in = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!in)
        return *err_out = "not valid JSON", ERR_PARSE;
    json_t *root = json_object();
    int rc = json_is_object(in) ? read_report(in, root, out, err_out)
                                : (*err_out = "the report is not a JSON object", ERR_PARSE);
    if (rc == 0 && !(out->json = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER)))
        rc = ERR_PARSE, *err_out = "the report could not be written as JSON";
    json_decref(root);
    json_decref(in);
    return rc;
}
