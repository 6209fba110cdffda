/*
 * jmap/identity — Identity/get, /changes and /set (RFC 8621 §6). The account's own address
 * is identity "i1" (always there, never destroyed); a user may add more identities for the
 * same address (another name, reply-to, Bcc, signatures) and change any of them. Sending as
 * another address is not allowed (forbiddenFrom), as EmailSubmission checks the From.
 * Identities other than the defaults are kept through ops->identities_read/write as one
 * JSON object by id (the glue writes it durably).
 *
 * The state is a count of changes ("_n" in that object): each create, update or destroy
 * takes the next number, kept in the identity as "_c" (created) and "_m" (last changed); a
 * destroyed identity stays as a tombstone {"_c", "_m", "_gone"} so Identity/changes can name
 * it. Only the newest MAX_TOMBSTONES are kept; "_floor" is the newest one forgotten, and a
 * state older than it cannot be compared (cannotCalculateChanges). Keys starting with "_"
 * are never Identity properties (the client cannot set them: they are not settable).
 */
#include "jmap/email_int.h"

#include "core/err.h"
#include "core/xmalloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_ID "i1"
#define MAX_IDENTITIES 20
#define MAX_TOMBSTONES 64

static const char *const strings[] = {"name", "textSignature", "htmlSignature"};
static const char *const addr_lists[] = {"replyTo", "bcc"};

static int64_t num(json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

/* The state string of stored identities. */
static json_t *state_of(json_t *stored)
{
    char s[24];
    snprintf(s, sizeof s, "%lld", (long long)num(stored, "_n"));
    return json_string(s);
}

/* Whether (k, v) of the stored object is a live identity (not bookkeeping, not destroyed). */
static bool live(const char *k, json_t *v)
{
    return k[0] != '_' && json_is_object(v) && !json_object_get(v, "_gone");
}

/* Marks identity o changed now (the next number of the counter in stored). */
static void touch(json_t *stored, json_t *o, bool created)
{
    int64_t n = num(stored, "_n") + 1;
    json_object_set_new(stored, "_n", json_integer(n));
    json_object_set_new(o, "_m", json_integer(n));
    if (created)
        json_object_set_new(o, "_c", json_integer(n));
}

/* Keeps the newest MAX_TOMBSTONES; the newest dropped one's number becomes the floor. */
static void prune(json_t *stored)
{
    for (;;) {
        const char *k, *oldest = NULL;
        json_t *v;
        size_t n = 0;
        json_object_foreach(stored, k, v)
            if (k[0] != '_' && json_object_get(v, "_gone")) {
                n++;
                if (!oldest || num(v, "_m") < num(json_object_get(stored, oldest), "_m"))
                    oldest = k;
            }
        if (n <= MAX_TOMBSTONES)
            return;
        json_object_set_new(stored, "_floor",
                            json_integer(num(json_object_get(stored, oldest), "_m")));
        json_object_del(stored, oldest);
    }
}

/* The stored identities (an object by id; {} when none), and the state. */
static json_t *load(struct jmap_ctx *c, json_t **state_out)
{
    const struct jmap_ops *ops = c->env->ops;
    struct str text = STR_INIT;
    if (!ops->identities_read || ops->identities_read(ops->ctx, &text) != 0) {
        str_clear(&text);
        return NULL;
    }
    json_t *o = text.len ? json_loadb(text.ptr, text.len, 0, NULL) : NULL;
    if (!json_is_object(o)) {
        json_decref(o);
        o = json_object();
    }
    *state_out = state_of(o);
    str_clear(&text);
    return o;
}

/* The full Identity object for id from what is stored (defaults filled in). */
static json_t *full(struct jmap_ctx *c, const char *id, json_t *stored)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:n, s:n, s:s, s:s, s:b}", "id", id, "name",
                          c->env->user_name ? c->env->user_name : "", "email", c->env->user,
                          "replyTo", "bcc", "textSignature", "", "htmlSignature", "",
                          "mayDelete", strcmp(id, DEFAULT_ID) != 0);
    const char *k;
    json_t *v;
    json_object_foreach(stored, k, v)
        if (json_object_get(o, k) && strcmp(k, "id") != 0 && strcmp(k, "mayDelete") != 0)
            json_object_set(o, k, v);
    return o;
}

