/*
 * cmd_sort — SORT and UID SORT (RFC 5256 §3, SORT=DISPLAY of RFC 5957, ESORT's RETURN
 * options of RFC 5267) and THREAD / UID THREAD with ORDEREDSUBJECT and REFERENCES (RFC 5256
 * §3-4). The search runs as SEARCH does (cmd_search.c, the parse cache's decoded headers);
 * each match brings the keys the criteria or the algorithm need (imap/sortkey.h), then the
 * matches are sorted or threaded (imap/thread.h) in memory.
 */
#include "imap/search_int.h"

#include "core/xmalloc.h"
#include "imap/thread.h"

#include <stdlib.h>
#include <string.h>

#define MAX_REFS 128 /* References ids kept per message (the nearest ancestors) */

/* The first value of field name (decoded), or NULL when absent. */
static const char *first_value(const struct imap_search_msg *m, const char *name, struct str *buf,
                               size_t *len)
{
    str_reset(buf);
    if (m->header(m->ctx, name, buf) == 0)
        return NULL;
    const char *v = str_cstr(buf), *eol = strchr(v, '\n');
    *len = eol ? (size_t)(eol - v) : buf->len;
    return v;
}

static const char *addr_key(struct imap_search_run *r, const struct imap_search_msg *m,
                            const char *field, bool display, struct str *buf, struct str *key)
{
    size_t n = 0;
    const char *v = first_value(m, field, buf, &n);
    str_reset(key);
    if (v)
        imap_sort_address(v, n, display, key);
    return msg_arena_strndup(&r->arena, str_cstr(key), key->len);
}

static void collect_refs(struct imap_search_run *r, const struct imap_search_msg *m,
                         struct imap_sort_item *it, struct str *buf)
{
    size_t n = 0;
    const char *v = first_value(m, "Message-ID", buf, &n);
    const char *id[1];
    it->msgid = v && imap_msgids(v, n, &r->arena, id, 1) ? id[0] : NULL;
    const char *refs[MAX_REFS];
    size_t nrefs = 0;
    str_reset(buf);
    if (m->header(m->ctx, "References", buf))
        nrefs = imap_msgids(str_cstr(buf), buf->len, &r->arena, refs, MAX_REFS);
    if (nrefs == 0 && (v = first_value(m, "In-Reply-To", buf, &n)) != NULL)
        nrefs = imap_msgids(v, n, &r->arena, refs, 1);
    it->refs = msg_arena_alloc(&r->arena, (nrefs ? nrefs : 1) * sizeof *it->refs);
    memcpy(it->refs, refs, nrefs * sizeof *refs);
    it->nrefs = nrefs;
}

static void collect(struct imap_session *s, size_t hit, const struct imap_search_msg *m)
{
    struct imap_search_run *r = s->cmd.search;
    struct imap_sort_item *it = &r->items[hit];
    memset(it, 0, sizeof *it);
    it->seq = m->seq;
    it->num = s->cmd.uid ? m->uid : m->seq;
    it->size = m->size;
    it->modseq = m->modseq;
    it->arrival = it->sent = m->internal_date;
    struct str buf = STR_INIT, key = STR_INIT;
    size_t n = 0;
    const char *v;
    if (r->want & IMAP_WANT_SUBJECT) {
        v = first_value(m, "Subject", &buf, &n);
        imap_base_subject(v ? v : "", v ? n : 0, &key, &it->reply);
        it->subject = msg_arena_strndup(&r->arena, str_cstr(&key), key.len);
    }
    if (r->want & IMAP_WANT_DATE) {
        v = first_value(m, "Date", &buf, &n);
        it->sent = imap_sent_date(v, n, m->internal_date);
    }
    if (r->want & IMAP_WANT_FROM)
        it->from = addr_key(r, m, "From", false, &buf, &key);
    if (r->want & IMAP_WANT_TO)
        it->to = addr_key(r, m, "To", false, &buf, &key);
    if (r->want & IMAP_WANT_CC)
        it->cc = addr_key(r, m, "Cc", false, &buf, &key);
    if (r->want & IMAP_WANT_DISPLAYFROM)
        it->dfrom = addr_key(r, m, "From", true, &buf, &key);
    if (r->want & IMAP_WANT_DISPLAYTO)
        it->dto = addr_key(r, m, "To", true, &buf, &key);
    if (r->want & IMAP_WANT_REFERENCES)
        collect_refs(r, m, it, &buf);
    str_clear(&buf);
    str_clear(&key);
}

/* ---- SORT ---- */

static int cmp_items(const void *pa, const void *pb, void *vr)
{
    const struct imap_search_run *r = vr;
    return imap_sort_cmp(pa, pb, r->crit, r->ncrit);
}

