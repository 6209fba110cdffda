/*
 * jmap/email_body — the properties of an Email that come from its text (RFC 8621 §4.1.2-4):
 * the convenience header properties, bodyStructure, textBody/htmlBody/attachments by the
 * RFC's parseStructure algorithm, bodyValues (transfer encoding removed, charset converted
 * to UTF-8), preview and hasAttachment; and blobs of single parts for download.
 *
 * partId is the IMAP section number of a leaf part ("1", "2.1"); a part's blobId is the
 * message file's id with "-" and the section ("." as "_"). message/rfc822 parts are leaves.
 */
#include "jmap/email_int.h"

#include "core/err.h"
#include "msg/charset.h"
#include "msg/cte.h"
#include "msg/mime.h"
#include "msg/rfc2047.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PREVIEW_CHARS 256

static const char *const default_props[] = {
    "id",      "blobId", "threadId", "mailboxIds", "keywords",   "size",       "receivedAt",
    "messageId", "inReplyTo", "references", "sender", "from",   "to",        "cc",
    "bcc",     "replyTo", "subject", "sentAt",     "hasAttachment", "preview", "bodyValues",
    "textBody", "htmlBody", "attachments", NULL};
static const char *const default_body_props[] = {"partId", "blobId", "size", "name", "type",
                                                 "charset", "disposition", "cid", "language",
                                                 "location", NULL};

bool jmap_email_prop_needs_text(const char *prop)
{
    static const char *const meta[] = {"id", "blobId", "threadId", "mailboxIds", "keywords",
                                       "size", "receivedAt", NULL};
    for (const char *const *m = meta; *m; m++)
        if (strcmp(*m, prop) == 0)
            return false;
    return true;
}

struct leaf {
    const struct mime_part *p;
    char section[64];
};

/* ---- a body part as an EmailBodyPart ---- */

static bool listed(json_t *props, const char *const *dflt, const char *name)
{
    if (!props) {
        for (; *dflt; dflt++)
            if (strcmp(*dflt, name) == 0)
                return true;
        return false;
    }
    size_t i;
    json_t *p;
    json_array_foreach(props, i, p)
        if (json_string_value(p) && strcmp(json_string_value(p), name) == 0)
            return true;
    return false;
}

static void lower_copy(char *dst, size_t cap, const char *a, const char *b)
{
    snprintf(dst, cap, "%s/%s", a, b);
    for (char *s = dst; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s + 32);
}

/* The part's file name: Content-Disposition filename, else Content-Type name (RFC 2231
 * parameters arrive decoded from the tree; encoded-words are decoded here). */
static json_t *part_name(const struct mime_part *p)
{
    const struct mime_param *n = mime_param_find(p->disp_params, p->ndisp_params, "filename");
    if (!n)
        n = mime_param_find(p->params, p->nparams, "name");
    if (!n)
        return json_null();
    struct str d = STR_INIT;
    rfc2047_decode(n->value, strlen(n->value), &d);
    json_t *j = json_string(d.ptr ? d.ptr : "");
    str_clear(&d);
    return j ? j : json_null();
}

static void blob_of(const char *blob_id, const char *section, char *out, size_t cap)
{
    snprintf(out, cap, "b%s-%s", blob_id, section);
    for (char *s = out; *s; s++)
        if (*s == '.')
            *s = '_';
}

/* Size of the decoded body of a leaf. */
static size_t decoded_size(const struct mime_tree *t, const struct mime_part *p)
{
    enum cte e = p->encoding ? cte_from_name(p->encoding, strlen(p->encoding)) : CTE_7BIT;
    if (e != CTE_BASE64 && e != CTE_QP)
        return p->body_len;
    struct str d = STR_INIT;
    cte_decode(e, t->msg + p->body_off, p->body_len, &d);
    size_t n = d.len;
    str_clear(&d);
    return n;
}

