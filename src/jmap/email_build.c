/*
 * jmap/email_build — an RFC 5322/MIME message from the Email object of Email/set create
 * (RFC 8621 §4.6): the address and text header properties, textBody/htmlBody with their
 * bodyValues, attachments by blobId (uploaded files or parts of stored messages). A text
 * body and an HTML body become multipart/alternative; attachments wrap that in
 * multipart/mixed. Non-ASCII header text is written as RFC 2047 encoded-words, non-ASCII or
 * long-lined bodies in base64; line ends become CRLF.
 */
#include "jmap/email_int.h"

#include "core/err.h"
#include "core/xmalloc.h"
#include "msg/base64.h"
#include "msg/header.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80 || *s == '\r' || *s == '\n')
            return false;
    return true;
}

static bool ascii_text(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80 || (*s == '\r' && s[1] != '\n'))
            return false;
    return true;
}

/* RFC 2047 B-encoded words of at most 45 octets of UTF-8 each, never splitting a character. */
static void encoded_words(struct str *out, const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        size_t k = n - i > 45 ? 45 : n - i;
        while (i + k < n && ((unsigned char)s[i + k] & 0xc0) == 0x80)
            k--;
        char *b = xmalloc(base64_encoded_size(k) + 1);
        size_t bl = base64_encode(s + i, k, b);
        str_appendf(out, "%s=?UTF-8?B?%.*s?=", i ? "\r\n " : "", (int)bl, b);
        free(b);
        i += k;
    }
}

static void header_text(struct str *out, const char *name, const char *value)
{
    str_appendf(out, "%s: ", name);
    if (ascii(value))
        str_appends(out, value);
    else
        encoded_words(out, value);
    str_appends(out, "\r\n");
}

/* A display name as an atom list, a quoted string or encoded-words. */
static void display_name(struct str *out, const char *name)
{
    if (!ascii(name)) {
        encoded_words(out, name);
        return;
    }
    if (strpbrk(name, "()<>[]:;@\\,.\"") == NULL) {
        str_appends(out, name);
        return;
    }
    str_appendc(out, '"');
    for (; *name; name++) {
        if (*name == '"' || *name == '\\')
            str_appendc(out, '\\');
        str_appendc(out, *name);
    }
    str_appendc(out, '"');
}

static bool email_ok(const char *e)
{
    return e && strchr(e, '@') && !strpbrk(e, " <>\r\n\",;") && strlen(e) < 255;
}

/* Writes an EmailAddress[] header; -1 when an address is malformed. */
static int header_addresses(struct str *out, const char *name, json_t *list)
{
    if (!list || json_is_null(list))
        return 0;
    if (!json_is_array(list) || json_array_size(list) == 0)
        return -1;
    str_appendf(out, "%s: ", name);
    size_t i;
    json_t *a;
    json_array_foreach(list, i, a) {
        const char *email = jmap_str_arg(a, "email"), *dn = jmap_str_arg(a, "name");
        if (!email_ok(email))
            return -1;
        if (i)
            str_appends(out, ",\r\n ");
        if (dn && dn[0]) {
            display_name(out, dn);
            str_appendf(out, " <%s>", email);
        } else {
            str_appends(out, email);
        }
    }
    str_appends(out, "\r\n");
    return 0;
}

static int header_ids(struct str *out, const char *name, json_t *ids)
{
    if (!ids || json_is_null(ids))
        return 0;
    if (!json_is_array(ids))
        return -1;
    str_appendf(out, "%s:", name);
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v) {
        const char *id = json_string_value(v);
        if (!id || !strchr(id, '@') || strpbrk(id, " <>\r\n"))
            return -1;
        str_appendf(out, "%s<%s>", i ? "\r\n " : " ", id);
    }
    str_appends(out, "\r\n");
    return 0;
}

/* Text with line ends made CRLF. */
static void crlf(struct str *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '\n' && (out->len == 0 || out->ptr[out->len - 1] != '\r'))
            str_appendc(out, '\r');
        str_appendc(out, *s);
    }
}

static bool long_lines(const char *s)
{
    size_t run = 0;
    for (; *s; s++) {
        run = *s == '\n' ? 0 : run + 1;
        if (run > 998)
            return true;
    }
    return false;
}

static void base64_lines(struct str *out, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i += 57) {
        size_t k = n - i > 57 ? 57 : n - i;
        char b[80];
        size_t bl = base64_encode(p + i, k, b);
        str_append(out, b, bl);
        str_appends(out, "\r\n");
    }
}

