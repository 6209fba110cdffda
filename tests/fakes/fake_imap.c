/* fake_imap — see fake_imap.h: an in-memory store behind the IMAP session engine. */
#include "fakes/fake_imap.h"

#include "core/err.h"
#include "core/xmalloc.h"
#include "store/imap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct fmsg {
    uint32_t uid;
    uint64_t modseq;
    char *flags;
    int64_t date;
    int tz;      /* the date's zone (APPEND's date-time) */
    size_t blob; /* index in the store's blob table */
};

struct fexp {
    uint32_t uid;
    uint64_t modseq;
};

struct fmbox {
    char *name;
    const char *special;
    int64_t id;
    uint32_t uidvalidity, uidnext, recent_uid;
    uint64_t hms;
    bool has_key; /* URLAUTH access key */
    unsigned char key[IMAP_URLKEY_LEN];
    struct fmsg *m;
    size_t n, cap;
    struct fexp *e;
    size_t ne, ecap;
};

struct fmeta {
    char *mailbox, *entry, *value;
    size_t len;
};

struct fake_imap_store {
    struct fmbox *mb;
    size_t n, cap;
    int64_t next_id;
    uint32_t next_uidv;
    char **subs;
    size_t nsubs;
    const char **texts; /* blob table */
    char **owned;       /* texts appended over IMAP */
    size_t nblobs, nowned;
    struct imap_req *pending;
    struct fmeta *meta; /* METADATA: mailbox ("" server), entry, value */
    size_t nmeta;
    unsigned key_gen; /* URLAUTH keys made so far: each new key differs */
};

/* ---- the store ---- */

static struct fmbox *mb_find(struct fake_imap_store *st, const char *name)
{
    for (size_t i = 0; i < st->n; i++)
        if (strcmp(st->mb[i].name, name) == 0)
            return &st->mb[i];
    return NULL;
}

static struct fmbox *mb_by_id(struct fake_imap_store *st, int64_t id)
{
    for (size_t i = 0; i < st->n; i++)
        if (st->mb[i].id == id)
            return &st->mb[i];
    return NULL;
}

static struct fmbox *mb_add(struct fake_imap_store *st, const char *name, const char *special)
{
    if (st->n == st->cap) {
        st->cap = st->cap ? st->cap * 2 : 16;
        st->mb = xrealloc(st->mb, st->cap * sizeof *st->mb);
    }
    struct fmbox *m = &st->mb[st->n++];
    memset(m, 0, sizeof *m);
    m->name = xstrdup(name);
    m->special = special;
    m->id = ++st->next_id;
    m->uidvalidity = ++st->next_uidv;
    m->uidnext = 1;
    m->hms = 1;
    return m;
}

static void mb_free(struct fmbox *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->m[i].flags);
    free(m->m);
    free(m->e);
    free(m->name);
}

static size_t blob_add(struct fake_imap_store *st, const char *text)
{
    st->texts = xrealloc(st->texts, (st->nblobs + 1) * sizeof *st->texts);
    st->texts[st->nblobs] = text;
    return st->nblobs++;
}

static struct fmsg *msg_add(struct fmbox *m, size_t blob, const char *flags, int64_t date)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 16;
        m->m = xrealloc(m->m, m->cap * sizeof *m->m);
    }
    struct fmsg *x = &m->m[m->n++];
    x->uid = m->uidnext++;
    x->modseq = ++m->hms;
    x->flags = xstrdup(flags ? flags : "");
    x->date = date;
    x->blob = blob;
    return x;
}

static void msg_expunge(struct fmbox *m, size_t i, uint64_t modseq)
{
    if (m->ne == m->ecap) {
        m->ecap = m->ecap ? m->ecap * 2 : 16;
        m->e = xrealloc(m->e, m->ecap * sizeof *m->e);
    }
    m->e[m->ne++] = (struct fexp){m->m[i].uid, modseq};
    free(m->m[i].flags);
    memmove(&m->m[i], &m->m[i + 1], (m->n - i - 1) * sizeof *m->m);
    m->n--;
}

