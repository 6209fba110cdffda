/*
 * cmd_copy — COPY and MOVE, plain and UID forms (RFC 3501 §6.4.7, RFC 6851), answered with
 * COPYUID (RFC 4315 §3). The store copies the rows (same file, flags and internal date, new
 * ascending uids) and, for MOVE, expunges the originals in the same transaction.
 */
#include "imap/session_int.h"

#include "core/err.h"
#include "core/xmalloc.h"

#include <stdlib.h>

static void uid_list_format(const uint32_t *uids, size_t n, struct str *out)
{
    struct imap_seqset set;
    imap_seqset_init(&set);
    for (size_t i = 0; i < n; i++)
        imap_seqset_add(&set, uids[i], uids[i]);
    imap_seqset_resolve(&set, 0);
    imap_seqset_format(&set, out);
    imap_seqset_clear(&set);
}

static void copy_done(struct imap_session *s)
{
    bool move = s->req.move;
    const char *verb = move ? "MOVE" : "COPY";
    if (s->req.rc == ERR_NOTFOUND)
        return imap_done(s, "NO [TRYCREATE] Mailbox does not exist");
    if (s->req.rc != 0)
        return imap_done_rc(s, s->req.rc, verb);
    if (s->req.mailbox.id == s->view.id)
        s->dirty = true; /* copies into the selected mailbox show up as EXISTS */
    struct str code = STR_INIT;
    if (s->req.nuids) {
        /* Both lists ascend together, so their compact forms still pair up (RFC 4315 §3). */
        str_appendf(&code, "[COPYUID %u ", s->req.mailbox.uidvalidity);
        uid_list_format(s->req.uids, s->req.nuids, &code);
        str_appendc(&code, ' ');
        uid_list_format(s->req.uids2, s->req.nuids2, &code);
        str_appends(&code, "] ");
    }
    if (move) {
        /* RFC 6851 §4.3: COPYUID in an untagged OK, then the EXPUNGE responses. */
        if (code.len)
            imap_printf(s, "* OK %sMoved\r\n", str_cstr(&code));
        for (size_t i = 0; i < s->req.nuids; i++)
            imap_view_mark_expunged(s, s->req.uids[i]);
        imap_done(s, "OK MOVE completed");
    } else {
        imap_done(s, "OK %sCOPY completed", str_cstr(&code));
    }
    str_clear(&code);
}

static void copy_start(struct imap_session *s, const struct imap_cmd *cmd, bool move)
{
    const char *verb = move ? "MOVE" : "COPY";
    if (cmd->nargs != 2)
        return imap_bad(s, "%s needs a message set and a mailbox", verb);
    size_t *idx, nidx;
    if (!imap_view_resolve(s, &cmd->args[0], s->cmd.uid, &idx, &nidx))
        return;
    s->cmd.uids = xcalloc(nidx ? nidx : 1, sizeof *s->cmd.uids);
    for (size_t k = 0; k < nidx; k++)
        if (!s->view.msgs[idx[k]].expunged)
            s->cmd.uids[s->cmd.nuids++] = s->view.msgs[idx[k]].uid;
    free(idx);
    if (!imap_arg_mailbox(s, &cmd->args[1], &s->cmd.name2))
        return;
    if (move && s->view.read_only)
        return imap_done(s, "NO [READ-ONLY] Mailbox is read-only");
    if (s->cmd.nuids == 0)
        return imap_done(s, "OK %s completed", verb);
    s->req.mailbox_id = s->view.id;
    s->req.in_uids = s->cmd.uids;
    s->req.n_in_uids = s->cmd.nuids;
    s->req.name2 = str_cstr(&s->cmd.name2);
    s->req.move = move;
    imap_request(s, IMAP_REQ_COPY, copy_done);
}

void imap_cmd_copy(struct imap_session *s, const struct imap_cmd *cmd)
{
    copy_start(s, cmd, false);
}

void imap_cmd_move(struct imap_session *s, const struct imap_cmd *cmd)
{
    copy_start(s, cmd, true);
}
