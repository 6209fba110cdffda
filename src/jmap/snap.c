/*
 * jmap/snap — the account as one request's methods read it: every mailbox and message row,
 * loaded through jmap_ops on first use and again after a write; ids in and out.
 */
#include "jmap/jmap_int.h"

#include "core/err.h"
#include "core/xmalloc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* RFC 8621 §2: roles from the IANA registry, matched to IMAP special-use (RFC 6154). */
static const char *role_of(const char *name, const char *special_use)
{
    static const struct {
        const char *use, *role;
    } roles[] = {{"\\Sent", "sent"},   {"\\Drafts", "drafts"}, {"\\Trash", "trash"},
                 {"\\Junk", "junk"},   {"\\Archive", "archive"}, {"\\All", "all"},
                 {"\\Flagged", "flagged"}, {"\\Important", "important"}};
    if (strcmp(name, "INBOX") == 0)
        return "inbox";
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
        if (strcmp(special_use, roles[i].use) == 0)
            return roles[i].role;
    return "";
}

static void box_cb(void *arg, const struct jmap_mbox *m)
{
    struct jmap_snap *s = arg;
    s->boxes = xrealloc(s->boxes, (s->nboxes + 1) * sizeof *s->boxes);
    struct jmap_box *b = &s->boxes[s->nboxes++];
    *b = (struct jmap_box){.id = m->id, .total = m->total, .unread = m->unread,
                           .modseq = m->modseq, .uidnext = m->uidnext, .name = xstrdup(m->name),
                           .subscribed = m->subscribed};
    snprintf(b->role, sizeof b->role, "%s", role_of(m->name, m->special_use));
}

static void row_cb(void *arg, const struct jmap_msg *m)
{
    struct jmap_snap *s = arg;
    if ((s->nrows & (s->nrows - 1)) == 0 || s->nrows == 0)
        s->rows = xrealloc(s->rows, (s->nrows ? s->nrows * 2 : 16) * sizeof *s->rows);
    struct jmap_row *r = &s->rows[s->nrows++];
    *r = (struct jmap_row){.mailbox_id = m->mailbox_id, .uid = m->uid, .modseq = m->modseq,
                           .size = m->size, .received = m->received, .thread_id = m->thread_id,
                           .flags = xstrdup(m->flags)};
    size_t n = m->blob_id ? strnlen(m->blob_id, sizeof r->blob - 1) : 0;
    memcpy(r->blob, m->blob_id ? m->blob_id : "", n); /* every row: no snprintf */
    r->blob[n] = '\0';
}

static int row_cmp(const void *a, const void *b)
{
    const struct jmap_row *x = a, *y = b;
    if (x->mailbox_id != y->mailbox_id)
        return x->mailbox_id < y->mailbox_id ? -1 : 1;
    return x->uid < y->uid ? -1 : x->uid > y->uid;
}

/* Every mailbox's totalEmails and unreadEmails, from the rows (in mailbox order): the store
 * is asked for the mailboxes alone, which is what a state string needs. */
static void counts(struct jmap_snap *s)
{
    for (size_t i = 0; i < s->nboxes; i++)
        s->boxes[i].total = s->boxes[i].unread = 0;
    struct jmap_box *b = NULL;
    for (size_t i = 0; i < s->nrows; i++) {
        const struct jmap_row *r = &s->rows[i];
        if (!b || b->id != r->mailbox_id)
            b = (struct jmap_box *)jmap_box_by_id(s, r->mailbox_id);
        if (!b)
            continue;
        b->total++;
        b->unread += !jmap_flags_has(r->flags, "\\Seen");
    }
}

void jmap_snap_clear(struct jmap_snap *s)
{
    for (size_t i = 0; i < s->nboxes; i++)
        free(s->boxes[i].name);
    for (size_t i = 0; i < s->nrows; i++)
        free(s->rows[i].flags);
    free(s->boxes);
    free(s->rows);
    free(s->by_thread);
    *s = (struct jmap_snap){0};
}

int jmap_snap_load(struct jmap_ctx *c)
{
    if (c->snap.loaded)
        return 0;
    const struct jmap_ops *ops = c->env->ops;
    jmap_snap_clear(&c->snap);
    int rc = ops->mailboxes(ops->ctx, box_cb, &c->snap);
    if (rc == 0)
        rc = ops->messages(ops->ctx, 0, row_cb, &c->snap);
    if (rc != 0) {
        jmap_snap_clear(&c->snap);
        jmap_method_error(c, "serverFail", "the store could not be read");
        return rc;
    }
    bool sorted = true; /* the store gives them in this order already */
    for (size_t i = 1; i < c->snap.nrows && sorted; i++)
        sorted = row_cmp(&c->snap.rows[i - 1], &c->snap.rows[i]) < 0;
    if (!sorted)
        qsort(c->snap.rows, c->snap.nrows, sizeof *c->snap.rows, row_cmp);
    counts(&c->snap);
    c->snap.loaded = true;
    return 0;
}