static struct fmsg *msg_find(struct fmbox *m, uint32_t uid, size_t *idx)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->m[i].uid == uid) {
            if (idx)
                *idx = i;
            return &m->m[i];
        }
    return NULL;
}

static bool subscribed(struct fake_imap_store *st, const char *name, size_t *idx)
{
    for (size_t i = 0; i < st->nsubs; i++)
        if (strcmp(st->subs[i], name) == 0) {
            if (idx)
                *idx = i;
            return true;
        }
    return false;
}

/* ---- requests ---- */

static void rows_push(struct imap_req *r, const struct fmsg *x, bool with_blob)
{
    r->rows = xrealloc(r->rows, (r->nrows + 1) * sizeof *r->rows);
    r->rows[r->nrows++] = (struct imap_row){
        .uid = x->uid,
        .modseq = x->modseq,
        .internal_date = x->date,
        .internal_tz = x->tz,
        .flags = x->flags[0] ? xstrdup(x->flags) : NULL,
    };
    if (with_blob)
        snprintf(r->rows[r->nrows - 1].blob, sizeof r->rows[0].blob, "b%zu", x->blob);
}

static void state_out(struct imap_req *r, struct fmbox *m, bool claim)
{
    r->mailbox.id = m->id;
    r->mailbox.uidvalidity = m->uidvalidity;
    r->mailbox.uidnext = m->uidnext;
    r->mailbox.highestmodseq = m->hms;
    r->mailbox.recent_before = m->recent_uid;
    if (claim && m->n && m->m[m->n - 1].uid > m->recent_uid)
        m->recent_uid = m->m[m->n - 1].uid;
}

static int req_select(struct fake_imap *f, struct imap_req *r)
{
    struct fmbox *m = mb_find(f->st, r->name);
    if (!m)
        return ERR_NOTFOUND;
    for (size_t i = 0; i < m->n; i++) {
        rows_push(r, &m->m[i], true);
        r->rows[r->nrows - 1].size = strlen(f->st->texts[m->m[i].blob]);
    }
    state_out(r, m, !r->read_only && !r->no_recent);
    return 0;
}

/* The uids expunged after r->since_modseq (SYNC, VANISHED). */
static void push_expunged(const struct fmbox *m, struct imap_req *r)
{
    for (size_t i = 0; i < m->ne; i++)
        if (m->e[i].modseq > r->since_modseq) {
            r->uids = xrealloc(r->uids, (r->nuids + 1) * sizeof *r->uids);
            r->uids[r->nuids++] = m->e[i].uid;
        }
}

static int req_sync(struct fake_imap *f, struct imap_req *r)
{
    struct fmbox *m = mb_by_id(f->st, r->mailbox_id);
    if (!m)
        return ERR_NOTFOUND;
    for (size_t i = 0; i < m->n; i++)
        if (m->m[i].modseq > r->since_modseq) {
            rows_push(r, &m->m[i], true);
            r->rows[r->nrows - 1].size = strlen(f->st->texts[m->m[i].blob]);
        }
    push_expunged(m, r);
    state_out(r, m, !r->read_only && !r->no_recent);
    return 0;
}

static int req_vanished(struct fake_imap *f, struct imap_req *r)
{
    struct fmbox *m = mb_by_id(f->st, r->mailbox_id);
    if (!m)
        return ERR_NOTFOUND;
    push_expunged(m, r);
    return 0;
}

