/* fake_jmap — see fake_jmap.h. */
#include "fakes/fake_jmap.h"

#include "core/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct fake_jmap_box *box(struct fake_jmap *f, int64_t id)
{
    for (size_t i = 0; i < f->nboxes; i++)
        if (f->boxes[i].exists && f->boxes[i].id == id)
            return &f->boxes[i];
    return NULL;
}

static struct fake_jmap_box *box_named(struct fake_jmap *f, const char *name)
{
    for (size_t i = 0; i < f->nboxes; i++)
        if (f->boxes[i].exists && strcmp(f->boxes[i].name, name) == 0)
            return &f->boxes[i];
    return NULL;
}

static struct fake_jmap_row *row(struct fake_jmap *f, int64_t mb, int64_t uid)
{
    for (size_t i = 0; i < f->nrows; i++)
        if (f->rows[i].exists && f->rows[i].mailbox_id == mb && f->rows[i].uid == uid)
            return &f->rows[i];
    return NULL;
}

static int name_cmp(const void *a, const void *b)
{
    const struct fake_jmap_box *const *x = a, *const *y = b;
    return strcmp((*x)->name, (*y)->name);
}

static int op_mailboxes(void *ctx, jmap_mbox_cb cb, void *arg)
{
    struct fake_jmap *f = ctx;
    struct fake_jmap_box *sorted[FAKE_JMAP_MAX];
    size_t n = 0;
    for (size_t i = 0; i < f->nboxes; i++)
        if (f->boxes[i].exists)
            sorted[n++] = &f->boxes[i];
    qsort(sorted, n, sizeof *sorted, name_cmp);
    for (size_t i = 0; i < n; i++) {
        struct jmap_mbox m = {.id = sorted[i]->id, .name = sorted[i]->name,
                              .special_use = sorted[i]->special_use, .modseq = sorted[i]->modseq,
                              .uidnext = sorted[i]->uidnext, .subscribed = true};
        for (size_t k = 0; k < f->nrows; k++)
            if (f->rows[k].exists && f->rows[k].mailbox_id == m.id) {
                m.total++;
                m.unread += strstr(f->rows[k].flags, "\\Seen") == NULL;
            }
        cb(arg, &m);
    }
    return 0;
}

static void row_out(const struct fake_jmap_row *r, jmap_msg_cb cb, void *arg)
{
    struct jmap_msg m = {.mailbox_id = r->mailbox_id, .uid = r->uid, .modseq = r->modseq,
                         .size = 100, .received = r->date, .flags = r->flags, .blob_id = r->blob,
                         .thread_id = r->thread};
    cb(arg, &m);
}

static int op_messages(void *ctx, int64_t mailbox_id, jmap_msg_cb cb, void *arg)
{
    struct fake_jmap *f = ctx;
    for (size_t i = 0; i < f->nrows; i++)
        if (f->rows[i].exists && (!mailbox_id || f->rows[i].mailbox_id == mailbox_id))
            row_out(&f->rows[i], cb, arg);
    return 0;
}

static int op_changes(void *ctx, int64_t mailbox_id, int64_t since, jmap_msg_cb cb,
                      void (*gone)(void *arg, int64_t uid), void *arg)
{
    struct fake_jmap *f = ctx;
    if (!box(f, mailbox_id))
        return ERR_NOTFOUND;
    for (size_t i = 0; i < f->nrows; i++) {
        struct fake_jmap_row *r = &f->rows[i];
        if (r->mailbox_id != mailbox_id)
            continue;
        if (r->exists && r->modseq > since)
            row_out(r, cb, arg);
        else if (!r->exists && r->gone_modseq > since)
            gone(arg, r->uid);
    }
    return 0;
}

static int op_read(void *ctx, const char *blob_id, struct str *out)
{
    struct fake_jmap *f = ctx;
    for (size_t i = 0; i < f->nblobs; i++)
        if (strcmp(f->blobs[i].id, blob_id) == 0) {
            str_append(out, f->blobs[i].data, f->blobs[i].len);
            return 0;
        }
    return ERR_NOTFOUND;
}

static int64_t bump(struct fake_jmap_box *b)
{
    return ++b->modseq;
}

void fake_jmap_set_flags(struct fake_jmap *f, int64_t mailbox_id, int64_t uid, const char *flags)
{
    struct fake_jmap_row *r = row(f, mailbox_id, uid);
    if (!r)
        return;
    snprintf(r->flags, sizeof r->flags, "%s", flags);
    r->modseq = bump(box(f, mailbox_id));
}

static int op_set_flags(void *ctx, int64_t mailbox_id, int64_t uid, const char *flags)
{
    struct fake_jmap *f = ctx;
    if (!row(f, mailbox_id, uid))
        return ERR_NOTFOUND;
    fake_jmap_set_flags(f, mailbox_id, uid, flags);
    return 0;
}

