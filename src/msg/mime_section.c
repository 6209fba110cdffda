/*
 * mime_section — BODY[section] (RFC 3501 §6.4.5): which bytes of a message a section
 * specifier names. See mime.h.
 */
#include "msg/mime_int.h"

#include "core/err.h"

#include <string.h>
#include <strings.h>

/* Part n of a message whose root is m (RFC 3501: part 1 of a non-multipart is its body). */
static const struct mime_part *sec_message_part(const struct mime_part *m, uint32_t n)
{
    if (m->kind != MIME_KIND_MULTIPART)
        return n == 1 ? m : NULL;
    const struct mime_part *ch = m->children;
    for (uint32_t k = 1; ch && k < n; k++)
        ch = ch->next;
    return ch;
}

/* Follows the part numbers; NULL when a number names nothing. */
static const struct mime_part *sec_walk(const struct mime_tree *t, const struct mime_section *s)
{
    const struct mime_part *cur = sec_message_part(t->root, s->part[0]);
    for (unsigned i = 1; cur && i < s->nparts; i++) {
        uint32_t n = s->part[i];
        /* A message root stands for its own body only when it is not multipart, so a
         * multipart here is always a body part: take its n-th child. */
        if (cur->kind == MIME_KIND_MULTIPART)
            cur = sec_message_part(cur, n);
        else if (cur->kind == MIME_KIND_MESSAGE)
            cur = sec_message_part(cur->message, n);
        else
            cur = NULL;
    }
    return cur;
}

const struct mime_part *mime_section_part(const struct mime_tree *t, const struct mime_section *s)
{
    if (s->nparts == 0 || s->nparts > MIME_SECTION_MAX_PARTS)
        return NULL;
    for (unsigned i = 0; i < s->nparts; i++)
        if (s->part[i] == 0)
            return NULL;
    return sec_walk(t, s);
}

static void sec_range(struct mime_range *out, size_t off, size_t len)
{
    out->off = off;
    out->len = len;
    out->synth = false;
}

static bool sec_field_listed(const struct mime_section *s, struct slice name)
{
    for (size_t i = 0; i < s->nfields; i++)
        if (slice_eq_ci(name, s->fields[i]))
            return true;
    return false;
}

/* Appends raw field bytes with every line ending as CRLF. */
static void sec_append_crlf(struct str *out, const char *p, size_t n)
{
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '\n' || (i > 0 && p[i - 1] == '\r'))
            continue;
        str_append(out, p + run, i - run);
        str_append(out, "\r\n", 2);
        run = i + 1;
    }
    str_append(out, p + run, n - run);
    if (n == 0 || p[n - 1] != '\n')
        str_append(out, "\r\n", 2);
}

static void sec_header_fields(const char *hdr, size_t len, const struct mime_section *s,
                              struct mime_range *out)
{
    bool want_listed = s->kind == MIME_SECTION_HEADER_FIELDS;
    size_t pos = 0;
    struct mime_field f;
    out->synth = true;
    str_init(&out->data);
    str_reserve(&out->data, 64);
    while (mime_header_next(hdr, len, &pos, &f) > 0)
        if (sec_field_listed(s, f.name) == want_listed)
            sec_append_crlf(&out->data, hdr + f.off, f.len);
    str_append(&out->data, "\r\n", 2);
    out->off = 0;
    out->len = out->data.len;
}

/* HEADER, HEADER.FIELDS[.NOT] and TEXT of the message whose root is m. */
static void sec_message_section(const struct mime_tree *t, const struct mime_part *m,
                                const struct mime_section *s, struct mime_range *out)
{
    switch (s->kind) {
    case MIME_SECTION_HEADER:
        sec_range(out, m->hdr_off, m->hdr_len);
        break;
    case MIME_SECTION_TEXT:
        sec_range(out, m->body_off, m->body_len);
        break;
    default:
        sec_header_fields(t->msg + m->hdr_off, m->hdr_len, s, out);
        break;
    }
}

int mime_section_resolve(const struct mime_tree *t, const struct mime_section *s,
                         struct mime_range *out)
{
    memset(out, 0, sizeof *out);
    if (s->nparts > MIME_SECTION_MAX_PARTS)
        return ERR_NOTFOUND;
    for (unsigned i = 0; i < s->nparts; i++)
        if (s->part[i] == 0)
            return ERR_NOTFOUND;
    if (s->nparts == 0) {
        if (s->kind == MIME_SECTION_BODY)
            sec_range(out, 0, t->len);
        else if (s->kind == MIME_SECTION_MIME)
            return ERR_NOTFOUND; /* MIME needs a part number (RFC 3501 §6.4.5) */
        else
            sec_message_section(t, t->root, s, out);
        return 0;
    }
    const struct mime_part *p = sec_walk(t, s);
    if (!p)
        return ERR_NOTFOUND;
    switch (s->kind) {
    case MIME_SECTION_BODY:
        sec_range(out, p->body_off, p->body_len);
        return 0;
    case MIME_SECTION_MIME:
        sec_range(out, p->hdr_off, p->hdr_len);
        return 0;
    default:
        /* HEADER and TEXT after part numbers need a message/rfc822 part. */
        if (p->kind != MIME_KIND_MESSAGE)
            return ERR_NOTFOUND;
        sec_message_section(t, p->message, s, out);
        return 0;
    }
}

void mime_range_partial(struct mime_range *r, uint32_t start, uint32_t count)
{
    if (start >= r->len) {
        r->off += r->len;
        r->len = 0;
        return;
    }
    r->off += start;
    r->len -= start;
    if (count < r->len)
        r->len = count;
}

struct slice mime_range_bytes(const struct mime_range *r, const char *msg)
{
    if (r->synth)
        return slice_make(str_cstr(&r->data) + r->off, r->len);
    return slice_make(msg + r->off, r->len);
}

void mime_range_clear(struct mime_range *r)
{
    if (r->synth)
        str_clear(&r->data);
    memset(r, 0, sizeof *r);
}
