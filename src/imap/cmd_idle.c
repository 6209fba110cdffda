/*
 * cmd_idle — IDLE (RFC 2177): "+ idling", then every change the daemon notifies is synced and
 * pushed at once (EXISTS, RECENT, FETCH, EXPUNGE are all allowed here) until the client sends
 * DONE. The idle timeout of the connection still applies: RFC 2177 §3 asks clients to
 * re-issue IDLE at least every 29 minutes.
 */
#include "imap/session_int.h"

#include "core/err.h"

/* A notification that came during the sync: go again; then NOTIFY's other mailboxes. */
static void idle_again(struct imap_session *s)
{
    if (s->mode != IM_IDLE || s->closing)
        return;
    if (s->dirty && s->state == IS_SELECTED)
        return imap_idle_notify(s);
    imap_notify_in_idle(s, idle_again);
}

void imap_idle_heard(struct imap_session *s)
{
    idle_again(s);
}

static void idle_synced(struct imap_session *s)
{
    if (s->req.rc == ERR_NOTFOUND) {
        imap_writes(s, "* BYE Selected mailbox was deleted, have to disconnect\r\n");
        return imap_close(s);
    }
    if (s->req.rc == 0) {
        imap_view_apply_sync(s, &s->req, true);
    }
    imap_req_clear(&s->req);
    if (s->state == IS_SELECTED && !s->closing && imap_contexts_stale(s))
        return imap_contexts_update(s, idle_again); /* RFC 5267 §4.3 */
    idle_again(s);
}

void imap_idle_notify(struct imap_session *s)
{
    s->dirty = false;
    s->req.mailbox_id = s->view.id;
    s->req.since_modseq = s->view.highestmodseq;
    s->req.read_only = s->view.read_only;
    imap_request(s, IMAP_REQ_SYNC, idle_synced);
}

void imap_cmd_idle(struct imap_session *s, const struct imap_cmd *cmd)
{
    if (cmd->nargs)
        return imap_bad(s, "IDLE takes no arguments");
    imap_writes(s, "+ idling\r\n");
    s->mode = IM_IDLE;
    imap_parser_expect_line(s->parser);
    idle_again(s);
}

void imap_idle_line(struct imap_session *s, const char *line, size_t len)
{
    s->mode = IM_COMMAND;
    if (len == 4 && slice_eq_ci(slice_make(line, len), "DONE"))
        return imap_done(s, "OK IDLE terminated");
    imap_bad(s, "Expected DONE to end IDLE");
}
