/*
 * cmd_auth — the not-authenticated state (RFC 3501 §6.2): STARTTLS, LOGIN and AUTHENTICATE
 * PLAIN (RFC 4616, with the SASL-IR initial response of RFC 4959). Passwords are accepted only
 * over TLS unless the configuration allows plain text for this client (LOGINDISABLED).
 */
#include "imap/search_int.h"

#include "auth/sasl.h"
#include "core/log.h"

#include <stdio.h>
#include <string.h>

void imap_cmd_starttls(struct imap_session *s, const struct imap_cmd *cmd)
{
    if (cmd->nargs)
        return imap_bad(s, "STARTTLS takes no arguments");
    if (s->tls)
        return imap_bad(s, "TLS is already active");
    if (!s->cfg.starttls)
        return imap_bad(s, "STARTTLS is not available");
    imap_done(s, "OK Begin TLS negotiation now");
    s->tls_pending = true;
    s->io->starttls(s->io_arg);
}

static bool login_allowed(struct imap_session *s)
{
    if (imap_can_login(s))
        return true;
    imap_done(s, "NO [PRIVACYREQUIRED] Plaintext authentication disallowed, use STARTTLS");
    return false;
}

static void start_auth(struct imap_session *s, const char *user, const char *pass)
{
    s->waiting = true;
    s->ops->auth(s->ops_ctx, s, user, pass);
}

void imap_cmd_login(struct imap_session *s, const struct imap_cmd *cmd)
{
    const char *user, *pass;
    size_t ulen, plen;
    if (cmd->nargs != 2 || !imap_arg_get_astring(&cmd->args[0], &user, &ulen) ||
        !imap_arg_get_astring(&cmd->args[1], &pass, &plen))
        return imap_bad(s, "LOGIN needs a user name and a password");
    if (!login_allowed(s))
        return;
    if (ulen == 0 || plen == 0 || ulen > 255 || plen > 255 || memchr(user, 0, ulen) ||
        memchr(pass, 0, plen))
        return imap_done(s, "NO [AUTHENTICATIONFAILED] Authentication failed");
    start_auth(s, user, pass);
}

static void sasl_plain(struct imap_session *s, const char *b64, size_t len)
{
    struct sasl_creds c;
    if (sasl_plain_decode(b64, len, &c) != 0)
        return imap_bad(s, "Invalid SASL PLAIN response");
    if (c.authzid[0] && strcmp(c.authzid, c.user) != 0) {
        sasl_creds_wipe(&c);
        return imap_done(s, "NO [AUTHORIZATIONFAILED] Cannot act as another user");
    }
    start_auth(s, c.user, c.pass);
    sasl_creds_wipe(&c);
}

void imap_cmd_authenticate(struct imap_session *s, const struct imap_cmd *cmd)
{
    if (cmd->nargs < 1 || cmd->nargs > 2 || cmd->args[0].type != IMAP_ARG_ATOM)
        return imap_bad(s, "AUTHENTICATE needs a mechanism");
    if (!ascii_eq_ci(cmd->args[0].str, "PLAIN"))
        return imap_done(s, "NO [CANNOT] Unsupported authentication mechanism");
    if (!login_allowed(s))
        return;
    if (cmd->nargs == 2) { /* RFC 4959: the initial response; "=" stands for an empty one */
        const char *ir;
        size_t n;
        if (!imap_arg_get_astring(&cmd->args[1], &ir, &n))
            return imap_bad(s, "Invalid initial response");
        return sasl_plain(s, ir, n == 1 && ir[0] == '=' ? 0 : n);
    }
    imap_writes(s, "+ \r\n");
    s->mode = IM_SASL;
    imap_parser_expect_line(s->parser);
}

void imap_sasl_line(struct imap_session *s, const char *line, size_t len)
{
    s->mode = IM_COMMAND;
    if (len == 1 && line[0] == '*')
        return imap_bad(s, "Authentication cancelled"); /* RFC 3501 §6.2.2 */
    sasl_plain(s, line, len);
}

void imap_session_auth_done(struct imap_session *s, enum imap_auth_result r,
                            const char *canonical_user)
{
    s->waiting = false;
    if (s->closing)
        return;
    switch (r) {
    case IMAP_AUTH_OK:
        snprintf(s->user, sizeof s->user, "%s", canonical_user);
        s->state = IS_AUTH;
        log_info("imap " LOG_ID " login %s from %s", LOG_IDV(s->id), s->user, s->peer_addr);
        str_reset(&s->out);
        imap_capabilities(s, &s->out);
        return imap_done(s, "OK [CAPABILITY %s] Logged in", str_cstr(&s->out));
    case IMAP_AUTH_FAILED: {
        char u[128]; /* the shape fail2ban's filter expects: see smtp/session_auth.c */
        log_info("imap " LOG_ID " auth failed from %s user=%s", LOG_IDV(s->id), s->peer_addr,
                 log_sanitize(canonical_user, u, sizeof u));
        return imap_done(s, "NO [AUTHENTICATIONFAILED] Authentication failed");
    }
    case IMAP_AUTH_LIMIT:
        return imap_done(s, "NO [LIMIT] Too many connections for this user");
    case IMAP_AUTH_TEMPFAIL:
        return imap_done(s, "NO [UNAVAILABLE] Temporary failure, try again later");
    }
}

/*
 * RFC 8437: back to the not-authenticated state as if newly connected — the mailbox closed
 * without expunging, the ENABLEd extensions, NOTIFY, updating searches and "$" forgotten — while
 * TLS and COMPRESS stay on.
 */
void imap_cmd_unauthenticate(struct imap_session *s, const struct imap_cmd *cmd)
{
    if (cmd->nargs)
        return imap_bad(s, "UNAUTHENTICATE takes no arguments");
    imap_unselect(s);
    if (s->notify)
        s->ops->notify_all(s->ops_ctx, false);
    imap_notify_free(s);
    imap_search_save(s, NULL, 0);
    s->condstore = s->qresync = s->utf8 = s->rev2 = false;
    s->dirty = false;
    if (s->ops->logout)
        s->ops->logout(s->ops_ctx);
    log_info("imap " LOG_ID " logout %s (UNAUTHENTICATE)", LOG_IDV(s->id), s->user);
    explicit_bzero(s->user, sizeof s->user);
    s->state = IS_NOT_AUTH;
    imap_done(s, "OK Authentication state reset");
}
