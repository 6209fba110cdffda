/*
 * cmd_mailbox — the user's mailbox tree (RFC 3501 §6.3.3-6, §6.3.10): CREATE, DELETE, RENAME,
 * SUBSCRIBE, UNSUBSCRIBE and STATUS (with HIGHESTMODSEQ of RFC 7162 and SIZE/DELETED of
 * RFC 9051). Names are decoded from modified UTF-7 and checked by imap/mailbox_name.h, so a
 * name can never leave the user's own tree.
 */
#include "imap/session_int.h"

#include "core/err.h"
#include "imap/mailbox_name.h"

#include <string.h>

static bool is_inbox(const struct str *name)
{
    return strcmp(str_cstr(name), "INBOX") == 0;
}

static void simple_done(struct imap_session *s)
{
    static const char *const names[] = {
        [IMAP_REQ_CREATE] = "CREATE",
        [IMAP_REQ_DELETE] = "DELETE",
        [IMAP_REQ_RENAME] = "RENAME",
        [IMAP_REQ_SUBSCRIBE] = "SUBSCRIBE",
    };
    const char *what = names[s->req.kind] ? names[s->req.kind] : "Command";
    if (s->req.kind == IMAP_REQ_SUBSCRIBE && !s->req.on)
        what = "UNSUBSCRIBE";
    if (s->req.rc == ERR_PARSE && s->req.kind == IMAP_REQ_RENAME)
        return imap_done(s, "NO [CANNOT] Cannot move a mailbox into itself");
    if (s->req.rc != 0)
        return imap_done_rc(s, s->req.rc, what);
    /* The selected mailbox deleted, or INBOX emptied by RENAME: let the sync tell. */
    if (s->state == IS_SELECTED && s->req.mailbox.id == s->view.id)
        s->dirty = true;
    imap_done(s, "OK %s completed", what);
}

void imap_cmd_create(struct imap_session *s, const struct imap_cmd *cmd)
{
    const char *p, *err = NULL;
    size_t n;
    if (cmd->nargs != 1 || !imap_arg_get_astring(&cmd->args[0], &p, &n))
        return imap_bad(s, "CREATE needs a mailbox name");
    /* RFC 3501 §6.3.3: a trailing delimiter only declares the intent to create inferiors. */
    if (n > 1 && p[n - 1] == IMAP_MAILBOX_DELIM)
        n--;
    if (imap_mailbox_name_from_wire(p, n, s->utf8, &s->cmd.name, &err) != 0)
        return imap_done(s, "NO [CANNOT] Invalid mailbox name: %s", err ? err : "invalid");
    if (is_inbox(&s->cmd.name))
        return imap_done(s, "NO [ALREADYEXISTS] INBOX always exists");
    s->req.name = str_cstr(&s->cmd.name);
    imap_request(s, IMAP_REQ_CREATE, simple_done);
}

void imap_cmd_delete(struct imap_session *s, const struct imap_cmd *cmd)
{
    if (cmd->nargs != 1)
        return imap_bad(s, "DELETE needs a mailbox name");
    if (!imap_arg_mailbox(s, &cmd->args[0], &s->cmd.name))
        return;
    if (is_inbox(&s->cmd.name))
        return imap_done(s, "NO [CANNOT] INBOX cannot be deleted");
    s->req.name = str_cstr(&s->cmd.name);
    imap_request(s, IMAP_REQ_DELETE, simple_done);
}

void imap_cmd_rename(struct imap_session *s, const struct imap_cmd *cmd)
{
    if (cmd->nargs != 2)
        return imap_bad(s, "RENAME needs two mailbox names");
    if (!imap_arg_mailbox(s, &cmd->args[0], &s->cmd.name) ||
        !imap_arg_mailbox(s, &cmd->args[1], &s->cmd.name2))
        return;
    if (is_inbox(&s->cmd.name2))
        return imap_done(s, "NO [ALREADYEXISTS] INBOX exists");
    if (strcmp(str_cstr(&s->cmd.name), str_cstr(&s->cmd.name2)) == 0)
        return imap_done(s, "NO [ALREADYEXISTS] Same name");
    s->req.name = str_cstr(&s->cmd.name);
    s->req.name2 = str_cstr(&s->cmd.name2);
    imap_request(s, IMAP_REQ_RENAME, simple_done);
}

