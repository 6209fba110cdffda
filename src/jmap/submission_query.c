/*
 * jmap/submission_query — EmailSubmission/changes, /query and /queryChanges (RFC 8621 §7.2-7.4
 * over RFC 8620 §5.2, §5.5, §5.6). A submission's state is a count of changes kept by the
 * store: each record created or destroyed takes the next number, so the changes since a state
 * are the records above it, in order: a live one was created, a blank one destroyed (a record
 * is never updated: it is final when it is made). maxChanges cuts the list at a change,
 * whose number is then an exact intermediate state (hasMoreChanges).
 *
 * /query filters on identityIds, emailIds, threadIds, undoStatus, before and after (sendAt),
 * with AND/OR/NOT operators, and sorts by emailId, threadId or sentAt ("sendAt" taken too),
 * creation order breaking ties. Since records never change, /queryChanges is exact: every
 * record changed since the old state is removed, and those now in the results are added at
 * their index.
 */
#include "jmap/email_int.h"

#include "core/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the changes since a state ---- */

struct sub_change {
    char id[40];
    int64_t seq;
    bool gone;
};

struct sub_changes {
    struct sub_change *v;
    size_t n, cap;
};

static void change_cb(void *arg, const char *id, int64_t seq, bool gone)
{
    struct sub_changes *ch = arg;
    if (ch->n == ch->cap) {
        ch->cap = ch->cap ? ch->cap * 2 : 16;
        ch->v = xrealloc(ch->v, ch->cap * sizeof *ch->v);
    }
    struct sub_change *x = &ch->v[ch->n++];
    snprintf(x->id, sizeof x->id, "%s", id);
    x->seq = seq;
    x->gone = gone;
}

/* A state this server wrote: decimal digits, no sign, no leading zero. */
static bool state_parse(const char *s, int64_t *out)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 18 || (s[0] == '0' && n > 1) || strspn(s, "0123456789") != n)
        return false;
    *out = strtoll(s, NULL, 10);
    return true;
}

/* The records changed since state `since` (ch, to free) and the state now; false with the
 * method error set. */
static bool changes_read(struct jmap_ctx *c, const char *since, struct sub_changes *ch,
                         int64_t *now_out)
{
    const struct jmap_ops *ops = c->env->ops;
    int64_t old;
    *ch = (struct sub_changes){0};
    if (!state_parse(since, &old)) {
        jmap_method_error(c, "cannotCalculateChanges", "not a state of this server");
        return false;
    }
    if (ops->submission_changes(ops->ctx, old, change_cb, ch, now_out) != 0) {
        free(ch->v);
        jmap_method_error(c, "serverFail", "the submissions could not be read");
        return false;
    }
    if (old > *now_out) {
        free(ch->v);
        jmap_method_error(c, "cannotCalculateChanges", "a state ahead of the store");
        return false;
    }
    return true;
}

json_t *jmap_submission_changes(struct jmap_ctx *c, json_t *args)
{
    size_t max;
    const char *since = jmap_str_arg(args, "sinceState");
    if (!jmap_changes_args(c, args, "sinceState", &max))
        return NULL;
    struct sub_changes ch;
    int64_t now;
    if (!changes_read(c, since, &ch, &now))
        return NULL;
    json_t *created = json_array(), *destroyed = json_array();
    bool more = max && ch.n > max;
    size_t n = more ? max : ch.n;
    for (size_t i = 0; i < n; i++)
        json_array_append_new(ch.v[i].gone ? destroyed : created, json_string(ch.v[i].id));
    /* every change has a number of its own: the last one given is an exact state */
    char state[24];
    snprintf(state, sizeof state, "%lld", (long long)(more ? ch.v[n - 1].seq : now));
    free(ch.v);
    return json_pack("{s:s, s:s, s:s, s:b, s:o, s:[], s:o}", "accountId", c->env->account_id,
                     "oldState", since, "newState", state, "hasMoreChanges", more, "created",
                     created, "updated", "destroyed", destroyed);
}

/* ---- /query ---- */

static bool id_in(json_t *list, const char *id)
{
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x)
        if (id && json_is_string(x) && strcmp(json_string_value(x), id) == 0)
            return true;
    return false;
}