static int req_store(struct fake_imap *f, struct imap_req *r)
{
    struct fmbox *m = mb_by_id(f->st, r->mailbox_id);
    if (!m)
        return ERR_NOTFOUND;
    static const enum store_imap_flag_op ops[] = {STORE_FLAGS_REPLACE, STORE_FLAGS_ADD,
                                                  STORE_FLAGS_REMOVE};
    uint64_t modseq = 0;
    struct str tmp = STR_INIT;
    for (size_t k = 0; k < r->n_in_uids; k++) {
        struct fmsg *x = msg_find(m, r->in_uids[k], NULL);
        if (!x)
            continue;
        bool failed = r->unchangedsince >= 0 && x->modseq > (uint64_t)r->unchangedsince;
        if (!failed) {
            store_imap_flags_apply(x->flags, ops[r->store_op], r->flags, &tmp);
            if (strcmp(str_cstr(&tmp), x->flags) != 0) {
                modseq = modseq ? modseq : ++m->hms;
                free(x->flags);
                x->flags = xstrdup(str_cstr(&tmp));
                x->modseq = modseq;
            }
        }
        rows_push(r, x, false);
        r->rows[r->nrows - 1].failed = failed;
    }
    str_clear(&tmp);
    return 0;
}

static int req_expunge(struct fake_imap *f, struct imap_req *r)
{
    struct fmbox *m = mb_by_id(f->st, r->mailbox_id);
    if (!m)
        return ERR_NOTFOUND;
    uint64_t modseq = ++m->hms;
    for (size_t k = 0; k < r->n_in_uids; k++) {
        size_t i;
        if (msg_find(m, r->in_uids[k], &i))
            msg_expunge(m, i, modseq);
    }
    return 0;
}

static int req_copy(struct fake_imap *f, struct imap_req *r)
{
    struct fmbox *src = mb_by_id(f->st, r->mailbox_id);
    struct fmbox *dst = mb_find(f->st, r->name2);
    if (!dst)
        return ERR_NOTFOUND;
    int64_t src_id = src->id;
    r->uids = xcalloc(r->n_in_uids + 1, sizeof *r->uids);
    r->uids2 = xcalloc(r->n_in_uids + 1, sizeof *r->uids2);
    uint64_t src_modseq = r->move ? ++src->hms : 0;
    for (size_t k = 0; k < r->n_in_uids; k++) {
        size_t i;
        struct fmsg *x = msg_find(src, r->in_uids[k], &i);
        if (!x)
            continue;
        struct fmsg copy = *x;
        struct fmsg *y = msg_add(dst, copy.blob, copy.flags, copy.date);
        y->tz = copy.tz;
        src = mb_by_id(f->st, src_id);
        r->uids[r->nuids++] = copy.uid;
        r->uids2[r->nuids2++] = y->uid;
        if (r->move && msg_find(src, copy.uid, &i))
            msg_expunge(src, i, src_modseq);
    }
    r->mailbox.id = dst->id;
    r->mailbox.uidvalidity = dst->uidvalidity;
    return 0;
}

static int req_append(struct fake_imap *f, struct imap_req *r)
{
    struct fmbox *m = mb_find(f->st, r->name2);
    if (!m)
        return ERR_NOTFOUND;
    struct fake_imap_store *st = f->st;
    r->uids2 = xcalloc(r->nparts + 1, sizeof *r->uids2);
    for (size_t k = 0; k < r->nparts; k++) {
        const struct imap_append_part *p = &r->parts[k];
        st->owned = xrealloc(st->owned, (st->nowned + 1) * sizeof *st->owned);
        char *copy = xmalloc(p->len + 1);
        memcpy(copy, p->data, p->len);
        copy[p->len] = '\0';
        st->owned[st->nowned++] = copy;
        struct fmsg *x = msg_add(m, blob_add(st, copy), p->flags,
                                 p->internal_date ? p->internal_date : 1700000000);
        x->tz = p->internal_date ? p->internal_tz : 0;
        r->uids2[r->nuids2++] = x->uid;
    }
    r->mailbox.id = m->id;
    r->mailbox.uidvalidity = m->uidvalidity;
    return 0;
}

