/*
 * cmd_quota — GETQUOTAROOT, GETQUOTA and SETQUOTA (RFC 9208). Every mailbox of a user shares
 * one quota root, "" : the user's storage and message-count limits (or, when the user has
 * none, its domain's), set by the administrator with `pigeon quota`. STORAGE is reported in
 * units of 1024 octets (§5.1), MESSAGE in messages (§5.2). A user without any limit has no
 * quota root. SETQUOTA is refused: limits are the administrator's.
 */
#include "imap/session_int.h"

#include "core/xmalloc.h"

/* "* QUOTA "" (STORAGE u l MESSAGE u l)" with the resources that have limits; false when none. */
static bool quota_write(struct imap_session *s)
{
    const struct imap_quota_info *q = &s->req.quota;
    if (!q->limit_bytes && !q->limit_messages)
        return false;
    struct str o = STR_INIT;
    str_appends(&o, "* QUOTA \"\" (");
    if (q->limit_bytes)
        str_appendf(&o, "STORAGE %llu %llu", (unsigned long long)((q->used_bytes + 1023) / 1024),
                    (unsigned long long)(q->limit_bytes / 1024));
    if (q->limit_messages)
        str_appendf(&o, "%sMESSAGE %llu %llu", q->limit_bytes ? " " : "",
                    (unsigned long long)q->used_messages, (unsigned long long)q->limit_messages);
    str_appends(&o, ")\r\n");
    imap_write(s, o.ptr, o.len);
    str_clear(&o);
    return true;
}

static void getquotaroot_done(struct imap_session *s)
{
    if (s->req.rc != 0)
        return imap_done_rc(s, s->req.rc, "GETQUOTAROOT");
    struct str o = STR_INIT;
    str_appends(&o, "* QUOTAROOT ");
    imap_write_mailbox(s, &o, str_cstr(&s->cmd.name));
    bool any = s->req.quota.limit_bytes || s->req.quota.limit_messages;
    str_appends(&o, any ? " \"\"\r\n" : "\r\n");
    imap_write(s, o.ptr, o.len);
    str_clear(&o);
    quota_write(s);
    imap_done(s, "OK GETQUOTAROOT completed");
}

static void getquotaroot_checked(struct imap_session *s)
{
    if (s->req.rc != 0)
        return imap_done_rc(s, s->req.rc, "GETQUOTAROOT");
    imap_req_clear(&s->req);
    imap_request(s, IMAP_REQ_QUOTA, getquotaroot_done);
}

void imap_cmd_getquotaroot(struct imap_session *s, const struct imap_cmd *cmd)
{
    if (cmd->nargs != 1)
        return imap_bad(s, "GETQUOTAROOT needs a mailbox name");
    if (!imap_arg_mailbox(s, &cmd->args[0], &s->cmd.name))
        return;
    /* RFC 9208 §4.3.2: the mailbox must exist (STATUS tells). */
    s->req.name = str_cstr(&s->cmd.name);
    imap_request(s, IMAP_REQ_STATUS, getquotaroot_checked);
}

static void getquota_done(struct imap_session *s)
{
    if (s->req.rc != 0)
        return imap_done_rc(s, s->req.rc, "GETQUOTA");
    if (!quota_write(s))
        return imap_done(s, "NO [NONEXISTENT] No such quota root");
    imap_done(s, "OK GETQUOTA completed");
}

void imap_cmd_getquota(struct imap_session *s, const struct imap_cmd *cmd)
{
    const char *root;
    size_t n;
    if (cmd->nargs != 1 || !imap_arg_get_astring(&cmd->args[0], &root, &n))
        return imap_bad(s, "GETQUOTA needs a quota root");
    if (n != 0)
        return imap_done(s, "NO [NONEXISTENT] No such quota root");
    imap_request(s, IMAP_REQ_QUOTA, getquota_done);
}

void imap_cmd_setquota(struct imap_session *s, const struct imap_cmd *cmd)
{
    if (cmd->nargs != 2 || cmd->args[1].type != IMAP_ARG_LIST)
        return imap_bad(s, "SETQUOTA needs a quota root and a resource list");
    imap_done(s, "NO [NOPERM] Quotas are set by the administrator");
}
