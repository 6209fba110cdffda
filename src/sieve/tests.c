/*
 * sieve tests — evaluation of every test over the message of struct sieve_env: address,
 * envelope, header, exists, size, allof/anyof/not, true/false (RFC 5228 §5), body (RFC 5173),
 * string (RFC 5229 §5), hasflag (RFC 5232 §4), date and currentdate (RFC 5260 §4-5).
 * Header values are unfolded and RFC 2047-decoded; addresses are parsed as IMAP's ENVELOPE
 * parses them (msg/mime.h).
 */
#include "sieve/sieve_int.h"

#include "core/err.h"
#include "core/xmalloc.h"
#include "msg/date.h"
#include "msg/header.h"
#include "msg/mime.h"
#include "msg/cte.h"
#include "msg/charset.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define BODY_MAX (1024 * 1024) /* decoded body text a body test looks at */

/* A list of values to match. */
struct vals {
    struct str *v;
    size_t n;
};

static void vals_push(struct vals *vs, const char *p, size_t n)
{
    vs->v = xrealloc(vs->v, (vs->n + 1) * sizeof *vs->v);
    str_init(&vs->v[vs->n]);
    str_append(&vs->v[vs->n], p, n);
    vs->n++;
}

static void vals_clear(struct vals *vs)
{
    for (size_t i = 0; i < vs->n; i++)
        str_clear(&vs->v[i]);
    free(vs->v);
    vs->v = NULL;
    vs->n = 0;
}

static size_t hdr_len(const struct sieve_env *e)
{
    return msg_header_end(e->msg, e->len);
}

/* Matches every value against every key (keys expanded); match variables kept on success. */
static int match_vals(struct sieve_run *r, const struct sieve_node *t, const struct vals *vs,
                      const struct sieve_arg *keys)
{
    struct sieve_matcher m;
    sieve_matcher_init(&m, t);
    struct str scratch = STR_INIT;
    int hit = 0;
    if (m.mt == SIEVE_MT_COUNT) {
        for (size_t k = 0; !hit && k < keys->nstrs; k++)
            hit = sieve_match_count(&m, vs->n, sieve_expand(r, keys->strs[k], &scratch));
    }
    for (size_t i = 0; m.mt != SIEVE_MT_COUNT && !hit && i < vs->n; i++)
        for (size_t k = 0; !hit && k < keys->nstrs; k++) {
            hit = sieve_match_one(&m, str_cstr(&vs->v[i]), vs->v[i].len,
                                  sieve_expand(r, keys->strs[k], &scratch));
            if (hit < 0) {
                sieve_fail(r, ERR_PARSE, t->line, "bad regular expression \"%s\"",
                           keys->strs[k]);
                break;
            }
        }
    if (hit > 0 && m.captured) {
        for (int i = 0; i < SIEVE_MATCH_VARS; i++) {
            str_reset(&r->vars.match[i]);
            str_append(&r->vars.match[i], str_cstr(&m.vars[i]), m.vars[i].len);
        }
    }
    str_clear(&scratch);
    sieve_matcher_clear(&m);
    return hit;
}

/* ---- addresses ---- */

/* "name <local@domain>" or "<local>" lines → the bare address of each. */
static void header_addresses(const struct sieve_env *e, const char *name, struct vals *out)
{
    size_t len = hdr_len(e), pos = 0;
    struct mime_field f;
    struct str v = STR_INIT, lines = STR_INIT;
    while (mime_header_next(e->msg, len, &pos, &f) > 0) {
        if (!slice_eq_ci(f.name, name))
            continue;
        str_reset(&v);
        str_reset(&lines);
        mime_header_unfold(f.raw.p, f.raw.len, &v);
        mime_address_list_text(str_cstr(&v), v.len, &lines);
        const char *p = str_cstr(&lines);
        while (*p) {
            const char *nl = strchr(p, '\n');
            size_t n = nl ? (size_t)(nl - p) : strlen(p);
            const char *lt = memrchr(p, '<', n), *gt = memrchr(p, '>', n);
            if (lt && gt && gt > lt)
                vals_push(out, lt + 1, (size_t)(gt - lt - 1));
            else
                vals_push(out, p, n);
            p += nl ? n + 1 : n;
        }
    }
    str_clear(&v);
    str_clear(&lines);
}

