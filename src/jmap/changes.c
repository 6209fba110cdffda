/*
 * jmap/changes — Email/changes and Thread/changes (RFC 8620 §5.2, RFC 8621 §4.3, §3.2)
 * computed from the store's modseqs: for each mailbox of the old state, the rows with a
 * higher modseq (uids from the old next uid up were created, the others updated) and the
 * uids expunged since (destroyed unless they were created after the old state as well);
 * every row of a mailbox that is new since is created. A mailbox deleted since the old state
 * took its messages' uids with it, and a state ahead of the store's (a restored database) names
 * changes nobody can list: then the answer is cannotCalculateChanges and the client fetches
 * again (RFC 8620 §5.2 allows that).
 *
 * A Thread changes when an Email joins or leaves it (keywords are the Email's): created when
 * none of its Emails existed at the old state, destroyed when none is left, else updated.
 */
#include "jmap/jmap_int.h"

#include "core/err.h"
#include "core/xmalloc.h"

#include <stdlib.h>
#include <string.h>

struct acc {
    int64_t mailbox_id, uidnext, top; /* top: the snapshot's modseq of the mailbox */
    struct jmap_delta *d;
};

static void ref_add(struct jmap_ref **v, size_t *n, int64_t mailbox_id, int64_t uid)
{
    if ((*n & (*n - 1)) == 0)
        *v = xrealloc(*v, (*n ? *n * 2 : 8) * sizeof **v);
    (*v)[(*n)++] = (struct jmap_ref){mailbox_id, uid};
}

static void changed_row(void *arg, const struct jmap_msg *m)
{
    struct acc *a = arg;
    if (m->modseq > a->top)
        return; /* changed after the snapshot that gives newState: the next call's */
    if (m->uid >= a->uidnext)
        ref_add(&a->d->created, &a->d->nc, a->mailbox_id, m->uid);
    else
        ref_add(&a->d->updated, &a->d->nu, a->mailbox_id, m->uid);
}

static void gone_row(void *arg, int64_t uid)
{
    struct acc *a = arg;
    if (uid < a->uidnext)
        ref_add(&a->d->destroyed, &a->d->nd, a->mailbox_id, uid);
}

void jmap_delta_clear(struct jmap_delta *d)
{
    free(d->created);
    free(d->updated);
    free(d->destroyed);
    *d = (struct jmap_delta){0};
}

int jmap_delta_since(struct jmap_ctx *c, const char *since, struct jmap_delta *d)
{
    *d = (struct jmap_delta){0};
    struct jmap_state old;
    if (jmap_state_parse(since, &old) != 0) {
        jmap_method_error(c, "cannotCalculateChanges", "not a state of this server");
        return -1;
    }
    if (jmap_snap_load(c) != 0) {
        jmap_state_clear(&old);
        return -1;
    }
    const char *why = NULL;
    for (size_t i = 0; i < old.n && !why; i++) {
        const struct jmap_box *b = jmap_box_by_id(&c->snap, old.ent[i].id);
        if (!b)
            why = "a mailbox was deleted since that state";
        else if (old.ent[i].modseq > b->modseq || old.ent[i].uidnext > b->uidnext)
            why = "that state is newer than the store";
    }
    struct acc a = {.d = d};
    const struct jmap_ops *ops = c->env->ops;
    for (size_t i = 0; i < c->snap.nboxes && !why; i++) {
        const struct jmap_box *b = &c->snap.boxes[i];
        const struct jmap_state_ent *o = jmap_state_find(&old, b->id);
        a.mailbox_id = b->id;
        a.uidnext = o ? o->uidnext : 0; /* a new mailbox: every row is new */
        a.top = b->modseq;
        if (o && o->modseq == b->modseq)
            continue;
        if (ops->changes(ops->ctx, b->id, o ? o->modseq : 0, changed_row, gone_row, &a) != 0)
            why = "the store could not list the changes";
    }
    jmap_state_clear(&old);
    if (why) {
        jmap_delta_clear(d);
        jmap_method_error(c, "cannotCalculateChanges", why);
        return -1;
    }
    return 0;
}

static json_t *refs_json(const struct jmap_ref *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, jmap_email_id_json(v[i].mailbox_id, v[i].uid, 'e'));
    return a;
}

bool jmap_changes_args(struct jmap_ctx *c, json_t *args, const char *since, size_t *max_out)
{
    json_t *max = json_object_get(args, "maxChanges");
    if (!jmap_account_ok(c, args))
        return false;
    if (!jmap_str_arg(args, since) ||
        (max && !json_is_null(max) && (!json_is_integer(max) || json_integer_value(max) <= 0))) {
        jmap_method_error(c, "invalidArguments", "the old state or maxChanges");
        return false;
    }
    *max_out = json_is_integer(max) ? (size_t)json_integer_value(max) : 0;
    return true;
}

