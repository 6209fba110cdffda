/*
 * jmap/mailbox — Mailbox/get, /changes, /query, /queryChanges and /set (RFC 8621 §2) over
 * the account's IMAP mailbox tree ("/" between levels, as the store keeps names).
 */
#include "jmap/jmap_int.h"

#include "core/err.h"
#include "core/xmalloc.h"

#include <stdlib.h>
#include <string.h>

/* The last level of a full name. */
static const char *leaf(const char *name)
{
    const char *s = strrchr(name, '/');
    return s ? s + 1 : name;
}

static const struct jmap_box *parent_of(const struct jmap_snap *s, const struct jmap_box *b)
{
    const char *slash = strrchr(b->name, '/');
    if (!slash)
        return NULL;
    for (size_t i = 0; i < s->nboxes; i++)
        if (strlen(s->boxes[i].name) == (size_t)(slash - b->name) &&
            strncmp(s->boxes[i].name, b->name, (size_t)(slash - b->name)) == 0)
            return &s->boxes[i];
    return NULL;
}

static bool wanted(json_t *props, const char *name)
{
    if (!props || json_is_null(props))
        return true;
    size_t i;
    json_t *p;
    json_array_foreach(props, i, p)
        if (strcmp(json_string_value(p), name) == 0)
            return true;
    return false;
}

static int id_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* RFC 8621 §2: the threads with an Email in box b, and of those the ones with an Email (in
 * any mailbox) that has neither $seen nor $draft, as a reader opening the thread sees. */
static void thread_counts(struct jmap_snap *s, int64_t box, int64_t *total, int64_t *unread)
{
    int64_t *th = xmalloc((s->nrows + 1) * sizeof *th);
    size_t n = 0, k = 0;
    for (size_t i = 0; i < s->nrows; i++)
        if (s->rows[i].mailbox_id == box)
            th[n++] = s->rows[i].thread_id;
    qsort(th, n, sizeof *th, id_cmp);
    *total = *unread = 0;
    for (size_t i = 0; i < n; i++) {
        if (i && th[i] == th[i - 1])
            continue;
        ++*total;
        size_t first, m = jmap_thread_rows(s, th[i], &first);
        bool any = false;
        for (k = 0; k < m && !any; k++) {
            const char *f = s->rows[s->by_thread[first + k]].flags;
            any = !jmap_flags_has(f, "\\Seen") && !jmap_flags_has(f, "\\Draft");
        }
        *unread += any;
    }
    free(th);
}

static json_t *box_json(struct jmap_snap *s, const struct jmap_box *b, json_t *props)
{
    int64_t threads = 0, unread_threads = 0;
    if (wanted(props, "totalThreads") || wanted(props, "unreadThreads"))
        thread_counts(s, b->id, &threads, &unread_threads);
    const struct jmap_box *parent = parent_of(s, b);
    bool inbox = strcmp(b->role, "inbox") == 0;
    json_t *o = json_object();
    json_object_set_new(o, "id", jmap_mbox_id_json(b->id));
    struct {
        const char *name;
        json_t *v;
    } f[] = {
        {"name", json_string(leaf(b->name))},
        {"parentId", parent ? jmap_mbox_id_json(parent->id) : json_null()},
        {"role", b->role[0] ? json_string(b->role) : json_null()},
        {"sortOrder", json_integer(inbox ? 0 : b->role[0] ? 1 : 10)},
        {"totalEmails", json_integer(b->total)},
        {"unreadEmails", json_integer(b->unread)},
        {"totalThreads", json_integer(threads)},
        {"unreadThreads", json_integer(unread_threads)},
        {"myRights",
         json_pack("{s:b,s:b,s:b,s:b,s:b,s:b,s:b,s:b,s:b}", "mayReadItems", 1, "mayAddItems", 1,
                   "mayRemoveItems", 1, "maySetSeen", 1, "maySetKeywords", 1, "mayCreateChild", 1,
                   "mayRename", !inbox, "mayDelete", !inbox, "maySubmit", 1)},
        {"isSubscribed", json_boolean(b->subscribed)},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        if (wanted(props, f[i].name))
            json_object_set_new(o, f[i].name, f[i].v);
        else
            json_decref(f[i].v);
    }
    return o;
}

