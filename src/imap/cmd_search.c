/*
 * cmd_search — SEARCH and UID SEARCH (RFC 3501 §6.4.4, §6.4.8) with the MODSEQ key of
 * RFC 7162 §3.1.5, ESEARCH's RETURN options (RFC 4731) and SEARCHRES (RFC 5182: RETURN
 * (SAVE) and "$"). Criteria are parsed by imap/search_parse.h and evaluated by
 * imap/search_match.h against the view (flags, sizes, dates, uids) and, for the text keys,
 * against decoded header text from the store's parse cache (one CACHE request per chunk of
 * IMAP_CHUNK messages) and decoded body text from the mapped message file. The same run
 * serves SORT and THREAD (cmd_sort.c), which collect their keys from each match.
 */
#include "imap/search_int.h"

#include "core/err.h"
#include "core/xmalloc.h"
#include "msg/imapstr.h"
#include "msg/mime.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

void imap_search_run_free(struct imap_search_run *r)
{
    if (!r)
        return;
    imap_search_clear(&r->search);
    msg_arena_clear(&r->arena);
    free(r->blobs);
    free(r->hits);
    free(r->items);
    free(r);
}

void imap_search_free(struct imap_session *s)
{
    imap_search_run_free(s->cmd.search);
    s->cmd.search = NULL;
}

static bool needs_headers(const struct imap_search_key *k)
{
    for (; k; k = k->next) {
        if (k->op == IMAP_SK_HEADER || k->op == IMAP_SK_TEXT)
            return true;
        if (k->children && needs_headers(k->children))
            return true;
    }
    return false;
}

/* ---- one message ---- */

struct msg_ctx {
    struct imap_session *s;
    const struct imap_msg *m;
    const struct imap_cache_entry *e;
    bool mapped;
    struct imap_msg_map map;
    struct mime_tree *tree;
};

static bool ctx_tree(struct msg_ctx *c)
{
    if (!c->tree) {
        if (c->mapped || c->s->ops->msg_map(c->s->ops_ctx, c->m->blob, &c->map) != 0)
            return false;
        c->mapped = true;
        c->tree = mime_parse(c->map.data, c->map.len, NULL);
    }
    return true;
}

/* Values of field name from "Name: value\n" lines (the cache's decoded header). */
static size_t header_from_lines(const char *text, const char *name, struct str *out)
{
    size_t nlen = strlen(name), found = 0;
    for (const char *p = text; *p;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len > nlen && p[nlen] == ':' && strncasecmp(p, name, nlen) == 0) {
            const char *v = p + nlen + 1;
            if (*v == ' ')
                v++;
            str_append(out, v, (size_t)(p + len - v));
            str_appendc(out, '\n');
            found++;
        }
        p += len + (eol ? 1 : 0);
    }
    return found;
}

static size_t cb_header(void *vc, const char *name, struct str *out)
{
    struct msg_ctx *c = vc;
    if (c->e && c->e->search_headers) {
        if (!name) {
            str_appends(out, c->e->search_headers);
            return 1;
        }
        return header_from_lines(c->e->search_headers, name, out);
    }
    if (!ctx_tree(c))
        return 0;
    const struct mime_part *r = c->tree->root;
    return mime_text_header(c->map.data + r->hdr_off, r->hdr_len, name, out);
}

static void cb_body(void *vc, struct str *out)
{
    struct msg_ctx *c = vc;
    if (ctx_tree(c))
        mime_text_body(c->tree, out, IMAP_SEARCH_BODY_MAX);
}

static void add_hit(struct imap_search_run *r, size_t i)
{
    if (r->nhits == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        r->hits = xrealloc(r->hits, r->cap * sizeof *r->hits);
        if (r->collect)
            r->items = xrealloc(r->items, r->cap * sizeof *r->items);
    }
    r->hits[r->nhits++] = i;
}

