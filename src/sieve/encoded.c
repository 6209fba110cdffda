/*
 * sieve encoded-character (RFC 5228 §2.4.2.4): "${hex:48 69}" and "${unicode:263A}" in a
 * script's strings stand for the octets and the characters they name, once the script
 * requires "encoded-character". Text that only looks like one ("${hex:zz}", an unclosed
 * "${unicode:") stays as written; a code point outside Unicode's scalar values is an error.
 */
#include "sieve/sieve_int.h"

#include "core/err.h"
#include "msg/utf8.h"

#include <string.h>
#include <strings.h>

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * One "${hex:...}" or "${unicode:...}" at s (s[0] == '$'): appends what it stands for to out
 * and returns its length; 0 when it is none (the '$' is then ordinary text); -1 for a
 * code point that is not a Unicode scalar value.
 */
static long one(const char *s, struct str *out)
{
    bool hex = strncasecmp(s, "${hex:", 6) == 0;
    if (!hex && strncasecmp(s, "${unicode:", 10) != 0)
        return 0;
    size_t i = hex ? 6 : 10, items = 0;
    struct str tmp = STR_INIT;
    for (;;) {
        while (is_blank(s[i]))
            i++;
        if (s[i] == '}')
            break;
        size_t st = i;
        uint32_t v = 0;
        while (hexval(s[i]) >= 0 && i - st < (hex ? 2 : 8))
            v = v * 16 + (uint32_t)hexval(s[i++]);
        if (i == st || (!is_blank(s[i]) && s[i] != '}')) {
            str_clear(&tmp);
            return 0; /* not the grammar: left as written */
        }
        if (!hex && (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))) {
            str_clear(&tmp);
            return -1;
        }
        if (hex)
            str_appendc(&tmp, (char)v);
        else
            utf8_append(&tmp, v);
        items++;
    }
    if (items == 0) { /* the grammar needs one hex-pair or unicode-hex at least */
        str_clear(&tmp);
        return 0;
    }
    str_append(out, tmp.ptr, tmp.len);
    str_clear(&tmp);
    return (long)i + 1;
}

/* Decodes every string of n's arguments in place (new copies in the script's arena). */
int sieve_decode_encoded(struct sieve_script *sc, struct sieve_node *n, struct str *err)
{
    for (size_t a = 0; a < n->nargs; a++) {
        struct sieve_arg *arg = &n->args[a];
        for (size_t k = 0; arg->type == SIEVE_ARG_STR && k < arg->nstrs; k++) {
            const char *s = arg->strs[k];
            if (!strstr(s, "${"))
                continue;
            struct str out = STR_INIT;
            for (size_t i = 0; s[i];) {
                long used = s[i] == '$' ? one(s + i, &out) : 0;
                if (used < 0) {
                    str_clear(&out);
                    str_appendf(err, "line %u: encoded character out of range", arg->line);
                    return ERR_PARSE;
                }
                if (used == 0)
                    str_appendc(&out, s[i++]);
                else
                    i += (size_t)used;
            }
            arg->strs[k] = msg_arena_strndup(&sc->arena, str_cstr(&out), out.len);
            str_clear(&out);
        }
    }
    return 0;
}
