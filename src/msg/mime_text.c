/*
 * mime_text — decoded header and body text for SEARCH (RFC 3501 §6.4.4). See mime.h.
 */
#include "msg/charset.h"
#include "msg/cte.h"
#include "msg/mime_int.h"
#include "msg/rfc2047.h"

#include <string.h>
#include <strings.h>

size_t mime_text_header(const char *hdr, size_t len, const char *name, struct str *out)
{
    size_t pos = 0, found = 0;
    struct mime_field f;
    struct str v = STR_INIT;
    size_t nlen = name ? strlen(name) : 0;
    while (mime_header_next(hdr, len, &pos, &f) > 0) {
        if (name && (f.name.len != nlen || strncasecmp(f.name.p, name, nlen) != 0))
            continue;
        found++;
        str_reset(&v);
        mime_header_unfold(f.raw.p, f.raw.len, &v);
        if (!name) {
            str_append(out, f.name.p, f.name.len);
            str_append(out, ": ", 2);
        }
        rfc2047_decode(str_cstr(&v), v.len, out);
        str_appendc(out, '\n');
    }
    str_clear(&v);
    return found;
}

static void text_leaf(const struct mime_tree *t, const struct mime_part *p, struct str *out)
{
    struct str raw = STR_INIT;
    const char *enc = p->encoding ? p->encoding : "";
    cte_decode(cte_from_name(enc, strlen(enc)), t->msg + p->body_off, p->body_len, &raw);
    const struct mime_param *cs = mime_param_find(p->params, p->nparams, "charset");
    const char *name = cs ? cs->value : "";
    (void)charset_to_utf8(name, strlen(name), str_cstr(&raw), raw.len, out);
    str_appendc(out, '\n');
    str_clear(&raw);
}

static void text_walk(const struct mime_tree *t, const struct mime_part *p, struct str *out,
                      size_t max)
{
    if (max && out->len >= max)
        return;
    switch (p->kind) {
    case MIME_KIND_MULTIPART:
        for (const struct mime_part *ch = p->children; ch; ch = ch->next)
            text_walk(t, ch, out, max);
        break;
    case MIME_KIND_MESSAGE:
        mime_text_header(t->msg + p->message->hdr_off, p->message->hdr_len, NULL, out);
        text_walk(t, p->message, out, max);
        break;
    case MIME_KIND_TEXT:
        text_leaf(t, p, out);
        break;
    case MIME_KIND_BASIC:
        break;
    }
    if (max && out->len > max)
        out->len = max, out->ptr[max] = '\0';
}

void mime_text_body(const struct mime_tree *t, struct str *out, size_t max_bytes)
{
    text_walk(t, t->root, out, max_bytes);
}
