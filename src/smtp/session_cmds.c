/*
 * One check-and-run handler per SMTP verb, chosen from a table (as OpenSMTPD's
 * smtp_session.c separates check from proceed). The table's columns say in which phase of
 * the session each verb may come (RFC 5321 §4.1.4 orders the commands) and, where it may
 * not, the 503 reply (§4.3.2); a handler only runs in a phase its row allows.
 */
#include "smtp/session_int.h"

#include "core/log.h"
#include "core/xmalloc.h"

#include <stdio.h>
#include <string.h>

/* Where in the session a command arrives (commands are read in these states only). */
enum smtp_phase {
    PH_CONNECTED, /* before HELO/EHLO */
    PH_READY,     /* greeted, no transaction */
    PH_MAIL,      /* MAIL accepted, no recipient yet */
    PH_RCPT,      /* recipients accepted */
    PH_CHUNKS,    /* between BDAT chunks (RFC 3030 §2: only BDAT, RSET, NOOP, QUIT...) */
    PH_COUNT
};

struct smtp_verb_handler {
    enum smtp_verb verb;
    const char *refuse[PH_COUNT]; /* NULL: allowed in that phase; else the reply */
    void (*run)(struct smtp_session *s, const struct smtp_cmd *cmd);
};

static enum smtp_phase session_phase(const struct smtp_session *s)
{
    switch (s->state) {
    case SS_CONNECTED: return PH_CONNECTED;
    case SS_READY: return PH_READY;
    case SS_MAIL: return PH_MAIL;
    default: return s->bdat_active ? PH_CHUNKS : PH_RCPT; /* SS_RCPT */
    }
}

static void cmd_helo(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    smtp_txn_reset(s);
    size_t n = cmd->arg.len < sizeof s->helo - 1 ? cmd->arg.len : sizeof s->helo - 1;
    memcpy(s->helo, cmd->arg.p, n);
    s->helo[n] = '\0';
    for (size_t i = 0; i < n; i++) /* it goes into a Received: header */
        if ((unsigned char)s->helo[i] < 0x21 || s->helo[i] == 0x7f || s->helo[i] == '(' ||
            s->helo[i] == ')')
            s->helo[i] = '_';
    s->esmtp = cmd->verb == SMTP_EHLO;
    s->state = SS_READY;
    if (!s->esmtp) {
        smtp_reply(s, "250 %s", s->cfg.hostname);
        return;
    }
    smtp_reply(s, "250-%s Hello %s [%s]", s->cfg.hostname, s->helo, s->peer_addr);
    smtp_reply(s, "250-PIPELINING");
    smtp_reply(s, "250-SIZE %llu", (unsigned long long)s->cfg.max_message_size);
    if (s->cfg.starttls && !s->tls)
        smtp_reply(s, "250-STARTTLS");
    if (s->cfg.auth && s->tls && !s->authenticated)
        smtp_reply(s, "250-AUTH PLAIN LOGIN");
    /* RFC 4468 §3.1: BURL before AUTH (no URL scheme yet), "imap" once authenticated: URLs
     * of this server's own IMAP store, URLAUTH-authorized for submission by the user. */
    if (s->cfg.submission && s->ops->burl_fetch && (s->authenticated || (s->cfg.auth && s->tls)))
        smtp_reply(s, s->authenticated ? "250-BURL imap" : "250-BURL");
    smtp_reply(s, "250-ENHANCEDSTATUSCODES");
    smtp_reply(s, "250-8BITMIME");
    smtp_reply(s, "250-SMTPUTF8");
    if (s->tls) /* RFC 8689 §2: only a TLS session can carry REQUIRETLS */
        smtp_reply(s, "250-REQUIRETLS");
    smtp_reply(s, "250 CHUNKING");
}

static void cmd_mail(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    if (s->cfg.submission && !s->authenticated)
        return smtp_reply_error(s, "530 5.7.0 Authentication required");
    if (!s->esmtp && cmd->nparams)
        return smtp_reply_error(s, "555 5.5.4 MAIL parameters need EHLO");
    if (cmd->body == SMTP_BODY_BINARYMIME)
        return smtp_reply_error(s, "555 5.5.4 BODY=BINARYMIME is not supported");
    if (cmd->size > s->cfg.max_message_size)
        return smtp_reply_error(s, "552 5.3.4 Message size exceeds fixed maximum message size");
    if (cmd->requiretls && !s->tls) /* RFC 8689 §2: only in a session that employs TLS */
        return smtp_reply_error(s, "530 5.7.0 REQUIRETLS needs TLS: send STARTTLS first");
    smtp_txn_reset(s);
    mail_addr_format(&cmd->addr, s->txn.from, sizeof s->txn.from);
    s->txn.smtputf8 = cmd->smtputf8;
    s->txn.requiretls = cmd->requiretls;
    log_info("smtp " LOG_ID " mail from=<%s>%s%s", LOG_IDV(s->id), s->txn.from,
             cmd->smtputf8 ? " smtputf8" : "", cmd->requiretls ? " requiretls" : "");
    if (s->cfg.check_sender && s->ops->mail_check && !s->authenticated) {
        s->waiting = true;
        s->ops->mail_check(s->ops_ctx, s, s->txn.from, s->helo);
        return;
    }
    smtp_session_mail_done(s, NULL, NULL);
}

