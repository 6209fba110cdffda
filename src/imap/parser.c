/*
 * parser — incremental IMAP command parser. See parser.h.
 *
 * A command is read a line at a time (a "segment": up to CRLF, or up to a literal header and
 * its CRLF). Each complete segment is parsed in one go, carrying the open lists across
 * segments; no token can span segments except through a literal, so input split anywhere
 * gives the same result. Only line bytes are buffered (bounded by max_line).
 */
#include "imap/parser.h"

#include "core/err.h"
#include "core/str.h"
#include "core/xmalloc.h"
#include "msg/arena.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum pstate { PS_LINE, PS_RAW_LINE, PS_LITERAL, PS_SKIP_LINE, PS_SKIP_LITERAL };

struct plevel {
    struct imap_arg *v;
    size_t n, cap;
};

struct imap_parser {
    struct imap_parser_limits lim;
    enum pstate state;
    struct str line; /* the segment being assembled */
    struct str tmp;  /* scratch for quoted strings */

    /* the command being parsed */
    bool in_cmd;      /* tag and name read */
    bool after_token; /* the last thing read was a token: a separator must follow */
    bool after_close; /* ... and it was ")": "(" may follow directly, as in ")(" */
    const char *tag, *name;
    struct plevel *lv; /* lv[0]: top level; lv[depth]: innermost open list */
    unsigned depth, lv_cap;
    size_t nargs;
    struct msg_arena arena;
    struct imap_cmd cmd;
    bool cmd_done; /* an event ended the command: reset before the next input */

    /* the literal announced last */
    bool lit_pending; /* IMAP_PARSE_LITERAL returned; the caller may still decide */
    bool lit_stream, lit_sync, lit8;
    uint64_t lit_size, lit_got;
    char *lit_buf;

    /* discarding after an error */
    uint64_t skip_left;
    char tail[32]; /* last bytes of the line being skipped */
    size_t tail_len;
};

void imap_parser_limits_default(struct imap_parser_limits *lim)
{
    lim->max_line = 64 * 1024;
    lim->max_literal = 64u * 1024 * 1024;
    lim->max_memory = 65u * 1024 * 1024;
    lim->max_depth = 32;
    lim->max_args = 100000;
}

struct imap_parser *imap_parser_new(const struct imap_parser_limits *lim)
{
    struct imap_parser *p = xcalloc(1, sizeof *p);
    if (lim)
        p->lim = *lim;
    else
        imap_parser_limits_default(&p->lim);
    if (p->lim.max_depth == 0)
        p->lim.max_depth = 1;
    msg_arena_init(&p->arena, 4096);
    p->lv_cap = 4;
    p->lv = xcalloc(p->lv_cap, sizeof *p->lv);
    return p;
}

static void cmd_reset(struct imap_parser *p)
{
    p->in_cmd = false;
    p->after_token = p->after_close = false;
    p->tag = p->name = NULL;
    for (unsigned i = 0; i < p->lv_cap; i++)
        p->lv[i].n = 0;
    p->depth = 0;
    p->nargs = 0;
    msg_arena_reset(&p->arena);
    memset(&p->cmd, 0, sizeof p->cmd);
    p->lit_pending = p->lit_stream = p->lit_sync = false;
    p->lit_size = p->lit_got = 0;
    p->lit_buf = NULL;
}

void imap_parser_free(struct imap_parser *p)
{
    if (!p)
        return;
    for (unsigned i = 0; i < p->lv_cap; i++)
        free(p->lv[i].v);
    free(p->lv);
    str_clear(&p->line);
    str_clear(&p->tmp);
    msg_arena_clear(&p->arena);
    free(p);
}

void imap_parser_reset(struct imap_parser *p)
{
    cmd_reset(p);
    p->cmd_done = false;
    p->state = PS_LINE;
    str_reset(&p->line);
    p->skip_left = 0;
    p->tail_len = 0;
}

/* ---- characters ------------------------------------------------------------------------ */

