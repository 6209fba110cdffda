/*
 * jmap/email_headers — header fields in the parsed forms of RFC 8621 §4.1.2: Raw, Text,
 * Addresses, GroupedAddresses, MessageIds, Date and URLs, and the "header:Name:asForm:all"
 * property names that ask for them.
 *
 * The address-list reader is small and lenient on purpose (RFC 5322 §3.4 with the obsolete
 * forms a reader meets): it splits on commas outside quotes, angle brackets and comments,
 * understands groups ("name: a, b;"), and takes the display name as a phrase decoded with
 * RFC 2047. What cannot be read as an address is left out, as RFC 8621 §4.1.2.3 asks.
 */
#include "jmap/email_int.h"

#include "msg/date.h"
#include "msg/mime.h"
#include "msg/rfc2047.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Unfolded value of a raw field value, trimmed. */
static void unfold(struct slice raw, struct str *out)
{
    mime_header_unfold(raw.p, raw.len, out);
}

json_t *jmap_hdr_text(struct slice raw)
{
    struct str u = STR_INIT, d = STR_INIT;
    unfold(raw, &u);
    rfc2047_decode(u.ptr ? u.ptr : "", u.len, &d);
    json_t *j = json_string(d.ptr ? d.ptr : "");
    str_clear(&u);
    str_clear(&d);
    return j ? j : json_string("");
}

/* Appends a cleaned display name (quotes removed, escapes undone, comments dropped). */
static void phrase_clean(const char *p, size_t n, struct str *out)
{
    struct str tmp = STR_INIT;
    bool q = false;
    int depth = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = p[i];
        if (q && ch == '\\' && i + 1 < n) {
            str_appendc(&tmp, p[++i]);
        } else if (ch == '"' && depth == 0) {
            q = !q;
        } else if (!q && ch == '(') {
            depth++;
        } else if (!q && ch == ')' && depth > 0) {
            depth--;
        } else if (depth == 0) {
            str_appendc(&tmp, ch);
        }
    }
    struct slice t = slice_trim(slice_make(tmp.ptr ? tmp.ptr : "", tmp.len));
    rfc2047_decode(t.p, t.len, out);
    str_clear(&tmp);
}

/* One address (no group): "name <a@b>" or "a@b (comment)". NULL when empty. */
static json_t *one_address(const char *p, size_t n)
{
    struct slice s = slice_trim(slice_make(p, n));
    if (s.len == 0)
        return NULL;
    const char *lt = NULL, *gt = NULL;
    bool q = false;
    for (size_t i = 0; i < s.len; i++) {
        if (s.p[i] == '"' && (i == 0 || s.p[i - 1] != '\\'))
            q = !q;
        else if (!q && s.p[i] == '<')
            lt = s.p + i;
        else if (!q && s.p[i] == '>' && lt)
            gt = s.p + i;
    }
    struct str name = STR_INIT, email = STR_INIT;
    if (lt && gt) {
        phrase_clean(s.p, (size_t)(lt - s.p), &name);
        struct slice e = slice_trim(slice_make(lt + 1, (size_t)(gt - lt - 1)));
        const char *colon = memchr(e.p, ':', e.len); /* obsolete source route */
        if (colon)
            e = slice_make(colon + 1, e.len - (size_t)(colon + 1 - e.p));
        str_append(&email, e.p, e.len);
    } else {
        /* addr-spec with an optional trailing comment as the name (obsolete style) */
        const char *paren = memchr(s.p, '(', s.len);
        size_t elen = paren ? (size_t)(paren - s.p) : s.len;
        struct slice e = slice_trim(slice_make(s.p, elen));
        str_append(&email, e.p, e.len);
        if (paren) {
            const char *close = memchr(paren, ')', s.len - elen);
            if (close)
                rfc2047_decode(paren + 1, (size_t)(close - paren - 1), &name);
        }
    }
    json_t *a = NULL;
    if (email.len && memchr(email.ptr, '@', email.len)) {
        a = json_object();
        json_object_set_new(a, "name", name.len ? json_string(name.ptr) : json_null());
        json_object_set_new(a, "email", json_stringn(email.ptr, email.len));
        if (!json_string_value(json_object_get(a, "email")))
            json_object_set_new(a, "email", json_string(""));
    }
    str_clear(&name);
    str_clear(&email);
    return a;
}