/* The part of address a the test asks for; false when it has none (:detail without one). */
static bool address_part(const struct sieve_run *r, const struct sieve_node *t, const char *a,
                         struct str *out)
{
    const char *at = strrchr(a, '@');
    size_t llen = at ? (size_t)(at - a) : strlen(a);
    str_reset(out);
    if (sieve_tag(t, "localpart")) {
        str_append(out, a, llen);
    } else if (sieve_tag(t, "domain")) {
        if (at)
            str_appends(out, at + 1);
    } else if (sieve_tag(t, "user") || sieve_tag(t, "detail")) {
        char d = r->env->delimiter;
        const char *sep = d ? memchr(a, d, llen) : NULL;
        if (sieve_tag(t, "user"))
            str_append(out, a, sep ? (size_t)(sep - a) : llen);
        else if (!sep)
            return false; /* RFC 5233 §4: no detail, no match */
        else
            str_append(out, sep + 1, llen - (size_t)(sep + 1 - a));
    } else {
        str_appends(out, a);
    }
    str_cstr(out);
    return true;
}

static int test_address(struct sieve_run *r, const struct sieve_node *t, bool envelope)
{
    const struct sieve_arg *names = sieve_pos(t, 0), *keys = sieve_pos(t, 1);
    struct vals raw = {0}, parts = {0};
    struct str scratch = STR_INIT, part = STR_INIT;
    for (size_t i = 0; i < names->nstrs; i++) {
        const char *name = sieve_expand(r, names->strs[i], &scratch);
        if (!envelope)
            header_addresses(r->env, name, &raw);
        else if (strcasecmp(name, "from") == 0)
            vals_push(&raw, r->env->env_from, strlen(r->env->env_from));
        else if (strcasecmp(name, "to") == 0)
            vals_push(&raw, r->env->env_to, strlen(r->env->env_to));
    }
    for (size_t i = 0; i < raw.n; i++)
        if (address_part(r, t, str_cstr(&raw.v[i]), &part))
            vals_push(&parts, str_cstr(&part), part.len);
    int hit = match_vals(r, t, &parts, keys);
    vals_clear(&raw);
    vals_clear(&parts);
    str_clear(&scratch);
    str_clear(&part);
    return hit;
}

/* ---- header, exists, size, body, string, hasflag ---- */

static void header_values(const struct sieve_env *e, const char *name, struct vals *out)
{
    struct str all = STR_INIT;
    size_t n = mime_text_header(e->msg, hdr_len(e), name, &all);
    const char *p = str_cstr(&all);
    for (size_t i = 0; i < n && *p; i++) {
        const char *nl = strchr(p, '\n');
        size_t k = nl ? (size_t)(nl - p) : strlen(p);
        vals_push(out, p, k);
        p += nl ? k + 1 : k;
    }
    str_clear(&all);
}

static int test_header(struct sieve_run *r, const struct sieve_node *t)
{
    const struct sieve_arg *names = sieve_pos(t, 0), *keys = sieve_pos(t, 1);
    struct vals vs = {0};
    struct str scratch = STR_INIT;
    for (size_t i = 0; i < names->nstrs; i++)
        header_values(r->env, sieve_expand(r, names->strs[i], &scratch), &vs);
    int hit = match_vals(r, t, &vs, keys);
    vals_clear(&vs);
    str_clear(&scratch);
    return hit;
}

static int test_exists(struct sieve_run *r, const struct sieve_node *t)
{
    const struct sieve_arg *names = sieve_pos(t, 0);
    struct str scratch = STR_INIT;
    int all = 1;
    for (size_t i = 0; all && i < names->nstrs; i++) {
        struct mime_field f;
        all = mime_header_find(r->env->msg, hdr_len(r->env),
                               sieve_expand(r, names->strs[i], &scratch), &f);
    }
    str_clear(&scratch);
    return all;
}

