/*
 * taglist — RFC 6376 §3.2 tag-list:
 *   tag-list = tag-spec *( ";" tag-spec ) [ ";" ]
 *   tag-spec = [FWS] tag-name [FWS] "=" [FWS] tag-value [FWS]
 *   tag-value = [ tval *( 1*(WSP / FWS) tval ) ], tval = 1*VALCHAR (%x21-3A / %x3C-7E)
 */
#include "mailauth/taglist.h"

#include "core/err.h"

#include <string.h>

static bool is_fws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static size_t skip_fws(const char *p, size_t len, size_t i)
{
    while (i < len && is_fws(p[i]))
        i++;
    return i;
}

static int fail(const char **err_out, const char *why)
{
    if (err_out)
        *err_out = why;
    return ERR_PARSE;
}

/* One tag-spec starting at *pos; leaves *pos on the ';' or at len. */
static int parse_spec(const char *p, size_t len, size_t *pos, struct taglist_tag *t,
                      const char **err_out)
{
    size_t i = skip_fws(p, len, *pos);
    size_t ns = i;
    if (i >= len || !is_alpha(p[i]))
        return fail(err_out, "tag name expected");
    while (i < len && (is_alpha(p[i]) || is_digit(p[i]) || p[i] == '_'))
        i++;
    t->name = slice_make(p + ns, i - ns);
    i = skip_fws(p, len, i);
    if (i >= len || p[i] != '=')
        return fail(err_out, "'=' expected after tag name");
    i++;
    t->raw_start = i;
    i = skip_fws(p, len, i);
    size_t vs = i, ve = i;
    while (i < len && p[i] != ';') {
        unsigned char c = (unsigned char)p[i];
        if (is_fws((char)c)) {
            i++;
            continue;
        }
        if (c < 0x21 || c > 0x7e)
            return fail(err_out, "invalid character in tag value");
        i++;
        ve = i;
    }
    t->value = slice_make(p + vs, ve - vs);
    t->raw_end = i;
    *pos = i;
    return 0;
}

int taglist_parse(const char *p, size_t len, struct taglist *out, const char **err_out)
{
    out->n = 0;
    size_t i = 0;
    for (;;) {
        size_t after = skip_fws(p, len, i);
        if (after >= len) {
            if (out->n == 0)
                return fail(err_out, "empty tag list");
            return 0; /* a trailing ';' is allowed */
        }
        if (out->n == TAGLIST_MAX)
            return fail(err_out, "too many tags");
        struct taglist_tag *t = &out->t[out->n];
        int rc = parse_spec(p, len, &i, t, err_out);
        if (rc)
            return rc;
        for (size_t k = 0; k < out->n; k++)
            if (out->t[k].name.len == t->name.len &&
                memcmp(out->t[k].name.p, t->name.p, t->name.len) == 0)
                return fail(err_out, "duplicate tag");
        out->n++;
        if (i >= len)
            return 0;
        i++; /* the ';' */
    }
}

const struct taglist_tag *taglist_get(const struct taglist *tl, const char *name)
{
    for (size_t i = 0; i < tl->n; i++)
        if (slice_eq(tl->t[i].name, name))
            return &tl->t[i];
    return NULL;
}

void taglist_strip_ws(struct slice v, struct str *out)
{
    str_reset(out);
    str_reserve(out, v.len + 1);
    for (size_t i = 0; i < v.len; i++)
        if (!is_fws(v.p[i]))
            str_appendc(out, v.p[i]);
    if (!out->ptr)
        str_append(out, "", 0);
}