/* Checks "properties" against the type's known names; false with the error set. */
static bool props_ok(struct jmap_ctx *c, json_t *props, const char *const *known)
{
    if (!props || json_is_null(props))
        return true;
    if (!json_is_array(props))
        goto bad;
    size_t i;
    json_t *p;
    json_array_foreach(props, i, p) {
        bool ok = false;
        for (const char *const *k = known; *k && json_is_string(p); k++)
            ok |= strcmp(*k, json_string_value(p)) == 0;
        if (!ok)
            goto bad;
    }
    return true;
bad:
    jmap_method_error(c, "invalidArguments", "unknown property in \"properties\"");
    return false;
}

json_t *jmap_mailbox_get(struct jmap_ctx *c, json_t *args)
{
    static const char *const known[] = {"id", "name", "parentId", "role", "sortOrder",
                                        "totalEmails", "unreadEmails", "totalThreads",
                                        "unreadThreads", "myRights", "isSubscribed", NULL};
    json_t *ids = json_object_get(args, "ids");
    json_t *props = json_object_get(args, "properties");
    if (!jmap_account_ok(c, args) || !props_ok(c, props, known))
        return NULL;
    if (ids && !json_is_null(ids) && !json_is_array(ids))
        return jmap_method_error(c, "invalidArguments", "ids must be an array or null");
    if (json_array_size(ids) > c->env->lim->max_objects_in_get)
        return jmap_method_error(c, "requestTooLarge", NULL);
    if (jmap_snap_load(c) != 0)
        return NULL;
    json_t *list = json_array(), *not_found = json_array();
    if (!json_is_array(ids)) {
        for (size_t i = 0; i < c->snap.nboxes; i++)
            json_array_append_new(list, box_json(&c->snap, &c->snap.boxes[i], props));
    } else {
        size_t i;
        json_t *v;
        json_array_foreach(ids, i, v) {
            const char *id = jmap_resolve_id(c, json_string_value(v));
            int64_t n;
            const struct jmap_box *b =
                jmap_mbox_id_parse(id, &n) == 0 ? jmap_box_by_id(&c->snap, n) : NULL;
            if (b)
                json_array_append_new(list, box_json(&c->snap, b, props));
            else
                json_array_append(not_found, v);
        }
    }
    return json_pack("{s:s, s:o, s:o, s:o}", "accountId", c->env->account_id, "state",
                     jmap_state_json(c), "list", list, "notFound", not_found);
}

