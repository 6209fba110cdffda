/*
 * view — the selected mailbox as this session sees it (RFC 3501 §2.3.1.2): messages in uid
 * order, index i being message sequence number i + 1, with flags, modseqs and the files they
 * live in. The view moves only when the session reports it: a SYNC result adds messages
 * (EXISTS, RECENT), changes flags (FETCH) and marks expunged messages, whose EXPUNGE
 * responses wait for a command that may carry them (§7.4.1) — until then they keep their
 * sequence numbers.
 */
#include "imap/session_int.h"

#include "core/xmalloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void msg_free(struct imap_msg *m)
{
    free(m->keywords);
    m->keywords = NULL;
}

void imap_view_clear(struct imap_view *v)
{
    for (size_t i = 0; i < v->n; i++)
        msg_free(&v->msgs[i]);
    for (size_t i = 0; i < v->nkeywords; i++)
        free(v->keywords[i]);
    free(v->keywords);
    free(v->msgs);
    free(v->name);
    memset(v, 0, sizeof *v);
}

size_t imap_view_find(const struct imap_view *v, uint32_t uid)
{
    size_t lo = 0, hi = v->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v->msgs[mid].uid < uid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < v->n && v->msgs[lo].uid == uid ? lo : SIZE_MAX;
}

void imap_view_write_flags(struct imap_session *s)
{
    struct str kw = STR_INIT, o = STR_INIT;
    for (size_t i = 0; i < s->view.nkeywords; i++) {
        str_appendc(&kw, ' ');
        str_appends(&kw, s->view.keywords[i]);
    }
    str_appendf(&o, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft%s)\r\n", str_cstr(&kw));
    /* RFC 3501 §7.2.6: the keywords in use are permanent too; \* lets clients make more. */
    if (s->view.read_only)
        str_appends(&o, "* OK [PERMANENTFLAGS ()] Read-only mailbox\r\n");
    else
        str_appendf(&o,
                    "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft%s "
                    "\\*)] Flags permitted\r\n",
                    str_cstr(&kw));
    imap_write(s, o.ptr, o.len);
    str_clear(&o);
    str_clear(&kw);
}

/* Adds the keywords of text to the mailbox's list; true when one was new. */
static bool track_keywords(struct imap_view *v, const char *keywords)
{
    bool added = false;
    for (const char *p = keywords ? keywords : ""; *p;) {
        const char *e = strchr(p, ' ');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        bool known = false;
        for (size_t i = 0; !known && i < v->nkeywords; i++)
            known = strlen(v->keywords[i]) == n && strncasecmp(v->keywords[i], p, n) == 0;
        if (!known && n) {
            v->keywords = xrealloc(v->keywords, (v->nkeywords + 1) * sizeof *v->keywords);
            v->keywords[v->nkeywords++] = xstrndup(p, n);
            added = true;
        }
        p += n;
        while (*p == ' ')
            p++;
    }
    return added;
}

void imap_view_set_flags(struct imap_session *s, struct imap_msg *m, const char *text,
                         bool announce)
{
    free(m->keywords);
    unsigned recent = m->flags & IMAP_MSGF_RECENT;
    m->flags = (uint8_t)(imap_flags_from_text(text, &m->keywords) | recent);
    s->view_gen++;
    if (track_keywords(&s->view, m->keywords) && announce)
        imap_view_write_flags(s);
}

static void append_row(struct imap_view *v, struct imap_row *r, uint32_t recent_before)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 64;
        v->msgs = xrealloc(v->msgs, v->cap * sizeof *v->msgs);
    }
    struct imap_msg *m = &v->msgs[v->n++];
    memset(m, 0, sizeof *m);
    m->uid = r->uid;
    m->modseq = r->modseq;
    m->size = r->size;
    m->internal_date = r->internal_date;
    m->internal_tz = (int16_t)r->internal_tz;
    m->flags = (uint8_t)imap_flags_from_text(r->flags, &m->keywords);
    if (r->uid > recent_before)
        m->flags |= IMAP_MSGF_RECENT;
    memcpy(m->blob, r->blob, sizeof m->blob);
    track_keywords(v, m->keywords);
}

uint32_t imap_view_recent_before(const struct imap_session *s, const struct imap_req *req)
{
    return s->rev2 ? UINT32_MAX : req->mailbox.recent_before;
}

void imap_view_write_exists(struct imap_session *s)
{
    const struct imap_view *v = &s->view;
    if (s->rev2)
        return imap_printf(s, "* %zu EXISTS\r\n", v->n);
    size_t recent = 0;
    for (size_t i = 0; i < v->n; i++)
        recent += (v->msgs[i].flags & IMAP_MSGF_RECENT) != 0;
    imap_printf(s, "* %zu EXISTS\r\n* %zu RECENT\r\n", v->n, recent);
}