static json_t *all(struct jmap_ctx *c, json_t *stored)
{
    json_t *list = json_array();
    json_array_append_new(list, full(c, DEFAULT_ID, json_object_get(stored, DEFAULT_ID)));
    const char *k;
    json_t *v;
    json_object_foreach(stored, k, v)
        if (strcmp(k, DEFAULT_ID) != 0 && live(k, v))
            json_array_append_new(list, full(c, k, v));
    return list;
}

bool jmap_identity_exists(struct jmap_ctx *c, const char *id)
{
    if (!id)
        return false;
    if (strcmp(id, DEFAULT_ID) == 0)
        return true;
    json_t *state = NULL;
    json_t *stored = load(c, &state);
    bool ok = id[0] != '_' && live(id, json_object_get(stored, id));
    json_decref(stored);
    json_decref(state);
    return ok;
}

json_t *jmap_identity_get(struct jmap_ctx *c, json_t *args)
{
    if (!jmap_account_ok(c, args))
        return NULL;
    json_t *state = NULL;
    json_t *stored = load(c, &state);
    if (!stored)
        return jmap_method_error(c, "serverFail", "the identities could not be read");
    json_t *ids = json_object_get(args, "ids");
    json_t *every = all(c, stored), *list = json_array(), *not_found = json_array();
    size_t i, k;
    json_t *v, *x;
    json_array_foreach(every, k, x)
        if (!json_is_array(ids))
            json_array_append(list, x);
    json_array_foreach(ids, i, v) {
        bool found = false;
        json_array_foreach(every, k, x)
            if (json_is_string(v) && json_equal(json_object_get(x, "id"), v)) {
                json_array_append(list, x);
                found = true;
            }
        if (!found)
            json_array_append(not_found, v);
    }
    json_decref(every);
    json_decref(stored);
    return json_pack("{s:s, s:o, s:o, s:o}", "accountId", c->env->account_id, "state", state,
                     "list", list, "notFound", not_found);
}

/* Whether v is null or an EmailAddress[] (RFC 8621 §4.1.2.3). */
static bool address_list(json_t *v)
{
    if (json_is_null(v))
        return true;
    if (!json_is_array(v))
        return false;
    size_t i;
    json_t *a;
    json_array_foreach(v, i, a) {
        const char *e = jmap_str_arg(a, "email");
        json_t *n = json_object_get(a, "name");
        if (!e || !strchr(e, '@') || strpbrk(e, " <>\r\n") || (n && !json_is_null(n) &&
                                                                 !json_is_string(n)))
            return false;
    }
    return true;
}

/* Copies the settable properties of patch into obj; the bad property, or NULL. */
static const char *apply(struct jmap_ctx *c, json_t *obj, json_t *patch, bool create)
{
    const char *k;
    json_t *v;
    json_object_foreach(patch, k, v) {
        bool ok = false;
        for (size_t i = 0; i < 3; i++)
            if (strcmp(k, strings[i]) == 0)
                ok = json_is_string(v) && json_string_length(v) <= 65536;
        for (size_t i = 0; i < 2; i++)
            if (strcmp(k, addr_lists[i]) == 0)
                ok = address_list(v) && json_array_size(v) <= 100;
        if (strcmp(k, "email") == 0) /* immutable; only the account's own address */
            ok = create && json_is_string(v) &&
                 strcasecmp(json_string_value(v), c->env->user) == 0;
        if (!ok)
            return k;
        if (strcmp(k, "email") != 0)
            json_object_set(obj, k, v);
    }
    return NULL;
}

static json_t *bad_props(const char *prop)
{
    json_t *e = jmap_set_error(strcmp(prop, "email") == 0 ? "forbiddenFrom" : "invalidProperties",
                               NULL);
    json_object_set_new(e, "properties", json_pack("[s]", prop));
    return e;
}

