/*
 * mime_bodystructure — the IMAP BODY and BODYSTRUCTURE of a part tree (RFC 3501 §7.4.2,
 * §9 "body"). See mime.h.
 */
#include "msg/imapstr.h"
#include "msg/mime_int.h"

#include <string.h>
#include <strings.h>

struct bs_ctx {
    const struct mime_tree *t;
    unsigned flags;
    struct str *out;
};

static void bs_part(struct bs_ctx *c, const struct mime_part *p);

static bool bs_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return false;
    return true;
}

/* RFC 2231 §7 attribute-char: sent as is; everything else as %XX. */
static bool bs_attr_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$&+-.^_`|~", c));
}

static void bs_param(struct bs_ctx *c, const struct mime_param *p)
{
    if (!p->ext || bs_ascii(p->value) || (c->flags & MIME_BS_UTF8)) {
        imapstr_write(c->out, p->name, strlen(p->name));
        str_appendc(c->out, ' ');
        imapstr_write(c->out, p->value, strlen(p->value));
        return;
    }
    /* Non-ASCII for a 7-bit client: keep RFC 2231 form so that nothing is lost. */
    struct str n = STR_INIT, v = STR_INIT;
    str_appends(&n, p->name);
    str_appendc(&n, '*');
    str_appends(&v, "utf-8''");
    for (const unsigned char *s = (const unsigned char *)p->value; *s; s++) {
        if (bs_attr_char(*s))
            str_appendc(&v, (char)*s);
        else
            str_appendf(&v, "%%%02X", *s);
    }
    imapstr_write(c->out, n.ptr, n.len);
    str_appendc(c->out, ' ');
    imapstr_write(c->out, v.ptr, v.len);
    str_clear(&n);
    str_clear(&v);
}

static void bs_params(struct bs_ctx *c, const struct mime_param *ps, size_t n)
{
    if (n == 0) {
        str_appends(c->out, "NIL");
        return;
    }
    str_appendc(c->out, '(');
    for (size_t i = 0; i < n; i++) {
        if (i)
            str_appendc(c->out, ' ');
        bs_param(c, &ps[i]);
    }
    str_appendc(c->out, ')');
}

static void bs_sp_nstring(struct bs_ctx *c, const char *s)
{
    str_appendc(c->out, ' ');
    imapstr_write_nstring(c->out, s);
}

/* body-fld-dsp SP body-fld-lang SP body-fld-loc, each with its leading space. */
static void bs_ext_common(struct bs_ctx *c, const struct mime_part *p)
{
    str_appendc(c->out, ' ');
    if (p->disposition) {
        str_appendc(c->out, '(');
        imapstr_write(c->out, p->disposition, strlen(p->disposition));
        str_appendc(c->out, ' ');
        bs_params(c, p->disp_params, p->ndisp_params);
        str_appendc(c->out, ')');
    } else {
        str_appends(c->out, "NIL");
    }
    if (p->nlanguages == 1) {
        bs_sp_nstring(c, p->languages[0]);
    } else if (p->nlanguages > 1) {
        str_appends(c->out, " (");
        for (size_t i = 0; i < p->nlanguages; i++) {
            if (i)
                str_appendc(c->out, ' ');
            imapstr_write(c->out, p->languages[i], strlen(p->languages[i]));
        }
        str_appendc(c->out, ')');
    } else {
        str_appends(c->out, " NIL");
    }
    bs_sp_nstring(c, p->location);
}

static void bs_empty_text(struct bs_ctx *c)
{
    str_appends(c->out, "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 0 0");
    if (c->flags & MIME_BS_EXTENSIONS)
        str_appends(c->out, " NIL NIL NIL NIL");
    str_appendc(c->out, ')');
}

static void bs_multipart(struct bs_ctx *c, const struct mime_part *p)
{
    str_appendc(c->out, '(');
    if (!p->children)
        bs_empty_text(c);
    for (const struct mime_part *ch = p->children; ch; ch = ch->next)
        bs_part(c, ch);
    bs_sp_nstring(c, p->subtype);
    if (c->flags & MIME_BS_EXTENSIONS) {
        str_appendc(c->out, ' ');
        bs_params(c, p->params, p->nparams);
        bs_ext_common(c, p);
    }
    str_appendc(c->out, ')');
}

/* A container left as a leaf (limits, or message/rfc822 in base64) must not be written as
 * MULTIPART or MESSAGE/RFC822: clients would expect children or an envelope. */
static bool bs_leaf_disguise(const struct mime_part *p)
{
    return p->kind == MIME_KIND_BASIC &&
           (strcasecmp(p->type, "multipart") == 0 || mime_part_is(p, "message", "rfc822"));
}

static void bs_leaf(struct bs_ctx *c, const struct mime_part *p)
{
    str_appendc(c->out, '(');
    if (bs_leaf_disguise(p)) {
        str_appends(c->out, "\"APPLICATION\" \"OCTET-STREAM\"");
    } else {
        imapstr_write_nstring(c->out, p->type);
        bs_sp_nstring(c, p->subtype);
    }
    str_appendc(c->out, ' ');
    bs_params(c, p->params, p->nparams);
    bs_sp_nstring(c, p->id);
    bs_sp_nstring(c, p->description);
    bs_sp_nstring(c, p->encoding ? p->encoding : "7BIT");
    str_appendf(c->out, " %zu", p->body_len);
    if (p->kind == MIME_KIND_MESSAGE) {
        const struct mime_part *m = p->message;
        str_appendc(c->out, ' ');
        mime_envelope_write(c->t->msg + m->hdr_off, m->hdr_len, c->out);
        str_appendc(c->out, ' ');
        bs_part(c, m);
    }
    if (p->kind == MIME_KIND_MESSAGE || p->kind == MIME_KIND_TEXT)
        str_appendf(c->out, " %zu", p->body_lines);
    if (c->flags & MIME_BS_EXTENSIONS) {
        bs_sp_nstring(c, p->md5);
        bs_ext_common(c, p);
    }
    str_appendc(c->out, ')');
}

static void bs_part(struct bs_ctx *c, const struct mime_part *p)
{
    if (p->kind == MIME_KIND_MULTIPART)
        bs_multipart(c, p);
    else
        bs_leaf(c, p);
}

void mime_bodystructure_write(const struct mime_tree *t, const struct mime_part *p, unsigned flags,
                              struct str *out)
{
    struct bs_ctx c = {t, flags, out};
    bs_part(&c, p ? p : t->root);
}