static json_t *part_json(const struct mime_tree *t, const struct mime_part *p, const char *section,
                         const char *blob_id, json_t *props)
{
    json_t *o = json_object();
    char type[256], blob[160];
    lower_copy(type, sizeof type, p->type, p->subtype);
    bool multi = p->kind == MIME_KIND_MULTIPART;
    const struct mime_param *cs = mime_param_find(p->params, p->nparams, "charset");
    if (listed(props, default_body_props, "partId"))
        json_object_set_new(o, "partId", multi ? json_null() : json_string(section));
    if (listed(props, default_body_props, "blobId")) {
        blob_of(blob_id, section, blob, sizeof blob);
        json_object_set_new(o, "blobId", multi ? json_null() : json_string(blob));
    }
    if (listed(props, default_body_props, "size"))
        json_object_set_new(o, "size", json_integer(multi ? 0 : (json_int_t)decoded_size(t, p)));
    if (listed(props, default_body_props, "headers"))
        json_object_set_new(o, "headers", jmap_hdr_all(t->msg + p->hdr_off, p->hdr_len));
    if (listed(props, default_body_props, "name"))
        json_object_set_new(o, "name", part_name(p));
    if (listed(props, default_body_props, "type"))
        json_object_set_new(o, "type", json_string(type));
    if (listed(props, default_body_props, "charset"))
        json_object_set_new(o, "charset",
                            cs ? json_string(cs->value)
                               : p->kind == MIME_KIND_TEXT ? json_string("us-ascii") : json_null());
    if (listed(props, default_body_props, "disposition"))
        json_object_set_new(o, "disposition",
                            p->disposition ? json_string(p->disposition) : json_null());
    if (listed(props, default_body_props, "cid")) {
        json_t *cid = json_null();
        if (p->id) {
            size_t n = strlen(p->id);
            const char *s = p->id;
            if (n >= 2 && s[0] == '<' && s[n - 1] == '>')
                s++, n -= 2;
            cid = json_stringn(s, n);
        }
        json_object_set_new(o, "cid", cid ? cid : json_null());
    }
    if (listed(props, default_body_props, "language")) {
        json_t *l = p->nlanguages ? json_array() : json_null();
        for (size_t i = 0; i < p->nlanguages; i++)
            json_array_append_new(l, json_string(p->languages[i]));
        json_object_set_new(o, "language", l);
    }
    if (listed(props, default_body_props, "location"))
        json_object_set_new(o, "location", p->location ? json_string(p->location) : json_null());
    return o;
}

/* ---- the structure ---- */

static json_t *structure(const struct mime_tree *t, const struct mime_part *p, const char *section,
                         const char *blob_id, json_t *props)
{
    json_t *o = part_json(t, p, section, blob_id, props);
    if (p->kind == MIME_KIND_MULTIPART) {
        json_t *subs = json_array();
        unsigned n = 1;
        for (const struct mime_part *c = p->children; c; c = c->next, n++) {
            char sec[64];
            if (section[0])
                snprintf(sec, sizeof sec, "%s.%u", section, n);
            else
                snprintf(sec, sizeof sec, "%u", n);
            json_array_append_new(subs, structure(t, c, sec, blob_id, props));
        }
        json_object_set_new(o, "subParts", subs);
    }
    return o;
}

static bool is_inline_media(const struct mime_part *p)
{
    return mime_part_is(p, "image", NULL) || mime_part_is(p, "audio", NULL) ||
           mime_part_is(p, "video", NULL);
}

struct lists {
    struct leaf text[64], html[64], att[256];
    size_t ntext, nhtml, natt;
};

static void push(struct leaf *arr, size_t *n, size_t cap, const struct mime_part *p,
                 const char *sec)
{
    if (*n >= cap)
        return;
    arr[*n].p = p;
    snprintf(arr[*n].section, sizeof arr[*n].section, "%s", sec);
    (*n)++;
}

