/*
 * jmap/email_query — Email/query and /queryChanges (RFC 8621 §4.4-4.5), SearchSnippet/get
 * (§5.1). Filters over the snapshot's rows; conditions on the text (text, from, to, cc, bcc,
 * subject, body, header) read and decode the message (msg/mime.h), case-insensitively.
 * One message per thread, so collapseThreads changes nothing.
 */
#include "jmap/email_int.h"

#include "core/err.h"
#include "core/xmalloc.h"
#include "msg/mime.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SEARCH_BODY_MAX (1u << 20)

/* A message's decoded text, read when a condition first needs it. */
struct text {
    bool loaded;
    struct str msg, headers, body;
    struct mime_tree *tree;
};

static void text_load(struct jmap_ctx *c, const struct jmap_row *r, struct text *t)
{
    if (t->loaded)
        return;
    t->loaded = true;
    if (c->env->ops->read(c->env->ops->ctx, r->blob, &t->msg) != 0)
        return;
    t->tree = mime_parse(t->msg.ptr ? t->msg.ptr : "", t->msg.len, NULL);
    mime_text_header(t->msg.ptr + t->tree->root->hdr_off, t->tree->root->hdr_len, NULL,
                     &t->headers);
    mime_text_body(t->tree, &t->body, SEARCH_BODY_MAX);
}

static void text_clear(struct text *t)
{
    if (t->tree)
        mime_tree_free(t->tree);
    str_clear(&t->msg);
    str_clear(&t->headers);
    str_clear(&t->body);
    *t = (struct text){0};
}

static bool contains(const struct str *s, const char *needle)
{
    return s->ptr && strcasestr(s->ptr, needle) != NULL;
}

static bool field_contains(struct text *t, const char *field, const char *needle)
{
    if (!t->tree)
        return false;
    struct str v = STR_INIT;
    size_t n = mime_text_header(t->msg.ptr + t->tree->root->hdr_off, t->tree->root->hdr_len,
                                field, &v);
    bool ok = n > 0 && (!needle || !needle[0] || contains(&v, needle));
    str_clear(&v);
    return ok;
}

/* -1 on an unknown condition (the caller answers unsupportedFilter). */
static int cond_matches(struct jmap_ctx *c, const struct jmap_row *r, json_t *f, struct text *t)
{
    const char *k;
    json_t *v;
    json_object_foreach(f, k, v) {
        int64_t mb;
        const char *s = json_string_value(v);
        bool ok;
        if (strcmp(k, "inMailbox") == 0) {
            ok = jmap_mbox_id_parse(jmap_resolve_id(c, s), &mb) == 0 && mb == r->mailbox_id;
        } else if (strcmp(k, "inMailboxOtherThan") == 0) {
            ok = true;
            size_t i;
            json_t *x;
            json_array_foreach(v, i, x)
                if (jmap_mbox_id_parse(json_string_value(x), &mb) == 0 && mb == r->mailbox_id)
                    ok = false;
        } else if (strcmp(k, "before") == 0) {
            ok = r->received < jmap_utc_parse(json_string_value(v), -1);
        } else if (strcmp(k, "after") == 0) {
            ok = r->received >= jmap_utc_parse(json_string_value(v), -1);
        } else if (strcmp(k, "minSize") == 0) {
            ok = r->size >= json_integer_value(v);
        } else if (strcmp(k, "maxSize") == 0) {
            ok = r->size < json_integer_value(v);
        } else if (strcmp(k, "hasKeyword") == 0 || strcmp(k, "notKeyword") == 0 ||
                   strcmp(k, "allInThreadHaveKeyword") == 0 ||
                   strcmp(k, "someInThreadHaveKeyword") == 0 ||
                   strcmp(k, "noneInThreadHaveKeyword") == 0) {
            json_t *kw = jmap_keywords_from_flags(r->flags);
            bool has = false;
            const char *kk;
            json_t *kv;
            json_object_foreach(kw, kk, kv)
                has |= s && strcasecmp(kk, s) == 0;
            json_decref(kw);
            ok = (strcmp(k, "notKeyword") == 0 || strcmp(k, "noneInThreadHaveKeyword") == 0) ? !has
                                                                                              : has;
        } else if (strcmp(k, "hasAttachment") == 0) {
            text_load(c, r, t);
            bool att = t->tree && (t->tree->root->kind == MIME_KIND_MULTIPART &&
                                   (mime_part_is(t->tree->root, "multipart", "mixed")));
            ok = att == json_is_true(v);
        } else if (strcmp(k, "text") == 0) {
            text_load(c, r, t);
            ok = s && (contains(&t->headers, s) || contains(&t->body, s));
        } else if (strcmp(k, "body") == 0) {
            text_load(c, r, t);
            ok = s && contains(&t->body, s);
        } else if (!strcmp(k, "from") || !strcmp(k, "to") || !strcmp(k, "cc") ||
                   !strcmp(k, "bcc") || !strcmp(k, "subject")) {
            text_load(c, r, t);
            ok = s && field_contains(t, k, s);
        } else if (strcmp(k, "header") == 0) {
            text_load(c, r, t);
            const char *name = json_string_value(json_array_get(v, 0));
            const char *val = json_string_value(json_array_get(v, 1));
            ok = name && field_contains(t, name, val);
        } else {
            return -1;
        }
        if (!ok)
            return 0;
    }
    return 1;
}