void fake_jmap_expunge(struct fake_jmap *f, int64_t mailbox_id, int64_t uid)
{
    struct fake_jmap_row *r = row(f, mailbox_id, uid);
    if (!r)
        return;
    r->exists = false;
    r->gone_modseq = bump(box(f, mailbox_id));
}

static const struct fake_jmap_blob *blob_of(const struct fake_jmap *f, const char *id)
{
    for (size_t i = 0; i < f->nblobs; i++)
        if (strcmp(f->blobs[i].id, id) == 0)
            return &f->blobs[i];
    return NULL;
}

static bool keys_meet(const struct jmap_thread_key *a, const struct jmap_thread_key *b)
{
    if (strcmp(a->subject, b->subject) != 0)
        return false;
    for (size_t i = 0; i < a->n; i++)
        for (size_t k = 0; k < b->n; k++)
            if (strcmp(a->ids[i], b->ids[k]) == 0)
                return true;
    return false;
}

/* The store's rule (store/jmap_threads.h) over every row ever added, expunged ones too. */
static int64_t thread_for(struct fake_jmap *f, const char *blob)
{
    for (size_t i = 0; i < f->nrows; i++)
        if (strcmp(f->rows[i].blob, blob) == 0 && f->rows[i].thread)
            return f->rows[i].thread;
    const struct fake_jmap_blob *b = blob_of(f, blob);
    struct jmap_thread_key k, o;
    jmap_thread_key_make(b ? b->data : "", b ? b->len : 0, &k);
    int64_t t = 0;
    for (size_t i = 0; i < f->nrows && !t; i++) {
        const struct fake_jmap_blob *ob = blob_of(f, f->rows[i].blob);
        if (!ob || !f->rows[i].thread)
            continue;
        jmap_thread_key_make(ob->data, ob->len, &o);
        if (keys_meet(&k, &o))
            t = f->rows[i].thread;
        jmap_thread_key_clear(&o);
    }
    jmap_thread_key_clear(&k);
    return t ? t : ++f->next_thread;
}

static int op_thread_of(void *ctx, int64_t mailbox_id, int64_t uid, int64_t *thread_out)
{
    struct fake_jmap *f = ctx;
    for (size_t i = 0; i < f->nrows; i++)
        if (f->rows[i].mailbox_id == mailbox_id && f->rows[i].uid == uid) {
            *thread_out = f->rows[i].thread;
            return 0;
        }
    return ERR_NOTFOUND;
}

static int op_submission_put(void *ctx, const char *id, const char *json)
{
    struct fake_jmap *f = ctx;
    for (size_t i = 0; i < f->nsubs; i++)
        if (strcmp(f->sub_ids[i], id) == 0)
            return ERR_EXISTS;
    if (f->nsubs >= FAKE_JMAP_MAX)
        return ERR_LIMIT;
    snprintf(f->sub_ids[f->nsubs], sizeof f->sub_ids[0], "%s", id);
    f->sub_seq[f->nsubs] = ++f->sub_changes;
    f->subs[f->nsubs++] = strdup(json);
    return 0;
}

static int op_submissions(void *ctx, void (*cb)(void *arg, const char *json), void *arg,
                          struct str *state_out)
{
    struct fake_jmap *f = ctx;
    for (size_t i = 0; i < f->nsubs; i++)
        if (f->subs[i])
            cb(arg, f->subs[i]);
    str_appendf(state_out, "%lld", (long long)f->sub_changes);
    return 0;
}

static int op_submission_del(void *ctx, const char *id)
{
    struct fake_jmap *f = ctx;
    for (size_t i = 0; i < f->nsubs; i++)
        if (f->subs[i] && strcmp(f->sub_ids[i], id) == 0) {
            free(f->subs[i]);
            f->subs[i] = NULL;
            f->sub_seq[i] = ++f->sub_changes;
            return 0;
        }
    return ERR_NOTFOUND;
}

static int op_submission_changes(void *ctx, int64_t since,
                                 void (*cb)(void *arg, const char *id, int64_t seq, bool gone),
                                 void *arg, int64_t *now_out)
{
    struct fake_jmap *f = ctx;
    for (int64_t seq = since + 1; seq <= f->sub_changes; seq++)
        for (size_t i = 0; i < f->nsubs; i++)
            if (f->sub_seq[i] == seq)
                cb(arg, f->sub_ids[i], seq, f->subs[i] == NULL);
    *now_out = f->sub_changes;
    return 0;
}