json_t *jmap_mailbox_changes(struct jmap_ctx *c, json_t *args)
{
    struct jmap_state old;
    if (!jmap_account_ok(c, args))
        return NULL;
    if (jmap_state_parse(jmap_str_arg(args, "sinceState"), &old) != 0)
        return jmap_method_error(c, "cannotCalculateChanges", "sinceState is not a state of "
                                                              "this server");
    if (jmap_snap_load(c) != 0) {
        jmap_state_clear(&old);
        return NULL;
    }
    struct str now = STR_INIT;
    jmap_state_write(&c->snap, &now);
    struct jmap_state cur;
    jmap_state_parse(str_cstr(&now), &cur);
    bool renamed = cur.names != old.names;
    json_t *created = json_array(), *updated = json_array(), *destroyed = json_array();
    bool counts_only = !renamed;
    for (size_t i = 0; i < cur.n; i++) {
        const struct jmap_state_ent *o = jmap_state_find(&old, cur.ent[i].id);
        if (!o)
            json_array_append_new(created, jmap_mbox_id_json(cur.ent[i].id));
        else if (renamed || o->modseq != cur.ent[i].modseq || o->uidnext != cur.ent[i].uidnext)
            json_array_append_new(updated, jmap_mbox_id_json(cur.ent[i].id));
    }
    for (size_t i = 0; i < old.n; i++)
        if (!jmap_state_find(&cur, old.ent[i].id))
            json_array_append_new(destroyed, jmap_mbox_id_json(old.ent[i].id));
    json_t *max = json_object_get(args, "maxChanges");
    size_t total = json_array_size(created) + json_array_size(updated) + json_array_size(destroyed);
    json_t *res = NULL;
    if (json_is_integer(max) && json_integer_value(max) > 0 &&
        total > (size_t)json_integer_value(max)) {
        json_decref(created), json_decref(updated), json_decref(destroyed);
        jmap_method_error(c, "cannotCalculateChanges", "more changes than maxChanges");
    } else {
        res = json_pack("{s:s, s:s, s:s, s:b, s:o, s:o, s:o}", "accountId", c->env->account_id,
                        "oldState", jmap_str_arg(args, "sinceState"), "newState", str_cstr(&now),
                        "hasMoreChanges", 0, "created", created, "updated", updated,
                        "destroyed", destroyed);
        json_object_set_new(res, "updatedProperties",
                            counts_only && json_array_size(created) == 0 &&
                                    json_array_size(destroyed) == 0
                                ? json_pack("[s,s,s,s]", "totalEmails", "unreadEmails",
                                            "totalThreads", "unreadThreads")
                                : json_null());
    }
    str_clear(&now);
    jmap_state_clear(&cur);
    jmap_state_clear(&old);
    return res;
}

/* Whether box b passes filter f (a FilterCondition; operators are not supported here). */
static bool box_matches(const struct jmap_snap *s, const struct jmap_box *b, json_t *f)
{
    if (!f)
        return true;
    json_t *v;
    if ((v = json_object_get(f, "parentId"))) {
        const struct jmap_box *p = parent_of(s, b);
        int64_t want;
        if (json_is_null(v) ? p != NULL
                            : !p || jmap_mbox_id_parse(json_string_value(v), &want) != 0 ||
                                  want != p->id)
            return false;
    }
    if ((v = json_object_get(f, "role")) &&
        (json_is_null(v) ? b->role[0] != '\0' : strcmp(b->role, json_string_value(v) ?: "")))
        return false;
    if ((v = json_object_get(f, "hasAnyRole")) && json_is_true(v) != (b->role[0] != '\0'))
        return false;
    if ((v = json_object_get(f, "isSubscribed")) && json_is_true(v) != b->subscribed)
        return false;
    if ((v = json_object_get(f, "name")) && json_is_string(v) &&
        !strcasestr(leaf(b->name), json_string_value(v)))
        return false;
    return true;
}

/* The ids of the boxes passing the query's filter, in its order; NULL with the error set. */
static json_t *query_ids(struct jmap_ctx *c, json_t *args)
{
    json_t *filter = json_object_get(args, "filter");
    if (filter && !json_is_null(filter) && !json_is_object(filter))
        return jmap_method_error(c, "invalidArguments", "filter must be an object");
    if (json_object_get(filter, "operator"))
        return jmap_method_error(c, "unsupportedFilter", "Mailbox filters take conditions only");
    if (jmap_snap_load(c) != 0)
        return NULL;
    json_t *ids = json_array();
    /* Boxes are in name order, which is also a tree order (parents before children). */
    for (size_t i = 0; i < c->snap.nboxes; i++)
        if (box_matches(&c->snap, &c->snap.boxes[i], json_is_object(filter) ? filter : NULL))
            json_array_append_new(ids, jmap_mbox_id_json(c->snap.boxes[i].id));
    return ids;
}