static void subscribe(struct imap_session *s, const struct imap_cmd *cmd, bool on)
{
    if (cmd->nargs != 1)
        return imap_bad(s, "%s needs a mailbox name", on ? "SUBSCRIBE" : "UNSUBSCRIBE");
    if (!imap_arg_mailbox(s, &cmd->args[0], &s->cmd.name))
        return;
    s->req.name = str_cstr(&s->cmd.name);
    s->req.on = on;
    imap_request(s, IMAP_REQ_SUBSCRIBE, simple_done);
}

void imap_cmd_subscribe(struct imap_session *s, const struct imap_cmd *cmd)
{
    subscribe(s, cmd, true);
}

void imap_cmd_unsubscribe(struct imap_session *s, const struct imap_cmd *cmd)
{
    subscribe(s, cmd, false);
}

/* ---- STATUS ---- */

enum status_item {
    ST_MESSAGES,
    ST_RECENT,
    ST_UIDNEXT,
    ST_UIDVALIDITY,
    ST_UNSEEN,
    ST_MODSEQ,
    ST_SIZE,
    ST_DELETED,
    ST_COUNT
};
static const char *const status_names[ST_COUNT] = {
    "MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "HIGHESTMODSEQ", "SIZE", "DELETED",
};

/* "* STATUS name (items)" for the counts in s->req.mailbox; items as imap_status_items. */
void imap_status_write(struct imap_session *s, const char *name, const struct str *items)
{
    const struct imap_mailbox_state *m = &s->req.mailbox;
    const unsigned long long v[ST_COUNT] = {
        m->messages, m->recent,        m->uidnext, m->uidvalidity,
        m->unseen,   m->highestmodseq, m->size,    m->deleted,
    };
    struct str o = STR_INIT;
    str_appends(&o, "* STATUS ");
    imap_write_mailbox(s, &o, name);
    str_appends(&o, " (");
    /* items holds the requested items as one character each, in request order. */
    for (size_t i = 0; i < items->len; i++) {
        int it = items->ptr[i] - 'a';
        str_appendf(&o, "%s%s %llu", i ? " " : "", status_names[it], v[it]);
    }
    str_appends(&o, ")\r\n");
    imap_write(s, o.ptr, o.len);
    str_clear(&o);
}

bool imap_status_items(struct imap_session *s, const struct imap_arg *list, struct str *out)
{
    str_reset(out);
    if (list->type != IMAP_ARG_LIST || list->count == 0)
        return false;
    for (size_t i = 0; i < list->count; i++) {
        int it = 0;
        while (it < ST_COUNT && !imap_arg_atom_eq(&list->list[i], status_names[it]))
            it++;
        /* RFC 9051 removed \Recent: RECENT is no status item of IMAP4rev2 */
        if (it == ST_COUNT || (it == ST_RECENT && s->rev2))
            return false;
        if (it == ST_MODSEQ)
            imap_condstore_on(s); /* RFC 7162 §3.1: a CONDSTORE-enabling command */
        str_appendc(out, (char)('a' + it));
    }
    return true;
}

static void status_done(struct imap_session *s)
{
    if (s->req.rc != 0)
        return imap_done_rc(s, s->req.rc, "STATUS");
    imap_status_write(s, str_cstr(&s->cmd.name), &s->cmd.flags);
    imap_done(s, "OK STATUS completed");
}

void imap_cmd_status(struct imap_session *s, const struct imap_cmd *cmd)
{
    if (cmd->nargs != 2 || cmd->args[1].type != IMAP_ARG_LIST || cmd->args[1].count == 0)
        return imap_bad(s, "STATUS needs a mailbox name and a list of items");
    if (!imap_status_items(s, &cmd->args[1], &s->cmd.flags))
        return imap_bad(s, "Unknown STATUS item");
    if (!imap_arg_mailbox(s, &cmd->args[0], &s->cmd.name))
        return;
    s->req.name = str_cstr(&s->cmd.name);
    imap_request(s, IMAP_REQ_STATUS, status_done);
}
