/*
 * The AUTHORIZATION state (RFC 1939 §4, §7): USER/PASS, AUTH PLAIN (RFC 5034, RFC 4616),
 * STLS (RFC 2595) and CAPA (RFC 2449). The password check and opening the maildrop are the
 * daemon's (ops->auth, ops->maildrop_open), both asynchronous; the session waits for
 * pop3_session_auth_done and pop3_session_maildrop_done.
 */
#include "pop3/session_int.h"

#include "auth/sasl.h"
#include "core/log.h"
#include "core/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define R_PLAINTEXT "-ERR Plaintext authentication disallowed without TLS, use STLS"
#define R_AUTH_FAILED "-ERR [AUTH] Authentication failed"

void pop3_cmd_capa(struct pop3_session *s, const struct pop3_cmd *cmd)
{
    struct str out = STR_INIT;
    str_appends(&out, "+OK Capability list follows\r\n"
                      "TOP\r\n"
                      "UIDL\r\n"
                      "RESP-CODES\r\n"
                      "AUTH-RESP-CODE\r\n"
                      "PIPELINING\r\n");
    /* RFC 2449 §5: what AUTHORIZATION offers is announced in both states. */
    if (pop3_can_login(s))
        str_appends(&out, "USER\r\nSASL PLAIN\r\n");
    if (s->cfg.stls && !s->tls)
        str_appends(&out, "STLS\r\n");
    str_appends(&out, "IMPLEMENTATION Pigeon\r\n.\r\n");
    s->io->write(s->io_arg, out.ptr, out.len);
    str_clear(&out);
}

void pop3_cmd_stls(struct pop3_session *s, const struct pop3_cmd *cmd)
{
    if (s->tls)
        return pop3_reply_error(s, "-ERR TLS already active");
    if (!s->cfg.stls)
        return pop3_reply_error(s, "-ERR STLS not available");
    pop3_reply(s, "+OK Begin TLS negotiation");
    s->have_user = false;
    s->tls_pending = true;
    s->io->starttls(s->io_arg);
}

void pop3_cmd_user(struct pop3_session *s, const struct pop3_cmd *cmd)
{
    if (!pop3_can_login(s))
        return pop3_reply_error(s, R_PLAINTEXT);
    size_t n = cmd->arg.len < sizeof s->user - 1 ? cmd->arg.len : sizeof s->user - 1;
    memcpy(s->user, cmd->arg.p, n);
    s->user[n] = '\0';
    s->have_user = true;
    pop3_reply(s, "+OK Send your password");
}

/* Hands the credentials to the daemon; the session waits for pop3_session_auth_done. */
static void auth_check(struct pop3_session *s, const char *user, const char *pass)
{
    s->state = P3_AUTHORIZATION;
    s->have_user = false;
    s->waiting = true;
    s->ops->auth(s->ops_ctx, s, user, pass);
}

void pop3_cmd_pass(struct pop3_session *s, const struct pop3_cmd *cmd)
{
    if (!pop3_can_login(s))
        return pop3_reply_error(s, R_PLAINTEXT);
    if (!s->have_user)
        return pop3_reply_error(s, "-ERR Send USER first");
    char pass[POP3_LINE_MAX + 1];
    size_t n = cmd->arg.len < sizeof pass - 1 ? cmd->arg.len : sizeof pass - 1;
    memcpy(pass, cmd->arg.p, n);
    pass[n] = '\0';
    char user[sizeof s->user];
    memcpy(user, s->user, sizeof user);
    auth_check(s, user, pass);
    explicit_bzero(pass, sizeof pass);
    explicit_bzero(user, sizeof user);
}

/* A base64 PLAIN response (RFC 4616): "[authzid] NUL user NUL password". */
static void auth_plain(struct pop3_session *s, const char *b64, size_t len)
{
    struct sasl_creds c;
    s->state = P3_AUTHORIZATION;
    if (sasl_plain_decode(b64, len, &c) < 0) {
        sasl_creds_wipe(&c);
        return pop3_reply_error(s, "-ERR Invalid SASL PLAIN response");
    }
    /* RFC 4616 §2: an authzid other than the user itself would be proxy authorization. */
    if (c.authzid[0] && strcasecmp(c.authzid, c.user) != 0) {
        sasl_creds_wipe(&c);
        return pop3_reply_error(s, R_AUTH_FAILED);
    }
    auth_check(s, c.user, c.pass);
    sasl_creds_wipe(&c);
}

