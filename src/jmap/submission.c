/*
 * jmap/submission — EmailSubmission/set (§7.5): a stored Email is sent through Pigeon's queue
 * with the envelope given or derived from its To/Cc/Bcc, Bcc removed from the copy that is
 * sent; onSuccessUpdateEmail / onSuccessDestroyEmail run as an implicit Email/set whose
 * response follows. Submissions are handed to the queue at once (undoStatus "final"); the
 * object is kept (jmap_ops.submission_put) for EmailSubmission/get (§7.1), which reads them
 * back with their state; destroying one forgets the record (the mail is gone already). /changes and /query are in
 * submission_query.c. deliveryStatus is null: RFC 8621 §7 lets a server not track it.
 */
#include "jmap/email_int.h"

#include "core/err.h"
#include "core/xmalloc.h"
#include "msg/mime.h"

#include <strings.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RCPTS 100

static void sub_cb(void *arg, const char *json)
{
    json_t *o = json_loads(json, 0, NULL);
    if (json_is_object(o))
        json_array_append_new(arg, o);
    else
        json_decref(o);
}

bool jmap_submissions_read(struct jmap_ctx *c, json_t **list_out, struct str *state)
{
    const struct jmap_ops *ops = c->env->ops;
    *list_out = json_array();
    if (ops->submissions(ops->ctx, sub_cb, *list_out, state) == 0)
        return true;
    json_decref(*list_out);
    jmap_method_error(c, "serverFail", "the submissions could not be read");
    return false;
}

/* o restricted to the properties asked for (id always), or o itself (a new reference). */
static json_t *pick(json_t *o, json_t *props)
{
    if (!json_is_array(props))
        return json_incref(o);
    json_t *out = json_pack("{s:O}", "id", json_object_get(o, "id"));
    size_t i;
    json_t *p;
    json_array_foreach(props, i, p) {
        json_t *v = json_object_get(o, json_string_value(p) ?: "");
        if (v)
            json_object_set(out, json_string_value(p), v);
    }
    return out;
}

json_t *jmap_submission_get(struct jmap_ctx *c, json_t *args)
{
    if (!jmap_account_ok(c, args))
        return NULL;
    json_t *ids = json_object_get(args, "ids"), *props = json_object_get(args, "properties");
    if ((ids && !json_is_null(ids) && !json_is_array(ids)) ||
        (props && !json_is_null(props) && !json_is_array(props)))
        return jmap_method_error(c, "invalidArguments", "ids or properties");
    if (json_array_size(ids) > c->env->lim->max_objects_in_get)
        return jmap_method_error(c, "requestTooLarge", NULL);
    json_t *all;
    struct str state = STR_INIT;
    if (!jmap_submissions_read(c, &all, &state))
        return NULL;
    json_t *list = json_array(), *not_found = json_array();
    size_t i, k;
    json_t *v, *o;
    if (!json_is_array(ids) && json_array_size(all) > c->env->lim->max_objects_in_get) {
        json_decref(all), json_decref(list), json_decref(not_found), str_clear(&state);
        return jmap_method_error(c, "requestTooLarge", NULL);
    }
    if (!json_is_array(ids))
        json_array_foreach(all, k, o)
            json_array_append_new(list, pick(o, props));
    json_array_foreach(ids, i, v) {
        const char *id = jmap_resolve_id(c, json_string_value(v));
        json_t *found = NULL;
        json_array_foreach(all, k, o)
            if (id && strcmp(jmap_str_arg(o, "id") ?: "", id) == 0)
                found = o;
        if (found)
            json_array_append_new(list, pick(found, props));
        else
            json_array_append(not_found, v);
    }
    json_t *res = json_pack("{s:s, s:s, s:o, s:o}", "accountId", c->env->account_id, "state",
                            str_cstr(&state), "list", list, "notFound", not_found);
    json_decref(all);
    str_clear(&state);
    return res;
}

/* The state of the submissions now (a new string; "" when it cannot be read). */
static json_t *subs_state(struct jmap_ctx *c)
{
    const struct jmap_ops *ops = c->env->ops;
    json_t *all = json_array();
    struct str state = STR_INIT;
    int rc = ops->submissions(ops->ctx, sub_cb, all, &state);
    json_t *j = json_string(rc == 0 ? str_cstr(&state) : "");
    json_decref(all);
    str_clear(&state);
    return j;
}

/* The message without its Bcc fields (RFC 8621 §7.5 "MUST remove"). */
static void strip_bcc(const char *msg, size_t len, struct str *out)
{
    struct mime_tree *t = mime_parse(msg, len, NULL);
    size_t hlen = t->root->hdr_len, pos = 0, copied = 0;
    struct mime_field f;
    while (mime_header_next(msg, hlen, &pos, &f) > 0) {
        if (!slice_eq_ci(f.name, "Bcc"))
            continue;
        str_append(out, msg + copied, f.off - copied);
        copied = f.off + f.len;
    }
    str_append(out, msg + copied, len - copied);
    mime_tree_free(t);
}

