/*
 * cmd_context — updating search contexts (RFC 5267 §4, CONTEXT=SEARCH and CONTEXT=SORT):
 * a SEARCH or SORT with RETURN (UPDATE) keeps its criteria and its result; whenever the
 * selected mailbox changed (flags, new messages, expunges — this session's or another's),
 * the criteria run again over the view (the same chunked run as SEARCH, cmd_search.c) and
 * the difference is told as ESEARCH ADDTO / REMOVEFROM before the command's tagged reply or,
 * in IDLE, at once. CANCELUPDATE ends a context; leaving the mailbox ends them all.
 *
 * SEARCH contexts use position 0 and one set in mailbox order (§4.3.3: an unsorted result);
 * SORT contexts give each run of updates its position in the sorted result: removals in the
 * result as it stands after the removals before them, additions at the position they take.
 * A message expunged but not yet told to the client (during FETCH, STORE, SEARCH: RFC 3501
 * §7.4.1) keeps its place until its EXPUNGE goes out, and is removed then, before it.
 */
#include "imap/search_int.h"

#include "core/xmalloc.h"
#include "msg/imapstr.h"

#include <stdlib.h>
#include <string.h>

/* updating contexts per session (the size of s->ctx); more: NOUPDATE (§4.3.1) */
#define IMAP_MAX_CONTEXTS (sizeof((struct imap_session *)0)->ctx / sizeof(struct imap_context *))

struct imap_context {
    struct str tag;
    bool uid;  /* UID SEARCH/SORT: updates carry uids */
    bool sort; /* positions matter */
    struct imap_search_run *run;
    uint32_t *uids; /* the result as the client knows it, in result order */
    size_t n;
    uint64_t gen; /* s->view_gen when it was last brought up to date */
};

static void context_free(struct imap_context *c)
{
    imap_search_run_free(c->run);
    str_clear(&c->tag);
    free(c->uids);
    free(c);
}

void imap_contexts_free(struct imap_session *s)
{
    for (size_t i = 0; i < s->nctx; i++)
        context_free(s->ctx[i]);
    s->nctx = 0;
}

/* The uids of the run's matches in result order (expunged ones dropped when told). */
static uint32_t *run_uids(struct imap_session *s, struct imap_search_run *r, bool sort,
                          size_t *n_out)
{
    uint32_t *u = xcalloc(r->nhits ? r->nhits : 1, sizeof *u);
    if (sort)
        imap_sort_items(r);
    for (size_t k = 0; k < r->nhits; k++)
        u[k] = s->view.msgs[sort ? r->items[k].seq - 1 : r->hits[k]].uid;
    *n_out = r->nhits;
    return u;
}

void imap_context_keep(struct imap_session *s, bool sort)
{
    if (s->nctx == IMAP_MAX_CONTEXTS) {
        str_reset(&s->out);
        str_appends(&s->out, "* NO [NOUPDATE ");
        imapstr_write(&s->out, s->cmd.tag.ptr, s->cmd.tag.len);
        str_appends(&s->out, "] Too many updating searches\r\n");
        imap_write(s, s->out.ptr, s->out.len);
        return;
    }
    struct imap_context *c = xcalloc(1, sizeof *c);
    str_init(&c->tag);
    str_append(&c->tag, s->cmd.tag.ptr, s->cmd.tag.len);
    c->uid = s->cmd.uid;
    c->sort = sort;
    c->run = s->cmd.search;
    c->uids = run_uids(s, c->run, sort, &c->n);
    c->gen = s->view_gen;
    s->cmd.search = NULL;
    s->ctx[s->nctx++] = c;
}

/* ---- telling the differences ---- */

static uint32_t number(const struct imap_session *s, const struct imap_context *c, uint32_t uid)
{
    return c->uid ? uid : (uint32_t)(imap_view_find(&s->view, uid) + 1);
}

