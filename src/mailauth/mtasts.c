/* mtasts — see mtasts.h. */
#include "mailauth/mtasts.h"

#include "core/err.h"
#include "core/str.h"
#include "mailauth/crypto.h"
#include "mailauth/taglist.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* §3.1: sts-id = 1*32(ALPHA / DIGIT) */
static bool id_ok(const char *p, size_t n)
{
    if (n < 1 || n > 32)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)p[i]))
            return false;
    return true;
}

static bool starts_sts(const char *t, size_t n)
{
    static const char v[] = "v=STSv1";
    if (n < sizeof v - 1 || memcmp(t, v, sizeof v - 1) != 0)
        return false;
    return n == sizeof v - 1 || t[sizeof v - 1] == ';' || t[sizeof v - 1] == ' ' ||
           t[sizeof v - 1] == '\t';
}

bool mtasts_txt_pick(const char *const *txt, const size_t *len, size_t n, char id_out[33])
{
    size_t found = 0, which = 0;
    for (size_t i = 0; i < n; i++)
        if (starts_sts(txt[i], len[i]))
            found++, which = i;
    if (found != 1)
        return false;
    struct taglist tl;
    const char *why;
    if (taglist_parse(txt[which], len[which], &tl, &why) != 0)
        return false;
    const struct taglist_tag *id = taglist_get(&tl, "id");
    if (!id || !id_ok(id->value.p, id->value.len))
        return false;
    memcpy(id_out, id->value.p, id->value.len);
    id_out[id->value.len] = '\0';
    return true;
}

static bool key_is(const char *k, size_t kn, const char *name)
{
    return kn == strlen(name) && memcmp(k, name, kn) == 0;
}

/* An mx pattern (§3.2 "mx-pattern"): a domain name, optionally "*." first; kept lower case
 * without a trailing dot. */
static int add_mx(struct mtasts_policy *out, const char *v, size_t n, const char **err_out)
{
    if (n && v[n - 1] == '.')
        n--;
    if (n == 0 || n > 253) {
        *err_out = "bad mx pattern";
        return ERR_PARSE;
    }
    if (out->nmx == MTASTS_MAX_MX) {
        *err_out = "too many mx lines";
        return ERR_LIMIT;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        bool star = c == '*' && i == 0 && n > 2 && v[1] == '.';
        if (!star && !isalnum(c) && c != '-' && c != '.' && c != '_') {
            *err_out = "bad mx pattern";
            return ERR_PARSE;
        }
        out->mx[out->nmx][i] = (char)tolower(c);
    }
    out->mx[out->nmx++][n] = '\0';
    return 0;
}

static int set_field(struct mtasts_policy *out, const char *k, size_t kn, const char *v, size_t vn,
                     unsigned *seen, const char **err_out)
{
    if (key_is(k, kn, "version")) {
        *seen |= 1;
        if (vn != 5 || memcmp(v, "STSv1", 5) != 0)
            return *err_out = "version is not STSv1", ERR_PARSE;
    } else if (key_is(k, kn, "mode")) {
        *seen |= 2;
        if (vn == 7 && !memcmp(v, "enforce", 7))
            out->mode = MTASTS_ENFORCE;
        else if (vn == 7 && !memcmp(v, "testing", 7))
            out->mode = MTASTS_TESTING;
        else if (vn == 4 && !memcmp(v, "none", 4))
            out->mode = MTASTS_NONE;
        else
            return *err_out = "mode is not enforce, testing or none", ERR_PARSE;
    } else if (key_is(k, kn, "max_age")) {
        *seen |= 4;
        uint64_t a = 0;
        if (vn == 0 || vn > 10)
            return *err_out = "bad max_age", ERR_PARSE;
        for (size_t i = 0; i < vn; i++) {
            if (!isdigit((unsigned char)v[i]))
                return *err_out = "bad max_age", ERR_PARSE;
            a = a * 10 + (uint64_t)(v[i] - '0');
        }
        if (a > MTASTS_MAX_AGE)
            return *err_out = "max_age over one year", ERR_PARSE;
        out->max_age = (uint32_t)a;
    } else if (key_is(k, kn, "mx")) {
        return add_mx(out, v, vn, err_out);
    }
    return 0; /* §3.2: unknown fields are ignored */
}

/* One "key: value" line p[0..n) (no line end). */
static int parse_line(struct mtasts_policy *out, const char *p, size_t n, unsigned *seen,
                      const char **err_out)
{
    const char *colon = memchr(p, ':', n);
    if (!colon || colon == p)
        return *err_out = "a line is not key: value", ERR_PARSE;
    size_t kn = (size_t)(colon - p);
    const char *v = colon + 1;
    size_t vn = n - kn - 1;
    while (vn && (*v == ' ' || *v == '\t'))
        v++, vn--;
    while (vn && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
        vn--;
    return set_field(out, p, kn, v, vn, seen, err_out);
}

int mtasts_policy_parse(const char *p, size_t len, struct mtasts_policy *out, const char **err_out)
{
    memset(out, 0, sizeof *out);
    if (len > MTASTS_MAX_POLICY)
        return *err_out = "policy over 64 KiB", ERR_LIMIT;
    unsigned seen = 0;
    size_t i = 0;
    while (i < len) {
        const char *nl = memchr(p + i, '\n', len - i);
        size_t e = nl ? (size_t)(nl - p) : len;
        size_t n = e - i;
        if (n && p[i + n - 1] == '\r')
            n--;
        if (n) {
            int rc = parse_line(out, p + i, n, &seen, err_out);
            if (rc)
                return rc;
        }
        i = e + 1;
    }
    if ((seen & 7) != 7)
        return *err_out = "version, mode or max_age missing", ERR_PARSE;
    if (out->mode != MTASTS_NONE && out->nmx == 0)
        return *err_out = "no mx line", ERR_PARSE;
    return 0;
}

bool mtasts_mx_match(const struct mtasts_policy *p, const char *host)
{
    char h[256];
    size_t n = strlen(host);
    if (n && host[n - 1] == '.')
        n--;
    if (n == 0 || n >= sizeof h)
        return false;
    for (size_t i = 0; i < n; i++)
        h[i] = (char)tolower((unsigned char)host[i]);
    h[n] = '\0';
    for (size_t i = 0; i < p->nmx; i++) {
        const char *pat = p->mx[i];
        if (pat[0] != '*') {
            if (strcmp(pat, h) == 0)
                return true;
            continue;
        }
        /* "*.example.net" matches "mx1.example.net", not "example.net" nor "a.b.example.net" */
        const char *dot = strchr(h, '.');
        if (dot && dot != h && strcmp(dot, pat + 1) == 0)
            return true;
    }
    return false;
}

const char *mtasts_mode_name(enum mtasts_mode m)
{
    return m == MTASTS_ENFORCE ? "enforce" : m == MTASTS_TESTING ? "testing" : "none";
}

void mtasts_policy_text(enum mtasts_mode mode, const char *mx, uint32_t max_age,
                        struct str *out)
{
    str_appendf(out, "version: STSv1\r\nmode: %s\r\nmx: %s\r\nmax_age: %u\r\n",
                mtasts_mode_name(mode), mx, max_age);
}

void mtasts_policy_id(const char *text, size_t len, char id_out[33])
{
    unsigned char md[32];
    mailauth_sha256(text, len, md);
    for (int i = 0; i < 8; i++)
        snprintf(id_out + 2 * i, 3, "%02x", md[i]);
}
