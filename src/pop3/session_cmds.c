/*
 * One handler per POP3 verb, chosen from a table that also says in which state the verb is
 * allowed (RFC 1939 §4-§6), and the TRANSACTION and UPDATE states' verbs themselves.
 */
#include "pop3/session_int.h"

#include "core/log.h"
#include "core/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { IN_AUTHORIZATION = 1, IN_TRANSACTION = 2, IN_ANY = 3 };

struct pop3_verb_handler {
    enum pop3_verb verb;
    unsigned states;
    void (*run)(struct pop3_session *s, const struct pop3_cmd *cmd);
};

static unsigned long long left_size(const struct pop3_session *s)
{
    return (unsigned long long)(s->total_size - s->deleted_size);
}

static size_t left_count(const struct pop3_session *s)
{
    return s->nmsgs - s->ndeleted;
}

/* Finds the message a command names; replies -ERR and returns false when there is none. */
static bool msg_lookup(struct pop3_session *s, const struct pop3_cmd *cmd, size_t *index_out)
{
    if (cmd->msg == 0 || cmd->msg > s->nmsgs) {
        pop3_reply_error(s, "-ERR No such message");
        return false;
    }
    if (s->deleted[cmd->msg - 1]) {
        pop3_reply_error(s, "-ERR Message %u is deleted", (unsigned)cmd->msg);
        return false;
    }
    *index_out = cmd->msg - 1;
    return true;
}

/* RFC 1939 §7 UIDL: 1 to 70 characters 0x21-0x7e, the same for a message in every session.
 * UIDVALIDITY never repeats for a mailbox name and uids never repeat inside one. */
static void uidl_of(const struct pop3_session *s, size_t i, char *out, size_t cap)
{
    snprintf(out, cap, "%llu.%llu", (unsigned long long)s->uidvalidity,
             (unsigned long long)s->msgs[i].uid);
}

static void cmd_stat(struct pop3_session *s, const struct pop3_cmd *cmd)
{
    pop3_reply(s, "+OK %zu %llu", left_count(s), left_size(s));
}

/* LIST and UIDL: one line for a message, or a multi-line listing of every undeleted one. */
static void list_or_uidl(struct pop3_session *s, const struct pop3_cmd *cmd, bool uidl)
{
    char uid[48];
    size_t i = 0;
    if (cmd->has_msg) {
        if (!msg_lookup(s, cmd, &i))
            return;
        if (uidl) {
            uidl_of(s, i, uid, sizeof uid);
            return pop3_reply(s, "+OK %zu %s", i + 1, uid);
        }
        return pop3_reply(s, "+OK %zu %llu", i + 1, (unsigned long long)s->msgs[i].size);
    }
    struct str out = STR_INIT;
    if (uidl)
        str_appends(&out, "+OK Unique-ID listing follows\r\n");
    else
        str_appendf(&out, "+OK %zu message%s (%llu octets)\r\n", left_count(s),
                    left_count(s) == 1 ? "" : "s", left_size(s));
    for (i = 0; i < s->nmsgs; i++) {
        if (s->deleted[i])
            continue;
        if (uidl) {
            uidl_of(s, i, uid, sizeof uid);
            str_appendf(&out, "%zu %s\r\n", i + 1, uid);
        } else {
            str_appendf(&out, "%zu %llu\r\n", i + 1, (unsigned long long)s->msgs[i].size);
        }
    }
    str_appends(&out, ".\r\n");
    s->io->write(s->io_arg, out.ptr, out.len);
    str_clear(&out);
}

static void cmd_list(struct pop3_session *s, const struct pop3_cmd *cmd)
{
    list_or_uidl(s, cmd, false);
}

static void cmd_uidl(struct pop3_session *s, const struct pop3_cmd *cmd)
{
    list_or_uidl(s, cmd, true);
}

/* RETR msg and TOP msg n. */
static void retrieve(struct pop3_session *s, const struct pop3_cmd *cmd, bool top)
{
    size_t i = 0;
    if (!msg_lookup(s, cmd, &i))
        return;
    if (s->ops->msg_open(s->ops_ctx, i) < 0) {
        log_warn("pop3 " LOG_ID " cannot read message %zu (uid %llu) of %s", LOG_IDV(s->id), i + 1,
                 (unsigned long long)s->msgs[i].uid, s->user);
        return pop3_reply(s, "-ERR [SYS/TEMP] Message %zu cannot be read now", i + 1);
    }
    if (top)
        pop3_reply(s, "+OK Top of message %zu follows", i + 1);
    else
        pop3_reply(s, "+OK %llu octets", (unsigned long long)s->msgs[i].size);
    pop3_send_begin(s, top, cmd->lines);
}

static void cmd_retr(struct pop3_session *s, const struct pop3_cmd *cmd)
{
    retrieve(s, cmd, false);
}

static void cmd_top(struct pop3_session *s, const struct pop3_cmd *cmd)
{
    retrieve(s, cmd, true);
}