void smtp_session_mail_done(struct smtp_session *s, const char *reject, const char *trace)
{
    s->waiting = false;
    if (reject) {
        log_info("smtp " LOG_ID " reject mail from=<%s>: %s", LOG_IDV(s->id), s->txn.from, reject);
        smtp_txn_reset(s);
        return smtp_reply_error(s, "%s", reject);
    }
    str_reset(&s->trace);
    if (trace)
        str_appends(&s->trace, trace);
    s->state = SS_MAIL;
    smtp_reply(s, "250 2.1.0 Sender <%s> OK", s->txn.from);
}

static void rcpt_add(struct smtp_session *s, const struct smtp_rcpt *r)
{
    if (s->txn.nrcpt == s->rcpt_cap) {
        s->rcpt_cap = s->rcpt_cap ? s->rcpt_cap * 2 : 4;
        s->txn.rcpts = xrealloc(s->txn.rcpts, s->rcpt_cap * sizeof *s->txn.rcpts);
    }
    s->txn.rcpts[s->txn.nrcpt++] = *r;
}

static void cmd_rcpt(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    if (s->txn.nrcpt >= s->cfg.max_recipients)
        return smtp_reply(s, "452 4.5.3 Too many recipients");
    char addr[MAIL_PATH_MAX + 1];
    mail_addr_format(&cmd->addr, addr, sizeof addr);
    struct smtp_rcpt r;
    memset(&r, 0, sizeof r);
    snprintf(r.addr, sizeof r.addr, "%s", addr);
    enum smtp_rcpt_verdict v = s->ops->rcpt_check(s->ops_ctx, s, &cmd->addr, s->authenticated, &r);
    switch (v) {
    case SMTP_RCPT_ACCEPT:
        rcpt_add(s, &r);
        s->state = SS_RCPT;
        log_info("smtp " LOG_ID " rcpt to=<%s> %s", LOG_IDV(s->id), r.addr,
                 r.kind == SMTP_RCPT_LOCAL    ? "local"
                 : r.kind == SMTP_RCPT_ROUTED ? "routed"
                                              : "remote");
        return smtp_reply(s, "250 2.1.5 Recipient <%s> OK", addr);
    case SMTP_RCPT_NO_SUCH_USER:
        log_info("smtp " LOG_ID " reject rcpt to=<%s>: unknown user", LOG_IDV(s->id), addr);
        return smtp_reply_error(s, "550 5.1.1 <%s>: Recipient address rejected: User unknown",
                                addr);
    case SMTP_RCPT_RELAY_DENIED:
        log_info("smtp " LOG_ID " reject rcpt to=<%s>: relay denied", LOG_IDV(s->id), addr);
        return smtp_reply_error(s, "554 5.7.1 <%s>: Relay access denied", addr);
    case SMTP_RCPT_TEMPFAIL:
        return smtp_reply(s, "451 4.3.0 <%s>: Temporary lookup failure", addr);
    case SMTP_RCPT_OVER_QUOTA:
        log_info("smtp " LOG_ID " defer rcpt to=<%s>: over quota", LOG_IDV(s->id), addr);
        return smtp_reply(s, "452 4.2.2 <%s>: Mailbox full, try again later", addr);
    }
}

static void cmd_data(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    smtp_content_begin(s);
    s->state = SS_DATA;
    smtp_reply(s, "354 End data with <CR><LF>.<CR><LF>");
}

static void cmd_rset(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    smtp_txn_reset(s);
    if (s->state != SS_CONNECTED)
        s->state = SS_READY;
    smtp_reply(s, "250 2.0.0 Ok");
}

static void cmd_noop(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    smtp_reply(s, "250 2.0.0 Ok");
}

static void cmd_quit(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    smtp_reply(s, "221 2.0.0 %s closing connection", s->cfg.hostname);
    smtp_close(s);
}

static void cmd_help(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    smtp_reply(s,
               "214-2.0.0 Commands: HELO EHLO MAIL RCPT DATA BDAT RSET NOOP QUIT HELP VRFY%s%s%s",
               s->cfg.starttls ? " STARTTLS" : "", s->cfg.auth ? " AUTH" : "",
               s->cfg.submission && s->ops->burl_fetch ? " BURL" : "");
    smtp_reply(s, "214 2.0.0 See RFC 5321");
}

static void cmd_vrfy(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    /* RFC 5321 §3.5.3: a server that will not verify answers 252. */
    smtp_reply(s, "252 2.5.2 Cannot VRFY user, but will accept message and attempt delivery");
}

static void cmd_expn(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    smtp_reply_error(s, "502 5.5.1 EXPN not available");
}

