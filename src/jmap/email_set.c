/*
 * jmap/email_set — Email/set (RFC 8621 §4.6: keywords and mailboxIds, whole or by patch
 * paths; create from an Email object; destroy) and Email/import (§4.8: a blob becomes a
 * message). Pigeon keeps one row per mailbox, so putting an Email in a second mailbox copies
 * it (the copy has its own id) and taking it out of its mailbox moves it.
 */
#include "jmap/email_int.h"

#include "core/err.h"
#include "core/xmalloc.h"

#include <stdlib.h>
#include <string.h>

struct set_out {
    json_t *created, *not_created, *updated, *not_updated, *destroyed, *not_destroyed;
};

/* Applies patch to a copy of base (an object of id -> true) for property prop:
 * "prop": {...} replaces, "prop/key": true|null sets or removes. -1 when malformed. */
static int patch_set(json_t *patch, const char *prop, json_t *base, json_t **out)
{
    size_t plen = strlen(prop);
    json_t *r = json_deep_copy(base);
    const char *k;
    json_t *v;
    json_t *whole = json_object_get(patch, prop);
    if (whole) {
        json_decref(r);
        if (!json_is_object(whole))
            return -1;
        r = json_deep_copy(whole);
    }
    json_object_foreach(patch, k, v) {
        if (strncmp(k, prop, plen) != 0 || k[plen] != '/')
            continue;
        if (whole) {
            json_decref(r);
            return -1; /* both forms at once (RFC 8620 §5.3) */
        }
        if (json_is_true(v))
            json_object_set_new(r, k + plen + 1, json_true());
        else if (json_is_null(v))
            json_object_del(r, k + plen + 1);
        else {
            json_decref(r);
            return -1;
        }
    }
    *out = r;
    return 0;
}

static bool patch_only(json_t *patch)
{
    const char *k;
    json_t *v;
    json_object_foreach(patch, k, v)
        if (strncmp(k, "keywords", 8) != 0 && strncmp(k, "mailboxIds", 10) != 0)
            return false;
    return true;
}

/* Mailbox names of a mailboxIds object; -1 when one does not exist. */
static int box_names(struct jmap_ctx *c, json_t *ids, const struct jmap_box **out, size_t cap,
                     size_t *n)
{
    *n = 0;
    const char *k;
    json_t *v;
    json_object_foreach(ids, k, v) {
        int64_t id;
        const struct jmap_box *b = jmap_mbox_id_parse(jmap_resolve_id(c, k), &id) == 0
                                       ? jmap_box_by_id(&c->snap, id)
                                       : NULL;
        if (!b || !json_is_true(v) || *n >= cap)
            return -1;
        out[(*n)++] = b;
    }
    return 0;
}

static json_t *update_one(struct jmap_ctx *c, const struct jmap_row *r, json_t *patch)
{
    const struct jmap_ops *ops = c->env->ops;
    if (!json_is_object(patch) || !patch_only(patch))
        return jmap_set_error("invalidProperties", "only keywords and mailboxIds can change");
    json_t *kw0 = jmap_keywords_from_flags(r->flags), *kw = NULL;
    json_t *mb0 = json_object(), *mb = NULL;
    json_t *id0 = jmap_mbox_id_json(r->mailbox_id);
    json_object_set_new(mb0, json_string_value(id0), json_true());
    json_decref(id0);
    json_t *err = NULL;
    struct str flags = STR_INIT;
    const struct jmap_box *boxes[64];
    size_t nb = 0;
    if (patch_set(patch, "keywords", kw0, &kw) < 0 || patch_set(patch, "mailboxIds", mb0, &mb) < 0 ||
        jmap_flags_from_keywords(kw, &flags) < 0)
        err = jmap_set_error("invalidPatch", NULL);
    else if (box_names(c, mb, boxes, 64, &nb) < 0 || nb == 0)
        err = jmap_set_error("invalidProperties", "mailboxIds");
    int64_t mbid = r->mailbox_id, uid = r->uid;
    bool flags_changed = !err && !json_equal(kw, kw0);
    bool stays = false;
    for (size_t i = 0; !err && i < nb; i++)
        stays |= boxes[i]->id == mbid;
    if (!err && flags_changed) {
        if (jmap_flags_has(r->flags, "\\Deleted")) {
            struct str with = STR_INIT;
            str_appendf(&with, "\\Deleted%s%s", flags.len ? " " : "", str_cstr(&flags));
            str_clear(&flags);
            flags = with;
        }
        if (ops->set_flags(ops->ctx, mbid, uid, str_cstr(&flags)) != 0)
            err = jmap_set_error("serverFail", "flags");
    }
    /* Copies first (the original row must still exist), the move last. */
    const struct jmap_box *move_to = NULL;
    for (size_t i = 0; !err && i < nb; i++) {
        if (boxes[i]->id == mbid)
            continue;
        int64_t nuid;
        if (!stays && !move_to) {
            move_to = boxes[i];
            continue;
        }
        if (ops->move(ops->ctx, mbid, uid, boxes[i]->name, true, &nuid) != 0)
            err = jmap_set_error("serverFail", "copy");
    }
    int64_t nuid;
    if (!err && move_to && ops->move(ops->ctx, mbid, uid, move_to->name, false, &nuid) != 0)
        err = jmap_set_error("serverFail", "move");
    if (flags_changed || nb > 1 || move_to)
        jmap_snap_invalidate(c);
    json_decref(kw0);
    json_decref(kw);
    json_decref(mb0);
    json_decref(mb);
    str_clear(&flags);
    return err;
}

