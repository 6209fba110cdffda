/*
 * mime_fields — the Content-* fields of one part (RFC 2045 §5-§8, RFC 2046, RFC 2183,
 * RFC 2231, RFC 3282, RFC 2557, RFC 1864), parsed leniently into the part. See mime.h.
 */
#include "msg/charset.h"
#include "msg/mime_int.h"
#include "msg/qp.h"

#include "core/xmalloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- lexer ----------------------------------------------------------------------------- */

void mime_lex_cfws(struct mime_lex *l)
{
    int depth = 0;
    while (l->i < l->n) {
        char c = l->p[l->i];
        if (depth > 0 && c == '\\' && l->i + 1 < l->n) {
            l->i += 2;
            continue;
        }
        if (c == '(')
            depth++;
        else if (c == ')' && depth > 0)
            depth--;
        else if (depth == 0 && c != ' ' && c != '\t' && c != '\r' && c != '\n')
            return;
        l->i++;
    }
}

static bool lex_is_tspecial(char c)
{
    return strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

bool mime_lex_token(struct mime_lex *l, struct slice *out)
{
    size_t s = l->i;
    while (l->i < l->n) {
        unsigned char c = (unsigned char)l->p[l->i];
        if (c <= ' ' || c == 0x7f || lex_is_tspecial((char)c))
            break;
        l->i++;
    }
    *out = slice_make(l->p + s, l->i - s);
    return l->i > s;
}

bool mime_lex_quoted(struct mime_lex *l, struct str *out)
{
    if (l->i >= l->n || l->p[l->i] != '"')
        return false;
    l->i++;
    while (l->i < l->n) {
        char c = l->p[l->i++];
        if (c == '"')
            return true;
        if (c == '\\' && l->i < l->n)
            c = l->p[l->i++];
        else if (c == '\r' || c == '\n')
            continue; /* folding inside a quoted-string */
        if (c != '\0')
            str_appendc(out, c);
    }
    return true;
}

/* ---- parameters and RFC 2231 ---------------------------------------------------------- */

#define MIME_MAX_PARAMS 256

struct raw_param {
    char *base;   /* name without RFC 2231 suffixes */
    int section;  /* -1: none */
    bool encoded; /* trailing "*": charset'lang'%XX form */
    char *value;
};

struct param_vec {
    struct raw_param *v;
    size_t n, cap;
};

/* Splits "name", "name*", "name*3", "name*3*" into base, section, encoded. */
static void param_name_split(struct msg_arena *a, struct slice name, struct raw_param *rp)
{
    rp->section = -1;
    rp->encoded = false;
    size_t n = name.len;
    if (n > 1 && name.p[n - 1] == '*') {
        rp->encoded = true;
        n--;
    }
    const char *star = memchr(name.p, '*', n);
    if (star && star + 1 < name.p + n) {
        size_t k = (size_t)(star - name.p) + 1;
        int sec = 0;
        bool digits = true;
        for (size_t j = k; j < n; j++) {
            if (name.p[j] < '0' || name.p[j] > '9' || sec > 9999) {
                digits = false;
                break;
            }
            sec = sec * 10 + (name.p[j] - '0');
        }
        if (digits && (n - k == 1 || name.p[k] != '0')) {
            rp->section = sec;
            n = (size_t)(star - name.p);
        }
    }
    if (n == 0) { /* "*" alone: keep the name as written */
        n = name.len;
        rp->encoded = false;
    }
    rp->base = msg_arena_strndup(a, name.p, n);
}

/* A parameter value: quoted-string, or everything up to ";" or "(" (lenient: spaces kept). */
static char *param_value_read(struct msg_arena *a, struct mime_lex *l)
{
    struct str v = STR_INIT;
    if (l->i < l->n && l->p[l->i] == '"') {
        mime_lex_quoted(l, &v);
    } else {
        size_t s = l->i;
        while (l->i < l->n && l->p[l->i] != ';' && l->p[l->i] != '(')
            l->i++;
        struct slice sl = slice_trim(slice_make(l->p + s, l->i - s));
        str_append(&v, sl.p, sl.len);
    }
    char *r = msg_arena_strndup(a, str_cstr(&v), v.len);
    str_clear(&v);
    return r;
}

/* Reads ";" attribute "=" value pairs to the end of l into vec. Junk up to the next ";" is
 * skipped. */
static void params_read(struct msg_arena *a, struct mime_lex *l, struct param_vec *vec)
{
    for (;;) {
        mime_lex_cfws(l);
        while (l->i < l->n && l->p[l->i] != ';')
            l->i++;
        if (l->i >= l->n)
            return;
        l->i++;
        mime_lex_cfws(l);
        struct slice name;
        if (!mime_lex_token(l, &name))
            continue;
        mime_lex_cfws(l);
        if (l->i >= l->n || l->p[l->i] != '=')
            continue;
        l->i++;
        mime_lex_cfws(l);
        if (vec->n >= MIME_MAX_PARAMS)
            return; /* bounds the quadratic joins below */
        if (vec->n == vec->cap) {
            vec->cap = vec->cap ? vec->cap * 2 : 8;
            vec->v = xrealloc(vec->v, vec->cap * sizeof *vec->v);
        }
        struct raw_param *rp = &vec->v[vec->n++];
        param_name_split(a, name, rp);
        rp->value = param_value_read(a, l);
    }
}

/* Appends the percent-decoded (RFC 2231 §4) bytes of s. */
static void pct_decode(const char *s, struct str *out)
{
    for (size_t i = 0; s[i]; i++) {
        if (s[i] == '%' && s[i + 1] && s[i + 2] && hex_digit_value(s[i + 1]) >= 0 &&
            hex_digit_value(s[i + 2]) >= 0) {
            str_appendc(out, (char)(hex_digit_value(s[i + 1]) << 4 | hex_digit_value(s[i + 2])));
            i += 2;
        } else {
            str_appendc(out, s[i]);
        }
    }
}

/* Splits "charset'lang'rest" of the first encoded segment; false when the quotes are missing. */
static bool ext_split(const char *v, struct slice *cs, const char **rest)
{
    const char *q1 = strchr(v, '\'');
    const char *q2 = q1 ? strchr(q1 + 1, '\'') : NULL;
    if (!q2)
        return false;
    *cs = slice_make(v, (size_t)(q1 - v));
    *rest = q2 + 1;
    return true;
}

/* UTF-8 of the joined bytes, NULs dropped, into the arena. */
static char *ext_finish(struct msg_arena *a, struct slice cs, const struct str *bytes)
{
    struct str u = STR_INIT;
    (void)charset_to_utf8(cs.p, cs.len, str_cstr(bytes), bytes->len, &u);
    size_t k = 0;
    for (size_t i = 0; i < u.len; i++)
        if (u.ptr[i] != '\0')
            u.ptr[k++] = u.ptr[i];
    char *r = msg_arena_strndup(a, str_cstr(&u), k);
    str_clear(&u);
    return r;
}

static int seg_cmp(const void *x, const void *y)
{
    const struct raw_param *a = *(struct raw_param *const *)x, *b = *(struct raw_param *const *)y;
    return a->section - b->section;
}

/* Joins the sections of base name `base` (RFC 2231 §3) into one value. */
static void ext_join(struct msg_arena *a, const struct param_vec *vec, const char *base,
                     struct mime_param *out)
{
    struct raw_param **segs = xmalloc(vec->n * sizeof *segs);
    size_t ns = 0;
    for (size_t i = 0; i < vec->n; i++)
        if (vec->v[i].section >= 0 && strcasecmp(vec->v[i].base, base) == 0)
            segs[ns++] = &vec->v[i];
    qsort(segs, ns, sizeof *segs, seg_cmp);
    struct str bytes = STR_INIT;
    struct slice cs = {"", 0};
    bool ext = false;
    for (size_t k = 0; k < ns && segs[k]->section == (int)k; k++) {
        const char *v = segs[k]->value;
        if (k == 0 && segs[k]->encoded && ext_split(v, &cs, &v))
            ext = true;
        if (segs[k]->encoded && ext)
            pct_decode(v, &bytes);
        else
            str_appends(&bytes, v);
    }
    out->name = base;
    out->ext = ext;
    out->value =
        ext ? ext_finish(a, cs, &bytes) : msg_arena_strndup(a, str_cstr(&bytes), bytes.len);
    str_clear(&bytes);
    free(segs);
}

static void ext_single(struct msg_arena *a, const struct raw_param *rp, struct mime_param *out)
{
    struct slice cs;
    const char *rest;
    out->name = rp->base;
    out->ext = false;
    out->value = rp->value;
    if (rp->encoded && ext_split(rp->value, &cs, &rest)) {
        struct str bytes = STR_INIT;
        pct_decode(rest, &bytes);
        out->value = ext_finish(a, cs, &bytes);
        out->ext = true;
        str_clear(&bytes);
    }
}

static struct mime_param *out_find(struct mime_param *ps, size_t n, const char *base)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(ps[i].name, base) == 0)
            return &ps[i];
    return NULL;
}

