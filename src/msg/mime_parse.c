/*
 * mime_parse — the part tree of a message (RFC 2045, RFC 2046 §5.1 multipart, §5.2.1
 * message/rfc822). See mime.h.
 */
#include "msg/header.h"
#include "msg/mime_int.h"

#include "core/xmalloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct mp_ctx {
    struct mime_tree *t;
    unsigned max_depth;
    size_t max_parts;
};

/* Line ends in the body: a last line without one is not counted (as Dovecot and UW imapd
 * count the BODYSTRUCTURE size in text lines). */
static size_t mp_count_lines(const char *p, size_t n)
{
    size_t lines = 0;
    const char *end = p + n;
    const char *q = p;
    while (q < end && (q = memchr(q, '\n', (size_t)(end - q))) != NULL) {
        lines++;
        q++;
    }
    return lines;
}

static struct mime_part *mp_part_new(struct mp_ctx *c, unsigned depth)
{
    struct mime_part *p = msg_arena_alloc(&c->t->arena, sizeof *p);
    p->depth = depth;
    c->t->nparts++;
    return p;
}

static void mp_part_parse(struct mp_ctx *c, struct mime_part *p, size_t start, size_t end,
                          bool digest_child);

/* True when line at msg[i..end) is "--" boundary ["--"] [blanks] EOL; *close set for "--". */
static bool mp_is_delimiter(const char *msg, size_t i, size_t end, const char *b, size_t blen,
                            bool *close, size_t *line_end)
{
    if (end - i < blen + 2 || msg[i] != '-' || msg[i + 1] != '-' ||
        memcmp(msg + i + 2, b, blen) != 0)
        return false;
    size_t k = i + 2 + blen;
    *close = false;
    if (end - k >= 2 && msg[k] == '-' && msg[k + 1] == '-') {
        *close = true;
        k += 2;
    }
    while (k < end && (msg[k] == ' ' || msg[k] == '\t')) /* transport padding, §5.1.1 */
        k++;
    if (k < end && msg[k] == '\r' && k + 1 < end && msg[k + 1] == '\n')
        k += 2;
    else if (k < end && msg[k] == '\n')
        k++;
    else if (k != end)
        return false;
    *line_end = k;
    return true;
}

static void mp_child_add(struct mp_ctx *c, struct mime_part *p, struct mime_part **tail,
                         size_t start, size_t end, bool digest)
{
    struct mime_part *ch = mp_part_new(c, p->depth + 1);
    ch->parent = p;
    if (*tail)
        (*tail)->next = ch;
    else
        p->children = ch;
    *tail = ch;
    p->nchildren++;
    mp_part_parse(c, ch, start, end, digest);
}

/* The line break before a delimiter belongs to it (RFC 2046 §5.1.1). */
static size_t mp_part_end(const char *msg, size_t part_start, size_t delim)
{
    size_t e = delim;
    if (e > part_start && msg[e - 1] == '\n') {
        e--;
        if (e > part_start && msg[e - 1] == '\r')
            e--;
    }
    return e;
}

static void mp_multipart_split(struct mp_ctx *c, struct mime_part *p)
{
    const char *msg = c->t->msg;
    const char *b = mime_param_find(p->params, p->nparams, "boundary")->value;
    size_t blen = strlen(b);
    bool digest = strcasecmp(p->subtype, "digest") == 0;
    size_t end = p->body_off + p->body_len;
    size_t i = p->body_off;
    size_t part_start = 0;
    bool open = false;
    struct mime_part *tail = NULL;
    while (i < end) {
        bool close;
        size_t line_end;
        if (mp_is_delimiter(msg, i, end, b, blen, &close, &line_end)) {
            if (open && c->t->nparts < c->max_parts)
                mp_child_add(c, p, &tail, part_start, mp_part_end(msg, part_start, i), digest);
            else if (open)
                c->t->truncated = true;
            if (close)
                return; /* the rest is the epilogue */
            open = true;
            part_start = line_end;
            i = line_end;
            continue;
        }
        const char *lf = memchr(msg + i, '\n', end - i);
        i = lf ? (size_t)(lf - msg) + 1 : end;
    }
    /* No close delimiter: the last part runs to the end (tolerated). */
    if (open && c->t->nparts < c->max_parts)
        mp_child_add(c, p, &tail, part_start, end, digest);
    else if (open)
        c->t->truncated = true;
}

/* RFC 2046 §5.2.1: only identity encodings are allowed for message/rfc822; with another one
 * the body cannot be parsed in place, so the part stays a leaf. */
static bool mp_is_message(const struct mime_part *p)
{
    if (!mime_part_is(p, "message", "rfc822"))
        return false;
    return !p->encoding || strcasecmp(p->encoding, "7bit") == 0 ||
           strcasecmp(p->encoding, "8bit") == 0 || strcasecmp(p->encoding, "binary") == 0;
}

static void mp_part_parse(struct mp_ctx *c, struct mime_part *p, size_t start, size_t end,
                          bool digest_child)
{
    const char *msg = c->t->msg;
    p->hdr_off = start;
    p->hdr_len = msg_header_end(msg + start, end - start);
    p->body_off = start + p->hdr_len;
    p->body_len = end - p->body_off;
    p->body_lines = mp_count_lines(msg + p->body_off, p->body_len);
    mime_fields_parse(c->t, p, digest_child);

    bool multipart = !p->type_defaulted && strcasecmp(p->type, "multipart") == 0;
    bool message = mp_is_message(p);
    p->kind = strcasecmp(p->type, "text") == 0 ? MIME_KIND_TEXT : MIME_KIND_BASIC;
    if (!multipart && !message)
        return;
    if (p->depth + 1 > c->max_depth || c->t->nparts >= c->max_parts) {
        c->t->truncated = true;
        return;
    }
    if (multipart) {
        p->kind = MIME_KIND_MULTIPART;
        mp_multipart_split(c, p);
        return;
    }
    p->kind = MIME_KIND_MESSAGE;
    struct mime_part *m = mp_part_new(c, p->depth + 1);
    m->container = p;
    p->message = m;
    mp_part_parse(c, m, p->body_off, end, false);
}

struct mime_tree *mime_parse(const char *msg, size_t len, const struct mime_limits *lim)
{
    struct mime_tree *t = xcalloc(1, sizeof *t);
    t->msg = msg ? msg : "";
    t->len = len;
    msg_arena_init(&t->arena, 8192);
    struct mp_ctx c = {t, MIME_DEFAULT_MAX_DEPTH, MIME_DEFAULT_MAX_PARTS};
    if (lim) {
        c.max_depth = lim->max_depth;
        c.max_parts = lim->max_parts ? lim->max_parts : 1;
    }
    t->root = mp_part_new(&c, 0);
    mp_part_parse(&c, t->root, 0, len, false);
    return t;
}

void mime_tree_free(struct mime_tree *t)
{
    if (!t)
        return;
    msg_arena_clear(&t->arena);
    free(t);
}
