/*
 * jmap/email_get — Email/get, Email/parse, Thread/get (RFC 8621 §4.2, §4.9, §3.1): rows of
 * the snapshot for the metadata, the message file (read through jmap_ops) for everything
 * else. A Thread's emailIds are its rows in receivedAt order.
 */
#include "jmap/email_int.h"

#include "core/err.h"

#include <stdlib.h>
#include <string.h>

static bool prop_known(const char *p)
{
    static const char *const known[] = {
        "id",      "blobId",  "threadId",     "mailboxIds", "keywords",    "size",
        "receivedAt", "messageId", "inReplyTo", "references", "sender",   "from",
        "to",      "cc",      "bcc",          "replyTo",    "subject",     "sentAt",
        "hasAttachment", "preview", "bodyValues", "textBody", "htmlBody", "attachments",
        "headers", "bodyStructure", NULL};
    for (const char *const *k = known; *k; k++)
        if (strcmp(*k, p) == 0)
            return true;
    return strncmp(p, "header:", 7) == 0;
}

static bool body_prop_known(const char *p)
{
    static const char *const known[] = {"partId", "blobId", "size", "headers", "name", "type",
                                        "charset", "disposition", "cid", "language", "location",
                                        "subParts", NULL};
    for (const char *const *k = known; *k; k++)
        if (strcmp(*k, p) == 0)
            return true;
    return false;
}

/* Reads the body options of Email/get and Email/parse; false with the error set. */
static bool body_opts(struct jmap_ctx *c, json_t *args, struct jmap_body_opts *o)
{
    *o = (struct jmap_body_opts){0};
    o->properties = json_object_get(args, "properties");
    o->body_properties = json_object_get(args, "bodyProperties");
    if (json_is_null(o->properties))
        o->properties = NULL;
    if (json_is_null(o->body_properties))
        o->body_properties = NULL;
    size_t i;
    json_t *v;
    if (o->properties && !json_is_array(o->properties))
        goto bad;
    json_array_foreach(o->properties, i, v)
        if (!json_is_string(v) || !prop_known(json_string_value(v)))
            goto bad;
    if (o->body_properties && !json_is_array(o->body_properties))
        goto bad;
    json_array_foreach(o->body_properties, i, v)
        if (!json_is_string(v) || !body_prop_known(json_string_value(v)))
            goto bad;
    o->text_values = json_is_true(json_object_get(args, "fetchTextBodyValues"));
    o->html_values = json_is_true(json_object_get(args, "fetchHTMLBodyValues"));
    o->all_values = json_is_true(json_object_get(args, "fetchAllBodyValues"));
    json_t *max = json_object_get(args, "maxBodyValueBytes");
    if (max && (!json_is_integer(max) || json_integer_value(max) < 0))
        goto bad;
    o->max_value_bytes = (uint64_t)json_integer_value(max);
    return true;
bad:
    jmap_method_error(c, "invalidArguments", "properties, bodyProperties or a fetch option");
    return false;
}

static bool wants(json_t *props, const char *name)
{
    if (!props)
        return strcmp(name, "headers") != 0 && strcmp(name, "bodyStructure") != 0;
    size_t i;
    json_t *p;
    json_array_foreach(props, i, p)
        if (strcmp(json_string_value(p), name) == 0)
            return true;
    return false;
}

static bool needs_text(json_t *props)
{
    if (!props)
        return true;
    size_t i;
    json_t *p;
    json_array_foreach(props, i, p)
        if (jmap_email_prop_needs_text(json_string_value(p)))
            return true;
    return false;
}

/* The properties that come from the message file, from the memo when it has them (the
 * file never changes), else computed and handed to the memo. */
static void from_file(struct jmap_ctx *c, const struct jmap_row *r,
                      const struct jmap_body_opts *o, json_t *e)
{
    const struct jmap_ops *ops = c->env->ops;
    json_t *got = o->sig && ops->memo_get ? ops->memo_get(ops->ctx, r->blob, o->sig) : NULL;
    if (!got) {
        struct str msg = STR_INIT;
        got = json_object();
        if (ops->read_row(ops->ctx, r->blob, &msg) == 0) {
            jmap_email_from_message(msg.ptr ? msg.ptr : "", msg.len, r->blob, o, got);
            if (o->sig && ops->memo_put)
                ops->memo_put(ops->ctx, r->blob, o->sig, got);
        }
        str_clear(&msg);
    }
    json_object_update(e, got);
    json_decref(got);
}

/* The options as text (malloc'd): what the memo keeps an Email's file properties under;
 * NULL (no memo) when body values are asked for, which can be as large as the message. */
static char *options_sig(const struct jmap_body_opts *o)
{
    if (o->text_values || o->html_values || o->all_values)
        return NULL;
    json_t *sig = json_pack("[O?, O?, b, b, b, I]", o->properties, o->body_properties,
                            o->text_values, o->html_values, o->all_values,
                            (json_int_t)o->max_value_bytes);
    char *text = sig ? json_dumps(sig, JSON_COMPACT) : NULL;
    json_decref(sig);
    return text;
}