/* Turns raw parameters into the final list: one entry per name, first occurrence wins except
 * that the RFC 2231 forms replace a plain one. */
static size_t params_finish(struct msg_arena *a, const struct param_vec *vec,
                            struct mime_param **out)
{
    size_t cap = vec->n ? vec->n : 1;
    struct mime_param *ps = msg_arena_alloc(a, cap * sizeof *ps);
    bool *joined = msg_arena_alloc(a, cap * sizeof *joined); /* ps[i] came from ext_join */
    size_t n = 0;
    for (size_t i = 0; i < vec->n; i++) {
        const struct raw_param *rp = &vec->v[i];
        struct mime_param *have = out_find(ps, n, rp->base);
        struct mime_param np;
        if (rp->section >= 0) {
            if (have && (have->ext || joined[have - ps]))
                continue;
            ext_join(a, vec, rp->base, &np);
        } else {
            if (have && (have->ext || !rp->encoded))
                continue;
            ext_single(a, rp, &np);
        }
        if (!have)
            have = &ps[n++];
        *have = np;
        joined[have - ps] = rp->section >= 0;
    }
    *out = ps;
    return n;
}

/* ---- the fields ------------------------------------------------------------------------ */

static char *field_unfolded(struct msg_arena *a, const struct mime_field *f)
{
    struct str s = STR_INIT;
    mime_header_unfold(f->raw.p, f->raw.len, &s);
    char *r = s.len ? msg_arena_strndup(a, s.ptr, s.len) : NULL;
    str_clear(&s);
    return r;
}