static int filter_matches(struct jmap_ctx *c, const struct jmap_row *r, json_t *f, struct text *t,
                          unsigned depth)
{
    if (!f || json_is_null(f))
        return 1;
    if (!json_is_object(f) || depth > 16)
        return -1;
    const char *op = jmap_str_arg(f, "operator");
    if (!op)
        return cond_matches(c, r, f, t);
    json_t *conds = json_object_get(f, "conditions");
    if (!json_is_array(conds))
        return -1;
    bool and_ = strcmp(op, "AND") == 0, or_ = strcmp(op, "OR") == 0, not_ = strcmp(op, "NOT") == 0;
    if (!and_ && !or_ && !not_)
        return -1;
    size_t i;
    json_t *x;
    bool any = false, all = true;
    json_array_foreach(conds, i, x) {
        int m = filter_matches(c, r, x, t, depth + 1);
        if (m < 0)
            return -1;
        any |= m == 1;
        all &= m == 1;
    }
    return and_ ? all : or_ ? any : !any;
}

/* Whether a filter only uses operators and conditions this server knows (checked before any
 * row is looked at, so an empty mailbox gives the same error as a full one). */
static bool filter_valid(json_t *f, unsigned depth)
{
    static const char *const conds[] = {
        "inMailbox", "inMailboxOtherThan", "before", "after", "minSize", "maxSize",
        "hasKeyword", "notKeyword", "allInThreadHaveKeyword", "someInThreadHaveKeyword",
        "noneInThreadHaveKeyword", "hasAttachment", "text", "body", "from", "to", "cc", "bcc",
        "subject", "header", NULL};
    if (!f || json_is_null(f))
        return true;
    if (!json_is_object(f) || depth > 16)
        return false;
    const char *op = jmap_str_arg(f, "operator");
    if (op) {
        json_t *list = json_object_get(f, "conditions");
        if ((strcmp(op, "AND") && strcmp(op, "OR") && strcmp(op, "NOT")) || !json_is_array(list))
            return false;
        size_t i;
        json_t *x;
        json_array_foreach(list, i, x)
            if (!filter_valid(x, depth + 1))
                return false;
        return true;
    }
    const char *k;
    json_t *v;
    json_object_foreach(f, k, v) {
        bool known = false;
        for (const char *const *c = conds; *c && !known; c++)
            known = strcmp(*c, k) == 0;
        if (!known)
            return false;
    }
    return true;
}

/* Sort: the rows' indexes by the comparator list. */
struct sort_key {
    int prop; /* 0 receivedAt, 1 size, 2 id */
    bool asc;
};
struct sort_ctx {
    const struct jmap_snap *s;
    struct sort_key keys[4];
    size_t nkeys;
};
static int row_order(const void *a, const void *b, void *arg)
{
    const struct sort_ctx *sort_now = arg;
    const struct jmap_row *x = &sort_now->s->rows[*(const size_t *)a];
    const struct jmap_row *y = &sort_now->s->rows[*(const size_t *)b];
    for (size_t i = 0; i < sort_now->nkeys; i++) {
        int64_t vx, vy;
        switch (sort_now->keys[i].prop) {
        case 0:
            vx = x->received, vy = y->received;
            break;
        case 1:
            vx = x->size, vy = y->size;
            break;
        default:
            vx = x->mailbox_id, vy = y->mailbox_id;
            if (vx == vy)
                vx = x->uid, vy = y->uid;
        }
        if (vx != vy)
            return (vx < vy) == sort_now->keys[i].asc ? -1 : 1;
    }
    /* stable: by id */
    if (x->mailbox_id != y->mailbox_id)
        return x->mailbox_id < y->mailbox_id ? 1 : -1;
    return x->uid < y->uid ? 1 : x->uid > y->uid ? -1 : 0;
}