void imap_view_load(struct imap_session *s, struct imap_req *req, bool read_only)
{
    struct imap_view *v = &s->view;
    imap_view_clear(v);
    v->id = req->mailbox.id;
    v->name = xstrdup(req->name ? req->name : "");
    v->read_only = read_only;
    v->uidvalidity = req->mailbox.uidvalidity;
    v->uidnext = req->mailbox.uidnext;
    v->highestmodseq = req->mailbox.highestmodseq;
    v->notify_from = v->uidnext;
    v->cap = req->nrows ? req->nrows : 16;
    v->msgs = xcalloc(v->cap, sizeof *v->msgs);
    for (size_t i = 0; i < req->nrows; i++)
        append_row(v, &req->rows[i], imap_view_recent_before(s, req));
}

void imap_view_write_fetch_flags(struct imap_session *s, size_t i, bool with_flags)
{
    const struct imap_msg *m = &s->view.msgs[i];
    struct str o = STR_INIT;
    str_appendf(&o, "* %zu FETCH (", i + 1);
    if (with_flags) {
        str_appends(&o, "FLAGS ");
        imap_flags_write(&o, m->flags, m->keywords);
        str_appendc(&o, ' ');
    }
    str_appendf(&o, "UID %u", m->uid);
    if (s->condstore)
        str_appendf(&o, " MODSEQ (%llu)", (unsigned long long)m->modseq);
    str_appends(&o, ")\r\n");
    imap_write(s, o.ptr, o.len);
    str_clear(&o);
}

/* One changed or new row of a SYNC result; returns true when it was a new message. Without
 * flags, a message already in the view is left as it is. */
static bool sync_row(struct imap_session *s, struct imap_row *r, uint32_t recent_before,
                     bool flags)
{
    struct imap_view *v = &s->view;
    size_t i = imap_view_find(v, r->uid);
    if (i == SIZE_MAX) {
        if (v->n && r->uid <= v->msgs[v->n - 1].uid)
            return false; /* expunged here already; cannot come back */
        append_row(v, r, recent_before);
        s->view_gen++;
        return true;
    }
    struct imap_msg *m = &v->msgs[i];
    if (m->expunged || !flags)
        return false;
    char *kw = NULL;
    unsigned bits = imap_flags_from_text(r->flags, &kw) | (m->flags & IMAP_MSGF_RECENT);
    bool changed = bits != m->flags || strcmp(kw ? kw : "", m->keywords ? m->keywords : "");
    bool modseq_changed = r->modseq != m->modseq;
    m->modseq = r->modseq;
    if (changed) {
        free(m->keywords);
        m->keywords = kw;
        m->flags = (uint8_t)bits;
        s->view_gen++;
    } else {
        free(kw);
    }
    /* RFC 7162 §3.2: with CONDSTORE a modseq change alone is reported too. */
    if (changed || (modseq_changed && s->condstore))
        imap_view_write_fetch_flags(s, i, true);
    return false;
}

static void apply_sync(struct imap_session *s, struct imap_req *req, bool expunge_now,
                       bool flags)
{
    struct imap_view *v = &s->view;
    for (size_t k = 0; k < req->nuids; k++)
        imap_view_mark_expunged(s, req->uids[k]);
    if (expunge_now)
        imap_view_flush_expunges(s, false);
    /* RFC 3501 §7.2.6: one FLAGS (and PERMANENTFLAGS) before any FETCH or EXISTS that could
     * show a keyword another session created. */
    bool new_keywords = false;
    for (size_t k = 0; k < req->nrows; k++) {
        char *kw = NULL;
        imap_flags_from_text(req->rows[k].flags, &kw);
        new_keywords |= track_keywords(v, kw);
        free(kw);
    }
    if (new_keywords)
        imap_view_write_flags(s);
    size_t added = 0;
    for (size_t k = 0; k < req->nrows; k++)
        added += sync_row(s, &req->rows[k], imap_view_recent_before(s, req), flags);
    if (req->mailbox.uidnext > v->uidnext)
        v->uidnext = req->mailbox.uidnext;
    if (flags && req->mailbox.highestmodseq > v->highestmodseq)
        v->highestmodseq = req->mailbox.highestmodseq;
    if (added)
        imap_view_write_exists(s);
}

void imap_view_apply_sync(struct imap_session *s, struct imap_req *req, bool expunge_now)
{
    apply_sync(s, req, expunge_now, true);
}

void imap_view_apply_sync_counts(struct imap_session *s, struct imap_req *req, bool expunge_now)
{
    apply_sync(s, req, expunge_now, false);
}

void imap_view_mark_expunged(struct imap_session *s, uint32_t uid)
{
    size_t i = imap_view_find(&s->view, uid);
    if (i != SIZE_MAX && !s->view.msgs[i].expunged) {
        s->view.msgs[i].expunged = true;
        s->view.pending_expunges++;
    }
}