static int req_locate(struct fake_imap *f, struct imap_req *r)
{
    struct fmbox *m = mb_find(f->st, r->name);
    if (!m)
        return ERR_NOTFOUND;
    struct fmsg *x = r->n_in_uids == 1 ? msg_find(m, r->in_uids[0], NULL) : NULL;
    if (!x)
        return ERR_PARSE;
    r->mailbox.uidvalidity = m->uidvalidity;
    rows_push(r, x, true);
    return 0;
}

static void new_key(struct fake_imap_store *st, struct fmbox *m)
{
    st->key_gen++;
    for (size_t i = 0; i < sizeof m->key; i++)
        m->key[i] = (unsigned char)(st->key_gen * 31 + m->id * 7 + i);
    m->has_key = true;
}

/* URLAUTH: the keys of bob's mailboxes (the only user). */
static int req_urlkey(struct fake_imap *f, struct imap_req *r)
{
    struct fmbox *m = r->name ? mb_find(f->st, r->name) : NULL;
    if (r->kind == IMAP_REQ_RESETKEY && !r->name) {
        for (size_t i = 0; i < f->st->n; i++)
            f->st->mb[i].has_key = false;
        return 0;
    }
    if (r->kind == IMAP_REQ_URLAUTH) {
        int64_t now = f->now ? f->now : 1700000000;
        if (!r->owner || strcasecmp(r->owner, "bob@hamburger.edu") != 0 || !m || !m->has_key)
            return ERR_NOTFOUND;
        if (r->expire && r->expire <= now)
            return ERR_RANGE;
        memcpy(r->urlkey, m->key, sizeof m->key);
        return req_locate(f, r);
    }
    if (!m)
        return ERR_NOTFOUND;
    if (r->kind == IMAP_REQ_RESETKEY || !m->has_key)
        new_key(f->st, m);
    memcpy(r->urlkey, m->key, sizeof m->key);
    return 0;
}

#define FAKE_META_MAX 8 /* annotations the fake keeps: more is ERR_LIMIT (TOOMANY) */

static struct fmeta *meta_find(struct fake_imap_store *st, const char *mb, const char *entry)
{
    for (size_t i = 0; i < st->nmeta; i++)
        if (!strcmp(st->meta[i].mailbox, mb) && !strcmp(st->meta[i].entry, entry))
            return &st->meta[i];
    return NULL;
}

static int req_setmeta(struct fake_imap *f, struct imap_req *r)
{
    struct fake_imap_store *st = f->st;
    const char *mb = r->name ? r->name : "";
    if (r->name && !mb_find(st, r->name))
        return ERR_NOTFOUND;
    for (size_t i = 0; i < r->nmeta; i++) {
        struct fmeta *m = meta_find(st, mb, r->meta[i].entry);
        if (!m && r->meta[i].value && st->nmeta == FAKE_META_MAX)
            return ERR_LIMIT;
        if (!m && !r->meta[i].value)
            continue;
        if (!m) {
            st->meta = xrealloc(st->meta, (st->nmeta + 1) * sizeof *st->meta);
            m = &st->meta[st->nmeta++];
            *m = (struct fmeta){xstrdup(mb), xstrdup(r->meta[i].entry), NULL, 0};
        }
        free(m->value);
        m->value = NULL;
        if (!r->meta[i].value) { /* removed: the last one takes its place */
            free(m->mailbox);
            free(m->entry);
            *m = st->meta[--st->nmeta];
            continue;
        }
        m->value = xmalloc(r->meta[i].len + 1);
        memcpy(m->value, r->meta[i].value, r->meta[i].len);
        m->len = r->meta[i].len;
    }
    return 0;
}

static int cmp_meta(const void *a, const void *b)
{
    return strcmp(((const struct imap_meta_out *)a)->entry,
                  ((const struct imap_meta_out *)b)->entry);
}