/* RFC 1939 §5 DELE: marked now, removed only in the UPDATE state. */
static void cmd_dele(struct pop3_session *s, const struct pop3_cmd *cmd)
{
    size_t i = 0;
    if (!msg_lookup(s, cmd, &i))
        return;
    s->deleted[i] = true;
    s->ndeleted++;
    s->deleted_size += s->msgs[i].size;
    pop3_reply(s, "+OK Message %zu deleted", i + 1);
}

static void cmd_rset(struct pop3_session *s, const struct pop3_cmd *cmd)
{
    memset(s->deleted, 0, s->nmsgs * sizeof *s->deleted);
    s->ndeleted = 0;
    s->deleted_size = 0;
    pop3_reply(s, "+OK Maildrop has %zu message%s (%llu octets)", s->nmsgs,
               s->nmsgs == 1 ? "" : "s", left_size(s));
}

static void cmd_noop(struct pop3_session *s, const struct pop3_cmd *cmd)
{
    pop3_reply(s, "+OK");
}

static void signing_off(struct pop3_session *s)
{
    size_t left = left_count(s);
    if (left == 0)
        pop3_reply(s, "+OK Pigeon POP3 server signing off (maildrop empty)");
    else
        pop3_reply(s, "+OK Pigeon POP3 server signing off (%zu message%s left)", left,
                   left == 1 ? "" : "s");
}

/* RFC 1939 §6: QUIT in TRANSACTION enters UPDATE and removes the marked messages. */
static void cmd_quit(struct pop3_session *s, const struct pop3_cmd *cmd)
{
    if (s->state != P3_TRANSACTION) {
        pop3_reply(s, "+OK Pigeon POP3 server signing off");
        return pop3_close(s);
    }
    s->state = P3_UPDATE;
    if (s->ndeleted == 0) {
        pop3_maildrop_leave(s);
        signing_off(s);
        return pop3_close(s);
    }
    uint64_t *uids = xcalloc(s->ndeleted, sizeof *uids);
    size_t n = 0;
    for (size_t i = 0; i < s->nmsgs; i++)
        if (s->deleted[i])
            uids[n++] = s->msgs[i].uid;
    s->waiting = true;
    s->ops->update(s->ops_ctx, s, uids, n);
    free(uids);
}

void pop3_session_update_done(struct pop3_session *s, int rc)
{
    s->waiting = false;
    pop3_maildrop_leave(s);
    if (rc == 0)
        log_info("pop3 " LOG_ID " removed %zu messages of %s", LOG_IDV(s->id), s->ndeleted,
                 s->user);
    else
        log_warn("pop3 " LOG_ID " removing %zu messages of %s failed", LOG_IDV(s->id), s->ndeleted,
                 s->user);
    if (s->closing)
        return;
    if (rc == 0)
        signing_off(s);
    else
        pop3_reply(s, "-ERR [SYS/TEMP] Some deleted messages not removed");
    pop3_close(s);
}

static const struct pop3_verb_handler handlers[] = {
    {POP3_USER, IN_AUTHORIZATION, pop3_cmd_user}, {POP3_PASS, IN_AUTHORIZATION, pop3_cmd_pass},
    {POP3_AUTH, IN_AUTHORIZATION, pop3_cmd_auth}, {POP3_STLS, IN_AUTHORIZATION, pop3_cmd_stls},
    {POP3_CAPA, IN_ANY, pop3_cmd_capa},           {POP3_QUIT, IN_ANY, cmd_quit},
    {POP3_STAT, IN_TRANSACTION, cmd_stat},        {POP3_LIST, IN_TRANSACTION, cmd_list},
    {POP3_RETR, IN_TRANSACTION, cmd_retr},        {POP3_DELE, IN_TRANSACTION, cmd_dele},
    {POP3_NOOP, IN_TRANSACTION, cmd_noop},        {POP3_RSET, IN_TRANSACTION, cmd_rset},
    {POP3_TOP, IN_TRANSACTION, cmd_top},          {POP3_UIDL, IN_TRANSACTION, cmd_uidl},
};

void pop3_cmd_dispatch(struct pop3_session *s, const char *line, size_t len)
{
    struct pop3_cmd cmd;
    if (pop3_cmd_parse(line, len, &cmd) < 0)
        return pop3_reply_error(s, "%s", cmd.reply);
    unsigned state = s->state == P3_TRANSACTION ? IN_TRANSACTION : IN_AUTHORIZATION;
    for (size_t i = 0; i < sizeof handlers / sizeof handlers[0]; i++) {
        if (handlers[i].verb != cmd.verb)
            continue;
        if (!(handlers[i].states & state))
            return pop3_reply_error(s, state == IN_TRANSACTION ? "-ERR Already logged in"
                                                               : "-ERR Log in first");
        handlers[i].run(s, &cmd);
        return pop3_idle_check(s);
    }
    pop3_reply_error(s, "-ERR Unknown command");
}
