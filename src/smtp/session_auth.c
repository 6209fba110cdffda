/*
 * SMTP AUTH (RFC 4954) with the PLAIN (RFC 4616) and LOGIN mechanisms, offered only over TLS.
 * The password check itself is the daemon's (ops->auth_check), asynchronous because hashing
 * is slow; the session waits for smtp_session_auth_done.
 */
#include "smtp/session_int.h"

#include "auth/sasl.h"
#include "core/log.h"

#include <stdio.h>
#include <string.h>

static void auth_check(struct smtp_session *s, const char *user, const char *pass)
{
    s->state = SS_READY;
    s->auth_mech = AUTH_NONE;
    s->waiting = true;
    s->ops->auth_check(s->ops_ctx, s, user, pass);
}

static void auth_plain(struct smtp_session *s, const char *b64, size_t len)
{
    struct sasl_creds c;
    if (sasl_plain_decode(b64, len, &c) < 0) {
        s->state = SS_READY;
        s->auth_mech = AUTH_NONE;
        sasl_creds_wipe(&c);
        return smtp_reply_error(s, "501 5.5.2 Invalid AUTH PLAIN response");
    }
    /* RFC 4616 §2: an authzid other than the user itself would be proxy authorization. */
    if (c.authzid[0] && strcasecmp(c.authzid, c.user) != 0) {
        s->state = SS_READY;
        s->auth_mech = AUTH_NONE;
        sasl_creds_wipe(&c);
        return smtp_reply_error(s, "535 5.7.8 Authentication credentials invalid");
    }
    auth_check(s, c.user, c.pass);
    sasl_creds_wipe(&c);
}

void smtp_auth_begin(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    if (!s->cfg.auth)
        return smtp_reply_error(s, "503 5.5.1 Error: authentication not enabled");
    if (!s->tls)
        return smtp_reply_error(
            s, "538 5.7.11 Encryption required for requested authentication mechanism");
    if (s->authenticated)
        return smtp_reply_error(s, "503 5.5.1 Error: already authenticated");
    bool has_ir = cmd->initial.len > 0;
    bool empty_ir = cmd->initial.len == 1 && cmd->initial.p[0] == '=';
    if (slice_eq_ci(cmd->mechanism, "PLAIN")) {
        s->auth_mech = AUTH_PLAIN;
        if (has_ir)
            return auth_plain(s, empty_ir ? "" : cmd->initial.p, empty_ir ? 0 : cmd->initial.len);
        s->state = SS_AUTH;
        return smtp_reply(s, "334 ");
    }
    if (slice_eq_ci(cmd->mechanism, "LOGIN")) {
        s->auth_mech = AUTH_LOGIN;
        s->auth_login_user[0] = '\0';
        s->state = SS_AUTH;
        if (has_ir && !empty_ir) {
            if (sasl_field_decode(cmd->initial.p, cmd->initial.len, s->auth_login_user,
                                  sizeof s->auth_login_user) < 0) {
                s->state = SS_READY;
                return smtp_reply_error(s, "501 5.5.2 Invalid AUTH LOGIN response");
            }
            return smtp_reply(s, "334 UGFzc3dvcmQ6"); /* "Password:" */
        }
        return smtp_reply(s, "334 VXNlcm5hbWU6"); /* "Username:" */
    }
    smtp_reply_error(s, "504 5.5.4 Unrecognized authentication type");
}

void smtp_auth_line(struct smtp_session *s, const char *line, size_t len)
{
    if (len == 1 && line[0] == '*') { /* RFC 4954 §4: the client cancels */
        s->state = SS_READY;
        s->auth_mech = AUTH_NONE;
        return smtp_reply_error(s, "501 5.7.0 Authentication aborted");
    }
    if (s->auth_mech == AUTH_PLAIN)
        return auth_plain(s, line, len);
    if (!s->auth_login_user[0]) {
        if (sasl_field_decode(line, len, s->auth_login_user, sizeof s->auth_login_user) < 0 ||
            !s->auth_login_user[0]) {
            s->state = SS_READY;
            s->auth_mech = AUTH_NONE;
            return smtp_reply_error(s, "501 5.5.2 Invalid AUTH LOGIN response");
        }
        return smtp_reply(s, "334 UGFzc3dvcmQ6");
    }
    char pass[SASL_FIELD_MAX + 1];
    if (sasl_field_decode(line, len, pass, sizeof pass) < 0) {
        s->state = SS_READY;
        s->auth_mech = AUTH_NONE;
        explicit_bzero(s->auth_login_user, sizeof s->auth_login_user);
        return smtp_reply_error(s, "501 5.5.2 Invalid AUTH LOGIN response");
    }
    char user[sizeof s->auth_login_user];
    memcpy(user, s->auth_login_user, sizeof user);
    explicit_bzero(s->auth_login_user, sizeof s->auth_login_user);
    auth_check(s, user, pass);
    explicit_bzero(pass, sizeof pass);
}

void smtp_session_auth_done(struct smtp_session *s, bool ok, const char *canonical_user)
{
    s->waiting = false;
    if (!ok) {
        /* One fixed shape for fail2ban (etc/fail2ban/filter.d/pigeon.conf); the client's
         * text comes last, after the address, so it cannot forge one. */
        char u[128];
        log_info("smtp " LOG_ID " auth failed from %s user=%s", LOG_IDV(s->id), s->peer_addr,
                 log_sanitize(canonical_user, u, sizeof u));
        return smtp_reply_error(s, "535 5.7.8 Authentication credentials invalid");
    }
    s->authenticated = true;
    snprintf(s->auth_user, sizeof s->auth_user, "%s", canonical_user);
    log_info("smtp " LOG_ID " auth ok user=%s", LOG_IDV(s->id), s->auth_user);
    smtp_reply(s, "235 2.7.0 Authentication successful");
}