/* RFC 5490 §3.1: true when every named mailbox exists (INBOX always does). */
static int test_mailboxexists(struct sieve_run *r, const struct sieve_node *t)
{
    const struct sieve_arg *names = sieve_pos(t, 0);
    struct str scratch = STR_INIT;
    int all = 1;
    for (size_t i = 0; all && i < names->nstrs; i++) {
        const char *name = sieve_expand(r, names->strs[i], &scratch);
        all = strcasecmp(name, "INBOX") == 0 ||
              (r->env->mailbox_exists && r->env->mailbox_exists(r->env->mailbox_ctx, name));
    }
    str_clear(&scratch);
    return all;
}

static bool content_wanted(const struct mime_part *p, const struct sieve_arg *types)
{
    for (size_t i = 0; i < types->nstrs; i++) {
        const char *ty = types->strs[i];
        const char *slash = strchr(ty, '/');
        size_t tl = slash ? (size_t)(slash - ty) : strlen(ty);
        if (tl == 0 && !slash)
            return true; /* "" : every part */
        if (strlen(p->type) != tl || strncasecmp(p->type, ty, tl) != 0)
            continue;
        if (!slash || strcasecmp(p->subtype, slash + 1) == 0)
            return true;
    }
    return false;
}

/* body :content — each leaf part of a wanted type, transfer-decoded (text also in UTF-8). */
static void content_walk(const struct mime_tree *mt, const struct mime_part *p,
                         const struct sieve_arg *types, struct vals *out)
{
    if (p->kind == MIME_KIND_MULTIPART) {
        for (const struct mime_part *c = p->children; c; c = c->next)
            content_walk(mt, c, types, out);
        return;
    }
    if (p->kind == MIME_KIND_MESSAGE && p->message) {
        content_walk(mt, p->message, types, out);
        return;
    }
    if (!content_wanted(p, types) || out->n >= 64)
        return;
    struct str raw = STR_INIT, txt = STR_INIT;
    const char *enc = p->encoding ? p->encoding : "";
    size_t blen = p->body_len < BODY_MAX ? p->body_len : BODY_MAX;
    cte_decode(cte_from_name(enc, strlen(enc)), mt->msg + p->body_off, blen, &raw);
    if (p->kind == MIME_KIND_TEXT) {
        const struct mime_param *cs = mime_param_find(p->params, p->nparams, "charset");
        const char *name = cs ? cs->value : "";
        (void)charset_to_utf8(name, strlen(name), str_cstr(&raw), raw.len, &txt);
        vals_push(out, str_cstr(&txt), txt.len);
    } else {
        vals_push(out, str_cstr(&raw), raw.len);
    }
    str_clear(&raw);
    str_clear(&txt);
}

static int test_body(struct sieve_run *r, const struct sieve_node *t)
{
    const struct sieve_env *e = r->env;
    size_t hl = hdr_len(e);
    struct vals vs = {0};
    const struct sieve_arg *content = sieve_tag(t, "content");
    if (sieve_tag(t, "raw")) {
        size_t n = e->len - hl < BODY_MAX ? e->len - hl : BODY_MAX;
        vals_push(&vs, e->msg + hl, n);
    } else {
        struct mime_tree *mt = mime_parse(e->msg, e->len, NULL);
        if (content) {
            content_walk(mt, mt->root, &content[1], &vs);
        } else {
            struct str txt = STR_INIT;
            mime_text_body(mt, &txt, BODY_MAX);
            vals_push(&vs, str_cstr(&txt), txt.len);
            str_clear(&txt);
        }
        mime_tree_free(mt);
    }
    int hit = match_vals(r, t, &vs, sieve_pos(t, 0));
    vals_clear(&vs);
    return hit;
}