static void add_rcpts(json_t *rcpts, json_t *addrs)
{
    size_t i;
    json_t *a;
    json_array_foreach(addrs, i, a) {
        const char *e = jmap_str_arg(a, "email");
        bool dup = false;
        size_t k;
        json_t *x;
        json_array_foreach(rcpts, k, x)
            dup |= e && strcasecmp(jmap_str_arg(x, "email"), e) == 0;
        if (e && !dup)
            json_array_append_new(rcpts, json_pack("{s:s, s:n}", "email", e, "parameters"));
    }
}

/* Submits one; the created object, or NULL with *err a SetError. */
static json_t *submit_one(struct jmap_ctx *c, json_t *sub, json_t **err, char *email_id_out,
                          size_t cap)
{
    const struct jmap_ops *ops = c->env->ops;
    const char *ident = jmap_str_arg(sub, "identityId");
    const char *eid = jmap_resolve_id(c, jmap_str_arg(sub, "emailId"));
    int64_t mb, uid;
    const struct jmap_row *r = NULL;
    if (!jmap_identity_exists(c, ident)) {
        *err = jmap_set_error("invalidProperties", "identityId");
        return NULL;
    }
    if (!eid || jmap_email_id_parse(eid, &mb, &uid) != 0 || jmap_snap_load(c) != 0 ||
        !(r = jmap_row_find(&c->snap, mb, uid))) {
        *err = jmap_set_error("invalidProperties", "emailId");
        return NULL;
    }
    snprintf(email_id_out, cap, "%s", eid);
    struct str msg = STR_INIT, sent = STR_INIT;
    if (ops->read_row(ops->ctx, r->blob, &msg) != 0) {
        *err = jmap_set_error("serverFail", NULL);
        str_clear(&msg);
        return NULL;
    }
    struct mime_tree *t = mime_parse(msg.ptr ? msg.ptr : "", msg.len, NULL);
    const char *hdr = msg.ptr + t->root->hdr_off;
    size_t hlen = t->root->hdr_len;
    json_t *envelope = json_object_get(sub, "envelope");
    json_t *rcpts = json_array();
    const char *mail_from = c->env->user;
    if (json_is_object(envelope)) {
        mail_from = jmap_str_arg(json_object_get(envelope, "mailFrom"), "email");
        json_array_extend(rcpts, json_object_get(envelope, "rcptTo"));
    } else {
        static const char *const fields[] = {"To", "Cc", "Bcc"};
        for (size_t i = 0; i < 3; i++) {
            json_t *a = jmap_hdr_lookup(hdr, hlen, fields[i], JMAP_HDR_ADDRESSES, true);
            size_t k;
            json_t *x;
            json_array_foreach(a, k, x)
                add_rcpts(rcpts, x);
            json_decref(a);
        }
    }
    /* The sender is always the account: no other address may be claimed (forbiddenFrom). */
    json_t *from = jmap_hdr_lookup(hdr, hlen, "From", JMAP_HDR_ADDRESSES, false);
    const char *from_addr = jmap_str_arg(json_array_get(from, 0), "email");
    json_t *res = NULL;
    const char *list[MAX_RCPTS];
    size_t n = 0;
    size_t i;
    json_t *x;
    json_array_foreach(rcpts, i, x)
        if (n < MAX_RCPTS && jmap_str_arg(x, "email"))
            list[n++] = jmap_str_arg(x, "email");
    char qid[33];
    if (!mail_from || strcasecmp(mail_from, c->env->user) != 0 || !from_addr ||
        strcasecmp(from_addr, c->env->user) != 0) {
        *err = jmap_set_error("forbiddenFrom", "the sender must be the account's own address");
    } else if (n == 0) {
        *err = jmap_set_error("noRecipients", NULL);
    } else if (json_array_size(rcpts) > MAX_RCPTS) {
        *err = jmap_set_error("tooManyRecipients", NULL);
    } else {
        strip_bcc(msg.ptr, msg.len, &sent);
        bool invalid[MAX_RCPTS] = {false};
        int rc = ops->submit(ops->ctx, list, n, sent.ptr, sent.len, qid, invalid);
        if (rc == ERR_NOTFOUND) {
            /* RFC 8621 §7.5: which addresses were refused */
            *err = jmap_set_error("invalidRecipients", "no such recipient");
            json_t *bad = json_array();
            for (size_t k = 0; k < n; k++)
                if (invalid[k])
                    json_array_append_new(bad, json_string(list[k]));
            json_object_set_new(*err, "invalidRecipients", bad);
        } else if (rc != 0) {
            *err = jmap_set_error(rc == ERR_LIMIT ? "tooLarge" : "serverFail", NULL);
        } else {
            char when[64], id[40];
            jmap_date_format(c->env->now, 0, when);
            snprintf(id, sizeof id, "s%s", qid);
            res = json_pack("{s:s, s:s, s:s}", "id", id, "sendAt", when, "undoStatus", "final");
            /* RFC 8621 §7: the whole object, for EmailSubmission/get */
            json_t *obj = json_pack(
                "{s:s, s:s, s:s, s:o, s:{s:{s:s, s:n}, s:O}, s:s, s:s, s:n, s:[], s:[]}", "id",
                id, "identityId", ident, "emailId", eid, "threadId",
                jmap_thread_id_json(r->thread_id), "envelope", "mailFrom", "email", mail_from,
                "parameters", "rcptTo", rcpts, "sendAt", when, "undoStatus", "final",
                "deliveryStatus", "dsnBlobIds", "mdnBlobIds");
            char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
            /* the mail is sent either way: a record that could not be kept is only missing
             * from EmailSubmission/get */
            if (text)
                ops->submission_put(ops->ctx, id, text);
            free(text);
            json_decref(obj);
        }
    }
    json_decref(from);
    json_decref(rcpts);
    mime_tree_free(t);
    str_clear(&msg);
    str_clear(&sent);
    return res;
}

