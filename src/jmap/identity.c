/*
 * jmap/identity — Identity/get, /changes and /set (RFC 8621 §6). The account's own address
 * is identity "i1" (always there, never destroyed); a user may add more identities for the
 * same address (another name, reply-to, Bcc, signatures) and change any of them. Sending as
 * another address is not allowed (forbiddenFrom), as EmailSubmission checks the From.
 * Identities other than the defaults are kept through ops->identities_read/write as one
 * JSON object by id (the glue writes it durably); the state is a hash of that text.
 */
#include "jmap/email_int.h"

#include "core/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_ID "i1"
#define MAX_IDENTITIES 20

static const char *const strings[] = {"name", "textSignature", "htmlSignature"};
static const char *const addr_lists[] = {"replyTo", "bcc"};

static json_t *state_of(const char *text, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)text[i]) * 16777619u;
    char s[16];
    snprintf(s, sizeof s, "d%08x", h);
    return json_string(s);
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
    *state_out = state_of(text.ptr, text.len);
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
        if (strcmp(k, DEFAULT_ID) != 0)
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
    bool ok = json_object_get(stored, id) != NULL;
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
    json_t *v;
    unsigned n = 0;
    json_object_foreach(json_object_get(args, "create"), k, v) {
        json_t *obj = json_object();
        const char *bad = json_is_object(v) ? apply(c, obj, v, true) : "";
        if (!bad && !json_object_get(v, "email"))
            bad = "email";
        if (bad || json_object_size(stored) >= MAX_IDENTITIES) {
            json_object_set_new(not_created, k, bad ? bad_props(bad)
                                                    : jmap_set_error("overQuota", NULL));
            json_decref(obj);
            continue;
        }
        char id[40];
        snprintf(id, sizeof id, "i%s%u", c->env->random, n++);
        json_object_set_new(stored, id, obj);
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
            obj = json_object();
            json_object_set_new(stored, DEFAULT_ID, obj);
        }
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
        else if (json_object_del(stored, id) == 0)
            json_array_append_new(destroyed, json_string(id));
        else
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
        state = state_of(text, strlen(text));
        free(text);
    }
    json_decref(stored);
    return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "accountId",
                     c->env->account_id, "oldState", old, "newState", state, "created", created,
                     "notCreated", not_created, "updated", updated, "notUpdated", not_updated,
                     "destroyed", destroyed, "notDestroyed", not_destroyed);
}