static bool ch_ctl(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

/* ATOM-CHAR plus the '%', '*', '\' and ']' that lists, flags and astrings use. */
static bool ch_atom(unsigned char c)
{
    return c > 0x20 && c < 0x7f && c != '(' && c != ')' && c != '{' && c != '"';
}

static bool ch_tag(unsigned char c)
{
    return ch_atom(c) && c != '+' && c != '%' && c != '*' && c != '\\';
}

/* Atoms after which "[...]" is a section spec, part of the atom. */
static bool atom_takes_section(const char *s, size_t n)
{
    static const char *const names[] = {"BODY", "BODY.PEEK", "BINARY", "BINARY.PEEK",
                                        "BINARY.SIZE"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i]) == n && strncasecmp(s, names[i], n) == 0)
            return true;
    return false;
}

/* ---- building the tree ----------------------------------------------------------------- */

static int perr(struct imap_parser_event *ev, int code, const char *why)
{
    ev->error = why;
    return code;
}

static int arg_push(struct imap_parser *p, const struct imap_arg *a, struct imap_parser_event *ev)
{
    if (p->nargs >= p->lim.max_args)
        return perr(ev, ERR_LIMIT, "Too many arguments");
    if (p->arena.used > p->lim.max_memory)
        return perr(ev, ERR_LIMIT, "Command too large");
    struct plevel *l = &p->lv[p->depth];
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = *a;
    p->nargs++;
    return 0;
}

static int list_open(struct imap_parser *p, struct imap_parser_event *ev)
{
    if (p->depth + 1 > p->lim.max_depth)
        return perr(ev, ERR_LIMIT, "Lists nested too deeply");
    if (p->nargs >= p->lim.max_args)
        return perr(ev, ERR_LIMIT, "Too many arguments");
    if (p->depth + 1 >= p->lv_cap) {
        unsigned cap = p->lv_cap * 2;
        p->lv = xrealloc(p->lv, cap * sizeof *p->lv);
        memset(p->lv + p->lv_cap, 0, (cap - p->lv_cap) * sizeof *p->lv);
        p->lv_cap = cap;
    }
    p->depth++;
    p->lv[p->depth].n = 0;
    return 0;
}

/* Copies a level's elements into the arena. */
static struct imap_arg *level_freeze(struct imap_parser *p, struct plevel *l)
{
    struct imap_arg *v = msg_arena_alloc(&p->arena, (l->n ? l->n : 1) * sizeof *v);
    if (l->n)
        memcpy(v, l->v, l->n * sizeof *v);
    return v;
}

static int list_close(struct imap_parser *p, struct imap_parser_event *ev)
{
    if (p->depth == 0)
        return perr(ev, ERR_PARSE, "Unexpected ')'");
    struct plevel *l = &p->lv[p->depth];
    struct imap_arg a = {.type = IMAP_ARG_LIST, .count = l->n};
    a.list = level_freeze(p, l);
    p->depth--;
    return arg_push(p, &a, ev);
}

/* ---- tokens ---------------------------------------------------------------------------- */

static int tok_atom(struct imap_parser *p, const char *s, size_t n, size_t *pos,
                    struct imap_parser_event *ev)
{
    size_t st = *pos, i = *pos;
    int br = 0;
    for (; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (br == 0 && (c == ' ' || c == '(' || c == ')'))
            break;
        if (ch_ctl(c))
            return perr(ev, ERR_PARSE, c ? "Control character in command" : "NUL in command");
        if (c >= 0x80)
            return perr(ev, ERR_PARSE, "8-bit character in atom");
        if (br == 0 && (c == '"' || c == '{'))
            return perr(ev, ERR_PARSE, "Unexpected character in atom");
        if (c == '[' && (br > 0 || atom_takes_section(s + st, i - st)))
            br++;
        else if (c == ']' && br > 0)
            br--;
    }
    if (br > 0)
        return perr(ev, ERR_PARSE, "Missing ']'");
    *pos = i;
    struct imap_arg a = {.type = IMAP_ARG_ATOM, .len = i - st};
    a.str = msg_arena_strndup(&p->arena, s + st, i - st);
    if (a.len == 3 && strncasecmp(a.str, "NIL", 3) == 0)
        a.type = IMAP_ARG_NIL;
    return arg_push(p, &a, ev);
}