static json_t *email_json(struct jmap_ctx *c, const struct jmap_row *r,
                          const struct jmap_body_opts *o)
{
    json_t *e = json_object();
    char blob[40];
    snprintf(blob, sizeof blob, "b%s", r->blob);
    char when[64];
    jmap_date_format(r->received, 0, when);
    json_object_set_new(e, "id", jmap_email_id_json(r->mailbox_id, r->uid, 'e'));
    if (wants(o->properties, "blobId"))
        json_object_set_new(e, "blobId", json_string(blob));
    if (wants(o->properties, "threadId"))
        json_object_set_new(e, "threadId", jmap_thread_id_json(r->thread_id));
    if (wants(o->properties, "mailboxIds")) {
        json_t *m = json_object();
        json_t *id = jmap_mbox_id_json(r->mailbox_id);
        json_object_set_new(m, json_string_value(id), json_true());
        json_decref(id);
        json_object_set_new(e, "mailboxIds", m);
    }
    if (wants(o->properties, "keywords"))
        json_object_set_new(e, "keywords", jmap_keywords_from_flags(r->flags));
    if (wants(o->properties, "size"))
        json_object_set_new(e, "size", json_integer(r->size));
    if (wants(o->properties, "receivedAt"))
        json_object_set_new(e, "receivedAt", json_string(when));
    if (needs_text(o->properties))
        from_file(c, r, o, e);
    return e;
}

json_t *jmap_email_get(struct jmap_ctx *c, json_t *args)
{
    struct jmap_body_opts o;
    if (!jmap_account_ok(c, args) || !body_opts(c, args, &o))
        return NULL;
    json_t *ids = json_object_get(args, "ids");
    if (ids && !json_is_null(ids) && !json_is_array(ids))
        return jmap_method_error(c, "invalidArguments", "ids must be an array or null");
    if (jmap_snap_load(c) != 0)
        return NULL;
    size_t n = json_is_array(ids) ? json_array_size(ids) : c->snap.nrows;
    if (n > c->env->lim->max_objects_in_get)
        return jmap_method_error(c, "requestTooLarge", NULL);
    json_t *list = json_array(), *not_found = json_array();
    o.sig = options_sig(&o);
    if (!json_is_array(ids)) {
        for (size_t i = 0; i < c->snap.nrows; i++)
            json_array_append_new(list, email_json(c, &c->snap.rows[i], &o));
    } else {
        size_t i;
        json_t *v;
        json_array_foreach(ids, i, v) {
            int64_t mb, uid;
            const char *id = jmap_resolve_id(c, json_string_value(v));
            const struct jmap_row *r = id && id[0] == 'e' && jmap_email_id_parse(id, &mb, &uid) == 0
                                           ? jmap_row_find(&c->snap, mb, uid)
                                           : NULL;
            if (r)
                json_array_append_new(list, email_json(c, r, &o));
            else
                json_array_append(not_found, v);
        }
    }
    free(o.sig);
    return json_pack("{s:s, s:o, s:o, s:o}", "accountId", c->env->account_id, "state",
                     jmap_state_json(c), "list", list, "notFound", not_found);
}

json_t *jmap_email_parse(struct jmap_ctx *c, json_t *args)
{
    struct jmap_body_opts o;
    if (!jmap_account_ok(c, args) || !body_opts(c, args, &o))
        return NULL;
    json_t *blobs = json_object_get(args, "blobIds");
    if (!json_is_array(blobs))
        return jmap_method_error(c, "invalidArguments", "blobIds");
    if (json_array_size(blobs) > c->env->lim->max_objects_in_get)
        return jmap_method_error(c, "requestTooLarge", NULL);
    json_t *parsed = json_object(), *not_parsable = json_array(), *not_found = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(blobs, i, v) {
        const char *id = json_string_value(v);
        struct str data = STR_INIT, type = STR_INIT;
        if (!id || jmap_blob_read(c->env->ops, id, &data, &type) != 0) {
            json_array_append(not_found, v);
        } else {
            json_t *e = json_object();
            char file[33], part[64];
            jmap_blob_id_parse(id, file, part);
            /* Parts of a parsed blob are named after the blob's own file. */
            jmap_email_from_message(data.ptr ? data.ptr : "", data.len, file, &o, e);
            json_object_set_new(e, "size", json_integer((json_int_t)data.len));
            json_object_set_new(e, "blobId", json_string(id));
            json_object_set_new(parsed, id, e);
        }
        str_clear(&data);
        str_clear(&type);
    }
    return json_pack("{s:s, s:o, s:o, s:o}", "accountId", c->env->account_id, "parsed", parsed,
                     "notParsable", not_parsable, "notFound", not_found);
}

json_t *jmap_thread_get(struct jmap_ctx *c, json_t *args)
{
    if (!jmap_account_ok(c, args))
        return NULL;
    json_t *ids = json_object_get(args, "ids");
    if (!json_is_array(ids))
        return jmap_method_error(c, "invalidArguments", "ids must be an array");
    if (json_array_size(ids) > c->env->lim->max_objects_in_get)
        return jmap_method_error(c, "requestTooLarge", NULL);
    if (jmap_snap_load(c) != 0)
        return NULL;
    json_t *list = json_array(), *not_found = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v) {
        int64_t t;
        size_t first, n = 0;
        if (jmap_thread_id_parse(json_string_value(v), &t) == 0)
            n = jmap_thread_rows(&c->snap, t, &first);
        if (!n) {
            json_array_append(not_found, v);
            continue;
        }
        json_t *emails = json_array();
        for (size_t k = 0; k < n; k++) {
            const struct jmap_row *r = &c->snap.rows[c->snap.by_thread[first + k]];
            json_array_append_new(emails, jmap_email_id_json(r->mailbox_id, r->uid, 'e'));
        }
        json_array_append_new(list, json_pack("{s:O, s:o}", "id", v, "emailIds", emails));
    }
    return json_pack("{s:s, s:o, s:o, s:o}", "accountId", c->env->account_id, "state",
                     jmap_state_json(c), "list", list, "notFound", not_found);
}
