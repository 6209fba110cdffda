/* binary — see binary.h. */
#include "imap/binary.h"

#include "core/xmalloc.h"
#include "msg/cte.h"

#include <stdlib.h>

#include <string.h>
#include <strings.h>

static enum cte part_cte(const struct mime_part *p)
{
    if (p->kind == MIME_KIND_MULTIPART || p->kind == MIME_KIND_MESSAGE)
        return CTE_BINARY;
    return cte_from_name(p->encoding ? p->encoding : "", p->encoding ? strlen(p->encoding) : 0);
}

/* The header block of p with its Content-Transfer-Encoding field saying binary. */
static void header_binary(const struct mime_tree *t, const struct mime_part *p, struct str *out)
{
    const char *h = t->msg + p->hdr_off;
    size_t pos = 0, from = 0;
    struct mime_field f;
    while (mime_header_next(h, p->hdr_len, &pos, &f) == 1) {
        if (f.name.len != 25 || strncasecmp(f.name.p, "Content-Transfer-Encoding", 25) != 0)
            continue;
        str_append(out, h + from, f.off - from);
        str_appends(out, "Content-Transfer-Encoding: binary\r\n");
        from = f.off + f.len;
    }
    str_append(out, h + from, p->hdr_len - from);
}

static bool part_binary(const struct mime_tree *t, const struct mime_part *p, struct str *out);

/* p's bytes from cur to its end, each part inside it (from its header on) converted. */
static bool inner_binary(const struct mime_tree *t, const struct mime_part *p, size_t cur,
                         struct str *out)
{
    size_t end = p->body_off + p->body_len;
    const struct mime_part *c = p->kind == MIME_KIND_MESSAGE     ? p->message
                                : p->kind == MIME_KIND_MULTIPART ? p->children
                                                                 : NULL;
    bool ok = true;
    for (; c && ok; c = p->kind == MIME_KIND_MESSAGE ? NULL : c->next) {
        if (c->hdr_off < cur || c->body_off + c->body_len > end)
            break; /* not nested as expected: the rest goes as it is */
        str_append(out, t->msg + cur, c->hdr_off - cur);
        ok = part_binary(t, c, out);
        cur = c->body_off + c->body_len;
    }
    str_append(out, t->msg + cur, end - cur);
    return ok;
}

/* The whole part p (header and body) converted; false on an unknown encoding. Recursion is
 * as deep as the tree, which mime_parse bounds (MIME_DEFAULT_MAX_DEPTH). */
static bool part_binary(const struct mime_tree *t, const struct mime_part *p, struct str *out)
{
    enum cte enc = part_cte(p);
    if (enc == CTE_UNKNOWN)
        return false;
    if (enc != CTE_QP && enc != CTE_BASE64)
        return inner_binary(t, p, p->hdr_off, out);
    header_binary(t, p, out);
    cte_decode(enc, t->msg + p->body_off, p->body_len, out);
    return true;
}

bool imap_binary_content(const struct mime_tree *t, const struct mime_part *p, struct str *out)
{
    if (!p)
        return part_binary(t, t->root, out);
    enum cte enc = part_cte(p);
    if (enc == CTE_UNKNOWN)
        return false;
    if (enc == CTE_QP || enc == CTE_BASE64) {
        cte_decode(enc, t->msg + p->body_off, p->body_len, out);
        return true;
    }
    if (p->kind == MIME_KIND_MESSAGE && p->message)
        return part_binary(t, p->message, out);
    return inner_binary(t, p, p->body_off, out);
}

/* The converted size and line feeds of q's body, computed before any part is resized. */
struct binary_size {
    struct mime_part *part;
    size_t len, lines;
};

static void collect_sizes(const struct mime_tree *t, struct mime_part *q, struct binary_size *v,
                          size_t *n, size_t cap)
{
    for (; q && *n < cap; q = q->next) {
        struct str conv = STR_INIT;
        if (imap_binary_content(t, q, &conv)) {
            size_t lines = 0;
            for (size_t i = 0; i < conv.len; i++)
                lines += conv.ptr[i] == '\n';
            v[(*n)++] = (struct binary_size){q, conv.len, lines};
        }
        str_clear(&conv);
        if (q->kind == MIME_KIND_MESSAGE && q->message)
            collect_sizes(t, q->message, v, n, cap);
        else if (q->kind == MIME_KIND_MULTIPART)
            collect_sizes(t, q->children, v, n, cap);
        if (!q->parent)
            break; /* a root or an encapsulated message has no siblings to walk */
    }
}

void imap_binary_resize(struct mime_tree *t, struct mime_part *p)
{
    struct mime_part *top = p ? p : t->root;
    size_t cap = t->nparts + 1, n = 0;
    struct binary_size *v = xcalloc(cap, sizeof(*v));
    /* only top and what is inside it: its siblings stay as they are */
    struct mime_part *next = top->next;
    top->next = NULL;
    collect_sizes(t, top, v, &n, cap);
    top->next = next;
    for (size_t i = 0; i < n; i++) {
        v[i].part->body_len = v[i].len;
        v[i].part->body_lines = v[i].lines;
    }
    free(v);
}
