/*
 * jmap/changes — Email/changes and Thread/changes (RFC 8620 §5.2, RFC 8621 §4.3, §3.2)
 * computed from the store's modseqs: for each mailbox of the old state, the rows with a
 * higher modseq (uids from the old next uid up were created, the others updated) and the
 * uids expunged since (destroyed unless they were created after the old state as well);
 * every row of a mailbox that is new since is created. A mailbox deleted since the old state
 * took its messages' uids with it: then the answer is cannotCalculateChanges and the client
 * fetches again (RFC 8620 §5.2 allows that).
 */
#include "jmap/jmap_int.h"

#include "core/err.h"

#include <string.h>

struct acc {
    int64_t mailbox_id, uidnext, top; /* top: the snapshot's modseq of the mailbox */
    char prefix;
    json_t *created, *updated, *destroyed;
};

static void changed_row(void *arg, const struct jmap_msg *m)
{
    struct acc *a = arg;
    if (m->modseq > a->top)
        return; /* changed after the snapshot that gives newState: the next call's */
    json_t *id = jmap_email_id_json(a->mailbox_id, m->uid, a->prefix);
    json_array_append_new(m->uid >= a->uidnext ? a->created : a->updated, id);
}

static void gone_row(void *arg, int64_t uid)
{
    struct acc *a = arg;
    if (uid < a->uidnext)
        json_array_append_new(a->destroyed, jmap_email_id_json(a->mailbox_id, uid, a->prefix));
}

json_t *jmap_changes_emails(struct jmap_ctx *c, json_t *args, char prefix)
{
    if (!jmap_account_ok(c, args))
        return NULL;
    const char *since = jmap_str_arg(args, "sinceState");
    json_t *max = json_object_get(args, "maxChanges");
    if (!since || (max && !json_is_null(max) &&
                   (!json_is_integer(max) || json_integer_value(max) <= 0)))
        return jmap_method_error(c, "invalidArguments", "sinceState or maxChanges");
    struct jmap_state old;
    if (jmap_state_parse(since, &old) != 0)
        return jmap_method_error(c, "cannotCalculateChanges", "sinceState is not a state of "
                                                              "this server");
    if (jmap_snap_load(c) != 0) {
        jmap_state_clear(&old);
        return NULL;
    }
    bool lost = false;
    for (size_t i = 0; i < old.n; i++)
        lost |= jmap_box_by_id(&c->snap, old.ent[i].id) == NULL;
    struct acc a = {.prefix = prefix, .created = json_array(), .updated = json_array(),
                    .destroyed = json_array()};
    const struct jmap_ops *ops = c->env->ops;
    for (size_t i = 0; i < c->snap.nboxes && !lost; i++) {
        const struct jmap_box *b = &c->snap.boxes[i];
        const struct jmap_state_ent *o = jmap_state_find(&old, b->id);
        a.mailbox_id = b->id;
        a.uidnext = o ? o->uidnext : 0; /* a new mailbox: every row is new */
        a.top = b->modseq;
        if (o && o->modseq == b->modseq)
            continue;
        if (ops->changes(ops->ctx, b->id, o ? o->modseq : 0, changed_row, gone_row, &a) != 0)
            lost = true;
    }
    jmap_state_clear(&old);
    size_t total = json_array_size(a.created) + json_array_size(a.updated) +
                   json_array_size(a.destroyed);
    json_t *res = NULL;
    if (lost)
        jmap_method_error(c, "cannotCalculateChanges", "a mailbox was deleted since that state");
    else if (json_is_integer(max) && total > (size_t)json_integer_value(max))
        jmap_method_error(c, "cannotCalculateChanges", "more changes than maxChanges");
    else
        res = json_pack("{s:s, s:s, s:o, s:b, s:O, s:O, s:O}", "accountId", c->env->account_id,
                        "oldState", since, "newState", jmap_state_json(c), "hasMoreChanges", 0,
                        "created", a.created, "updated", a.updated, "destroyed", a.destroyed);
    json_decref(a.created);
    json_decref(a.updated);
    json_decref(a.destroyed);
    return res;
}

json_t *jmap_email_changes(struct jmap_ctx *c, json_t *args)
{
    return jmap_changes_emails(c, args, 'e');
}

json_t *jmap_thread_changes(struct jmap_ctx *c, json_t *args)
{
    return jmap_changes_emails(c, args, 't');
}
