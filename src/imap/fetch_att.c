/* fetch_att — see fetch_att.h. */
#include "imap/fetch_att.h"

#include "core/err.h"
#include "core/str.h"
#include "core/xmalloc.h"
#include "msg/imapstr.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FETCH_MAX_BODIES 256
#define FETCH_MAX_FIELDS 256

static int fa_fail(const char **err_out, const char *why)
{
    *err_out = why;
    return ERR_PARSE;
}

struct fa_cur {
    const char *s;
    size_t n, i;
};

static bool fa_word(struct fa_cur *c, const char *w)
{
    size_t k = strlen(w);
    if (c->n - c->i < k || strncasecmp(c->s + c->i, w, k) != 0)
        return false;
    c->i += k;
    return true;
}

/* nz-number (or number when allow_zero) fitting in 32 bits. */
static bool fa_number(struct fa_cur *c, bool allow_zero, uint32_t *out)
{
    size_t st = c->i;
    uint64_t v = 0;
    while (c->i < c->n && c->s[c->i] >= '0' && c->s[c->i] <= '9') {
        v = v * 10 + (uint64_t)(c->s[c->i++] - '0');
        if (v > UINT32_MAX)
            return false;
    }
    if (c->i == st || (!allow_zero && v == 0))
        return false;
    *out = (uint32_t)v;
    return true;
}

/* One header-fld-name: an atom of ASTRING-CHARs or a quoted string. */
static bool fa_field_name(struct fa_cur *c, struct str *name)
{
    if (c->i < c->n && c->s[c->i] == '"') {
        for (c->i++; c->i < c->n && c->s[c->i] != '"'; c->i++) {
            if (c->s[c->i] == '\\' && c->i + 1 < c->n)
                c->i++;
            str_appendc(name, c->s[c->i]);
        }
        if (c->i >= c->n)
            return false;
        c->i++;
        return name->len > 0;
    }
    while (c->i < c->n) {
        unsigned char ch = (unsigned char)c->s[c->i];
        if (ch <= ' ' || ch >= 0x7f || strchr("(){%*\"\\", ch))
            break;
        str_appendc(name, (char)ch);
        c->i++;
    }
    return name->len > 0;
}

/* " (" names ")" after HEADER.FIELDS[.NOT]. */
static int fa_field_list(struct fa_cur *c, struct msg_arena *a, struct mime_section *out,
                         struct str *norm, const char **err_out)
{
    if (!fa_word(c, " ("))
        return fa_fail(err_out, "Missing header field list");
    const char **names = msg_arena_alloc(a, FETCH_MAX_FIELDS * sizeof *names);
    size_t n = 0;
    if (norm)
        str_appends(norm, " (");
    for (;;) {
        struct str name = STR_INIT;
        bool ok = fa_field_name(c, &name);
        if (ok && n < FETCH_MAX_FIELDS) {
            names[n++] = msg_arena_strndup(a, name.ptr, name.len);
            if (norm) {
                if (n > 1)
                    str_appendc(norm, ' ');
                imapstr_write_astring(norm, name.ptr, name.len);
            }
        }
        str_clear(&name);
        if (!ok)
            return fa_fail(err_out, "Invalid header field name");
        if (c->i < c->n && c->s[c->i] == ' ') {
            c->i++;
            continue;
        }
        if (c->i < c->n && c->s[c->i] == ')') {
            c->i++;
            break;
        }
        return fa_fail(err_out, "Invalid header field list");
    }
    if (norm)
        str_appendc(norm, ')');
    out->fields = names;
    out->nfields = n;
    return 0;
}

/* The section-msgtext / MIME keyword at the cursor. */
static int fa_section_text(struct fa_cur *c, struct msg_arena *a, struct mime_section *out,
                           struct str *norm, const char **err_out)
{
    static const struct {
        const char *word;
        enum mime_section_kind kind;
    } kw[] = {{"HEADER.FIELDS.NOT", MIME_SECTION_HEADER_FIELDS_NOT},
              {"HEADER.FIELDS", MIME_SECTION_HEADER_FIELDS},
              {"HEADER", MIME_SECTION_HEADER},
              {"TEXT", MIME_SECTION_TEXT},
              {"MIME", MIME_SECTION_MIME}};
    for (size_t k = 0; k < sizeof kw / sizeof kw[0]; k++) {
        if (!fa_word(c, kw[k].word))
            continue;
        out->kind = kw[k].kind;
        if (norm)
            str_appends(norm, kw[k].word);
        if (out->kind == MIME_SECTION_MIME && out->nparts == 0)
            return fa_fail(err_out, "MIME needs a part number");
        if (out->kind == MIME_SECTION_HEADER_FIELDS || out->kind == MIME_SECTION_HEADER_FIELDS_NOT)
            return fa_field_list(c, a, out, norm, err_out);
        return 0;
    }
    return fa_fail(err_out, "Invalid section");
}

