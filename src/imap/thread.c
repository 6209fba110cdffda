/* thread — see thread.h. */
#include "imap/thread.h"

#include "core/xmalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LOOP_WALK_MAX 100000 /* ancestors walked to rule out a loop; beyond: no link */

struct node {
    int item;        /* index in items; -1: a dummy (an id only referenced) */
    int parent;      /* -1: a root */
    int child, last; /* first and last child */
    int next;        /* next sibling */
    unsigned nchildren;
    bool gone; /* pruned or merged away */
};

struct forest {
    const struct imap_sort_item *items;
    struct node *v;
    size_t n, cap;
    /* message id -> node (open addressing) */
    const char **keys;
    int *vals;
    size_t nslots;
};

static int node_new(struct forest *f, int item)
{
    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 64;
        f->v = xrealloc(f->v, f->cap * sizeof *f->v);
    }
    f->v[f->n] = (struct node){item, -1, -1, -1, -1, 0, false};
    return (int)f->n++;
}

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* The slot of id: where it is, or the empty slot where it would go. */
static size_t slot(const struct forest *f, const char *id)
{
    size_t i = (size_t)hash(id) & (f->nslots - 1);
    while (f->keys[i] && strcmp(f->keys[i], id) != 0)
        i = (i + 1) & (f->nslots - 1);
    return i;
}

/* The node of id, made as a dummy when it is new. */
static int id_node(struct forest *f, const char *id)
{
    size_t i = slot(f, id);
    if (!f->keys[i]) {
        f->keys[i] = id;
        f->vals[i] = node_new(f, -1);
    }
    return f->vals[i];
}

/* True when a is x or one of x's ancestors (or the walk is too long to tell). */
static bool is_ancestor(const struct forest *f, int a, int x)
{
    for (unsigned steps = 0; x >= 0; x = f->v[x].parent)
        if (x == a || ++steps > LOOP_WALK_MAX)
            return true;
    return false;
}

static void link_child(struct forest *f, int p, int c)
{
    struct node *pn = &f->v[p], *cn = &f->v[c];
    cn->parent = p;
    cn->next = -1;
    if (pn->last >= 0)
        f->v[pn->last].next = c;
    else
        pn->child = c;
    pn->last = c;
    pn->nchildren++;
}

static void unlink_child(struct forest *f, int c)
{
    int p = f->v[c].parent;
    struct node *pn = &f->v[p];
    int prev = -1;
    for (int k = pn->child; k >= 0 && k != c; k = f->v[k].next)
        prev = k;
    if (prev >= 0)
        f->v[prev].next = f->v[c].next;
    else
        pn->child = f->v[c].next;
    if (pn->last == c)
        pn->last = prev;
    pn->nchildren--;
    f->v[c].parent = -1;
    f->v[c].next = -1;
}

/* Moves every child of from to the end of to's children. */
static void adopt_children(struct forest *f, int to, int from)
{
    while (f->v[from].child >= 0) {
        int c = f->v[from].child;
        unlink_child(f, c);
        link_child(f, to, c);
    }
}

/* ---- sent-date order ---- */

static const struct imap_sort_item *rep(const struct forest *f, int k)
{
    const struct node *x = &f->v[k];
    if (x->item < 0 && x->child >= 0)
        x = &f->v[x->child];
    return x->item >= 0 ? &f->items[x->item] : NULL;
}

