/*
 * cmd_select — entering and leaving a mailbox: SELECT and EXAMINE (RFC 3501 §6.3.1-2, with
 * the CONDSTORE parameter of RFC 7162 §3.1.8), CLOSE (§6.4.2), UNSELECT (RFC 3691) and
 * EXPUNGE / UID EXPUNGE (§6.4.3, RFC 4315 §2.1).
 */
#include "imap/search_int.h"

#include "core/xmalloc.h"

#include <stdlib.h>
#include <string.h>

void imap_unselect(struct imap_session *s)
{
    if (s->state != IS_SELECTED)
        return;
    imap_contexts_free(s); /* RFC 5267 §4.3: updates end with the mailbox */
    imap_view_clear(&s->view);
    imap_search_save(s, NULL, 0); /* RFC 5182 §2.1: "$" is empty in a newly selected mailbox */
    s->state = IS_AUTH;
    s->dirty = false;
    s->ops->selected(s->ops_ctx, 0);
}

static size_t first_unseen(const struct imap_view *v)
{
    for (size_t i = 0; i < v->n; i++)
        if (!(v->msgs[i].flags & IMAP_MSGF_SEEN))
            return i + 1;
    return 0;
}

/* After a SELECT (QRESYNC ...): what vanished since the client's modseq (among its known
 * uids), then every message changed since (RFC 7162 §3.2.5.2). */
static void qresync_done(struct imap_session *s)
{
    bool read_only = s->view.read_only;
    if (s->req.rc == 0) {
        size_t k = 0;
        for (size_t i = 0; i < s->req.nuids; i++) {
            uint32_t u = s->req.uids[i];
            if (imap_view_find(&s->view, u) == SIZE_MAX &&
                (s->cmd.known.n == 0 || imap_seqset_contains(&s->cmd.known, u)))
                s->req.uids[k++] = u;
        }
        imap_write_vanished(s, s->req.uids, k, true);
    }
    for (size_t i = 0; i < s->view.n; i++)
        if (s->view.msgs[i].modseq > s->cmd.qr_modseq)
            imap_view_write_fetch_flags(s, i, true);
    imap_done(s, "OK [%s] %s completed", read_only ? "READ-ONLY" : "READ-WRITE",
              read_only ? "EXAMINE" : "SELECT");
}

static void select_done(struct imap_session *s)
{
    bool read_only = s->req.read_only;
    if (s->req.rc != 0)
        return imap_done_rc(s, s->req.rc, "SELECT");
    imap_view_load(s, &s->req, read_only);
    s->state = IS_SELECTED;
    s->ops->selected(s->ops_ctx, s->view.id);
    const struct imap_view *v = &s->view;
    imap_view_write_flags(s);
    imap_view_write_exists(s);
    size_t unseen = s->rev2 ? 0 : first_unseen(v); /* RFC 9051 dropped [UNSEEN] from SELECT */
    if (unseen)
        imap_printf(s, "* OK [UNSEEN %zu] First unseen\r\n", unseen);
    if (s->rev2) { /* RFC 9051 §6.3.2: the mailbox's LIST response */
        str_reset(&s->out);
        str_appends(&s->out, "* LIST () \"/\" ");
        imap_write_mailbox(s, &s->out, v->name);
        str_appends(&s->out, "\r\n");
        imap_write(s, s->out.ptr, s->out.len);
    }
    imap_printf(s,
                "* OK [UIDVALIDITY %u] UIDs valid\r\n* OK [UIDNEXT %u] Predicted next UID\r\n"
                "* OK [HIGHESTMODSEQ %llu] Highest\r\n",
                v->uidvalidity, v->uidnext, (unsigned long long)v->highestmodseq);
    /* a stale UIDVALIDITY: the client starts over, nothing more to tell (§3.2.5.2) */
    if (s->cmd.qresync && s->cmd.qr_uidvalidity == v->uidvalidity) {
        s->req.mailbox_id = v->id;
        s->req.since_modseq = s->cmd.qr_modseq;
        return imap_request(s, IMAP_REQ_VANISHED, qresync_done);
    }
    imap_done(s, "OK [%s] %s completed", read_only ? "READ-ONLY" : "READ-WRITE",
              read_only ? "EXAMINE" : "SELECT");
}

static bool parse_u64(const struct imap_arg *a, uint64_t max, uint64_t *out)
{
    unsigned long long v;
    if (a->type != IMAP_ARG_ATOM || slice_to_u64(slice_make(a->str, a->len), max, &v) != 0)
        return false;
    *out = v;
    return true;
}

/* (QRESYNC (uidvalidity modseq [known-uids [(seq-match-data)]])), RFC 7162 §3.2.5. The
 * sequence match data only narrows what VANISHED may say; it is checked and not needed. */
static bool parse_qresync(struct imap_session *s, const struct imap_arg *p)
{
    uint64_t uidv, modseq;
    if (p->type != IMAP_ARG_LIST || p->count < 2 || p->count > 4 ||
        !parse_u64(&p->list[0], UINT32_MAX, &uidv) || uidv == 0 ||
        !parse_u64(&p->list[1], INT64_MAX, &modseq) || modseq == 0)
        return false;
    const char *err = NULL;
    if (p->count >= 3 &&
        (p->list[2].type != IMAP_ARG_ATOM ||
         imap_seqset_parse(p->list[2].str, p->list[2].len, 0, &s->cmd.known, &err) != 0))
        return false;
    if (p->count == 4 && (p->list[3].type != IMAP_ARG_LIST || p->list[3].count != 2))
        return false;
    imap_seqset_resolve(&s->cmd.known, UINT32_MAX);
    s->cmd.qresync = true;
    s->cmd.qr_uidvalidity = (uint32_t)uidv;
    s->cmd.qr_modseq = modseq;
    return true;
}

