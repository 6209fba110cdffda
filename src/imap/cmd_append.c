/*
 * cmd_append — APPEND (RFC 3501 §6.3.11) with APPENDUID (RFC 4315 §3). The message arrives as
 * a literal held by the parser (its size was checked against max_literal_size before a byte
 * of it was read) and is handed to the daemon, which makes it durable — file and rows
 * committed — before the OK is sent.
 */
#include "imap/session_int.h"

#include "core/err.h"
#include "msg/date.h"

#include <string.h>

static void append_done(struct imap_session *s)
{
    if (s->req.rc == ERR_NOTFOUND)
        return imap_done(s, "NO [TRYCREATE] Mailbox does not exist");
    if (s->req.rc != 0)
        return imap_done_rc(s, s->req.rc, "APPEND");
    /* RFC 3501 §6.3.11: appending to the selected mailbox shows up as EXISTS. */
    if (s->state == IS_SELECTED && s->req.mailbox.id == s->view.id)
        s->dirty = true;
    imap_done(s, "OK [APPENDUID %u %u] APPEND completed", s->req.mailbox.uidvalidity,
              s->req.nuids2 ? s->req.uids2[0] : 0);
}

void imap_cmd_append(struct imap_session *s, const struct imap_cmd *cmd)
{
    const struct imap_arg *a = cmd->args;
    size_t n = cmd->nargs, i = 1;
    if (n < 2)
        return imap_bad(s, "APPEND needs a mailbox and a message");
    str_reset(&s->cmd.flags);
    if (i < n - 1 && a[i].type == IMAP_ARG_LIST) {
        const char *err = "Invalid flags";
        if (!imap_flags_parse_args(&a[i], 1, &s->cmd.flags, &err))
            return imap_bad(s, "%s", err);
        i++;
    }
    int64_t date = 0; /* 0: the daemon uses the time of arrival */
    if (i < n - 1 && a[i].type == IMAP_ARG_STRING) {
        struct msg_date d;
        if (msg_date_parse_imap_datetime(a[i].str, a[i].len, &d) != 0)
            return imap_bad(s, "Invalid date-time");
        date = msg_date_to_unix(&d);
        if (date <= 0)
            date = 1;
        i++;
    }
    const char *msg;
    size_t len;
    if (i != n - 1 || !imap_arg_get_string(&a[i], &msg, &len))
        return imap_bad(s, "Invalid APPEND arguments");
    if (len == 0)
        return imap_done(s, "NO Cannot append an empty message");
    if (!imap_arg_mailbox(s, &a[0], &s->cmd.name2))
        return;
    s->req.name2 = str_cstr(&s->cmd.name2);
    s->req.flags = str_cstr(&s->cmd.flags);
    s->req.internal_date = date;
    s->req.data = msg;
    s->req.len = len;
    imap_request(s, IMAP_REQ_APPEND, append_done);
}