static int cmp_date(const void *pa, const void *pb, void *vf)
{
    const struct forest *f = vf;
    const struct imap_sort_item *a = rep(f, *(const int *)pa), *b = rep(f, *(const int *)pb);
    if (!a || !b)
        return (a == NULL) - (b == NULL);
    if (a->sent != b->sent)
        return a->sent < b->sent ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static void sort_nodes(const struct forest *f, int *v, size_t n)
{
    qsort_r(v, n, sizeof *v, cmp_date, (void *)f);
}

/* Every sibling list in sent-date order (RFC 5256 §3 step 6). */
static void sort_children(struct forest *f)
{
    int *tmp = NULL;
    size_t cap = 0;
    for (size_t p = 0; p < f->n; p++) {
        struct node *pn = &f->v[p];
        if (pn->nchildren < 2)
            continue;
        if (pn->nchildren > cap) {
            cap = pn->nchildren;
            tmp = xrealloc(tmp, cap * sizeof *tmp);
        }
        size_t k = 0;
        for (int c = pn->child; c >= 0; c = f->v[c].next)
            tmp[k++] = c;
        sort_nodes(f, tmp, k);
        pn->child = tmp[0];
        for (size_t i = 0; i + 1 < k; i++)
            f->v[tmp[i]].next = tmp[i + 1];
        f->v[tmp[k - 1]].next = -1;
        pn->last = tmp[k - 1];
    }
    free(tmp);
}

/* ---- the reply text ---- */

/* "(" and the chain of single children from k; pushes the first child of a branching node. */
static void open_node(const struct forest *f, int k, struct str *out, int *stack, size_t *depth)
{
    bool first = true;
    str_appendc(out, '(');
    for (;;) {
        const struct node *x = &f->v[k];
        if (x->item >= 0) {
            str_appendf(out, first ? "%u" : " %u", f->items[x->item].num);
            first = false;
        }
        if (x->nchildren != 1)
            break;
        k = x->child;
    }
    if (f->v[k].nchildren == 0) {
        str_appendc(out, ')');
        return;
    }
    if (!first)
        str_appendc(out, ' ');
    stack[(*depth)++] = f->v[k].child;
}

static void write_roots(const struct forest *f, const int *roots, size_t nroots, struct str *out)
{
    int *stack = xcalloc(f->n + 1, sizeof *stack);
    for (size_t r = 0; r < nroots; r++) {
        size_t depth = 0;
        open_node(f, roots[r], out, stack, &depth);
        while (depth) {
            int k = stack[depth - 1];
            if (k < 0) {
                depth--;
                str_appendc(out, ')');
                continue;
            }
            stack[depth - 1] = f->v[k].next;
            open_node(f, k, out, stack, &depth);
        }
    }
    free(stack);
}

/* ---- ORDEREDSUBJECT ---- */

static int cmp_subject_date(const void *pa, const void *pb, void *vitems)
{
    const struct imap_sort_item *items = vitems;
    const struct imap_sort_item *a = &items[*(const int *)pa], *b = &items[*(const int *)pb];
    int c = strcmp(a->subject ? a->subject : "", b->subject ? b->subject : "");
    if (c)
        return c;
    if (a->sent != b->sent)
        return a->sent < b->sent ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static void ordered_subject(struct forest *f, size_t n, int **roots, size_t *nroots)
{
    int *order = xcalloc(n ? n : 1, sizeof *order);
    for (size_t i = 0; i < n; i++)
        order[i] = (int)i;
    qsort_r(order, n, sizeof *order, cmp_subject_date, (void *)f->items);
    for (size_t i = 0; i < n; i++) /* node i is item i */
        node_new(f, (int)i);
    *roots = xcalloc(n ? n : 1, sizeof **roots);
    *nroots = 0;
    int parent = -1;
    for (size_t i = 0; i < n; i++) {
        const char *s = f->items[order[i]].subject,
                   *ps = parent >= 0 ? f->items[parent].subject : "";
        if (parent >= 0 && strcmp(s ? s : "", ps ? ps : "") == 0) {
            link_child(f, parent, order[i]);
        } else {
            parent = order[i];
            (*roots)[(*nroots)++] = parent;
        }
    }
    free(order);
}

/* ---- REFERENCES ---- */

/* Step 1: the links made by each message's Message-ID and References. */
static void link_message(struct forest *f, int k)
{
    const struct imap_sort_item *it = &f->items[k];
    int m = -1;
    if (it->msgid && it->msgid[0]) {
        size_t i = slot(f, it->msgid);
        if (!f->keys[i]) {
            f->keys[i] = it->msgid;
            m = f->vals[i] = node_new(f, k);
        } else if (f->v[f->vals[i]].item < 0) {
            m = f->vals[i];
            f->v[m].item = k;
        }
    }
    if (m < 0) /* no id, or one an earlier message has: a unique one (§3 step 1) */
        m = node_new(f, k);
    int prev = -1;
    for (size_t r = 0; r < it->nrefs; r++) {
        int c = id_node(f, it->refs[r]);
        if (prev >= 0 && c != prev && f->v[c].parent < 0 && !is_ancestor(f, c, prev))
            link_child(f, prev, c);
        prev = c;
    }
    if (f->v[m].parent >= 0)
        unlink_child(f, m);
    if (prev >= 0 && prev != m && !is_ancestor(f, m, prev))
        link_child(f, prev, m);
}

/* Step 3: dummies go; their children move up (to the root only when alone). */
static void prune(struct forest *f)
{
    for (size_t d = 0; d < f->n; d++) {
        struct node *x = &f->v[d];
        if (x->item >= 0 || x->parent < 0)
            continue;
        int p = x->parent;
        int prev = -1;
        for (int k = f->v[p].child; k >= 0 && k != (int)d; k = f->v[k].next)
            prev = k;
        int after = x->next, first = x->child, last = x->last;
        for (int c = first; c >= 0; c = f->v[c].next)
            f->v[c].parent = p;
        struct node *pn = &f->v[p];
        if (first >= 0) {
            if (prev >= 0)
                f->v[prev].next = first;
            else
                pn->child = first;
            f->v[last].next = after;
            if (pn->last == (int)d)
                pn->last = last;
        } else {
            if (prev >= 0)
                f->v[prev].next = after;
            else
                pn->child = after;
            if (pn->last == (int)d)
                pn->last = prev;
        }
        pn->nchildren = pn->nchildren - 1 + x->nchildren;
        *x = (struct node){-1, -1, -1, -1, -1, 0, true};
    }
    for (size_t d = 0; d < f->n; d++) {
        struct node *x = &f->v[d];
        if (x->item >= 0 || x->gone || x->parent >= 0)
            continue;
        if (x->nchildren == 1) {
            int c = x->child;
            unlink_child(f, c);
        }
        if (f->v[d].nchildren == 0)
            f->v[d].gone = true;
    }
}

static bool reply_of(const struct forest *f, int k)
{
    const struct imap_sort_item *it = rep(f, k);
    return it && it->reply;
}

static const char *subject_of(const struct forest *f, int k)
{
    const struct imap_sort_item *it = rep(f, k);
    return it && it->subject ? it->subject : "";
}

/* Step 5 B/C: root r joins the root t its subject is filed under; returns the root that now
 * stands for both in t's place. */
static int merge_roots(struct forest *f, int t, int r)
{
    bool td = f->v[t].item < 0, rd = f->v[r].item < 0;
    if (td && rd) {
        adopt_children(f, t, r);
        f->v[r].gone = true;
        return t;
    }
    if (td) {
        link_child(f, t, r);
        return t;
    }
    if (rd) {
        link_child(f, r, t);
        return r;
    }
    if (!reply_of(f, t) && reply_of(f, r)) {
        link_child(f, t, r);
        return t;
    }
    if (reply_of(f, t) && !reply_of(f, r)) {
        link_child(f, r, t);
        return r;
    }
    int d = node_new(f, -1);
    link_child(f, d, t);
    link_child(f, d, r);
    return d;
}

/* Step 5: roots with the same base subject are gathered. */
static void group_subjects(struct forest *f, int *roots, size_t nroots)
{
    size_t ns = 16;
    while (ns < 2 * nroots)
        ns *= 2;
    const char **keys = xcalloc(ns, sizeof *keys);
    size_t *pos = xcalloc(ns, sizeof *pos); /* index in roots of the entry */
    for (size_t i = 0; i < nroots; i++) {
        const char *s = subject_of(f, roots[i]);
        if (!*s)
            continue;
        size_t h = (size_t)hash(s) & (ns - 1);
        while (keys[h] && strcmp(keys[h], s) != 0)
            h = (h + 1) & (ns - 1);
        if (!keys[h]) {
            keys[h] = s;
            pos[h] = i;
            continue;
        }
        int old = roots[pos[h]], k = roots[i];
        bool kd = f->v[k].item < 0, od = f->v[old].item < 0;
        if ((kd && !od) || (!od && !kd && reply_of(f, old) && !reply_of(f, k)))
            pos[h] = i;
    }
    for (size_t i = 0; i < nroots; i++) {
        int r = roots[i];
        const char *s = r >= 0 ? subject_of(f, r) : "";
        if (!*s)
            continue;
        size_t h = (size_t)hash(s) & (ns - 1);
        while (strcmp(keys[h], s) != 0)
            h = (h + 1) & (ns - 1);
        size_t tp = pos[h];
        if (tp == i)
            continue;
        int t = roots[tp];
        int joined = merge_roots(f, t, r);
        /* the joint thread stays where the earlier of the two was */
        size_t at = tp < i ? tp : i, other = tp < i ? i : tp;
        roots[at] = joined;
        roots[other] = -1;
        pos[h] = at;
        keys[h] = subject_of(f, joined);
    }
    free(keys);
    free(pos);
}

static void references(struct forest *f, size_t n, int **roots_out, size_t *nroots_out)
{
    size_t nrefs = 0;
    for (size_t i = 0; i < n; i++)
        nrefs += f->items[i].nrefs + 1;
    f->nslots = 16;
    while (f->nslots < 2 * nrefs)
        f->nslots *= 2;
    f->keys = xcalloc(f->nslots, sizeof *f->keys);
    f->vals = xcalloc(f->nslots, sizeof *f->vals);
    for (size_t k = 0; k < n; k++)
        link_message(f, (int)k);
    prune(f);
    sort_children(f);
    int *roots = xcalloc(f->n + 1, sizeof *roots);
    size_t nroots = 0;
    for (size_t k = 0; k < f->n; k++)
        if (!f->v[k].gone && f->v[k].parent < 0)
            roots[nroots++] = (int)k;
    sort_nodes(f, roots, nroots);
    group_subjects(f, roots, nroots);
    sort_children(f);
    size_t w = 0;
    for (size_t i = 0; i < nroots; i++)
        if (roots[i] >= 0)
            roots[w++] = roots[i];
    *roots_out = roots;
    *nroots_out = w;
}

void imap_thread(enum imap_thread_algo algo, const struct imap_sort_item *items, size_t n,
                 struct str *out)
{
    struct forest f = {.items = items};
    int *roots = NULL;
    size_t nroots = 0;
    if (algo == IMAP_THREAD_ORDEREDSUBJECT)
        ordered_subject(&f, n, &roots, &nroots);
    else
        references(&f, n, &roots, &nroots);
    if (algo == IMAP_THREAD_ORDEREDSUBJECT)
        sort_nodes(&f, roots, nroots);
    write_roots(&f, roots, nroots, out);
    free(roots);
    free(f.v);
    free(f.keys);
    free(f.vals);
}