static int req_getmeta(struct fake_imap *f, struct imap_req *r)
{
    struct fake_imap_store *st = f->st;
    const char *mb = r->name ? r->name : "";
    if (r->name && !mb_find(st, r->name))
        return ERR_NOTFOUND;
    r->meta_out = xcalloc(st->nmeta + 1, sizeof *r->meta_out);
    for (size_t k = 0; k < r->nmeta; k++) {
        const char *e = r->meta[k].entry;
        size_t el = strlen(e);
        for (size_t i = 0; i < st->nmeta; i++) {
            const struct fmeta *m = &st->meta[i];
            bool below = !strncmp(m->entry, e, el) && m->entry[el] == '/';
            bool ok = !strcmp(m->mailbox, mb) &&
                      (!strcmp(m->entry, e) ||
                       (below && (r->meta_depth == 2 ||
                                  (r->meta_depth == 1 && !strchr(m->entry + el + 1, '/')))));
            if (!ok || r->nmeta_out > st->nmeta)
                continue;
            char *v = xmalloc(m->len + 1);
            memcpy(v, m->value, m->len);
            v[m->len] = '\0';
            r->meta_out[r->nmeta_out++] = (struct imap_meta_out){xstrdup(m->entry), v, m->len};
        }
    }
    qsort(r->meta_out, r->nmeta_out, sizeof *r->meta_out, cmp_meta); /* as the store orders */
    return 0;
}

static int req_cache(struct fake_imap *f, struct imap_req *r)
{
    r->cache = xcalloc(r->nblobs + 1, sizeof *r->cache);
    for (size_t i = 0; i < r->nblobs; i++) {
        size_t b = strtoul(r->blobs[i] + 1, NULL, 10);
        if (b >= f->st->nblobs)
            continue;
        struct store_imap_cache c;
        const char *t = f->st->texts[b];
        store_imap_cache_compute(t, strlen(t), &c);
        r->cache[i] =
            (struct imap_cache_entry){c.envelope, c.bodystructure, c.body, c.search_headers};
    }
    return 0;
}

static bool is_inferior(const char *name, const char *of)
{
    size_t n = strlen(of);
    return strncmp(name, of, n) == 0 && name[n] == '/';
}

static void create_parents(struct fake_imap_store *st, const char *name)
{
    char buf[1100];
    for (const char *p = strchr(name, '/'); p; p = strchr(p + 1, '/')) {
        snprintf(buf, sizeof buf, "%.*s", (int)(p - name), name);
        if (!mb_find(st, buf))
            mb_add(st, buf, "");
    }
}

static int req_rename(struct fake_imap_store *st, struct imap_req *r, struct fmbox *m)
{
    if (!m)
        return ERR_NOTFOUND;
    if (mb_find(st, r->name2))
        return ERR_EXISTS;
    if (is_inferior(r->name2, r->name))
        return ERR_PARSE;
    create_parents(st, r->name2);
    m = mb_find(st, r->name);
    if (strcmp(r->name, "INBOX") == 0) {
        struct fmbox *d = mb_add(st, r->name2, "");
        m = mb_find(st, "INBOX");
        uint64_t ms = ++m->hms;
        while (m->n) {
            msg_add(d, m->m[0].blob, m->m[0].flags, m->m[0].date);
            msg_expunge(m, 0, ms);
        }
        r->mailbox.id = m->id;
        return 0;
    }
    size_t flen = strlen(r->name);
    for (size_t i = 0; i < st->n; i++)
        if (st->mb[i].id == m->id || is_inferior(st->mb[i].name, r->name)) {
            char buf[1100];
            snprintf(buf, sizeof buf, "%s%s", r->name2, st->mb[i].name + flen);
            free(st->mb[i].name);
            st->mb[i].name = xstrdup(buf);
        }
    return 0;
}

