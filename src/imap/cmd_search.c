/*
 * cmd_search — SEARCH and UID SEARCH (RFC 3501 §6.4.4, §6.4.8) with the MODSEQ key of
 * RFC 7162 §3.1.5. Criteria are parsed by imap/search_parse.h and evaluated by
 * imap/search_match.h against the view (flags, sizes, dates, uids) and, for the text keys,
 * against decoded header text from the store's parse cache (one CACHE request per chunk of
 * IMAP_CHUNK messages) and decoded body text from the mapped message file.
 */
#include "imap/session_int.h"

#include "core/err.h"
#include "core/xmalloc.h"
#include "imap/search_match.h"
#include "msg/mime.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct imap_search_run {
    struct imap_search search;
    bool need_headers; /* HEADER, FROM, ..., TEXT: decoded header text from the cache */
    size_t pos, end;   /* the chunk of view indices being searched */
    const char **blobs;
    uint32_t *hits;
    size_t nhits, cap;
    uint64_t max_modseq;
};

void imap_search_free(struct imap_session *s)
{
    struct imap_search_run *r = s->cmd.search;
    if (!r)
        return;
    imap_search_clear(&r->search);
    free(r->blobs);
    free(r->hits);
    free(r);
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
        if (len > nlen + 1 && p[nlen] == ':' && strncasecmp(p, name, nlen) == 0) {
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

static bool match_one(struct imap_session *s, size_t i, const struct imap_cache_entry *e)
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
        .modseq = m->modseq,
        .ctx = &c,
        .header = cb_header,
        .body = cb_body,
    };
    bool hit = imap_search_match(&r->search, &sm);
    if (c.tree)
        mime_tree_free(c.tree);
    if (c.mapped)
        s->ops->msg_unmap(s->ops_ctx, &c.map);
    free(copy);
    return hit;
}

/* ---- the run ---- */

static void next_chunk(struct imap_session *s);

static void finish(struct imap_session *s)
{
    struct imap_search_run *r = s->cmd.search;
    str_reset(&s->out);
    str_appends(&s->out, "* SEARCH");
    for (size_t k = 0; k < r->nhits; k++)
        str_appendf(&s->out, " %u", r->hits[k]);
    /* RFC 7162 §3.1.5: the highest modseq of the messages found. */
    if (r->search.uses_modseq && r->nhits)
        str_appendf(&s->out, " (MODSEQ %llu)", (unsigned long long)r->max_modseq);
    str_appends(&s->out, "\r\n");
    imap_write(s, s->out.ptr, s->out.len);
    imap_search_free(s);
    imap_done(s, "OK SEARCH completed");
}

static void eval_chunk(struct imap_session *s, const struct imap_cache_entry *cache)
{
    struct imap_search_run *r = s->cmd.search;
    for (size_t i = r->pos; i < r->end; i++) {
        if (!match_one(s, i, cache ? &cache[i - r->pos] : NULL))
            continue;
        if (r->nhits == r->cap) {
            r->cap = r->cap ? r->cap * 2 : 64;
            r->hits = xrealloc(r->hits, r->cap * sizeof *r->hits);
        }
        r->hits[r->nhits++] = s->cmd.uid ? s->view.msgs[i].uid : (uint32_t)(i + 1);
        if (s->view.msgs[i].modseq > r->max_modseq)
            r->max_modseq = s->view.msgs[i].modseq;
    }
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
        return finish(s);
    }
    if (r->pos >= n)
        return finish(s);
    r->end = r->pos + IMAP_CHUNK < n ? r->pos + IMAP_CHUNK : n;
    for (size_t i = r->pos; i < r->end; i++)
        r->blobs[i - r->pos] = s->view.msgs[i].blob;
    s->req.blobs = r->blobs;
    s->req.nblobs = r->end - r->pos;
    s->req.cache_fields = IMAP_CACHE_HEADERS;
    imap_request(s, IMAP_REQ_CACHE, after_cache);
}

void imap_cmd_search(struct imap_session *s, const struct imap_cmd *cmd)
{
    struct imap_search_run *r = xcalloc(1, sizeof *r);
    s->cmd.search = r;
    const char *err = "Invalid search criteria";
    int rc = imap_search_parse(cmd->args, cmd->nargs, 0, &r->search, &err);
    if (rc == ERR_NOTFOUND)
        return imap_done(s, "NO [BADCHARSET (US-ASCII UTF-8)] Unsupported charset");
    if (rc != 0)
        return imap_bad(s, "%s", err);
    if (r->search.uses_modseq)
        s->condstore = true;
    const struct imap_view *v = &s->view;
    imap_search_prepare(&r->search, (uint32_t)v->n, v->n ? v->msgs[v->n - 1].uid : 0);
    r->need_headers = needs_headers(r->search.root);
    r->blobs = xcalloc(IMAP_CHUNK, sizeof *r->blobs);
    next_chunk(s);
}
