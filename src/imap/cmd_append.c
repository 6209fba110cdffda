/*
 * cmd_append — APPEND (RFC 3501 §6.3.11) with APPENDUID (RFC 4315 §3), MULTIAPPEND (RFC 3502:
 * several messages, stored all or none), literal8 messages (RFC 3516 §4.4) and messages built
 * by CATENATE (RFC 4469, cmd_catenate.c). The messages
 * arrive as literals held by the parser (each size was checked against max_literal_size
 * before a byte of it was read, their sum against the parser's memory limit) and are handed
 * to the daemon in one request, which makes them durable — files and rows committed, the rows
 * in one transaction — before the OK is sent.
 */
#include "imap/session_int.h"

#include "core/err.h"
#include "core/xmalloc.h"
#include "msg/date.h"

#include <stdlib.h>
#include <string.h>

#define APPEND_MAX_PARTS 1000 /* messages in one MULTIAPPEND */

static void append_done(struct imap_session *s)
{
    if (s->req.rc == ERR_NOTFOUND)
        return imap_done(s, "NO [TRYCREATE] Mailbox does not exist");
    if (s->req.rc != 0)
        return imap_done_rc(s, s->req.rc, "APPEND");
    /* RFC 3501 §6.3.11: appending to the selected mailbox shows up as EXISTS. */
    if (s->state == IS_SELECTED && s->req.mailbox.id == s->view.id)
        s->dirty = true;
    /* RFC 4315 §3: APPENDUID uidvalidity uid-set (one uid per message, ascending) */
    struct imap_seqset set;
    imap_seqset_init(&set);
    for (size_t i = 0; i < s->req.nuids2; i++)
        imap_seqset_add(&set, s->req.uids2[i], s->req.uids2[i]);
    imap_seqset_resolve(&set, 0);
    struct str uids = STR_INIT;
    imap_seqset_format(&set, &uids);
    imap_seqset_clear(&set);
    imap_done(s, "OK [APPENDUID %u %s] APPEND completed", s->req.mailbox.uidvalidity,
              uids.len ? str_cstr(&uids) : "0");
    str_clear(&uids);
}

/* The messages are all there (CATENATE's built): store them. */
static void submit(struct imap_session *s)
{
    for (size_t k = 0; k < s->cmd.nparts; k++)
        if (s->cmd.parts[k].len == 0)
            return imap_done(s, "NO Cannot append an empty message");
    s->req.name2 = str_cstr(&s->cmd.name2);
    s->req.parts = s->cmd.parts;
    s->req.nparts = s->cmd.nparts;
    imap_request(s, IMAP_REQ_APPEND, append_done);
}

/* [flags] [date-time] (message | CATENATE (...)) at a[*i]; false after replying BAD. */
static bool parse_part(struct imap_session *s, const struct imap_arg *a, size_t n, size_t *i,
                       size_t max_parts)
{
    if (s->cmd.nparts == APPEND_MAX_PARTS) {
        imap_bad(s, "Too many messages in one APPEND");
        return false;
    }
    struct imap_append_part *p = &s->cmd.parts[s->cmd.nparts];
    struct str *flags = &s->cmd.part_flags[s->cmd.nparts];
    str_init(flags);
    s->cmd.nparts++;
    if (*i + 1 < n && a[*i].type == IMAP_ARG_LIST) {
        const char *err = "Invalid flags";
        if (!imap_flags_parse_args(&a[*i], 1, flags, &err)) {
            imap_bad(s, "%s", err);
            return false;
        }
        (*i)++;
    }
    int64_t date = 0; /* 0: the daemon uses the time of arrival */
    int tz = 0;       /* the date-time's zone, kept for FETCH INTERNALDATE */
    if (*i + 1 < n && a[*i].type == IMAP_ARG_STRING) {
        struct msg_date d;
        if (msg_date_parse_imap_datetime(a[*i].str, a[*i].len, &d) != 0) {
            imap_bad(s, "Invalid date-time");
            return false;
        }
        date = msg_date_to_unix(&d);
        tz = d.tz_min;
        if (date <= 0)
            date = 1;
        (*i)++;
    }
    if (*i + 1 < n && imap_arg_atom_eq(&a[*i], "CATENATE") && a[*i + 1].type == IMAP_ARG_LIST) {
        /* RFC 4469: built once the URLs are looked up (cmd_catenate.c) */
        if (!imap_catenate_parse(s, &a[*i + 1], s->cmd.nparts - 1, max_parts))
            return false;
        *i += 2;
        *p = (struct imap_append_part){NULL, 0, str_cstr(flags), date, tz};
        return true;
    }
    const char *msg;
    size_t len;
    const struct imap_arg *m = *i < n ? &a[*i] : NULL;
    if (m && *i + 1 < n && imap_arg_atom_eq(m, "UTF8") && s->utf8 &&
        a[*i + 1].type == IMAP_ARG_LIST && a[*i + 1].count == 1 &&
        a[*i + 1].list[0].type == IMAP_ARG_LITERAL) {
        /* RFC 6855 §4: a message with UTF-8 header fields, as UTF8 (literal8) */
        m = &a[*i + 1].list[0];
        (*i)++;
    }
    if (!m || !imap_arg_get_string(m, &msg, &len)) {
        imap_bad(s, "Invalid APPEND arguments");
        return false;
    }
    (*i)++;
    *p = (struct imap_append_part){msg, len, str_cstr(flags), date, tz};
    return true;
}

void imap_cmd_append(struct imap_session *s, const struct imap_cmd *cmd)
{
    const struct imap_arg *a = cmd->args;
    size_t n = cmd->nargs, i = 1;
    if (n < 2)
        return imap_bad(s, "APPEND needs a mailbox and a message");
    size_t most = n - 1 < APPEND_MAX_PARTS ? n - 1 : APPEND_MAX_PARTS;
    s->cmd.parts = xcalloc(most, sizeof *s->cmd.parts);
    s->cmd.part_flags = xcalloc(most, sizeof *s->cmd.part_flags);
    while (i < n)
        if (!parse_part(s, a, n, &i, most))
            return;
    if (!imap_arg_mailbox(s, &a[0], &s->cmd.name2))
        return;
    if (s->cmd.cat)
        return imap_catenate_run(s, submit);
    submit(s);
}
