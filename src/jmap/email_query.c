/*
 * jmap/email_query — Email/query and /queryChanges (RFC 8621 §4.4-4.5), SearchSnippet/get
 * (§5.1). Filters over the snapshot's rows; conditions on the text (text, from, to, cc, bcc,
 * subject, body, header) read and decode the message (msg/mime.h), case-insensitively.
 * collapseThreads keeps the first Email of each thread in sort order; the *InThreadHaveKeyword
 * conditions look at every Email of the row's thread.
 *
 * Email/queryChanges (RFC 8620 §5.6) compares through the Email changes since the old query
 * state: the sort keys (receivedAt, size, id) never change, so an Email neither created,
 * updated nor destroyed since keeps its place relative to the others. Such Emails are left
 * out; every updated or destroyed one is in removed, and every created or updated one still
 * in the results is in added with its index (an updated Email that did not move is in both,
 * which the RFC allows). When threads matter (collapseThreads, thread conditions), every Email
 * of a thread that gained, lost or changed an Email counts as updated.
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
    if (c->env->ops->read_row(c->env->ops->ctx, r->blob, &t->msg) != 0)
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

static bool row_has_keyword(const struct jmap_row *r, const char *kw)
{
    json_t *all = jmap_keywords_from_flags(r->flags);
    bool has = false;
    const char *k;
    json_t *v;
    json_object_foreach(all, k, v)
        has |= kw && strcasecmp(k, kw) == 0;
    json_decref(all);
    return has;
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
        } else if (strcmp(k, "hasKeyword") == 0 || strcmp(k, "notKeyword") == 0) {
            ok = row_has_keyword(r, s) == (strcmp(k, "hasKeyword") == 0);
        } else if (strcmp(k, "allInThreadHaveKeyword") == 0 ||
                   strcmp(k, "someInThreadHaveKeyword") == 0 ||
                   strcmp(k, "noneInThreadHaveKeyword") == 0) {
            size_t first, n = jmap_thread_rows(&c->snap, r->thread_id, &first), have = 0;
            for (size_t i = 0; i < n; i++)
                have += row_has_keyword(&c->snap.rows[c->snap.by_thread[first + i]], s);
            ok = k[0] == 'a' ? have == n : k[0] == 's' ? have > 0 : have == 0;
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

struct row_filter {
    struct jmap_ctx *c;
    const struct jmap_row *r;
    struct text *t;
};

static int row_cond(void *arg, json_t *f)
{
    struct row_filter *rf = arg;
    return cond_matches(rf->c, rf->r, f, rf->t);
}

static int filter_matches(struct jmap_ctx *c, const struct jmap_row *r, json_t *f, struct text *t)
{
    struct row_filter rf = {c, r, t};
    return jmap_filter_eval(f, row_cond, &rf);
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

/* Keeps the first of idx[0..n) of each thread; the new count. */
static size_t collapse(struct jmap_snap *s, size_t *idx, size_t n)
{
    jmap_snap_threads(s);
    bool *seen = xcalloc(s->nrows + 1, 1); /* by the thread's first place in by_thread */
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        size_t first;
        jmap_thread_rows(s, s->rows[idx[i]].thread_id, &first);
        if (!seen[first])
            idx[k++] = idx[i];
        seen[first] = true;
    }
    free(seen);
    return k;
}

/* The indexes of rows matching the query's filter, in sort order (first of each thread with
 * collapseThreads). -1 unsupportedFilter, -2 unsupportedSort, -3 invalidArguments. */
static int query_rows(struct jmap_ctx *c, json_t *args, size_t **out, size_t *n)
{
    json_t *filter = json_object_get(args, "filter");
    struct sort_ctx sc = {.s = &c->snap};
    int src = sort_parse(json_object_get(args, "sort"), &sc);
    if (src < 0)
        return src == -1 ? -3 : -2;
    if (!filter_valid(filter, 0))
        return -1;
    size_t *idx = xmalloc((c->snap.nrows + 1) * sizeof *idx);
    size_t k = 0;
    for (size_t i = 0; i < c->snap.nrows; i++) {
        struct text t = {0};
        int m = filter_matches(c, &c->snap.rows[i], filter, &t);
        text_clear(&t);
        if (m < 0) {
            free(idx);
            return -1;
        }
        if (m)
            idx[k++] = i;
    }
    qsort_r(idx, k, sizeof *idx, row_order, &sc);
    if (json_is_true(json_object_get(args, "collapseThreads")))
        k = collapse(&c->snap, idx, k);
    *out = idx;
    *n = k;
    return 0;
}

static json_t *query_error(struct jmap_ctx *c, int rc)
{
    if (rc == -1)
        return jmap_method_error(c, "unsupportedFilter", NULL);
    if (rc == -2)
        return jmap_method_error(c, "unsupportedSort", NULL);
    return jmap_method_error(c, "invalidArguments", "sort");
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
    int rc = query_rows(c, args, &idx, &n);
    if (rc < 0)
        return query_error(c, rc);
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
                            jmap_state_json(c), "canCalculateChanges", 1, "position",
                            (json_int_t)((size_t)pos < n ? (size_t)pos : n), "ids", ids);
    if (json_is_true(json_object_get(args, "calculateTotal")))
        json_object_set_new(res, "total", json_integer((json_int_t)n));
    return res;
}