static int tok_quoted(struct imap_parser *p, const char *s, size_t n, size_t *pos,
                      struct imap_parser_event *ev)
{
    size_t i = *pos + 1;
    str_reset(&p->tmp);
    for (;;) {
        if (i >= n)
            return perr(ev, ERR_PARSE, "Unterminated quoted string");
        char c = s[i++];
        if (c == '"')
            break;
        if (c == '\\') {
            if (i >= n || (s[i] != '"' && s[i] != '\\'))
                return perr(ev, ERR_PARSE, "Invalid escape in quoted string");
            c = s[i++];
        } else if (c == '\0' || c == '\r') {
            return perr(ev, ERR_PARSE, "Invalid character in quoted string");
        }
        str_appendc(&p->tmp, c);
    }
    *pos = i;
    struct imap_arg a = {.type = IMAP_ARG_STRING, .len = p->tmp.len};
    a.str = msg_arena_strndup(&p->arena, str_cstr(&p->tmp), p->tmp.len);
    return arg_push(p, &a, ev);
}

/* "{" digits ["+"] "}" that must end the segment. */
static int tok_literal(struct imap_parser *p, const char *s, size_t n, size_t pos, bool lit8,
                       struct imap_parser_event *ev)
{
    size_t i = pos + 1;
    p->lit8 = lit8;
    uint64_t v = 0;
    size_t digits = 0;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
        if (digits >= 19)
            return perr(ev, ERR_PARSE, "Literal size too long");
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    bool sync = true;
    if (i < n && s[i] == '+') {
        sync = false;
        i++;
    }
    if (digits == 0 || i >= n || s[i] != '}')
        return perr(ev, ERR_PARSE, "Invalid literal size");
    if (i + 1 != n)
        return perr(ev, ERR_PARSE, "Literal size not at the end of the line");
    ev->literal_size = v;
    ev->literal_sync = sync;
    if (v > p->lim.max_literal)
        return perr(ev, ERR_LIMIT, "Literal too large");
    if (p->nargs >= p->lim.max_args)
        return perr(ev, ERR_LIMIT, "Too many arguments");
    p->lit_pending = true;
    p->lit_sync = sync;
    p->lit_stream = false;
    p->lit_size = v;
    p->lit_got = 0;
    ev->literal_depth = p->depth;
    ev->literal_index = p->lv[p->depth].n;
    return IMAP_PARSE_LITERAL;
}

/* ---- segments -------------------------------------------------------------------------- */

static int seg_tag_name(struct imap_parser *p, const char *s, size_t n, size_t *pos,
                        struct imap_parser_event *ev)
{
    if (n == 0) {
        ev->empty_line = true;
        return perr(ev, ERR_PARSE, "Empty command line");
    }
    size_t i = 0;
    while (i < n && ch_tag((unsigned char)s[i]))
        i++;
    if (i == 0 || (i < n && s[i] != ' '))
        return perr(ev, ERR_PARSE, "Invalid tag");
    p->tag = msg_arena_strndup(&p->arena, s, i);
    if (i == n)
        return perr(ev, ERR_PARSE, "Missing command name");
    size_t st = ++i;
    while (i < n && ch_atom((unsigned char)s[i]) && s[i] != '[')
        i++;
    if (i == st || (i < n && s[i] != ' '))
        return perr(ev, ERR_PARSE, i == st ? "Missing command name" : "Invalid command name");
    p->name = msg_arena_strndup(&p->arena, s + st, i - st);
    p->in_cmd = true;
    p->after_token = true;
    *pos = i;
    return 0;
}

static int seg_finish(struct imap_parser *p, struct imap_parser_event *ev)
{
    if (p->depth > 0)
        return perr(ev, ERR_PARSE, "Missing ')'");
    p->cmd.tag = p->tag;
    p->cmd.name = p->name;
    p->cmd.nargs = p->lv[0].n;
    p->cmd.args = level_freeze(p, &p->lv[0]);
    ev->cmd = &p->cmd;
    return IMAP_PARSE_COMMAND;
}

