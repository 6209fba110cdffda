/*
 * sieve parse — RFC 5228 §8 grammar (lexical tokens §8.1, commands §8.2) into the tree of
 * sieve_int.h, then the checks of grammar.c.
 *
 * Hand-written: Debian packages no Sieve library that can be embedded outside Dovecot's own
 * (libdovecot-sieve depends on Dovecot's whole runtime), and the grammar is small — a
 * recursive-descent reader over one buffer, bounded by the nesting limit so that no script
 * can exhaust the stack. No I/O; every length comes from the text.
 */
#include "sieve/sieve_int.h"

#include "core/err.h"
#include "core/xmalloc.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum tok {
    T_EOF, T_IDENT, T_TAG, T_NUM, T_STR, T_LBRACKET, T_RBRACKET, T_LPAREN, T_RPAREN,
    T_LBRACE, T_RBRACE, T_COMMA, T_SEMI, T_ERR
};

struct lexer {
    const char *p, *end;
    unsigned line;
    struct msg_arena *arena;
    const struct sieve_limits *lim;
    struct str *err;
    /* the current token */
    enum tok t;
    unsigned tline;
    const char *text; /* IDENT, TAG (lower-cased, arena), STR (arena) */
    uint64_t num;
    unsigned depth;
};

static enum tok lex_fail(struct lexer *lx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static enum tok lex_fail(struct lexer *lx, const char *fmt, ...)
{
    if (lx->err->len == 0) {
        str_appendf(lx->err, "line %u: ", lx->line);
        va_list ap;
        va_start(ap, fmt);
        str_vappendf(lx->err, fmt, ap);
        va_end(ap);
    }
    lx->t = T_ERR;
    return T_ERR;
}

/* Skips blanks and comments (RFC 5228 §2.3). 0, or -1 on an unterminated comment. */
static int skip_space(struct lexer *lx)
{
    while (lx->p < lx->end) {
        char c = *lx->p;
        if (c == '\n') {
            lx->line++;
            lx->p++;
        } else if (c == ' ' || c == '\t' || c == '\r') {
            lx->p++;
        } else if (c == '#') {
            while (lx->p < lx->end && *lx->p != '\n')
                lx->p++;
        } else if (c == '/' && lx->p + 1 < lx->end && lx->p[1] == '*') {
            lx->p += 2;
            for (;;) {
                if (lx->p + 1 >= lx->end)
                    return -1;
                if (lx->p[0] == '*' && lx->p[1] == '/')
                    break;
                lx->line += *lx->p == '\n';
                lx->p++;
            }
            lx->p += 2;
        } else {
            break;
        }
    }
    return 0;
}

static bool ident_start(char c)
{
    return isalpha((unsigned char)c) || c == '_';
}

static bool ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* A quoted string: "\" quotes the next character, whatever it is (§2.4.2). */
static enum tok lex_quoted(struct lexer *lx)
{
    struct str s = STR_INIT;
    lx->p++;
    for (;;) {
        if (lx->p >= lx->end) {
            str_clear(&s);
            return lex_fail(lx, "unterminated string");
        }
        char c = *lx->p++;
        if (c == '"')
            break;
        if (c == '\\') {
            if (lx->p >= lx->end)
                continue;
            c = *lx->p++;
        }
        if (c == '\0') {
            str_clear(&s);
            return lex_fail(lx, "NUL in string");
        }
        lx->line += c == '\n';
        str_appendc(&s, c);
    }
    lx->text = msg_arena_strndup(lx->arena, str_cstr(&s), s.len);
    str_clear(&s);
    return T_STR;
}

/* "text:" multi-line string (§2.4.2): to a line holding only ".", leading ".." unstuffed. */
static enum tok lex_multiline(struct lexer *lx)
{
    lx->p += 5;
    while (lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\t'))
        lx->p++;
    if (lx->p < lx->end && *lx->p == '#')
        while (lx->p < lx->end && *lx->p != '\n')
            lx->p++;
    if (lx->p < lx->end && *lx->p == '\r')
        lx->p++;
    if (lx->p >= lx->end || *lx->p != '\n')
        return lex_fail(lx, "text: must end its line");
    lx->p++;
    lx->line++;
    struct str s = STR_INIT;
    for (;;) {
        if (lx->p >= lx->end) {
            str_clear(&s);
            return lex_fail(lx, "unterminated text: string (no line with a lone \".\")");
        }
        const char *nl = memchr(lx->p, '\n', (size_t)(lx->end - lx->p));
        const char *e = nl ? nl : lx->end;
        size_t n = (size_t)(e - lx->p);
        if (n > 0 && lx->p[n - 1] == '\r')
            n--;
        const char *line = lx->p;
        lx->p = nl ? nl + 1 : lx->end;
        lx->line++;
        if (n == 1 && line[0] == '.')
            break;
        if (memchr(line, '\0', n)) {
            str_clear(&s);
            return lex_fail(lx, "NUL in string");
        }
        if (n > 0 && line[0] == '.')
            line++, n--;
        str_append(&s, line, n);
        str_append(&s, "\r\n", 2);
    }
    lx->text = msg_arena_strndup(lx->arena, str_cstr(&s), s.len);
    str_clear(&s);
    return T_STR;
}

static enum tok lex_number(struct lexer *lx)
{
    uint64_t v = 0;
    while (lx->p < lx->end && isdigit((unsigned char)*lx->p)) {
        if (v > (UINT64_MAX - 9) / 10)
            return lex_fail(lx, "number too large");
        v = v * 10 + (uint64_t)(*lx->p++ - '0');
    }
    unsigned shift = 0;
    if (lx->p < lx->end) {
        char q = (char)toupper((unsigned char)*lx->p);
        shift = q == 'K' ? 10 : q == 'M' ? 20 : q == 'G' ? 30 : 0;
        lx->p += shift != 0;
    }
    if (shift && v > (UINT64_MAX >> shift))
        return lex_fail(lx, "number too large");
    lx->num = v << shift;
    return T_NUM;
}

static enum tok lex_word(struct lexer *lx, bool tag)
{
    const char *b = lx->p;
    while (lx->p < lx->end && ident_char(*lx->p))
        lx->p++;
    char *w = msg_arena_strndup(lx->arena, b, (size_t)(lx->p - b));
    for (char *c = w; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    lx->text = w;
    return tag ? T_TAG : T_IDENT;
}

static enum tok lex_next(struct lexer *lx)
{
    if (lx->t == T_ERR)
        return T_ERR;
    if (skip_space(lx) != 0)
        return lex_fail(lx, "unterminated /* comment");
    lx->tline = lx->line;
    if (lx->p >= lx->end)
        return lx->t = T_EOF;
    char c = *lx->p;
    static const char punct[] = "[](){},;";
    static const enum tok ptok[] = {T_LBRACKET, T_RBRACKET, T_LPAREN, T_RPAREN,
                                    T_LBRACE,   T_RBRACE,   T_COMMA,  T_SEMI};
    const char *pc = c ? strchr(punct, c) : NULL;
    if (pc) {
        lx->p++;
        return lx->t = ptok[pc - punct];
    }
    if (c == '"')
        return lx->t = lex_quoted(lx);
    if (isdigit((unsigned char)c))
        return lx->t = lex_number(lx);
    if (c == ':' && lx->p + 1 < lx->end && ident_start(lx->p[1])) {
        lx->p++;
        return lx->t = lex_word(lx, true);
    }
    if (ident_start(c)) {
        if (lx->end - lx->p >= 5 && strncasecmp(lx->p, "text:", 5) == 0)
            return lx->t = lex_multiline(lx);
        return lx->t = lex_word(lx, false);
    }
    return lex_fail(lx, "unexpected character '%c'", isprint((unsigned char)c) ? c : '?');
}

/* ---- the grammar ---- */

/* Growable arrays built with xrealloc, copied into the arena when complete. */
#define PUSH(arr, n, cap, item)                                                                \
    do {                                                                                       \
        if ((n) == (cap)) {                                                                    \
            (cap) = (cap) ? (cap) * 2 : 4;                                                     \
            (arr) = xrealloc((arr), (cap) * sizeof *(arr));                                    \
        }                                                                                      \
        (arr)[(n)++] = (item);                                                                 \
    } while (0)

static void *arena_copy(struct msg_arena *a, const void *p, size_t n)
{
    void *d = msg_arena_alloc(a, n ? n : 1);
    if (n)
        memcpy(d, p, n);
    return d;
}

static int parse_test(struct lexer *lx, struct sieve_node *out);

/* string-list = "[" string *("," string) "]" / string */
static int parse_strlist(struct lexer *lx, struct sieve_arg *a)
{
    const char **v = NULL;
    size_t n = 0, cap = 0;
    a->type = SIEVE_ARG_STR;
    a->line = lx->tline;
    if (lx->t == T_STR) {
        PUSH(v, n, cap, lx->text);
        lex_next(lx);
    } else {
        a->list = true;
        for (;;) {
            if (lex_next(lx) != T_STR) {
                free(v);
                lex_fail(lx, "a string expected in the list");
                return ERR_PARSE;
            }
            PUSH(v, n, cap, lx->text);
            if (lex_next(lx) == T_RBRACKET)
                break;
            if (lx->t != T_COMMA) {
                free(v);
                lex_fail(lx, "\",\" or \"]\" expected in a string list");
                return ERR_PARSE;
            }
        }
        lex_next(lx);
    }
    a->strs = arena_copy(lx->arena, v, n * sizeof *v);
    a->nstrs = n;
    free(v);
    return 0;
}

/* arguments = *argument [ test / test-list ], into node (a command or a test). */
static int parse_arguments(struct lexer *lx, struct sieve_node *node, bool tests_allowed)
{
    struct sieve_arg *args = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (;;) {
        struct sieve_arg a = {.line = lx->tline};
        if (lx->t == T_TAG) {
            a.type = SIEVE_ARG_TAG;
            a.tag = lx->text;
            lex_next(lx);
        } else if (lx->t == T_NUM) {
            a.type = SIEVE_ARG_NUM;
            a.num = lx->num;
            lex_next(lx);
        } else if (lx->t == T_STR || lx->t == T_LBRACKET) {
            rc = parse_strlist(lx, &a);
            if (rc != 0)
                break;
        } else {
            break;
        }
        PUSH(args, n, cap, a);
    }
    node->args = arena_copy(lx->arena, args, n * sizeof *args);
    node->nargs = n;
    free(args);
    if (rc != 0 || lx->t == T_ERR)
        return ERR_PARSE;
    if (lx->t == T_IDENT && tests_allowed) {
        node->tests = msg_arena_alloc(lx->arena, sizeof *node->tests);
        node->ntests = 1;
        return parse_test(lx, node->tests);
    }
    if (lx->t != T_LPAREN || !tests_allowed)
        return 0;
    struct sieve_node *tests = NULL;
    size_t nt = 0, tcap = 0;
    node->test_list = true;
    do {
        lex_next(lx);
        struct sieve_node t = {0};
        rc = parse_test(lx, &t);
        if (rc != 0)
            break;
        PUSH(tests, nt, tcap, t);
    } while (lx->t == T_COMMA);
    if (rc == 0 && lx->t != T_RPAREN) {
        lex_fail(lx, "\",\" or \")\" expected in a test list");
        rc = ERR_PARSE;
    }
    node->tests = arena_copy(lx->arena, tests, nt * sizeof *tests);
    node->ntests = nt;
    free(tests);
    if (rc == 0)
        lex_next(lx);
    return rc;
}

static int enter(struct lexer *lx)
{
    if (++lx->depth > lx->lim->max_nesting) {
        lex_fail(lx, "nested too deeply (at most %u levels)", lx->lim->max_nesting);
        return ERR_LIMIT;
    }
    return 0;
}

/* test = identifier arguments */
static int parse_test(struct lexer *lx, struct sieve_node *out)
{
    if (lx->t != T_IDENT) {
        lex_fail(lx, "a test expected");
        return ERR_PARSE;
    }
    int rc = enter(lx);
    if (rc != 0)
        return rc;
    out->name = lx->text;
    out->line = lx->tline;
    lex_next(lx);
    rc = parse_arguments(lx, out, true);
    lx->depth--;
    return rc;
}

static int parse_commands(struct lexer *lx, struct sieve_node **out, size_t *nout, bool inner);

/* command = identifier arguments (";" / block) */
static int parse_command(struct lexer *lx, struct sieve_node *c)
{
    c->name = lx->text;
    c->line = lx->tline;
    lex_next(lx);
    int rc = parse_arguments(lx, c, true);
    if (rc != 0)
        return rc;
    if (lx->t == T_SEMI) {
        lex_next(lx);
        return 0;
    }
    if (lx->t != T_LBRACE) {
        lex_fail(lx, "\";\" expected after %s", c->name);
        return ERR_PARSE;
    }
    rc = enter(lx);
    if (rc != 0)
        return rc;
    lex_next(lx);
    c->has_block = true;
    rc = parse_commands(lx, &c->block, &c->nblock, true);
    lx->depth--;
    if (rc != 0)
        return rc;
    if (lx->t != T_RBRACE) {
        lex_fail(lx, "\"}\" expected");
        return ERR_PARSE;
    }
    lex_next(lx);
    return 0;
}

static int parse_commands(struct lexer *lx, struct sieve_node **out, size_t *nout, bool inner)
{
    struct sieve_node *v = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    while (lx->t == T_IDENT) {
        struct sieve_node c = {0};
        rc = parse_command(lx, &c);
        if (rc != 0)
            break;
        PUSH(v, n, cap, c);
    }
    if (rc == 0 && lx->t == T_ERR)
        rc = ERR_PARSE;
    if (rc == 0 && !(lx->t == T_EOF || (inner && lx->t == T_RBRACE))) {
        lex_fail(lx, "a command expected");
        rc = ERR_PARSE;
    }
    *out = arena_copy(lx->arena, v, n * sizeof *v);
    *nout = n;
    free(v);
    return rc;
}

int sieve_script_parse(const char *text, size_t len, const struct sieve_limits *lim,
                       struct sieve_script **out, struct str *err)
{
    struct sieve_limits dl;
    if (!lim) {
        sieve_limits_default(&dl);
        lim = &dl;
    }
    *out = NULL;
    if (len > lim->max_script_size) {
        str_appendf(err, "script too large (%zu octets, at most %zu)", len, lim->max_script_size);
        return ERR_LIMIT;
    }
    struct sieve_script *s = xcalloc(1, sizeof *s);
    msg_arena_init(&s->arena, 8192);
    struct lexer lx = {.p = text, .end = text + len, .line = 1, .arena = &s->arena,
                       .lim = lim, .err = err};
    lex_next(&lx);
    int rc = parse_commands(&lx, &s->cmds, &s->ncmds, false);
    if (rc == 0)
        rc = sieve_check(s, err);
    if (rc != 0) {
        if (err->len == 0)
            str_appends(err, "syntax error");
        sieve_script_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void sieve_script_free(struct sieve_script *s)
{
    if (!s)
        return;
    msg_arena_clear(&s->arena);
    free(s);
}

void sieve_limits_default(struct sieve_limits *l)
{
    l->max_script_size = 64 * 1024;
    l->max_nesting = 32;
    l->max_actions = 32;
    l->max_redirects = 4;
    l->max_includes = 8;
    l->max_variables = 128;
    l->max_var_size = 4096;
}