static void text_part(struct str *out, const char *type, const char *value)
{
    bool plain = ascii_text(value) && !long_lines(value);
    str_appendf(out, "Content-Type: %s; charset=utf-8\r\nContent-Transfer-Encoding: %s\r\n\r\n",
                type, plain ? "7bit" : "base64");
    struct str body = STR_INIT;
    crlf(&body, value);
    if (plain) {
        str_append(out, body.ptr ? body.ptr : "", body.len);
        if (body.len < 2 || memcmp(body.ptr + body.len - 2, "\r\n", 2) != 0)
            str_appends(out, "\r\n");
    } else {
        base64_lines(out, body.ptr ? body.ptr : "", body.len);
    }
    str_clear(&body);
}

/* The value of the first part of list in bodyValues, or NULL. */
static const char *body_value(json_t *email, json_t *list, const char *want_type)
{
    json_t *part = json_array_get(list, 0);
    if (!part)
        return NULL;
    const char *pid = jmap_str_arg(part, "partId");
    const char *type = jmap_str_arg(part, "type");
    if (type && strcmp(type, want_type) != 0)
        return NULL;
    return jmap_str_arg(json_object_get(json_object_get(email, "bodyValues"), pid ? pid : ""),
                        "value");
}

static int attachment(struct jmap_ctx *c, struct str *out, json_t *a)
{
    const char *blob = jmap_str_arg(a, "blobId");
    struct str data = STR_INIT, type = STR_INIT;
    if (!blob || jmap_blob_read(c->env->ops, blob, &data, &type) != 0) {
        str_clear(&data);
        str_clear(&type);
        return -1;
    }
    const char *t = jmap_str_arg(a, "type");
    if (!t || strpbrk(t, "\r\n;\"") || !strchr(t, '/'))
        t = type.len && strcmp(type.ptr, "message/rfc822") ? type.ptr : "application/octet-stream";
    const char *name = jmap_str_arg(a, "name");
    const char *disp = jmap_str_arg(a, "disposition");
    const char *cid = jmap_str_arg(a, "cid");
    str_appendf(out, "Content-Type: %s\r\nContent-Transfer-Encoding: base64\r\n", t);
    str_appendf(out, "Content-Disposition: %s", disp && strcmp(disp, "inline") == 0 ? "inline"
                                                                                   : "attachment");
    if (name && name[0]) {
        str_appends(out, "; filename=");
        if (ascii(name) && !strpbrk(name, "\"\\")) {
            str_appendf(out, "\"%s\"", name);
        } else {
            /* RFC 2231 §4: filename*=utf-8''%XX */
            str_appends(out, "*=utf-8''");
            for (const unsigned char *s = (const unsigned char *)name; *s; s++)
                if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                    (*s >= '0' && *s <= '9') || strchr(".-_", *s))
                    str_appendc(out, (char)*s);
                else
                    str_appendf(out, "%%%02X", *s);
        }
    }
    str_appends(out, "\r\n");
    if (cid && !strpbrk(cid, "<>\r\n "))
        str_appendf(out, "Content-ID: <%s>\r\n", cid);
    str_appends(out, "\r\n");
    base64_lines(out, data.ptr ? data.ptr : "", data.len);
    str_clear(&data);
    str_clear(&type);
    return 0;
}

#define MAX_DEPTH 8   /* multipart levels in a bodyStructure */
#define MAX_PARTS 64  /* parts in a bodyStructure */

/* One part of a bodyStructure (RFC 8621 §4.6: "bodyStructure"): a multipart with subParts,
 * a part whose text is in bodyValues (partId), or a blob (blobId) as attachment() writes it.
 * Its header fields first, then a blank line and its body. 0, or -1 with *err_out set. */
static int structure_part(struct jmap_ctx *c, struct str *out, json_t *e, json_t *part,
                          unsigned depth, unsigned *nparts, const char **err_out)
{
    const char *type = jmap_str_arg(part, "type");
    json_t *subs = json_object_get(part, "subParts");
    const char *pid = jmap_str_arg(part, "partId");
    if (!json_is_object(part) || ++*nparts > MAX_PARTS || depth > MAX_DEPTH) {
        *err_out = "bodyStructure is too deep, too large or not an object";
        return -1;
    }
    if (type && (strpbrk(type, "\r\n;\"") || !strchr(type, '/'))) {
        *err_out = "a bodyStructure part's type is malformed";
        return -1;
    }
    if (json_is_array(subs)) {
        if (!type || strncasecmp(type, "multipart/", 10) != 0 || json_array_size(subs) == 0) {
            *err_out = "subParts need a multipart type and at least one part";
            return -1;
        }
        char boundary[64];
        snprintf(boundary, sizeof boundary, "=_pigeon_%s_%u", c->env->random, *nparts);
        str_appendf(out, "Content-Type: %s; boundary=\"%s\"\r\n\r\n", type, boundary);
        size_t i;
        json_t *sub;
        json_array_foreach(subs, i, sub) {
            str_appendf(out, "--%s\r\n", boundary);
            if (structure_part(c, out, e, sub, depth + 1, nparts, err_out) != 0)
                return -1;
        }
        str_appendf(out, "--%s--\r\n", boundary);
        return 0;
    }
    if (pid) {
        const char *v = jmap_str_arg(json_object_get(json_object_get(e, "bodyValues"), pid),
                                     "value");
        if (!v) {
            *err_out = "a bodyStructure partId has no bodyValues entry";
            return -1;
        }
        if (type && strncasecmp(type, "text/", 5) != 0) {
            *err_out = "a part given by partId must be text/*";
            return -1;
        }
        text_part(out, type ? type : "text/plain", v);
        return 0;
    }
    if (jmap_str_arg(part, "blobId")) {
        if (attachment(c, out, part) != 0) {
            *err_out = "a bodyStructure blobId was not found";
            return -1;
        }
        return 0;
    }
    *err_out = "each bodyStructure part needs subParts, partId or blobId";
    return -1;
}