/* RFC 8621 §4.1.4, the parseStructure algorithm. */
static void parse_structure(const struct mime_part *parent, const char *psec, int multi_type,
                            bool in_alternative, struct lists *L)
{
    /* multi_type: 0 mixed, 1 alternative, 2 related */
    size_t text_len = in_alternative ? L->ntext : (size_t)-1;
    size_t html_len = in_alternative ? L->nhtml : (size_t)-1;
    unsigned idx = 0;
    for (const struct mime_part *p = parent->children; p; p = p->next) {
        idx++;
        char sec[64];
        snprintf(sec, sizeof sec, psec[0] ? "%s.%u" : "%s%u", psec, idx);
        bool is_inline = !p->disposition || strcasecmp(p->disposition, "attachment") != 0;
        if (p->kind == MIME_KIND_MULTIPART) {
            int sub = mime_part_is(p, "multipart", "alternative") ? 1
                      : mime_part_is(p, "multipart", "related") ? 2
                                                                : 0;
            parse_structure(p, sec, sub, in_alternative || sub == 1, L);
            continue;
        }
        bool plain = mime_part_is(p, "text", "plain"), html = mime_part_is(p, "text", "html");
        if (is_inline && (plain || html || is_inline_media(p)) &&
            (idx == 1 || (multi_type != 2 && (is_inline_media(p) || p->kind == MIME_KIND_TEXT) &&
                          !mime_param_find(p->disp_params, p->ndisp_params, "filename")))) {
            if (multi_type == 1) {
                if (plain)
                    push(L->text, &L->ntext, 64, p, sec);
                else if (html)
                    push(L->html, &L->nhtml, 64, p, sec);
                else
                    push(L->att, &L->natt, 256, p, sec);
            } else {
                if (plain || html || is_inline_media(p)) {
                    if (!html)
                        push(L->text, &L->ntext, 64, p, sec);
                    if (!plain)
                        push(L->html, &L->nhtml, 64, p, sec);
                }
                if (is_inline_media(p))
                    push(L->att, &L->natt, 256, p, sec);
            }
        } else {
            push(L->att, &L->natt, 256, p, sec);
        }
    }
    if (multi_type == 1 && text_len != (size_t)-1) {
        /* an alternative without one of the two kinds: use the other */
        if (L->ntext == text_len)
            for (size_t i = html_len; i < L->nhtml; i++)
                push(L->text, &L->ntext, 64, L->html[i].p, L->html[i].section);
        if (L->nhtml == html_len)
            for (size_t i = text_len; i < L->ntext; i++)
                push(L->html, &L->nhtml, 64, L->text[i].p, L->text[i].section);
    }
}

static void lists_of(const struct mime_tree *t, struct lists *L)
{
    memset(L, 0, sizeof *L);
    const struct mime_part *root = t->root;
    if (root->kind == MIME_KIND_MULTIPART) {
        int sub = mime_part_is(root, "multipart", "alternative") ? 1
                  : mime_part_is(root, "multipart", "related") ? 2
                                                               : 0;
        parse_structure(root, "", sub, sub == 1, L);
        return;
    }
    /* A single part is the root's only "child" at section 1. */
    bool text = mime_part_is(root, "text", "plain") || mime_part_is(root, "text", "html");
    if (!text) {
        push(L->att, &L->natt, 256, root, "1");
        return;
    }
    if (!mime_part_is(root, "text", "html"))
        push(L->text, &L->ntext, 64, root, "1");
    if (!mime_part_is(root, "text", "plain"))
        push(L->html, &L->nhtml, 64, root, "1");
}

/* The decoded UTF-8 text of a part; *problem set when the charset or bytes were wrong. */
static void part_text(const struct mime_tree *t, const struct mime_part *p, struct str *out,
                      bool *problem)
{
    enum cte e = p->encoding ? cte_from_name(p->encoding, strlen(p->encoding)) : CTE_7BIT;
    struct str raw = STR_INIT;
    cte_decode(e, t->msg + p->body_off, p->body_len, &raw);
    const struct mime_param *cs = mime_param_find(p->params, p->nparams, "charset");
    const char *name = cs ? cs->value : "us-ascii";
    if (charset_to_utf8(name, strlen(name), raw.ptr ? raw.ptr : "", raw.len, out) != 0)
        *problem = true;
    if (e == CTE_UNKNOWN)
        *problem = true;
    str_clear(&raw);
}

/* Cuts s to at most max bytes on a UTF-8 boundary. */
static bool truncate_utf8(struct str *s, uint64_t max)
{
    if (!max || s->len <= max)
        return false;
    size_t n = (size_t)max;
    while (n > 0 && ((unsigned char)s->ptr[n] & 0xc0) == 0x80)
        n--;
    s->len = n;
    s->ptr[n] = '\0';
    return true;
}

static void add_values(const struct mime_tree *t, const struct leaf *arr, size_t n,
                       const struct jmap_body_opts *o, json_t *values)
{
    for (size_t i = 0; i < n; i++) {
        if (arr[i].p->kind != MIME_KIND_TEXT || json_object_get(values, arr[i].section))
            continue;
        struct str text = STR_INIT;
        bool problem = false;
        part_text(t, arr[i].p, &text, &problem);
        bool cut = truncate_utf8(&text, o->max_value_bytes);
        json_t *v = json_string(text.ptr ? text.ptr : "");
        json_object_set_new(values, arr[i].section,
                            json_pack("{s:o, s:b, s:b}", "value", v ? v : json_string(""),
                                      "isEncodingProblem", problem, "isTruncated", cut));
        str_clear(&text);
    }
}