void imap_sort_items(struct imap_search_run *r)
{
    if (r->nhits)
        qsort_r(r->items, r->nhits, sizeof *r->items, cmp_items, r);
}

static void sort_finish(struct imap_session *s)
{
    struct imap_search_run *r = s->cmd.search;
    const struct imap_search *q = &r->search;
    size_t n = r->nhits;
    imap_sort_items(r);
    uint32_t *nums = xcalloc(n ? n : 1, sizeof *nums);
    uint64_t *modseqs = xcalloc(n ? n : 1, sizeof *modseqs);
    for (size_t k = 0; k < n; k++) {
        nums[k] = r->items[k].num;
        modseqs[k] = r->items[k].modseq;
    }
    if (q->ret & IMAP_SEARCH_RET_SAVE) /* the set of what matched: the hits, any order */
        imap_search_save(s, r->hits, n);
    imap_search_reply(s, "SORT", nums, modseqs, n);
    free(nums);
    free(modseqs);
    if (q->ret & IMAP_SEARCH_RET_UPDATE) /* RFC 5267 §4.3 */
        imap_context_keep(s, true);
    imap_search_free(s);
    imap_done(s, "OK SORT completed");
}

/* SORT [RETURN (...)] (criteria) charset search-keys */
void imap_cmd_sort(struct imap_session *s, const struct imap_cmd *cmd)
{
    const struct imap_arg *a = cmd->args;
    size_t n = cmd->nargs, crit_at = 0;
    if (n > 0 && imap_arg_atom_eq(&a[0], "RETURN"))
        crit_at = 2;
    if (n < crit_at + 3)
        return imap_bad(s, "SORT needs sort criteria, a charset and search keys");
    struct imap_sort_crit crit[IMAP_SORT_MAX_KEYS];
    size_t ncrit;
    unsigned want;
    const char *err = "Invalid sort criteria";
    if (!imap_sort_criteria_parse(&a[crit_at], crit, &ncrit, &want, &err))
        return imap_bad(s, "%s", err);
    /* the search arguments without the criteria list: [RETURN (...)] charset keys */
    struct imap_arg *rest = xcalloc(n - 1, sizeof *rest);
    memcpy(rest, a, crit_at * sizeof *a);
    memcpy(rest + crit_at, a + crit_at + 1, (n - crit_at - 1) * sizeof *a);
    bool ok = imap_search_run_parse(s, rest, n - 1, IMAP_SEARCH_BARE_CHARSET);
    free(rest);
    if (!ok)
        return;
    struct imap_search_run *r = s->cmd.search;
    memcpy(r->crit, crit, sizeof crit);
    r->ncrit = ncrit;
    r->want = want;
    r->need_headers = want != 0;
    r->collect = collect;
    r->finish = sort_finish;
    imap_search_run_start(s);
}

/* ---- THREAD ---- */

static void thread_finish(struct imap_session *s)
{
    struct imap_search_run *r = s->cmd.search;
    str_reset(&s->out);
    str_appends(&s->out, r->nhits ? "* THREAD " : "* THREAD");
    imap_thread((enum imap_thread_algo)r->algo, r->items, r->nhits, &s->out);
    str_appends(&s->out, "\r\n");
    imap_write(s, s->out.ptr, s->out.len);
    imap_search_free(s);
    imap_done(s, "OK THREAD completed");
}

/* THREAD algorithm charset search-keys */
void imap_cmd_thread(struct imap_session *s, const struct imap_cmd *cmd)
{
    if (cmd->nargs < 3 || cmd->args[0].type != IMAP_ARG_ATOM)
        return imap_bad(s, "THREAD needs an algorithm, a charset and search keys");
    int algo;
    if (imap_arg_atom_eq(&cmd->args[0], "ORDEREDSUBJECT"))
        algo = IMAP_THREAD_ORDEREDSUBJECT;
    else if (imap_arg_atom_eq(&cmd->args[0], "REFERENCES"))
        algo = IMAP_THREAD_REFERENCES;
    else
        return imap_bad(s, "Unknown THREAD algorithm");
    /* RETURN is not THREAD syntax: the first argument after the algorithm is the charset */
    if (imap_arg_atom_eq(&cmd->args[1], "RETURN"))
        return imap_bad(s, "THREAD takes no RETURN options");
    if (!imap_search_run_parse(s, cmd->args + 1, cmd->nargs - 1, IMAP_SEARCH_BARE_CHARSET))
        return;
    struct imap_search_run *r = s->cmd.search;
    r->algo = algo;
    r->want = IMAP_WANT_SUBJECT | IMAP_WANT_DATE |
              (algo == IMAP_THREAD_REFERENCES ? IMAP_WANT_REFERENCES : 0);
    r->need_headers = true;
    r->collect = collect;
    r->finish = thread_finish;
    imap_search_run_start(s);
}