static void do_create(struct jmap_ctx *c, json_t *args, json_t *stored, json_t *created,
                      json_t *not_created)
{
    const char *k;
    json_t *v, *x;
    unsigned n = 0;
    size_t count = 0;
    json_object_foreach(stored, k, x)
        count += live(k, x);
    json_object_foreach(json_object_get(args, "create"), k, v) {
        json_t *obj = json_object();
        const char *bad = json_is_object(v) ? apply(c, obj, v, true) : "";
        if (!bad && !json_object_get(v, "email"))
            bad = "email";
        if (bad || count >= MAX_IDENTITIES) {
            json_object_set_new(not_created, k, bad ? bad_props(bad)
                                                    : jmap_set_error("overQuota", NULL));
            json_decref(obj);
            continue;
        }
        char id[40];
        snprintf(id, sizeof id, "i%s%u", c->env->random, n++);
        touch(stored, obj, true);
        json_object_set_new(stored, id, obj);
        count++;
        json_object_set_new(c->created_ids, k, json_string(id));
        json_object_set_new(created, k, json_pack("{s:s, s:b}", "id", id, "mayDelete", 1));
    }
}

static void do_update(struct jmap_ctx *c, json_t *args, json_t *stored, json_t *updated,
                      json_t *not_updated)
{
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(args, "update"), k, v) {
        const char *id = jmap_resolve_id(c, k);
        json_t *obj = id ? json_object_get(stored, id) : NULL;
        if (!obj && id && strcmp(id, DEFAULT_ID) == 0) {
            obj = json_object(); /* there from the start: created at state 0 */
            json_object_set_new(stored, DEFAULT_ID, obj);
        }
        if (obj && !live(id, obj))
            obj = NULL;
        if (!obj) {
            json_object_set_new(not_updated, k, jmap_set_error("notFound", NULL));
            continue;
        }
        json_t *copy = json_deep_copy(obj);
        const char *bad = json_is_object(v) ? apply(c, copy, v, false) : "";
        if (bad) {
            json_object_set_new(not_updated, k, bad_props(bad));
            json_decref(copy);
            continue;
        }
        json_object_update(obj, copy);
        json_decref(copy);
        touch(stored, obj, false);
        json_object_set_new(updated, k, json_null());
    }
}

static void do_destroy(struct jmap_ctx *c, json_t *args, json_t *stored, json_t *destroyed,
                       json_t *not_destroyed)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(args, "destroy"), i, v) {
        const char *id = jmap_resolve_id(c, json_string_value(v));
        if (!id)
            continue;
        if (strcmp(id, DEFAULT_ID) == 0)
            json_object_set_new(not_destroyed, id, jmap_set_error("forbidden", "i1 is the "
                                                                  "account's own address"));
        else if (live(id, json_object_get(stored, id))) {
            json_t *tomb = json_pack("{s:I, s:b}", "_c",
                                     (json_int_t)num(json_object_get(stored, id), "_c"), "_gone",
                                     1);
            touch(stored, tomb, false);
            json_object_set_new(stored, id, tomb);
            json_array_append_new(destroyed, json_string(id));
        } else
            json_object_set_new(not_destroyed, id, jmap_set_error("notFound", NULL));
    }
}