static void cmd_starttls(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    if (!s->cfg.starttls)
        return smtp_reply_error(s, "502 5.5.1 STARTTLS not available");
    if (s->tls)
        return smtp_reply_error(s, "503 5.5.1 Error: TLS already active");
    smtp_reply(s, "220 2.0.0 Ready to start TLS");
    /* RFC 3207 §4.2: forget everything learned before TLS; the client must EHLO again. */
    smtp_txn_reset(s);
    s->state = SS_CONNECTED;
    s->esmtp = false;
    s->helo[0] = '\0';
    s->tls_pending = true;
    s->io->starttls(s->io_arg);
}

static void cmd_bdat(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    smtp_bdat_begin(s, cmd);
}

static void cmd_burl(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    smtp_burl(s, cmd);
}

static void cmd_auth(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    smtp_auth_begin(s, cmd);
}

#define NO_HELO "503 5.5.1 Error: send HELO/EHLO first"
#define NESTED "503 5.5.1 Error: nested MAIL command"
#define NO_MAIL "503 5.5.1 Error: need MAIL command"
#define NO_RCPT "503 5.5.1 Error: need RCPT command"
#define IN_TXN_TLS "503 5.5.1 Error: STARTTLS inside a transaction"
#define IN_TXN_AUTH "503 5.5.1 Error: AUTH not allowed during a transaction"
#define ANY {NULL, NULL, NULL, NULL, NULL}

static const struct smtp_verb_handler handlers[] = {
    /* verb          CONNECTED  READY   MAIL         RCPT         between BDAT chunks */
    {SMTP_HELO, ANY, cmd_helo},
    {SMTP_EHLO, ANY, cmd_helo},
    {SMTP_MAIL, {NO_HELO, NULL, NESTED, NESTED, NESTED}, cmd_mail},
    {SMTP_RCPT, {NO_MAIL, NO_MAIL, NULL, NULL, "503 5.5.1 Error: RCPT after BDAT"}, cmd_rcpt},
    {SMTP_DATA, {NO_MAIL, NO_MAIL, NO_RCPT, NULL, "503 5.5.1 Error: DATA after BDAT"}, cmd_data},
    {SMTP_BDAT, {NO_MAIL, NO_MAIL, NO_RCPT, NULL, NULL}, cmd_bdat},
    {SMTP_BURL, {NO_MAIL, NO_MAIL, NO_RCPT, NULL, NULL}, cmd_burl},
    {SMTP_RSET, ANY, cmd_rset},
    {SMTP_NOOP, ANY, cmd_noop},
    {SMTP_QUIT, ANY, cmd_quit},
    {SMTP_HELP, ANY, cmd_help},
    {SMTP_VRFY, ANY, cmd_vrfy},
    {SMTP_EXPN, ANY, cmd_expn},
    {SMTP_STARTTLS, {NULL, NULL, IN_TXN_TLS, IN_TXN_TLS, IN_TXN_TLS}, cmd_starttls},
    {SMTP_AUTH, {NO_HELO, NULL, IN_TXN_AUTH, IN_TXN_AUTH, IN_TXN_AUTH}, cmd_auth},
};

/* A verb in a phase its row does not allow: 503. A refused BDAT still has its chunk on the
 * wire (RFC 3030 §2): it is read and dropped. */
static void refuse_now(struct smtp_session *s, const struct smtp_cmd *cmd, const char *reply)
{
    if (cmd->verb == SMTP_BDAT && cmd->chunk_size)
        return smtp_bdat_discard(s, cmd->chunk_size, reply);
    smtp_reply_error(s, "%s", reply);
}

void smtp_cmd_dispatch(struct smtp_session *s, const char *line, size_t len)
{
    struct smtp_cmd cmd;
    /* AUTH's responses (RFC 4954 §4) and BURL's URLs (an IMAP URL with its token and a long
     * mailbox name passes 512) may be longer than other commands */
    bool is_long =
        len >= 5 && (strncasecmp(line, "AUTH ", 5) == 0 || strncasecmp(line, "BURL ", 5) == 0);
    if (len > SMTP_CMD_LINE_MAX && !is_long)
        return smtp_reply_error(s, "500 5.5.2 Line too long");
    unsigned flags = s->txn.smtputf8 ? SMTP_PARSE_UTF8 : 0;
    if (smtp_cmd_parse(line, len, flags, &cmd) < 0) {
        /* RFC 3030 §2: a refused BDAT still has its chunk on the wire; read and drop it. */
        if (cmd.verb == SMTP_BDAT && cmd.chunk_size)
            return smtp_bdat_discard(s, cmd.chunk_size, cmd.reply);
        return smtp_reply_error(s, "%s", cmd.reply);
    }
    for (size_t i = 0; i < sizeof handlers / sizeof handlers[0]; i++) {
        if (handlers[i].verb != cmd.verb)
            continue;
        const char *no = handlers[i].refuse[session_phase(s)];
        if (no)
            return refuse_now(s, &cmd, no);
        handlers[i].run(s, &cmd);
        return;
    }
    smtp_reply_error(s, "500 5.5.2 Command not recognized");
}