void jmap_snap_invalidate(struct jmap_ctx *c)
{
    c->snap.loaded = false;
    c->env->changed = true;
}

const struct jmap_box *jmap_box_by_id(const struct jmap_snap *s, int64_t id)
{
    for (size_t i = 0; i < s->nboxes; i++)
        if (s->boxes[i].id == id)
            return &s->boxes[i];
    return NULL;
}

const struct jmap_box *jmap_box_by_name(const struct jmap_snap *s, const char *name)
{
    for (size_t i = 0; i < s->nboxes; i++)
        if (strcmp(s->boxes[i].name, name) == 0)
            return &s->boxes[i];
    return NULL;
}

const struct jmap_box *jmap_box_by_role(const struct jmap_snap *s, const char *role)
{
    for (size_t i = 0; i < s->nboxes; i++)
        if (strcmp(s->boxes[i].role, role) == 0)
            return &s->boxes[i];
    return NULL;
}

const struct jmap_row *jmap_row_find(const struct jmap_snap *s, int64_t mailbox_id, int64_t uid)
{
    struct jmap_row key = {.mailbox_id = mailbox_id, .uid = uid};
    return s->nrows ? bsearch(&key, s->rows, s->nrows, sizeof *s->rows, row_cmp) : NULL;
}

static int thread_order(const void *a, const void *b, void *arg)
{
    const struct jmap_row *rows = arg;
    const struct jmap_row *x = &rows[*(const size_t *)a], *y = &rows[*(const size_t *)b];
    if (x->thread_id != y->thread_id)
        return x->thread_id < y->thread_id ? -1 : 1;
    if (x->received != y->received)
        return x->received < y->received ? -1 : 1;
    return row_cmp(x, y);
}

void jmap_snap_threads(struct jmap_snap *s)
{
    if (s->by_thread)
        return;
    s->by_thread = xmalloc((s->nrows + 1) * sizeof *s->by_thread);
    for (size_t i = 0; i < s->nrows; i++)
        s->by_thread[i] = i;
    qsort_r(s->by_thread, s->nrows, sizeof *s->by_thread, thread_order, s->rows);
}

size_t jmap_thread_rows(struct jmap_snap *s, int64_t t, size_t *first)
{
    jmap_snap_threads(s);
    size_t lo = 0, hi = s->nrows; /* the first row whose thread is not below t */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->rows[s->by_thread[mid]].thread_id < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t n = 0;
    while (lo + n < s->nrows && s->rows[s->by_thread[lo + n]].thread_id == t)
        n++;
    *first = lo;
    return n;
}

/* A decimal number without sign or leading zero, up to end or a stop character. */
static int number(const char **p, int64_t *out)
{
    const char *s = *p;
    int64_t v = 0;
    if (*s < '1' || *s > '9')
        return ERR_PARSE;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (v > (INT64_MAX - 9) / 10)
            return ERR_PARSE;
        v = v * 10 + (*s - '0');
    }
    *p = s;
    *out = v;
    return 0;
}

int jmap_mbox_id_parse(const char *id, int64_t *out)
{
    if (!id || id[0] != 'm')
        return ERR_PARSE;
    const char *p = id + 1;
    return number(&p, out) == 0 && *p == '\0' ? 0 : ERR_PARSE;
}

int jmap_thread_id_parse(const char *id, int64_t *out)
{
    if (!id || id[0] != 't')
        return ERR_PARSE;
    const char *p = id + 1;
    return number(&p, out) == 0 && *p == '\0' ? 0 : ERR_PARSE;
}

json_t *jmap_thread_id_json(int64_t t)
{
    char buf[32];
    snprintf(buf, sizeof buf, "t%" PRId64, t);
    return json_string(buf);
}

int jmap_email_id_parse(const char *id, int64_t *mbox_out, int64_t *uid_out)
{
    if (!id || id[0] != 'e')
        return ERR_PARSE;
    const char *p = id + 1;
    if (number(&p, mbox_out) != 0 || *p++ != '-' || number(&p, uid_out) != 0 || *p)
        return ERR_PARSE;
    return 0;
}

json_t *jmap_mbox_id_json(int64_t id)
{
    char buf[32];
    snprintf(buf, sizeof buf, "m%" PRId64, id);
    return json_string(buf);
}

json_t *jmap_email_id_json(int64_t mbox, int64_t uid, char prefix)
{
    char buf[48];
    snprintf(buf, sizeof buf, "%c%" PRId64 "-%" PRId64, prefix, mbox, uid);
    return json_string(buf);
}

int jmap_account_state(const struct jmap_ops *ops, struct str *out)
{
    struct jmap_snap s = {0};
    int rc = ops->mailboxes(ops->ctx, box_cb, &s);
    if (rc == 0)
        jmap_state_write(&s, out);
    jmap_snap_clear(&s);
    return rc;
}
