/*
 * psl — Public Suffix List matching (https://publicsuffix.org/list/ "Algorithm"): the longest
 * matching rule wins, an exception rule beats the wildcard it is an exception to, and "*" is
 * the rule when nothing matches. Rules live in one open-addressing set of strings.
 */
#include "mailauth/psl.h"

#include "core/err.h"
#include "core/file.h"
#include "core/str.h"
#include "core/xmalloc.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct psl {
    char **slot; /* "com", "*.ck", "!www.ck"; NULL = empty */
    size_t cap;  /* power of two */
    size_t n;
};

static uint64_t hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static void set_add(struct psl *p, char *rule);

static void grow(struct psl *p)
{
    char **old = p->slot;
    size_t oldcap = p->cap;
    p->cap = oldcap ? oldcap * 2 : 4096;
    p->slot = xcalloc(p->cap, sizeof *p->slot);
    p->n = 0;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i])
            set_add(p, old[i]);
    free(old);
}

static void set_add(struct psl *p, char *rule)
{
    if ((p->n + 1) * 2 > p->cap)
        grow(p);
    size_t i = hash(rule, strlen(rule)) & (p->cap - 1);
    while (p->slot[i]) {
        if (strcmp(p->slot[i], rule) == 0) {
            free(rule);
            return;
        }
        i = (i + 1) & (p->cap - 1);
    }
    p->slot[i] = rule;
    p->n++;
}

/* True when prefix followed by s[0..n) is a rule ("", "*.", "!"). */
static bool set_has(const struct psl *p, const char *prefix, const char *s)
{
    char buf[300];
    int k = snprintf(buf, sizeof buf, "%s%s", prefix, s);
    if (k < 0 || (size_t)k >= sizeof buf || p->cap == 0)
        return false;
    size_t i = hash(buf, (size_t)k) & (p->cap - 1);
    while (p->slot[i]) {
        if (strcmp(p->slot[i], buf) == 0)
            return true;
        i = (i + 1) & (p->cap - 1);
    }
    return false;
}

struct psl *psl_parse(const char *text, size_t len)
{
    struct psl *p = xcalloc(1, sizeof *p);
    grow(p);
    size_t i = 0;
    while (i < len) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t e = nl ? (size_t)(nl - text) : len;
        /* A rule is the line up to its first white space. */
        size_t n = 0;
        while (i + n < e && text[i + n] != ' ' && text[i + n] != '\t' && text[i + n] != '\r')
            n++;
        if (n > 0 && n < 256 && !(n >= 2 && text[i] == '/' && text[i + 1] == '/')) {
            char *rule = xstrndup(text + i, n);
            ascii_lower(rule, n);
            set_add(p, rule);
        }
        i = e + 1;
    }
    return p;
}

struct psl *psl_load(const char *path, const char **err_out)
{
    struct str s = STR_INIT;
    int rc = file_read_all(path, 64u << 20, &s);
    struct psl *p = rc == 0 ? psl_parse(s.ptr ? s.ptr : "", s.len) : NULL;
    if (rc)
        *err_out = rc == ERR_NOTFOUND ? "no such file" : rc == ERR_LIMIT ? "too large"
                                                                         : strerror(errno);
    str_clear(&s);
    return p;
}

void psl_free(struct psl *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->cap; i++)
        free(p->slot[i]);
    free(p->slot);
    free(p);
}

/* The label boundaries of name: starts[k] is where the k-th label from the left begins. */
static size_t labels(const char *name, const char **starts, size_t max)
{
    size_t n = 0;
    const char *s = name;
    while (*s && n < max) {
        starts[n++] = s;
        const char *dot = strchr(s, '.');
        if (!dot)
            break;
        s = dot + 1;
    }
    return n;
}

const char *psl_org_domain(const struct psl *p, const char *name)
{
    const char *st[128];
    size_t n = labels(name, st, 128);
    if (n == 0)
        return NULL;
    size_t suffix = n - 1; /* the "*" rule: the last label */
    for (size_t i = 0; i < n; i++) {
        if (set_has(p, "!", st[i])) {
            suffix = i + 1;
            break;
        }
        if (set_has(p, "", st[i]) || (i + 1 < n && set_has(p, "*.", st[i + 1]))) {
            suffix = i;
            break;
        }
    }
    return suffix == 0 ? NULL : st[suffix - 1];
}