json_t *jmap_identity_set(struct jmap_ctx *c, json_t *args)
{
    if (!jmap_account_ok(c, args))
        return NULL;
    json_t *old = NULL;
    json_t *stored = load(c, &old);
    if (!stored)
        return jmap_method_error(c, "serverFail", "the identities could not be read");
    const char *if_in = jmap_str_arg(args, "ifInState");
    if (if_in && strcmp(if_in, json_string_value(old)) != 0) {
        json_decref(stored);
        json_decref(old);
        return jmap_method_error(c, "stateMismatch", NULL);
    }
    json_t *created = json_object(), *not_created = json_object(), *updated = json_object();
    json_t *not_updated = json_object(), *destroyed = json_array(),
           *not_destroyed = json_object();
    do_create(c, args, stored, created, not_created);
    do_update(c, args, stored, updated, not_updated);
    do_destroy(c, args, stored, destroyed, not_destroyed);
    json_t *state = json_incref(old);
    if (json_object_size(created) + json_object_size(updated) + json_array_size(destroyed)) {
        prune(stored);
        char *text = json_dumps(stored, JSON_COMPACT | JSON_SORT_KEYS);
        const struct jmap_ops *ops = c->env->ops;
        if (ops->identities_write(ops->ctx, text) != 0) {
            free(text);
            json_decref(stored);
            json_decref(old);
            json_decref(state);
            json_decref(created);
            json_decref(not_created);
            json_decref(updated);
            json_decref(not_updated);
            json_decref(destroyed);
            json_decref(not_destroyed);
            return jmap_method_error(c, "serverFail", "the identities could not be written");
        }
        json_decref(state);
        state = state_of(stored);
        free(text);
    }
    json_decref(stored);
    return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "accountId",
                     c->env->account_id, "oldState", old, "newState", state, "created", created,
                     "notCreated", not_created, "updated", updated, "notUpdated", not_updated,
                     "destroyed", destroyed, "notDestroyed", not_destroyed);
}

/* ---- Identity/changes (RFC 8620 §5.2) ---- */

struct id_change {
    const char *id;
    int64_t c, m;
    bool gone;
};

static int change_cmp(const void *a, const void *b)
{
    const struct id_change *x = a, *y = b;
    return x->m < y->m ? -1 : x->m > y->m;
}

/* The identities changed after since, in the order of their last change (*n_out of them,
 * malloc'd). */
static struct id_change *changed_since(json_t *stored, int64_t since, size_t *n_out)
{
    struct id_change *v = xcalloc(json_object_size(stored) + 1, sizeof *v);
    size_t n = 0;
    const char *k;
    json_t *o;
    json_object_foreach(stored, k, o)
        if (k[0] != '_' && json_is_object(o) && num(o, "_m") > since)
            v[n++] = (struct id_change){k, num(o, "_c"), num(o, "_m"),
                                        json_object_get(o, "_gone") != NULL};
    qsort(v, n, sizeof *v, change_cmp);
    *n_out = n;
    return v;
}

json_t *jmap_identity_changes(struct jmap_ctx *c, json_t *args)
{
    const char *since_s = jmap_str_arg(args, "sinceState");
    size_t max;
    if (!jmap_changes_args(c, args, "sinceState", &max))
        return NULL;
    if (max == 0)
        max = SIZE_MAX;
    json_t *state = NULL;
    json_t *stored = load(c, &state);
    if (!stored)
        return jmap_method_error(c, "serverFail", "the identities could not be read");
    size_t len = strlen(since_s);
    int64_t since = len && len <= 18 && strspn(since_s, "0123456789") == len &&
                            (since_s[0] != '0' || len == 1)
                        ? strtoll(since_s, NULL, 10)
                        : -1;
    if (since < 0 || since > num(stored, "_n") || since < num(stored, "_floor")) {
        json_decref(stored), json_decref(state);
        return jmap_method_error(c, "cannotCalculateChanges", "not a state that can be compared");
    }
    size_t n, i, told = 0;
    struct id_change *v = changed_since(stored, since, &n);
    json_t *created = json_array(), *updated = json_array(), *destroyed = json_array();
    for (i = 0; i < n && told < max; i++) {
        if (v[i].gone && v[i].c > since)
            continue; /* created and destroyed since: not told (RFC 8620 §5.2) */
        json_array_append_new(v[i].gone ? destroyed : v[i].c > since ? created : updated,
                              json_string(v[i].id));
        told++;
    }
    bool more = i < n;
    if (more) { /* each change has a number of its own: the last one told is a state */
        char s[24];
        snprintf(s, sizeof s, "%lld", (long long)v[i - 1].m);
        json_decref(state);
        state = json_string(s);
    }
    free(v);
    json_decref(stored);
    return json_pack("{s:s, s:s, s:o, s:b, s:o, s:o, s:o}", "accountId", c->env->account_id,
                     "oldState", since_s, "newState", state, "hasMoreChanges", more, "created",
                     created, "updated", updated, "destroyed", destroyed);
}