static int req_mailbox(struct fake_imap *f, struct imap_req *r)
{
    struct fake_imap_store *st = f->st;
    struct fmbox *m = r->name ? mb_find(st, r->name) : NULL;
    switch (r->kind) {
    case IMAP_REQ_CREATE:
        if (m)
            return ERR_EXISTS;
        create_parents(st, r->name);
        mb_add(st, r->name, "");
        return 0;
    case IMAP_REQ_DELETE:
        if (!m)
            return ERR_NOTFOUND;
        for (size_t i = 0; i < st->n; i++)
            if (is_inferior(st->mb[i].name, r->name))
                return ERR_BUSY_STATE;
        r->mailbox.id = m->id;
        mb_free(m);
        memmove(m, m + 1, (size_t)(st->mb + st->n - m - 1) * sizeof *m);
        st->n--;
        return 0;
    case IMAP_REQ_RENAME:
        return req_rename(st, r, m);
    case IMAP_REQ_SUBSCRIBE: {
        size_t i;
        bool was = subscribed(st, r->name, &i);
        if (r->on && !was) {
            st->subs = xrealloc(st->subs, (st->nsubs + 1) * sizeof *st->subs);
            st->subs[st->nsubs++] = xstrdup(r->name);
        } else if (!r->on && was) {
            free(st->subs[i]);
            st->subs[i] = st->subs[--st->nsubs];
        }
        return 0;
    }
    case IMAP_REQ_STATUS:
        if (!m)
            return ERR_NOTFOUND;
        r->mailbox.id = m->id;
        r->mailbox.messages = (uint32_t)m->n;
        r->mailbox.uidnext = m->uidnext;
        r->mailbox.uidvalidity = m->uidvalidity;
        r->mailbox.highestmodseq = m->hms;
        for (size_t i = 0; i < m->n; i++) {
            r->mailbox.recent += m->m[i].uid > m->recent_uid;
            r->mailbox.unseen += strstr(m->m[i].flags, "\\Seen") == NULL;
            r->mailbox.size += strlen(st->texts[m->m[i].blob]);
        }
        return 0;
    default:
        return ERR_PARSE;
    }
}

static int cmp_info(const void *a, const void *b)
{
    return strcmp(((const struct imap_mailbox_info *)a)->name,
                  ((const struct imap_mailbox_info *)b)->name);
}

static int req_list(struct fake_imap *f, struct imap_req *r)
{
    struct fake_imap_store *st = f->st;
    r->mailboxes = xcalloc(st->n + st->nsubs + 1, sizeof *r->mailboxes);
    for (size_t i = 0; i < st->n; i++)
        r->mailboxes[r->nmailboxes++] =
            (struct imap_mailbox_info){xstrdup(st->mb[i].name), xstrdup(st->mb[i].special),
                                       subscribed(st, st->mb[i].name, NULL), true};
    for (size_t i = 0; i < st->nsubs; i++)
        if (!mb_find(st, st->subs[i]))
            r->mailboxes[r->nmailboxes++] =
                (struct imap_mailbox_info){xstrdup(st->subs[i]), xstrdup(""), true, false};
    qsort(r->mailboxes, r->nmailboxes, sizeof *r->mailboxes, cmp_info);
    return 0;
}

static int run(struct fake_imap *f, struct imap_req *r)
{
    if (f->fail_requests)
        return ERR_DB;
    switch (r->kind) {
    case IMAP_REQ_LIST:
        return req_list(f, r);
    case IMAP_REQ_SELECT:
        return req_select(f, r);
    case IMAP_REQ_SYNC:
        return req_sync(f, r);
    case IMAP_REQ_STORE:
        return req_store(f, r);
    case IMAP_REQ_EXPUNGE:
        return req_expunge(f, r);
    case IMAP_REQ_COPY:
        return req_copy(f, r);
    case IMAP_REQ_CACHE:
        return req_cache(f, r);
    case IMAP_REQ_QUOTA:
        r->quota = f->quota;
        return 0;
    case IMAP_REQ_VANISHED:
        return req_vanished(f, r);
    case IMAP_REQ_LOCATE:
        return req_locate(f, r);
    case IMAP_REQ_GETMETA:
        return req_getmeta(f, r);
    case IMAP_REQ_URLKEY:
    case IMAP_REQ_RESETKEY:
    case IMAP_REQ_URLAUTH:
        return req_urlkey(f, r);
    case IMAP_REQ_SETMETA:
        return req_setmeta(f, r);
    case IMAP_REQ_APPEND:
        if (f->quota.limit_bytes && f->quota.used_bytes + r->parts[0].len > f->quota.limit_bytes)
            return ERR_LIMIT;
        return req_append(f, r);
    default:
        return req_mailbox(f, r);
    }
}