int imap_section_parse(const char *s, size_t n, struct msg_arena *arena, struct mime_section *out,
                       struct str *norm, const char **err_out)
{
    struct fa_cur c = {s, n, 0};
    memset(out, 0, sizeof *out);
    out->kind = MIME_SECTION_BODY;
    while (c.i < n && s[c.i] >= '0' && s[c.i] <= '9') {
        uint32_t v;
        if (out->nparts >= MIME_SECTION_MAX_PARTS || !fa_number(&c, false, &v))
            return fa_fail(err_out, "Invalid section part number");
        out->part[out->nparts++] = v;
        if (norm)
            str_appendf(norm, out->nparts > 1 ? ".%u" : "%u", (unsigned)v);
        if (c.i == n)
            return 0;
        if (s[c.i] != '.')
            return fa_fail(err_out, "Invalid section");
        c.i++;
        if (c.i == n)
            return fa_fail(err_out, "Invalid section");
        if (s[c.i] < '0' || s[c.i] > '9') {
            if (norm)
                str_appendc(norm, '.');
            break;
        }
    }
    if (c.i == n)
        return 0;
    int r = fa_section_text(&c, arena, out, norm, err_out);
    if (r == 0 && c.i != n)
        return fa_fail(err_out, "Junk after section");
    return r;
}

/* "BODY[...]<a.b>", "BODY.PEEK[...]<a.b>", "BINARY[.PEEK][n.n]<a.b>", "BINARY.SIZE[n.n]";
 * c is past the "[" . */
static int fa_body_section(struct imap_fetch_atts *fa, struct fa_cur *c, bool peek,
                           enum imap_fetch_body_kind kind, const char **err_out)
{
    const char *close = NULL;
    /* The section ends at the last "]" (field names cannot contain one unquoted). */
    for (size_t k = c->n; k > c->i; k--)
        if (c->s[k - 1] == ']') {
            close = c->s + k - 1;
            break;
        }
    if (!close)
        return fa_fail(err_out, "Missing ']'");
    if (fa->nbodies >= FETCH_MAX_BODIES)
        return fa_fail(err_out, "Too many body sections");
    if (fa->nbodies == fa->bodies_cap) {
        fa->bodies_cap = fa->bodies_cap ? fa->bodies_cap * 2 : 4;
        fa->bodies = xrealloc(fa->bodies, fa->bodies_cap * sizeof *fa->bodies);
    }
    struct imap_fetch_body *b = &fa->bodies[fa->nbodies];
    memset(b, 0, sizeof *b);
    b->peek = peek || kind == IMAP_FB_BINARY_SIZE;
    b->kind = kind;
    struct str name = STR_INIT;
    str_appends(&name, kind == IMAP_FB_BODY     ? "BODY["
                       : kind == IMAP_FB_BINARY ? "BINARY["
                                                : "BINARY.SIZE[");
    int r = imap_section_parse(c->s + c->i, (size_t)(close - (c->s + c->i)), &fa->arena,
                               &b->section, &name, err_out);
    /* RFC 3516 §4.2: section-binary is part numbers only */
    if (r == 0 && kind != IMAP_FB_BODY && b->section.kind != MIME_SECTION_BODY)
        r = fa_fail(err_out, "BINARY takes part numbers only");
    str_appendc(&name, ']');
    c->i = (size_t)(close - c->s) + 1;
    if (r == 0 && c->i < c->n && kind == IMAP_FB_BINARY_SIZE)
        r = fa_fail(err_out, "BINARY.SIZE takes no partial range");
    if (r == 0 && c->i < c->n) {
        if (!fa_word(c, "<") || !fa_number(c, true, &b->start) || !fa_word(c, ".") ||
            !fa_number(c, false, &b->count) || !fa_word(c, ">") || c->i != c->n)
            r = fa_fail(err_out, "Invalid partial range");
        b->partial = true;
        str_appendf(&name, "<%u>", (unsigned)b->start);
    }
    b->name = msg_arena_strndup(&fa->arena, name.ptr, name.len);
    str_clear(&name);
    if (r == 0) {
        fa->nbodies++;
        fa->sets_seen |= !b->peek;
    }
    return r;
}