/* The thread of a message just written (the snapshot read again places it). */
static json_t *created_thread(struct jmap_ctx *c, int64_t mailbox_id, int64_t uid)
{
    const struct jmap_row *r =
        jmap_snap_load(c) == 0 ? jmap_row_find(&c->snap, mailbox_id, uid) : NULL;
    return r ? jmap_thread_id_json(r->thread_id) : json_null();
}

static void create_one(struct jmap_ctx *c, const char *cid, json_t *e, struct set_out *o)
{
    const struct jmap_ops *ops = c->env->ops;
    const struct jmap_box *boxes[64];
    size_t nb = 0;
    struct str flags = STR_INIT;
    const char *why = NULL;
    json_t *kw = json_object_get(e, "keywords");
    if (!json_is_object(e) ||
        box_names(c, json_object_get(e, "mailboxIds"), boxes, 64, &nb) < 0 || nb == 0) {
        json_object_set_new(o->not_created, cid, jmap_set_error("invalidProperties", "mailboxIds"));
        return;
    }
    if (kw && jmap_flags_from_keywords(kw, &flags) < 0) {
        json_object_set_new(o->not_created, cid, jmap_set_error("invalidProperties", "keywords"));
        str_clear(&flags);
        return;
    }
    size_t len;
    char *msg = jmap_email_build(c, e, &len, &why);
    int64_t mbid, uid, nuid;
    if (!msg) {
        json_object_set_new(o->not_created, cid, jmap_set_error("invalidProperties", why));
    } else if (ops->append(ops->ctx, boxes[0]->name, msg, len, str_cstr(&flags), c->env->now,
                           &mbid, &uid) != 0) {
        json_object_set_new(o->not_created, cid, jmap_set_error("serverFail", NULL));
    } else {
        for (size_t i = 1; i < nb; i++)
            ops->move(ops->ctx, mbid, uid, boxes[i]->name, true, &nuid);
        jmap_snap_invalidate(c);
        json_t *id = jmap_email_id_json(mbid, uid, 'e');
        json_object_set(c->created_ids, cid, id);
        json_t *res = json_pack("{s:o, s:o, s:I}", "id", id, "threadId", created_thread(c, mbid, uid),
                                "size", (json_int_t)len);
        const struct jmap_row *r = jmap_row_find(&c->snap, mbid, uid);
        if (r) {
            char blob[40];
            snprintf(blob, sizeof blob, "b%s", r->blob);
            json_object_set_new(res, "blobId", json_string(blob));
        }
        json_object_set_new(o->created, cid, res);
    }
    free(msg);
    str_clear(&flags);
}

static json_t *set_result(struct jmap_ctx *c, json_t *old_state, struct set_out *o)
{
    if (jmap_snap_load(c) != 0) {
        json_decref(old_state);
        json_decref(o->created), json_decref(o->not_created), json_decref(o->updated);
        json_decref(o->not_updated), json_decref(o->destroyed), json_decref(o->not_destroyed);
        return NULL;
    }
    return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "accountId", c->env->account_id,
                     "oldState", old_state, "newState", jmap_state_json(c), "created", o->created,
                     "notCreated", o->not_created, "updated", o->updated, "notUpdated",
                     o->not_updated, "destroyed", o->destroyed, "notDestroyed", o->not_destroyed);
}

static const struct jmap_row *row_of(struct jmap_ctx *c, const char *id)
{
    int64_t mb, uid;
    id = jmap_resolve_id(c, id);
    if (!id || id[0] != 'e' || jmap_email_id_parse(id, &mb, &uid) != 0 || jmap_snap_load(c) != 0)
        return NULL;
    return jmap_row_find(&c->snap, mb, uid);
}

