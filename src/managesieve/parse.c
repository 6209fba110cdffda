/*
 * managesieve parse — one client command (RFC 5804 §4 grammar): a command name, then
 * arguments separated by spaces — quoted strings ("\" escapes only "\" and '"'), literals
 * ({n+} CRLF and n octets; {n} accepted too), numbers — and CRLF. Incremental over the bytes
 * received so far: > 0 a whole command was read (bytes consumed), 0 more bytes are needed,
 * < 0 an error with the bytes to drop. Hand-written: the grammar is a dozen lines and no
 * Debian library parses ManageSieve outside Dovecot. No I/O, no allocation beyond out->strs.
 */
#include "managesieve/parse.h"

#include "core/err.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

/* Bytes up to and including the next LF from i (n if none). */
static size_t to_eol(const char *p, size_t n, size_t i)
{
    const char *nl = i < n ? memchr(p + i, '\n', n - i) : NULL;
    return nl ? (size_t)(nl - p) + 1 : n;
}

static int fail(const char *p, size_t n, size_t i, const char *msg, const char **why,
                size_t *skip)
{
    *why = msg;
    *skip = to_eol(p, n, i);
    return ERR_PARSE;
}

/* A quoted string from i (at the opening quote). > 0 next index, 0 incomplete, < 0 bad. */
static long quoted(const char *p, size_t n, size_t i, struct str *out)
{
    for (i++; i < n; i++) {
        char c = p[i];
        if (c == '"')
            return (long)i + 1;
        if (c == '\r' || c == '\n' || c == '\0')
            return -1;
        if (c == '\\') {
            if (++i >= n)
                return 0;
            c = p[i];
            if (c != '\\' && c != '"')
                return -1;
        }
        str_appendc(out, c);
    }
    return 0;
}

int msv_cmd_parse(const char *p, size_t n, size_t max_literal, struct msv_cmd *out,
                  const char **why, size_t *skip)
{
    memset(out->args, 0, sizeof out->args);
    out->nargs = 0;
    str_reset(&out->strs);
    size_t i = 0, lit = 0; /* lit: octets inside literals (not counted in the line limit) */
    while (i < n && i < sizeof out->name - 1 && isalpha((unsigned char)p[i]))
        out->name[i] = (char)toupper((unsigned char)p[i]), i++;
    out->name[i] = '\0';
    if (i == n)
        return n > MSV_LINE_MAX ? fail(p, n, 0, "line too long", why, skip) : 0;
    if (i == 0 || isalpha((unsigned char)p[i]))
        return fail(p, n, 0, "a command name expected", why, skip);
    for (;;) {
        if (i - lit > MSV_LINE_MAX)
            return fail(p, n, i, "line too long", why, skip);
        if (i >= n)
            return 0;
        if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')
            return (int)(i + 2);
        if (p[i] == '\r' && i + 1 == n)
            return 0;
        if (p[i] == '\n')
            return (int)(i + 1);
        if (p[i] != ' ')
            return fail(p, n, i, "a space or the end of the line expected", why, skip);
        i++;
        if (i >= n)
            return 0;
        if (out->nargs == MSV_MAX_ARGS)
            return fail(p, n, i, "too many arguments", why, skip);
        struct msv_arg *a = &out->args[out->nargs];
        a->off = out->strs.len;
        if (p[i] == '"') {
            long e = quoted(p, n, i, &out->strs);
            if (e == 0)
                return 0;
            if (e < 0)
                return fail(p, n, i, "bad quoted string", why, skip);
            a->type = MSV_ARG_STR;
            i = (size_t)e;
        } else if (p[i] == '{') {
            size_t j = i + 1;
            uint64_t len = 0;
            while (j < n && isdigit((unsigned char)p[j]) && len < (1ull << 40))
                len = len * 10 + (uint64_t)(p[j++] - '0');
            bool digits = j > i + 1;
            if (j < n && p[j] == '+')
                j++;
            if (j < n && (!digits || p[j] != '}'))
                return fail(p, n, i, "bad literal", why, skip);
            if (j + 2 >= n)
                return 0;
            if (p[j + 1] != '\r' || p[j + 2] != '\n')
                return fail(p, n, i, "bad literal", why, skip);
            j += 3;
            if (len > max_literal) {
                *why = "script too large";
                *skip = j + (size_t)len; /* the caller drops the literal, then the line */
                return ERR_LIMIT;
            }
            if (n - j < len)
                return 0;
            str_append(&out->strs, p + j, (size_t)len);
            a->type = MSV_ARG_STR;
            lit += (size_t)len;
            i = j + (size_t)len;
        } else if (isdigit((unsigned char)p[i])) {
            uint64_t v = 0;
            while (i < n && isdigit((unsigned char)p[i])) {
                if (v > (UINT64_MAX - 9) / 10)
                    return fail(p, n, i, "number too large", why, skip);
                v = v * 10 + (uint64_t)(p[i++] - '0');
            }
            a->type = MSV_ARG_NUM;
            a->num = v;
        } else {
            return fail(p, n, i, "a string or a number expected", why, skip);
        }
        a->len = out->strs.len - a->off;
        str_appendc(&out->strs, '\0'); /* every string NUL-terminated in strs */
        out->nargs++;
    }
}

const char *msv_arg_str(const struct msv_cmd *c, unsigned i)
{
    return str_cstr(&c->strs) + c->args[i].off;
}