json_t *jmap_mailbox_query(struct jmap_ctx *c, json_t *args)
{
    if (!jmap_account_ok(c, args))
        return NULL;
    json_t *all = query_ids(c, args);
    if (!all)
        return NULL;
    json_int_t pos = json_integer_value(json_object_get(args, "position"));
    json_int_t total = (json_int_t)json_array_size(all);
    if (pos < 0)
        pos = total + pos < 0 ? 0 : total + pos;
    if (pos > total)
        pos = total;
    json_t *ids = json_array();
    for (json_int_t i = pos; i < total; i++)
        json_array_append(ids, json_array_get(all, (size_t)i));
    json_decref(all);
    return json_pack("{s:s, s:o, s:b, s:I, s:o, s:I}", "accountId", c->env->account_id, "queryState",
                     jmap_state_json(c), "canCalculateChanges", 1, "position", pos, "ids", ids,
                     "total", total);
}

/*
 * Mailbox/queryChanges (RFC 8620 §5.6). The filters and the order depend on names, roles,
 * parents and subscriptions only, which the state's name hash covers: when it is the same,
 * no mailbox came, went or moved in the results (only counts changed) and nothing is
 * reported; when it differs, every mailbox of the old state is removed and every result
 * added at its index (a client rebuilds the list, which RFC 8620 allows).
 */
json_t *jmap_mailbox_query_changes(struct jmap_ctx *c, json_t *args)
{
    if (!jmap_account_ok(c, args))
        return NULL;
    const char *since = jmap_str_arg(args, "sinceQueryState");
    json_t *max = json_object_get(args, "maxChanges");
    if (!since || (max && !json_is_null(max) &&
                   (!json_is_integer(max) || json_integer_value(max) <= 0)))
        return jmap_method_error(c, "invalidArguments", "sinceQueryState or maxChanges");
    struct jmap_state old, cur;
    if (jmap_state_parse(since, &old) != 0)
        return jmap_method_error(c, "cannotCalculateChanges", "not a state of this server");
    json_t *ids = query_ids(c, args);
    if (!ids) {
        jmap_state_clear(&old);
        return NULL;
    }
    struct str now = STR_INIT;
    jmap_state_write(&c->snap, &now);
    jmap_state_parse(str_cstr(&now), &cur);
    json_t *removed = json_array(), *added = json_array();
    if (cur.names != old.names) {
        for (size_t i = 0; i < old.n; i++)
            json_array_append_new(removed, jmap_mbox_id_json(old.ent[i].id));
        size_t i;
        json_t *id;
        json_array_foreach(ids, i, id)
            json_array_append_new(added, json_pack("{s:O, s:I}", "id", id, "index",
                                                   (json_int_t)i));
    }
    json_t *res = NULL;
    if (json_is_integer(max) &&
        json_array_size(removed) + json_array_size(added) > (size_t)json_integer_value(max)) {
        json_decref(removed), json_decref(added);
        jmap_method_error(c, "tooManyChanges", NULL);
    } else {
        res = json_pack("{s:s, s:s, s:s, s:o, s:o}", "accountId", c->env->account_id,
                        "oldQueryState", since, "newQueryState", str_cstr(&now), "removed",
                        removed, "added", added);
        if (json_is_true(json_object_get(args, "calculateTotal")))
            json_object_set_new(res, "total", json_integer((json_int_t)json_array_size(ids)));
    }
    json_decref(ids);
    str_clear(&now);
    jmap_state_clear(&cur);
    jmap_state_clear(&old);
    return res;
}

/* ---- Mailbox/set ---- */

