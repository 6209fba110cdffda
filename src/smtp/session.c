#include "smtp/session_int.h"

#include "core/log.h"
#include "core/xmalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct smtp_session *smtp_session_new(const struct smtp_server_config *cfg,
                                      const struct smtp_io *io, void *io_arg,
                                      const struct smtp_session_ops *ops, void *ops_ctx,
                                      const struct session_peer *peer, uint64_t id)
{
    struct smtp_session *s = xcalloc(1, sizeof *s);
    s->cfg = *cfg;
    session_base_init(&s->base, "smtp", peer, id, io->write, io_arg, cfg->max_errors);
    s->io = io;
    s->ops = ops;
    s->ops_ctx = ops_ctx;
    s->state = SS_CONNECTED;
    str_init(&s->line);
    str_init(&s->txn.body);
    str_init(&s->trace);
    return s;
}

void smtp_session_free(struct smtp_session *s)
{
    if (!s)
        return;
    smtp_txn_reset(s);
    str_clear(&s->trace);
    free(s->txn.rcpts);
    str_clear(&s->line);
    explicit_bzero(s->auth_login_user, sizeof s->auth_login_user);
    free(s);
}

uint64_t smtp_session_id(const struct smtp_session *s)
{
    return s->id;
}

static void reply_v(struct smtp_session *s, const char *fmt, va_list ap)
{
    char buf[1024];
    session_base_vreply(&s->base, buf, sizeof buf, fmt, ap);
}

void smtp_reply(struct smtp_session *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    reply_v(s, fmt, ap);
    va_end(ap);
}

void smtp_reply_error(struct smtp_session *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    reply_v(s, fmt, ap);
    va_end(ap);
    if (session_base_error(&s->base)) {
        smtp_reply(s, "421 4.7.0 %s Error: too many errors", s->cfg.hostname);
        smtp_close(s);
    }
}

void smtp_close(struct smtp_session *s)
{
    if (s->closing)
        return;
    s->closing = true;
    s->io->close(s->io_arg);
}

void smtp_session_start(struct smtp_session *s)
{
    session_base_log_connect(&s->base);
    smtp_reply(s, "220 %s ESMTP Pigeon", s->cfg.hostname);
}

void smtp_session_refuse(struct smtp_session *s, const char *reply)
{
    session_base_log_refused(&s->base, reply);
    smtp_reply(s, "%s", reply);
    smtp_close(s);
}

void smtp_txn_reset(struct smtp_session *s)
{
    str_clear(&s->txn.body);
    str_reset(&s->trace);
    s->txn.nrcpt = 0;
    s->txn.from[0] = '\0';
    s->txn.smtputf8 = false;
    s->txn.requiretls = false;
    s->bdat_active = false;
    s->bdat_last = false;
    s->bdat_reject = NULL;
}

void smtp_txn_finished(struct smtp_session *s)
{
    smtp_txn_reset(s);
    s->state = SS_READY;
    if (s->shutdown) {
        smtp_reply(s, "421 4.3.2 %s Service shutting down", s->cfg.hostname);
        smtp_close(s);
    }
}

/* Takes one line from the input (or buffers a partial one). Returns bytes used. */
static size_t feed_line(struct smtp_session *s, const char *p, size_t n)
{
    size_t max = SMTP_AUTH_LINE_MAX; /* commands are held to 510 in dispatch */
    const char *lf = memchr(p, '\n', n);
    size_t seg = lf ? (size_t)(lf - p) : n;
    if (s->line.len + seg > max)
        s->line_overflow = true;
    else
        str_append(&s->line, p, seg);
    if (!lf)
        return n;
    size_t len = s->line.len;
    if (len && s->line.ptr[len - 1] == '\r')
        len--;
    bool overflow = s->line_overflow;
    s->line_overflow = false;
    if (overflow) {
        smtp_reply_error(s, "500 5.5.2 Line too long");
        if (s->state == SS_AUTH) {
            s->state = SS_READY;
            s->auth_mech = AUTH_NONE;
        }
    } else if (s->state == SS_AUTH) {
        smtp_auth_line(s, str_cstr(&s->line), len);
    } else {
        smtp_cmd_dispatch(s, str_cstr(&s->line), len);
    }
    str_reset(&s->line);
    return seg + 1;
}

static size_t feed_content(struct smtp_session *s, const char *p, size_t n)
{
    size_t used = 0;
    if (s->state == SS_DATA) {
        if (smtp_data_feed(&s->data, p, n, &used))
            smtp_content_end(s);
    } else if (smtp_data_chunk_feed(&s->data, p, n, &used)) {
        smtp_bdat_chunk_end(s);
    }
    return used;
}

size_t smtp_session_feed(struct smtp_session *s, const char *p, size_t n)
{
    size_t used = 0;
    while (used < n && !s->waiting && !s->closing && !s->tls_pending) {
        if (s->state == SS_DATA || s->state == SS_BDAT)
            used += feed_content(s, p + used, n - used);
        else
            used += feed_line(s, p + used, n - used);
    }
    return used;
}

bool smtp_session_busy(const struct smtp_session *s)
{
    return s->waiting;
}

bool smtp_session_closing(const struct smtp_session *s)
{
    return s->closing;
}

void smtp_session_tls_started(struct smtp_session *s, const char *version, const char *cipher)
{
    s->tls = true;
    s->tls_pending = false;
    snprintf(s->tls_desc, sizeof s->tls_desc, "%s with cipher %s", version, cipher);
    str_reset(&s->line);
    log_info("smtp " LOG_ID " tls %s", LOG_IDV(s->id), s->tls_desc);
}

void smtp_session_timeout(struct smtp_session *s)
{
    if (s->closing)
        return;
    log_info("smtp " LOG_ID " timeout from %s", LOG_IDV(s->id), s->peer_addr);
    smtp_reply(s, "421 4.4.2 %s Error: timeout exceeded", s->cfg.hostname);
    smtp_close(s);
}

void smtp_session_shutdown(struct smtp_session *s)
{
    s->shutdown = true;
    if (s->closing || s->waiting)
        return;
    if (s->state == SS_CONNECTED || s->state == SS_READY || s->state == SS_AUTH) {
        smtp_reply(s, "421 4.3.2 %s Service shutting down", s->cfg.hostname);
        smtp_close(s);
    }
}
