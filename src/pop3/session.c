/*
 * session — the POP3 session's lifecycle, line framing and replies. The verbs live in
 * session_auth.c and session_cmds.c, message sending in session_send.c.
 */
#include "pop3/session_int.h"

#include "core/log.h"
#include "core/xmalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pop3_session *pop3_session_new(const struct pop3_server_config *cfg,
                                      const struct pop3_io *io, void *io_arg,
                                      const struct pop3_session_ops *ops, void *ops_ctx,
                                      const struct session_peer *peer, uint64_t id)
{
    struct pop3_session *s = xcalloc(1, sizeof *s);
    s->cfg = *cfg;
    session_base_init(&s->base, "pop3", peer, id, io->write, io_arg, cfg->max_errors);
    s->io = io;
    s->ops = ops;
    s->ops_ctx = ops_ctx;
    s->state = P3_AUTHORIZATION;
    str_init(&s->line);
    str_init(&s->send.out);
    return s;
}

void pop3_session_free(struct pop3_session *s)
{
    if (!s)
        return;
    pop3_send_abort(s);
    str_clear(&s->line);
    free(s->msgs);
    free(s->deleted);
    explicit_bzero(s->user, sizeof s->user);
    free(s);
}

uint64_t pop3_session_id(const struct pop3_session *s)
{
    return s->id;
}

static void reply_v(struct pop3_session *s, const char *fmt, va_list ap)
{
    char buf[512]; /* RFC 2449 §4: a response line is at most 512 octets */
    session_base_vreply(&s->base, buf, sizeof buf, fmt, ap);
}

void pop3_reply(struct pop3_session *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    reply_v(s, fmt, ap);
    va_end(ap);
}

void pop3_reply_error(struct pop3_session *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    reply_v(s, fmt, ap);
    va_end(ap);
    if (session_base_error(&s->base)) {
        pop3_reply(s, "-ERR Too many errors, closing connection");
        pop3_close(s);
    }
}

/* RFC 1939 §6: a session that ends without QUIT does not enter UPDATE; nothing is removed. */
void pop3_close(struct pop3_session *s)
{
    if (s->closing)
        return;
    s->closing = true;
    pop3_send_abort(s);
    /* Removals in flight keep the lock until pop3_session_update_done. */
    if (!(s->state == P3_UPDATE && s->waiting))
        pop3_maildrop_leave(s);
}

void pop3_maildrop_leave(struct pop3_session *s)
{
    if (!s->maildrop_open)
        return;
    s->maildrop_open = false;
    s->ops->maildrop_close(s->ops_ctx);
}

bool pop3_can_login(const struct pop3_session *s)
{
    return s->tls || s->cfg.plaintext_ok;
}

void pop3_idle_check(struct pop3_session *s)
{
    if (!s->shutdown || s->closing || s->waiting || s->send.active || s->state == P3_UPDATE)
        return;
    pop3_reply(s, "-ERR [SYS/TEMP] Server shutting down");
    pop3_close(s);
}

void pop3_session_start(struct pop3_session *s)
{
    session_base_log_connect(&s->base);
    pop3_reply(s, "+OK Pigeon POP3 server ready");
}

void pop3_session_refuse(struct pop3_session *s, const char *reply)
{
    session_base_log_refused(&s->base, reply);
    pop3_reply(s, "%s", reply);
    pop3_close(s);
}

/* Takes one line from the input (or buffers a partial one). Returns bytes used. */
static size_t feed_line(struct pop3_session *s, const char *p, size_t n)
{
    /* RFC 2449 §4: 255 octets with the line end; the LF is not in `line`, a CR is. */
    size_t max = s->state == P3_SASL ? POP3_SASL_LINE_MAX : POP3_LINE_MAX - 1;
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
        if (s->state == P3_SASL)
            s->state = P3_AUTHORIZATION;
        pop3_reply_error(s, "-ERR Line too long");
    } else if (s->state == P3_SASL) {
        pop3_sasl_line(s, str_cstr(&s->line), len);
    } else {
        pop3_cmd_dispatch(s, str_cstr(&s->line), len);
    }
    if (s->line.cap > (size_t)4 * POP3_LINE_MAX)
        str_clear(&s->line); /* a long SASL line: do not keep its buffer */
    else
        str_reset(&s->line);
    return seg + 1;
}

size_t pop3_session_feed(struct pop3_session *s, const char *p, size_t n)
{
    size_t used = 0;
    while (used < n && !s->waiting && !s->closing && !s->tls_pending && !s->send.active)
        used += feed_line(s, p + used, n - used);
    return used;
}

bool pop3_session_busy(const struct pop3_session *s)
{
    return s->waiting;
}

bool pop3_session_sending(const struct pop3_session *s)
{
    return s->send.active;
}

bool pop3_session_closing(const struct pop3_session *s)
{
    return s->closing;
}

void pop3_session_writable(struct pop3_session *s)
{
    if (s->send.active && !s->closing)
        pop3_send_pump(s);
}

void pop3_session_tls_started(struct pop3_session *s, const char *version, const char *cipher)
{
    s->tls = true;
    s->tls_pending = false;
    /* RFC 2595 §4: nothing learned before TLS carries over. */
    s->have_user = false;
    explicit_bzero(s->user, sizeof s->user);
    str_reset(&s->line);
    s->line_overflow = false;
    log_info("pop3 " LOG_ID " tls %s with cipher %s", LOG_IDV(s->id), version, cipher);
}

void pop3_session_timeout(struct pop3_session *s)
{
    if (s->closing)
        return;
    log_info("pop3 " LOG_ID " timeout from %s", LOG_IDV(s->id), s->peer_addr);
    /* In the middle of a message a reply line would be taken for message text. */
    if (!s->send.active)
        pop3_reply(s, "-ERR Autologout; idle for too long");
    pop3_close(s);
}

void pop3_session_shutdown(struct pop3_session *s)
{
    s->shutdown = true;
    pop3_idle_check(s);
}