static int sort_parse(json_t *sort, struct sort_ctx *sc)
{
    sc->nkeys = 0;
    if (!sort || json_is_null(sort)) {
        sc->keys[sc->nkeys++] = (struct sort_key){0, false};
        return 0;
    }
    if (!json_is_array(sort) || json_array_size(sort) > 4)
        return -1;
    size_t i;
    json_t *x;
    json_array_foreach(sort, i, x) {
        const char *p = jmap_str_arg(x, "property");
        json_t *asc = json_object_get(x, "isAscending");
        struct sort_key k = {.asc = !asc || json_is_true(asc)};
        if (!p)
            return -1;
        if (strcmp(p, "receivedAt") == 0)
            k.prop = 0;
        else if (strcmp(p, "size") == 0)
            k.prop = 1;
        else if (strcmp(p, "id") == 0)
            k.prop = 2;
        else
            return -2;
        sc->keys[sc->nkeys++] = k;
    }
    return 0;
}

/* The indexes of rows matching filter, in sort order. -1 unsupportedFilter, -2 sort. */
static int query_rows(struct jmap_ctx *c, json_t *filter, json_t *sort, size_t **out, size_t *n)
{
    struct sort_ctx sc = {.s = &c->snap};
    int src = sort_parse(sort, &sc);
    if (src < 0)
        return src == -1 ? -3 : -2;
    if (!filter_valid(filter, 0))
        return -1;
    size_t *idx = xmalloc((c->snap.nrows + 1) * sizeof *idx);
    size_t k = 0;
    for (size_t i = 0; i < c->snap.nrows; i++) {
        struct text t = {0};
        int m = filter_matches(c, &c->snap.rows[i], filter, &t, 0);
        text_clear(&t);
        if (m < 0) {
            free(idx);
            return -1;
        }
        if (m)
            idx[k++] = i;
    }
    qsort_r(idx, k, sizeof *idx, row_order, &sc);
    *out = idx;
    *n = k;
    return 0;
}

json_t *jmap_email_query(struct jmap_ctx *c, json_t *args)
{
    if (!jmap_account_ok(c, args))
        return NULL;
    json_t *pos_j = json_object_get(args, "position"), *limit_j = json_object_get(args, "limit");
    if ((pos_j && !json_is_integer(pos_j)) ||
        (limit_j && !json_is_null(limit_j) &&
         (!json_is_integer(limit_j) || json_integer_value(limit_j) < 0)))
        return jmap_method_error(c, "invalidArguments", "position or limit");
    if (jmap_snap_load(c) != 0)
        return NULL;
    size_t *idx, n;
    int rc = query_rows(c, json_object_get(args, "filter"), json_object_get(args, "sort"), &idx, &n);
    if (rc == -1)
        return jmap_method_error(c, "unsupportedFilter", NULL);
    if (rc == -2)
        return jmap_method_error(c, "unsupportedSort", NULL);
    if (rc < 0)
        return jmap_method_error(c, "invalidArguments", "sort");
    json_int_t pos = json_integer_value(pos_j);
    const char *anchor = jmap_str_arg(args, "anchor");
    if (anchor) {
        int64_t mb, uid;
        json_int_t at = -1;
        if (jmap_email_id_parse(anchor, &mb, &uid) == 0)
            for (size_t i = 0; i < n && at < 0; i++)
                if (c->snap.rows[idx[i]].mailbox_id == mb && c->snap.rows[idx[i]].uid == uid)
                    at = (json_int_t)i;
        if (at < 0) {
            free(idx);
            return jmap_method_error(c, "anchorNotFound", NULL);
        }
        pos = at + json_integer_value(json_object_get(args, "anchorOffset"));
        if (pos < 0)
            pos = 0;
    } else if (pos < 0) {
        pos = (json_int_t)n + pos;
        if (pos < 0)
            pos = 0;
    }
    uint64_t limit = json_is_integer(limit_j) ? (uint64_t)json_integer_value(limit_j) : UINT64_MAX;
    json_t *ids = json_array();
    for (size_t i = (size_t)pos; i < n && json_array_size(ids) < limit; i++)
        json_array_append_new(ids, jmap_email_id_json(c->snap.rows[idx[i]].mailbox_id,
                                                      c->snap.rows[idx[i]].uid, 'e'));
    free(idx);
    json_t *res = json_pack("{s:s, s:o, s:b, s:I, s:o}", "accountId", c->env->account_id, "queryState",
                            jmap_state_json(c), "canCalculateChanges", 0, "position",
                            (json_int_t)((size_t)pos < n ? (size_t)pos : n), "ids", ids);
    if (json_is_true(json_object_get(args, "calculateTotal")))
        json_object_set_new(res, "total", json_integer((json_int_t)n));
    return res;
}