/* A FilterCondition of RFC 8621 §7.3 on submission o: 1, 0, or -1 when it is not one. */
static int cond_matches(struct jmap_ctx *c, json_t *o, json_t *f)
{
    const char *k;
    json_t *v;
    int64_t when = jmap_utc_parse(jmap_str_arg(o, "sendAt"), 0);
    json_object_foreach(f, k, v) {
        const char *id_prop = strcmp(k, "identityIds") == 0 ? "identityId"
                              : strcmp(k, "emailIds") == 0  ? "emailId"
                              : strcmp(k, "threadIds") == 0 ? "threadId"
                                                            : NULL;
        if (id_prop) {
            if (!json_is_array(v))
                return -1;
            json_t *ids = json_array();
            size_t i;
            json_t *x;
            json_array_foreach(v, i, x) {
                const char *id = jmap_resolve_id(c, json_string_value(x));
                if (!id) {
                    json_decref(ids);
                    return -1;
                }
                json_array_append_new(ids, json_string(id));
            }
            bool in = id_in(ids, jmap_str_arg(o, id_prop));
            json_decref(ids);
            if (!in)
                return 0;
        } else if (strcmp(k, "undoStatus") == 0) {
            if (!json_is_string(v))
                return -1;
            if (strcmp(json_string_value(v), jmap_str_arg(o, "undoStatus") ?: "") != 0)
                return 0;
        } else if (strcmp(k, "before") == 0 || strcmp(k, "after") == 0) {
            int64_t t = jmap_utc_parse(json_string_value(v), -1);
            if (t < 0)
                return -1;
            if (k[0] == 'b' ? when >= t : when < t)
                return 0;
        } else {
            return -1;
        }
    }
    return 1;
}

struct sub_filter {
    struct jmap_ctx *c;
    json_t *o;
};

static int sub_cond(void *arg, json_t *f)
{
    struct sub_filter *sf = arg;
    return cond_matches(sf->c, sf->o, f);
}

/* Compares two ids with their digit runs as numbers ("e9-2" before "e10-1"). */
static int id_cmp(const char *a, const char *b)
{
    while (*a && *b) {
        if (*a >= '0' && *a <= '9' && *b >= '0' && *b <= '9') {
            size_t na = strspn(a, "0123456789"), nb = strspn(b, "0123456789");
            int r = na != nb ? (na < nb ? -1 : 1) : strncmp(a, b, na);
            if (r)
                return r;
            a += na, b += nb;
        } else if (*a != *b) {
            return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
        } else {
            a++, b++;
        }
    }
    return *a ? 1 : *b ? -1 : 0;
}

struct sub_sort {
    const char *prop[4]; /* the submission property each comparator reads */
    bool asc[4];
    size_t n;
};

struct sub_item {
    json_t *o;
    size_t order; /* creation order */
    const struct sub_sort *sort;
};

static int item_cmp(const void *pa, const void *pb)
{
    const struct sub_item *a = pa, *b = pb;
    for (size_t i = 0; i < a->sort->n; i++) {
        const char *p = a->sort->prop[i];
        int r = id_cmp(jmap_str_arg(a->o, p) ?: "", jmap_str_arg(b->o, p) ?: "");
        if (r)
            return a->sort->asc[i] ? r : -r;
    }
    return a->order < b->order ? -1 : a->order > b->order;
}

/* The sort argument (RFC 8621 §7.3: emailId, threadId, sentAt); false when not supported. */
static bool sort_parse(json_t *sort, struct sub_sort *out)
{
    out->n = 0;
    if (!sort || json_is_null(sort))
        return true;
    if (!json_is_array(sort) || json_array_size(sort) > 4)
        return false;
    size_t i;
    json_t *x;
    json_array_foreach(sort, i, x) {
        const char *p = jmap_str_arg(x, "property");
        json_t *asc = json_object_get(x, "isAscending");
        if (!p || (asc && !json_is_boolean(asc)))
            return false;
        if (strcmp(p, "sentAt") == 0 || strcmp(p, "sendAt") == 0) /* the RFC names both */
            out->prop[out->n] = "sendAt";
        else if (strcmp(p, "emailId") == 0 || strcmp(p, "threadId") == 0)
            out->prop[out->n] = strcmp(p, "emailId") == 0 ? "emailId" : "threadId";
        else
            return false;
        out->asc[out->n++] = !asc || json_is_true(asc);
    }
    return true;
}

/* The query's results in order (*items_out, malloc'd; *all_out holds the objects), and the
 * state; false with the method error set. */
static bool query_run(struct jmap_ctx *c, json_t *args, struct sub_sort *sort, json_t **all_out,
                      struct sub_item **items_out, size_t *n_out, struct str *state)
{
    if (!sort_parse(json_object_get(args, "sort"), sort)) {
        jmap_method_error(c, "unsupportedSort", NULL);
        return false;
    }
    if (!jmap_submissions_read(c, all_out, state))
        return false;
    json_t *filter = json_object_get(args, "filter");
    size_t n = 0, i;
    json_t *o;
    struct sub_item *items = xcalloc(json_array_size(*all_out) + 1, sizeof *items);
    json_array_foreach(*all_out, i, o) {
        struct sub_filter sf = {c, o};
        int m = jmap_filter_eval(filter, sub_cond, &sf);
        if (m < 0) {
            free(items);
            json_decref(*all_out);
            str_clear(state);
            jmap_method_error(c, "unsupportedFilter", NULL);
            return false;
        }
        if (m)
            items[n++] = (struct sub_item){o, i, sort};
    }
    qsort(items, n, sizeof *items, item_cmp);
    *items_out = items;
    *n_out = n;
    return true;
}