static int test_string(struct sieve_run *r, const struct sieve_node *t)
{
    const struct sieve_arg *src = sieve_pos(t, 0);
    struct vals vs = {0};
    struct str scratch = STR_INIT;
    bool count = sieve_tag(t, "count") != NULL;
    for (size_t i = 0; i < src->nstrs; i++) {
        const char *v = sieve_expand(r, src->strs[i], &scratch);
        if (!count || v[0]) /* RFC 5229 §5: :count counts non-empty strings */
            vals_push(&vs, v, strlen(v));
    }
    int hit = match_vals(r, t, &vs, sieve_pos(t, 1));
    vals_clear(&vs);
    str_clear(&scratch);
    return hit;
}

static void split_flags(const char *s, struct vals *out)
{
    while (*s) {
        while (*s == ' ')
            s++;
        const char *e = s;
        while (*e && *e != ' ')
            e++;
        if (e > s)
            vals_push(out, s, (size_t)(e - s));
        s = e;
    }
}

static int test_hasflag(struct sieve_run *r, const struct sieve_node *t)
{
    struct vals vs = {0};
    struct str scratch = STR_INIT;
    if (sieve_npos(t) == 2) {
        const struct sieve_arg *names = sieve_pos(t, 0);
        for (size_t i = 0; i < names->nstrs; i++) {
            struct str ref = STR_INIT;
            str_appendf(&ref, "${%s}", names->strs[i]);
            str_reset(&scratch);
            sieve_vars_expand(&r->vars, str_cstr(&ref), &scratch);
            split_flags(str_cstr(&scratch), &vs);
            str_clear(&ref);
        }
    } else {
        split_flags(str_cstr(&r->flags), &vs);
    }
    int hit = match_vals(r, t, &vs, sieve_pos(t, sieve_npos(t) - 1));
    vals_clear(&vs);
    str_clear(&scratch);
    return hit;
}

/* ---- date, currentdate ---- */

/* "+hhmm" / "-hhmm" → minutes east; false when malformed. */
static bool parse_zone(const char *z, int *min)
{
    if (strlen(z) != 5 || (z[0] != '+' && z[0] != '-'))
        return false;
    for (int i = 1; i < 5; i++)
        if (!isdigit((unsigned char)z[i]))
            return false;
    int h = (z[1] - '0') * 10 + (z[2] - '0'), m = (z[3] - '0') * 10 + (z[4] - '0');
    if (h > 23 || m > 59)
        return false;
    *min = (z[0] == '-' ? -1 : 1) * (h * 60 + m);
    return true;
}