json_t *jmap_email_query_changes(struct jmap_ctx *c, json_t *args)
{
    if (!jmap_account_ok(c, args))
        return NULL;
    return jmap_method_error(c, "cannotCalculateChanges", "query again");
}

/* ---- SearchSnippet/get ---- */

/* The first text term of a filter (text, subject or body), or NULL. */
static const char *filter_term(json_t *f, unsigned depth)
{
    if (!json_is_object(f) || depth > 16)
        return NULL;
    const char *t = jmap_str_arg(f, "text");
    if (!t)
        t = jmap_str_arg(f, "subject");
    if (!t)
        t = jmap_str_arg(f, "body");
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(f, "conditions"), i, x)
        if (!t && strcmp(jmap_str_arg(f, "operator") ?: "", "NOT") != 0)
            t = filter_term(x, depth + 1);
    return t;
}

/* Appends s[0..n) HTML-escaped with every occurrence of term in <mark>. */
static void mark(struct str *out, const char *s, size_t n, const char *term)
{
    size_t tl = term ? strlen(term) : 0;
    for (size_t i = 0; i < n;) {
        if (tl && i + tl <= n && strncasecmp(s + i, term, tl) == 0) {
            str_appends(out, "<mark>");
            for (size_t k = 0; k < tl; k++, i++)
                str_appendc(out, s[i] == '<' ? '?' : s[i]);
            str_appends(out, "</mark>");
            continue;
        }
        char ch = s[i++];
        if (ch == '<')
            str_appends(out, "&lt;");
        else if (ch == '>')
            str_appends(out, "&gt;");
        else if (ch == '&')
            str_appends(out, "&amp;");
        else
            str_appendc(out, ch);
    }
}

static json_t *snippet(struct jmap_ctx *c, const struct jmap_row *r, const char *term, json_t *id)
{
    struct text t = {0};
    text_load(c, r, &t);
    json_t *o = json_pack("{s:O, s:n, s:n}", "emailId", id, "subject", "preview");
    if (!t.tree || !term) {
        text_clear(&t);
        return o;
    }
    struct str subj = STR_INIT, out = STR_INIT;
    mime_text_header(t.msg.ptr + t.tree->root->hdr_off, t.tree->root->hdr_len, "Subject", &subj);
    if (subj.ptr && strcasestr(subj.ptr, term)) {
        mark(&out, subj.ptr, strcspn(subj.ptr, "\n"), term);
        json_object_set_new(o, "subject", json_string(out.ptr) ?: json_null());
    }
    const char *hit = t.body.ptr ? strcasestr(t.body.ptr, term) : NULL;
    if (hit) {
        const char *from = hit - t.body.ptr > 60 ? hit - 60 : t.body.ptr;
        while (from > t.body.ptr && ((unsigned char)*from & 0xc0) == 0x80)
            from--;
        size_t len = strnlen(from, 255);
        while (len > 0 && ((unsigned char)from[len] & 0xc0) == 0x80)
            len--;
        str_reset(&out);
        mark(&out, from, len, term);
        for (size_t i = 0; i < out.len; i++)
            if (out.ptr[i] == '\r' || out.ptr[i] == '\n')
                out.ptr[i] = ' ';
        json_object_set_new(o, "preview", json_string(out.ptr) ?: json_null());
    }
    str_clear(&subj);
    str_clear(&out);
    text_clear(&t);
    return o;
}

json_t *jmap_snippet_get(struct jmap_ctx *c, json_t *args)
{
    if (!jmap_account_ok(c, args))
        return NULL;
    json_t *ids = json_object_get(args, "emailIds");
    if (!json_is_array(ids))
        return jmap_method_error(c, "invalidArguments", "emailIds");
    if (json_array_size(ids) > c->env->lim->max_objects_in_get)
        return jmap_method_error(c, "requestTooLarge", NULL);
    if (jmap_snap_load(c) != 0)
        return NULL;
    const char *term = filter_term(json_object_get(args, "filter"), 0);
    json_t *list = json_array(), *not_found = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v) {
        int64_t mb, uid;
        const struct jmap_row *r = jmap_email_id_parse(json_string_value(v), &mb, &uid) == 0
                                       ? jmap_row_find(&c->snap, mb, uid)
                                       : NULL;
        if (r)
            json_array_append_new(list, snippet(c, r, term, v));
        else
            json_array_append(not_found, v);
    }
    return json_pack("{s:s, s:o, s:o}", "accountId", c->env->account_id, "list", list, "notFound",
                     not_found);
}