static void type_default(struct mime_tree *t, struct mime_part *p, bool digest_child)
{
    p->type_defaulted = true;
    p->params = NULL;
    p->nparams = 0;
    if (digest_child) {
        p->type = "MESSAGE";
        p->subtype = "RFC822";
        return;
    }
    p->type = "TEXT";
    p->subtype = "PLAIN";
    p->params = msg_arena_alloc(&t->arena, sizeof *p->params);
    p->params[0].name = "CHARSET";
    p->params[0].value = "US-ASCII";
    p->nparams = 1;
}

static void content_type_parse(struct mime_tree *t, struct mime_part *p, const char *v)
{
    struct mime_lex l = {v, strlen(v), 0};
    struct slice type, sub;
    mime_lex_cfws(&l);
    if (!mime_lex_token(&l, &type))
        return;
    mime_lex_cfws(&l);
    if (l.i >= l.n || l.p[l.i] != '/')
        return;
    l.i++;
    mime_lex_cfws(&l);
    if (!mime_lex_token(&l, &sub))
        return;
    struct param_vec vec = {NULL, 0, 0};
    params_read(&t->arena, &l, &vec);
    struct mime_param *ps;
    size_t np = params_finish(&t->arena, &vec, &ps);
    free(vec.v);
    if (slice_eq_ci(type, "multipart")) {
        const struct mime_param *b = mime_param_find(ps, np, "boundary");
        if (!b || !b->value[0])
            return; /* unusable: RFC 2045 §5.2 default */
    }
    p->type = msg_arena_strndup(&t->arena, type.p, type.len);
    p->subtype = msg_arena_strndup(&t->arena, sub.p, sub.len);
    p->params = ps;
    p->nparams = np;
    p->type_defaulted = false;
}

