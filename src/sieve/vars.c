/*
 * sieve vars — the variables extension (RFC 5229): named variables (case-insensitive names,
 * values cut at the configured size), the match variables ${0}..${9}, "${...}" expansion in
 * strings (§3) and set's modifiers (§4.1).
 */
#include "sieve/sieve_int.h"

#include "core/err.h"
#include "core/xmalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sieve_vars_clear(struct sieve_vars *vs)
{
    for (size_t i = 0; i < vs->n; i++) {
        free(vs->v[i].name);
        str_clear(&vs->v[i].value);
    }
    free(vs->v);
    for (int i = 0; i < SIEVE_MATCH_VARS; i++)
        str_clear(&vs->match[i]);
    memset(vs, 0, sizeof *vs);
}

bool sieve_var_name_ok(const char *name)
{
    if (!isalpha((unsigned char)name[0]) && name[0] != '_')
        return false;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_')
            return false;
    return strlen(name) <= 64;
}

static struct sieve_var *var_find(const struct sieve_vars *vs, const char *name, size_t n)
{
    for (size_t i = 0; i < vs->n; i++)
        if (strlen(vs->v[i].name) == n && strncasecmp(vs->v[i].name, name, n) == 0)
            return &vs->v[i];
    return NULL;
}

/* Cuts to at most max octets without splitting a UTF-8 sequence. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return max;
}

int sieve_vars_set(struct sieve_vars *vs, const char *name, const char *value, size_t len)
{
    struct sieve_var *v = var_find(vs, name, strlen(name));
    if (!v) {
        if (vs->n >= vs->lim->max_variables)
            return ERR_LIMIT;
        vs->v = xrealloc(vs->v, (vs->n + 1) * sizeof *vs->v);
        v = &vs->v[vs->n++];
        v->name = xstrdup(name);
        for (char *c = v->name; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        str_init(&v->value);
    }
    str_reset(&v->value);
    str_append(&v->value, value, utf8_cut(value, len, vs->lim->max_var_size));
    return 0;
}

/* The reference at s ("${" already seen, s points after it): its value, or NULL when what
 * follows is not a valid reference (then the text is kept as written, §3). */
static const struct str *ref_value(const struct sieve_vars *vs, const char *s, size_t *used)
{
    const char *e = strchr(s, '}');
    if (!e)
        return NULL;
    size_t n = (size_t)(e - s);
    *used = n + 1;
    static const struct str empty = STR_INIT;
    if (n > 0 && isdigit((unsigned char)s[0])) {
        size_t num = 0;
        for (size_t i = 0; i < n; i++) {
            if (!isdigit((unsigned char)s[i]))
                return NULL;
            num = num * 10 + (size_t)(s[i] - '0');
            if (num > 1000)
                return &empty;
        }
        return num < SIEVE_MATCH_VARS ? &vs->match[num] : &empty;
    }
    if (n == 0 || (!isalpha((unsigned char)s[0]) && s[0] != '_'))
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '.')
            return NULL;
    if (memchr(s, '.', n))
        return NULL; /* a namespace we do not know: the text stays */
    const struct sieve_var *v = var_find(vs, s, n);
    return v ? &v->value : &empty;
}

void sieve_vars_expand(const struct sieve_vars *vs, const char *s, struct str *out)
{
    while (*s) {
        const char *d = strstr(s, "${");
        if (!d) {
            str_appends(out, s);
            return;
        }
        str_append(out, s, (size_t)(d - s));
        size_t used = 0;
        const struct str *v = ref_value(vs, d + 2, &used);
        if (v) {
            str_append(out, str_cstr(v), v->len);
            s = d + 2 + used;
        } else {
            str_append(out, "${", 2);
            s = d + 2;
        }
    }
}

static size_t utf8_chars(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

void sieve_vars_modify(const struct sieve_node *n, struct str *value)
{
    char *p = value->ptr;
    size_t len = value->len;
    /* RFC 5229 §4.1: lower/upper (40), then lowerfirst/upperfirst (30), quotewildcard (20),
     * length (10). */
    if (p && sieve_tag(n, "lower"))
        for (size_t i = 0; i < len; i++)
            p[i] = (char)tolower((unsigned char)p[i]);
    if (p && sieve_tag(n, "upper"))
        for (size_t i = 0; i < len; i++)
            p[i] = (char)toupper((unsigned char)p[i]);
    if (p && len && sieve_tag(n, "lowerfirst"))
        p[0] = (char)tolower((unsigned char)p[0]);
    if (p && len && sieve_tag(n, "upperfirst"))
        p[0] = (char)toupper((unsigned char)p[0]);
    if (sieve_tag(n, "quotewildcard")) {
        struct str q = STR_INIT;
        for (size_t i = 0; i < value->len; i++) {
            char c = value->ptr[i];
            if (c == '*' || c == '?' || c == '\\')
                str_appendc(&q, '\\');
            str_appendc(&q, c);
        }
        str_reset(value);
        str_append(value, str_cstr(&q), q.len);
        str_clear(&q);
    }
    if (sieve_tag(n, "length")) {
        char buf[32];
        int k = snprintf(buf, sizeof buf, "%zu", utf8_chars(str_cstr(value), value->len));
        str_reset(value);
        str_append(value, buf, (size_t)k);
    }
}