/* The implicit Email/set after success (RFC 8621 §7.5). */
static void on_success(struct jmap_ctx *c, json_t *args, json_t *email_of)
{
    json_t *upd = json_object_get(args, "onSuccessUpdateEmail");
    json_t *del = json_object_get(args, "onSuccessDestroyEmail");
    if (!upd && !del)
        return;
    json_t *set = json_pack("{s:s, s:o, s:o}", "accountId", c->env->account_id, "update", json_object(),
                            "destroy", json_array());
    const char *k;
    json_t *v;
    json_object_foreach(upd, k, v) {
        const char *eid = k[0] == '#' ? json_string_value(json_object_get(email_of, k + 1)) : NULL;
        if (eid)
            json_object_set(json_object_get(set, "update"), eid, v);
    }
    size_t i;
    json_array_foreach(del, i, v) {
        const char *s = json_string_value(v);
        const char *eid = s && s[0] == '#' ? json_string_value(json_object_get(email_of, s + 1))
                                           : NULL;
        if (eid)
            json_array_append_new(json_object_get(set, "destroy"), json_string(eid));
    }
    json_t *res = jmap_email_set(c, set);
    json_decref(set);
    if (res)
        json_array_append_new(c->extra, json_pack("[s,o,s]", "Email/set", res, c->call_id));
}

json_t *jmap_submission_set(struct jmap_ctx *c, json_t *args)
{
    if (!jmap_account_ok(c, args))
        return NULL;
    json_t *create = json_object_get(args, "create");
    if (json_object_size(create) + json_object_size(json_object_get(args, "update")) +
            json_array_size(json_object_get(args, "destroy")) >
        c->env->lim->max_objects_in_set)
        return jmap_method_error(c, "requestTooLarge", NULL);
    json_t *old_state = subs_state(c);
    json_t *created = json_object(), *not_created = json_object(), *email_of = json_object();
    json_t *not_updated = json_object(), *not_destroyed = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(create, k, v) {
        json_t *err = NULL;
        char eid[64];
        json_t *res = submit_one(c, v, &err, eid, sizeof eid);
        if (res) {
            json_object_set(c->created_ids, k, json_object_get(res, "id"));
            json_object_set_new(email_of, k, json_string(eid));
            json_object_set_new(created, k, res);
        } else {
            json_object_set_new(not_created, k, err);
        }
    }
    /* Sent submissions are final: nothing to update or cancel (RFC 8621 §7.5). */
    json_object_foreach(json_object_get(args, "update"), k, v)
        json_object_set_new(not_updated, k, jmap_set_error("cannotUnsend", NULL));
    /* Destroying a final submission forgets its record (§7.5); the message is sent. */
    json_t *destroyed = json_array();
    size_t i;
    json_array_foreach(json_object_get(args, "destroy"), i, v) {
        const char *id = jmap_resolve_id(c, json_string_value(v));
        if (id && c->env->ops->submission_del(c->env->ops->ctx, id) == 0)
            json_array_append_new(destroyed, json_string(id));
        else
            json_object_set_new(not_destroyed, json_string_value(v) ? json_string_value(v) : "",
                                jmap_set_error("notFound", NULL));
    }
    json_t *res = json_pack("{s:s, s:o, s:o, s:o, s:o, s:{}, s:o, s:o, s:o}", "accountId",
                            c->env->account_id, "oldState", old_state, "newState",
                            subs_state(c), "created", created, "notCreated", not_created,
                            "updated", "notUpdated", not_updated, "destroyed", destroyed,
                            "notDestroyed", not_destroyed);
    on_success(c, args, email_of);
    json_decref(email_of);
    return res;
}