static int seg_token(struct imap_parser *p, const char *s, size_t n, size_t *pos,
                     struct imap_parser_event *ev)
{
    char c = s[*pos];
    if (c == '(') {
        (*pos)++;
        p->after_token = false;
        return list_open(p, ev);
    }
    p->after_token = true;
    if (c == '"')
        return tok_quoted(p, s, n, pos, ev);
    if (c == '{')
        return tok_literal(p, s, n, *pos, false, ev);
    if (c == '~' && *pos + 1 < n && s[*pos + 1] == '{') /* literal8, RFC 3516 §4.1 */
        return tok_literal(p, s, n, *pos + 1, true, ev);
    return tok_atom(p, s, n, pos, ev);
}

static int seg_parse(struct imap_parser *p, const char *s, size_t n, struct imap_parser_event *ev)
{
    size_t pos = 0;
    int r;
    if (!p->in_cmd && (r = seg_tag_name(p, s, n, &pos, ev)) != 0)
        return r;
    while (pos < n) {
        char c = s[pos];
        if (c == ' ') {
            p->after_token = p->after_close = false;
            pos++;
        } else if (c == ')') {
            pos++;
            p->after_token = p->after_close = true;
            if ((r = list_close(p, ev)) != 0)
                return r;
        } else if (p->after_token && !(c == '(' && p->after_close)) {
            return perr(ev, ERR_PARSE, "Missing space between arguments");
        } else {
            p->after_close = false;
            if ((r = seg_token(p, s, n, &pos, ev)) != 0)
                return r;
        }
    }
    return seg_finish(p, ev);
}

/* ---- recovery -------------------------------------------------------------------------- */

/* Size of a "{n+}" that ends s[0..n) (a CR before the end is ignored). */
static bool text_nonsync_literal(const char *s, size_t n, uint64_t *size)
{
    if (n && s[n - 1] == '\r')
        n--;
    if (n < 4 || s[n - 1] != '}' || s[n - 2] != '+')
        return false;
    size_t i = n - 2;
    while (i > 0 && s[i - 1] >= '0' && s[i - 1] <= '9')
        i--;
    if (i == n - 2 || i == 0 || s[i - 1] != '{' || n - 2 - i > 19)
        return false;
    uint64_t v = 0;
    for (size_t k = i; k < n - 2; k++)
        v = v * 10 + (uint64_t)(s[k] - '0');
    *size = v;
    return true;
}

static void tail_push(struct imap_parser *p, const char *s, size_t n)
{
    size_t cap = sizeof p->tail;
    if (n >= cap) {
        memcpy(p->tail, s + n - cap, cap);
        p->tail_len = cap;
        return;
    }
    if (p->tail_len + n > cap) {
        size_t drop = p->tail_len + n - cap;
        memmove(p->tail, p->tail + drop, p->tail_len - drop);
        p->tail_len -= drop;
    }
    memcpy(p->tail + p->tail_len, s, n);
    p->tail_len += n;
}

/* The segment s[0..n) (line end removed) ended the command with an error: discard a
 * non-synchronizing literal it announces, and what follows it. */
static void recover_after_segment(struct imap_parser *p, const char *s, size_t n)
{
    uint64_t size;
    p->cmd_done = true;
    p->tail_len = 0;
    if (text_nonsync_literal(s, n, &size)) {
        p->skip_left = size;
        p->state = PS_SKIP_LITERAL;
    } else {
        p->state = PS_LINE;
    }
}

/* ---- feeding --------------------------------------------------------------------------- */

static void ev_fill_ids(const struct imap_parser *p, struct imap_parser_event *ev)
{
    ev->tag = p->tag;
    ev->name = p->name;
}

static int feed_segment_done(struct imap_parser *p, struct imap_parser_event *ev)
{
    if (p->line.len && p->line.ptr[p->line.len - 1] == '\r')
        p->line.len--;
    if (p->state == PS_RAW_LINE) {
        p->state = PS_LINE;
        p->cmd_done = true;
        ev->data = str_cstr(&p->line);
        ev->len = p->line.len;
        return IMAP_PARSE_LINE;
    }
    int r = seg_parse(p, str_cstr(&p->line), p->line.len, ev);
    if (r == IMAP_PARSE_COMMAND)
        p->cmd_done = true;
    else if (r < 0)
        recover_after_segment(p, str_cstr(&p->line), p->line.len);
    if (r != IMAP_PARSE_COMMAND)
        str_reset(&p->line);
    return r;
}