/* RFC 5260 §4.2: the date part of d as a string. */
static void date_part(const struct msg_date *d, const char *part, struct str *out)
{
    static const char *const wd[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int64_t days = msg_days_from_civil(d->year, d->month, d->day);
    int tz = d->tz_min < 0 ? -d->tz_min : d->tz_min;
    char zone[8];
    snprintf(zone, sizeof zone, "%c%02d%02d", d->tz_min < 0 ? '-' : '+', tz / 60 % 100, tz % 60);
    int w = (int)(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday */
    if (!strcasecmp(part, "year"))
        str_appendf(out, "%04d", d->year);
    else if (!strcasecmp(part, "month"))
        str_appendf(out, "%02d", d->month);
    else if (!strcasecmp(part, "day"))
        str_appendf(out, "%02d", d->day);
    else if (!strcasecmp(part, "date"))
        str_appendf(out, "%04d-%02d-%02d", d->year, d->month, d->day);
    else if (!strcasecmp(part, "julian")) /* Modified Julian Day */
        str_appendf(out, "%lld", (long long)(days + 40587));
    else if (!strcasecmp(part, "hour"))
        str_appendf(out, "%02d", d->hour);
    else if (!strcasecmp(part, "minute"))
        str_appendf(out, "%02d", d->min);
    else if (!strcasecmp(part, "second"))
        str_appendf(out, "%02d", d->sec);
    else if (!strcasecmp(part, "time"))
        str_appendf(out, "%02d:%02d:%02d", d->hour, d->min, d->sec);
    else if (!strcasecmp(part, "iso8601"))
        str_appendf(out, "%04d-%02d-%02dT%02d:%02d:%02d%.3s:%s", d->year, d->month, d->day,
                    d->hour, d->min, d->sec, zone, zone + 3);
    else if (!strcasecmp(part, "std11"))
        str_appendf(out, "%s, %d %s %04d %02d:%02d:%02d %s", wd[w], d->day, mon[d->month - 1],
                    d->year, d->hour, d->min, d->sec, zone);
    else if (!strcasecmp(part, "zone"))
        str_appends(out, zone);
    else if (!strcasecmp(part, "weekday"))
        str_appendf(out, "%d", w);
    str_cstr(out);
}

static int test_date(struct sieve_run *r, const struct sieve_node *t, bool current)
{
    struct msg_date d;
    int tz = r->env->tz_min;
    struct str scratch = STR_INIT, part = STR_INIT;
    const struct sieve_arg *zone = sieve_tag(t, "zone");
    if (zone && !parse_zone(sieve_expand(r, zone[1].strs[0], &scratch), &tz)) {
        str_clear(&scratch);
        return 0; /* RFC 5260 §4.1.1: an invalid zone makes the test false */
    }
    int64_t when = r->env->now;
    if (!current) {
        struct vals hv = {0};
        header_values(r->env, sieve_expand(r, sieve_pos(t, 0)->strs[0], &scratch), &hv);
        int ok = hv.n > 0 ? msg_date_parse_rfc5322(str_cstr(&hv.v[0]), hv.v[0].len, &d) : -1;
        vals_clear(&hv);
        if (ok != 0) {
            str_clear(&scratch);
            return 0; /* absent or unparsable: the test is false (§4.1) */
        }
        when = msg_date_to_unix(&d);
        if (sieve_tag(t, "originalzone"))
            tz = d.tz_min;
    }
    msg_date_from_unix(when, tz, &d);
    date_part(&d, sieve_pos(t, current ? 0 : 1)->strs[0], &part);
    struct vals vs = {0};
    vals_push(&vs, str_cstr(&part), part.len);
    int hit = match_vals(r, t, &vs, sieve_pos(t, current ? 1 : 2));
    vals_clear(&vs);
    str_clear(&scratch);
    str_clear(&part);
    return hit;
}

int sieve_test_eval(struct sieve_run *r, const struct sieve_node *t)
{
    if (r->rc)
        return -1;
    switch ((enum sieve_id)t->id) {
    case SIEVE_T_ADDRESS: return test_address(r, t, false);
    case SIEVE_T_ENVELOPE: return test_address(r, t, true);
    case SIEVE_T_HEADER: return test_header(r, t);
    case SIEVE_T_EXISTS: return test_exists(r, t);
    case SIEVE_T_MAILBOXEXISTS:
        return test_mailboxexists(r, t);
    case SIEVE_T_SIZE: {
        const struct sieve_arg *o = sieve_tag(t, "over"), *u = sieve_tag(t, "under");
        return o ? r->env->len > o[1].num : r->env->len < u[1].num;
    }
    case SIEVE_T_TRUE: return 1;
    case SIEVE_T_FALSE: return 0;
    case SIEVE_T_NOT: {
        int v = sieve_test_eval(r, &t->tests[0]);
        return v < 0 ? v : !v;
    }
    case SIEVE_T_ALLOF:
    case SIEVE_T_ANYOF: {
        bool all = t->id == SIEVE_T_ALLOF;
        for (size_t i = 0; i < t->ntests; i++) { /* short-circuit, RFC 5228 §5.2-5.3 */
            int v = sieve_test_eval(r, &t->tests[i]);
            if (v < 0 || (all && !v) || (!all && v))
                return v;
        }
        return all;
    }
    case SIEVE_T_BODY: return test_body(r, t);
    case SIEVE_T_STRING: return test_string(r, t);
    case SIEVE_T_HASFLAG: return test_hasflag(r, t);
    case SIEVE_T_DATE: return test_date(r, t, false);
    case SIEVE_T_CURRENTDATE: return test_date(r, t, true);
    default: break;
    }
    sieve_fail(r, ERR_PARSE, t->line, "not a test: %s", t->name);
    return -1;
}