static json_t *changes_result(struct jmap_ctx *c, json_t *args, size_t max, json_t *created,
                              json_t *updated, json_t *destroyed)
{
    size_t total = json_array_size(created) + json_array_size(updated) +
                   json_array_size(destroyed);
    if (max && total > max) {
        json_decref(created), json_decref(updated), json_decref(destroyed);
        return jmap_method_error(c, "cannotCalculateChanges", "more changes than maxChanges");
    }
    return json_pack("{s:s, s:s, s:o, s:b, s:o, s:o, s:o}", "accountId", c->env->account_id,
                     "oldState", jmap_str_arg(args, "sinceState"), "newState", jmap_state_json(c),
                     "hasMoreChanges", 0, "created", created, "updated", updated, "destroyed",
                     destroyed);
}

json_t *jmap_email_changes(struct jmap_ctx *c, json_t *args)
{
    size_t max;
    struct jmap_delta d;
    if (!jmap_changes_args(c, args, "sinceState", &max) ||
        jmap_delta_since(c, jmap_str_arg(args, "sinceState"), &d) != 0)
        return NULL;
    json_t *res = changes_result(c, args, max, refs_json(d.created, d.nc),
                                 refs_json(d.updated, d.nu), refs_json(d.destroyed, d.nd));
    jmap_delta_clear(&d);
    return res;
}

/* ---- Thread/changes ---- */

struct touch {
    int64_t thread;
    int kind; /* +1 an Email of it was created, -1 destroyed */
};

static int touch_cmp(const void *a, const void *b)
{
    const struct touch *x = a, *y = b;
    return x->thread < y->thread ? -1 : x->thread > y->thread;
}

size_t jmap_delta_threads(struct jmap_ctx *c, const struct jmap_delta *d, bool updated,
                          int64_t **out)
{
    struct touch *t = xmalloc((d->nc + d->nu + d->nd + 1) * sizeof *t);
    size_t n = 0;
    for (size_t i = 0; i < d->nc + (updated ? d->nu : 0); i++) {
        const struct jmap_ref *e = i < d->nc ? &d->created[i] : &d->updated[i - d->nc];
        const struct jmap_row *r = jmap_row_find(&c->snap, e->mailbox_id, e->uid);
        if (r)
            t[n++] = (struct touch){r->thread_id, 1};
    }
    const struct jmap_ops *ops = c->env->ops;
    for (size_t i = 0; i < d->nd; i++) {
        int64_t th;
        /* a message no JMAP request ever saw was never placed: no client knows its thread */
        if (ops->thread_of(ops->ctx, d->destroyed[i].mailbox_id, d->destroyed[i].uid, &th) == 0)
            t[n++] = (struct touch){th, -1};
    }
    qsort(t, n, sizeof *t, touch_cmp);
    int64_t *ids = xmalloc((n + 1) * sizeof *ids);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || ids[k - 1] != t[i].thread)
            ids[k++] = t[i].thread;
    free(t);
    *out = ids;
    return k;
}

/* How many of the delta's created (kind 1) or destroyed (-1) Emails are in thread th. */
static size_t count_in(struct jmap_ctx *c, const struct jmap_delta *d, int64_t th, int kind)
{
    size_t n = 0;
    if (kind > 0) {
        for (size_t i = 0; i < d->nc; i++) {
            const struct jmap_row *r = jmap_row_find(&c->snap, d->created[i].mailbox_id,
                                                     d->created[i].uid);
            n += r && r->thread_id == th;
        }
        return n;
    }
    const struct jmap_ops *ops = c->env->ops;
    for (size_t i = 0; i < d->nd; i++) {
        int64_t t;
        n += ops->thread_of(ops->ctx, d->destroyed[i].mailbox_id, d->destroyed[i].uid, &t) == 0 &&
             t == th;
    }
    return n;
}

json_t *jmap_thread_changes(struct jmap_ctx *c, json_t *args)
{
    size_t max;
    struct jmap_delta d;
    if (!jmap_changes_args(c, args, "sinceState", &max) ||
        jmap_delta_since(c, jmap_str_arg(args, "sinceState"), &d) != 0)
        return NULL;
    int64_t *th;
    size_t n = jmap_delta_threads(c, &d, false, &th);
    json_t *created = json_array(), *updated = json_array(), *destroyed = json_array();
    for (size_t i = 0; i < n; i++) {
        size_t first, now = jmap_thread_rows(&c->snap, th[i], &first);
        size_t added = count_in(c, &d, th[i], 1), gone = count_in(c, &d, th[i], -1);
        bool before = now - added + gone > 0;
        if (!before && !now)
            continue; /* born and gone since */
        json_array_append_new(!before ? created : now ? updated : destroyed,
                              jmap_thread_id_json(th[i]));
    }
    free(th);
    jmap_delta_clear(&d);
    return changes_result(c, args, max, created, updated, destroyed);
}