/* Calls fn for each top-level comma-separated item of s; ':' and ';' end groups. */
json_t *jmap_hdr_grouped(struct slice raw)
{
    struct str u = STR_INIT;
    unfold(raw, &u);
    const char *p = u.ptr ? u.ptr : "";
    size_t n = u.len, start = 0;
    bool q = false;
    int angle = 0, paren = 0;
    json_t *groups = json_array();
    json_t *cur = json_pack("{s:n, s:[]}", "name", "addresses");
    bool in_group = false;
    for (size_t i = 0; i <= n; i++) {
        char ch = i < n ? p[i] : ',';
        if (q) {
            if (ch == '\\' && i + 1 < n)
                i++;
            else if (ch == '"')
                q = false;
            continue;
        }
        if (ch == '"')
            q = true;
        else if (ch == '(')
            paren++;
        else if (ch == ')' && paren)
            paren--;
        else if (paren)
            continue;
        else if (ch == '<')
            angle++;
        else if (ch == '>' && angle)
            angle--;
        else if (angle)
            continue;
        else if (ch == ':' && !in_group) {
            /* a group begins: flush what was collected before it */
            if (json_array_size(json_object_get(cur, "addresses")))
                json_array_append(groups, cur);
            json_decref(cur);
            struct str gname = STR_INIT;
            phrase_clean(p + start, i - start, &gname);
            cur = json_pack("{s:s, s:[]}", "name", gname.ptr ? gname.ptr : "", "addresses");
            str_clear(&gname);
            in_group = true;
            start = i + 1;
        } else if (ch == ',' || ch == ';') {
            json_t *a = one_address(p + start, i - start);
            if (a)
                json_array_append_new(json_object_get(cur, "addresses"), a);
            start = i + 1;
            if (ch == ';' && in_group) {
                json_array_append(groups, cur);
                json_decref(cur);
                cur = json_pack("{s:n, s:[]}", "name", "addresses");
                in_group = false;
            }
        }
    }
    if (in_group || json_array_size(json_object_get(cur, "addresses")))
        json_array_append(groups, cur);
    json_decref(cur);
    str_clear(&u);
    return groups;
}

json_t *jmap_hdr_addresses(struct slice raw)
{
    json_t *groups = jmap_hdr_grouped(raw), *all = json_array();
    size_t i;
    json_t *g;
    json_array_foreach(groups, i, g)
        json_array_extend(all, json_object_get(g, "addresses"));
    json_decref(groups);
    return all;
}

json_t *jmap_hdr_msgids(struct slice raw)
{
    struct str u = STR_INIT;
    unfold(raw, &u);
    json_t *ids = json_array();
    const char *p = u.ptr ? u.ptr : "", *end = p + u.len;
    while ((p = memchr(p, '<', (size_t)(end - p)))) {
        const char *gt = memchr(p, '>', (size_t)(end - p));
        if (!gt)
            break;
        struct slice id = slice_trim(slice_make(p + 1, (size_t)(gt - p - 1)));
        if (id.len && memchr(id.p, '@', id.len) && !memchr(id.p, ' ', id.len))
            json_array_append_new(ids, json_stringn(id.p, id.len));
        p = gt + 1;
    }
    str_clear(&u);
    if (json_array_size(ids) == 0) {
        json_decref(ids);
        return json_null();
    }
    return ids;
}

void jmap_date_format(int64_t t, int tz_min, char out[64])
{
    struct msg_date d;
    msg_date_from_unix(t, tz_min, &d);
    if (tz_min == 0)
        snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02dZ", d.year, d.month, d.day, d.hour, d.min,
                 d.sec > 59 ? 59 : d.sec);
    else
        snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", d.year, d.month, d.day,
                 d.hour, d.min, d.sec > 59 ? 59 : d.sec, tz_min < 0 ? '-' : '+',
                 (tz_min < 0 ? -tz_min : tz_min) / 60, (tz_min < 0 ? -tz_min : tz_min) % 60);
}

/* n decimal digits at s, or -1. */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* RFC 8620 §1.4 UTCDate: "YYYY-MM-DDTHH:MM:SS" with an optional fraction and "Z", strictly
 * (upper case, nothing before or after). */
int64_t jmap_utc_parse(const char *s, int64_t dflt)
{
    if (!s || strlen(s) < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':')
        return dflt;
    struct msg_date d = {.year = digits(s, 4), .month = digits(s + 5, 2), .day = digits(s + 8, 2),
                         .hour = digits(s + 11, 2), .min = digits(s + 14, 2),
                         .sec = digits(s + 17, 2)};
    const char *p = s + 19;
    if (*p == '.' && p[1] >= '0' && p[1] <= '9')
        for (p++; *p >= '0' && *p <= '9'; p++)
            ;
    if (d.year < 0 || d.month < 1 || d.month > 12 || d.day < 1 || d.day > 31 || d.hour < 0 ||
        d.hour > 23 || d.min < 0 || d.min > 59 || d.sec < 0 || d.sec > 60 || strcmp(p, "Z") != 0)
        return dflt;
    return msg_date_to_unix(&d);
}