char *jmap_email_build(struct jmap_ctx *c, json_t *e, size_t *len_out, const char **err_out)
{
    struct str m = STR_INIT;
    const struct jmap_env *env = c->env;
    char date[64], boundary[64];
    json_t *from = json_object_get(e, "from");
    json_t *structure = json_object_get(e, "bodyStructure");
    if (structure && (json_object_get(e, "textBody") || json_object_get(e, "htmlBody") ||
                      json_object_get(e, "attachments"))) {
        /* RFC 8621 §4.6: bodyStructure, or textBody/htmlBody/attachments, not both */
        *err_out = "bodyStructure cannot be given with textBody, htmlBody or attachments";
        goto fail;
    }
    if (header_addresses(&m, "From", from) || header_addresses(&m, "Sender", json_object_get(e, "sender")) ||
        header_addresses(&m, "To", json_object_get(e, "to")) ||
        header_addresses(&m, "Cc", json_object_get(e, "cc")) ||
        header_addresses(&m, "Bcc", json_object_get(e, "bcc")) ||
        header_addresses(&m, "Reply-To", json_object_get(e, "replyTo")) ||
        header_ids(&m, "In-Reply-To", json_object_get(e, "inReplyTo")) ||
        header_ids(&m, "References", json_object_get(e, "references"))) {
        *err_out = "an address or message id is malformed";
        goto fail;
    }
    const char *subject = jmap_str_arg(e, "subject");
    if (subject)
        header_text(&m, "Subject", subject);
    msg_date_format((time_t)env->now, date, sizeof date);
    str_appendf(&m, "Date: %s\r\n", date);
    json_t *mid = json_array_get(json_object_get(e, "messageId"), 0);
    const char *domain = strchr(env->user, '@');
    if (mid && json_string_value(mid) && strchr(json_string_value(mid), '@') &&
        !strpbrk(json_string_value(mid), " <>\r\n"))
        str_appendf(&m, "Message-ID: <%s>\r\n", json_string_value(mid));
    else
        str_appendf(&m, "Message-ID: <%s.%lld%s>\r\n", env->random, (long long)env->now,
                    domain ? domain : "@localhost");
    str_appends(&m, "MIME-Version: 1.0\r\n");
    if (structure) {
        unsigned nparts = 0;
        if (structure_part(c, &m, e, structure, 0, &nparts, err_out) != 0)
            goto fail;
        *len_out = m.len;
        return str_steal(&m);
    }
    const char *text = body_value(e, json_object_get(e, "textBody"), "text/plain");
    const char *html = body_value(e, json_object_get(e, "htmlBody"), "text/html");
    json_t *atts = json_object_get(e, "attachments");
    if (!text && !html)
        text = "";
    snprintf(boundary, sizeof boundary, "=_pigeon_%s", env->random);
    bool mixed = json_array_size(atts) > 0, alt = text && html;
    if (mixed)
        str_appendf(&m, "Content-Type: multipart/mixed; boundary=\"%sm\"\r\n\r\n--%sm\r\n", boundary,
                    boundary);
    if (alt) {
        str_appendf(&m, "Content-Type: multipart/alternative; boundary=\"%sa\"\r\n\r\n--%sa\r\n",
                    boundary, boundary);
        text_part(&m, "text/plain", text);
        str_appendf(&m, "--%sa\r\n", boundary);
        text_part(&m, "text/html", html);
        str_appendf(&m, "--%sa--\r\n", boundary);
    } else {
        text_part(&m, text ? "text/plain" : "text/html", text ? text : html);
    }
    size_t i;
    json_t *a;
    json_array_foreach(atts, i, a) {
        str_appendf(&m, "--%sm\r\n", boundary);
        if (attachment(c, &m, a) != 0) {
            *err_out = "an attachment's blobId was not found";
            goto fail;
        }
    }
    if (mixed)
        str_appendf(&m, "--%sm--\r\n", boundary);
    *len_out = m.len;
    return str_steal(&m);
fail:
    str_clear(&m);
    return NULL;
}
