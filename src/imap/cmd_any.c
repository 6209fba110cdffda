/*
 * cmd_any — the commands valid in (almost) every state that need no store: CAPABILITY, NOOP,
 * CHECK, LOGOUT (RFC 3501 §6.1, §6.4.1), ID (RFC 2971), ENABLE (RFC 5161) and NAMESPACE
 * (RFC 2342).
 */
#include "imap/session_int.h"

#include "core/log.h"

#include <string.h>

void imap_cmd_capability(struct imap_session *s, const struct imap_cmd *cmd)
{
    if (cmd->nargs)
        return imap_bad(s, "CAPABILITY takes no arguments");
    str_reset(&s->out);
    str_appends(&s->out, "* CAPABILITY ");
    imap_capabilities(s, &s->out);
    str_appends(&s->out, "\r\n");
    imap_write(s, s->out.ptr, s->out.len);
    imap_done(s, "OK Capability completed");
}

/* RFC 3501 §6.1.2: NOOP is how a client polls for updates: always re-sync. */
void imap_cmd_noop(struct imap_session *s, const struct imap_cmd *cmd)
{
    if (cmd->nargs)
        return imap_bad(s, "NOOP takes no arguments");
    s->dirty = true;
    imap_done(s, "OK NOOP completed");
}

/* RFC 3501 §6.4.1: nothing to checkpoint (every change is committed at once); a poll. */
void imap_cmd_check(struct imap_session *s, const struct imap_cmd *cmd)
{
    if (cmd->nargs)
        return imap_bad(s, "CHECK takes no arguments");
    s->dirty = true;
    imap_done(s, "OK CHECK completed");
}

void imap_cmd_logout(struct imap_session *s, const struct imap_cmd *cmd)
{
    if (cmd->nargs)
        return imap_bad(s, "LOGOUT takes no arguments");
    s->state = IS_LOGOUT;
    s->dirty = false;
    imap_writes(s, "* BYE Pigeon IMAP server signing off\r\n");
    imap_done(s, "OK LOGOUT completed");
    imap_close(s);
}

/* RFC 2971: ("field" "value" ...) or NIL from the client; ours in return. */
void imap_cmd_id(struct imap_session *s, const struct imap_cmd *cmd)
{
    if (cmd->nargs != 1)
        return imap_bad(s, "ID takes one argument");
    const struct imap_arg *a = &cmd->args[0];
    if (a->type == IMAP_ARG_LIST) {
        if (a->count % 2 || a->count > 60)
            return imap_bad(s, "ID needs field/value pairs");
        for (size_t i = 0; i < a->count; i++) {
            const char *v;
            size_t n;
            if (!imap_arg_get_nstring(&a->list[i], &v, &n) || (i % 2 == 0 && !v))
                return imap_bad(s, "ID fields must be strings");
        }
    } else if (a->type != IMAP_ARG_NIL) {
        return imap_bad(s, "ID takes a list or NIL");
    }
    imap_writes(s, "* ID (\"name\" \"Pigeon\" \"vendor\" \"Pigeon\" \"support-url\" "
                   "\"https://example.invalid/pigeon\")\r\n");
    imap_done(s, "OK ID completed");
}

/* RFC 5161: CONDSTORE, QRESYNC (RFC 7162 §3.2.3, which implies CONDSTORE), UTF8=ACCEPT
 * (RFC 6855) and IMAP4rev2 (RFC 9051 §6.3.1) are the extensions that need enabling here; the
 * reply names those newly enabled. */
void imap_cmd_enable(struct imap_session *s, const struct imap_cmd *cmd)
{
    if (cmd->nargs == 0)
        return imap_bad(s, "ENABLE needs capability names");
    for (size_t i = 0; i < cmd->nargs; i++)
        if (cmd->args[i].type != IMAP_ARG_ATOM)
            return imap_bad(s, "ENABLE takes capability names");
    str_reset(&s->out);
    str_appends(&s->out, "* ENABLED");
    for (size_t i = 0; i < cmd->nargs; i++) {
        const char *name = cmd->args[i].str;
        if (ascii_eq_ci(name, "CONDSTORE") && !s->condstore) {
            s->condstore = true;
            str_appends(&s->out, " CONDSTORE");
        } else if (ascii_eq_ci(name, "QRESYNC") && !s->qresync) {
            s->qresync = s->condstore = true;
            str_appends(&s->out, " QRESYNC");
        } else if (ascii_eq_ci(name, "UTF8=ACCEPT") && !s->utf8) {
            s->utf8 = true; /* RFC 6855 §3 */
            str_appends(&s->out, " UTF8=ACCEPT");
        } else if (ascii_eq_ci(name, "IMAP4rev2") && !s->rev2) {
            imap_rev2_on(s);
            str_appends(&s->out, " IMAP4rev2");
        }
    }
    str_appends(&s->out, "\r\n");
    imap_write(s, s->out.ptr, s->out.len);
    imap_done(s, "OK ENABLE completed");
}

/* RFC 4978: COMPRESS DEFLATE. The OK goes out uncompressed; the connection switches after. */
void imap_cmd_compress(struct imap_session *s, const struct imap_cmd *cmd)
{
    if (cmd->nargs != 1 || !imap_arg_atom_eq(&cmd->args[0], "DEFLATE"))
        return imap_bad(s, "COMPRESS takes DEFLATE");
    if (!s->io->compress)
        return imap_done(s, "NO Compression is not available");
    if (s->compressed)
        return imap_done(s, "NO [COMPRESSIONACTIVE] DEFLATE is already on");
    s->compressed = true;
    s->compress_pending = true; /* finish_command switches once the OK is written */
    imap_done(s, "OK DEFLATE active");
}

/* One personal namespace, no prefix, "/" as delimiter; no other users' or shared ones. */
void imap_cmd_namespace(struct imap_session *s, const struct imap_cmd *cmd)
{
    if (cmd->nargs)
        return imap_bad(s, "NAMESPACE takes no arguments");
    imap_writes(s, "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n");
    imap_done(s, "OK NAMESPACE completed");
}