/* Text for the preview: the first text/plain part, else html with tags removed. */
static json_t *preview(const struct mime_tree *t, const struct lists *L)
{
    const struct leaf *src = NULL;
    bool html = false;
    for (size_t i = 0; i < L->ntext && !src; i++)
        if (mime_part_is(L->text[i].p, "text", "plain"))
            src = &L->text[i];
    for (size_t i = 0; i < L->nhtml && !src; i++)
        if (mime_part_is(L->html[i].p, "text", "html"))
            src = &L->html[i], html = true;
    struct str text = STR_INIT, out = STR_INIT;
    bool problem = false;
    if (src)
        part_text(t, src->p, &text, &problem);
    bool space = true, tag = false;
    size_t chars = 0;
    for (size_t i = 0; i < text.len; i++) {
        unsigned char ch = (unsigned char)text.ptr[i];
        if ((ch & 0xc0) != 0x80 && chars >= PREVIEW_CHARS)
            break; /* only ever stop before a whole character */
        if (html && ch == '<')
            tag = true;
        if (tag) {
            if (ch == '>')
                tag = false;
            continue;
        }
        if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') {
            if (!space)
                str_appendc(&out, ' '), chars++;
            space = true;
            continue;
        }
        space = false;
        str_appendc(&out, (char)ch);
        if ((ch & 0xc0) != 0x80)
            chars++;
    }
    if (out.len && out.ptr[out.len - 1] == ' ')
        out.len--;
    json_t *j = json_stringn(out.ptr ? out.ptr : "", out.len);
    str_clear(&text);
    str_clear(&out);
    return j ? j : json_string("");
}

static json_t *leaf_list(const struct mime_tree *t, const struct leaf *arr, size_t n,
                         const char *blob_id, json_t *props)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, part_json(t, arr[i].p, arr[i].section, blob_id, props));
    return a;
}

static void header_props(const char *hdr, size_t hlen, const char *prop, json_t *email)
{
    static const struct {
        const char *prop, *field;
        enum jmap_hdr_form form;
    } conv[] = {{"messageId", "Message-ID", JMAP_HDR_MSGIDS},
                {"inReplyTo", "In-Reply-To", JMAP_HDR_MSGIDS},
                {"references", "References", JMAP_HDR_MSGIDS},
                {"sender", "Sender", JMAP_HDR_ADDRESSES},
                {"from", "From", JMAP_HDR_ADDRESSES},
                {"to", "To", JMAP_HDR_ADDRESSES},
                {"cc", "Cc", JMAP_HDR_ADDRESSES},
                {"bcc", "Bcc", JMAP_HDR_ADDRESSES},
                {"replyTo", "Reply-To", JMAP_HDR_ADDRESSES},
                {"subject", "Subject", JMAP_HDR_TEXT},
                {"sentAt", "Date", JMAP_HDR_DATE}};
    for (size_t i = 0; i < sizeof conv / sizeof conv[0]; i++) {
        if (strcmp(prop, conv[i].prop) != 0)
            continue;
        json_t *v = jmap_hdr_lookup(hdr, hlen, conv[i].field, conv[i].form, false);
        /* An address field that is absent is null, not [] (RFC 8621 §4.1.3). */
        if (json_is_array(v) && json_array_size(v) == 0 && conv[i].form == JMAP_HDR_ADDRESSES) {
            json_decref(v);
            v = json_null();
        }
        json_object_set_new(email, prop, v);
        return;
    }
    char name[256];
    enum jmap_hdr_form form;
    bool all;
    if (strcmp(prop, "headers") == 0)
        json_object_set_new(email, "headers", jmap_hdr_all(hdr, hlen));
    else if (jmap_hdr_prop_parse(prop, name, sizeof name, &form, &all) == 0)
        json_object_set_new(email, prop, jmap_hdr_lookup(hdr, hlen, name, form, all));
}