static int feed_line(struct imap_parser *p, const char *d, size_t n, size_t *used,
                     struct imap_parser_event *ev)
{
    const char *lf = memchr(d, '\n', n);
    size_t take = lf ? (size_t)(lf - d) : n;
    if (p->line.len + take > p->lim.max_line + 1) { /* +1: the CR */
        /* Too long: discard to the end of the line (the skipper reads these bytes). */
        p->tail_len = 0;
        tail_push(p, str_cstr(&p->line), p->line.len);
        str_reset(&p->line);
        p->state = PS_SKIP_LINE;
        p->cmd_done = true;
        *used = 0;
        return perr(ev, ERR_LIMIT, "Line too long");
    }
    str_append(&p->line, d, take);
    if (!lf) {
        *used = n;
        return 0;
    }
    *used = take + 1;
    return feed_segment_done(p, ev);
}

static void literal_done(struct imap_parser *p, struct imap_parser_event *ev)
{
    struct imap_arg a = {
        .len = (size_t)p->lit_size, .literal_sync = p->lit_sync, .literal8 = p->lit8};
    a.type = p->lit_stream ? IMAP_ARG_STREAMED : IMAP_ARG_LITERAL;
    a.str = p->lit_stream ? NULL : p->lit_buf;
    p->state = PS_LINE;
    p->after_token = true;
    if (arg_push(p, &a, ev) < 0) {
        /* Only the limits can fail here; the rest of the command must still be skipped. */
        p->state = PS_SKIP_LINE;
        p->tail_len = 0;
        p->cmd_done = true;
    }
}

/* Applies the caller's decision on the literal announced by the previous event. */
static int literal_begin(struct imap_parser *p, struct imap_parser_event *ev)
{
    p->lit_pending = false;
    p->state = PS_LITERAL;
    if (!p->lit_stream) {
        /* 64: alignment slack, so that pushing the argument cannot fail afterwards. */
        if (p->lit_size > p->lim.max_memory ||
            p->arena.used + p->lit_size + 64 > p->lim.max_memory) {
            ev->literal_size = p->lit_size;
            ev->literal_sync = p->lit_sync;
            p->skip_left = p->lit_size;
            p->state = PS_SKIP_LITERAL;
            p->tail_len = 0;
            p->cmd_done = true;
            return perr(ev, ERR_LIMIT, "Literal too large");
        }
        p->lit_buf = msg_arena_alloc(&p->arena, (size_t)p->lit_size + 1);
    }
    if (p->lit_size == 0) {
        literal_done(p, ev);
        if (p->state == PS_SKIP_LINE)
            return perr(ev, ERR_LIMIT, "Too many arguments");
    }
    return 0;
}

static int feed_literal(struct imap_parser *p, const char *d, size_t n, size_t *used,
                        struct imap_parser_event *ev)
{
    uint64_t want = p->lit_size - p->lit_got;
    size_t take = want < n ? (size_t)want : n;
    *used = take;
    uint64_t off = p->lit_got;
    if (!p->lit_stream) {
        assert(p->lit_buf); /* literal_begin allocated it */
        memcpy(p->lit_buf + off, d, take);
    }
    p->lit_got += take;
    bool complete = p->lit_got == p->lit_size;
    if (complete)
        literal_done(p, ev);
    if (complete && p->state == PS_SKIP_LINE)
        return perr(ev, ERR_LIMIT, ev->error ? ev->error : "Too many arguments");
    if (!p->lit_stream)
        return 0;
    ev->data = d;
    ev->len = take;
    ev->literal_offset = off;
    ev->literal_size = p->lit_size;
    return IMAP_PARSE_LITERAL_DATA;
}

static void feed_skip_line(struct imap_parser *p, const char *d, size_t n, size_t *used)
{
    const char *lf = memchr(d, '\n', n);
    size_t take = lf ? (size_t)(lf - d) : n;
    tail_push(p, d, take);
    if (!lf) {
        *used = n;
        return;
    }
    *used = take + 1;
    uint64_t size;
    if (text_nonsync_literal(p->tail, p->tail_len, &size)) {
        p->skip_left = size;
        p->state = PS_SKIP_LITERAL;
    } else {
        p->state = PS_LINE;
    }
    p->tail_len = 0;
}