static int64_t add_row(struct fake_jmap *f, struct fake_jmap_box *b, const char *blob,
                       const char *flags)
{
    int64_t thread = thread_for(f, blob);
    if (f->nrows >= sizeof f->rows / sizeof f->rows[0])
        return -1;
    struct fake_jmap_row *r = &f->rows[f->nrows++];
    *r = (struct fake_jmap_row){.mailbox_id = b->id, .uid = b->uidnext++, .date = 1700000000,
                                .exists = true};
    r->date += (int64_t)f->nrows;
    snprintf(r->flags, sizeof r->flags, "%s", flags ? flags : "");
    snprintf(r->blob, sizeof r->blob, "%s", blob);
    r->thread = thread;
    r->modseq = bump(b);
    return r->uid;
}

static int op_move(void *ctx, int64_t mailbox_id, int64_t uid, const char *dest, bool copy,
                   int64_t *uid_out)
{
    struct fake_jmap *f = ctx;
    struct fake_jmap_row *r = row(f, mailbox_id, uid);
    struct fake_jmap_box *d = box_named(f, dest);
    if (!r || !d)
        return ERR_NOTFOUND;
    char blob[33], flags[128];
    snprintf(blob, sizeof blob, "%s", r->blob);
    snprintf(flags, sizeof flags, "%s", r->flags);
    int64_t n = add_row(f, d, blob, flags);
    if (n < 0)
        return ERR_LIMIT;
    *uid_out = n;
    if (!copy)
        fake_jmap_expunge(f, mailbox_id, uid);
    return 0;
}

static int op_expunge(void *ctx, int64_t mailbox_id, int64_t uid)
{
    struct fake_jmap *f = ctx;
    if (!row(f, mailbox_id, uid))
        return ERR_NOTFOUND;
    fake_jmap_expunge(f, mailbox_id, uid);
    return 0;
}

static int add_box(struct fake_jmap *f, const char *name, const char *use)
{
    if (box_named(f, name))
        return ERR_EXISTS;
    if (f->nboxes >= FAKE_JMAP_MAX)
        return ERR_LIMIT;
    struct fake_jmap_box *b = &f->boxes[f->nboxes];
    *b = (struct fake_jmap_box){.id = (int64_t)f->nboxes + 1, .modseq = 1, .uidnext = 1,
                                .exists = true};
    snprintf(b->name, sizeof b->name, "%s", name);
    snprintf(b->special_use, sizeof b->special_use, "%s", use);
    f->nboxes++;
    return 0;
}

static int op_mailbox_create(void *ctx, const char *name)
{
    return add_box(ctx, name, "");
}

static int op_mailbox_rename(void *ctx, const char *from, const char *to)
{
    struct fake_jmap_box *b = box_named(ctx, from);
    if (!b)
        return ERR_NOTFOUND;
    snprintf(b->name, sizeof b->name, "%s", to);
    return 0;
}

static int op_mailbox_delete(void *ctx, const char *name)
{
    struct fake_jmap *f = ctx;
    struct fake_jmap_box *b = box_named(f, name);
    if (!b)
        return ERR_NOTFOUND;
    b->exists = false;
    for (size_t i = 0; i < f->nrows; i++)
        if (f->rows[i].mailbox_id == b->id)
            f->rows[i].exists = false;
    return 0;
}

static int op_subscribe(void *ctx, const char *name, bool on)
{
    return 0;
}

static int op_blob_put(void *ctx, const char *data, size_t len, char id_out[33])
{
    struct fake_jmap *f = ctx;
    if (f->nblobs >= FAKE_JMAP_MAX)
        return ERR_LIMIT;
    struct fake_jmap_blob *b = &f->blobs[f->nblobs++];
    snprintf(b->id, sizeof b->id, "%032x", ++f->next_blob);
    b->data = malloc(len + 1);
    memcpy(b->data, data, len);
    b->len = len;
    memcpy(id_out, b->id, 33);
    return 0;
}

static int op_append(void *ctx, const char *mailbox, const char *data, size_t len,
                     const char *flags, int64_t date, int64_t *mailbox_id_out, int64_t *uid_out)
{
    struct fake_jmap *f = ctx;
    struct fake_jmap_box *b = box_named(f, mailbox);
    char id[33];
    if (!b)
        return ERR_NOTFOUND;
    int rc = op_blob_put(f, data, len, id);
    if (rc != 0)
        return rc;
    int64_t uid = add_row(f, b, id, flags);
    if (uid < 0)
        return ERR_LIMIT;
    *mailbox_id_out = b->id;
    *uid_out = uid;
    return 0;
}