void pop3_cmd_auth(struct pop3_session *s, const struct pop3_cmd *cmd)
{
    if (!cmd->mechanism.len) {
        /* RFC 1734's "AUTH" without argument lists the mechanisms; some clients still ask. */
        if (!pop3_can_login(s))
            return pop3_reply(s, "+OK\r\n.");
        return pop3_reply(s, "+OK\r\nPLAIN\r\n.");
    }
    if (!slice_eq_ci(cmd->mechanism, "PLAIN"))
        return pop3_reply_error(s, "-ERR Unsupported authentication mechanism");
    if (!pop3_can_login(s))
        return pop3_reply_error(s, R_PLAINTEXT);
    if (cmd->initial.len) {
        bool empty = cmd->initial.len == 1 && cmd->initial.p[0] == '=';
        return auth_plain(s, empty ? "" : cmd->initial.p, empty ? 0 : cmd->initial.len);
    }
    s->state = P3_SASL;
    pop3_reply(s, "+ ");
}

void pop3_sasl_line(struct pop3_session *s, const char *line, size_t len)
{
    if (len == 1 && line[0] == '*') { /* RFC 5034 §4: the client cancels */
        s->state = P3_AUTHORIZATION;
        return pop3_reply_error(s, "-ERR Authentication cancelled");
    }
    auth_plain(s, line, len);
}

void pop3_session_auth_done(struct pop3_session *s, bool ok, const char *canonical_user)
{
    s->waiting = false;
    if (s->closing)
        return;
    if (!ok) {
        char u[128]; /* the shape fail2ban's filter expects: see smtp/session_auth.c */
        log_info("pop3 " LOG_ID " auth failed from %s user=%s", LOG_IDV(s->id), s->peer_addr,
                 log_sanitize(canonical_user, u, sizeof u));
        pop3_reply_error(s, R_AUTH_FAILED);
        return pop3_idle_check(s);
    }
    snprintf(s->user, sizeof s->user, "%s", canonical_user);
    log_info("pop3 " LOG_ID " auth ok user=%s", LOG_IDV(s->id), s->user);
    s->waiting = true;
    s->ops->maildrop_open(s->ops_ctx, s, s->user);
}

/* Copies the listing: message numbers are fixed from now on (RFC 1939 §5). */
static void maildrop_take(struct pop3_session *s, uint64_t uidvalidity, const struct pop3_msg *msgs,
                          size_t n)
{
    s->uidvalidity = uidvalidity;
    s->nmsgs = n;
    s->msgs = xcalloc(n ? n : 1, sizeof *s->msgs);
    s->deleted = xcalloc(n ? n : 1, sizeof *s->deleted);
    if (n)
        memcpy(s->msgs, msgs, n * sizeof *msgs);
    s->total_size = 0;
    for (size_t i = 0; i < n; i++)
        s->total_size += msgs[i].size;
    s->ndeleted = 0;
    s->deleted_size = 0;
}

void pop3_session_maildrop_done(struct pop3_session *s, enum pop3_maildrop_result result,
                                uint64_t uidvalidity, const struct pop3_msg *msgs, size_t n)
{
    s->waiting = false;
    if (result == POP3_MAILDROP_OK)
        s->maildrop_open = true; /* so that every way out unlocks it */
    if (s->closing) {
        pop3_maildrop_leave(s);
        return;
    }
    if (result == POP3_MAILDROP_IN_USE) {
        log_info("pop3 " LOG_ID " maildrop of %s in use", LOG_IDV(s->id), s->user);
        pop3_reply(s, "-ERR [IN-USE] Maildrop already in use by another session");
        return pop3_idle_check(s);
    }
    if (result != POP3_MAILDROP_OK) {
        pop3_reply(s, "-ERR [SYS/TEMP] Cannot open the maildrop, try again later");
        return pop3_idle_check(s);
    }
    maildrop_take(s, uidvalidity, msgs, n);
    s->state = P3_TRANSACTION;
    log_info("pop3 " LOG_ID " maildrop user=%s messages=%zu octets=%llu", LOG_IDV(s->id), s->user,
             n, (unsigned long long)s->total_size);
    pop3_reply(s, "+OK Logged in, maildrop has %zu message%s (%llu octets)", n, n == 1 ? "" : "s",
               (unsigned long long)s->total_size);
    pop3_idle_check(s);
}