static void feed_skip_literal(struct imap_parser *p, size_t n, size_t *used)
{
    size_t take = p->skip_left < n ? (size_t)p->skip_left : n;
    p->skip_left -= take;
    *used = take;
    if (p->skip_left == 0)
        p->state = PS_SKIP_LINE;
}

/* One step on the input; returns an event/error or 0 to go on. */
static int feed_step(struct imap_parser *p, const char *d, size_t n, size_t *used,
                     struct imap_parser_event *ev)
{
    switch (p->state) {
    case PS_LINE:
    case PS_RAW_LINE:
        return feed_line(p, d, n, used, ev);
    case PS_LITERAL:
        return feed_literal(p, d, n, used, ev);
    case PS_SKIP_LINE:
        feed_skip_line(p, d, n, used);
        return 0;
    case PS_SKIP_LITERAL:
        feed_skip_literal(p, n, used);
        return 0;
    }
    return 0;
}

int imap_parser_feed(struct imap_parser *p, const char *data, size_t len, size_t *used_out,
                     struct imap_parser_event *ev)
{
    memset(ev, 0, sizeof *ev);
    *used_out = 0;
    if (p->cmd_done) {
        cmd_reset(p);
        p->cmd_done = false;
        if (p->state == PS_LINE || p->state == PS_RAW_LINE)
            str_reset(&p->line);
    }
    int r = 0;
    if (p->lit_pending && (r = literal_begin(p, ev)) < 0) {
        ev_fill_ids(p, ev);
        return r;
    }
    size_t i = 0;
    while (i < len) {
        size_t used = 0;
        r = feed_step(p, data + i, len - i, &used, ev);
        i += used;
        if (r != 0) {
            *used_out = i;
            ev_fill_ids(p, ev);
            return r;
        }
    }
    *used_out = i;
    ev_fill_ids(p, ev);
    return 0;
}

void imap_parser_literal_stream(struct imap_parser *p)
{
    if (p->lit_pending)
        p->lit_stream = true;
}

void imap_parser_literal_reject(struct imap_parser *p)
{
    if (!p->lit_pending)
        return;
    p->lit_pending = false;
    p->cmd_done = true;
    p->tail_len = 0;
    if (p->lit_sync) {
        p->state = PS_LINE; /* the client sends nothing more for this command */
    } else {
        p->skip_left = p->lit_size;
        p->state = PS_SKIP_LITERAL;
    }
}

void imap_parser_expect_line(struct imap_parser *p)
{
    if (p->state == PS_LINE && (p->cmd_done || !p->in_cmd) && !p->lit_pending)
        p->state = PS_RAW_LINE;
}

bool imap_parser_is_idle(const struct imap_parser *p)
{
    if (p->lit_pending || (p->state != PS_LINE && p->state != PS_RAW_LINE))
        return false;
    return p->cmd_done || (!p->in_cmd && p->line.len == 0);
}

/* ---- argument helpers ------------------------------------------------------------------ */

bool imap_arg_atom_eq(const struct imap_arg *a, const char *word)
{
    return (a->type == IMAP_ARG_ATOM || a->type == IMAP_ARG_NIL) && strlen(word) == a->len &&
           strncasecmp(a->str, word, a->len) == 0;
}

bool imap_arg_get_astring(const struct imap_arg *a, const char **s_out, size_t *len_out)
{
    if (a->type != IMAP_ARG_ATOM && a->type != IMAP_ARG_NIL && a->type != IMAP_ARG_STRING &&
        a->type != IMAP_ARG_LITERAL)
        return false;
    *s_out = a->str;
    *len_out = a->len;
    return true;
}

bool imap_arg_get_string(const struct imap_arg *a, const char **s_out, size_t *len_out)
{
    if (a->type != IMAP_ARG_STRING && a->type != IMAP_ARG_LITERAL)
        return false;
    *s_out = a->str;
    *len_out = a->len;
    return true;
}

bool imap_arg_get_nstring(const struct imap_arg *a, const char **s_out, size_t *len_out)
{
    if (a->type == IMAP_ARG_NIL) {
        *s_out = NULL;
        *len_out = 0;
        return true;
    }
    return imap_arg_get_string(a, s_out, len_out);
}