json_t *jmap_hdr_date(struct slice raw)
{
    struct str u = STR_INIT;
    unfold(raw, &u);
    struct msg_date d;
    json_t *j = json_null();
    if (u.len && msg_date_parse_rfc5322(u.ptr, u.len, &d) == 0) {
        char buf[64];
        jmap_date_format(msg_date_to_unix(&d), d.tz_min, buf);
        j = json_string(buf);
    }
    str_clear(&u);
    return j;
}

json_t *jmap_hdr_urls(struct slice raw)
{
    struct str u = STR_INIT;
    unfold(raw, &u);
    json_t *urls = json_array();
    const char *p = u.ptr ? u.ptr : "", *end = p + u.len;
    while ((p = memchr(p, '<', (size_t)(end - p)))) {
        const char *gt = memchr(p, '>', (size_t)(end - p));
        if (!gt)
            break;
        json_array_append_new(urls, json_stringn(p + 1, (size_t)(gt - p - 1)));
        p = gt + 1;
    }
    str_clear(&u);
    if (json_array_size(urls) == 0) {
        json_decref(urls);
        return json_null();
    }
    return urls;
}

json_t *jmap_hdr_form(enum jmap_hdr_form form, struct slice raw)
{
    switch (form) {
    case JMAP_HDR_RAW: {
        json_t *j = json_stringn(raw.p, raw.len);
        return j ? j : json_string("");
    }
    case JMAP_HDR_TEXT:
        return jmap_hdr_text(raw);
    case JMAP_HDR_ADDRESSES:
        return jmap_hdr_addresses(raw);
    case JMAP_HDR_GROUPED:
        return jmap_hdr_grouped(raw);
    case JMAP_HDR_MSGIDS:
        return jmap_hdr_msgids(raw);
    case JMAP_HDR_DATE:
        return jmap_hdr_date(raw);
    case JMAP_HDR_URLS:
        return jmap_hdr_urls(raw);
    }
    return json_null();
}

int jmap_hdr_prop_parse(const char *prop, char *name, size_t cap, enum jmap_hdr_form *form,
                        bool *all)
{
    if (strncmp(prop, "header:", 7) != 0)
        return -1;
    const char *p = prop + 7;
    size_t n = strcspn(p, ":");
    if (n == 0 || n >= cap)
        return -1;
    memcpy(name, p, n);
    name[n] = '\0';
    p += n;
    *form = JMAP_HDR_RAW;
    *all = false;
    static const struct {
        const char *name;
        enum jmap_hdr_form form;
    } forms[] = {{"asRaw", JMAP_HDR_RAW},
                 {"asText", JMAP_HDR_TEXT},
                 {"asAddresses", JMAP_HDR_ADDRESSES},
                 {"asGroupedAddresses", JMAP_HDR_GROUPED},
                 {"asMessageIds", JMAP_HDR_MSGIDS},
                 {"asDate", JMAP_HDR_DATE},
                 {"asURLs", JMAP_HDR_URLS}};
    while (*p == ':') {
        p++;
        size_t k = strcspn(p, ":");
        bool found = false;
        if (k == 3 && strncmp(p, "all", 3) == 0 && p[3] == '\0') {
            *all = found = true;
        }
        for (size_t i = 0; !found && i < sizeof forms / sizeof forms[0]; i++)
            if (strlen(forms[i].name) == k && strncmp(p, forms[i].name, k) == 0 && !*all) {
                *form = forms[i].form;
                found = true;
            }
        if (!found)
            return -1;
        p += k;
    }
    return 0;
}

json_t *jmap_hdr_lookup(const char *hdr, size_t len, const char *name, enum jmap_hdr_form form,
                        bool all)
{
    size_t pos = 0;
    struct mime_field f;
    json_t *vals = json_array();
    while (mime_header_next(hdr, len, &pos, &f) > 0)
        if (slice_eq_ci(f.name, name))
            json_array_append_new(vals, jmap_hdr_form(form, f.raw));
    if (all)
        return vals;
    json_t *last = json_array_get(vals, json_array_size(vals) - 1);
    json_t *r = last ? json_incref(last) : json_null();
    json_decref(vals);
    return r;
}

json_t *jmap_hdr_all(const char *hdr, size_t len)
{
    size_t pos = 0;
    struct mime_field f;
    json_t *list = json_array();
    while (mime_header_next(hdr, len, &pos, &f) > 0) {
        json_t *name = json_stringn(f.name.p, f.name.len);
        json_t *value = json_stringn(f.raw.p, f.raw.len);
        if (name && value)
            json_array_append_new(list, json_pack("{s:o, s:o}", "name", name, "value", value));
        else
            json_decref(name), json_decref(value);
    }
    return list;
}