/* ---- Email/queryChanges ---- */

struct mark {
    int64_t mailbox_id, uid;
    bool created; /* not there at the old state */
};

static int mark_cmp(const void *a, const void *b)
{
    const struct mark *x = a, *y = b;
    if (x->mailbox_id != y->mailbox_id)
        return x->mailbox_id < y->mailbox_id ? -1 : 1;
    return x->uid < y->uid ? -1 : x->uid > y->uid;
}

static void mark_add(struct mark **v, size_t *n, size_t *cap, int64_t mb, int64_t uid, bool created)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 32;
        *v = xrealloc(*v, *cap * sizeof **v);
    }
    (*v)[(*n)++] = (struct mark){mb, uid, created};
}

static bool filter_uses_threads(json_t *f, unsigned depth)
{
    if (!json_is_object(f) || depth > 16)
        return false;
    const char *k;
    json_t *v;
    json_object_foreach(f, k, v) {
        if (strstr(k, "InThreadHaveKeyword"))
            return true;
        size_t i;
        json_t *x;
        json_array_foreach(strcmp(k, "conditions") == 0 ? v : NULL, i, x)
            if (filter_uses_threads(x, depth + 1))
                return true;
    }
    return false;
}

/* Every Email the delta touches, sorted, marked created or not; with threads, every Email of
 * the threads it touches as well. */
static size_t touched(struct jmap_ctx *c, const struct jmap_delta *d, bool threads,
                      struct mark **out)
{
    struct mark *v = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < d->nc; i++)
        mark_add(&v, &n, &cap, d->created[i].mailbox_id, d->created[i].uid, true);
    for (size_t i = 0; i < d->nu; i++)
        mark_add(&v, &n, &cap, d->updated[i].mailbox_id, d->updated[i].uid, false);
    for (size_t i = 0; i < d->nd; i++)
        mark_add(&v, &n, &cap, d->destroyed[i].mailbox_id, d->destroyed[i].uid, false);
    if (threads) {
        int64_t *th;
        size_t nt = jmap_delta_threads(c, d, true, &th);
        for (size_t i = 0; i < nt; i++) {
            size_t first, k = jmap_thread_rows(&c->snap, th[i], &first);
            for (size_t j = 0; j < k; j++) {
                const struct jmap_row *r = &c->snap.rows[c->snap.by_thread[first + j]];
                mark_add(&v, &n, &cap, r->mailbox_id, r->uid, false);
            }
        }
        free(th);
    }
    qsort(v, n, sizeof *v, mark_cmp);
    size_t k = 0; /* one mark per Email; created wins (it was not in the old results) */
    for (size_t i = 0; i < n; i++) {
        if (k && mark_cmp(&v[k - 1], &v[i]) == 0)
            v[k - 1].created |= v[i].created;
        else
            v[k++] = v[i];
    }
    *out = v;
    return k;
}

json_t *jmap_email_query_changes(struct jmap_ctx *c, json_t *args)
{
    if (!jmap_account_ok(c, args))
        return NULL;
    const char *since = jmap_str_arg(args, "sinceQueryState");
    size_t max;
    if (!jmap_changes_args(c, args, "sinceQueryState", &max))
        return NULL;
    struct jmap_delta d;
    if (jmap_delta_since(c, since, &d) != 0)
        return NULL;
    size_t *idx, n;
    int rc = query_rows(c, args, &idx, &n);
    if (rc < 0) {
        jmap_delta_clear(&d);
        return query_error(c, rc);
    }
    bool threads = json_is_true(json_object_get(args, "collapseThreads")) ||
                   filter_uses_threads(json_object_get(args, "filter"), 0);
    struct mark *m;
    size_t nm = touched(c, &d, threads, &m);
    jmap_delta_clear(&d);
    json_t *removed = json_array(), *added = json_array();
    for (size_t i = 0; i < nm; i++)
        if (!m[i].created)
            json_array_append_new(removed, jmap_email_id_json(m[i].mailbox_id, m[i].uid, 'e'));
    for (size_t i = 0; i < n; i++) {
        const struct jmap_row *r = &c->snap.rows[idx[i]];
        struct mark key = {r->mailbox_id, r->uid, false};
        if (nm && bsearch(&key, m, nm, sizeof *m, mark_cmp))
            json_array_append_new(added, json_pack("{s:o, s:I}", "id",
                                                   jmap_email_id_json(r->mailbox_id, r->uid, 'e'),
                                                   "index", (json_int_t)i));
    }
    free(m);
    free(idx);
    if (max && json_array_size(removed) + json_array_size(added) > max) {
        json_decref(removed), json_decref(added);
        return jmap_method_error(c, "tooManyChanges", NULL);
    }
    json_t *res = json_pack("{s:s, s:s, s:o, s:o, s:o}", "accountId", c->env->account_id,
                            "oldQueryState", since, "newQueryState", jmap_state_json(c),
                            "removed", removed, "added", added);
    if (json_is_true(json_object_get(args, "calculateTotal")))
        json_object_set_new(res, "total", json_integer((json_int_t)n));
    return res;
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