static void match_one(struct imap_session *s, size_t i, const struct imap_cache_entry *e)
{
    const struct imap_msg *m = &s->view.msgs[i];
    struct imap_search_run *r = s->cmd.search;
    const char *kw[64];
    size_t nkw = 0;
    char *copy = m->keywords ? xstrdup(m->keywords) : NULL;
    for (char *save = NULL, *t = copy ? strtok_r(copy, " ", &save) : NULL; t && nkw < 64;
         t = strtok_r(NULL, " ", &save))
        kw[nkw++] = t;
    struct msg_ctx c = {.s = s, .m = m, .e = e};
    struct imap_search_msg sm = {
        .seq = (uint32_t)(i + 1),
        .uid = m->uid,
        .flags = m->flags,
        .keywords = kw,
        .nkeywords = nkw,
        .size = m->size,
        .internal_date = m->internal_date,
        .internal_tz_min = m->internal_tz,
        .modseq = m->modseq,
        .ctx = &c,
        .header = cb_header,
        .body = cb_body,
    };
    if (imap_search_match(&r->search, &sm)) {
        add_hit(r, i);
        if (r->collect)
            r->collect(s, r->nhits - 1, &sm);
    }
    if (c.tree)
        mime_tree_free(c.tree);
    if (c.mapped)
        s->ops->msg_unmap(s->ops_ctx, &c.map);
    free(copy);
}

/* ---- replies ---- */

void imap_search_save(struct imap_session *s, const size_t *idx, size_t n)
{
    free(s->saved);
    s->saved = xcalloc(n ? n : 1, sizeof *s->saved);
    s->nsaved = 0;
    for (size_t k = 0; k < n; k++)
        s->saved[s->nsaved++] = s->view.msgs[idx[k]].uid;
    /* "$" is a set of uids: ascending, whatever order SORT found them in */
    for (size_t a = 1; a < s->nsaved; a++) {
        uint32_t u = s->saved[a];
        size_t b = a;
        for (; b > 0 && s->saved[b - 1] > u; b--)
            s->saved[b] = s->saved[b - 1];
        s->saved[b] = u;
    }
}

/* Appends nums as a sequence set, ranges where they ascend by one (reply order kept). */
static void write_runs(struct str *o, const uint32_t *nums, size_t n)
{
    for (size_t k = 0; k < n;) {
        size_t e = k;
        while (e + 1 < n && nums[e + 1] == nums[e] + 1)
            e++;
        str_appendf(o, k ? ",%u" : "%u", nums[k]);
        if (e > k)
            str_appendf(o, ":%u", nums[e]);
        k = e + 1;
    }
}

/* The ESEARCH response (RFC 4731 §3.1, RFC 5267 for SORT). */
static void esearch_write(struct imap_session *s, const uint32_t *nums, const uint64_t *modseqs,
                          size_t n)
{
    const struct imap_search *q = &s->cmd.search->search;
    unsigned ret = q->ret;
    struct str *o = &s->out;
    str_reset(o);
    str_appends(o, "* ESEARCH (TAG ");
    imapstr_write(o, str_cstr(&s->cmd.tag), s->cmd.tag.len);
    str_appendc(o, ')');
    if (s->cmd.uid)
        str_appends(o, " UID");
    if ((ret & IMAP_SEARCH_RET_MIN) && n)
        str_appendf(o, " MIN %u", nums[0]);
    if ((ret & IMAP_SEARCH_RET_MAX) && n)
        str_appendf(o, " MAX %u", nums[n - 1]);
    if ((ret & IMAP_SEARCH_RET_ALL) && n) {
        str_appends(o, " ALL ");
        write_runs(o, nums, n);
    }
    if (ret & IMAP_SEARCH_RET_COUNT)
        str_appendf(o, " COUNT %zu", n);
    if (ret & IMAP_SEARCH_RET_PARTIAL) { /* RFC 5267 §4.4: the results at lo..hi */
        str_appendf(o, " PARTIAL (%u:%u ", q->partial_lo, q->partial_hi);
        if (q->partial_lo > n) {
            str_appends(o, "NIL");
        } else {
            size_t hi = q->partial_hi < n ? q->partial_hi : n;
            write_runs(o, nums + q->partial_lo - 1, hi - q->partial_lo + 1);
        }
        str_appendc(o, ')');
    }
    /* RFC 4731 §3.2 with RFC 7162 §3.1.5: the highest modseq of what is returned. */
    if (modseqs && n) {
        uint64_t top = 0;
        bool all = ret & (IMAP_SEARCH_RET_ALL | IMAP_SEARCH_RET_COUNT);
        for (size_t k = 0; k < n; k++)
            if (all || ((ret & IMAP_SEARCH_RET_MIN) && k == 0) ||
                ((ret & IMAP_SEARCH_RET_MAX) && k == n - 1))
                top = modseqs[k] > top ? modseqs[k] : top;
        if (top)
            str_appendf(o, " MODSEQ %llu", (unsigned long long)top);
    }
    str_appends(o, "\r\n");
    imap_write(s, o->ptr, o->len);
}