void jmap_email_from_message(const char *msg, size_t len, const char *blob_id,
                             const struct jmap_body_opts *o, json_t *email)
{
    struct mime_tree *t = mime_parse(msg, len, NULL);
    const char *hdr = msg + t->root->hdr_off;
    size_t hlen = t->root->hdr_len;
    struct lists *L = calloc(1, sizeof *L);
    lists_of(t, L);
    json_t *props = o->properties;
    size_t n = props ? json_array_size(props) : 0;
    for (size_t i = 0; props ? i < n : default_props[i] != NULL; i++) {
        const char *prop = props ? json_string_value(json_array_get(props, i)) : default_props[i];
        if (!prop || !jmap_email_prop_needs_text(prop))
            continue;
        if (strcmp(prop, "bodyStructure") == 0)
            json_object_set_new(email, prop, structure(t, t->root, t->root->kind == MIME_KIND_MULTIPART ? "" : "1", blob_id, o->body_properties));
        else if (strcmp(prop, "textBody") == 0)
            json_object_set_new(email, prop, leaf_list(t, L->text, L->ntext, blob_id, o->body_properties));
        else if (strcmp(prop, "htmlBody") == 0)
            json_object_set_new(email, prop, leaf_list(t, L->html, L->nhtml, blob_id, o->body_properties));
        else if (strcmp(prop, "attachments") == 0)
            json_object_set_new(email, prop, leaf_list(t, L->att, L->natt, blob_id, o->body_properties));
        else if (strcmp(prop, "hasAttachment") == 0)
            json_object_set_new(email, prop, json_boolean(L->natt > 0));
        else if (strcmp(prop, "preview") == 0)
            json_object_set_new(email, prop, preview(t, L));
        else if (strcmp(prop, "bodyValues") == 0) {
            json_t *values = json_object();
            if (o->text_values || o->all_values)
                add_values(t, L->text, L->ntext, o, values);
            if (o->html_values || o->all_values)
                add_values(t, L->html, L->nhtml, o, values);
            if (o->all_values)
                add_values(t, L->att, L->natt, o, values);
            json_object_set_new(email, prop, values);
        } else
            header_props(hdr, hlen, prop, email);
    }
    free(L);
    mime_tree_free(t);
}

/* ---- blobs of parts ---- */

int jmap_blob_id_parse(const char *id, char file_out[33], char part_out[64])
{
    if (!id || id[0] != 'b')
        return ERR_PARSE;
    size_t n = strspn(id + 1, "0123456789abcdef");
    if (n != 32)
        return ERR_PARSE;
    memcpy(file_out, id + 1, 32);
    file_out[32] = '\0';
    const char *rest = id + 33;
    part_out[0] = '\0';
    if (*rest == '\0')
        return 0;
    if (*rest != '-' || strlen(rest + 1) >= 64 || !rest[1] ||
        strspn(rest + 1, "0123456789_") != strlen(rest + 1))
        return ERR_PARSE;
    snprintf(part_out, 64, "%s", rest + 1);
    for (char *s = part_out; *s; s++)
        if (*s == '_')
            *s = '.';
    return 0;
}

/* The leaf at section sec ("1.2") of t, or NULL. */
static const struct mime_part *part_at(const struct mime_tree *t, const char *sec)
{
    const struct mime_part *p = t->root;
    if (p->kind != MIME_KIND_MULTIPART)
        return strcmp(sec, "1") == 0 ? p : NULL;
    while (*sec) {
        char *end;
        unsigned long k = strtoul(sec, &end, 10);
        if (end == sec || k == 0 || p->kind != MIME_KIND_MULTIPART)
            return NULL;
        const struct mime_part *c = p->children;
        for (unsigned long i = 1; c && i < k; i++)
            c = c->next;
        if (!c)
            return NULL;
        p = c;
        sec = *end == '.' ? end + 1 : end;
        if (*end && *end != '.')
            return NULL;
    }
    return p->kind == MIME_KIND_MULTIPART ? NULL : p;
}

int jmap_blob_read(const struct jmap_ops *ops, const char *id, struct str *out,
                   struct str *type_out)
{
    char file[33], part[64];
    if (jmap_blob_id_parse(id, file, part) != 0)
        return ERR_NOTFOUND;
    struct str whole = STR_INIT;
    int rc = ops->read(ops->ctx, file, &whole);
    if (rc != 0) {
        str_clear(&whole);
        return ERR_NOTFOUND;
    }
    if (!part[0]) {
        str_append(out, whole.ptr ? whole.ptr : "", whole.len);
        str_appends(type_out, "message/rfc822");
        str_clear(&whole);
        return 0;
    }
    struct mime_tree *t = mime_parse(whole.ptr ? whole.ptr : "", whole.len, NULL);
    const struct mime_part *p = part_at(t, part);
    if (p) {
        enum cte e = p->encoding ? cte_from_name(p->encoding, strlen(p->encoding)) : CTE_7BIT;
        cte_decode(e, t->msg + p->body_off, p->body_len, out);
        char type[256];
        lower_copy(type, sizeof type, p->type, p->subtype);
        str_appends(type_out, type);
    }
    mime_tree_free(t);
    str_clear(&whole);
    return p ? 0 : ERR_NOTFOUND;
}