static void select_common(struct imap_session *s, const struct imap_cmd *cmd, bool read_only)
{
    if (cmd->nargs < 1 || cmd->nargs > 2)
        return imap_bad(s, "%s needs a mailbox name", read_only ? "EXAMINE" : "SELECT");
    if (cmd->nargs == 2) {
        const struct imap_arg *p = &cmd->args[1];
        if (p->type != IMAP_ARG_LIST)
            return imap_bad(s, "Invalid SELECT parameters");
        for (size_t i = 0; i < p->count; i++) {
            if (imap_arg_atom_eq(&p->list[i], "CONDSTORE")) {
                s->condstore = true; /* RFC 7162 §3.1.8 */
            } else if (imap_arg_atom_eq(&p->list[i], "QRESYNC") && i + 1 < p->count) {
                if (!s->qresync) /* §3.2.5: only once ENABLEd */
                    return imap_bad(s, "QRESYNC is not enabled");
                if (s->cmd.qresync || !parse_qresync(s, &p->list[++i]))
                    return imap_bad(s, "Invalid QRESYNC parameter");
            } else {
                return imap_bad(s, "Unknown SELECT parameter");
            }
        }
    }
    /* RFC 3501 §6.3.1: a failed SELECT leaves no mailbox selected, so close the old one now;
     * [CLOSED] (RFC 7162 §3.2.11) marks where its responses end. */
    if (s->state == IS_SELECTED) {
        imap_unselect(s);
        imap_writes(s, "* OK [CLOSED] Previous mailbox closed\r\n");
    }
    if (!imap_arg_mailbox(s, &cmd->args[0], &s->cmd.name))
        return;
    s->dirty = false;
    s->req.name = str_cstr(&s->cmd.name);
    s->req.read_only = read_only;
    imap_request(s, IMAP_REQ_SELECT, select_done);
}

void imap_cmd_select(struct imap_session *s, const struct imap_cmd *cmd)
{
    select_common(s, cmd, false);
}

void imap_cmd_examine(struct imap_session *s, const struct imap_cmd *cmd)
{
    select_common(s, cmd, true);
}

void imap_cmd_unselect(struct imap_session *s, const struct imap_cmd *cmd)
{
    if (cmd->nargs)
        return imap_bad(s, "UNSELECT takes no arguments");
    imap_unselect(s);
    imap_done(s, "OK UNSELECT completed");
}

/* The uids of messages marked \Deleted (and in `only` when given, for UID EXPUNGE). */
static void collect_deleted(struct imap_session *s, const size_t *only, size_t nonly)
{
    const struct imap_view *v = &s->view;
    s->cmd.uids = xcalloc(v->n ? v->n : 1, sizeof *s->cmd.uids);
    s->cmd.nuids = 0;
    size_t n = only ? nonly : v->n;
    for (size_t k = 0; k < n; k++) {
        const struct imap_msg *m = &v->msgs[only ? only[k] : k];
        if ((m->flags & IMAP_MSGF_DELETED) && !m->expunged)
            s->cmd.uids[s->cmd.nuids++] = m->uid;
    }
    s->req.mailbox_id = v->id;
    s->req.in_uids = s->cmd.uids;
    s->req.n_in_uids = s->cmd.nuids;
}

static void expunge_done(struct imap_session *s)
{
    if (s->req.rc != 0)
        return imap_done_rc(s, s->req.rc, "EXPUNGE");
    for (size_t i = 0; i < s->cmd.nuids; i++)
        imap_view_mark_expunged(s, s->cmd.uids[i]);
    imap_done(s, "OK EXPUNGE completed");
}

void imap_cmd_expunge(struct imap_session *s, const struct imap_cmd *cmd)
{
    size_t *idx = NULL, n = 0;
    if (cmd->nargs != (s->cmd.uid ? 1u : 0u))
        return imap_bad(s, s->cmd.uid ? "UID EXPUNGE needs a UID set"
                                      : "EXPUNGE takes no "
                                        "arguments");
    if (s->view.read_only)
        return imap_done(s, "NO [READ-ONLY] Mailbox is read-only");
    if (s->cmd.uid && !imap_view_resolve(s, &cmd->args[0], true, &idx, &n))
        return;
    collect_deleted(s, s->cmd.uid ? idx : NULL, n);
    free(idx);
    if (s->cmd.nuids == 0)
        return imap_done(s, "OK EXPUNGE completed");
    imap_request(s, IMAP_REQ_EXPUNGE, expunge_done);
}

static void close_done(struct imap_session *s)
{
    imap_unselect(s); /* RFC 3501 §6.4.2: no EXPUNGE responses */
    imap_done(s, "OK CLOSE completed");
}

void imap_cmd_close(struct imap_session *s, const struct imap_cmd *cmd)
{
    if (cmd->nargs)
        return imap_bad(s, "CLOSE takes no arguments");
    if (!s->view.read_only) {
        collect_deleted(s, NULL, 0);
        if (s->cmd.nuids)
            return imap_request(s, IMAP_REQ_EXPUNGE, close_done);
    }
    close_done(s);
}