/* The full name for leaf name under parentId (null or absent: top level). */
static int full_name(struct jmap_ctx *c, json_t *obj, const char *name, const char *dflt_parent,
                     struct str *out)
{
    json_t *pid = json_object_get(obj, "parentId");
    const char *parent = dflt_parent;
    if (pid && json_is_null(pid)) {
        parent = NULL;
    } else if (pid) {
        int64_t id;
        const struct jmap_box *p =
            jmap_mbox_id_parse(jmap_resolve_id(c, json_string_value(pid)), &id) == 0
                ? jmap_box_by_id(&c->snap, id)
                : NULL;
        if (!p)
            return ERR_NOTFOUND;
        parent = p->name;
    }
    if (!name || !name[0] || strchr(name, '/') || strlen(name) > 255)
        return ERR_PARSE;
    if (parent)
        str_appendf(out, "%s/", parent);
    str_appends(out, name);
    return 0;
}

static json_t *set_fail(int rc)
{
    return rc == ERR_EXISTS     ? jmap_set_error("invalidProperties", "a mailbox of that name exists")
           : rc == ERR_NOTFOUND ? jmap_set_error("notFound", NULL)
           : rc == ERR_PARSE    ? jmap_set_error("invalidProperties", "name or parentId")
                                : jmap_set_error("serverFail", NULL);
}

static void box_create(struct jmap_ctx *c, const char *cid, json_t *obj, json_t *created,
                       json_t *not_created)
{
    const struct jmap_ops *ops = c->env->ops;
    struct str name = STR_INIT;
    if (json_object_get(obj, "role") && !json_is_null(json_object_get(obj, "role"))) {
        json_object_set_new(not_created, cid, jmap_set_error("invalidProperties", "role"));
        return;
    }
    int rc = full_name(c, obj, jmap_str_arg(obj, "name"), NULL, &name);
    if (rc == 0 && jmap_box_by_name(&c->snap, str_cstr(&name)))
        rc = ERR_EXISTS;
    if (rc == 0)
        rc = ops->mailbox_create(ops->ctx, str_cstr(&name));
    if (rc == 0 && json_is_false(json_object_get(obj, "isSubscribed")))
        ops->mailbox_subscribe(ops->ctx, str_cstr(&name), false);
    if (rc == 0 && json_is_true(json_object_get(obj, "isSubscribed")))
        ops->mailbox_subscribe(ops->ctx, str_cstr(&name), true);
    jmap_snap_invalidate(c);
    if (rc == 0 && jmap_snap_load(c) == 0) {
        const struct jmap_box *b = jmap_box_by_name(&c->snap, str_cstr(&name));
        if (b) {
            json_t *id = jmap_mbox_id_json(b->id);
            json_object_set(c->created_ids, cid, id);
            json_object_set_new(created, cid, json_pack("{s:o,s:i,s:i,s:i,s:i}", "id", id,
                                                        "totalEmails", 0, "unreadEmails", 0,
                                                        "totalThreads", 0, "unreadThreads", 0));
        }
    } else {
        json_object_set_new(not_created, cid, set_fail(rc));
    }
    str_clear(&name);
}

static void box_update(struct jmap_ctx *c, const char *id, json_t *patch, json_t *updated,
                       json_t *not_updated)
{
    const struct jmap_ops *ops = c->env->ops;
    int64_t n;
    const struct jmap_box *b = jmap_mbox_id_parse(id, &n) == 0 ? jmap_box_by_id(&c->snap, n) : NULL;
    if (!b) {
        json_object_set_new(not_updated, id, jmap_set_error("notFound", NULL));
        return;
    }
    char *old = strdup(b->name);
    int rc = 0;
    json_t *sub = json_object_get(patch, "isSubscribed");
    if (json_object_get(patch, "name") || json_object_get(patch, "parentId")) {
        const struct jmap_box *p = parent_of(&c->snap, b);
        struct str name = STR_INIT;
        const char *newleaf = jmap_str_arg(patch, "name");
        rc = strcmp(b->role, "inbox") == 0 ? ERR_BUSY_STATE
                                           : full_name(c, patch, newleaf ? newleaf : leaf(b->name),
                                                       p ? p->name : NULL, &name);
        if (rc == 0 && strcmp(str_cstr(&name), old) != 0)
            rc = ops->mailbox_rename(ops->ctx, old, str_cstr(&name));
        free(old);
        old = str_steal(&name);
    }
    if (rc == 0 && sub)
        rc = ops->mailbox_subscribe(ops->ctx, old, json_is_true(sub));
    free(old);
    jmap_snap_invalidate(c);
    if (rc == 0)
        json_object_set_new(updated, id, json_null());
    else
        json_object_set_new(not_updated, id,
                            rc == ERR_BUSY_STATE ? jmap_set_error("forbidden", "INBOX keeps its name")
                                                 : set_fail(rc));
}