/* ---- ops ---- */

static void finish_req(struct fake_imap *f, struct imap_req *r)
{
    r->rc = run(f, r);
    imap_session_req_done(f->s);
}

static void op_request(void *vf, struct imap_session *s, struct imap_req *r)
{
    struct fake_imap *f = vf;
    f->requests++;
    if (f->hold) {
        f->pending_req = true;
        f->st->pending = r;
        return;
    }
    finish_req(f, r);
}

static void op_auth(void *vf, struct imap_session *s, const char *user, const char *pass)
{
    struct fake_imap *f = vf;
    bool ok = (strcmp(user, "bob") == 0 || strcmp(user, "bob@hamburger.edu") == 0) &&
              strcmp(pass, "hungry") == 0;
    if (f->hold) {
        f->pending_auth = true;
        f->pending_auth_ok = ok;
        return;
    }
    imap_session_auth_done(s, ok ? IMAP_AUTH_OK : IMAP_AUTH_FAILED, "bob@hamburger.edu");
}

static int op_map(void *vf, const char *blob, struct imap_msg_map *out)
{
    struct fake_imap *f = vf;
    size_t b = strtoul(blob + 1, NULL, 10);
    if (b >= f->st->nblobs)
        return ERR_NOTFOUND;
    f->maps++;
    *out = (struct imap_msg_map){f->st->texts[b], strlen(f->st->texts[b]), NULL};
    return 0;
}

static void op_unmap(void *vf, struct imap_msg_map *m)
{
    ((struct fake_imap *)vf)->unmaps++;
}

static void op_selected(void *vf, int64_t id)
{
    ((struct fake_imap *)vf)->selected = id;
}

static void op_notify_all(void *vf, bool on)
{
    ((struct fake_imap *)vf)->notify_all = on;
}

static void op_logout(void *vf)
{
    struct fake_imap *f = vf;
    f->logouts++;
    f->selected = 0;
    f->notify_all = false;
}

static const struct imap_session_ops fake_ops = {op_auth,     op_request,    op_map,   op_unmap,
                                                 op_selected, op_notify_all, op_logout};

static void io_write(void *vf, const char *p, size_t n)
{
    str_append(&((struct fake_imap *)vf)->out, p, n);
}

static void io_starttls(void *vf)
{
    ((struct fake_imap *)vf)->tls_requested = true;
}

static void io_compress(void *vf)
{
    ((struct fake_imap *)vf)->compress_requested = true;
}

static const struct imap_io fake_io = {io_write, io_starttls, io_compress};

/* ---- public ---- */

void fake_imap_init(struct fake_imap *f, bool tls, bool plaintext_ok, uint64_t max_literal)
{
    memset(f, 0, sizeof *f);
    f->writable_auto = true;
    f->st = xcalloc(1, sizeof *f->st);
    static const char *const names[][2] = {{"INBOX", ""},          {"Sent", "\\Sent"},
                                           {"Drafts", "\\Drafts"}, {"Trash", "\\Trash"},
                                           {"Junk", "\\Junk"},     {"Archive", "\\Archive"}};
    for (size_t i = 0; i < 6; i++) {
        mb_add(f->st, names[i][0], names[i][1]);
        f->st->subs = xrealloc(f->st->subs, (f->st->nsubs + 1) * sizeof *f->st->subs);
        f->st->subs[f->st->nsubs++] = xstrdup(names[i][0]);
    }
    struct imap_server_config cfg = {.starttls = !tls,
                                     .plaintext_ok = plaintext_ok,
                                     .max_errors = 10,
                                     .max_literal = max_literal};
    struct session_peer peer = {"127.0.0.1", "127.0.0.1:143", tls};
    f->s = imap_session_new(&cfg, &fake_io, f, &fake_ops, f, &peer, 1);
    imap_session_start(f->s);
}