/* Appends " ADDTO (" / " REMOVEFROM (" pairs; pos[k] 0 for SEARCH. */
static void write_pairs(struct str *o, const char *what, const uint32_t *pos, const uint32_t *num,
                        size_t n, bool removal)
{
    str_appendf(o, " %s (", what);
    for (size_t k = 0; k < n;) {
        size_t e = k + 1; /* the group: positions that continue each other */
        while (e < n && pos[k] && pos[e] == (removal ? pos[k] : pos[k] + (uint32_t)(e - k)))
            e++;
        if (!pos[k])
            e = n;
        struct imap_seqset set;
        imap_seqset_init(&set);
        str_appendf(o, "%s%u ", k ? " " : "", pos[k]);
        if (pos[k]) { /* sorted: the order is kept */
            for (size_t j = k; j < e; j++)
                str_appendf(o, j > k ? ",%u" : "%u", num[j]);
        } else {
            for (size_t j = k; j < e; j++)
                imap_seqset_add(&set, num[j], num[j]);
            imap_seqset_resolve(&set, 0);
            imap_seqset_format(&set, o);
        }
        imap_seqset_clear(&set);
        k = e;
    }
    str_appendc(o, ')');
}

static void write_update(struct imap_session *s, const struct imap_context *c, const char *what,
                         const uint32_t *pos, const uint32_t *num, size_t n, bool removal)
{
    if (n == 0)
        return;
    struct str o = STR_INIT;
    str_appends(&o, "* ESEARCH (TAG ");
    imapstr_write(&o, c->tag.ptr, c->tag.len);
    str_appends(&o, c->uid ? ") UID" : ")");
    write_pairs(&o, what, pos, num, n, removal);
    str_appends(&o, "\r\n");
    imap_write(s, o.ptr, o.len);
    str_clear(&o);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* A sorted copy of u[0..n), for has_uid (results may be in SORT order). */
static uint32_t *sorted_copy(const uint32_t *u, size_t n)
{
    uint32_t *c = xcalloc(n ? n : 1, sizeof *c);
    memcpy(c, u, n * sizeof *u);
    qsort(c, n, sizeof *c, cmp_u32);
    return c;
}

static bool has_uid(const uint32_t *sorted, size_t n, uint32_t uid)
{
    return n && bsearch(&uid, sorted, n, sizeof uid, cmp_u32) != NULL;
}

/* Removes from c the uids gone() names, telling them when asked (each position as the
 * result stands after the removals before it). */
static void remove_where(struct imap_session *s, struct imap_context *c, bool tell,
                         bool (*gone)(struct imap_session *s, uint32_t uid, void *arg), void *arg)
{
    uint32_t *pos = xcalloc(c->n ? c->n : 1, sizeof *pos);
    uint32_t *num = xcalloc(c->n ? c->n : 1, sizeof *num);
    size_t nr = 0, kept = 0;
    for (size_t k = 0; k < c->n; k++) {
        if (!gone(s, c->uids[k], arg)) {
            c->uids[kept++] = c->uids[k];
            continue;
        }
        pos[nr] = c->sort ? (uint32_t)(kept + 1) : 0;
        num[nr++] = number(s, c, c->uids[k]);
    }
    c->n = kept;
    if (tell)
        write_update(s, c, "REMOVEFROM", pos, num, nr, true);
    free(pos);
    free(num);
}

static bool is_expunged(struct imap_session *s, uint32_t uid, void *arg)
{
    size_t i = imap_view_find(&s->view, uid);
    return i == SIZE_MAX || s->view.msgs[i].expunged;
}

void imap_contexts_expunging(struct imap_session *s, bool silent)
{
    for (size_t i = 0; i < s->nctx; i++)
        remove_where(s, s->ctx[i], !silent, is_expunged, NULL);
}

struct fresh {
    const uint32_t *u;
    size_t n;
};

/* No longer in the new result, unless its expunge is not told yet (it keeps its place). */
static bool left(struct imap_session *s, uint32_t uid, void *vf)
{
    const struct fresh *f = vf;
    size_t i = imap_view_find(&s->view, uid);
    if (i != SIZE_MAX && s->view.msgs[i].expunged)
        return false;
    return !has_uid(f->u, f->n, uid);
}

/* The run of context c is done: tell what changed. */
static void apply_run(struct imap_session *s, struct imap_context *c)
{
    size_t n;
    uint32_t *u = run_uids(s, c->run, c->sort, &n);
    uint32_t *su = sorted_copy(u, n);
    struct fresh f = {su, n};
    remove_where(s, c, true, left, &f);
    /* additions, in result order; the old entries keep their relative order */
    uint32_t *old = sorted_copy(c->uids, c->n);
    uint32_t *merged = xcalloc(n + c->n + 1, sizeof *merged);
    uint32_t *pos = xcalloc(n + 1, sizeof *pos), *num = xcalloc(n + 1, sizeof *num);
    size_t nm = 0, na = 0;
    for (size_t k = 0; k < n; k++) {
        size_t i = imap_view_find(&s->view, u[k]);
        bool told = has_uid(old, c->n, u[k]);
        if (!told && i != SIZE_MAX && s->view.msgs[i].expunged)
            continue; /* not announced before, and gone: never shown */
        if (!told) {
            pos[na] = c->sort ? (uint32_t)(nm + 1) : 0;
            num[na++] = number(s, c, u[k]);
        }
        merged[nm++] = u[k];
    }
    /* entries kept though absent from the run (expunged, not yet told) */
    for (size_t k = 0; k < c->n; k++)
        if (!has_uid(su, n, c->uids[k]))
            merged[nm++] = c->uids[k];
    write_update(s, c, "ADDTO", pos, num, na, false);
    free(c->uids);
    c->uids = merged;
    c->n = nm;
    free(old);
    free(su);
    free(u);
    free(pos);
    free(num);
}

/* ---- bringing the contexts up to date ---- */

static void next_context(struct imap_session *s);

static void context_ran(struct imap_session *s)
{
    struct imap_context *c = s->ctx[s->ctx_next];
    s->cmd.search = NULL; /* the run stays the context's */
    apply_run(s, c);
    c->gen = s->view_gen;
    s->ctx_next++;
    next_context(s);
}

static void next_context(struct imap_session *s)
{
    while (s->ctx_next < s->nctx && s->ctx[s->ctx_next]->gen == s->view_gen)
        s->ctx_next++;
    if (s->ctx_next >= s->nctx || s->state != IS_SELECTED || s->closing) {
        void (*then)(struct imap_session *) = s->ctx_then;
        s->ctx_then = NULL;
        return then(s);
    }
    struct imap_context *c = s->ctx[s->ctx_next];
    s->cmd.search = c->run;
    c->run->finish = context_ran;
    imap_search_run_start(s);
}

bool imap_contexts_stale(const struct imap_session *s)
{
    for (size_t i = 0; i < s->nctx; i++)
        if (s->ctx[i]->gen != s->view_gen)
            return true;
    return false;
}

void imap_contexts_update(struct imap_session *s, void (*then)(struct imap_session *s))
{
    /* the command's own run (still held when it ended NO [BADCHARSET]) is done with: the
     * contexts' runs take its place (fuzz_imap_session found the leak) */
    imap_search_free(s);
    s->ctx_then = then;
    s->ctx_next = 0;
    next_context(s);
}

/* CANCELUPDATE tag... (RFC 5267 §4.3.5) */
void imap_cmd_cancelupdate(struct imap_session *s, const struct imap_cmd *cmd)
{
    if (cmd->nargs == 0)
        return imap_bad(s, "CANCELUPDATE needs the tags of updating searches");
    for (size_t a = 0; a < cmd->nargs; a++) {
        const char *t;
        size_t n;
        if (!imap_arg_get_string(&cmd->args[a], &t, &n))
            return imap_bad(s, "CANCELUPDATE takes quoted tags");
        size_t i = 0;
        while (i < s->nctx && !(s->ctx[i]->tag.len == n && !memcmp(s->ctx[i]->tag.ptr, t, n)))
            i++;
        if (i == s->nctx)
            return imap_bad(s, "No updating search has the tag %.40s", t);
        context_free(s->ctx[i]);
        memmove(&s->ctx[i], &s->ctx[i + 1], (s->nctx - i - 1) * sizeof *s->ctx);
        s->nctx--;
    }
    imap_done(s, "OK CANCELUPDATE completed");
}