void imap_write_vanished(struct imap_session *s, const uint32_t *uids, size_t n, bool earlier)
{
    if (n == 0)
        return;
    struct imap_seqset set;
    imap_seqset_init(&set);
    for (size_t k = 0; k < n; k++)
        imap_seqset_add(&set, uids[k], uids[k]);
    imap_seqset_resolve(&set, 0);
    struct str o = STR_INIT;
    str_appends(&o, earlier ? "* VANISHED (EARLIER) " : "* VANISHED ");
    imap_seqset_format(&set, &o);
    str_appends(&o, "\r\n");
    imap_write(s, o.ptr, o.len);
    str_clear(&o);
    imap_seqset_clear(&set);
}

void imap_view_flush_expunges(struct imap_session *s, bool silent)
{
    struct imap_view *v = &s->view;
    if (v->pending_expunges == 0)
        return;
    imap_contexts_expunging(s, silent); /* RFC 5267: REMOVEFROM before the EXPUNGE */
    if (s->qresync && !silent) {        /* RFC 7162 §3.2.10: VANISHED instead of EXPUNGE */
        uint32_t *u = xcalloc(v->pending_expunges, sizeof *u);
        size_t k = 0;
        for (size_t i = 0; i < v->n && k < v->pending_expunges; i++)
            if (v->msgs[i].expunged)
                u[k++] = v->msgs[i].uid;
        imap_write_vanished(s, u, k, false);
        free(u);
        silent = true;
    }
    /* Highest first: each number is still valid when the client reads it. */
    struct str o = STR_INIT;
    for (size_t i = v->n; i-- > 0;)
        if (v->msgs[i].expunged && !silent)
            str_appendf(&o, "* %zu EXPUNGE\r\n", i + 1);
    if (o.len)
        imap_write(s, o.ptr, o.len);
    str_clear(&o);
    size_t k = 0;
    for (size_t i = 0; i < v->n; i++) {
        if (v->msgs[i].expunged)
            msg_free(&v->msgs[i]);
        else
            v->msgs[k++] = v->msgs[i];
    }
    v->n = k;
    v->pending_expunges = 0;
}

/* True when the raw set names "*" anywhere. */
static bool set_has_star(const struct imap_seqset *set)
{
    for (size_t i = 0; i < set->n; i++)
        if (set->r[i].lo == IMAP_SEQ_STAR || set->r[i].hi == IMAP_SEQ_STAR)
            return true;
    return false;
}

static void idx_push(size_t **idx, size_t *n, size_t *cap, size_t i)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        *idx = xrealloc(*idx, *cap * sizeof **idx);
    }
    (*idx)[(*n)++] = i;
}

bool imap_view_resolve(struct imap_session *s, const struct imap_arg *a, bool uid, size_t **idx_out,
                       size_t *n_out)
{
    const struct imap_view *v = &s->view;
    struct imap_seqset set;
    const char *err = NULL;
    *idx_out = NULL;
    *n_out = 0;
    imap_seqset_init(&set);
    if (a->type != IMAP_ARG_ATOM ||
        imap_seqset_parse(a->str, a->len, IMAP_SEQSET_ALLOW_SAVED, &set, &err) != 0) {
        imap_seqset_clear(&set);
        imap_bad(s, "Invalid sequence set%s%s", err ? ": " : "", err ? err : "");
        return false;
    }
    if (set.saved) { /* RFC 5182: "$", the saved uids still in the mailbox */
        size_t cap = 0;
        for (size_t k = 0; k < s->nsaved; k++) {
            size_t i = imap_view_find(v, s->saved[k]);
            if (i != SIZE_MAX)
                idx_push(idx_out, n_out, &cap, i);
        }
        imap_seqset_clear(&set);
        return true;
    }
    bool star = set_has_star(&set);
    size_t cap = 0;
    if (uid) {
        imap_seqset_resolve(&set, v->n ? v->msgs[v->n - 1].uid : 0);
        for (size_t i = 0; v->n && i < v->n; i++)
            if (imap_seqset_contains(&set, v->msgs[i].uid))
                idx_push(idx_out, n_out, &cap, i);
    } else {
        imap_seqset_resolve(&set, (uint32_t)v->n);
        if (imap_seqset_max(&set) > v->n && !(star && v->n == 0)) {
            imap_seqset_clear(&set);
            imap_bad(s, "Invalid message sequence number (mailbox has %zu messages)", v->n);
            return false;
        }
        struct imap_seqset_iter it;
        uint32_t num;
        imap_seqset_iter_init(&it, &set);
        while (v->n && imap_seqset_iter_next(&it, &num))
            idx_push(idx_out, n_out, &cap, (size_t)num - 1);
    }
    imap_seqset_clear(&set);
    return true;
}
