/*
 * sieve match — comparators (RFC 4790: i;octet, i;ascii-casemap, i;ascii-numeric), match
 * types (RFC 5228 §2.7.1 :is :contains :matches, RFC 5231 :count :value, regex as POSIX
 * extended expressions) and the match variables ${0}..${9} they capture (RFC 5229 §3.2).
 */
#include "sieve/sieve_int.h"

#include "core/err.h"

#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const rel_names[] = {"gt", "ge", "lt", "le", "eq", "ne"};

int sieve_matcher_init(struct sieve_matcher *m, const struct sieve_node *n)
{
    memset(m, 0, sizeof *m);
    m->cmp = SIEVE_CMP_CASEMAP;
    const struct sieve_arg *t = sieve_tag(n, "comparator");
    if (t)
        m->cmp = strcmp(t[1].strs[0], "i;octet") == 0           ? SIEVE_CMP_OCTET
                 : strcmp(t[1].strs[0], "i;ascii-numeric") == 0 ? SIEVE_CMP_NUMERIC
                                                                : SIEVE_CMP_CASEMAP;
    m->mt = sieve_tag(n, "contains") ? SIEVE_MT_CONTAINS
            : sieve_tag(n, "matches") ? SIEVE_MT_MATCHES
            : sieve_tag(n, "regex")   ? SIEVE_MT_REGEX
            : sieve_tag(n, "count")   ? SIEVE_MT_COUNT
            : sieve_tag(n, "value")   ? SIEVE_MT_VALUE
                                      : SIEVE_MT_IS;
    const struct sieve_arg *r = sieve_tag(n, "count");
    r = r ? r : sieve_tag(n, "value");
    if (r)
        for (unsigned i = 0; i < 6; i++)
            if (strcasecmp(r[1].strs[0], rel_names[i]) == 0)
                m->rel = (enum sieve_rel)i;
    return 0;
}

void sieve_matcher_clear(struct sieve_matcher *m)
{
    for (int i = 0; i < SIEVE_MATCH_VARS; i++)
        str_clear(&m->vars[i]);
}

uint64_t sieve_numeric(const char *s, size_t n, bool *inf)
{
    uint64_t v = 0;
    size_t i = 0;
    for (; i < n && isdigit((unsigned char)s[i]); i++)
        v = v > UINT64_MAX / 10 - 10 ? UINT64_MAX - 1 : v * 10 + (uint64_t)(s[i] - '0');
    *inf = i == 0; /* RFC 4790 §9.1: a string without leading digits is positive infinity */
    return v;
}

/* < 0, 0, > 0 under the comparator (numeric: infinity compares above every number). */
static int compare(enum sieve_cmp cmp, const char *a, size_t an, const char *b, size_t bn)
{
    if (cmp == SIEVE_CMP_NUMERIC) {
        bool ia, ib;
        uint64_t x = sieve_numeric(a, an, &ia), y = sieve_numeric(b, bn, &ib);
        if (ia || ib)
            return (int)ia - (int)ib;
        return x < y ? -1 : x > y;
    }
    size_t n = an < bn ? an : bn;
    for (size_t i = 0; i < n; i++) {
        int x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (cmp == SIEVE_CMP_CASEMAP)
            x = toupper(x), y = toupper(y);
        if (x != y)
            return x - y;
    }
    return an < bn ? -1 : an > bn;
}

static bool rel_holds(enum sieve_rel rel, int c)
{
    switch (rel) {
    case SIEVE_REL_GT: return c > 0;
    case SIEVE_REL_GE: return c >= 0;
    case SIEVE_REL_LT: return c < 0;
    case SIEVE_REL_LE: return c <= 0;
    case SIEVE_REL_EQ: return c == 0;
    case SIEVE_REL_NE: return c != 0;
    }
    return false;
}

static bool ch_eq(enum sieve_cmp cmp, char a, char b)
{
    return cmp == SIEVE_CMP_CASEMAP ? toupper((unsigned char)a) == toupper((unsigned char)b)
                                    : a == b;
}

static bool contains(enum sieve_cmp cmp, const char *v, size_t vn, const char *k, size_t kn)
{
    if (kn == 0)
        return true;
    for (size_t i = 0; i + kn <= vn; i++) {
        size_t j = 0;
        while (j < kn && ch_eq(cmp, v[i + j], k[j]))
            j++;
        if (j == kn)
            return true;
    }
    return false;
}

/*
 * :matches — "*" any run, "?" one character, "\" quotes the next (RFC 5228 §2.7.1). Iterative
 * with one back-tracking point per "*" (the classic greedy-star walk), so its cost is bounded
 * by |value| × |key|. Each "*" and "?" captures into caps (the run it matched, for ${1}...);
 * a later star re-captures when the walk backs up to it.
 */