void fake_imap_free(struct fake_imap *f)
{
    if (f->pending_req || f->pending_auth)
        fake_imap_complete(f);
    imap_session_free(f->s);
    struct fake_imap_store *st = f->st;
    for (size_t i = 0; i < st->n; i++)
        mb_free(&st->mb[i]);
    for (size_t i = 0; i < st->nsubs; i++)
        free(st->subs[i]);
    for (size_t i = 0; i < st->nowned; i++)
        free(st->owned[i]);
    for (size_t i = 0; i < st->nmeta; i++) {
        free(st->meta[i].mailbox);
        free(st->meta[i].entry);
        free(st->meta[i].value);
    }
    free(st->meta);
    free(st->mb);
    free(st->subs);
    free(st->owned);
    free(st->texts);
    free(st);
    str_clear(&f->out);
}

uint32_t fake_imap_deliver(struct fake_imap *f, const char *mailbox, const char *text,
                           const char *flags)
{
    struct fmbox *m = mb_find(f->st, mailbox);
    size_t b = blob_add(f->st, text);
    return m ? msg_add(m, b, flags, 1700000000 + (int64_t)b * 86400)->uid : 0;
}

void fake_imap_expunge_uid(struct fake_imap *f, const char *mailbox, uint32_t uid)
{
    struct fmbox *m = mb_find(f->st, mailbox);
    size_t i;
    if (m && msg_find(m, uid, &i))
        msg_expunge(m, i, ++m->hms);
}

void fake_imap_set_flags(struct fake_imap *f, const char *mailbox, uint32_t uid, const char *flags)
{
    struct fmbox *m = mb_find(f->st, mailbox);
    struct fmsg *x = m ? msg_find(m, uid, NULL) : NULL;
    if (!x)
        return;
    free(x->flags);
    x->flags = xstrdup(flags);
    x->modseq = ++m->hms;
}

int fake_imap_count(struct fake_imap *f, const char *mailbox)
{
    struct fmbox *m = mb_find(f->st, mailbox);
    return m ? (int)m->n : -1;
}

void fake_imap_complete(struct fake_imap *f)
{
    if (f->pending_auth) {
        f->pending_auth = false;
        imap_session_auth_done(f->s, f->pending_auth_ok ? IMAP_AUTH_OK : IMAP_AUTH_FAILED,
                               "bob@hamburger.edu");
    }
    if (f->pending_req) {
        f->pending_req = false;
        finish_req(f, f->st->pending);
    }
}

size_t fake_imap_feed(struct fake_imap *f, const char *p, size_t n)
{
    size_t off = 0;
    for (;;) {
        size_t used = imap_session_feed(f->s, p + off, n - off);
        off += used;
        if (f->tls_requested) {
            f->tls_requested = false;
            imap_session_tls_started(f->s, "TLSv1.3", "TEST");
            continue;
        }
        if (imap_session_closing(f->s) || imap_session_busy(f->s) || !f->writable_auto)
            break;
        size_t before = f->out.len;
        imap_session_writable(f->s);
        f->writable_calls++;
        if (f->out.len == before && (off == n || used == 0))
            break;
    }
    return off;
}

size_t fake_imap_feeds(struct fake_imap *f, const char *cstr)
{
    return fake_imap_feed(f, cstr, strlen(cstr));
}