static int fa_simple(struct imap_fetch_atts *fa, const char *s, size_t n)
{
    static const struct {
        const char *word;
        unsigned flags;
    } simple[] = {{"FLAGS", IMAP_FETCH_FLAGS},
                  {"INTERNALDATE", IMAP_FETCH_INTERNALDATE},
                  {"RFC822.SIZE", IMAP_FETCH_RFC822_SIZE},
                  {"RFC822.HEADER", IMAP_FETCH_RFC822_HEADER},
                  {"RFC822.TEXT", IMAP_FETCH_RFC822_TEXT},
                  {"RFC822", IMAP_FETCH_RFC822},
                  {"ENVELOPE", IMAP_FETCH_ENVELOPE},
                  {"BODYSTRUCTURE", IMAP_FETCH_BODYSTRUCTURE},
                  {"BODY", IMAP_FETCH_BODY},
                  {"UID", IMAP_FETCH_UID},
                  {"MODSEQ", IMAP_FETCH_MODSEQ}};
    for (size_t k = 0; k < sizeof simple / sizeof simple[0]; k++) {
        if (strlen(simple[k].word) != n || strncasecmp(s, simple[k].word, n) != 0)
            continue;
        fa->flags |= simple[k].flags;
        if (simple[k].flags & (IMAP_FETCH_RFC822 | IMAP_FETCH_RFC822_TEXT))
            fa->sets_seen = true;
        return 0;
    }
    return ERR_PARSE;
}

static int fa_att(struct imap_fetch_atts *fa, const struct imap_arg *a, const char **err_out)
{
    if (a->type != IMAP_ARG_ATOM)
        return fa_fail(err_out, "Invalid fetch attribute");
    struct fa_cur c = {a->str, a->len, 0};
    if (fa_word(&c, "BODY.PEEK["))
        return fa_body_section(fa, &c, true, IMAP_FB_BODY, err_out);
    if (fa_word(&c, "BODY["))
        return fa_body_section(fa, &c, false, IMAP_FB_BODY, err_out);
    if (fa_word(&c, "BINARY.PEEK["))
        return fa_body_section(fa, &c, true, IMAP_FB_BINARY, err_out);
    if (fa_word(&c, "BINARY.SIZE["))
        return fa_body_section(fa, &c, true, IMAP_FB_BINARY_SIZE, err_out);
    if (fa_word(&c, "BINARY["))
        return fa_body_section(fa, &c, false, IMAP_FB_BINARY, err_out);
    if (fa_simple(fa, a->str, a->len) < 0)
        return fa_fail(err_out, "Unknown fetch attribute");
    return 0;
}

static bool fa_macro(struct imap_fetch_atts *fa, const struct imap_arg *a)
{
    const unsigned fast = IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE | IMAP_FETCH_RFC822_SIZE;
    if (imap_arg_atom_eq(a, "FAST"))
        fa->flags |= fast;
    else if (imap_arg_atom_eq(a, "ALL"))
        fa->flags |= fast | IMAP_FETCH_ENVELOPE;
    else if (imap_arg_atom_eq(a, "FULL"))
        fa->flags |= fast | IMAP_FETCH_ENVELOPE | IMAP_FETCH_BODY;
    else
        return false;
    return true;
}

int imap_fetch_atts_parse(const struct imap_arg *arg, struct imap_fetch_atts *out,
                          const char **err_out)
{
    memset(out, 0, sizeof *out);
    msg_arena_init(&out->arena, 2048);
    if (arg->type != IMAP_ARG_LIST) {
        if (fa_macro(out, arg))
            return 0;
        return fa_att(out, arg, err_out);
    }
    if (arg->count == 0)
        return fa_fail(err_out, "Empty fetch attribute list");
    for (size_t i = 0; i < arg->count; i++) {
        int r = fa_att(out, &arg->list[i], err_out);
        if (r < 0)
            return r;
    }
    return 0;
}

void imap_fetch_atts_clear(struct imap_fetch_atts *a)
{
    msg_arena_clear(&a->arena);
    free(a->bodies);
    memset(a, 0, sizeof *a);
}