struct glob_cap {
    size_t off, len;
};

static bool glob(enum sieve_cmp cmp, const char *v, size_t vn, const char *k, size_t kn,
                 struct glob_cap *caps, unsigned *ncap)
{
    size_t vi = 0, ki = 0, star_k = (size_t)-1, star_v = 0;
    unsigned star_cap = 0;
    *ncap = 0;
    while (vi < vn) {
        if (ki < kn && k[ki] == '*') {
            star_k = ++ki;
            star_v = vi;
            star_cap = *ncap;
            if (*ncap < SIEVE_MATCH_VARS - 1)
                caps[(*ncap)++] = (struct glob_cap){vi, 0};
            continue;
        }
        if (ki < kn && k[ki] == '?') {
            if (*ncap < SIEVE_MATCH_VARS - 1)
                caps[(*ncap)++] = (struct glob_cap){vi, 1};
            ki++, vi++;
            continue;
        }
        if (ki < kn) {
            char kc = k[ki];
            size_t step = 1;
            if (kc == '\\' && ki + 1 < kn)
                kc = k[ki + 1], step = 2;
            if (ch_eq(cmp, v[vi], kc)) {
                ki += step, vi++;
                continue;
            }
        }
        if (star_k == (size_t)-1)
            return false;
        /* back up: the last star takes one more character */
        ki = star_k;
        vi = ++star_v;
        *ncap = star_cap;
        if (*ncap < SIEVE_MATCH_VARS - 1) {
            caps[*ncap] = (struct glob_cap){caps[*ncap].off, vi - caps[*ncap].off};
            (*ncap)++;
        }
    }
    while (ki < kn && k[ki] == '*') {
        if (*ncap < SIEVE_MATCH_VARS - 1)
            caps[(*ncap)++] = (struct glob_cap){vn, 0};
        ki++;
    }
    return ki == kn;
}

static int match_glob(struct sieve_matcher *m, const char *v, size_t vn, const char *k)
{
    struct glob_cap caps[SIEVE_MATCH_VARS];
    unsigned ncap = 0;
    if (!glob(m->cmp, v, vn, k, strlen(k), caps, &ncap))
        return 0;
    m->captured = true;
    str_reset(&m->vars[0]);
    str_append(&m->vars[0], v, vn);
    for (unsigned i = 1; i < SIEVE_MATCH_VARS; i++) {
        str_reset(&m->vars[i]);
        if (i - 1 < ncap)
            str_append(&m->vars[i], v + caps[i - 1].off, caps[i - 1].len);
    }
    return 1;
}

static int match_regex(struct sieve_matcher *m, const char *v, size_t vn, const char *k)
{
    regex_t re;
    int flags = REG_EXTENDED | (m->cmp == SIEVE_CMP_CASEMAP ? REG_ICASE : 0);
    if (regcomp(&re, k, flags) != 0)
        return ERR_PARSE;
    char *cv = strndup(v, vn); /* regexec wants a C string; a NUL ends the value early */
    regmatch_t pm[SIEVE_MATCH_VARS];
    int hit = cv && regexec(&re, cv, SIEVE_MATCH_VARS, pm, 0) == 0;
    if (hit) {
        m->captured = true;
        for (unsigned i = 0; i < SIEVE_MATCH_VARS; i++) {
            str_reset(&m->vars[i]);
            if (pm[i].rm_so >= 0)
                str_append(&m->vars[i], cv + pm[i].rm_so, (size_t)(pm[i].rm_eo - pm[i].rm_so));
        }
    }
    free(cv);
    regfree(&re);
    return hit;
}

int sieve_match_one(struct sieve_matcher *m, const char *value, size_t vlen, const char *key)
{
    size_t kn = strlen(key);
    switch (m->mt) {
    case SIEVE_MT_IS:
        return compare(m->cmp, value, vlen, key, kn) == 0;
    case SIEVE_MT_CONTAINS:
        return contains(m->cmp, value, vlen, key, kn);
    case SIEVE_MT_MATCHES:
        return match_glob(m, value, vlen, key);
    case SIEVE_MT_REGEX:
        return match_regex(m, value, vlen, key);
    case SIEVE_MT_VALUE:
        return rel_holds(m->rel, compare(m->cmp, value, vlen, key, kn));
    case SIEVE_MT_COUNT:
        return 0; /* counted by the caller */
    }
    return 0;
}

bool sieve_match_count(const struct sieve_matcher *m, size_t count, const char *key)
{
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%zu", count);
    return rel_holds(m->rel, compare(SIEVE_CMP_NUMERIC, buf, (size_t)n, key, strlen(key)));
}
