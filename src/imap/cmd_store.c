/*
 * cmd_store — STORE and UID STORE (RFC 3501 §6.4.6) with UNCHANGEDSINCE and MODIFIED
 * (RFC 7162 §3.1.3). The store applies the change in one transaction and returns every
 * message's new flags and modseq; the view and the FETCH responses follow from those.
 */
#include "imap/session_int.h"

#include "core/xmalloc.h"

#include <stdlib.h>
#include <string.h>

static void store_done(struct imap_session *s)
{
    if (s->req.rc != 0)
        return imap_done_rc(s, s->req.rc, "STORE");
    struct imap_seqset modified;
    imap_seqset_init(&modified);
    for (size_t k = 0; k < s->req.nrows; k++) {
        const struct imap_row *r = &s->req.rows[k];
        size_t i = imap_view_find(&s->view, r->uid);
        if (i == SIZE_MAX)
            continue;
        struct imap_msg *m = &s->view.msgs[i];
        if (r->failed) {
            uint32_t id = s->cmd.uid ? r->uid : (uint32_t)(i + 1);
            imap_seqset_add(&modified, id, id);
            continue;
        }
        bool moved = r->modseq != m->modseq;
        m->modseq = r->modseq;
        imap_view_set_flags(s, m, r->flags, true);
        if (!s->cmd.silent)
            imap_view_write_fetch_flags(s, i, true);
        else if (s->condstore && moved) /* RFC 7162 §3.2: the new modseq, even when silent */
            imap_view_write_fetch_flags(s, i, false);
    }
    if (modified.n == 0) {
        imap_seqset_clear(&modified);
        return imap_done(s, "OK STORE completed");
    }
    struct str set = STR_INIT;
    imap_seqset_resolve(&modified, 0);
    imap_seqset_format(&modified, &set);
    imap_seqset_clear(&modified);
    imap_done(s, "OK [MODIFIED %s] Conditional STORE failed", str_cstr(&set));
    str_clear(&set);
}

/* (UNCHANGEDSINCE n): *since_out gets n; false on a syntax error. */
static bool parse_modifiers(const struct imap_arg *a, int64_t *since_out)
{
    if (a->count != 2 || !imap_arg_atom_eq(&a->list[0], "UNCHANGEDSINCE") ||
        a->list[1].type != IMAP_ARG_ATOM)
        return false;
    unsigned long long v;
    if (slice_to_u64(slice_make(a->list[1].str, a->list[1].len), INT64_MAX, &v) != 0)
        return false;
    *since_out = (int64_t)v;
    return true;
}

/* "[+-]FLAGS[.SILENT]" */
static bool parse_item(struct imap_session *s, const struct imap_arg *a, enum imap_store_op *op)
{
    if (a->type != IMAP_ARG_ATOM)
        return false;
    const char *p = a->str;
    *op = *p == '+' ? IMAP_STORE_ADD : *p == '-' ? IMAP_STORE_REMOVE : IMAP_STORE_REPLACE;
    if (*p == '+' || *p == '-')
        p++;
    if (ascii_eq_ci(p, "FLAGS.SILENT"))
        s->cmd.silent = true;
    else if (!ascii_eq_ci(p, "FLAGS"))
        return false;
    return true;
}

void imap_cmd_store(struct imap_session *s, const struct imap_cmd *cmd)
{
    const struct imap_arg *a = cmd->args;
    size_t n = cmd->nargs, i = 1;
    int64_t since = -1;
    if (n >= 3 && a[1].type == IMAP_ARG_LIST) {
        if (!parse_modifiers(&a[1], &since))
            return imap_bad(s, "Invalid STORE modifier");
        imap_condstore_on(s); /* RFC 7162 §3.1 */
        i++;
    }
    enum imap_store_op op;
    const char *err = "Invalid flags";
    if (n < i + 2 || !parse_item(s, &a[i], &op))
        return imap_bad(s, "STORE needs a message set, FLAGS, +FLAGS or -FLAGS, and flags");
    if (!imap_flags_parse_args(&a[i + 1], n - i - 1, &s->cmd.flags, &err))
        return imap_bad(s, "%s", err);
    size_t *idx, nidx;
    if (!imap_view_resolve(s, &a[0], s->cmd.uid, &idx, &nidx))
        return;
    if (s->view.read_only) {
        free(idx);
        return imap_done(s, "NO [READ-ONLY] Mailbox is read-only");
    }
    s->cmd.uids = xcalloc(nidx ? nidx : 1, sizeof *s->cmd.uids);
    for (size_t k = 0; k < nidx; k++)
        if (!s->view.msgs[idx[k]].expunged)
            s->cmd.uids[s->cmd.nuids++] = s->view.msgs[idx[k]].uid;
    free(idx);
    if (s->cmd.nuids == 0)
        return imap_done(s, "OK STORE completed");
    s->req.mailbox_id = s->view.id;
    s->req.in_uids = s->cmd.uids;
    s->req.n_in_uids = s->cmd.nuids;
    s->req.store_op = op;
    s->req.flags = str_cstr(&s->cmd.flags);
    s->req.unchangedsince = since;
    imap_request(s, IMAP_REQ_STORE, store_done);
}