void imap_search_reply(struct imap_session *s, const char *verb, const uint32_t *nums,
                       const uint64_t *modseqs, size_t n)
{
    const struct imap_search *q = &s->cmd.search->search;
    if (q->esearch) {
        /* RFC 5182 §2.4: RETURN (SAVE) alone gives no ESEARCH response */
        if (q->ret & ~(unsigned)IMAP_SEARCH_RET_SAVE)
            esearch_write(s, nums, q->uses_modseq ? modseqs : NULL, n);
        return;
    }
    uint64_t top = 0;
    str_reset(&s->out);
    str_appendf(&s->out, "* %s", verb);
    for (size_t k = 0; k < n; k++) {
        str_appendf(&s->out, " %u", nums[k]);
        top = modseqs[k] > top ? modseqs[k] : top;
    }
    /* RFC 7162 §3.1.5: the highest modseq of the messages found. */
    if (q->uses_modseq && n)
        str_appendf(&s->out, " (MODSEQ %llu)", (unsigned long long)top);
    str_appends(&s->out, "\r\n");
    imap_write(s, s->out.ptr, s->out.len);
}

static void search_finish(struct imap_session *s)
{
    struct imap_search_run *r = s->cmd.search;
    const struct imap_search *q = &r->search;
    uint32_t *nums = xcalloc(r->nhits ? r->nhits : 1, sizeof *nums);
    uint64_t *modseqs = xcalloc(r->nhits ? r->nhits : 1, sizeof *modseqs);
    for (size_t k = 0; k < r->nhits; k++) {
        const struct imap_msg *m = &s->view.msgs[r->hits[k]];
        nums[k] = s->cmd.uid ? m->uid : (uint32_t)(r->hits[k] + 1);
        modseqs[k] = m->modseq;
    }
    if (q->ret & IMAP_SEARCH_RET_SAVE) {
        /* RFC 5182 §2.1: MIN and/or MAX alone save just those */
        bool some = !(q->ret & (IMAP_SEARCH_RET_ALL | IMAP_SEARCH_RET_COUNT)) &&
                    (q->ret & (IMAP_SEARCH_RET_MIN | IMAP_SEARCH_RET_MAX));
        size_t pick[2], np = 0;
        if (some && r->nhits && (q->ret & IMAP_SEARCH_RET_MIN))
            pick[np++] = r->hits[0];
        if (some && r->nhits && (q->ret & IMAP_SEARCH_RET_MAX) &&
            !(np && pick[0] == r->hits[r->nhits - 1]))
            pick[np++] = r->hits[r->nhits - 1];
        imap_search_save(s, some ? pick : r->hits, some ? np : r->nhits);
    }
    imap_search_reply(s, "SEARCH", nums, modseqs, r->nhits);
    free(nums);
    free(modseqs);
    if (q->ret & IMAP_SEARCH_RET_UPDATE) /* RFC 5267 §4.3: the run lives on as a context */
        imap_context_keep(s, false);
    imap_search_free(s);
    imap_done(s, "OK SEARCH completed");
}

/* ---- the run ---- */