static void disposition_parse(struct mime_tree *t, struct mime_part *p, const char *v)
{
    struct mime_lex l = {v, strlen(v), 0};
    struct slice tok;
    mime_lex_cfws(&l);
    if (!mime_lex_token(&l, &tok))
        return;
    struct param_vec vec = {NULL, 0, 0};
    params_read(&t->arena, &l, &vec);
    p->disposition = msg_arena_strndup(&t->arena, tok.p, tok.len);
    p->ndisp_params = params_finish(&t->arena, &vec, &p->disp_params);
    free(vec.v);
}

static void language_parse(struct mime_tree *t, struct mime_part *p, const char *v)
{
    struct mime_lex l = {v, strlen(v), 0};
    size_t cap = 1;
    for (size_t i = 0; v[i]; i++)
        cap += v[i] == ',';
    p->languages = msg_arena_alloc(&t->arena, cap * sizeof *p->languages);
    while (l.i < l.n && p->nlanguages < cap) {
        struct slice tok;
        mime_lex_cfws(&l);
        if (mime_lex_token(&l, &tok))
            p->languages[p->nlanguages++] = msg_arena_strndup(&t->arena, tok.p, tok.len);
        mime_lex_cfws(&l);
        while (l.i < l.n && l.p[l.i] != ',')
            l.i++;
        if (l.i < l.n)
            l.i++;
    }
}

static char *token_field(struct msg_arena *a, const char *v)
{
    struct mime_lex l = {v, strlen(v), 0};
    struct slice tok;
    mime_lex_cfws(&l);
    return mime_lex_token(&l, &tok) ? msg_arena_strndup(a, tok.p, tok.len) : NULL;
}

/* Dispatches one field; each Content-* field counts only at its first occurrence. */
static void field_apply(struct mime_tree *t, struct mime_part *p, const struct mime_field *f,
                        bool *seen_type)
{
    if (!slice_starts_ci(f->name, "content-"))
        return;
    struct slice n = slice_make(f->name.p + 8, f->name.len - 8);
    char *v = field_unfolded(&t->arena, f);
    if (!v)
        return;
    if (slice_eq_ci(n, "type") && !*seen_type) {
        *seen_type = true;
        content_type_parse(t, p, v);
    } else if (slice_eq_ci(n, "transfer-encoding") && !p->encoding) {
        p->encoding = token_field(&t->arena, v);
    } else if (slice_eq_ci(n, "id") && !p->id) {
        p->id = v;
    } else if (slice_eq_ci(n, "description") && !p->description) {
        p->description = v;
    } else if (slice_eq_ci(n, "md5") && !p->md5) {
        p->md5 = v;
    } else if (slice_eq_ci(n, "location") && !p->location) {
        p->location = v;
    } else if (slice_eq_ci(n, "disposition") && !p->disposition) {
        disposition_parse(t, p, v);
    } else if (slice_eq_ci(n, "language") && !p->languages) {
        language_parse(t, p, v);
    }
}

void mime_fields_parse(struct mime_tree *t, struct mime_part *p, bool digest_child)
{
    type_default(t, p, digest_child);
    const char *hdr = t->msg + p->hdr_off;
    size_t pos = 0;
    struct mime_field f;
    bool seen_type = false;
    while (mime_header_next(hdr, p->hdr_len, &pos, &f) > 0)
        field_apply(t, p, &f, &seen_type);
}

const struct mime_param *mime_param_find(const struct mime_param *params, size_t n,
                                         const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(params[i].name, name) == 0)
            return &params[i];
    return NULL;
}

bool mime_part_is(const struct mime_part *p, const char *type, const char *subtype)
{
    return strcasecmp(p->type, type) == 0 && (!subtype || strcasecmp(p->subtype, subtype) == 0);
}