static void box_destroy(struct jmap_ctx *c, const char *id, bool remove_emails, json_t *destroyed,
                        json_t *not_destroyed)
{
    const struct jmap_ops *ops = c->env->ops;
    int64_t n;
    const struct jmap_box *b = jmap_mbox_id_parse(id, &n) == 0 ? jmap_box_by_id(&c->snap, n) : NULL;
    json_t *err = NULL;
    if (!b)
        err = jmap_set_error("notFound", NULL);
    else if (strcmp(b->role, "inbox") == 0)
        err = jmap_set_error("forbidden", "INBOX cannot be destroyed");
    else if (b->total > 0 && !remove_emails)
        err = jmap_set_error("mailboxHasEmail", NULL);
    for (size_t i = 0; !err && i < c->snap.nboxes; i++)
        if (parent_of(&c->snap, &c->snap.boxes[i]) == b)
            err = jmap_set_error("mailboxHasChild", NULL);
    if (!err && ops->mailbox_delete(ops->ctx, b->name) != 0)
        err = jmap_set_error("serverFail", NULL);
    if (err) {
        json_object_set_new(not_destroyed, id, err);
        return;
    }
    jmap_snap_invalidate(c);
    json_array_append_new(destroyed, json_string(id));
}

json_t *jmap_mailbox_set(struct jmap_ctx *c, json_t *args)
{
    if (!jmap_account_ok(c, args) || jmap_snap_load(c) != 0)
        return NULL;
    json_t *create = json_object_get(args, "create"), *update = json_object_get(args, "update"),
           *destroy = json_object_get(args, "destroy");
    if (json_object_size(create) + json_object_size(update) + json_array_size(destroy) >
        c->env->lim->max_objects_in_set)
        return jmap_method_error(c, "requestTooLarge", NULL);
    const char *if_in = jmap_str_arg(args, "ifInState");
    json_t *old_state = jmap_state_json(c);
    if (if_in && strcmp(if_in, json_string_value(old_state)) != 0) {
        json_decref(old_state);
        return jmap_method_error(c, "stateMismatch", NULL);
    }
    json_t *created = json_object(), *not_created = json_object(), *updated = json_object(),
           *not_updated = json_object(), *destroyed = json_array(), *not_destroyed = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(create, k, v) {
        if (jmap_snap_load(c) == 0)
            box_create(c, k, v, created, not_created);
    }
    json_object_foreach(update, k, v) {
        if (jmap_snap_load(c) == 0)
            box_update(c, jmap_resolve_id(c, k) ?: k, v, updated, not_updated);
    }
    size_t i;
    json_array_foreach(destroy, i, v) {
        const char *id = jmap_resolve_id(c, json_string_value(v));
        if (id && jmap_snap_load(c) == 0)
            box_destroy(c, id, json_is_true(json_object_get(args, "onDestroyRemoveEmails")),
                        destroyed, not_destroyed);
    }
    if (jmap_snap_load(c) != 0) {
        json_decref(old_state);
        return NULL;
    }
    return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "accountId", c->env->account_id,
                     "oldState", old_state, "newState", jmap_state_json(c), "created", created,
                     "notCreated", not_created, "updated", updated, "notUpdated", not_updated,
                     "destroyed", destroyed, "notDestroyed", not_destroyed);
}