json_t *jmap_submission_query(struct jmap_ctx *c, json_t *args)
{
    if (!jmap_account_ok(c, args))
        return NULL;
    json_t *pos_j = json_object_get(args, "position"), *limit_j = json_object_get(args, "limit");
    json_t *off_j = json_object_get(args, "anchorOffset");
    if ((pos_j && !json_is_integer(pos_j)) || (off_j && !json_is_integer(off_j)) ||
        (limit_j && !json_is_null(limit_j) &&
         (!json_is_integer(limit_j) || json_integer_value(limit_j) < 0)))
        return jmap_method_error(c, "invalidArguments", "position, anchorOffset or limit");
    struct sub_sort sort;
    struct sub_item *items;
    size_t n;
    json_t *all;
    struct str state = STR_INIT;
    if (!query_run(c, args, &sort, &all, &items, &n, &state))
        return NULL;
    json_int_t pos = json_integer_value(pos_j);
    const char *anchor = jmap_resolve_id(c, jmap_str_arg(args, "anchor"));
    if (json_object_get(args, "anchor") && !json_is_null(json_object_get(args, "anchor"))) {
        json_int_t at = -1;
        for (size_t i = 0; i < n && at < 0 && anchor; i++)
            if (strcmp(jmap_str_arg(items[i].o, "id") ?: "", anchor) == 0)
                at = (json_int_t)i;
        if (at < 0) {
            free(items), json_decref(all), str_clear(&state);
            return jmap_method_error(c, "anchorNotFound", NULL);
        }
        pos = at + json_integer_value(off_j);
    } else if (pos < 0) {
        pos += (json_int_t)n;
    }
    pos = pos < 0 ? 0 : pos > (json_int_t)n ? (json_int_t)n : pos;
    uint64_t limit = json_is_integer(limit_j) ? (uint64_t)json_integer_value(limit_j) : UINT64_MAX;
    json_t *ids = json_array();
    for (size_t i = (size_t)pos; i < n && json_array_size(ids) < limit; i++)
        json_array_append(ids, json_object_get(items[i].o, "id"));
    json_t *res = json_pack("{s:s, s:s, s:b, s:I, s:o}", "accountId", c->env->account_id,
                            "queryState", str_cstr(&state), "canCalculateChanges", 1, "position",
                            pos, "ids", ids);
    if (json_is_true(json_object_get(args, "calculateTotal")))
        json_object_set_new(res, "total", json_integer((json_int_t)n));
    free(items), json_decref(all), str_clear(&state);
    return res;
}

json_t *jmap_submission_query_changes(struct jmap_ctx *c, json_t *args)
{
    size_t max;
    const char *since = jmap_str_arg(args, "sinceQueryState");
    if (!jmap_changes_args(c, args, "sinceQueryState", &max))
        return NULL;
    struct sub_sort sort;
    struct sub_item *items;
    size_t n;
    json_t *all;
    struct str state = STR_INIT;
    if (!query_run(c, args, &sort, &all, &items, &n, &state))
        return NULL;
    /* Read after the results: a record submitted in between is only removed (it is not in
     * them), and added by the next call, which starts from the results' state. */
    struct sub_changes ch;
    int64_t now;
    if (!changes_read(c, since, &ch, &now)) {
        free(items), json_decref(all), str_clear(&state);
        return NULL;
    }
    /* Records never change: the ones created or destroyed since are all that can have left
     * or joined the results (RFC 8620 §5.6), and none of the others moved. */
    json_t *removed = json_array(), *added = json_array();
    for (size_t i = 0; i < ch.n; i++)
        json_array_append_new(removed, json_string(ch.v[i].id));
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < ch.n; k++)
            if (!ch.v[k].gone && strcmp(ch.v[k].id, jmap_str_arg(items[i].o, "id") ?: "") == 0)
                json_array_append_new(added, json_pack("{s:O, s:I}", "id",
                                                       json_object_get(items[i].o, "id"),
                                                       "index", (json_int_t)i));
    json_t *res = NULL;
    if (max && json_array_size(removed) + json_array_size(added) > max)
        jmap_method_error(c, "tooManyChanges", NULL);
    else
        res = json_pack("{s:s, s:s, s:s, s:O, s:O}", "accountId", c->env->account_id,
                        "oldQueryState", since, "newQueryState", str_cstr(&state), "removed",
                        removed, "added", added);
    if (res && json_is_true(json_object_get(args, "calculateTotal")))
        json_object_set_new(res, "total", json_integer((json_int_t)n));
    json_decref(removed), json_decref(added);
    free(items), json_decref(all), str_clear(&state), free(ch.v);
    return res;
}