static int op_submit(void *ctx, const char *const *rcpts, size_t n, const char *data, size_t len,
                     char queue_id_out[33], bool *invalid_out)
{
    struct fake_jmap *f = ctx;
    bool bad = false;
    for (size_t i = 0; i < n; i++) /* the fake's local domain knows nobody called "nobody" */
        bad |= invalid_out[i] = strncmp(rcpts[i], "nobody@", 7) == 0;
    if (bad)
        return ERR_NOTFOUND;
    f->submissions++;
    f->last_rcpts[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        size_t used = strlen(f->last_rcpts);
        snprintf(f->last_rcpts + used, sizeof f->last_rcpts - used, "%s%s", i ? "," : "",
                 rcpts[i]);
    }
    snprintf(queue_id_out, 33, "%032x", f->submissions);
    return 0;
}

/* ---- Sieve scripts: a few named slots, one active ---- */

static struct fake_jmap_script *script(struct fake_jmap *f, const char *name, bool make)
{
    for (size_t i = 0; i < FAKE_JMAP_SCRIPTS; i++)
        if (f->scripts[i].text && strcmp(f->scripts[i].name, name) == 0)
            return &f->scripts[i];
    for (size_t i = 0; make && i < FAKE_JMAP_SCRIPTS; i++)
        if (!f->scripts[i].text) {
            snprintf(f->scripts[i].name, sizeof f->scripts[i].name, "%s", name);
            return &f->scripts[i];
        }
    return NULL;
}

static int op_sieve_read(void *ctx, const char *name, char **text_out, char **active_out)
{
    struct fake_jmap *f = ctx;
    struct fake_jmap_script *s = script(f, name, false);
    *text_out = s ? strdup(s->text) : NULL;
    *active_out = f->active[0] ? strdup(f->active) : NULL;
    return 0;
}

static int op_sieve_write(void *ctx, const char *name, const char *text, const char *activate)
{
    struct fake_jmap *f = ctx;
    struct fake_jmap_script *s = script(f, name, true);
    if (!s)
        return ERR_LIMIT;
    free(s->text);
    s->text = strdup(text);
    if (activate)
        snprintf(f->active, sizeof f->active, "%s", activate);
    return 0;
}

static int op_identities_read(void *ctx, struct str *out)
{
    struct fake_jmap *f = ctx;
    if (f->identities)
        str_appends(out, f->identities);
    return 0;
}

static int op_identities_write(void *ctx, const char *json)
{
    struct fake_jmap *f = ctx;
    free(f->identities);
    f->identities = strdup(json);
    return 0;
}

int fake_jmap_sieve_put(struct fake_jmap *f, const char *name, const char *text, bool activate)
{
    return op_sieve_write(f, name, text, activate ? name : NULL);
}

const char *fake_jmap_sieve_text(struct fake_jmap *f, const char *name)
{
    struct fake_jmap_script *s = script(f, name, false);
    return s ? s->text : NULL;
}

void fake_jmap_init(struct fake_jmap *f, struct jmap_ops *ops)
{
    memset(f, 0, sizeof *f);
    add_box(f, "INBOX", "");
    add_box(f, "Sent", "\\Sent");
    add_box(f, "Drafts", "\\Drafts");
    add_box(f, "Trash", "\\Trash");
    *ops = (struct jmap_ops){
        .ctx = f,
        .mailboxes = op_mailboxes,
        .messages = op_messages,
        .changes = op_changes,
        .thread_of = op_thread_of,
        .submission_put = op_submission_put,
        .submissions = op_submissions,
        .submission_del = op_submission_del,
        .submission_changes = op_submission_changes,
        .read = op_read,
        .read_row = op_read,
        .set_flags = op_set_flags,
        .move = op_move,
        .expunge = op_expunge,
        .mailbox_create = op_mailbox_create,
        .mailbox_rename = op_mailbox_rename,
        .mailbox_delete = op_mailbox_delete,
        .mailbox_subscribe = op_subscribe,
        .append = op_append,
        .blob_put = op_blob_put,
        .submit = op_submit,
        .sieve_read = op_sieve_read,
        .sieve_write = op_sieve_write,
        .identities_read = op_identities_read,
        .identities_write = op_identities_write,
    };
}

void fake_jmap_free(struct fake_jmap *f)
{
    for (size_t i = 0; i < f->nblobs; i++)
        free(f->blobs[i].data);
    f->nblobs = 0;
    for (size_t i = 0; i < FAKE_JMAP_SCRIPTS; i++)
        free(f->scripts[i].text);
    memset(f->scripts, 0, sizeof f->scripts);
    free(f->identities);
    f->identities = NULL;
    for (size_t i = 0; i < f->nsubs; i++)
        free(f->subs[i]);
    f->nsubs = 0;
}

int64_t fake_jmap_deliver(struct fake_jmap *f, int64_t mailbox_id, const char *text,
                          const char *flags)
{
    char id[33];
    struct fake_jmap_box *b = box(f, mailbox_id);
    if (!b || op_blob_put(f, text, strlen(text), id) != 0)
        return -1;
    return add_row(f, b, id, flags);
}