static void next_chunk(struct imap_session *s);

static void eval_chunk(struct imap_session *s, const struct imap_cache_entry *cache)
{
    struct imap_search_run *r = s->cmd.search;
    for (size_t i = r->pos; i < r->end; i++)
        match_one(s, i, cache ? &cache[i - r->pos] : NULL);
    r->pos = r->end;
}

static void after_cache(struct imap_session *s)
{
    eval_chunk(s, s->req.rc == 0 ? s->req.cache : NULL);
    /* Free this chunk's entries now, while req.nblobs still counts them: next_chunk sets it to
     * the next chunk's size before imap_request clears the request (a shorter last chunk
     * leaked the rest of the previous one's). */
    imap_req_clear(&s->req);
    next_chunk(s);
}

static void next_chunk(struct imap_session *s)
{
    struct imap_search_run *r = s->cmd.search;
    size_t n = s->view.n;
    if (!r->need_headers) {
        r->end = n;
        eval_chunk(s, NULL);
        return r->finish(s);
    }
    if (r->pos >= n)
        return r->finish(s);
    r->end = r->pos + IMAP_CHUNK < n ? r->pos + IMAP_CHUNK : n;
    for (size_t i = r->pos; i < r->end; i++)
        r->blobs[i - r->pos] = s->view.msgs[i].blob;
    s->req.blobs = r->blobs;
    s->req.nblobs = r->end - r->pos;
    s->req.cache_fields = IMAP_CACHE_HEADERS;
    imap_request(s, IMAP_REQ_CACHE, after_cache);
}

bool imap_search_run_parse(struct imap_session *s, const struct imap_arg *args, size_t nargs,
                           unsigned flags)
{
    struct imap_search_run *r = xcalloc(1, sizeof *r);
    s->cmd.search = r;
    msg_arena_init(&r->arena, 4096);
    const char *err = "Invalid search criteria";
    int rc = imap_search_parse(args, nargs,
                               flags | IMAP_SEARCH_ALLOW_RETURN | IMAP_SEARCH_ALLOW_SAVED |
                                   IMAP_SEARCH_ALLOW_CONTEXT,
                               &r->search, &err);
    if (rc == ERR_NOTFOUND) {
        imap_done(s, "NO [BADCHARSET (US-ASCII UTF-8)] Unsupported charset");
        return false;
    }
    if (rc != 0) {
        /* RFC 5182 §2.1: a failed SEARCH ... RETURN (SAVE) leaves "$" empty */
        if (r->search.ret & IMAP_SEARCH_RET_SAVE)
            imap_search_save(s, NULL, 0);
        imap_bad(s, "%s", err);
        return false;
    }
    if (r->search.uses_modseq)
        imap_condstore_on(s);
    return true;
}

void imap_search_run_start(struct imap_session *s)
{
    struct imap_search_run *r = s->cmd.search;
    const struct imap_view *v = &s->view;
    imap_search_set_saved(&r->search, s->saved, s->nsaved);
    imap_search_prepare(&r->search, (uint32_t)v->n, v->n ? v->msgs[v->n - 1].uid : 0);
    r->need_headers |= needs_headers(r->search.root);
    r->pos = r->end = r->nhits = 0; /* a context's run starts again (cmd_context.c) */
    msg_arena_reset(&r->arena);
    if (!r->blobs)
        r->blobs = xcalloc(IMAP_CHUNK, sizeof *r->blobs);
    next_chunk(s);
}

void imap_cmd_search(struct imap_session *s, const struct imap_cmd *cmd)
{
    if (!imap_search_run_parse(s, cmd->args, cmd->nargs, 0))
        return;
    struct imap_search *q = &s->cmd.search->search;
    if (s->rev2 && !q->esearch) { /* RFC 9051 §6.4.4: ESEARCH always; no RETURN means ALL */
        q->esearch = true;
        q->ret = IMAP_SEARCH_RET_ALL;
    }
    s->cmd.search->finish = search_finish;
    imap_search_run_start(s);
}