json_t *jmap_email_set(struct jmap_ctx *c, json_t *args)
{
    if (!jmap_account_ok(c, args) || jmap_snap_load(c) != 0)
        return NULL;
    json_t *create = json_object_get(args, "create"), *update = json_object_get(args, "update"),
           *destroy = json_object_get(args, "destroy");
    if ((create && !json_is_object(create) && !json_is_null(create)) ||
        (update && !json_is_object(update) && !json_is_null(update)) ||
        (destroy && !json_is_array(destroy) && !json_is_null(destroy)))
        return jmap_method_error(c, "invalidArguments", "create, update or destroy");
    if (json_object_size(create) + json_object_size(update) + json_array_size(destroy) >
        c->env->lim->max_objects_in_set)
        return jmap_method_error(c, "requestTooLarge", NULL);
    json_t *old_state = jmap_state_json(c);
    const char *if_in = jmap_str_arg(args, "ifInState");
    if (if_in && strcmp(if_in, json_string_value(old_state)) != 0) {
        json_decref(old_state);
        return jmap_method_error(c, "stateMismatch", NULL);
    }
    struct set_out o = {json_object(), json_object(), json_object(),
                        json_object(), json_array(),  json_object()};
    const char *k;
    json_t *v;
    json_object_foreach(create, k, v)
        create_one(c, k, v, &o);
    json_object_foreach(update, k, v) {
        const struct jmap_row *r = row_of(c, k);
        if (!r) {
            json_object_set_new(o.not_updated, k, jmap_set_error("notFound", NULL));
            continue;
        }
        struct jmap_row copy = *r;
        copy.flags = xstrdup(r->flags);
        json_t *err = update_one(c, &copy, v);
        free(copy.flags);
        json_object_set_new(err ? o.not_updated : o.updated, k, err ? err : json_null());
    }
    size_t i;
    json_array_foreach(destroy, i, v) {
        const struct jmap_row *r = row_of(c, json_string_value(v));
        const char *id = json_string_value(v) ? json_string_value(v) : "";
        if (!r) {
            json_object_set_new(o.not_destroyed, id, jmap_set_error("notFound", NULL));
        } else if (c->env->ops->expunge(c->env->ops->ctx, r->mailbox_id, r->uid) != 0) {
            json_object_set_new(o.not_destroyed, id, jmap_set_error("serverFail", NULL));
        } else {
            json_array_append(o.destroyed, v);
            jmap_snap_invalidate(c);
        }
    }
    return set_result(c, old_state, &o);
}

json_t *jmap_email_import(struct jmap_ctx *c, json_t *args)
{
    if (!jmap_account_ok(c, args) || jmap_snap_load(c) != 0)
        return NULL;
    json_t *emails = json_object_get(args, "emails");
    if (!json_is_object(emails))
        return jmap_method_error(c, "invalidArguments", "emails");
    if (json_object_size(emails) > c->env->lim->max_objects_in_set)
        return jmap_method_error(c, "requestTooLarge", NULL);
    json_t *old_state = jmap_state_json(c);
    const char *if_in = jmap_str_arg(args, "ifInState");
    if (if_in && strcmp(if_in, json_string_value(old_state)) != 0) {
        json_decref(old_state);
        return jmap_method_error(c, "stateMismatch", NULL);
    }
    const struct jmap_ops *ops = c->env->ops;
    json_t *created = json_object(), *not_created = json_object();
    const char *cid;
    json_t *e;
    json_object_foreach(emails, cid, e) {
        const struct jmap_box *boxes[64];
        size_t nb = 0;
        struct str flags = STR_INIT, data = STR_INIT, type = STR_INIT;
        json_t *err = NULL;
        int64_t mbid, uid, nuid;
        if (box_names(c, json_object_get(e, "mailboxIds"), boxes, 64, &nb) < 0 || nb == 0)
            err = jmap_set_error("invalidProperties", "mailboxIds");
        else if (json_object_get(e, "keywords") &&
                 jmap_flags_from_keywords(json_object_get(e, "keywords"), &flags) < 0)
            err = jmap_set_error("invalidProperties", "keywords");
        else if (jmap_blob_read(ops, jmap_str_arg(e, "blobId"), &data, &type) != 0)
            err = jmap_set_error("blobNotFound", NULL);
        else if (ops->append(ops->ctx, boxes[0]->name, data.ptr ? data.ptr : "", data.len,
                             str_cstr(&flags),
                             jmap_utc_parse(jmap_str_arg(e, "receivedAt"), c->env->now), &mbid,
                             &uid) != 0)
            err = jmap_set_error("serverFail", NULL);
        if (err) {
            json_object_set_new(not_created, cid, err);
        } else {
            for (size_t i = 1; i < nb; i++)
                ops->move(ops->ctx, mbid, uid, boxes[i]->name, true, &nuid);
            jmap_snap_invalidate(c);
            json_t *id = jmap_email_id_json(mbid, uid, 'e');
            json_object_set(c->created_ids, cid, id);
            json_object_set_new(created, cid,
                                json_pack("{s:o, s:O, s:o, s:I}", "id", id, "blobId",
                                          json_object_get(e, "blobId"), "threadId",
                                          created_thread(c, mbid, uid), "size",
                                          (json_int_t)data.len));
        }
        str_clear(&flags);
        str_clear(&data);
        str_clear(&type);
    }
    if (jmap_snap_load(c) != 0) {
        json_decref(old_state), json_decref(created), json_decref(not_created);
        return NULL;
    }
    return json_pack("{s:s, s:o, s:o, s:o, s:o}", "accountId", c->env->account_id, "oldState",
                     old_state, "newState", jmap_state_json(c), "created", created, "notCreated",
                     not_created);
}
